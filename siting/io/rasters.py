"""Cut a region out of an official global raster: the Köppen-Geiger 1-km zip and DEM tiles.

Both are clipped to the bounding box of the region's admin-0 outline plus a margin (``pad_deg``), snapped
outward to the output grid, and written as EPSG:4326 GeoTIFFs in the layout of the mirror's grids:

- ``koppen_zip``: the zip of Beck et al. (2018), read in place (``/vsizip/``), its 30 classes mapped to the five
  main groups by the catalog's ``groups`` (1 A tropical ... 5 E polar; 0 nodata), uint8.
- ``dem_tiles``: 1°x1° DEM tiles (Copernicus GLO-90 on AWS), averaged onto a coarse grid (``cells_per_degree``),
  int16 metres with ``nodata``. A tile the server does not have is sea (the Copernicus readme: "ocean areas do not
  have tiles"); pixels equal to ``sea_value`` count as sea too, and a cell with nothing but sea is nodata, as the
  coast proxy expects (it reads the DEM's nodata cells as the sea).
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
import rasterio.errors
from affine import Affine
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window

from siting._errors import DataError

if TYPE_CHECKING:
    from siting.io.extract import Region

MISSING_SUFFIX = ".missing"
"""A tile the server answered 404 for is recorded in the cache as ``<tile file>.missing`` (sea, no tile)."""


def snapped_bounds(
    bounds: Iterable[float], pad_deg: float, res: float, origin: tuple[float, float] = (-180.0, 90.0)
) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)``: ``bounds`` plus ``pad_deg``, snapped outward to a grid of ``res``.

    Parameters
    ----------
    bounds
        ``(min lon, min lat, max lon, max lat)``.
    pad_deg
        Margin added on every side.
    res
        Cell size of the grid (degrees).
    origin
        ``(lon, lat)`` of a grid corner (the top-left corner of a global grid).

    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    ox, oy = origin

    def snap(value: float, o: float, up: bool) -> float:
        steps = (value - o) / res
        return o + (math.ceil(steps - 1e-6) if up else math.floor(steps + 1e-6)) * res

    west, east = snap(minx - pad_deg, ox, False), snap(maxx + pad_deg, ox, True)
    south, north = snap(miny - pad_deg, oy, False), snap(maxy + pad_deg, oy, True)
    return west, max(south, -90.0), east, min(north, 90.0)


def _outline_bounds(region: Region) -> tuple[float, float, float, float]:
    if region.outline is None:
        raise DataError("the rasters are cut by the admin-0 outline; fetch naturalearth.admin0 first.")
    minx, miny, maxx, maxy = region.outline.total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def _write(dest: Path, data: np.ndarray, transform: Affine, nodata: float, tags: dict[str, str]) -> None:
    profile = {
        "driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1, "dtype": data.dtype.name,
        "crs": "EPSG:4326", "transform": transform, "nodata": nodata, "compress": "deflate",
    }  # fmt: skip
    with rasterio.open(dest, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(**tags)


def _group_table(groups: dict) -> np.ndarray:
    """256-entry lookup: class code → main group (0 for codes in no group)."""
    lut = np.zeros(256, dtype=np.uint8)
    for group, (lo, hi) in groups.items():
        lut[int(lo) : int(hi) + 1] = int(group)
    return lut


def koppen_zip(artefact: Path, dest: Path, region: Region, rule: dict) -> int:
    """Cut the Köppen-Geiger zip's 1-km GeoTIFF to the region, as main groups; return the cells with a group."""
    member = str(rule["member"])
    try:
        with zipfile.ZipFile(artefact) as zf:
            names = [n for n in zf.namelist() if n.endswith(member)]
    except zipfile.BadZipFile as exc:
        raise DataError(f"{artefact} is not a zip ({exc}); delete it and fetch again.") from exc
    if not names:
        raise DataError(f"{artefact} holds no {member}; is it the Köppen-Geiger archive the catalog names?")
    with rasterio.open(f"/vsizip/{{{artefact}}}/{names[0]}") as src:  # braces: the archive has no .zip suffix
        if src.crs is None or src.crs.to_epsg() != 4326:
            raise DataError(f"{artefact}/{names[0]} is in {src.crs}, not EPSG:4326; is it the catalogued map?")
        t = src.transform
        west, south, east, north = snapped_bounds(_outline_bounds(region), float(rule["pad_deg"]), t.a, (t.c, t.f))
        col, row = round((west - t.c) / t.a), round((t.f - north) / -t.e)
        width, height = round((east - west) / t.a), round((north - south) / -t.e)
        codes = src.read(1, window=Window(col, row, width, height), boundless=True, fill_value=0)
        out_t = Affine(t.a, 0.0, t.c + col * t.a, 0.0, t.e, t.f + row * t.e)
    groups = _group_table(rule["groups"])[codes]
    _write(dest, groups, out_t, 0, {"classes": "1 A tropical, 2 B arid, 3 C temperate, 4 D cold, 5 E polar, 0 nodata"})
    return int((groups > 0).sum())


