"""ERA5 monthly means from the Copernicus Climate Data Store (CDS), turned into the 12-band climatology grids.

Three steps, each testable on its own:

- :func:`request` builds the CDS API request (a pure function): dataset "ERA5 monthly averaged data on single
  levels", product ``monthly_averaged_reanalysis``, the catalogued variables, every month of the catalogued years,
  and an ``area`` [N, W, S, E] cut from the region's admin-0 extent, snapped outward to the 0.25° grid.
- :func:`retrieve` sends it with the ``cdsapi`` client (the ``era5`` extra) when the user has a key;
  :func:`missing_key` says why not otherwise.
- :func:`climatology` turns the downloaded NetCDF (or GRIB, or a zip of NetCDF files) into the GeoTIFF layout
  siting reads: EPSG:4326, float32, 12 bands (band n = calendar month n, mean over the years), NaN nodata, a
  ``units`` tag (``degC`` for 2 m temperature, ``mm per month`` for total precipitation).

Units (ECMWF, "ERA5: how to calculate daily total precipitation", confluence.ecmwf.int/pages/viewpage.action?
pageId=197702790): 2 m temperature is in K; the monthly averaged reanalysis gives total precipitation as the mean
daily total in m of water per day, so a month's total is ``tp * 1000 * days in that month`` mm.
"""

from __future__ import annotations

import calendar
import datetime
import math
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
import rasterio.errors
from affine import Affine
from numpy.typing import NDArray

from siting._errors import DataError

if TYPE_CHECKING:
    from siting.io.extract import Region

REGISTER_URL = "https://cds.climate.copernicus.eu"
HOWTO_URL = "https://cds.climate.copernicus.eu/how-to-api"
API_URL = "https://cds.climate.copernicus.eu/api"
RC_ENV = "CDSAPI_RC"
"""cdsapi reads its key from ``$CDSAPI_RC`` or ``~/.cdsapirc``, or from ``CDSAPI_URL`` and ``CDSAPI_KEY``."""

CONVERSIONS: dict[str, Callable[[NDArray[np.float64], int, int], NDArray[np.float64]]] = {
    "kelvin_to_celsius": lambda v, _y, _m: v - 273.15,
    "m_per_day_to_mm_per_month": lambda v, y, m: v * 1000.0 * calendar.monthrange(y, m)[1],
}
"""Named unit conversions a catalog entry can ask for (``convert``), applied per month of each year."""


