"""Where the 2,000 MW go: blocks of capacity to sites, maximising total score under grid and surplus caps.

A mixed-integer programme (``scipy.optimize.milp``, HiGHS):

    maximise   Σ_i (score_i + M) · x_i                 x_i ∈ {0, …, max_blocks_per_site} blocks of site_mw
    subject to Σ_i site_mw · x_i               ≤ total_mw
               Σ_{i in province p} site_mw · x_i ≤ max(firm surplus_p, 0)      for every province
               Σ_{i at grid station s} site_mw · x_i ≤ headroom_s                for every grid station

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

FIRM = "firm_surplus_mw"
HEADROOM = "substation_headroom_mw"


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


def allocate(sites: pd.DataFrame, provinces: pd.DataFrame, rules: AllocationRules) -> Allocation:
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
    provs = sorted(s[F.ISO_3166_2].unique())
    for p in provs:
        rows.append(np.where(s[F.ISO_3166_2] == p, rules.site_mw, 0.0))
        ub.append(float(cap.get(p, 0.0)))
    stations = s.groupby("station")["headroom_mw"].first()
    for st, head in stations.items():
        rows.append(np.where(s["station"] == st, rules.site_mw, 0.0))
        ub.append(float(head))
    res = milp(
        c,
        constraints=LinearConstraint(np.vstack(rows), -np.inf, np.array(ub)),
        integrality=np.ones(n),
        bounds=Bounds(0, rules.max_blocks_per_site),
        options={"disp": False},
    )
    if res.x is None:
        raise DataError(f"the allocation problem could not be solved: {res.message}")
    blocks = np.round(res.x).astype(int)
    s["blocks"] = blocks
    s["allocated_mw"] = blocks * rules.site_mw
    chosen = s[s["blocks"] > 0].sort_values([F.SCORE, "site_id"], ascending=[False, True]).reset_index(drop=True)
    by_prov = chosen.groupby(F.ISO_3166_2).agg(allocated_mw=("allocated_mw", "sum"), sites=("site_id", "size"))
    ptab = pd.DataFrame({F.PROVINCE: prov[F.PROVINCE], "cap_mw": cap, cap_col: prov[cap_col]})
    ptab = ptab.join(by_prov).fillna({"allocated_mw": 0.0, "sites": 0}).reset_index()
    ptab["sites"] = ptab["sites"].astype(int)
    ptab["binding"] = (ptab["cap_mw"] - ptab["allocated_mw"] < rules.site_mw - 1e-9) & (ptab["cap_mw"] > 0)
    ptab = ptab.sort_values(["allocated_mw", F.ISO_3166_2], ascending=[False, True]).reset_index(drop=True)
    st_used = chosen.groupby("station").agg(
        iso_3166_2=(F.ISO_3166_2, "first"), allocated_mw=("allocated_mw", "sum"), headroom_mw=("headroom_mw", "first")
    )
    st_used["binding"] = st_used["headroom_mw"] - st_used["allocated_mw"] < rules.site_mw - 1e-9
    st_used = st_used.sort_values(["allocated_mw"], ascending=False).reset_index()
    cols = ["site_id", F.ISO_3166_2, F.PROVINCE, F.SCORE, "allocated_mw", "station", "headroom_mw",
            "best_cell", "best_lat", "best_lon", F.DIST_SUBSTATION_KM, F.AREA_KM2]  # fmt: skip
    chosen = chosen[[c for c in cols if c in chosen.columns]]
    return Allocation(
        chosen, ptab, st_used, rules.total_mw, float(chosen["allocated_mw"].sum()), cap_col, headroom_basis
    )


def to_markdown(a: Allocation, title: str) -> str:
    """Write a short report: totals, provinces, grid stations, sites."""

    def table(df: pd.DataFrame) -> str:
        head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
        fmt = [lambda v: f"{v:,.1f}" if isinstance(v, float) else str(v)]
        return head + "".join("| " + " | ".join(fmt[0](v) for v in row) + " |\n" for row in df.itertuples(index=False))

    short = a.total_mw - a.placed_mw
    lines = [
        f"# {title}",
        "",
        f"**{a.placed_mw:,.0f} MW of {a.total_mw:,.0f} MW placed** at {len(a.sites)} sites"
        + (f"; {short:,.0f} MW could not be placed within the caps." if short > 0 else "."),
        "",
        f"Provincial cap: `{a.surplus_basis}` (negative surplus counts as 0). Grid-station headroom: "
        f"{a.headroom_basis}. `binding` marks a cap with less than one block left.",
        "",
        "## Provinces",
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
