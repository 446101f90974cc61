"""The HTML map of a scored study: contents a planner relies on, escaping of data, size and determinism."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from rasterio.io import MemoryFile

from siting._errors import DataError
from siting.config import Study, load_profile
from siting.fields import F, label
from siting.io.catalog import load_catalog
from siting.layers import Layers, layers_dir
from siting.outputs import maps
from siting.stages import Paths, score_study, write_outputs

REPO = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"
TEMPLATE_XSS = "${alert(2)}`"
MAX_BYTES = 3_000_000
MAX_SURFACE_POLYGONS = 3000


def json_unescaped(page: str) -> str:
    """The page with the JSON ``\\uXXXX`` escapes folium applies inside scripts undone, as JavaScript reads them."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def make_data_dir(dest: Path, processed_dir: Path, study: Study) -> Path:
    """A ``data`` folder holding a copy of the prepared layers, so a test may alter them."""
    src = layers_dir(processed_dir, study.region.iso3)
    shutil.copytree(src, layers_dir(dest / "processed", study.region.iso3))
    return dest


def score_into(data: Path, study: Study):
    profile = load_profile(str(REPO / "siting" / "defaults" / "profiles" / f"{study.profile}.yml"))
    paths = Paths(data, study)
    layers = Layers(paths.layers)
    result = score_study(study, profile, layers)
    write_outputs(paths, study, profile, result, inputs={})
    return paths, profile, layers


@pytest.fixture(scope="module")
def map_study() -> Study:
    return Study(name="maptest", candidates={"h3_resolution": 6})


@pytest.fixture(scope="module")
def scored(tmp_path_factory, processed_dir, map_study):
    data = make_data_dir(tmp_path_factory.mktemp("mapdata"), processed_dir, map_study)
    paths, profile, layers = score_into(data, map_study)
    return paths, map_study, profile, layers


@pytest.fixture(scope="module")
def written(scored) -> Path:
    paths, study, profile, layers = scored
    return maps.write_study_map(paths, study, profile, layers)


@pytest.fixture(scope="module")
def page(written) -> str:
    return written.read_text(encoding="utf-8")


def site_popups(page: str) -> dict[str, str]:
    """Popup HTML of each top site, keyed by H3 cell."""
    out = {}
    for chunk in page.split("<div class='siting-site' data-cell='")[1:]:
        cell = chunk[: chunk.index("'")]
        out[cell] = chunk[: chunk.index("`)")]
    return out


# ------------------------------------------------------------------------------------------ the page


def test_map_is_written_small_and_atomic(written, scored) -> None:
    paths = scored[0]
    assert written == paths.out / "map.html"
    assert 0 < written.stat().st_size < MAX_BYTES
    assert not list(paths.out.glob(".map.*"))  # no temporary file left behind


def test_map_names_every_province_and_has_legends(page, scored) -> None:
    layers = scored[3]
    for name in layers.provinces[F.PROVINCE]:
        assert html.escape(name) in page, name
    assert "siting-legend" in page
    assert "Suitability score (0-100)" in page
    assert html.escape(label(F.SURPLUS_MW)) in page  # "Provincial surplus (MW)"
    assert "control_scale" in page or "L.control.scale" in page
    assert "L.control.layers" in page


def test_title_names_study_profile_and_date(page, scored) -> None:
    _, study, profile, _ = scored
    title = page[page.index("siting-title") :][:1500]
    assert study.name in title and profile.name in title
    assert re.search(r"scored \d{4}-\d{2}-\d{2}", title)


def test_every_catalog_source_is_attributed(page) -> None:
    for text in ("OpenStreetMap", "Natural Earth", "Global Energy Monitor", "Copernicus", "GeoNames", "Köppen"):
        assert text in page, text
    for source in load_catalog().values():
        assert html.escape(source.attribution) in page, source.id
        assert html.escape(source.licence) in page, source.id


