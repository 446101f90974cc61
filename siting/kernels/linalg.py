"""Reproducible row-wise products: the same bits for a row whatever batch it is computed in.

A matrix-vector product (``m @ v``, BLAS gemv) rounds a row differently depending on where the row falls in
the batch (SIMD blocks, tail rows, threads), so a cell scored in a partition could differ in the last bit
from the same cell scored among all. These sum the terms one column at a time, in column order.
"""

from __future__ import annotations

import numpy as np


def row_dot(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``Σ_j m[..., j] · v[j]``, accumulated in column order (bit-identical for a row in any batch)."""
    m = np.asarray(m, dtype=float)
    v = np.asarray(v, dtype=float)
    if m.shape[-1] != v.shape[0]:
        raise ValueError(f"row_dot: {m.shape[-1]} columns but {v.shape[0]} weights")
    out = np.zeros(m.shape[:-1], dtype=float)
    for j in range(v.shape[0]):
        out += m[..., j] * v[j]
    return out
