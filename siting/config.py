"""Study and profile files → validated objects, with errors that name the file and the bad key.

A *study* says where and how: region, candidate grid, grid thresholds, surplus figures, ranking.
A *profile* says what matters for a kind of load (Bitcoin mining, AI data centre): criteria, their value
functions and weights. Both are YAML files; every key is checked, unknown keys are
refused, and a planner can override any default from the study file. The defaults ship with the package
(``siting/defaults/profiles/``, ``siting/defaults/studies/``); a file of the same name in ``./configs/`` (or
``$SITING_CONFIG_DIR``) takes precedence, so a planner edits a copy there and never the installed package.
"""

from __future__ import annotations

import itertools
import os
import re
import stat
from dataclasses import dataclass, fields
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from siting._errors import ConfigError
from siting.kernels import mcda

CONFIG_DIR_ENV = "SITING_CONFIG_DIR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")  # as siting.io.safe.path_name, which checks every output path
RESERVED_NAMES = frozenset({"layers", "raw", "processed", "con", "prn", "aux", "nul"})
MAX_NAME_LENGTH = 100
MAX_CONFIG_BYTES = 1 << 20  # a study or profile is a few kB; anything this large is not one
_M = TypeVar("_M", bound=BaseModel)
WEIGHT_SUM_TOLERANCE = 1e-3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # .inf and .nan are refused


class Region(_Strict):
    """The study area: an ISO 3166-1 alpha-3 code and the region pack holding its tables (``siting.io.regions``).

    ``path`` is a pack folder (holding ``region.yml``) or a folder of packs (``<path>/<ISO3>/``), relative to the
    working directory; without it the pack is found in ``$SITING_REGIONS_DIR`` or among those shipped with siting.
    """

    iso3: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "PAK"
    name: str = "Pakistan"
    path: str | None = None


class Exclusion(_Strict):
    """One declared exclusion: cell centres on ``layer`` (and, for a grid, on one of ``classes``) are removed.

    ``flood_2022`` is a polygon layer (no classes); ``landcover`` is the MODIS IGBP grid and needs ``classes``
    (0 water, 13 urban and built-up, 12 croplands, 14 cropland/natural mosaic). ``label`` names the entry in
    the counts of removed candidates; ``enabled: false`` keeps an entry in the file without applying it.
    """

    layer: Literal["flood_2022", "landcover"]
    classes: list[Annotated[int, Field(ge=0, le=16)]] | None = None
    action: Literal["exclude"] = "exclude"
    label: str | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _classes(self) -> Exclusion:
        if self.layer == "landcover" and not self.classes:
            raise ValueError("classes: required for layer landcover (IGBP classes, such as [13] for built-up)")
        if self.layer != "landcover" and self.classes is not None:
            raise ValueError(f"classes: only for layer landcover, not {self.layer}; remove it")
        return self

    @property
    def name(self) -> str:
        """The label under which the count of removed candidates is reported."""
        if self.layer == "flood_2022":
            what = self.label or "2022 flood extent"
            return f"{what} (UNOSAT, permanent water removed)"
        classes = ", ".join(str(c) for c in self.classes or [])
        return f"land cover: {self.label or 'classes'} (MODIS IGBP {classes})"


DEFAULT_EXCLUSIONS = (
    Exclusion(layer="flood_2022"),
    Exclusion(layer="landcover", classes=[13], label="built-up"),
    Exclusion(layer="landcover", classes=[0], label="water"),
    Exclusion(layer="landcover", classes=[12, 14], label="cropland", enabled=False),
)


class Candidates(_Strict):
    """How candidate locations are drawn and what is excluded."""

    h3_resolution: Annotated[int, Field(ge=3, le=10)] = 7
    max_elevation_m: Annotated[float, Field(gt=-500)] | None = 2500.0
    """Cells above this elevation are excluded; ``null`` excludes none."""
    exclude_lakes: bool = True
    exclusions: list[Exclusion] = list(DEFAULT_EXCLUSIONS)
    """Declared exclusions applied after lakes and elevation, in order; each reports how many it removed."""
    provinces: Annotated[list[str], Field(min_length=1)] | None = None
    """Only cells in these provinces (ISO 3166-2 codes or names from the region pack); default the whole region."""


