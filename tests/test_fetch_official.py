"""Fetch from the official sources, offline: a loopback HTTP server laid out like the official sites serves
archives in the official formats, built here from the mirror (each with a neighbour that must be cut away).

Asserted: the extracts match the mirror's Pakistan extracts in feature counts and areas/lengths (tolerance
1e-6 relative: a shapefile round trip), the rasters (Köppen-Geiger from a Beck et al.-style zip, the DEM from
GLO-90-style 1° tiles, ERA5 through a fake CDS client) match the mirror's grids in CRS, cell size and values over
the region's box, the lock file records every extract trust-on-first-use (OSM with its Overpass query and data
timestamp, ERA5 with its CDS request), a second fetch does no work, a changed snapshot is refused, and the layers
prepared from the official extracts match those prepared from the mirror.
"""

from __future__ import annotations

import http.server
import json
import shutil
import sys
import threading
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import official_rasters
import pandas as pd
import pytest
import rasterio
import rasterio.windows
import shapely

from siting._errors import DataError
from siting.config import Study
from siting.io import extract, rasters
from siting.io.catalog import load_catalog, sources_used
from siting.io.fetch import check_region, fetch_official, fetched_products, mark_region
from siting.io.regions import find_pack

TOL = 1e-6
OSM_TIMESTAMP = "2026-05-05T00:00:00Z"


def _ne_zip(path: Path, layer: gpd.GeoDataFrame) -> None:
    shp = path.with_suffix("")
    shp.mkdir(parents=True)
    layer.to_file(shp / f"{path.stem}.shp", driver="ESRI Shapefile")
    with zipfile.ZipFile(path, "w") as zf:
        for f in shp.iterdir():
            zf.write(f, f.name)
    shutil.rmtree(shp)


def _with_neighbour(layer: gpd.GeoDataFrame, **values: str) -> gpd.GeoDataFrame:
    other = layer.iloc[[0]].copy()
    for col, v in values.items():
        other[col] = v
    other["geometry"] = [shapely.box(52.0, 30.0, 55.0, 33.0)]  # in Iran, clear of Pakistan's bounding box
    return pd.concat([layer, other], ignore_index=True)


def _overpass(mirror: Path) -> dict:
    elements: list[dict] = []
    subs = gpd.read_file(mirror / "osm" / "PAK" / "substations.geojson")
    for r in subs.itertuples():
        tags = {"power": "substation"} | {
            k: v for k in ("name", "voltage", "operator") if isinstance(v := getattr(r, k), str)
        }
        if r.osm_type == "node":
            elements.append(
                {"type": "node", "id": int(r.osm_id), "lat": r.geometry.y, "lon": r.geometry.x, "tags": tags}
            )
        else:  # a small square area whose centroid is the substation point
            x, y, d = r.geometry.x, r.geometry.y, 1e-4
            ring = [(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d), (x - d, y - d)]
            elements.append({"type": "way", "id": int(r.osm_id), "tags": tags,
                             "geometry": [{"lat": b, "lon": a} for a, b in ring]})  # fmt: skip
    for klass in ("500kv", "220kv", "132kv", "66kv", "hvdc"):
        for r in gpd.read_file(mirror / "osm" / "PAK" / f"lines_{klass}.geojson").itertuples():
            tags = {"power": r.power_kind} | ({"frequency": "0"} if r.is_hvdc else {})
            if r.source == "osm-relation":  # the voltage is the power route's
                member = [{"type": "way", "ref": int(r.osm_id), "role": ""}]
                rel = {"route": "power", "voltage": str(r.voltage)}
                elements.append({"type": "relation", "id": 10**9 + int(r.osm_id), "tags": rel, "members": member})
            else:
                tags["voltage"] = r.voltage_raw
            tags |= {k: v for k in ("name", "operator") if isinstance(v := getattr(r, k), str)}
            elements.append({"type": "way", "id": int(r.osm_id), "tags": tags,
                             "geometry": [{"lat": b, "lon": a} for a, b in r.geometry.coords]})  # fmt: skip
    elements.append({"type": "way", "id": 1, "tags": {"power": "minor_line", "voltage": "11000"},
                     "geometry": [{"lat": 30, "lon": 70}, {"lat": 30.1, "lon": 70.1}]})  # fmt: skip
    return {"version": 0.6, "osm3s": {"timestamp_osm_base": OSM_TIMESTAMP}, "elements": elements}


