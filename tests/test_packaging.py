"""pyproject.toml (pip) and environment.yml (conda-forge) declare the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"h3-py": "h3"}  # conda-forge package name -> PyPI name


def _split(spec: str) -> tuple[str, str]:
    name, version = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip()).groups()
    return name.lower(), version.replace(" ", "")


def test_pip_and_conda_dependencies_match() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = pyproject["optional-dependencies"]
    assert set(extras) == {"notebooks", "era5", "dev"}  # every extra is in environment.yml too
    pip = dict(_split(s) for s in pyproject["dependencies"] + [spec for extra in extras.values() for spec in extra])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {}
    for item in env["dependencies"]:
        if isinstance(item, str):
            name, version = _split(item)
            if name not in ("python", "pip"):
                conda[CONDA_NAMES.get(name, name)] = version
        else:  # the pip: section, for packages conda-forge lacks
            for spec in item.get("pip", []):
                if not spec.startswith("-"):
                    name, version = _split(spec)
                    conda[name] = version
    assert conda == pip


def test_console_command_is_declared() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert pyproject["scripts"]["siting"] == "siting.cli:main"
