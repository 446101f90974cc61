"""Criteria: one column per measure, each with its unit in the name, computed for every candidate.

Pure functions over arrays and layers; no file is written here. Distances are great-circle (see
``siting.kernels.geodesy``); lines are measured to the segment, not to its vertices.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._errors import DataError
from siting.config import Study
from siting.fields import F
from siting.io.reference import Reference
from siting.kernels import voltage
from siting.kernels.geodesy import PointIndex, PointTiles, SegmentIndex, haversine_km, unit_vectors
from siting.layers import ERA5_CELL_ELEVATION, Layers
from siting.layers.substation_kind import is_connection_point
from siting.model import cooling, headroom

VOLTAGE_CLASSES_KV = voltage.TRANSMISSION_KV
LIGHT_KM_PER_MS = 299_792.458 / 1000.0
voltage_class_kv = voltage.class_kv  # the one definition: siting.kernels.voltage


def connection_points(substations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the substations that can take a new load: grid stations (no HVDC converter, plant switchyard, ...)."""
    return substations[is_connection_point(substations)]


def substation_capacity(substations: gpd.GeoDataFrame, ref: Reference) -> pd.DataFrame:
    """Return the connection headroom of each substation: :func:`siting.model.headroom.station_headroom`.

    ``headroom_mw = N-1 firm MVA × power factor × (1 − loading)``: named figures where the reference tables
    publish them (``constrained_grid_stations.csv``), class averages elsewhere (``grid_stations_n1.csv``);
    a station on the NEPRA/NTDC constrained list has none. The allocation uses the same figure.

    Returns
    -------
    DataFrame
        ``nominal_mva, substation_firm_mva, substation_loading, constrained, substation_headroom_mw,
        headroom_basis`` (and more, see :func:`~siting.model.headroom.station_headroom`) aligned with
        ``substations``.

    """
    return headroom.station_headroom(substations, ref)


def nearest_substation(
    lon: np.ndarray,
    lat: np.ndarray,
    substations: gpd.GeoDataFrame,
    min_kv: float,
    capacity: pd.DataFrame,
    tiles: PointTiles | None = None,
) -> pd.DataFrame:
    """Distance (km) to the nearest grid station at or above ``min_kv``, its voltage, name and headroom.

    Only connection points count (``kind == "grid_station"`` where the layer has a ``kind``): an HVDC
    converter or a power plant's switchyard is never the nearest substation.
    """
    keep = (substations[F.VOLTAGE_KV] >= min_kv).to_numpy() & is_connection_point(substations)
    eligible = substations[keep]
    if eligible.empty:
        raise DataError(
            f"no grid station of {min_kv:g} kV or more in the substations layer; lower grid.substation_min_kv "
            f"in the study config or supply a substation file with voltages."
        )
    km, idx = PointIndex(eligible.geometry.x, eligible.geometry.y).nearest(lon, lat, tiles=tiles)
    cap = capacity[keep]
    return pd.DataFrame(
        {
            F.DIST_SUBSTATION_KM: km,
            F.SUBSTATION_KV: eligible[F.VOLTAGE_KV].to_numpy()[idx],
            F.SUBSTATION_NAME: _station_labels(eligible)[idx],
            F.SUBSTATION_HEADROOM_MW: cap[F.SUBSTATION_HEADROOM_MW].to_numpy()[idx],
            F.SUBSTATION_CONSTRAINED: cap["constrained"].to_numpy()[idx],
        }
    )


def _station_labels(subs: gpd.GeoDataFrame) -> np.ndarray:
    """Station names; an unnamed one is ``unnamed (OSM <id>)``, so that two sites at it share its headroom."""
    names = subs[F.NAME].fillna("").astype(str).str.strip()
    if "osm_id" not in subs:
        return names.to_numpy(dtype=object)
    return names.where(names != "", "unnamed (OSM " + subs["osm_id"].astype(str) + ")").to_numpy(dtype=object)


