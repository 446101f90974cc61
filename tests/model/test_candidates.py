"""Declared exclusions on the mirror data: counts reported and equal to independent counts on the raw files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio

from siting._errors import ConfigError
from siting.config import Candidates, Exclusion, load_study
from siting.fields import F
from siting.io.catalog import source_file
from siting.model import candidates

RES = 6
FLOOD = Exclusion(layer="flood_2022")
BUILT = Exclusion(layer="landcover", classes=[13], label="built-up")
WATER = Exclusion(layer="landcover", classes=[0], label="water")


@pytest.fixture(scope="module")
def base(layers):
    """Cells left after lakes and elevation, before any declared exclusion."""
    return candidates.build(layers, Candidates(h3_resolution=RES, exclusions=[]))


@pytest.fixture(scope="module")
def default(layers):
    return candidates.build(layers, Candidates(h3_resolution=RES))


def modis_class(raw_dir, lon, lat) -> np.ndarray:
    with rasterio.open(raw_dir / source_file("modis.landcover").raw_relpath) as src:
        return np.array([v[0] for v in src.sample(zip(lon, lat, strict=True))])


def independent_flooded(raw_dir, cells) -> np.ndarray:
    """In a raw UNOSAT polygon (geopandas sjoin), in no raw Natural Earth lake and not on a MODIS water cell."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(cells[F.LON], cells[F.LAT]), crs=4326)
    flood = gpd.read_file(raw_dir / source_file("unosat.flood_2022").raw_relpath)
    lakes = gpd.read_file(raw_dir / source_file("naturalearth.lakes").raw_relpath)
    in_flood = np.zeros(len(pts), dtype=bool)
    in_flood[gpd.sjoin(pts, flood[["geometry"]], predicate="intersects").index.unique()] = True
    in_lake = np.zeros(len(pts), dtype=bool)
    in_lake[gpd.sjoin(pts, lakes[["geometry"]], predicate="intersects").index.unique()] = True
    water = modis_class(raw_dir, pts.geometry.x, pts.geometry.y) == 0
    return in_flood & ~in_lake & ~water


def test_flood_exclusion_count_is_reported_and_matches_an_independent_count(raw_dir, layers, base, default) -> None:
    expected = independent_flooded(raw_dir, base.cells)
    assert expected.sum() > 1000  # a large share of the Indus plain flooded
    got = candidates.build(layers, Candidates(h3_resolution=RES, exclusions=[FLOOD]))
    assert got.excluded[FLOOD.name] == expected.sum()
    assert len(got.cells) == len(base.cells) - expected.sum()
    assert default.excluded[FLOOD.name] == expected.sum()  # the flood comes first in the default list
    # no retained cell lies inside the flood extent, by the layer or by the raw polygons
    assert (default.cells[F.FLOODED_2022] == 0).all()
    assert not independent_flooded(raw_dir, default.cells).any()
    # the column agrees with the independent membership on every candidate
    np.testing.assert_array_equal(base.cells[F.FLOODED_2022].to_numpy() == 1, expected)


def test_landcover_exclusions_count_against_rasterio(raw_dir, base, default) -> None:
    cells = base.cells
    lc = modis_class(raw_dir, cells[F.LON], cells[F.LAT])
    flooded = cells[F.FLOODED_2022].to_numpy() == 1
    built = (lc == 13) & ~flooded
    water = (lc == 0) & ~flooded & ~built
    assert default.excluded[BUILT.name] == built.sum() > 0
    assert default.excluded[WATER.name] == water.sum() > 0
    assert len(default.cells) == len(cells) - flooded.sum() - built.sum() - water.sum()
    assert not np.isin(modis_class(raw_dir, default.cells[F.LON], default.cells[F.LAT]), [0, 13]).any()
    # cropland is declared but disabled by default; enabling it removes cropland cells and reports them
    crop = Exclusion(layer="landcover", classes=[12, 14], label="cropland")
    assert crop.name not in default.excluded


