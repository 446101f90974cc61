"""Atomic, reproducible file writing and checksums: the only place outputs touch the disk.

Every writer writes to a temporary file in the destination folder and renames it into place, so an
interrupted run leaves the previous output intact and never a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj
import shapely


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_path(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file, or of a folder of parquet parts (over each part's name and sha256)."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    h = hashlib.sha256()
    for part in sorted(path.glob("*.parquet")):
        h.update(part.name.encode() + b"\0" + sha256_file(part).encode())
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` only if the block succeeds.

    Parameters
    ----------
    dest
        Final path. Its folder is created if missing.

    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # the PID in the name lets a later run tell a dead run's leftovers from a live run's (siting.io.outputset)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.{os.getpid()}.", suffix=f".part{dest.suffix}", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


LOW_SPACE_BYTES = 1 << 20


def _disk_full(folder: Path) -> bool:
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE_BYTES


def write_atomic(dest: str | os.PathLike[str], writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``dest`` atomically.

    A writer that fails with its own error type (GDAL's, arrow's) while the disk is full raises
    ``OSError(ENOSPC)`` naming ``dest`` instead, so the user reads "disk full" rather than a library's error.
    """
    with atomic_path(dest) as tmp:
        try:
            writer(tmp)
        except OSError as exc:
            if exc.filename in (None, str(tmp)) and exc.errno:  # name the output, not its temporary file
                raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(dest)) from exc
            raise
        except Exception as exc:
            if _disk_full(Path(dest).parent):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest)) from exc
            raise
    return Path(dest)


def write_text(dest: str | os.PathLike[str], text: str) -> Path:
    """Write text atomically (UTF-8, Unix line ends)."""
    return write_atomic(dest, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(dest: str | os.PathLike[str], obj: Any) -> Path:
    """Write JSON atomically, keys sorted and indented, so equal content gives equal bytes."""
    return write_text(dest, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula, prefixed with ``'`` so it shows as text (OWASP).

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading single quote
    (``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``); plain numbers such as ``-50`` and every non-text value
    are left alone.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell and header passed through :func:`neutralise_cell` (a copy if anything changed)."""
    text_cols = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
    changed = {c: df[c].map(neutralise_cell) for c in text_cols}
    changed = {c: s for c, s in changed.items() if not s.equals(df[c])}
    names = [neutralise_cell(c) for c in df.columns]
    if not changed and names == list(df.columns):
        return df
    out = df.assign(**{str(c): s for c, s in changed.items()}) if changed else df.copy()
    out.columns = names
    return out


def write_csv(dest: str | os.PathLike[str], df: pd.DataFrame) -> Path:
    """Write a table as CSV atomically; floats in their shortest exact form, so equal tables give equal bytes.

    Text that a spreadsheet would evaluate as a formula is neutralised first (:func:`neutralise_cell`).
    """
    safe = neutralise(df)
    return write_atomic(dest, lambda p: safe.to_csv(p, index=False, lineterminator="\n"))


@functools.cache
def _canonical_crs_json(epsg: int) -> str:
    """PROJJSON of an EPSG code as a fresh PROJ context writes it.

    PROJ caches objects per context (per thread), so in a long-lived process ``CRS.from_epsg(4326)`` can
    come back in the form of a CRS read earlier from a file (``datum`` instead of ``datum_ensemble``), and
    the GeoParquet metadata, hence the file's bytes, would depend on what the process did before. A new
    thread has a new context.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: pyproj.CRS.from_epsg(epsg).to_json()).result()


def _canonical_crs(crs: pyproj.CRS | None) -> pyproj.CRS | None:
    """``crs`` in its canonical PROJJSON form when it has an EPSG code (see :func:`_canonical_crs_json`)."""
    if crs is None or crs.to_epsg() is None:
        return crs
    return pyproj.CRS.from_json(_canonical_crs_json(crs.to_epsg()))


POINT_WKB_BYTES = 21  # byte order (1), geometry type (4), x (8), y (8)
_POINT_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])  # packed: 21 bytes


