"""Reading vector files: the GeoParquet fast path against geopandas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from siting.io.validate import read_geoparquet


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert_geodataframe_equal(a, b)
    assert list(a.columns) == list(b.columns) and a.geometry.name == b.geometry.name
    assert a.index.equals(b.index) and a.dtypes.equals(b.dtypes) and a.crs == b.crs and a.attrs == b.attrs
    assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all()


def test_every_prepared_layer_reads_as_geopandas_reads_it(layers) -> None:
    files = sorted(layers.folder.glob("*.parquet"))
    assert len(files) >= 10
    for path in files:
        _same(read_geoparquet(path), gpd.read_parquet(path))


@pytest.mark.parametrize(
    "frame",
    [
        gpd.GeoDataFrame({"a": [1, 2]}, geometry=gpd.points_from_xy([70, 71], [30, 31]), crs=32642),
        gpd.GeoDataFrame({"a": [1.5, np.nan], "b": ["x", None]}, geometry=[None, shapely.box(0, 0, 1, 1)], crs=4326),
        gpd.GeoDataFrame({"geometry": gpd.points_from_xy([1], [2]), "z": [3]}, crs=4326),  # geometry first
        gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([1], [2])),  # no CRS: geopandas' path
        gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([1], [2]), crs=4326, index=[7]),  # an index
    ],
)
def test_written_frames_read_back_as_geopandas_reads_them(frame, tmp_path) -> None:
    path = tmp_path / "f.parquet"
    frame.to_parquet(path)
    _same(read_geoparquet(path), gpd.read_parquet(path))
