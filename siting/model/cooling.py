"""Cooling climate of a site: lapse-corrected ERA5 temperatures, degree days, dew point, PUE, miner derate.

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
    ``cdd_cdays`` (the name carries no base; ``cdd_base_c`` is recorded in the score provenance):
    ``CDD = Σ_m max(0, T_m − base) · days_m`` from monthly means (:func:`cooling_degree_days`). Monthly
    means hide the days above the base in months whose mean is below it, so this underestimates CDD
    computed from daily means (a Thom-type correction would add them back; not applied).

Humidity
    GLDAS-2.1 NOAH annual specific humidity 2010-2018 (mean ``q̄`` and its 3-hourly standard deviation
    ``σ_q``, g/kg; the ``humidity`` grid layer), nearest listed land cell where the site's own is missing (the
    coast). Station pressure from the site elevation with the ICAO standard atmosphere,
    ``p = 1013.25 (1 − 2.25577e-5 z)^5.25588`` hPa; vapour pressure ``e = q p / (0.622 + 0.378 q)``; dew point
    by the inverse Magnus formula with the WMO/Sonntag (1990) coefficients ``a = 17.62, b = 243.12 °C,
    c = 6.112 hPa``: ``Td = b γ / (a − γ)``, ``γ = ln(e / c)``. ``dew_point_annual_c`` is the dew point of the
    annual mean humidity (not the mean of hourly dew points). ``q`` is that of the 0.25° cell, not corrected
    to the site elevation.

    Seasonal shape (an assumption; the mirror has annual humidity only): ``q_m = q̄ + shape · σ_q · z_m``
    with ``z_m`` the month's standardised temperature anomaly, i.e. humidity rises with the monthly
    temperature and the whole 3-hourly variance is given to the seasonal cycle (``humidity_shape = 1``).
    In Pakistan the humid season (monsoon) is the hot one, so the sign is right; the phase is not (the
    monsoon peaks in August, the heat in May-June), and diurnal and synoptic variance make ``σ_q`` an upper
    bound of the seasonal swing. ``humidity_shape = 0`` keeps the annual dew point all year, which is the
    more conservative choice for a humid coastal city (a PUE of 1.33 instead of 1.30).

    Without a humidity grid (a region ``prepare`` found no GLDAS table for) the dry-bulb model is used: no dew
    point limits the economiser hours and nothing is dehumidified, and ``dew_point_annual_c`` is NaN. No
    humidity figure is assumed in its place, so the PUE is a lower bound where the air is humid.

PUE
    A monthly air-side-economiser model (:func:`monthly_pue`); its structure follows the thermodynamics-based,
    economiser-dependent PUE models of Lei & Masanet (2020), Energy 201:117556. Every coefficient is a row of
    ``siting/regions/<ISO3>/cooling_coefficients.csv`` with its source (read by :func:`cooling_params`):

    - Fixed overheads per kW of IT (assumptions): power chain losses 0.05, fans 0.03, other 0.02: the
      free-cooling floor is PUE 1.10.
    - The ASHRAE TC 9.9 recommended envelope: dry bulb up to 27 °C, dew point up to 15 °C. Within a month the
      hourly dry bulb is uniform on mean ± 8 °C and the dew point on its monthly value ± 3 °C (assumptions),
      independent of each other. Economiser hours (``economiser_hours_share``) are the hours inside both.
    - Hours above 27 °C run on chillers at the mean temperature of those hours; hours at or below 27 °C but
      too humid run on chillers at the mean temperature of the cool hours. The chillers remove the heat of
      the IT load, fans and power losses (1.08 per unit IT) at an air-cooled COP that falls linearly with
      the outdoor temperature, ``COP = 3.31 − 0.122 (T − 35)`` (an air-cooled chiller rated EER 11.3 at
      95 °F and 17.1 at 70 °F; the ASHRAE 90.1 minimum at 35 °C is COP 2.80).
    - Dehumidification: while the month's dew point is above 15 °C, make-up air (0.0017 kg/s per kW IT, an
      assumption of 2 % of the supply air) is dried to the envelope: ``m Δw · 2,501 kJ/kg / COP``. It is
      small (about 0.005 per unit IT in a monsoon month at 20 °C dew point).
    - Annual PUE is the day-weighted mean of the monthly PUEs (constant IT load).
    - Not modelled: evaporative cooling (water stress), liquid cooling, part-load chiller efficiency,
      pumps and cooling towers.

Miners
    ``miner_derate_share``: the share of air-cooled ASIC output lost in the hottest month, output falling
    linearly from full at 35 °C intake (Whatsminer M32 operating limit) to nothing at 40 °C (Antminer
    cut-off), hourly temperatures uniform on the month's mean ± 8 °C (Compass Mining; see the table).

Money
    ``(PUE − 1) × 8,760 h`` is the overhead energy per unit of IT load a year (kWh per kW = MWh per MW);
    times a tariff it is money (:func:`cooling_cost_usd_per_mw_it_year`). The tariff and the exchange rate are
    the region's reference figures ``proposed_tariff_pkr_per_kwh`` and ``pkr_per_usd`` (``national.csv``,
    each with its source), which a study's ``figures:`` can replace.

Köppen-Geiger
    Main climate group from Beck et al. (2018), Sci. Data 5:180214, 30″ grid: codes (:func:`koppen_codes`)
    1 A tropical, 2 B arid, 3 C temperate, 4 D cold, 5 E polar, 0 nodata; the column ``koppen_group`` holds
    the labels (``""`` for nodata).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from siting._errors import ConfigError, DataError
from siting.config import CoolingParams
from siting.kernels.grids import Grid
from siting.kernels.labels import take_labels
from siting.kernels.linalg import row_dot

DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
HOURS_PER_YEAR = 8760.0
KELVIN = 273.15
KW_PER_TON_REFRIGERATION = 3.516853  # 12,000 BTU/h

KOPPEN_LABELS = {0: "", 1: "A tropical", 2: "B arid", 3: "C temperate", 4: "D cold", 5: "E polar"}


CDD_COLUMN = "cdd_cdays"
"""The cooling-degree-day column; its base (``cdd_base_c``) is recorded in the score provenance, not the name."""
LATENT_HEAT_KJ_PER_KG = 2501.0  # latent heat of vaporisation of water at 0 °C (kJ/kg), psychrometric standard
EPSILON = 0.622  # ratio of the molar masses of water vapour and dry air (18.015 / 28.965)
REFERENCE_TABLE = "cooling_coefficients.csv"


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
    return row_dot(np.maximum(monthly - base_c, 0.0), np.asarray(days_in_month, dtype=float))


def mechanical_fraction(t_month_c: ArrayLike, params: CoolingParams = CoolingParams()) -> NDArray[np.float64]:
    """Share of a month's hours warmer than the supply-air limit, hourly temperatures uniform on mean ± spread."""
    t = np.asarray(t_month_c, dtype=float)
    a = params.hourly_spread_c
    return np.clip((t + a - params.supply_air_max_c) / (2 * a), 0.0, 1.0)


