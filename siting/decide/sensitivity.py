"""How robust is the ranking of sites to the weights? Monte Carlo and one-at-a-time weight perturbation.

Sites are fixed (those of ``siting score``); only the weights move. A site's score under a set of weights is
its best member cell's score, and its rank is within its province (1 = best).

- Monte Carlo: ``runs`` weight vectors drawn from a Dirichlet distribution centred on the profile's weights,
  ``w ~ Dir(concentration × w0)`` (mean ``w0``; a larger concentration means smaller perturbations; at 100
  a weight of 0.25 varies with a standard deviation of about 0.04). For each site: ``p_top_n`` (share of runs in
  which it stays in its province's top N) and its rank's minimum, median and maximum.
- One at a time: each weight is scaled by each of ``factors`` and the others rescaled to sum to 1; the
  criterion whose sweep moves a site's rank the most is its ``most_influential`` weight (none if no sweep
  moves it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.decide.sites import SITE_ID
from siting.fields import F
from siting.kernels import mcda

OAT_FACTORS = (0.5, 0.75, 1.25, 1.5)
MIN_ALPHA = 1e-3  # a zero weight still gets a tiny Dirichlet parameter


def aggregate(values: np.ndarray, weights: np.ndarray, method: str, vmin: np.ndarray, vmax: np.ndarray) -> np.ndarray:
    """Scores 0-100 of ``values`` (cells × criteria) for each row of ``weights`` (runs × criteria).

    TOPSIS's ideal and anti-ideal are ``w × vmax`` and ``w × vmin`` of the *whole* candidate set, so a subset
    of cells scores as it would among all candidates.
    """
    w = np.atleast_2d(weights)
    if method == "weighted_sum":
        return 100.0 * w @ values.T  # every run at once: (runs × criteria) @ (criteria × cells)
    if method == "weighted_product":
        return 100.0 * np.stack([mcda.weighted_product(values, wi) for wi in w])
    if method == "topsis":
        return 100.0 * np.stack([mcda.topsis(values, wi, bounds=(vmin, vmax)) for wi in w])
    raise ValueError(f"unknown aggregation {method}")


def province_ranks(site_scores: np.ndarray, provinces: np.ndarray) -> np.ndarray:
    """Rank (1 = best) of each site within its province, for each run: ``(runs, sites)``."""
    ranks = np.zeros(site_scores.shape, dtype=np.int64)
    for p in np.unique(provinces):
        idx = np.flatnonzero(provinces == p)
        ranks[:, idx] = mcda.rank_desc(site_scores[:, idx], axis=1)
    return ranks


def run(  # noqa: PLR0913  (six inputs, then the analysis's keyword-only settings)
    values: np.ndarray,
    weights: np.ndarray,
    names: list[str],
    method: str,
    member_site: np.ndarray,
    sites: pd.DataFrame,
    *,
    top_n: int,
    runs: int = 500,
    concentration: float = 100.0,
    seed: int = 0,
    factors: tuple[float, ...] = OAT_FACTORS,
    vmin: np.ndarray | None = None,
    vmax: np.ndarray | None = None,
) -> pd.DataFrame:
    """Monte Carlo and one-at-a-time sensitivity of the sites' province ranks.

    Parameters
    ----------
    values
        Value matrix (member cells × criteria) of the cells that belong to a site.
    weights
        The profile's weights, in ``names`` order.
    member_site
        For each row of ``values``, the position of its site in ``sites``.
    sites
        ``site_id``, ``iso_3166_2``, ``province``, ``rank_in_province``, ``score``.
    names, method
        Criterion names (weights order) and the profile's aggregation.
    top_n
        The province shortlist length whose membership ``p_top_n`` measures.
    runs, concentration, seed
        Monte Carlo draws, Dirichlet concentration and random seed.
    factors
        One-at-a-time multipliers of each weight.
    vmin, vmax
        Column minimum and maximum of the values over all candidates (TOPSIS); default: of ``values``.

    Returns
    -------
    DataFrame
        One row a site: base rank, ``p_top_n``, ``rank_min``, ``rank_median``, ``rank_max``,
        ``rank_span_<criterion>`` of the one-at-a-time sweep, ``most_influential``.

    """
    vmin = values.min(axis=0) if vmin is None else vmin
    vmax = values.max(axis=0) if vmax is None else vmax
    n_sites = len(sites)
    prov = sites[F.ISO_3166_2].to_numpy()

    def site_ranks(w: np.ndarray) -> np.ndarray:
        cell = aggregate(values, w, method, vmin, vmax)  # runs × cells
        s = np.full((cell.shape[0], n_sites), -np.inf)
        np.maximum.at(s.T, member_site, cell.T)
        return province_ranks(s, prov)

    rng = np.random.default_rng(seed)
    alpha = concentration * np.maximum(weights, MIN_ALPHA)
    draws = rng.dirichlet(alpha, size=runs)
    ranks = np.concatenate([site_ranks(chunk) for chunk in np.array_split(draws, max(1, runs // 50))])
    base = site_ranks(weights[None, :])[0]
    out = sites[[SITE_ID, F.ISO_3166_2, F.PROVINCE, F.SCORE]].copy()
    out["rank_base"] = base
    out["p_top_n"] = (ranks <= top_n).mean(axis=0)
    out["rank_min"] = ranks.min(axis=0)
    out["rank_median"] = np.median(ranks, axis=0)
    out["rank_max"] = ranks.max(axis=0)
    spans = {}
    for j, name in enumerate(names):
        ws = []
        for f in factors:
            w = weights.copy()
            w[j] *= f
            ws.append(w / w.sum())
        r = np.vstack([base[None, :], site_ranks(np.array(ws))])
        spans[name] = r.max(axis=0) - r.min(axis=0)
        out[f"rank_span_{name}"] = spans[name]
    span = np.column_stack([spans[n] for n in names])
    out["most_influential"] = np.where(span.max(axis=1) > 0, np.array(names)[span.argmax(axis=1)], "none")
    return out.sort_values([F.ISO_3166_2, "rank_base"]).reset_index(drop=True)


def plot(table: pd.DataFrame, top_n: int, path, title: str) -> None:
    """Two panels for the base top-N sites of each province: P(stay in top N) and the rank range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table[table["rank_base"] <= top_n].iloc[::-1]
    labels = [f"{r.site_id}  {r.province}" for r in t.itertuples()]
    y = np.arange(len(t))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 0.28 * len(t) + 1.6), sharey=True)
    colours = np.where(t["p_top_n"] >= 0.9, "#2b8a3e", np.where(t["p_top_n"] >= 0.5, "#e8a33d", "#c92a2a"))
    a1.barh(y, t["p_top_n"], color=colours)
    a1.set_xlim(0, 1)
    a1.set_yticks(y, labels, fontsize=7)
    a1.set_xlabel(f"P(stays in province top {top_n})")
    a1.axvline(0.9, color="grey", lw=0.5, ls="--")
    a2.hlines(y, t["rank_min"], t["rank_max"], color="grey")
    a2.plot(t["rank_median"], y, "o", ms=3, color="black", label="median")
    a2.plot(t["rank_base"], y, "|", ms=8, color="#1c7ed6", label="chosen weights")
    a2.set_xlabel("rank in province (Monte Carlo min-max)")
    a2.legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120, metadata={"Software": None})
    plt.close(fig)


