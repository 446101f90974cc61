"""Sites, allocation and sensitivity on the real layers (H3 resolution 6) and on small hand-made cases."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from siting.config import AllocationRules, SiteRules
from siting.decide import allocation, sensitivity, sites
from siting.fields import F
from siting.outputs.reports import sensitivity_table


@pytest.fixture(scope="module")
def built(result, profile, study):
    return sites.build(result.scored, profile.sites, study.ranking.top_n)


def test_sites_are_connected_high_scoring_cells(result, built, profile) -> None:
    scored = result.scored.set_index(F.CELL)
    members = built.members
    assert members.index.is_unique
    for sid, cells in members.groupby(members).groups.items():
        cells = list(cells)
        assert scored.loc[cells, F.ISO_3166_2].nunique() == 1
        # connected: a breadth-first walk over H3 neighbours inside the site reaches every cell
        seen, todo = {cells[0]}, [cells[0]]
        while todo:
            for nb in h3.grid_ring(todo.pop(), 1):
                if nb in set(cells) and nb not in seen:
                    seen.add(nb)
                    todo.append(nb)
        assert seen == set(cells), sid
    row = built.table.set_index(sites.SITE_ID)
    agg = scored.loc[members.index, F.SCORE].groupby(members.to_numpy())
    np.testing.assert_allclose(row.loc[agg.max().index, F.SCORE], agg.max())
    np.testing.assert_allclose(row.loc[agg.mean().index, "score_mean"], agg.mean())
    area = pd.Series([h3.cell_area(c, "km^2") for c in members.index]).groupby(members.to_numpy()).sum()
    np.testing.assert_allclose(row.loc[area.index, F.AREA_KM2], area)
    # no high-scoring cell is left out of a zone, and each site lies in its own zone
    mask = sites.high_scoring(result.scored, profile.sites)
    assert set(result.scored.loc[mask, F.CELL]) == set(built.zone.index)
    assert (built.zone.reindex(members.index) == members).all()


def test_sites_are_bounded_around_their_best_cell_inside_their_zone(result, built, profile) -> None:
    t = built.table.set_index(sites.SITE_ID)
    members, zone = built.members, built.zone
    area = pd.Series({c: h3.cell_area(c, "km^2") for c in zone.index})
    site_area = area[members.index].groupby(members.to_numpy()).sum()
    zone_area = area[zone.index].groupby(zone.to_numpy()).sum()
    np.testing.assert_allclose(t.loc[zone_area.index, F.ZONE_AREA_KM2], zone_area)
    np.testing.assert_array_equal(t.loc[zone_area.index, F.ZONE_CELLS], zone.groupby(zone.to_numpy()).size())
    np.testing.assert_array_equal(t.loc[site_area.index, F.N_CELLS], members.groupby(members.to_numpy()).size())
    # every site is within the bound, or is its best cell alone (a coarse cell may exceed the bound)
    single = t.loc[site_area.index, F.N_CELLS] == 1
    assert ((site_area <= profile.sites.max_area_km2 + 1e-9) | single).all()
    assert (t[F.AREA_KM2] <= t[F.ZONE_AREA_KM2] + 1e-9).all()
    # the best cell is in its site, and no cell of the zone scores above it
    assert (members.reindex(t["best_cell"]).to_numpy() == t.index.to_numpy()).all()
    score = result.scored.set_index(F.CELL)[F.SCORE]
    np.testing.assert_allclose(score[zone.index].groupby(zone.to_numpy()).max()[t.index], t[F.SCORE])


def test_site_grows_best_neighbour_first_up_to_the_area_bound() -> None:
    """A res-8 cell and its ring (~0.7 km² each): the site takes the best cell and then its best neighbours."""
    c0 = h3.latlng_to_cell(27.0, 68.0, 8)
    ring = sorted(h3.grid_ring(c0, 1))
    cells = [c0, *ring]
    score = [90.0, 80.0, 70.0, 85.0, 60.0, 50.0, 40.0]
    scored = pd.DataFrame(
        {
            F.CELL: cells,
            F.SCORE: score,
            F.ISO_3166_2: "X",
            F.LAT: [h3.cell_to_latlng(c)[0] for c in cells],
            F.LON: [h3.cell_to_latlng(c)[1] for c in cells],
        }
    )
    a = h3.cell_area(c0, "km^2")
    rules = SiteRules(quantile=0.01, max_area_km2=3.5 * a)
    built = sites.build(scored, rules, 5)
    assert len(built.table) == 1
    row = built.table.iloc[0]
    assert set(built.members.index) == {c0, ring[2], ring[0]}  # 90, 85, 80: the three best, connected
    assert row[F.N_CELLS] == 3 and row[F.ZONE_CELLS] == 6  # the 40 falls below the 1 % quantile
    assert row["best_cell"] == c0
    # a bound below one cell still gives the best cell as the site
    tiny = sites.build(scored, SiteRules(quantile=0.01, max_area_km2=0.01), 5)
    assert list(tiny.members.index) == [c0]


def test_shortlist_is_spaced_and_ranked(built, profile, study) -> None:
    short = sites.shortlist(built.table)
    assert (short.groupby(F.ISO_3166_2).size() <= study.ranking.top_n).all()
    for _, g in short.groupby(F.ISO_3166_2):
        assert g[F.SCORE].is_monotonic_decreasing
        d = sites.haversine_km(g[F.LON].to_numpy()[:, None], g[F.LAT].to_numpy()[:, None], g[F.LON].to_numpy(),
                               g[F.LAT].to_numpy())  # fmt: skip
        assert (d[~np.eye(len(g), dtype=bool)] >= profile.sites.min_spacing_km).all()
    assert sorted(built.table[F.RANK_NATIONAL]) == list(range(1, len(built.table) + 1))


def test_spacing_skips_a_close_site() -> None:
    t = pd.DataFrame(
        {F.ISO_3166_2: ["X"] * 3, F.RANK_IN_PROVINCE: [1, 2, 3], F.LAT: [30.0, 30.1, 31.0], F.LON: [70.0] * 3}
    )
    np.testing.assert_array_equal(sites.spaced_top(t, 2, 25.0).to_numpy(dtype=float), [1, np.nan, 2])


def _toy_sites() -> tuple[pd.DataFrame, pd.DataFrame]:
    s = pd.DataFrame(
        {
            "site_id": ["A1", "A2", "A3", "B1", "B2"],
            F.ISO_3166_2: ["A", "A", "A", "B", "B"],
            F.PROVINCE: ["a", "a", "a", "b", "b"],
            F.SCORE: [90.0, 80.0, 70.0, 60.0, 50.0],
            F.SUBSTATION_NAME: ["S1", "S1", "S2", "S3", None],
            F.SUBSTATION_KV: [220.0, 220.0, 500.0, 220.0, 220.0],
            F.SUBSTATION_HEADROOM_MW: [142.0, 142.0, 292.0, 142.0, 142.0],
        }
    )
    p = pd.DataFrame({F.ISO_3166_2: ["A", "B"], F.PROVINCE: ["a", "b"], "firm_surplus_mw": [300.0, 1000.0]})
    return s, p


def test_allocation_respects_caps_and_prefers_score() -> None:
    s, p = _toy_sites()
    rules = AllocationRules(total_mw=600, site_mw=100, max_blocks_per_site=2)
    a = allocation.allocate(s, p, rules)
    got = a.sites.set_index("site_id")["allocated_mw"]
    # province A capped at 300 MW; station S1 (220 kV) at 142 MW -> one block over A1+A2, so A1 (best) 100;
    # A3 takes the other 200; B1 (S3) and B2 (its own unnamed station) one block each: 100 MW short
    assert got["A1"] == 100 and "A2" not in got.index and got["A3"] == 200
    assert got["B1"] == 100 and got["B2"] == 100
    assert a.placed_mw == 500
    assert a.provinces.set_index(F.ISO_3166_2).loc["A", "allocated_mw"] == 300


def test_allocation_reports_a_shortfall() -> None:
    s, p = _toy_sites()
    a = allocation.allocate(s, p.assign(firm_surplus_mw=[100.0, -50.0]), AllocationRules(total_mw=2000))
    assert a.placed_mw == 100
    assert "1,900 MW could not be placed" in allocation.to_markdown(a, "t")


def test_allocation_on_real_sites(result, built) -> None:
    a = allocation.allocate(built.table, result.provinces, AllocationRules())
    cap = result.provinces.set_index(F.ISO_3166_2)["firm_surplus_mw"].clip(lower=0)
    by_prov = a.sites.groupby(F.ISO_3166_2)["allocated_mw"].sum()
    assert (by_prov <= cap.loc[by_prov.index] + 1e-9).all()
    assert a.placed_mw <= 2000
    assert (a.stations["allocated_mw"] <= a.stations["headroom_mw"] + 1e-9).all()


def _site_cells(result) -> pd.DataFrame:
    return pd.DataFrame({F.CELL: result.site_cells.index, "site_id": result.site_cells.to_numpy()})


def test_sensitivity_is_deterministic_and_consistent(result, study, profile) -> None:
    scored = result.scored
    args = (study, profile, scored, result.sites, _site_cells(result))
    t1 = sensitivity_table(*args, runs=60, seed=3)
    t2 = sensitivity_table(*args, runs=60, seed=3)
    pd.testing.assert_frame_equal(t1, t2)
    assert t1["p_top_n"].between(0, 1).all()
    assert (t1["rank_min"] <= t1["rank_base"]).all() and (t1["rank_base"] <= t1["rank_max"]).all()
    # hosting is one number a zone: it cannot reorder sites within a province that lies in one zone
    one_zone = t1[F.ISO_3166_2].isin(["PK-PB", "PK-KP", "PK-IS", "PK-JK", "PK-GB"]).to_numpy()
    assert (t1.loc[one_zone, "rank_span_hosting_interruptible_5pct_mw"] == 0).all()
    # with a huge concentration the draws hug the chosen weights: ranks barely move
    tight = sensitivity_table(*args, runs=30, seed=0, concentration=1e7)
    assert (tight["rank_max"] - tight["rank_min"]).max() <= 1


def test_province_ranks() -> None:
    s = np.array([[3.0, 1.0, 2.0, 5.0], [1.0, 3.0, 2.0, 4.0]])
    r = sensitivity.province_ranks(s, np.array(["a", "a", "a", "b"]))
    np.testing.assert_array_equal(r, [[1, 3, 2, 1], [3, 1, 2, 1]])


def test_sensitivity_plot_writes_png(tmp_path, result, study, profile) -> None:
    scored = result.scored
    t = sensitivity_table(study, profile, scored, result.sites, _site_cells(result), runs=10, seed=0)
    sensitivity.plot(t, 5, tmp_path / "s.png", "test")
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"


def test_sites_rules_quantile() -> None:
    scored = pd.DataFrame({F.ISO_3166_2: ["A"] * 4, F.SCORE: [1.0, 2.0, 3.0, 4.0]})
    assert sites.high_scoring(scored, SiteRules(quantile=0.5)).tolist() == [False, False, True, True]
    assert sites.high_scoring(scored, SiteRules(quantile=0.5, min_score=3.5)).tolist() == [False] * 3 + [True]


def test_neighbours_are_the_h3_rings_found_among_the_cells() -> None:
    import h3.api.numpy_int as h3i

    rng = np.random.default_rng(5)
    disk = np.concatenate(
        [h3i.grid_disk(h3i.latlng_to_cell(30.0, 70.0, 9), 12), h3i.grid_disk(h3i.get_pentagons(9)[3], 4)]
    )
    cells = rng.permutation(np.unique(disk))[: len(disk) * 2 // 3]  # holes, unsorted, a pentagon's neighbourhood
    got = sites.neighbours(cells)
    where = {int(c): i for i, c in enumerate(cells)}
    for i, c in enumerate(cells):
        ring = [where.get(int(n), -1) for n in h3i.grid_ring(c, 1)]
        assert got[i].tolist() == ring + [-1] * (6 - len(ring))
    hexes = pd.Series([h3.int_to_str(int(c)) for c in cells])
    groups = np.array(rng.choice(["A", "B"], len(cells), p=[0.8, 0.2]), dtype=object)
    labels = sites.components(hexes.to_numpy(), groups)
    expected = {}  # components by breadth-first walk over h3's rings within a group
    for start in range(len(cells)):
        if start in expected:
            continue
        expected[start], todo = start, [start]
        while todo:
            for n in h3i.grid_ring(cells[todo.pop()], 1):
                j = where.get(int(n))
                if j is not None and j not in expected and groups[j] == groups[start]:
                    expected[j] = start
                    todo.append(j)
    assert len(set(labels)) == len(set(expected.values()))
    assert pd.Series(labels).groupby([expected[i] for i in range(len(cells))]).nunique().eq(1).all()