def test_province_tooltips_give_surplus_capacity_and_demand(page, scored) -> None:
    paths = scored[0]
    summary = pd.read_csv(paths.out / "provinces.csv")
    seen = json_unescaped(page)
    for row in summary.itertuples():
        tip = seen[seen.index(f"<b>{html.escape(row.province)}</b><table>") :][:800]
        assert maps.fmt_number(row.surplus_mw, signed=True) in tip
        assert maps.fmt_number(row.capacity_mw) in tip
        assert maps.fmt_number(row.peak_demand_mw) in tip
        assert label(F.PEAK_DEMAND_MW) in tip


def test_each_top_site_popup_explains_its_score(page, scored) -> None:
    paths, _, profile, _ = scored
    top = pd.read_csv(paths.out / "top_sites.csv")
    popups = site_popups(page)
    assert set(popups) == set(top[F.CELL])
    for site in top.itertuples(index=False):
        site = site._asdict()
        popup = popups[site[F.CELL]]
        assert html.escape(site[F.PROVINCE]) in popup
        assert f"#{site[F.RANK_IN_PROVINCE]} in province" in popup
        assert f"<b>{site[F.SCORE]:.1f}</b> / 100" in popup
        assert html.escape(site["nearest_place"]) in popup
        assert html.escape(site[F.CONNECTIVITY_NODE]) in popup
        assert f"{site[F.SUBSTATION_KV]:g} kV" in popup
        total = 0.0
        for name, crit in profile.criteria.items():
            # points recomputed from the raw value and the profile, not read from the points column
            value = float(site[name])
            expected = (
                100 * crit.weight * np.clip((value - crit.value.worst) / (crit.value.best - crit.value.worst), 0, 1)
            )
            match = re.search(
                rf"<td>{re.escape(html.escape(label(name)))}</td><td class='num'>([^<]*)</td>"
                rf"<td class='num'>([0-9.]+) / ([0-9.]+)</td>",
                popup,
            )
            assert match, (site[F.CELL], name)
            assert float(match.group(2)) == pytest.approx(expected, abs=0.051)
            assert float(match.group(3)) == pytest.approx(100 * crit.weight)
            assert match.group(1) == maps.fmt_number(value)
            total += expected
        assert total == pytest.approx(site[F.SCORE], abs=1e-3)
        tooltip = f"{html.escape(site[F.PROVINCE])} #{site[F.RANK_IN_PROVINCE]} — score {site[F.SCORE]:.1f}"
        assert tooltip in page


def test_score_surface_is_one_image_not_thousands_of_polygons(page) -> None:
    polygons = page.count('"type": "Polygon"') + page.count('"type": "MultiPolygon"')
    assert polygons < MAX_SURFACE_POLYGONS
    assert page.count("L.imageOverlay(") == 1
    overlay = page[page.index("L.imageOverlay(") :][:200]
    assert '"data:image/png;base64,' in overlay


def test_grid_layers_show_high_voltage_and_hide_low(page, scored) -> None:
    study = scored[1]
    page = json_unescaped(page)
    assert f"Transmission lines ≥ {study.grid.line_min_kv:g} kV" in page
    assert f"Grid stations ≥ {study.grid.substation_min_kv:g} kV (scored)" in page
    assert "Not connection points: HVDC converters, plant switchyards, unknown kind" in page
    assert "Substations below" in page
    assert "Internet exchanges and cable landings" in page


def test_rerun_gives_identical_bytes(scored, written) -> None:
    first = written.read_bytes()
    png = written.with_name("map.png").read_bytes()
    again = maps.write_study_map(*scored)
    assert again.read_bytes() == first
    assert again.with_name("map.png").read_bytes() == png


# ------------------------------------------------------------------------------------- offline page


def test_offline_page_inlines_leaflet_and_loads_nothing(page) -> None:
    assert not re.search(r"<script[^>]+src=", page), "no external script"
    assert not re.search(r"<link[^>]+href=", page), "no external stylesheet"
    assert not re.search(r"url\((?!['\"]?(?:data:|#))", page), "every CSS url() is a data: URL"
    assert "L.tileLayer" not in page
    for dropped in ("jquery", "bootstrap", "awesome-markers", "fontawesome", "$(`"):
        assert dropped not in page.lower(), dropped
    assert 'version="1.9.4"' in page  # Leaflet, from the pinned package
    assert "sourceMappingURL" not in page
    for url in re.findall(r"""src\s*=\s*["']([^"']+)""", page):  # links (<a href>) load nothing
        assert url.startswith(("data:", "#")), url


