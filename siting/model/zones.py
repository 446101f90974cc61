"""Hosting capacity per network zone and month: a small transport LP over zones and interfaces.

Zones ``z`` (NTDC north, NTDC south, K-Electric; ``zones`` layer), directed interfaces ``i→j`` with limits
``L`` (``interfaces.csv``, parallel corridors summed), months ``m``::

    A[z, m] = Σ_{counted units in z} MW × availability[fuel, m]

    maximise   x − M Σ_k s_k
    subject to A[k, m] + Σ_i f[i→k] − Σ_j f[k→j] + s_k ≥ D[k] + x·[k = z]     every zone k
               0 ≤ f ≤ L,  s ≥ 0,  x ≥ 0

``s`` is load the existing system cannot serve (shed) whatever is added; ``M`` (1,000) makes the LP keep it at
its minimum, so ``x`` is new load at ``z`` that cuts no one else. The same constraints with every ``x`` fixed
are the feasibility check of the allocation (:func:`feasible`).

Demand ``D``:

* **firm** load: the month's peak × (1 + ``reserve_margin_firm_load``); the firm hosting capacity of a zone is
  the minimum over the months (reported with its month).
* **interruptible** load: a within-month load-duration curve per zone, piecewise linear through the peak at
  0 % of the hours, ``M_m`` at 50 % and the trough at 100 %, ``M_m = 2·average − (peak + trough)/2`` so that the
  curve's mean is the month's average (trough = average × ``trough_to_average``). Zones are taken at the same
  hour-quantile (coincident). Hosting ``x_z(m, q)`` is solved at quantiles ``q`` and interpolated; a block of
  ``B`` MW runs in the hours where ``x ≥ B``. Reported: the MW that fit with ≤ 1 % and ≤ 5 % of the year's
  hours curtailed (hour-weighted quantiles of ``x``), the share of hours a 100 MW block runs, and the energy
  ``Σ hours × x``.

Every input is a reference table or a study override (``surplus.interface_limits_mw``, ``zone_peak_mw``,
``zone_average_mw``, ``zone_extra_demand_mw``, ``plant_counts``); ``figures`` lists each with its basis.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import linprog

from siting._errors import ConfigError, DataError
from siting.config import Study
from siting.fields import F
from siting.io.reference import Reference
from siting.kernels.polygons import first_holding, to_web_mercator

MONTHS = [f"m{m:02d}" for m in range(1, 13)]
HOURS = np.array([calendar.monthrange(2023, m)[1] * 24 for m in range(1, 13)], dtype=float)
QUANTILES = np.array([0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
FINE = np.linspace(0.0, 1.0, 401)
SHED_PENALTY = 1000.0
BLOCK_MW = 100.0


def incidence(zones: list[str], arcs: list[tuple[str, str]]) -> np.ndarray:
    """``(zones, arcs)`` incidence of directed interfaces: +1 where the arc enters the zone, −1 where it leaves."""
    a = np.zeros((len(zones), len(arcs)))
    for j, (fr, to) in enumerate(arcs):
        a[zones.index(fr), j] -= 1.0
        a[zones.index(to), j] += 1.0
    return a


@dataclass
class Network:
    """Zones, directed arcs and their limits (MW), with the corridors behind each arc."""

    zones: list[str]
    arcs: list[tuple[str, str]]
    limits: np.ndarray
    corridors: pd.DataFrame

    def incidence(self) -> np.ndarray:
        """``(zones, arcs)``: +1 where the arc enters the zone, −1 where it leaves."""
        return incidence(self.zones, self.arcs)


@dataclass
class ZoneModel:
    """The zonal model's tables (see the module docstring).

    Attributes
    ----------
    zones
        One row a zone: counted capacity, firm and interruptible hosting (MW), run share, energy (GWh).
    monthly
        One row a zone and month: available, peak, average, trough, firm demand, hosting figures, shed, binding.
    flows
        Interface flows in the firm LP of each zone and month, with ``binding``.
    figures
        Every figure used, with unit and basis.
    network
        Zones and interfaces as solved.

    """

    zones: pd.DataFrame
    monthly: pd.DataFrame
    flows: pd.DataFrame
    figures: pd.DataFrame
    network: Network
    available: np.ndarray  # (zones, months)
    polygons: gpd.GeoDataFrame | None = None  # the zones solved over


def hosting_lp(
    net: Network, available: np.ndarray, demand: np.ndarray, target: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """Solve one LP: most new load at zone ``target``; returns ``(x, flows, shed)``."""
    x, flows, shed = hosting_lps(net, available[None, :], demand[None, :], np.array([target]))
    return float(x[0]), flows[0], shed[0]


def hosting_lps(
    net: Network, available: np.ndarray, demand: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve many hosting LPs at once: problem ``b`` has ``available[b]``, ``demand[b]`` (MW by zone), ``target[b]``.

    The problems share no variable, so they are solved as one block-diagonal LP: HiGHS runs once, not once a
    problem (about 600 problems for three zones: 12 months × the firm demand and 17 load-duration quantiles),
    and each block's optimum is its own problem's optimum.

    Returns
    -------
    tuple of ndarray
        ``x`` (problems,), ``flows`` (problems, arcs), ``shed`` (problems, zones).

    """
    inc = net.incidence()
    nz, na = inc.shape
    n = len(target)
    nv = na + nz + 1  # variables of a block: [f (na), s (nz), x]; minimise −x + M Σ s
    blocks = np.repeat(np.hstack([-inc, -np.eye(nz), np.zeros((nz, 1))])[None], n, axis=0)
    blocks[np.arange(n), np.asarray(target), -1] = 1.0
    c = np.tile(np.concatenate([np.zeros(na), np.full(nz, SHED_PENALTY), [-1.0]]), n)
    bounds = np.tile(
        np.column_stack([np.zeros(nv), np.concatenate([np.asarray(net.limits, float), np.full(nz + 1, np.inf)])]),
        (n, 1),
    )
    a_ub = sparse.block_diag(list(blocks), format="csr")
    res = linprog(c, A_ub=a_ub, b_ub=(available - demand).ravel(), bounds=bounds, method="highs")
    if res.status != 0:
        raise DataError(f"the zonal hosting LP failed: {res.message}")
    sol = res.x.reshape(n, nv)
    return sol[:, -1], sol[:, :na], sol[:, na : na + nz]


