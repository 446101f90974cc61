"""The interactive HTML map of a scored study: score surface, provincial surplus, grid and top sites.

``write_study_map`` reads what ``siting score`` wrote in ``data/processed/<study>/<profile>/`` and writes
``map.html`` beside it. The national score surface is one PNG image (H3 hexagons rasterised onto a
Web-Mercator grid, palette-coded) rather than one polygon a hexagon, so the page stays small and fast at any
H3 resolution. Every string that comes from data is HTML-escaped before it reaches a popup or tooltip.

The pure parts (colours, the score image, GeoJSON with tooltips, popup and legend HTML) are separate
functions so they can be tested and reused; only :func:`read_outputs` and :func:`write_study_map` touch disk.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import textwrap
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import branca.colormap as cm
import folium
import geopandas as gpd
import h3
import matplotlib
import matplotlib.cm
import matplotlib.figure
import numpy as np
import pandas as pd
import shapely
from folium.template import Template
from rasterio import features
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from siting._errors import DataError
from siting.config import Profile, Study
from siting.decide.scoring import points_column
from siting.fields import F, label
from siting.io.catalog import Source, load_catalog
from siting.io.files import write_atomic, write_text
from siting.io.paths import Paths
from siting.io.validate import read_table, require_columns
from siting.kernels import voltage
from siting.layers import Layers
from siting.layers.substation_kind import is_connection_point
from siting.layers.userdata import CANDIDATE_ID, CANDIDATE_NAME
from siting.outputs import assets as _assets

MAP_FILE = "map.html"
PNG_FILE = "map.png"
STATIC_DPI = 150
CITY_MIN_POPULATION = 500_000  # cities labelled on the offline base map and the PNG
BASE_PANE = "siting-base"  # Leaflet pane of the offline base map, under the score surface
LAND_COLOUR = "#f2efe6"
WATER_COLOUR = "#a9cce8"
OUTSIDE_COLOUR = "#dfe6ea"
SCORE_COLORS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")  # viridis: low → high suitability
SURPLUS_COLORS = ("#b2182b", "#f7f7f7", "#2166ac")  # deficit red → balance white → surplus blue
# styles of the voltage classes of siting.kernels.voltage (nominal class kV, label, colour, marker radius px,
# line weight px); a known voltage below 132 kV takes the last row
VOLTAGE_STYLES = (
    (500.0, "500 kV and above", "#6a3d9a", 6.0, 3.0),
    (220.0, "220 kV", "#e31a1c", 5.0, 2.0),
    (132.0, "132 kV", "#ff7f00", 3.5, 1.2),
    (0.0, "below 132 kV", "#1f78b4", 3.0, 1.0),
)
UNKNOWN_VOLTAGE_STYLE = ("voltage unknown", "#8c8c8c", 3.0, 1.0)
HVDC_STYLE = ("HVDC", "#000000", 2.5)
KIND_LABELS = {  # siting.layers.substation_kind.KINDS
    "grid_station": "grid station",
    "hvdc_converter": "HVDC converter station (not a connection point)",
    "plant_switchyard": "power-plant switchyard (not a connection point)",
    "traction": "traction substation (not a connection point)",
    "unknown": "kind unknown (not used as a connection point)",
}
MAX_IMAGE_PX = 4096
_EARTH_RADIUS_M = 6378137.0  # Web Mercator sphere
_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")
_BOX_STYLE = (
    "position:fixed;z-index:1000;background:rgba(255,255,255,0.92);padding:6px 9px;border-radius:4px;"
    "box-shadow:0 1px 5px rgba(0,0,0,0.4);font:12px/1.35 Arial,Helvetica,sans-serif;color:#222;"
)


# ---------------------------------------------------------------------------------------------- text


def esc(value: object) -> str:
    """Escape a data value for HTML and for the JavaScript template literals folium wraps popups in.

    ``html.escape`` covers ``< > & " '``; the backtick, ``$`` and backslash are also replaced by their
    character references, so a name such as ``${alert(1)}`` cannot break out of a JavaScript template.

    Parameters
    ----------
    value
        Any value; None and NaN give an empty string.

    Returns
    -------
    str
        Text safe to place inside HTML and inside a JavaScript template literal.

    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def fmt_number(value: float, signed: bool = False) -> str:
    """Format a measured value for a reader: thousands separators, one decimal below 100, "–" when missing."""
    if value is None or not np.isfinite(value):
        return "–"
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{value:,.0f}" if abs(value) >= 100 else f"{sign}{value:,.1f}"


def fmt_points(points: float, weight: float) -> str:
    """Points earned out of the criterion's maximum, e.g. ``"24.4 / 25"``."""
    return f"{points:.1f} / {100.0 * weight:g}"


def _kv(kv: float) -> str:
    return f"{kv:g} kV" if np.isfinite(kv) else "voltage unknown"


# -------------------------------------------------------------------------------------------- colours


def score_colormap() -> cm.LinearColormap:
    """Colours of the 0-100 suitability score."""
    return cm.LinearColormap(list(SCORE_COLORS), vmin=0, vmax=100, caption=label(F.SCORE))


def surplus_colormap(surplus_mw: pd.Series | np.ndarray) -> cm.LinearColormap:
    """Diverging colours for provincial surplus (MW), symmetric about zero so deficit reads red, surplus blue."""
    values = np.asarray(surplus_mw, dtype=float)
    finite = values[np.isfinite(values)]
    span = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    return cm.LinearColormap(list(SURPLUS_COLORS), index=[-span, 0.0, span], vmin=-span, vmax=span)