def chiller_cop(t_outdoor_c: ArrayLike, params: CoolingParams = CoolingParams()) -> NDArray[np.float64]:
    """Air-cooled chiller COP at an outdoor temperature: ``COP_35 + slope · (T − 35)``, never below 1.

    The straight line through the two rating points of one air-cooled chiller (EER 11.3 at 95 °F, 17.1 at
    70 °F, i.e. COP 3.31 at 35 °C and 5.01 at 21.1 °C: slope −0.122 per °C); at 45 °C it gives 2.09, below the
    2.7-3.5 quoted for 40-45 °C (see ``cooling_coefficients.csv`` for the sources of both).
    """
    t = np.asarray(t_outdoor_c, dtype=float)
    return np.maximum(params.chiller_cop_35c + params.chiller_cop_slope_per_c * (t - 35.0), 1.0)


# --- humidity ---------------------------------------------------------------------------------------------


def station_pressure_hpa(elevation_m: ArrayLike) -> NDArray[np.float64]:
    """ICAO standard-atmosphere pressure at an elevation: ``1013.25 · (1 − 2.25577e-5 · z)^5.25588`` (hPa)."""
    z = np.asarray(elevation_m, dtype=float)
    return 1013.25 * (1.0 - 2.25577e-5 * z) ** 5.25588


