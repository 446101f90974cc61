"""Connection points and headroom end to end: the criteria and the allocation use the same grid stations and the
same headroom (siting.model.headroom), and no HVDC converter or plant switchyard ever serves a site."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.config import AllocationRules
from siting.decide import allocation
from siting.fields import F
from siting.io.reference import Reference
from siting.model import headroom

NOT_CONNECTION_POINTS = ("Matiari-Lahore HVDC Converter station", "Moro Converter Station", "Tarbela")


@pytest.fixture(scope="module")
def placed(result, profile):
    return allocation.allocate(result.sites, result.provinces, profile.allocation)


def test_the_named_stations_are_not_connection_points(layers) -> None:
    subs = layers.substations
    for name in NOT_CONNECTION_POINTS:
        rows = subs[subs[F.NAME] == name]
        assert len(rows) and (rows[F.KIND] != "grid_station").all(), name


def test_no_cell_site_top_site_or_allocation_uses_a_converter_or_switchyard(result, placed, layers) -> None:
    subs = layers.substations
    bad = set(
        zip(
            subs.loc[subs[F.KIND] != "grid_station", F.NAME],
            subs.loc[subs[F.KIND] != "grid_station", F.VOLTAGE_KV],
            strict=True,
        )
    )
    good = set(
        zip(
            subs.loc[subs[F.KIND] == "grid_station", F.NAME],
            subs.loc[subs[F.KIND] == "grid_station", F.VOLTAGE_KV],
            strict=True,
        )
    )
    only_bad = {(n, kv) for n, kv in bad - good if n}
    for table in (result.scored, result.top, result.sites):
        used = set(zip(table[F.SUBSTATION_NAME], table[F.SUBSTATION_KV], strict=True))
        assert not used & only_bad
        assert not set(table[F.SUBSTATION_NAME]) & set(NOT_CONNECTION_POINTS)
    assert not any(s.startswith(NOT_CONNECTION_POINTS) for s in placed.stations["station"])
    # dist_substation_km is measured to grid stations only: at the converter the nearest one is elsewhere
    conv = subs[subs[F.NAME] == NOT_CONNECTION_POINTS[0]].geometry.iloc[0]
    grid_stations = subs[(subs[F.KIND] == "grid_station") & (subs[F.VOLTAGE_KV] >= 220)]
    from siting.kernels.geodesy import haversine_km

    nearest = haversine_km(conv.x, conv.y, grid_stations.geometry.x, grid_stations.geometry.y).min()
    assert nearest > 0.5


def test_criteria_and_allocation_give_the_same_headroom(result, placed, layers, study) -> None:
    subs = layers.substations
    table = headroom.station_headroom(subs, Reference.for_study(study))
    grid = subs[F.KIND] == "grid_station"
    label = subs[F.NAME].where(subs[F.NAME] != "", "unnamed (OSM " + subs["osm_id"] + ")")
    by_station = pd.DataFrame(
        {
            "name": label[grid],
            "kv": subs.loc[grid, F.VOLTAGE_KV],
            "mw": table.loc[grid, F.SUBSTATION_HEADROOM_MW],
        }
    )
    got, basis = allocation.station_headroom(result.sites, AllocationRules())
    assert "siting.model.headroom" in basis
    for (name, kv), mw in zip(
        zip(result.sites[F.SUBSTATION_NAME], result.sites[F.SUBSTATION_KV], strict=True), got, strict=True
    ):
        options = by_station[(by_station["name"] == name) & (by_station["kv"] == kv)]["mw"]
        assert mw in set(options), (name, kv, mw)
    # the allocation's station table carries the same figure and never exceeds it
    assert (placed.stations["allocated_mw"] <= placed.stations["headroom_mw"] + 1e-9).all()
    cells = result.scored
    kki = cells[cells[F.SUBSTATION_NAME] == "unnamed (OSM 1431679698)"]  # K-Electric KKI: 1,000 MVA, named figure
    assert len(kki) and np.allclose(kki[F.SUBSTATION_HEADROOM_MW], 1000 * 2 / 3 * 0.9 * (1 - 0.81))
    for name in ("Gatti", "Shikarpur", "Rohri New", "Daharki"):  # on the constrained list: no headroom anywhere
        sel = cells[cells[F.SUBSTATION_NAME] == name]
        assert (sel[F.SUBSTATION_HEADROOM_MW] == 0).all()


def test_class_headroom_is_the_station_formula() -> None:
    ref = Reference.load("PAK")
    t = pd.DataFrame({F.NAME: ["", "", ""], F.VOLTAGE_KV: [500.0, 220.0, 132.0], "osm_id": ["a", "b", "c"]})
    np.testing.assert_allclose(
        headroom.class_headroom_mw(t[F.VOLTAGE_KV].to_numpy(), ref),
        headroom.station_headroom(t, ref)[F.SUBSTATION_HEADROOM_MW],
    )
    pf = ref.value("power_factor")
    assert headroom.class_headroom_mw(np.array([500.0]), ref)[0] == pytest.approx(1460 * 2 / 3 * pf * (1 - 0.81))


def test_a_profile_override_replaces_a_class_and_says_so() -> None:
    s = pd.DataFrame(
        {
            "site_id": ["A", "B"],
            F.SUBSTATION_NAME: ["S1", "S2"],
            F.SUBSTATION_KV: [220.0, 500.0],
            F.SUBSTATION_HEADROOM_MW: [85.0, 166.0],
        }
    )
    got, basis = allocation.station_headroom(s, AllocationRules(headroom_mw_by_kv={"220": 300}))
    assert got.tolist() == [300.0, 166.0] and "profile override for 220 kV: 300 MW" in basis
    with pytest.raises(Exception, match="re-run `siting score`"):
        allocation.station_headroom(s.drop(columns=F.SUBSTATION_HEADROOM_MW), AllocationRules())
