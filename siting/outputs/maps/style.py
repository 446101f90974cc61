"""Colours, line styles and the palettes of the maps (one place for both renderers)."""

from __future__ import annotations

import re

import branca.colormap as cm
import numpy as np
import pandas as pd

from siting.fields import F, label
from siting.kernels import voltage

MAP_FILE = "map.html"
PNG_FILE = "map.png"
STATIC_DPI = 150
LABEL_MIN_AREA_SHARE = 0.03  # provinces smaller than this share of the region are not labelled on the PNG
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
