"""The source catalog: where each input comes from, its licence, attribution, file names and checksums.

The catalog is data (``catalog.yml`` beside this module); this module reads it into small typed objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from siting._errors import ConfigError


@dataclass(frozen=True)
class SourceFile:
    """One expected file of a source."""

    source: str
    key: str
    path: str
    url: str
    mirror_path: str
    sha256: str
    official_format: dict | None = None
    """How to cut the region out of the official artefact (``siting.io.extract``): ``kind``, ``url`` (with
    ``{iso2}``/``{iso3}``), the rule's keys; None where there is no open download (see ``manual``)."""

    @property
    def raw_relpath(self) -> Path:
        """Path below ``data/raw/``: ``<source>/<file name>``."""
        return Path(self.source) / self.path


@dataclass(frozen=True)
class Source:
    """A dataset: provenance facts and its files keyed by a short name."""

    id: str
    title: str
    official: str
    licence: str
    attribution: str
    vintage: str
    files: dict[str, SourceFile]


@cache
def load_catalog(path: str | None = None) -> dict[str, Source]:
    """Read the catalog.

    Parameters
    ----------
    path
        A catalog YAML file; the packaged ``catalog.yml`` when None.

    Returns
    -------
    dict of str to Source
        Sources keyed by id, in file order.

    """
    text = Path(path).read_text() if path else files("siting.io").joinpath("catalog.yml").read_text()
    doc = yaml.safe_load(text)
    sources: dict[str, Source] = {}
    for sid, entry in doc["sources"].items():
        sfiles = {key: SourceFile(source=sid, key=key, **spec) for key, spec in entry.pop("files").items()}
        sources[sid] = Source(id=sid, files=sfiles, **entry)
    return sources


def source_file(ref: str) -> SourceFile:
    """Look up a file by ``"<source>.<key>"``, e.g. ``"osm.substations"``.

    Raises
    ------
    ConfigError
        If the reference names no file in the catalog.

    """
    sid, _, key = ref.partition(".")
    catalog = load_catalog()
    if sid not in catalog or key not in catalog[sid].files:
        known = ", ".join(f"{s}.{k}" for s in catalog for k in catalog[s].files)
        raise ConfigError(f"'{ref}' is not a file in the source catalog; use one of: {known}.")
    return catalog[sid].files[key]
