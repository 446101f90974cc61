"""The first provincial surplus model against the reference figures it is built from."""

from __future__ import annotations

import numpy as np
import pytest

from siting import reference
from siting._errors import ConfigError
from siting.config import Study
from siting.fields import F
from siting.surplus import provincial_surplus


def test_surplus_is_capacity_minus_population_share_of_peak(layers) -> None:
    table = provincial_surplus(Study(name="t"), layers.provinces, layers.plants).set_index(F.ISO_3166_2)
    peak = reference.national_value("PAK", "peak_demand_mw")
    assert peak == 30150
    pop = reference.provinces("PAK").set_index(F.ISO_3166_2)[F.POPULATION]
    np.testing.assert_allclose(table[F.PEAK_DEMAND_MW], peak * pop[table.index] / pop.sum())
    np.testing.assert_allclose(table[F.PEAK_DEMAND_MW].sum(), peak)
    cap = layers.plants.groupby(F.ISO_3166_2)[F.CAPACITY_MW].sum().reindex(table.index, fill_value=0)
    np.testing.assert_allclose(table[F.CAPACITY_MW], cap)
    np.testing.assert_allclose(table[F.SURPLUS_MW], table[F.CAPACITY_MW] - table[F.PEAK_DEMAND_MW])
    # Sindh, home of Thar coal, Karachi nuclear and the gas fleet, has the largest surplus; ICT has none
    assert table[F.SURPLUS_MW].idxmax() == "PK-SD"
    assert table.loc["PK-IS", F.SURPLUS_MW] < 0


def test_config_overrides_are_used_and_labelled(layers) -> None:
    study = Study(
        name="t",
        surplus={"national_peak_demand_mw": 28000, "capacity_mw": {"PK-SD": 15000}, "surplus_mw": {"PK-PB": 1234}},
    )
    table = provincial_surplus(study, layers.provinces, layers.plants).set_index(F.ISO_3166_2)
    assert table.loc["PK-SD", F.CAPACITY_MW] == 15000
    assert table.loc["PK-SD", "capacity_basis"] == "study config"
    assert table.loc["PK-KP", "capacity_basis"] == "GEM operating units"
    assert table.loc["PK-PB", F.SURPLUS_MW] == 1234
    assert table.loc["PK-PB", "surplus_basis"] == "study config"
    np.testing.assert_allclose(table[F.PEAK_DEMAND_MW].sum(), 28000)
    assert "study config" in table["peak_demand_basis"].iloc[0]


def test_unknown_province_code_is_refused(layers) -> None:
    study = Study(name="t", surplus={"capacity_mw": {"PK-XX": 1.0}})
    with pytest.raises(ConfigError, match=r"surplus\.capacity_mw\.PK-XX: unknown province code; use one of"):
        provincial_surplus(study, layers.provinces, layers.plants)
