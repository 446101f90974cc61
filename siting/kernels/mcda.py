"""Multi-criteria decision analysis as pure, vectorised functions: arrays in, arrays out.

Value functions map a raw criterion (km, °C, MW, a category) to 0..1 (1 = best). Weighting methods turn
judgements or data into weights that sum to 1: AHP (Saaty's principal eigenvector with the consistency ratio)
and Shannon entropy. Aggregations turn a matrix of values (alternatives in rows, criteria in columns, all
benefit-oriented in 0..1) and a weight vector into a preference in 0..1: weighted sum, weighted product and
TOPSIS. Nothing here knows about configuration files or tables; ``siting.decide.scoring`` wires them up.

The aggregations follow the definitions of pymcdm and scikit-criteria and are checked against pymcdm in
``tests/test_mcda.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from siting.kernels.linalg import row_dot

# ---------------------------------------------------------------------------------------------------------
# value functions


def linear(x: np.ndarray, worst: float, best: float) -> np.ndarray:
    """0 at ``worst``, 1 at ``best``, linear between and clipped outside (a cost when ``best < worst``)."""
    return np.clip((np.asarray(x, dtype=float) - worst) / (best - worst), 0.0, 1.0)


def piecewise(x: np.ndarray, xs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation through the points ``(xs[i], values[i])``, flat beyond the first and last point."""
    return np.interp(np.asarray(x, dtype=float), np.asarray(xs, dtype=float), np.asarray(values, dtype=float))


SIGMOID_BEST_VALUE = 0.95  # the logistic curve reaches this at ``best``


def sigmoid(x: np.ndarray, midpoint: float, best: float) -> np.ndarray:
    """Logistic curve: 0.5 at ``midpoint``, 0.95 at ``best`` (a cost when ``best < midpoint``)."""
    scale = (best - midpoint) / np.log(SIGMOID_BEST_VALUE / (1 - SIGMOID_BEST_VALUE))
    z = (np.asarray(x, dtype=float) - midpoint) / scale
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)) without overflow


def threshold(x: np.ndarray, at: float, below: float, above: float) -> np.ndarray:
    """``above`` where ``x >= at``, ``below`` elsewhere."""
    return np.where(np.asarray(x, dtype=float) >= at, above, below).astype(float)


def categorical(x: np.ndarray, values: Mapping, default: float) -> np.ndarray:
    """Look each category up in ``values``; categories not listed get ``default``.

    Numeric categories match numerically (a key ``500`` matches ``500.0``); other keys match as strings.
    """
    arr = np.asarray(x)
    out = np.full(arr.shape, float(default))
    numeric = np.issubdtype(arr.dtype, np.number)
    for key, value in values.items():
        if numeric:
            try:
                mask = arr == float(key)
            except (TypeError, ValueError):
                continue
        else:
            mask = arr.astype(str) == str(key)
        out[mask] = value
    return out


# ---------------------------------------------------------------------------------------------------------
# weights

# Saaty's random consistency index by matrix order (Saaty 1980, "The Analytic Hierarchy Process", table 1.7;
# orders 11-15 from Saaty 2012). CR = CI / RI is undefined for n <= 2, where every matrix is consistent.
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
            11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}  # fmt: skip
SAATY_SCALE = (1 / 9, 9.0)  # judgements live on Saaty's 1/9..9 scale
MAX_CR = 0.10


@dataclass(frozen=True)
class AHPResult:
    """Principal-eigenvector weights of a pairwise matrix and its consistency."""

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    worst_pair: tuple[int, int]  # (i, j), i < j: the judgement a_ij farthest (in log) from w_i / w_j
    worst_implied: float  # what the other judgements say a_ij should be: geometric mean over k of a_ik a_kj


def ahp(matrix: np.ndarray) -> AHPResult:
    """AHP weights (principal right eigenvector, normalised to sum 1) and Saaty's consistency ratio.

    ``CI = (λmax − n) / (n − 1)``, ``CR = CI / RI(n)``. The most inconsistent pair is the upper-triangle
    judgement ``a_ij`` whose log deviates most from ``log(w_i / w_j)``: revising it lowers CR the most in the
    usual case.
    """
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or (a <= 0).any() or not np.allclose(a * a.T, 1.0):
        raise ValueError("a pairwise matrix must be square, positive and reciprocal (a_ji = 1 / a_ij)")
    if n == 1:
        return AHPResult(np.ones(1), 1.0, 0.0, 0.0, (0, 0), 1.0)
    eigvals, eigvecs = np.linalg.eig(a)
    k = int(np.argmax(eigvals.real))
    w = np.abs(eigvecs[:, k].real)
    w = w / w.sum()
    lam = float(eigvals[k].real)
    ci = max((lam - n) / (n - 1), 0.0)
    ri = SAATY_RI.get(n, SAATY_RI[15])
    cr = ci / ri if ri > 0 else 0.0
    implied = w[:, None] / w[None, :]
    dev = np.abs(np.log(a) - np.log(implied))
    dev[np.tril_indices(n)] = -1.0
    i, j = np.unravel_index(int(np.argmax(dev)), dev.shape)
    others = [k for k in range(n) if k not in (i, j)]
    via = float(np.exp(np.mean(np.log(a[i, others] * a[others, j])))) if others else float(a[i, j])
    return AHPResult(w, lam, ci, cr, (int(i), int(j)), via)