def voltage_style(kv: float, is_hvdc: bool = False) -> tuple[str, str, float, float]:
    """Return ``(label, colour, marker radius px, line weight px)`` of a voltage class."""
    if is_hvdc:
        return HVDC_STYLE[0], HVDC_STYLE[1], 3.0, HVDC_STYLE[2]
    if kv is None or not np.isfinite(kv):
        return UNKNOWN_VOLTAGE_STYLE
    cls = float(voltage.class_kv(kv))  # 400 kV is the 500 kV class, 230 kV the 220 kV class
    for nominal, name, colour, radius, weight in VOLTAGE_STYLES:
        if (cls if np.isfinite(cls) else 0.0) >= nominal:
            return name, colour, radius, weight
    return UNKNOWN_VOLTAGE_STYLE


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
    _, south, _, north = layers.country.total_bounds
    return score_image(
        inputs.cells, pixel_size_m(study.candidates.h3_resolution, (south + north) / 2), score_colormap()
    )


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
    if cells.empty:
        raise DataError("the scores hold no candidate, so there is no score surface to map; check the study.")
    merc = cells.to_crs(3857)
    x0, y0, x1, y1 = merc.total_bounds
    pixel_m = max(pixel_m, (x1 - x0) / MAX_IMAGE_PX, (y1 - y0) / MAX_IMAGE_PX)
    width = max(1, math.ceil((x1 - x0) / pixel_m))
    height = max(1, math.ceil((y1 - y0) / pixel_m))
    x1, y0 = x0 + width * pixel_m, y1 - height * pixel_m
    codes = np.clip(np.rint(merc[F.SCORE].to_numpy(dtype=float)), 0, 100).astype(np.uint8) + 1  # 0: no data
    grid = features.rasterize(
        zip(merc.geometry.values, codes, strict=True),
        out_shape=(height, width),
        transform=from_origin(x0, y1, pixel_m, pixel_m),
        fill=0,
        dtype="uint8",
    )
    palette = {0: (0, 0, 0, 0)} | {code: (*cmap.rgb_bytes_tuple(code - 1), 255) for code in range(1, 102)}
    with warnings.catch_warnings(), MemoryFile() as mem:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        profile = {"driver": "PNG", "width": width, "height": height, "count": 1, "dtype": "uint8", "nodata": 0}
        with mem.open(**profile, ZLEVEL=9) as dst:
            dst.write(grid, 1)
            dst.write_colormap(1, palette)
        png = mem.read()
    west, south = _mercator_to_lonlat(x0, y0)
    east, north = _mercator_to_lonlat(x1, y1)
    return ScoreImage(
        png=png, bounds=[[south, west], [north, east]], width=width, height=height, mercator=(x0, y0, x1, y1)
    )


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


# ------------------------------------------------------------------------------------------- GeoJSON


def _geo_dict(gdf: gpd.GeoDataFrame, tolerance_deg: float = 0.0, decimals: int = 5) -> dict:
    """GeoJSON FeatureCollection with simplified geometry and rounded coordinates (smaller HTML)."""
    geoms = gdf.geometry.values
    if tolerance_deg > 0:
        geoms = shapely.simplify(geoms, tolerance_deg, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    out = gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=geoms, crs=gdf.crs)
    return out.to_geo_dict(drop_id=True)


def _tooltip_table(title: str, rows: list[tuple[str, str]]) -> str:
    """Return a small HTML table; ``title`` and every row must already be escaped."""
    body = "".join(f"<tr><td>{k}</td><td style='text-align:right;padding-left:8px'>{v}</td></tr>" for k, v in rows)
    return f"<b>{title}</b><table>{body}</table>"


def province_features(provinces: gpd.GeoDataFrame, summary: pd.DataFrame) -> gpd.GeoDataFrame:
    """Province polygons joined to the province summary, with a ready, escaped ``tooltip`` column.

    Parameters
    ----------
    provinces
        The ``provinces`` layer (``iso_3166_2``, geometry).
    summary
        ``provinces.csv`` written by ``siting score``.

    Returns
    -------
    GeoDataFrame
        ``iso_3166_2, province, surplus_mw, tooltip, geometry``.

    """
    cols = [F.ISO_3166_2, F.PROVINCE, F.SURPLUS_MW, F.CAPACITY_MW, F.PEAK_DEMAND_MW, "candidate_count", "best_score"]
    require_columns(summary, cols, "provinces.csv", "province summary")
    joined = provinces[[F.ISO_3166_2, "geometry"]].merge(summary[cols], on=F.ISO_3166_2, how="inner")
    tips = []
    for row in joined.itertuples(index=False):
        rows = [
            (esc(label(F.SURPLUS_MW)), fmt_number(getattr(row, F.SURPLUS_MW), signed=True)),
            (esc(label(F.CAPACITY_MW)), fmt_number(getattr(row, F.CAPACITY_MW))),
            (esc(label(F.PEAK_DEMAND_MW)), fmt_number(getattr(row, F.PEAK_DEMAND_MW))),
            ("Candidate sites", f"{int(row.candidate_count):,}"),
            ("Best score", fmt_number(row.best_score)),
        ]
        tips.append(_tooltip_table(esc(getattr(row, F.PROVINCE)), rows))
    joined["tooltip"] = tips
    return gpd.GeoDataFrame(
        joined[[F.ISO_3166_2, F.PROVINCE, F.SURPLUS_MW, "tooltip"]], geometry=joined.geometry.values, crs=4326
    )