class Grid(_Strict):
    """Thresholds on the power grid."""

    substation_min_kv: Annotated[float, Field(gt=0)] = 220.0
    line_min_kv: Annotated[float, Field(gt=0)] = 220.0
    """Lines at or above this voltage are drawn on the maps (criteria measure each class separately)."""
    infer_voltage_within_km: Annotated[float, Field(gt=0, le=20)] = 1.0


_Monthly = Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=12, max_length=12)]
_MonthlyFraction = Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=12, max_length=12)]


class Surplus(_Strict):
    """The provincial surplus model's figures (see ``siting.model.surplus``).

    Defaults come from the region pack (``siting/regions/<ISO3>/``, each value with its source); any can be
    replaced here, provinces keyed by ISO 3166-2 code, fuels among coal, oil_gas, hydro, nuclear, bioenergy, wind,
    solar.
    """

    national_peak_demand_mw: Annotated[float, Field(gt=0)] | None = None
    monthly_peak_demand_mw: _Monthly | None = None
    population: dict[str, Annotated[float, Field(ge=0)]] = {}
    capacity_mw: dict[str, dict[str, Annotated[float, Field(ge=0)]]] = {}
    availability: dict[str, _MonthlyFraction] = {}
    south_zone: list[str] | None = None
    south_north_transfer_mw: Annotated[float, Field(ge=0)] | None = None
    surplus_mw: dict[str, float] = {}
    # the zonal model (siting.model.zones); keys are checked against the reference tables
    zones_file: str | None = None
    """A GeoJSON/GPKG with a ``zone`` column replacing the zones layer (zone names as in zones.csv)."""
    plant_counts: dict[str, bool] = {}
    """Plant name (as in the plants layer) → whether it counts, replacing its plant_status.csv entry."""
    interface_limits_mw: dict[str, Annotated[float, Field(ge=0)]] = {}
    """Corridor (interfaces.csv ``corridor``) → transfer limit in MW."""
    zone_peak_mw: dict[str, _Monthly] = {}
    """Zone → 12 monthly peaks (MW), replacing zone_demand.csv."""
    zone_average_mw: dict[str, _Monthly] = {}
    """Zone → 12 monthly averages (MW), replacing zone_demand.csv."""
    zone_extra_demand_mw: dict[str, Annotated[float, Field(ge=0)]] = {}
    """Zone → demand added to every hour of every month (a study of committed new load)."""
    idle_radius_km: Annotated[float, Field(gt=0)] | None = None
    """Distance within which an idle contracted plant counts for ``idle_capacity_mw`` (default national.csv)."""


class Ranking(_Strict):
    """How results are ranked and reported."""

    top_n: Annotated[int, Field(ge=1, le=100)] = 5


