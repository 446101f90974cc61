"""The score surface as one image: H3 cells rasterised onto a Web-Mercator grid, palette-coded."""

from __future__ import annotations

import base64
import math
import warnings
from dataclasses import dataclass

import branca.colormap as cm
import geopandas as gpd
import h3
import numpy as np
import shapely
from rasterio import features
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from siting._errors import DataError
from siting.config import Study
from siting.fields import F
from siting.kernels.polygons import to_web_mercator
from siting.layers import Layers
from siting.model.candidates import cell_polygons
from siting.outputs.maps.data import MapInputs
from siting.outputs.maps.style import _EARTH_RADIUS_M, MAX_IMAGE_PX, score_colormap

# ----------------------------------------------------------------------------------------- score image


@dataclass(frozen=True)
class ScoreImage:
    """The score surface as a palette PNG on a Web-Mercator grid, and where it goes on the map."""

    png: bytes
    bounds: list[list[float]]  # [[south, west], [north, east]] in degrees
    width: int
    height: int
    mercator: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # west, south, east, north (EPSG:3857 m)

    @property
    def data_url(self) -> str:
        """The PNG as a ``data:`` URL, so the map needs no side file."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def pixel_size_m(h3_resolution: int, lat: float) -> float:
    """Web-Mercator pixel size giving about three pixels across a hexagon at latitude ``lat``."""
    edge_m = h3.average_hexagon_edge_length(h3_resolution, unit="m")
    return edge_m / 2.0 / math.cos(math.radians(lat))


def _mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon = math.degrees(x / _EARTH_RADIUS_M)
    lat = math.degrees(2.0 * math.atan(math.exp(y / _EARTH_RADIUS_M)) - math.pi / 2.0)
    return lon, lat


def study_score_image(study: Study, layers: Layers, inputs: MapInputs) -> ScoreImage | None:
    """Score surface of a study's H3 cells at their own resolution; None for the planner's own sites (points)."""
    if inputs.user_sites is not None:
        return None
    return score_image(inputs.cells, study_pixel_m(study, layers), score_colormap())


def study_pixel_m(study: Study, layers: Layers) -> float:
    """Pixel size of a study's score image: :func:`pixel_size_m` at the middle latitude of the country."""
    _, south, _, north = layers.country.total_bounds
    return pixel_size_m(study.candidates.h3_resolution, (south + north) / 2)


def score_image(cells: gpd.GeoDataFrame, pixel_m: float, cmap: cm.LinearColormap) -> ScoreImage:
    """Rasterise scored hexagons into a palette PNG (transparent where there is no candidate).

    Parameters
    ----------
    cells
        Hexagon polygons (any CRS) with a ``score`` column, 0-100.
    pixel_m
        Pixel size in Web-Mercator metres; the image is coarsened if it would exceed ``MAX_IMAGE_PX``.
    cmap
        Score colours; the palette holds one colour per whole score point.

    Returns
    -------
    ScoreImage
        Leaflet stretches an image overlay linearly in Web-Mercator, so a Mercator grid lands exactly.

    """
    return grid_score_image(cells, cell_grid(cells, pixel_m), cmap)


def grid_score_image(cells: gpd.GeoDataFrame, grid: CellGrid, cmap: cm.LinearColormap) -> ScoreImage:
    """Return the score image of ``cells`` on the grid :func:`cell_grid` burnt them into (same rows, same order)."""
    codes = np.clip(np.rint(cells[F.SCORE].to_numpy(dtype=float)), 0, 100).astype(np.uint8) + 1  # 0: no data
    return palette_image(np.concatenate([[0], codes]).astype(np.uint8)[grid.index], grid, cmap)


@dataclass(frozen=True)
class CellGrid:
    """Which cell each pixel of the Web-Mercator score grid shows: ``index`` 0 = none, ``i + 1`` = row ``i``."""

    index: np.ndarray  # (height, width) uint32
    x0: float  # west edge, EPSG:3857 m
    y1: float  # north edge
    pixel_m: float

    @property
    def height(self) -> int:
        """Rows of pixels."""
        return int(self.index.shape[0])

    @property
    def width(self) -> int:
        """Columns of pixels."""
        return int(self.index.shape[1])


def cell_grid(cells: gpd.GeoDataFrame, pixel_m: float) -> CellGrid:
    """Rasterise hexagons (any CRS) onto the score image's Web-Mercator grid, burning each row's position + 1.

    The score image and the in-browser re-scoring (``siting.outputs.maps.weights``) both colour this grid, so
    their pixels are the same cells.
    """
    if cells.empty:
        raise DataError("the scores hold no candidate, so there is no score surface to map; check the study.")
    centres = "geometry" not in cells.columns  # h3_cell, lon, lat, score: hexagons drawn a slice at a time
    merc = None if centres else cells.to_crs(3857)
    x0, y0, x1, y1 = _centre_bounds(cells) if merc is None else merc.total_bounds
    pixel_m = max(pixel_m, (x1 - x0) / MAX_IMAGE_PX, (y1 - y0) / MAX_IMAGE_PX)
    width = max(1, math.ceil((x1 - x0) / pixel_m))
    height = max(1, math.ceil((y1 - y0) / pixel_m))
    index = np.zeros((height, width), dtype=np.uint32)
    transform = from_origin(x0, y1, pixel_m, pixel_m)
    slices = [(geojson_rings(merc.geometry.values), 0)] if merc is not None else _hexagon_slices(cells)
    for shapes, start in slices:
        rows = np.arange(start + 1, start + len(shapes) + 1, dtype=np.uint32)
        features.rasterize(
            zip(shapes, rows, strict=True),
            out_shape=(height, width),
            transform=transform,
            fill=0,
            out=index,
        )
    return CellGrid(index=index, x0=float(x0), y1=float(y1), pixel_m=float(pixel_m))