def pairwise_matrix(names: list[str], judgements: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """Reciprocal matrix from judgements ``{a: {b: x}}`` meaning "a is x times as important as b".

    Each unordered pair must be judged exactly once; the diagonal is 1.

    Raises
    ------
    ValueError
        Naming the first pair that is missing, given twice, or about an unknown criterion.

    """
    index = {n: i for i, n in enumerate(names)}
    a = np.full((len(names), len(names)), np.nan)
    np.fill_diagonal(a, 1.0)
    for row, cols in judgements.items():
        for col, x in cols.items():
            for key in (row, col):
                if key not in index:
                    raise ValueError(f"{row}.{col}: '{key}' is not a criterion of this profile")
            i, j = index[row], index[col]
            if i == j:
                raise ValueError(f"{row}.{col}: a criterion is not compared with itself")
            if not np.isnan(a[i, j]):
                raise ValueError(f"{row}.{col}: this pair is judged twice; keep one of {row}.{col} and {col}.{row}")
            a[i, j], a[j, i] = x, 1.0 / x
    missing = [(names[i], names[j]) for i, j in zip(*np.where(np.isnan(a)), strict=True) if i < j]
    if missing:
        raise ValueError(f"{missing[0][0]}.{missing[0][1]}: this pair is not judged; every pair needs one judgement")
    return a


def entropy_weights(matrix: np.ndarray) -> np.ndarray:
    """Shannon-entropy weights of a non-negative decision matrix (alternatives in rows).

    Each column is scaled to proportions ``p_ij = x_ij / Σ_i x_ij``, its entropy
    ``E_j = −Σ p_ij ln p_ij / ln m`` (with 0 ln 0 = 0), and ``w_j ∝ 1 − E_j``: criteria on which the
    alternatives differ more get more weight. A column of zeros carries no information (E = 1). If every
    column is uninformative the weights are equal.
    """
    x = np.asarray(matrix, dtype=float)
    m, n = x.shape
    if (x < 0).any():
        raise ValueError("entropy weights need a non-negative matrix")
    if m < 2:
        return np.full(n, 1.0 / n)
    sums = x.sum(axis=0)
    p = np.divide(x, sums, out=np.zeros_like(x), where=sums > 0)
    from scipy.special import xlogy  # here: scipy.special takes ~1 s to import, and only entropy weights use it

    e = -xlogy(p, p).sum(axis=0) / np.log(m)
    e[sums == 0] = 1.0
    d = np.clip(1.0 - e, 0.0, None)
    return d / d.sum() if d.sum() > 0 else np.full(n, 1.0 / n)


# ---------------------------------------------------------------------------------------------------------
# aggregation: values (m × n, benefit-oriented, 0..1) and weights (n, summing to 1) → preference (m,) in 0..1


def weighted_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``Σ_j w_j v_ij`` (WSM / simple additive weighting), summed in criterion order (the same bits in any batch)."""
    return row_dot(values, weights)


def weighted_product(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``Π_j v_ij ^ w_j`` (WPM): a zero on any weighted criterion zeroes the score (no compensation)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(w > 0, np.log(v) * w, 0.0)  # 0^0 = 1: a zero-weight criterion does not count
    return np.exp(logs.sum(axis=-1))


def topsis(values: np.ndarray, weights: np.ndarray, bounds: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """TOPSIS closeness ``D⁻ / (D⁺ + D⁻)`` to the ideal of the weighted values (Hwang & Yoon 1981).

    The ideal (anti-ideal) is the column-wise maximum (minimum) of ``w_j v_ij`` over the alternatives given,
    so the result depends on the whole set; with every alternative identical it is 0.5. ``bounds`` (the
    column minimum and maximum of the unweighted values of a larger set) fixes the ideals instead, so that a
    subset of alternatives scores as it would among the whole set.
    """
    w = np.asarray(weights, dtype=float)
    v = np.asarray(values, dtype=float) * w
    if bounds is None:
        best, worst = v.max(axis=0), v.min(axis=0)
    else:
        worst, best = np.asarray(bounds[0]) * w, np.asarray(bounds[1]) * w
    d_plus = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = d_plus + d_minus
    return np.divide(d_minus, total, out=np.full(len(v), 0.5), where=total > 0)


AGGREGATIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "weighted_sum": weighted_sum,
    "weighted_product": weighted_product,
    "topsis": topsis,
}


def rank_desc(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """1-based ranks along ``axis``, 1 = highest; ties go to the earlier index, as a stable sort orders them."""
    order = np.argsort(-np.asarray(scores, dtype=float), axis=axis, kind="stable")
    return np.argsort(order, axis=axis, kind="stable") + 1
