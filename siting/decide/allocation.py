"""Where the 2,000 MW go: blocks of capacity to sites, maximising total score under grid and surplus caps.

A mixed-integer programme (``scipy.optimize.milp``, HiGHS):

    maximise   Σ_i (score_i + M) · x_i                 x_i ∈ {0, …, max_blocks_per_site} blocks of site_mw
    subject to Σ_i site_mw · x_i               ≤ total_mw
               Σ_{i in province p} site_mw · x_i ≤ max(firm surplus_p, 0)      for every province
               Σ_{i at grid station s} site_mw · x_i ≤ headroom_s                for every grid station

With the zonal model (``zonal``, see :class:`ZonalCaps`) the provincial cap is replaced by the network: for
every month ``m`` and zone ``k``, with flow variables ``f[m]`` on the interfaces (0 ≤ f ≤ L) and shed ``s[m]``::

    A[k, m] + Σ_i f[i→k, m] − Σ_j f[k→j, m] + s[k, m] ≥ D[k, m] + Σ_{i in zone k} site_mw · x_i
    Σ_k s[k, m] ≤ S*[m]          (no more shedding than the system has without the new load)

``D`` is the profile's own measure: the peak × (1 + reserve margin) for ``load: firm``, the demand exceeded in
``curtailment_share`` of the month's hours for ``load: interruptible``. Provinces are then reported, not capped.

``M`` (larger than any reshuffle of scores can gain) makes placing the whole total the first goal and the
score the second, so when the caps cannot absorb the total the shortfall is reported rather than the problem
being infeasible. A site connects at the grid station nearest its best cell. Firm surplus is
``firm_surplus_mw`` where the surplus model provides it, otherwise ``surplus_mw``. Headroom is the scores'
``substation_headroom_mw`` (:mod:`siting.model.headroom`, the figure the criteria use), unless the profile
overrides a voltage class with ``allocation.headroom_mw_by_kv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from siting._errors import DataError
from siting.config import AllocationRules
from siting.fields import F
from siting.kernels import voltage
from siting.model.zones import incidence

FIRM = "firm_surplus_mw"
HEADROOM = "substation_headroom_mw"


@dataclass
class ZonalCaps:
    """The zonal network and the demand the profile's load is measured against, ``(zones, 12)`` arrays."""

    zones: list[str]
    arcs: list[tuple[str, str]]
    limits: np.ndarray
    available: np.ndarray
    demand: np.ndarray
    measure: str  # what ``demand`` is, for the report

    def incidence(self) -> np.ndarray:
        """``(zones, arcs)``: +1 where the arc enters the zone, −1 where it leaves."""
        return incidence(self.zones, self.arcs)


FLOW_COST = 1e-6  # a tiny cost on flows makes them the least that serves the load, so Δflow is meaningful


def base_dispatch(z: ZonalCaps) -> tuple[np.ndarray, np.ndarray]:
    """Least shedding ``S*[m]`` and its flows ``(12, arcs)`` without new load."""
    from scipy.optimize import linprog

    nz, na = len(z.zones), len(z.arcs)
    inc = z.incidence()
    shed, flows = np.zeros(12), np.zeros((12, na))
    for m in range(12):
        res = linprog(
            np.concatenate([np.full(na, FLOW_COST), np.ones(nz)]), A_ub=np.hstack([-inc, -np.eye(nz)]),
            b_ub=z.available[:, m] - z.demand[:, m],
            bounds=[(0.0, float(v)) for v in z.limits] + [(0.0, None)] * nz, method="highs",
        )  # fmt: skip
        if res.status != 0:
            raise DataError(f"the zonal base dispatch could not be solved: {res.message}")
        shed[m], flows[m] = res.x[na:].sum(), res.x[:na]
    return shed, flows


@dataclass
class Allocation:
    """The allocation: per site, per province, per grid station, and what was left unplaced."""

    sites: pd.DataFrame
    provinces: pd.DataFrame
    stations: pd.DataFrame
    total_mw: float
    placed_mw: float
    surplus_basis: str
    headroom_basis: str
    zones: pd.DataFrame | None = None  # per zone and month: placed MW, where it comes from, binding interfaces


