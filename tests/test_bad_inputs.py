"""Bad input as an analyst would feed it, and the exact sentence they see; faults; reproducibility.

Every error is one line ``error: <file or key>: <what is wrong>; <the fix>.``, a non-zero exit (2 for
configuration, 3 for data) and no traceback unless ``--debug``. The README's "When something goes wrong"
table lists these messages.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from siting._errors import DataError
from siting.cli import main
from siting.config import load_profile
from siting.decide.scoring import value_matrix

REPO = Path(__file__).resolve().parents[1]
ENV = {"SITING_CONFIG_DIR": str(REPO / "configs")}
TABLES = ("scores.parquet", "provinces.csv", "surplus.csv", "top_sites.csv", "surplus_figures.csv")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, processed_dir) -> Path:
    """A data folder holding only the prepared layers (what `siting score` reads)."""
    data = tmp_path_factory.mktemp("data")
    shutil.copytree(processed_dir / "layers", data / "processed" / "layers")
    return data


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("user") / "my_sites.csv"
    path.write_text(
        "id,name,lon,lat\nT1,Thar,70.1,24.8\nQ1,Quetta,67.0,30.2\nM1,Multan,71.5,30.2\nK1,Jhimpir,68.0,25.0\n"
    )
    return path


def cli(data_dir: Path, *args: str) -> tuple[int, str, str]:
    res = CliRunner(env=ENV).invoke(main, ["--data-dir", str(data_dir), *args], catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- the planner's candidate file -------------------------------------------------------------------------

CANDIDATE_CASES = {
    "missing": (None, "error: {p} (candidate sites) does not exist; check the path."),
    "empty.csv": ("", "error: {p} (candidate sites) is empty (0 bytes); export the file again."),
    "header_only.csv": (
        "id,lon,lat\n",
        "error: {p} (candidate sites) has no rows; export the table again with its data.",
    ),
    "no_coords.csv": (
        "id,easting,northing\nA,1,2\n",
        "error: {p} (candidate sites) has no longitude/latitude columns (columns: id, easting, northing); name them "
        "lon and lat (or longitude/latitude, x/y) holding decimal degrees.",
    ),
    "dms.csv": (
        "id,lon,lat\nA,70.1,24.8\nB,67°E,30.2\n",
        "error: {p} (candidate sites) row 3: lon '67°E' is not a number; write decimal degrees such as 67.0011 "
        "(no degree signs or N/E letters) and no empty cells.",
    ),
    "swapped.csv": (
        "id,lon,lat\nA,24.8,70.1\nB,30.2,67.0\n",
        "error: {p} (candidate sites) row 2: (24.8, 70.1) lies outside Pakistan but inside with latitude and "
        "longitude swapped (2 of 2 points like this); swap the two columns (longitude is east-west, 61 to 77 here).",
    ),
    "outside.csv": (
        "id,lon,lat\nA,70.1,24.8\nB,77.2,28.6\nC,51.4,35.7\n",
        "error: {p} (candidate sites): 2 of 3 points lie outside Pakistan, the first at row 3 (77.2, 28.6); correct "
        "them, or pass --drop-outside to score the rest.",
    ),
    "duplicate_ids.csv": (
        "id,lon,lat\nA,70.1,24.8\nB,67.0,30.2\nA,71.5,30.2\n",
        "error: {p} (candidate sites) repeats id 'A' (row 2 and row 4); give every row a unique id.",
    ),
    "blank_id.csv": (
        "id,lon,lat\nA,70.1,24.8\n,67.0,30.2\n",
        "error: {p} (candidate sites) row 3 has no id; give every row a unique id.",
    ),
    "metres_as_wgs84.geojson": (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"A"},'
        '"geometry":{"type":"Point","coordinates":[310000.0,2745000.0]}}]}',
        "error: {p} (candidate sites) feature 1 has (310000, 2.745e+06), which are not degrees although the file "
        "says WGS 84: these look like projected metres (e.g. UTM zone 42N, EPSG:32642); set the file's real CRS (or "
        "convert the coordinates to WGS84 degrees) and try again.",
    ),
    "corrupt.geojson": (
        '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[67',
        "error: {p} (candidate sites) could not be read as a geojson file; export it again from the GIS "
        "(GeoPackage is safest).",
    ),
    "sites.xlsx": (
        "PK\x03\x04",
        "error: {p} (candidate sites) has an unknown file type .xlsx; use CSV, GeoPackage (.gpkg), Shapefile (.shp), "
        "GeoJSON or GeoParquet.",
    ),
}


@pytest.mark.parametrize("name", list(CANDIDATE_CASES))
def test_bad_candidate_file_ends_in_one_sentence(tmp_path, data_dir, study_file, name) -> None:
    content, expected = CANDIDATE_CASES[name]
    path = tmp_path / (name if content is not None else "nowhere.csv")
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, _, err = cli(data_dir, "score", "--study", str(study_file), "--candidates", str(path))
    assert error_line(err) == expected.format(p=path)
    assert code == 3
    assert not (data_dir / "processed" / "small" / "bitcoin_mining_user" / "scores.parquet").exists()


def test_shapefile_without_prj_is_refused(tmp_path, data_dir, study_file) -> None:
    gdf = gpd.GeoDataFrame({"id": ["A"]}, geometry=gpd.points_from_xy([70.1], [24.8]), crs=4326)
    path = tmp_path / "sites.shp"
    gdf.to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    code, _, err = cli(data_dir, "score", "--study", str(study_file), "--candidates", str(path))
    assert error_line(err) == (
        f"error: {path} (candidate sites) has no coordinate reference system (a Shapefile without its .prj?); set it "
        f"(QGIS: Layer > Set CRS; or ogr2ogr -a_srs EPSG:<code>) and try again."
    )
    assert code == 3


# --- the planner's substation list -------------------------------------------------------------------------

SUBSTATION_CASES = {
    "no_voltage.csv": (
        "name,lon,lat\nJamshoro,68.28,25.43\n",
        "error: {p} (substations) has no voltage column (columns: name); add one named voltage_kv with values such "
        'as 132, 220 or 500 ("132kV", "220 KV" and "500000;220000" are read too).',
    ),
    "bad_voltage.csv": (
        "name,voltage,lon,lat\nJamshoro,500kV,68.28,25.43\nQuetta,high,67.0,30.18\n",
        "error: {p} (substations) row 3: voltage 'high' is not a voltage; write it in kV (e.g. 220) or leave the "
        "cell empty if unknown.",
    ),
    "no_voltages.csv": (
        "name,kv,lon,lat\nJamshoro,,68.28,25.43\n",
        "error: {p} (substations) column 'kv' is empty in every row; fill in the voltages in kV.",
    ),
    "duplicate.csv": (
        "id,name,kv,lon,lat\nG1,Jamshoro,500,68.28,25.43\nG1,Quetta,220,67.0,30.18\n",
        "error: {p} (substations) repeats id 'G1' (row 2 and row 3); give every row a unique id.",
    ),
}


@pytest.mark.parametrize("name", list(SUBSTATION_CASES))
def test_bad_substation_file_ends_in_one_sentence(tmp_path, data_dir, study_file, name) -> None:
    content, expected = SUBSTATION_CASES[name]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, _, err = cli(data_dir, "score", "--study", str(study_file), "--substations", str(path))
    assert error_line(err) == expected.format(p=path)
    assert code == 3


# --- configuration ----------------------------------------------------------------------------------------

CONFIG_CASES = {
    "unknown_key": (
        "name: s\ncandidates:\n  h3_res: 5\n",
        "candidates.h3_res: unknown key; remove it or check its spelling.",
    ),
    "wrong_type": (
        "name: s\ncandidates:\n  h3_resolution: high\n",
        "candidates.h3_resolution: Input should be a valid integer, unable to parse string as an integer.",
    ),
    "unknown_province": (
        "name: s\nsurplus:\n  population: {Sindhh: 1000}\n",
        "surplus.population.Sindhh: unknown province code or name; use one of PK-PB (Punjab), PK-SD (Sindh), PK-KP "
        "(Khyber Pakhtunkhwa), PK-BA (Balochistan), PK-IS (Islamabad Capital Territory), PK-GB (Gilgit-Baltistan), "
        "PK-JK (Azad Jammu and Kashmir) (aliases are listed in the provinces.csv of region pack PAK).",
    ),
    "same_province_twice": (
        "name: s\nsurplus:\n  surplus_mw: {Sind: 100, PK-SD: 200}\n",
        "surplus.surplus_mw: 'Sind' and 'PK-SD' both name PK-SD; keep one of them.",
    ),
    "python_tag": ('name: !!python/object/apply:os.system ["echo pwned"]\n', None),
}


@pytest.mark.parametrize("name", list(CONFIG_CASES))
def test_bad_study_file_ends_in_one_sentence(tmp_path, data_dir, name) -> None:
    content, expected = CONFIG_CASES[name]
    path = tmp_path / f"{name}.yml"
    path.write_text(content)
    code, out, err = cli(data_dir, "score", "--study", str(path))
    if expected is None:  # YAML is safe-loaded: a Python tag is a syntax error, never executed
        expected = "is not valid YAML at line 1; fix the syntax there."
        assert "pwned" not in out + err
        assert error_line(err) == f"error: {path} {expected}"
    else:
        assert error_line(err) == f"error: {path}: {expected}"
    assert code == 2


def test_negative_weight_names_the_profile_and_criterion(tmp_path, data_dir, study_file) -> None:
    text = (REPO / "siting" / "defaults" / "profiles" / "bitcoin_mining.yml").read_text()
    path = tmp_path / "neg.yml"
    path.write_text(text.replace("weight: 0.28", "weight: -0.28", 1))
    code, _, err = cli(data_dir, "score", "--study", str(study_file), "--profile", str(path))
    assert (
        error_line(err)
        == f"error: {path}: criteria.hosting_interruptible_5pct_mw.weight: Input should be greater than or equal to 0."
    )
    assert code == 2


def test_province_aliases_are_accepted(tmp_path, data_dir) -> None:
    path = tmp_path / "aliases.yml"
    path.write_text(
        "name: aliases\ncandidates:\n  h3_resolution: 4\nsurplus:\n  population: {Sind: 56000000, NWFP: 41000000, "
        "KPK_unused_is_not_here: 0}\n".replace(", KPK_unused_is_not_here: 0", "")
        + "  surplus_mw: {Baluchistan: 1500, AJK: 100, ICT: -50, Northern Areas: -10, Punjab: 900}\n"
    )
    code, _, err = cli(data_dir, "score", "--study", str(path))
    assert code == 0, err
    table = pd.read_csv(data_dir / "processed" / "aliases" / "bitcoin_mining" / "surplus.csv").set_index("iso_3166_2")
    assert table.loc["PK-BA", "surplus_mw"] == 1500 and table.loc["PK-IS", "surplus_mw"] == -50
    assert table.loc["PK-SD", "population"] == 56_000_000


# --- corrupt layers and data gaps ---------------------------------------------------------------------------


@pytest.fixture()
def broken_data(tmp_path, data_dir) -> Path:
    data = tmp_path / "data"
    shutil.copytree(data_dir / "processed" / "layers", data / "processed" / "layers")
    return data


def test_truncated_geotiff_layer(broken_data, study_file) -> None:
    tif = broken_data / "processed" / "layers" / "PAK" / "elevation_m.tif"
    tif.write_bytes(tif.read_bytes()[: tif.stat().st_size // 2])
    code, _, err = cli(broken_data, "score", "--study", str(study_file))
    assert error_line(err) == f"error: {tif} could not be read as a GeoTIFF; run `siting prepare` again to rebuild it."
    assert code == 3


def test_truncated_vector_layer(broken_data, study_file) -> None:
    pq = broken_data / "processed" / "layers" / "PAK" / "substations.parquet"
    pq.write_bytes(pq.read_bytes()[:200])
    code, _, err = cli(broken_data, "score", "--study", str(study_file))
    assert error_line(err) == (
        f"error: {pq} (layer 'substations') could not be read as a vector file (corrupt or truncated?); re-fetch it "
        f"with `siting fetch` or replace it with a valid file."
    )
    assert code == 3


def test_empty_layer_file(broken_data, study_file) -> None:
    pq = broken_data / "processed" / "layers" / "PAK" / "country.parquet"
    pq.write_bytes(b"")
    code, _, err = cli(broken_data, "score", "--study", str(study_file))
    assert error_line(err) == (
        f"error: {pq} (layer 'country') is empty (0 bytes); re-fetch it with `siting fetch` or replace it."
    )
    assert code == 3


def test_raw_inputs_corrupt_or_without_crs(tmp_path) -> None:
    from siting.io.validate import read_vector
    from siting.layers.climate import check_raster

    bad = tmp_path / "substations.geojson"
    bad.write_text('{"type":"FeatureCollection","features":[{"type":"Feat')
    with pytest.raises(DataError) as err:
        read_vector(bad, "substations")
    assert str(err.value) == (
        f"{bad} (substations) could not be read as a vector file (corrupt or truncated?); re-fetch it with "
        f"`siting fetch` or replace it with a valid file."
    )
    nocrs = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([67.0], [30.0])).to_file(nocrs, engine="pyogrio")
    with pytest.raises(DataError) as err:
        read_vector(nocrs, "substations")
    assert str(err.value) == f"{nocrs} (substations) has no coordinate reference system; set one (e.g. EPSG:4326)."
    tif = tmp_path / "t2m.tif"
    tif.write_bytes(b"II*\x00" + b"\x00" * 100)
    with pytest.raises(DataError) as err:
        check_raster(tif, "t2m_monthly_c", 12)
    assert str(err.value) == f"{tif} (t2m_monthly_c) could not be read as a GeoTIFF; re-fetch it with `siting fetch`."


def test_nan_in_a_criterion_names_it_counts_and_says_what_to_do() -> None:
    profile = load_profile(str(REPO / "siting" / "defaults" / "profiles" / "bitcoin_mining.yml"))
    table = pd.DataFrame({name: np.ones(4) for name in profile.criteria})
    table["lon"], table["lat"] = [67.0, 68.0, 69.0, 70.0], [30.0, 29.0, 28.0, 27.0]
    table.loc[[1, 3], "dist_substation_km"] = np.nan
    with pytest.raises(DataError) as err:
        value_matrix(table, profile)
    assert str(err.value) == (
        "criterion 'dist_substation_km' is missing (NaN) for 2 of 4 candidates, the first at (68.0000, 29.0000); "
        "check that the layers it is computed from cover the study region, or remove it from profile bitcoin_mining."
    )


# --- user data end to end, reproducibility, provenance -----------------------------------------------------


def test_user_candidates_and_substations_are_scored_and_recorded(tmp_path, data_dir, study_file, sites) -> None:
    subs = tmp_path / "grid.csv"
    subs.write_text(
        "name,Voltage (kV),lon,lat\nJamshoro,500kV,68.28,25.43\nQuetta,220 KV,67.0,30.18\n"
        "Multan,500000;220000,71.45,30.2\nThar,500,70.2,24.9\n"
    )
    code, out, err = cli(
        data_dir, "score", "--study", str(study_file), "--candidates", str(sites), "--substations", str(subs)
    )
    assert code == 0, err
    folder = data_dir / "processed" / "small" / "bitcoin_mining_user"
    scores = gpd.read_parquet(folder / "scores.parquet")
    assert sorted(scores["candidate_id"]) == ["K1", "M1", "Q1", "T1"]
    assert (scores.geom_type == "Point").all()
    assert set(scores["substation_name"]) <= {"Jamshoro", "Quetta", "Multan", "Thar"}
    assert scores.set_index("candidate_id").loc["Q1", "dist_substation_km"] < 5
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["user_files"]["candidates"]["file"] == str(sites)
    assert len(prov["user_files"]["substations"]["sha256"]) == 64
    assert "--candidates" in prov["rerun"] and "--substations" in prov["rerun"]
    assert "4 candidates scored" in out


def test_map_of_user_sites_shows_each_with_its_name_and_breakdown(data_dir, study_file, sites) -> None:
    assert cli(data_dir, "score", "--study", str(study_file), "--candidates", str(sites))[0] == 0
    code, out, err = cli(data_dir, "map", "--study", str(study_file), "--user")
    assert code == 0, err
    folder = data_dir / "processed" / "small" / "bitcoin_mining_user"
    page = (folder / "map.html").read_text(encoding="utf-8")
    # Thar's 500 kV substations are the coal plants' switchyards: no grid station within the profile's 100 km,
    # so the constraint removes it; one marker for each of the other three, no score surface
    assert page.count('"className": "siting-user-site"') == 3
    assert "siting-score-surface" not in page
    for own in ("Quetta (Q1)", "Multan (M1)", "Jhimpir (K1)"):
        assert page.count(own) >= 2, own  # in its tooltip and in the title of its popup
    assert "Thar (T1)" not in page
    # every site's popup carries its score breakdown: 3 site markers + the same 3 as top sites of their provinces
    assert page.count("<b>Total</b>") == 6
    assert "3 of your candidate sites" in page
    assert (folder / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "bitcoin_mining_user/map.html" in out


def test_map_of_user_sites_before_scoring_them_says_what_to_run(data_dir, study_file) -> None:
    code, _, err = cli(data_dir, "map", "--study", str(study_file), "--profile", "ai_datacenter", "--user")
    assert code == 3
    line = error_line(err)
    assert "ai_datacenter_user/scores.parquet is missing" in line
    assert "--profile ai_datacenter --candidates FILE` before `siting map`" in line


def test_drop_outside_warns_and_scores_the_rest(tmp_path, data_dir, study_file) -> None:
    path = tmp_path / "some_outside.csv"
    path.write_text("id,lon,lat\nA,68.0,25.0\nB,77.2,28.6\n")  # A: Jhimpir (Thar has no grid station within 100 km)
    code, out, err = cli(data_dir, "score", "--study", str(study_file), "--candidates", str(path), "--drop-outside")
    assert code == 0, err
    assert f"warning: {path}: dropped 1 of 2 points outside Pakistan (row 3)." in err
    assert "1 candidates scored" in out


def test_same_inputs_give_byte_identical_tables_and_the_provenance_command_reruns(data_dir, study_file, sites) -> None:
    folder = data_dir / "processed" / "small" / "bitcoin_mining_user"
    assert cli(data_dir, "score", "--study", str(study_file), "--candidates", str(sites))[0] == 0
    first = {n: (folder / n).read_bytes() for n in (*TABLES, "provenance.json")}
    prov = json.loads(first["provenance.json"])
    assert prov["siting_version"] and prov["study"]["name"] == "small" and prov["profile"]["name"] == "bitcoin_mining"
    assert all(len(v["sha256"]) == 64 for v in prov["inputs"].values())
    argv = shlex.split(prov["rerun"])
    assert argv[:1] == ["siting"]
    res = CliRunner(env=ENV).invoke(main, argv[1:])
    assert res.exit_code == 0, res.stderr
    assert {n: (folder / n).read_bytes() for n in first} == first


KILL_SCRIPT = """
import os, signal, sys
calls = {"n": 0}
real_replace = os.replace
def replace(src, dst):
    calls["n"] += 1
    if calls["n"] == int(os.environ["KILL_AT"]):
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9: the temporary file is written, the rename never happens
    return real_replace(src, dst)
