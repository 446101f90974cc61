"""Cooling climate of a site: lapse-corrected ERA5 temperatures, cooling degree days, PUE and its cost.

Pure, vectorised functions (arrays in, arrays out); the only file access is through the grid helpers of
:mod:`siting.layers.climate`. :func:`cooling_criteria` assembles everything for candidate points.

Temperature
    ERA5 monthly 2 m temperature climatology 2000-2025 on 0.25° cells. A 0.25° cell carries the temperature
    of its *mean* orography, so in mountain valleys (Gilgit, Skardu, Chitral) it reads far too cold. Each
    month is corrected to the site elevation with a constant lapse rate::

        T_site = T_cell − Γ · (z_site − z_cell) / 1000,   Γ = 6.5 °C/km by default

    6.5 °C/km is the tropospheric lapse rate of the ICAO Standard Atmosphere (ICAO Doc 7488; "an overall
    lapse rate of 6.5 deg C km⁻¹ from the surface to the tropopause, which is taken to lie at a height of
    11 km", Oxford Dictionary of Meteorology, entry "ICAO standard atmosphere"). Near-surface lapse rates
    vary by season and valley; Γ is a parameter.

    ``z_cell``: the mirror does not carry ERA5's own orography (surface geopotential), so the mean of the
    coarse DEM over each 0.25° cell stands in for it (:func:`era5_cell_elevation`). ERA5's orography is
    spectrally smoothed and is probably higher than a box mean in deep valleys, so the correction is, if
    anything, too small there.
    ``z_site``: the DEM cell (1/12°, ~9 km, cell *means* quantised to 28 m) holding the site. The DEM is
    itself coarse: valley floors read high (Gilgit town 1,874 m on the DEM, Quetta 2,154 m), which again
    makes the correction too small in valleys. Both limits are shown in ``tests/test_cooling.py``.

Cooling degree days
    ``CDD = Σ_m max(0, T_m − base) · days_m`` from monthly means (:func:`cooling_degree_days`). Monthly
    means hide the days above the base in months whose mean is below it, so this underestimates CDD
    computed from daily means (a Thom-type correction would add them back; not applied).

PUE
    A monthly air-side-economiser model (:func:`monthly_pue`), documented here because no published
    coefficient set could be verified offline. Its structure follows the thermodynamics-based, economiser-
    dependent PUE models of Lei & Masanet (2020), "Statistical analysis for predicting location-specific
    data center PUE and its improvement potential", Energy 201:117556 (who find climate and UPS efficiency
    the most important inputs); its numbers are assumptions, each a :class:`CoolingParams` field:

    - Fixed overheads per kW of IT: power chain losses (UPS, transformers) 0.05, air-moving fans 0.03,
      lighting and other 0.02, so PUE never falls below 1.10 (the free-cooling floor).
    - Supply air may be as warm as 27 °C, the upper bound of the ASHRAE TC 9.9 recommended envelope for
      IT inlet air (18-27 °C; ASHRAE, *Thermal Guidelines for Data Processing Environments*, 5th ed., 2021).
      Outdoor air at or below that cools the hall for the fans alone.
    - Within a month the hourly temperature is taken as uniformly spread over mean ± 8 °C (an assumption
      standing in for the diurnal and day-to-day range). The share of hours above 27 °C runs on chillers:
      none while the monthly mean is ≤ 19 °C, all when it is ≥ 35 °C.
    - In those hours the chiller removes the heat of the IT load, fans and power losses with
      ``COP = η · T_evap / (T_out + approach − T_evap)`` (a fraction η = 0.5 of the Carnot COP, evaporator
      15 °C, condenser 10 K above the mean outdoor temperature of the mechanical hours). At 35 °C outdoor
      that gives COP 4.80, i.e. 0.73 kW of compressor power per ton of refrigeration, inside the 0.6-0.8 kW/ton
      that Baltimore Aircoil Company gives for chiller compressors ("Minimizing Energy Costs with Free
      Cooling", BAC technical resources: "a cooling tower fan motor, which consumes about 0.2 kW/ton, rather
      than a chiller compressor motor, consuming about 0.6 to 0.8 kW/ton").
    - Annual PUE is the day-weighted mean of the monthly PUEs (constant IT load).
    - Dry-bulb only: humidity (the humid coast at Karachi), evaporative cooling and liquid cooling are not
      modelled. The 18-27 °C envelope is quoted from a secondary summary of the ASHRAE guideline
      (heathertechnologies.com, "ASHRAE TC 9.9 Thermal Guidelines for Data Centers").

    For scale: the Uptime Institute's industry-average PUE was 1.58 in 2023 (Uptime Intelligence update 221,
    "Large data centers are mostly more efficient, analysis confirms", Nov 2023); the model describes a new
    economised facility and stays well below that everywhere in Pakistan.

Money
    ``(PUE − 1) × 8,760 h`` is the overhead energy per unit of IT load a year (kWh per kW = MWh per MW);
    times a tariff it is money (:func:`cooling_cost_usd_per_mw_it_year`). The tariff and the exchange rate are
    the region's reference figures ``proposed_tariff_pkr_per_kwh`` and ``pkr_per_usd`` (``national.csv``,
    each with its source), which a study's ``figures:`` can replace.

Köppen-Geiger
    Main climate group from Beck et al. (2018), Sci. Data 5:180214, 30″ grid: 1 A tropical, 2 B arid,
    3 C temperate, 4 D cold, 5 E polar, 0 nodata (label "").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from siting._errors import ConfigError, DataError
from siting.config import CoolingParams
from siting.kernels.grids import Grid

DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
HOURS_PER_YEAR = 8760.0
KELVIN = 273.15
KW_PER_TON_REFRIGERATION = 3.516853  # 12,000 BTU/h

KOPPEN_LABELS = {0: "", 1: "A tropical", 2: "B arid", 3: "C temperate", 4: "D cold", 5: "E polar"}


def cdd_column(base_c: float) -> str:
    """Name of the cooling-degree-day column for a base temperature, e.g. ``cdd18_cdays``."""
    return f"cdd{base_c:g}_cdays"


# --- elevation and lapse rate -----------------------------------------------------------------------------


def lapse_correction_c(
    site_elev_m: ArrayLike, era5_cell_elev_m: ArrayLike, lapse_c_per_km: float = 6.5
) -> NDArray[np.float64]:
    """Temperature to add to the ERA5 cell value: ``−Γ · (z_site − z_cell) / 1000`` (°C); NaN propagates."""
    site = np.asarray(site_elev_m, dtype=float)
    cell = np.asarray(era5_cell_elev_m, dtype=float)
    return -lapse_c_per_km * (site - cell) / 1000.0


def lapse_corrected_monthly(
    monthly_c: ArrayLike, site_elev_m: ArrayLike, era5_cell_elev_m: ArrayLike, lapse_c_per_km: float = 6.5
) -> NDArray[np.float64]:
    """Monthly temperatures ``(n, 12)`` moved from the ERA5 cell's elevation to the site's (°C).

    ``T_site = T_cell − lapse · (z_site − z_cell) / 1000``, the same shift for every month.
    """
    monthly = np.asarray(monthly_c, dtype=float)
    return monthly + lapse_correction_c(site_elev_m, era5_cell_elev_m, lapse_c_per_km)[..., None]


# --- degree days and PUE ----------------------------------------------------------------------------------


def cooling_degree_days(
    monthly_c: ArrayLike, base_c: float = 18.0, days_in_month: ArrayLike = DAYS_IN_MONTH
) -> NDArray[np.float64]:
    """Cooling degree days (°C·days a year) from monthly mean temperatures ``(..., 12)``.

    ``Σ_m max(0, T_m − base) · days_m``. From monthly means this underestimates the CDD of daily data in
    months whose mean is near the base.
    """
    monthly = np.asarray(monthly_c, dtype=float)
    return np.maximum(monthly - base_c, 0.0) @ np.asarray(days_in_month, dtype=float)


def mechanical_fraction(t_month_c: ArrayLike, params: CoolingParams = CoolingParams()) -> NDArray[np.float64]:
    """Share of a month's hours warmer than the supply-air limit, hourly temperatures uniform on mean ± spread."""
    t = np.asarray(t_month_c, dtype=float)
    a = params.hourly_spread_c
    return np.clip((t + a - params.supply_air_max_c) / (2 * a), 0.0, 1.0)


