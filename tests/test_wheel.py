"""A wheel install works: build the wheel, pip-install it into a fresh venv, score a study from an empty folder.

No network: the build backend comes from the current environment (setuptools >= 77) or from a local wheelhouse
(``$SITING_WHEELHOUSE``, e.g. ``pip download --no-deps -d DIR "setuptools>=77" wheel packaging`` once); the
runtime dependencies come from the current environment's site-packages, appended to the fresh venv's path
(its own ``siting`` is the wheel's). Slow (a minute or two): ``pytest -m "not slow"`` leaves it out.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _backend_args() -> list[str]:
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        major = 0
    if major >= 77:
        return ["--no-build-isolation"]
    house = os.environ.get("SITING_WHEELHOUSE")
    if house and any(Path(house).glob("setuptools-*.whl")):
        return ["--no-index", "--find-links", house]
    pytest.skip("no offline build backend: set SITING_WHEELHOUSE to a folder holding setuptools>=77 and wheel wheels")


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    shutil.copytree(REPO / "siting", src / "siting", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    dist = tmp / "dist"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *_backend_args(), "-w", str(dist), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = dist.glob("siting-*.whl")
    return wheel


def _venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    (purelib,) = venv.glob("lib/python*/site-packages")
    # the dependencies of this environment, after the venv's own site-packages (the wheel's siting wins)
    (purelib / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index"]
    proc = subprocess.run([*cmd, "--quiet", str(wheel)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return venv


def test_wheel_carries_the_defaults_and_region_packs(tmp_path: Path) -> None:
    names = zipfile.ZipFile(_build_wheel(tmp_path)).namelist()
    assert "siting/defaults/studies/pakistan.yml" in names
    assert "siting/defaults/profiles/bitcoin_mining.yml" in names
    assert "siting/io/catalog.yml" in names
    assert any(n.endswith("PAK/national.csv") for n in names)


def test_wheel_install_scores_the_default_study_from_an_empty_folder(tmp_path: Path, mirror: Path) -> None:
    venv = _venv(tmp_path, _build_wheel(tmp_path))
    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SITING_CONFIG_DIR", "SITING_DATA_DIR")}
    env["SITING_DATA_MIRROR"] = str(mirror)
    siting = str(venv / "bin" / "siting")
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import siting; print(siting.__file__)"],
        capture_output=True, text=True, env=env, cwd=work, check=True,
    )  # fmt: skip
    assert str(venv) in where.stdout, where.stdout  # the wheel's copy, not the repository's
    # a planner's own study in ./configs/studies (resolution 5, fast), naming the packaged profile
    (work / "configs" / "studies").mkdir(parents=True)
    (work / "configs" / "studies" / "quick.yml").write_text("name: quick\ncandidates:\n  h3_resolution: 5\n")
    for args in (["fetch"], ["prepare"], ["score", "--study", "quick"]):
        proc = subprocess.run([siting, *args], capture_output=True, text=True, env=env, cwd=work, timeout=900)
        assert proc.returncode == 0, f"siting {' '.join(args)}: {proc.stderr}"
    assert (work / "data" / "processed" / "quick" / "bitcoin_mining" / "scores.parquet").is_file()
    proc = subprocess.run([siting, "prepare", "--study", "nowhere"], capture_output=True, text=True, env=env, cwd=work)
    assert proc.returncode != 0
    assert "unknown study 'nowhere'; use one of: pakistan, quick" in proc.stderr
    assert "searched configs/studies/" in proc.stderr and "defaults/studies/" in proc.stderr