@dataclass(frozen=True)
class CoolingParams:
    """Coefficients of the cooling criteria; each is a row of the region pack's ``cooling_coefficients.csv``.

    The reference table gives every default with its source (``siting.model.cooling.cooling_params`` reads it
    at stage time); a study's ``cooling:`` section replaces any of them. The code defaults below are the PAK
    table's values, kept only so that a bare ``CoolingParams()`` works in isolation (the table is authoritative).

    Attributes
    ----------
    lapse_c_per_km
        Temperature lapse rate (°C per km of height), ICAO standard atmosphere 6.5.
    cdd_base_c
        Base temperature of the cooling degree days (°C); the column name stays ``cdd_cdays``.
    supply_air_max_c, dewpoint_max_c
        ASHRAE TC 9.9 recommended envelope: dry bulb up to 27 °C, dew point up to 15 °C.
    hourly_spread_c, dewpoint_spread_c
        Half-width of the uniform spread of hourly dry bulb and dew point about the monthly mean (assumptions).
    humidity_shape
        Share of the GLDAS humidity standard deviation given to the seasonal cycle (0: constant dew point).
    chiller_cop_35c, chiller_cop_slope_per_c
        Air-cooled chiller COP at 35 °C ambient and its change per °C (Advantage Engineering figures).
    makeup_air_kg_s_per_kw
        Outdoor (make-up) air that must be dehumidified while the dew point is above the envelope (assumption).
    power_loss_fraction, fan_fraction, misc_fraction
        Fixed overheads per unit of IT power: power chain losses, air-moving fans, lighting and other.
    miner_derate_start_c, miner_shutdown_c
        Air-cooled ASIC intake: full output up to 35 °C, shut down at 40 °C (Compass Mining).

    """

    lapse_c_per_km: float = 6.5
    cdd_base_c: float = 18.0
    supply_air_max_c: float = 27.0
    dewpoint_max_c: float = 15.0
    hourly_spread_c: float = 8.0
    dewpoint_spread_c: float = 3.0
    humidity_shape: float = 1.0
    chiller_cop_35c: float = 3.31
    chiller_cop_slope_per_c: float = -0.122
    makeup_air_kg_s_per_kw: float = 0.0017
    power_loss_fraction: float = 0.05
    fan_fraction: float = 0.03
    misc_fraction: float = 0.02
    miner_derate_start_c: float = 35.0
    miner_shutdown_c: float = 40.0

    def __post_init__(self) -> None:
        for name in ("hourly_spread_c", "dewpoint_spread_c", "chiller_cop_35c"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"cooling.{name} must be positive, not {getattr(self, name)}.")
        for name in ("lapse_c_per_km", "humidity_shape", "makeup_air_kg_s_per_kw", *_OVERHEADS):
            if getattr(self, name) < 0:
                raise ConfigError(f"cooling.{name} must not be negative, not {getattr(self, name)}.")
        if self.chiller_cop_slope_per_c > 0:
            raise ConfigError("cooling.chiller_cop_slope_per_c must not be positive (hotter air, worse chiller).")
        if self.miner_shutdown_c <= self.miner_derate_start_c:
            raise ConfigError("cooling.miner_shutdown_c must be above cooling.miner_derate_start_c.")

    def as_dict(self) -> dict[str, float]:
        """Parameters by name (for provenance)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def pue_floor(self) -> float:
        """PUE with free cooling all year: 1 + the fixed overheads."""
        return 1.0 + self.power_loss_fraction + self.fan_fraction + self.misc_fraction


_OVERHEADS = ("power_loss_fraction", "fan_fraction", "misc_fraction")


class Study(_Strict):
    """A study: region, profile and parameters. ``name`` names the output folder."""

    name: str
    region: Region = Region()
    profile: str = "bitcoin_mining"
    candidates: Candidates = Candidates()
    grid: Grid = Grid()
    surplus: Surplus = Surplus()
    ranking: Ranking = Ranking()
    cooling: dict[str, float] = {}
    """Cooling model parameters (``siting.model.cooling.CoolingParams``), e.g. ``lapse_c_per_km: 6.0``."""
    figures: dict[str, float] = {}
    """Replace any figure of the region pack's ``national.csv`` by key, e.g. ``line_route_factor: 1.3``."""

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name) or len(name) > MAX_NAME_LENGTH:
            raise ValueError(
                f"{name!r} cannot name the output folder; use letters, digits, '_' and '-' only (starting with a "
                f"letter or digit, at most {MAX_NAME_LENGTH} characters)"
            )
        if name.lower() in RESERVED_NAMES:
            raise ValueError(f"{name!r} is reserved (siting uses data/processed/{name.lower()} itself); choose another")
        return name

    @model_validator(mode="after")
    def _check_cooling(self) -> Study:
        known = [f.name for f in fields(CoolingParams)]
        for key in self.cooling:
            if key not in known:
                raise ValueError(f"cooling.{key}: unknown parameter; use one of {', '.join(known)}")
        try:
            CoolingParams(**self.cooling)
        except ConfigError as exc:
            raise ValueError(f"cooling: {exc}".rstrip(".")) from exc
        return self


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

    def describe(self) -> str:
        """One line for a legend or popup."""
        return f"0 at {self.worst:g}, 1 at {self.best:g}, linear between"