def chiller_cop(t_outdoor_c: ArrayLike, params: CoolingParams = CoolingParams()) -> NDArray[np.float64]:
    """Chiller COP at an outdoor temperature: ``η · T_evap / (T_out + approach − T_evap)`` (kelvin)."""
    t = np.asarray(t_outdoor_c, dtype=float)
    lift = np.maximum(t + params.condenser_approach_c - params.evaporator_c, 1.0)
    return params.carnot_fraction * (params.evaporator_c + KELVIN) / lift


def monthly_pue(monthly_c: ArrayLike, params: CoolingParams = CoolingParams()) -> NDArray[np.float64]:
    """PUE of each month from its mean temperature (°C), same shape as the input.

    ``PUE = floor + f_mech · (1 + losses + fans) / COP(T_mech)`` where ``f_mech`` is the share of hours above
    the supply-air limit and ``T_mech`` their mean temperature (see the module docstring).
    """
    t = np.asarray(monthly_c, dtype=float)
    a = params.hourly_spread_c
    f_mech = mechanical_fraction(t, params)
    t_mech = (np.maximum(params.supply_air_max_c, t - a) + t + a) / 2.0  # mean of the hours above the limit
    heat = 1.0 + params.power_loss_fraction + params.fan_fraction
    return params.pue_floor + f_mech * heat / chiller_cop(t_mech, params)