def test_offline_page_draws_its_own_base_map(page, scored) -> None:
    layers = scored[3]
    seen = json_unescaped(page)
    assert "Country outline" in seen and "Lakes and reservoirs" in seen
    assert "Offline page" in seen
    cities = maps.major_cities(layers.places)
    assert len(cities) >= 10
    for name in cities["name"]:
        assert f"</span> {html.escape(name)}</div>" in seen, name
    assert cities["population"].min() >= maps.CITY_MIN_POPULATION


def test_online_page_has_osm_tiles_and_still_no_cdn(scored) -> None:
    paths, study, profile, layers = scored
    page = maps.render_html(maps.build_map(paths, study, profile, layers, offline=False))
    assert "L.tileLayer" in page and "tile.openstreetmap.org" in page
    assert not re.search(r"<script[^>]+src=", page)
    assert "Country outline" not in page


def test_leaflet_assets_come_from_the_pinned_package() -> None:
    from importlib.metadata import version

    from siting.outputs import assets as _assets

    assert version("django-js-lib-leaflet") == "1.9.4.1"
    css = _assets.leaflet_css()
    assert "url(images/" not in css and css.count("url(data:image/png;base64,") == 3
    assert "</script" not in _assets.leaflet_js().lower()


# ---------------------------------------------------------------------------------------- static PNG


def test_png_is_written_beside_the_page(written) -> None:
    import matplotlib.image

    png = written.with_name("map.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(png)
    assert pixels.shape[0] > 1000 and pixels.shape[1] > 1000
    rgb = (pixels[..., :3] * 255).round().astype(int)
    colours = {tuple(c) for c in rgb.reshape(-1, 3)[::7]}
    cmap = maps.score_colormap()
    # the score surface: many distinct viridis shades (blended with the land at 85 %)
    assert len(colours) > 200
    near = [
        v
        for v in range(0, 101, 10)
        if any(sum(abs(a - b) for a, b in zip(cmap.rgb_bytes_tuple(v), c, strict=True)) < 40 for c in colours)
    ]
    assert len(near) >= 5, near


def test_png_shows_provinces_surface_top_sites_and_legend(scored) -> None:
    paths, study, profile, layers = scored
    inputs = maps.read_outputs(paths)
    image = maps.score_image(inputs.cells, maps.pixel_size_m(6, 30), maps.score_colormap())
    fig = maps.static_map(study, profile, layers, inputs, image)
    ax = fig.axes[0]
    by_gid = {a.get_gid(): a for a in ax.get_children() if a.get_gid()}
    assert by_gid["score-surface"].get_array().shape[:2] == (image.height, image.width)
    assert len(by_gid["provinces"].get_paths()) >= len(layers.provinces)
    assert len(by_gid["top-sites"].get_offsets()) == len(inputs.top)
    legend_text = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("Top" in t and "sites" in t for t in legend_text)
    assert any("Province" in t for t in legend_text)
    assert fig.axes[1].get_ylabel() == label(F.SCORE)  # the colour bar
    text = " ".join(t.get_text() for t in fig.texts)
    assert study.name in text and profile.name in text and inputs.scored_on in text
    assert "OpenStreetMap" in text and "GeoNames" in text
    for name in layers.provinces[F.PROVINCE]:
        assert name[:26] in text, name


def test_cli_map_writes_the_page(scored, tmp_path, monkeypatch) -> None:
    from siting.cli import main

    paths = scored[0]
    study_file = tmp_path / "maptest.yml"
    study_file.write_text("name: maptest\ncandidates:\n  h3_resolution: 6\n")
    monkeypatch.setenv("SITING_CONFIG_DIR", str(REPO / "configs"))
    res = CliRunner().invoke(main, ["--data-dir", str(paths.data), "map", "--study", str(study_file)])
    assert res.exit_code == 0, res.output
    assert (paths.out / "map.html").is_file() and (paths.out / "map.png").is_file()
    assert "L.tileLayer" not in (paths.out / "map.html").read_text()  # offline is the default
    res = CliRunner().invoke(main, ["--data-dir", str(paths.data), "map", "--study", str(study_file), "--online"])
    assert res.exit_code == 0, res.output
    assert "L.tileLayer" in (paths.out / "map.html").read_text()
    maps.write_study_map(*scored)  # back to the offline page the other tests read


# -------------------------------------------------------------------------------------------- escaping


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory, processed_dir, scored) -> str:
    """A map of the same study whose substation, place and node names carry markup and JS template syntax."""
    paths, study, profile, _ = scored
    data = tmp_path_factory.mktemp("hostile")
    shutil.copytree(paths.processed, data / "processed")
    hostile = Paths(data, study)
    subs = gpd.read_parquet(hostile.layers / "substations.parquet")
    high = subs.index[subs[F.VOLTAGE_KV] >= study.grid.substation_min_kv]
    subs.loc[high[0], F.NAME] = XSS
    subs.loc[high[1], "operator"] = XSS
    subs.loc[high[2], F.NAME] = TEMPLATE_XSS
    subs.to_parquet(hostile.layers / "substations.parquet")
    top = pd.read_csv(hostile.out / "top_sites.csv")
    top.loc[0, F.SUBSTATION_NAME] = XSS
    top.loc[1, "nearest_place"] = XSS
    top.loc[2, F.CONNECTIVITY_NODE] = TEMPLATE_XSS
    top.loc[3, F.PROVINCE] = XSS
    top.to_csv(hostile.out / "top_sites.csv", index=False)
    return maps.render_html(maps.build_map(hostile, study, profile, Layers(hostile.layers)))


