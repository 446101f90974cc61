"""Points in polygons (the first polygon holding each point) and lon/lat to Web Mercator as ``to_crs`` does it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely


def first_holding(
    x: np.ndarray,
    y: np.ndarray,
    polygons: Sequence[shapely.Geometry] | np.ndarray,
    test: Callable[..., np.ndarray] = shapely.contains_xy,
) -> np.ndarray:
    """Index of the first of ``polygons`` holding each point (``x``, ``y`` in their CRS); -1 for none.

    Each polygon is prepared and tests, in one vectorised call, only the points not yet placed that lie in
    its bounding box. ``test``: ``shapely.contains_xy`` (the boundary does not count) or
    ``shapely.intersects_xy`` (it does).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    out = np.full(len(x), -1, dtype=np.int64)
    for i, poly in enumerate(polygons):
        shapely.prepare(poly)
        x0, y0, x1, y1 = poly.bounds
        box = np.flatnonzero((out < 0) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        out[box[test(poly, x[box], y[box])]] = i
    return out


def to_web_mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat to EPSG:3857 with the pyproj transformation geopandas' ``to_crs(3857)`` uses (the same floats)."""
    from pyproj import Transformer

    return Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
