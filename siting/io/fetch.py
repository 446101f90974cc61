"""Bring every catalogued file into ``data/raw/<source>/``: copy from a mirror or download, then verify.

A file already in place with the right checksum is left alone, so ``siting fetch`` run twice does no
work the second time. Every file is written to a temporary name, checked, then renamed: a failed or
interrupted fetch leaves nothing half-written.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from tqdm import tqdm

from siting._errors import DataError
from siting.io import era5, extract, rasters
from siting.io.catalog import SourceFile, load_catalog
from siting.io.files import atomic_path, sha256_file
from siting.io.regions import LOCK_FILE, RegionPack, packaged_dir

MIRROR_ENV = "SITING_DATA_MIRROR"
BASE_URL_ENV = "SITING_DATA_URL"


@dataclass(frozen=True)
class FetchResult:
    """What happened to one file."""

    file: SourceFile
    dest: Path
    action: str  # "present", "copied" or "downloaded"


def _verify(tmp: Path, f: SourceFile, origin: str) -> None:
    digest = sha256_file(tmp)
    if digest != f.sha256:
        raise DataError(
            f"{origin} has sha256 {digest[:12]}… but the catalog expects {f.sha256[:12]}… for "
            f"{f.source}.{f.key}; replace it with the catalogued version of {f.path} (or update the "
            f"sha256 in siting/io/catalog.yml if the source was deliberately updated)."
        )


def _download(url: str, tmp: Path, desc: str, timeout: float = 60.0) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=desc, leave=False) as bar:
                while block := resp.read(1 << 16):
                    out.write(block)
                    bar.update(len(block))
    except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError is an OSError; bad URLs ValueError
        raise DataError(
            f"could not download {url} ({exc}); check the network, or pass --mirror DIR (or set "
            f"{MIRROR_ENV}) to copy the files from a local mirror instead."
        ) from exc


def fetch_file(f: SourceFile, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> FetchResult:
    """Put one catalogued file into ``raw_dir`` and verify its checksum.

    Parameters
    ----------
    f
        The catalogued file.
    raw_dir
        The ``data/raw`` folder.
    mirror
        A folder laid out like the catalog's ``mirror_path`` entries; when given, the file is copied from it.
    base_url
        When given (and no mirror), the file is downloaded from ``<base_url>/<mirror_path>`` instead of its
        catalogued ``url``: for organisations that host the regional extracts on an intranet server.

    Returns
    -------
    FetchResult

    """
    dest = raw_dir / f.raw_relpath
    if dest.exists() and sha256_file(dest) == f.sha256:
        return FetchResult(f, dest, "present")
    with atomic_path(dest) as tmp:
        if mirror is not None:
            src = mirror / f.mirror_path
            if not src.is_file():
                raise DataError(
                    f"{src} is missing from the mirror; restore it from the source ({f.url}) or point "
                    f"--mirror / {MIRROR_ENV} at a complete mirror."
                )
            shutil.copyfile(src, tmp)
            origin, action = str(src), "copied"
        else:
            url = f"{base_url.rstrip('/')}/{f.mirror_path}" if base_url else f.url
            _download(url, tmp, desc=f.path)
            origin, action = url, "downloaded"
        _verify(tmp, f, origin)
    return FetchResult(f, dest, action)


def resolve_mirror(mirror: str | os.PathLike[str] | None) -> Path | None:
    """Return the mirror folder from the argument or ``SITING_DATA_MIRROR``; None to download.

    Raises
    ------
    DataError
        If a mirror is named but is not a folder.

    """
    value = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    if value is None:
        return None
    path = Path(value)
    if not path.is_dir():
        raise DataError(
            f"mirror folder {path} does not exist; pass an existing folder to --mirror (or {MIRROR_ENV}), "
            f"or unset it to download from the official sources."
        )
    return path


def fetch_all(
    raw_dir: Path,
    mirror: Path | None = None,
    base_url: str | None = None,
    sources: Iterable[str] | None = None,
    progress: bool = True,
) -> list[FetchResult]:
    """Fetch every catalogued file (or those of the named sources).

    Parameters
    ----------
    raw_dir
        The ``data/raw`` folder.
    mirror, base_url
        See :func:`fetch_file`.
    sources
        Source ids to fetch; all when None.
    progress
        Show a progress bar.

    Returns
    -------
    list of FetchResult

    """
    catalog = load_catalog()
    wanted = list(sources) if sources is not None else list(catalog)
    unknown = [s for s in wanted if s not in catalog]
    if unknown:
        raise DataError(f"unknown source {unknown[0]!r}; choose from: {', '.join(catalog)}.")
    todo = [f for sid in wanted for f in catalog[sid].files.values()]
    base_url = base_url or os.environ.get(BASE_URL_ENV) or None
    results = []
    # leave=False and a context: the bar is cleared before any error line is printed, never sharing its line
    with tqdm(todo, desc="fetch", unit="file", disable=not progress, leave=False) as bar:
        for f in bar:
            results.append(fetch_file(f, raw_dir, mirror=mirror, base_url=base_url))
    return results


def _download_resumable(
    url: str,
    dest: Path,
    desc: str,
    data: bytes | None = None,
    attempts: int = 3,
    missing_ok: bool = False,
    hint: str = "",
) -> bool:
    """Download ``url`` into ``dest`` once: resume a partial ``.part`` file (HTTP Range), retry on failure.

    A 404 (no such file) is not retried: it returns False when ``missing_ok``, and fails otherwise, ``hint``
    (what to do about that url) ending the message.
    """
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    for attempt in range(attempts):
        have = part.stat().st_size if part.exists() and data is None else 0
        req = urllib.request.Request(url, data=data, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                if have and resp.status != 206:  # the server ignored the range: start again
                    have = 0
                total = int(resp.headers.get("Content-Length") or 0) + have or None
                with (
                    open(part, "ab" if have else "wb") as out,
                    tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=desc, leave=False) as bar,
                ):
                    while block := resp.read(1 << 16):
                        out.write(block)
                        bar.update(len(block))
            os.replace(part, dest)
            return True
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and missing_ok:
                return False
            if exc.code == 404:
                raise DataError(
                    f"{url} answered 404 (no such file){hint or '; check the url in siting/io/catalog.yml'}."
                ) from exc
            last = exc
            time.sleep(min(2**attempt, 10) * RETRY_PAUSE_S)
        except (OSError, http.client.HTTPException) as exc:
            last = exc
            time.sleep(min(2**attempt, 10) * RETRY_PAUSE_S)
    raise DataError(
        f"could not download {url} after {attempts} attempts ({last}); check the network (a partial download is "
        f"kept and resumed), or pass --mirror DIR to copy the files from a local mirror."
    )


RETRY_PAUSE_S = 1.0


def _official_url(spec: dict, region: extract.Region, official_base: str | None) -> str:
    url = str(spec["url"]).replace("{iso2}", region.iso2).replace("{iso3}", region.iso3)
    if official_base:  # a local server laid out like the official sites: keep the path, replace scheme and host
        parts = urllib.parse.urlsplit(url)
        url = official_base.rstrip("/") + "/" + parts.netloc + parts.path
    return url


def _lock_path(pack: RegionPack, raw_dir: Path) -> Path:
    """Return the region's lock file; for a pack shipped in the package, one beside data/raw (never in it)."""
    if pack.folder.resolve().is_relative_to(packaged_dir().resolve()):
        return raw_dir / f"{pack.iso3}.{LOCK_FILE}"
    return pack.lock_path


