"""The interactive HTML map (folium, Leaflet inlined for offline use)."""

from __future__ import annotations

from typing import cast

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.template import Template

from siting.config import Profile, Study
from siting.fields import F, label
from siting.io.paths import Paths
from siting.io.validate import require_columns
from siting.layers import Layers
from siting.layers.substation_kind import is_connection_point
from siting.outputs import assets as _assets
from siting.outputs.maps.data import MapInputs, _figure_sources, drawn_lines, read_outputs
from siting.outputs.maps.raster import ScoreImage, study_score_image
from siting.outputs.maps.style import (
    _ELEMENT_ID,
    BASE_PANE,
    CITY_MIN_POPULATION,
    KIND_LABELS,
    LAND_COLOUR,
    OUTSIDE_COLOUR,
    WATER_COLOUR,
    score_colormap,
    surplus_colormap,
    voltage_style,
)
from siting.outputs.maps.text import (
    _kv,
    _site_icon,
    esc,
    fmt_number,
    legend_html,
    site_popup_html,
    site_tooltip,
    sources_html,
    title_html,
)
from siting.outputs.maps.weights import WeightsControl, WeightsPayload

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
    sel = drawn_lines(lines, min_kv)
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
    weights: WeightsPayload | None = None,
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
    weights
        What :func:`siting.outputs.maps.weights.payload` returns: the page then carries every cell's criterion
        values and lets its reader move the weights (sliders, re-scoring, best cell per province).

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
    overlay = None
    if image is not None:
        overlay = folium.raster_layers.ImageOverlay(
            image=image.data_url,
            bounds=image.bounds,
            name="Suitability score (0-100)",
            opacity=0.8,
            interactive=False,
            class_name="siting-score-surface",
        )
        overlay.add_to(fmap)

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
    if len(nodes):  # a pack may list none (reported in the degraded notes); an empty layer has no tooltip field
        folium.GeoJson(
            _geo_dict(node_features(nodes), decimals=5),
            name="Internet exchanges and cable landings",
            marker=folium.CircleMarker(radius=6, fill=True, color="#000", weight=2, fill_color="#fff", fill_opacity=1),
            tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
        ).add_to(fmap)

    if inputs.user_sites is not None:
        _user_sites_layer(inputs.user_sites, profile, inputs.weights, score_cmap, len(inputs.cells)).add_to(fmap)
    sites = folium.FeatureGroup(name=f"Top {study.ranking.top_n} sites per province")
    robust = inputs.robustness
    for _, site in inputs.top.iterrows():
        row = robust.loc[str(site[F.CELL])] if robust is not None and str(site[F.CELL]) in robust.index else None
        p_top = float(row["p_top_n"]) if row is not None else float("nan")
        tip = site_tooltip(site) + (
            f" · in top {study.ranking.top_n} in {100 * p_top:.0f} % of draws" if row is not None else ""
        )
        folium.Marker(
            location=[float(site[F.LAT]), float(site[F.LON])],
            icon=_site_icon(site, score_cmap, p_top),
            tooltip=folium.Tooltip(tip),
            popup=_Popup(
                site_popup_html(site, profile, inputs.weights, row, study.ranking.top_n, robust is not None),
                max_width=460,
            ),
            z_index_offset=1000 - int(site[F.RANK_IN_PROVINCE]),  # the best of overlapping markers on top
        ).add_to(sites)
    sites.add_to(fmap)

    control = folium.LayerControl(collapsed=False)
    control.add_to(fmap)
    if weights is not None and overlay is not None:
        WeightsControl(weights, overlay, control).add_to(fmap)
    root = cast(folium.Figure, fmap.get_root())
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
    root.html.add_child(
        folium.Element(sources_html(inputs.attributed(), _figure_sources(inputs.surplus, nodes), inputs.degraded))
    )
    return fmap


def _user_sites_layer(
    sites: gpd.GeoDataFrame,
    profile: Profile,
    weights: dict[str, float] | None,
    cmap: cm.LinearColormap,
    total: int | None = None,
) -> folium.FeatureGroup:
    """Every site the planner scored (``--candidates``), coloured by score, each with its score breakdown.

    ``total``: how many were scored, when ``sites`` holds only the best of them (``data.MAX_USER_SITES``).
    """
    shown = "" if total is None or total <= len(sites) else f"; the best {len(sites):,} of {total:,}"
    group = folium.FeatureGroup(name=f"Your candidate sites (colour: score 0-100{shown})")
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