def vapour_pressure_hpa(q_g_per_kg: ArrayLike, p_hpa: ArrayLike) -> NDArray[np.float64]:
    """Water vapour pressure from specific humidity and pressure: ``e = q · p / (0.622 + 0.378 q)``, q in kg/kg."""
    q = np.asarray(q_g_per_kg, dtype=float) / 1000.0
    return q * np.asarray(p_hpa, dtype=float) / (EPSILON + (1.0 - EPSILON) * q)


def mixing_ratio(e_hpa: ArrayLike, p_hpa: ArrayLike) -> NDArray[np.float64]:
    """Mixing ratio (kg water per kg dry air) of vapour pressure ``e`` at pressure ``p``: ``0.622 e / (p − e)``."""
    e = np.asarray(e_hpa, dtype=float)
    return EPSILON * e / (np.asarray(p_hpa, dtype=float) - e)


def saturation_vapour_pressure_hpa(t_c: ArrayLike) -> NDArray[np.float64]:
    """Magnus formula ``e_s = 6.112 · exp(17.62 T / (243.12 + T))`` (hPa; WMO/Sonntag 1990 coefficients)."""
    t = np.asarray(t_c, dtype=float)
    return 6.112 * np.exp(17.62 * t / (243.12 + t))


def dew_point_c(e_hpa: ArrayLike) -> NDArray[np.float64]:
    """Dew point of a vapour pressure, the inverse Magnus formula: ``243.12 γ / (17.62 − γ)``, ``γ = ln(e / 6.112)``."""
    g = np.log(np.asarray(e_hpa, dtype=float) / 6.112)
    return 243.12 * g / (17.62 - g)


def monthly_specific_humidity(
    q_mean: ArrayLike, q_sd: ArrayLike, monthly_c: ArrayLike, shape: float = 1.0
) -> NDArray[np.float64]:
    """Monthly specific humidity ``(n, 12)`` (g/kg) from the annual mean and standard deviation (stated assumption).

    ``q_m = q̄ + shape · σ_q · z_m``, ``z_m = (T_m − T̄) / sd(T)``: humidity rises and falls with the monthly
    temperature, the seasonal swing taking ``shape`` of the (3-hourly) standard deviation. In Pakistan the
    humid months (monsoon, June-September) are the hot ones, so the sign is right; the phase is not (the
    monsoon peaks in August, the heat in June). ``shape = 0`` keeps the annual humidity all year. Floored at
    a fifth of the mean (never negative).
    """
    t = np.asarray(monthly_c, dtype=float)
    sd_t = t.std(axis=-1, keepdims=True)
    z = np.divide(t - t.mean(axis=-1, keepdims=True), sd_t, out=np.zeros_like(t), where=sd_t > 0)
    q = np.asarray(q_mean, dtype=float)[..., None]
    return np.maximum(q + shape * np.asarray(q_sd, dtype=float)[..., None] * z, 0.2 * q)


def share_below(mean: ArrayLike, half_width: float, limit: float) -> NDArray[np.float64]:
    """Share of hours at or below ``limit`` when hourly values are uniform on ``mean ± half_width``."""
    m = np.asarray(mean, dtype=float)
    return np.clip((limit - (m - half_width)) / (2 * half_width), 0.0, 1.0)


def economiser_share(
    monthly_c: ArrayLike, monthly_dew_c: ArrayLike, params: CoolingParams = CoolingParams()
) -> NDArray[np.float64]:
    """Share of each month's hours inside the envelope (dry bulb ≤ 27 °C and dew point ≤ 15 °C).

    Dry bulb and dew point are each uniform about their monthly mean and taken as independent.
    """
    dry = share_below(monthly_c, params.hourly_spread_c, params.supply_air_max_c)
    return dry * share_below(monthly_dew_c, params.dewpoint_spread_c, params.dewpoint_max_c)


