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


def sources_used(inputs: dict) -> dict[str, dict]:
    """Return the provenance record of each source the inputs were read from, in catalog order.

    Parameters
    ----------
    inputs
        ``{"<source>.<key>": record}`` as the layers' provenance.json lists them; a record with a ``product``
        (a file cut from another product than the catalogued one, e.g. the DEM from Copernicus GLO-90) gives that
        product's title, attribution, licence, official page and vintage instead of the catalog's.

    Returns
    -------
    dict
        ``{source id: {"title", "licence", "attribution", "official", "vintage"}}``; no other source.

    """
    catalog = load_catalog()
    out: dict[str, dict] = {}
    for sid, s in catalog.items():
        refs = [ref for ref in inputs if ref.partition(".")[0] == sid]
        if not refs:
            continue
        out[sid] = {"title": s.title, "licence": s.licence, "attribution": s.attribution, "official": s.official,
                    "vintage": s.vintage}  # fmt: skip
        for ref in refs:
            product = inputs[ref].get("product") if isinstance(inputs[ref], dict) else None
            if isinstance(product, dict):
                out[sid] |= {k: str(v) for k, v in product.items() if k in out[sid]}
    return out


def as_sources(records: dict) -> dict[str, Source]:
    """Turn the ``sources`` of an output's provenance.json back into :class:`Source` objects, in catalog order."""
    order = list(load_catalog())  # provenance.json is written with sorted keys: back to the catalog's order
    out = {}
    for sid, r in sorted(records.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
        if isinstance(r, dict):
            text = {k: str(r.get(k, "")) for k in ("title", "official", "licence", "attribution", "vintage")}
            out[sid] = Source(id=sid, files={}, **text)
    return out
