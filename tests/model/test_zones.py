"""The zonal surplus model on the mirror data: roster, zones, demand, the transport LP and its overrides."""

from __future__ import annotations

import numpy as np
import pytest

from siting._errors import ConfigError
from siting.config import Study
from siting.fields import F
from siting.io import reference
from siting.io.reference import Reference
from siting.model import zones
from siting.model.surplus import provincial_surplus

EXCLUDED = {  # plant name in GEM → MW the status table removes (FACTS.md, plant_status.csv)
    "Hub power plant": 1292.0,
    "Lalpir Power Limited power station": 326.0,
    "Neelum Jhelum hydroelectric plant": 969.0,
    "Muzaffargarh power station": 830.0,
    "Jamshoro power station": 450.0,
}


def solve(layers, **surplus):
    st = Study(name="t", surplus=surplus)
    return zones.solve(st, layers.zones, layers.plants, Reference.for_study(st))


@pytest.fixture(scope="module")
def zm(layers):
    return solve(layers)


@pytest.fixture(scope="module")
def full(layers):
    st = Study(name="t")
    return provincial_surplus(st, layers.provinces, layers.plants, Reference.for_study(st), zones=layers.zones)


def test_named_units_are_excluded_and_suki_kinari_included(layers) -> None:
    p = layers.plants
    for name, mw in EXCLUDED.items():
        rows = p[p["plant"] == name]
        assert not rows["counts"].any(), name
        assert rows[F.CAPACITY_MW].sum() == pytest.approx(mw), name
    guddu = p[(p["plant"] == "Guddu power station") & ~p["counts"]]
    assert guddu[F.CAPACITY_MW].sum() == pytest.approx(1015.0)
    assert p[(p["plant"] == "Guddu power station") & p["counts"]][F.CAPACITY_MW].sum() > 0  # CCPP units stay
    suki = p[p["plant"].str.contains("Suki Kinari")]
    assert suki["counts"].all() and suki[F.CAPACITY_MW].sum() == pytest.approx(884.0)
    assert suki[F.ZONE].item() == "ntdc_north"
    assert p.loc[~p["counts"], F.CAPACITY_MW].sum() == pytest.approx(6045.5)  # ~5.9 GW named in the issue
    assert p["status_source"].str.len().gt(0).all()
    # wind and solar from the Ember-based table, flagged as provincial rows
    ren = p[p["origin"] == "renewables"]
    assert (ren["location"] == "province").all()
    assert ren.groupby("tracker")[F.CAPACITY_MW].sum().to_dict() == pytest.approx({"solar": 1400.0, "wind": 1850.0})


def test_counted_roster_reconciles_to_the_published_firm_capacity(full) -> None:
    checks = full.national.set_index("check")
    row = checks.loc["counted capacity vs firm capacity (MW)"]
    tol = reference.Reference.load("PAK").value("firm_reconciliation_tolerance")
    assert abs(row["difference"]) <= tol * row["published"]
    assert "True" in row["note"]
    # the items add up: GEM operating − not counted + added = counted
    items = checks[checks.index.str.startswith("roster:") & ~checks.index.str.contains(" vs Ember ")]["model"].sum()
    assert items == pytest.approx(row["model"])
    assert full.roster.loc[~full.roster["counts"], "status"].nunique() == 3  # offline, ppa_terminated, retired


def test_k_electric_zone_holds_karachi_and_ntdc_plants_by_connection(layers, zm) -> None:
    z = layers.zones.set_index(F.ZONE)
    assert set(z.index) == {"ntdc_north", "ntdc_south", "k_electric"}
    km2 = z.loc[["k_electric"]].to_crs(32642).area.iloc[0] / 1e6
    assert 5000 < km2 < 8000  # K-Electric territory is about 6,500 km2
    karachi = zones.cell_zones(np.array([67.0104, 67.2, 66.9]), np.array([24.8608, 24.94, 25.03]), layers.zones)
    assert (karachi == "k_electric").all()
    assert zones.cell_zones(np.array([74.35]), np.array([31.56]), layers.zones)[0] == "ntdc_north"  # Lahore
    p = layers.plants
    for name in ("Port Qasim EPC power station", "Hubco power station", "Karachi nuclear power plant"):
        assert (p.loc[p["plant"] == name, F.ZONE] == "ntdc_south").all(), name
    assert (p.loc[p["plant"].str.contains("Bin Qasim"), F.ZONE] == "k_electric").all()


def test_demand_peak_trough_and_average_agree_with_fy25(zm) -> None:
    m = zm.monthly
    assert (m["trough_mw"] < m["average_mw"]).all() and (m["average_mw"] < m["peak_mw"]).all()
    national_peak = m.groupby("month")["peak_mw"].sum()
    assert national_peak.max() == pytest.approx(30150, abs=2)
    avg = (m.groupby("month")["average_mw"].sum().to_numpy() * zones.HOURS).sum() / zones.HOURS.sum()
    ref = Reference.load("PAK")
    assert avg == pytest.approx(ref.value("fy25_national_average_load_mw"), rel=0.01)
    # January's peak is not the 12,500 MW "winter trough", and far below July's
    assert national_peak.loc[1] > 12500 and national_peak.loc[1] < 0.6 * national_peak.loc[7]


def test_load_duration_curve_keeps_the_monthly_mean() -> None:
    peak, avg, trough = np.array([30150.0]), np.array([20912.0]), np.array([15684.0])
    q = np.linspace(0, 1, 100001)
    curve = zones.ldc(peak, avg, trough, q)[0]
    assert curve[0] == pytest.approx(30150) and curve[-1] == pytest.approx(15684)
    assert np.trapezoid(curve, q) == pytest.approx(20912, rel=1e-6)
    assert (np.diff(curve) <= 1e-9).all()


def test_firm_and_interruptible_measures_differ(zm) -> None:
    t = zm.zones.set_index(F.ZONE)
    # summer firm hosting: only the trapped south (and Karachi behind it) has any; the north is short at its peak
    assert t.loc["ntdc_south", F.HOSTING_FIRM_MW] > 500
    assert t.loc["ntdc_north", F.HOSTING_FIRM_MW] == 0
    assert t.loc["ntdc_south", "firm_worst_month"] in ("Jun", "Jul", "Aug")
    # interruptible load runs on far more than the firm figure, in the north too
    assert (t[F.HOSTING_INT_5PCT_MW] >= t[F.HOSTING_INT_1PCT_MW]).all()
    assert (t[F.HOSTING_INT_1PCT_MW] >= t[F.HOSTING_FIRM_MW]).all()
    assert t.loc["ntdc_north", F.HOSTING_INT_1PCT_MW] > 2000
    assert t.loc["ntdc_north", F.RUN_SHARE_100MW] == pytest.approx(1.0)


def test_hosting_matches_a_hand_computed_transport_problem(zm) -> None:
    """January, firm demand: the south's own excess less what K-Electric and the north must import."""
    m = zm.monthly.set_index([F.ZONE, "month"])
    a = {z: m.loc[(z, 1), "available_mw"] for z in zm.network.zones}
    d = {z: m.loc[(z, 1), "firm_demand_mw"] for z in zm.network.zones}
    ke_import = max(d["k_electric"] - a["k_electric"], 0.0)  # Karachi's own plants cover its January peak
    north_import = d["ntdc_north"] - a["ntdc_north"]
    limits = dict(zip(zm.network.arcs, zm.network.limits, strict=True))
    assert ke_import < limits[("ntdc_south", "k_electric")]
    assert 0 < north_import < limits[("ntdc_south", "ntdc_north")]
    south = a["ntdc_south"] - d["ntdc_south"] - ke_import - north_import
    assert m.loc[("ntdc_south", 1), F.HOSTING_FIRM_MW] == pytest.approx(south, abs=1e-3)
    north = limits[("ntdc_south", "ntdc_north")] - north_import  # the interface, not the south, limits the north
    assert m.loc[("ntdc_north", 1), F.HOSTING_FIRM_MW] == pytest.approx(min(north, south), abs=1e-3)


