"""Fetch from the official sources, offline: a loopback HTTP server laid out like the official sites serves
archives in the official formats, built here from the mirror (each with a neighbour that must be cut away).

Asserted: the extracts match the mirror's Pakistan extracts in feature counts and areas/lengths (tolerance
1e-6 relative: a shapefile round trip), the lock file records every extract trust-on-first-use (OSM with its
Overpass query and data timestamp), a second fetch does no work, a changed snapshot is refused, and the layers
prepared from the official extracts match those prepared from the mirror.
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from siting._errors import DataError
from siting.config import Study
from siting.io import extract
from siting.io.catalog import load_catalog
from siting.io.fetch import check_region, fetch_official, mark_region
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
        dest = (
            root
            / "github.com"
            / "GlobalEnergyMonitor"
            / "maps"
            / "raw"
            / "094c98b"
            / Path(f.official_format["url"]).name
        )
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


OFFICIAL = ["naturalearth", "osm", "gem", "wri_gppd", "geonames"]


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory, server: str) -> tuple[Path, list, list]:
    data = tmp_path_factory.mktemp("data")
    results, skipped = fetch_official(data / "raw", data / "cache", find_pack("PAK"), server, None, progress=False)
    return data, results, skipped


def _measure(path: Path) -> tuple[int, float]:
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
    era5 = next(s for s in skipped if s.startswith("era5.t2m"))
    assert "cds.climate.copernicus.eu" in era5 and "~/.cdsapirc" in era5


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
    for source in catalog.values():  # the files with no scripted official download: supplied from the mirror
        for f in source.files.values():
            if f.official_format is None:
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


def test_prepare_refuses_another_regions_files(tmp_path: Path) -> None:
    mark_region(tmp_path, "NPL")
    with pytest.raises(DataError, match="holds the files of NPL, not PAK"):
        check_region(tmp_path, "PAK")