TOP_SHARE = 0.05  # the national top share whose membership the cell layer of the map shows


def weight_draws(weights: np.ndarray, runs: int, concentration: float, seed: int) -> np.ndarray:
    """Draw the Monte Carlo weight vectors of :func:`run`: ``Dir(concentration × w0)`` with the same seed."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(concentration * np.maximum(weights, MIN_ALPHA), size=runs)


def cell_top_share(
    values: np.ndarray,
    weights: np.ndarray,
    method: str,
    *,
    runs: int = 500,
    concentration: float = 100.0,
    seed: int = 0,
    share: float = TOP_SHARE,
) -> np.ndarray:
    """Share of the weight draws of :func:`run` in which each cell is among the national top ``share``.

    ``values`` are every scored cell's (cells × criteria); TOPSIS's ideals are those of all cells. A cell is in
    the top when at most ``ceil(share × cells)`` cells score above it (ties count in).
    """
    n = len(values)
    if n == 0:
        return np.zeros(0)
    k = max(1, int(np.ceil(share * n)))
    vmin, vmax = values.min(axis=0), values.max(axis=0)
    hits = np.zeros(n)
    draws = weight_draws(weights, runs, concentration, seed)
    for chunk in np.array_split(draws, max(1, runs // 20)):
        scores = aggregate(values, chunk, method, vmin, vmax)  # chunk × cells
        cut = np.partition(scores, n - k, axis=1)[:, n - k]
        hits += (scores >= cut[:, None]).sum(axis=0)
    return hits / len(draws)