def test_extra_southern_demand_makes_the_tie_bind(layers, zm) -> None:
    loaded = solve(layers, zone_extra_demand_mw={"k_electric": 3500.0})
    flows = loaded.flows
    tie = flows[(flows["interface"] == "ntdc_south->k_electric") & (flows["hosted_zone"] == "ntdc_south")]
    assert tie["binding"].all()  # every month the tie runs at its limit
    assert np.allclose(tie["flow_mw"], tie["limit_mw"])
    assert (loaded.monthly.query("zone == 'k_electric'")[F.HOSTING_FIRM_MW] == 0).all()
    # a larger tie (a study figure) lets more reach Karachi
    wider = solve(layers, zone_extra_demand_mw={"k_electric": 3500.0}, interface_limits_mw={"ntdc_ke_ties": 2050.0})
    assert wider.figures.set_index("figure").loc["interface.ntdc_ke_ties", "value"] == 2050.0
    assert "study config" in wider.figures.set_index("figure").loc["interface.ntdc_ke_ties", "basis"]
    assert (
        wider.monthly.query("zone == 'ntdc_south'")["shed_at_firm_demand_mw"].sum()
        < loaded.monthly.query("zone == 'ntdc_south'")["shed_at_firm_demand_mw"].sum()
    )


def test_extra_northern_demand_traps_the_south(layers) -> None:
    loaded = solve(layers, zone_extra_demand_mw={"ntdc_north": 5000.0})
    t = loaded.zones.set_index(F.ZONE)
    sn = loaded.flows[
        (loaded.flows["interface"] == "ntdc_south->ntdc_north") & (loaded.flows["hosted_zone"] == "ntdc_south")
    ]
    assert sn["binding"].all()
    assert t.loc["ntdc_north", F.HOSTING_INT_5PCT_MW] == 0 and t.loc["ntdc_south", F.HOSTING_INT_5PCT_MW] > 500


def test_study_overrides_replace_status_demand_and_limits(layers, zm) -> None:
    back = solve(layers, plant_counts={"Neelum Jhelum hydroelectric plant": True})
    north = back.zones.set_index(F.ZONE).loc["ntdc_north", "capacity_hydro_mw"]
    assert north == pytest.approx(zm.zones.set_index(F.ZONE).loc["ntdc_north", "capacity_hydro_mw"] + 969.0)
    peaks = [3000.0] * 12
    custom = solve(layers, zone_peak_mw={"ntdc_south": peaks}, zone_average_mw={"ntdc_south": [2000.0] * 12})
    assert (custom.monthly.query("zone == 'ntdc_south'")["peak_mw"] == 3000.0).all()
    assert custom.zones.set_index(F.ZONE).loc["ntdc_south", "demand_basis"] == "study config"


@pytest.mark.parametrize(
    ("surplus", "message"),
    [
        (
            {"interface_limits_mw": {"matiari": 1.0}},
            r"^surplus\.interface_limits_mw\.matiari: unknown corridor; use one of",
        ),
        ({"zone_peak_mw": {"lahore": [1.0] * 12}}, r"^surplus\.zone_peak_mw\.lahore: unknown zone; use one of"),
        ({"zone_extra_demand_mw": {"karachi": 1.0}}, r"^surplus\.zone_extra_demand_mw\.karachi: unknown zone"),
        ({"plant_counts": {"Nowhere plant": True}}, r"^surplus\.plant_counts\.Nowhere plant: no plant of that name"),
    ],
)
def test_bad_zone_keys_are_refused_in_one_sentence(layers, surplus, message) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        solve(layers, **surplus)
    assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")


def test_zonal_figures_are_sourced_or_assumptions(full) -> None:
    fig = full.figures
    assert fig["basis"].astype(str).str.len().gt(0).all()
    for key in ("interface.hvdc_matiari_lahore", "interface.ac_500kv", "reserve_margin_firm_load", "trough_to_average"):
        assert key in set(fig["figure"]), key
    basis = fig.set_index("figure")["basis"]
    assert basis["interface.ac_500kv"].count("assumption") >= 1
    assert "assumption" in basis["reserve_margin_firm_load"]


