"""Substations with parsed or inferred voltage, and transmission lines by voltage class (OpenStreetMap)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.fields import F
from siting.io.validate import check_schema, read_vector
from siting.kernels import voltage
from siting.kernels.geodesy import PointIndex, haversine_km
from siting.layers import substation_kind, voltage_model

SUBSTATION_SCHEMA = {"osm_id": "s", F.NAME: "s", "operator": "s", F.VOLTAGE_KV: "f", F.VOLTAGE_SOURCE: "s"}
CONNECTION_SCHEMA = {
    **SUBSTATION_SCHEMA,
    F.VOLTAGE_BASIS: "s",
    F.VOLTAGE_PREDICTED_KV: "f",
    F.VOLTAGE_PROBABILITY: "f",
    F.KIND: "s",
    F.KIND_BASIS: "s",
}
LINE_SCHEMA = {"osm_id": "s", F.NAME: "s", F.VOLTAGE_KV: "f", F.VOLTAGE_CLASS: "s", "is_hvdc": "b", F.LENGTH_KM: "f"}

_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(k?v)?", re.IGNORECASE)


def parse_voltage_kv(value: object) -> float:
    """Highest voltage in kV from an OSM-style voltage string.

    OSM tags voltages in volts, several separated by ``;`` (``"500000;220000"`` → 500). Hand-made files
    also write ``"132kV"``, ``"132 KV"`` or ``"220/132"``: numbers followed by ``kV`` are read as kV,
    bare numbers of 1000 or more as volts, smaller bare numbers as kV. Zero, blank or unreadable → NaN.

    Parameters
    ----------
    value
        The raw tag value.

    Returns
    -------
    float
        Voltage in kV, or NaN.

    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    best = np.nan
    for num, unit in _NUMBER.findall(str(value)):
        v = float(num)
        if unit.lower() == "v" or (not unit and v >= 1000):
            v /= 1000.0
        if v > 0 and not v <= best:
            best = v
    return best


def voltage_class(kv: pd.Series, is_hvdc: pd.Series) -> pd.Series:
    """Label lines ``hvdc``, ``500kv``, ``220kv``, ``132kv``, ``66kv`` or ``other`` (:mod:`siting.kernels.voltage`)."""
    return pd.Series(voltage.class_key(kv.to_numpy(dtype=float), is_hvdc.to_numpy(dtype=bool)), index=kv.index)


def lines(paths: list[Path]) -> gpd.GeoDataFrame:
    """Read and stack the transmission line files: one row a line with ``voltage_kv`` and its class."""
    parts = []
    for path in paths:
        src = read_vector(path, "transmission lines")
        raw = pd.Series(np.nan, index=src.index, dtype=object)
        for col in ("voltage_raw", "voltage"):  # the raw tag first, the build's parsed value as fallback
            if col in src:
                raw = raw.where(raw.notna(), src[col])
        kv = raw.map(parse_voltage_kv).astype(float)
        hvdc = src["is_hvdc"].fillna(False).astype(bool) if "is_hvdc" in src else pd.Series(False, index=src.index)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "osm_id": src["osm_id"].astype(str) if "osm_id" in src else src.index.astype(str),
                    F.NAME: src.get("name", pd.Series("", index=src.index)).fillna("").astype(str),
                    F.VOLTAGE_KV: kv,
                    "is_hvdc": hvdc,
                },
                geometry=src.geometry.values,
                crs=4326,
            )
        )
    out = pd.concat(parts, ignore_index=True)
    # a way listed in two class files is one line: keep its highest-voltage row
    out = out.sort_values([F.VOLTAGE_KV, "osm_id"], ascending=[False, True], kind="stable")
    out = out.drop_duplicates("osm_id", keep="first").sort_index()
    out = out[out.geometry.notna() & ~out.geometry.is_empty & out[F.VOLTAGE_KV].notna()].reset_index(drop=True)
    out[F.VOLTAGE_CLASS] = voltage_class(out[F.VOLTAGE_KV], out["is_hvdc"])
    out[F.LENGTH_KM] = line_length_km(out.geometry.values)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=4326)
    check_schema(out, LINE_SCHEMA, "lines", ("LineString", "MultiLineString"))
    return out