def test_names_from_data_are_escaped(hostile_page) -> None:
    seen = json_unescaped(hostile_page)
    assert "<img src=x" not in seen
    assert html.escape(XSS) in seen
    assert seen.count(html.escape(XSS)) >= 6  # 2 substation tooltips, 3 popups, 1 tooltip
    assert "${alert(2)}" not in seen
    assert "&#36;{alert(2)}&#96;" in seen


def test_degraded_notes_are_shown_in_the_sources_panel(tmp_path, scored, page) -> None:
    """What provenance.json says the run lacked is on the page, escaped; a pack with no node draws no node layer."""
    import json

    paths, study, profile, _ = scored
    assert "siting-degraded" not in page  # a run that lacked nothing says nothing
    shutil.copytree(paths.processed, tmp_path / "processed")
    degraded = Paths(tmp_path, study)
    prov = json.loads((degraded.out / "provenance.json").read_text())
    prov["degraded"] = [
        "zones.csv: the region pack's table has a header only; the whole region is one network zone",
        f"criterion idle_capacity_mw: missing for every candidate {XSS}",
    ]
    (degraded.out / "provenance.json").write_text(json.dumps(prov))
    nodes = gpd.read_parquet(degraded.layers / "connectivity_nodes.parquet")
    nodes.iloc[0:0].to_parquet(degraded.layers / "connectivity_nodes.parquet")
    seen = json_unescaped(maps.render_html(maps.build_map(degraded, study, profile, Layers(degraded.layers))))
    panel = seen[seen.index("class='siting-sources'") :]
    panel = panel[: panel.index("</details>")]
    assert "Data sources and licences · degraded (2)" in panel
    degraded_box = panel[panel.index("siting-degraded") : panel.index("</div>")]
    assert "Degraded: what this run skipped or dropped" in degraded_box
    assert "zones.csv: the region pack&#x27;s table has a header only" in degraded_box
    assert html.escape(XSS) in degraded_box and "<img src=x" not in seen
    assert "Internet exchanges and cable landings" not in seen  # no node: no empty layer, no empty source line


def test_esc_covers_html_and_template_literals() -> None:
    assert maps.esc(XSS) == "&lt;img src=x onerror=alert(1)&gt;"
    assert maps.esc("a`b${c}\\") == "a&#96;b&#36;{c}&#92;"
    assert maps.esc(None) == "" and maps.esc(float("nan")) == ""
    assert maps.esc("Köppen 'x' \"y\"") == "Köppen &#x27;x&#x27; &quot;y&quot;"