def fetch_official(
    raw_dir: Path,
    cache_dir: Path,
    pack: RegionPack,
    official_base: str | None = None,
    sources: Iterable[str] | None = None,
    refresh: bool = False,
    progress: bool = True,
) -> tuple[list[FetchResult], list[str]]:
    """Fetch a region from the official sources: download each artefact once, cut the region out, lock it.

    Every extract's sha256 is recorded trust-on-first-use in the region's ``data.lock.json`` (with the artefact's
    sha256, its url, the time and, for OSM, the Overpass query and its data timestamp; for ERA5 the CDS request;
    for DEM tiles their number) and verified on later fetches; ``refresh`` accepts a new snapshot instead.

    Returns
    -------
    (list of FetchResult, list of str)
        What happened to each file, and one line a file (or source) skipped: no open download, or ERA5 without a
        CDS key (one line for all its files).

    """
    catalog = load_catalog()
    wanted = list(sources) if sources is not None else list(catalog)
    region = extract.Region(pack.iso3, str(pack.meta.get("iso2") or ""), pack.name)
    if not region.iso2:
        raise DataError(f"{pack.folder / 'region.yml'} has no iso2 (ISO 3166-1 alpha-2 code); add it, e.g. iso2: PK.")
    lock_file = _lock_path(pack, raw_dir)
    lock: dict = json.loads(lock_file.read_text()) if lock_file.is_file() else {"region": pack.iso3, "files": {}}
    results: list[FetchResult] = []
    todo = [f for sid in wanted for f in catalog[sid].files.values()]
    todo, skipped = _without_cds_key(todo)
    run = _Run(raw_dir, cache_dir, region, lock, lock_file, official_base, refresh, set())
    with tqdm(todo, desc="fetch", unit="file", disable=not progress, leave=False) as bar:
        for f in bar:
            done = _fetch_one_official(f, run)
            if isinstance(done, str):
                skipped.append(done)
            else:
                results.append(done)
    with atomic_path(lock_file) as tmp:
        tmp.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    return results, skipped