def station_headroom(sites: pd.DataFrame, rules: AllocationRules) -> tuple[pd.Series, str]:
    """Headroom (MW) of each site's grid station, and where the figure came from.

    The figure is the scores' ``substation_headroom_mw``: :func:`siting.model.headroom.station_headroom`,
    the same number the criteria use (N-1 firm capacity × power factor × (1 − loading)). A profile's
    ``allocation.headroom_mw_by_kv`` replaces it for the classes it names (an explicit override).
    """
    over = {float(k): float(v) for k, v in rules.headroom_mw_by_kv.items()}
    kv = voltage.class_kv(sites[F.SUBSTATION_KV].to_numpy(dtype=float))
    overridden = np.isin(kv, list(over)) if over else np.zeros(len(sites), dtype=bool)
    have = HEADROOM in sites.columns
    missing = ~overridden & (sites[HEADROOM].isna().to_numpy() if have else True)
    if missing.any():
        raise DataError(
            f"no {HEADROOM} for {int(missing.sum())} site(s): re-run `siting score` (the scores carry the "
            "grid-station headroom of siting.model.headroom), or set allocation.headroom_mw_by_kv for their class."
        )
    head = sites[HEADROOM].astype(float).to_numpy().copy() if have else np.zeros(len(sites))
    head[overridden] = pd.Series(kv[overridden]).map(over).to_numpy()
    basis = f"{HEADROOM} from the scores (siting.model.headroom: N-1 firm capacity × power factor × (1 − loading))"
    if over:
        basis += "; profile override for " + ", ".join(f"{k:g} kV: {v:g} MW" for k, v in over.items())
    return pd.Series(head, index=sites.index), basis


def station_names(sites: pd.DataFrame) -> pd.Series:
    """``<name> (<kv> kV)``; an unnamed station (OSM has no name) is counted apart for each site it serves."""
    name = sites[F.SUBSTATION_NAME].fillna("").astype(str).str.strip()
    kv = sites[F.SUBSTATION_KV].map("{:g}".format)
    unnamed = "unnamed, serving " + sites["site_id"].astype(str)
    return name.where(name != "", unnamed) + " (" + kv + " kV)"


