"""Constraints, value functions, weights and aggregation: criteria → a 0-100 score, ranked within each province.

The steps, each a pure function of ``siting.kernels.mcda`` wired to the profile:

1. hard constraints remove candidates (``constraints:`` in the profile), counted one by one in order;
2. each criterion's value function maps its raw value (in its own unit) to 0..1;
3. the weights come from the profile (direct or AHP) or from the remaining candidates (entropy);
4. the aggregation (weighted sum, weighted product or TOPSIS) gives a preference 0..1, ×100 = ``score``.

``points_<criterion>`` = 100 × weight × value: the points the criterion earns in a weighted sum. With
``aggregation: weighted_sum`` they add up to the score; with ``weighted_product`` or ``topsis`` they are still
each criterion's weighted value (what it brings), but the score is the product or the TOPSIS closeness.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from siting._errors import ConfigError, DataError
from siting.config import (
    CategoricalValue,
    Constraint,
    LinearValue,
    PiecewiseValue,
    Profile,
    SigmoidValue,
    ThresholdValue,
    Weights,
)
from siting.fields import F
from siting.kernels import mcda


def linear_value(x: np.ndarray, fn: LinearValue) -> np.ndarray:
    """0 at ``fn.worst``, 1 at ``fn.best``, linear between and clipped outside."""
    return mcda.linear(x, fn.worst, fn.best)


def value(x: np.ndarray, fn: object) -> np.ndarray:
    """Apply any value function of the profile config to raw values; returns 0..1."""
    if isinstance(fn, LinearValue):
        return mcda.linear(x, fn.worst, fn.best)
    if isinstance(fn, PiecewiseValue):
        xs, vs = zip(*fn.points, strict=True)
        return mcda.piecewise(x, np.array(xs), np.array(vs))
    if isinstance(fn, SigmoidValue):
        return mcda.sigmoid(x, fn.midpoint, fn.best)
    if isinstance(fn, ThresholdValue):
        return mcda.threshold(x, fn.at, fn.below, fn.above)
    if isinstance(fn, CategoricalValue):
        return mcda.categorical(x, fn.values, fn.default)
    raise TypeError(f"unknown value function {type(fn).__name__}")


def points_column(criterion: str) -> str:
    """Name of the column holding a criterion's contribution to the score."""
    return f"points_{criterion}"


def value_matrix(table: pd.DataFrame, profile: Profile) -> np.ndarray:
    """Values 0..1 of every candidate (rows) on every criterion of the profile (columns, profile order)."""
    cols = []
    for name, crit in profile.criteria.items():
        if name not in table.columns:
            raise DataError(f"criterion '{name}' was not computed; this is a bug in siting.model.criteria.")
        raw = table[name].to_numpy()
        if not isinstance(crit.value, CategoricalValue):
            raw = raw.astype(float)
            if np.isnan(raw).any():
                bad = np.isnan(raw)
                first = int(np.flatnonzero(bad)[0])
                where = (
                    f", the first at ({table[F.LON].iloc[first]:.4f}, {table[F.LAT].iloc[first]:.4f})"
                    if F.LON in table.columns and F.LAT in table.columns
                    else ""
                )
                raise DataError(
                    f"criterion '{name}' is missing (NaN) for {int(bad.sum()):,} of {len(raw):,} candidates{where}; "
                    f"check that the layers it is computed from cover the study region, or remove it from "
                    f"profile {profile.name}."
                )
        cols.append(value(raw, crit.value))
    return np.column_stack(cols) if cols else np.zeros((len(table), 0))


def resolve_weights(profile: Profile, values: np.ndarray) -> np.ndarray:
    """Weights in profile order: direct, AHP, or entropy of ``values`` (the candidates being scored)."""
    if profile.weights_.method == "entropy":
        return mcda.entropy_weights(values)
    return np.array(list(profile.weights.values()), dtype=float)


def _allowed(col: pd.Series, items: list) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col):
        nums = [float(v) for v in items if isinstance(v, int | float) or _is_number(v)]
        return col.isin(nums).to_numpy()
    return col.astype(str).isin([str(v) for v in items]).to_numpy()


def _is_number(v: object) -> bool:
    try:
        float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def constraint_mask(col: pd.Series, rule: Constraint) -> np.ndarray:
    """Return True where a candidate satisfies the constraint; a missing value fails it."""
    ok = col.notna().to_numpy().copy()
    if rule.min is not None:
        ok &= (col >= rule.min).fillna(False).to_numpy(dtype=bool)
    if rule.max is not None:
        ok &= (col <= rule.max).fillna(False).to_numpy(dtype=bool)
    if rule.one_of is not None:
        ok &= _allowed(col, rule.one_of)
    if rule.none_of is not None:
        ok &= ~_allowed(col, rule.none_of)
    return ok


