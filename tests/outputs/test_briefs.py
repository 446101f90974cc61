"""Province briefs (`siting brief`): the Sindh page shows the map, the table and the sources.

The PDF's text is read back with poppler's ``pdftotext`` and its images listed with ``pdfimages`` (Debian
package poppler-utils); the figures on the page must be those of the score and sensitivity tables.
"""

from __future__ import annotations

import html
import shutil
import subprocess

import pandas as pd
import pytest

from siting import stages
from siting.config import Study, load_profile
from siting.fields import F
from siting.io.catalog import load_catalog
from siting.layers import layers_dir

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfimages") is None,
    reason="poppler-utils is not installed (apt-get install -y poppler-utils)",
)
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def scored(tmp_path_factory, processed_dir):
    data = tmp_path_factory.mktemp("briefs")
    study = Study(name="b5", candidates={"h3_resolution": 5})
    shutil.copytree(layers_dir(processed_dir, study.region.iso3), layers_dir(data / "processed", study.region.iso3))
    profile = load_profile(study.profile)
    stages.score(data, study, profile)
    stages.sensitivity(data, study, profile, runs=50)
    return data, study, profile


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_sindh_brief_shows_the_map_the_table_and_the_sources(scored) -> None:
    data, study, profile = scored
    files = stages.brief(data, study, profile, ["Sindh"])
    assert set(files) == {"PK-SD_pdf", "PK-SD_html", "all_pdf"}
    pdf = files["PK-SD_pdf"]
    text = _pdf_text(pdf)
    flat = " ".join(text.split())
    out = stages.Paths(data, study).out
    top = pd.read_csv(out / "top_sites.csv")
    top = top[top[F.ISO_3166_2] == "PK-SD"].sort_values(F.RANK_IN_PROVINCE)
    prov = pd.read_csv(out / "provinces.csv").set_index(F.ISO_3166_2).loc["PK-SD"]
    sens = pd.read_csv(out / "sensitivity.csv")
    assert "Sindh: sites for bitcoin mining" in flat
    assert f"Study {study.name}, profile {profile.name}" in flat
    # the table: every top cell, its score and the points of each criterion, and the robustness rows
    for _, site in top.iterrows():
        assert site[F.CELL] in flat
        assert f"{site[F.SCORE]:.1f}" in flat
    assert "Share of weight draws in top 5" in flat and "Rank range" in flat and "Depends most on" in flat
    site_ids = set(sens[sens[F.ISO_3166_2] == "PK-SD"]["site_id"])
    assert any(sid in flat for sid in site_ids)
    # the surplus and grid facts, from provinces.csv
    assert f"{prov[F.SURPLUS_MW]:+,.0f} MW" in flat
    assert f"{prov[F.CAPACITY_MW]:,.0f} MW" in flat
    # the assumptions with their sources, and the data sources
    assert "Assumptions that matter most" in flat
    assert "GEM operating units" in flat  # basis of Sindh's capacity rows in surplus_figures.csv
    assert "Data sources" in flat
    some = next(iter(load_catalog().values()))
    assert " ".join(some.attribution.split())[:30] in flat
    # the map: an image on the page (the score surface)
    images = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert len(images.strip().splitlines()) >= 3  # two header lines, then one line an image
    # the HTML page carries the same map and table
    page = files["PK-SD_html"].read_text()
    assert "data:image/png;base64," in page and top[F.CELL].iloc[0] in page
    assert "Sindh" in _pdf_text(files["all_pdf"])


def _rewrite(out, name: str, table: pd.DataFrame) -> None:
    """Replace one table of a scored set as a score run would: the table, then its sha256 in the manifest."""
    import json

    from siting.io.files import sha256_file

    table.to_csv(out / name, index=False)
    manifest = json.loads((out / "provenance.json").read_text())
    for entry in manifest["outputs"].values():
        if entry["file"] == name:
            entry["sha256"] = sha256_file(out / name)
    (out / "provenance.json").write_text(json.dumps(manifest))


def test_names_with_markup_are_escaped_in_the_html_brief(scored) -> None:
    data, study, profile = scored
    out = stages.Paths(data, study).out
    top = pd.read_csv(out / "top_sites.csv")
    top[F.SUBSTATION_NAME] = XSS
    top["nearest_place"] = XSS
    _rewrite(out, "top_sites.csv", top)
    files = stages.brief(data, study, profile, ["PK-SD"])
    page = files["PK-SD_html"].read_text()
    assert XSS not in page
    assert html.escape(XSS) in page
    flat = " ".join(_pdf_text(files["PK-SD_pdf"]).split())  # in the PDF, literally (the station's name)
    assert "<img src=x onerror=alert(1)>, 220 kV" in flat or ("<img src=x" in flat and "onerror=alert(1)>" in flat)


def test_a_dollar_in_a_name_is_not_read_as_mathtext(scored) -> None:
    data, study, profile = scored
    out = stages.Paths(data, study).out
    top = pd.read_csv(out / "top_sites.csv")
    top["nearest_place"] = "Rs $5 $x^2$ town"
    _rewrite(out, "top_sites.csv", top)
    files = stages.brief(data, study, profile, ["PK-SD"])
    words = _pdf_text(files["PK-SD_pdf"]).split()  # the table wraps it
    assert "$5" in words and "$x^2$" in words


def test_an_unknown_province_is_refused_with_the_known_ones(scored) -> None:
    from siting._errors import DataError

    data, study, profile = scored
    with pytest.raises(DataError, match="PK-SD"):
        stages.brief(data, study, profile, ["Atlantis"])


def test_siting_brief_on_the_command_line(scored, tmp_path) -> None:
    from click.testing import CliRunner

    from siting.cli import main

    data, study, _ = scored
    study_file = tmp_path / "b5.yml"
    study_file.write_text(f"name: {study.name}\ncandidates:\n  h3_resolution: 5\n")
    res = CliRunner().invoke(
        main, ["--data-dir", str(data), "brief", "--study", str(study_file), "--province", "PK-SD"]
    )
    assert res.exit_code == 0, res.output
    assert "brief_PK-SD.pdf" in res.output and "briefs.pdf" in res.output
    res = CliRunner().invoke(main, ["--data-dir", str(data), "brief", "--study", str(study_file), "--province", "Oz"])
    assert res.exit_code != 0 and "PK-SD" in res.output
