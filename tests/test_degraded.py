"""Missing layers degrade clearly: a region built from the mirror with layers removed still runs end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from siting import stages
from siting.config import Study
from siting.layers import Layers, degraded_notes
from siting.layers.grid import INFERRED_NAME


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, raw_dir: Path) -> Path:
    data = tmp_path_factory.mktemp("degraded")
    shutil.copytree(raw_dir, data / "raw")
    (data / "raw" / "osm" / "substations.geojson").unlink()  # no substation layer
    (data / "raw" / "naturalearth" / "ne_10m_lakes_PAK.geojson").unlink()  # no lakes
    (data / "raw" / "dem" / "Altitude_PAK_metres.tif").unlink()  # no DEM
    empty = '{"type": "FeatureCollection", "features": []}'
    (data / "raw" / "osm" / "lines_220kv.geojson").write_text(empty)  # present, but covering nothing
    return data


def test_prepare_and_score_run_with_layers_removed(data: Path) -> None:
    study = Study(name="degraded", candidates={"h3_resolution": 5})
    folder = stages.prepare(data, study)
    notes = degraded_notes(folder)
    assert len(notes) == 4, notes
    assert any(n.startswith("elevation_m: no file Altitude_PAK_metres.tif; the elevation exclusion") for n in notes)
    assert any(n.startswith("substations: no file substations.geojson;") and "inferred" in n for n in notes)
    assert any(n.startswith("lines 220kv: lines_220kv.geojson covers nothing") for n in notes)
    assert any(n.startswith("lakes: no file ne_10m_lakes_PAK.geojson; the lake exclusion is skipped") for n in notes)
    layers = Layers(folder)
    subs = layers.substations
    assert len(subs) > 50 and (subs["name"] == INFERRED_NAME).all()
    assert len(layers.lakes) == 0
    # only the one 220000;132000 way of the 132 kV file is left in the 220 kV class (of 319)
    assert (layers.lines["voltage_class"] == "220kv").sum() == 1
    _, profile = stages.load_study("pakistan")
    run = stages.score(data, study, profile)
    assert set(notes) <= set(run.warnings)
    prov = json.loads(run.files["provenance"].read_text())
    assert prov["degraded"] == notes
    assert "lake or reservoir" not in prov["candidates"]["excluded"]
    assert not any(k.startswith("elevation") for k in prov["candidates"]["excluded"])
    scores = gpd.read_parquet(run.files["scores"])
    assert len(scores) > 100


def test_attribution_lists_only_the_sources_used(data: Path) -> None:
    study = Study(name="degraded", candidates={"h3_resolution": 5})
    prov = json.loads((data / "processed" / "degraded" / "bitcoin_mining" / "provenance.json").read_text())
    assert "osm" in prov["sources"] and "naturalearth" in prov["sources"]
    assert set(prov["sources"]) == {ref.partition(".")[0] for ref in prov["inputs"]}
    assert "wri_gppd" not in prov["sources"]  # catalogued, but no layer reads it
    del study


def test_a_criterion_whose_layer_is_missing_is_dropped_and_the_weights_renormalised() -> None:
    import numpy as np
    import pandas as pd

    from siting.decide.scoring import drop_missing_criteria

    _, profile = stages.load_study("pakistan")
    names = list(profile.criteria)
    table = pd.DataFrame({n: [1.0, 2.0] for n in names})
    table[names[0]] = np.nan
    new, lines = drop_missing_criteria(table, profile)
    assert list(new.criteria) == names[1:]
    w = profile.weights
    assert sum(new.weights.values()) == pytest.approx(1.0)
    assert new.weights[names[1]] == pytest.approx(w[names[1]] / (1 - w[names[0]]))
    assert lines == [
        f"criterion {names[0]}: missing for every candidate (its layer is absent or covers nothing); dropped from "
        f"profile {profile.name}, the other weights renormalised (they held {1 - w[names[0]]:.0%} of the weight)"
    ]
    assert drop_missing_criteria(table.fillna(0.0), profile) == (profile, [])


def test_a_constraint_on_a_column_missing_for_every_candidate_is_not_applied() -> None:
    import numpy as np
    import pandas as pd

    from siting.decide.scoring import drop_missing_criteria, evaluate

    _, profile = stages.load_study("pakistan", "ai_datacenter")
    assert "dist_connectivity_km" in profile.constraints  # max 500 km: would remove every candidate left NaN
    table = pd.DataFrame({n: [1.0, 2.0, 3.0] for n in profile.criteria})
    table["dist_connectivity_km"] = np.nan
    table[["iso_3166_2", "h3_cell"]] = [["PK-SD", "a"], ["PK-SD", "b"], ["PK-PB", "c"]]
    new, lines = drop_missing_criteria(table, profile)
    assert "dist_connectivity_km" not in new.constraints and "dist_substation_km" in new.constraints
    assert lines[-1] == (
        "constraint dist_connectivity_km: missing for every candidate (its layer is absent or covers nothing); "
        "not applied in profile ai_datacenter"
    )
    scored = evaluate(table, profile)
    assert len(scored.table) == 3 and "dist_connectivity_km" not in scored.removed
    assert scored.dropped == lines


def test_the_later_stages_weigh_what_the_scores_weighed() -> None:
    from siting.decide.scoring import profile_as_scored

    _, profile = stages.load_study("pakistan", "ai_datacenter")
    kept = {n: w for n, w in profile.weights.items() if n not in ("latency_ms", "dist_connectivity_km")}
    total = sum(kept.values())
    weights = {n: w / total for n, w in kept.items()}  # as provenance.json records them
    removed = {"dist_substation_km": 12}  # the dist_connectivity_km constraint was not applied
    scored = profile_as_scored(profile, weights, removed)
    assert list(scored.criteria) == list(weights)
    assert scored.weights == pytest.approx(weights)
    assert list(scored.constraints) == ["dist_substation_km"]
    everything = {k: 0 for k in profile.constraints}
    assert profile_as_scored(profile, profile.weights, everything) is profile  # nothing dropped: unchanged


HAZARD_AND_CLIMATE = {  # layer: (raw file under data/raw, what its warning line says is skipped)
    "t2m_monthly_c": ("era5/era5_monthly_climatology_2000_2025_t2m_PAK.tif", "the cooling columns"),
    "landcover_class": ("modis/modis_mcd12c1_2019_igbp_0p05deg_PAK.tif", "the land-cover exclusions are skipped"),
    "humidity": ("gldas/pvcz_gldas025_2010_2018_stressors_PAKbbox.csv", "cooling falls back to the dry-bulb model"),
    "flood_2022": (
        "unosat/unosat_viirs_flood_extent_20220825_20220831_PAK.geojson",
        "the flood exclusion is skipped",
    ),
    "faults": ("gem_faults/gem_active_faults_2017_PAKbbox.geojson", "dist_active_fault_km is left empty"),
    "earthquakes": ("usgs/usgs_significant_earthquakes_M5.5_1965_2016_PAKbbox.csv", "quakes_m55_within_50km is left"),
}
SEISMIC_AND_COOLING = {"dist_active_fault_km", "quakes_m55_within_50km", "t2m_hottest_month_c", "t2m_annual_mean_c",
                       "miner_derate_share", "pue"}  # fmt: skip


def _bare_data(tmp_path_factory: pytest.TempPathFactory, raw_dir: Path, layers: list[str]) -> Path:
    data = tmp_path_factory.mktemp("bare")
    shutil.copytree(raw_dir, data / "raw")
    for name in layers:
        (data / "raw" / HAZARD_AND_CLIMATE[name][0]).unlink()
    (data / "bare.yml").write_text("name: bare\ncandidates:\n  h3_resolution: 5\n")
    return data


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory, raw_dir: Path):
    """A data folder without the temperature, land-cover, humidity, flood, fault and earthquake files, prepared."""
    data = _bare_data(tmp_path_factory, raw_dir, list(HAZARD_AND_CLIMATE))
    return data, _siting(data, "prepare")


def _siting(data: Path, *args: str):
    from click.testing import CliRunner

    from siting.cli import main

    res = CliRunner().invoke(main, ["--data-dir", str(data), *args, "--study", str(data / "bare.yml")])
    assert res.exit_code == 0, res.output
    return res


def test_a_region_without_climate_and_hazard_layers_is_prepared_and_scored(bare) -> None:
    from siting.layers import layers_dir

    bare, prepared = bare
    warnings = [line for line in prepared.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == len(HAZARD_AND_CLIMATE), warnings
    for name, (file, skipped) in HAZARD_AND_CLIMATE.items():  # one line each, naming the layer, file and what
        mine = [w for w in warnings if w.startswith(f"warning: {name}: no file {Path(file).name}; ")]
        assert len(mine) == 1 and skipped in mine[0], (name, warnings)
    folder = layers_dir(bare / "processed", "PAK")
    notes = degraded_notes(folder)
    assert [f"warning: {n}" for n in notes] == warnings
    assert not any((folder / f"{n}.parquet").exists() for n in ("flood_2022", "faults", "earthquakes"))
    assert not any((folder / f"{n}.tif").exists() for n in ("t2m_monthly_c", "landcover_class", "humidity"))

    _, profile = stages.load_study("pakistan", "bitcoin_mining")
    scored = _siting(bare, "score", "--profile", profile.name)
    out = bare / "processed" / "bare" / profile.name
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["degraded"][: len(notes)] == notes  # prepare's notes, then one line per criterion dropped
    dropped = {n for n in profile.criteria if n in SEISMIC_AND_COOLING}
    assert dropped == {"dist_active_fault_km", "quakes_m55_within_50km", "t2m_hottest_month_c", "t2m_annual_mean_c",
                       "miner_derate_share"}  # fmt: skip
    assert sorted(line.split(":")[0] for line in prov["degraded"][len(notes) :]) == sorted(
        f"criterion {n}" for n in dropped
    )
    assert all(f"warning: {line}" in scored.stderr for line in prov["degraded"])
    weights = prov["weights"]
    assert set(weights) == set(profile.criteria) - dropped
    assert sum(weights.values()) == pytest.approx(1.0)
    kept = sum(profile.weights[n] for n in weights)
    assert all(weights[n] == pytest.approx(profile.weights[n] / kept) for n in weights)
    excluded = prov["candidates"]["excluded"]
    assert not any(k.startswith(("2022 flood", "land cover")) for k in excluded), excluded
    assert "elevation above 2500 m" in excluded and "lake or reservoir" in excluded  # the others still apply
    scores = gpd.read_parquet(out / "scores.parquet")
    provinces = set(gpd.read_parquet(folder / "provinces.parquet")["iso_3166_2"])
    # cells scored in every province but Gilgit-Baltistan, none of whose res-5 cells lies within the profile's
    # 100 km of a 220 kV grid station, with every layer too
    assert set(scores["iso_3166_2"]) == provinces - {"PK-GB"}
    assert scores["flooded_2022"].isna().all() and scores["dist_active_fault_km"].isna().all()
    assert scores["score"].notna().all() and len(scores) > 100


def test_without_humidity_land_cover_and_flood_every_criterion_stays(
    tmp_path_factory: pytest.TempPathFactory, raw_dir: Path
) -> None:
    data = _bare_data(tmp_path_factory, raw_dir, ["humidity", "landcover_class", "flood_2022"])
    prepared = _siting(data, "prepare")
    warnings = [line for line in prepared.stderr.splitlines() if line.startswith("warning: ")]
    assert [w.split(":")[1].strip() for w in warnings] == ["flood_2022", "landcover_class", "humidity"], warnings
    _, profile = stages.load_study("pakistan", "ai_datacenter")
    _siting(data, "score", "--profile", profile.name)
    prov = json.loads((data / "processed" / "bare" / profile.name / "provenance.json").read_text())
    assert prov["degraded"] == [w.removeprefix("warning: ") for w in warnings]  # no criterion dropped
    assert prov["weights"] == pytest.approx(profile.weights)
    scores = gpd.read_parquet(data / "processed" / "bare" / profile.name / "scores.parquet")
    assert scores["dew_point_annual_c"].isna().all() and scores["flooded_2022"].isna().all()
    assert scores["pue"].between(1.1, 2.0).all()  # the dry-bulb model


def _grids(t2m: float, humidity: float) -> dict:
    from affine import Affine

    from siting.kernels.grids import Grid

    def grid(values: list[float], bands: int = 1) -> Grid:
        return Grid(np.array(values, dtype=float).reshape(bands, 1, 1) * np.ones((bands, 1, 1)), cell, "test")

    cell = Affine(1.0, 0.0, 67.0, 0.0, -1.0, 25.0)  # one 1° cell holding (67.5, 24.5)
    monthly = [18, 21, 26, 31, 35, 36, 34, 33, 32, 29, 24, 19]
    return {
        "t2m": grid([t2m + m for m in monthly], 12),
        "dem": grid([100.0]),
        "koppen": grid([2.0]),
        "era5_cell_elevation": grid([100.0]),
        "humidity": grid([humidity, humidity / 9.0], 2),  # mean and rms, g/kg
    }


def test_without_humidity_cooling_is_the_dry_bulb_model() -> None:
    from siting.model import cooling

    humid = cooling.cooling_criteria([67.5], [24.5], **_grids(0.0, 18.0))
    dry = cooling.cooling_criteria([67.5], [24.5], **_grids(0.0, np.nan))
    corrected = np.array([[18, 21, 26, 31, 35, 36, 34, 33, 32, 29, 24, 19]], dtype=float)
    assert dry["pue"].iloc[0] == pytest.approx(cooling.pue_annual(corrected)[0])  # no dew point: dry bulb only
    assert dry["pue"].iloc[0] < humid["pue"].iloc[0]  # humid air costs chiller hours and dehumidification
    assert dry["economiser_hours_share"].iloc[0] > humid["economiser_hours_share"].iloc[0]
    assert np.isnan(dry["dew_point_annual_c"].iloc[0]) and not np.isnan(humid["dew_point_annual_c"].iloc[0])
    assert dry["t2m_hottest_month_c"].iloc[0] == humid["t2m_hottest_month_c"].iloc[0] == 36.0
    assert dry.attrs["cooling_gaps"]["humidity_nearest_cell"] == 0


def test_without_temperature_the_cooling_columns_are_empty() -> None:
    from siting.model import cooling

    out = cooling.cooling_criteria([67.5], [24.5], **_grids(np.nan, 18.0))
    assert list(out.columns) == list(cooling.COOLING_COLUMNS)
    assert out.drop(columns=["elevation_m", "koppen_group"]).isna().all().all()
    assert out["elevation_m"].iloc[0] == 100.0 and out["koppen_group"].iloc[0] == "B arid"


def test_a_partitioned_run_records_the_criteria_it_dropped(bare) -> None:
    data, _ = bare
    _, profile = stages.load_study("pakistan", "ai_datacenter")
    run = _siting(data, "score", "--profile", profile.name, "--workers", "1", "--worker-memory", "2GB")
    prov = json.loads((data / "processed" / "bare" / profile.name / "provenance.json").read_text())
    assert prov["partitions"]["count"] >= 1
    dropped = [line for line in prov["degraded"] if line.startswith("criterion ")]
    assert [line.split(":")[0] for line in dropped] == [
        "criterion pue",
        "criterion dist_active_fault_km",
        "criterion quakes_m55_within_50km",
    ]
    assert all(f"warning: {line}" in run.stderr for line in dropped)
    assert set(prov["weights"]) == set(profile.criteria) - {"pue", "dist_active_fault_km", "quakes_m55_within_50km"}
    assert sum(prov["weights"].values()) == pytest.approx(1.0)
