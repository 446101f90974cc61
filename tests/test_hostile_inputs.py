"""A corpus of hostile and broken inputs (issue #16): each refused in one line naming the file or key.

Every case is built by a function here (``tests/hostile`` would need binary files; a FIFO cannot be checked
in), run through the command line, and must end in exactly one ``error:`` line, the exit code the README
gives, no traceback and no outputs. The second half covers what a run leaves behind: two runs of one study at
once, SIGINT and SIGTERM at several points, neutralised CSV cells, escaped messages and OS errors.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from test_bad_inputs import ENV, REPO, cli, error_line

from siting.cli import main
from siting.io.outputset import verify_output_set

SMALL = "name: small\ncandidates:\n  h3_resolution: 5\n"
POINTS = gpd.points_from_xy([68.0, 67.0], [25.1, 30.2])  # Jhimpir and Quetta: both near a grid station
EMPTY = "{p} is empty; write at least the key `name:` (see siting/defaults/studies/pakistan.yml)."


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, processed_dir) -> Path:
    data = tmp_path_factory.mktemp("hostile-data")
    shutil.copytree(processed_dir / "layers", data / "processed" / "layers")
    return data


# --- the corpus: planner's candidate files ----------------------------------------------------------------


def _text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        (d / name).write_bytes(text.encode(encoding))
        return d / name

    return build


def _geojson(name: str, geometry: dict) -> Callable[[Path], Path]:
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"id": "A"}, "geometry": geometry}],
    }
    return _text(name, json.dumps(doc))


def _two_layers(d: Path) -> Path:
    gdf = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=POINTS, crs=4326)
    gdf.to_file(d / "two.gpkg", layer="planned", engine="pyogrio")
    gdf.to_file(d / "two.gpkg", layer="rejected", engine="pyogrio")
    return d / "two.gpkg"


def _shapefile_without(ext: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=POINTS, crs=4326).to_file(d / "s.shp", engine="pyogrio")
        (d / f"s{ext}").unlink()
        return d / "s.shp"

    return build


def _gpkg_inf(d: Path) -> Path:
    geoms = [shapely.Point(70.1, 24.8), shapely.Point(float("inf"), 30.2)]
    gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=geoms, crs=4326).to_file(d / "inf.gpkg", engine="pyogrio")
    return d / "inf.gpkg"


def _fifo(d: Path) -> Path:
    os.mkfifo(d / "sites.csv")
    return d / "sites.csv"


def _folder(d: Path) -> Path:
    (d / "sites.csv").mkdir()
    return d / "sites.csv"


def _zip_of_csv(d: Path) -> Path:
    with zipfile.ZipFile(d / "sites.zip", "w") as z:
        z.writestr("sites.csv", "id,lon,lat\nA,70.1,24.8\n")
    return d / "sites.zip"


def _plain_parquet(d: Path) -> Path:
    pd.DataFrame({"id": ["A"], "lon": [70.1], "lat": [24.8]}).to_parquet(d / "sites.parquet")
    return d / "sites.parquet"


CANDIDATES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "multipoint": (
        _geojson("mp.geojson", {"type": "MultiPoint", "coordinates": [[70.1, 24.8], [67.0, 30.2]]}),
        "{p} (candidate sites) feature 1 is a MultiPoint of 2 parts, which would be scored as one site (1 of 1 "
        "features like this); split them into one feature per site (QGIS: Vector > Geometry Tools > Multipart to "
        "Singleparts).",
    ),
    "collection": (
        _geojson(
            "gc.geojson", {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [70.1, 24.8]}]}
        ),
        "{p} (candidate sites) feature 1 is a GeometryCollection of 1 parts, which would be scored as one site (1 of 1 "
        "features like this); split them into one feature per site (QGIS: Vector > Geometry Tools > Multipart to "
        "Singleparts).",
    ),
    "two_layers": (
        _two_layers,
        "{p} (candidate sites) has 2 layers (planned, rejected); name the one to score with --layer (or export it "
        "to its own file).",
    ),
    "shp_without_dbf": (
        _shapefile_without(".dbf"),
        "{p} (candidate sites) has no .dbf beside it, which holds its attributes (ids, names); copy all the "
        "Shapefile's files (.shp, .shx, .dbf, .prj) together, or export a GeoPackage.",
    ),
    "shp_without_shx": (
        _shapefile_without(".shx"),
        "{p} (candidate sites) has no .shx beside it, which holds its shape index; copy all the Shapefile's files "
        "(.shp, .shx, .dbf, .prj) together, or export a GeoPackage.",
    ),
    "fifo": (_fifo, "{p} (candidate sites) is a named pipe (FIFO), not a file; give the path of the file itself."),
    "folder": (_folder, "{p} (candidate sites) is a folder, not a file; give the path of the file itself."),
    "device": (
        lambda d: Path("/dev/null"),
        "{p} (candidate sites) is a device, not a file; give the path of the file itself.",
    ),
    "zip_of_csv": (
        _zip_of_csv,
        "{p} (candidate sites) holds a table without geometry (a CSV inside a zip?); give the CSV itself or export "
        "the layer with its geometry.",
    ),
    "parquet_without_geometry": (
        _plain_parquet,
        "{p} (candidate sites) could not be read as a parquet file; export it again from the GIS (GeoPackage is "
        "safest).",
    ),
    "inf_coordinate": (
        _text("inf.csv", "id,lon,lat\nA,70.1,24.8\nB,inf,30.2\n"),
        "{p} (candidate sites) row 3: lon 'inf' is not a finite number; write decimal degrees such as 67.0011.",
    ),
    "nan_coordinate": (
        _text("nan.csv", "id,lon,lat\nA,70.1,nan\n"),
        "{p} (candidate sites) row 2: lat 'nan' is not a number; write decimal degrees such as 67.0011 (no degree "
        "signs or N/E letters) and no empty cells.",
    ),
    "inf_in_a_geopackage": (
        _gpkg_inf,
        "{p} (candidate sites) feature 2 has a coordinate that is not a finite number (inf or NaN); correct it or "
        "delete the feature.",
    ),
    "none_inside": (
        _text("far.csv", "id,lon,lat\nA,2.35,48.85\nB,-0.12,51.5\n"),
        "{p} (candidate sites): none of its 2 points lies inside Pakistan, the first at row 2 (2.35, 48.85); check "
        "the coordinates and the file's coordinate reference system.",
    ),
    "utf16_no_coordinates": (
        _text("u16.csv", "id,easting,northing\nA,1,2\n", "utf-16"),
        "{p} (candidate sites) has no longitude/latitude columns (columns: id, easting, northing); name them lon and "
        "lat (or longitude/latitude, x/y) holding decimal degrees.",
    ),
    "terminal_escape_in_header": (
        _text("esc.csv", "id,\x1b[2J\x1b[31m\x07east,north\nA,1,2\n"),
        "{p} (candidate sites) has no longitude/latitude columns (columns: id, \\x1b[2J\\x1b[31m\\x07east, "
        "north); name them lon and lat (or longitude/latitude, x/y) holding decimal degrees.",
    ),
}


@pytest.mark.parametrize("case", list(CANDIDATES))
def test_hostile_candidate_file_is_refused_in_one_line(tmp_path, data_dir, case) -> None:
    build, expected = CANDIDATES[case]
    path = build(tmp_path)
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(data_dir, "score", "--study", str(study), "--candidates", str(path))
    assert error_line(err) == "error: " + expected.format(p=path)
    assert "\x1b" not in err
    assert code == 3
    assert not (data_dir / "processed" / "small" / "bitcoin_mining_user").exists()


def test_a_layer_named_with_layer_is_scored_and_an_unknown_one_refused(tmp_path, data_dir) -> None:
    path = _two_layers(tmp_path)
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, out, err = cli(data_dir, "score", "--study", str(study), "--candidates", str(path), "--layer", "planned")
    assert code == 0, err
    assert "2 candidates scored" in out
    code, _, err = cli(data_dir, "score", "--study", str(study), "--candidates", str(path), "--layer", "nope")
    assert error_line(err) == f"error: {path} (candidate sites) has no layer 'nope'; its layers are planned, rejected."
    assert code == 3


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1252"])
def test_csv_encodings_are_detected(tmp_path, layers, encoding) -> None:
    from siting.layers.userdata import read_points

    path = tmp_path / "sites.csv"
    path.write_bytes("id,name,lon,lat\nA,Mirpur Khas é,70.1,24.8\n".encode(encoding))
    pts, _ = read_points(path, layers.country.geometry.iloc[0])
    assert pts["candidate_name"].tolist() == ["Mirpur Khas é"]
    assert pts["candidate_id"].tolist() == ["A"]


# --- the corpus: substations, voltages --------------------------------------------------------------------

VOLTAGES = {"negative": "-220", "exponent": "2.2e2", "absurd": "220000000000", "infinite": "inf", "minus_kv": "-132kV"}


@pytest.mark.parametrize("case", list(VOLTAGES))
def test_voltages_that_would_be_misread_are_refused(tmp_path, data_dir, case) -> None:
    value = VOLTAGES[case]
    path = tmp_path / "grid.csv"
    path.write_text(f"name,voltage_kv,lon,lat\nJamshoro,500,68.28,25.43\nQuetta,{value},67.0,30.18\n")
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(data_dir, "score", "--study", str(study), "--substations", str(path))
    assert error_line(err) == (
        f"error: {path} (substations) row 3: voltage {value!r} is not a voltage between 0 and 1200 kV; write a "
        f"positive number in kV such as 220 (volts such as 220000 are read too) without signs or exponents."
    )
    assert code == 3


def test_volts_and_kilovolts_still_read(tmp_path, layers) -> None:
    from siting.layers.userdata import read_substations

    path = tmp_path / "grid.csv"
    path.write_text("name,voltage,lon,lat\nA,220000,68.28,25.43\nB,132 kV,67.0,30.18\nC,500000;220000,71.4,30.1\n")
    assert read_substations(path)["voltage_kv"].tolist() == [220.0, 132.0, 500.0]


# --- the corpus: studies and profiles ---------------------------------------------------------------------

STUDIES = {
    "duplicate_key": (
        "name: a\ncandidates:\n  h3_resolution: 5\nname: b\n",
        "{p} repeats the key 'name' (line 1 and line 4); keep one of them.",
    ),
    "duplicate_nested_key": (
        "name: a\nsurplus:\n  surplus_mw: {PK-SD: 1, PK-SD: 2}\n",
        "{p} repeats the key 'PK-SD' (line 3 and line 3); keep one of them.",
    ),
    "empty": ("", "{p} is empty; write at least the key `name:` (see siting/defaults/studies/pakistan.yml)."),
    "only_comment": (
        "# nothing\n",
        "{p} is empty; write at least the key `name:` (see siting/defaults/studies/pakistan.yml).",
    ),
    "a_list": ("- name: a\n", "{p} must contain a mapping of keys to values, not a list."),
    "nested_too_deep": (
        "name: a\nx: " + "[" * 5000 + "]" * 5000 + "\n",
        "{p} is nested too deeply to be a study or profile; check its structure.",
    ),
    "infinite_demand": (
        "name: a\nsurplus:\n  national_peak_demand_mw: .inf\n",
        "{p}: surplus.national_peak_demand_mw: Input should be a finite number.",
    ),
    "nan_elevation": (
        "name: a\ncandidates:\n  max_elevation_m: .nan\n",
        "{p}: candidates.max_elevation_m: Input should be a finite number.",
    ),
    "infinite_figure": (
        "name: a\nfigures:\n  line_route_factor: .inf\n",
        "{p}: figures.line_route_factor: Input should be a finite number.",
    ),
    "reserved_name": (
        "name: layers\n",
        "{p}: name: 'layers' is reserved (siting uses data/processed/layers itself); choose another.",
    ),
    "dotdot_name": (
        "name: ..\n",
        "{p}: name: '..' cannot name the output folder; use letters, digits, '_' and '-' only (starting with a letter "
        "or digit, at most 100 characters).",
    ),
    "separator_name": (
        "name: a/b\n",
        "{p}: name: 'a/b' cannot name the output folder; use letters, digits, '_' and '-' only (starting with a "
        "letter or digit, at most 100 characters).",
    ),
    "not_utf8": ("name: caf\xe9\n", "{p} is not UTF-8 text (byte 10 is invalid); save it as UTF-8 and try again."),
}


@pytest.mark.parametrize("case", list(STUDIES))
def test_hostile_study_file_is_refused_in_one_line(tmp_path, data_dir, case) -> None:
    text, expected = STUDIES[case]
    path = tmp_path / "study.yml"
    path.write_bytes(text.encode("latin-1") if case == "not_utf8" else text.encode())
    code, _, err = cli(data_dir, "score", "--study", str(path))
    assert error_line(err) == "error: " + expected.format(p=path)
    assert code == 2


def test_study_file_that_is_a_fifo_is_refused(tmp_path, data_dir) -> None:
    path = tmp_path / "study.yml"
    os.mkfifo(path)
    code, _, err = cli(data_dir, "score", "--study", str(path))
    assert (
        error_line(err)
        == f"error: {path} is not a regular file (a folder, pipe or device?); give the path of a YAML file."
    )
    assert code == 2


def test_profile_whose_stem_is_dotdot_cannot_write_into_processed(tmp_path, data_dir) -> None:
    profile = tmp_path / "...yml"  # stem '..'
    profile.write_text((REPO / "siting" / "defaults" / "profiles" / "bitcoin_mining.yml").read_text())
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(data_dir, "score", "--study", str(study), "--profile", str(profile))
    assert error_line(err) == (
        "error: profile name '..' cannot name a folder; use letters, digits, '_' and '-' only (starting with a "
        "letter or digit, at most 100 characters)."
    )
    assert code == 2
    assert not (data_dir / "processed" / "scores.parquet").exists()


def test_unknown_study_with_an_empty_config_folder_names_the_folders_searched(tmp_path, data_dir) -> None:
    empty = tmp_path / "configs"
    (empty / "studies").mkdir(parents=True)
    res = CliRunner(env={"SITING_CONFIG_DIR": str(empty)}).invoke(
        main, ["--data-dir", str(data_dir), "score", "--study", "nowhere"]
    )
    line = error_line(res.stderr)
    assert line.startswith("error: unknown study 'nowhere'; use one of: pakistan (searched ")
    assert f"{empty / 'studies'}/" in line and "defaults/studies/" in line  # the empty folder is named too
    assert res.exit_code == 2


# --- the corpus: prepared layers ---------------------------------------------------------------------------


@pytest.fixture()
def own_data(tmp_path, data_dir) -> Path:
    data = tmp_path / "data"
    shutil.copytree(data_dir / "processed" / "layers", data / "processed" / "layers")
    return data


@pytest.fixture(scope="module")
def small_scored(tmp_path_factory, data_dir) -> tuple[Path, Path]:
    """A data folder holding the small study's complete outputs, and the study file."""
    d = tmp_path_factory.mktemp("small-scored")
    data = d / "data"
    shutil.copytree(data_dir / "processed" / "layers", data / "processed" / "layers")
    study = d / "small.yml"
    study.write_text(SMALL)
    assert cli(data, "score", "--study", str(study))[0] == 0
    return data, study


