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
from siting.fields import F
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


def gem_only(layers) -> gpd.GeoDataFrame:
    """The plants layer's rows that are GEM operating units (whatever the status table made of them)."""
    p = layers.plants
    return p[p["origin"] == "gem"]


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
    assert gem_only(layers)["capacity_mw"].sum() == pytest.approx(operating["capacity_mw"].sum(), abs=1e-6)
    assert len(gem_only(layers)) == len(operating)


@pytest.mark.parametrize("tracker", list(TRACKERS))
def test_capacity_per_tracker(layers, operating: pd.DataFrame, tracker: str) -> None:
    ours = gem_only(layers).loc[gem_only(layers)["tracker"] == tracker, "capacity_mw"].sum()
    assert ours == pytest.approx(operating.loc[operating["tracker"] == tracker, "capacity_mw"].sum(), abs=1e-6)
    assert ours == pytest.approx(README_MW[tracker], abs=1.0)


def test_only_operating_units_with_capacity(layers) -> None:
    p = gem_only(layers)
    assert set(p["gem_status"]) == {"operating"}
    assert (p["capacity_mw"] > 0).all()
    assert set(p["tracker"]) == set(TRACKERS)
    assert p["plant"].str.len().gt(0).all()
    assert p.crs.to_epsg() == 4326 and set(p.geom_type) == {"Point"}


def test_plant_positions_are_the_raw_coordinates(layers, operating: pd.DataFrame) -> None:
    ours = sorted(
        zip(
            gem_only(layers)["tracker"],
            gem_only(layers).geometry.x.round(6),
            gem_only(layers).geometry.y.round(6),
            strict=True,
        )
    )
    ref = sorted(zip(operating["tracker"], operating["lon"].round(6), operating["lat"].round(6), strict=True))
    assert ours == ref


def test_every_plant_is_in_or_near_its_province(layers) -> None:
    polys = layers.provinces.set_index("iso_3166_2")
    names = polys["province"]
    far = []
    for code, name, pt in zip(
        gem_only(layers)["iso_3166_2"], gem_only(layers)["province"], gem_only(layers).geometry, strict=True
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
    pts = gem_only(layers).geometry.values
    inside = np.array([shapely.contains(admin1.geometry.values, pt) for pt in pts])  # plants x polygons
    contained = inside.sum(axis=1) == 1
    assert contained.sum() > 0.9 * len(pts)  # nearly all plants lie inside exactly one source polygon
    expected = codes[inside[contained].argmax(axis=1)]
    assert (gem_only(layers)["iso_3166_2"].to_numpy()[contained] == expected).all()


def test_every_operating_tracker_province_is_plausible(layers) -> None:
    # the biggest nuclear units (Karachi K-2/K-3) are in Sindh, Chashma in Punjab; Tarbela (hydro) in KP
    p = gem_only(layers)
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
        assert list(df.columns) == [
            "plant",
            "unit",
            "fuel",
            "capacity_mw",
            "status",
            "lat",
            "lon",
            "gem_unit_id",
            "gem_location_id",
            "tracker",
        ]
        assert df["lat"].between(23, 38).all() and df["lon"].between(60, 78).all(), tracker
        assert df["status"].eq(df["status"].str.lower()).all()


def test_status_table_applied_at_prepare(layers) -> None:
    """Every plant_status.csv row is found: matched units take its status and counts, Suki Kinari is added."""
    from siting.io import reference

    p = layers.plants
    status = reference.table("PAK", "plant_status.csv")
    for row in status.itertuples():
        by_pattern = (p["tracker"] == row.match_tracker) & p["plant"].str.contains(row.match_name)
        hit = p[(by_pattern & (p["status"] == row.status)) | (p["plant"] == row.plant)]
        assert len(hit), row.plant
        assert hit[F.CAPACITY_MW].sum() == pytest.approx(row.mw, abs=0.6), row.plant  # Atlas 214.5 vs GEM 214.5
        assert (hit["counts"] == (str(row.counts).lower() == "true")).all(), row.plant
        assert (hit["status"] == row.status).all()
    assert p["counts"].dtype == bool and set(p["origin"]) == {"gem", "plant_status", "renewables"}
    assert set(p[F.ZONE]) == {"ntdc_north", "ntdc_south", "k_electric"}
