"""The plant roster: operating GEM units, the status changes GEM lags, and the wind and solar it lacks.

GEM trackers differ in column names (``Capacity (MW)`` / ``capacity-(mw)`` / ``capacity_(mw)``); each
is mapped onto one schema here. Province labels in the files are inconsistent ("Punjab province", blanks),
so the province comes from the plant's coordinates.

At prepare time the roster is corrected from ``regions/<ISO3>/plant_status.csv`` (each row sourced):
matched operating GEM units (tracker, name pattern, optional GEM unit/location ids) take the row's
``status`` and ``counts``; a counted row that matches no operating unit (Suki Kinari, still "construction" in
GEM) is added at the row's coordinates. Wind and solar come from ``renewables_by_province.csv`` as one row per
province and fuel, placed at the province's representative point (``location = "province"``: they count in
the province's and zone's capacity but are not real plant locations). Every row carries ``origin`` (``gem``,
``plant_status``, ``renewables``), ``status``, ``counts`` and ``status_source``; ``gem_status`` keeps what GEM
said. Each plant is assigned a network zone (``zones`` layer) by point in polygon, then by the grid-connection
overrides of ``plant_zone_overrides.csv`` (plants inside K-Electric's area that feed NTDC).
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
    "gem_status": "s",
    "counts": "b",
    "status_source": "s",
    "origin": "s",
    "location": "s",
    F.ZONE: "s",
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
    "gemunitphaseid": "gem_unit_id",
    "gemunitid": "gem_unit_id",
    "gemphaseid": "gem_unit_id",
    "gemlocationid": "gem_location_id",
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
    for c in ("gem_unit_id", "gem_location_id"):
        if c not in df.columns:
            df[c] = ""
    out = df[["plant", "unit", "fuel", F.CAPACITY_MW, "status", "lat", "lon", "gem_unit_id", "gem_location_id"]].copy()
    out[F.CAPACITY_MW] = pd.to_numeric(out[F.CAPACITY_MW], errors="coerce")
    for c in ("plant", "unit", "fuel", "status", "gem_unit_id", "gem_location_id"):
        out[c] = out[c].fillna("").astype(str).str.strip()
    out["status"] = out["status"].str.lower()
    out["fuel"] = np.where(out["fuel"] == "", tracker, out["fuel"])
    out["tracker"] = tracker
    return out


def _matches(df: pd.DataFrame, tracker: str, name: str, ids: object) -> np.ndarray:
    hit = (df["tracker"] == tracker).to_numpy() & df["plant"].str.contains(name, regex=True).to_numpy()
    if isinstance(ids, str) and ids.strip():
        wanted = set(ids.split("|"))
        hit &= (df["gem_unit_id"].isin(wanted) | df["gem_location_id"].isin(wanted)).to_numpy()
    return hit


def apply_status(df: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Apply the plant-status table to the operating GEM units; add counted plants GEM lacks.

    Parameters
    ----------
    df
        Operating units (``read_gem`` rows with ``lat, lon``).
    status
        ``plant_status.csv``: ``plant, match_tracker, match_name, match_gem_id, status, mw, counts, lat, lon,
        source``.

    Returns
    -------
    DataFrame
        ``df`` with ``gem_status, status, counts, status_source, origin, location``, plus added rows.

    """
    out = df.copy()
    out["gem_status"] = out["status"]
    out["counts"] = True
    out["status_source"] = "GEM tracker status (operating)"
    out["origin"] = "gem"
    out["location"] = "gem"
    added = []
    for row in status.itertuples(index=False):
        hit = _matches(out, row.match_tracker, row.match_name, row.match_gem_id)
        counts = str(row.counts).strip().lower() == "true"
        if hit.any():
            out.loc[hit, "status"] = row.status
            out.loc[hit, "counts"] = counts
            out.loc[hit, "status_source"] = row.source
        elif counts:
            if pd.isna(row.lat) or pd.isna(row.lon):
                raise DataError(f"plant_status.csv: '{row.plant}' matches no operating GEM unit and has no lat/lon.")
            added.append(
                {"plant": row.plant, "unit": "", "fuel": row.match_tracker, F.CAPACITY_MW: float(row.mw),
                 "status": row.status, "lat": float(row.lat), "lon": float(row.lon), "tracker": row.match_tracker,
                 "gem_unit_id": "", "gem_location_id": "", "gem_status": "not operating in GEM", "counts": True,
                 "status_source": row.source, "origin": "plant_status", "location": "plant_status"}
            )  # fmt: skip
    return pd.concat([out, pd.DataFrame(added)], ignore_index=True) if added else out