# ------------------------------------------------------------------------------------------ pure parts


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_score_image_places_colours_and_leaves_gaps_transparent() -> None:
    boxes = [shapely.box(70, 30, 71, 31), shapely.box(72, 30, 73, 31)]
    cells = gpd.GeoDataFrame({F.SCORE: [0.0, 100.0]}, geometry=boxes, crs=4326)
    cmap = maps.score_colormap()
    img = maps.score_image(cells, pixel_m=5000, cmap=cmap)
    (south, west), (north, east) = img.bounds
    assert west == pytest.approx(70, abs=1e-6) and south == pytest.approx(30, abs=0.05)
    assert east >= 73 and north == pytest.approx(31, abs=1e-6)
    with MemoryFile(img.png) as mem, mem.open() as src:
        codes = src.read(1)
        palette = src.colormap(1)
        assert src.driver == "PNG" and (src.width, src.height) == (img.width, img.height)
    mid = codes.shape[0] // 2
    left, gap, right = codes[mid, 2], codes[mid, codes.shape[1] // 2], codes[mid, -3]
    assert palette[gap][3] == 0  # transparent between the two boxes
    assert palette[left][:3] == cmap.rgb_bytes_tuple(0) and palette[left][3] == 255
    assert palette[right][:3] == cmap.rgb_bytes_tuple(100)
    assert img.data_url.startswith("data:image/png;base64,")


def test_score_image_is_capped_in_size() -> None:
    cells = gpd.GeoDataFrame({F.SCORE: [50.0]}, geometry=[shapely.box(60, 20, 80, 40)], crs=4326)
    img = maps.score_image(cells, pixel_m=10, cmap=maps.score_colormap())
    assert max(img.width, img.height) <= maps.MAX_IMAGE_PX


def test_pixel_size_follows_h3_resolution() -> None:
    assert maps.pixel_size_m(6, 30) > maps.pixel_size_m(7, 30) > maps.pixel_size_m(8, 30)
    assert maps.pixel_size_m(7, 35) > maps.pixel_size_m(7, 25)  # Mercator metres grow with latitude


def test_surplus_colours_diverge_about_zero() -> None:
    cmap = maps.surplus_colormap(pd.Series([-300.0, 6000.0, 900.0]))
    assert cmap.vmin == -6000 and cmap.vmax == 6000
    r, _, b = cmap.rgb_bytes_tuple(-3000)
    assert r > b  # deficit reads red
    r, _, b = cmap.rgb_bytes_tuple(3000)
    assert b > r  # surplus reads blue
    assert maps.surplus_colormap(pd.Series([0.0, 0.0])).vmax == 1.0


def test_voltage_classes() -> None:
    assert maps.voltage_style(500)[0] == maps.voltage_style(660)[0] == "500 kV and above"
    assert maps.voltage_style(220)[0] == "220 kV"
    assert maps.voltage_style(132)[0] == "132 kV"
    assert maps.voltage_style(66)[0] == "below 132 kV"
    assert maps.voltage_style(float("nan"))[0] == "voltage unknown"
    assert maps.voltage_style(660, is_hvdc=True)[0] == "HVDC"
    # one definition (siting.kernels.voltage): a 400 kV line is drawn with the 500 kV class, as it is scored
    assert maps.voltage_style(400)[0] == "500 kV and above" and maps.voltage_style(230)[0] == "220 kV"
    assert maps.voltage_style(11)[0] == "below 132 kV"


def test_substation_tooltips_say_what_a_station_is(layers) -> None:
    subs = layers.substations
    feats = maps.substation_features(subs).set_index("osm_id")
    conv = subs.loc[subs["name"] == "Matiari-Lahore HVDC Converter station", "osm_id"].iloc[0]
    assert "HVDC converter station (not a connection point)" in feats.loc[conv, "tooltip"]
    tarbela = subs.loc[subs["name"] == "Tarbela", "osm_id"].iloc[0]
    assert "power-plant switchyard" in feats.loc[tarbela, "tooltip"]


def test_number_formats() -> None:
    assert maps.fmt_number(6563.08, signed=True) == "+6,563"
    assert maps.fmt_number(-152.586) == "-153"
    assert maps.fmt_number(1.2056) == "1.2"
    assert maps.fmt_number(float("nan")) == "–"
    assert maps.fmt_points(24.397, 0.25) == "24.4 / 25"
    assert maps.fmt_points(11.88, 0.35) == "11.9 / 35"


def test_missing_scores_say_to_run_score(tmp_path) -> None:
    study = Study(name="nothing")
    profile = load_profile(str(REPO / "siting" / "defaults" / "profiles" / "bitcoin_mining.yml"))
    paths = Paths(tmp_path, study)
    with pytest.raises(DataError, match="siting score"):
        maps.build_map(paths, study, profile, Layers(paths.layers))


def test_centres_are_burnt_as_the_hexagons_they_stand_for(national6, monkeypatch, tmp_path) -> None:
    """The grid of cell centres (drawn a slice at a time) is the grid of the stored hexagons, pixel for pixel."""
    from siting.model.candidates import cell_polygons
    from siting.outputs.maps import raster
    from siting.outputs.maps.data import read_cells

    cells = national6.result.scored[[F.CELL, F.LON, F.LAT, F.SCORE]].reset_index(drop=True)
    hexagons = gpd.GeoDataFrame(cells[[F.SCORE]], geometry=cell_polygons(cells[F.CELL]), crs=4326)
    stored = tmp_path / "scores.parquet"  # as `siting score --centres` stores them: point geometry
    gpd.GeoDataFrame(cells, geometry=gpd.points_from_xy(cells[F.LON], cells[F.LAT]), crs=4326).to_parquet(stored)
    centres = read_cells(stored)
    assert "geometry" not in centres.columns  # the image draws their hexagons, not points
    monkeypatch.setattr(raster, "SLICE_CELLS", 1_000)  # several slices
    pixel = maps.pixel_size_m(6, 30)
    a, b = raster.cell_grid(hexagons, pixel), raster.cell_grid(centres, pixel)
    assert (a.x0, a.y1, a.pixel_m) == pytest.approx((b.x0, b.y1, b.pixel_m), abs=1e-6)
    assert np.array_equal(a.index, b.index) and len(np.unique(a.index)) > 0.9 * len(cells)
    img_a = raster.grid_score_image(hexagons, a, maps.score_colormap())
    img_b = raster.grid_score_image(centres, b, maps.score_colormap())
    assert img_a.png == img_b.png


def test_rings_burn_the_pixels_rasterio_burns_from_the_shapely_hexagons(national6) -> None:
    """The GeoJSON-like rings handed to rasterize give the pixels of rasterio's own shapely path."""
    from rasterio import features
    from rasterio.transform import from_origin

    from siting.model.candidates import cell_polygons
    from siting.outputs.maps.raster import geojson_rings

    cells = national6.result.scored[F.CELL].to_numpy()[:3000]
    merc = gpd.GeoSeries(cell_polygons(cells), crs=4326).to_crs(3857)
    x0, _, x1, y1 = merc.total_bounds
    kw = {"out_shape": (400, 400), "transform": from_origin(x0, y1, (x1 - x0) / 400, (x1 - x0) / 400), "fill": 0}
    rows = np.arange(1, len(merc) + 1, dtype=np.uint32)
    ours = features.rasterize(zip(geojson_rings(merc.values), rows, strict=True), dtype="uint32", **kw)
    theirs = features.rasterize(zip(merc.values, rows, strict=True), dtype="uint32", **kw)
    assert np.array_equal(ours, theirs) and (ours > 0).mean() > 0.05
    holed = shapely.Polygon([(0, 0), (9, 0), (9, 9), (0, 9)], [[(3, 3), (6, 3), (6, 6), (3, 6)]])
    assert geojson_rings(np.array([holed], dtype=object))[0] is holed  # not simple: passed as it is
