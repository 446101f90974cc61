"""What each substation is: a grid station that can serve a new load, or something that cannot.

OpenStreetMap tags HVDC converter yards, power-plant switchyards and grid stations alike as
``power=substation``. A converter (Matiari, Lahore) or a plant's switchyard (Tarbela, Ghazi Barotha,
Guddu) carries 500 kV but has no transformation down to a new load (shared/docs/FACTS.md, "Grid stations
as connection points"), so only ``grid_station`` rows are connection points for the criteria and the
allocation. The rule, in order, the first that applies winning:

1. ``override``: ``regions/<ISO3>/substation_kinds.csv`` sets the kind of an OSM id, with its reason and
   source (it corrects the rule where the research found it wrong, e.g. "Moro Converter Station" is a
   500 kV switching station with no HVDC line, and "Sahiwal" is the Yousafwala grid station);
2. ``rule: name`` / ``rule: operator``: the regular expressions of ``substation_kind_rules.csv`` on the
   name and the operator, in the table's order (HVDC converter, traction, plant switchyard);
3. ``rule: HVDC line end``: within :data:`HVDC_END_KM` of an end of an HVDC line → ``hvdc_converter``;
4. ``co-location``: within :data:`PLANT_KM` of a power plant of at least :data:`PLANT_MIN_MW` (GEM units,
   operating or mothballed, summed by plant) and either unnamed or sharing a distinctive word of
   :data:`SHARED_WORD_LETTERS` letters or more with the plant's name → ``plant_switchyard``;
5. ``rule: voltage or grid word``: a voltage of 132 kV or more, or a grid-station word in the name or
   operator (the pattern of the table's ``grid_station`` row) → ``grid_station``;
6. ``rule: no evidence``: anything else → ``unknown``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from siting.kernels.geodesy import PointIndex

KINDS = ("grid_station", "hvdc_converter", "plant_switchyard", "traction", "unknown")
CONNECTION_KIND = "grid_station"
HVDC_END_KM = 1.0  # substation_kind_rules.csv, hvdc_converter/geometry
PLANT_KM = 2.0  # substation_kind_rules.csv, plant_switchyard/co-location
PLANT_MIN_MW = 100.0
SHARED_WORD_LETTERS = 4
GRID_MIN_KV = 132.0
PLANT_STATUSES = ("operating", "mothballed")
# words any plant or station name may carry: sharing one of them says nothing about co-location
GENERIC_WORDS = frozenset(
    "power station plant project thermal hydro hydroelectric hydropower electric energy limited private "
    "grid new old unit units complex combined cycle steam coal fired nuclear solar wind sugar mills mill "
    "house company gas turbine pakistan ntdc ntdcl wapda".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_GRID_WORDS = re.compile(r"\((.+)\)\s*$")


def plant_groups(units: pd.DataFrame) -> pd.DataFrame:
    """GEM units (``plant, capacity_mw, status, lat, lon``) summed by plant: ``plant, capacity_mw, lon, lat``.

    Only operating and mothballed units count; a plant's position is the mean of its units'.
    """
    u = units[units["status"].isin(PLANT_STATUSES) & units["capacity_mw"].gt(0) & units["lat"].notna()]
    g = u.groupby("plant", sort=True).agg(capacity_mw=("capacity_mw", "sum"), lon=("lon", "mean"), lat=("lat", "mean"))
    return g.reset_index()


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= SHARED_WORD_LETTERS and w not in GENERIC_WORDS}


def _rule_patterns(rules: pd.DataFrame) -> tuple[list[tuple[str, str, re.Pattern]], re.Pattern]:
    """Return the name/operator regexes of the rule table in order, and the grid-station word pattern."""
    regexes = [
        (str(r.kind), str(r.field), re.compile(str(r.pattern)))
        for r in rules.itertuples()
        if r.field in ("name", "operator") and r.kind != CONNECTION_KIND
    ]
    grid_row = rules[(rules["kind"] == CONNECTION_KIND) & (rules["field"] == "default")]
    words = _GRID_WORDS.search(str(grid_row["pattern"].iloc[0])) if len(grid_row) else None
    grid = re.compile(words.group(1) if words else r"grid", re.IGNORECASE)
    return regexes, grid


def classify(
    subs: pd.DataFrame,
    hvdc_ends: pd.DataFrame,
    plants: pd.DataFrame,
    rules: pd.DataFrame,
    overrides: pd.DataFrame,
) -> pd.DataFrame:
    """``kind`` and ``kind_basis`` of every substation, by the rule of this module.

    Parameters
    ----------
    subs
        Substations with ``osm_id, name, operator, voltage_kv`` and point geometry.
    hvdc_ends
        ``lon, lat`` of every end of every HVDC line.
    plants
        :func:`plant_groups` output.
    rules
        ``substation_kind_rules.csv``: ``kind, field, pattern``.
    overrides
        ``substation_kinds.csv``: ``osm_id, kind`` (and the reason and source).

    Returns
    -------
    DataFrame
        ``kind, kind_basis`` aligned with ``subs``.

    """
    n = len(subs)
    kind = np.full(n, "", dtype=object)
    basis = np.full(n, "", dtype=object)
    names = subs["name"].fillna("").astype(str).to_numpy()
    ops = subs["operator"].fillna("").astype(str).to_numpy()
    lon, lat = subs.geometry.x.to_numpy(), subs.geometry.y.to_numpy()

    def assign(mask: np.ndarray, k: str, b: str) -> None:
        free = mask & (kind == "")
        kind[free], basis[free] = k, b

    over = overrides.assign(osm_id=overrides["osm_id"].astype(str)).drop_duplicates("osm_id").set_index("osm_id")
    bad = sorted(set(over["kind"]) - set(KINDS))
    if bad:
        raise ValueError(f"substation_kinds.csv: unknown kind(s) {bad}; use one of {', '.join(KINDS)}")
    ov = subs["osm_id"].astype(str).map(over["kind"]).to_numpy()
    has = pd.notna(ov)
    kind[has], basis[has] = ov[has], "override"

    regexes, grid_words = _rule_patterns(rules)
    text = {"name": names, "operator": ops}
    for k, field, pat in regexes:
        assign(np.array([bool(pat.search(t)) for t in text[field]], dtype=bool), k, f"rule: {field}")

    if len(hvdc_ends) and n:
        km, _ = PointIndex(hvdc_ends["lon"], hvdc_ends["lat"]).nearest(lon, lat)
        assign(km <= HVDC_END_KM, "hvdc_converter", "rule: HVDC line end")

    big = plants[plants["capacity_mw"] >= PLANT_MIN_MW].reset_index(drop=True)
    if len(big) and n:
        index = PointIndex(big["lon"], big["lat"])
        hits = index.within(lon, lat, PLANT_KM)
        plant_names = big["plant"].astype(str).to_numpy()
        colocated = np.zeros(n, dtype=bool)
        for i, h in enumerate(hits):
            if len(h):
                own = _words(names[i])
                colocated[i] = not names[i].strip() or any(own & _words(plant_names[j]) for j in h)
        assign(colocated, "plant_switchyard", "co-location")

    kv = subs["voltage_kv"].to_numpy(dtype=float)
    words = np.array([bool(grid_words.search(a) or grid_words.search(b)) for a, b in zip(names, ops, strict=True)])
    with np.errstate(invalid="ignore"):
        assign((kv >= GRID_MIN_KV) | words, CONNECTION_KIND, "rule: voltage or grid word")
    assign(np.ones(n, dtype=bool), "unknown", "rule: no evidence")
    return pd.DataFrame({"kind": kind, "kind_basis": basis}, index=subs.index)


def is_connection_point(subs: pd.DataFrame) -> np.ndarray:
    """Mask of the substations that can take a new load: ``kind == "grid_station"``.

    A table without a ``kind`` column (a planner's own grid-station list, a hand-made test table) is a list
    of grid stations: every row counts.
    """
    if "kind" not in subs.columns:
        return np.ones(len(subs), dtype=bool)
    return (subs["kind"] == CONNECTION_KIND).to_numpy()
