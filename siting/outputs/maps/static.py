"""The static PNG map for reports (matplotlib), drawn from the same inputs as the HTML map."""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import matplotlib
import matplotlib.cm
import matplotlib.figure
import numpy as np

from siting.config import Profile, Study
from siting.fields import F, label
from siting.io.files import write_atomic
from siting.layers import Layers
from siting.outputs.maps.data import MapInputs, drawn_lines
from siting.outputs.maps.interactive import major_cities, province_features
from siting.outputs.maps.raster import ScoreImage, score_rgba
from siting.outputs.maps.style import (
    CITY_MIN_POPULATION,
    LABEL_MIN_AREA_SHARE,
    LAND_COLOUR,
    OUTSIDE_COLOUR,
    SCORE_COLORS,
    STATIC_DPI,
    WATER_COLOUR,
    score_colormap,
)
from siting.outputs.maps.text import candidates_phrase, fmt_number

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

    lines = drawn_lines(layers.lines, study.grid.line_min_kv)
    lines.to_crs(3857).plot(ax=ax, color="#444", linewidth=0.5, alpha=0.7, zorder=4)

    provinces = province_features(layers.provinces, inputs.provinces).to_crs(3857)
    provinces.boundary.plot(ax=ax, color="#111", linewidth=1.0, zorder=5, gid="provinces")
    areas_km2 = provinces.to_crs(6933).area / 1e6
    too_small = areas_km2 < LABEL_MIN_AREA_SHARE * areas_km2.sum()  # named in the table, not on the map
    for row, small in zip(provinces.itertuples(index=False), too_small, strict=True):
        if small:
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
    attributions = "; ".join(dict.fromkeys(s.attribution for s in inputs.attributed().values()))
    fig.text(0.02, 0.012, textwrap.fill("Sources: " + attributions, 190), fontsize=6.5, color="#444")
    return fig


def write_static_map(dest: Path, fig: matplotlib.figure.Figure) -> Path:
    """Save a figure as PNG atomically, without matplotlib's version stamp (byte-identical reruns)."""
    return write_atomic(dest, lambda tmp: fig.savefig(tmp, format="png", metadata={"Software": None}))