def _without_cds_key(todo: list[SourceFile]) -> tuple[list[SourceFile], list[str]]:
    """Leave out the CDS files when no request can be made; one line says why, for all of them."""
    cds = [f for f in todo if (f.official_format or {}).get("kind") == "cds"]
    why = era5.missing_key() if cds else None
    if why is None:
        return todo, []
    names = ", ".join(f"{f.source}.{f.key}" for f in cds)
    return [f for f in todo if f not in cds], [f"{names} skipped: {why}."]


@dataclass
class _Run:
    """State of one official fetch: the region, its lock, and the artefacts downloaded so far."""

    raw_dir: Path
    cache_dir: Path
    region: extract.Region
    lock: dict
    lock_file: Path
    official_base: str | None
    refresh: bool
    downloaded: set[Path]

    def fresh(self, cache: Path) -> bool:
        """Whether ``cache`` must be downloaded (again) in this run."""
        return cache not in self.downloaded and (self.refresh or not cache.exists())


def _fetch_one_official(f: SourceFile, run: _Run) -> FetchResult | str:
    """Fetch one file from its official artefact; return its result, or the line saying why it was skipped."""
    spec = f.official_format
    if spec is None:
        return f"{f.source}.{f.key} skipped: no scripted open download yet; get it from {f.url}."
    dest = run.raw_dir / f.raw_relpath
    entry = run.lock["files"].get(f"{f.source}.{f.key}")
    if dest.exists() and entry and not run.refresh and sha256_file(dest) == entry["sha256"]:
        return FetchResult(f, dest, "present")
    region = run.region
    if spec["kind"] in extract.NEEDS_OUTLINE or spec.get("filter") == "bbox":
        outline = run.raw_dir / load_catalog()["naturalearth"].files["admin0"].raw_relpath
        if not outline.is_file():
            raise DataError(f"{f.source}.{f.key} is cut by the region's outline; fetch naturalearth.admin0 first.")
        region = extract.Region(region.iso3, region.iso2, region.name, gpd.read_file(outline))
    artefact, url, record = ARTEFACTS.get(spec["kind"], _single_artefact)(f, spec, region, run)
    with atomic_path(dest) as tmp:
        n = extract.EXTRACTORS[spec["kind"]](artefact, tmp, region, spec)
        digest = sha256_file(tmp)
        if entry and entry.get("trust") == "tofu" and entry["sha256"] != digest and not run.refresh:
            raise DataError(
                f"{f.source}.{f.key}: the extract from {url} has sha256 {digest[:12]}… but {run.lock_file} "
                f"recorded {entry['sha256'][:12]}…; pass --refresh to accept the new snapshot, or restore the artefact."
            )
    record = {"path": str(f.raw_relpath), "sha256": digest, "trust": "tofu", "url": url, "features": n,
              "fetched_utc": _now(), **record}  # fmt: skip
    if spec.get("product"):  # the official artefact is another product than the pinned extract: its own attribution
        record["product"] = dict(spec["product"])
    run.lock["files"][f"{f.source}.{f.key}"] = record
    return FetchResult(f, dest, "extracted")


def _single_artefact(f: SourceFile, spec: dict, region: extract.Region, run: _Run) -> tuple[Path, str, dict]:
    """Download the file's one official artefact (once a run); return it, its url and what the lock records."""
    url = _official_url(spec, region, run.official_base)
    overpass = spec["kind"] == "overpass"
    cache = run.cache_dir / f.source / (f"overpass_{region.iso3}.json" if overpass else Path(url).name)
    query = extract.OVERPASS_QUERY.format(iso2=region.iso2) if overpass else None
    if run.fresh(cache):
        body = urllib.parse.urlencode({"data": query}).encode() if query else None
        hint = (
            f"; that url is marked unverified in siting/io/catalog.yml: correct it there, or put the file at "
            f"data/raw/{f.raw_relpath} yourself"
            if spec.get("verified") is False
            else ""
        )
        _download_resumable(url, cache, f"{f.source}/{cache.name}", data=body, hint=hint)
        run.downloaded.add(cache)
    record: dict = {"artefact_sha256": sha256_file(cache)}
    if query:
        record |= {"query": query, "osm_base_timestamp": _osm_timestamp(cache)}
    return cache, url, record