def pue_annual(
    monthly_c: ArrayLike, params: CoolingParams = CoolingParams(), days_in_month: ArrayLike = DAYS_IN_MONTH
) -> NDArray[np.float64]:
    """Annual PUE: day-weighted mean of the monthly PUEs of ``(..., 12)`` monthly temperatures."""
    days = np.asarray(days_in_month, dtype=float)
    return monthly_pue(monthly_c, params) @ days / days.sum()


def cooling_overhead_kwh_per_kw_it_year(pue: ArrayLike) -> NDArray[np.float64]:
    """Energy for cooling and other overheads per kW of IT load a year: ``(PUE − 1) × 8,760`` (kWh/kW = MWh/MW)."""
    return (np.asarray(pue, dtype=float) - 1.0) * HOURS_PER_YEAR


def tariff_usd_per_kwh(tariff_pkr_per_kwh: float, pkr_per_usd: float) -> float:
    """Convert a tariff in local currency per kWh to US$/kWh."""
    if not pkr_per_usd > 0:
        raise ConfigError(f"pkr_per_usd must be positive, not {pkr_per_usd}.")
    return tariff_pkr_per_kwh / pkr_per_usd


def cooling_cost_usd_per_mw_it_year(pue: ArrayLike, tariff_usd_per_kwh: float) -> NDArray[np.float64]:
    """Yearly cost (US$) of the overhead energy of 1 MW of IT load at a tariff (US$/kWh)."""
    return cooling_overhead_kwh_per_kw_it_year(pue) * (tariff_usd_per_kwh * 1000.0)


# --- Köppen-Geiger ----------------------------------------------------------------------------------------


def koppen_class(lon: ArrayLike, lat: ArrayLike, grid: Grid) -> NDArray[np.uint8]:
    """Köppen-Geiger main group code (1..5) at each point, 0 where the grid has no data or the point is off it."""
    codes = np.nan_to_num(grid.sample(lon, lat)[:, 0], nan=0.0)
    codes[(codes < 0) | (codes > max(KOPPEN_LABELS))] = 0
    return codes.astype(np.uint8)


def koppen_label(codes: ArrayLike) -> NDArray[np.object_]:
    """Labels (``"B arid"``) of Köppen-Geiger codes; ``""`` for 0 (nodata)."""
    table = np.array([KOPPEN_LABELS[k] for k in range(max(KOPPEN_LABELS) + 1)], dtype=object)
    return table[np.asarray(codes, dtype=np.int64)]


# --- all together -----------------------------------------------------------------------------------------