def apply_constraints(table: pd.DataFrame, profile: Profile) -> tuple[np.ndarray, dict[str, int]]:
    """Which candidates pass every constraint, and how many each constraint removed (in config order).

    A candidate failing several constraints is counted against the first, so the counts add up to the
    number removed.

    Raises
    ------
    ConfigError
        If a constraint names a column the scores do not have.

    """
    keep = np.ones(len(table), dtype=bool)
    removed: dict[str, int] = {}
    for key, rule in profile.constraints.items():
        if key not in table.columns:
            known = ", ".join(c for c in table.columns if c != "geometry")
            raise ConfigError(
                f"profile {profile.name}: constraints.{key}: there is no such column; use one of: {known}."
            )
        ok = constraint_mask(table[key], rule)
        removed[key] = int((keep & ~ok).sum())
        keep &= ok
    return keep, removed


@dataclass
class Scored:
    """What ``evaluate`` computed: the ranked table, the weights used and the constraint counts."""

    table: pd.DataFrame
    weights: dict[str, float]
    removed: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    """One line per criterion dropped because its layer is missing (see :func:`drop_missing_criteria`)."""


def drop_missing_criteria(table: pd.DataFrame, profile: Profile) -> tuple[Profile, list[str]]:
    """Drop the criteria missing (NaN) for every candidate, whose layer is absent; renormalise the weights.

    The remaining criteria keep their relative weights (direct, or the AHP weights, then used as direct);
    entropy weights are recomputed on what remains. A constraint on a column missing for every candidate is
    not applied. Returns the profile to score with and one line per criterion dropped or constraint skipped,
    naming it and why.

    Raises
    ------
    DataError
        If every criterion is missing.

    """
    gone = [
        n
        for n, c in profile.criteria.items()
        if len(table) and n in table.columns and not isinstance(c.value, CategoricalValue)
        and pd.to_numeric(table[n], errors="coerce").isna().all()
    ]  # fmt: skip
    unknown = [k for k in profile.constraints if len(table) and k in table.columns and table[k].isna().all()]
    if unknown:  # a limit on a measure no candidate has would remove every candidate: skipped, and said so
        profile = profile.model_copy(
            update={"constraints": {k: r for k, r in profile.constraints.items() if k not in unknown}}
        )
    skipped = [
        f"constraint {k}: missing for every candidate (its layer is absent or covers nothing); not applied in "
        f"profile {profile.name}"
        for k in unknown
    ]
    if not gone:
        return profile, skipped
    keep = {n: c for n, c in profile.criteria.items() if n not in gone}
    if not keep:
        raise DataError(f"every criterion of profile {profile.name} is missing; its layers are absent.")
    weights = profile.weights_
    if profile.weights_.method != "entropy":
        w = profile.weights
        total = sum(w[n] for n in keep) or 1.0
        keep = {n: c.model_copy(update={"weight": w[n] / total}) for n, c in keep.items()}
        weights = Weights(method="direct")
    share = sum(profile.weights[n] for n in gone) if profile.weights_.method != "entropy" else None
    lines = [
        f"criterion {n}: missing for every candidate (its layer is absent or covers nothing); dropped from profile "
        f"{profile.name}"
        + (f", the other weights renormalised (they held {1 - share:.0%} of the weight)" if share is not None else "")
        for n in gone
    ]
    return profile.model_copy(update={"criteria": keep, "weights_": weights}), lines + skipped


def profile_as_scored(profile: Profile, weights: dict[str, float], constraints: dict[str, int]) -> Profile:
    """Return the profile as ``evaluate`` scored with it, from what ``provenance.json`` records of the run.

    ``weights`` (criterion → weight used) and ``constraints`` (constraint → candidates removed) name what the run
    kept; the criteria and constraints it dropped (:func:`drop_missing_criteria`) are dropped here too, so that
    the later stages (map, sensitivity, briefs, allocation) weigh what the scores weighed.
    """
    if set(weights) == set(profile.criteria) and set(constraints) == set(profile.constraints):
        return profile
    keep = {n: c for n, c in profile.criteria.items() if n in weights}
    update: dict[str, object] = {"constraints": {k: r for k, r in profile.constraints.items() if k in constraints}}
    if profile.weights_.method == "entropy":
        update["criteria"] = keep
    else:
        update["criteria"] = {n: c.model_copy(update={"weight": float(weights[n])}) for n, c in keep.items()}
        update["weights_"] = Weights(method="direct")
    return profile.model_copy(update=update)


def rank(out: pd.DataFrame) -> pd.DataFrame:
    """Add ``rank_national`` and ``rank_in_province`` (1 = best; ties broken by cell id, reproducibly)."""
    codes = pd.factorize(out[F.ISO_3166_2])[0]  # on the column itself: Arrow strings never become Python's
    if len(codes) and (codes < 0).any():
        raise DataError(f"{int((codes < 0).sum()):,} scored candidates have no province ({F.ISO_3166_2}).")
    out[F.RANK_NATIONAL], out[F.RANK_IN_PROVINCE] = ranks(rank_order(out[F.SCORE], out[F.CELL]), codes)
    return out