def _tile_artefact(f: SourceFile, spec: dict, region: extract.Region, run: _Run) -> tuple[Path, str, dict]:
    """Download every DEM tile the region's box meets (a 404 is a tile of sea); return the tile folder."""
    template = _official_url(spec, region, run.official_base)
    folder = run.cache_dir / f.source
    bounds, _, _ = rasters.dem_grid(region, spec)
    names = rasters.tiles(bounds)
    have: list[str] = []
    with tqdm(names, desc=f"{f.source} tiles", unit="tile", leave=False, disable=len(names) < 2) as bar:
        for name in bar:
            tile = rasters.tile_file(folder, template, name)
            missing = tile.with_name(tile.name + rasters.MISSING_SUFFIX)
            if run.fresh(tile) and (run.refresh or not missing.exists()):
                if _download_resumable(template.replace("{tile}", name), tile, tile.name, missing_ok=True):
                    missing.unlink(missing_ok=True)
                else:
                    missing.parent.mkdir(parents=True, exist_ok=True)
                    missing.touch()
                run.downloaded.add(tile)
            if tile.is_file():
                have.append(f"{tile.name} {sha256_file(tile)}")
    if not have:
        raise DataError(
            f"{f.source}.{f.key}: none of the {len(names)} tiles of {template} exists (all answered 404); check the "
            f"url in siting/io/catalog.yml, or put the grid at data/raw/{f.raw_relpath} yourself."
        )
    digest = hashlib.sha256("\n".join(sorted(have)).encode()).hexdigest()
    return folder, template, {"artefact_sha256": digest, "tiles": len(have), "tiles_missing": len(names) - len(have)}


def _cds_artefact(f: SourceFile, spec: dict, region: extract.Region, run: _Run) -> tuple[Path, str, dict]:
    """Request the ERA5 monthly means of every catalogued ERA5 variable once; return the download."""
    assert region.outline is not None  # loaded for every kind of NEEDS_OUTLINE
    variables = [
        str(g.official_format["cds_variable"])
        for g in load_catalog()[f.source].files.values()
        if g.official_format and g.official_format.get("kind") == "cds"
    ]
    req = era5.request(region.outline.total_bounds, spec, variables)
    key = hashlib.sha256(json.dumps([spec["dataset"], req], sort_keys=True).encode()).hexdigest()[:12]
    suffix = ".grib" if req["data_format"] == "grib" else ".nc"
    cache = run.cache_dir / f.source / f"{spec['dataset']}_{region.iso3}_{key}{suffix}"
    if run.fresh(cache):
        era5.retrieve(str(spec["dataset"]), req, cache)
        run.downloaded.add(cache)
    return cache, str(spec["url"]), {"artefact_sha256": sha256_file(cache), "dataset": spec["dataset"], "request": req}


ARTEFACTS = {"dem_tiles": _tile_artefact, "cds": _cds_artefact}
"""How the artefact of a kind is got when it is not one file at one url (:func:`_single_artefact`)."""


def fetched_products(raw_dir: Path, pack: RegionPack) -> dict[str, dict]:
    """Return ``{"<source>.<key>": product}`` for the raw files cut from another product than the catalogued one.

    Only files still identical to the recorded extract count: a file later replaced from a mirror is the catalogued
    product again.
    """
    lock_file = _lock_path(pack, raw_dir)
    if not lock_file.is_file():
        return {}
    out = {}
    for ref, entry in json.loads(lock_file.read_text()).get("files", {}).items():
        path = raw_dir / str(entry.get("path", ""))
        if entry.get("product") and path.is_file() and sha256_file(path) == entry.get("sha256"):
            out[ref] = dict(entry["product"])
    return out


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _osm_timestamp(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("osm3s", {}).get("timestamp_osm_base")
    except (OSError, ValueError):
        return None


REGION_MARKER = "REGION"
"""``data/raw/REGION`` names the region whose files ``data/raw`` holds (written by every fetch)."""


def mark_region(raw_dir: Path, iso3: str) -> None:
    """Record which region's files ``raw_dir`` holds."""
    with atomic_path(raw_dir / REGION_MARKER) as tmp:
        tmp.write_text(iso3 + "\n")


def check_region(raw_dir: Path, iso3: str) -> None:
    """Refuse to build a region's layers from another region's files.

    Raises
    ------
    DataError
        If ``raw_dir/REGION`` names another region.

    """
    marker = raw_dir / REGION_MARKER
    held = marker.read_text().strip() if marker.is_file() else "PAK"  # folders fetched before the marker: Pakistan
    if held != iso3:
        raise DataError(
            f"{raw_dir} holds the files of {held}, not {iso3}; run `siting fetch --region {iso3}` (or --study) first, "
            f"or use another --data-dir."
        )