def test_disabled_entry_is_not_applied_and_enabled_cropland_is_counted(raw_dir, layers, base) -> None:
    crop = Exclusion(layer="landcover", classes=[12, 14], label="cropland")
    disabled = crop.model_copy(update={"enabled": False})
    off = candidates.build(layers, Candidates(h3_resolution=RES, exclusions=[disabled]))
    assert len(off.cells) == len(base.cells)
    on = candidates.build(layers, Candidates(h3_resolution=RES, exclusions=[crop]))
    lc = modis_class(raw_dir, base.cells[F.LON], base.cells[F.LAT])
    assert on.excluded[crop.name] == np.isin(lc, [12, 14]).sum() > 0


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("{layer: landcover, clases: [13]}", ["candidates.exclusions.0.clases", "unknown key"]),
        ("{layer: landcover}", ["candidates.exclusions.0", "classes", "required"]),
        ("{layer: floods}", ["candidates.exclusions.0.layer", "flood_2022"]),
        ("{layer: flood_2022, classes: [1]}", ["candidates.exclusions.0", "classes"]),
        ("{layer: landcover, classes: [99]}", ["candidates.exclusions.0.classes.0"]),
    ],
)
def test_a_bad_exclusion_entry_gives_one_sentence_naming_the_key(tmp_path, entry, words) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(f"name: bad\ncandidates:\n  exclusions:\n    - {entry}\n")
    with pytest.raises(ConfigError) as info:
        load_study(str(path))
    msg = str(info.value)
    assert msg.count(". ") == 0 and msg.endswith("."), msg
    for w in words:
        assert w in msg, msg


def test_hazard_layers_are_recorded_in_provenance(processed_dir, layers) -> None:
    import json

    prov = json.loads((layers.folder / "provenance.json").read_text())
    for ref in ("unosat.flood_2022", "gem_faults.faults", "usgs.earthquakes", "modis.landcover"):
        assert len(prov["inputs"][ref]["sha256"]) == 64, ref
    assert prov["layers"]["faults"] == 285 and prov["layers"]["earthquakes"] == 259
    assert prov["layers"]["flood_2022"] > 6000
    assert (layers.folder / "landcover_class.tif").is_file()


def test_max_elevation_null_keeps_the_high_cells(layers) -> None:
    with_limit = candidates.build(layers, Candidates(h3_resolution=RES, exclusions=[]))
    without = candidates.build(layers, Candidates(h3_resolution=RES, exclusions=[], max_elevation_m=None))
    assert not any(k.startswith("elevation") for k in without.excluded)
    high = next(n for k, n in with_limit.excluded.items() if k.startswith("elevation"))
    assert high > 0 and len(without.cells) == len(with_limit.cells) + high


def test_a_study_restricted_to_one_province_draws_only_its_cells(layers, tmp_path) -> None:
    """``candidates.provinces: [Sindh]``: the cells of the whole country that fall in Sindh, and no other."""
    from siting import stages

    study_file = tmp_path / "sindh.yml"
    study_file.write_text("name: sindh\ncandidates:\n  h3_resolution: 6\n  provinces: [Sind]\n")  # an alias
    st, _ = stages.load_study(str(study_file))
    assert st.candidates.provinces == ["PK-SD"]
    sindh = candidates.build(layers, st.candidates).cells
    whole = candidates.build(layers, st.candidates.model_copy(update={"provinces": None})).cells
    assert len(sindh) > 1000 and set(sindh[F.ISO_3166_2]) == {"PK-SD"}
    in_whole = whole.loc[whole[F.ISO_3166_2] == "PK-SD", F.CELL]
    assert set(sindh[F.CELL]) == set(in_whole)  # the same cells, drawn from the province alone


def test_an_unknown_province_in_candidates_is_refused_naming_the_key(tmp_path) -> None:
    from siting import stages

    study_file = tmp_path / "bad.yml"
    study_file.write_text("name: bad\ncandidates:\n  provinces: [Atlantis]\n")
    with pytest.raises(ConfigError, match=r"candidates\.provinces\.Atlantis"):
        stages.load_study(str(study_file))


