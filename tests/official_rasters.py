"""Test helpers: official-format raster artefacts built from the mirror's grids (no network, no real CDS).

- :func:`era5_netcdf`: a CDS-style NetCDF of ERA5 monthly means 2000-2025 (``valid_time``, ``latitude``,
  ``longitude``; t2m in K, tp in m of water per day) whose climatology is the mirror's, with a year-to-year trend
  that averages out.
- :class:`FakeCds`: stands in for the ``cdsapi`` module; its client records the request and writes that NetCDF.
- :func:`koppen_zip`: a zip laid out like Beck et al.'s ``Beck_KG_V1.zip``, the 1-km map holding the mirror's
  groups as class codes, inside a margin of another class.
- :func:`dem_tiles`: 1° GeoTIFF tiles named like Copernicus GLO-90 on AWS, holding the mirror's DEM (its sea
  written as 0 m); tiles with no land are not written (the server answers 404, as for the ocean).
"""

from __future__ import annotations

import calendar
import datetime
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from scipy.io import netcdf_file

ERA5 = "era5/era5_monthly_climatology_2000_2025_{}_PAK.tif"
KOPPEN = "koppen/KG_simplified_uint8_PAK.tif"
DEM = "dem/Altitude_PAK_metres.tif"
CODE_OF_GROUP = np.array([0, 3, 4, 8, 21, 30], dtype=np.uint8)  # Aw, BWh, Csa, Dwa, EF stand for groups 1-5


def read(path: Path) -> tuple[np.ndarray, Affine, object]:
    with rasterio.open(path) as src:
        return src.read(), src.transform, src.crs


def era5_netcdf(mirror: Path, dest: Path, years: range = range(2000, 2026)) -> None:
    t2m, t, _ = read(mirror / ERA5.format("t2m"))
    tp, _, _ = read(mirror / ERA5.format("tp"))
    rows, cols = t2m.shape[1:]
    times, temps, rains = [], [], []
    middle = (years[0] + years[-1]) / 2
    for y in years:
        for m in range(1, 13):
            times.append((datetime.datetime(y, m, 1) - datetime.datetime(1970, 1, 1)).total_seconds())
            trend = (y - middle) * 0.02
            temps.append(t2m[m - 1] + 273.15 + trend)
            rains.append((tp[m - 1] + trend) / 1000.0 / calendar.monthrange(y, m)[1])
    dest.parent.mkdir(parents=True, exist_ok=True)
    with netcdf_file(dest, "w") as nc:
        nc.createDimension("valid_time", len(times))
        nc.createDimension("latitude", rows)
        nc.createDimension("longitude", cols)
        v = nc.createVariable("valid_time", "f8", ("valid_time",))
        v[:], v.units, v.calendar = times, "seconds since 1970-01-01", "proleptic_gregorian"
        v = nc.createVariable("latitude", "f8", ("latitude",))
        v[:], v.units = t.f + t.e * (np.arange(rows) + 0.5), "degrees_north"
        v = nc.createVariable("longitude", "f8", ("longitude",))
        v[:], v.units = t.c + t.a * (np.arange(cols) + 0.5), "degrees_east"
        for name, values, units in (("t2m", temps, "K"), ("tp", rains, "m")):
            v = nc.createVariable(name, "f4", ("valid_time", "latitude", "longitude"))
            v[:], v.units = np.asarray(values, dtype=np.float32), units


class FakeCds:
    """A stand-in for the ``cdsapi`` module: ``FakeCds(mirror).Client().retrieve(name, request, target)``."""

    def __init__(self, mirror: Path) -> None:
        self.mirror = mirror
        self.requests: list[tuple[str, dict]] = []

    def Client(self) -> FakeCds:  # the name cdsapi gives it
        return self

    def retrieve(self, name: str, request: dict, target: str) -> None:
        self.requests.append((name, request))
        era5_netcdf(self.mirror, Path(target))


def koppen_zip(mirror: Path, dest: Path, margin_cells: int = 120) -> None:
    (groups,), t, crs = read(mirror / KOPPEN)
    codes = np.full((groups.shape[0] + 2 * margin_cells, groups.shape[1] + 2 * margin_cells), 29, dtype=np.uint8)
    codes[margin_cells:-margin_cells, margin_cells:-margin_cells] = CODE_OF_GROUP[groups]
    wider = Affine(t.a, 0.0, t.c - margin_cells * t.a, 0.0, t.e, t.f - margin_cells * t.e)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tif = dest.with_name(dest.name + ".tif")
    profile = {"driver": "GTiff", "width": codes.shape[1], "height": codes.shape[0], "count": 1, "dtype": "uint8",
               "crs": crs, "transform": wider, "nodata": 0, "compress": "deflate"}  # fmt: skip
    with rasterio.open(tif, "w", **profile) as dst:
        dst.write(codes, 1)
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr("legend.txt", "Koppen-Geiger classes 1 Af ... 30 EF")
        zf.write(tif, "Beck_KG_V1_future_0p0083.tif")  # a map that must not be picked
        zf.write(tif, "Beck_KG_V1_present_0p0083.tif")
    tif.unlink()


def dem_tiles(mirror: Path, names: list[str], template: str, per_degree: int = 24) -> int:
    """Write the tiles of ``names`` that hold land at ``template`` (a path with ``{tile}``); return how many."""
    (dem,), t, _ = read(mirror / DEM)
    land = np.where(dem == -32768, 0, dem).astype(np.float32)  # the sea as 0 m, as in a coastal tile
    written = 0
    for name in names:
        lat = (1 if name[0] == "N" else -1) * int(name[1:3])
        lon = (1 if name[7] == "E" else -1) * int(name[8:11])
        centres = (np.arange(per_degree) + 0.5) / per_degree
        cols = np.floor((lon + centres - t.c) / t.a).astype(int)
        rows = np.floor((t.f - (lat + 1 - centres)) / -t.e).astype(int)
        inside_c, inside_r = (cols >= 0) & (cols < dem.shape[1]), (rows >= 0) & (rows < dem.shape[0])
        tile = np.zeros((per_degree, per_degree), dtype=np.float32)
        tile[np.ix_(inside_r, inside_c)] = land[np.ix_(rows[inside_r], cols[inside_c])]
        if not (tile != 0).any():
            continue  # all sea (or off the mirror): no tile, as for the ocean
        path = Path(template.replace("{tile}", name))
        path.parent.mkdir(parents=True, exist_ok=True)
        transform = Affine(1.0 / per_degree, 0.0, lon, 0.0, -1.0 / per_degree, lat + 1)
        profile = {"driver": "GTiff", "width": per_degree, "height": per_degree, "count": 1, "dtype": "float32",
                   "crs": "EPSG:4326", "transform": transform}  # fmt: skip
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(tile, 1)
        written += 1
    return written