def test_corrupt_layers_provenance(own_data, tmp_path) -> None:
    prov = own_data / "processed" / "layers" / "PAK" / "provenance.json"
    prov.write_text('{"inputs": {"a":')
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(own_data, "score", "--study", str(study))
    assert (
        error_line(err)
        == f"error: {prov} (layers provenance) is corrupt (JSONDecodeError); run `siting prepare` again."
    )
    assert code == 3


def test_another_valid_parquet_in_place_of_a_layer(own_data, tmp_path) -> None:
    folder = own_data / "processed" / "layers" / "PAK"
    shutil.copyfile(folder / "places.parquet", folder / "substations.parquet")
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(own_data, "score", "--study", str(study))
    assert error_line(err) == (
        f"error: {folder / 'substations.parquet'} (layer 'substations') is not the substations layer (it lacks column "
        f"'osm_id'); run `siting prepare` again to rebuild it."
    )
    assert code == 3


# --- what reaches people: CSV cells, messages, PNG text ---------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "=1+1"]


def test_formula_cells_in_names_come_out_neutralised_in_top_sites(tmp_path, own_data) -> None:
    rows = [(f"F{i}", name, 68.0 + i, 26.0 + i) for i, name in enumerate(FORMULAS)]
    path = tmp_path / "evil.csv"
    pd.DataFrame(rows, columns=["id", "name", "lon", "lat"]).to_csv(path, index=False)
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(own_data, "score", "--study", str(study), "--candidates", str(path))
    assert code == 0, err
    top = pd.read_csv(
        own_data / "processed" / "small" / "bitcoin_mining_user" / "top_sites.csv", dtype=str, keep_default_na=False
    )
    names = set(top["candidate_name"])
    assert names, "some of the sites should be in the top list"
    for name in names:
        assert name.startswith("'") and name[1:] in FORMULAS, name


