"""Missing layers degrade clearly: a region built from the mirror with layers removed still runs end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
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