def point_wkb(x: np.ndarray, y: np.ndarray) -> pa.BinaryArray:
    """Little-endian ISO WKB of 2D points, built from their coordinates without shapely objects.

    Byte for byte what ``shapely.to_wkb(shapely.points(x, y), flavor="iso")`` writes on a little-endian machine
    (for finite coordinates): byte order 1, type 1 (Point), then x and y as float64.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rec = np.empty(len(x), dtype=_POINT_WKB)
    rec["order"], rec["type"], rec["x"], rec["y"] = 1, 1, x, y
    offsets = np.arange(0, POINT_WKB_BYTES * (len(x) + 1), POINT_WKB_BYTES, dtype=np.int32)
    return pa.Array.from_buffers(pa.binary(), len(x), [None, pa.py_buffer(offsets), pa.py_buffer(rec.view(np.uint8))])


_GEOMETRY_TYPES = ["Point", "LineString", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
                   "GeometryCollection"]  # fmt: skip  # shapely type ids 0..7 (a LinearRing is a LineString)


def _as_wkb(geoms: np.ndarray) -> tuple[pa.Array, list[str], list[float]]:
    """WKB (ISO), the GeoParquet geometry types and the bounds of shapely geometries, as geopandas writes them.

    All 2D finite points (the cell centres) take :func:`point_wkb` from their coordinates; anything else goes
    through ``shapely.to_wkb``.
    """
    types = shapely.get_type_id(geoms)
    has_z = shapely.has_z(geoms)
    if len(geoms) and (types == 0).all() and not has_z.any() and len(geoms) * POINT_WKB_BYTES < 2**31:
        xy = shapely.get_coordinates(geoms)
        if len(xy) == len(geoms) and np.isfinite(xy).all():  # no empty point
            bbox = [*xy.min(axis=0).tolist(), *xy.max(axis=0).tolist()]
            return point_wkb(xy[:, 0], xy[:, 1]), ["Point"], bbox
    wkb = pa.array(np.asarray(shapely.to_wkb(geoms, flavor="iso")), pa.binary())
    ids = pd.unique(types[types >= 0] + 8 * has_z[types >= 0])
    names = sorted(_GEOMETRY_TYPES[i % 8] + (" Z" if i >= 8 else "") for i in ids)
    bounds = shapely.bounds(geoms)
    if not len(geoms):
        return wkb, names, [np.nan] * 4
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bounds: empty or missing geometries only
        bbox = [*np.nanmin(bounds[:, :2], axis=0).tolist(), *np.nanmax(bounds[:, 2:], axis=0).tolist()]
    return wkb, names, bbox


def _without_member_ids(obj: Any) -> Any:
    """PROJJSON with the ids of datum-ensemble members removed, as GeoParquet metadata carries it (geopandas)."""
    if isinstance(obj, dict):
        return {k: [{m: v for m, v in e.items() if m != "id"} for e in val] if k == "members" and isinstance(val, list)
                else _without_member_ids(val) for k, val in obj.items()}  # fmt: skip
    return obj


def geoparquet_table(gdf: gpd.GeoDataFrame | pd.DataFrame, points: tuple[str, str] | None = None) -> pa.Table:
    """Return the Arrow table that ``gdf.to_parquet(index=False, write_covering_bbox=False)`` writes, built directly.

    The same columns, pandas and GeoParquet 1.1 metadata (``geo``, the geometry field's ``geoarrow.wkb``
    extension metadata, ``PANDAS_ATTRS``) as geopandas, with the WKB of points built from their coordinates
    (:func:`point_wkb`) and no copy of the other columns (Arrow takes numpy and Arrow-backed string columns
    as they are). An EPSG CRS of the active geometry is written in its canonical PROJJSON.

    ``points``: ``gdf`` is a plain table and its ``(lon, lat)`` columns are the points: the table of the
    GeoDataFrame with those points (EPSG:4326) appended as ``geometry``, without a shapely object made.
    """
    if points is None:
        geo_cols = [str(c) for c in gdf.columns[gdf.dtypes == "geometry"]]
        primary = gdf.geometry.name
    else:
        geo_cols, primary = ["geometry"], "geometry"
    plain = pd.DataFrame(gdf.copy(deep=False))
    for col in geo_cols:
        plain[col] = None  # an Arrow null column, replaced below
    table = pa.Table.from_pandas(plain, preserve_index=False)
    columns = {}
    for col in geo_cols:
        if points is None:
            crs = _canonical_crs(gdf[col].crs) if col == primary else gdf[col].crs
            wkb, types, bbox = _as_wkb(np.asarray(gdf[col].array))
        else:
            crs = _canonical_crs(pyproj.CRS.from_epsg(4326))
            wkb, types, bbox = _points_wkb(gdf[points[0]].to_numpy(np.float64), gdf[points[1]].to_numpy(np.float64))
        ext = {"ARROW:extension:name": "geoarrow.wkb"}
        ext["ARROW:extension:metadata"] = json.dumps({"crs": crs.to_json_dict()}) if crs is not None else "{}"
        i = table.schema.get_field_index(col)
        table = table.set_column(i, pa.field(col, pa.binary(), nullable=True, metadata=ext), wkb)
        meta = {"encoding": "WKB", "crs": _without_member_ids(crs.to_json_dict()) if crs is not None else None}
        columns[col] = {**meta, "geometry_types": types, **({"bbox": bbox} if np.isfinite(bbox).all() else {})}
    geo = {
        "primary_column": primary,
        "columns": columns,
        "version": "1.1.0",
        "creator": {"library": "geopandas", "version": gpd.__version__},
    }
    metadata = {**table.schema.metadata, b"geo": json.dumps(geo).encode("utf-8")}
    if gdf.attrs:
        metadata[b"PANDAS_ATTRS"] = json.dumps(gdf.attrs).encode("utf-8")
    return table.replace_schema_metadata(metadata)


def _points_wkb(x: np.ndarray, y: np.ndarray) -> tuple[pa.Array, list[str], list[float]]:
    """:func:`_as_wkb` of the points ``(x, y)``, from the coordinates (finite: the points' shapely path)."""
    if not len(x) or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return _as_wkb(shapely.points(x, y))
    return point_wkb(x, y), ["Point"], [float(x.min()), float(y.min()), float(x.max()), float(y.max())]


def _dictionary_columns(table: pa.Table) -> list[str]:
    """Columns worth dictionary encoding: text (few distinct names). Numbers and WKB are written plain.

    Parquet's default tries a dictionary on every column and falls back to plain after 1 MB of distinct
    values; for float columns of distinct measures that try costs more than half the write and makes the
    compressed file larger.
    """
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view, pa.types.is_dictionary)
    return [f.name for f in table.schema if any(is_(f.type) for is_ in text)]


