"""Study and profile files → validated objects, with errors that name the file and the bad key.

A *study* says where and how: region, candidate grid, grid thresholds, surplus figures, ranking.
A *profile* says what matters for a kind of load (Bitcoin mining, AI data centre): criteria, their value
functions and weights. Both are YAML files under ``configs/``; every key is checked, unknown keys are
refused, and a planner can override any default from the study file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from siting._errors import ConfigError

CONFIG_DIR_ENV = "SITING_CONFIG_DIR"
_M = TypeVar("_M", bound=BaseModel)
WEIGHT_SUM_TOLERANCE = 1e-3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Strict):
    """The study area: an ISO 3166-1 alpha-3 code whose reference tables ship in ``siting/reference``."""

    iso3: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "PAK"
    name: str = "Pakistan"


class Candidates(_Strict):
    """How candidate locations are drawn and what is excluded."""

    h3_resolution: Annotated[int, Field(ge=3, le=10)] = 7
    max_elevation_m: Annotated[float, Field(gt=-500)] = 2500.0
    exclude_lakes: bool = True


class Grid(_Strict):
    """Thresholds on the power grid."""

    substation_min_kv: Annotated[float, Field(gt=0)] = 220.0
    line_min_kv: Annotated[float, Field(gt=0)] = 220.0
    infer_voltage_within_km: Annotated[float, Field(gt=0, le=20)] = 1.0


class Surplus(_Strict):
    """The first provincial surplus model: operating capacity minus a share of national peak demand.

    Defaults come from ``siting/reference/<ISO3>/`` (each value with its source); any can be replaced here.
    """

    national_peak_demand_mw: Annotated[float, Field(gt=0)] | None = None
    population: dict[str, Annotated[float, Field(ge=0)]] = {}
    capacity_mw: dict[str, Annotated[float, Field(ge=0)]] = {}
    surplus_mw: dict[str, float] = {}


class Ranking(_Strict):
    """How results are ranked and reported."""

    top_n: Annotated[int, Field(ge=1, le=100)] = 5


class Study(_Strict):
    """A study: region, profile and parameters. ``name`` names the output folder."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+$")]
    region: Region = Region()
    profile: str = "bitcoin_mining"
    candidates: Candidates = Candidates()
    grid: Grid = Grid()
    surplus: Surplus = Surplus()
    ranking: Ranking = Ranking()


class LinearValue(_Strict):
    """Linear value function: 0 at ``worst``, 1 at ``best``, clipped outside (benefit if best > worst)."""

    kind: Literal["linear"] = "linear"
    worst: float
    best: float

    @model_validator(mode="after")
    def _distinct(self) -> LinearValue:
        if self.worst == self.best:
            raise ValueError("worst and best must differ")
        return self


class Criterion(_Strict):
    """One criterion of a profile: its weight and value function."""

    weight: Annotated[float, Field(ge=0)]
    value: LinearValue
    why: str = ""


CRITERIA = (
    "surplus_mw",
    "dist_substation_km",
    "dist_line_220kv_km",
    "t2m_hottest_month_c",
    "t2m_annual_mean_c",
    "dist_connectivity_km",
)


class Profile(_Strict):
    """A load profile: which criteria count, how each is valued and weighted."""

    name: str
    description: str = ""
    criteria: dict[str, Criterion]

    @model_validator(mode="after")
    def _check(self) -> Profile:
        for key in self.criteria:
            if key not in CRITERIA:
                raise ValueError(f"criteria.{key}: unknown criterion; use one of {', '.join(CRITERIA)}")
        total = sum(c.weight for c in self.criteria.values())
        if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"criteria: weights sum to {total:.4g}, they must sum to 1")
        return self

    @property
    def weights(self) -> dict[str, float]:
        """Criterion weights by column name."""
        return {k: c.weight for k, c in self.criteria.items()}


def config_dir() -> Path:
    """Folder holding ``<profile>.yml`` and ``studies/<study>.yml``: ``$SITING_CONFIG_DIR`` or ``./configs``."""
    return Path(os.environ.get(CONFIG_DIR_ENV) or "configs")


def _read_yaml(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} does not exist; check the name or create it.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}; fix the syntax there.") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must contain a mapping of keys to values, not {type(doc).__name__}.")
    return doc


def _validate(model: type[_M], doc: dict, path: Path) -> _M:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        # an unknown key explains the rest (a misspelt key also shows up as a missing one): report it first
        err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling"
        raise ConfigError(f"{path}: {key}: {msg}.") from exc


def available_profiles() -> list[str]:
    """Names of the profiles in the config folder."""
    return sorted(p.stem for p in config_dir().glob("*.yml"))


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (``configs/<name>.yml``) or by path.

    Raises
    ------
    ConfigError
        If the profile does not exist or is invalid.

    """
    path = Path(name_or_path)
    if not path.suffix:
        path = config_dir() / f"{name_or_path}.yml"
        if not path.is_file():
            raise ConfigError(
                f"unknown profile '{name_or_path}'; use one of: {', '.join(available_profiles())} "
                f"(files in {config_dir()}/)."
            )
    return _validate(Profile, _read_yaml(path), path)


def load_study(name_or_path: str = "pakistan", profile: str | None = None) -> tuple[Study, Profile]:
    """Load a study by name (``configs/studies/<name>.yml``) or path, and its profile.

    Parameters
    ----------
    name_or_path
        Study name or YAML path.
    profile
        Profile name overriding the study's ``profile`` key.

    Returns
    -------
    (Study, Profile)

    """
    path = Path(name_or_path)
    if not path.suffix:
        path = config_dir() / "studies" / f"{name_or_path}.yml"
        if not path.is_file():
            known = sorted(p.stem for p in (config_dir() / "studies").glob("*.yml"))
            raise ConfigError(f"unknown study '{name_or_path}'; use one of: {', '.join(known)}.")
    study = _validate(Study, _read_yaml(path), path)
    if profile:
        study = study.model_copy(update={"profile": profile})
    return study, load_profile(study.profile)
