"""Criteria on a national sample of real candidates, against independent references (pyproj geodesics)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import shapely
from pyproj import Geod

from siting.config import Candidates, Study
from siting.fields import F
from siting.io import reference
from siting.io.reference import Reference
from siting.model import candidates
from siting.model.criteria import (
    connection_cost_musd,
    connectivity,
    distance_by_class,
    nearest_substation,
    substation_capacity,
)

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def sample(layers):
    cells = candidates.build(layers, Candidates(h3_resolution=5)).cells
    return cells.sample(60, random_state=7).reset_index(drop=True)


def geod_min_km(lon, lat, tlon, tlat) -> np.ndarray:
    out = []
    for x, y in zip(lon, lat, strict=True):
        _, _, d = GEOD.inv(np.full(len(tlon), x), np.full(len(tlat), y), tlon, tlat)
        out.append(d.min() / 1000)
    return np.array(out)


@pytest.mark.parametrize("kv", [132, 220, 500])
def test_substation_distance_by_class_matches_geodesics(sample, layers, kv) -> None:
    got = distance_by_class(sample[F.LON].to_numpy(), sample[F.LAT].to_numpy(), layers)[f"dist_substation_{kv}kv_km"]
    subs = layers.substations[(layers.substations[F.VOLTAGE_KV] >= kv) & (layers.substations["kind"] == "grid_station")]
    ref = geod_min_km(sample[F.LON], sample[F.LAT], subs.geometry.x.to_numpy(), subs.geometry.y.to_numpy())
    assert np.all(np.abs(got - ref) <= np.maximum(0.005 * ref, 0.1))


def test_line_distance_is_to_the_segment_and_matches_geodesics(sample, layers) -> None:
    """Reference: the lines densified to ~200 m vertices, geodesic distance to the nearest vertex (never below
    the true distance, at most ~0.1 km above it)."""
    got = distance_by_class(sample[F.LON].to_numpy(), sample[F.LAT].to_numpy(), layers)["dist_line_220kv_km"]
    lines = layers.lines[(layers.lines[F.VOLTAGE_KV] >= 220) & ~layers.lines["is_hvdc"]]
    xy = shapely.get_coordinates(shapely.segmentize(lines.geometry.values, 0.002))
    ref = geod_min_km(sample[F.LON], sample[F.LAT], xy[:, 0], xy[:, 1])
    assert np.all(got <= ref + np.maximum(0.005 * ref, 0.1))
    assert np.all(got >= ref - np.maximum(0.005 * ref, 0.25))
    # and to the segment, not its vertices: never farther than the nearest original vertex
    verts = shapely.get_coordinates(lines.geometry.values)
    vref = geod_min_km(sample[F.LON], sample[F.LAT], verts[:, 0], verts[:, 1])
    assert np.all(got <= vref * 1.005 + 1e-6)


def test_headroom_is_n1_firm_capacity_times_one_minus_loading(layers) -> None:
    study = Study(name="t")
    ref = Reference.for_study(study)
    cap = substation_capacity(layers.substations, ref)
    subs = layers.substations
    pf = reference.national_value("PAK", "power_factor")
    n1 = reference.table("PAK", "grid_stations_n1.csv").set_index("voltage_class_kv")
    for kv in (500, 220, 132):
        row = n1.loc[kv]
        firm = row["nominal_mva"] * (row["transformers_typical"] - 1) / row["transformers_typical"]
        plain = (subs[F.VOLTAGE_KV] == kv) & (cap["reference_name"] == "")
        assert plain.sum() > 3
        np.testing.assert_allclose(cap.loc[plain, F.SUBSTATION_FIRM_MVA], firm)
        np.testing.assert_allclose(
            cap.loc[plain, F.SUBSTATION_HEADROOM_MW], firm * pf * (1 - row["loading_class_average"] / 100)
        )
        assert cap.loc[plain, F.HEADROOM_BASIS].str.contains("class average").all()
    # named stations: NEPRA's constrained list has no headroom, a published transformer set sets the capacity
    by_name = cap.assign(name=subs[F.NAME], kv=subs[F.VOLTAGE_KV]).set_index(["name", "kv"])
    for name, kv in [("Gatti", 500), ("Shikarpur", 500), ("Rohri New", 220), ("Daharki", 220),
                     ("Tando Muhammad Khan Road", 220), ("220KV NTDC Grid Station Hala Road", 220)]:  # fmt: skip
        row = by_name.loc[(name, kv)]
        assert bool(row["constrained"]) and row[F.SUBSTATION_HEADROOM_MW] == 0, name
    fsd = by_name.loc[("Faisalabad West", 500)]
    assert not fsd["constrained"] and fsd[F.SUBSTATION_FIRM_MVA] == pytest.approx(750.0)  # 2 x 750 MVA, N-1
    # a 132 kV station is never marked constrained by a 500/220 kV name
    assert not cap.loc[subs[F.VOLTAGE_KV] < 200, "constrained"].any()


def test_no_converter_or_switchyard_is_a_nearest_substation(sample, layers) -> None:
    subs = layers.substations
    cap = substation_capacity(subs, Reference.for_study(Study(name="t")))
    near = nearest_substation(sample[F.LON].to_numpy(), sample[F.LAT].to_numpy(), subs, 220, cap)
    bad = subs[subs["kind"] != "grid_station"]
    assert not set(near[F.SUBSTATION_NAME]) & set(bad[F.NAME][bad[F.NAME] != ""])
    # at Matiari, Moro and Tarbela the nearest grid station is another station
    named = subs.set_index(F.NAME)
    for name in ("Matiari-Lahore HVDC Converter station", "Moro Converter Station", "Tarbela"):
        pt = named.geometry[name]
        pt = pt.iloc[0] if hasattr(pt, "iloc") else pt
        got = nearest_substation(np.array([pt.x]), np.array([pt.y]), subs, 220, cap)
        assert got[F.SUBSTATION_NAME].iloc[0] != name and got[F.DIST_SUBSTATION_KM].iloc[0] > 0.5
        by_class = distance_by_class(np.array([pt.x]), np.array([pt.y]), layers)
        assert by_class["dist_substation_500kv_km"].iloc[0] > 0.5


def test_nearest_substation_carries_its_headroom(sample, layers) -> None:
    study = Study(name="t")
    cap = substation_capacity(layers.substations, Reference.for_study(study))
    near = nearest_substation(sample[F.LON].to_numpy(), sample[F.LAT].to_numpy(), layers.substations, 220, cap)
    assert (near[F.SUBSTATION_KV] >= 220).all()
    label = layers.substations[F.NAME].where(
        layers.substations[F.NAME] != "", "unnamed (OSM " + layers.substations["osm_id"] + ")"
    )
    by_name = cap.assign(name=label, kv=layers.substations[F.VOLTAGE_KV])
    for row in near.head(10).itertuples():
        match = by_name[(by_name["name"] == row.substation_name) & (by_name["kv"] == row.substation_kv)]
        assert row.substation_headroom_mw in set(match[F.SUBSTATION_HEADROOM_MW])


def test_connection_cost_is_distance_times_route_factor_times_unit_cost() -> None:
    study = Study(name="t", figures={"line_cost_musd_per_km_220kv": 0.5, "line_route_factor": 1.0})
    np.testing.assert_allclose(
        connection_cost_musd(np.array([0.0, 10.0]), study, Reference.for_study(study)), [0.0, 5.0]
    )
    default = connection_cost_musd(np.array([10.0]), Study(name="t"), Reference.for_study(Study(name="t")))[0]
    assert default == pytest.approx(
        10
        * reference.national_value("PAK", "line_route_factor")
        * reference.national_value("PAK", "line_cost_musd_per_km_220kv")
    )


def test_connectivity_distances_and_latency(layers) -> None:
    places = layers.places.set_index(F.NAME)
    names = ["Karachi", "Islamabad", "Lahore", "Quetta", "Gilgit"]
    lon = np.array([places.geometry[n].x for n in names])
    lat = np.array([places.geometry[n].y for n in names])
    out = connectivity(lon, lat, layers.connectivity_nodes, Reference.load("PAK"))
    nodes = layers.connectivity_nodes.set_index(F.NAME)
    landing = nodes.geometry["Karachi cable landing (Hawkes Bay / Clifton)"]
    _, _, d = GEOD.inv(lon, lat, np.full(5, landing.x), np.full(5, landing.y))
    expected_ms = 2 * (d / 1000) * 1.5 / (299_792.458 / 1.468 / 1000)
    np.testing.assert_allclose(out[F.LATENCY_MS], expected_ms, rtol=0.005, atol=0.01)
    assert out[F.LATENCY_MS].iloc[1] == pytest.approx(16.5, abs=1.0)  # Islamabad: ~1,130 km away
    # Islamabad and Lahore sit next to their PKIX nodes; Gilgit lies on the Pak-China fibre route
    assert out[F.DIST_IXP_KM].iloc[1] < 10 and out[F.DIST_IXP_KM].iloc[2] < 10
    assert out[F.DIST_FIBRE_ROUTE_KM].iloc[4] < 5
    assert out[F.CONNECTIVITY_NODE].iloc[0].startswith(("PKIX Karachi", "Karachi cable landing"))
    np.testing.assert_allclose(
        out[F.DIST_CONNECTIVITY_KM], np.minimum(out[F.DIST_IXP_KM], out[F.DIST_CABLE_LANDING_KM])
    )


def test_a_missing_voltage_class_gives_nan_not_zero(layers) -> None:
    subs = layers.substations
    without_500 = SimpleNamespace(substations=subs[subs[F.VOLTAGE_KV] < 400], lines=layers.lines)
    out = distance_by_class(np.array([70.0]), np.array([30.0]), without_500)
    assert np.isnan(out["dist_substation_500kv_km"]).all()
    assert np.isfinite(out["dist_substation_220kv_km"]).all()


def test_fault_distance_is_to_the_nearest_fault_segment_and_matches_geodesics(sample, layers) -> None:
    """Reference: fault traces (folds left out) densified to ~200 m vertices, geodesic distance to the nearest."""
    from siting.model.criteria import seismic

    got = seismic(sample[F.LON].to_numpy(), sample[F.LAT].to_numpy(), layers)[F.DIST_FAULT_KM].to_numpy()
    faults = layers.faults[~layers.faults["is_fold"]]
    assert 0 < len(faults) < len(layers.faults)  # folds exist and are left out
    # the kernel works on great circles of the mean-radius sphere: densify each segment along its great circle
    # to ~200 m and take the nearest vertex on the same sphere (pyproj, radius 6,371.0088 km)
    sphere = Geod(a=6371008.8, b=6371008.8)
    pts = []
    for line in faults.geometry.values:
        c = shapely.get_coordinates(line)
        for (x0, y0), (x1, y1) in itertools.pairwise(c):
            n = int(sphere.inv(x0, y0, x1, y1)[2] / 200)
            pts += [(x0, y0), *sphere.npts(x0, y0, x1, y1, n)]
        pts.append(tuple(c[-1]))
    xy = np.array(pts)
    ref = np.array(
        [sphere.inv(np.full(len(xy), x), np.full(len(xy), y), xy[:, 0], xy[:, 1])[2].min() / 1000 for x, y in
         zip(sample[F.LON], sample[F.LAT], strict=True)]
    )  # fmt: skip
    assert np.all(got <= ref + 0.01)  # never farther than a vertex of the densified trace
    assert np.all(got >= ref - 0.15)  # at most ~0.1 km closer (the foot of the perpendicular between vertices)


def test_quake_counts_match_brute_force_haversine(sample, layers) -> None:
    from siting.decide.sites import haversine_km
    from siting.model.criteria import QUAKE_RADIUS_KM, seismic

    lon, lat = sample[F.LON].to_numpy(), sample[F.LAT].to_numpy()
    got = seismic(lon, lat, layers)[F.QUAKES_50KM].to_numpy()
    q = layers.earthquakes[layers.earthquakes["magnitude"] >= 5.5]
    d = haversine_km(lon[:, None], lat[:, None], q.geometry.x.to_numpy()[None], q.geometry.y.to_numpy()[None])
    np.testing.assert_array_equal(got, (d <= QUAKE_RADIUS_KM).sum(axis=1))
    assert got.max() > 0  # the sample reaches seismic ground (Balochistan, the north)


def test_header_only_connectivity_fibre_and_idle_tables_leave_the_columns_empty(layers, tmp_path) -> None:
    """A new pack's header-only tables give NaN columns (dropped by scoring), never a concatenation error."""
    import shutil

    import pandas as pd

    from siting.io.regions import packaged_dir
    from siting.model.criteria import idle_capacity

    pack = tmp_path / "PAK"
    shutil.copytree(packaged_dir() / "PAK", pack)
    for name in ("fibre_routes.csv", "idle_plants.csv"):
        pd.read_csv(pack / name).iloc[0:0].to_csv(pack / name, index=False)
    ref = Reference.load(pack)
    lon, lat = np.array([67.0, 73.0]), np.array([25.0, 33.7])
    nodes = layers.connectivity_nodes
    out = connectivity(lon, lat, nodes.iloc[0:0], ref)
    for col in (F.DIST_IXP_KM, F.DIST_CABLE_LANDING_KM, F.DIST_CONNECTIVITY_KM, F.DIST_FIBRE_ROUTE_KM, F.LATENCY_MS):
        assert out[col].isna().all(), col
    assert (out[F.CONNECTIVITY_NODE] == "").all()
    landlocked = connectivity(lon, lat, nodes[nodes["kind"] == "internet_exchange"], ref)
    assert landlocked[F.DIST_CABLE_LANDING_KM].isna().all()
    np.testing.assert_allclose(landlocked[F.DIST_CONNECTIVITY_KM], landlocked[F.DIST_IXP_KM])
    assert landlocked[F.CONNECTIVITY_NODE].str.startswith("PKIX").all()
    idle = idle_capacity(lon, lat, Study(name="t"), ref)
    assert idle[F.IDLE_CAPACITY_MW].isna().all() and (idle["idle_plant_nearest"] == "").all()
