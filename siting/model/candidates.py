"""Candidate locations: H3 cells inside the region, minus exclusions (lakes, high terrain, declared ones).

Exclusions are declared by the study and applied in one pass over cell centres; the counts each removed
are returned so outputs can say why a place is not a candidate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import geopandas as gpd
import h3
import h3.api.basic_int as h3b
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import shapely

from siting.config import Candidates
from siting.fields import F
from siting.kernels import h3cells
from siting.kernels.polygons import first_holding
from siting.layers import Layers


@dataclass
class CandidateSet:
    """Candidate cells (ids and centres' ``lon``, ``lat``; no geometry) and the cells each exclusion removed."""

    cells: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)


def cover(polygon: shapely.Geometry, resolution: int) -> np.ndarray:
    """Sorted coarse H3 cells (resolution 5 or the target, whichever is coarser) overlapping ``polygon``."""
    shape = h3.geo_to_h3shape(polygon.__geo_interface__)
    return np.sort(h3i.h3shape_to_cells_experimental(shape, min(5, resolution), contain="overlap"))


def h3_cells(polygon: shapely.Geometry, resolution: int, coarse: np.ndarray | None = None) -> pd.DataFrame:
    """H3 cells whose centres fall inside ``polygon``: ``h3_cell`` (hex string), ``lon``, ``lat``.

    The polygon is covered with coarse cells (:func:`cover`; ``coarse``: some of them, for one partition),
    which are expanded to the target resolution, and their centres tested against the polygon in one
    vectorised pass: the same cells as ``h3.geo_to_cells`` about six times faster at resolution 8. Cells come
    sorted by id, so the cells of sorted partitions concatenate to those of the whole polygon.
    """
    cells, lon, lat = drawn_cells(polygon, resolution, coarse)
    return pd.DataFrame({F.CELL: hex_column(cells), F.LON: lon, F.LAT: lat})