os.replace = replace
from siting.cli import main
sys.argv = ["siting", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("kill_at", [1, 3])
def test_kill_9_mid_write_leaves_previous_outputs_and_a_rerun_completes(
    tmp_path, data_dir, study_file, kill_at
) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_dir / "processed" / "layers", data / "processed" / "layers")
    args = ["--data-dir", str(data), "score", "--study", str(study_file)]
    assert CliRunner(env=ENV).invoke(main, args).exit_code == 0
    out = data / "processed" / "small" / "bitcoin_mining"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    env = {**os.environ, **ENV, "KILL_AT": str(kill_at)}
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, *args], env=env, cwd=REPO, capture_output=True, timeout=300
    )
    assert proc.returncode == -9, proc.stderr
    staging = list(out.parent.glob(".bitcoin_mining.staging-*"))
    assert staging and list(staging[0].glob(".*.part*")), "the kill should have left a staging folder"
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # the folder holds the previous set, untouched (gpkg included)
    assert CliRunner(env=ENV).invoke(main, args).exit_code == 0
    assert not list(out.glob(".*.part*")) and not list(out.parent.glob(".bitcoin_mining.staging-*"))
    for name in TABLES:
        assert (out / name).read_bytes() == before[name]


def test_debug_shows_the_traceback_for_bad_user_data(tmp_path, data_dir, study_file) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,lon,lat\nA,70.1,24.8\nA,67.0,30.2\n")
    base = [sys.executable, "-m", "siting.cli", "--data-dir", str(data_dir)]
    env = {**os.environ, **ENV}
    plain = subprocess.run(
        [*base, "score", "--study", str(study_file), "--candidates", str(path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 3 and "Traceback" not in plain.stderr
    assert error_line(plain.stderr).startswith(f"error: {path} (candidate sites) repeats id 'A'")
    debug = subprocess.run(
        [*base, "--debug", "score", "--study", str(study_file), "--candidates", str(path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "DataError" in debug.stderr
