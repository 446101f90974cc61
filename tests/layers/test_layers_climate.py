"""Grid layers: the raster checks, and point sampling against rasterio's own sampler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from siting._errors import DataError
from siting.io.catalog import source_file
from siting.io.files import sha256_file
from siting.layers import RASTER_LAYERS, climate

BBOX = (60.8, 23.6, 77.9, 37.1)


def rasterio_sample(path: Path, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Reference values: rasterio's sampler, nodata → NaN."""
    with rasterio.open(path) as src:
        out = np.array(list(src.sample(zip(lon, lat, strict=True)))).astype(float)
        if src.nodata is not None:
            out[out == src.nodata] = np.nan
    return out


def random_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(BBOX[0], BBOX[2], n), rng.uniform(BBOX[1], BBOX[3], n)


@pytest.fixture(scope="module")
def cities(mirror: Path) -> pd.DataFrame:
    table = pd.read_csv(mirror / "geonames" / "cities500_PAK.csv")
    return table.sort_values("population", ascending=False).drop_duplicates("name").set_index("name")


@pytest.mark.parametrize("name", list(RASTER_LAYERS))
def test_raster_layers_are_verified_copies(layers, name: str) -> None:
    ref, bands, units = RASTER_LAYERS[name]
    path = layers.raster(name)
    assert path == layers.folder / f"{name}.tif"
    assert sha256_file(path) == source_file(ref).sha256
    climate.check_raster(path, name, bands, units)
    with rasterio.open(path) as src:
        assert src.count == bands and src.crs.to_epsg() == 4326


@pytest.mark.parametrize(("seed", "name"), list(enumerate(RASTER_LAYERS)))
def test_sample_matches_rasterio(layers, seed: int, name: str) -> None:
    path = layers.raster(name)
    lon, lat = random_points(500, seed=seed)
    ours = climate.sample(path, lon, lat)
    ref = rasterio_sample(path, lon, lat)
    assert ours.shape == ref.shape == (500, RASTER_LAYERS[name][1])
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    assert np.array_equal(ours[~np.isnan(ours)], ref[~np.isnan(ref)])
    assert np.isfinite(ours).any()


def test_nodata_cells_come_back_as_nan(layers) -> None:
    path = layers.raster("koppen_class")
    with rasterio.open(path) as src:
        data, nodata, transform = src.read(1), src.nodata, src.transform
    rows, cols = np.nonzero(data == nodata)
    assert len(rows) > 0  # the Köppen grid has nodata (0) cells outside the land
    pick = np.linspace(0, len(rows) - 1, 50).astype(int)
    x, y = rasterio.transform.xy(transform, rows[pick], cols[pick])  # cell centres
    assert np.isnan(climate.sample(path, x, y)).all()


def test_points_off_the_grid_are_nan(layers) -> None:
    path = layers.raster("t2m_monthly_c")
    with rasterio.open(path) as src:
        b = src.bounds
    lon = np.array([b.left - 0.01, b.right + 0.01, (b.left + b.right) / 2, (b.left + b.right) / 2, 0.0])
    lat = np.array([(b.bottom + b.top) / 2, (b.bottom + b.top) / 2, b.top + 0.01, b.bottom - 0.01, 0.0])
    out = climate.sample(path, lon, lat)
    assert out.shape == (5, 12)
    assert np.isnan(out).all()


def test_temperatures_are_celsius_and_seasonal(layers, cities: pd.DataFrame) -> None:
    pts = cities.loc[["Karachi", "Lahore", "Quetta", "Gilgit"]]
    t = climate.sample(layers.raster("t2m_monthly_c"), pts["longitude"], pts["latitude"])
    assert np.isfinite(t).all()
    assert (t > -30).all() and (t < 45).all()  # °C, not kelvin
    annual = dict(zip(pts.index, t.mean(axis=1), strict=True))
    assert 20 < annual["Karachi"] < 30  # a hot coastal city
    assert annual["Gilgit"] < annual["Lahore"]  # the mountains are colder than the plains
    # northern-hemisphere seasons: June-July warmer than December-January everywhere
    assert (t[:, 5:7].mean(axis=1) > t[:, [0, 11]].mean(axis=1) + 5).all()


def test_check_raster_accepts_the_raw_files(raw_dir: Path) -> None:
    for name, (ref, bands, units) in RASTER_LAYERS.items():
        climate.check_raster(raw_dir / source_file(ref).raw_relpath, name, bands, units)


