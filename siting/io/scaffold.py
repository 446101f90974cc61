"""``siting region new ISO3``: scaffold a region pack for any country, and a study that uses it.

The admin-1 table comes from Natural Earth (the official zip or any extract of it) with ISO 3166-2 codes,
current names and an ``aliases`` column; ``national.csv`` lists every figure the surplus model reads with the
value left empty and a ``where_published`` hint, so each figure a planner has not filled in is named by a
one-sentence message when it is needed. Method constants (power factor, route factors, ...) and the cooling
coefficients are copied from the Pakistan pack with their sources; every other table gets its header only.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml

from siting._errors import ConfigError, DataError
from siting.io.files import atomic_path
from siting.io.regions import LOCK_FILE, REGION_FILE, WHOLE_REGION_ZONE, packaged_dir

NE_ADMIN1_ZIP = "ne_10m_admin_1_states_provinces.zip"
NE_ADMIN1_URL = "https://naciscdn.org/naturalearth/10m/cultural/" + NE_ADMIN1_ZIP
TEMPLATE = "PAK"
COPIED_TABLES = ("cooling_coefficients.csv", "substation_kind_rules.csv")
"""Tables of physics and method, not of a country: copied with their sources."""
METHOD_FIGURES = (
    "power_factor",
    "line_route_factor",
    "fibre_route_factor",
    "fibre_refractive_index",
    "firm_reconciliation_tolerance",
    "idle_radius_km",
)
"""Rows of national.csv that are method constants: copied with their values and sources."""
NO_BOUND = ("coast_sea_max_lat", "coast_sea_max_lon")
"""Rows whose neutral value is no bound (``inf``): the coast proxy counts every DEM sea cell until one is set."""


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def read_admin1(source: Path, iso3: str) -> gpd.GeoDataFrame:
    """Admin-1 units of one country from a Natural Earth admin-1 file (the official zip, a shapefile or an extract).

    Raises
    ------
    DataError
        If the file cannot be read or holds no unit of ``iso3``.

    """
    uri = f"zip://{source}" if source.suffix == ".zip" else str(source)
    try:
        units = gpd.read_file(uri)
    except Exception as exc:  # pyogrio raises its own errors for unreadable files
        raise DataError(
            f"{source} is not a readable Natural Earth admin-1 file ({exc}); pass the official zip."
        ) from exc
    cols = {c.lower(): c for c in units.columns}
    units = units.rename(columns={v: k for k, v in cols.items()})
    if "adm0_a3" not in units.columns:
        raise DataError(f"{source} has no adm0_a3 column; pass the Natural Earth admin-1 file ({NE_ADMIN1_URL}).")
    units = units[units["adm0_a3"] == iso3]
    if units.empty:
        raise DataError(f"{source} holds no admin-1 unit with adm0_a3 {iso3}; check the ISO3 code.")
    return units


def find_admin1(data: Path) -> Path:
    """Return the Natural Earth admin-1 file ``siting fetch`` left: the cached official zip, else the raw extract.

    Raises
    ------
    DataError
        If there is neither, saying where to download the official zip.

    """
    candidates = [
        data / "cache" / "naturalearth" / NE_ADMIN1_ZIP,
        *sorted((data / "raw" / "naturalearth").glob("*admin_1*")),
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise DataError(
        f"no Natural Earth admin-1 file in {data}/cache/ or {data}/raw/; download {NE_ADMIN1_URL} and pass it "
        f"with --admin1 FILE."
    )


def _aliases(row: pd.Series) -> str:
    names = [str(row.get(c) or "") for c in ("name_alt", "name_en", "woe_name", "gn_name", "name_local")]
    out: list[str] = []
    for name in (n for part in names for n in part.split("|")):
        if name.strip() and name.strip() != row["name"] and name.strip() not in out:
            out.append(name.strip())
    return "|".join(out)


def provinces_table(units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Build the pack's ``provinces.csv``: ISO 3166-2 code, current name, Natural Earth codes and names, aliases."""
    rows = []
    for _, row in units.sort_values("iso_3166_2").iterrows():
        rows.append(
            {
                "iso_3166_2": row["iso_3166_2"],
                "province": row["name"],
                "source_codes": row["iso_3166_2"],
                "source_names": row["name"],
                "population": None,
                "population_basis": "",
                "population_source": "the national statistics office's latest census or estimate",
                "zone": "",
                "aliases": _aliases(row),
            }
        )
    return pd.DataFrame(rows)


