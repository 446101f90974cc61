"""Operating plants from the GEM trackers: capacities against the raw CSVs and the README, provinces by location."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.ops import nearest_points

from siting._errors import DataError
from siting.layers import plants

GEOD = Geod(ellps="WGS84")

# tracker: (file, status column, capacity column, latitude column, longitude column), read off the raw headers
TRACKERS = {
    "coal": ("gcpt_coal_units_2024-07_PAK.csv", "Status", "Capacity (MW)", "Latitude", "Longitude"),
    "oil_gas": ("gogpt_oil_gas_units_2024-08_PAK.csv", "Status", "Capacity (MW)", "Latitude", "Longitude"),
    "hydro": ("ghpt_hydro_2024-05_PAK.csv", "status", "capacity_(mw)", "lat", "lng"),
    "nuclear": ("gnpt_nuclear_units_mapfile_2024-07_PAK.csv", "status", "capacity-(mw)", "lat", "lng"),
    "bioenergy": ("gbpt_bioenergy_mapfile_2024-09_PAK.csv", "status", "capacity-(mw)", "lat", "lng"),
}
README_MW = {"coal": 7638, "oil_gas": 19863, "hydro": 10468, "nuclear": 3530, "bioenergy": 255}
NE_TO_CURRENT = {"PK-TA": "PK-KP"}  # F.A.T.A. merged into Khyber Pakhtunkhwa in 2018 (mirror README)


@pytest.fixture(scope="module")
def operating(mirror: Path) -> pd.DataFrame:
    """Operating rows of every raw tracker, read with plain pandas."""
    parts = []
    for tracker, (name, status, cap, lat, lon) in TRACKERS.items():
        df = pd.read_csv(mirror / "gem" / name, low_memory=False)
        ok = df[status].astype(str).str.strip().str.lower() == "operating"
        parts.append(
            pd.DataFrame(
                {
                    "tracker": tracker,
                    "capacity_mw": pd.to_numeric(df.loc[ok, cap]),
                    "lat": df.loc[ok, lat],
                    "lon": df.loc[ok, lon],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_total_operating_capacity_equals_the_raw_files(layers, operating: pd.DataFrame) -> None:
    assert layers.plants["capacity_mw"].sum() == pytest.approx(operating["capacity_mw"].sum(), abs=1e-6)
    assert len(layers.plants) == len(operating)


@pytest.mark.parametrize("tracker", list(TRACKERS))
def test_capacity_per_tracker(layers, operating: pd.DataFrame, tracker: str) -> None:
    ours = layers.plants.loc[layers.plants["tracker"] == tracker, "capacity_mw"].sum()
    assert ours == pytest.approx(operating.loc[operating["tracker"] == tracker, "capacity_mw"].sum(), abs=1e-6)
    assert ours == pytest.approx(README_MW[tracker], abs=1.0)


def test_only_operating_units_with_capacity(layers) -> None:
    p = layers.plants
    assert set(p["status"]) == {"operating"}
    assert (p["capacity_mw"] > 0).all()
    assert set(p["tracker"]) == set(TRACKERS)
    assert p["plant"].str.len().gt(0).all()
    assert p.crs.to_epsg() == 4326 and set(p.geom_type) == {"Point"}


def test_plant_positions_are_the_raw_coordinates(layers, operating: pd.DataFrame) -> None:
    ours = sorted(
        zip(layers.plants["tracker"], layers.plants.geometry.x.round(6), layers.plants.geometry.y.round(6), strict=True)
    )
    ref = sorted(zip(operating["tracker"], operating["lon"].round(6), operating["lat"].round(6), strict=True))
    assert ours == ref


def test_every_plant_is_in_or_near_its_province(layers) -> None:
    polys = layers.provinces.set_index("iso_3166_2")
    names = polys["province"]
    far = []
    for code, name, pt in zip(
        layers.plants["iso_3166_2"], layers.plants["province"], layers.plants.geometry, strict=True
    ):
        assert names[code] == name
        poly = polys.geometry[code]
        if poly.contains(pt):
            continue
        # distance to a point of the polygon is an upper bound on the distance to the polygon
        on_poly = nearest_points(poly.boundary, pt)[0]
        km = GEOD.inv(pt.x, pt.y, on_poly.x, on_poly.y)[2] / 1000
        if km > 5.0:
            far.append((code, pt.x, pt.y, km))
    assert far == []


def test_province_is_the_containing_source_polygon(layers, mirror: Path) -> None:
    admin1 = gpd.read_file(mirror / "naturalearth" / "ne_10m_admin_1_states_provinces_PAK.geojson")
    codes = admin1["iso_3166_2"].map(lambda c: NE_TO_CURRENT.get(c, c)).to_numpy()
    pts = layers.plants.geometry.values
    inside = np.array([shapely.contains(admin1.geometry.values, pt) for pt in pts])  # plants x polygons
    contained = inside.sum(axis=1) == 1
    assert contained.sum() > 0.9 * len(pts)  # nearly all plants lie inside exactly one source polygon
    expected = codes[inside[contained].argmax(axis=1)]
    assert (layers.plants["iso_3166_2"].to_numpy()[contained] == expected).all()


def test_every_operating_tracker_province_is_plausible(layers) -> None:
    # the biggest nuclear units (Karachi K-2/K-3) are in Sindh, Chashma in Punjab; Tarbela (hydro) in KP
    p = layers.plants
    by = p.groupby(["tracker", "iso_3166_2"])["capacity_mw"].sum()
    assert by["nuclear"].index.tolist() == sorted(["PK-PB", "PK-SD"])
    assert by["hydro"].idxmax() == "PK-KP"


def test_read_gem_refuses_a_file_without_capacity(tmp_path: Path, mirror: Path) -> None:
    df = pd.read_csv(mirror / "gem" / TRACKERS["coal"][0], low_memory=False).drop(columns=["Capacity (MW)"])
    path = tmp_path / "coal.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match="capacity_mw") as err:
        plants.read_gem(path, "coal")
    assert str(path) in str(err.value)


def test_read_gem_maps_the_different_column_names(mirror: Path) -> None:
    for tracker, (name, *_rest) in TRACKERS.items():
        df = plants.read_gem(mirror / "gem" / name, tracker)
        assert list(df.columns) == ["plant", "unit", "fuel", "capacity_mw", "status", "lat", "lon", "tracker"]
        assert df["lat"].between(23, 38).all() and df["lon"].between(60, 78).all(), tracker
        assert df["status"].eq(df["status"].str.lower()).all()