def test_old_versus_new_for_every_province_and_zone(full) -> None:
    checks = full.national.set_index("check")
    codes = full.provinces[F.ISO_3166_2]
    for code in codes:
        assert f"firm surplus {code} (MW): legacy vs zonal firm hosting" in checks.index
    for z in ("ntdc_north", "ntdc_south", "k_electric"):
        assert f"zone {z} firm (MW): legacy zone total vs hosting" in checks.index
    sd = checks.loc["firm surplus PK-SD (MW): legacy vs counted roster"]
    ba = checks.loc["firm surplus PK-BA (MW): legacy vs counted roster"]
    assert sd["old_model"] > 5000 and 2000 < sd["model"] < 3000  # the issue: 5,528 → ~2.4 GW
    assert ba["old_model"] > 1000 and ba["model"] < 500  # 1,459 → ~0.1-0.2 GW


def test_idle_capacity_near_the_named_coal_plants(study) -> None:
    from siting.model.criteria import idle_capacity

    ref = Reference.load("PAK")
    lon = np.array([67.37, 73.24, 74.35, 70.35])  # Port Qasim, Sahiwal, Lahore, Thar
    lat = np.array([24.78, 30.71, 31.56, 24.80])
    near = idle_capacity(lon, lat, Study(name="t", surplus={"idle_radius_km": 50.0}), ref)
    idle = ref.table("idle_plants.csv").set_index("plant")
    pq = idle.filter(like="Port Qasim", axis=0).iloc[0]
    cph = idle.filter(like="China Power Hub", axis=0).iloc[0]
    assert near[F.IDLE_CAPACITY_MW][0] == pytest.approx(pq.mw * (1 - pq.load_factor))  # China Power Hub is ~70 km off
    both = idle_capacity(lon[:1], lat[:1], Study(name="t", surplus={"idle_radius_km": 100.0}), ref)
    assert both[F.IDLE_CAPACITY_MW][0] == pytest.approx(pq.mw * (1 - pq.load_factor) + cph.mw * (1 - cph.load_factor))
    assert near[F.IDLE_CAPACITY_MW][1] == pytest.approx(1320 * (1 - 0.15))
    assert near[F.IDLE_CAPACITY_MW][2] == 0  # Lahore: nothing idle within 50 km
    assert 0 < near[F.IDLE_CAPACITY_MW][3] < 2660  # Thar runs at ~66 %: a little idle
    wide = idle_capacity(lon, lat, Study(name="t"), ref)  # default radius from national.csv
    assert (wide[F.IDLE_CAPACITY_MW] >= near[F.IDLE_CAPACITY_MW]).all()


def test_a_study_may_supply_its_own_zones(layers, tmp_path) -> None:
    from siting._errors import DataError
    from siting.stages import study_zones

    ref = Reference.load("PAK")
    own = layers.zones.copy()
    # a planner's own file (here the same polygons, written out and read back)
    path = tmp_path / "zones.geojson"
    own[[F.ZONE, "geometry"]].to_file(path, driver="GeoJSON")
    st = Study(name="t", surplus={"zones_file": str(path)})
    z, plants = study_zones(st, layers, ref)
    assert set(z[F.ZONE]) == {"ntdc_north", "ntdc_south", "k_electric"}
    assert (plants[F.ZONE].to_numpy() == layers.plants[F.ZONE].to_numpy()).all()
    bad = tmp_path / "bad.geojson"
    own.rename(columns={F.ZONE: "area"})[["area", "geometry"]].to_file(bad, driver="GeoJSON")
    with pytest.raises(DataError, match=r"no 'zone' column; give each polygon its zone"):
        study_zones(Study(name="t", surplus={"zones_file": str(bad)}), layers, ref)
    wrong = tmp_path / "wrong.geojson"
    own.assign(zone=["north", "south", "karachi"])[[F.ZONE, "geometry"]].to_file(wrong, driver="GeoJSON")
    with pytest.raises(DataError, match=r"unknown zone\(s\) karachi, north, south"):
        study_zones(Study(name="t", surplus={"zones_file": str(wrong)}), layers, ref)


