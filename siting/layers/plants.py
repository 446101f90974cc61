"""Operating power plants from the Global Energy Monitor trackers, province re-derived by point-in-polygon.

GEM trackers differ in column names (``Capacity (MW)`` / ``capacity-(mw)`` / ``capacity_(mw)``); each
is mapped onto one schema here. Province labels in the files are inconsistent ("Punjab province", blanks),
so the province comes from the plant's coordinates.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._errors import DataError
from siting.fields import F
from siting.io.validate import check_schema, read_table

PLANT_SCHEMA = {
    "plant": "s",
    "unit": "s",
    "fuel": "s",
    F.CAPACITY_MW: "f",
    "status": "s",
    "tracker": "s",
    F.ISO_3166_2: "s",
    F.PROVINCE: "s",
}

# normalised column name -> our column; normalisation lowercases and drops everything but letters
_COLUMNS = {
    "plantname": "plant",
    "projectname": "plant",
    "unitname": "unit",
    "capacitymw": F.CAPACITY_MW,
    "status": "status",
    "latitude": "lat",
    "lat": "lat",
    "longitude": "lon",
    "lng": "lon",
    "fuel": "fuel",
}


def _norm(col: str) -> str:
    return "".join(ch for ch in col.lower() if ch.isalpha())


def read_gem(path: Path, tracker: str) -> pd.DataFrame:
    """Read one GEM tracker CSV into ``plant, unit, fuel, capacity_mw, status, lat, lon, tracker``."""
    src = read_table(path, f"GEM {tracker} tracker")
    rename: dict[str, str] = {}
    for col in src.columns:
        key = _norm(col)
        if key in _COLUMNS and _COLUMNS[key] not in rename.values():
            rename[col] = _COLUMNS[key]
    df = src.rename(columns=rename)
    for need in ("plant", F.CAPACITY_MW, "status", "lat", "lon"):
        if need not in df.columns:
            raise DataError(f"{path} (GEM {tracker} tracker) has no column for '{need}'; is it a GEM tracker file?")
    if "unit" not in df.columns:
        df["unit"] = ""
    if "fuel" not in df.columns:
        df["fuel"] = tracker
    out = df[["plant", "unit", "fuel", F.CAPACITY_MW, "status", "lat", "lon"]].copy()
    out[F.CAPACITY_MW] = pd.to_numeric(out[F.CAPACITY_MW], errors="coerce")
    for c in ("plant", "unit", "fuel", "status"):
        out[c] = out[c].fillna("").astype(str).str.strip()
    out["status"] = out["status"].str.lower()
    out["fuel"] = np.where(out["fuel"] == "", tracker, out["fuel"])
    out["tracker"] = tracker
    return out


def operating_plants(paths: dict[str, Path], provinces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Operating units from all trackers with their province.

    Parameters
    ----------
    paths
        Tracker name (coal, oil_gas, hydro, nuclear, bioenergy) to CSV path.
    provinces
        The province layer; units outside every province (offshore, across a border) take the nearest one.

    Returns
    -------
    GeoDataFrame
        One row an operating unit with capacity, in EPSG:4326.

    """
    df = pd.concat([read_gem(p, t) for t, p in paths.items()], ignore_index=True)
    df = df[(df["status"] == "operating") & df[F.CAPACITY_MW].gt(0) & df["lat"].notna() & df["lon"].notna()]
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326).reset_index(drop=True)
    joined = gpd.sjoin_nearest(
        gdf.to_crs(3857), provinces[[F.ISO_3166_2, F.PROVINCE, "geometry"]].to_crs(3857), how="left"
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    gdf[F.ISO_3166_2] = joined.loc[gdf.index, F.ISO_3166_2]
    gdf[F.PROVINCE] = joined.loc[gdf.index, F.PROVINCE]
    gdf = gdf.drop(columns=["lat", "lon"]).sort_values(["tracker", "plant", "unit"], kind="stable")
    gdf = gdf.reset_index(drop=True)
    check_schema(gdf, PLANT_SCHEMA, "plants", ("Point",))
    return gdf