def ranks(order: np.ndarray, province: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rank_national`` and ``rank_in_province`` (int64, 1 = best) of rows visited best first in ``order``.

    ``province``: a code a row (any integer or other label a province), in row order.
    """
    national = np.empty(len(order), dtype=np.int64)
    national[order] = np.arange(1, len(order) + 1)
    codes = pd.factorize(np.asarray(province)[order])[0]
    in_prov = np.empty(len(order), dtype=np.int64)
    in_prov[order] = pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy() + 1
    return national, in_prov


def _increasing(values: pd.Series) -> bool:
    """Return ``values.is_monotonic_increasing``, compared in Arrow for Arrow-backed strings.

    UTF-8 byte order is the code point order Python compares strings in; no Python string is made.
    """
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        arr = pa.array(values.array)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        if arr.null_count:
            return False
        return len(arr) < 2 or bool(pc.all(pc.less_equal(arr[:-1], arr[1:])).as_py())
    return bool(values.is_monotonic_increasing)


def rank_order(score: pd.Series, cell: pd.Series) -> np.ndarray:
    """Positions of the rows best score first, ties by cell id (then by row): a stable sort, no table copied.

    The order of ``sort_values([score, cell], ascending=[False, True], kind="stable")``: sorted by cell first
    (skipped when the cells already come in order, as H3 candidates do), then stably by descending score.
    """
    by_cell = np.arange(len(cell)) if _increasing(cell) else cell.argsort(kind="stable").to_numpy()
    neg = -score.to_numpy(dtype=float)[by_cell]
    return by_cell[np.argsort(neg, kind="stable")]


def take_rows(table: pd.DataFrame, keep: np.ndarray, consume: bool = False) -> pd.DataFrame:
    """Return ``table.loc[keep]`` (a new frame); with ``consume``, built column by column, emptying ``table``.

    Each column is dropped from ``table`` once its kept rows are copied, so the whole table and its filtered
    copy are never both in memory (a column's memory goes when the last column sharing its block goes). The
    result is then a plain DataFrame (a GeoDataFrame's geometry stays a geometry column) with ``table``'s
    index labels, column order, dtypes and ``attrs``.
    """
    if not consume:
        return table.loc[keep]  # a new frame already (boolean take): no second copy of every column
    index = table.index[keep]
    attrs = dict(table.attrs)
    columns = {}
    for name in list(table.columns):
        columns[name] = table[name].array[keep]
        del table[name]
    out = pd.DataFrame(columns, index=index, copy=False)  # copy=False: each column as it is, not consolidated
    out.attrs = attrs
    return out


def evaluate(table: pd.DataFrame, profile: Profile, ranked: bool = True, consume: bool = False) -> Scored:
    """Apply constraints, value functions, weights and aggregation; rank what remains.

    ``ranked=False`` (one partition of a partitioned run) leaves out the ranks and accepts a partition the
    constraints empty: ranks and that check need every partition's scores. ``consume=True`` lets the filtered
    table take the columns of ``table``, which is left empty (:func:`take_rows`): the caller's memory peak is
    one table, not two; the result is then a plain DataFrame.

    Parameters
    ----------
    table
        Candidates with a column per criterion named in the profile, and ``iso_3166_2``, ``h3_cell``.
    profile
        Criteria, value functions, weights, aggregation and constraints.

    Returns
    -------
    Scored
        ``table`` (rows passing the constraints) with ``points_<criterion>`` columns, ``score`` (0-100),
        ``rank_in_province`` and ``rank_national``; the weights used; candidates removed per constraint.

    """
    profile, dropped = drop_missing_criteria(table, profile)
    keep, removed = apply_constraints(table, profile)
    n_candidates = len(table)  # before take_rows, which may empty the table
    out = take_rows(table, keep, consume)
    if ranked and n_candidates and not len(out):
        raise DataError(
            f"the constraints of profile {profile.name} remove every candidate ("
            + ", ".join(f"{k}: {n:,}" for k, n in removed.items())
            + "); relax them."
        )
    values = value_matrix(out, profile)
    w = resolve_weights(profile, values)
    for j, name in enumerate(profile.criteria):
        out[points_column(name)] = 100.0 * w[j] * values[:, j]
    out[F.SCORE] = 100.0 * mcda.AGGREGATIONS[profile.aggregation](values, w) if len(out) else np.zeros(0)
    out = rank(out) if ranked else out
    return Scored(out, dict(zip(profile.criteria, w.tolist(), strict=True)), removed, dropped)


def score(table: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Score and rank candidates: ``evaluate(table, profile).table``.

    The weights used and the candidates removed by each constraint are in ``.attrs["weights"]`` and
    ``.attrs["constraints"]``.
    """
    res = evaluate(table, profile)
    res.table.attrs["weights"] = res.weights
    res.table.attrs["constraints"] = res.removed
    return res.table


def top_sites(scored: pd.DataFrame, n: int) -> pd.DataFrame:
    """Return the ``n`` best candidates of each province, best first, provinces in ISO code order."""
    top = scored[scored[F.RANK_IN_PROVINCE] <= n]
    return top.sort_values([F.ISO_3166_2, F.RANK_IN_PROVINCE]).reset_index(drop=True)