def test_write_csv_neutralises_text_cells_and_headers_but_not_numbers(tmp_path) -> None:
    from siting.io.files import neutralise_cell, write_csv

    df = pd.DataFrame({"name": ["=1+1", "-50", "plain", "@x", None], "=evil": [1.0, -2.0, 3.0, 4.0, 5.0]})
    text = write_csv(tmp_path / "t.csv", df).read_text()
    assert text.splitlines()[0] == "name,'=evil"
    assert text.splitlines()[1:] == ["'=1+1,1.0", "-50,-2.0", "plain,3.0", "'@x,4.0", ",5.0"]
    assert [neutralise_cell(v) for v in ("\tTab", "\rCR", "+92 300", "1e5", 7)] == [
        "'\tTab",
        "'\rCR",
        "'+92 300",
        "1e5",
        7,
    ]


def test_a_newline_in_a_file_name_cannot_forge_a_second_error_line(tmp_path, data_dir) -> None:
    path = tmp_path / "x.csv\nerror: all is well"
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(data_dir, "score", "--study", str(study), "--candidates", str(path))
    line = error_line(err)  # exactly one
    assert "x.csv\\nerror: all is well (candidate sites) does not exist" in line
    assert code == 3


def test_dollar_signs_in_names_reach_the_png_as_text(tmp_path, own_data) -> None:
    study = tmp_path / "small.yml"
    study.write_text(SMALL + "region:\n  name: Pak $\\frac{$ istan $5 or $6\n")  # mathtext would fail on it
    assert cli(own_data, "score", "--study", str(study))[0] == 0
    code, _, err = cli(own_data, "map", "--study", str(study))
    assert code == 0, err
    png = own_data / "processed" / "small" / "bitcoin_mining" / "map.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- output sets: manifest, lock, interruption, OS errors --------------------------------------------------


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_non_finite_allocation_option_is_refused(tmp_path, own_data, value) -> None:
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    assert cli(own_data, "score", "--study", str(study))[0] == 0
    code, _, err = cli(own_data, "allocate", "--study", str(study), "--total-mw", value)
    assert error_line(err) == f"error: --total-mw {float(value)!r}: Input should be a finite number."
    assert code == 2


