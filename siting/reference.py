"""Reference tables shipped with siting (``siting/reference/<ISO3>/``): provinces, national facts, nodes.

Each table carries a ``source`` column; a study config can override any value it uses.
"""

from __future__ import annotations

import re
from importlib.resources import files

import pandas as pd

from siting._errors import ConfigError


def _read(iso3: str, name: str) -> pd.DataFrame:
    res = files("siting").joinpath("reference", iso3, name)
    if not res.is_file():
        raise ConfigError(
            f"region '{iso3}' has no reference table {name}; add siting/reference/{iso3}/{name} "
            f"(see siting/reference/PAK/ for the layout)."
        )
    with res.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


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
        raise ConfigError(f"siting/reference/{iso3}/national.csv has no row '{key}'; add it with its source.")
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
        raise ConfigError(f"siting/reference/{iso3}/national.csv has no row '{key}'; add it with its source.")
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


def province_names(iso3: str) -> dict[str, str]:
    """Every accepted spelling of each province (code, official name, source names, ``aliases``) → ISO code."""
    out: dict[str, str] = {}
    for row in provinces(iso3).fillna("").itertuples():
        spellings = [row.iso_3166_2, row.province, *str(row.source_codes).split("|"), *str(row.source_names).split("|")]
        spellings += str(getattr(row, "aliases", "")).split("|")
        for s in spellings:
            if s.strip():
                out[_name_key(s)] = row.iso_3166_2
    return out


def province_code(iso3: str, name: object, key: str | None = None) -> str:
    """ISO 3166-2 code of a province given by code, official name or alias ("Sind", "NWFP", "KPK", "AJK", ...).

    Raises
    ------
    ConfigError
        Naming ``key`` (default: the name itself) and listing the valid codes and names, if ``name`` matches
        no province.

    """
    code = province_names(iso3).get(_name_key(name))
    if code is None:
        table = provinces(iso3)
        valid = ", ".join(f"{c} ({n})" for c, n in zip(table["iso_3166_2"], table["province"], strict=True))
        raise ConfigError(
            f"{key or repr(str(name))}: unknown province code or name; use one of {valid} "
            f"(aliases are listed in siting/reference/{iso3}/provinces.csv)."
        )
    return code
