"""The source catalog: every entry complete, pinned to the mirror, and looked up by reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from siting._errors import ConfigError
from siting.io.catalog import Source, SourceFile, load_catalog, source_file

EXPECTED_SOURCES = {
    "naturalearth",
    "osm",
    "gem",
    "wri_gppd",
    "era5",
    "koppen",
    "dem",
    "geonames",
    "unosat",
    "gem_faults",
    "usgs",
    "modis",
    "gldas",
    "ember",
}


def test_catalog_has_every_source_with_provenance() -> None:
    catalog = load_catalog()
    assert set(catalog) == EXPECTED_SOURCES
    for sid, source in catalog.items():
        assert isinstance(source, Source)
        assert source.id == sid
        for fact in (source.title, source.official, source.licence, source.attribution, source.vintage):
            assert str(fact).strip(), sid
        assert source.official.startswith("https://")
        assert source.files


def test_catalog_text_facts_are_strings() -> None:
    for sid, source in load_catalog().items():
        for fact in (source.title, source.official, source.licence, source.attribution, source.vintage):
            assert isinstance(fact, str), f"{sid}: {fact!r}"


def test_catalog_files_are_well_formed() -> None:
    seen = set()
    for source in load_catalog().values():
        for key, f in source.files.items():
            assert isinstance(f, SourceFile)
            assert (f.source, f.key) == (source.id, key)
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
            assert f.url.startswith(("https://", "http://"))
            assert Path(f.mirror_path).name == f.path
            assert f.raw_relpath == Path(source.id) / f.path
            assert f.raw_relpath not in seen
            seen.add(f.raw_relpath)


def test_catalog_covers_the_mirror_readme(mirror: Path) -> None:
    # every data file listed in the mirror's SHA256SUMS is catalogued, apart from the build's own metadata and
    # the OSM generation points (not an input of siting), with the same checksum
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    catalogued = {f.mirror_path: f.sha256 for s in load_catalog().values() for f in s.files.values()}
    assert set(sums) - set(catalogued) == {"osm/PAK/meta.json", "osm/PAK/generation.geojson"}
    assert set(catalogued) <= set(sums)
    assert all(sums[p] == digest for p, digest in catalogued.items())


def test_source_file_lookup() -> None:
    f = source_file("osm.substations")
    assert f.path == "substations.geojson"
    assert f is load_catalog()["osm"].files["substations"]
    assert source_file("era5.t2m").mirror_path == "era5/era5_monthly_climatology_2000_2025_t2m_PAK.tif"


@pytest.mark.parametrize("ref", ["osm.nope", "nope.substations", "osm", "", "osm.substations.extra"])
def test_source_file_unknown_reference_lists_the_known_ones(ref: str) -> None:
    with pytest.raises(ConfigError) as err:
        source_file(ref)
    message = str(err.value)
    assert f"'{ref}'" in message
    assert "osm.substations" in message and "geonames.cities" in message


def test_load_catalog_from_a_custom_file(tmp_path: Path) -> None:
    doc = {
        "sources": {
            "demo": {
                "title": "A demo",
                "official": "https://example.org/",
                "licence": "CC0",
                "attribution": "nobody",
                "vintage": "2024",
                "files": {
                    "a": {
                        "path": "a.csv",
                        "url": "https://example.org/a.csv",
                        "mirror_path": "demo/a.csv",
                        "sha256": "0" * 64,
                    }
                },
            }
        }
    }
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(doc))
    catalog = load_catalog(str(path))
    assert list(catalog) == ["demo"]
    assert catalog["demo"].files["a"].raw_relpath == Path("demo/a.csv")
    assert catalog["demo"].licence == "CC0"
    # the packaged catalog is unaffected
    assert "demo" not in load_catalog()
