"""The offline map in a real browser (Debian's headless Chromium): it opens with no network, draws, and explains.

The national map is built from an H3 resolution-8 scoring (about a million candidates, the finest the issue
asks for): with the weight sliders and every cell's criterion values (issue #15) it must stay under 15 MB,
draw the score image and the province outlines, log no console error and request nothing from the network.
A click on a top site opens its popup; names carrying markup render as text. A map of the planner's own sites
(`siting map --user`) draws them as dots whose popups carry the breakdown.
"""

from __future__ import annotations

import html
import shutil

import numpy as np
import pandas as pd
import pytest
from browser import click_a_top_site, find_chromium, open_offline

from siting.config import Study, load_profile
from siting.fields import F
from siting.layers import Layers, layers_dir
from siting.layers.userdata import read_points
from siting.outputs import maps
from siting.stages import Paths, score_study, write_outputs

pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None, reason="chromium is not installed (apt-get install -y chromium; .ci/run does it)"
    ),
]

MAX_NATIONAL_BYTES = 15_000_000  # issue #15's budget for the page with weights at res 8 (measured 11.3 MB)
XSS = "<img src=x onerror=alert(1)>"


def _scored_map(data, processed_dir, study: Study) -> tuple[Paths, Study]:
    shutil.copytree(layers_dir(processed_dir, study.region.iso3), layers_dir(data / "processed", study.region.iso3))
    profile = load_profile(study.profile)
    paths = Paths(data, study)
    layers = Layers(paths.layers)
    write_outputs(paths, study, profile, score_study(study, profile, layers), inputs={})
    maps.write_study_map(paths, study, profile, layers)
    return paths, profile


# first: Playwright's sync API cannot start while the module's national page (below) holds it open
def test_markup_in_names_renders_as_text(tmp_path_factory, processed_dir) -> None:
    study = Study(name="hostile", candidates={"h3_resolution": 6})
    paths, profile = _scored_map(tmp_path_factory.mktemp("hostile"), processed_dir, study)
    top = pd.read_csv(paths.out / "top_sites.csv")
    top[F.SUBSTATION_NAME] = XSS
    top[F.PROVINCE] = XSS
    top.to_csv(paths.out / "top_sites.csv", index=False)
    maps.write_study_map(paths, study, profile, Layers(paths.layers))
    assert html.escape(XSS) in (paths.out / "map.html").read_text()
    with open_offline(paths.out / "map.html") as (page, report):
        popup = click_a_top_site(page)
        assert XSS in popup.inner_text()  # shown, literally
        assert popup.locator("img").count() == 0
        page.locator(".siting-site-icon").first.hover(force=True)
        assert report.dialogs == [] and report.console_errors == [] and report.network_requests == []


def test_a_map_of_the_planners_own_sites_opens_their_breakdown(tmp_path, processed_dir) -> None:
    study = Study(name="own")
    shutil.copytree(layers_dir(processed_dir, study.region.iso3), layers_dir(tmp_path / "processed", study.region.iso3))
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "id,name,lon,lat\nK1,Jhimpir,68.0,25.0\nQ1,Quetta,67.0,30.2\nM1,Multan,71.5,30.2\n"
    )  # not Thar: only plant yards there
    profile = load_profile(study.profile)
    paths = Paths(tmp_path, study, "_user")
    layers = Layers(paths.layers)
    points, _ = read_points(sites, layers.country.geometry.iloc[0], study.region.name, False)
    write_outputs(paths, study, profile, score_study(study, profile, layers, points), inputs={})
    maps.write_study_map(paths, study, profile, layers)
    with open_offline(paths.out / "map.html") as (page, report):
        dots = page.locator("path.siting-user-site")
        assert dots.count() == 3
        assert page.locator("img.siting-score-surface").count() == 0
        dots.first.click(force=True)  # the lowest score is drawn first; any dot will do
        popup = page.locator(".leaflet-popup-content .siting-site")
        popup.wait_for(timeout=5000)
        text = popup.inner_text()
        assert any(own in text for own in ("Jhimpir (K1)", "Quetta (Q1)", "Multan (M1)"))
        assert "Total" in text and "/ 100" in text
        assert report.console_errors == [] and report.network_requests == []


@pytest.fixture(scope="module")
def national(tmp_path_factory, processed_dir):
    """The offline national map of an H3 resolution-8 scoring (about a minute and 3 GB to build)."""
    study = Study(name="res8", candidates={"h3_resolution": 8})
    paths, _ = _scored_map(tmp_path_factory.mktemp("res8"), processed_dir, study)
    return paths


@pytest.fixture(scope="module")
def opened(national):
    with open_offline(national.out / "map.html") as (page, report):
        shot = page.screenshot()
        provinces = page.locator("path.siting-province").count()
        yield page, report, shot, provinces


def test_national_map_at_res8_is_small(national) -> None:
    size = (national.out / "map.html").stat().st_size
    print(f"res-8 offline map: {size / 1e6:.2f} MB")
    assert size <= MAX_NATIONAL_BYTES


def test_national_map_opens_offline_without_errors_or_requests(opened) -> None:
    _, report, _, _ = opened
    print(f"time to first render: {report.render_ms:.0f} ms")
    assert report.network_requests == []
    assert report.requests and all(u.startswith(("file:", "data:")) for u in report.requests)
    assert report.console_errors == []
    assert report.render_ms < 10_000  # the goal is 3 s; the benchmark prints the figure


def test_national_map_draws_provinces_and_the_surface(opened, national) -> None:
    import io

    import matplotlib.image

    page, _, shot, provinces = opened
    assert provinces == len(pd.read_csv(national.out / "provinces.csv"))
    pixels = (matplotlib.image.imread(io.BytesIO(shot), format="png")[..., :3] * 255).astype(np.uint8)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 500  # not blank
    dark = (pixels.max(axis=2) < 60).mean()
    assert dark > 0.002  # outlines and labels drawn in near-black
    box = page.locator("img.siting-score-surface").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300


def test_clicking_a_top_site_opens_its_score_breakdown(opened, national) -> None:
    page = opened[0]
    popup = click_a_top_site(page)
    cell = popup.get_attribute("data-cell")
    text = popup.inner_text()
    top = pd.read_csv(national.out / "top_sites.csv").set_index(F.CELL)
    site = top.loc[cell]
    assert site[F.PROVINCE] in text
    assert f"#{site[F.RANK_IN_PROVINCE]} in province" in text
    assert f"Score {site[F.SCORE]:.1f} / 100" in text
    assert f"Total\t\t{site[F.SCORE]:.1f} / 100" in text or f"{site[F.SCORE]:.1f} / 100" in text
    assert "Nearest substation:" in text and f"{site[F.SUBSTATION_KV]:g} kV" in text
    assert f"{maps.fmt_number(site[F.DIST_SUBSTATION_KM])} km" in text
    assert "Nearest connectivity node:" in text
    page.keyboard.press("Escape")
