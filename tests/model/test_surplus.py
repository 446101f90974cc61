"""The monthly provincial surplus model against the reference figures it is built from and national facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from siting._errors import ConfigError
from siting.config import Study
from siting.fields import F
from siting.io import reference
from siting.io.reference import Reference
from siting.model.surplus import MONTHS, provincial_surplus, zonal_deliverable


@pytest.fixture(scope="module")
def model(layers):
    return provincial_surplus(Study(name="t"), layers.provinces, layers.plants, Reference.for_study(Study(name="t")))


def test_monthly_demand_is_population_share_of_the_national_profile(model) -> None:
    monthly = model.monthly
    profile = reference.table("PAK", "demand_monthly.csv").sort_values("month")["peak_demand_mw"].to_numpy(float)
    national = monthly.groupby("month")["demand_mw"].sum().to_numpy()
    np.testing.assert_allclose(national, profile)
    pop = reference.provinces("PAK").set_index(F.ISO_3166_2)[F.POPULATION]
    july = monthly[monthly["month"] == 7].set_index(F.ISO_3166_2)["demand_mw"]
    np.testing.assert_allclose(july, 30150 * pop[july.index] / pop.sum())


def test_available_capacity_follows_fuel_availability(model, layers) -> None:
    """Recompute one province-month independently from the plants layer and the availability table.

    The legacy model runs on GEM's own roster (``origin == "gem"``, whatever the status table says).
    """
    avail = reference.table("PAK", "availability.csv").set_index("fuel")
    plants = layers.plants[layers.plants["origin"] == "gem"]
    kp = plants[plants[F.ISO_3166_2] == "PK-KP"].groupby("tracker")[F.CAPACITY_MW].sum()
    for month in (1, 7):
        expected = sum(mw * avail.loc[fuel, MONTHS[month - 1]] for fuel, mw in kp.items())
        got = model.monthly.query("iso_3166_2 == 'PK-KP' and month == @month")["available_mw"].item()
        assert got == pytest.approx(expected)
    # hydro-heavy Khyber Pakhtunkhwa has far more available in July than in January
    jan, jul = (model.monthly.query("iso_3166_2 == 'PK-KP' and month == @m")["available_mw"].item() for m in (1, 7))
    assert jul > 1.5 * jan


def test_national_totals_against_published_facts(model) -> None:
    checks = model.national.set_index("check")
    # GEM operating units (41,754 MW, the mirror README's tracker totals) + 1.8 GW wind + 1.3 GW solar
    assert checks.loc["installed capacity (MW)", "model"] == pytest.approx(
        7638 + 19863 + 10468 + 3530 + 255 + 3100, abs=2
    )
    # what is missing is about the 2,813 MW of net-metered solar, within a GW either way
    assert (
        0
        < checks.loc["installed capacity (MW)", "published"] - checks.loc["installed capacity (MW)", "model"]
        < 2813 + 1000
    )
    assert checks.loc["summer peak demand (MW)", "model"] == 30150
    assert 12000 <= checks.loc["winter trough demand (MW)", "model"] <= 13000


def test_surplus_is_seasonal_and_largest_in_the_south(model) -> None:
    t = model.provinces.set_index(F.ISO_3166_2)
    assert t[F.FIRM_SURPLUS_MW].idxmax() == "PK-SD"
    assert (t[F.FIRM_SURPLUS_MW] <= t[F.SURPLUS_MW] + 1e-9).all()  # the worst month is never above the median
    national = model.monthly.groupby("month")[["available_mw", "demand_mw"]].sum()
    idle = national["available_mw"] - national["demand_mw"]
    assert idle.loc[1] > 2 * idle.loc[7]  # far more idle capacity in winter than in summer
    assert t.loc["PK-IS", F.FIRM_SURPLUS_MW] < 0 and t.loc["PK-IS", F.SURPLUS_ENERGY_GWH] == 0


def test_zonal_deliverability_by_hand() -> None:
    south = np.array([True, True, False, False])
    # south +5,000 and +1,000; north -4,000 and +500 -> north short by 3,500, transfer capped at 2,000
    s = np.array([[5000.0], [1000.0], [-4000.0], [500.0]])
    d = zonal_deliverable(s, south, transfer_mw=2000)
    # south net 6,000 - 2,000 = 4,000 shared 5:1; north still short: its surplus province gets nothing
    np.testing.assert_allclose(d[:, 0], [4000 * 5 / 6, 4000 * 1 / 6, -4000, 0])
    # with ample transfer the north is covered and the south keeps 6,000 - 3,500
    d = zonal_deliverable(s, south, transfer_mw=10000)
    np.testing.assert_allclose(d[:, 0], [2500 * 5 / 6, 2500 / 6, -4000, 0])


def test_config_overrides_are_used_and_labelled(layers) -> None:
    study = Study(
        name="t",
        surplus={
            "national_peak_demand_mw": 28000,
            "capacity_mw": {"PK-SD": {"wind": 2500}},
            "surplus_mw": {"PK-PB": 1234},
        },
    )
    m = provincial_surplus(study, layers.provinces, layers.plants, Reference.for_study(study))
    t = m.provinces.set_index(F.ISO_3166_2)
    assert t.loc["PK-SD", "capacity_wind_mw"] == 2500
    assert t.loc["PK-SD", "capacity_basis"] == "study config"
    assert t.loc["PK-PB", "surplus_basis"].startswith("study config")
    assert m.monthly.groupby("month")["demand_mw"].sum().max() == pytest.approx(28000)
    figures = m.figures.set_index("figure")
    assert figures.loc["capacity_mw.PK-SD.wind", "basis"] == "study config"
    assert "study config" in figures.loc["monthly_peak_demand_mw", "basis"]
    assert "assumption" in figures.loc["availability.hydro", "basis"]


@pytest.mark.parametrize(
    ("surplus", "message"),
    [
        ({"capacity_mw": {"PK-XX": {"wind": 1.0}}}, r"surplus\.capacity_mw\.PK-XX: unknown province code"),
        ({"capacity_mw": {"PK-SD": {"tidal": 1.0}}}, r"surplus\.capacity_mw\.PK-SD\.tidal: unknown fuel"),
        ({"availability": {"geothermal": [0.5] * 12}}, r"surplus\.availability\.geothermal: unknown fuel"),
        ({"south_zone": ["Sindhh"]}, r"surplus\.south_zone\.Sindhh: unknown province code"),
    ],
)
def test_bad_overrides_are_refused(layers, surplus, message) -> None:
    # unknown provinces are refused when the study is read (ValidationError, a ConfigError via load_study)
    with pytest.raises((ConfigError, ValidationError), match=message):
        provincial_surplus(
            Study(name="t", surplus=surplus),
            layers.provinces,
            layers.plants,
            Reference.for_study(Study(name="t", surplus=surplus)),
        )


def test_monthly_table_is_complete(model) -> None:
    assert len(model.monthly) == 7 * 12
    assert not model.monthly.isna().any().any()
    assert isinstance(model.figures, pd.DataFrame) and model.figures["basis"].notna().all()


def test_study_figures_override_the_national_defaults(layers) -> None:
    base = provincial_surplus(Study(name="t"), layers.provinces, layers.plants, Reference.for_study(Study(name="t")))
    study = Study(name="t", figures={"south_north_transfer_mw": 0.0, "average_load_served_mw": 15075.0})
    m = provincial_surplus(study, layers.provinces, layers.plants, Reference.for_study(study))
    figures = m.figures.set_index("figure")
    assert figures.loc["south_north_transfer_mw", "value"] == 0.0
    assert figures.loc["south_north_transfer_mw", "basis"] == "study config"
    assert figures.loc["load_factor", "value"] == pytest.approx(15075 / 30150, abs=1e-4)
    assert figures.loc["load_factor", "basis"].startswith("average load served (study config)")
    # no transfer: the north keeps its own deficits, so Punjab's worst month cannot improve
    pb = lambda t: t.provinces.set_index(F.ISO_3166_2).loc["PK-PB", F.FIRM_SURPLUS_MW]  # noqa: E731
    assert pb(m) <= pb(base)