def substation_features(substations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Substations with an escaped ``tooltip`` and their voltage class colour and radius."""
    kv = substations[F.VOLTAGE_KV].to_numpy(dtype=float)
    styles = [voltage_style(v) for v in kv]
    names = substations[F.NAME].fillna("")
    operators = substations["operator"] if "operator" in substations else pd.Series("", index=substations.index)
    sources = substations[F.VOLTAGE_SOURCE] if F.VOLTAGE_SOURCE in substations else pd.Series("", index=names.index)
    if F.VOLTAGE_BASIS in substations:
        sources = substations[F.VOLTAGE_BASIS]
    kinds = substations[F.KIND] if F.KIND in substations else pd.Series("", index=names.index)
    tips = []
    for name, op, v, src, kind in zip(names, operators.fillna(""), kv, sources.fillna(""), kinds, strict=True):
        rows = [("Voltage", f"{_kv(v)}{f' ({esc(src)})' if src and np.isfinite(v) else ''}")]
        if kind:
            rows.append(("Kind", KIND_LABELS.get(kind, esc(kind))))
        if op:
            rows.append(("Operator", esc(op)))
        tips.append(_tooltip_table(esc(name) or "Unnamed substation", rows))
    return gpd.GeoDataFrame(
        {
            "osm_id": substations["osm_id"].astype(str).to_numpy() if "osm_id" in substations else np.arange(len(kv)),
            "tooltip": tips,
            "colour": [s[1] for s in styles],
            "radius": [s[2] for s in styles],
        },
        geometry=substations.geometry.values,
        crs=4326,
    )


def line_features(lines: gpd.GeoDataFrame, min_kv: float) -> gpd.GeoDataFrame:
    """Transmission lines at or above ``min_kv`` (HVDC included) with an escaped ``tooltip`` and style."""
    keep = (lines[F.VOLTAGE_KV] >= min_kv) | lines["is_hvdc"].astype(bool)
    sel = lines[keep]
    styles = [voltage_style(kv, hv) for kv, hv in zip(sel[F.VOLTAGE_KV], sel["is_hvdc"].astype(bool), strict=True)]
    tips = []
    for name, kv, hv, km in zip(
        sel[F.NAME].fillna(""), sel[F.VOLTAGE_KV], sel["is_hvdc"].astype(bool), sel[F.LENGTH_KM], strict=True
    ):
        rows = [("Voltage", f"{_kv(kv)}{' HVDC' if hv else ''}"), ("Length", f"{fmt_number(km)} km")]
        tips.append(_tooltip_table(esc(name) or "Unnamed line", rows))
    return gpd.GeoDataFrame(
        {
            "line": np.arange(len(sel)).astype(str),
            "tooltip": tips,
            "colour": [s[1] for s in styles],
            "weight": [s[3] for s in styles],
            "dash": ["6 4" if hv else None for hv in sel["is_hvdc"].astype(bool)],
        },
        geometry=sel.geometry.values,
        crs=4326,
    )


def node_features(nodes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Internet exchanges and cable landings with an escaped ``tooltip`` naming each node's source."""
    tips = [
        _tooltip_table(esc(name), [("Kind", esc(str(kind).replace("_", " "))), ("Source", esc(src))])
        for name, kind, src in zip(nodes[F.NAME], nodes["kind"], nodes["source"], strict=True)
    ]
    return gpd.GeoDataFrame({"tooltip": tips}, geometry=nodes.geometry.values, crs=4326)


# ---------------------------------------------------------------------------------------------- sites


def candidate_label(site: pd.Series) -> str:
    """Return the planner's name and id of a site scored with ``--candidates`` (``"Thar (T1)"``), "" for a cell."""
    name, ident = site.get(CANDIDATE_NAME), site.get(CANDIDATE_ID)
    name = "" if name is None or pd.isna(name) else str(name)
    ident = "" if ident is None or pd.isna(ident) else str(ident)
    if name and ident and name != ident:
        return f"{name} ({ident})"
    return name or ident


def site_tooltip(site: pd.Series) -> str:
    """Hover text of a site: ``"[<your name> · ]<province> #<rank> — score <x>"`` (escaped)."""
    own = candidate_label(site)
    return (f"{esc(own)} · " if own else "") + (
        f"{esc(site[F.PROVINCE])} #{int(site[F.RANK_IN_PROVINCE])} — score {site[F.SCORE]:.1f}"
    )


def site_popup_html(site: pd.Series, profile: Profile, weights: dict[str, float] | None = None) -> str:
    """Popup of a top site: where it is, its score and the points each criterion earned.

    Parameters
    ----------
    site
        One row of ``top_sites.csv``.
    profile
        The profile it was scored with (criteria, weights, value functions).
    weights
        The weights used (``provenance.json``); the profile's own weights when None.

    Returns
    -------
    str
        HTML; every value from data is escaped.

    """
    rows = []
    for name, crit in profile.criteria.items():
        pcol = points_column(name)
        if name not in site.index or pcol not in site.index:
            raise DataError(f"top_sites.csv has no column '{name}' or '{pcol}'; rerun `siting score`.")
        why = esc(crit.why)
        scale = crit.value.describe()
        weight = (weights or {}).get(name, crit.weight)
        rows.append(
            f"<tr title='{why} ({esc(scale)})'><td>{esc(label(name))}</td>"
            f"<td class='num'>{fmt_number(float(site[name]))}</td>"
            f"<td class='num'>{fmt_points(float(site[pcol]), weight)}</td></tr>"
        )
    place = esc(site.get("nearest_place", ""))
    place_km = site.get("dist_place_km", np.nan)
    sub_name = esc(site.get(F.SUBSTATION_NAME, "")) or "unnamed substation"
    own = candidate_label(site)
    parts = [
        f"<div class='siting-site' data-cell='{esc(site[F.CELL])}' style='font-size:12px;min-width:300px'>",
        f"<div style='font-size:15px'><b>{esc(own)}</b></div>" if own else "",
        f"<div style='font-size:14px'><b>{esc(site[F.PROVINCE])}</b> — #{int(site[F.RANK_IN_PROVINCE])} in province"
        + (f" (#{int(site[F.RANK_NATIONAL]):,} nationally)" if F.RANK_NATIONAL in site.index else "")
        + "</div>",
        f"<div style='font-size:14px;margin:2px 0 4px'>Score <b>{site[F.SCORE]:.1f}</b> / 100</div>",
        f"<div>Near {place} ({fmt_number(float(place_km))} km)</div>" if place else "",
        "<table style='border-collapse:collapse;margin:4px 0'>"
        "<tr style='border-bottom:1px solid #999'><th style='text-align:left'>Criterion</th>"
        "<th class='num'>Value</th><th class='num'>Points</th></tr>",
        *rows,
        f"<tr style='border-top:1px solid #999'><td><b>Total</b></td><td></td>"
        f"<td class='num'><b>{site[F.SCORE]:.1f} / 100</b></td></tr></table>",
        f"<div>Nearest substation: <b>{sub_name}</b>, {_kv(float(site.get(F.SUBSTATION_KV, np.nan)))}, "
        f"{fmt_number(float(site.get(F.DIST_SUBSTATION_KM, np.nan)))} km</div>",
        f"<div>Nearest connectivity node: {esc(site.get(F.CONNECTIVITY_NODE, ''))}, "
        f"{fmt_number(float(site.get(F.DIST_CONNECTIVITY_KM, np.nan)))} km</div>",
        f"<div style='color:#666'>{'in ' if own else ''}H3 cell {esc(site[F.CELL])} · "
        f"{site[F.LAT]:.4f}° N, {site[F.LON]:.4f}° E</div>",
        "</div>",
    ]
    return "".join(parts)


def _site_icon(site: pd.Series, cmap: cm.LinearColormap) -> folium.DivIcon:
    r, g, b = cmap.rgb_bytes_tuple(float(site[F.SCORE]))
    text = "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"
    html_icon = (
        f"<div style='width:20px;height:20px;border-radius:50%;background:rgb({r},{g},{b});color:{text};"
        f"border:2px solid #111;font:bold 11px/20px Arial,sans-serif;text-align:center'>"
        f"{int(site[F.RANK_IN_PROVINCE])}</div>"
    )
    return folium.DivIcon(html=html_icon, icon_size=(24, 24), icon_anchor=(12, 12), class_name="siting-site-icon")


# ------------------------------------------------------------------------------------------ overlays


def _gradient(cmap: cm.LinearColormap, n: int = 11) -> str:
    stops = np.linspace(cmap.vmin, cmap.vmax, n)
    return ",".join(cmap.rgb_hex_str(v) for v in stops)


def _legend_bar(title: str, cmap: cm.LinearColormap, ticks: list[tuple[float, str]]) -> str:
    width = 190
    spans = "".join(
        f"<span style='position:absolute;left:{(v - cmap.vmin) / (cmap.vmax - cmap.vmin) * width:.0f}px;"
        f"transform:translateX(-50%)'>{t}</span>"
        for v, t in ticks
    )
    return (
        f"<div style='margin-top:4px'><b>{title}</b></div>"
        f"<div style='width:{width}px;height:10px;background:linear-gradient(to right,{_gradient(cmap)});"
        "border:1px solid #777'></div>"
        f"<div style='position:relative;width:{width}px;height:15px;margin:0 8px 0 0'>{spans}</div>"
    )


def legend_html(score_cmap: cm.LinearColormap, surplus_cmap: cm.LinearColormap, substation_min_kv: float) -> str:
    """Return the legend box: score 0-100, provincial surplus in MW, and the grid's voltage classes."""
    span = surplus_cmap.vmax
    surplus_ticks = [(-span, f"−{span:,.0f}"), (0.0, "0"), (span, f"+{span:,.0f}")]
    grid = "".join(
        f"<div><span style='display:inline-block;width:18px;height:0;border-top:{weight + 1:.0f}px solid {colour};"
        f"vertical-align:middle;margin-right:5px'></span>{esc(name)}</div>"
        for _, name, colour, _, weight in VOLTAGE_STYLES[:2]
    )
    grid += (
        f"<div><span style='display:inline-block;width:18px;height:0;border-top:3px dashed {HVDC_STYLE[1]};"
        f"vertical-align:middle;margin-right:5px'></span>{HVDC_STYLE[0]} line</div>"
    )
    dots = [(name, colour) for _, name, colour, _, _ in VOLTAGE_STYLES] + [UNKNOWN_VOLTAGE_STYLE[:2]]
    grid += (
        "<div>Substations: "
        + " ".join(
            f"<span style='white-space:nowrap'><span style='display:inline-block;width:9px;height:9px;"
            f"border-radius:50%;background:{colour};vertical-align:middle'></span> {esc(name)}</span>"
            for name, colour in dots
        )
        + f"<br><i>below {substation_min_kv:g} kV: layer off by default</i></div>"
    )
    return (
        f"<div class='siting-legend' style='{_BOX_STYLE}bottom:26px;right:10px;max-width:230px'>"
        + _legend_bar("Suitability score (0-100)", score_cmap, [(0, "0"), (50, "50"), (100, "100")])
        + _legend_bar(f"{esc(label(F.SURPLUS_MW))}", surplus_cmap, surplus_ticks)
        + "<div style='color:#555'>deficit ← → surplus</div>"
        + f"<div style='margin-top:4px'><b>Grid</b></div>{grid}</div>"
    )


def candidates_phrase(study: Study, n_candidates: int, user: bool = False) -> str:
    """Return what was scored: ``"143,791 H3 res-7 candidates"`` or ``"58 of your candidate sites"``."""
    if user:
        return f"{n_candidates:,} of your candidate sites"
    return f"{n_candidates:,} H3 res-{study.candidates.h3_resolution} candidates"


def title_html(
    study: Study, profile: Profile, scored_on: str, n_candidates: int, offline: bool = True, user: bool = False
) -> str:
    """Return the title box: study, profile, date of the scores, how many candidates were scored, base map.

    ``user``: the candidates are the planner's own sites (``siting score --candidates``), not H3 cells.
    """
    base = (
        "Offline page: base map drawn from Natural Earth and GeoNames, no tiles"
        if offline
        else "Base map: OpenStreetMap tiles (needs internet)"
    )
    return (
        f"<div class='siting-title' style='{_BOX_STYLE}top:10px;left:55px;max-width:430px'>"
        f"<div style='font-size:14px'><b>{esc(study.region.name)}: sites for {esc(profile.name.replace('_', ' '))}"
        f"</b></div><div>{esc(profile.description)}</div>"
        f"<div style='color:#555'>Study <b>{esc(study.name)}</b>, profile <b>{esc(profile.name)}</b> · "
        f"{candidates_phrase(study, n_candidates, user)} · scored {esc(scored_on)}</div>"
        f"<div style='color:#777;font-size:11px'>{base}</div></div>"
    )


def sources_html(catalog: dict[str, Source], extra: list[tuple[str, str]] | None = None) -> str:
    """Return the sources box: every catalogued source's title, attribution and licence, then ``extra`` notes.

    Parameters
    ----------
    catalog
        Output of :func:`siting.io.catalog.load_catalog`.
    extra
        ``(heading, text)`` pairs for figures that do not come from the catalog (reference tables).

    """
    items = [
        f"<li><b>{esc(s.attribution)}</b> — {esc(s.title)} ({esc(s.vintage)}; licence: {esc(s.licence)})</li>"
        for s in catalog.values()
    ]
    items += [f"<li><b>{esc(head)}</b>: {esc(text)}</li>" for head, text in extra or []]
    return (
        f"<details open class='siting-sources' style='{_BOX_STYLE}bottom:52px;left:10px;max-width:440px;"
        "max-height:26vh;overflow:auto;font-size:10.5px'>"
        "<summary style='font-size:12px;cursor:pointer'><b>Data sources and licences</b></summary>"
        f"<ul style='margin:3px 0;padding-left:16px'>{''.join(items)}</ul></details>"
    )


# ----------------------------------------------------------------------------------------------- I/O


@dataclass
class MapInputs:
    """What ``siting score`` wrote that the map shows."""

    cells: gpd.GeoDataFrame  # hexagons with score
    provinces: pd.DataFrame  # provinces.csv
    top: pd.DataFrame  # top_sites.csv
    surplus: pd.DataFrame | None  # surplus.csv (sources of each figure), when present
    scored_on: str  # date the scores were written (UTC)
    weights: dict[str, float] | None = None  # weights used (provenance.json), also for AHP and entropy
    user_sites: gpd.GeoDataFrame | None = None  # every column, when the candidates are the planner's own points


def read_outputs(paths: Paths) -> MapInputs:
    """Read the scores, province summary and top sites of a study.

    Raises
    ------
    DataError
        If ``siting score`` has not been run for this study and profile.

    """
    out = paths.out
    for name in ("scores.parquet", "provinces.csv", "top_sites.csv"):
        if not (out / name).is_file():
            own = " --candidates FILE" if paths.variant == "_user" else ""
            raise DataError(
                f"{out / name} is missing; run `siting score --study {paths.study.name} "
                f"--profile {paths.study.profile}{own}` before `siting map`."
            )
    try:
        cells = gpd.read_parquet(paths.scores, columns=[F.SCORE, "geometry"])
    except Exception as exc:
        raise DataError(f"{paths.scores} could not be read ({type(exc).__name__}); rerun `siting score`.") from exc
    top = read_table(out / "top_sites.csv", "top sites")
    require_columns(
        top, [F.PROVINCE, F.RANK_IN_PROVINCE, F.SCORE, F.CELL, F.LAT, F.LON], out / "top_sites.csv", "top sites"
    )
    surplus_path = out / "surplus.csv"
    mtime = paths.scores.stat().st_mtime
    user_sites = gpd.read_parquet(paths.scores) if len(cells) and (cells.geom_type == "Point").all() else None
    return MapInputs(
        cells=cells,
        provinces=read_table(out / "provinces.csv", "province summary"),
        top=top,
        surplus=read_table(surplus_path, "surplus table") if surplus_path.is_file() else None,
        scored_on=datetime.fromtimestamp(mtime, tz=UTC).strftime("%Y-%m-%d"),
        weights=_weights_used(out / "provenance.json"),
        user_sites=user_sites,
    )


def _weights_used(path: Path) -> dict[str, float] | None:
    """Return the weights ``siting score`` used, from its provenance.json (None when absent or unreadable)."""
    try:
        weights = json.loads(path.read_text(encoding="utf-8")).get("weights")
    except (OSError, ValueError):
        return None
    return {str(k): float(v) for k, v in weights.items()} if isinstance(weights, dict) else None


def _figure_sources(surplus: pd.DataFrame | None, nodes: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    extra = []
    if surplus is not None:
        for col, head in (
            ("peak_demand_basis", "Peak demand"),
            ("capacity_basis", "Operating capacity"),
            ("population_basis", "Population"),
        ):
            if col in surplus:
                extra.append((head, "; ".join(sorted(surplus[col].dropna().astype(str).unique()))))
    if "source" in nodes:
        extra.append(("Internet exchanges and cable landings", "; ".join(sorted(nodes["source"].astype(str).unique()))))
    return extra


def _base_layers(fmap: folium.Map, layers: Layers) -> None:
    """Draw the offline base map: country, lakes and major cities, in a pane under the score surface."""
    folium.map.CustomPane(BASE_PANE, z_index=250, pointer_events=False).add_to(fmap)
    folium.GeoJson(
        _geo_dict(layers.country[["geometry"]], tolerance_deg=0.005, decimals=4),
        name="Country outline",
        pane=BASE_PANE,
        interactive=False,
        style_function=lambda f: {"fillColor": LAND_COLOUR, "fillOpacity": 1.0, "color": "#555", "weight": 2},
    ).add_to(fmap)
    folium.GeoJson(
        _geo_dict(layers.lakes[["geometry"]], tolerance_deg=0.002, decimals=4),
        name="Lakes and reservoirs",
        pane=BASE_PANE,
        interactive=False,
        style_function=lambda f: {"fillColor": WATER_COLOUR, "fillOpacity": 1.0, "color": "#6f9fc8", "weight": 0.8},
    ).add_to(fmap)
    cities = folium.FeatureGroup(name=f"Cities over {CITY_MIN_POPULATION:,} people")
    for city in major_cities(layers.places).itertuples(index=False):
        folium.Marker(
            location=[round(city.geometry.y, 4), round(city.geometry.x, 4)],
            icon=folium.DivIcon(
                html=f"<div class='siting-city'><span>●</span> {esc(city.name)}</div>",
                icon_size=(0, 0),
                icon_anchor=(4, 8),
                class_name="siting-city-icon",
            ),
            interactive=False,
            keyboard=False,
        ).add_to(cities)
    cities.add_to(fmap)


def major_cities(places: gpd.GeoDataFrame, min_population: int = CITY_MIN_POPULATION) -> gpd.GeoDataFrame:
    """Places of at least ``min_population`` people, largest first."""
    big = places[places["population"] >= min_population]
    return big.sort_values(["population", "name"], ascending=[False, True])


class _Popup(folium.Popup):
    """A folium popup whose content is set as an HTML string: no jQuery (folium's own uses ``$(...)``)."""

    _template = Template(
        """
        var {{this.get_name()}} = L.popup({{ this.options|tojavascript }});
        {% for name, element in this.html._children.items() %}
        {{ this.get_name() }}.setContent(`{{ element.render(**kwargs).replace('\\n',' ') }}`);
        {% endfor %}
        {{ this._parent.get_name() }}.bindPopup({{ this.get_name() }});
        """
    )


def build_map(
    paths: Paths,
    study: Study,
    profile: Profile,
    layers: Layers,
    offline: bool = True,
    *,
    inputs: MapInputs | None = None,
    image: ScoreImage | None = None,
) -> folium.Map:
    """Assemble the interactive map of a scored study.

    The page carries Leaflet inline (see :mod:`siting.outputs.assets`) and no other library, so it needs no
    network. In a notebook the returned map displays inline.

    Parameters
    ----------
    paths
        Where the study's outputs are (``paths.out``).
    study, profile
        The study and the profile it was scored with.
    layers
        The region's standard layers (provinces, substations, lines, connectivity nodes, country, lakes, places).
    offline
        True (default): no tile layer; the country, province outlines, lakes and major cities are drawn from
        the layers, so the page makes no network request. False: OpenStreetMap tiles underneath instead.
    inputs, image
        What :func:`read_outputs` and :func:`score_image` return, when the caller already has them.

    Returns
    -------
    folium.Map
        Score surface, provincial surplus, grid, connectivity nodes, top sites, legend, title and sources.

    """
    inputs = inputs if inputs is not None else read_outputs(paths)
    score_cmap = score_colormap()
    provinces = province_features(layers.provinces, inputs.provinces)
    surplus_cmap = surplus_colormap(provinces[F.SURPLUS_MW])

    west, south, east, north = layers.country.total_bounds
    fmap = folium.Map(tiles=None if offline else "OpenStreetMap", control_scale=True, zoom_snap=0.25)
    fmap.default_js = []  # folium's CDN links (Leaflet, jQuery, Bootstrap, ...): Leaflet is inlined instead
    fmap.default_css = []
    fmap.fit_bounds([[south, west], [north, east]])
    if offline:
        _base_layers(fmap, layers)

    # the score image first, so the SVG of the vector layers sits above it and keeps their tooltips
    image = image if image is not None else study_score_image(study, layers, inputs)
    if image is not None:
        folium.raster_layers.ImageOverlay(
            image=image.data_url,
            bounds=image.bounds,
            name="Suitability score (0-100)",
            opacity=0.8,
            interactive=False,
            class_name="siting-score-surface",
        ).add_to(fmap)

    province_data = _geo_dict(provinces, tolerance_deg=0.005, decimals=4)
    folium.GeoJson(
        province_data,
        name=f"{label(F.SURPLUS_MW)}",
        show=False,
        style_function=lambda f: {
            "fillColor": surplus_cmap.rgb_hex_str(f["properties"][F.SURPLUS_MW]),
            "fillOpacity": 0.7,
            "color": "#333",
            "weight": 1,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
    ).add_to(fmap)
    folium.GeoJson(
        province_data,
        name="Province boundaries",
        class_name="siting-province",
        style_function=lambda f: {"fill": True, "fillOpacity": 0.0, "color": "#222", "weight": 1.5},
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
    ).add_to(fmap)

    lines = line_features(layers.lines, study.grid.line_min_kv)
    folium.GeoJson(
        _geo_dict(lines, tolerance_deg=0.001, decimals=4),
        name=f"Transmission lines ≥ {study.grid.line_min_kv:g} kV",
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": f["properties"]["weight"],
            "opacity": 0.85,
            "dashArray": f["properties"]["dash"],
        },
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
    ).add_to(fmap)

    subs = substation_features(layers.substations)
    high = (layers.substations[F.VOLTAGE_KV] >= study.grid.substation_min_kv).to_numpy()
    point = is_connection_point(layers.substations)
    for part, name, show in (
        (subs[high & point], f"Grid stations ≥ {study.grid.substation_min_kv:g} kV (scored)", True),
        (subs[high & ~point], "Not connection points: HVDC converters, plant switchyards, unknown kind", True),
        (subs[~high], f"Substations below {study.grid.substation_min_kv:g} kV or voltage unknown", False),
    ):
        if part.empty:
            continue
        folium.GeoJson(
            _geo_dict(part, decimals=5),
            name=name,
            show=show,
            marker=folium.CircleMarker(radius=4, fill=True),
            style_function=lambda f: {
                "radius": f["properties"]["radius"],
                "color": "#222",
                "weight": 0.8,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.95,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
        ).add_to(fmap)

    nodes = layers.connectivity_nodes
    folium.GeoJson(
        _geo_dict(node_features(nodes), decimals=5),
        name="Internet exchanges and cable landings",
        marker=folium.CircleMarker(radius=6, fill=True, color="#000", weight=2, fill_color="#fff", fill_opacity=1),
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
    ).add_to(fmap)

    if inputs.user_sites is not None:
        _user_sites_layer(inputs.user_sites, profile, inputs.weights, score_cmap).add_to(fmap)
    sites = folium.FeatureGroup(name=f"Top {study.ranking.top_n} sites per province")
    for _, site in inputs.top.iterrows():
        folium.Marker(
            location=[float(site[F.LAT]), float(site[F.LON])],
            icon=_site_icon(site, score_cmap),
            tooltip=folium.Tooltip(site_tooltip(site)),
            popup=_Popup(site_popup_html(site, profile, inputs.weights), max_width=460),
            z_index_offset=1000 - int(site[F.RANK_IN_PROVINCE]),  # the best of overlapping markers on top
        ).add_to(sites)
    sites.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    root = fmap.get_root()
    root.header.add_child(folium.Element(_assets.leaflet_head()), name="leaflet", index=0)
    root.header.add_child(
        folium.Element(
            "<style>.siting-site td,.siting-site th{padding:1px 4px}.siting-site .num{text-align:right}"
            ".siting-site-icon{background:none;border:none}"
            f".leaflet-container{{background:{OUTSIDE_COLOUR if offline else '#ddd'}}}"
            ".siting-city-icon{background:none;border:none}.leaflet-control-layers{font-size:12px}"
            ".siting-city{white-space:nowrap;font:bold 11px Arial,Helvetica,sans-serif;color:#222;"
            "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}.siting-city span{font-size:9px}</style>"
        )
    )
    root.html.add_child(
        folium.Element(
            title_html(
                study, profile, inputs.scored_on, len(inputs.cells), offline=offline, user=inputs.user_sites is not None
            )
        )
    )
    root.html.add_child(folium.Element(legend_html(score_cmap, surplus_cmap, study.grid.substation_min_kv)))
    root.html.add_child(folium.Element(sources_html(load_catalog(), _figure_sources(inputs.surplus, nodes))))
    return fmap


def _user_sites_layer(
    sites: gpd.GeoDataFrame, profile: Profile, weights: dict[str, float] | None, cmap: cm.LinearColormap
) -> folium.FeatureGroup:
    """Every site the planner scored (``--candidates``), coloured by score, each with its score breakdown."""
    group = folium.FeatureGroup(name="Your candidate sites (colour: score 0-100)")
    for _, site in sites.sort_values(F.SCORE).iterrows():  # the best drawn last, on top
        folium.CircleMarker(
            location=[float(site[F.LAT]), float(site[F.LON])],
            radius=7,
            color="#000",
            weight=1,
            fill=True,
            fill_color=cmap.rgb_hex_str(float(site[F.SCORE])),
            fill_opacity=0.95,
            class_name="siting-user-site",
            tooltip=folium.Tooltip(site_tooltip(site)),
            popup=_Popup(site_popup_html(site, profile, weights), max_width=460),
        ).add_to(group)
    return group


def render_html(fmap: folium.Map) -> str:
    """Render a map to one HTML page, with folium's random element ids replaced by sequential ones.

    Equal inputs then give byte-identical pages, so a rerun does not show up as a change.
    """
    page = fmap.get_root().render()
    ids: dict[str, str] = {}
    return _ELEMENT_ID.sub(lambda m: ids.setdefault(m.group(0), f"{len(ids):032x}"), page)


# ---------------------------------------------------------------------------------------- static PNG


def static_map(
    study: Study, profile: Profile, layers: Layers, inputs: MapInputs, image: ScoreImage | None
) -> matplotlib.figure.Figure:
    """Draw the map for reports: score surface, provinces with their surplus, top sites, grid, cities and legends.

    Drawn with matplotlib (no display needed) in Web-Mercator, like the interactive map.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with the map, a colour bar for the score and a legend for the other symbols.

    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    score_cmap = score_colormap()
    fig = Figure(figsize=(10, 9.2), dpi=STATIC_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.08, 0.74, 0.84))
    ax.set_facecolor(OUTSIDE_COLOUR)

    country = layers.country.to_crs(3857)
    country.plot(ax=ax, facecolor=LAND_COLOUR, edgecolor="#555", linewidth=1.2, zorder=1)
    layers.lakes.to_crs(3857).plot(ax=ax, facecolor=WATER_COLOUR, edgecolor="#6f9fc8", linewidth=0.4, zorder=2)
    if image is not None:
        x0, y0, x1, y1 = image.mercator
        ax.imshow(
            score_rgba(image),
            extent=(x0, x1, y0, y1),
            interpolation="nearest",
            alpha=0.85,
            zorder=3,
            gid="score-surface",
        )
    if inputs.user_sites is not None:
        own = inputs.user_sites.sort_values(F.SCORE).to_crs(3857)
        rgb = [np.array(score_cmap.rgb_bytes_tuple(float(v))) / 255 for v in own[F.SCORE]]
        ax.scatter(
            own.geometry.x, own.geometry.y, s=22, c=rgb, edgecolors="#000", linewidths=0.5, zorder=7, gid="user-sites"
        )

    lines = layers.lines[(layers.lines[F.VOLTAGE_KV] >= study.grid.line_min_kv) | layers.lines["is_hvdc"].astype(bool)]
    lines.to_crs(3857).plot(ax=ax, color="#444", linewidth=0.5, alpha=0.7, zorder=4)

    provinces = province_features(layers.provinces, inputs.provinces).to_crs(3857)
    provinces.boundary.plot(ax=ax, color="#111", linewidth=1.0, zorder=5, gid="provinces")
    areas_km2 = provinces.to_crs(6933).area / 1e6
    for row, area in zip(provinces.itertuples(index=False), areas_km2, strict=True):
        if area < 30_000:  # Islamabad, Azad Jammu and Kashmir: named in the table, not on the map
            continue
        spot = row.geometry.representative_point()
        ax.annotate(
            f"{getattr(row, F.PROVINCE)}\n{fmt_number(getattr(row, F.SURPLUS_MW), signed=True)} MW",
            (spot.x, spot.y),
            ha="center",
            va="center",
            fontsize=7.5,
            color="#111",
            zorder=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.65},
        )

    cities = major_cities(layers.places).to_crs(3857)
    ax.scatter(cities.geometry.x, cities.geometry.y, s=6, c="#222", zorder=6)
    for city in cities.itertuples(index=False):
        ax.annotate(
            city.name,
            (city.geometry.x, city.geometry.y),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=6,
            color="#222",
            zorder=6,
        )

    top = gpd.GeoDataFrame(
        inputs.top, geometry=gpd.points_from_xy(inputs.top[F.LON], inputs.top[F.LAT]), crs=4326
    ).to_crs(3857)
    colours = [np.array(score_cmap.rgb_bytes_tuple(float(v))) / 255 for v in top[F.SCORE]]
    ax.scatter(
        top.geometry.x, top.geometry.y, s=46, c=colours, edgecolors="#000", linewidths=1.2, zorder=9, gid="top-sites"
    )
    best = top[top[F.RANK_IN_PROVINCE] == 1]
    for site in best.itertuples(index=False):
        ax.annotate(
            "1",
            (site.geometry.x, site.geometry.y),
            ha="center",
            va="center",
            fontsize=6,
            zorder=10,
            color="#fff",
            fontweight="bold",
        )

    cx0, cy0, cx1, cy1 = country.total_bounds
    pad = 0.03 * max(cx1 - cx0, cy1 - cy0)
    ax.set_xlim(cx0 - pad, cx1 + pad)
    ax.set_ylim(cy0 - pad, cy1 + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")

    cax = fig.add_axes((0.8, 0.6, 0.025, 0.3))
    stops = np.linspace(0, 100, 101)
    listed = ListedColormap([np.array(score_cmap.rgb_bytes_tuple(v)) / 255 for v in stops])
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=Normalize(0, 100), cmap=listed), cax=cax)
    bar.set_label(label(F.SCORE), fontsize=9)
    handles = [
        Line2D([], [], color="#111", linewidth=1.0, label="Province (surplus, MW)"),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor=SCORE_COLORS[-1],
            markeredgecolor="#000",
            markersize=7,
            label=f"Top {study.ranking.top_n} sites per province",
        ),
        Line2D([], [], color="#444", linewidth=0.8, label=f"Lines ≥ {study.grid.line_min_kv:g} kV"),
        Line2D([], [], marker="o", linestyle="", color="#222", markersize=3, label=f"City > {CITY_MIN_POPULATION:,}"),
    ]
    if inputs.user_sites is not None:
        handles.insert(
            2,
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor=SCORE_COLORS[len(SCORE_COLORS) // 2],
                markeredgecolor="#000",
                markeredgewidth=0.5,
                markersize=5,
                label="Your sites (colour: score)",
            ),
        )
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.78, 0.38),
        fontsize=8,
        frameon=False,
        title="Legend",
        title_fontsize=9,
        alignment="left",
    )
    fig.text(
        0.02,
        0.955,
        f"{study.region.name}: sites for {profile.name.replace('_', ' ')}",
        fontsize=14,
        fontweight="bold",
    )
    fig.text(
        0.02,
        0.93,
        f"Study {study.name}, profile {profile.name} · "
        f"{candidates_phrase(study, len(inputs.cells), inputs.user_sites is not None)} · scored {inputs.scored_on}",
        fontsize=9,
        color="#333",
    )
    table = "\n".join(
        f"{getattr(r, F.PROVINCE)[:26]:<26} {fmt_number(getattr(r, F.SURPLUS_MW), signed=True):>7}"
        for r in provinces.sort_values(F.SURPLUS_MW, ascending=False).itertuples(index=False)
    )
    fig.text(0.78, 0.355, label(F.SURPLUS_MW), fontsize=9, va="top")
    fig.text(0.78, 0.33, table, fontsize=6.5, family="monospace", va="top")
    attributions = "; ".join(dict.fromkeys(s.attribution for s in load_catalog().values()))
    fig.text(0.02, 0.012, textwrap.fill("Sources: " + attributions, 190), fontsize=6.5, color="#444")
    return fig


def write_static_map(dest: Path, fig: matplotlib.figure.Figure) -> Path:
    """Save a figure as PNG atomically, without matplotlib's version stamp (byte-identical reruns)."""
    return write_atomic(dest, lambda tmp: fig.savefig(tmp, format="png", metadata={"Software": None}))


def write_study_map(paths: Paths, study: Study, profile: Profile, layers: Layers, offline: bool = True) -> Path:
    """Write the map of a scored study: ``<paths.out>/map.html`` (interactive) and ``map.png`` (for reports).

    Both are written atomically; the scores are read and rasterised once for the two.

    Returns
    -------
    Path
        The HTML file.

    """
    inputs = read_outputs(paths)
    image = study_score_image(study, layers, inputs)
    fmap = build_map(paths, study, profile, layers, offline, inputs=inputs, image=image)
    html_path = write_text(paths.out / MAP_FILE, render_html(fmap))
    write_static_map(paths.out / PNG_FILE, static_map(study, profile, layers, inputs, image))
    return html_path
