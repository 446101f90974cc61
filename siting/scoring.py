"""Value functions, weights and aggregation: criteria → a 0-100 score, ranked within each province.

Each criterion's value function maps its raw value (in its own unit) to 0..1; the score is the weighted
sum × 100. The ``points_<criterion>`` columns hold each criterion's contribution, so they add up to the
score and a planner can read why a site scores as it does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting._errors import DataError
from siting.config import LinearValue, Profile
from siting.fields import F


def linear_value(x: np.ndarray, fn: LinearValue) -> np.ndarray:
    """0 at ``fn.worst``, 1 at ``fn.best``, linear between and clipped outside."""
    return np.clip((np.asarray(x, dtype=float) - fn.worst) / (fn.best - fn.worst), 0.0, 1.0)


def points_column(criterion: str) -> str:
    """Name of the column holding a criterion's contribution to the score."""
    return f"points_{criterion}"


def score(table: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Score and rank candidates.

    Parameters
    ----------
    table
        Candidates with a column per criterion named in the profile, and ``iso_3166_2``, ``h3_cell``.
    profile
        Criteria, value functions and weights.

    Returns
    -------
    DataFrame
        ``table`` with ``points_<criterion>`` columns, ``score`` (0-100), ``rank_in_province`` and
        ``rank_national`` (1 = best; ties broken by cell id so the order is reproducible).

    """
    out = table.copy()
    total = np.zeros(len(out))
    for name, crit in profile.criteria.items():
        if name not in out.columns:
            raise DataError(f"criterion '{name}' was not computed; this is a bug in siting.criteria.")
        values = out[name].to_numpy(dtype=float)
        if np.isnan(values).any():
            raise DataError(f"criterion '{name}' is missing for {int(np.isnan(values).sum())} candidates.")
        pts = 100.0 * crit.weight * linear_value(values, crit.value)
        out[points_column(name)] = pts
        total += pts
    out[F.SCORE] = total
    order = out.sort_values([F.SCORE, F.CELL], ascending=[False, True], kind="stable")
    out.loc[order.index, F.RANK_NATIONAL] = np.arange(1, len(out) + 1)
    out[F.RANK_NATIONAL] = out[F.RANK_NATIONAL].astype(np.int64)
    out[F.RANK_IN_PROVINCE] = (
        order.groupby(F.ISO_3166_2, sort=False).cumcount().add(1).reindex(out.index).astype(np.int64)
    )
    return out


def top_sites(scored: pd.DataFrame, n: int) -> pd.DataFrame:
    """Return the ``n`` best candidates of each province, best first, provinces in ISO code order."""
    top = scored[scored[F.RANK_IN_PROVINCE] <= n]
    return top.sort_values([F.ISO_3166_2, F.RANK_IN_PROVINCE]).reset_index(drop=True)
