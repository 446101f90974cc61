"""The layout holds: imports flow one way, and the compute packages open no file."""

from __future__ import annotations

import ast
import builtins
import io
import pathlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMPUTE = ("model", "decide", "kernels")
FILE_MODULES = {"rasterio", "pyogrio", "fiona", "pyarrow.parquet", "yaml", "tomllib", "shutil", "tempfile"}
FILE_CALLS = {"open", "read_csv", "read_parquet", "read_file", "read_text", "read_bytes", "to_csv", "to_parquet"}


def _compute_modules() -> list[Path]:
    return sorted(p for pkg in COMPUTE for p in (REPO / "siting" / pkg).glob("*.py"))


def test_import_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", _compute_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compute_module_names_no_file_reader(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                assert not any(name == m or name.startswith(m + ".") for m in FILE_MODULES), (path, name)
                assert not name.startswith(("siting.io.files", "siting.io.fetch", "siting.io.validate")), (path, name)
        if isinstance(node, ast.Call):
            fn = node.func
            called = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            assert called not in FILE_CALLS, f"{path.name}:{node.lineno} calls {called}"


def test_scoring_opens_no_file_once_inputs_are_loaded(layers, study, monkeypatch) -> None:
    """Run the whole compute of a score on loaded inputs with every file opener made to fail."""
    from siting.config import Candidates, load_profile
    from siting.decide import scoring, sites
    from siting.io.reference import Reference
    from siting.model import candidates, criteria, surplus

    study5 = study.model_copy(update={"candidates": Candidates(h3_resolution=5)})
    profile = load_profile("bitcoin_mining")
    ref = Reference.load(study5.region.iso3, study5.figures)
    layers.load()

    def run():
        cand = candidates.build(layers, study5.candidates)
        model = surplus.provincial_surplus(study5, layers.provinces, layers.plants, ref, zones=layers.zones)
        crit = criteria.compute(cand.cells, layers, study5, model.provinces, ref, zonal=model.zones)
        ev = scoring.evaluate(crit, profile)
        return ev.table, sites.build(ev.table, profile.sites, 5).table

    expected = run()  # numba's cache and lazy imports may read files the first time

    def refuse(*args, **kwargs):
        raise AssertionError(f"a file was opened during compute: {args[:1]}")

    import pandas as pd
    import rasterio

    for target, name in [
        (builtins, "open"),
        (io, "open"),
        (pathlib.Path, "open"),
        (pathlib.Path, "read_text"),
        (pathlib.Path, "read_bytes"),
        (pd, "read_csv"),
        (pd, "read_parquet"),
        (rasterio, "open"),
    ]:
        monkeypatch.setattr(target, name, refuse)
    table, site_table = run()
    assert table.equals(expected[0]) and site_table.equals(expected[1])
