"""Network zones: NTDC north, NTDC south and K-Electric, as polygons built reproducibly from the layers.

The rule (``regions/<ISO3>/zones.csv``): the K-Electric zone is the union of ``ke_service_buffer_km``
buffers (in UTM zone 42N) around the licence-area places of ``ke_service_area.csv`` that have coordinates,
clipped to the provinces it serves (Sindh, Balochistan); every other zone is the union of its provinces
minus the K-Electric polygon. A study may replace the layer with its own file (``surplus.zones_file``).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from siting._errors import DataError
from siting.fields import F
from siting.io.validate import check_schema

ZONE_SCHEMA = {F.ZONE: "s", F.NAME: "s", "control_area": "s", "rule": "s"}
UTM_42N = 32642
KE_ZONE = "k_electric"


def build_zones(
    provinces: gpd.GeoDataFrame, zones: pd.DataFrame, ke_places: pd.DataFrame, buffer_km: float
) -> gpd.GeoDataFrame:
    """Zone polygons from the province layer and the K-Electric licence-area places.

    Parameters
    ----------
    provinces
        The province layer (``iso_3166_2``, geometry).
    zones
        ``zones.csv``: ``zone, name, control_area, provinces`` (``|``-separated ISO codes), ``rule``.
    ke_places
        ``ke_service_area.csv`` (``lat, lon``; places without coordinates are skipped).
    buffer_km
        Buffer radius around each place.

    Returns
    -------
    GeoDataFrame
        One (multi)polygon a zone, EPSG:4326.

    """
    by_code = provinces.set_index(F.ISO_3166_2).geometry
    pts = ke_places.dropna(subset=["lat", "lon"])
    if pts.empty:
        raise DataError("ke_service_area.csv has no place with coordinates; the K-Electric zone cannot be drawn.")
    utm = gpd.GeoSeries(gpd.points_from_xy(pts["lon"], pts["lat"]), crs=4326).to_crs(UTM_42N)
    ke_area = gpd.GeoSeries([shapely.union_all(utm.buffer(buffer_km * 1000.0).values)], crs=UTM_42N).to_crs(4326)[0]
    geoms: dict[str, object] = {}
    for row in zones.itertuples(index=False):
        codes = str(row.provinces).split("|")
        missing = [c for c in codes if c not in by_code.index]
        if missing:
            raise DataError(f"zones.csv: zone '{row.zone}' names unknown province(s) {', '.join(missing)}.")
        geoms[row.zone] = shapely.union_all(by_code.loc[codes].values)
    if KE_ZONE not in geoms:
        raise DataError(f"zones.csv has no '{KE_ZONE}' row.")
    ke = shapely.intersection(ke_area, geoms[KE_ZONE])
    for z in geoms:
        geoms[z] = ke if z == KE_ZONE else shapely.difference(geoms[z], ke)
    out = gpd.GeoDataFrame(
        {
            F.ZONE: zones["zone"].astype(str).to_numpy(),
            F.NAME: zones["name"].astype(str).to_numpy(),
            "control_area": zones["control_area"].astype(str).to_numpy(),
            "rule": zones["rule"].astype(str).to_numpy(),
        },
        geometry=[geoms[z] for z in zones["zone"]],
        crs=4326,
    )
    check_schema(out, ZONE_SCHEMA, "zones", ("Polygon", "MultiPolygon"))
    return out


def read_zones_file(gdf: gpd.GeoDataFrame, known: set[str], where: str) -> gpd.GeoDataFrame:
    """Check a study's own zones (a ``zone`` column naming known zones) and return it in EPSG:4326."""
    if F.ZONE not in gdf.columns:
        raise DataError(f"{where}: no 'zone' column; give each polygon its zone ({', '.join(sorted(known))}).")
    bad = sorted(set(gdf[F.ZONE].astype(str)) - known)
    if bad:
        raise DataError(f"{where}: unknown zone(s) {', '.join(bad)}; use {', '.join(sorted(known))}.")
    gdf = gdf.to_crs(4326) if gdf.crs is not None else gdf.set_crs(4326)
    return gdf.dissolve(F.ZONE, as_index=False)[[F.ZONE, "geometry"]]
