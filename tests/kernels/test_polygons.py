"""Points in polygons and Web Mercator: against shapely's per-point predicates and geopandas' ``to_crs``."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from siting.kernels.polygons import first_holding, to_web_mercator


def test_first_holding_matches_a_point_by_point_search(layers) -> None:
    provinces = layers.provinces.geometry.to_numpy()
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = layers.country.total_bounds
    x, y = rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)
    x[:10], y[:10] = shapely.get_coordinates(provinces[0].boundary)[:10].T  # on a border: only intersects holds
    for test, predicate in ((shapely.contains_xy, shapely.contains), (shapely.intersects_xy, shapely.intersects)):
        got = first_holding(x, y, provinces, test)
        want = [
            next((i for i, poly in enumerate(provinces) if predicate(poly, shapely.Point(px, py))), -1)
            for px, py in zip(x, y, strict=True)
        ]
        assert got.tolist() == want
    assert (first_holding(x, y, provinces) >= 0).mean() > 0.3 and (first_holding(x[:10], y[:10], provinces) < 0).all()


def test_to_web_mercator_gives_the_floats_of_to_crs() -> None:
    lon, lat = np.array([61.0, 67.03, 74.9]), np.array([24.1, 30.2, 36.8])
    x, y = to_web_mercator(lon, lat)
    merc = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(3857)
    assert np.array_equal(x, merc.x.to_numpy()) and np.array_equal(y, merc.y.to_numpy())
