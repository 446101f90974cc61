"""Reference tables of a region pack (``<pack>/*.csv``, see :mod:`siting.io.regions`): provinces, national facts.

Each table carries a ``source`` column; a study config can override any value it uses. The packs Siting ships
live in ``siting/regions/<ISO3>/``; a planner's own are found by the study's ``region.path`` or
``$SITING_REGIONS_DIR``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from siting._errors import ConfigError
from siting.config import Study, Surplus
from siting.io.regions import RegionPack, find_pack


def _read_file(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise ConfigError(
            f"region pack {folder} has no reference table {name}; add it (see siting/regions/PAK/{name} for the "
            f"layout)."
        )
    try:
        return pd.read_csv(path, encoding="utf-8")
    except pd.errors.EmptyDataError as exc:
        raise ConfigError(f"{path} is empty; give it at least its header line (see siting/regions/PAK/).") from exc


def _read(iso3: str, name: str) -> pd.DataFrame:
    return _read_file(find_pack(iso3).folder, name)


def table(iso3: str, name: str) -> pd.DataFrame:
    """Any reference table of a region by file name, e.g. ``table("PAK", "availability.csv")``."""
    return _read(iso3, name)


def provinces(iso3: str) -> pd.DataFrame:
    """Province table: ``iso_3166_2, province, source_codes, source_names, population, ...``."""
    return _read(iso3, "provinces.csv")


def national(iso3: str) -> pd.DataFrame:
    """National facts indexed by ``key`` with ``value, unit, source, date``."""
    return _read(iso3, "national.csv").set_index("key")


def national_value(iso3: str, key: str) -> float:
    """One national figure, e.g. ``national_value("PAK", "peak_demand_mw")``."""
    table = national(iso3)
    if key not in table.index:
        raise ConfigError(f"{find_pack(iso3).folder}/national.csv has no row '{key}'; add it with its source.")
    return float(table.loc[key, "value"])


def connectivity_nodes(iso3: str) -> pd.DataFrame:
    """Internet exchanges and cable landings: ``name, kind, lat, lon, source``."""
    return _read(iso3, "connectivity_nodes.csv")


def figure(iso3: str, key: str, overrides: dict[str, float] | None = None) -> tuple[float, str]:
    """Return a national figure and its basis: the study's override (``figures:`` in the study file) or the default.

    Raises
    ------
    ConfigError
        If ``key`` is neither in the table nor overridden.

    """
    if overrides and key in overrides:
        return float(overrides[key]), "study config"
    table = national(iso3)
    if key not in table.index:
        raise ConfigError(f"{find_pack(iso3).folder}/national.csv has no row '{key}'; add it with its source.")
    return float(table.loc[key, "value"]), str(table.loc[key, "source"])


def check_figure_keys(iso3: str, overrides: dict[str, float]) -> None:
    """Refuse override keys that name no national figure."""
    known = national(iso3).index
    for key in overrides:
        if key not in known:
            raise ConfigError(f"figures.{key}: unknown figure; use one of {', '.join(known)}.")


def _name_key(name: object) -> str:
    """Compare names ignoring case, spaces, dots and hyphens, with ``&`` read as ``and``."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower().replace("&", "and"))


def _spellings(table: pd.DataFrame) -> dict[str, str]:
    """Every accepted spelling of each province (code, official name, source names, ``aliases``) → ISO code."""
    out: dict[str, str] = {}
    for row in table.fillna("").itertuples():
        spellings = [row.iso_3166_2, row.province, *str(row.source_codes).split("|"), *str(row.source_names).split("|")]
        spellings += str(getattr(row, "aliases", "")).split("|")
        for s in spellings:
            if s.strip():
                out[_name_key(s)] = row.iso_3166_2
    return out


def province_names(iso3: str) -> dict[str, str]:
    """Every accepted spelling of each province of a region → ISO code."""
    return _spellings(provinces(iso3))


def _code_in(table: pd.DataFrame, iso3: str, name: object, key: str | None) -> str:
    code = _spellings(table).get(_name_key(name))
    if code is None:
        valid = ", ".join(f"{c} ({n})" for c, n in zip(table["iso_3166_2"], table["province"], strict=True))
        raise ConfigError(
            f"{key or repr(str(name))}: unknown province code or name; use one of {valid} "
            f"(aliases are listed in the provinces.csv of region pack {iso3})."
        )
    return code


def province_code(iso3: str, name: object, key: str | None = None) -> str:
    """ISO 3166-2 code of a province given by code, official name or alias ("Sind", "NWFP", "KPK", "AJK", ...).

    Raises
    ------
    ConfigError
        Naming ``key`` (default: the name itself) and listing the valid codes and names, if ``name`` matches
        no province.

    """
    return _code_in(provinces(iso3), iso3, name, key)