def monthly_pue(
    monthly_c: ArrayLike, params: CoolingParams = CoolingParams(), monthly_dew_c: ArrayLike | None = None
) -> NDArray[np.float64]:
    """PUE of each month from its mean dry bulb (°C) and, optionally, its mean dew point (°C).

    ``PUE = floor + Σ_parts share · heat / COP(T_part) + latent``:

    - hours above 27 °C run on chillers at the mean temperature of those hours;
    - hours at or below 27 °C but with the dew point above 15 °C run on chillers too (outside air would
      bring in too much moisture), at the mean temperature of the cool hours;
    - ``latent``: the make-up air is dried to the 15 °C dew point while the month's dew point is above it,
      ``m · (w_out − w_15) · 2,501 kJ/kg / COP``.

    ``heat = 1 + power losses + fans`` is the heat removed per unit of IT power. Without a dew point the
    month is taken as dry (the dry-bulb model).
    """
    t = np.asarray(monthly_c, dtype=float)
    a = params.hourly_spread_c
    limit = params.supply_air_max_c
    dry = share_below(t, a, limit)
    humid = (
        np.zeros_like(t)
        if monthly_dew_c is None
        else 1.0 - share_below(monthly_dew_c, params.dewpoint_spread_c, params.dewpoint_max_c)
    )
    t_hot = (np.maximum(limit, t - a) + t + a) / 2.0  # mean of the hours above the limit
    t_cool = (t - a + np.minimum(limit, t + a)) / 2.0  # mean of the hours at or below it
    heat = 1.0 + params.power_loss_fraction + params.fan_fraction
    chillers = (1.0 - dry) * heat / chiller_cop(t_hot, params) + dry * humid * heat / chiller_cop(t_cool, params)
    latent = np.zeros_like(t)
    if monthly_dew_c is not None:
        p = 1013.25  # the envelope's moisture limit is a dew point; the ratio hardly depends on pressure
        w_out = mixing_ratio(saturation_vapour_pressure_hpa(monthly_dew_c), p)
        w_max = mixing_ratio(saturation_vapour_pressure_hpa(params.dewpoint_max_c), p)
        latent_kw = params.makeup_air_kg_s_per_kw * np.maximum(w_out - w_max, 0.0) * LATENT_HEAT_KJ_PER_KG
        latent = latent_kw / chiller_cop(t, params)
    return params.pue_floor + chillers + latent


def miner_derate_share(hottest_c: ArrayLike, params: CoolingParams = CoolingParams()) -> NDArray[np.float64]:
    """Share of air-cooled ASIC output lost in the hottest month.

    Hourly intake temperature uniform on the month's mean ± spread; output falls linearly from full at
    ``miner_derate_start_c`` (35 °C) to nothing at ``miner_shutdown_c`` (40 °C). Exact mean of that ramp
    over the uniform hours (the integral of a clipped linear function).
    """
    t = np.asarray(hottest_c, dtype=float)
    a, t0, t1 = params.hourly_spread_c, params.miner_derate_start_c, params.miner_shutdown_c

    def ramp_integral(x: NDArray[np.float64]) -> NDArray[np.float64]:
        # ∫_{-inf}^{x} clip((u - t0) / (t1 - t0), 0, 1) du
        u = np.clip(x, t0, t1)
        return (u - t0) ** 2 / (2 * (t1 - t0)) + np.maximum(x - t1, 0.0)

    return (ramp_integral(t + a) - ramp_integral(t - a)) / (2 * a)


