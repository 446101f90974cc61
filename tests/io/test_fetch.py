"""Fetching the catalogued files: from a mirror, from a (loopback) web server, and failing cleanly."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from siting._errors import DataError
from siting.io.catalog import load_catalog, source_file
from siting.io.fetch import fetch_all, fetch_file, resolve_mirror


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mirror_sums(mirror: Path) -> dict[str, str]:
    """The mirror's own SHA256SUMS, keyed by path relative to the mirror."""
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    return sums


def all_files():
    return [f for s in load_catalog().values() for f in s.files.values()]


def leftovers(folder: Path) -> list[Path]:
    """Temporary files a fetch may have left behind."""
    return [p for p in folder.rglob("*") if p.is_file() and ".part" in p.name]


def writable_copy(mirror: Path, dest: Path) -> Path:
    """Copy the (read-only) mirror into ``dest`` with ordinary permissions so a test may alter it."""
    shutil.copytree(mirror, dest, copy_function=shutil.copyfile)
    for p in [dest, *dest.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dest


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # the tests choose mirror / base_url explicitly; never let the caller's environment or a proxy interfere
    for var in ("SITING_DATA_MIRROR", "SITING_DATA_URL", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def server(tmp_path: Path, mirror: Path) -> Iterator[tuple[str, Path]]:
    """A web server on 127.0.0.1 serving a writable copy of the mirror; yields (base URL, served folder)."""
    root = writable_copy(mirror, tmp_path / "served")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_catalog_checksums_are_the_mirrors(mirror: Path) -> None:
    sums = mirror_sums(mirror)
    for f in all_files():
        assert f.mirror_path in sums, f"{f.source}.{f.key}: {f.mirror_path} is not in the mirror"
        assert f.sha256 == sums[f.mirror_path], f"{f.source}.{f.key}"


def test_fetch_from_mirror_copies_verified_files(tmp_path: Path, mirror: Path) -> None:
    raw = tmp_path / "raw"
    results = fetch_all(raw, mirror=mirror, progress=False)
    files = all_files()
    assert len(results) == len(files) > 0
    assert {r.action for r in results} == {"copied"}
    sums = mirror_sums(mirror)
    for r in results:
        assert r.dest == raw / r.file.source / r.file.path
        assert sha256(r.dest) == sums[r.file.mirror_path]
        assert r.dest.read_bytes() == (mirror / r.file.mirror_path).read_bytes()
    # exactly the catalogued files, nothing else (no temporary files)
    assert sorted(p.relative_to(raw) for p in raw.rglob("*") if p.is_file()) == sorted(
        Path(f.source) / f.path for f in files
    )


def test_second_fetch_reports_present_and_does_not_rewrite(tmp_path: Path, mirror: Path) -> None:
    raw = tmp_path / "raw"
    fetch_all(raw, mirror=mirror, progress=False)
    before = {p: p.stat().st_mtime_ns for p in raw.rglob("*") if p.is_file()}
    again = fetch_all(raw, mirror=mirror, progress=False)
    assert [r.action for r in again] == ["present"] * len(all_files())
    assert {p: p.stat().st_mtime_ns for p in raw.rglob("*") if p.is_file()} == before


def test_present_file_with_wrong_checksum_is_replaced(tmp_path: Path, mirror: Path) -> None:
    raw = tmp_path / "raw"
    f = source_file("osm.substations")
    fetch_all(raw, mirror=mirror, sources=["osm"], progress=False)
    dest = raw / f.raw_relpath
    dest.write_text("corrupted")
    results = {r.file.key: r.action for r in fetch_all(raw, mirror=mirror, sources=["osm"], progress=False)}
    assert results.pop("substations") == "copied"
    assert set(results.values()) == {"present"}
    assert sha256(dest) == f.sha256


def test_missing_mirror_file_raises_and_leaves_nothing(tmp_path: Path, mirror: Path) -> None:
    broken = writable_copy(mirror, tmp_path / "mirror")
    f = source_file("gem.hydro")
    (broken / f.mirror_path).unlink()
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as err:
        fetch_all(raw, mirror=broken, sources=["gem"], progress=False)
    assert f.path in str(err.value)
    assert "missing" in str(err.value)
    assert not (raw / f.raw_relpath).exists()
    assert leftovers(raw) == []


def test_checksum_mismatch_raises_and_leaves_nothing(tmp_path: Path, mirror: Path) -> None:
    tampered = writable_copy(mirror, tmp_path / "mirror")
    f = source_file("osm.lines_220kv")
    with open(tampered / f.mirror_path, "ab") as fh:
        fh.write(b" ")
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as err:
        fetch_file(f, raw, mirror=tampered)
    message = str(err.value)
    assert f.path in message
    assert "sha256" in message
    assert not (raw / f.raw_relpath).exists()
    assert leftovers(raw) == []


def test_download_from_local_server(tmp_path: Path, server: tuple[str, Path]) -> None:
    base_url, _ = server
    raw = tmp_path / "raw"
    results = fetch_all(raw, base_url=base_url, progress=False)
    assert len(results) == len(all_files())
    assert {r.action for r in results} == {"downloaded"}
    for r in results:
        assert sha256(r.dest) == r.file.sha256
    assert leftovers(raw) == []
    assert {r.action for r in fetch_all(raw, base_url=base_url, progress=False)} == {"present"}


def test_download_url_from_environment(tmp_path: Path, server: tuple[str, Path], monkeypatch) -> None:
    base_url, _ = server
    monkeypatch.setenv("SITING_DATA_URL", base_url.rstrip("/"))
    results = fetch_all(tmp_path / "raw", sources=["geonames"], progress=False)
    assert [r.action for r in results] == ["downloaded"]
    assert sha256(results[0].dest) == source_file("geonames.cities").sha256


def test_download_of_missing_file_raises_and_leaves_nothing(tmp_path: Path, server: tuple[str, Path]) -> None:
    base_url, root = server
    f = source_file("dem.altitude")
    (root / f.mirror_path).unlink()
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as err:
        fetch_file(f, raw, base_url=base_url)
    assert f.mirror_path in str(err.value)
    assert not (raw / f.raw_relpath).exists()
    assert leftovers(raw) == []


def test_download_with_wrong_content_raises_and_leaves_nothing(tmp_path: Path, server: tuple[str, Path]) -> None:
    base_url, root = server
    f = source_file("naturalearth.lakes")
    (root / f.mirror_path).write_bytes(b"{}")
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as err:
        fetch_file(f, raw, base_url=base_url)
    assert f.path in str(err.value)
    assert not (raw / f.raw_relpath).exists()
    assert leftovers(raw) == []


def test_truncated_download_raises_and_leaves_nothing(tmp_path: Path) -> None:
    # a server that promises 100 kB and hangs up after 1 kB (loopback only)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)

    def serve_once() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    f = source_file("geonames.cities")
    raw = tmp_path / "raw"
    try:
        with pytest.raises(DataError) as err:
            fetch_file(f, raw, base_url=f"http://127.0.0.1:{srv.getsockname()[1]}")
    finally:
        thread.join(timeout=5)
        srv.close()
    assert f.path in str(err.value)
    assert not (raw / f.raw_relpath).exists()
    assert leftovers(raw) == []


def test_base_url_without_scheme_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"example\.org"):
        fetch_file(source_file("geonames.cities"), tmp_path / "raw", base_url="example.org/mirror")


def test_unknown_source_is_refused(tmp_path: Path, mirror: Path) -> None:
    with pytest.raises(DataError) as err:
        fetch_all(tmp_path / "raw", mirror=mirror, sources=["osm", "nope"], progress=False)
    assert "'nope'" in str(err.value)
    for sid in load_catalog():
        assert sid in str(err.value)
    assert not (tmp_path / "raw").exists() or list((tmp_path / "raw").rglob("*")) == []


def test_fetch_selected_sources_only(tmp_path: Path, mirror: Path) -> None:
    raw = tmp_path / "raw"
    results = fetch_all(raw, mirror=mirror, sources=["era5", "koppen"], progress=False)
    expected = sorted(Path(f.source) / f.path for sid in ("era5", "koppen") for f in load_catalog()[sid].files.values())
    assert sorted(r.dest.relative_to(raw) for r in results) == expected
    assert sorted(p.relative_to(raw) for p in raw.rglob("*") if p.is_file()) == expected


def test_resolve_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_mirror(None) is None
    assert resolve_mirror(tmp_path) == tmp_path
    monkeypatch.setenv("SITING_DATA_MIRROR", str(tmp_path))
    assert resolve_mirror(None) == tmp_path
    monkeypatch.setenv("SITING_DATA_MIRROR", "")
    assert resolve_mirror(None) is None
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DataError, match="no-such-folder"):
        resolve_mirror(os.fspath(missing))
