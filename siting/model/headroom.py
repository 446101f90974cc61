"""Headroom of a grid station for a new load: the one formula the criteria and the allocation share.

    headroom_mw = firm_mva × power_factor × (1 − loading),    firm_mva = (n − 1) / n × nameplate_mva

with ``n`` transformers (shared/docs/FACTS.md, "N-1": a station's firm capacity is (n−1)/n of its
nameplate). The figures, from ``regions/<ISO3>/``:

- nameplate and ``n``: a station named in ``constrained_grid_stations.csv`` (matched by its OSM name or id,
  at the row's voltage class) with a published transformer set ("4 x 450 MVA") or MVA uses it; every other
  station takes its class's typical set from ``grid_stations_n1.csv`` (500 kV: 3 × ~487 MVA, 220 kV:
  3 × ~237 MVA, 132 kV: 2 × 29 MVA, derived from NTDC/FESCO totals);
- loading: a per-station percentage from NEPRA where the table gives one; a station on NEPRA's or NTDC's
  constrained/overloaded list (``constrained = yes``; NEPRA publishes only "above 80 %") takes the
  ``constrained_loading`` figure of ``national.csv`` (1.0: no headroom until reinforced); every other
  station takes its class average from ``grid_stations_n1.csv`` (81 % at 500 kV, 80 % at 220 kV:
  derived from NEPRA's count of transformers above 80 %, not published per station; 70 % at 132 kV:
  assumption).

The loading is applied to the firm capacity, as the issue specifies. If NEPRA's loading is a share of
nameplate, the strict N-1 spare (firm − loading × nameplate) is negative at the class averages: these
headroom figures are then an upper bound, and a planner with NTDC's load-flow figures should replace
them. Pure: takes the substations table and a :class:`siting.io.reference.Reference`, opens no file.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from siting.fields import F
from siting.io.reference import Reference
from siting.kernels import voltage

N1_TABLE = "grid_stations_n1.csv"
NAMED_TABLE = "constrained_grid_stations.csv"
_SET = re.compile(r"(?<![>=\d])(\d+)\s*x\s*(\d[\d,]*)\s*MVA", re.IGNORECASE)
MIN_NAMED_KV = 220.0  # names are matched only among stations of 220 kV and above


def _key(name: object) -> str:
    return re.sub(r"[^0-9a-z\u0600-\u06ff]", "", str(name).lower())


def class_figures(ref: Reference) -> pd.DataFrame:
    """Per voltage class: ``transformers, nominal_mva, firm_mva, loading`` and the class headroom in MW."""
    t = ref.table(N1_TABLE).set_index("voltage_class_kv")
    t.index = t.index.astype(float)
    pf, _ = ref.figure("power_factor")
    n = t["transformers_typical"].astype(float)
    out = pd.DataFrame(
        {
            "transformers": n,
            "nominal_mva": t["nominal_mva"].astype(float),
            "firm_mva": t["nominal_mva"].astype(float) * (n - 1) / n,
            "loading": t["loading_class_average"].astype(float) / 100.0,
        }
    )
    out[F.SUBSTATION_HEADROOM_MW] = (out["firm_mva"] * pf * (1.0 - out["loading"])).clip(lower=0.0)
    return out


def _named_rows(subs: pd.DataFrame, cls: np.ndarray, named: pd.DataFrame) -> list[list[int]]:
    """For each substation, the rows of the named table that name it (by OSM id or name)."""
    ids = subs["osm_id"].astype(str).to_numpy() if "osm_id" in subs else np.full(len(subs), "")
    names = subs[F.NAME].fillna("").map(_key).to_numpy()
    by_id: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for i, r in enumerate(named.itertuples()):
        raw = r.osm_ids  # "123|456", or one id that pandas read as a number
        osm_ids = [str(int(raw))] if isinstance(raw, int | float) and np.isfinite(raw) else re.findall(r"\d+", str(raw))
        for osm in osm_ids:
            by_id.setdefault(osm, []).append(i)
        for nm in {r.name, *str(r.osm_names).split("|")}:
            if _key(nm):
                by_name.setdefault(_key(nm), []).append(i)
    out = []
    for sid, nm, c in zip(ids, names, cls, strict=True):
        rows = by_id.get(sid, [])
        if not rows and nm and c >= MIN_NAMED_KV:
            rows = by_name.get(nm, [])
        out.append(rows)
    return out


def station_headroom(subs: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Headroom of every substation by the formula of this module.

    Parameters
    ----------
    subs
        Substations with ``name``, ``voltage_kv`` (and ``osm_id``).
    ref
        The region's reference tables.

    Returns
    -------
    DataFrame
        Aligned with ``subs``: ``voltage_class_kv, transformers, nominal_mva, substation_firm_mva,
        substation_loading, constrained, substation_headroom_mw, headroom_basis, reference_name``. A station
        with no class figure (below 132 kV, voltage unknown) has no headroom (0 MW).

    """
    classes = class_figures(ref)
    named = ref.table(NAMED_TABLE).astype(object).fillna("")
    pf, _ = ref.figure("power_factor")
    tight, _ = ref.figure("constrained_loading")
    cls = voltage.class_kv(subs[F.VOLTAGE_KV].to_numpy(dtype=float))
    cls_for_lookup = np.where(np.isfinite(cls), cls, -1.0)
    n = pd.Series(cls_for_lookup).map(classes["transformers"]).to_numpy(dtype=float, copy=True)
    nominal = pd.Series(cls_for_lookup).map(classes["nominal_mva"]).to_numpy(dtype=float, copy=True)
    loading = pd.Series(cls_for_lookup).map(classes["loading"]).to_numpy(dtype=float, copy=True)
    cap_basis = np.where(np.isfinite(nominal), "class typical set (grid_stations_n1.csv)", "no class figure")
    load_basis = np.where(np.isfinite(loading), "class average (derived, grid_stations_n1.csv)", "none")
    constrained = np.zeros(len(subs), dtype=bool)
    ref_name = np.full(len(subs), "", dtype=object)
    cap_basis, load_basis = cap_basis.astype(object), load_basis.astype(object)
    for i, rows in enumerate(_named_rows(subs, cls, named)):
        if not rows:
            continue
        ref_name[i] = "|".join(str(named.iloc[j]["name"]) for j in rows)
        for j in rows:  # the table's first row with figures at this station's class wins
            r = named.iloc[j]
            same_class = voltage.class_kv(float(r["voltage_kv"] or "nan")) == cls[i]
            sets = [(int(a), float(b.replace(",", ""))) for a, b in _SET.findall(str(r["transformers"]))]
            sets = [s for s in sets if s[0] >= 2]
            if same_class and cap_basis[i].startswith("class") and (sets or str(r["mva"]).strip()):
                if sets:
                    n[i], nominal[i] = sets[0][0], sets[0][0] * sets[0][1]
                    cap_basis[i] = f"{r['name']}: {sets[0][0]} x {sets[0][1]:g} MVA (constrained_grid_stations.csv)"
                else:
                    nominal[i] = float(str(r["mva"]).replace(",", ""))
                    cap_basis[i] = f"{r['name']}: {nominal[i]:g} MVA, class n (constrained_grid_stations.csv)"
            pct = pd.to_numeric(str(r["loading_pct"]), errors="coerce")
            if np.isfinite(pct):
                loading[i], load_basis[i] = pct / 100.0, f"NEPRA {pct:g} % ({r['name']})"
            elif str(r["constrained"]).strip().lower() == "yes" and not constrained[i]:
                loading[i] = tight
                load_basis[i] = f"constrained list ({r['name']}: {r['status']}); constrained_loading {tight:g}"
            constrained[i] |= str(r["constrained"]).strip().lower() == "yes"
    firm = nominal * (n - 1.0) / n
    head = np.nan_to_num(firm * pf * (1.0 - loading), nan=0.0).clip(min=0.0)
    basis = [
        f"N-1 firm of {c}; loading {lb}; pf {pf:g}" if np.isfinite(f) else "no class figure: 0 MW"
        for c, lb, f in zip(cap_basis, load_basis, firm, strict=True)
    ]
    return pd.DataFrame(
        {
            "voltage_class_kv": cls,
            "transformers": n,
            "nominal_mva": nominal,
            F.SUBSTATION_FIRM_MVA: firm,
            F.SUBSTATION_LOADING: loading,
            "constrained": constrained,
            F.SUBSTATION_HEADROOM_MW: head,
            F.HEADROOM_BASIS: basis,
            "reference_name": ref_name,
        },
        index=subs.index,
    )


def class_headroom_mw(kv: np.ndarray, ref: Reference) -> np.ndarray:
    """Headroom (MW) of an unnamed station of each voltage: the class row of :func:`station_headroom`."""
    table = class_figures(ref)[F.SUBSTATION_HEADROOM_MW]
    cls = voltage.class_kv(np.asarray(kv, dtype=float))
    return pd.Series(np.where(np.isfinite(cls), cls, -1.0)).map(table).fillna(0.0).to_numpy()