def write_parquet(
    dest: str | os.PathLike[str], gdf: gpd.GeoDataFrame | pd.DataFrame, points: tuple[str, str] | None = None
) -> Path:
    """Write (Geo)Parquet atomically, without the pandas index and with a fixed compression.

    A GeoDataFrame, or a table with ``points`` (its lon and lat columns, written as a point ``geometry``),
    is written as the table of :func:`geoparquet_table` (what geopandas writes), zstd, with a dictionary for
    text columns only (:func:`_dictionary_columns`). An EPSG CRS is written in its canonical PROJJSON, so
    equal tables give equal bytes in any process.
    """
    if isinstance(gdf, gpd.GeoDataFrame) or points is not None:
        table = geoparquet_table(gdf, points)

        def _w(p: Path) -> None:
            pq.write_table(table, p, compression="zstd", compression_level=1, use_dictionary=_dictionary_columns(table))
    else:

        def _w(p: Path) -> None:
            gdf.to_parquet(p, index=False, compression="zstd")

    return write_atomic(dest, _w)


def write_gpkg(dest: str | os.PathLike[str], gdf: gpd.GeoDataFrame, layer: str) -> Path:
    """Write a GeoPackage (one layer) atomically; QGIS opens it directly."""
    return write_atomic(dest, lambda p: gdf.to_file(p, layer=layer, driver="GPKG", engine="pyogrio"))
