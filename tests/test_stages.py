"""The stages: load a study, score it and write a complete set, rerun command included."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from siting import stages
from siting._errors import ConfigError
from siting.config import load_profile
from siting.io.paths import SITE_CELLS_FILE, layers_dir


def test_load_study_refuses_a_province_override_naming_no_province(tmp_path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("name: bad\nsurplus:\n  population: {Atlantis: 5}\n")
    with pytest.raises(ConfigError, match=rf"^{path}: surplus\.population\.Atlantis: unknown province"):
        stages.load_study(str(path))


def test_score_stage_writes_sites_and_their_cells_and_the_rerun_command(tmp_path, processed_dir, study_file) -> None:
    data = tmp_path / "data"
    iso3 = "PAK"
    shutil.copytree(layers_dir(processed_dir, iso3), layers_dir(data / "processed", iso3))
    study, _ = stages.load_study(str(study_file))
    profile = load_profile("bitcoin_mining")
    run = stages.score(data, study, profile, study_ref=str(study_file))
    out = stages.Paths(data, study).out
    sites = pd.read_parquet(out / "sites.parquet")
    cells = pd.read_parquet(out / SITE_CELLS_FILE)
    assert set(cells["site_id"]) == set(sites["site_id"])  # every site has its cells, and no cell a foreign site
    scored = pd.read_parquet(out / "scores.parquet")
    assert cells["h3_cell"].isin(scored["h3_cell"]).all()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["rerun"] == f"siting --data-dir {data} score --study {study_file} --profile bitcoin_mining"
    assert run.warnings == []