def allocate(
    sites: pd.DataFrame, provinces: pd.DataFrame, rules: AllocationRules, zonal: ZonalCaps | None = None
) -> Allocation:
    """Solve the allocation MILP.

    Parameters
    ----------
    sites
        ``sites.parquet`` of ``siting score``: ``site_id``, ``iso_3166_2``, ``score``, ``substation_name``,
        ``substation_kv`` (and ``substation_headroom_mw`` if known).
    provinces
        ``provinces.csv``: ``iso_3166_2``, ``province``, ``firm_surplus_mw`` or ``surplus_mw``.
    rules
        Total, block size, blocks per site, headroom defaults.
    zonal
        The network and the profile's demand measure; sites then need a ``zone`` column.

    """
    cap_col = FIRM if FIRM in provinces.columns else F.SURPLUS_MW
    prov = provinces.set_index(F.ISO_3166_2)
    cap = prov[cap_col].clip(lower=0.0)
    s = sites.reset_index(drop=True).copy()
    s["station"] = station_names(s)
    s["headroom_mw"], headroom_basis = station_headroom(s, rules)
    n = len(s)
    nblocks = int(np.floor(rules.total_mw / rules.site_mw + 1e-9))
    if n == 0 or nblocks == 0:
        raise DataError("nothing to allocate: no sites, or the total is smaller than one block.")
    big = 100.0 * (nblocks + 1) + 1.0
    c = -(s[F.SCORE].to_numpy(float) + big)  # milp minimises
    rows, ub = [np.full(n, rules.site_mw)], [rules.total_mw]
    if zonal is None:
        provs = sorted(s[F.ISO_3166_2].unique())
        for p in provs:
            rows.append(np.where(s[F.ISO_3166_2] == p, rules.site_mw, 0.0))
            ub.append(float(cap.get(p, 0.0)))
    stations = s.groupby("station")["headroom_mw"].first()
    for st, head in stations.items():
        rows.append(np.where(s["station"] == st, rules.site_mw, 0.0))
        ub.append(float(head))
    a = np.vstack(rows)
    lo_b, hi_b, integ = np.zeros(n), np.full(n, float(rules.max_blocks_per_site)), np.ones(n)
    if zonal is not None:
        a, ub, c, lo_b, hi_b, integ, _ = _zonal_rows(s, rules, zonal, a, ub, c)
    res = milp(
        c,
        constraints=LinearConstraint(a, -np.inf, np.array(ub)),
        integrality=integ,
        bounds=Bounds(lo_b, hi_b),
        options={"disp": False},
    )
    if res.x is None:
        raise DataError(f"the allocation problem could not be solved: {res.message}")
    blocks = np.round(res.x[:n]).astype(int)
    s["blocks"] = blocks
    s["allocated_mw"] = blocks * rules.site_mw
    chosen = s[s["blocks"] > 0].sort_values([F.SCORE, "site_id"], ascending=[False, True]).reset_index(drop=True)
    by_prov = chosen.groupby(F.ISO_3166_2).agg(allocated_mw=("allocated_mw", "sum"), sites=("site_id", "size"))
    ptab = pd.DataFrame({F.PROVINCE: prov[F.PROVINCE], "cap_mw": cap, cap_col: prov[cap_col]})
    if zonal is not None:  # provinces are reported, not capped: show the old figure beside the zonal measures
        ptab = ptab.drop(columns="cap_mw")
        for col in (F.ZONE, F.HOSTING_FIRM_MW, F.HOSTING_INT_5PCT_MW):
            if col in prov.columns:
                ptab[col] = prov[col]
    ptab = ptab.join(by_prov).fillna({"allocated_mw": 0.0, "sites": 0}).reset_index()
    ptab["sites"] = ptab["sites"].astype(int)
    if zonal is None:
        ptab["binding"] = (ptab["cap_mw"] - ptab["allocated_mw"] < rules.site_mw - 1e-9) & (ptab["cap_mw"] > 0)
    ptab = ptab.sort_values(["allocated_mw", F.ISO_3166_2], ascending=[False, True]).reset_index(drop=True)
    st_used = chosen.groupby("station").agg(
        iso_3166_2=(F.ISO_3166_2, "first"), allocated_mw=("allocated_mw", "sum"), headroom_mw=("headroom_mw", "first")
    )
    st_used["binding"] = st_used["headroom_mw"] - st_used["allocated_mw"] < rules.site_mw - 1e-9
    st_used = st_used.sort_values(["allocated_mw"], ascending=False).reset_index()
    cols = ["site_id", F.ISO_3166_2, F.PROVINCE, F.ZONE, F.SCORE, "allocated_mw", "station", "headroom_mw",
            "best_cell", "best_lat", "best_lon", F.DIST_SUBSTATION_KM, F.AREA_KM2, F.IDLE_CAPACITY_MW,
            "idle_plant_nearest", "dist_idle_plant_km"]  # fmt: skip
    chosen = chosen[[c for c in cols if c in chosen.columns]]
    ztab = None
    basis = cap_col
    if zonal is not None:
        ztab = zone_report(s, zonal, res.x[n:])
        basis = f"zonal network, demand = {zonal.measure}"
    return Allocation(
        chosen, ptab, st_used, rules.total_mw, float(chosen["allocated_mw"].sum()), basis, headroom_basis, ztab
    )


def _zonal_rows(s: pd.DataFrame, rules: AllocationRules, z: ZonalCaps, a: np.ndarray, ub: list, c: np.ndarray):
    """Append the network constraints of every month to the MILP (flow and shed variables per month)."""
    if F.ZONE not in s.columns:
        raise DataError("the sites carry no 'zone' column; rerun `siting score` so that the zonal caps can apply.")
    unknown = sorted(set(s[F.ZONE].astype(str)) - set(z.zones))
    if unknown:
        raise DataError(f"site zone '{unknown[0]}' is not in the zonal model ({', '.join(z.zones)}).")
    n, nz, na = len(s), len(z.zones), len(z.arcs)
    inc = z.incidence()
    shed_star, _ = base_dispatch(z)
    per = na + nz
    extra = 12 * per
    a = np.hstack([a, np.zeros((a.shape[0], extra))])
    rows, bounds_ub = [a], list(ub)
    member = np.array([[rules.site_mw if zz == zone else 0.0 for zz in s[F.ZONE]] for zone in z.zones])  # (nz, n)
    for m in range(12):
        block = np.zeros((nz + 1, n + extra))
        off = n + m * per
        block[:nz, :n] = member
        block[:nz, off : off + na] = -inc
        block[:nz, off + na : off + per] = -np.eye(nz)
        block[nz, off + na : off + per] = 1.0
        rows.append(block)
        bounds_ub += [*(z.available[:, m] - z.demand[:, m]), shed_star[m] + 1e-6]
    lo = np.zeros(n + extra)
    hi = np.concatenate([np.full(n, float(rules.max_blocks_per_site)),
                         np.tile(np.concatenate([z.limits, np.full(nz, np.inf)]), 12)])  # fmt: skip
    cost = np.concatenate([c, np.tile(np.concatenate([np.full(na, FLOW_COST), np.zeros(nz)]), 12)])
    integ = np.concatenate([np.ones(n), np.zeros(extra)])
    return np.vstack(rows), bounds_ub, cost, lo, hi, integ, n + extra


