"""Column names used across siting, each carrying its unit, with a label a planner can read.

This is the one place where a column is named. Code refers to ``F.DIST_SUBSTATION_KM`` rather than to
the string, and maps, tables and the README take the label and description from here, so a score table
or a popup explains itself without the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """A column: its name (with unit suffix), unit, short label and a one-line description."""

    name: str
    unit: str
    label: str
    description: str

    def __str__(self) -> str:
        return self.name


class F:
    """Column names. Attribute values are the strings written to files."""

    # identifiers
    CELL = "h3_cell"
    PROVINCE = "province"
    ISO_3166_2 = "iso_3166_2"
    NAME = "name"
    LAT = "lat"
    LON = "lon"

    # provinces / surplus
    AREA_KM2 = "area_km2"
    POPULATION = "population"
    DEMAND_SHARE = "demand_share"
    CAPACITY_MW = "capacity_mw"
    PEAK_DEMAND_MW = "peak_demand_mw"
    SURPLUS_MW = "surplus_mw"
    FIRM_SURPLUS_MW = "firm_surplus_mw"
    SURPLUS_ENERGY_GWH = "surplus_energy_gwh"

    # grid
    VOLTAGE_KV = "voltage_kv"
    VOLTAGE_SOURCE = "voltage_source"
    LENGTH_KM = "length_km"
    VOLTAGE_CLASS = "voltage_class"

    # criteria
    DIST_SUBSTATION_KM = "dist_substation_km"
    SUBSTATION_KV = "substation_kv"
    SUBSTATION_NAME = "substation_name"
    DIST_LINE_KM = "dist_line_220kv_km"
    SUBSTATION_HEADROOM_MW = "substation_headroom_mw"
    SUBSTATION_CONSTRAINED = "substation_constrained"
    CONNECTION_COST_MUSD = "connection_cost_musd"
    DIST_IXP_KM = "dist_ixp_km"
    DIST_CABLE_LANDING_KM = "dist_cable_landing_km"
    DIST_FIBRE_ROUTE_KM = "dist_fibre_route_km"
    LATENCY_MS = "latency_ms"
    CDD_CDAYS = "cdd18_cdays"
    LAPSE_CORRECTION_C = "lapse_correction_c"
    PUE = "pue"
    COOLING_MWH = "cooling_mwh_per_mw_it_year"
    COOLING_COST_KUSD = "cooling_cost_kusd_per_mw_it_year"
    KOPPEN = "koppen_class"
    T2M_HOTTEST_C = "t2m_hottest_month_c"
    T2M_ANNUAL_C = "t2m_annual_mean_c"
    DIST_CONNECTIVITY_KM = "dist_connectivity_km"
    CONNECTIVITY_NODE = "connectivity_node"
    ELEVATION_M = "elevation_m"

    # scores
    SCORE = "score"
    RANK_IN_PROVINCE = "rank_in_province"
    RANK_NATIONAL = "rank_national"


FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        Field(
            F.SURPLUS_MW,
            "MW",
            "Provincial surplus (median month)",
            "Deliverable surplus of the province in the median month: available capacity minus its share of the "
            "month's national peak, capped by the south-north transfer limit.",
        ),
        Field(
            F.FIRM_SURPLUS_MW,
            "MW",
            "Provincial firm surplus (worst month)",
            "Deliverable surplus of the province in its worst month: what a firm load can count on.",
        ),
        Field(
            F.SURPLUS_ENERGY_GWH,
            "GWh/yr",
            "Provincial surplus energy",
            "Deliverable surplus energy of the province over a year, against average rather than peak demand.",
        ),
        Field(
            F.DIST_SUBSTATION_KM,
            "km",
            "Distance to substation",
            "Great-circle distance to the nearest substation at or above the study's minimum voltage.",
        ),
        Field(
            F.SUBSTATION_KV,
            "kV",
            "Nearest substation voltage",
            "Highest voltage of that substation (tagged in OpenStreetMap or inferred from lines).",
        ),
        Field(
            F.DIST_LINE_KM,
            "km",
            "Distance to 220 kV+ line",
            "Great-circle distance to the nearest 220 kV or higher AC line segment; also the stated fibre proxy "
            "(high-voltage lines commonly carry optical ground wire).",
        ),
        Field(
            F.T2M_HOTTEST_C,
            "°C",
            "Hottest-month temperature",
            "Mean 2 m air temperature of the hottest month, ERA5 climatology 2000-2025, corrected to the site "
            "elevation (6.5 °C/km).",
        ),
        Field(
            F.T2M_ANNUAL_C,
            "°C",
            "Annual mean temperature",
            "Mean 2 m air temperature over the year, ERA5 climatology 2000-2025, corrected to the site elevation.",
        ),
        Field(
            F.DIST_CONNECTIVITY_KM,
            "km",
            "Distance to internet exchange / cable landing",
            "Great-circle distance to the nearest internet exchange point or submarine cable landing.",
        ),
        Field(
            F.SUBSTATION_HEADROOM_MW,
            "MW",
            "Headroom at that substation (estimate)",
            "NTDC average capacity of the voltage class × power factor × (1 − assumed loading); zero where NEPRA "
            "names the grid station as overloaded. OpenStreetMap has no transformer capacity.",
        ),
        Field(
            F.CONNECTION_COST_MUSD,
            "million US$",
            "Grid connection cost (estimate)",
            "New line to the nearest eligible substation: distance × route factor × cost per km (assumptions).",
        ),
        Field(
            F.CDD_CDAYS,
            "°C·days",
            "Cooling degree days (base 18 °C)",
            "Sum over months of (monthly mean − 18 °C) × days, when positive; lapse-corrected temperatures.",
        ),
        Field(
            F.LAPSE_CORRECTION_C,
            "°C",
            "Elevation correction of ERA5",
            "Added to ERA5 temperatures: 6.5 °C/km × (ERA5 cell mean elevation − site elevation), coarse DEM.",
        ),
        Field(
            F.PUE,
            "ratio",
            "Estimated PUE",
            "Annual power usage effectiveness of an air-economised facility from monthly temperatures "
            "(siting.model.cooling: assumptions after Lei & Masanet 2020).",
        ),
        Field(
            F.COOLING_MWH,
            "MWh/MW-yr",
            "Cooling and overhead energy",
            "(PUE − 1) × 8,760 h: overhead energy per MW of IT load a year.",
        ),
        Field(
            F.COOLING_COST_KUSD,
            "kUS$/MW-yr",
            "Cooling and overhead cost",
            "Overhead energy at the proposed PKR 22.5/kWh tariff (280 PKR/US$), per MW of IT load a year.",
        ),
        Field(F.DIST_IXP_KM, "km", "Distance to internet exchange", "Great-circle distance to the nearest PKIX node."),
        Field(
            F.DIST_CABLE_LANDING_KM,
            "km",
            "Distance to cable landing",
            "Great-circle distance to the nearest submarine cable landing (Karachi, Gwadar).",
        ),
        Field(
            F.DIST_FIBRE_ROUTE_KM,
            "km",
            "Distance to terrestrial fibre route",
            "Great-circle distance to the Pak-China fibre route (Rawalpindi-Karimabad); the only open route known.",
        ),
        Field(
            F.LATENCY_MS,
            "ms",
            "Round-trip latency to the latency anchor",
            "Round trip over fibre to the region's latency anchor (connectivity_nodes.csv; Pakistan: the Karachi "
            "cable landing): 2 × distance × fibre route factor / speed of light in fibre; switching excluded.",
        ),
        Field(F.ELEVATION_M, "m", "Elevation", "Mean elevation of the ~9 km DEM cell."),
        Field(F.SCORE, "0-100", "Suitability score", "Weighted sum of the criterion values, 0 (worst) to 100."),
        Field(F.CAPACITY_MW, "MW", "Operating capacity", "Operating generating capacity (GEM trackers)."),
        Field(
            F.PEAK_DEMAND_MW,
            "MW",
            "Share of peak demand",
            "Province's share of national peak demand (population share by default).",
        ),
    ]
}


def label(name: str) -> str:
    """Return the human label with unit for a column name, or the name itself when unknown.

    Parameters
    ----------
    name
        Column name, e.g. ``"dist_substation_km"``.

    Returns
    -------
    str
        e.g. ``"Distance to substation (km)"``.

    """
    field = resolve(name)
    return f"{field.label} ({field.unit})" if field and field.unit else (field.label if field else name)


# Every other column written to an output table, one line each: name, unit, label, description. Units "" for
# identifiers and text. Families of columns (one per criterion, voltage class or fuel) are in PATTERNS.
_TABLE_COLUMNS = [
    # identifiers and places
    (F.CELL, "", "H3 cell", "H3 index of the candidate cell (hexagon) at the study's resolution."),
    (F.PROVINCE, "", "Province", "Official name of the province or territory."),
    (F.ISO_3166_2, "", "ISO 3166-2 code", "Code of the province or territory, e.g. PK-SD."),
    (F.LAT, "°", "Latitude", "Latitude of the cell centre or point, WGS84 degrees."),
    (F.LON, "°", "Longitude", "Longitude of the cell centre or point, WGS84 degrees."),
    ("geometry", "", "Geometry", "Point or polygon, EPSG:4326."),
    (F.AREA_KM2, "km²", "Area", "Area on the ellipsoid (equal-area projection)."),
    (F.POPULATION, "people", "Population", "Population (census 2023 or the study's override)."),
    (F.DEMAND_SHARE, "0-1", "Share of demand", "The province's share of national demand used by the model."),
    ("nearest_place", "", "Nearest town", "Nearest GeoNames populated place."),
    ("dist_place_km", "km", "Distance to nearest town", "Great-circle distance to the nearest populated place."),
    (F.SUBSTATION_NAME, "", "Nearest grid station", "Name of the nearest eligible substation (OSM)."),
    (F.SUBSTATION_CONSTRAINED, "yes/no", "Constrained station", "NEPRA/NTDC names the station as overloaded."),
    (F.CONNECTIVITY_NODE, "", "Nearest connectivity node", "Nearest internet exchange or cable landing."),
    ("ixp_name", "", "Nearest internet exchange", "Name of the nearest internet exchange (PKIX node)."),
    ("cable_landing_name", "", "Nearest cable landing", "Name of the nearest submarine cable landing."),
    (F.KOPPEN, "", "Köppen-Geiger group", "Main climate group (Beck et al. 2018), e.g. 'B arid'."),
    (F.RANK_IN_PROVINCE, "rank", "Rank in province", "1 = best candidate of its province."),
    (F.RANK_NATIONAL, "rank", "Rank nationally", "1 = best candidate of the country."),
    # provinces.csv
    ("candidate_count", "cells", "Candidates", "Candidates of the province left after exclusions and constraints."),
    ("best_score", "0-100", "Best score", "Score of the province's best candidate."),
    ("best_site_h3_cell", "", "Best site: H3 cell", "H3 cell of the province's best candidate."),
    ("best_site_lat", "°", "Best site: latitude", "Latitude of the province's best candidate."),
    ("best_site_lon", "°", "Best site: longitude", "Longitude of the province's best candidate."),
    ("best_site_near", "", "Best site: near", "Populated place nearest the province's best candidate."),
    ("worst_month", "", "Worst month", "Month in which the deliverable surplus is lowest."),
    ("zone", "", "Network zone", "Zone of the surplus model the province or cell belongs to."),
    # surplus.csv, surplus_monthly.csv, surplus_figures.csv, national_checks.csv
    ("population_basis", "", "Population basis", "Where the population figure comes from."),
    ("capacity_basis", "", "Capacity basis", "Where the capacity figures come from."),
    ("surplus_basis", "", "Surplus basis", "Model or study override."),
    ("month", "1-12", "Month", "Calendar month."),
    ("available_mw", "MW", "Available capacity", "Σ capacity × availability of the month."),
    ("demand_mw", "MW", "Demand", "Demand the model serves in the month."),
    ("deliverable_surplus_mw", "MW", "Deliverable surplus", "Surplus after the transfer limits between zones."),
    ("figure", "", "Figure", "Key of an input figure of the surplus model."),
    ("value", "", "Value", "The figure's value (';'-separated by month where monthly)."),
    ("unit", "", "Unit", "The figure's unit."),
    ("basis", "", "Basis", "Study config, or the default's source (or 'assumption: ...')."),
    ("check", "", "Check", "A national total the model is compared with."),
    ("model", "", "Model", "The model's figure."),
    ("published", "", "Published", "The published figure."),
    ("difference", "", "Difference", "Model minus published."),
    ("note", "", "Note", "What explains the difference, with sources."),
    # sites.csv, sites.parquet
    ("site_id", "", "Site", "Site identifier: province code and rank, e.g. PK-SD-001."),
    ("best_cell", "", "Best cell", "H3 cell with the site's highest score."),
    ("best_lat", "°", "Best cell: latitude", "Latitude of the site's best cell."),
    ("best_lon", "°", "Best cell: longitude", "Longitude of the site's best cell."),
    ("n_cells", "cells", "Cells", "Number of H3 cells in the site."),
    ("score_mean", "0-100", "Mean score", "Mean score of the site's cells."),
    ("top_rank", "rank", "Shortlist rank", "1..N within the province for sites at least sites.min_spacing_km apart."),
    # sensitivity.csv
    (
        "p_top_n",
        "0-1",
        "Share of draws in top N",
        "Share of Monte Carlo weight draws in which the site stays in its province's top N.",
    ),
    ("rank_base", "rank", "Rank (chosen weights)", "Rank in province under the profile's weights."),
    ("rank_min", "rank", "Best rank", "Best rank in province over the weight draws."),
    ("rank_median", "rank", "Median rank", "Median rank in province over the weight draws."),
    ("rank_max", "rank", "Worst rank", "Worst rank in province over the weight draws."),
    ("most_influential", "", "Most influential weight", "Criterion whose one-at-a-time sweep moves the rank most."),
    # sensitivity_cells.parquet
    (
        "p_top_5pct",
        "0-1",
        "Share of draws in national top 5 %",
        "Share of the Monte Carlo weight draws in which the cell is among the best 5 % of all cells nationally.",
    ),
    # allocation.csv
    ("allocated_mw", "MW", "Allocated", "Load placed on the site or station by the allocation."),
    ("station", "", "Grid station", "Grid station the site connects to (name and voltage)."),
    ("headroom_mw", "MW", "Station headroom", "Load the grid station can take (see substation_headroom_mw)."),
    # profiles_comparison.csv
    ("same_best_site", "yes/no", "Same best site", "Both profiles choose the same best site in the province."),
    ("top_n_overlap", "sites", "Shared shortlist", "Sites on both profiles' shortlists of the province."),
]

PATTERNS: list[tuple[re.Pattern[str], str, str, str]] = [
    # (regex, unit, label template, description template); groups fill the templates
    (re.compile(r"points_(?P<c>\w+)"), "points", "Points: {c}", "Points the criterion {c} earned in the score."),
    (re.compile(r"value_(?P<c>\w+)"), "0-1", "Value: {c}", "Value function output of {c} (0 worst, 1 best)."),
    (
        re.compile(r"rank_span_(?P<c>\w+)"),
        "ranks",
        "Rank span: {c}",
        "Range of ranks when {c}'s weight is swept ×0.5..×1.5 alone.",
    ),
    (
        re.compile(r"dist_substation_(?P<kv>\d+)kv_km"),
        "km",
        "Distance to {kv} kV substation",
        "Great-circle distance to the nearest substation of the {kv} kV class.",
    ),
    (
        re.compile(r"dist_line_(?P<kv>\d+)kv_km"),
        "km",
        "Distance to {kv} kV line",
        "Great-circle distance to the nearest line of the {kv} kV class, measured to the segment.",
    ),
    (re.compile(r"capacity_(?P<fuel>[a-z_]+)_mw"), "MW", "Capacity: {fuel}", "Counted capacity of fuel {fuel}."),
    (re.compile(r"(?P<p>[a-z_]+)_best_score"), "0-100", "{p}: best score", "Best score under profile {p}."),
    (re.compile(r"(?P<p>[a-z_]+)_best_site"), "", "{p}: best site", "Best site under profile {p}."),
    (re.compile(r"(?P<p>[a-z_]+)_best_lat"), "°", "{p}: best site latitude", "Best site under profile {p}."),
    (re.compile(r"(?P<p>[a-z_]+)_best_lon"), "°", "{p}: best site longitude", "Best site under profile {p}."),
    (re.compile(r"(?P<p>[a-z_]+)_sites"), "sites", "{p}: sites", "Shortlisted sites under profile {p}."),
]

for _name, _unit, _label, _description in _TABLE_COLUMNS:
    FIELDS.setdefault(_name, Field(_name, _unit, _label, _description))


def resolve(name: str) -> Field | None:
    """Return the registered field of a column name, from the table or from a family pattern, or None."""
    if name in FIELDS:
        return FIELDS[name]
    for pattern, unit, label_t, description_t in PATTERNS:
        m = pattern.fullmatch(name)
        if m:
            return Field(name, unit, label_t.format(**m.groupdict()), description_t.format(**m.groupdict()))
    return None