def distance_by_class(
    lon: np.ndarray, lat: np.ndarray, layers: Layers, tiles: PointTiles | None = None
) -> pd.DataFrame:
    """Distance (km) to the nearest grid station and nearest AC line segment at or above 132, 220 and 500 kV.

    As in :func:`nearest_substation`, only connection points (grid stations) count as substations.

    A class with no feature in the region gives NaN and is reported by :func:`compute` (never a silent 0).
    The classes run in threads: the k-d tree queries and the compiled scans release the GIL.
    """
    subs, lines = connection_points(layers.substations), layers.lines
    tiles = PointTiles(unit_vectors(lon, lat)) if tiles is None else tiles

    def substation_km(kv: int) -> np.ndarray:
        s = subs[subs[F.VOLTAGE_KV] >= kv]
        return (
            PointIndex(s.geometry.x, s.geometry.y).nearest(lon, lat, tiles=tiles)[0]
            if len(s)
            else np.full(len(lon), np.nan)
        )

    def line_km(kv: int) -> np.ndarray:
        ln = lines[(lines[F.VOLTAGE_KV] >= kv) & ~lines["is_hvdc"]]
        if ln.empty:
            return np.full(len(lon), np.nan)
        return SegmentIndex.from_lines(ln.geometry.values)[0].nearest(lon, lat, tiles=tiles)[0]

    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {f"dist_substation_{kv}kv_km": pool.submit(substation_km, kv) for kv in VOLTAGE_CLASSES_KV}
        jobs |= {f"dist_line_{kv}kv_km": pool.submit(line_km, kv) for kv in VOLTAGE_CLASSES_KV}
        out = {name: job.result() for name, job in jobs.items()}
    order = [f"dist_{what}_{kv}kv_km" for kv in VOLTAGE_CLASSES_KV for what in ("substation", "line")]
    return pd.DataFrame({name: out[name] for name in order})


def connection_cost_musd(dist_km: np.ndarray, study: Study, ref: Reference) -> np.ndarray:
    """Cost (million US$) of a new line to the nearest eligible substation, at the study's connection voltage.

    ``dist × line_route_factor × line_cost_musd_per_km_<class>kv``, the class being that of
    ``grid.substation_min_kv``; the per-km figures in ``national.csv`` come from the Pakistani projects of
    ``line_costs.csv`` (each labelled there: sourced or assumption).
    """
    cls = int(voltage_class_kv(np.array([study.grid.substation_min_kv]))[0])
    per_km, _ = ref.figure(f"line_cost_musd_per_km_{cls}kv")
    route, _ = ref.figure("line_route_factor")
    return np.asarray(dist_km) * route * per_km


def cooling_columns(lon: np.ndarray, lat: np.ndarray, layers: Layers, study: Study, ref: Reference) -> pd.DataFrame:
    """Lapse-corrected temperatures, cooling degree days, PUE, its cost and the Köppen-Geiger class.

    See :mod:`siting.model.cooling` for the model and its sources. Adds ``cooling_cost_kusd_per_mw_it_year``:
    the overhead energy ``(PUE − 1) × 8,760 MWh`` per MW of IT load at the proposed tariff
    (``proposed_tariff_pkr_per_kwh`` / ``pkr_per_usd``), in thousands of US$.
    """
    params = cooling.CoolingParams(**study.cooling)
    out = cooling.cooling_criteria(
        lon,
        lat,
        layers.grid("t2m_monthly_c"),
        layers.grid("elevation_m"),
        layers.grid("koppen_class"),
        layers.grid(ERA5_CELL_ELEVATION),
        params,
    )
    tariff_pkr, _ = ref.figure("proposed_tariff_pkr_per_kwh")
    pkr_per_usd, _ = ref.figure("pkr_per_usd")
    pue = out["pue"].to_numpy()
    out[F.COOLING_COST_KUSD] = (
        cooling.cooling_cost_usd_per_mw_it_year(pue, cooling.tariff_usd_per_kwh(tariff_pkr, pkr_per_usd)) / 1000.0
    )
    return out


