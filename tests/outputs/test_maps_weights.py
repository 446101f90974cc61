"""Weights in the browser (headless Chromium, no network): the page re-scores as `siting score` does.

The "top site of a province" on both sides is its best *cell* (``rank_in_province`` 1 in scores.parquet):
the page re-scores cells, not the merged sites. The page holds each criterion value quantised to 16 bits; a
province is compared only where the best cell is the same on the quantised and the exact values in Python
(:func:`quantised_values`), so that the test checks the formula, not the rounding. A slider is moved with the
keyboard and the mouse (real input events) and the surface and the best-cell list must change. Names carrying
markup render as text.
"""

from __future__ import annotations

import io
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from browser import click_a_top_site, find_chromium, open_offline

from siting import stages
from siting.config import Study, load_profile
from siting.decide.scoring import value_matrix
from siting.fields import F
from siting.kernels import mcda
from siting.layers import Layers, layers_dir
from siting.outputs import maps
from siting.outputs.maps.weights import quantised_values

pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None, reason="chromium is not installed (apt-get install -y chromium; .ci/run does it)"
    ),
]

XSS = "<img src=x onerror=alert(1)>"
READY = "() => document.documentElement.getAttribute('data-siting-weights-ready') === '1'"


@pytest.fixture(scope="module")
def data(tmp_path_factory, processed_dir):
    data = tmp_path_factory.mktemp("weights")
    iso3 = Study(name="w").region.iso3
    shutil.copytree(layers_dir(processed_dir, iso3), layers_dir(data / "processed", iso3))
    return data


def _profile_file(folder, name: str, aggregation: str, weights: dict[str, float] | None = None):
    """A copy of the study's profile with another name, aggregation and (optionally) direct weights."""
    base = load_profile(Study(name="w").profile)
    doc = base.model_dump(by_alias=True, exclude_none=True)
    doc["name"], doc["aggregation"] = name, aggregation
    for crit, w in (weights or {}).items():
        doc["criteria"][crit]["weight"] = w
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _scored(data, study: Study, profile_path) -> tuple[Study, object, stages.ScoreRun]:
    """Score ``study`` with the profile file (outputs in ``<study>/<file stem>/``), as `siting score --profile`."""
    study = study.model_copy(update={"profile": str(profile_path)})
    profile = load_profile(str(profile_path))
    return study, profile, stages.score(data, study, profile)


def _best_cells(page) -> dict[str, str]:
    return {li.get_attribute("data-iso"): li.get_attribute("data-cell") for li in page.locator("li.siting-best").all()}


def _weights_hash(weights: dict[str, float]) -> str:
    return "#weights=" + ",".join(f"{k}:{v:g}" for k, v in weights.items())


def _other_weights(names: list[str], defaults: list[float]) -> dict[str, float]:
    """Weights for any profile: the defaults rolled by one criterion (so every weight changes), summing to 1."""
    rolled = np.roll(np.round(np.array(defaults, dtype=float), 2), 1)
    rolled[-1] = round(1.0 - rolled[:-1].sum(), 2)
    return dict(zip(names, rolled.tolist(), strict=True))


@pytest.mark.parametrize("aggregation", ["weighted_sum", "topsis", "weighted_product"])
def test_weights_in_the_hash_give_the_best_cells_siting_score_gives(data, tmp_path, aggregation) -> None:
    study = Study(name="w5", candidates={"h3_resolution": 5})
    base_study, base, _ = _scored(data, study, _profile_file(tmp_path, f"base_{aggregation}", aggregation))
    html = stages.map_(data, base_study, base)[0]
    weights = _other_weights(list(base.criteria), [c.weight for c in base.criteria.values()])
    assert weights != {k: c.weight for k, c in base.criteria.items()}

    # the same weights written into a profile and scored by the score stage (what `siting score` runs)
    _, moved, run = _scored(data, study, _profile_file(tmp_path, f"moved_{aggregation}", aggregation, weights))
    scored = run.result.scored
    expected = scored[scored[F.RANK_IN_PROVINCE] == 1].set_index(F.ISO_3166_2)[F.CELL].to_dict()

    # where rounding the values to 16 bits could move the best cell, the province is not a fair check
    values = quantised_values(value_matrix(scored, moved))
    w = np.array(list(weights.values()))
    q = 100 * mcda.AGGREGATIONS[aggregation](values, w)
    quantised = pd.DataFrame({"iso": scored[F.ISO_3166_2], "cell": scored[F.CELL], "q": q})
    quantised = quantised.sort_values(["q", "cell"], ascending=[False, True]).groupby("iso")["cell"].first()
    fair = [iso for iso in expected if quantised[iso] == expected[iso]]
    assert len(fair) >= 3, f"quantisation moves the best cell in too many provinces: {expected} vs {quantised}"

    with open_offline(html) as (page, report):
        page.wait_for_function(READY)
        assert set(_best_cells(page)) == set(expected)  # every province listed, with the profile's weights
        page.goto(html.resolve().as_uri() + _weights_hash(weights))  # a hash change re-scores
        page.wait_for_function("() => document.documentElement.getAttribute('data-siting-rescored') !== null")
        shown = _best_cells(page)
        page.reload()  # and a shared link opens with those weights
        page.wait_for_function(READY)
        page.wait_for_function("() => document.documentElement.getAttribute('data-siting-rescored') !== null")
        reopened = _best_cells(page)
        sliders = {
            s.get_attribute("data-criterion"): float(s.input_value())
            for s in page.locator(".siting-weight input").all()
        }
        assert report.console_errors == [] and report.network_requests == []
    assert shown == reopened
    checked = sorted(fair, key=lambda iso: -int((scored[F.ISO_3166_2] == iso).sum()))[:3]
    for iso in fair:
        assert shown[iso] == expected[iso], iso
    print(f"{aggregation}: best cells of {checked} (and {len(fair) - 3} more) equal siting score's")
    assert sliders == pytest.approx(weights, abs=0.005)


