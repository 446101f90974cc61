"""Distances on the sphere against WGS84 geodesics (pyproj) and against brute force over every target."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from scipy.spatial import cKDTree

from siting.kernels.geodesy import (
    BallTree,
    PointIndex,
    PointTiles,
    SegmentIndex,
    chord_matrix,
    chord_to_km,
    count_within,
    haversine_km,
    km_to_chord,
    unit_vectors,
)

GEOD = Geod(ellps="WGS84")
R_KM = 6371.0088  # IUGG mean Earth radius, the sphere the module documents
PAK_BBOX = (60.8, 23.6, 77.9, 37.1)  # lon_min, lat_min, lon_max, lat_max
CITIES = ["Karachi", "Lahore", "Islamabad", "Quetta", "Peshawar", "Gilgit"]
LINE_FILES = ["500kv", "220kv", "132kv", "66kv", "hvdc"]


def geodesic_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    return GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def sphere_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine formula in its textbook form (independent of the module's chord-based code)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * R_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _bearing(lon1, lat1, lon2, lat2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    return np.arctan2(np.sin(dl) * np.cos(p2), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))


def point_segment_km(plon, plat, alon, alat, blon, blat) -> np.ndarray:
    """Brute-force distance from a point to great-circle segments A-B (cross-track / along-track formulas).

    The foot of the perpendicular from P onto the great circle through A and B is on the segment iff it is
    ahead of A (``cos(theta_AP - theta_AB) >= 0``) and its along-track distance does not exceed |AB|;
    otherwise the nearest point of the segment is an end.
    """
    d_ap = sphere_km(alon, alat, plon, plat) / R_KM
    d_bp = sphere_km(blon, blat, plon, plat) / R_KM
    d_ab = sphere_km(alon, alat, blon, blat) / R_KM
    dtheta = _bearing(alon, alat, plon, plat) - _bearing(alon, alat, blon, blat)
    xt = np.arcsin(np.clip(np.sin(d_ap) * np.sin(dtheta), -1, 1))
    at = np.arccos(np.clip(np.cos(d_ap) / np.cos(xt), -1, 1))
    on_segment = (np.cos(dtheta) >= 0) & (at <= d_ab) & (d_ab > 0)
    return np.where(on_segment, np.abs(xt), np.minimum(d_ap, d_bp)) * R_KM


@pytest.fixture(scope="module")
def cities(mirror: Path) -> pd.DataFrame:
    table = pd.read_csv(mirror / "geonames" / "cities500_PAK.csv")
    rows = table[table["name"].isin(CITIES)].sort_values("population", ascending=False).drop_duplicates("name")
    assert set(rows["name"]) == set(CITIES)
    return rows.set_index("name").loc[CITIES]


@pytest.fixture(scope="module")
def substations_raw(mirror: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(mirror / "osm" / "PAK" / "substations.geojson")


@pytest.fixture(scope="module")
def raw_lines(mirror: Path) -> gpd.GeoDataFrame:
    parts = [gpd.read_file(mirror / "osm" / "PAK" / f"lines_{c}.geojson") for c in LINE_FILES]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def segments(raw_lines: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Every consecutive vertex pair of every raw line, as (a, b) lon/lat arrays."""
    a, b = [], []
    for geom in raw_lines.geometry:
        for part in shapely.get_parts(geom):
            xy = np.asarray(part.coords)[:, :2]
            a.append(xy[:-1])
            b.append(xy[1:])
    return np.vstack(a), np.vstack(b)


def random_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(PAK_BBOX[0], PAK_BBOX[2], n), rng.uniform(PAK_BBOX[1], PAK_BBOX[3], n)


def test_city_distances_match_wgs84_geodesics(cities: pd.DataFrame) -> None:
    names = list(cities.index)
    i, j = np.triu_indices(len(names), k=1)
    lon, lat = cities["longitude"].to_numpy(), cities["latitude"].to_numpy()
    ours = haversine_km(lon[i], lat[i], lon[j], lat[j])
    ref = geodesic_km(lon[i], lat[i], lon[j], lat[j])
    assert ours.shape == ref.shape == (15,)
    rel = np.abs(ours - ref) / ref
    worst = int(np.argmax(rel))
    assert rel.max() < 0.005, f"{names[i[worst]]}-{names[j[worst]]}: {ours[worst]:.1f} km vs {ref[worst]:.1f} km"
    # sanity on the reference itself: Karachi-Lahore is roughly 1,000 km by air
    kl = ref[(i == names.index("Karachi")) & (j == names.index("Lahore"))][0]
    assert 950 < kl < 1100