def tile_name(lon: int, lat: int) -> str:
    """Name of the 1°x1° tile whose south-west corner is (``lon``, ``lat``), e.g. ``N24_00_E067_00``."""
    return f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}_00_{'E' if lon >= 0 else 'W'}{abs(lon):03d}_00"


def tiles(bounds: tuple[float, float, float, float]) -> list[str]:
    """Names of the 1° tiles that a ``(west, south, east, north)`` box meets, north-west first."""
    west, south, east, north = bounds
    lons = range(math.floor(west), math.ceil(east))
    lats = range(math.ceil(north) - 1, math.floor(south) - 1, -1)
    return [tile_name(lon, lat) for lat in lats for lon in lons]


def dem_grid(region: Region, rule: dict) -> tuple[tuple[float, float, float, float], Affine, tuple[int, int]]:
    """Return the output grid of a DEM extract: its bounds, transform and ``(rows, cols)``."""
    res = 1.0 / int(rule["cells_per_degree"])
    west, south, east, north = snapped_bounds(_outline_bounds(region), float(rule["pad_deg"]), res)
    shape = (round((north - south) / res), round((east - west) / res))
    return (west, south, east, north), Affine(res, 0.0, west, 0.0, -res, north), shape


def tile_file(cache: Path, url_template: str, name: str) -> Path:
    """Where the tile ``name`` of ``url_template`` is cached."""
    return cache / Path(url_template.replace("{tile}", name)).name


def dem_tiles(artefact: Path, dest: Path, region: Region, rule: dict) -> int:
    """Average the cached DEM tiles onto the region's coarse grid; return the number of cells with an elevation.

    Parameters
    ----------
    artefact
        The cache folder holding the tiles (and ``.missing`` markers for tiles the server does not have).
    dest
        GeoTIFF to write (int16 metres, ``nodata`` where there is only sea or no tile).
    region
        The region, with its admin-0 outline.
    rule
        ``url`` (with ``{tile}``), ``cells_per_degree``, ``pad_deg``, ``nodata`` and optionally ``sea_value``.

    """
    bounds, transform, shape = dem_grid(region, rule)
    out = np.full(shape, np.nan, dtype=np.float64)
    sea = rule.get("sea_value")
    for name in tiles(bounds):
        path = tile_file(artefact, str(rule["url"]), name)
        if not path.is_file():
            continue  # the server has no such tile: sea
        try:
            with rasterio.open(path) as src:
                pixels = src.read(1, masked=True).astype(np.float64).filled(np.nan)
                src_t, src_crs = src.transform, src.crs
        except rasterio.errors.RasterioError as exc:
            raise DataError(f"{path} is not a readable GeoTIFF ({exc}); delete it and fetch again.") from exc
        if sea is not None:
            pixels[pixels == float(sea)] = np.nan
        cell = np.full(shape, np.nan, dtype=np.float64)
        reproject(pixels, cell, src_transform=src_t, src_crs=src_crs or "EPSG:4326", src_nodata=np.nan,
                  dst_transform=transform, dst_crs="EPSG:4326", dst_nodata=np.nan,
                  resampling=Resampling.average)  # fmt: skip
        out = np.where(np.isnan(out), cell, out)  # tiles do not overlap: each cell gets one tile's mean
    nodata = int(rule["nodata"])
    metres = np.where(np.isnan(out), nodata, np.rint(out)).astype(np.int16)
    _write(dest, metres, transform, nodata, {"units": "m", "source": "mean of the DEM tile pixels in each cell"})
    return int((metres != nodata).sum())
