"""Populated places (GeoNames) and connectivity nodes (internet exchanges, cable landings)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from siting.fields import F
from siting.io.validate import check_schema, read_table, require_columns

PLACE_SCHEMA = {"geonameid": "i", F.NAME: "s", F.POPULATION: "f"}
NODE_SCHEMA = {F.NAME: "s", "kind": "s", "source": "s", "latency_anchor": "b"}


def places(path: Path) -> gpd.GeoDataFrame:
    """GeoNames populated places: ``geonameid, name, population, geometry``, largest first."""
    src = read_table(path, "GeoNames places")
    require_columns(src, ["geonameid", "name", "latitude", "longitude", "population"], path, "GeoNames places")
    df = src[["geonameid", "name", "population"]].copy()
    df[F.POPULATION] = pd.to_numeric(df["population"], errors="coerce").astype(float)
    out = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(src["longitude"], src["latitude"]), crs=4326)
    out = out.sort_values([F.POPULATION, "geonameid"], ascending=[False, True]).reset_index(drop=True)
    check_schema(out, PLACE_SCHEMA, "places", ("Point",))
    return out


def connectivity_nodes(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Internet exchanges and cable landings from the region's reference table (none if it has a header only)."""
    out = gpd.GeoDataFrame(
        table[[F.NAME, "kind", "source"]].astype(str).assign(latency_anchor=table["latency_anchor"].astype(bool)),
        geometry=gpd.points_from_xy(table["lon"].astype(float), table["lat"].astype(float)),
        crs=4326,
    )
    check_schema(out, NODE_SCHEMA, "connectivity_nodes", ("Point",), allow_empty=True)
    return out
