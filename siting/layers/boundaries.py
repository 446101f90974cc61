"""Country outline, provinces with current official names and ISO 3166-2 codes, and lakes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from siting._errors import DataError
from siting.fields import F
from siting.io.validate import check_schema, read_vector, require_columns

_GEOD = Geod(ellps="WGS84")

COUNTRY_COLUMNS = (F.NAME, F.AREA_KM2)
PROVINCE_SCHEMA = {F.ISO_3166_2: "s", F.PROVINCE: "s", F.AREA_KM2: "f", F.POPULATION: "f"}


def geodesic_area_km2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Area on the WGS84 ellipsoid in km² for each (multi)polygon in EPSG:4326, whatever its ring orientation."""
    oriented = shapely.orient_polygons(np.asarray(geoms, dtype=object), exterior_cw=False)
    return np.array([_GEOD.geometry_area_perimeter(g)[0] / 1e6 for g in oriented])


def provinces(admin1_path: Path, reference: pd.DataFrame) -> gpd.GeoDataFrame:
    """Build the province layer: source polygons mapped to current units by ISO code, then dissolved.

    Natural Earth still carries pre-2018 units and old spellings ("Sind", "K.P.", "F.A.T.A.",
    "Northern Areas"). Each source polygon is matched on its ``iso_3166_2`` code to a row of the region's
    reference table (``source_codes``), so F.A.T.A. merges into Khyber Pakhtunkhwa and only official names
    come out.

    Parameters
    ----------
    admin1_path
        Natural Earth admin-1 file clipped to the country.
    reference
        The region's ``provinces.csv``.

    Returns
    -------
    GeoDataFrame
        ``iso_3166_2, province, area_km2, population, geometry``, one row a current unit.

    """
    src = read_vector(admin1_path, "admin-1 provinces")
    require_columns(src, ["iso_3166_2"], admin1_path, "admin-1 provinces")
    code_map = {code: row.iso_3166_2 for row in reference.itertuples() for code in str(row.source_codes).split("|")}
    unknown = sorted(set(src["iso_3166_2"]) - set(code_map))
    if unknown:
        raise DataError(
            f"{admin1_path} has province code {unknown[0]!r} that the reference table does not map; add it "
            f"to source_codes in siting/regions/<ISO3>/provinces.csv."
        )
    src = src.assign(**{F.ISO_3166_2: src["iso_3166_2"].map(code_map)})[[F.ISO_3166_2, "geometry"]]
    out = src.dissolve(by=F.ISO_3166_2, as_index=False)
    out["geometry"] = out.geometry.make_valid()
    ref = reference.set_index(F.ISO_3166_2)
    out[F.PROVINCE] = out[F.ISO_3166_2].map(ref[F.PROVINCE])
    out[F.POPULATION] = out[F.ISO_3166_2].map(ref[F.POPULATION]).astype(float)
    out[F.AREA_KM2] = geodesic_area_km2(out.geometry)
    out = out.sort_values(F.ISO_3166_2).reset_index(drop=True)
    out = gpd.GeoDataFrame(out[[*PROVINCE_SCHEMA, "geometry"]], geometry="geometry", crs=4326)
    check_schema(out, PROVINCE_SCHEMA, "provinces", ("Polygon", "MultiPolygon"))
    return out


def country(admin0_path: Path, name: str) -> gpd.GeoDataFrame:
    """Country outline as one row: ``name, area_km2, geometry``."""
    src = read_vector(admin0_path, "admin-0 country outline")
    geom = src.geometry.make_valid().union_all()
    out = gpd.GeoDataFrame({F.NAME: [name]}, geometry=[geom], crs=4326)
    out[F.AREA_KM2] = geodesic_area_km2(out.geometry)
    check_schema(out, {F.NAME: "s", F.AREA_KM2: "f"}, "country", ("Polygon", "MultiPolygon"))
    return out


def no_lakes() -> gpd.GeoDataFrame:
    """Return an empty lakes layer (``area_km2, geometry``), for a region without a lakes file."""
    return gpd.GeoDataFrame({F.AREA_KM2: pd.Series([], dtype=float)}, geometry=gpd.GeoSeries([], crs=4326))


def lakes(lakes_path: Path, outline: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lakes and reservoirs that touch the country: ``area_km2, geometry`` (may be empty)."""
    src = read_vector(lakes_path, "lakes")
    src = src[src.intersects(outline.geometry.iloc[0])].copy()
    src["geometry"] = src.geometry.make_valid().intersection(outline.geometry.iloc[0])
    src = src[~src.geometry.is_empty].reset_index(drop=True)
    out = gpd.GeoDataFrame({F.AREA_KM2: geodesic_area_km2(src.geometry)}, geometry=src.geometry.values, crs=4326)
    return out