def drawn_cells(
    polygon: shapely.Geometry, resolution: int, coarse: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the cells of :func:`h3_cells` as integers (sorted), with their centres' ``lon`` and ``lat``.

    The centres are tested a group of cells at a time where that settles them (:func:`cell_groups`,
    :func:`inside_any`), each remaining one against the polygon: the same cells as testing every centre.
    """
    coarse = cover(polygon, resolution) if coarse is None else np.asarray(coarse, dtype=np.uint64)
    # the cover of a multipolygon can repeat a cell: distinct parents (a few thousand) give distinct children
    coarse = np.unique(coarse)
    cells = h3i.uncompact_cells(coarse, resolution)  # children of sorted, distinct parents: sorted and distinct
    if len(cells) > 1 and not (cells[1:] > cells[:-1]).all():
        cells = np.unique(cells)
    latlng = cell_centres(cells)
    lon, lat = np.ascontiguousarray(latlng[:, 1]), np.ascontiguousarray(latlng[:, 0])
    inside = inside_any(lon, lat, np.array([polygon], dtype=object), shapely.contains_xy, cell_groups(cells))
    return cells[inside], lon[inside], lat[inside]


GROUP_LEVELS = 3  # cells are judged together with those sharing their ancestor this many resolutions up (343)


def cell_groups(cells: np.ndarray, levels: int = GROUP_LEVELS) -> np.ndarray:
    """Start of each run of consecutive cells (one resolution) under the same ancestor ``levels`` resolutions up.

    For cells sorted by id these are the cells of each ancestor, a compact patch; for any order the runs
    still partition the cells, which is all :func:`group_verdicts` needs.
    """
    v = np.asarray(cells, dtype=np.uint64)
    if not len(v):
        return np.zeros(0, dtype=np.intp)
    up = max(int((v[0] >> np.uint64(52)) & np.uint64(15)) - levels, 0)
    key = v >> np.uint64(3 * (15 - up))  # the index down to the ancestor's last digit
    return np.flatnonzero(np.r_[True, key[1:] != key[:-1]])


def group_verdicts(
    lon: np.ndarray, lat: np.ndarray, starts: np.ndarray, polygons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Judge the box around each group of points (``starts``: the first of each run) against the polygons.

    Returns, per group, how many of ``polygons`` meet its box (the closed rectangle spanned by its points),
    -1 where the box is flat (one point, or points on a line: not judged), and the lowest index of a polygon
    holding the whole box in its interior (``contains_properly``), -1 for none. Every point of a group lies in
    its box, so a polygon that no box meets holds none of its points, even on the boundary, and one holding the
    box holds each point in its interior. The predicates are GEOS's exact ones, on the polygons prepared.
    """
    m = len(starts)
    meets = np.full(m, -1, dtype=np.int64)
    holder = np.full(m, -1, dtype=np.int64)
    if not m or not len(polygons):
        meets[:] = 0
        return meets, holder
    x0, x1 = np.minimum.reduceat(lon, starts), np.maximum.reduceat(lon, starts)
    y0, y1 = np.minimum.reduceat(lat, starts), np.maximum.reduceat(lat, starts)
    solid = np.flatnonzero((x1 > x0) & (y1 > y0))
    shapely.prepare(polygons)
    boxes = shapely.box(x0[solid], y0[solid], x1[solid], y1[solid])
    bi, pi = shapely.STRtree(polygons).query(boxes)  # bounding boxes overlap; then each (prepared) polygon's test
    met = shapely.intersects(polygons[pi], boxes[bi])
    bi, pi = bi[met], pi[met]
    meets[solid] = np.bincount(bi, minlength=len(solid))
    held = shapely.contains_properly(polygons[pi], boxes[bi])
    first = np.full(len(solid), len(polygons), dtype=np.int64)
    np.minimum.at(first, bi[held], pi[held])
    holder[solid] = np.where(first < len(polygons), first, -1)
    return meets, holder


def inside_any(
    lon: np.ndarray, lat: np.ndarray, polygons: np.ndarray, test, starts: np.ndarray | None = None
) -> np.ndarray:
    """Mask of the points ``test`` (``shapely.contains_xy`` or ``intersects_xy``) puts in any of ``polygons``.

    With ``starts`` (groups of nearby points, :func:`cell_groups`), a group whose box no polygon meets is
    outside and one whose box a polygon holds in its interior is inside (:func:`group_verdicts`), whichever the
    test; only the other groups' points are tested, against the polygons whose bounding box they are in
    (:func:`box_pairs`).
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    inside = np.zeros(len(lon), dtype=bool)
    if not len(polygons) or not len(lon):
        return inside
    geoms = np.asarray(polygons, dtype=object)
    shapely.prepare(geoms)
    todo = None
    if starts is not None and len(starts):
        meets, holder = group_verdicts(lon, lat, starts, geoms)
        sizes = np.diff(np.r_[starts, len(lon)])
        inside = np.repeat(holder >= 0, sizes)
        todo = np.flatnonzero(np.repeat((holder < 0) & (meets != 0), sizes))
    sub_lon, sub_lat = (lon, lat) if todo is None else (lon[todo], lat[todo])
    pt, poly = box_pairs(sub_lon, sub_lat, shapely.bounds(geoms))
    hit = pt[test(geoms[poly], sub_lon[pt], sub_lat[pt])]
    inside[hit if todo is None else todo[hit]] = True
    return inside


def cell_centres(cells: np.ndarray) -> np.ndarray:
    """Centres ``(lat, lng)`` in degrees of H3 cells (integers), shape ``(n, 2)``: h3's ``cell_to_latlng``.

    Compiled over the whole array (:func:`siting.kernels.h3cells.cell_centres`, bit for bit the doubles of
    h3-py) with the h3 release it reproduces; with another, h3-py one call a cell.
    """
    if h3.versions()["c"] in h3cells.EXACT_FOR_H3:
        return h3cells.cell_centres(cells)
    ints = np.asarray(cells, dtype=np.uint64).tolist()
    flat = itertools.chain.from_iterable(map(h3b.cell_to_latlng, ints))
    return np.fromiter(flat, dtype=np.float64, count=2 * len(ints)).reshape(-1, 2)


def _all_15_digits(v: np.ndarray) -> bool:
    return bool(len(v)) and bool(((v >> np.uint64(56) > 0) & (v >> np.uint64(60) == 0)).all())


def hex_ids(cells: np.ndarray) -> np.ndarray:
    """H3 indexes (integers) as their lower-case hex strings (``"%x"``), vectorised; an object array.

    An H3 cell index has 15 hex digits (mode 1 in the top bits), so every string has the same length.
    """
    v = np.asarray(cells).astype(np.uint64)
    if not len(v):
        return np.zeros(0, dtype=object)
    if not _all_15_digits(v):  # not all 15 digits: the general path
        return np.char.mod("%x", v.astype(np.int64)).astype(object)
    return h3cells.hex_digits(v).view("S15").ravel().astype("U15").astype(object)


def hex_column(cells: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """Return the hex ids of :func:`hex_ids` as pandas' default text array, without a Python string per cell.

    Where pandas stores text in Arrow (``str``, pandas 3), the 15-digit ids are written straight into an
    Arrow string buffer: the column a DataFrame would make of :func:`hex_ids`, equal value for value.
    Anywhere else (object text, ids of other lengths) it is :func:`hex_ids` itself.
    """
    v = np.asarray(cells).astype(np.uint64)
    dtype = pd.Series(np.array(["0"], dtype=object)).dtype
    if not (_all_15_digits(v) and isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return hex_ids(v)
    import pyarrow as pa

    text = h3cells.hex_digits(v)
    offsets = np.arange(len(v) + 1, dtype=np.int64) * 15
    arrow = pa.Array.from_buffers(pa.large_string(), len(v), [None, pa.py_buffer(offsets), pa.py_buffer(text)])
    return pd.array(arrow, dtype=dtype)


def cell_polygons(cells) -> np.ndarray:
    """H3 cell polygons (lon/lat, shapely) for a sequence of hex cell ids.

    The boundaries come from h3 one cell at a time; the polygons are made in one vectorised call per vertex
    count (6 for a hexagon, 5 for a pentagon, more where a cell crosses an icosahedron edge).
    """
    bounds = [h3.cell_to_boundary(c) for c in cells]
    sizes = np.fromiter((len(b) for b in bounds), dtype=np.int64, count=len(bounds))
    out = np.empty(len(bounds), dtype=object)
    for n in np.unique(sizes):
        idx = np.flatnonzero(sizes == n)
        latlng = np.array([bounds[i] for i in idx], dtype=np.float64).reshape(len(idx), n, 2)
        ring = np.concatenate([latlng, latlng[:, :1]], axis=1)[:, :, ::-1]  # closed, (lng, lat)
        out[idx] = shapely.polygons(np.ascontiguousarray(ring))
    return out


def assign_province(
    lon: np.ndarray, lat: np.ndarray, provinces: gpd.GeoDataFrame, starts: np.ndarray | None = None
) -> np.ndarray:
    """Index into ``provinces`` of the polygon containing each point; the nearest polygon for border slivers.

    Each (prepared) province polygon tests only the points inside its bounding box, in one vectorised call.
    With ``starts`` (groups of nearby points, :func:`cell_groups`), a group whose box one province holds in its
    interior and no other meets is that province's, and one whose box no province meets holds border slivers
    only (:func:`group_verdicts`); only the other groups' points are tested.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    geoms = np.asarray(provinces.geometry.values, dtype=object)
    if starts is None or not len(starts):
        out = first_holding(lon, lat, geoms, shapely.contains_xy)
    else:
        meets, holder = group_verdicts(lon, lat, starts, geoms)
        sizes = np.diff(np.r_[starts, len(lon)])
        out = np.repeat(np.where(meets == 1, holder, -1), sizes)
        todo = np.flatnonzero(np.repeat((meets != 0) & ~((meets == 1) & (holder >= 0)), sizes))
        out[todo] = first_holding(lon[todo], lat[todo], geoms, shapely.contains_xy)
    orphans = np.flatnonzero(out < 0)
    if orphans.size:
        tree = shapely.STRtree(provinces.geometry.values)
        _, nearest = tree.query_nearest(shapely.points(lon[orphans], lat[orphans]), all_matches=False)
        out[orphans] = nearest
    return out


def in_polygons(
    lon: np.ndarray, lat: np.ndarray, polygons: gpd.GeoDataFrame, starts: np.ndarray | None = None
) -> np.ndarray:
    """Mask of the points inside any of ``polygons`` (boundaries count).

    The points in each polygon's bounding box are found on a grid of buckets (:func:`box_pairs`, no point
    geometry made), then tested exactly against the prepared polygons, vectorised over the (point, polygon)
    pairs; with ``starts``, only the points of groups their box does not settle (:func:`inside_any`).
    """
    return inside_any(lon, lat, polygons.geometry.values, shapely.intersects_xy, starts)


BUCKET_DEG = 0.05  # side of the grid buckets :func:`box_pairs` sorts points into (about 30 res-8 cells each)


def box_pairs(
    lon: np.ndarray, lat: np.ndarray, bounds: np.ndarray, bucket_deg: float = BUCKET_DEG
) -> tuple[np.ndarray, np.ndarray]:
    """Every (point, box) pair with the point inside the box, boundaries included: what an STRtree query gives.

    Points are sorted into square buckets; a box takes the points of the buckets it overlaps, a contiguous
    run of the sorted points per bucket column, and keeps those within its bounds. Bucket numbers grow with
    the coordinate, so no point inside a box is missed. Boxes with a NaN bound (empty geometries) take none.

    Parameters
    ----------
    lon, lat
        Points (degrees).
    bounds
        Boxes ``(m, 4)``: ``xmin, ymin, xmax, ymax`` (``shapely.bounds``).
    bucket_deg
        Bucket side; only the speed depends on it.

    Returns
    -------
    tuple of ndarray
        Point and box index of each pair, by box.

    """
    empty = np.zeros(0, dtype=np.intp)
    bounds = np.asarray(bounds, dtype=float).reshape(-1, 4)
    ok = np.flatnonzero(np.isfinite(bounds).all(axis=1))
    if not len(lon) or not len(ok):
        return empty, empty
    x0, y0 = lon.min(), lat.min()
    ix = np.floor((lon - x0) / bucket_deg).astype(np.int64)
    iy = np.floor((lat - y0) / bucket_deg).astype(np.int64)
    nx, ny = int(ix.max()) + 1, int(iy.max()) + 1
    order = np.argsort(ix * ny + iy, kind="stable")
    key = (ix * ny + iy)[order]
    b = bounds[ok]
    bx0 = np.clip(np.floor((b[:, 0] - x0) / bucket_deg), 0, nx).astype(np.int64)
    bx1 = np.clip(np.floor((b[:, 2] - x0) / bucket_deg), -1, nx - 1).astype(np.int64)
    by0 = np.clip(np.floor((b[:, 1] - y0) / bucket_deg), 0, ny).astype(np.int64)
    by1 = np.clip(np.floor((b[:, 3] - y0) / bucket_deg), -1, ny - 1).astype(np.int64)
    width = np.where((bx1 >= bx0) & (by1 >= by0), bx1 - bx0 + 1, 0)
    box = np.repeat(np.arange(len(b)), width)  # one row a (box, bucket column)
    col = bx0[box] + (np.arange(len(box)) - np.repeat(np.cumsum(width) - width, width))
    lo = np.searchsorted(key, col * ny + by0[box], side="left")
    hi = np.searchsorted(key, col * ny + by1[box], side="right")
    n = hi - lo
    pair_box = np.repeat(box, n)
    pos = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
    pt = order[pos]
    px, py = lon[pt], lat[pt]
    inside = (px >= b[pair_box, 0]) & (px <= b[pair_box, 2]) & (py >= b[pair_box, 1]) & (py <= b[pair_box, 3])
    return pt[inside].astype(np.intp), ok[pair_box[inside]].astype(np.intp)


def add_hazard_columns(df: pd.DataFrame, layers: Layers, starts: np.ndarray | None = None) -> None:
    """Add the 2022 flood flag and the land-cover class of each point, in place (:func:`hazard_values`)."""
    df[F.FLOODED_2022], df[F.LANDCOVER] = hazard_values(df[F.LON].to_numpy(), df[F.LAT].to_numpy(), layers, starts)


def hazard_values(
    lon: np.ndarray, lat: np.ndarray, layers: Layers, starts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the 2022 flood flag and the land-cover class at each point.

    ``flooded_2022`` is 1 inside the 2022 flood extent (permanent water removed), else 0, NaN for a region
    without that layer; ``landcover_class`` is the MODIS IGBP class at the point, NaN off the grid (or without it).
    ``starts``: groups of nearby points (:func:`cell_groups`) for the flood test (:func:`in_polygons`).
    """
    flooded = (
        in_polygons(lon, lat, layers.flood_2022, starts).astype(np.int64)
        if layers.has("flood_2022")
        else np.full(len(lon), np.nan)
    )
    return flooded, layers.grid("landcover_class").sample(lon, lat)[:, 0]


PROVINCE_MARGIN_DEG = 0.05  # cells are drawn this far beyond the provinces, then kept by the province they join


def outline(layers: Layers, params: Candidates) -> shapely.Geometry:
    """Return the area candidates are drawn in: the region's outline, or around ``params.provinces``.

    Around the provinces: their union widened by ``PROVINCE_MARGIN_DEG`` within the region's outline, so a
    cell in a sliver between two province polygons is drawn; :func:`build` keeps the cells that
    :func:`assign_province` gives to the listed provinces, the same cells a whole-region study gives them.
    """
    country = layers.country.geometry.iloc[0]
    if not params.provinces:
        return country
    prov = layers.provinces
    chosen = shapely.union_all(prov.geometry[prov[F.ISO_3166_2].isin(params.provinces)].to_numpy())
    return shapely.intersection(country, chosen.buffer(PROVINCE_MARGIN_DEG))


def build(layers: Layers, params: Candidates, coarse: np.ndarray | None = None) -> CandidateSet:
    """Draw candidate cells for the region and apply the study's exclusions.

    Parameters
    ----------
    layers
        The region's standard layers.
    params
        The study's ``candidates`` section.
    coarse
        Only the cells under these coarse cells (of :func:`cover`): one partition of a partitioned run.

    Returns
    -------
    CandidateSet
        Cells with ``h3_cell, lon, lat, iso_3166_2, province, elevation_m, flooded_2022, landcover_class``.
        ``excluded`` counts the cells each exclusion removed among those the ones before it left (lakes,
        elevation, then ``params.exclusions`` in order).

    """
    cells, lon, lat = drawn_cells(outline(layers, params), params.h3_resolution, coarse)
    groups = cell_groups(cells)  # nearby cells, judged together where the polygons allow it
    prov = layers.provinces
    at = None  # the province of each cell, when the study lists provinces (found once, kept through the exclusions)
    if params.provinces:  # drawn with a margin: keep the cells that join the listed provinces
        at = assign_province(lon, lat, prov, groups)
        listed = np.isin(prov[F.ISO_3166_2].to_numpy()[at], params.provinces)
        cells, lon, lat, at = cells[listed], lon[listed], lat[listed], at[listed]
        groups = cell_groups(cells)
    excluded: dict[str, int] = {}
    keep = np.ones(len(cells), dtype=bool)
    elevation = layers.grid("elevation_m").sample(lon, lat)[:, 0]
    if params.exclude_lakes and len(layers.lakes):
        lake = inside_any(lon, lat, layers.lakes.geometry.values, shapely.contains_xy, groups)  # in the interior
        excluded["lake or reservoir"] = int((lake & keep).sum())
        keep &= ~lake
    # null in the study, or a region without a DEM (all nodata): no elevation exclusion
    if params.max_elevation_m is not None and not np.isnan(elevation).all():
        high = elevation > params.max_elevation_m
        excluded[f"elevation above {params.max_elevation_m:g} m"] = int((high & keep).sum())
        keep &= ~high
    # the hazards at the cells still kept: the others' are neither counted nor returned
    live = np.flatnonzero(keep)
    flooded_live, landcover_live = hazard_values(lon[live], lat[live], layers, cell_groups(cells[live]))
    flooded = np.zeros(len(cells), dtype=flooded_live.dtype)
    landcover = np.zeros(len(cells), dtype=landcover_live.dtype)
    flooded[live], landcover[live] = flooded_live, landcover_live
    for rule in params.exclusions:
        if not rule.enabled or not layers.has("landcover_class" if rule.layer == "landcover" else rule.layer):
            continue  # off, or its layer is absent (prepare's degraded note says so)
        if rule.layer == "flood_2022":
            hit = flooded == 1
        else:
            hit = np.isin(landcover, rule.classes or [])
        excluded[rule.name] = excluded.get(rule.name, 0) + int((hit & keep).sum())
        keep &= ~hit
    kept = np.flatnonzero(keep)
    cells, lon, lat = cells[kept], lon[kept], lat[kept]
    df = pd.DataFrame(
        {
            F.CELL: hex_column(cells),
            F.LON: lon,
            F.LAT: lat,
            F.ELEVATION_M: elevation[kept],
            F.FLOODED_2022: flooded[kept],
            F.LANDCOVER: landcover[kept],
        }
    )
    idx = assign_province(lon, lat, prov, cell_groups(cells)) if at is None else at[kept]
    df[F.ISO_3166_2] = _text_take(prov[F.ISO_3166_2], idx)
    df[F.PROVINCE] = _text_take(prov[F.PROVINCE], idx)
    return CandidateSet(df, excluded)  # ids and centres: points are made only where an output needs them


def _text_take(column: pd.Series, idx: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """``column.to_numpy()[idx]`` as the text column a DataFrame would make of it, without a string a row.

    A column already in pandas' default text dtype is taken from directly (its Arrow array); any other
    gives the object array.
    """
    if column.dtype == pd.Series(np.array(["0"], dtype=object)).dtype:
        return column.array.take(idx)
    return column.to_numpy()[idx]


def from_points(points: gpd.GeoDataFrame, layers: Layers, params: Candidates) -> CandidateSet:
    """Candidates from a planner's own points (:func:`siting.layers.userdata.read_points`) instead of H3 cells.

    No exclusion is applied (the planner chose the places); each point carries the H3 cell that contains it
    at the study's resolution (``h3_cell``, several points may share one), its elevation and its province.

    Returns
    -------
    CandidateSet
        Points with ``candidate_id`` (and ``candidate_name`` if given), ``h3_cell, lon, lat, iso_3166_2,
        province, elevation_m``, in file order.

    """
    df = pd.DataFrame(points.drop(columns="geometry"))
    lon, lat = df[F.LON].to_numpy(float), df[F.LAT].to_numpy(float)
    cells = np.array([h3i.latlng_to_cell(y, x, params.h3_resolution) for x, y in zip(lon, lat, strict=True)])
    df.insert(0, F.CELL, hex_ids(cells) if len(cells) else np.zeros(0, dtype=object))
    df[F.ELEVATION_M] = layers.grid("elevation_m").sample(lon, lat)[:, 0]
    add_hazard_columns(df, layers)
    prov = layers.provinces
    idx = assign_province(lon, lat, prov)
    df[F.ISO_3166_2] = prov[F.ISO_3166_2].to_numpy()[idx]
    df[F.PROVINCE] = prov[F.PROVINCE].to_numpy()[idx]
    return CandidateSet(df, {})


_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)  # hex digit -> value


def cell_ints(cells: pd.Series | np.ndarray | pd.api.extensions.ExtensionArray) -> np.ndarray:
    """H3 hex ids (text) as their integer indexes (``int(c, 16)``), an int64 array: the inverse of :func:`hex_ids`.

    When every id has 15 lower-case hex digits (every H3 cell), they are read straight from the text's Arrow
    buffer in one numpy pass; any other text goes through ``int(c, 16)`` one id at a time.
    """
    import pyarrow as pa

    digits = 15
    arr = pa.chunked_array([pa.array(cells)]).combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    n = len(arr)
    if not n:
        return np.zeros(0, dtype=np.int64)
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    nib = None
    if not arr.null_count and (np.diff(offsets) == digits).all():
        raw = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[0] + n * digits].reshape(n, digits)
        nib = _NIBBLE[raw]
    if nib is None or (nib == 255).any():
        return np.array([int(c, 16) for c in arr.to_pylist()], dtype=np.int64)
    shifts = np.arange(digits - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    return np.bitwise_or.reduce(nib.astype(np.uint64) << shifts, axis=1).astype(np.int64)