def _fill_nearest(grid: NDArray[np.float64], bad: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Copy of ``(bands, rows, cols)`` where every cell flagged ``bad`` takes the nearest good cell's values."""
    if not bad.any():
        return grid
    if bad.all():
        raise DataError("the ERA5 temperature grid has no valid cell; re-fetch it with `siting fetch`.")
    _, (ri, ci) = ndimage.distance_transform_edt(bad, return_indices=True)
    return grid[:, ri, ci]


def cooling_criteria(
    lon: ArrayLike,
    lat: ArrayLike,
    t2m: Grid,
    dem: Grid,
    koppen: Grid,
    era5_cell_elevation: Grid,
    params: CoolingParams = CoolingParams(),
) -> pd.DataFrame:
    """Cooling columns for every point, temperatures lapse-corrected to the site elevation.

    Columns: ``elevation_m``, ``t2m_annual_mean_c``, ``t2m_hottest_month_c``, ``cdd<base>_cdays``,
    ``lapse_correction_c`` (°C added to ERA5), ``pue``, ``cooling_mwh_per_mw_it_year``, ``koppen_class``.

    Gaps, never silent zeros, counted in ``DataFrame.attrs["cooling_gaps"]``:

    - ``era5_nodata_fallback``: points on an ERA5 cell with no data take the nearest valid cell (grid
      distance).
    - ``dem_nodata``: points on a DEM nodata cell take the ERA5 cell's mean elevation (no correction); if
      that is missing too, the elevation is NaN and the correction 0.
    - ``koppen_nodata``: points without a Köppen-Geiger class (label ``""``).

    Raises
    ------
    DataError
        If a point lies off the ERA5 grid.

    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)

    e_rows, e_cols, e_inside = t2m.cell_index(lon, lat)
    if not e_inside.all():
        raise DataError(
            f"{int((~e_inside).sum())} points fall outside the ERA5 grid ({t2m.name}); check that the climate "
            f"grid covers the whole study region."
        )
    bad_cell = np.asarray(np.isnan(t2m.values).any(axis=0))
    t2m_cells = _fill_nearest(t2m.values, bad_cell)
    cell_elev = era5_cell_elevation.values[0]
    e_flat = e_rows * t2m_cells.shape[2] + e_cols

    d_rows, d_cols, d_inside = dem.cell_index(lon, lat)
    dem_cells = dem.values[0]
    n_dem = dem_cells.size
    d_flat = np.where(d_inside, d_rows * dem_cells.shape[1] + d_cols, n_dem)  # n_dem: off the DEM

    # Everything depends only on (ERA5 cell, DEM cell): compute once per pair, then gather.
    pairs, inverse = np.unique(e_flat * (n_dem + 1) + d_flat, return_inverse=True)
    pe, pd_ = pairs // (n_dem + 1), pairs % (n_dem + 1)
    monthly = t2m_cells.reshape(12, -1)[:, pe].T
    z_cell = cell_elev.ravel()[pe]
    z_site = np.append(dem_cells.ravel(), np.nan)[pd_]
    dem_gap = np.isnan(z_site)
    z_site = np.where(dem_gap, z_cell, z_site)
    shift = np.nan_to_num(lapse_correction_c(z_site, z_cell, params.lapse_c_per_km), nan=0.0)
    corrected = monthly + shift[:, None]
    pue = pue_annual(corrected, params)

    codes = koppen_class(lon, lat, koppen)
    out = pd.DataFrame(
        {
            "elevation_m": z_site[inverse],
            "t2m_annual_mean_c": corrected.mean(axis=1)[inverse],
            "t2m_hottest_month_c": corrected.max(axis=1)[inverse],
            cdd_column(params.cdd_base_c): cooling_degree_days(corrected, params.cdd_base_c)[inverse],
            "lapse_correction_c": shift[inverse],
            "pue": pue[inverse],
            "cooling_mwh_per_mw_it_year": cooling_overhead_kwh_per_kw_it_year(pue)[inverse],
            "koppen_class": koppen_label(codes),
        }
    )
    out.attrs["cooling_gaps"] = {
        "era5_nodata_fallback": int(bad_cell.ravel()[e_flat].sum()),
        "dem_nodata": int(dem_gap[inverse].sum()),
        "koppen_nodata": int((codes == 0).sum()),
    }
    return out