def national_table() -> pd.DataFrame:
    """Build the pack's ``national.csv``: every key of the template, values empty but the method constants."""
    pak = pd.read_csv(packaged_dir() / TEMPLATE / "national.csv")
    keep = pak["key"].isin(METHOD_FIGURES)
    out = pak[["key", "value", "unit", "source", "date"]].copy()
    out.loc[~keep, ["value", "source", "date"]] = None
    unbound = out["key"].isin(NO_BOUND)
    out.loc[unbound, "value"] = float("inf")
    out.loc[unbound, "source"] = (
        "no bound: every DEM sea (nodata) cell counts for the coast; set a box if the DEM has inland gaps"
    )
    out["where_published"] = [
        "method constant, copied from the Pakistan pack" if k else f"the national counterpart of Pakistan's: {s}"
        for k, s in zip(keep, pak["source"], strict=True)
    ]
    return out


def new_region(
    iso3: str,
    admin1: Path,
    dest: Path,
    study_dir: Path,
    study_name: str | None = None,
) -> dict[str, Path]:
    """Scaffold ``<dest>/<ISO3>/`` and ``<study_dir>/<study>.yml``; refuse to overwrite an existing pack.

    Returns
    -------
    dict of str to Path
        ``pack`` and ``study``.

    """
    if not iso3.isalpha() or len(iso3) != 3 or not iso3.isupper():
        raise ConfigError(f"'{iso3}' is not an ISO 3166-1 alpha-3 code (three capital letters, e.g. NPL).")
    folder = dest / iso3
    if (folder / REGION_FILE).exists():
        raise ConfigError(f"{folder} already holds a region pack; edit it, or pass another --dest.")
    units = read_admin1(admin1, iso3)
    name = str(units["admin"].iloc[0]) if "admin" in units.columns else iso3
    iso2 = str(units["iso_a2"].iloc[0]) if "iso_a2" in units.columns else ""
    provinces = provinces_table(units)
    meta = {
        "iso3": iso3,
        "iso2": iso2,
        "name": name,
        "admin_units": {"level": "admin-1", "term": "province", "table": "provinces.csv"}
        | {"names": provinces["province"].tolist()},
        "zones": {"table": "zones.csv", "names": []},
    }
    header = (
        f"# Region pack: {name}. Scaffolded by `siting region new {iso3}` from Natural Earth admin-1.\n"
        "# Fill national.csv (each empty value says where it is published), provinces.csv (population) and the\n"
        "# other tables, each row with its source; see siting/regions/PAK/ for a complete pack. With zones.csv\n"
        f"# left empty the country is one network zone, '{WHOLE_REGION_ZONE}': give zone_demand.csv its 12 months.\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    _write_text(folder / REGION_FILE, header + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    _write_csv(folder / "provinces.csv", provinces)
    _write_csv(folder / "national.csv", national_table())
    template = packaged_dir() / TEMPLATE
    for table in sorted(template.glob("*.csv")):
        if table.name in ("provinces.csv", "national.csv"):
            continue
        df = pd.read_csv(table)
        _write_csv(folder / table.name, df if table.name in COPIED_TABLES else df.iloc[0:0])
    _write_text(folder / LOCK_FILE, json.dumps({"region": iso3, "files": {}}, indent=1) + "\n")
    study = study_name or name.lower().replace(" ", "_")
    study_path = study_dir / f"{study}.yml"
    if not study_path.exists():
        study_dir.mkdir(parents=True, exist_ok=True)
        _write_text(
            study_path,
            f"# Study of {name}; every key is documented in siting/defaults/studies/pakistan.yml.\n"
            f"name: {study}\nregion:\n  iso3: {iso3}\n  name: {name}\n  path: {dest}\n"
            "profile: bitcoin_mining\ncandidates:\n  h3_resolution: 6\n",
        )
    return {"pack": folder, "study": study_path}