def line_length_km(geoms: np.ndarray) -> np.ndarray:
    """Great-circle length in km of each (multi)linestring."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    coords, ring = shapely.get_coordinates(parts, return_index=True)
    same = ring[1:] == ring[:-1]
    seg_km = haversine_km(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    return np.bincount(part_of[ring[:-1][same]], weights=seg_km[same], minlength=len(geoms))


def substations(path: Path, line_layer: gpd.GeoDataFrame, infer_within_km: float) -> gpd.GeoDataFrame:
    """Substations with ``voltage_kv`` parsed from the tag or inferred from lines ending nearby.

    An untagged substation takes the highest voltage among the transmission lines that have an end point
    within ``infer_within_km`` of it (``voltage_source = "inferred"``); with no line end that close its
    voltage stays unknown (NaN, ``voltage_source = "unknown"``).

    Parameters
    ----------
    path
        OSM substations file (points; polygons are reduced to their centroids).
    line_layer
        Output of :func:`lines`.
    infer_within_km
        Search radius for line end points.

    """
    src = read_vector(path, "substations")
    geom = src.geometry
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    tagged = (
        src["voltage"].map(parse_voltage_kv).astype(float) if "voltage" in src else pd.Series(np.nan, index=src.index)
    )
    out = gpd.GeoDataFrame(
        {
            "osm_id": src["osm_id"].astype(str) if "osm_id" in src else src.index.astype(str),
            F.NAME: src.get("name", pd.Series("", index=src.index)).fillna("").astype(str),
            "operator": src.get("operator", pd.Series("", index=src.index)).fillna("").astype(str),
            F.VOLTAGE_KV: tagged,
            F.VOLTAGE_SOURCE: np.where(tagged.notna(), "tagged", "unknown"),
        },
        geometry=geom.values,
        crs=4326,
    )
    ends = _line_ends(line_layer)
    missing = np.flatnonzero(out[F.VOLTAGE_KV].isna().to_numpy())
    if len(ends) and len(missing):
        index = PointIndex(ends["lon"], ends["lat"])
        pts = out.geometry.iloc[missing]
        hits = index.within(pts.x.to_numpy(), pts.y.to_numpy(), infer_within_km)
        kv_ends = ends["kv"].to_numpy()
        inferred = np.array([kv_ends[h].max() if len(h) else np.nan for h in hits])
        found = ~np.isnan(inferred)
        col_kv = out.columns.get_loc(F.VOLTAGE_KV)
        col_src = out.columns.get_loc(F.VOLTAGE_SOURCE)
        out.iloc[missing[found], col_kv] = inferred[found]
        out.iloc[missing[found], col_src] = "inferred"
    out = out.sort_values("osm_id", kind="stable").reset_index(drop=True)
    check_schema(out, SUBSTATION_SCHEMA, "substations", ("Point",))
    return out


def _line_ends(line_layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """First and last vertex of every line part, with the line's voltage."""
    parts, part_of = shapely.get_parts(line_layer.geometry.values, return_index=True)
    starts = shapely.get_coordinates(shapely.get_point(parts, 0))
    stops = shapely.get_coordinates(shapely.get_point(parts, -1))
    kv = line_layer[F.VOLTAGE_KV].to_numpy()[part_of]
    xy = np.vstack([starts, stops])
    return pd.DataFrame({"lon": xy[:, 0], "lat": xy[:, 1], "kv": np.concatenate([kv, kv])})


def substations_layer(
    path: Path,
    line_layer: gpd.GeoDataFrame,
    infer_within_km: float,
    plant_units: pd.DataFrame,
    kind_rules: pd.DataFrame,
    kind_overrides: pd.DataFrame,
) -> tuple[gpd.GeoDataFrame, voltage_model.VoltageModel]:
    """Build the substations layer of ``prepare``: voltage by tag, line end or classifier, and each station's kind.

    :func:`substations` (tag, line ends), then :func:`siting.layers.voltage_model.fill` (the classifier for
    the rest), then :func:`siting.layers.substation_kind.classify` (grid station, HVDC converter, plant
    switchyard, traction, unknown) on the final voltages.

    Parameters
    ----------
    path
        OSM substations file.
    line_layer
        Output of :func:`lines`.
    infer_within_km
        Search radius for line end points.
    plant_units
        GEM units (``plant, capacity_mw, status, lat, lon``), see :func:`siting.layers.plants.read_gem`.
    kind_rules, kind_overrides
        ``substation_kind_rules.csv`` and ``substation_kinds.csv`` of the region.

    Returns
    -------
    tuple
        The layer and the classifier's cross-validated record.

    """
    subs = substations(path, line_layer, infer_within_km)
    plants = substation_kind.plant_groups(plant_units)
    subs, model = voltage_model.fill(subs, line_layer, plants)
    hvdc_ends = _line_ends(line_layer[line_layer["is_hvdc"].astype(bool)])
    kinds = substation_kind.classify(subs, hvdc_ends, plants, kind_rules, kind_overrides)
    subs[F.KIND] = kinds["kind"].to_numpy()
    subs[F.KIND_BASIS] = kinds["kind_basis"].to_numpy()
    subs = gpd.GeoDataFrame(subs, geometry="geometry", crs=4326)
    check_schema(subs, CONNECTION_SCHEMA, "substations", ("Point",))
    return subs, model


INFERRED_NAME = "inferred from line ends"
"""The name (and source) of a substation stood in by line ends when the region has no substation layer."""


def inferred_substations(line_layer: gpd.GeoDataFrame, min_kv: float, cluster_km: float = 2.0) -> gpd.GeoDataFrame:
    """Stand-in substations where a region has none: the ends of lines at or above ``min_kv``, clustered.

    Line ends within ``cluster_km`` of one another (single linkage) are one substation at their mean position,
    with the highest voltage of the lines ending there; each is flagged by ``source`` and ``name``
    (:data:`INFERRED_NAME`) and a negative ``osm_id``. The frame has the columns of an OSM substations file.
    """
    from sklearn.cluster import DBSCAN

    ends = _line_ends(line_layer[line_layer[F.VOLTAGE_KV] >= min_kv])
    if ends.empty:
        return gpd.GeoDataFrame({"osm_id": []}, geometry=gpd.GeoSeries([], crs=4326))
    labels = DBSCAN(eps=cluster_km / 6371.0088, min_samples=1, metric="haversine", algorithm="ball_tree").fit_predict(
        np.radians(ends[["lat", "lon"]].to_numpy())
    )
    g = ends.assign(cluster=labels).groupby("cluster").agg(lon=("lon", "mean"), lat=("lat", "mean"), kv=("kv", "max"))
    return gpd.GeoDataFrame(
        {
            "source": INFERRED_NAME,
            "osm_id": -np.arange(1, len(g) + 1),
            "osm_type": "inferred",
            "kind": "substation",
            "name": INFERRED_NAME,
            "voltage": (g["kv"] * 1000).round().astype(int).astype(str).to_numpy(),
        },
        geometry=gpd.points_from_xy(g["lon"], g["lat"]),
        crs=4326,
    )
