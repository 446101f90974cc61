"""Gridded layers: ERA5 monthly 2 m temperature, elevation, Köppen-Geiger classes.

Grids stay grids: they are checked and written as GeoTIFF to ``data/processed/layers/<ISO3>/`` and sampled
at candidate points by index arithmetic (no per-point Python loop).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
from affine import Affine
from numpy.typing import ArrayLike, NDArray

from siting._errors import DataError
from siting.kernels.grids import Grid


def check_exists(path: Path, what: str) -> None:
    """Fail with one sentence if a prepared grid is missing."""
    if not path.is_file():
        raise DataError(f"{path} ({what}) is missing; run `siting prepare` first.")


def check_raster(path: Path, what: str, bands: int, units: str | None = None) -> None:
    """Fail with one sentence unless ``path`` is a readable EPSG:4326 GeoTIFF with ``bands`` bands."""
    if not path.is_file():
        raise DataError(f"{path} ({what}) is missing; run `siting fetch` (or `make data`) first.")
    try:
        with rasterio.open(path) as src:
            crs, count, tags = src.crs, src.count, src.tags()
            src.read()  # every block: a truncated file fails here, not later while sampling
    except rasterio.errors.RasterioError as exc:
        raise DataError(f"{path} ({what}) could not be read as a GeoTIFF; re-fetch it with `siting fetch`.") from exc
    if crs is None or crs.to_epsg() != 4326:
        raise DataError(f"{path} ({what}) must be in EPSG:4326 (lon/lat degrees), not {crs}; reproject it.")
    if count != bands:
        raise DataError(f"{path} ({what}) has {count} bands where {bands} are expected; supply the catalogued grid.")
    if units and tags.get("units") not in (None, units):
        raise DataError(f"{path} ({what}) is in {tags.get('units')} where {units} is expected; convert it.")


def sample(path: Path, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """Value of every band at each point (nearest cell), shape ``(n_points, n_bands)``; NaN off the grid.

    Nodata cells come back as NaN.
    """
    return load_grid(path).sample(lon, lat)


def read_grid(path: Path) -> tuple[NDArray[np.float64], Affine]:
    """Every band of a north-up grid as float64 ``(bands, rows, cols)`` with nodata as NaN, and its transform."""
    try:
        with rasterio.open(path) as src:
            data = src.read().astype(np.float64)
            if src.nodata is not None and not np.isnan(src.nodata):
                data[data == src.nodata] = np.nan
            t = src.transform
    except rasterio.errors.RasterioError as exc:
        raise DataError(f"{path} could not be read as a GeoTIFF; run `siting prepare` again to rebuild it.") from exc
    if t.b != 0 or t.d != 0:
        raise DataError(f"{path} is a rotated grid; warp it to a north-up EPSG:4326 grid first.")
    return data, t


def load_grid(path: Path, name: str | None = None) -> Grid:
    """Read a GeoTIFF into memory as a :class:`~siting.kernels.grids.Grid` (see :func:`read_grid`)."""
    data, transform = read_grid(path)
    return Grid(data, transform, name or str(path))


def average_onto(src_path: Path, like_path: Path) -> tuple[NDArray[np.float64], Affine]:
    """Area-weighted mean of ``src_path`` (band 1) over each cell of the grid of ``like_path``.

    GDAL's ``average`` resampling (rasterio.warp.reproject) weights partially covered source cells by the
    covered fraction and ignores nodata; a target cell with no valid source cell is NaN.
    """
    from rasterio.warp import Resampling, reproject

    with rasterio.open(src_path) as src, rasterio.open(like_path) as like:
        data = src.read(1).astype(np.float64)
        if src.nodata is not None and not np.isnan(src.nodata):
            data[data == src.nodata] = np.nan
        out = np.full((like.height, like.width), np.nan)
        reproject(
            data,
            out,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=like.transform,
            dst_crs=like.crs,
            src_nodata=np.nan,
            dst_nodata=np.nan,
            resampling=Resampling.average,
        )
        return out, like.transform


HUMIDITY_CELL_DEG = 0.25
HUMIDITY_BANDS = ("specific_humidity_mean", "specific_humidity_rms")


def humidity_grid(csv_path: Path) -> tuple[NDArray[np.float64], Affine]:
    """GLDAS annual specific humidity (g/kg) as a 0.25° grid: band 1 the mean, band 2 the rms; NaN where absent.

    The pvcz table lists land cells by centre, rounded to two decimals (``23.62, 68.9``); each is snapped to
    its 0.25° cell (``floor(x / 0.25)``). Only the cells listed carry values: the GLDAS land mask leaves the
    coastal fringe (a port city's own cell) empty, and the compute takes the nearest listed cell there.
    """
    import pandas as pd

    try:
        table = pd.read_csv(csv_path, usecols=["lat", "lon", *HUMIDITY_BANDS])
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{csv_path} (gldas.stressors) could not be read as the GLDAS stressor table with columns lat, lon, "
            f"{', '.join(HUMIDITY_BANDS)}; re-fetch it with `siting fetch`."
        ) from exc
    if table.empty:
        raise DataError(f"{csv_path} (gldas.stressors) has no cells; re-fetch it with `siting fetch`.")
    d = HUMIDITY_CELL_DEG
    col = np.floor(table["lon"].to_numpy(float) / d).astype(int)
    row = np.floor(table["lat"].to_numpy(float) / d).astype(int)
    west, north = col.min() * d, (row.max() + 1) * d
    r, c = row.max() - row, col - col.min()
    values = np.full((len(HUMIDITY_BANDS), r.max() + 1, c.max() + 1), np.nan)
    for band, name in enumerate(HUMIDITY_BANDS):
        values[band, r, c] = table[name].to_numpy(float)
    return values, Affine(d, 0.0, west, 0.0, -d, north)


def write_grid(path: Path, values: NDArray[np.float64], transform: Affine, units: str) -> None:
    """Write ``(bands, rows, cols)`` float32 as an EPSG:4326 GeoTIFF, NaN as nodata, with a ``units`` tag."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[1],
        width=values.shape[2],
        count=values.shape[0],
        dtype="float32",
        crs="EPSG:4326",
        transform=transform,
        nodata=np.nan,
    ) as dst:
        dst.write(values.astype(np.float32))
        dst.update_tags(units=units)
