"""Shared fixtures: the read-only data mirror, a fetched ``data/raw`` and prepared layers built from it.

Everything expensive is session-scoped and built once (fetch + prepare take about a second).

Fixtures other test modules rely on: ``mirror``, ``raw_dir``, ``processed_dir``, ``layers``, ``study``.
``processed_dir`` deliberately does not depend on ``study`` so that a module may override ``study`` with a
narrower scope without a scope mismatch.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from siting.config import Study

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helpers (browser.py) for tests in subfolders
DEFAULT_MIRROR = REPO.parent / "shared" / "data" / "mirror"


def _mirror_path() -> Path:
    return Path(os.environ.get("SITING_DATA_MIRROR") or DEFAULT_MIRROR).resolve()


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The read-only open-data mirror (``$SITING_DATA_MIRROR`` or ``<repo>/../shared/data/mirror``)."""
    path = _mirror_path()
    if not (path / "SHA256SUMS").is_file():
        pytest.skip(f"data mirror not found at {path}; set SITING_DATA_MIRROR to a copy of the mirror")
    return path


@pytest.fixture(scope="session")
def study() -> Study:
    """The default study, as the layers fixture builds it."""
    return Study(name="test")


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """A ``data/raw`` folder filled from the mirror by ``siting.io.fetch.fetch_all``."""
    from siting.io.fetch import fetch_all

    raw = tmp_path_factory.mktemp("raw")
    fetch_all(raw, mirror=mirror, progress=False)
    return raw


@pytest.fixture(scope="session")
def processed_dir(tmp_path_factory: pytest.TempPathFactory, raw_dir: Path) -> Path:
    """A ``data/processed`` folder with the standard layers of the default study prepared in it."""
    from siting.layers import prepare

    processed = tmp_path_factory.mktemp("processed")
    prepare(Study(name="test"), raw_dir, processed, progress=False)
    return processed


@pytest.fixture(scope="session")
def layers(processed_dir: Path):
    """The prepared layers of the default study (``siting.layers.Layers``)."""
    from siting.layers import Layers, layers_dir

    return Layers(layers_dir(processed_dir, Study(name="test").region.iso3))


@pytest.fixture(scope="session")
def study_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small study file (H3 resolution 5) for fast command-line runs."""
    path = tmp_path_factory.mktemp("cfg") / "small.yml"
    path.write_text("name: small\ncandidates:\n  h3_resolution: 5\n")
    return path


@dataclass
class Scored:
    """One national scoring shared by the test modules that need one (H3 resolution 6, Bitcoin profile)."""

    study: Study
    profile: object
    result: object


@pytest.fixture(scope="session")
def national6(layers) -> Scored:
    """All of Pakistan scored once at H3 resolution 6 (~36 km² cells) with the Bitcoin-mining profile."""
    from siting.config import load_profile
    from siting.stages import score_study

    study = Study(name="test", candidates={"h3_resolution": 6})
    profile = load_profile("bitcoin_mining")
    return Scored(study, profile, score_study(study, profile, layers))