class PiecewiseValue(_Strict):
    """Piecewise-linear value function through ``points`` ``[[x, value], ...]``, flat beyond the ends.

    ``x`` strictly increasing, each value in 0..1; e.g. ``[[0, 1], [20, 0.8], [50, 0]]`` for a distance.
    """

    kind: Literal["piecewise"]
    points: Annotated[list[tuple[float, Annotated[float, Field(ge=0, le=1)]]], Field(min_length=2)]

    @model_validator(mode="after")
    def _increasing(self) -> PiecewiseValue:
        xs = [x for x, _ in self.points]
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise ValueError("the x of the points must increase strictly")
        return self

    def describe(self) -> str:
        """One line for a legend or popup."""
        return "piecewise: " + ", ".join(f"{v:g} at {x:g}" for x, v in self.points)


class SigmoidValue(_Strict):
    """Logistic value function: 0.5 at ``midpoint``, 0.95 at ``best`` (a cost if best < midpoint)."""

    kind: Literal["sigmoid"]
    midpoint: float
    best: float

    @model_validator(mode="after")
    def _distinct(self) -> SigmoidValue:
        if self.midpoint == self.best:
            raise ValueError("midpoint and best must differ")
        return self

    def describe(self) -> str:
        """One line for a legend or popup."""
        return f"S-curve: 0.5 at {self.midpoint:g}, 0.95 at {self.best:g}"


class ThresholdValue(_Strict):
    """Step value function: ``above`` where the value is at or above ``at``, ``below`` elsewhere (each 0..1)."""

    kind: Literal["threshold"]
    at: float
    below: Annotated[float, Field(ge=0, le=1)]
    above: Annotated[float, Field(ge=0, le=1)]

    def describe(self) -> str:
        """One line for a legend or popup."""
        return f"{self.below:g} below {self.at:g}, {self.above:g} at or above"


class CategoricalValue(_Strict):
    """Categorical value function: ``values`` maps each category (e.g. a voltage, a name) to 0..1.

    Categories not listed get ``default``; numeric keys match numerically (``500`` matches 500.0 kV).
    """

    kind: Literal["categorical"]
    values: Annotated[dict[str, Annotated[float, Field(ge=0, le=1)]], Field(min_length=1)]
    default: Annotated[float, Field(ge=0, le=1)] = 0.0

    def describe(self) -> str:
        """One line for a legend or popup."""
        return ", ".join(f"{k}: {v:g}" for k, v in self.values.items()) + f", else {self.default:g}"


VALUE_KINDS = ("linear", "piecewise", "sigmoid", "threshold", "categorical")


def _value_kind(v: object) -> str:
    kind = v.get("kind", "linear") if isinstance(v, dict) else getattr(v, "kind", "linear")
    return kind if isinstance(kind, str) else repr(kind)


ValueFunction = Annotated[
    Annotated[LinearValue, Tag("linear")]
    | Annotated[PiecewiseValue, Tag("piecewise")]
    | Annotated[SigmoidValue, Tag("sigmoid")]
    | Annotated[ThresholdValue, Tag("threshold")]
    | Annotated[CategoricalValue, Tag("categorical")],
    Discriminator(
        _value_kind,
        custom_error_type="value_kind",
        custom_error_message=f"kind must be one of {', '.join(VALUE_KINDS)}",
    ),
]


class Criterion(_Strict):
    """One criterion of a profile: its weight (for ``weights.method: direct``) and value function."""

    weight: Annotated[float, Field(ge=0)] | None = None
    value: ValueFunction
    why: str = ""