def test_readers_refuse_a_mixed_set(tmp_path, own_data) -> None:
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    assert cli(own_data, "score", "--study", str(study))[0] == 0
    out = own_data / "processed" / "small" / "bitcoin_mining"
    assert verify_output_set(out)["outputs"]
    with open(out / "top_sites.csv", "a") as fh:
        fh.write("from another run\n")
    expected = (
        f"error: {out} holds an incomplete or mixed set of outputs (top_sites.csv does not match its checksum in "
        f"provenance.json); run `siting score` again."
    )
    for stage in (["map"], ["sensitivity", "--runs", "5"], ["allocate"], ["compare"]):
        code, _, err = cli(own_data, *stage, "--study", str(study))
        assert error_line(err) == expected, stage
        assert code == 3
    (out / "provenance.json").unlink()
    code, _, err = cli(own_data, "map", "--study", str(study))
    assert error_line(err) == expected.replace(
        "top_sites.csv does not match its checksum in provenance.json", "no provenance.json"
    )


HOLD_SCRIPT = """
import sys, time
from pathlib import Path
from siting.io.outputset import locked
with locked(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "siting score", shared=len(sys.argv) > 2):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_run_is_refused_naming_the_holder(tmp_path, own_data) -> None:
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    out = own_data / "processed" / "small" / "bitcoin_mining"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(out)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, _, err = cli(own_data, "score", "--study", str(study))
        assert error_line(err) == (
            f"error: {out} is in use by another siting run (PID {holder.pid}, `siting score`); wait for it to "
            f"finish (or set SITING_LOCK_WAIT to the seconds to wait) and run again."
        )
        assert code == 75
    finally:
        holder.kill()
        holder.wait()
    code, _, err = cli(own_data, "score", "--study", str(study))  # the dead holder's lock is gone with it
    assert code == 0, err


def _score_cmd(data: Path, study: Path) -> list[str]:
    return [sys.executable, "-m", "siting", "--data-dir", str(data), "score", "--study", str(study)]


def test_two_concurrent_runs_of_one_study_both_end_cleanly(tmp_path, own_data) -> None:
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    env = {**os.environ, **ENV, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(_score_cmd(own_data, study), env=env, cwd=REPO, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 75]), results
    for code, err in results:
        assert "unexpected" not in err and "Traceback" not in err
        if code == 75:
            assert "is in use by another siting run (PID " in error_line(err)
    out = own_data / "processed" / "small" / "bitcoin_mining"
    verify_output_set(out)
    assert not list(out.parent.glob(".bitcoin_mining.staging-*"))


SIGNAL_SCRIPT = """
import os, signal, sys
import siting.io.files as files, siting.io.outputset as outputset
point, sig = os.environ["SIGNAL_AT"], getattr(signal, os.environ["SIGNAL"])
calls = {"n": 0}
real_replace, real_exchange = os.replace, outputset._exchange
def replace(src, dst):
    calls["n"] += 1
    if point.startswith("write") and calls["n"] == int(point[5:]):
        os.kill(os.getpid(), sig)
    return real_replace(src, dst)
