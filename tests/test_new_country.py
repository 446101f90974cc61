"""A new country scored with configuration and data tables only: ``siting region new``, fill the figures, ``make``.

The data mirror holds Pakistan alone, and Natural Earth gives every country its own ISO code, so the "new
country" here is Pakistan scaffolded from scratch as a planner's own pack (``siting region new PAK --dest ...``),
not the pack siting ships: its admin-1 table comes from the mirror's Natural Earth file (8 units with Natural
Earth's old names, F.A.T.A. among them), every figure and table starts empty, and the test fills only what the
run asks for, as a planner would, with test values labelled as such in each row's source. Tables a new pack
does not have (zones, interfaces, connectivity nodes, fibre routes, idle plants) stay header-only: the run
must degrade (one zone for the whole country, criteria dropped) and say so, never crash.

The stages run through the Makefile (``make maps allocate STUDY=newland``), with the study in
``$SITING_CONFIG_DIR`` and the pack in the study's ``region.path``, so the Makefile's own derivation of the
study file, region and pack is what is tested. Two things are overridden for the test only: ``SITING`` (this
interpreter, ``python -m siting``, instead of ``.venv/bin/siting``) and ``INSTALLED`` (a marker file, so that
make does not reinstall the environment). ``make all`` with both profiles and the briefs is the slow test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import main

REPO = Path(__file__).resolve().parents[1]
PAK = REPO / "siting" / "regions" / "PAK"
STUDY = "newland"
LABEL = "test pack: copied from siting/regions/PAK/{table} (a planner enters the official figure here)"
SYNTHETIC = "synthetic test value, not a published figure"
FIGURES = (
    "peak_demand_mw",
    "average_load_served_mw",
    "installed_capacity_mw",
    "net_metered_solar_mw",
    "winter_trough_demand_mw",
    "firm_capacity_mw",
    "fy25_national_average_load_mw",
    "trough_to_average",
    "reserve_margin_firm_load",
    "constrained_loading",
    "proposed_tariff_pkr_per_kwh",
    "pkr_per_usd",
    "line_cost_musd_per_km_220kv",
)
"""The national figures a one-zone pack needs to be scored (README, "Another country"); the rest stay empty."""
FILLED_TABLES = ("availability.csv", "demand_monthly.csv", "grid_stations_n1.csv")
HEADER_ONLY = ("zones.csv", "interfaces.csv", "connectivity_nodes.csv", "fibre_routes.csv", "idle_plants.csv")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def fill_pack(pack: Path) -> None:
    """Enter the figures and tables the run asks for, as a planner would (test values, labelled)."""
    nat = pd.read_csv(pack / "national.csv")
    pak = pd.read_csv(PAK / "national.csv").set_index("key")
    for key in FIGURES:
        nat.loc[nat["key"] == key, ["value", "source"]] = [pak.loc[key, "value"], LABEL.format(table="national.csv")]
    nat.to_csv(pack / "national.csv", index=False)
    prov = pd.read_csv(pack / "provinces.csv")
    census = pd.read_csv(PAK / "provinces.csv").set_index("iso_3166_2")["population"]
    prov["population"] = [census.get(code, 5_000_000) for code in prov["iso_3166_2"]]  # PK-TA: not in the PAK pack
    prov["population_source"] = [
        LABEL.format(table="provinces.csv") if code in census.index else SYNTHETIC for code in prov["iso_3166_2"]
    ]
    prov.to_csv(pack / "provinces.csv", index=False)
    for table in FILLED_TABLES:
        pd.read_csv(PAK / table).to_csv(pack / table, index=False)
    national = pd.read_csv(PAK / "national_monthly_demand.csv")  # the one zone's demand is the country's
    pd.DataFrame(
        {
            "zone": "national",
            "month": national["month"],
            "peak_mw": national["peak_mw"],
            "average_mw": national["average_mw"],
            "basis": "the whole country (one zone)",
            "source": LABEL.format(table="national_monthly_demand.csv"),
        }
    ).to_csv(pack / "zone_demand.csv", index=False)


def make(folder: Path, mirror: Path, *targets: str, profiles: str = "bitcoin_mining") -> subprocess.CompletedProcess:
    """Run the project's Makefile on the new study, writing only into ``folder``."""
    marker = folder / ".installed"
    marker.touch()  # newer than pyproject.toml: make does not reinstall the environment
    cmd = [
        "make", "-C", str(REPO), *targets, f"STUDY={STUDY}", f"PROFILES={profiles}", "RUNS=20",
        f"DATA={folder / 'data'}", f"SITING={sys.executable} -m siting", f"INSTALLED={marker}",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "SITING_CONFIG_DIR": str(folder / "configs"),
           "SITING_DATA_MIRROR": str(mirror)}  # fmt: skip
    env.pop("SITING_REGIONS_DIR", None)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """A planner's folder: the scaffolded pack (``regions/PAK/``) and study (``configs/studies/newland.yml``)."""
    folder = tmp_path_factory.mktemp("newland")
    admin1 = mirror / "naturalearth" / "ne_10m_admin_1_states_provinces_PAK.geojson"
    res = CliRunner().invoke(main, [
        "region", "new", "PAK", "--admin1", str(admin1), "--dest", str(folder / "regions"),
        "--study-dir", str(folder / "configs" / "studies"), "--study", STUDY,
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    fill_pack(folder / "regions" / "PAK")
    return folder


@pytest.fixture(scope="module")
def made(country: Path, mirror: Path) -> tuple[subprocess.CompletedProcess, float]:
    """``make maps allocate`` run once on the new study: fetch, prepare, score, sensitivity, map, allocate."""
    start = time.perf_counter()
    proc = make(country, mirror, "maps", "allocate")
    return proc, time.perf_counter() - start


def test_the_scaffold_leaves_a_pack_that_holds_no_figure_and_no_zone(country: Path) -> None:
    pack = country / "regions" / "PAK"
    for table in HEADER_ONLY:
        assert pd.read_csv(pack / table).empty, table
    study = (country / "configs" / "studies" / f"{STUDY}.yml").read_text()
    assert f"path: {country / 'regions'}" in study and "iso3: PAK" in study
    assert "one network zone, 'national': give zone_demand.csv its 12 months" in (pack / "region.yml").read_text()
    nat = pd.read_csv(pack / "national.csv").set_index("key")
    assert nat.loc[list(FIGURES), "source"].str.startswith("test pack").all()
    assert nat.loc["ke_service_buffer_km", "value"] != nat.loc["ke_service_buffer_km", "value"]  # still empty


def test_make_scores_and_maps_the_new_country(country: Path, made: tuple[subprocess.CompletedProcess, float]) -> None:
    proc, seconds = made
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"make maps allocate (fetch, prepare, score, sensitivity, map, allocate): {seconds:.1f} s")
    out = country / "data" / "processed" / STUDY / "bitcoin_mining"
    layers = country / "data" / "processed" / "layers" / "PAK"
    assert json.loads((layers / "provenance.json").read_text())["layers"]["zones"] == 1

    scores = gpd.read_parquet(out / "scores.parquet")
    assert len(scores) > 1000
    assert {"score", "h3_cell", "iso_3166_2", "zone", "hosting_interruptible_5pct_mw", "dist_substation_km"} <= set(
        scores.columns
    )
    assert (scores["zone"] == "national").all()
    assert scores["dist_fibre_route_km"].isna().all() and scores["idle_capacity_mw"].isna().all()
    assert "points_idle_capacity_mw" not in scores.columns and "points_dist_substation_km" in scores.columns

    provinces = pd.read_csv(out / "provinces.csv")
    assert len(provinces) == 8  # Natural Earth's units, F.A.T.A. included
    sites = pd.read_csv(out / "sites.csv")
    with_candidates = set(provinces.loc[provinces["candidate_count"] > 0, "iso_3166_2"])
    assert len(with_candidates) >= 7
    assert set(sites["iso_3166_2"]) == with_candidates  # a site in every province that has a candidate
    zones = pd.read_csv(out / "surplus_zones.csv")
    assert zones["zone"].tolist() == ["national"] and zones["hosting_interruptible_5pct_mw"].iloc[0] > 0
    assert pd.read_csv(out / "interface_flows.csv").empty

    prov = json.loads((out / "provenance.json").read_text())
    notes = prov["degraded"]
    assert any(n.startswith("zones.csv: the region pack's table has a header only; the whole region is") for n in notes)
    assert any(n.startswith("fibre_routes.csv: the region pack's table has a header only") for n in notes)
    assert any(n.startswith("criterion idle_capacity_mw: missing for every candidate") for n in notes)
    assert any(n.startswith("criterion dist_connectivity_km: missing for every candidate") for n in notes)
    assert not any(n.startswith("interfaces.csv") for n in notes)  # one zone: nothing to connect
    assert set(prov["weights"]) == set(prov["profile"]["criteria"]) - {"idle_capacity_mw", "dist_connectivity_km"}
    assert sum(prov["weights"].values()) == pytest.approx(1.0)
    for note in notes[:2]:
        assert f"warning: {note}" in proc.stderr  # each printed once by prepare, again by score: one line each

    html = (out / "map.html").read_text(encoding="utf-8")
    assert "Degraded: what this run skipped or dropped" in html
    assert "zones.csv: the region pack&#x27;s table has a header only" in html
    assert (out / "map.png").stat().st_size > 10_000
    assert (out / "sensitivity.csv").is_file()
    allocation = pd.read_csv(out / "allocation.csv")
    assert len(allocation) > 0 and allocation["allocated_mw"].sum() > 0


def test_a_figure_left_blank_names_the_key_and_where_it_is_published(
    country: Path, made: tuple[subprocess.CompletedProcess, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert made[0].returncode == 0
    blank = tmp_path / "regions"
    shutil.copytree(country / "regions", blank)
    nat = pd.read_csv(blank / "PAK" / "national.csv")
    nat.loc[nat["key"] == "average_load_served_mw", ["value", "source"]] = [None, None]
    nat.to_csv(blank / "PAK" / "national.csv", index=False)
    study = (country / "configs" / "studies" / f"{STUDY}.yml").read_text()
    study_file = tmp_path / "blank.yml"
    study_file.write_text(study.replace(f"name: {STUDY}", "name: blank").replace(str(country / "regions"), str(blank)))
    monkeypatch.delenv("SITING_REGIONS_DIR", raising=False)
    res = CliRunner().invoke(main, ["--data-dir", str(country / "data"), "score", "--study", str(study_file)])
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "national.csv: average_load_served_mw is not filled in" in lines[0]
    assert "published in: the national counterpart of Pakistan's: NEPRA State of Industry Report" in lines[0]


@pytest.mark.slow
def test_make_all_runs_every_stage_for_both_profiles(
    country: Path, mirror: Path, made: tuple[subprocess.CompletedProcess, float]
) -> None:
    assert made[0].returncode == 0
    proc = make(country, mirror, "all", "BRIEF_PROVINCES=PK-SD", profiles="bitcoin_mining ai_datacenter")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"Outputs for study '{STUDY}':" in proc.stdout
    base = country / "data" / "processed" / STUDY
    for profile in ("bitcoin_mining", "ai_datacenter"):
        for name in ("map.html", "sensitivity.csv", "briefs/briefs.pdf", "allocation.csv", "provenance.json"):
            assert (base / profile / name).is_file(), f"{profile}/{name}"
    prov = json.loads((base / "ai_datacenter" / "provenance.json").read_text())
    assert any(n.startswith("constraint dist_connectivity_km: missing for every candidate") for n in prov["degraded"])
    assert "dist_connectivity_km" not in prov["candidates"]["constraints"]
    assert (base / "profiles_comparison.csv").is_file()