def pue_annual(
    monthly_c: ArrayLike,
    params: CoolingParams = CoolingParams(),
    days_in_month: ArrayLike = DAYS_IN_MONTH,
    monthly_dew_c: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Annual PUE: day-weighted mean of the monthly PUEs of ``(..., 12)`` monthly temperatures (and dew points)."""
    days = np.asarray(days_in_month, dtype=float)
    return row_dot(monthly_pue(monthly_c, params, monthly_dew_c), days) / days.sum()


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


def koppen_codes(lon: ArrayLike, lat: ArrayLike, grid: Grid) -> NDArray[np.uint8]:
    """Köppen-Geiger main group code (1..5) at each point, 0 where the grid has no data or the point is off it."""
    codes = np.nan_to_num(grid.sample(lon, lat)[:, 0], nan=0.0)
    codes[(codes < 0) | (codes > max(KOPPEN_LABELS))] = 0
    return codes.astype(np.uint8)


def koppen_label(codes: ArrayLike) -> NDArray[np.object_]:
    """Labels (``"B arid"``) of Köppen-Geiger codes; ``""`` for 0 (nodata)."""
    table = np.array([KOPPEN_LABELS[k] for k in range(max(KOPPEN_LABELS) + 1)], dtype=object)
    return table[np.asarray(codes, dtype=np.int64)]


def _koppen_column(codes: NDArray[np.uint8]) -> NDArray[np.object_] | pd.api.extensions.ExtensionArray:
    """:func:`koppen_label` of the codes as the column pandas makes of it, each label converted once."""
    table = np.array([KOPPEN_LABELS[k] for k in range(max(KOPPEN_LABELS) + 1)], dtype=object)
    return take_labels(table, codes)


# --- all together -----------------------------------------------------------------------------------------


def _fill_nearest(
    grid: NDArray[np.float64], bad: NDArray[np.bool_], what: str = "ERA5 temperature"
) -> NDArray[np.float64]:
    """Copy of ``(bands, rows, cols)`` where every cell flagged ``bad`` takes the nearest good cell's values."""
    if not bad.any():
        return grid
    if bad.all():
        raise DataError(f"the {what} grid has no valid cell; re-fetch it with `siting fetch`.")
    _, (ri, ci) = ndimage.distance_transform_edt(bad, return_indices=True)
    return grid[:, ri, ci]


def cooling_params(table: pd.DataFrame, overrides: dict[str, float] | None = None) -> CoolingParams:
    """Cooling coefficients from the reference table (``key, value, unit, source``), the study's overrides on top.

    Every :class:`CoolingParams` field must be a row of the table (``cooling_coefficients.csv``).
    """
    values = table.set_index("key")["value"]
    missing = [f for f in CoolingParams.__dataclass_fields__ if f not in values.index]
    if missing:
        raise ConfigError(f"{REFERENCE_TABLE} has no row {', '.join(missing)}; add each with its source.")
    defaults = {f: float(values[f]) for f in CoolingParams.__dataclass_fields__}
    return CoolingParams(**(defaults | dict(overrides or {})))


COOLING_COLUMNS = (
    "elevation_m",
    "t2m_annual_mean_c",
    "t2m_hottest_month_c",
    CDD_COLUMN,
    "lapse_correction_c",
    "dew_point_annual_c",
    "economiser_hours_share",
    "pue",
    "cooling_mwh_per_mw_it_year",
    "miner_derate_share",
    "koppen_group",
)
"""The columns of :func:`cooling_criteria`, in order."""


def _without_temperature(lon: NDArray[np.float64], lat: NDArray[np.float64], dem: Grid, koppen: Grid) -> pd.DataFrame:
    """Cooling columns of a region without a temperature grid: NaN but the site elevation and the Köppen group."""
    n = len(lon)
    codes = koppen_codes(lon, lat, koppen)
    out = pd.DataFrame({c: np.full(n, np.nan) for c in COOLING_COLUMNS})
    out["elevation_m"] = dem.sample(lon, lat)[:, 0]
    out["koppen_group"] = _koppen_column(codes)
    out.attrs["cooling_gaps"] = {
        "era5_nodata_fallback": 0,
        "dem_nodata": int(np.isnan(out["elevation_m"]).sum()),
        "humidity_nearest_cell": 0,
        "koppen_nodata": int((codes == 0).sum()),
    }
    return out


def cooling_criteria(
    lon: ArrayLike,
    lat: ArrayLike,
    t2m: Grid,
    dem: Grid,
    koppen: Grid,
    era5_cell_elevation: Grid,
    humidity: Grid,
    params: CoolingParams = CoolingParams(),
) -> pd.DataFrame:
    """Cooling columns for every point, temperatures lapse-corrected to the site elevation.

    Columns: ``elevation_m``, ``t2m_annual_mean_c``, ``t2m_hottest_month_c``, ``cdd_cdays``,
    ``lapse_correction_c`` (°C added to ERA5), ``dew_point_annual_c``, ``economiser_hours_share``, ``pue``,
    ``cooling_mwh_per_mw_it_year``, ``miner_derate_share``, ``koppen_group`` (label).

    Gaps, never silent zeros, counted in ``DataFrame.attrs["cooling_gaps"]``:

    - ``era5_nodata_fallback``: points on an ERA5 cell with no data take the nearest valid cell (grid
      distance).
    - ``dem_nodata``: points on a DEM nodata cell take the ERA5 cell's mean elevation (no correction); if
      that is missing too, the elevation is NaN and the correction 0 (and the pressure that of sea level).
    - ``humidity_nearest_cell``: points on or off a GLDAS cell without data (the coast) take the nearest one.
    - ``koppen_nodata``: points without a Köppen-Geiger class (label ``""``).

    A region without a temperature grid (``t2m`` all nodata) gets every column but the Köppen group and the
    elevation empty (NaN): there is nothing to compute them from. A region without humidity (``humidity`` all
    nodata) gets the dry-bulb model (:func:`monthly_pue` without a dew point) and an empty
    ``dew_point_annual_c``; no humidity figure is made up.

    Raises
    ------
    DataError
        If a point lies off the ERA5 grid.

    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if np.isnan(t2m.values).all():
        return _without_temperature(lon, lat, dem, koppen)

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

    dry = bool(np.isnan(humidity.values).all())  # no humidity: the dry-bulb model, every point on one "cell"
    h_rows, h_cols, h_inside = humidity.cell_index(lon, lat)  # off the grid: the clipped edge cell
    h_bad = np.asarray(np.isnan(humidity.values[:2]).any(axis=0))
    h_cells = humidity.values[:2] if dry else _fill_nearest(humidity.values[:2], h_bad, "GLDAS humidity")
    n_h = 1 if dry else h_bad.size
    h_flat = np.zeros(len(lon), dtype=np.int64) if dry else h_rows * h_bad.shape[1] + h_cols
    h_gap = np.zeros(len(lon), dtype=bool) if dry else h_bad.ravel()[h_flat] | ~h_inside

    # Everything depends only on (ERA5 cell, DEM cell, humidity cell): compute once per triple, then gather.
    key = (e_flat * (n_dem + 1) + d_flat) * n_h + h_flat
    triples, inverse = np.unique(key, return_inverse=True)
    ph = triples % n_h
    pe, pd_ = (triples // n_h) // (n_dem + 1), (triples // n_h) % (n_dem + 1)
    monthly = t2m_cells.reshape(12, -1)[:, pe].T
    z_cell = cell_elev.ravel()[pe]
    z_site = np.append(dem_cells.ravel(), np.nan)[pd_]
    dem_gap = np.isnan(z_site)
    z_site = np.where(dem_gap, z_cell, z_site)
    shift = np.nan_to_num(lapse_correction_c(z_site, z_cell, params.lapse_c_per_km), nan=0.0)
    corrected = monthly + shift[:, None]

    q_mean, q_sd = h_cells[0].ravel()[ph], h_cells[1].ravel()[ph]
    p_site = station_pressure_hpa(np.nan_to_num(z_site, nan=0.0))
    dew_annual = dew_point_c(vapour_pressure_hpa(q_mean, p_site))  # NaN without humidity
    days = DAYS_IN_MONTH
    if dry:  # the dry-bulb model: economiser hours limited by the dry bulb alone, no dehumidification
        dew_monthly = None
        econ = row_dot(share_below(corrected, params.hourly_spread_c, params.supply_air_max_c), days) / days.sum()
    else:
        q_monthly = monthly_specific_humidity(q_mean, q_sd, corrected, params.humidity_shape)
        dew_monthly = dew_point_c(vapour_pressure_hpa(q_monthly, p_site[:, None]))
        econ = row_dot(economiser_share(corrected, dew_monthly, params), days) / days.sum()
    pue = pue_annual(corrected, params, monthly_dew_c=dew_monthly)
    hottest = corrected.max(axis=1)

    codes = koppen_codes(lon, lat, koppen)
    out = pd.DataFrame(
        {
            "elevation_m": z_site[inverse],
            "t2m_annual_mean_c": corrected.mean(axis=1)[inverse],
            "t2m_hottest_month_c": hottest[inverse],
            CDD_COLUMN: cooling_degree_days(corrected, params.cdd_base_c)[inverse],
            "lapse_correction_c": shift[inverse],
            "dew_point_annual_c": dew_annual[inverse],
            "economiser_hours_share": econ[inverse],
            "pue": pue[inverse],
            "cooling_mwh_per_mw_it_year": cooling_overhead_kwh_per_kw_it_year(pue)[inverse],
            "miner_derate_share": miner_derate_share(hottest, params)[inverse],
            "koppen_group": _koppen_column(codes),
        }
    )
    out.attrs["cooling_gaps"] = {
        "era5_nodata_fallback": int(bad_cell.ravel()[e_flat].sum()),
        "dem_nodata": int(dem_gap[inverse].sum()),
        "humidity_nearest_cell": int(h_gap.sum()),
        "koppen_nodata": int((codes == 0).sum()),
    }
    return out