@pytest.mark.parametrize("bucket_deg", [0.01, 0.05, 1.0])
def test_box_pairs_are_the_strtree_query(bucket_deg: float) -> None:
    import shapely

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(60, 78, 50_000), rng.uniform(23, 37, 50_000)
    lon[:20], lat[:20] = 65.0, 30.0  # on the corner two boxes share
    x0, y0 = rng.uniform(59, 79, 800), rng.uniform(22, 38, 800)
    bounds = np.column_stack([x0, y0, x0 + rng.exponential(0.3, 800), y0 + rng.exponential(0.3, 800)])
    bounds[:3] = [[65.0, 30.0, 65.5, 30.5], [64.5, 29.5, 65.0, 30.0], [np.nan] * 4]  # shared corner, empty
    pt, box = candidates.box_pairs(lon, lat, bounds, bucket_deg)
    want_pt, want_box = shapely.STRtree(shapely.box(*bounds.T)).query(shapely.points(lon, lat))
    assert set(zip(pt.tolist(), box.tolist(), strict=True)) == set(
        zip(want_pt.tolist(), want_box.tolist(), strict=True)
    )
    assert len(pt) == len(want_pt)


def grouped_points(rng: np.random.Generator, n_groups: int, spread: float) -> tuple[np.ndarray, ...]:
    """Clusters of points (runs of one group each, some of a single point or on a line) and their starts."""
    sizes = rng.integers(1, 60, n_groups)
    centre_x, centre_y = rng.uniform(60, 78, n_groups), rng.uniform(23, 37, n_groups)
    lon = np.repeat(centre_x, sizes) + rng.uniform(-spread, spread, sizes.sum())
    lat = np.repeat(centre_y, sizes) + rng.uniform(-spread, spread, sizes.sum())
    flat = np.repeat(np.arange(n_groups) % 7 == 0, sizes)  # points on a horizontal line
    lat[flat] = np.repeat(centre_y, sizes)[flat]
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    return lon, lat, starts


def polygons_with_shared_edges(rng: np.random.Generator, n: int) -> np.ndarray:
    import shapely

    x0, y0 = rng.uniform(60, 77, n), rng.uniform(23, 36, n)
    polys = shapely.buffer(shapely.points(x0, y0), rng.uniform(0.1, 1.5, n), quad_segs=3).tolist()
    polys += [shapely.box(65.0, 30.0, 66.0, 31.0), shapely.box(66.0, 30.0, 67.0, 31.0)]  # a shared edge
    return np.array(polys, dtype=object)


@pytest.mark.parametrize("spread", [0.01, 0.2, 1.0])
@pytest.mark.parametrize("test_name", ["contains_xy", "intersects_xy"])
def test_inside_any_by_groups_is_the_test_of_every_point(spread: float, test_name: str) -> None:
    import shapely

    rng = np.random.default_rng(int(spread * 100))
    lon, lat, starts = grouped_points(rng, 3000, spread)
    lon[:50], lat[:50] = 66.0, rng.uniform(30.0, 31.0, 50)  # on the shared edge (one group with the next)
    polys = polygons_with_shared_edges(rng, 60)
    test = getattr(shapely, test_name)
    want = np.array([test(polys, x, y).any() for x, y in zip(lon, lat, strict=True)])
    got = candidates.inside_any(lon, lat, polys, test, starts)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(candidates.inside_any(lon, lat, polys, test), want)
    assert 0 < want.sum() < len(want)


def test_assign_province_by_groups_is_the_point_by_point_lookup(layers) -> None:
    import h3.api.numpy_int as h3i
    import shapely

    cells, lon, lat = candidates.drawn_cells(layers.country.geometry.iloc[0], 6)
    # every cell's centre, and points off the provinces (border slivers, the sea) to fall back to the nearest
    lon, lat = np.r_[lon, 61.0, 66.5, 77.9], np.r_[lat, 25.0, 24.6, 35.0]
    cells = np.r_[cells, h3i.latlng_to_cell(25.0, 61.0, 6), h3i.latlng_to_cell(24.6, 66.5, 6), cells[-1]]
    prov = layers.provinces
    geoms = prov.geometry.to_numpy()
    first = np.array([next((i for i, g in enumerate(geoms) if shapely.contains_xy(g, x, y)), -1)
                      for x, y in zip(lon, lat, strict=True)])  # fmt: skip
    orphans = first < 0
    first[orphans] = shapely.STRtree(geoms).query_nearest(shapely.points(lon[orphans], lat[orphans]))[1]
    got = candidates.assign_province(lon, lat, prov, candidates.cell_groups(cells, 2))
    np.testing.assert_array_equal(got, first)
    np.testing.assert_array_equal(candidates.assign_province(lon, lat, prov), first)


