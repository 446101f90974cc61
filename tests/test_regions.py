"""Region packs outside the code: found by region.path, SITING_REGIONS_DIR, then the packaged ones."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from siting._errors import ConfigError
from siting.config import Study, load_study
from siting.io import regions
from siting.io.catalog import load_catalog
from siting.io.reference import Reference

REPO = Path(__file__).resolve().parents[1]
PAK = REPO / "siting" / "regions" / "PAK"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(regions.REGIONS_ENV, raising=False)


def test_packaged_pakistan_pack_has_region_file_tables_and_lock() -> None:
    pack = regions.find_pack("PAK")
    assert pack.folder == PAK
    assert pack.name == "Pakistan"
    assert "Sindh" in pack.meta["admin_units"]["names"]
    assert "national.csv" in pack.tables() and "provinces.csv" in pack.tables()
    lock = pack.read_lock()["files"]
    for sid, source in load_catalog().items():  # the Pakistan extracts stay pinned to the catalog's sums
        for key, f in source.files.items():
            assert lock[f"{sid}.{key}"] == {"path": str(f.raw_relpath), "sha256": f.sha256, "trust": "pinned"}


def test_search_order_study_path_then_env_then_packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir, study_dir = tmp_path / "env", tmp_path / "study"
    for d in (env_dir, study_dir):
        shutil.copytree(PAK, d / "PAK")
    monkeypatch.setenv(regions.REGIONS_ENV, str(env_dir))
    assert regions.find_pack("PAK").folder == env_dir / "PAK"
    assert regions.find_pack("PAK", study_dir).folder == study_dir / "PAK"
    assert regions.find_pack("PAK", study_dir / "PAK").folder == study_dir / "PAK"  # the pack folder itself
    assert regions.search_dirs(study_dir) == [study_dir, env_dir, regions.packaged_dir()]


def test_a_planners_pack_changes_a_figure_without_touching_the_package(tmp_path: Path) -> None:
    shutil.copytree(PAK, tmp_path / "PAK")
    nat = (tmp_path / "PAK" / "national.csv").read_text().replace("peak_demand_mw,30150,", "peak_demand_mw,31000,")
    (tmp_path / "PAK" / "national.csv").write_text(nat)
    study = Study(name="t", region={"iso3": "PAK", "path": str(tmp_path)})
    assert Reference.for_study(study).value("peak_demand_mw") == 31000
    assert Reference.for_study(Study(name="t")).value("peak_demand_mw") == 30150
    assert Reference.load(tmp_path / "PAK").value("peak_demand_mw") == 31000  # load takes the pack folder


def test_unknown_region_names_every_folder_searched(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        regions.find_pack("XYZ", tmp_path)
    msg = str(err.value)
    assert f"{tmp_path}/XYZ/" in msg and "siting/regions/XYZ/" in msg and "siting region new XYZ" in msg


def test_pack_whose_region_file_names_another_country_is_refused(tmp_path: Path) -> None:
    (tmp_path / "IND").mkdir()
    (tmp_path / "IND" / "region.yml").write_text("iso3: PAK\nname: India\n")
    with pytest.raises(ConfigError, match="iso3: says PAK but the pack is used as IND"):
        regions.find_pack("IND", tmp_path)


def test_figure_left_empty_names_the_key_and_where_it_is_published(tmp_path: Path) -> None:
    (tmp_path / "XYZ").mkdir()
    (tmp_path / "XYZ" / "region.yml").write_text("iso3: XYZ\nname: Testland\n")
    (tmp_path / "XYZ" / "national.csv").write_text(
        "key,value,unit,source,date\npeak_demand_mw,,MW,the regulator's annual State of Industry report,\n"
    )
    ref = Reference.load(regions.find_pack("XYZ", tmp_path))
    with pytest.raises(ConfigError) as err:
        ref.value("peak_demand_mw")
    assert "peak_demand_mw is not filled in" in str(err.value)
    assert "State of Industry" in str(err.value)
    assert json.loads(json.dumps(regions.find_pack("XYZ", tmp_path).read_lock())) == {"region": "XYZ", "files": {}}


def test_region_new_scaffolds_a_pack_and_a_study(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from siting.cli import main

    monkeypatch.chdir(tmp_path)
    admin1 = mirror / "naturalearth" / "ne_10m_admin_1_states_provinces_PAK.geojson"
    res = CliRunner().invoke(main, ["region", "new", "pak", "--admin1", str(admin1), "--study", "mine"])
    assert res.exit_code == 0, res.output
    pack = regions.find_pack("PAK", tmp_path / "regions")
    assert pack.folder == tmp_path / "regions" / "PAK"
    provinces = pd.read_csv(pack.folder / "provinces.csv")
    assert len(provinces) == 8 and provinces["iso_3166_2"].str.startswith("PK-").all()  # Natural Earth keeps F.A.T.A.
    assert {"aliases", "population", "source_names"} <= set(provinces.columns)
    nat = pd.read_csv(pack.folder / "national.csv").set_index("key")
    assert nat.loc["peak_demand_mw", "value"] != nat.loc["peak_demand_mw", "value"]  # left empty (NaN)
    assert nat.loc["power_factor", "value"] > 0  # a method constant, copied with its source
    assert pack.read_lock() == {"region": "PAK", "files": {}}
    study, _ = load_study(str(tmp_path / "configs" / "studies" / "mine.yml"))
    ref = Reference.for_study(study)
    assert ref.folder is not None and ref.folder.resolve() == pack.folder
    with pytest.raises(ConfigError, match=r"national.csv: peak_demand_mw is not filled in; .*published in: .*NEPRA"):
        ref.value("peak_demand_mw")
    again = CliRunner().invoke(main, ["region", "new", "PAK", "--admin1", str(admin1)])
    assert again.exit_code == 2 and "already holds a region pack" in again.output


def test_error_line_never_shares_a_line_with_the_progress_bar(tmp_path: Path, mirror: Path) -> None:
    import subprocess
    import sys

    partial = tmp_path / "mirror"
    shutil.copytree(mirror, partial)
    (partial / "geonames" / "cities500_PAK.csv").unlink()  # the last but few: the bar is mid-way
    proc = subprocess.run(
        [sys.executable, "-m", "siting", "--data-dir", str(tmp_path / "data"), "fetch", "--mirror", str(partial)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 3
    lines = [line.split("\r")[-1] for line in proc.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr


def test_fetch_refuses_the_pakistan_mirror_for_another_region(tmp_path: Path, mirror: Path) -> None:
    from click.testing import CliRunner

    from siting.cli import main

    res = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "fetch", "--region", "NPL", "--mirror", str(mirror)])
    assert res.exit_code == 2 and "hold the pinned Pakistan extracts, not NPL" in res.output


@pytest.mark.parametrize("literal", ["Karachi", "30_000", "30000", "2,813", r"\b280\b", "Gwadar", "NEPRA State"])
def test_no_pakistan_literal_in_the_package_code(literal: str) -> None:
    import re

    hits = [
        f"{p.relative_to(REPO)}:{n}"
        for p in sorted((REPO / "siting").rglob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(literal, line)
    ]
    assert not hits, f"country-specific literal {literal!r} in the code (move it to siting/regions/PAK/): {hits}"


def test_a_study_region_path_without_the_pack_is_refused_not_passed_over(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()  # the planner's folder exists, but the pack is elsewhere (a typo, another cwd)
    with pytest.raises(ConfigError) as err:
        regions.find_pack("PAK", tmp_path / "packs")
    msg = str(err.value)
    assert msg.startswith(f"region.path {tmp_path / 'packs'} holds no pack of PAK")
    assert "correct region.path, or remove it to use the pack in" in msg and str(PAK) in msg
    with pytest.raises(ConfigError, match="a relative path is read from"):
        regions.find_pack("PAK", "no-such-folder")


def test_header_only_tables_of_a_pack_are_named_with_what_is_skipped(tmp_path: Path) -> None:
    from siting.layers import REFERENCE_GAPS, reference_gaps

    shutil.copytree(PAK, tmp_path / "PAK")
    assert reference_gaps(Reference.load(tmp_path / "PAK")) == []  # the shipped pack lacks nothing
    for name in ("fibre_routes.csv", "interfaces.csv", "idle_plants.csv"):
        pd.read_csv(PAK / name).iloc[0:0].to_csv(tmp_path / "PAK" / name, index=False)
    lines = reference_gaps(Reference.load(tmp_path / "PAK"))
    assert lines == [
        f"{name}: the region pack's table has a header only; {REFERENCE_GAPS[name]}"
        for name in ("interfaces.csv", "fibre_routes.csv", "idle_plants.csv")
    ]
    pd.read_csv(PAK / "zones.csv").iloc[0:0].to_csv(tmp_path / "PAK" / "zones.csv", index=False)
    lines = reference_gaps(Reference.load(tmp_path / "PAK"))
    assert lines[0].startswith("zones.csv: the region pack's table has a header only; the whole region is one")
    assert not any(line.startswith("interfaces.csv") for line in lines)  # one zone: nothing to connect
