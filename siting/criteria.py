"""Criteria: one column per measure, each with its unit in the name, computed for every candidate.

Pure functions over arrays and layers; no file is written here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._errors import DataError
from siting.config import Study
from siting.fields import F
from siting.geodesy import PointIndex, SegmentIndex
from siting.layers import Layers, climate


def nearest_substation(lon: np.ndarray, lat: np.ndarray, substations: gpd.GeoDataFrame, min_kv: float) -> pd.DataFrame:
    """Distance (km, great circle) to the nearest substation at or above ``min_kv``, its voltage and name."""
    eligible = substations[substations[F.VOLTAGE_KV] >= min_kv]
    if eligible.empty:
        raise DataError(
            f"no substation of {min_kv:g} kV or more in the substations layer; lower grid.substation_min_kv "
            f"in the study config or supply a substation file with voltages."
        )
    km, idx = PointIndex(eligible.geometry.x, eligible.geometry.y).nearest(lon, lat)
    return pd.DataFrame(
        {
            F.DIST_SUBSTATION_KM: km,
            F.SUBSTATION_KV: eligible[F.VOLTAGE_KV].to_numpy()[idx],
            F.SUBSTATION_NAME: eligible[F.NAME].to_numpy()[idx],
        }
    )


def nearest_line_km(lon: np.ndarray, lat: np.ndarray, lines: gpd.GeoDataFrame, min_kv: float) -> np.ndarray:
    """Distance (km) to the nearest AC line segment at or above ``min_kv`` (HVDC cannot be tapped)."""
    eligible = lines[(lines[F.VOLTAGE_KV] >= min_kv) & ~lines["is_hvdc"]]
    if eligible.empty:
        raise DataError(
            f"no AC transmission line of {min_kv:g} kV or more in the lines layer; lower grid.line_min_kv "
            f"in the study config or supply a line file."
        )
    index, _ = SegmentIndex.from_lines(eligible.geometry.values)
    km, _ = index.nearest(lon, lat)
    return km


def temperature(lon: np.ndarray, lat: np.ndarray, t2m_path) -> pd.DataFrame:
    """Hottest-month and annual mean 2 m temperature (°C) from the monthly climatology grid."""
    monthly = climate.sample(t2m_path, lon, lat)
    bad = np.isnan(monthly).any(axis=1)
    if bad.any():
        raise DataError(
            f"{int(bad.sum())} candidates fall on climate cells with no data in {t2m_path}; check that the "
            f"climate grid covers the whole study region."
        )
    return pd.DataFrame({F.T2M_HOTTEST_C: monthly.max(axis=1), F.T2M_ANNUAL_C: monthly.mean(axis=1)})


def nearest_node(lon: np.ndarray, lat: np.ndarray, nodes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Distance (km) to the nearest internet exchange or cable landing, and its name."""
    km, idx = PointIndex(nodes.geometry.x, nodes.geometry.y).nearest(lon, lat)
    return pd.DataFrame({F.DIST_CONNECTIVITY_KM: km, F.CONNECTIVITY_NODE: nodes[F.NAME].to_numpy()[idx]})


def compute(candidates: gpd.GeoDataFrame, layers: Layers, study: Study, surplus: pd.DataFrame) -> gpd.GeoDataFrame:
    """Add every criterion column to the candidates.

    Parameters
    ----------
    candidates
        Output of :func:`siting.candidates.build` (``lon, lat, iso_3166_2`` at least).
    layers
        The region's standard layers.
    study
        The study (grid thresholds).
    surplus
        Output of :func:`siting.surplus.provincial_surplus`.

    Returns
    -------
    GeoDataFrame
        The candidates with the criterion columns appended.

    """
    lon = candidates[F.LON].to_numpy()
    lat = candidates[F.LAT].to_numpy()
    by_code = surplus.set_index(F.ISO_3166_2)[F.SURPLUS_MW]
    parts = [
        pd.DataFrame({F.SURPLUS_MW: candidates[F.ISO_3166_2].map(by_code).to_numpy()}),
        nearest_substation(lon, lat, layers.substations, study.grid.substation_min_kv),
        pd.DataFrame({F.DIST_LINE_KM: nearest_line_km(lon, lat, layers.lines, study.grid.line_min_kv)}),
        temperature(lon, lat, layers.raster("t2m_monthly_c")),
        nearest_node(lon, lat, layers.connectivity_nodes),
    ]
    extra = pd.concat(parts, axis=1)
    extra.index = candidates.index
    return pd.concat([candidates, extra], axis=1)