def test_drawn_cells_are_the_cells_whose_centre_is_inside() -> None:
    import h3.api.basic_int as h3b
    import h3.api.numpy_int as h3i
    import shapely

    polygon = shapely.Polygon([(66.0, 24.0), (71.0, 25.0), (70.0, 29.0), (68.5, 26.5), (66.5, 28.0)])
    cells, lon, lat = candidates.drawn_cells(polygon, 7)
    every = h3i.uncompact_cells(np.unique(candidates.cover(polygon, 7)), 7)
    centres = np.array([h3b.cell_to_latlng(int(c)) for c in every])
    inside = np.array([polygon.contains(shapely.Point(x, y)) for y, x in centres])
    np.testing.assert_array_equal(cells, every[inside])
    np.testing.assert_array_equal(np.c_[lat, lon], centres[inside])
    frame = candidates.h3_cells(polygon, 7)
    assert frame[F.CELL].tolist() == [format(int(c), "x") for c in cells]


def test_hex_ids_are_the_printf_hex_of_each_cell() -> None:
    import h3.api.numpy_int as h3i

    cells = np.r_[h3i.uncompact_cells(np.array([0x85283473FFFFFFF], dtype=np.uint64), 8), 0x8001FFFFFFFFFFF]
    want = [format(int(c), "x") for c in cells]
    assert candidates.hex_ids(cells).tolist() == want
    assert list(candidates.hex_column(cells)) == want
    assert candidates.hex_ids(np.array([0x1234], dtype=np.uint64)).tolist() == ["1234"]  # not 15 digits


def test_cell_ints_are_python_int_of_every_hex_id() -> None:
    import h3.api.numpy_int as h3i
    import pandas as pd

    rng = np.random.default_rng(3)
    lat, lng = rng.uniform(-89, 89, 400), rng.uniform(-180, 180, 400)
    ints = np.array(
        [h3i.latlng_to_cell(a, b, int(r)) for a, b, r in zip(lat, lng, rng.integers(0, 16, 400), strict=True)],
        dtype=np.uint64,
    )
    ints = np.concatenate([ints, h3i.get_pentagons(7)])
    text = pd.Series(candidates.hex_column(ints))
    expected = np.array([int(c, 16) for c in text], dtype=np.int64)
    assert (candidates.cell_ints(text) == expected).all()
    assert (candidates.cell_ints(text.iloc[7:20]) == expected[7:20]).all()  # a slice: an offset into the buffer
    assert (candidates.cell_ints(text.astype(object).to_numpy()) == expected).all()
    odd = np.array(["ff", "8A3C0C4A1A37FFF", "0"], dtype=object)  # not 15 lower-case digits: the general path
    assert candidates.cell_ints(odd).tolist() == [255, int("8A3C0C4A1A37FFF", 16), 0]
    assert candidates.cell_ints(pd.Series([], dtype=str)).shape == (0,)


def test_cell_centres_are_h3pys_whichever_path_the_installed_h3_takes() -> None:
    import h3.api.basic_int as h3b
    import h3.api.numpy_int as h3i

    cells = h3i.grid_disk(h3i.latlng_to_cell(30.0, 70.0, 9), 20)  # the compiled kernel for h3 4.5, else h3-py
    ref = np.array([h3b.cell_to_latlng(int(c)) for c in cells], dtype=np.float64)
    assert (candidates.cell_centres(cells).view(np.int64) == ref.view(np.int64)).all()
