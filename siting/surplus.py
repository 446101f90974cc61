"""Provincial surplus, first model: operating capacity minus the province's share of national peak demand.

    surplus_mw = capacity_mw - peak_demand_mw
    capacity_mw = sum of operating GEM units located in the province (point in polygon)
    peak_demand_mw = national peak demand × population share (census 2023 + estimates for AJK and GB)

The model is deliberately simple and every figure is visible: it ignores seasonality, plant availability,
wind and solar (absent from the GEM files) and transmission limits. Any figure can be replaced in the
study config; the ``*_basis`` columns say which values were supplied and which are defaults.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from siting import reference
from siting._errors import ConfigError
from siting.config import Study
from siting.fields import F


def _check_keys(overrides: dict[str, float], valid: pd.Series, key: str) -> None:
    for code in overrides:
        if code not in set(valid):
            raise ConfigError(f"surplus.{key}.{code}: unknown province code; use one of {', '.join(sorted(valid))}.")


def provincial_surplus(study: Study, provinces: gpd.GeoDataFrame, plants: gpd.GeoDataFrame) -> pd.DataFrame:
    """Compute the surplus table, one row a province.

    Parameters
    ----------
    study
        The study; its ``surplus`` section overrides defaults, keyed by ISO 3166-2 code.
    provinces
        Province layer (``iso_3166_2, province, population``).
    plants
        Operating plants layer (``iso_3166_2, capacity_mw``).

    Returns
    -------
    DataFrame
        ``iso_3166_2, province, population, demand_share, capacity_mw, peak_demand_mw, surplus_mw`` and the
        ``*_basis`` columns naming the source of each figure.

    """
    cfg = study.surplus
    codes = provinces[F.ISO_3166_2]
    for key in ("population", "capacity_mw", "surplus_mw"):
        _check_keys(getattr(cfg, key), codes, key)
    iso3 = study.region.iso3
    table = pd.DataFrame({F.ISO_3166_2: codes.to_numpy(), F.PROVINCE: provinces[F.PROVINCE].to_numpy()})

    pop = provinces.set_index(F.ISO_3166_2)[F.POPULATION]
    table[F.POPULATION] = [cfg.population.get(c, pop[c]) for c in table[F.ISO_3166_2]]
    ref = reference.provinces(iso3).set_index(F.ISO_3166_2)
    table["population_basis"] = [
        "study config" if c in cfg.population else f"{ref.loc[c, 'population_basis']}" for c in table[F.ISO_3166_2]
    ]
    table[F.DEMAND_SHARE] = table[F.POPULATION] / table[F.POPULATION].sum()

    cap = plants.groupby(F.ISO_3166_2)[F.CAPACITY_MW].sum()
    table[F.CAPACITY_MW] = [cfg.capacity_mw.get(c, float(cap.get(c, 0.0))) for c in table[F.ISO_3166_2]]
    table["capacity_basis"] = [
        "study config" if c in cfg.capacity_mw else "GEM operating units" for c in table[F.ISO_3166_2]
    ]

    if cfg.national_peak_demand_mw is not None:
        peak, peak_basis = cfg.national_peak_demand_mw, "study config"
    else:
        peak = reference.national_value(iso3, "peak_demand_mw")
        peak_basis = reference.national(iso3).loc["peak_demand_mw", "source"]
    table[F.PEAK_DEMAND_MW] = table[F.DEMAND_SHARE] * peak
    table["peak_demand_basis"] = f"{peak:,.0f} MW national peak ({peak_basis}) × population share"

    table[F.SURPLUS_MW] = table[F.CAPACITY_MW] - table[F.PEAK_DEMAND_MW]
    for code, value in cfg.surplus_mw.items():
        table.loc[table[F.ISO_3166_2] == code, F.SURPLUS_MW] = value
    table["surplus_basis"] = [
        "study config" if c in cfg.surplus_mw else "capacity − share of peak demand" for c in table[F.ISO_3166_2]
    ]
    return table
