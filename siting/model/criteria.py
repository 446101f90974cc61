"""Criteria: one column per measure, each with its unit in the name, computed for every candidate.

Pure functions over arrays and layers; no file is written here. Distances are great-circle (see
``siting.kernels.geodesy``); lines are measured to the segment, not to its vertices.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from siting._errors import DataError
from siting.config import Study
from siting.fields import F
from siting.io.reference import Reference
from siting.kernels import voltage
from siting.kernels.geodesy import (
    PointIndex,
    PointTiles,
    SegmentIndex,
    chord_matrix,
    chord_to_km,
    count_within,
    km_to_chord,
    unit_vectors,
)
from siting.kernels.grids import Grid
from siting.kernels.labels import take_labels
from siting.layers import ERA5_CELL_ELEVATION, HUMIDITY, Layers
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
            F.SUBSTATION_NAME: take_labels(_station_labels(eligible), idx),
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
    """Lapse-corrected temperatures, degree days, dew point, economiser hours, PUE, its cost, miner derate, Köppen.

    See :mod:`siting.model.cooling` for the model and its sources. Adds ``cooling_cost_kusd_per_mw_it_year``:
    the overhead energy ``(PUE − 1) × 8,760 MWh`` per MW of IT load at the proposed tariff
    (``proposed_tariff_pkr_per_kwh`` / ``pkr_per_usd``), in thousands of US$.
    """
    params = cooling.cooling_params(ref.table(cooling.REFERENCE_TABLE), study.cooling)
    out = cooling.cooling_criteria(
        lon,
        lat,
        layers.grid("t2m_monthly_c"),
        layers.grid("elevation_m"),
        layers.grid("koppen_class"),
        layers.grid(ERA5_CELL_ELEVATION),
        layers.grid(HUMIDITY),
        params,
    )
    tariff_pkr, _ = ref.figure("proposed_tariff_pkr_per_kwh")
    pkr_per_usd, _ = ref.figure("pkr_per_usd")
    pue = out["pue"].to_numpy()
    out[F.COOLING_COST_KUSD] = (
        cooling.cooling_cost_usd_per_mw_it_year(pue, cooling.tariff_usd_per_kwh(tariff_pkr, pkr_per_usd)) / 1000.0
    )
    return out


COAST_NEAR_SEA_KM = 12.0  # a DEM sea cell (1/12°, ~9 km) lies within this of a coastal stretch of the outline


def coast_distance_km(
    lon: np.ndarray,
    lat: np.ndarray,
    country: gpd.GeoDataFrame,
    dem: Grid,
    tiles: PointTiles | None = None,
    sea_box: tuple[float, float] = (np.inf, np.inf),
) -> np.ndarray:
    """Great-circle distance (km) to the coastline, a proxy built from the country outline and the DEM's sea.

    The mirror has no coastline layer and the Natural Earth outline does not say which of its edges are
    coast. The DEM has no value over the sea, so the coast is taken as the outline's segments within
    12 km of a DEM sea cell south of ``sea_box[0]`` °N and west of ``sea_box[1]`` °E (the region pack's
    ``coast_sea_max_lat`` and ``coast_sea_max_lon``: for Pakistan 25.9 °N and Sir Creek, east of which the DEM's
    gaps are the Rann of Kutch in India). A few km of a land border next to a bay may count as coast. NaN if no
    sea cell is found (a landlocked region).
    """
    if np.isnan(dem.values[0]).all():  # no DEM: no sea to find, the proxy is skipped
        return np.full(len(lon), np.nan)
    rows, cols = np.nonzero(np.isnan(dem.values[0]))
    t = dem.transform
    sea_lon, sea_lat = t.c + t.a * (cols + 0.5), t.f + t.e * (rows + 0.5)
    keep = (sea_lat < sea_box[0]) & (sea_lon <= sea_box[1])
    if not keep.any():
        return np.full(len(lon), np.nan)
    outline = country.geometry.iloc[0]
    rings = [outline.exterior] if outline.geom_type == "Polygon" else [g.exterior for g in outline.geoms]
    xy = [np.asarray(r.coords) for r in rings]
    a = np.vstack([c[:-1] for c in xy])
    b = np.vstack([c[1:] for c in xy])
    mid = (a + b) / 2.0
    near, _ = PointIndex(sea_lon[keep], sea_lat[keep]).nearest(mid[:, 0], mid[:, 1])
    coastal = near <= COAST_NEAR_SEA_KM
    if not coastal.any():
        return np.full(len(lon), np.nan)
    return SegmentIndex(a[coastal], b[coastal], max_piece_km=25.0).nearest(lon, lat, tiles=tiles)[0]


def connectivity(
    lon: np.ndarray, lat: np.ndarray, nodes: gpd.GeoDataFrame, ref: Reference, tiles: PointTiles | None = None
) -> pd.DataFrame:
    """Distances to the nearest internet exchange, cable landing and terrestrial fibre route; latency.

    ``latency_ms`` is the round trip over fibre to the region's latency anchor (the connectivity node flagged
    ``latency_anchor`` in ``connectivity_nodes.csv``, for Pakistan its main cable landing):
    ``2 × great-circle km × fibre_route_factor / (c / fibre_refractive_index)``, switching delay excluded.

    A kind of node the region pack does not list (a landlocked country has no cable landing; a new pack's
    table has a header only), no fibre route or no latency anchor leaves its columns empty (NaN, name ``""``):
    ``prepare`` reports the header-only tables, and scoring drops a criterion missing for every candidate.
    """
    n = len(lon)
    out: dict[str, np.ndarray] = {}
    names, picks = [], []  # per kind: its node names and each point's nearest node
    for kind, dist_col, name_col in (
        ("internet_exchange", F.DIST_IXP_KM, "ixp_name"),
        ("cable_landing", F.DIST_CABLE_LANDING_KM, "cable_landing_name"),
    ):
        sel = nodes[nodes["kind"] == kind]
        if sel.empty:
            out[dist_col] = np.full(n, np.nan)
            names.append(np.array([""], dtype=object))
            picks.append(np.zeros(n, dtype=np.intp))
        else:
            out[dist_col], idx = PointIndex(sel.geometry.x, sel.geometry.y).nearest(lon, lat, tiles=tiles)
            names.append(sel[F.NAME].to_numpy())
            picks.append(idx)
        out[name_col] = take_labels(names[-1], picks[-1])
    near_ixp = ~(out[F.DIST_IXP_KM] > out[F.DIST_CABLE_LANDING_KM]) & ~np.isnan(out[F.DIST_IXP_KM])
    out[F.DIST_CONNECTIVITY_KM] = np.fmin(out[F.DIST_IXP_KM], out[F.DIST_CABLE_LANDING_KM])
    out[F.CONNECTIVITY_NODE] = take_labels(
        np.concatenate(names), np.where(near_ixp, picks[0], len(names[0]) + picks[1])
    )

    routes = ref.table("fibre_routes.csv").sort_values(["route", "seq"])
    segs_a, segs_b = [], []
    for _, r in routes.groupby("route", sort=True):
        xy = r[["lon", "lat"]].to_numpy(float)
        segs_a.append(xy[:-1])
        segs_b.append(xy[1:])
    a = np.vstack(segs_a) if segs_a else np.zeros((0, 2))
    out[F.DIST_FIBRE_ROUTE_KM] = (
        SegmentIndex(a, np.vstack(segs_b), max_piece_km=25.0).nearest(lon, lat, tiles=tiles)[0]
        if len(a)
        else np.full(n, np.nan)
    )  # a few long, straight legs far from most candidates: coarse pieces keep the search balls small

    anchor = nodes[nodes["latency_anchor"].astype(bool)]
    factor, _ = ref.figure("fibre_route_factor")
    index, _ = ref.figure("fibre_refractive_index")
    out[F.LATENCY_MS] = np.full(n, np.nan)
    if len(anchor):
        at = unit_vectors([anchor.geometry.x.iloc[0]], [anchor.geometry.y.iloc[0]])
        here = unit_vectors(lon, lat) if tiles is None else tiles.xyz  # haversine_km, the points' vectors reused
        gc = chord_to_km(chord_matrix(here, at)[:, 0])
        out[F.LATENCY_MS] = 2.0 * gc * factor / (LIGHT_KM_PER_MS / index)
    return pd.DataFrame(out)


QUAKE_MIN_MAGNITUDE = 5.5
QUAKE_RADIUS_KM = 50.0


def seismic(lon: np.ndarray, lat: np.ndarray, layers: Layers, tiles: PointTiles | None = None) -> pd.DataFrame:
    """Seismic proxy criteria: distance to the nearest active fault and count of nearby M5.5+ earthquakes.

    ``dist_active_fault_km`` is the exact great-circle distance to the nearest segment of a GEM active fault
    trace; fold axes (anticlines, synclines: ``is_fold``) are left out, as they mark shortening above blind
    thrusts rather than a surface that ruptures. ``quakes_m55_within_50km`` counts USGS M5.5+ epicentres
    (1965-2016) within 50 km. Both are stated proxies for seismic exposure, not a probabilistic hazard map.
    A region without the faults or the earthquakes layer (``prepare`` notes it) leaves that column empty (NaN).
    """
    dist = np.full(len(lon), np.nan)
    if layers.has("faults"):
        faults = layers.faults[~layers.faults["is_fold"].astype(bool)]
        if faults.empty:
            raise DataError("the faults layer has no fault trace (only folds); supply the GEM active faults file.")
        dist = SegmentIndex.from_lines(faults.geometry.values)[0].nearest(lon, lat, tiles=tiles)[0]
    quakes = layers.earthquakes[layers.earthquakes["magnitude"] >= QUAKE_MIN_MAGNITUDE]
    count = np.zeros(len(lon), dtype=np.int64) if layers.has("earthquakes") else np.full(len(lon), np.nan)
    if len(quakes) and len(lon):
        tiles = PointTiles(unit_vectors(lon, lat)) if tiles is None else tiles
        targets = unit_vectors(quakes.geometry.x, quakes.geometry.y)
        count = count_within(tiles, targets, float(km_to_chord(QUAKE_RADIUS_KM)))
    return pd.DataFrame({F.DIST_FAULT_KM: dist, F.QUAKES_50KM: count})


def idle_capacity(
    lon: np.ndarray, lat: np.ndarray, study: Study, ref: Reference, tiles: PointTiles | None = None
) -> pd.DataFrame:
    """Idle paid-for capacity near each point: ``Σ MW × (1 − load factor)`` of ``idle_plants.csv`` within radius.

    ``tiles``, when given, are those of the same points: their unit vectors are reused.

    The radius is ``surplus.idle_radius_km`` or the ``idle_radius_km`` figure. Also names the nearest such plant.
    A pack whose ``idle_plants.csv`` has a header only leaves the columns empty (NaN, name ``""``): no plant
    listed is not the same as no idle plant (``prepare`` reports it; scoring drops the criterion).
    """
    plants = ref.table("idle_plants.csv")
    if plants.empty:
        none = np.full(len(lon), np.nan)
        return pd.DataFrame(
            {F.IDLE_CAPACITY_MW: none, "idle_plant_nearest": np.full(len(lon), "", dtype=object),
             "dist_idle_plant_km": none.copy()}
        )  # fmt: skip
    radius = study.surplus.idle_radius_km or ref.figure("idle_radius_km")[0]
    km = np.full((len(lon), 0), np.inf)
    if len(plants):  # haversine_km of every point to each plant, the points' unit vectors computed once
        here = unit_vectors(lon, lat) if tiles is None else tiles.xyz
        there = unit_vectors(plants["lon"].to_numpy(float), plants["lat"].to_numpy(float))
        km = chord_to_km(chord_matrix(here, there))
    idle_mw = (plants["mw"] * (1.0 - plants["load_factor"])).to_numpy(float)
    near = km <= radius
    return pd.DataFrame(
        {
            F.IDLE_CAPACITY_MW: (near * idle_mw[None, :]).sum(axis=1),
            "idle_plant_nearest": take_labels(plants["plant"].to_numpy(), km.argmin(axis=1)),
            "dist_idle_plant_km": km.min(axis=1),
        }
    )


def zone_columns(lon: np.ndarray, lat: np.ndarray, zonal) -> pd.DataFrame:
    """Give each cell its network zone and that zone's hosting capacities (every cell carries its zone's figures)."""
    from siting.model import zones as zmod

    zone = zmod.cell_zones(lon, lat, zonal.polygons)
    by_zone = zonal.zones.set_index(F.ZONE)
    codes = pd.factorize(zone)
    out = {F.ZONE: zone if (codes[0] < 0).any() else take_labels(np.asarray(codes[1], dtype=object), codes[0])}
    for col in (F.HOSTING_FIRM_MW, F.HOSTING_INT_1PCT_MW, F.HOSTING_INT_5PCT_MW, F.RUN_SHARE_100MW,
                F.HOSTING_ENERGY_GWH):  # fmt: skip
        out[col] = lookup(zone, by_zone[col], codes).astype(float)
    return pd.DataFrame(out)


def lookup(keys: ArrayLike | pd.Series, table: pd.Series, codes: tuple | None = None) -> np.ndarray:
    """``pd.Series(keys).map(table).to_numpy()``, each distinct key looked up once.

    Parameters
    ----------
    keys
        The keys (a province code or a zone a cell).
    table
        Values indexed by key (a unique index, as ``Series.map`` needs).
    codes
        ``pd.factorize(keys)``, when the caller looks the same keys up in several tables.

    Returns
    -------
    ndarray
        The same values and dtype as ``Series.map``; a missing key (NaN) takes the general path.

    """
    values, uniques = pd.factorize(keys) if codes is None else codes
    if (values < 0).any():
        return pd.Series(keys).map(table).to_numpy()
    return pd.Series(uniques).map(table).to_numpy()[values]


def compute(
    candidates: pd.DataFrame,
    layers: Layers,
    study: Study,
    surplus: pd.DataFrame,
    ref: Reference,
    zonal: object | None = None,
) -> pd.DataFrame:
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
    zonal
        The zonal model (:class:`siting.model.zones.ZoneModel`); when given, cells carry ``zone`` and their
        zone's hosting columns.

    Returns
    -------
    DataFrame
        The candidates with the criterion columns appended.

    """
    lon = candidates[F.LON].to_numpy()
    lat = candidates[F.LAT].to_numpy()
    by_code = surplus.set_index(F.ISO_3166_2)
    tiles = PointTiles(unit_vectors(lon, lat))  # once, shared by every nearest-feature search
    capacity = substation_capacity(layers.substations, ref)
    for name in ("substations", "lines", "connectivity_nodes", "faults", "earthquakes"):
        getattr(layers, name)  # read once, before the threads share them
    # independent criteria run side by side: the heavy kernels release the GIL
    with ThreadPoolExecutor(max_workers=2) as pool:
        by_class = pool.submit(distance_by_class, lon, lat, layers, tiles)
        cool_job = pool.submit(cooling_columns, lon, lat, layers, study, ref)
        conn_job = pool.submit(connectivity, lon, lat, layers.connectivity_nodes, ref, tiles)
        sub = nearest_substation(lon, lat, layers.substations, study.grid.substation_min_kv, capacity, tiles)
        quake = seismic(lon, lat, layers, tiles)
        cool = cool_job.result().drop(columns=[F.ELEVATION_M])
        sea_box = (ref.value("coast_sea_max_lat"), ref.value("coast_sea_max_lon"))
        codes = pd.factorize(candidates[F.ISO_3166_2])
        cool[F.COAST_DIST_KM] = coast_distance_km(lon, lat, layers.country, layers.grid("elevation_m"), tiles, sea_box)
        parts = [
            pd.DataFrame(
                {
                    c: lookup(candidates[F.ISO_3166_2], by_code[c], codes)
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
            quake,
            idle_capacity(lon, lat, study, ref, tiles),
        ]
        if zonal is not None:
            parts.append(zone_columns(lon, lat, zonal))
    extra = pd.concat(parts, axis=1)
    extra.index = candidates.index
    out = pd.concat([candidates, extra], axis=1)
    out.attrs["gaps"] = cool.attrs.get("cooling_gaps", {})
    return out