def _geonames(mirror: Path, dest: Path) -> None:
    cities = pd.read_csv(mirror / "geonames" / "cities500_PAK.csv", dtype=str, keep_default_na=False)
    dump = pd.DataFrame({c: cities[c] if c in cities else "" for c in extract.GEONAMES_COLUMNS})
    dump["feature_class"] = "P"
    pop = pd.to_numeric(dump["population"], errors="coerce").fillna(0)
    dump["feature_code"] = ["PPL" if p >= 500 else "PPLA3" for p in pop]  # cities500 keeps the seats below 500
    extra = dump.iloc[:2].copy()
    extra["geonameid"], extra["feature_class"] = ["9000001", "9000002"], ["H", "P"]  # a stream; a hamlet
    extra["population"] = ["0", "120"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr("PK.txt", pd.concat([dump, extra]).to_csv(sep="\t", header=False, index=False))
        zf.writestr("readme.txt", "GeoNames country dump")


def _official_site(mirror: Path, root: Path) -> None:
    catalog = load_catalog()
    ne = root / "naciscdn.org" / "naturalearth" / "10m"
    admin0 = gpd.read_file(mirror / catalog["naturalearth"].files["admin0"].mirror_path)
    admin0 = admin0[[c for c in admin0.columns if len(c) <= 10]]
    _ne_zip(ne / "cultural" / "ne_10m_admin_0_countries.zip", _with_neighbour(admin0, ADM0_A3="IRN", ADMIN="Iran"))
    admin1 = gpd.read_file(mirror / catalog["naturalearth"].files["admin1"].mirror_path)
    admin1 = _with_neighbour(admin1, adm0_a3="IRN", iso_a2="IR", iso_3166_2="IR-07", name="Fars")
    _ne_zip(ne / "cultural" / "ne_10m_admin_1_states_provinces.zip", admin1)
    lakes = gpd.read_file(mirror / catalog["naturalearth"].files["lakes"].mirror_path).assign(name="lake")
    _ne_zip(ne / "physical" / "ne_10m_lakes.zip", _with_neighbour(lakes))
    _geonames(mirror, root / "download.geonames.org" / "export" / "dump" / "PK.zip")
    for f in catalog["gem"].files.values():
        rows = pd.read_csv(mirror / f.mirror_path, dtype=str, keep_default_na=False)
        col = next(c for c in rows.columns if c.lower().startswith("country"))
        neighbour = rows.iloc[[0]].assign(**{col: "India"})
        dest = _served(root, f.official_format["url"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        pd.concat([rows, neighbour]).to_csv(dest, index=False)
    wri = pd.read_csv(mirror / catalog["wri_gppd"].files["plants"].mirror_path, dtype=str, keep_default_na=False)
    wri_zip = root / "wri-dataportal-prod.s3.amazonaws.com" / "manual" / "global_power_plant_database_v_1_3.zip"
    wri_zip.parent.mkdir(parents=True)
    with zipfile.ZipFile(wri_zip, "w") as zf:
        zf.writestr(
            "global_power_plant_database.csv", pd.concat([wri, wri.iloc[[0]].assign(country="IND")]).to_csv(index=False)
        )
        zf.writestr("README.txt", "WRI GPPD")
    overpass = root / "overpass-api.de" / "api" / "interpreter"
    overpass.parent.mkdir(parents=True)
    overpass.write_text(json.dumps(_overpass(mirror)))
    official_rasters.koppen_zip(mirror, _served(root, catalog["koppen"].files["classes"].official_format["url"]))
    dem = catalog["dem"].files["altitude"].official_format
    bounds, _, _ = rasters.dem_grid(_pakistan(mirror), dem)
    template = str(_served(root, dem["url"]))
    assert official_rasters.dem_tiles(mirror, rasters.tiles(bounds), template) > 100


def _served(root: Path, url: str) -> Path:
    """Where the loopback site keeps the file of an official url (``<root>/<host>/<path>``)."""
    parts = urllib.parse.urlsplit(url)
    return root / parts.netloc / parts.path.lstrip("/")


def _pakistan(mirror: Path) -> extract.Region:
    outline = gpd.read_file(mirror / load_catalog()["naturalearth"].files["admin0"].mirror_path)
    return extract.Region("PAK", "PK", "Pakistan", outline)


class _Handler(http.server.SimpleHTTPRequestHandler):
    posted: list[str] = []  # noqa: RUF012 - the bodies of the POSTs (Overpass queries) the test asserts on

    def do_POST(self) -> None:  # Overpass takes its query as a POST form
        self.posted.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Iterator[str]:
    root = tmp_path_factory.mktemp("official")
    _official_site(mirror, root)
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


OFFICIAL = ["naturalearth", "osm", "gem", "wri_gppd", "geonames", "koppen", "dem"]
RASTERS = {"koppen.classes": official_rasters.KOPPEN, "dem.altitude": official_rasters.DEM}


@pytest.fixture(scope="module")
def no_cds_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No CDS key anywhere (whatever the machine's ~/.cdsapirc): ERA5 is skipped with one message."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDSAPI_RC", str(tmp_path_factory.mktemp("nokey") / ".cdsapirc"))
        mp.delenv("CDSAPI_URL", raising=False)
        mp.delenv("CDSAPI_KEY", raising=False)
        yield


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory, server: str, no_cds_key: None) -> tuple[Path, list, list]:
    data = tmp_path_factory.mktemp("data")
    results, skipped = fetch_official(data / "raw", data / "cache", find_pack("PAK"), server, None, progress=False)
    return data, results, skipped


def _measure(path: Path) -> tuple[int, float]:
    if path.suffix == ".tif":
        with rasterio.open(path) as src:
            return src.count, float(src.res[0])
    if path.suffix == ".csv":
        return len(pd.read_csv(path)), 0.0
    layer = gpd.read_file(path)
    size = layer.to_crs(6933).area.sum() + layer.to_crs(6933).length.sum() if len(layer) else 0.0
    return len(layer), float(size)


def test_extracts_match_the_pinned_pakistan_extracts(fetched: tuple, mirror: Path) -> None:
    data, results, _ = fetched
    assert {r.action for r in results} == {"extracted"}
    catalog = load_catalog()
    done = {(r.file.source, r.file.key) for r in results}
    assert done == {(s, k) for s in OFFICIAL for k in catalog[s].files}
    for sid, key in sorted(done):
        f = catalog[sid].files[key]
        got, want = _measure(data / "raw" / f.raw_relpath), _measure(mirror / f.mirror_path)
        assert got[0] == want[0], f"{sid}.{key}: {got[0]} features, the mirror has {want[0]}"
        assert got[1] == pytest.approx(want[1], rel=TOL), f"{sid}.{key}"


def test_lock_records_each_extract_trust_on_first_use(fetched: tuple) -> None:
    data, results, skipped = fetched
    lock = json.loads((data / "raw" / "PAK.data.lock.json").read_text())  # the packaged pack is never written
    assert lock["region"] == "PAK" and len(lock["files"]) == len(results)
    for r in results:
        entry = lock["files"][f"{r.file.source}.{r.file.key}"]
        assert entry["trust"] == "tofu" and len(entry["sha256"]) == 64 and entry["url"].startswith("http://127.0.0.1")
    sub = lock["files"]["osm.substations"]
    assert sub["osm_base_timestamp"] == OSM_TIMESTAMP and 'area["ISO3166-1"="PK"]' in sub["query"]
    assert _Handler.posted and "ISO3166-1" in _Handler.posted[0]
    assert len(_Handler.posted) == 1  # one Overpass query for the six OSM files
    (era5,) = [s for s in skipped if "era5" in s]  # one message for both ERA5 files
    assert era5.startswith("era5.t2m, era5.tp skipped:")
    assert "https://cds.climate.copernicus.eu" in era5 and "~/.cdsapirc" in era5 and "mirror" in era5


def _mirror_window(mirror_file: Path, extract_file: Path) -> tuple[np.ndarray, np.ndarray]:
    """The extract's values and the mirror's over the same box; both grids checked for CRS and cell size."""
    with rasterio.open(extract_file) as got, rasterio.open(mirror_file) as want:
        assert got.crs == want.crs and got.count == want.count
        assert got.res == pytest.approx(want.res, rel=1e-9) and got.dtypes == want.dtypes
        assert got.nodata == want.nodata or (np.isnan(got.nodata) and np.isnan(want.nodata))
        window = rasterio.windows.from_bounds(*got.bounds, transform=want.transform).round_offsets().round_lengths()
        assert (window.height, window.width) == got.shape
        assert window.col_off >= 0 and window.row_off >= 0  # the box lies inside the mirror's grid
        return got.read(), want.read(window=window)


def test_rasters_match_the_mirror_grids_over_the_region_box(fetched: tuple, mirror: Path) -> None:
    data, _, _ = fetched
    catalog = load_catalog()
    region = _pakistan(mirror)
    for ref, mirror_path in RASTERS.items():
        f = catalog[ref.split(".")[0]].files[ref.split(".")[1]]
        got, want = _mirror_window(mirror / mirror_path, data / "raw" / f.raw_relpath)
        np.testing.assert_array_equal(got, want, err_msg=ref)
        pad = f.official_format["pad_deg"]
        with rasterio.open(data / "raw" / f.raw_relpath) as src:  # the box: the outline, the margin, snapped out
            b, (minx, miny, maxx, maxy) = src.bounds, region.outline.total_bounds
            assert b.left <= minx - pad < b.left + src.res[0] and b.top - src.res[1] < maxy + pad <= b.top, ref
            assert b.right - src.res[0] < maxx + pad <= b.right and b.bottom <= miny - pad < b.bottom + src.res[1]
    lock = json.loads((data / "raw" / "PAK.data.lock.json").read_text())
    dem = lock["files"]["dem.altitude"]
    assert dem["tiles"] > 100 and dem["tiles_missing"] > 0  # the sea has no tiles
    assert dem["product"]["attribution"].startswith("© DLR")  # GLO-90 is attributed as such


def test_era5_through_the_cds_api_with_a_key(tmp_path: Path, server: str, mirror: Path, monkeypatch) -> None:
    fake = official_rasters.FakeCds(mirror)
    monkeypatch.setitem(sys.modules, "cdsapi", fake)
    monkeypatch.setenv("CDSAPI_URL", "https://cds.example/api")
    monkeypatch.setenv("CDSAPI_KEY", "not-a-real-key")
    pack = find_pack("PAK")
    results, skipped = fetch_official(
        tmp_path / "raw", tmp_path / "cache", pack, server, ["naturalearth", "era5"], progress=False
    )
    assert skipped == [] and {r.action for r in results} == {"extracted"}
    (name, request), *more = fake.requests
    assert more == [] and name == "reanalysis-era5-single-levels-monthly-means"  # one request for both variables
    assert request["variable"] == ["2m_temperature", "total_precipitation"] and len(request["year"]) == 26
    for var in ("t2m", "tp"):
        f = load_catalog()["era5"].files[var]
        got, want = _mirror_window(mirror / f.mirror_path, tmp_path / "raw" / f.raw_relpath)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4, err_msg=var)
        with rasterio.open(tmp_path / "raw" / f.raw_relpath) as src:
            assert src.tags()["units"] == f.official_format["units"] and src.tags(1)["month"] == "1"
    lock = json.loads((tmp_path / "raw" / "PAK.data.lock.json").read_text())
    assert lock["files"]["era5.tp"]["request"] == request and lock["files"]["era5.tp"]["trust"] == "tofu"
    again, _ = fetch_official(tmp_path / "raw", tmp_path / "cache", pack, server, ["era5"], progress=False)
    assert {r.action for r in again} == {"present"} and len(fake.requests) == 1


def test_second_fetch_does_nothing_and_a_changed_snapshot_is_refused(fetched: tuple, server: str) -> None:
    data, _, _ = fetched
    pack = find_pack("PAK")
    again, _ = fetch_official(data / "raw", data / "cache", pack, server, ["naturalearth", "osm"], progress=False)
    assert {r.action for r in again} == {"present"}
    lock_file = data / "raw" / "PAK.data.lock.json"
    lock = json.loads(lock_file.read_text())
    lock["files"]["geonames.cities"]["sha256"] = "0" * 64
    lock_file.write_text(json.dumps(lock))
    with pytest.raises(DataError, match="pass --refresh to accept the new snapshot"):
        fetch_official(data / "raw", data / "cache", pack, server, ["geonames"], progress=False)
    res, _ = fetch_official(data / "raw", data / "cache", pack, server, ["geonames"], refresh=True, progress=False)
    assert res[0].action == "extracted"


def test_layers_from_the_official_extracts_match_the_mirrors(fetched: tuple, mirror: Path, layers) -> None:
    from siting.layers import Layers, layers_dir, prepare

    data, _, _ = fetched
    catalog = load_catalog()
    for source in catalog.values():  # the files not fetched (no scripted download, ERA5 without a key): the mirror's
        for f in source.files.values():
            if not (data / "raw" / f.raw_relpath).exists():
                (data / "raw" / f.raw_relpath).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(mirror / f.mirror_path, data / "raw" / f.raw_relpath)
    mark_region(data / "raw", "PAK")
    prepare(Study(name="test"), data / "raw", data / "processed", progress=False)
    official = Layers(layers_dir(data / "processed", "PAK"))
    for name in ("country", "provinces", "lakes", "lines", "substations", "plants", "places"):
        a, b = getattr(official, name), getattr(layers, name)
        assert len(a) == len(b), name
        size = lambda g: float(g.to_crs(6933).area.sum() + g.to_crs(6933).length.sum())  # noqa: E731
        assert size(a) == pytest.approx(size(b), rel=TOL), name
    # the DEM cut from Copernicus GLO-90 is credited as such from the layers on (attribution: tests/test_attribution.py)
    inputs = json.loads((layers_dir(data / "processed", "PAK") / "provenance.json").read_text())["inputs"]
    assert inputs["dem.altitude"]["product"]["attribution"].startswith("© DLR")
    assert "product" not in inputs["koppen.classes"]  # the Beck et al. map is the catalogued product
    assert sources_used(inputs)["dem"]["attribution"] == inputs["dem.altitude"]["product"]["attribution"]
    assert "wri_gppd" not in sources_used(inputs)  # fetched, but no layer reads it
    assert set(fetched_products(data / "raw", find_pack("PAK"))) == {"dem.altitude"}
    dem = catalog["dem"].files["altitude"]
    shutil.copyfile(mirror / dem.mirror_path, data / "raw" / dem.raw_relpath)  # the mirror's DEM: its own credit
    assert fetched_products(data / "raw", find_pack("PAK")) == {}


def test_prepare_refuses_another_regions_files(tmp_path: Path) -> None:
    mark_region(tmp_path, "NPL")
    with pytest.raises(DataError, match="holds the files of NPL, not PAK"):
        check_region(tmp_path, "PAK")