CRITERIA = (  # numeric columns of siting.model.criteria a profile may weigh (descriptions in siting/fields.py)
    "surplus_mw",
    "firm_surplus_mw",
    "surplus_energy_gwh",
    "hosting_firm_mw",
    "hosting_interruptible_1pct_mw",
    "hosting_interruptible_5pct_mw",
    "run_share_100mw_block",
    "hosting_energy_gwh",
    "idle_capacity_mw",
    "dist_substation_km",
    "substation_headroom_mw",
    "connection_cost_musd",
    "dist_substation_132kv_km",
    "dist_substation_220kv_km",
    "dist_substation_500kv_km",
    "dist_line_132kv_km",
    "dist_line_220kv_km",
    "dist_line_500kv_km",
    "t2m_hottest_month_c",
    "t2m_annual_mean_c",
    "cdd_cdays",
    "pue",
    "dew_point_annual_c",
    "economiser_hours_share",
    "miner_derate_share",
    "coast_dist_km",
    "cooling_mwh_per_mw_it_year",
    "cooling_cost_kusd_per_mw_it_year",
    "dist_connectivity_km",
    "dist_ixp_km",
    "dist_cable_landing_km",
    "dist_fibre_route_km",
    "latency_ms",
    "flooded_2022",
    "dist_active_fault_km",
    "quakes_m55_within_50km",
)


class Weights(_Strict):
    """How criterion weights are set.

    ``direct``: each criterion's ``weight`` (they sum to 1). ``ahp``: from ``pairwise`` judgements on Saaty's
    1/9..9 scale, ``pairwise: {a: {b: 3}}`` meaning "a is 3 times as important as b", one judgement per pair;
    refused when the consistency ratio exceeds ``max_cr``. ``entropy``: from how much the candidates differ on
    each criterion's value (Shannon entropy), computed at scoring time.
    """

    method: Literal["direct", "ahp", "entropy"] = "direct"
    pairwise: dict[str, dict[str, Annotated[float, Field(ge=1 / 9 - 1e-9, le=9)]]] = {}
    max_cr: Annotated[float, Field(gt=0, le=1)] = 0.10


class Constraint(_Strict):
    """A hard constraint on one column: candidates outside it are removed before ranking."""

    min: float | None = None
    max: float | None = None
    one_of: list[str | float] | None = None
    none_of: list[str | float] | None = None

    @model_validator(mode="after")
    def _some(self) -> Constraint:
        if self.min is None and self.max is None and self.one_of is None and self.none_of is None:
            raise ValueError("give at least one of min, max, one_of, none_of")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class SiteRules(_Strict):
    """How high-scoring adjacent cells merge into sites, and how sites are spaced."""

    quantile: Annotated[float, Field(gt=0, lt=1)] = 0.95
    """A cell joins a site if its score is at or above this quantile of its province's scores ..."""
    min_score: Annotated[float, Field(ge=0, le=100)] = 0.0
    """... and at or above this absolute score."""
    min_spacing_km: Annotated[float, Field(ge=0)] = 25.0
    """Top sites of a province are at least this far apart (great circle between centroids)."""
    max_area_km2: Annotated[float, Field(gt=0)] = 25.0
    """A site grows from its best cell, best neighbour first, up to this area (always at least that cell); the
    rest of its connected high-scoring cells is reported as its zone."""


class AllocationRules(_Strict):
    """Defaults of ``siting allocate``: how much capacity, in what blocks, under which caps."""

    total_mw: Annotated[float, Field(gt=0)] = 2000.0
    site_mw: Annotated[float, Field(gt=0)] = 100.0
    max_blocks_per_site: Annotated[int, Field(ge=1)] = 3
    headroom_mw_by_kv: dict[str, Annotated[float, Field(ge=0)]] = {}
    """Explicit override, empty by default: free headroom (MW) of every grid station of a voltage class
    (``{"220": 85}``), replacing for that class the ``substation_headroom_mw`` of the scores
    (:mod:`siting.model.headroom`); the allocation report labels it as a profile override."""
    curtailment_share: Annotated[float, Field(ge=0, lt=0.5)] = 0.05
    """Interruptible load only: the placed MW must fit in every month at the demand exceeded in this share of
    the month's hours (so it is curtailed at most this share of the hours); firm load fits at the peak."""


