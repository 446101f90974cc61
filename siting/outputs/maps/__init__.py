"""The maps of a scored study: ``map.html`` (interactive, offline) and ``map.png`` (for reports).

One module a concern, both renderers reading the same inputs and styles:

- :mod:`~siting.outputs.maps.style`: colours, palettes, line styles by voltage class;
- :mod:`~siting.outputs.maps.text`: escaping, numbers, tooltips, popups, legend, title, sources box;
- :mod:`~siting.outputs.maps.raster`: the score surface as one Web-Mercator image (so the page stays small
  and fast at any H3 resolution);
- :mod:`~siting.outputs.maps.data`: what a map reads from ``siting score``'s outputs;
- :mod:`~siting.outputs.maps.interactive`: the folium map (Leaflet inlined, no network needed);
- :mod:`~siting.outputs.maps.static`: the matplotlib PNG.

Every string that comes from data is HTML-escaped before it reaches a popup or tooltip. Only
:func:`~siting.outputs.maps.data.read_outputs` and :func:`write_study_map` touch disk.
"""

from __future__ import annotations

from pathlib import Path

from siting.config import Profile, Study
from siting.fields import F
from siting.io.files import write_text
from siting.io.paths import Paths
from siting.layers import Layers
from siting.outputs.maps.data import MapInputs, read_outputs
from siting.outputs.maps.interactive import build_map, major_cities, render_html, substation_features
from siting.outputs.maps.raster import (
    cell_grid,
    grid_score_image,
    pixel_size_m,
    score_image,
    study_pixel_m,
    study_score_image,
)
from siting.outputs.maps.static import static_map, write_static_map
from siting.outputs.maps.style import (
    CITY_MIN_POPULATION,
    MAP_FILE,
    MAX_IMAGE_PX,
    PNG_FILE,
    score_colormap,
    surplus_colormap,
    voltage_style,
)
from siting.outputs.maps.text import esc, fmt_number, fmt_points
from siting.outputs.maps.weights import payload as weights_payload


def write_study_map(
    paths: Paths, study: Study, profile: Profile, layers: Layers, offline: bool = True, weights: bool = True
) -> Path:
    """Write the map of a scored study: ``<paths.out>/map.html`` (interactive) and ``map.png`` (for reports).

    Both are written atomically; the scores are read and rasterised once for the two. ``weights`` (default):
    the page carries every cell's criterion values and weight sliders (:mod:`siting.outputs.maps.weights`);
    a map of the planner's own sites never does.

    Returns
    -------
    Path
        The HTML file.

    """
    columns = [F.SCORE, F.CELL, F.ISO_3166_2, *profile.criteria] if weights else None
    inputs = read_outputs(paths, columns)  # every cell read once, for the image and the weights
    data = None
    if inputs.user_sites is None:
        grid = cell_grid(inputs.cells, study_pixel_m(study, layers))
        image = grid_score_image(inputs.cells, grid, score_colormap())
        if weights:
            data = weights_payload(
                inputs.cells, grid, image, profile, inputs.weights, inputs.provinces, score_colormap(),
                inputs.top_share,
            )  # fmt: skip
    else:
        image = None
    fmap = build_map(paths, study, profile, layers, offline, inputs=inputs, image=image, weights=data)
    html_path = write_text(paths.out / MAP_FILE, render_html(fmap))
    write_static_map(paths.out / PNG_FILE, static_map(study, profile, layers, inputs, image))
    return html_path


__all__ = [
    "CITY_MIN_POPULATION",
    "MAP_FILE",
    "MAX_IMAGE_PX",
    "PNG_FILE",
    "MapInputs",
    "build_map",
    "esc",
    "fmt_number",
    "fmt_points",
    "major_cities",
    "pixel_size_m",
    "read_outputs",
    "render_html",
    "score_colormap",
    "score_image",
    "static_map",
    "study_score_image",
    "substation_features",
    "surplus_colormap",
    "voltage_style",
    "write_static_map",
    "write_study_map",
]