class Reference:
    """Every reference table and national figure of a region, read once and passed to the compute.

    The stages build one per run (``Reference.load``) and hand it to ``siting.model`` and ``siting.decide``,
    which never open a file themselves. ``figure`` honours the study's ``figures:`` overrides.

    Parameters
    ----------
    iso3
        The region's code.
    tables
        Table name (file name, e.g. ``"national.csv"``) → table.
    overrides
        The study's ``figures:`` section.

    """

    def __init__(
        self,
        iso3: str,
        tables: dict[str, pd.DataFrame],
        overrides: dict[str, float] | None = None,
        folder: Path | None = None,
    ):
        self.iso3 = iso3
        self._tables = dict(tables)
        self.overrides = dict(overrides or {})
        self.folder = folder
        """The region pack the tables came from (None for tables built in memory)."""

    @classmethod
    def load(cls, pack: RegionPack | Path | str, overrides: dict[str, float] | None = None) -> Reference:
        """Read every table of a region pack and check the override keys.

        ``pack`` is a :class:`RegionPack`, a pack folder, or an ISO3 code found by :func:`find_pack`.
        """
        if isinstance(pack, str) and not Path(pack).is_dir():
            pack = find_pack(pack)
        elif not isinstance(pack, RegionPack):
            folder = Path(pack)
            pack = RegionPack(iso3=folder.name, folder=folder, meta={})
        ref = cls(pack.iso3, {n: _read_file(pack.folder, n) for n in pack.tables()}, overrides, pack.folder)
        for key in ref.overrides:
            if key not in ref.national.index:
                raise ConfigError(f"figures.{key}: unknown figure; use one of {', '.join(ref.national.index)}.")
        return ref

    @classmethod
    def for_study(cls, study: Study) -> Reference:
        """Load the reference of a study's region (its pack, see ``region.path``) with its ``figures:`` overrides."""
        return cls.load(find_pack(study.region.iso3, study.region.path), study.figures)

    @property
    def where(self) -> str:
        """The pack folder, for messages."""
        return str(self.folder) if self.folder else f"region pack {self.iso3}"

    def table(self, name: str) -> pd.DataFrame:
        """Return a copy of one table by file name, e.g. ``ref.table("availability.csv")``."""
        if name not in self._tables:
            raise ConfigError(
                f"region '{self.iso3}' has no reference table {name}; add {self.where}/{name} "
                f"(see siting/regions/PAK/{name} for the layout)."
            )
        return self._tables[name].copy()

    def holds(self, name: str) -> bool:
        """Whether the pack has a table by this name (perhaps a header only)."""
        return name in self._tables

    def has(self, name: str) -> bool:
        """Whether the pack has a table by this name with at least one row."""
        return name in self._tables and not self._tables[name].empty

    @property
    def national(self) -> pd.DataFrame:
        """National figures indexed by ``key`` with ``value, unit, source, date``."""
        return self.table("national.csv").set_index("key")

    @property
    def provinces(self) -> pd.DataFrame:
        """The province table."""
        return self.table("provinces.csv")

    def figure(self, key: str) -> tuple[float, str]:
        """Return a national figure and its basis: the study's override, or the table's value and source."""
        if key in self.overrides:
            return float(self.overrides[key]), "study config"
        return self.published(key)

    def published(self, key: str) -> tuple[float, str]:
        """Return a national figure's value and source as the pack's table gives it (the study's overrides aside).

        Raises
        ------
        ConfigError
            If the table has no row ``key``, or its value is left empty (naming where it is published).

        """
        nat = self.national
        if key not in nat.index:
            raise ConfigError(f"{self.where}/national.csv has no row '{key}'; add it with its source.")
        value = pd.to_numeric(nat.loc[key, "value"], errors="coerce")
        if pd.isna(value):
            row = nat.loc[key]
            hints = [row.get("where_published"), row.get("source")]
            hint = next((str(h) for h in hints if isinstance(h, str) and h.strip()), "its official publication")
            raise ConfigError(
                f"{self.where}/national.csv: {key} is not filled in; enter the figure with its source "
                f"(published in: {hint}), or set figures.{key} in the study."
            )
        return float(value), str(nat.loc[key, "source"])

    def province_code(self, name: object, key: str | None = None) -> str:
        """ISO 3166-2 code of a province by code, official name or alias (see :func:`province_code`)."""
        return _code_in(self.provinces, self.iso3, name, key)

    def value(self, key: str) -> float:
        """Return a national figure's value alone (override or default)."""
        return self.figure(key)[0]


def normalise_province_keys(cfg: Surplus, ref: Reference | str) -> Surplus:
    """Return the study's ``surplus`` section with provinces named by alias ("Sind", "KPK") as ISO codes.

    Names and aliases come from the region pack's ``provinces.csv``; an unknown one is refused with
    the list of valid codes and names, and two keys naming the same province are refused.
    """
    ref = ref if isinstance(ref, Reference) else Reference.load(ref)
    code_of = ref.province_code
    update: dict[str, object] = {}
    for key in ("population", "capacity_mw", "surplus_mw"):
        out: dict[str, object] = {}
        given: dict[str, str] = {}
        for name, v in getattr(cfg, key).items():
            code = code_of(name, f"surplus.{key}.{name}")
            if code in out:
                raise ConfigError(f"surplus.{key}: {given[code]!r} and {name!r} both name {code}; keep one of them.")
            out[code], given[code] = v, name
        update[key] = out
    if cfg.south_zone is not None:
        update["south_zone"] = [code_of(n, f"surplus.south_zone.{n}") for n in cfg.south_zone]
    return cfg.model_copy(update=update)
