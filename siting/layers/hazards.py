"""Hazard layers: the 2022 flood extent (permanent water removed), active faults and M5.5+ earthquakes.

* ``flood_2022``: UNOSAT's cumulative VIIRS flood-water extent of 25-31 Aug 2022 (FL20220808PAK). The source
  counts rivers and reservoirs as flood water, so permanent water is removed first: the Natural Earth lakes
  layer and every MODIS 2019 land-cover cell of class 0 (water), as 0.05° squares. The polygons are kept as
  they are (no dissolve or simplification), so membership is exact: a point is in the layer if and only if it
  is in a UNOSAT polygon, in no lake and not on a MODIS water cell.
* ``faults``: GEM Global Active Faults (2017) traces with ``slip_type`` and ``is_fold`` (anticline or
  syncline axes: 143 of 285 traces are folds, which mark active shortening above blind thrusts but are not
  surface ruptures; the distance criterion uses faults only, see ``siting.model.criteria``).
* ``earthquakes``: USGS ComCat M5.5+ events 1965-2016 with ``magnitude``, ``depth_km`` and ``date``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import shapely

from siting._errors import DataError
from siting.fields import F
from siting.io.validate import check_schema, read_vector, require_columns
from siting.layers.boundaries import geodesic_area_km2

WATER_CLASS = 0  # IGBP class 0: water bodies
FOLD_TYPES = ("Anticline", "Syncline")
FLOOD_SCHEMA = {F.AREA_KM2: "f"}
FAULT_SCHEMA = {F.NAME: "s", "slip_type": "s", "is_fold": "b", F.LENGTH_KM: "f"}
QUAKE_SCHEMA = {"magnitude": "f", "depth_km": "f", "date": "s"}


def permanent_water(landcover_path: Path | None, lakes: gpd.GeoDataFrame) -> shapely.Geometry:
    """Union of the lakes layer and the MODIS water cells (class 0) as polygons of whole 0.05° cells.

    Without a land-cover grid (``landcover_path`` None) the lakes alone.
    """
    cells = []
    if landcover_path is not None:
        with rasterio.open(landcover_path) as src:
            data, transform = src.read(1), src.transform
        water = (data == WATER_CLASS).astype(np.uint8)
        cells = [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(water, water, transform=transform) if v]
    return shapely.union_all(np.asarray([*cells, *lakes.geometry.values], dtype=object))


def flood_2022(flood_path: Path, landcover_path: Path | None, lakes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """UNOSAT 2022 flood polygons minus permanent water: ``area_km2, geometry`` (flooded land only).

    ``landcover_path`` None (no land-cover grid): only the lakes are taken out as permanent water.
    """
    src = read_vector(flood_path, "2022 flood extent")
    geoms = shapely.make_valid(src.geometry.values)
    water = permanent_water(landcover_path, lakes)
    shapely.prepare(water)
    hit = shapely.intersects(water, geoms)
    geoms = geoms.copy()
    geoms[hit] = shapely.difference(geoms[hit], water)
    geoms = shapely.get_parts(geoms)  # single polygons: smaller boxes in the point-in-polygon tree
    geoms = geoms[shapely.get_type_id(geoms) == 3]
    geoms = geoms[~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)]
    out = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=4326))
    out[F.AREA_KM2] = geodesic_area_km2(out.geometry)
    out = gpd.GeoDataFrame(out[[F.AREA_KM2, "geometry"]], geometry="geometry", crs=4326)
    check_schema(out, FLOOD_SCHEMA, "flood_2022", ("Polygon",))
    return out


def faults(path: Path) -> gpd.GeoDataFrame:
    """GEM active fault traces: ``name, slip_type, is_fold, length_km, geometry``."""
    src = read_vector(path, "active faults")
    require_columns(src, ["slip_type"], path, "active faults")
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    out = gpd.GeoDataFrame(
        {
            F.NAME: src["name"].fillna("").astype(str) if "name" in src else "",
            "slip_type": src["slip_type"].fillna("unknown").astype(str),
        },
        geometry=src.geometry.values,
        crs=4326,
    )
    out["is_fold"] = out["slip_type"].isin(FOLD_TYPES)
    out[F.LENGTH_KM] = [geod.geometry_length(g) / 1000.0 for g in out.geometry]
    out = out[[*FAULT_SCHEMA, "geometry"]]
    check_schema(out, FAULT_SCHEMA, "faults", ("LineString", "MultiLineString"))
    return out


def earthquakes(path: Path) -> gpd.GeoDataFrame:
    """USGS M5.5+ earthquakes: ``magnitude, depth_km, date`` (ISO ``YYYY-MM-DD``), points."""
    try:
        src = pd.read_csv(path)
    except (OSError, pd.errors.ParserError) as exc:
        raise DataError(f"{path} (earthquakes) could not be read as CSV; re-fetch it with `siting fetch`.") from exc
    require_columns(src, ["Date", "Latitude", "Longitude", "Magnitude", "Depth"], path, "earthquakes")
    date = pd.to_datetime(src["Date"], format="mixed", errors="coerce", utc=True)
    out = gpd.GeoDataFrame(
        {
            "magnitude": pd.to_numeric(src["Magnitude"], errors="coerce").astype(float),
            "depth_km": pd.to_numeric(src["Depth"], errors="coerce").astype(float),
            "date": date.dt.strftime("%Y-%m-%d").fillna("").astype(str),
        },
        geometry=gpd.points_from_xy(src["Longitude"], src["Latitude"]),
        crs=4326,
    )
    out = out[out["magnitude"].notna()].reset_index(drop=True)
    check_schema(out, QUAKE_SCHEMA, "earthquakes", ("Point",))
    return out


SCHEMAS = {"flood_2022": FLOOD_SCHEMA, "faults": FAULT_SCHEMA, "earthquakes": QUAKE_SCHEMA}
_DTYPES = {"f": "float64", "s": "object", "b": "bool"}


def empty(name: str) -> gpd.GeoDataFrame:
    """Return a hazard layer with no feature and its schema's columns: what a region without that layer reads."""
    columns = {c: pd.Series(dtype=_DTYPES[kind]) for c, kind in SCHEMAS[name].items()}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
