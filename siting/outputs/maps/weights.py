"""Weights in the browser: what ``map.html`` carries so officials can re-weight the criteria offline.

For every scored cell (the candidates that passed the profile's hard constraints) the page carries the value
of each criterion, 0..1, as computed by :func:`siting.decide.scoring.value_matrix`, quantised to
``VALUE_BITS`` bits; the Web-Mercator grid of :func:`siting.outputs.maps.raster.cell_grid` (which cell each
pixel shows); each cell's H3 id and province. ``weights.js`` (inlined) aggregates with the profile's own
formula (weighted sum, weighted product or TOPSIS, as :mod:`siting.kernels.mcda`), recolours the grid and
lists the best cell of each province. Arrays travel as zlib-compressed little-endian typed arrays in base64,
inflated in the page by the browser's own ``DecompressionStream``.

:func:`quantised_values` is what the page computes on: tests score the same quantised values in Python.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import cast

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.template import Template

from siting._errors import DataError
from siting.config import Profile
from siting.decide.scoring import value_matrix
from siting.fields import F, label
from siting.model.candidates import cell_ints
from siting.outputs.maps.raster import CellGrid, ScoreImage

VALUE_BITS = 16  # uint16 per criterion per cell: the page's scores match Python's to ~1e-5 points
JS_FILE = "weights.js"
TOP_SHARE_COLORS = ("#fff5eb", "#fd8d3c", "#7f2704")  # share of weight draws a cell is in the top 5 %


def quantised_values(values: np.ndarray, bits: int = VALUE_BITS) -> np.ndarray:
    """Values 0..1 as the page holds them: rounded to ``2**bits - 1`` steps, returned as floats 0..1."""
    steps = float(2**bits - 1)
    return np.rint(np.clip(values, 0.0, 1.0) * steps) / steps


def _pack(array: np.ndarray) -> str:
    """Little-endian bytes, zlib-compressed, base64."""
    arr = np.ascontiguousarray(array)
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return base64.b64encode(zlib.compress(arr.tobytes(), 9)).decode("ascii")


def cell_order(cells: pd.Series) -> np.ndarray:
    """Positions that sort cells by H3 id: the page's order, so that ties go to the lower id as in ``rank``."""
    return np.argsort(cells.astype(str).to_numpy(), kind="stable")