def test_moving_a_slider_rescored_the_surface_and_the_list(data, tmp_path) -> None:
    study = Study(name="w5s", candidates={"h3_resolution": 5})
    profile = load_profile(study.profile)
    stages.score(data, study, profile)
    html = stages.map_(data, study, profile)[0]
    lightest = min(profile.criteria, key=lambda n: profile.criteria[n].weight)
    with open_offline(html) as (page, report):
        page.wait_for_function(READY)
        before_list = page.locator(".siting-best-list").inner_text()
        before_cells = _best_cells(page)
        before = page.screenshot()
        slider = page.locator(f".siting-weight input[data-criterion='{lightest}']")
        slider.scroll_into_view_if_needed()  # the weights panel scrolls when a profile has many criteria
        box = slider.bounding_box()
        assert box
        page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + box["height"] / 2)  # the mouse
        page.wait_for_function("() => document.documentElement.getAttribute('data-siting-rescored') === '1'")
        page.keyboard.press("End")  # the keyboard: all the way
        page.wait_for_function("() => document.documentElement.getAttribute('data-siting-rescored') === '2'")
        after = page.screenshot()
        after_list = page.locator(".siting-best-list").inner_text()
        after_cells = _best_cells(page)
        assert float(slider.input_value()) == 1.0
        assert f"{lightest}:1" in page.url
        assert report.console_errors == [] and report.network_requests == []
        page.locator("button.siting-reset").click()
        page.wait_for_function("() => document.documentElement.getAttribute('data-siting-rescored') === '3'")
        assert _best_cells(page) == before_cells
        assert "#weights" not in page.url
    assert after_list != before_list
    assert after_cells != before_cells
    changed = _changed_share(before, after)
    print(f"pixels changed by the slider: {100 * changed:.1f} %")
    assert changed > 0.02


def _changed_share(a: bytes, b: bytes) -> float:
    import matplotlib.image

    pa = matplotlib.image.imread(io.BytesIO(a), format="png")[..., :3]
    pb = matplotlib.image.imread(io.BytesIO(b), format="png")[..., :3]
    return float((np.abs(pa - pb).max(axis=2) > 0.02).mean())


def test_markup_in_names_and_why_renders_as_text_in_the_weights_panel(data, tmp_path) -> None:
    study = Study(name="w5x", candidates={"h3_resolution": 5})
    base = load_profile(study.profile)
    doc = base.model_dump(by_alias=True, exclude_none=True)
    first = next(iter(doc["criteria"]))
    doc["criteria"][first]["why"] = XSS
    path = tmp_path / "hostile.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    study, profile, _ = _scored(data, study, path)
    paths = stages.Paths(data, study)
    provinces = pd.read_csv(paths.out / "provinces.csv")
    provinces[F.PROVINCE] = XSS
    provinces.to_csv(paths.out / "provinces.csv", index=False)
    maps.write_study_map(paths, study, profile, Layers(paths.layers))
    with open_offline(paths.out / "map.html") as (page, report):
        page.wait_for_function(READY)
        panel = page.locator(".siting-weights")
        assert XSS in panel.inner_text()
        assert page.locator(".siting-best-list").inner_text().count(XSS) >= 3
        assert panel.locator("img").count() == 0
        page.locator(".siting-weight input").first.focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("() => document.documentElement.getAttribute('data-siting-rescored') === '1'")
        page.locator(".siting-best-marker").first.hover(force=True)
        assert page.locator(".siting-weights img, .leaflet-tooltip img").count() == 0
        assert report.dialogs == [] and report.console_errors == [] and report.network_requests == []


def test_top_sites_show_their_robustness_and_the_top_share_layer(data, tmp_path) -> None:
    study = Study(name="w5r", candidates={"h3_resolution": 5})
    profile = load_profile(study.profile)
    stages.score(data, study, profile)
    stages.sensitivity(data, study, profile, runs=60)
    html = stages.map_(data, study, profile)[0]
    out = stages.Paths(data, study).out
    sens = pd.read_csv(out / "sensitivity.csv").set_index("site_id")
    members = pd.read_parquet(out / "site_cells.parquet").set_index(F.CELL)["site_id"]
    with open_offline(html) as (page, report):
        page.wait_for_function(READY)
        popup = click_a_top_site(page)
        cell, text = popup.get_attribute("data-cell"), " ".join(popup.inner_text().split())
        row = sens.loc[members.loc[cell]]
        assert f"in the province top {study.ranking.top_n} in {100 * row['p_top_n']:.0f} % of weight draws" in text
        assert f"rank {int(row['rank_min'])}–{int(row['rank_max'])}" in text
        assert members.loc[cell] in text
        share = page.get_by_text("How often a cell is in the national top 5 %")
        assert share.count() == 1
        share.click()
        page.wait_for_timeout(300)
        assert page.locator("canvas.siting-top-share").count() == 1
        assert report.console_errors == [] and report.network_requests == []