def test_check_raster_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.tif"
    with pytest.raises(DataError, match="missing") as err:
        climate.check_raster(path, "t2m", 12)
    assert str(path) in str(err.value)


def test_check_raster_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.tif"
    path.write_text("not a tiff")
    with pytest.raises(DataError, match="could not be read") as err:
        climate.check_raster(path, "t2m", 12)
    assert str(path) in str(err.value)


def test_check_raster_wrong_band_count(raw_dir: Path) -> None:
    path = raw_dir / source_file("dem.altitude").raw_relpath
    with pytest.raises(DataError, match="1 bands where 12") as err:
        climate.check_raster(path, "elevation", 12)
    assert str(path) in str(err.value)


def test_check_raster_wrong_units(raw_dir: Path) -> None:
    path = raw_dir / source_file("era5.tp").raw_relpath  # precipitation, tagged "mm per month"
    with pytest.raises(DataError, match="mm per month") as err:
        climate.check_raster(path, "t2m", 12, "degC")
    assert str(path) in str(err.value)


def test_check_raster_wrong_crs(tmp_path: Path) -> None:
    path = tmp_path / "mercator.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        crs="EPSG:3857",
        transform=Affine(1000, 0, 7_000_000, 0, -1000, 4_000_000),
    ) as dst:
        dst.write(np.zeros((1, 4, 4), dtype="float32"))
    with pytest.raises(DataError, match="EPSG:4326"):
        climate.check_raster(path, "t2m", 1)


def test_sample_of_a_synthetic_grid(tmp_path: Path) -> None:
    # 3 x 4 grid of 1° cells from (60, 30) down to 27; value = 10*row + col; nodata -1 in the last cell
    path = tmp_path / "grid.tif"
    data = (10 * np.arange(3)[:, None] + np.arange(4)[None, :]).astype("float32")
    data[2, 3] = -1
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=3,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(1, 0, 60, 0, -1, 30),
        nodata=-1,
    ) as dst:
        dst.write(data[None])
    lon = np.array([60.5, 63.9, 61.2, 63.5, 59.9, 64.1])
    lat = np.array([29.5, 29.1, 27.5, 27.5, 29.5, 29.5])
    out = climate.sample(path, lon, lat)[:, 0]
    np.testing.assert_array_equal(out[:3], [0, 3, 21])
    assert np.isnan(out[3:]).all()  # nodata, west of the grid, east of the grid


# --- humidity (built from the GLDAS stressor table) ---------------------------------------------------------


def test_humidity_layer_holds_every_gldas_cell_at_its_centre(layers, mirror: Path) -> None:
    table = pd.read_csv(mirror / source_file("gldas.stressors").mirror_path)
    path = layers.raster("humidity")
    climate.check_raster(path, "humidity", 2, "g/kg")
    with rasterio.open(path) as src:
        assert src.res == (0.25, 0.25) and src.crs.to_epsg() == 4326
        data = src.read()
        # the listed centres are rounded (23.62 for 23.625): each falls inside its own 0.25° cell
        rows, cols = rasterio.transform.rowcol(src.transform, table["lon"], table["lat"])
    assert int((~np.isnan(data[0])).sum()) == len(table) == 3482  # one cell each, no two in one cell
    np.testing.assert_allclose(data[0][rows, cols], table["specific_humidity_mean"], rtol=1e-6)
    np.testing.assert_allclose(data[1][rows, cols], table["specific_humidity_rms"], rtol=1e-6)
    # sampling at the listed centres gives the listed values, off the land mask NaN
    got = climate.sample(path, table["lon"], table["lat"])
    np.testing.assert_allclose(got[:, 0], table["specific_humidity_mean"], rtol=1e-6)
    assert np.isnan(climate.sample(path, [66.8], [24.6])).all()  # the Arabian Sea off Karachi


def test_humidity_layer_is_in_the_provenance(layers) -> None:
    import json

    prov = json.loads((layers.folder / "provenance.json").read_text())
    assert "gldas.stressors" in prov["inputs"]
    assert prov["grids"]["humidity"] == {
        "source": "gldas.stressors",
        "bands": ["specific_humidity_mean", "specific_humidity_rms"],
        "units": "g/kg",
        "cells_with_data": 3482,
    }


def test_humidity_grid_of_a_bad_table_fails_in_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "gldas.csv"
    bad.write_text("lat,lon,T_ambient_mean\n24.1,67.1,27\n")
    with pytest.raises(DataError, match=r"could not be read as the GLDAS stressor table .*siting fetch"):
        climate.humidity_grid(bad)
