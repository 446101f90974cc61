"""ERA5 through the CDS API: the request (a pure function), the key check, and the NetCDF → GeoTIFF conversion.

The conversion runs on a synthetic CDS-style NetCDF written here from the mirror's grids (26 years of monthly
means with a trend that averages out), so the climatology must come back as the mirror's grids.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import official_rasters
import pytest
import rasterio

from siting._errors import DataError
from siting.io import era5
from siting.io.catalog import load_catalog

PAK_BOUNDS = (60.8443787, 23.69452546, 77.04897099, 37.05448354)  # the mirror's admin-0 outline


def rule(var: str) -> dict:
    return dict(load_catalog()["era5"].files[var].official_format)


def test_request_asks_for_the_monthly_means_of_both_variables_over_the_snapped_box() -> None:
    req = era5.request(PAK_BOUNDS, rule("t2m"), ["total_precipitation", "2m_temperature"])
    assert req == {
        "product_type": ["monthly_averaged_reanalysis"],
        "variable": ["2m_temperature", "total_precipitation"],
        "year": [str(y) for y in range(2000, 2026)],
        "month": ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"],
        "time": ["00:00"],
        "data_format": "netcdf",
        "download_format": "unarchived",
        "area": [37.5, 60.5, 23.25, 77.5],  # N, W, S, E: one 0.25° cell of margin, on the 0.25° grid
    }


def test_area_snaps_outward_and_stays_on_the_globe() -> None:
    assert era5.area((10.0, -5.0, 11.0, 5.0), 0.25, 0.0) == [5.0, 10.0, -5.0, 11.0]  # already on the grid
    assert era5.area((10.01, -4.99, 10.99, 4.99), 0.25, 0.0) == [5.0, 10.0, -5.0, 11.0]
    assert era5.area((-170.0, -89.9, 170.0, 89.9), 0.25, 0.5) == [90.0, -170.5, -90.0, 170.5]


def test_request_refuses_years_that_run_backwards() -> None:
    with pytest.raises(DataError, match="run backwards"):
        era5.request(PAK_BOUNDS, rule("t2m") | {"years": [2025, 2000]}, ["2m_temperature"])


def test_no_key_gives_one_message_saying_how_to_get_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("CDSAPI_RC", "CDSAPI_URL", "CDSAPI_KEY"):
        monkeypatch.delenv(var, raising=False)
    why = era5.missing_key()
    assert why is not None
    for needed in ("https://cds.climate.copernicus.eu", "~/.cdsapirc", "how-to-api", "siting[era5]", "mirror"):
        assert needed in why, needed
    (tmp_path / ".cdsapirc").write_text("url: https://cds.climate.copernicus.eu/api\nkey: abc\n")
    monkeypatch.setitem(sys.modules, "cdsapi", official_rasters.FakeCds(tmp_path))
    assert era5.missing_key() is None
    monkeypatch.setitem(sys.modules, "cdsapi", None)  # key but no client package
    assert "pip install 'siting[era5]'" in era5.missing_key()


@pytest.fixture(scope="module")
def netcdf(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    path = tmp_path_factory.mktemp("cds") / "download.nc"
    official_rasters.era5_netcdf(mirror, path)
    return path


@pytest.mark.parametrize("var", ["t2m", "tp"])
def test_climatology_is_the_mirrors_grid(netcdf: Path, mirror: Path, tmp_path: Path, var: str) -> None:
    dest = tmp_path / f"{var}.tif"
    cells = era5.climatology(netcdf, dest, None, rule(var))
    with rasterio.open(dest) as got, rasterio.open(mirror / official_rasters.ERA5.format(var)) as want:
        assert got.count == 12 and got.crs == want.crs and got.transform.almost_equals(want.transform)
        assert got.dtypes == want.dtypes and np.isnan(got.nodata)
        assert got.tags()["units"] == want.tags()["units"] == rule(var)["units"]
        assert [got.tags(b)["month"] for b in range(1, 13)] == [str(m) for m in range(1, 13)]
        assert got.descriptions == want.descriptions
        np.testing.assert_allclose(got.read(), want.read(), rtol=1e-5, atol=1e-4)
        assert cells == int(np.isfinite(want.read(1)).sum())


def test_a_zip_of_netcdf_files_is_read_too(netcdf: Path, tmp_path: Path) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(netcdf, "data_stream-moda_stepType-avgua.nc")
    assert era5.climatology(archive, tmp_path / "t2m.tif", None, rule("t2m")) > 0


def test_a_download_without_the_variable_or_a_month_fails_clearly(netcdf: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no variable swvl1"):
        era5.climatology(netcdf, tmp_path / "x.tif", None, rule("t2m") | {"variable": "swvl1"})
    with pytest.raises(DataError, match="has no t2m for month 1 in 2030-2031"):
        era5.climatology(netcdf, tmp_path / "x.tif", None, rule("t2m") | {"years": [2030, 2031]})
    assert not (tmp_path / "x.tif").exists()


def test_retrieve_reports_a_refusal_in_one_sentence(tmp_path: Path, monkeypatch) -> None:
    class Refusing:
        def Client(self):  # the name cdsapi gives it
            return self

        def retrieve(self, name, request, target):
            raise Exception("required licences not accepted")

    monkeypatch.setitem(sys.modules, "cdsapi", Refusing())
    with pytest.raises(DataError, match=r"required licences not accepted.*licence is accepted") as err:
        era5.retrieve("reanalysis-era5-single-levels-monthly-means", {}, tmp_path / "era5.nc")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []
