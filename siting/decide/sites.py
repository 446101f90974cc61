"""From cells to sites: adjacent high-scoring H3 cells merge into sites, ranked and spaced within provinces.

A cell is *high-scoring* when its score is at or above the profile's ``sites.quantile`` of its province's
scores and at or above ``sites.min_score``. High-scoring cells of one province that share an edge (H3
neighbours) form one *zone* (a connected component of the neighbour graph). A zone can be a region (thousands
of km² of the Indus plain), not land a developer could buy, so each zone holds one *site*: grown from the
zone's best cell, always taking the best-scoring cell that touches the site, until the next would take it over
``sites.max_area_km2``; a site is at least its best cell. A site's score is its best cell's score (a 100 MW
plant needs well under one 5 km² cell); its mean score, area, centroid and cell count are the site's, and
``zone_area_km2`` and ``zone_cells`` say how much high-scoring land surrounds it.

The top sites of a province are picked greedily in rank order, skipping any site whose (site) centroid lies within
``sites.min_spacing_km`` of one already picked, so the shortlist does not spend its places on one cluster.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

import h3.api.basic_int as h3b
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from siting.config import SiteRules
from siting.fields import F
from siting.kernels.geodesy import haversine_km
from siting.model.candidates import cell_ints

SITE_ID = "site_id"
SITE_COLUMNS_FROM_BEST_CELL = [
    F.SUBSTATION_NAME,
    F.SUBSTATION_KV,
    F.DIST_SUBSTATION_KM,
    F.SURPLUS_MW,
    F.FIRM_SURPLUS_MW,
    F.SUBSTATION_HEADROOM_MW,
    F.ZONE,
    F.HOSTING_FIRM_MW,
    F.HOSTING_INT_1PCT_MW,
    F.HOSTING_INT_5PCT_MW,
    F.IDLE_CAPACITY_MW,
    "idle_plant_nearest",
    "dist_idle_plant_km",
]


@dataclass
class Sites:
    """Sites (one row each, best first within province) and which cell belongs to which site."""

    table: pd.DataFrame
    members: pd.Series  # index: h3 cell, value: site_id (the site's own cells, bounded in area)
    zone: pd.Series | None = None  # index: h3 cell, value: site_id (every high-scoring cell of the site's zone)


def high_scoring(scored: pd.DataFrame, rules: SiteRules) -> np.ndarray:
    """Mask of the cells that may join a site (province quantile and absolute floor): :func:`high_mask`."""
    return high_mask(scored[F.SCORE].to_numpy(dtype=float), pd.factorize(scored[F.ISO_3166_2])[0], rules)


def high_mask(score: np.ndarray, province: np.ndarray, rules: SiteRules) -> np.ndarray:
    """Mask of the scores at or above their province's ``rules.quantile`` and at or above ``rules.min_score``.

    ``province``: an integer code a cell (negative: no province, never high-scoring).
    """
    q = province_quantile(score, province, rules.quantile)
    with np.errstate(invalid="ignore"):
        return (score >= q) & (score >= rules.min_score)


def province_quantile(score: np.ndarray, province: np.ndarray, q: float) -> np.ndarray:
    """Each cell's province's ``q`` quantile of score (pandas' linear ``Series.quantile``, a province at a time).

    NaN for a cell with a negative code (no province), as a groupby leaves it.
    """
    out = np.full(len(score), np.nan)
    for code in np.unique(province[province >= 0]):
        mask = province == code
        out[mask] = pd.Series(score[mask]).quantile(q)
    return out


def neighbours(ints: np.ndarray) -> np.ndarray:
    """Position in ``ints`` (H3 cells as integers) of each cell's edge neighbours, -1 where absent.

    Shape ``(n, 6)``, in h3's ``grid_ring(c, 1)`` order; a pentagon's sixth column is -1. The rings come from
    h3 one cell at a time (integer ids, no text); finding them among the cells is one sorted search.
    """
    ints = np.asarray(ints).astype(np.uint64)
    rings = [h3b.grid_ring(int(c), 1) for c in ints]
    sizes = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    flat = np.fromiter(itertools.chain.from_iterable(rings), dtype=np.uint64, count=int(sizes.sum()))
    order = np.argsort(ints, kind="stable")
    at = np.searchsorted(ints, flat, sorter=order).clip(max=max(len(ints) - 1, 0))
    found = order[at] if len(ints) else at
    hit = ints[found] == flat if len(ints) else np.zeros(0, dtype=bool)
    out = np.full((len(ints), 6), -1, dtype=np.int64)
    slot = np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    out[np.repeat(np.arange(len(ints)), sizes)[hit], slot[hit]] = found[hit]
    return out


def components(cells: np.ndarray, groups: np.ndarray, nbrs: np.ndarray | None = None) -> np.ndarray:
    """Label of the connected component (H3 neighbours within the same group) of each cell.

    ``nbrs``: :func:`neighbours` of ``cells``, when already known.
    """
    nbrs = neighbours(cell_ints(cells)) if nbrs is None else nbrs
    rows = np.repeat(np.arange(len(cells)), nbrs.shape[1]).reshape(nbrs.shape)
    groups = np.asarray(groups)
    edge = nbrs >= 0
    edge[edge] = groups[nbrs[edge]] == groups[rows[edge]]
    n = len(cells)
    graph = coo_matrix((np.ones(int(edge.sum())), (rows[edge], nbrs[edge])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def bounded(
    cells: np.ndarray,
    labels: np.ndarray,
    score: np.ndarray,
    area: np.ndarray,
    max_km2: float,
    nbrs: np.ndarray | None = None,
) -> np.ndarray:
    """Mask of the cells of each component's site: grown from the best cell, best touching cell first.

    Ties in score break on the cell id. Growth stops when the best touching cell would take the site over
    ``max_km2``; a site is never empty (its best cell alone may exceed the bound at coarse resolutions).
    ``nbrs``: :func:`neighbours` of ``cells``, when already known.
    """
    nbrs = neighbours(cell_ints(cells)) if nbrs is None else nbrs
    order = np.lexsort((cells, -score))  # best first, then cell id
    seen_label: set[int] = set()
    keep = np.zeros(len(cells), dtype=bool)
    for start in order:
        lab = labels[start]
        if lab in seen_label:
            continue
        seen_label.add(lab)
        total, heap, queued = 0.0, [(-score[start], cells[start], start)], {start}
        while heap:
            _, _, i = heapq.heappop(heap)
            if keep[i] or (total > 0 and total + area[i] > max_km2):
                break
            keep[i] = True
            total += area[i]
            for j in nbrs[i].tolist():
                if j >= 0 and labels[j] == lab and j not in queued:
                    queued.add(j)
                    heapq.heappush(heap, (-score[j], cells[j], j))
    return keep


def build(scored: pd.DataFrame, rules: SiteRules, top_n: int) -> Sites:
    """Merge high-scoring adjacent cells into sites, rank them and mark the spaced top ``top_n`` per province.

    Returns
    -------
    Sites
        ``table`` columns: ``site_id`` (``<ISO 3166-2>-<rank>``), province, ``rank_in_province``,
        ``rank_national`` (by ``score``, the best cell's), ``top_rank`` (1..top_n for the spaced shortlist,
        empty otherwise), ``score``, ``score_mean``, ``n_cells``, ``area_km2`` (the bounded site),
        ``zone_cells``, ``zone_area_km2`` (its whole connected component), the site's centroid ``lat``/``lon``,
        ``best_cell`` with its ``best_lat``/``best_lon`` and grid connection.

    """
    return build_from(scored.loc[high_scoring(scored, rules)], rules, top_n)


def build_from(high: pd.DataFrame, rules: SiteRules, top_n: int) -> Sites:
    """:func:`build` from the high-scoring cells alone (a partitioned run gathers only these), in cell order."""
    cand = high.reset_index(drop=True)
    if cand.empty:
        empty = pd.DataFrame(columns=[SITE_ID, F.ISO_3166_2, F.SCORE])
        return Sites(empty, pd.Series(dtype=str, name=SITE_ID), pd.Series(dtype=str, name=SITE_ID))
    ints = cell_ints(cand[F.CELL])
    nbrs = neighbours(ints)
    labels = components(cand[F.CELL].to_numpy(), cand[F.ISO_3166_2].to_numpy(), nbrs)
    cand["_site"] = labels
    cand["_area"] = np.fromiter((h3b.cell_area(c, "km^2") for c in ints.tolist()), dtype=np.float64, count=len(ints))
    zone_all = cand
    zone_g = zone_all.groupby("_site")
    cand = cand.loc[
        bounded(cand[F.CELL].to_numpy(), labels, cand[F.SCORE].to_numpy(float), cand["_area"].to_numpy(),
                rules.max_area_km2, nbrs)
    ].copy()  # fmt: skip
    # centroid: area-weighted mean of the cell centres as unit vectors, back to lon/lat
    lat, lon = np.radians(cand[F.LAT].to_numpy()), np.radians(cand[F.LON].to_numpy())
    for k, v in {"_x": np.cos(lat) * np.cos(lon), "_y": np.cos(lat) * np.sin(lon), "_z": np.sin(lat)}.items():
        cand[k] = v * cand["_area"]
    best_idx = cand.sort_values([F.SCORE, F.CELL], ascending=[False, True]).groupby("_site", sort=False).head(1)
    best = best_idx.set_index("_site")
    g = cand.groupby("_site")
    table = pd.DataFrame(
        {
            F.ISO_3166_2: best[F.ISO_3166_2],
            F.PROVINCE: best[F.PROVINCE] if F.PROVINCE in best else best[F.ISO_3166_2],
            F.SCORE: best[F.SCORE],
            "score_mean": g[F.SCORE].mean(),
            F.N_CELLS: g.size(),
            F.AREA_KM2: g["_area"].sum(),
            F.ZONE_CELLS: zone_g.size(),
            F.ZONE_AREA_KM2: zone_g["_area"].sum(),
            "best_cell": best[F.CELL],
            "best_lat": best[F.LAT],
            "best_lon": best[F.LON],
        }
    )
    x, y, z = g["_x"].sum(), g["_y"].sum(), g["_z"].sum()
    table[F.LAT] = np.degrees(np.arctan2(z, np.hypot(x, y)))
    table[F.LON] = np.degrees(np.arctan2(y, x))
    for col in SITE_COLUMNS_FROM_BEST_CELL:
        if col in best.columns:
            table[col] = best[col]
    table = table.sort_values([F.ISO_3166_2, F.SCORE, "score_mean", "best_cell"], ascending=[True, False, False, True])
    table[F.RANK_IN_PROVINCE] = table.groupby(F.ISO_3166_2).cumcount() + 1
    table[SITE_ID] = table[F.ISO_3166_2] + "-" + table[F.RANK_IN_PROVINCE].map("{:03d}".format)
    nat = table.sort_values([F.SCORE, "score_mean", "best_cell"], ascending=[False, False, True]).index
    table.loc[nat, F.RANK_NATIONAL] = np.arange(1, len(table) + 1)
    table[F.RANK_NATIONAL] = table[F.RANK_NATIONAL].astype(np.int64)
    table["top_rank"] = spaced_top(table, top_n, rules.min_spacing_km)
    members = pd.Series(table[SITE_ID].reindex(cand["_site"]).to_numpy(), index=cand[F.CELL].to_numpy(), name=SITE_ID)
    zone = pd.Series(
        table[SITE_ID].reindex(zone_all["_site"]).to_numpy(), index=zone_all[F.CELL].to_numpy(), name=SITE_ID
    )
    first = [SITE_ID, F.ISO_3166_2, F.PROVINCE, F.RANK_IN_PROVINCE, F.RANK_NATIONAL, "top_rank", F.SCORE]
    table = table[[*first, *[c for c in table.columns if c not in first]]].reset_index(drop=True)
    return Sites(table, members, zone)


def spaced_top(table: pd.DataFrame, n: int, min_spacing_km: float) -> pd.Series:
    """1..n for the greedy spaced shortlist of each province (in ``rank_in_province`` order), NA elsewhere."""
    out = pd.Series(pd.NA, index=table.index, dtype="Int64")
    for _, grp in table.sort_values(F.RANK_IN_PROVINCE).groupby(F.ISO_3166_2, sort=False):
        picked: list[int] = []
        for idx in grp.index:
            if len(picked) == n:
                break
            if picked:
                d = haversine_km(table.loc[picked, F.LON], table.loc[picked, F.LAT], table.at[idx, F.LON],
                                 table.at[idx, F.LAT])  # fmt: skip
                if (d < min_spacing_km).any():
                    continue
            picked.append(idx)
            out[idx] = len(picked)
    return out


def shortlist(sites: pd.DataFrame) -> pd.DataFrame:
    """Return the spaced top sites of every province, provinces in ISO order, best first."""
    top = sites[sites["top_rank"].notna()]
    return top.sort_values([F.ISO_3166_2, "top_rank"]).reset_index(drop=True)


def site_scores(cell_scores: np.ndarray, cells: pd.Index, members: pd.Series, site_ids: pd.Index) -> np.ndarray:
    """Site score (best member cell) for one or many runs of cell scores.

    Parameters
    ----------
    cell_scores
        ``(n_cells,)`` or ``(runs, n_cells)`` scores aligned with ``cells``.
    cells
        The cell ids of the score columns.
    members
        Cell → site id, as ``Sites.members``.
    site_ids
        The order of the output columns.

    Returns
    -------
    ndarray
        ``(n_sites,)`` or ``(runs, n_sites)``.

    """
    s = np.atleast_2d(cell_scores)
    col = pd.Index(cells).get_indexer(members.index)
    site = pd.Index(site_ids).get_indexer(members.to_numpy())
    out = np.full((s.shape[0], len(site_ids)), -np.inf)
    np.maximum.at(out.T, site, s[:, col].T)
    return out if np.ndim(cell_scores) == 2 else out[0]