AGGREGATION_METHODS = ("weighted_sum", "weighted_product", "topsis")


class Profile(_Strict):
    """A load profile: which criteria count, how each is valued and weighted, and hard constraints."""

    name: str
    description: str = ""
    load: Literal["interruptible", "firm"] = "firm"
    """``interruptible`` (can stop at the peak: measured by curtailment-limited hosting and energy) or ``firm``
    (measured by summer-peak hosting after the reserve margin); the allocation caps each by its own measure."""
    aggregation: Literal["weighted_sum", "weighted_product", "topsis"] = "weighted_sum"
    weights_: Weights = Field(Weights(), alias="weights")
    criteria: dict[str, Criterion]
    constraints: dict[str, Constraint] = {}
    sites: SiteRules = SiteRules()
    allocation: AllocationRules = AllocationRules()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check(self) -> Profile:
        for key in self.criteria:
            if key not in CRITERIA:
                raise ValueError(f"criteria.{key}: unknown criterion; use one of {', '.join(CRITERIA)}")
        method = self.weights_.method
        if method == "direct":
            for key, c in self.criteria.items():
                if c.weight is None:
                    raise ValueError(f"criteria.{key}.weight: required when weights.method is direct")
            total = sum(c.weight or 0.0 for c in self.criteria.values())
            if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
                raise ValueError(f"criteria: weights sum to {total:.4g}, they must sum to 1")
        else:
            for key, c in self.criteria.items():
                if c.weight is not None:
                    raise ValueError(
                        f"criteria.{key}.weight: weights.method {method} sets the weights; remove this weight"
                    )
        if method != "ahp" and self.weights_.pairwise:
            raise ValueError("weights.pairwise: only used with weights.method ahp; remove it or set method: ahp")
        if method == "ahp":
            self.ahp()  # raises on a missing pair or an inconsistent matrix
        return self

    def ahp(self) -> mcda.AHPResult:
        """AHP weights and consistency of ``weights.pairwise`` (raises ValueError naming the bad judgement)."""
        names = list(self.criteria)
        try:
            matrix = mcda.pairwise_matrix(names, self.weights_.pairwise)
        except ValueError as exc:
            raise ValueError(f"weights.pairwise.{exc}") from None
        res = mcda.ahp(matrix)
        if res.cr > self.weights_.max_cr:
            i, j = res.worst_pair
            raise ValueError(
                f"weights.pairwise: consistency ratio {res.cr:.3f} exceeds {self.weights_.max_cr:g}; the most "
                f"inconsistent judgement is {names[i]}.{names[j]} = {matrix[i, j]:.3g} where the other judgements "
                f"imply about {res.worst_implied:.2g}; revise it"
            )
        return res

    @property
    def weights(self) -> dict[str, float]:
        """Criterion weights by column name (direct or AHP; entropy weights depend on the data, see scoring)."""
        if self.weights_.method == "direct":
            return {k: float(c.weight or 0.0) for k, c in self.criteria.items()}
        if self.weights_.method == "ahp":
            return dict(zip(self.criteria, self.ahp().weights.tolist(), strict=True))
        raise ValueError("entropy weights depend on the candidates; use siting.decide.scoring.resolve_weights")


def config_dir() -> Path:
    """Return the planner's override folder: ``$SITING_CONFIG_DIR`` or ``./configs`` (it need not exist)."""
    return Path(os.environ.get(CONFIG_DIR_ENV) or "configs")