def test_haversine_is_symmetric_and_zero_on_itself(cities: pd.DataFrame) -> None:
    lon, lat = cities["longitude"].to_numpy(), cities["latitude"].to_numpy()
    assert np.allclose(haversine_km(lon, lat, lon, lat), 0.0, atol=1e-9)
    assert np.allclose(haversine_km(lon, lat, lon[::-1], lat[::-1]), haversine_km(lon[::-1], lat[::-1], lon, lat))


def test_unit_vectors_and_chord_conversions() -> None:
    lon, lat = random_points(200, seed=1)
    xyz = unit_vectors(lon, lat)
    assert xyz.shape == (200, 3)
    assert np.allclose(np.linalg.norm(xyz, axis=1), 1.0)
    assert np.allclose(np.degrees(np.arcsin(xyz[:, 2])), lat)
    assert np.allclose(np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0])), lon)
    km = np.array([0.0, 0.5, 10.0, 1234.5, np.pi * R_KM])
    assert np.allclose(chord_to_km(km_to_chord(km)), km)
    assert chord_to_km(2.0) == pytest.approx(np.pi * R_KM)  # antipodes: half a great circle


def test_haversine_agrees_with_textbook_formula() -> None:
    lon1, lat1 = random_points(500, seed=2)
    lon2, lat2 = random_points(500, seed=3)
    assert np.allclose(haversine_km(lon1, lat1, lon2, lat2), sphere_km(lon1, lat1, lon2, lat2), rtol=1e-9, atol=1e-6)


def test_point_index_nearest_matches_brute_force(substations_raw: gpd.GeoDataFrame) -> None:
    tx, ty = substations_raw.geometry.x.to_numpy(), substations_raw.geometry.y.to_numpy()
    qx, qy = random_points(300, seed=4)
    dist, idx = PointIndex(tx, ty).nearest(qx, qy)
    all_pairs = sphere_km(qx[:, None], qy[:, None], tx[None, :], ty[None, :])
    assert np.array_equal(idx, all_pairs.argmin(axis=1))
    assert np.allclose(dist, all_pairs.min(axis=1), rtol=1e-9, atol=1e-6)
    # and against WGS84 geodesics to the same target, within the documented 0.5 %
    geo = geodesic_km(qx, qy, tx[idx], ty[idx])
    assert np.all(np.abs(dist - geo) <= 0.005 * geo + 1e-6)


def test_point_index_within_matches_brute_force(substations_raw: gpd.GeoDataFrame) -> None:
    tx, ty = substations_raw.geometry.x.to_numpy(), substations_raw.geometry.y.to_numpy()
    qx, qy = random_points(100, seed=5)
    hits = PointIndex(tx, ty).within(qx, qy, 40.0)
    all_pairs = sphere_km(qx[:, None], qy[:, None], tx[None, :], ty[None, :])
    for q, found in enumerate(hits):
        assert sorted(found) == sorted(np.flatnonzero(all_pairs[q] <= 40.0).tolist())
    assert sum(len(h) for h in hits) > 0  # the radius is large enough for the check to mean something


@pytest.mark.parametrize("km", [1.0, 20.0, 50.0, 300.0])
@pytest.mark.parametrize("tile_km", [2.0, 10.0, 100.0])
def test_count_within_equals_the_kd_tree_ball_count(km: float, tile_km: float) -> None:
    rng = np.random.default_rng(7)
    q = unit_vectors(rng.uniform(60.8, 77.9, 300), rng.uniform(23.6, 37.1, 300))
    p = unit_vectors(rng.uniform(60.8, 77.9, 20_000), rng.uniform(23.6, 37.1, 20_000))
    p[:300] = q  # points on a target: at distance zero, counted
    chord = float(km_to_chord(km))
    want = cKDTree(q).query_ball_point(p, r=chord, return_length=True)
    got = count_within(PointTiles(p, tile_km), q, chord)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_chord_matrix_is_the_numpy_norm_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(60.8, 77.9, 5_000), rng.uniform(23.6, 37.1, 5_000)
    p = unit_vectors(lon, lat)
    q = unit_vectors(rng.uniform(-180, 180, 9), rng.uniform(-90, 90, 9))
    q[0] = p[17]  # a target on a point: chord zero
    want = np.column_stack([np.linalg.norm(p - q[j], axis=1) for j in range(len(q))])
    got = chord_matrix(p, q)
    assert got.shape == (5_000, 9)
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
    assert got[17, 0] == 0.0
    assert chord_matrix(p, np.zeros((0, 3))).shape == (5_000, 0)
    # haversine_km to one place, as criteria.connectivity measures the latency anchor
    one = chord_to_km(chord_matrix(p, unit_vectors([67.03], [24.85]))[:, 0])
    assert np.array_equal(one.view(np.uint64), haversine_km(lon, lat, 67.03, 24.85).view(np.uint64))