def zone_report(s: pd.DataFrame, z: ZonalCaps, tail: np.ndarray) -> pd.DataFrame:
    """Per zone and month: MW placed, served locally or imported over each interface, and what binds."""
    nz, na = len(z.zones), len(z.arcs)
    per = na + nz
    _, base = base_dispatch(z)
    placed = s.groupby(F.ZONE)["allocated_mw"].sum() if "allocated_mw" in s.columns else pd.Series(dtype=float)
    inc = z.incidence()
    rows = []
    for m in range(12):
        f = tail[m * per : m * per + na]
        delta_in = inc @ (f - base[m])  # extra net inflow to each zone caused by the new load
        for k, zone in enumerate(z.zones):
            mw = float(placed.get(zone, 0.0))
            row = {F.ZONE: zone, "month": m + 1, "placed_mw": mw, "from_own_zone_mw": mw - max(delta_in[k], 0.0)}
            for j, (fr, to) in enumerate(z.arcs):
                if to == zone:
                    row[f"via_{fr}_to_{to}_mw"] = float(f[j] - base[m][j])
            row["binding_interfaces"] = " + ".join(
                f"{fr}->{to}" for j, (fr, to) in enumerate(z.arcs) if zone in (fr, to) and f[j] >= z.limits[j] - 1e-6
            )
            rows.append(row)
    out = pd.DataFrame(rows)
    via = [c for c in out.columns if c.startswith("via_")]
    out[via] = out[via].fillna(0.0)
    return out


def to_markdown(a: Allocation, title: str) -> str:
    """Write a short report: totals, provinces, grid stations, sites."""

    def table(df: pd.DataFrame) -> str:
        head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
        fmt = [lambda v: f"{v:,.1f}" if isinstance(v, float) else str(v)]
        return head + "".join("| " + " | ".join(fmt[0](v) for v in row) + " |\n" for row in df.itertuples(index=False))

    short = a.total_mw - a.placed_mw
    zone_lines: list[str] = []
    if a.zones is not None:
        z = a.zones
        used = z[z["placed_mw"] > 0]
        zone_lines = [
            "## Zones and months: where the MW come from",
            "",
            "Per zone and month with new load: MW placed, served from the zone's own surplus, and the extra flow "
            "over each interface into the zone that the new load causes (against the dispatch without it); "
            "`binding_interfaces` are at their limit in that month.",
            "",
            table(used) if len(used) else "No zone received load.\n",
        ]
    lines = [
        f"# {title}",
        "",
        f"**{a.placed_mw:,.0f} MW of {a.total_mw:,.0f} MW placed** at {len(a.sites)} sites"
        + (f"; {short:,.0f} MW could not be placed within the caps." if short > 0 else "."),
        "",
        (
            f"Surplus cap: {a.surplus_basis}; the MW placed in each zone and month are feasible under the interface "
            "limits without more shedding than the system already has."
            if a.zones is not None
            else f"Provincial cap: `{a.surplus_basis}` (negative surplus counts as 0)."
        )
        + f" Grid-station headroom: {a.headroom_basis}. `binding` marks a cap with less than one block left.",
        "",
        *zone_lines,
        "## Provinces",
        "",
        "Provinces are reported (old provincial firm surplus beside the zonal measures of their zones), not capped"
        " when the zonal network applies.",
        "",
        table(a.provinces),
        "## Grid stations",
        "",
        table(a.stations),
        "## Sites",
        "",
        table(a.sites),
    ]
    return "\n".join(lines)
