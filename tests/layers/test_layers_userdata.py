"""A planner's own files: candidate points and grid-station lists in CSV or any vector format and CRS."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from siting._errors import ConfigError, DataError
from siting.config import Study
from siting.fields import F
from siting.io import reference
from siting.io.reference import Reference, normalise_province_keys
from siting.layers.userdata import read_points, read_substations
from siting.model.surplus import provincial_surplus
from siting.stages import remove_stale_parts

SITES = [("T1", "Thar", 70.10, 24.80), ("Q1", "Quetta", 67.00, 30.20), ("M1", "Multan", 71.50, 30.20)]


@pytest.fixture(scope="module")
def outline(layers):
    return layers.country.geometry.iloc[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sites_csv(path: Path, header: str = "id,name,lon,lat", sep: str = ",") -> Path:
    rows = [header.replace(",", sep)] + [sep.join(str(v) for v in row) for row in SITES]
    return write(path, "\n".join(rows) + "\n")


def test_csv_columns_are_detected_whatever_their_case(tmp_path, outline) -> None:
    pts, warnings = read_points(sites_csv(tmp_path / "s.csv", "Site_ID,Name,Longitude,LATITUDE"), outline)
    assert warnings == []
    assert pts["candidate_id"].tolist() == ["T1", "Q1", "M1"]
    assert pts["candidate_name"].tolist() == ["Thar", "Quetta", "Multan"]
    np.testing.assert_allclose(pts[[F.LON, F.LAT]].to_numpy(), [[r[2], r[3]] for r in SITES])
    assert pts.crs.to_epsg() == 4326


def test_excel_csv_with_bom_semicolons_and_decimal_commas(tmp_path, outline) -> None:
    text = "\ufeffID;Name;X;Y\n" + "".join(
        f"{i};{n};{str(x).replace('.', ',')};{str(y).replace('.', ',')}\n" for i, n, x, y in SITES
    )
    pts, _ = read_points(write(tmp_path / "excel.csv", text), outline)
    assert pts["candidate_id"].tolist() == ["T1", "Q1", "M1"]
    np.testing.assert_allclose(pts[F.LON], [70.1, 67.0, 71.5])


def test_rows_without_id_are_numbered(tmp_path, outline) -> None:
    pts, _ = read_points(write(tmp_path / "s.csv", "lat,lng\n24.8,70.1\n30.2,67.0\n"), outline)
    assert pts["candidate_id"].tolist() == ["1", "2"]


@pytest.mark.parametrize(("suffix", "driver"), [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile"), (".geojson", "GeoJSON")])
def test_vector_files_in_a_projected_crs_are_reprojected(tmp_path, outline, suffix, driver) -> None:
    gdf = gpd.GeoDataFrame(
        {"id": [r[0] for r in SITES]},
        geometry=gpd.points_from_xy([r[2] for r in SITES], [r[3] for r in SITES]),
        crs=4326,
    )
    crs = 32642 if suffix != ".geojson" else 4326  # GeoJSON is WGS84 by definition
    path = tmp_path / f"sites{suffix}"
    gdf.to_crs(crs).to_file(path, driver=driver, engine="pyogrio")
    pts, _ = read_points(path, outline)
    assert pts["candidate_id"].tolist() == ["T1", "Q1", "M1"]
    np.testing.assert_allclose(pts[F.LON], [70.1, 67.0, 71.5], atol=1e-7)
    np.testing.assert_allclose(pts[F.LAT], [24.8, 30.2, 30.2], atol=1e-7)


def test_polygons_become_a_point_inside_them(tmp_path, outline) -> None:
    gdf = gpd.GeoDataFrame({"id": ["P"]}, geometry=gpd.points_from_xy([70.1], [24.8]).buffer(0.05), crs=4326)
    gdf.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    pts, _ = read_points(tmp_path / "p.gpkg", outline)
    assert abs(pts[F.LON].iloc[0] - 70.1) < 0.05


def test_drop_outside_keeps_the_rest_and_says_which(tmp_path, outline) -> None:
    path = write(tmp_path / "s.csv", "id,lon,lat\nA,70.1,24.8\nB,10.0,50.0\n")
    with pytest.raises(DataError, match=r"1 of 2 points lie outside Pakistan, the first at row 3 \(10, 50\)"):
        read_points(path, outline, "Pakistan")
    pts, warnings = read_points(path, outline, "Pakistan", drop_outside=True)
    assert pts["candidate_id"].tolist() == ["A"]
    assert warnings == [f"{path}: dropped 1 of 2 points outside Pakistan (row 3)."]


def test_substation_voltages_in_every_spelling(tmp_path, outline) -> None:
    text = (
        "Name,Voltage (kV),Longitude,Latitude\n"
        "Jamshoro,500,68.28,25.43\nQuetta,132kV,67.0,30.18\nGatti,132 KV,73.0,31.4\n"
        "X,132000;11000,71.4,30.1\nUnknown,,70.0,28.0\n"
    )
    subs = read_substations(write(tmp_path / "grid.csv", text), outline, "Pakistan")
    assert subs[F.VOLTAGE_KV].tolist()[:4] == [500.0, 132.0, 132.0, 132.0]
    assert np.isnan(subs[F.VOLTAGE_KV].iloc[4])
    assert subs[F.VOLTAGE_SOURCE].tolist() == ["user file"] * 4 + ["unknown"]
    assert subs[F.NAME].tolist()[0] == "Jamshoro"
    assert subs.crs.to_epsg() == 4326


def test_substation_override_replaces_the_layer_in_scoring(tmp_path, layers, outline) -> None:
    from siting.model import criteria

    subs = read_substations(write(tmp_path / "g.csv", "name,kv,lon,lat\nOnly,500,68.28,25.43\n"), outline)
    cap = criteria.substation_capacity(subs, Reference.for_study(Study(name="t")))
    near = criteria.nearest_substation(np.array([68.28]), np.array([25.43]), subs, 220, cap)
    assert near[F.SUBSTATION_NAME].iloc[0] == "Only" and near[F.DIST_SUBSTATION_KM].iloc[0] < 1e-6


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Sind", "PK-SD"), ("Sindh", "PK-SD"), ("NWFP", "PK-KP"), ("N.W.F.P.", "PK-KP"), ("KPK", "PK-KP"),
        ("K.P.", "PK-KP"), ("Khyber Pakhtunkhwa", "PK-KP"), ("FATA", "PK-KP"), ("Baluchistan", "PK-BA"),
        ("balochistan", "PK-BA"), ("Northern Areas", "PK-GB"), ("GB", "PK-GB"), ("AJK", "PK-JK"),
        ("Azad Kashmir", "PK-JK"), ("Azad Jammu & Kashmir", "PK-JK"), ("ICT", "PK-IS"), ("Islamabad", "PK-IS"),
        ("Punjab", "PK-PB"), ("PK-PB", "PK-PB"),
    ],
)  # fmt: skip
def test_province_names_and_aliases_map_to_their_code(name, code) -> None:
    assert reference.province_code("PAK", name) == code


def test_unknown_province_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError) as err:
        reference.province_code("PAK", "Sindhh", "surplus.population.Sindhh")
    assert str(err.value) == (
        "surplus.population.Sindhh: unknown province code or name; use one of PK-PB (Punjab), PK-SD (Sindh), "
        "PK-KP (Khyber Pakhtunkhwa), PK-BA (Balochistan), PK-IS (Islamabad Capital Territory), "
        "PK-GB (Gilgit-Baltistan), PK-JK (Azad Jammu and Kashmir) (aliases are listed in "
        "the provinces.csv of region pack PAK)."
    )


def test_aliases_in_the_study_give_the_same_model_as_codes(layers) -> None:
    by_alias = Study(
        name="t", surplus={"population": {"Sind": 6.0e7, "KPK": 4.0e7}, "south_zone": ["Sind", "Baluchistan"]}
    )
    by_code = Study(
        name="t", surplus={"population": {"PK-SD": 6.0e7, "PK-KP": 4.0e7}, "south_zone": ["PK-SD", "PK-BA"]}
    )
    a = provincial_surplus(by_alias, layers.provinces, layers.plants, Reference.for_study(by_alias)).provinces
    b = provincial_surplus(by_code, layers.provinces, layers.plants, Reference.for_study(by_code)).provinces
    assert a.drop(columns="population_basis").equals(b.drop(columns="population_basis"))
    assert a.set_index(F.ISO_3166_2).loc["PK-SD", "population_basis"] == "study config"


def test_two_keys_for_one_province_are_refused() -> None:
    cfg = Study(name="t").surplus.model_copy(update={"surplus_mw": {"Sind": 1.0, "PK-SD": 2.0}})
    with pytest.raises(
        ConfigError, match=r"surplus\.surplus_mw: 'Sind' and 'PK-SD' both name PK-SD; keep one of them\."
    ):
        normalise_province_keys(cfg, "PAK")


def test_only_the_temporary_files_of_dead_runs_are_removed(tmp_path) -> None:
    import os
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # exited and reaped: no process has this PID now (barring reuse)
    (tmp_path / f".scores.{dead_pid}.abc123_x.part.parquet").write_bytes(b"half, of a dead run")
    (tmp_path / f".scores.{os.getpid()}.def456_y.part.parquet").write_bytes(b"half, of a live run")
    (tmp_path / "scores.parquet").write_bytes(b"whole")
    assert [p.name for p in remove_stale_parts(tmp_path)] == [f".scores.{dead_pid}.abc123_x.part.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".scores.{os.getpid()}.def456_y.part.parquet",
        "scores.parquet",
    ]


def test_planner_substations_are_grid_stations_unless_a_kind_is_given(tmp_path, outline) -> None:
    plain = read_substations(write(tmp_path / "a.csv", "name,kv,lon,lat\nA,500,68.28,25.43\n"), outline)
    assert plain[F.KIND].tolist() == ["grid_station"] and plain[F.KIND_BASIS].tolist() == ["user file"]
    text = "name,kv,kind,lon,lat\nA,500,,68.28,25.43\nB,500,HVDC converter,68.5,25.7\n"
    kinds = read_substations(write(tmp_path / "b.csv", text), outline)
    assert kinds[F.KIND].tolist() == ["grid_station", "hvdc_converter"]
    with pytest.raises(DataError, match="unknown kind"):
        read_substations(write(tmp_path / "c.csv", "name,kv,kind,lon,lat\nA,500,depot,68.28,25.43\n"), outline)