def area(bounds: Iterable[float], grid_deg: float, pad_deg: float) -> list[float]:
    """Return the CDS ``area`` [north, west, south, east] covering ``bounds`` with a margin, on the grid.

    Parameters
    ----------
    bounds
        ``(min lon, min lat, max lon, max lat)`` of the region's admin-0 outline.
    grid_deg
        Spacing of the grid points (0.25° for ERA5).
    pad_deg
        Margin added on every side before snapping outward to the grid.

    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)

    def snap(value: float, up: bool) -> float:
        steps = value / grid_deg
        return round((math.ceil(steps - 1e-9) if up else math.floor(steps + 1e-9)) * grid_deg, 6)

    north = min(snap(maxy + pad_deg, True), 90.0)
    south = max(snap(miny - pad_deg, False), -90.0)
    return [north, snap(minx - pad_deg, False), south, snap(maxx + pad_deg, True)]


def request(bounds: Iterable[float], rule: dict, variables: list[str]) -> dict[str, Any]:
    """Build the CDS API request for the monthly means of ``variables`` over the region.

    Parameters
    ----------
    bounds
        ``(min lon, min lat, max lon, max lat)`` of the region's admin-0 outline.
    rule
        The catalog's ``official_format`` of an ERA5 file: ``years`` [first, last], ``grid_deg``, ``pad_deg`` and
        optionally ``data_format`` (``netcdf`` or ``grib``).
    variables
        CDS variable names, e.g. ``["2m_temperature", "total_precipitation"]``.

    Returns
    -------
    dict
        The request, in the key names of the CDS web form's "Show API request".

    """
    first, last = (int(y) for y in rule["years"])
    if first > last:
        raise DataError(f"catalog.yml era5 years {rule['years']} run backwards; give [first, last], e.g. [2000, 2025].")
    return {
        "product_type": ["monthly_averaged_reanalysis"],
        "variable": sorted(set(variables)),
        "year": [str(y) for y in range(first, last + 1)],
        "month": [f"{m:02d}" for m in range(1, 13)],
        "time": ["00:00"],
        "data_format": str(rule.get("data_format", "netcdf")),
        "download_format": "unarchived",
        "area": area(bounds, float(rule["grid_deg"]), float(rule["pad_deg"])),
    }


def missing_key() -> str | None:
    """Return why no CDS request can be made here (no key, or no ``cdsapi``), or None when one can."""
    default = Path.home() / ".cdsapirc"
    rc = Path(os.environ.get(RC_ENV) or default)
    where = "~/.cdsapirc" if rc == default else f"{rc} (${RC_ENV}; by default ~/.cdsapirc)"
    has_env = bool(os.environ.get("CDSAPI_URL") and os.environ.get("CDSAPI_KEY"))
    has_rc = rc.is_file() and {"url", "key"} <= {
        line.split(":", 1)[0].strip() for line in rc.read_text(errors="replace").splitlines() if ":" in line
    }
    if not (has_env or has_rc):
        return (
            f"ERA5 comes from the Copernicus Climate Data Store, which needs a free key: register at {REGISTER_URL}, "
            f"accept the licence of the ERA5 monthly means, write `url: {API_URL}` and `key: <your personal access "
            f"token>` into {where} (see {HOWTO_URL}) and pip install 'siting[era5]'; or use the mirror instead "
            f"(--mirror, Pakistan only), or put the 12-band climatology GeoTIFFs at the catalogued paths in "
            f"data/raw/era5/"
        )
    try:
        import cdsapi  # noqa: F401
    except ImportError:
        return (
            f"a CDS key is set ({'CDSAPI_KEY' if has_env else where}) but the cdsapi package is missing; "
            f"pip install 'siting[era5]' (or conda install -c conda-forge cdsapi), or use the mirror (--mirror)"
        )
    return None


def retrieve(dataset: str, req: dict, dest: Path) -> None:
    """Send ``req`` to the CDS with the user's key and download the result into ``dest`` (atomically).

    Raises
    ------
    DataError
        If the CDS refuses or fails the request (bad key, licence not accepted, no data).

    """
    import cdsapi

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        cdsapi.Client().retrieve(dataset, req, str(part))
    except Exception as exc:  # cdsapi raises plain Exception for every refusal
        part.unlink(missing_ok=True)
        raise DataError(
            f"the Copernicus CDS did not deliver {dataset} ({str(exc).strip() or type(exc).__name__}); check the key "
            f"in ~/.cdsapirc and that the dataset's licence is accepted on {REGISTER_URL}, or use the mirror."
        ) from exc
    if not part.is_file() or part.stat().st_size == 0:
        raise DataError(f"the Copernicus CDS returned no file for {dataset}; retry later or use the mirror.")
    os.replace(part, dest)


# --- reading the download -----------------------------------------------------------------------------------------

_SINCE = re.compile(r"^\s*(seconds|minutes|hours|days)\s+since\s+(\d{4}-\d{1,2}-\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?")


def _decode_time(value: str, units: str) -> datetime.datetime:
    m = _SINCE.match(units)
    if m is None:
        raise DataError(f"the ERA5 time axis has units {units!r}; expected '<unit> since <date>' (CF convention).")
    epoch = datetime.datetime.fromisoformat(m.group(2)).replace(hour=int(m.group(3) or 0), minute=int(m.group(4) or 0))
    return epoch + datetime.timedelta(**{m.group(1): float(value)})


def _netcdf_series(path: Path, var: str) -> tuple[list[NDArray[np.float64]], list[datetime.datetime], Affine] | None:
    """Bands of ``var`` in a NetCDF file with each band's time, and the grid; None if the file lacks ``var``."""
    try:
        src = rasterio.open(f'NETCDF:"{path}":{var}')
    except rasterio.errors.RasterioIOError:
        return None
    with src:
        tags = src.tags()
        time_dim = next((k[len("NETCDF_DIM_") :] for k in src.tags(1) if k.startswith("NETCDF_DIM_")), None)
        units = tags.get(f"{time_dim}#units", "")
        if time_dim is None or not units:
            raise DataError(f"{path}: {var} has no time axis; is it the CDS download of the ERA5 monthly means?")
        data, times = [], []
        for b in range(1, src.count + 1):
            band = src.read(b, masked=True).astype(np.float64)
            scale, offset = src.scales[b - 1] or 1.0, src.offsets[b - 1] or 0.0
            data.append(np.ma.filled(band * scale + offset, np.nan))
            times.append(_decode_time(src.tags(b)[f"NETCDF_DIM_{time_dim}"], units))
        return data, times, src.transform