@dataclass
class WeightsPayload:
    """The JSON the page reads (``data``) and its size in characters."""

    data: dict

    def json(self) -> str:
        """Return JSON safe inside ``<script type="application/json">`` (``<``, ``>``, ``&`` as unicode escapes)."""
        text = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def payload(
    table: gpd.GeoDataFrame,
    grid: CellGrid,
    image: ScoreImage,
    profile: Profile,
    weights: dict[str, float] | None,
    provinces: pd.DataFrame,
    score_cmap: cm.LinearColormap,
    top_share: pd.Series | None = None,
) -> WeightsPayload:
    """Build what ``weights.js`` needs from the scores table (rows in the order ``grid`` was burnt in).

    Parameters
    ----------
    table
        ``scores.parquet``: ``h3_cell``, ``iso_3166_2`` and every criterion of the profile.
    grid, image
        The cell grid of the score image and the image itself (bounds).
    profile
        Criteria (names, labels, ``why``), aggregation.
    weights
        The weights ``siting score`` used (provenance.json); the profile's when None.
    provinces
        ``provinces.csv`` (``iso_3166_2``, ``province``).
    score_cmap
        Score colours: the page's palette is the score image's, one colour per whole point.
    top_share
        Share (0..1) of the sensitivity run's weight draws in which each cell is in the national top 5 %, by H3
        cell; None when ``siting sensitivity`` has not been run.

    """
    if profile.aggregation not in ("weighted_sum", "weighted_product", "topsis"):
        raise DataError(f"the page cannot aggregate with '{profile.aggregation}'")
    order = cell_order(table[F.CELL])
    values = quantised_values(value_matrix(table, profile))[order]
    steps = 2**VALUE_BITS - 1
    codes = np.rint(values * steps).astype(np.uint16 if VALUE_BITS == 16 else np.uint8)
    position = np.empty(len(order), dtype=np.uint32)
    position[order] = np.arange(len(order), dtype=np.uint32)
    pixel_cell = np.concatenate([[0], position + 1]).astype(np.uint32)[grid.index]
    ids = cell_ints(table[F.CELL].to_numpy()[order]).astype(np.uint64)
    deltas = np.diff(ids, prepend=np.uint64(0))
    iso = table[F.ISO_3166_2].astype(str).to_numpy()[order]
    names = dict(zip(provinces[F.ISO_3166_2].astype(str), provinces[F.PROVINCE].astype(str), strict=False))
    prov_codes = sorted(set(iso))
    prov_index = pd.Index(prov_codes).get_indexer(iso).astype(np.uint8)
    criteria = [
        {
            "name": name,
            "label": label(name),
            "why": crit.why,
            "scale": crit.value.describe(),
            "weight": float((weights or {}).get(name, crit.weight) or 0.0),
        }
        for name, crit in profile.criteria.items()
    ]
    data = {
        "profile": profile.name,
        "aggregation": profile.aggregation,
        "n": len(order),
        "bits": VALUE_BITS,
        "criteria": criteria,
        "values": _pack(codes.T),  # criterion by criterion
        "cells": _pack(deltas),
        "province": _pack(prov_index),
        "provinces": [{"iso": c, "name": names.get(c, c)} for c in prov_codes],
        "grid": {"width": grid.width, "height": grid.height, "bounds": image.bounds, "index": _pack(pixel_cell)},
        "palette": [list(score_cmap.rgb_bytes_tuple(code)) for code in range(101)],
    }
    if top_share is not None:
        share = top_share.reindex(table[F.CELL].astype(str).to_numpy()[order]).fillna(0.0).to_numpy(dtype=float)
        top_cmap = cm.LinearColormap(list(TOP_SHARE_COLORS), vmin=0, vmax=100)
        data["top_share"] = _pack(np.rint(np.clip(share, 0, 1) * 100).astype(np.uint8))
        data["top_share_palette"] = [list(top_cmap.rgb_bytes_tuple(code)) for code in range(101)]
    return WeightsPayload(data)


@cache
def weights_js() -> str:
    """Return the page's script (``siting/outputs/maps/weights.js``), checked to be safe inside ``<script>``."""
    js = (resources.files("siting.outputs.maps") / JS_FILE).read_text(encoding="utf-8")
    if "</script" in js.lower():
        raise DataError(f"{JS_FILE} contains '</script' and cannot be inlined")
    return js


class _Raw(folium.Element):
    """Text placed in the page as it is: not read as a Jinja template (folium's ``Element`` would)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        """Return the text unchanged."""
        return self.text


class WeightsControl(folium.MacroElement):
    """The weight sliders, re-scoring and best-cell list: data, script and the call that starts them.

    Added to the map after the layer control, so its start call runs once the map, the score image overlay
    and the layer control exist.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        sitingWeights.start({{ this._parent.get_name() }}, {{ this.overlay_name }}, {{ this.control_name }},
            JSON.parse(document.getElementById("siting-weights-data").textContent));
        {% endmacro %}
        """
    )

    def __init__(self, data: WeightsPayload, overlay: folium.raster_layers.ImageOverlay, control: folium.LayerControl):
        super().__init__()
        self._name = "WeightsControl"
        self.payload_json = data.json()
        self.overlay_name = overlay.get_name()
        self.control_name = control.get_name()

    def render(self, **kwargs) -> None:  # type: ignore[override]  # as folium's MacroElement
        """Put data and script in the page body (before the map's script), the start call in the map's script."""
        figure = cast(folium.Figure, self.get_root())
        body = (
            f'<script type="application/json" id="siting-weights-data">{self.payload_json}</script>\n'
            f"<script>{weights_js()}</script>"
        )
        figure.html.add_child(_Raw(body), name=f"{self.get_name()}_data")
        super().render(**kwargs)
