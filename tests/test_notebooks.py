"""The planners' notebooks (notebooks/*.ipynb) run headless, end to end, on data prepared from the mirror.

Each notebook is executed by a Jupyter kernel (``nbclient``) on a fresh ``data/`` folder filled by fetch +
prepare from the mirror, at a coarse H3 resolution and with few Monte Carlo draws so the whole module stays
under half a minute. Any error in any cell fails the test. The stored notebooks carry no outputs, so
their diffs stay readable.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
H3_RES = "5"  # ~2,000 candidates: every code path, a fraction of the time of resolution 7
RUNS = "20"
TIMEOUT_S = 300

pytestmark = pytest.mark.slow


def test_the_four_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01_data_tour",
        "02_score_sites",
        "03_sensitivity",
        "04_export_for_officials",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: clear the outputs before committing"
            assert cell.execution_count is None, f"{path.name}: clear the execution counts before committing"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """A fresh ``data/`` folder: raw files from the mirror, layers prepared (what `make layers` does)."""
    from siting.config import Study
    from siting.io.fetch import fetch_all
    from siting.layers import prepare

    data = tmp_path_factory.mktemp("notebook_data")
    fetch_all(data / "raw", mirror=mirror, progress=False)
    prepare(Study(name="pakistan"), data / "raw", data / "processed", progress=False)
    return data


@pytest.fixture(scope="module")
def kernel_env(data_dir: Path):
    """Environment the kernels inherit: the data folder, configs, coarse resolution, few draws."""
    saved = dict(os.environ)
    os.environ.update(
        {
            "SITING_DATA_DIR": str(data_dir),
            "SITING_CONFIG_DIR": str(REPO / "configs"),
            "SITING_NOTEBOOK_H3_RES": H3_RES,
            "SITING_NOTEBOOK_RUNS": RUNS,
            "MPLBACKEND": "Agg",
        }
    )
    yield data_dir
    os.environ.clear()
    os.environ.update(saved)


def _execute(path: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},  # run from notebooks/, as `make lab` does
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, kernel_env: Path) -> None:
    nb = _execute(path)
    text = _text(nb)
    assert "Traceback" not in text
    assert f"data: {kernel_env}" in text  # the first cell found the data folder the test prepared
    if path.stem == "01_data_tour":
        assert "installed capacity (MW)" in text and "NTDC grid stations (published)" in text
        assert "against the published total 241,499,431" in text
    if path.stem == "02_score_sites":
        assert "weight halved" in text and "rank correlation" in text
    if path.stem == "04_export_for_officials":
        for profile in ("bitcoin_mining", "ai_datacenter"):
            out = kernel_env / "processed" / f"pakistan_h3r{H3_RES}" / profile
            for name in ("map.html", "map.png", "provinces.csv", "top_sites.csv", "scores.parquet", "provenance.json"):
                assert (out / name).stat().st_size > 0, out / name
