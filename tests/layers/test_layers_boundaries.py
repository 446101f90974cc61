"""Country outline, provinces (official names, ISO codes, areas) and lakes against the raw Natural Earth files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry.polygon import orient

from siting._errors import DataError
from siting.io import reference
from siting.layers import boundaries

GEOD = Geod(ellps="WGS84")

OFFICIAL = {
    "PK-PB": "Punjab",
    "PK-SD": "Sindh",
    "PK-KP": "Khyber Pakhtunkhwa",
    "PK-BA": "Balochistan",
    "PK-IS": "Islamabad Capital Territory",
    "PK-GB": "Gilgit-Baltistan",
    "PK-JK": "Azad Jammu and Kashmir",
}
OLD_NAMES = ["Sind", "K.P.", "F.A.T.A.", "Northern Areas", "Baluchistan", "F.C.T.", "Azad Kashmir"]


def geodesic_area_km2(geom) -> float:
    """Independent WGS84 area: every polygon oriented counter-clockwise (holes clockwise) before measuring."""
    return sum(GEOD.geometry_area_perimeter(orient(p, 1.0))[0] for p in shapely.get_parts(geom)) / 1e6


@pytest.fixture(scope="module")
def admin0(mirror: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(mirror / "naturalearth" / "ne_10m_admin_0_countries_PAK.geojson")


@pytest.fixture(scope="module")
def admin1(mirror: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(mirror / "naturalearth" / "ne_10m_admin_1_states_provinces_PAK.geojson")


@pytest.fixture(scope="module")
def outline_km2(admin0: gpd.GeoDataFrame) -> float:
    return sum(geodesic_area_km2(g) for g in admin0.geometry)


def test_seven_provinces_with_official_names_and_codes(layers) -> None:
    provinces = layers.provinces
    assert len(provinces) == 7
    assert dict(zip(provinces["iso_3166_2"], provinces["province"], strict=True)) == OFFICIAL
    assert provinces["iso_3166_2"].is_unique
    assert set(provinces.geom_type) <= {"Polygon", "MultiPolygon"}
    assert provinces.geometry.is_valid.all()
    assert provinces.crs.to_epsg() == 4326


def test_no_old_natural_earth_name_anywhere(layers, admin1: gpd.GeoDataFrame) -> None:
    # the raw file does use the old names, so the check below is meaningful
    assert set(OLD_NAMES) <= set(admin1["name"])
    patterns = [re.compile(rf"(?<![\w.]){re.escape(n)}(?![\w])") for n in OLD_NAMES]  # "Sind" must not hit "Sindh"
    provinces = layers.provinces
    cells = [str(c) for c in provinces.columns] + [
        str(v) for col in provinces.columns if col != "geometry" for v in provinces[col].tolist()
    ]
    for text in cells:
        for pat in patterns:
            assert not pat.search(text), f"{pat.pattern!r} found in {text!r}"


def test_province_areas_add_up_to_the_country(layers, outline_km2: float) -> None:
    total = layers.provinces["area_km2"].sum()
    assert total == pytest.approx(outline_km2, rel=1e-3)
    # Pakistan incl. AJK and GB is roughly 880,000 km²: the reference itself is sane
    assert 850_000 < outline_km2 < 900_000


def test_area_column_is_the_geodesic_area_of_each_polygon(layers) -> None:
    provinces = layers.provinces
    ours = provinces["area_km2"].to_numpy()
    ref = np.array([geodesic_area_km2(g) for g in provinces.geometry])
    assert np.allclose(ours, ref, rtol=1e-6)


def test_islamabad_is_the_smallest(layers) -> None:
    provinces = layers.provinces.sort_values("area_km2")
    assert provinces["iso_3166_2"].iloc[0] == "PK-IS"
    assert provinces["province"].iloc[0] == "Islamabad Capital Territory"


def test_khyber_pakhtunkhwa_includes_former_fata(layers, admin1: gpd.GeoDataFrame) -> None:
    raw = {n: geodesic_area_km2(g) for n, g in zip(admin1["name"], admin1.geometry, strict=True)}
    kp = layers.provinces.set_index("iso_3166_2").loc["PK-KP", "area_km2"]
    assert kp == pytest.approx(raw["K.P."] + raw["F.A.T.A."], rel=1e-4)
    assert kp > raw["K.P."] * 1.2  # FATA is a sizeable addition, not a sliver


def test_other_provinces_keep_their_source_area(layers, admin1: gpd.GeoDataFrame) -> None:
    raw = {c: geodesic_area_km2(g) for c, g in zip(admin1["iso_3166_2"], admin1.geometry, strict=True)}
    ours = layers.provinces.set_index("iso_3166_2")["area_km2"]
    for code in OFFICIAL:
        if code != "PK-KP":
            assert ours[code] == pytest.approx(raw[code], rel=1e-4), code


def test_provinces_tile_the_country(layers) -> None:
    provinces, country = layers.provinces, layers.country
    union = provinces.union_all()
    outline = country.geometry.iloc[0]
    gap = geodesic_area_km2(outline.symmetric_difference(union))
    assert gap < 1e-3 * country["area_km2"].iloc[0]
    # no two provinces overlap by more than slivers
    overlap = shapely.area(provinces.geometry.values).sum() - shapely.area(union)
    assert overlap < 1e-4 * shapely.area(union)


def test_population_comes_from_the_reference_table(layers) -> None:
    ref = reference.provinces("PAK").set_index("iso_3166_2")["population"]
    ours = layers.provinces.set_index("iso_3166_2")["population"]
    assert (ours == ref.reindex(ours.index).astype(float)).all()
    # FACTS.md: census 2023 total 241,499,431 for the four provinces and ICT
    assert ours[["PK-PB", "PK-SD", "PK-KP", "PK-BA", "PK-IS"]].sum() == 241_499_431


def test_country_outline(layers, outline_km2: float) -> None:
    country = layers.country
    assert len(country) == 1
    assert country["name"].iloc[0] == "Pakistan"
    assert country["area_km2"].iloc[0] == pytest.approx(outline_km2, rel=1e-6)
    assert country.geometry.iloc[0].is_valid


def test_lakes_are_the_raw_lakes_clipped_to_the_country(layers, mirror: Path, admin0: gpd.GeoDataFrame) -> None:
    raw = gpd.read_file(mirror / "naturalearth" / "ne_10m_lakes_PAK.geojson")
    assert len(raw) == 7  # mirror README
    outline = admin0.geometry.union_all()
    clipped = [g.intersection(outline) for g in raw.geometry.make_valid()]
    clipped = [g for g in clipped if not g.is_empty and geodesic_area_km2(g) > 0]
    lakes = layers.lakes
    assert 0 < len(lakes) == len(clipped) < len(raw)  # README: Mangla and Tarbela are in Pakistan, others in India
    assert sorted(lakes["area_km2"]) == pytest.approx(sorted(geodesic_area_km2(g) for g in clipped), rel=1e-4)
    # everything lies inside the country
    for geom in lakes.geometry:
        assert geodesic_area_km2(geom.difference(layers.country.geometry.iloc[0])) < 1e-3


def test_geodesic_area_km2_of_simple_shapes() -> None:
    # a 1° x 1° cell at the equator is about 12,308 km² on WGS84; two such cells count twice
    cell = shapely.box(70, 0, 71, 1)
    ref = geodesic_area_km2(cell)
    assert 12_200 < ref < 12_400
    ours = boundaries.geodesic_area_km2(gpd.GeoSeries([cell, shapely.MultiPolygon([cell, shapely.box(72, 0, 73, 1)])]))
    assert ours == pytest.approx([ref, 2 * ref], rel=1e-9)
    holed = shapely.Polygon(cell.exterior.coords, [shapely.box(70.25, 0.25, 70.75, 0.75).exterior.coords[::-1]])
    assert boundaries.geodesic_area_km2(gpd.GeoSeries([holed]))[0] == pytest.approx(geodesic_area_km2(holed), rel=1e-9)


def test_geodesic_area_km2_ignores_ring_orientation() -> None:
    ccw = shapely.box(70, 30, 71, 31)  # shapely.box is counter-clockwise
    cw = shapely.Polygon(shapely.box(72, 30, 73, 31).exterior.coords[::-1])
    ours = boundaries.geodesic_area_km2(gpd.GeoSeries([shapely.MultiPolygon([ccw, cw])]))[0]
    assert ours == pytest.approx(geodesic_area_km2(ccw) + geodesic_area_km2(cw), rel=1e-9)


def test_unmapped_province_code_is_a_data_error(tmp_path: Path, mirror: Path) -> None:
    doc = json.loads((mirror / "naturalearth" / "ne_10m_admin_1_states_provinces_PAK.geojson").read_text())
    doc["features"][0]["properties"]["iso_3166_2"] = "PK-XX"
    path = tmp_path / "admin1.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="PK-XX"):
        boundaries.provinces(path, reference.provinces("PAK"))


def test_provinces_from_a_reference_without_fata_mapping_is_refused(tmp_path: Path, mirror: Path) -> None:
    ref = reference.provinces("PAK").copy()
    ref["source_codes"] = ref["source_codes"].str.replace("|PK-TA", "", regex=False)
    admin1_path = mirror / "naturalearth" / "ne_10m_admin_1_states_provinces_PAK.geojson"
    with pytest.raises(DataError, match="PK-TA"):
        boundaries.provinces(admin1_path, pd.DataFrame(ref))