@pytest.mark.parametrize("leaf_size", [1, 16, 100_000])
def test_ball_tree_finds_what_the_scipy_kd_tree_finds(leaf_size: int) -> None:
    rng = np.random.default_rng(5)
    x = unit_vectors(rng.uniform(60.8, 77.9, 3_000), rng.uniform(23.6, 37.1, 3_000))
    x[10:20] = x[3]  # duplicates
    c = unit_vectors(rng.uniform(60.8, 77.9, 500), rng.uniform(23.6, 37.1, 500))
    c[0] = x[3]
    r = rng.uniform(0.0, 0.03, 500)
    r[:3] = [0.0, 0.0, 3.0]  # the point itself; nothing; everything
    start, index = BallTree(x, leaf_size).ball(c, r)
    want = cKDTree(x).query_ball_point(c, r)
    assert start[0] == 0 and start[-1] == len(index)
    assert [index[start[t] : start[t + 1]].tolist() for t in range(len(c))] == [list(w) for w in want]
    assert index[start[0] : start[1]].tolist() == [3, *range(10, 20)]
    assert len(index[start[2] : start[3]]) == len(x)
    empty_start, empty = BallTree(x).ball(np.zeros((0, 3)), 0.1)
    assert empty_start.tolist() == [0] and len(empty) == 0


def test_count_within_no_targets_or_points() -> None:
    p = unit_vectors(np.array([70.0]), np.array([30.0]))
    assert count_within(PointTiles(p), np.zeros((0, 3)), 0.1).tolist() == [0]
    assert count_within(PointTiles(np.zeros((0, 3))), p, 0.1).tolist() == []


def test_point_index_refuses_empty() -> None:
    with pytest.raises(ValueError, match="zero points"):
        PointIndex([], [])


def test_segment_index_matches_brute_force_over_all_segments(segments) -> None:
    a, b = segments
    index = SegmentIndex(a, b)
    # random points in the bbox plus points jittered a few hundred metres to a few km off random vertices
    rng = np.random.default_rng(6)
    qx, qy = random_points(150, seed=7)
    pick = rng.integers(0, len(a), 150)
    jx = a[pick, 0] + rng.normal(0, 0.02, 150)
    jy = a[pick, 1] + rng.normal(0, 0.02, 150)
    qx, qy = np.concatenate([qx, jx]), np.concatenate([qy, jy])
    dist, seg = index.nearest(qx, qy)
    brute = np.stack([point_segment_km(x, y, a[:, 0], a[:, 1], b[:, 0], b[:, 1]) for x, y in zip(qx, qy, strict=True)])
    best = brute.min(axis=1)
    assert np.allclose(dist, best, rtol=1e-6, atol=1e-4), np.max(np.abs(dist - best))
    # the returned segment is one that attains the minimum (ties between adjacent segments are fine)
    assert np.allclose(brute[np.arange(len(qx)), seg], best, rtol=1e-6, atol=1e-4)
    # never farther than the nearest vertex
    v = np.vstack([a, b])
    vertex = np.array([sphere_km(x, y, v[:, 0], v[:, 1]).min() for x, y in zip(qx, qy, strict=True)])
    assert np.all(dist <= vertex + 1e-9)
    # and measuring to segments matters: for some points it is strictly closer than any vertex
    assert np.any(dist < vertex - 0.05)


@pytest.mark.parametrize("k", [1, 2, 16])
def test_segment_index_result_does_not_depend_on_k(segments, k: int) -> None:
    a, b = segments
    index = SegmentIndex(a, b)
    qx, qy = random_points(200, seed=8)
    d_k, _ = index.nearest(qx, qy, k=k)
    d_ref, _ = index.nearest(qx, qy)
    assert np.allclose(d_k, d_ref, rtol=1e-9, atol=1e-9)