def defaults_dir() -> Path:
    """Return the packaged defaults, ``siting/defaults/`` with ``profiles/`` and ``studies/`` (in the wheel)."""
    return Path(str(files("siting").joinpath("defaults")))


def profile_dirs() -> list[Path]:
    """Folders searched for ``<profile>.yml``, first match wins: the override folder, then the packaged defaults."""
    return [config_dir(), defaults_dir() / "profiles"]


def study_dirs() -> list[Path]:
    """Folders searched for ``<study>.yml``, first match wins: ``<override>/studies``, then the packaged defaults."""
    return [config_dir() / "studies", defaults_dir() / "studies"]


def _find(name: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        if (folder / f"{name}.yml").is_file():
            return folder / f"{name}.yml"
    return None


def _known(folders: list[Path]) -> list[str]:
    return sorted({p.stem for folder in folders if folder.is_dir() for p in folder.glob("*.yml")})


def _searched(folders: list[Path]) -> str:
    return ", ".join(f"{f}/" for f in folders)


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key repeated in one mapping (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if first is not None:
                raise ConfigError(f"repeats the key {key!r} (line {first} and line {line}); keep one of them")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _yaml_text(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} does not exist; check the name or create it.") from exc
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{path} is not a regular file (a folder, pipe or device?); give the path of a YAML file.")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_CONFIG_BYTES >> 20} MB, too large for a study or profile.")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig") if not raw.startswith((b"\xff\xfe", b"\xfe\xff")) else raw.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {exc.start + 1} is invalid); save it as UTF-8 and try again."
        ) from exc


def _read_yaml(path: Path) -> dict:
    text = _yaml_text(path)
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no tags run
    except ConfigError as exc:
        raise ConfigError(f"{path} {exc}.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}; fix the syntax there.") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path} is nested too deeply to be a study or profile; check its structure.") from exc
    if doc is None:
        raise ConfigError(
            f"{path} is empty; write at least the key `name:` (see siting/defaults/studies/pakistan.yml)."
        )
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must contain a mapping of keys to values, not a {type(doc).__name__}.")
    return doc


def _validate(model: type[_M], doc: dict, path: Path) -> _M:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        # an unknown key explains the rest (a misspelt key also shows up as a missing one): report it first
        err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        loc = [p for i, p in enumerate(err["loc"]) if not (i and err["loc"][i - 1] == "value" and p in VALUE_KINDS)]
        key = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if not key:  # a whole-model check names its key at the start of its message
            key, _, rest = msg.partition(": ")
            key, msg = (key, rest) if rest and " " not in key else ("(top level)", msg)
        if err["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling"
        raise ConfigError(f"{path}: {key}: {msg}.") from exc


def available_profiles() -> list[str]:
    """Names of the profiles in the override folder and the packaged defaults."""
    return _known(profile_dirs())


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (``configs/<name>.yml``) or by path.

    Raises
    ------
    ConfigError
        If the profile does not exist or is invalid.

    """
    path = Path(name_or_path)
    if not path.suffix:
        found = _find(name_or_path, profile_dirs())
        if found is None:
            raise ConfigError(
                f"unknown profile '{name_or_path}'; use one of: {', '.join(available_profiles())} "
                f"(searched {_searched(profile_dirs())})."
            )
        path = found
    return _validate(Profile, _read_yaml(path), path)


def study_path(name_or_path: str) -> Path:
    """Return the file of a study given by name (``configs/studies/<name>.yml``) or path."""
    path = Path(name_or_path)
    if not path.suffix:
        found = _find(name_or_path, study_dirs())
        if found is None:
            known = _known(study_dirs())
            raise ConfigError(
                f"unknown study '{name_or_path}'; use one of: {', '.join(known) or '(none)'} "
                f"(searched {_searched(study_dirs())})."
            )
        path = found
    return path


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
    path = study_path(name_or_path)
    study = _validate(Study, _read_yaml(path), path)
    if profile:
        study = study.model_copy(update={"profile": profile})
    return study, load_profile(study.profile)