def connectivity(
    lon: np.ndarray, lat: np.ndarray, nodes: gpd.GeoDataFrame, ref: Reference, tiles: PointTiles | None = None
) -> pd.DataFrame:
    """Distances to the nearest internet exchange, cable landing and terrestrial fibre route; latency.

    ``latency_karachi_ms`` is the round trip to the Karachi cable landing over fibre:
    ``2 × great-circle km × fibre_route_factor / (c / fibre_refractive_index)``, switching delay excluded.
    """
    iso3 = ref.iso3
    out: dict[str, np.ndarray] = {}
    for kind, dist_col, name_col in (
        ("internet_exchange", F.DIST_IXP_KM, "ixp_name"),
        ("cable_landing", F.DIST_CABLE_LANDING_KM, "cable_landing_name"),
    ):
        sel = nodes[nodes["kind"] == kind]
        if sel.empty:
            raise DataError(
                f"no {kind.replace('_', ' ')} in the connectivity nodes of {iso3}; add one to "
                f"siting/reference/{iso3}/connectivity_nodes.csv."
            )
        km, idx = PointIndex(sel.geometry.x, sel.geometry.y).nearest(lon, lat, tiles=tiles)
        out[dist_col], out[name_col] = km, sel[F.NAME].to_numpy()[idx]
    near_ixp = out[F.DIST_IXP_KM] <= out[F.DIST_CABLE_LANDING_KM]
    out[F.DIST_CONNECTIVITY_KM] = np.minimum(out[F.DIST_IXP_KM], out[F.DIST_CABLE_LANDING_KM])
    out[F.CONNECTIVITY_NODE] = np.where(near_ixp, out["ixp_name"], out["cable_landing_name"])

    routes = ref.table("fibre_routes.csv").sort_values(["route", "seq"])
    segs_a, segs_b = [], []
    for _, r in routes.groupby("route", sort=True):
        xy = r[["lon", "lat"]].to_numpy(float)
        segs_a.append(xy[:-1])
        segs_b.append(xy[1:])
    out[F.DIST_FIBRE_ROUTE_KM] = SegmentIndex(np.vstack(segs_a), np.vstack(segs_b), max_piece_km=25.0).nearest(
        lon, lat, tiles=tiles
    )[0]  # a few long, straight legs far from most candidates: coarse pieces keep the search balls small

    karachi = nodes[(nodes["kind"] == "cable_landing") & nodes[F.NAME].str.contains("Karachi")]
    factor, _ = ref.figure("fibre_route_factor")
    index, _ = ref.figure("fibre_refractive_index")
    if len(karachi):
        gc = haversine_km(lon, lat, karachi.geometry.x.iloc[0], karachi.geometry.y.iloc[0])
        out[F.LATENCY_MS] = 2.0 * gc * factor / (LIGHT_KM_PER_MS / index)
    return pd.DataFrame(out)


def compute(
    candidates: gpd.GeoDataFrame, layers: Layers, study: Study, surplus: pd.DataFrame, ref: Reference
) -> gpd.GeoDataFrame:
    """Add every criterion column to the candidates.

    Parameters
    ----------
    candidates
        Output of :func:`siting.model.candidates.build` (``lon, lat, iso_3166_2`` at least).
    layers
        The region's standard layers.
    study
        The study (grid thresholds, figures).
    surplus
        Province table of :func:`siting.model.surplus.provincial_surplus` (``SurplusModel.provinces``).
    ref
        The region's reference tables and figures.

    Returns
    -------
    GeoDataFrame
        The candidates with the criterion columns appended.

    """
    lon = candidates[F.LON].to_numpy()
    lat = candidates[F.LAT].to_numpy()
    by_code = surplus.set_index(F.ISO_3166_2)
    tiles = PointTiles(unit_vectors(lon, lat))  # once, shared by every nearest-feature search
    capacity = substation_capacity(layers.substations, ref)
    for name in ("substations", "lines", "connectivity_nodes"):
        getattr(layers, name)  # read once, before the threads share them
    # independent criteria run side by side: the heavy kernels release the GIL
    with ThreadPoolExecutor(max_workers=2) as pool:
        by_class = pool.submit(distance_by_class, lon, lat, layers, tiles)
        cool_job = pool.submit(cooling_columns, lon, lat, layers, study, ref)
        conn_job = pool.submit(connectivity, lon, lat, layers.connectivity_nodes, ref, tiles)
        sub = nearest_substation(lon, lat, layers.substations, study.grid.substation_min_kv, capacity, tiles)
        cool = cool_job.result().drop(columns=[F.ELEVATION_M])
        parts = [
            pd.DataFrame(
                {
                    c: candidates[F.ISO_3166_2].map(by_code[c]).to_numpy()
                    for c in (F.SURPLUS_MW, F.FIRM_SURPLUS_MW, F.SURPLUS_ENERGY_GWH)
                }
            ),
            sub,
            pd.DataFrame(
                {F.CONNECTION_COST_MUSD: connection_cost_musd(sub[F.DIST_SUBSTATION_KM].to_numpy(), study, ref)}
            ),
            by_class.result(),
            cool,
            conn_job.result(),
        ]
    extra = pd.concat(parts, axis=1)
    extra.index = candidates.index
    out = pd.concat([candidates, extra], axis=1)
    out.attrs["gaps"] = cool.attrs.get("cooling_gaps", {})
    return out