def exchange(a, b):
    if point == "swap":
        os.kill(os.getpid(), sig)  # arrives while the swap holds signals off: delivered just after it
    return real_exchange(a, b)
os.replace, outputset._exchange = replace, exchange
from siting.cli import main
sys.argv = ["siting", *sys.argv[1:]]
main()
"""


def _sigint_default() -> None:
    """Give the child SIGINT's default action, as at a terminal: a test worker (pytest-xdist) may ignore it,
    and a process started with SIGINT ignored keeps ignoring it (Python installs no KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory, data_dir) -> tuple[Path, Path, Path]:
    """A data folder with a complete old set (top 5), and a new study (top 3) that writes the same folder."""
    d = tmp_path_factory.mktemp("sets")
    data = d / "data"
    shutil.copytree(data_dir / "processed" / "layers", data / "processed" / "layers")
    old, new = d / "old.yml", d / "new.yml"
    old.write_text(SMALL)
    new.write_text(SMALL + "ranking:\n  top_n: 3\n")
    return data, old, new


@pytest.mark.parametrize(
    ("sig", "point"),
    [
        ("SIGINT", "write1"),
        ("SIGTERM", "write1"),
        ("SIGTERM", "write4"),
        ("SIGINT", "write8"),
        ("SIGTERM", "swap"),
        ("SIGINT", "swap"),
    ],
)
def test_sigint_and_sigterm_leave_the_old_or_the_new_complete_set(two_sets, sig, point) -> None:
    data, old, new = two_sets
    out = data / "processed" / "small" / "bitcoin_mining"
    manifest = out / "provenance.json"
    if not manifest.is_file() or json.loads(manifest.read_text())["study"]["ranking"]["top_n"] != 5:
        assert cli(data, "score", "--study", str(old))[0] == 0  # the old set (an earlier case may have left it)
    verify_output_set(out)
    before = digest(out)
    env = {**os.environ, **ENV, "PYTHONPATH": str(REPO), "SIGNAL": sig, "SIGNAL_AT": point}
    proc = subprocess.run(
        [sys.executable, "-c", SIGNAL_SCRIPT, *_score_cmd(data, new)[3:]],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_sigint_default,
    )
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    verify_output_set(out)
    last = proc.stderr.strip().splitlines()[-1]
    if point == "swap":
        assert last == f"interrupted after the new outputs were complete; {out} holds this run's complete set."
        assert json.loads((out / "provenance.json").read_text())["study"]["ranking"]["top_n"] == 3
    else:
        assert last == f"interrupted; {out} still holds the previous complete set of outputs, none of this run's."
        assert digest(out) == before
    assert not list(out.parent.glob(".bitcoin_mining.staging-*"))