def dense_block(n_side: int, lon0: float, lat0: float, span_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """A square grid of query points, dense enough that each tile holds many of them."""
    g = np.linspace(0.0, span_deg, n_side)
    lon, lat = np.meshgrid(lon0 + g, lat0 + g)
    return lon.ravel(), lat.ravel()


def test_segment_index_dense_points_match_brute_force(segments) -> None:
    # 2,500 points ~1 km apart, between Lahore and Faisalabad, where 132-500 kV lines cross: tiles of
    # 10 km then hold ~100 points each, so the shared per-tile search is what is being checked
    a, b = segments
    qx, qy = dense_block(50, 73.4, 31.2, 0.5)
    dist, seg = SegmentIndex(a, b).nearest(qx, qy)
    brute = np.stack([point_segment_km(x, y, a[:, 0], a[:, 1], b[:, 0], b[:, 1]) for x, y in zip(qx, qy, strict=True)])
    best = brute.min(axis=1)
    assert np.allclose(dist, best, rtol=1e-6, atol=1e-4), np.max(np.abs(dist - best))
    assert np.allclose(brute[np.arange(len(qx)), seg], best, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("tile_km", [0.1, 3.0, 50.0, 400.0])
def test_segment_index_result_does_not_depend_on_tiles_or_order(segments, tile_km: float) -> None:
    a, b = segments
    index = SegmentIndex(a, b)
    qx, qy = dense_block(60, 66.0, 25.0, 3.0)  # Karachi to the Kirthar range: near and far from lines
    ref, _ = index.nearest(qx, qy)
    tiles = PointTiles(unit_vectors(qx, qy), tile_km=tile_km)
    assert np.array_equal(index.nearest(None, None, tiles=tiles)[0], ref)  # the very same floats
    shuffle = np.random.default_rng(12).permutation(len(qx))
    assert np.array_equal(index.nearest(qx[shuffle], qy[shuffle])[0], ref[shuffle])


def test_query_points_must_be_finite(segments) -> None:
    a, b = segments
    with pytest.raises(ValueError, match="finite coordinates"):
        SegmentIndex(a, b).nearest([67.0, np.nan], [25.0, 30.0])


def test_point_on_a_line_is_at_distance_zero(segments) -> None:
    a, b = segments
    index = SegmentIndex(a, b)
    rng = np.random.default_rng(9)
    pick = rng.choice(len(a), 200, replace=False)
    # vertices themselves
    dist, _ = index.nearest(a[pick, 0], a[pick, 1])
    assert np.all(dist < 1e-6)
    # great-circle midpoints of segments (on the arc, not on the straight lon/lat chord)
    mid = unit_vectors(a[pick, 0], a[pick, 1]) + unit_vectors(b[pick, 0], b[pick, 1])
    mid /= np.linalg.norm(mid, axis=1, keepdims=True)
    mlon, mlat = np.degrees(np.arctan2(mid[:, 1], mid[:, 0])), np.degrees(np.arcsin(mid[:, 2]))
    dist, _ = index.nearest(mlon, mlat)
    assert np.all(dist < 1e-3)  # under a metre


def test_long_segments_are_split_without_changing_distances() -> None:
    # one 1,700 km segment across Pakistan; pieces of 2 km, so the k nearest midpoints are all on it
    a, b = np.array([[61.0, 25.0]]), np.array([[75.0, 35.0]])
    index = SegmentIndex(a, b)
    qx, qy = random_points(300, seed=10)
    qx, qy = np.r_[qx, 50.0, 90.0, 2.0], np.r_[qy, 20.0, 40.0, 48.0]  # a few far away (Arabian Sea, China, Europe)
    dist, seg = index.nearest(qx, qy)
    ref = point_segment_km(qx, qy, a[0, 0], a[0, 1], b[0, 0], b[0, 1])
    assert np.all(seg == 0)
    assert np.allclose(dist, ref, rtol=1e-6, atol=1e-4)
    # beyond either end the distance is to the end point
    beyond = np.array([[55.0, 20.0], [80.0, 39.0]])
    d_end, _ = index.nearest(beyond[:, 0], beyond[:, 1])
    assert np.allclose(d_end, sphere_km(beyond[:, 0], beyond[:, 1], [61.0, 75.0], [25.0, 35.0]))


def test_segment_index_from_lines_maps_segments_to_geometries(raw_lines: gpd.GeoDataFrame) -> None:
    sample = raw_lines.iloc[::40].reset_index(drop=True)
    index, geom_of_seg = SegmentIndex.from_lines(sample.geometry.values)
    n_segments = int(sum(len(p.coords) - 1 for g in sample.geometry for p in shapely.get_parts(g)))
    assert len(geom_of_seg) == n_segments
    qx, qy = random_points(100, seed=11)
    dist, seg = index.nearest(qx, qy)
    # the distance to the reported geometry, measured by brute force over its own segments, is the result
    for x, y, d, s in zip(qx, qy, dist, seg, strict=True):
        xy = np.asarray(sample.geometry.iloc[geom_of_seg[s]].coords)
        own = point_segment_km(x, y, xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]).min()
        assert own == pytest.approx(d, rel=1e-6, abs=1e-4)


def test_segment_index_far_side_of_the_earth() -> None:
    a, b = np.array([[67.0, 25.0]]), np.array([[74.0, 31.0]])
    qx, qy = np.array([-110.0]), np.array([-30.0])  # off Chile, ~19,400 km away
    dist, _ = SegmentIndex(a, b).nearest(qx, qy)
    assert dist[0] == pytest.approx(point_segment_km(qx, qy, 67.0, 25.0, 74.0, 31.0)[0], rel=1e-6)


def test_segment_index_refuses_empty() -> None:
    with pytest.raises(ValueError, match="zero segments"):
        SegmentIndex(np.empty((0, 2)), np.empty((0, 2)))
