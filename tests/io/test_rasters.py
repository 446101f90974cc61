"""The raster cut-outs: the box snapped to the grid, the tile names, the Köppen groups and the DEM averaging."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from siting._errors import DataError
from siting.io import rasters
from siting.io.extract import Region


def region(minx: float, miny: float, maxx: float, maxy: float) -> Region:
    return Region("XXX", "XX", "X", gpd.GeoDataFrame(geometry=[shapely.box(minx, miny, maxx, maxy)], crs=4326))


def test_snapped_bounds_pads_then_snaps_outward() -> None:
    assert rasters.snapped_bounds((60.84, 23.69, 77.05, 37.05), 0.1, 1 / 12) == pytest.approx(
        (60.6666667, 23.5833333, 77.1666667, 37.1666667)
    )
    assert rasters.snapped_bounds((10.0, 0.0, 11.0, 1.0), 0.0, 0.5) == (10.0, 0.0, 11.0, 1.0)  # on the grid already
    assert rasters.snapped_bounds((0.3, 0.3, 0.7, 0.7), 0.0, 0.5, origin=(0.25, 0.75)) == (0.25, 0.25, 0.75, 0.75)
    assert rasters.snapped_bounds((-10, -89.99, 10, 89.99), 1.0, 1.0) == (-11.0, -90.0, 11.0, 90.0)


def test_tiles_are_named_by_their_south_west_corner() -> None:
    assert rasters.tile_name(67, 24) == "N24_00_E067_00"
    assert rasters.tile_name(-1, -1) == "S01_00_W001_00"
    assert rasters.tiles((-0.5, -0.5, 0.5, 0.5)) == [
        "N00_00_W001_00", "N00_00_E000_00", "S01_00_W001_00", "S01_00_E000_00",
    ]  # fmt: skip
    assert rasters.tiles((60.0, 23.0, 62.0, 24.0)) == ["N23_00_E060_00", "N23_00_E061_00"]


def write(path: Path, data: np.ndarray, transform: Affine, **extra) -> None:
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype.name, "crs": "EPSG:4326", "transform": transform, **extra}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def test_koppen_classes_become_main_groups(tmp_path: Path) -> None:
    codes = np.arange(0, 32, dtype=np.uint8).reshape(4, 8)  # 0 nodata, 1-30 classes, 31 unknown
    write(tmp_path / "kg.tif", codes, Affine(0.5, 0, 10.0, 0, -0.5, 2.0))
    with zipfile.ZipFile(tmp_path / "kg.zip", "w") as zf:
        zf.write(tmp_path / "kg.tif", "Beck_KG_V1/Beck_KG_V1_present_0p0083.tif")
    rule = {"member": "Beck_KG_V1_present_0p0083.tif", "pad_deg": 0.0,
            "groups": {1: [1, 3], 2: [4, 7], 3: [8, 16], 4: [17, 28], 5: [29, 30]}}  # fmt: skip
    n = rasters.koppen_zip(tmp_path / "kg.zip", tmp_path / "out.tif", region(10.0, 0.0, 14.0, 2.0), rule)
    with rasterio.open(tmp_path / "out.tif") as src:
        got = src.read(1)
        assert src.nodata == 0 and src.transform == Affine(0.5, 0, 10.0, 0, -0.5, 2.0)
    expected = np.array([0, *[1] * 3, *[2] * 4, *[3] * 9, *[4] * 12, 5, 5, 0], dtype=np.uint8).reshape(4, 8)
    np.testing.assert_array_equal(got, expected)
    assert n == 30
    # a box reaching past the map is filled with nodata, not an error
    rasters.koppen_zip(tmp_path / "kg.zip", tmp_path / "wide.tif", region(9.0, 0.0, 14.0, 2.0), rule)
    with rasterio.open(tmp_path / "wide.tif") as src:
        assert src.shape == (4, 10) and (src.read(1)[:, :2] == 0).all()
    with pytest.raises(DataError, match=r"holds no x\.tif"):
        rasters.koppen_zip(tmp_path / "kg.zip", tmp_path / "x.tif", region(10, 0, 14, 2), rule | {"member": "x.tif"})


def test_dem_cells_are_tile_means_and_the_sea_is_nodata(tmp_path: Path) -> None:
    rule = {"url": "https://example.org/{tile}.tif", "cells_per_degree": 2, "pad_deg": 0.0, "nodata": -32768,
            "sea_value": 0}  # fmt: skip
    tile = np.zeros((4, 4), dtype=np.float32)  # 4 px a degree: each 0.5° cell is 2x2 px
    tile[:2, :2] = [[100, 200], [300, 400]]  # north-west cell: mean 250
    tile[:2, 2:] = [[0, 0], [10, 0]]  # north-east: partly sea, mean of the land only
    tile[2:, :2] = np.nan  # south-west: the tile's own nodata
    # south-east: all 0, the sea
    write(tmp_path / "N00_00_E010_00.tif", tile, Affine(0.25, 0, 10.0, 0, -0.25, 1.0), nodata=np.nan)
    (tmp_path / "N00_00_E011_00.tif.missing").touch()  # the east tile: ocean, no tile
    n = rasters.dem_tiles(tmp_path, tmp_path / "dem.tif", region(10.0, 0.0, 12.0, 1.0), rule)
    with rasterio.open(tmp_path / "dem.tif") as src:
        got, nodata = src.read(1), src.nodata
        assert src.dtypes == ("int16",) and src.res == (0.5, 0.5)
    assert nodata == -32768 and n == 2
    np.testing.assert_array_equal(got, [[250, 10, nodata, nodata], [nodata, nodata, nodata, nodata]])