def test_the_batched_hosting_lps_equal_each_problem_solved_alone(zm) -> None:
    """One block-diagonal solve gives every problem the optimum it has on its own (random months and zones)."""
    from siting.model.zones import hosting_lps

    rng = np.random.default_rng(3)
    nz = len(zm.network.zones)
    available = zm.available[:, rng.integers(0, 12, 40)].T * rng.uniform(0.6, 1.2, (40, nz))
    demand = zm.available[:, rng.integers(0, 12, 40)].T * rng.uniform(0.5, 1.1, (40, nz))
    target = rng.integers(0, nz, 40)
    x, _, shed = hosting_lps(zm.network, available, demand, target)
    for b in range(40):
        xb, _, sb = hosting_lps(zm.network, available[b : b + 1], demand[b : b + 1], target[b : b + 1])
        assert x[b] == pytest.approx(xb[0], abs=1e-6)
        assert shed[b].sum() == pytest.approx(sb[0].sum(), abs=1e-6)
    assert (x > 0).any() and (shed.sum(axis=1) > 0).any()  # both regimes: room to host, and shedding already


def _pack_without_zones(tmp_path):
    """Copy the Pakistan pack with zones.csv and interfaces.csv header-only, the country's demand as one zone."""
    import shutil

    import pandas as pd

    from siting.io.regions import packaged_dir

    pack = tmp_path / "PAK"
    shutil.copytree(packaged_dir() / "PAK", pack)
    for name in ("zones.csv", "interfaces.csv"):
        pd.read_csv(pack / name).iloc[0:0].to_csv(pack / name, index=False)
    national = pd.read_csv(pack / "national_monthly_demand.csv")
    national.assign(zone="national")[["zone", "month", "peak_mw", "average_mw", "basis", "source"]].to_csv(
        pack / "zone_demand.csv", index=False
    )
    return pack


def test_a_pack_without_zones_is_one_zone_with_no_interface(layers, tmp_path) -> None:
    import pandas as pd
    import shapely

    from siting.layers.zones import WHOLE_REGION_ZONE, build_zones

    def no_buffer() -> float:
        raise AssertionError("a pack without a k_electric zone needs no ke_service_buffer_km")

    empty = pd.read_csv(_pack_without_zones(tmp_path) / "zones.csv")
    one = build_zones(layers.provinces, empty, pd.DataFrame(columns=["lat", "lon"]), no_buffer, "Testland")
    assert one[F.ZONE].tolist() == [WHOLE_REGION_ZONE] and one[F.NAME].iloc[0] == "Testland (one zone)"
    union = shapely.union_all(layers.provinces.geometry.values)
    assert one.geometry.iloc[0].symmetric_difference(union).area < 1e-9 * union.area

    st = Study(name="t", region={"iso3": "PAK", "path": str(tmp_path)})
    ref = Reference.for_study(st)
    plants = layers.plants.assign(zone=WHOLE_REGION_ZONE)
    zm = zones.solve(st, one, plants, ref)
    assert zm.network.arcs == [] and zm.flows.empty
    # one zone, no interface: the LP reduces to the zone's own balance, x = max(A − D, 0) in each month
    month = zm.monthly.set_index("month")
    by_hand = (month["available_mw"] - month["firm_demand_mw"]).clip(lower=0.0)
    assert (by_hand > 0).any() and (by_hand == 0).any()  # months of surplus and of shortage both checked
    np.testing.assert_allclose(month[F.HOSTING_FIRM_MW], by_hand, atol=1e-6)
    assert zm.zones[F.HOSTING_FIRM_MW].item() == pytest.approx(by_hand.min(), abs=1e-6)
    assert zm.zones[F.HOSTING_FIRM_MW].item() < zm.zones[F.HOSTING_INT_5PCT_MW].item()
    assert zm.zones[F.HOSTING_INT_5PCT_MW].item() > 0