def geojson_rings(shapes: np.ndarray) -> list:
    """GeoJSON-like polygons of ``shapes`` made from their coordinates in one pass, for ``rasterize``.

    rasterio reads a shapely geometry through its ``__geo_interface__``, one Python tuple a vertex: most of
    the time of burning half a million hexagons. Polygons without holes (every H3 cell) become dicts of
    their exterior ring's coordinates taken out in one vectorised call: the same vertices, so the same
    pixels. Anything else is passed as it is.
    """
    shapes = np.asarray(shapes, dtype=object)
    simple = (shapely.get_type_id(shapes) == 3) & (shapely.get_num_interior_rings(shapes) == 0)
    if not simple.all():
        return list(shapes)
    rings = shapely.get_exterior_ring(shapes)
    return _polygon_dicts(shapely.get_coordinates(rings), shapely.get_num_coordinates(rings))


def _polygon_dicts(points: np.ndarray, sizes: np.ndarray) -> list[dict]:
    """GeoJSON-like polygons of consecutive rings: ``points`` (n, 2), ``sizes[i]`` vertices in ring ``i``."""
    flat = points.tolist()  # one conversion, then list slices a ring
    ends = np.cumsum(sizes)
    return [
        {"type": "Polygon", "coordinates": [flat[a:b]]}
        for a, b in zip((ends - sizes).tolist(), ends.tolist(), strict=True)
    ]


def palette_image(codes: np.ndarray, grid: CellGrid, cmap: cm.LinearColormap) -> ScoreImage:
    """Palette PNG of score codes (0 = no data, ``1 + score`` = colour) laid on ``grid``."""
    width, height = grid.width, grid.height
    x0, y1 = grid.x0, grid.y1
    x1, y0 = x0 + width * grid.pixel_m, y1 - height * grid.pixel_m
    palette = {0: (0, 0, 0, 0)} | {code: (*cmap.rgb_bytes_tuple(code - 1), 255) for code in range(1, 102)}
    with warnings.catch_warnings(), MemoryFile() as mem:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        profile = {"driver": "PNG", "width": width, "height": height, "count": 1, "dtype": "uint8", "nodata": 0}
        with mem.open(**profile, ZLEVEL=9) as dst:
            dst.write(codes, 1)
            dst.write_colormap(1, palette)
        png = mem.read()
    west, south = _mercator_to_lonlat(x0, y0)
    east, north = _mercator_to_lonlat(x1, y1)
    return ScoreImage(
        png=png, bounds=[[south, west], [north, east]], width=width, height=height, mercator=(x0, y0, x1, y1)
    )


SLICE_CELLS = 250_000  # hexagons drawn and burnt at a time, so the image of millions of cells stays lean


def _hexagon_slices(cells):
    """(Web-Mercator hexagons as GeoJSON-like rings, position of the first) of ``cells``, ``SLICE_CELLS`` at a time.

    The rings are those of :func:`siting.model.candidates.cell_polygons` (h3's boundary, closed, lon/lat)
    projected by the same pyproj transformation as ``to_crs(3857)``, without making shapely polygons.
    """
    for i in range(0, len(cells), SLICE_CELLS):
        bounds = [h3.cell_to_boundary(c) for c in cells[F.CELL].iloc[i : i + SLICE_CELLS]]
        sizes = np.fromiter((len(b) + 1 for b in bounds), dtype=np.int64, count=len(bounds))  # closed rings
        latlng = np.array([v for b in bounds for v in (*b, b[0])], dtype=np.float64).reshape(-1, 2)
        x, y = to_web_mercator(latlng[:, 1], latlng[:, 0])
        yield _polygon_dicts(np.column_stack([x, y]), sizes), i


def _centre_bounds(cells) -> np.ndarray:
    """Web-Mercator bounds of the hexagons of ``cells``, drawing only those whose centre is near an edge."""
    lon, lat = cells[F.LON].to_numpy(float), cells[F.LAT].to_numpy(float)
    res = h3.get_resolution(cells[F.CELL].iloc[0])
    margin = (
        3.0
        * h3.average_hexagon_edge_length(res, unit="km")
        / 111.0
        / max(0.2, math.cos(math.radians(float(np.abs(lat).max()))))
    )  # degrees, generous: a cell reaches about one edge beyond its centre
    edge = (lon <= lon.min() + margin) | (lon >= lon.max() - margin) | (lat <= lat.min() + margin)
    edge |= lat >= lat.max() - margin
    part = cells[edge]
    return gpd.GeoSeries(cell_polygons(part[F.CELL]), crs=4326).to_crs(3857).total_bounds


def score_rgba(image: ScoreImage) -> np.ndarray:
    """Decode a :class:`ScoreImage` into an ``(height, width, 4)`` uint8 RGBA array (transparent gaps)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(image.png) as mem, mem.open() as src:
            codes = src.read(1)
            palette = src.colormap(1)
    lut = np.zeros((256, 4), dtype=np.uint8)
    for code, rgba in palette.items():
        lut[code] = rgba
    return lut[codes]
