"""Bring every catalogued file into ``data/raw/<source>/``: copy from a mirror or download, then verify.

A file already in place with the right checksum is left alone, so ``siting fetch`` run twice does no
work the second time. Every file is written to a temporary name, checked, then renamed: a failed or
interrupted fetch leaves nothing half-written.
"""

from __future__ import annotations

import http.client
import os
import shutil
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from siting._errors import DataError
from siting.io.catalog import SourceFile, load_catalog
from siting.io.files import atomic_path, sha256_file

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
    for f in tqdm(todo, desc="fetch", unit="file", disable=not progress):
        results.append(fetch_file(f, raw_dir, mirror=mirror, base_url=base_url))
    return results