def feasible(net: Network, available: np.ndarray, demand: np.ndarray, added: np.ndarray) -> tuple[bool, np.ndarray]:
    """Whether new load ``added`` (MW by zone) can be served without more shedding than the system already has.

    Returns
    -------
    tuple
        ``(ok, flows)``: ``ok`` is true when the least shedding with ``added`` equals that without it.

    """
    nz, na = len(net.zones), len(net.arcs)
    inc = net.incidence()
    c = np.concatenate([np.zeros(na), np.ones(nz)])
    bounds = [(0.0, float(lim)) for lim in net.limits] + [(0.0, None)] * nz

    def shed(extra: np.ndarray) -> tuple[float, np.ndarray]:
        res = linprog(c, A_ub=np.hstack([-inc, -np.eye(nz)]), b_ub=available - demand - extra, bounds=bounds,
                      method="highs")  # fmt: skip
        if res.status != 0:
            raise DataError(f"the zonal feasibility LP failed: {res.message}")
        return float(res.fun), res.x[:na]

    base, _ = shed(np.zeros(nz))
    with_added, flows = shed(np.asarray(added, dtype=float))
    return with_added <= base + 1e-6, flows


def network(study: Study, ref: Reference, zone_names: list[str]) -> Network:
    """Zones and interface limits: ``interfaces.csv`` with ``surplus.interface_limits_mw`` applied by corridor."""
    table = ref.table("interfaces.csv")
    over = study.surplus.interface_limits_mw
    unknown = sorted(set(over) - set(table["corridor"]))
    if unknown:
        raise ConfigError(
            f"surplus.interface_limits_mw.{unknown[0]}: unknown corridor; use one of {', '.join(table['corridor'])}."
        )
    table["basis"] = table["source"].astype(str)
    for corridor, mw in over.items():
        table.loc[table["corridor"] == corridor, "limit_mw"] = float(mw)
        table.loc[table["corridor"] == corridor, "basis"] = "study config"
    for col in ("from_zone", "to_zone"):
        bad = sorted(set(table[col]) - set(zone_names))
        if bad:
            raise DataError(f"interfaces.csv: {col} '{bad[0]}' is not a zone; zones are {', '.join(zone_names)}.")
    arcs = table.groupby(["from_zone", "to_zone"], sort=False)["limit_mw"].sum()
    return Network(list(zone_names), list(arcs.index), arcs.to_numpy(float), table)