@pytest.mark.parametrize("delay", [2.0, 6.0])
def test_sigterm_at_a_random_moment_leaves_a_complete_set(two_sets, delay) -> None:
    data, old, new = two_sets
    out = data / "processed" / "small" / "bitcoin_mining"
    env = {**os.environ, **ENV, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        _score_cmd(data, new if delay > 3 else old), env=env, cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=600)
    err = proc.stderr.read() if proc.stderr else ""
    assert code in (0, 130, -signal.SIGTERM), err  # -15: before the command installed its handler
    assert "Traceback" not in err and "unexpected" not in err
    verify_output_set(out)


@pytest.mark.parametrize(
    ("err_no", "words"),
    [
        (errno.ENOSPC, "could not be written: the disk is full; free some space and run again"),
        (
            errno.EFBIG,
            "could not be written: the file is too large for this file system; choose a --data-dir on another disk",
        ),
        (errno.EROFS, "is on a read-only file system; choose a --data-dir on a writable disk"),
        (
            errno.EACCES,
            "is not writable (permission denied); fix the folder's permissions or choose another --data-dir",
        ),
    ],
)
def test_os_errors_in_words_and_earlier_outputs_intact(tmp_path, small_scored, monkeypatch, err_no, words) -> None:
    scored, study = small_scored
    own_data = tmp_path / "data"
    shutil.copytree(scored, own_data)  # a complete earlier set, scored once for the module
    out = own_data / "processed" / "small" / "bitcoin_mining"
    verify_output_set(out)
    before = digest(out)

    def fail(self, path, *a, **k):
        raise OSError(err_no, os.strerror(err_no), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    code, _, err = cli(own_data, "score", "--study", str(study))
    line = error_line(err)
    assert line.startswith(f"error: {out.parent}/.bitcoin_mining.staging-{os.getpid()}/provinces.csv {words}"), line
    assert line.endswith("; the outputs written before this run are intact.")
    assert code == 74
    assert digest(out) == before
    assert not list(out.parent.glob(".bitcoin_mining.staging-*"))


def test_a_gdal_error_on_a_full_disk_reads_as_disk_full(tmp_path, monkeypatch) -> None:
    from siting.io import files

    gdf = gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.Point(70, 25)], crs=4326)
    monkeypatch.setattr(
        gpd.GeoDataFrame, "to_file", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("GDAL: write failed"))
    )
    monkeypatch.setattr(files, "_disk_full", lambda folder: True)
    with pytest.raises(OSError) as info:
        files.write_gpkg(tmp_path / "s.gpkg", gdf, "s")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "s.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_map_of_very_many_user_sites_is_bounded_and_says_so(tmp_path, own_data, monkeypatch) -> None:
    import numpy as np

    from siting.outputs.maps import data as map_data

    monkeypatch.setattr(map_data, "MAX_USER_SITES", 40)
    rng = np.random.default_rng(0)
    n = 300
    path = tmp_path / "many.csv"
    pd.DataFrame(
        {"id": [f"S{i}" for i in range(n)], "lon": rng.uniform(67.5, 69.5, n), "lat": rng.uniform(27, 29.5, n)}
    ).to_csv(path, index=False)
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    code, _, err = cli(own_data, "score", "--study", str(study), "--candidates", str(path), "--drop-outside")
    assert code == 0, err
    code, _, err = cli(own_data, "map", "--study", str(study), "--user")
    assert code == 0, err
    scores = own_data / "processed" / "small" / "bitcoin_mining_user" / "scores.parquet"
    rows = len(pd.read_parquet(scores, columns=["score"]))
    assert f"warning: {scores} holds {rows:,} sites; the map shows the 40 best-scoring, each with its breakdown" in err
    page = (scores.parent / "map.html").read_text(encoding="utf-8")
    assert page.count('"className": "siting-user-site"') == 40
    assert f"Your candidate sites (colour: score 0-100; the best 40 of {rows:,})" in page


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)  # exited and reaped