def renewable_rows(renewables: pd.DataFrame, provinces: gpd.GeoDataFrame) -> pd.DataFrame:
    """Wind and solar GEM lacks (``renewables_by_province.csv``), one row per province and fuel.

    Placed at the province's representative point and flagged ``location = "province"``.
    """
    pts = provinces.set_index(F.ISO_3166_2).geometry.representative_point()
    g = renewables.groupby([F.ISO_3166_2, "fuel"], sort=True)
    rows = []
    for (code, fuel), part in g:
        if code not in pts.index:
            raise DataError(f"renewables_by_province.csv: unknown province code '{code}'.")
        rows.append(
            {"plant": f"{fuel} ({code}, reference)", "unit": "", "fuel": fuel,
             F.CAPACITY_MW: float(part[F.CAPACITY_MW].sum()), "status": "operating",
             "lat": pts[code].y, "lon": pts[code].x, "tracker": fuel, "gem_unit_id": "", "gem_location_id": "",
             "gem_status": "not in GEM", "counts": True, "status_source": " | ".join(part["source"].astype(str)),
             "origin": "renewables", "location": "province"}
        )  # fmt: skip
    return pd.DataFrame(rows)


def assign_zones(plants: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, overrides: pd.DataFrame) -> np.ndarray:
    """Zone of each plant: point in polygon (nearest zone if outside all), then the grid-connection overrides.

    ``overrides`` (``plant_zone_overrides.csv``): ``match_tracker, match_name, zone, source``; the plant feeds
    the named zone's network whatever polygon it sits in.
    """
    joined = gpd.sjoin_nearest(plants[["geometry"]].to_crs(3857), zones[[F.ZONE, "geometry"]].to_crs(3857), how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    zone = joined.loc[plants.index, F.ZONE].to_numpy(dtype=object)
    known = set(zones[F.ZONE])
    for row in overrides.itertuples(index=False):
        if row.zone not in known:
            raise DataError(
                f"plant_zone_overrides.csv: unknown zone '{row.zone}'; use one of {', '.join(sorted(known))}."
            )
        hit = (plants["tracker"] == row.match_tracker).to_numpy() & plants["plant"].str.contains(
            row.match_name
        ).to_numpy()
        zone[hit] = row.zone
    return zone.astype(str)


def operating_plants(
    paths: dict[str, Path],
    provinces: gpd.GeoDataFrame,
    status: pd.DataFrame | None = None,
    renewables: pd.DataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_overrides: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Build the plant roster with status, whether each unit counts, and its province and zone.

    Parameters
    ----------
    paths
        Tracker name (coal, oil_gas, hydro, nuclear, bioenergy) to CSV path.
    provinces
        The province layer; units outside every province (offshore, across a border) take the nearest one.
    status, renewables
        ``plant_status.csv`` and ``renewables_by_province.csv`` (none: GEM as it is).
    zones, zone_overrides
        The ``zones`` layer and ``plant_zone_overrides.csv`` (none: zone left empty).

    Returns
    -------
    GeoDataFrame
        One row a unit with capacity, in EPSG:4326.

    """
    df = pd.concat([read_gem(p, t) for t, p in paths.items()], ignore_index=True)
    df = df[(df["status"] == "operating") & df[F.CAPACITY_MW].gt(0) & df["lat"].notna() & df["lon"].notna()]
    df = apply_status(df, status if status is not None else pd.DataFrame(columns=["match_tracker"]))
    if renewables is not None:
        df = pd.concat([df, renewable_rows(renewables, provinces)], ignore_index=True)
    df["counts"] = df["counts"].astype(bool)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326).reset_index(drop=True)
    joined = gpd.sjoin_nearest(
        gdf.to_crs(3857), provinces[[F.ISO_3166_2, F.PROVINCE, "geometry"]].to_crs(3857), how="left"
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    gdf[F.ISO_3166_2] = joined.loc[gdf.index, F.ISO_3166_2]
    gdf[F.PROVINCE] = joined.loc[gdf.index, F.PROVINCE]
    if zones is not None:
        ov = zone_overrides if zone_overrides is not None else pd.DataFrame(columns=["match_tracker"])
        gdf[F.ZONE] = assign_zones(gdf, zones, ov)
    else:
        gdf[F.ZONE] = ""
    gdf = gdf.drop(columns=["lat", "lon", "gem_unit_id", "gem_location_id"])
    gdf = gdf.sort_values(["tracker", "plant", "unit"], kind="stable").reset_index(drop=True)
    check_schema(gdf, PLANT_SCHEMA, "plants", ("Point",))
    return gdf
