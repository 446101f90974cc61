"""The allocation under the zonal network: each profile capped by its own measure, interfaces respected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.config import AllocationRules, Study, load_profile
from siting.decide import allocation
from siting.fields import F
from siting.io.reference import Reference
from siting.model import zones
from siting.outputs.reports import zonal_caps_from

RULES = AllocationRules(total_mw=2000, site_mw=100, max_blocks_per_site=3, headroom_mw_by_kv={"220": 10000})


def solve(layers, **surplus):
    st = Study(name="t", surplus=surplus)
    return zones.solve(st, layers.zones, layers.plants, Reference.for_study(st))


def toy_sites(per_zone: dict[str, tuple[int, float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` sites per zone with the given score, each at its own (ample) grid station."""
    rows = []
    for zone, (n, score) in per_zone.items():
        for i in range(n):
            rows.append({"site_id": f"{zone}-{i}", F.ISO_3166_2: "PK-SD", F.PROVINCE: "Sindh", F.ZONE: zone,
                         F.SCORE: score - i * 0.1, F.SUBSTATION_NAME: f"{zone} station {i}", F.SUBSTATION_KV: 220.0,
                         F.SUBSTATION_HEADROOM_MW: 10000.0})  # fmt: skip
    prov = pd.DataFrame({F.ISO_3166_2: ["PK-SD"], F.PROVINCE: ["Sindh"], "firm_surplus_mw": [0.0]})
    return pd.DataFrame(rows), prov


def placed_by_zone(a: allocation.Allocation, names: list[str]) -> np.ndarray:
    got = a.sites.groupby(F.ZONE)["allocated_mw"].sum()
    return np.array([float(got.get(z, 0.0)) for z in names])


def check_feasible(zm: zones.ZoneModel, caps: allocation.ZonalCaps, added: np.ndarray) -> None:
    for m in range(12):
        ok, _ = zones.feasible(zm.network, caps.available[:, m], caps.demand[:, m], added)
        assert ok, f"month {m + 1}"


def test_bitcoin_is_not_capped_by_summer_firm_surplus(layers) -> None:
    """Sites only in NTDC north, whose firm (summer-peak) hosting is 0: the firm profile places nothing there,
    the interruptible profile places the whole 2,000 MW, feasible in every month at its curtailment level."""
    zm = solve(layers)
    assert zm.zones.set_index(F.ZONE).loc["ntdc_north", F.HOSTING_FIRM_MW] == 0
    s, p = toy_sites({"ntdc_north": (10, 90.0)})
    firm_caps = zonal_caps_from(zm.monthly, zm.flows, load_profile("ai_datacenter"), RULES)
    int_caps = zonal_caps_from(zm.monthly, zm.flows, load_profile("bitcoin_mining"), RULES)
    assert load_profile("bitcoin_mining").load == "interruptible" and load_profile("ai_datacenter").load == "firm"
    firm = allocation.allocate(s, p, RULES, firm_caps)
    mining = allocation.allocate(s, p, RULES, int_caps)
    assert firm.placed_mw == 0
    assert mining.placed_mw == 2000
    check_feasible(zm, int_caps, placed_by_zone(mining, zm.network.zones))
    assert "interruptible" in mining.surplus_basis and mining.zones is not None
    md = allocation.to_markdown(mining, "t")
    assert "where the MW come from" in md and "via_ntdc_south_to_ntdc_north_mw" in md


def test_loaded_south_binds_the_tie_and_the_allocation_respects_it(layers) -> None:
    """Extra demand in Karachi (behind the NTDC-KE tie) puts the tie at its limit; the best-scoring sites are in
    K-Electric, yet the allocation places there only what the network can deliver, and the rest in NTDC south."""
    profile = load_profile("bitcoin_mining")
    s, p = toy_sites({"k_electric": (10, 95.0), "ntdc_south": (10, 60.0)})
    base = solve(layers)
    free = allocation.allocate(s, p, RULES, zonal_caps_from(base.monthly, base.flows, profile, RULES))
    ke = base.network.zones.index("k_electric")
    south = base.network.zones.index("ntdc_south")
    assert placed_by_zone(free, base.network.zones)[ke] >= 1500  # unloaded, Karachi's sites win

    zm = solve(layers, zone_extra_demand_mw={"k_electric": 3500.0})
    caps = zonal_caps_from(zm.monthly, zm.flows, profile, RULES)
    a = allocation.allocate(s, p, RULES, caps)
    added = placed_by_zone(a, zm.network.zones)
    assert added[ke] == 0 and added[south] == 2000  # the tie is full: nothing more can reach Karachi
    check_feasible(zm, caps, added)
    tie = next(j for j, arc in enumerate(caps.arcs) if arc == ("ntdc_south", "k_electric"))
    for m in range(12):  # the tie binds in every month of the dispatch with the new load
        _, flows = zones.feasible(zm.network, caps.available[:, m], caps.demand[:, m], added)
        assert flows[tie] == pytest.approx(caps.limits[tie], abs=1e-3)
    binding = a.zones[a.zones[F.ZONE] == "k_electric"]["binding_interfaces"]
    assert binding.str.contains("ntdc_south->k_electric").all()
    one_more = added.copy()
    one_more[ke] += RULES.site_mw  # one more block in Karachi is infeasible in some month
    assert not all(zones.feasible(zm.network, caps.available[:, m], caps.demand[:, m], one_more)[0] for m in range(12))


def test_a_wider_tie_lets_load_reach_karachi(layers) -> None:
    base = solve(layers)
    caps = zonal_caps_from(base.monthly, base.flows, load_profile("ai_datacenter"), RULES)
    s, p = toy_sites({"k_electric": (10, 95.0)})
    a = allocation.allocate(s, p, RULES, caps)
    host = base.zones.set_index(F.ZONE).loc["k_electric", F.HOSTING_FIRM_MW]
    assert 0 < a.placed_mw <= host + 1e-6 and a.placed_mw > host - 100  # whole blocks up to the zone's hosting
    check_feasible(base, caps, placed_by_zone(a, base.network.zones))


def test_legacy_provincial_cap_without_zones() -> None:
    s, p = toy_sites({"ntdc_south": (3, 50.0)})
    a = allocation.allocate(s, p.assign(firm_surplus_mw=[200.0]), RULES)
    assert a.placed_mw == 200 and a.zones is None
