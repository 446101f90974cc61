"""Reading input files and checking layer schemas, with messages that name the file and the fix."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from siting._errors import DataError

# dtype kinds: "f" float, "i" integer, "O"/"U"/"T" text, "b" bool
_KIND_NAMES = {"f": "numbers", "i": "integers", "s": "text", "b": "true/false"}


def read_vector(path: Path, what: str) -> gpd.GeoDataFrame:
    """Read a vector file (GeoJSON, GeoPackage, Shapefile, GeoParquet) or fail with one clear sentence."""
    if not path.is_file():
        raise DataError(f"{path} ({what}) is missing; run `siting fetch` (or `make data`) first.")
    if path.stat().st_size == 0:
        raise DataError(f"{path} ({what}) is empty (0 bytes); re-fetch it with `siting fetch` or replace it.")
    try:
        if path.suffix == ".parquet":
            gdf = read_geoparquet(path)
        else:
            gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio/arrow raise many types for corrupt files
        raise DataError(
            f"{path} ({what}) could not be read as a vector file (corrupt or truncated?); "
            f"re-fetch it with `siting fetch` or replace it with a valid file."
        ) from exc
    if gdf.crs is None:
        raise DataError(f"{path} ({what}) has no coordinate reference system; set one (e.g. EPSG:4326).")
    return gdf.to_crs(4326) if gdf.crs.to_epsg() != 4326 else gdf


def read_geoparquet(path: Path) -> gpd.GeoDataFrame:
    """``gpd.read_parquet(path)``, with each distinct CRS parsed once a process.

    geopandas builds a ``pyproj.CRS`` from the file's PROJJSON every time (about 40 ms; the layers of a
    region are a dozen files in the same CRS). A file with one WKB geometry column and a stated CRS is read
    with pyarrow, its geometry decoded by shapely and its CRS taken from a cache; any other file goes to
    geopandas.
    """
    import pyarrow.parquet as pq
    import shapely

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    geo = json.loads(meta.get(b"geo", b"{}"))
    name, columns = geo.get("primary_column"), geo.get("columns", {})
    if (
        len(columns) != 1
        or name not in columns
        or columns[name].get("encoding") != "WKB"
        or not columns[name].get("crs")
        or b"PANDAS_ATTRS" in meta
    ):
        return gpd.read_parquet(path)
    position = table.schema.get_field_index(name)
    wkb = table.column(name).to_numpy(zero_copy_only=False)
    frame = table.remove_column(position).to_pandas()
    geometry = gpd.GeoSeries(shapely.from_wkb(wkb), index=frame.index, crs=_crs(json.dumps(columns[name]["crs"])))
    frame.insert(min(position, len(frame.columns)), name, geometry)  # index columns, if any, come last
    return gpd.GeoDataFrame(frame, geometry=name, copy=False)


@lru_cache(maxsize=16)
def _crs(projjson: str):
    import pyproj

    return pyproj.CRS.from_json(projjson)


def read_table(path: Path, what: str) -> pd.DataFrame:
    """Read a CSV file or fail with one clear sentence."""
    if not path.is_file():
        raise DataError(f"{path} ({what}) is missing; run `siting fetch` (or `make data`) first.")
    if path.stat().st_size == 0:
        raise DataError(f"{path} ({what}) is empty (0 bytes); re-fetch it with `siting fetch` or replace it.")
    try:
        return pd.read_csv(path, low_memory=False)
    except Exception as exc:
        raise DataError(f"{path} ({what}) could not be read as CSV ({type(exc).__name__}); replace it.") from exc


def require_columns(df: pd.DataFrame, columns: list[str], path: Path | str, what: str) -> None:
    """Fail if ``df`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{path} ({what}) has no column {missing[0]!r}; the file needs columns {', '.join(columns)}.")


def check_schema(
    gdf: pd.DataFrame,
    schema: dict[str, str],
    name: str,
    geom_types: tuple[str, ...] | None = None,
    allow_empty: bool = False,
) -> None:
    """Check a standard layer before it is written: columns, dtype kinds, geometry type, CRS, non-empty.

    Parameters
    ----------
    gdf
        The layer.
    schema
        Column name to dtype kind: ``"f"`` float, ``"i"`` integer, ``"s"`` text, ``"b"`` boolean.
    name
        Layer name, used in the message.
    geom_types
        Allowed geometry types; None for a plain table.
    allow_empty
        Accept a layer with no row (one built from a reference table a pack may leave with a header only,
        reported by ``prepare``).

    Raises
    ------
    DataError
        If anything does not hold; the message names the layer and the column.

    """
    if len(gdf) == 0 and not allow_empty:
        raise DataError(f"layer '{name}' came out empty; check its input files cover the study region.")
    for col, kind in schema.items():
        if col not in gdf.columns:
            raise DataError(f"layer '{name}' lacks column '{col}'; this is a bug in siting's layer code.")
        actual = gdf[col].dtype.kind
        ok = actual in ("O", "U", "T") or pd.api.types.is_string_dtype(gdf[col]) if kind == "s" else actual == kind
        if not ok:
            raise DataError(
                f"layer '{name}' column '{col}' holds {gdf[col].dtype} where {_KIND_NAMES[kind]} are expected."
            )
    if geom_types is not None:
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise DataError(f"layer '{name}' must be a GeoDataFrame in EPSG:4326.")
        bad = ~gdf.geom_type.isin(geom_types)
        if bad.any():
            raise DataError(f"layer '{name}' has {int(bad.sum())} geometries that are not {'/'.join(geom_types)}.")