def test_a_set_caught_between_two_renames_is_restored(tmp_path) -> None:
    from siting.io.outputset import locked

    folder = tmp_path / "study" / "bitcoin_mining"
    old = folder.parent / f".bitcoin_mining.old-{_dead_pid()}"  # kill -9 after the first rename of a swap
    old.mkdir(parents=True)
    (old / "provenance.json").write_text("{}")
    staging = folder.parent / f".bitcoin_mining.staging-{_dead_pid()}"
    staging.mkdir()
    with locked(folder):
        assert (folder / "provenance.json").is_file()
    assert not old.exists() and not staging.exists()


def test_swap_without_renameat2_uses_two_renames(tmp_path, monkeypatch) -> None:
    from siting.io import outputset

    monkeypatch.setattr(outputset, "_exchange", lambda a, b: False)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("old")
    with outputset.locked(folder), outputset.OutputSet(folder) as staged:
        (staged.staging / "a.txt").write_text("new")
        staged.commit()
    assert (folder / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_a_second_run_waits_when_told_to(tmp_path, monkeypatch) -> None:
    from siting.io.outputset import LOCK_WAIT_ENV, locked

    folder = tmp_path / "out"
    script = HOLD_SCRIPT.replace("time.sleep(60)", "time.sleep(1.5)")
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    monkeypatch.setenv(LOCK_WAIT_ENV, "60")
    start = time.monotonic()
    with locked(folder):
        assert time.monotonic() - start > 0.5  # it waited for the holder
    assert holder.wait(timeout=60) == 0


def test_map_sensitivity_and_allocate_share_the_lock_but_not_with_score(tmp_path, own_data) -> None:
    study = tmp_path / "small.yml"
    study.write_text(SMALL)
    assert cli(own_data, "score", "--study", str(study))[0] == 0
    out = own_data / "processed" / "small" / "bitcoin_mining"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(out), "siting map"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, _, err = cli(own_data, "allocate", "--study", str(study))  # shared with the map: runs
        assert code == 0, err
        code, _, err = cli(own_data, "score", "--study", str(study))  # would swap the set under the map: refused
        assert error_line(err) == (
            f"error: {out} is in use by another siting run (PID {holder.pid}, `siting map`); wait for it to finish "
            f"(or set SITING_LOCK_WAIT to the seconds to wait) and run again."
        )
        assert code == 75
    finally:
        holder.kill()
        holder.wait()