def _grib_series(path: Path, element: str) -> tuple[list[NDArray[np.float64]], list[datetime.datetime], Affine] | None:
    with rasterio.open(path) as src:
        data, times = [], []
        for b in range(1, src.count + 1):
            tags = src.tags(b)
            if tags.get("GRIB_ELEMENT", "").upper() != element.upper():
                continue
            seconds = float(tags["GRIB_VALID_TIME"].split()[0])
            times.append(datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds))
            data.append(np.ma.filled(src.read(b, masked=True).astype(np.float64), np.nan))
        return (data, times, src.transform) if data else None


def read_series(path: Path, rule: dict) -> tuple[list[NDArray[np.float64]], list[datetime.datetime], Affine]:
    """Every time step of the catalogued variable in a CDS download (NetCDF, GRIB or a zip of either).

    Raises
    ------
    DataError
        If the file holds no such variable.

    """
    var = str(rule["variable"])
    if zipfile.is_zipfile(path):  # the CDS zips variables of different step types into one archive each
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path) as zf:
            for i, info in enumerate(m for m in zf.infolist() if not m.is_dir()):
                member = Path(tmp) / f"member_{i}"  # a fixed name: no path from the archive is used
                member.write_bytes(zf.read(info))
                if (found := _series_of(member, var, rule)) is not None:
                    return found
    elif (found := _series_of(path, var, rule)) is not None:
        return found
    raise DataError(
        f"{path} holds no variable {var}; delete it and fetch again (or pass --refresh) so the CDS request is redone."
    )


def _series_of(path: Path, var: str, rule: dict) -> tuple | None:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == b"GRIB":
        return _grib_series(path, str(rule.get("grib_element", var)))
    if head[:3] == b"CDF" or head == b"\x89HDF":
        return _netcdf_series(path, var)
    return None


def climatology(artefact: Path, dest: Path, region: Region, rule: dict) -> int:
    """Write the 12-band monthly climatology GeoTIFF of one ERA5 variable; return the number of cells with data.

    Parameters
    ----------
    artefact
        The CDS download (NetCDF, GRIB, or a zip of them).
    dest
        GeoTIFF to write.
    region
        Unused (the request was already cut to the region).
    rule
        ``variable`` (``t2m``, ``tp``), ``convert`` (a key of :data:`CONVERSIONS`), ``units`` and ``years``.

    """
    data, times, transform = read_series(artefact, rule)
    first, last = (int(y) for y in rule["years"])
    convert = CONVERSIONS[str(rule["convert"])]
    months: dict[int, list[NDArray[np.float64]]] = {m: [] for m in range(1, 13)}
    for values, t in zip(data, times, strict=True):
        if first <= t.year <= last:
            months[t.month].append(convert(values, t.year, t.month))
    empty = [m for m, v in months.items() if not v]
    if empty:
        raise DataError(
            f"{artefact} has no {rule['variable']} for month {empty[0]} in {first}-{last}; fetch again with --refresh."
        )
    with warnings.catch_warnings():  # a cell with no data in any year stays NaN, without a RuntimeWarning
        warnings.simplefilter("ignore", RuntimeWarning)
        stack = np.stack([np.nanmean(np.stack(months[m]), axis=0) for m in range(1, 13)]).astype(np.float32)
    _write(dest, stack, transform, rule)
    return int(np.isfinite(stack[0]).sum())


def _write(dest: Path, stack: NDArray[np.float32], transform: Affine, rule: dict) -> None:
    var, units = str(rule["variable"]), str(rule["units"])
    profile = {
        "driver": "GTiff", "width": stack.shape[2], "height": stack.shape[1], "count": 12, "dtype": "float32",
        "crs": "EPSG:4326", "transform": transform, "nodata": float("nan"), "compress": "deflate",
    }  # fmt: skip
    first, last = rule["years"]
    with rasterio.open(dest, "w", **profile) as dst:
        dst.write(stack)
        dst.update_tags(
            variable=var,
            units=units,
            source=f"ERA5 monthly averaged reanalysis (Copernicus CDS), mean of {first}-{last}",
        )
        for m in range(1, 13):
            dst.set_band_description(m, f"{var}_month_{m:02d}")
            dst.update_tags(m, month=str(m), units=units)
