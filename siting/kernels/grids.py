"""North-up lon/lat grids held in memory, and sampling them at points by index arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike, NDArray


def cell_index(
    transform: Affine, shape: tuple[int, int], lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Row and column of the cell holding each point, and whether the point is on the grid at all.

    Rows and columns of points off the grid are clipped to the edge; use ``inside`` to tell them apart.
    A point on a cell edge belongs to the cell east / south of it.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    cols = np.floor((lon - transform.c) / transform.a).astype(np.int64)
    rows = np.floor((lat - transform.f) / transform.e).astype(np.int64)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    return np.clip(rows, 0, shape[0] - 1), np.clip(cols, 0, shape[1] - 1), inside


@dataclass(frozen=True)
class Grid:
    """Every band of a north-up EPSG:4326 grid as float64 ``(bands, rows, cols)``, nodata as NaN.

    Attributes
    ----------
    values
        The cells.
    transform
        Affine transform from (col, row) to (lon, lat).
    name
        What the grid is (for messages), e.g. ``"layer 't2m_monthly_c'"``.

    """

    values: NDArray[np.float64]
    transform: Affine
    name: str = "grid"

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns."""
        return self.values.shape[1], self.values.shape[2]

    def cell_index(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
        """Row, column and on-grid flag of each point (see :func:`cell_index`)."""
        return cell_index(self.transform, self.shape, lon, lat)

    def sample(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
        """Value of every band at each point (nearest cell), shape ``(n_points, n_bands)``; NaN off the grid."""
        rows, cols, inside = self.cell_index(lon, lat)
        out = self.values[:, rows, cols].T.copy()
        out[~inside] = np.nan
        return out
