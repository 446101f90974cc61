"""Attribution lists only the sources actually used, and credits the product actually fetched.

The chain: the lock of an official fetch records a ``product`` for a file cut from another product than the
catalogued one (the DEM from Copernicus GLO-90); ``prepare`` carries it into the layers' inputs;
``catalog.sources_used`` (what ``score`` writes as provenance ``sources``) credits it; the map, the PNG and the
briefs credit those sources only (``MapInputs.attributed``). tests/test_fetch_official.py runs the first steps on
a real official fetch; tests/test_degraded.py checks a scored run's provenance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from siting.io.catalog import as_sources, load_catalog, sources_used
from siting.outputs.maps.data import MapInputs, _sources_used
from siting.outputs.maps.text import sources_html

GLO90 = dict(load_catalog()["dem"].files["altitude"].official_format["product"])
INPUTS = {
    "osm.substations": {"file": "osm/substations.geojson", "sha256": "0" * 64},
    "osm.lines_220kv": {"file": "osm/lines_220kv.geojson", "sha256": "1" * 64},
    "naturalearth.admin0": {"file": "naturalearth/x.geojson", "sha256": "2" * 64},
    "dem.altitude": {"file": "dem/Altitude_PAK_metres.tif", "sha256": "3" * 64, "product": GLO90},
}


def test_sources_used_are_the_inputs_sources_with_the_fetched_product() -> None:
    used = sources_used(INPUTS)
    assert list(used) == ["naturalearth", "osm", "dem"]  # catalog order, each once, nothing unused
    assert used["osm"]["attribution"] == load_catalog()["osm"].attribution
    assert used["dem"]["attribution"] == GLO90["attribution"] != load_catalog()["dem"].attribution
    assert used["dem"]["title"] == GLO90["title"] and used["dem"]["licence"] == GLO90["licence"]
    plain = sources_used({k: {kk: vv for kk, vv in v.items() if kk != "product"} for k, v in INPUTS.items()})
    assert plain["dem"]["attribution"] == load_catalog()["dem"].attribution  # from the mirror: the pinned product


def test_the_map_credits_only_the_sources_the_scores_used(tmp_path: Path) -> None:
    (tmp_path / "provenance.json").write_text(json.dumps({"sources": sources_used(INPUTS)}))
    sources = _sources_used(tmp_path / "provenance.json")
    assert sources == as_sources(sources_used(INPUTS)) and set(sources) == {"naturalearth", "osm", "dem"}
    empty = pd.DataFrame()
    inputs = MapInputs(cells=empty, provinces=empty, top=empty, surplus=None, scored_on="2026-01-01", sources=sources)
    box = sources_html(inputs.attributed())
    assert "© OpenStreetMap contributors" in box and "Made with Natural Earth" in box
    assert "© DLR e.V." in box  # the DEM as fetched
    for unused in ("wri_gppd", "gem", "unosat", "ember"):
        assert load_catalog()[unused].attribution not in box, unused
    assert load_catalog()["dem"].attribution not in box  # not the mirror's DEM, which was not used
    # no provenance (or none recorded): every catalogued source is credited, never none
    bare = MapInputs(cells=empty, provinces=empty, top=empty, surplus=None, scored_on="2026-01-01")
    assert set(bare.attributed()) == set(load_catalog())
    assert _sources_used(tmp_path / "missing.json") is None
