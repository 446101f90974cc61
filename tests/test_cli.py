"""The `siting` command as a user runs it: stages, outputs, and bad input ending in one clear sentence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, data_dir: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "SITING_DATA_MIRROR"}
    full_env = {**base, "SITING_CONFIG_DIR": str(REPO / "configs"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "siting.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=600,
    )


def assert_one_sentence_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def files_below(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory, mirror, study_file) -> Path:
    data = tmp_path_factory.mktemp("data")
    for args in (
        ("fetch", "--mirror", str(mirror)),
        ("prepare", "--study", str(study_file)),
        ("score", "--study", str(study_file)),
    ):
        proc = run(*args, data_dir=data)
        assert proc.returncode == 0, proc.stderr
    return data


def test_score_writes_every_output(pipeline_dir) -> None:
    out = pipeline_dir / "processed" / "small" / "bitcoin_mining"
    for name in ("scores.parquet", "scores.gpkg", "provinces.csv", "surplus.csv", "top_sites.csv", "provenance.json"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.part*")), "temporary files left behind"
    provinces = pd.read_csv(out / "provinces.csv")
    assert len(provinces) == 7
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["profile"]["name"] == "bitcoin_mining"
    assert prov["inputs"]["osm.substations"]["sha256"].startswith("7a17e08c")
    assert "© OpenStreetMap contributors" in prov["sources"]["osm"]["attribution"]


def test_rerun_gives_byte_identical_tables(pipeline_dir, study_file) -> None:
    out = pipeline_dir / "processed" / "small" / "bitcoin_mining"
    names = ("scores.parquet", "provinces.csv", "surplus.csv", "top_sites.csv")
    before = {n: (out / n).read_bytes() for n in names}
    assert run("score", "--study", str(study_file), data_dir=pipeline_dir).returncode == 0
    assert {n: (out / n).read_bytes() for n in names} == before


def test_second_fetch_does_no_work(pipeline_dir, mirror) -> None:
    proc = run("fetch", "--mirror", str(mirror), data_dir=pipeline_dir)
    assert proc.returncode == 0
    assert "present" in proc.stdout and "copied" not in proc.stdout


def test_unknown_profile_names_the_key_and_the_choices(pipeline_dir, study_file) -> None:
    proc = run("score", "--study", str(study_file), "--profile", "bitcoin", data_dir=pipeline_dir)
    assert_one_sentence_error(proc, "unknown profile 'bitcoin'", "ai_datacenter", "bitcoin_mining")
    assert proc.returncode == 2


def test_missing_mirror_file_names_it_and_writes_nothing(tmp_path, mirror) -> None:
    partial = tmp_path / "mirror"
    shutil.copytree(mirror, partial)
    (partial / "osm" / "PAK" / "substations.geojson").unlink()
    data = tmp_path / "data"
    proc = run("fetch", "--mirror", str(partial), "--source", "osm", data_dir=data)
    assert_one_sentence_error(proc, "substations.geojson", "missing from the mirror")
    assert not (data / "raw" / "osm" / "substations.geojson").exists()
    assert not [p for p in files_below(data) if ".part" in p.name]


def test_checksum_mismatch_names_the_file_and_leaves_nothing(tmp_path, mirror) -> None:
    bad = tmp_path / "mirror"
    shutil.copytree(mirror, bad)
    target = bad / "geonames" / "cities500_PAK.csv"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b"Lahore", b"Lahora", 1))
    data = tmp_path / "data"
    proc = run("fetch", "--mirror", str(bad), "--source", "geonames", data_dir=data)
    assert_one_sentence_error(proc, "cities500_PAK.csv", "sha256", "geonames.cities")
    assert files_below(data / "raw") == set()


def test_debug_shows_the_traceback(pipeline_dir, study_file) -> None:
    proc = run("--debug", "score", "--study", str(study_file), "--profile", "nope", data_dir=pipeline_dir)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_score_before_prepare_says_what_to_run(tmp_path, study_file) -> None:
    proc = run("score", "--study", str(study_file), data_dir=tmp_path)
    assert_one_sentence_error(proc, "run `siting prepare`")


def test_every_output_column_is_registered(pipeline_dir, study_file) -> None:
    """Every column of every table the stages write has a unit, a label and a description in siting.fields."""
    from siting.fields import resolve

    for args in (("score", "--profile", "ai_datacenter"), ("sensitivity", "--runs", "20"), ("allocate",), ("compare",)):
        proc = run(args[0], "--study", str(study_file), *args[1:], data_dir=pipeline_dir)
        assert proc.returncode == 0, proc.stderr
    missing = {}
    for path in (pipeline_dir / "processed" / "small").rglob("*"):
        if path.suffix == ".csv":
            columns = pd.read_csv(path, nrows=0).columns
        elif path.suffix == ".parquet":
            columns = pd.read_parquet(path).columns
        else:
            continue
        for column in columns:
            field = resolve(column)
            if field is None or not field.label or not field.description:
                missing.setdefault(column, path.name)
    assert not missing, f"unregistered columns (add them to siting/fields.py): {missing}"


def test_geopackage_holds_sites_top_cells_and_provinces(pipeline_dir) -> None:
    import geopandas as gpd
    import pyogrio

    out = pipeline_dir / "processed" / "small" / "bitcoin_mining"
    layers = [name for name, _ in pyogrio.list_layers(out / "scores.gpkg")]
    assert layers == ["top_cells", "sites", "provinces"]
    top = gpd.read_file(out / "scores.gpkg", layer="top_cells")
    assert len(top) == len(pd.read_csv(out / "top_sites.csv")) and (top.geom_type == "Polygon").all()
    sites = gpd.read_file(out / "scores.gpkg", layer="sites")
    assert len(sites) == len(pd.read_csv(out / "sites.csv"))
    cells = gpd.read_parquet(out / "scores.parquet", columns=["h3_cell", "geometry"])
    assert (cells.geom_type == "Polygon").all()  # a small study keeps its hexagons in scores.parquet
