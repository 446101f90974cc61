"""Region packs: one folder a region, outside the code.

A pack is found by the study's ``region.path``, ``$SITING_REGIONS_DIR`` or among the packs shipped with siting
(``siting/regions/<ISO3>/``, installed with the package as data).

A pack holds ``region.yml`` (ISO3, name, its admin units and any zones), the reference tables (each row with its
source) and ``data.lock.json``, the checksums of the region's data files (see :mod:`siting.io.fetch`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml

from siting._errors import ConfigError

REGIONS_ENV = "SITING_REGIONS_DIR"
REGION_FILE = "region.yml"
LOCK_FILE = "data.lock.json"
WHOLE_REGION_ZONE = "national"
"""The one network zone of a pack whose ``zones.csv`` has no row (see :mod:`siting.layers.zones`)."""


def packaged_dir() -> Path:
    """Return the folder of the packs shipped with siting (``siting/regions/``)."""
    return Path(str(files("siting").joinpath("regions")))


def search_dirs(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for ``<ISO3>/``, first match wins: ``path`` (a study's ``region.path``), the env, packaged."""
    out = [Path(path)] if path else []
    if os.environ.get(REGIONS_ENV):
        out.append(Path(os.environ[REGIONS_ENV]))
    return [*out, packaged_dir()]


@dataclass(frozen=True)
class RegionPack:
    """A region pack: its folder and the parsed ``region.yml``."""

    iso3: str
    folder: Path
    meta: dict

    @property
    def name(self) -> str:
        """The region's name (``region.yml`` ``name``)."""
        return str(self.meta.get("name") or self.iso3)

    @property
    def lock_path(self) -> Path:
        """The region's lock file of data checksums."""
        return self.folder / LOCK_FILE

    def tables(self) -> list[str]:
        """File names of the reference tables (``*.csv``)."""
        return sorted(p.name for p in self.folder.glob("*.csv"))

    def read_lock(self) -> dict:
        """Return the lock file's content (``{"region": ISO3, "files": {...}}``); empty if there is none yet."""
        if not self.lock_path.is_file():
            return {"region": self.iso3, "files": {}}
        return json.loads(self.lock_path.read_text(encoding="utf-8"))


def _load(iso3: str, folder: Path) -> RegionPack:
    meta_path = folder / REGION_FILE
    meta: dict = {}
    if meta_path.is_file():
        doc = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ConfigError(f"{meta_path} must contain a mapping of keys to values; see siting/regions/PAK/.")
        meta = doc
    declared = str(meta.get("iso3", iso3))
    if declared != iso3:
        raise ConfigError(f"{meta_path}: iso3: says {declared} but the pack is used as {iso3}; fix one of them.")
    return RegionPack(iso3=iso3, folder=folder, meta=meta)


def find_pack(iso3: str, path: str | os.PathLike[str] | None = None) -> RegionPack:
    """Find a region's pack: ``path`` itself when it is a pack, else ``<dir>/<ISO3>/`` in :func:`search_dirs`.

    Raises
    ------
    ConfigError
        Naming every folder searched, if no pack is found; naming ``path`` if it holds no pack of ``iso3`` but
        another folder does (a study's ``region.path`` is never passed over for a pack it did not name).

    """
    if path and (Path(path) / REGION_FILE).is_file():
        return _load(iso3, Path(path))
    dirs = search_dirs(path)
    for folder in dirs:
        if (folder / iso3).is_dir():
            if path and folder != dirs[0]:
                rel = "" if Path(path).is_absolute() else f"; a relative path is read from {Path.cwd()}"
                raise ConfigError(
                    f"region.path {path} holds no pack of {iso3} (neither {path}/{REGION_FILE} nor "
                    f"{path}/{iso3}/{rel}); correct region.path, or remove it to use the pack in {folder / iso3}."
                )
            return _load(iso3, folder / iso3)
    raise ConfigError(
        f"region '{iso3}' has no region pack; searched {', '.join(f'{d}/{iso3}/' for d in dirs)}; "
        f"create one with `siting region new {iso3}` (or set region.path in the study, or {REGIONS_ENV})."
    )


def available() -> list[str]:
    """ISO3 codes of the packs found in the search folders (without a study's ``region.path``)."""
    return sorted({p.parent.name for d in search_dirs() if d.is_dir() for p in d.glob(f"*/{REGION_FILE}")})