def _monthly(values: dict, zone_names: list[str], key: str) -> None:
    for z in values:
        if z not in zone_names:
            raise ConfigError(f"surplus.{key}.{z}: unknown zone; use one of {', '.join(zone_names)}.")


def zone_demand(study: Study, ref: Reference, zone_names: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Monthly peak and average (MW), shape ``(zones, 12)``, and the basis of each zone's figures."""
    cfg = study.surplus
    for key in ("zone_peak_mw", "zone_average_mw", "zone_extra_demand_mw"):
        _monthly(getattr(cfg, key), zone_names, key)
    table = ref.table("zone_demand.csv")
    missing = sorted(set(zone_names) - set(table["zone"]))
    if missing:
        raise DataError(f"zone_demand.csv has no rows for zone '{missing[0]}'; add its 12 months with sources.")
    peak = table.pivot(index="zone", columns="month", values="peak_mw").reindex(zone_names).to_numpy(float).copy()
    avg = table.pivot(index="zone", columns="month", values="average_mw").reindex(zone_names).to_numpy(float).copy()
    first = table.drop_duplicates("zone").set_index("zone")
    basis = {z: f"zone_demand.csv: {first.loc[z, 'basis']}; {first.loc[z, 'source']}" for z in zone_names}
    for z, v in cfg.zone_peak_mw.items():
        peak[zone_names.index(z)] = v
        basis[z] = "study config"
    for z, v in cfg.zone_average_mw.items():
        avg[zone_names.index(z)] = v
        basis[z] = "study config"
    for z, mw in cfg.zone_extra_demand_mw.items():
        peak[zone_names.index(z)] += mw
        avg[zone_names.index(z)] += mw
        basis[z] += f"; + {mw:g} MW extra demand (study config)"
    if (avg > peak + 1e-9).any():
        z = zone_names[int(np.argwhere(avg > peak + 1e-9)[0][0])]
        raise ConfigError(
            f"surplus: zone {z} has a monthly average above its peak; check zone_peak_mw/zone_average_mw."
        )
    return peak, avg, basis


def ldc(peak: np.ndarray, avg: np.ndarray, trough: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Demand at hour-quantile ``q`` (0 = the peak hour) of the piecewise-linear load-duration curve.

    Shapes: ``peak, avg, trough`` ``(...)``, ``q`` ``(Q,)`` → ``(..., Q)``. The midpoint is clipped into
    ``[trough, peak]`` (then the mean departs from the average; never the case with the reference figures).
    """
    mid = np.clip(2.0 * avg - 0.5 * (peak + trough), trough, peak)[..., None]
    p, t = peak[..., None], trough[..., None]
    first = p + (mid - p) * (q / 0.5)
    second = mid + (t - mid) * ((q - 0.5) / 0.5)
    return np.where(q <= 0.5, first, second)


def available_capacity(
    study: Study, plants: gpd.GeoDataFrame, ref: Reference, zone_names: list[str]
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """``A[z, m]`` from the counted plants, the per-zone capacity by fuel, and the roster actually counted."""
    from siting.model.surplus import FUELS, _availability

    p = plants.copy()
    counts = p["counts"].astype(bool).to_numpy().copy()
    for name, flag in study.surplus.plant_counts.items():
        hit = (p["plant"] == name).to_numpy()
        if not hit.any():
            raise ConfigError(f"surplus.plant_counts.{name}: no plant of that name in the plants layer.")
        counts[hit] = bool(flag)
    p["counts"] = counts
    bad = sorted(set(p.loc[p["counts"], F.ZONE]) - set(zone_names))
    if bad:
        raise DataError(f"plants layer: zone '{bad[0]}' is not a network zone; rerun `siting prepare`.")
    cap = (
        p[p["counts"]]
        .groupby([F.ZONE, "tracker"])[F.CAPACITY_MW]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(index=zone_names, columns=list(FUELS), fill_value=0.0)
    )
    avail, _ = _availability(study, ref)
    return cap.to_numpy() @ avail.to_numpy(), cap, p


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[np.searchsorted(cum, q, side="left")])


def solve(study: Study, zones: gpd.GeoDataFrame, plants: gpd.GeoDataFrame, ref: Reference) -> ZoneModel:
    """Run the zonal model (firm and interruptible hosting, every zone and month).

    Parameters
    ----------
    study
        The study; its ``surplus`` section overrides the reference figures.
    zones
        Zones layer (``zone`` column), or a study's own.
    plants
        Plants layer with ``zone``, ``counts``, ``tracker``, ``capacity_mw``.
    ref
        The region's reference tables.

    """
    names = zones[F.ZONE].astype(str).tolist()
    order = ref.table("zones.csv")["zone"].tolist()
    names = [z for z in order if z in names] + [z for z in names if z not in order]
    net = network(study, ref, names)
    available, cap, _ = available_capacity(study, plants, ref, names)
    peak, avg, demand_basis = zone_demand(study, ref, names)
    ratio, ratio_basis = ref.figure("trough_to_average")
    reserve, reserve_basis = ref.figure("reserve_margin_firm_load")
    trough = avg * ratio
    nz = len(names)
    firm_d = peak * (1.0 + reserve)

    # firm: one problem per (month, zone); interruptible: per (month, quantile, zone); all in one solve
    levels = ldc(peak, avg, trough, QUANTILES)  # (zones, 12, Q)
    nq = len(QUANTILES)
    months, zone_of = np.repeat(np.arange(12), nz), np.tile(np.arange(nz), 12)
    q_month, q_k, q_zone = (g.ravel() for g in np.meshgrid(np.arange(12), np.arange(nq), np.arange(nz), indexing="ij"))
    x, f, s = hosting_lps(
        net,
        np.concatenate([available[:, months].T, available[:, q_month].T]),
        np.concatenate([firm_d[:, months].T, levels[:, q_month, q_k].T]),
        np.concatenate([zone_of, q_zone]),
    )
    nf = 12 * nz
    host_firm = x[:nf].reshape(12, nz).T
    shed_firm = s[:nf].sum(axis=1).reshape(12, nz).T
    host_q = np.zeros((nz, 12, nq))
    host_q[q_zone, q_month, q_k] = x[nf:]
    flow_rows = [
        (names[zone_of[b]], months[b] + 1, f"{fr}->{to}", f[b, j], net.limits[j], f[b, j] >= net.limits[j] - 1e-6)
        for b in range(nf)
        for j, (fr, to) in enumerate(net.arcs)
    ]
    fine = np.stack([[np.interp(FINE, QUANTILES, host_q[z, m]) for m in range(12)] for z in range(nz)])  # (z,12,F)
    w = np.repeat(HOURS[:, None] / len(FINE), len(FINE), axis=1)  # hours each fine sample stands for
    int1 = np.array([_weighted_quantile(fine[z].ravel(), w.ravel(), 0.01) for z in range(nz)])
    int5 = np.array([_weighted_quantile(fine[z].ravel(), w.ravel(), 0.05) for z in range(nz)])
    run = np.array([(w * (fine[z] >= BLOCK_MW)).sum() / w.sum() for z in range(nz)])
    energy = np.array([(w * fine[z]).sum() / 1000.0 for z in range(nz)])
    month_int1 = np.quantile(fine, 0.01, axis=2, method="inverted_cdf")
    month_int5 = np.quantile(fine, 0.05, axis=2, method="inverted_cdf")
    month_run = (fine >= BLOCK_MW).mean(axis=2)
    month_energy = (fine.mean(axis=2) * HOURS) / 1000.0

    flows = pd.DataFrame(flow_rows, columns=["hosted_zone", "month", "interface", "flow_mw", "limit_mw", "binding"])
    flows["binding"] = flows["binding"].astype(bool)  # bool even with no interface (one zone: no flow row)
    binding = flows[flows["binding"]].groupby(["hosted_zone", "month"])["interface"].agg(" + ".join)
    monthly = pd.DataFrame(
        {
            F.ZONE: np.repeat(names, 12),
            "month": np.tile(np.arange(1, 13), nz),
            "available_mw": available.ravel(),
            "peak_mw": peak.ravel(),
            "average_mw": avg.ravel(),
            "trough_mw": trough.ravel(),
            "firm_demand_mw": firm_d.ravel(),
            F.HOSTING_FIRM_MW: host_firm.ravel(),
            "shed_at_firm_demand_mw": shed_firm.ravel(),
            F.HOSTING_INT_1PCT_MW: month_int1.ravel(),
            F.HOSTING_INT_5PCT_MW: month_int5.ravel(),
            F.RUN_SHARE_100MW: month_run.ravel(),
            F.HOSTING_ENERGY_GWH: month_energy.ravel(),
        }
    )
    monthly["binding_interfaces"] = [
        binding.get((z, m), "") for z, m in zip(monthly[F.ZONE], monthly["month"], strict=True)
    ]
    worst = host_firm.argmin(axis=1)
    table = pd.DataFrame(
        {
            F.ZONE: names,
            "counted_capacity_mw": cap.sum(axis=1).to_numpy(),
            **{f"capacity_{fuel}_mw": cap[fuel].to_numpy() for fuel in cap.columns},
            "peak_demand_max_mw": peak.max(axis=1),
            F.HOSTING_FIRM_MW: host_firm.min(axis=1),
            "firm_worst_month": [calendar.month_abbr[i + 1] for i in worst],
            F.HOSTING_INT_1PCT_MW: int1,
            F.HOSTING_INT_5PCT_MW: int5,
            F.RUN_SHARE_100MW: run,
            F.HOSTING_ENERGY_GWH: energy,
            "demand_basis": [demand_basis[z] for z in names],
        }
    )
    fig = [
        (f"interface.{r.corridor}", r.limit_mw, "MW", f"{r.from_zone}->{r.to_zone}; range {r.low_mw:g}-{r.high_mw:g}; "
         f"{r.chosen}; {r.basis}")
        for r in net.corridors.itertuples()
    ]  # fmt: skip
    for z in names:
        i = names.index(z)
        fig.append((f"zone_peak_mw.{z}", ";".join(f"{v:.0f}" for v in peak[i]), "MW by month", demand_basis[z]))
        fig.append((f"zone_average_mw.{z}", ";".join(f"{v:.0f}" for v in avg[i]), "MW by month", demand_basis[z]))
        for fuel in cap.columns:
            if cap.loc[z, fuel] > 0:
                src = "plants layer: GEM operating units corrected by plant_status.csv, renewables_by_province.csv"
                src += "; surplus.plant_counts (study config)" if study.surplus.plant_counts else ""
                fig.append((f"counted_capacity_mw.{z}.{fuel}", cap.loc[z, fuel], "MW", src))
    fig.append(("trough_to_average", ratio, "", ratio_basis))
    fig.append(("reserve_margin_firm_load", reserve, "", reserve_basis))
    fig.append(("load_duration_shape", "peak@0 %, 2·avg−(peak+trough)/2 @50 %, trough@100 %", "",
                "assumption: piecewise-linear within-month load-duration curve (siting.model.zones.ldc)"))  # fmt: skip
    figures = pd.DataFrame(fig, columns=["figure", "value", "unit", "basis"])
    return ZoneModel(table, monthly, flows, figures, net, available, zones[[F.ZONE, "geometry"]])


def firm_demand(model: ZoneModel) -> np.ndarray:
    """``(zones, 12)`` firm demand (peak × (1 + reserve margin)) of a solved model."""
    m = model.monthly
    return m.pivot(index=F.ZONE, columns="month", values="firm_demand_mw").reindex(model.network.zones).to_numpy()


def interruptible_demand(model: ZoneModel, curtailment: float) -> np.ndarray:
    """``(zones, 12)`` demand at hour-quantile ``curtailment`` of each month's load-duration curve."""
    m = model.monthly
    cols = [m.pivot(index=F.ZONE, columns="month", values=c).reindex(model.network.zones).to_numpy()
            for c in ("peak_mw", "average_mw", "trough_mw")]  # fmt: skip
    peak, average, trough = cols
    return ldc(peak, average, trough, np.array([curtailment]))[..., 0]


def cell_zones(lon: np.ndarray, lat: np.ndarray, zones: gpd.GeoDataFrame) -> np.ndarray:
    """Zone of each point (nearest zone for a point outside all, e.g. on a border), measured in Web Mercator.

    A point in (or on) a zone polygon takes the first such zone, tested against the prepared polygons inside
    each one's bounding box; only the few points outside every zone go to the nearest-zone join.
    """
    merc = zones[[F.ZONE, "geometry"]].to_crs(3857)
    x, y = to_web_mercator(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    out = first_holding(x, y, merc.geometry.values, shapely.intersects_xy)
    names = merc[F.ZONE].astype(str).to_numpy()
    orphans = np.flatnonzero(out < 0)
    result = np.empty(len(x), dtype=object)
    result[out >= 0] = names[out[out >= 0]]
    if orphans.size:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x[orphans], y[orphans]), crs=3857)
        joined = gpd.sjoin_nearest(pts, merc, how="left")
        joined = joined[~joined.index.duplicated(keep="first")]
        result[orphans] = joined.loc[pts.index, F.ZONE].astype(str).to_numpy()
    return result
