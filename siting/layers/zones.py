"""Network zones (for Pakistan NTDC north, NTDC south and K-Electric), as polygons built reproducibly from the layers.

The rule (``regions/<ISO3>/zones.csv``): each zone is the union of its provinces. A pack with a
``k_electric`` row carves that zone out of the others: the union of ``ke_service_buffer_km`` buffers (in UTM
zone 42N) around the licence-area places of ``ke_service_area.csv`` that have coordinates, clipped to the
provinces it serves (Sindh, Balochistan); every other zone is then the union of its provinces minus the
K-Electric polygon. A pack whose ``zones.csv`` has no row (a new country's, as ``siting region new`` writes it)
gets one zone, ``national``, covering every province, with no interface: the hosting figures are then the
national balance. A study may replace the layer with its own file (``surplus.zones_file``).
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import shapely

from siting._errors import DataError
from siting.fields import F
from siting.io.regions import WHOLE_REGION_ZONE
from siting.io.validate import check_schema

ZONE_SCHEMA = {F.ZONE: "s", F.NAME: "s", "control_area": "s", "rule": "s"}
UTM_42N = 32642
KE_ZONE = "k_electric"


def whole_region_row(region_name: str) -> pd.DataFrame:
    """Return the ``zones.csv`` row that stands for a pack with none: one zone covering every province."""
    return pd.DataFrame(
        {
            "zone": [WHOLE_REGION_ZONE],
            "name": [f"{region_name} (one zone)"],
            "control_area": ["whole region"],
            "provinces": [""],
            "rule": ["zones.csv has no row: one zone, the union of every province, with no interface"],
        }
    )


def build_zones(
    provinces: gpd.GeoDataFrame,
    zones: pd.DataFrame,
    ke_places: pd.DataFrame,
    buffer_km: Callable[[], float],
    region_name: str = "",
) -> gpd.GeoDataFrame:
    """Zone polygons from the province layer (and, for a ``k_electric`` zone, its licence-area places).

    Parameters
    ----------
    provinces
        The province layer (``iso_3166_2``, geometry).
    zones
        ``zones.csv``: ``zone, name, control_area, provinces`` (``|``-separated ISO codes), ``rule``; with no
        row, one zone :data:`WHOLE_REGION_ZONE` covers every province.
    ke_places
        ``ke_service_area.csv`` (``lat, lon``; places without coordinates are skipped); read only when
        ``zones`` has a ``k_electric`` row.
    buffer_km
        Returns the buffer radius around each place (asked only for a ``k_electric`` zone, so that a pack
        without one needs no ``ke_service_buffer_km``).
    region_name
        The region's name, for the one zone of a pack with none.

    Returns
    -------
    GeoDataFrame
        One (multi)polygon a zone, EPSG:4326.

    """
    by_code = provinces.set_index(F.ISO_3166_2).geometry
    if zones.empty:
        zones = whole_region_row(region_name)
        geoms: dict[str, object] = {WHOLE_REGION_ZONE: shapely.union_all(by_code.values)}
    else:
        geoms = {}
        for row in zones.itertuples(index=False):
            codes = str(row.provinces).split("|")
            missing = [c for c in codes if c not in by_code.index]
            if missing:
                raise DataError(
                    f"zones.csv: zone '{row.zone}' names unknown province(s) {', '.join(missing)}; use the "
                    f"iso_3166_2 codes of provinces.csv, separated by '|'."
                )
            geoms[row.zone] = shapely.union_all(by_code.loc[codes].values)
    if KE_ZONE in geoms:
        ke = shapely.intersection(_ke_area(ke_places, buffer_km()), geoms[KE_ZONE])
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


def _ke_area(ke_places: pd.DataFrame, buffer_km: float) -> object:
    """Return the union of the buffers around the K-Electric licence-area places, EPSG:4326."""
    pts = ke_places.dropna(subset=["lat", "lon"])
    if pts.empty:
        raise DataError(
            f"ke_service_area.csv has no place with coordinates, but zones.csv has a '{KE_ZONE}' row; add the "
            f"licence-area places with lat and lon, or remove the row."
        )
    utm = gpd.GeoSeries(gpd.points_from_xy(pts["lon"], pts["lat"]), crs=4326).to_crs(UTM_42N)
    return gpd.GeoSeries([shapely.union_all(utm.buffer(buffer_km * 1000.0).values)], crs=UTM_42N).to_crs(4326)[0]


def read_zones_file(gdf: gpd.GeoDataFrame, known: set[str], where: str) -> gpd.GeoDataFrame:
    """Check a study's own zones (a ``zone`` column naming known zones) and return it in EPSG:4326."""
    if F.ZONE not in gdf.columns:
        raise DataError(f"{where}: no 'zone' column; give each polygon its zone ({', '.join(sorted(known))}).")
    bad = sorted(set(gdf[F.ZONE].astype(str)) - known)
    if bad:
        raise DataError(f"{where}: unknown zone(s) {', '.join(bad)}; use {', '.join(sorted(known))}.")
    gdf = gdf.to_crs(4326) if gdf.crs is not None else gdf.set_crs(4326)
    return gdf.dissolve(F.ZONE, as_index=False)[[F.ZONE, "geometry"]]
