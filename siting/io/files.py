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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj


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


def write_parquet(dest: str | os.PathLike[str], gdf: gpd.GeoDataFrame | pd.DataFrame) -> Path:
    """Write (Geo)Parquet atomically, without the pandas index and with a fixed compression.

    An EPSG CRS is written in its canonical PROJJSON, so equal tables give equal bytes in any process.
    """
    if isinstance(gdf, gpd.GeoDataFrame) and gdf.crs is not None and gdf.crs.to_epsg() is not None:
        gdf = gdf.set_crs(pyproj.CRS.from_json(_canonical_crs_json(gdf.crs.to_epsg())), allow_override=True)

    def _w(p: Path) -> None:
        if isinstance(gdf, gpd.GeoDataFrame):
            gdf.to_parquet(p, index=False, compression="zstd", write_covering_bbox=False)
        else:
            gdf.to_parquet(p, index=False, compression="zstd")

    return write_atomic(dest, _w)


def write_gpkg(dest: str | os.PathLike[str], gdf: gpd.GeoDataFrame, layer: str) -> Path:
    """Write a GeoPackage (one layer) atomically; QGIS opens it directly."""
    return write_atomic(dest, lambda p: gdf.to_file(p, layer=layer, driver="GPKG", engine="pyogrio"))
