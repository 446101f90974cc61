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
    ZONE = "zone"
    HOSTING_FIRM_MW = "hosting_firm_mw"
    HOSTING_INT_1PCT_MW = "hosting_interruptible_1pct_mw"
    HOSTING_INT_5PCT_MW = "hosting_interruptible_5pct_mw"
    RUN_SHARE_100MW = "run_share_100mw_block"
    HOSTING_ENERGY_GWH = "hosting_energy_gwh"
    IDLE_CAPACITY_MW = "idle_capacity_mw"

    # grid
    VOLTAGE_KV = "voltage_kv"
    VOLTAGE_SOURCE = "voltage_source"
    VOLTAGE_BASIS = "voltage_basis"
    VOLTAGE_PREDICTED_KV = "voltage_predicted_kv"
    VOLTAGE_PROBABILITY = "voltage_probability"
    KIND = "kind"
    KIND_BASIS = "kind_basis"
    LENGTH_KM = "length_km"
    VOLTAGE_CLASS = "voltage_class"

    # criteria
    DIST_SUBSTATION_KM = "dist_substation_km"
    SUBSTATION_KV = "substation_kv"
    SUBSTATION_NAME = "substation_name"
    DIST_LINE_KM = "dist_line_220kv_km"
    SUBSTATION_HEADROOM_MW = "substation_headroom_mw"
    SUBSTATION_CONSTRAINED = "substation_constrained"
    SUBSTATION_FIRM_MVA = "substation_firm_mva"
    SUBSTATION_LOADING = "substation_loading"
    HEADROOM_BASIS = "headroom_basis"
    CONNECTION_COST_MUSD = "connection_cost_musd"
    DIST_IXP_KM = "dist_ixp_km"
    DIST_CABLE_LANDING_KM = "dist_cable_landing_km"
    DIST_FIBRE_ROUTE_KM = "dist_fibre_route_km"
    LATENCY_MS = "latency_ms"
    CDD_CDAYS = "cdd_cdays"
    DEW_POINT_ANNUAL_C = "dew_point_annual_c"
    ECONOMISER_SHARE = "economiser_hours_share"
    MINER_DERATE_SHARE = "miner_derate_share"
    COAST_DIST_KM = "coast_dist_km"
    LAPSE_CORRECTION_C = "lapse_correction_c"
    PUE = "pue"
    COOLING_MWH = "cooling_mwh_per_mw_it_year"
    COOLING_COST_KUSD = "cooling_cost_kusd_per_mw_it_year"
    KOPPEN = "koppen_group"
    T2M_HOTTEST_C = "t2m_hottest_month_c"
    T2M_ANNUAL_C = "t2m_annual_mean_c"
    DIST_CONNECTIVITY_KM = "dist_connectivity_km"
    CONNECTIVITY_NODE = "connectivity_node"
    ELEVATION_M = "elevation_m"
    FLOODED_2022 = "flooded_2022"
    LANDCOVER = "landcover_class"
    DIST_FAULT_KM = "dist_active_fault_km"
    QUAKES_50KM = "quakes_m55_within_50km"
    N_CELLS = "n_cells"
    ZONE_AREA_KM2 = "zone_area_km2"
    ZONE_CELLS = "zone_cells"

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
            F.ZONE, "", "Network zone", "NTDC north, NTDC south or K-Electric: the zone whose network serves the cell."
        ),
        Field(
            F.HOSTING_FIRM_MW,
            "MW",
            "Firm hosting capacity of the zone",
            "New firm load the cell's zone can take in its worst month at peak demand × (1 + reserve margin), "
            "counted plants only, interface limits respected (transport LP).",
        ),
        Field(
            F.HOSTING_INT_1PCT_MW,
            "MW",
            "Interruptible hosting at ≤1 % curtailment",
            "New interruptible load the zone can take with at most 1 % of the year's hours curtailed, from the "
            "monthly load-duration curves and the transport LP.",
        ),
        Field(
            F.HOSTING_INT_5PCT_MW,
            "MW",
            "Interruptible hosting at ≤5 % curtailment",
            "As the 1 % figure, with at most 5 % of the year's hours curtailed.",
        ),
        Field(
            F.RUN_SHARE_100MW,
            "0-1",
            "Running share of a 100 MW block",
            "Share of the year's hours in which a 100 MW interruptible block in the zone runs without displacing "
            "demand.",
        ),
        Field(
            F.HOSTING_ENERGY_GWH,
            "GWh/yr",
            "Zone surplus energy",
            "Energy a year the zone's hosting capacity offers over the load-duration curves (Σ hours × hosting MW).",
        ),
        Field(
            F.IDLE_CAPACITY_MW,
            "MW",
            "Idle paid-for capacity nearby",
            "Σ MW × (1 − load factor) of contracted plants with published low load factors within "
            "surplus.idle_radius_km of the cell.",
        ),
        Field(
            F.DIST_SUBSTATION_KM,
            "km",
            "Distance to substation",
            "Great-circle distance to the nearest grid station (kind grid_station: no HVDC converter or plant "
            "switchyard) at or above the study's minimum voltage.",
        ),
        Field(
            F.SUBSTATION_KV,
            "kV",
            "Nearest substation voltage",
            "Highest voltage of that grid station (tagged in OpenStreetMap, inferred from line ends or by the "
            "classifier; see voltage_basis).",
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
            "Headroom at that grid station (estimate)",
            "N-1 firm capacity ((n−1)/n of nameplate MVA) × power factor × (1 − loading), siting.model.headroom: "
            "named figures where published, class averages elsewhere; zero where NEPRA/NTDC list the station as "
            "overloaded. OpenStreetMap has no transformer capacity.",
        ),
        Field(
            F.SUBSTATION_FIRM_MVA,
            "MVA",
            "N-1 firm capacity",
            "(n−1)/n × nameplate MVA with n transformers: what the station carries with its largest unit out.",
        ),
        Field(
            F.SUBSTATION_LOADING,
            "share",
            "Loading",
            "Loading applied to the firm capacity: NEPRA's figure where published, else the class average "
            "(derived, labelled) or, on the constrained list, constrained_loading.",
        ),
        Field(F.HEADROOM_BASIS, "text", "Headroom basis", "Where the capacity and the loading of a station come from."),
        Field(
            F.KIND,
            "class",
            "Substation kind",
            "grid_station, hvdc_converter, plant_switchyard, traction or unknown (siting.layers.substation_kind); "
            "only grid stations are connection points.",
        ),
        Field(
            F.KIND_BASIS,
            "text",
            "Kind basis",
            "What decided the kind: override (reference table), rule: name/operator/HVDC line end/voltage or grid "
            "word/no evidence, or co-location with a power plant.",
        ),
        Field(
            F.VOLTAGE_BASIS,
            "text",
            "Voltage basis",
            "tagged (OpenStreetMap), line end (highest line ending within 1 km), classifier (random forest kept "
            "for a class whose cross-validated precision is at least 90 %) or unknown.",
        ),
        Field(
            F.VOLTAGE_PREDICTED_KV,
            "kV",
            "Classifier's voltage class",
            "Voltage class the classifier predicts for an untagged substation, kept or not (siting.layers."
            "voltage_model).",
        ),
        Field(
            F.VOLTAGE_PROBABILITY,
            "share",
            "Classifier probability",
            "Share of the forest's trees voting for the predicted class of an untagged substation.",
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
            "Cooling degree days",
            "Sum over months of (monthly mean − base) × days, when positive; lapse-corrected temperatures. The "
            "base is cooling.cdd_base_c (18 °C in cooling_coefficients.csv), recorded in the score provenance.",
        ),
        Field(
            F.DEW_POINT_ANNUAL_C,
            "°C",
            "Annual mean dew point",
            "Dew point of the GLDAS-2.1 2010-2018 mean specific humidity at the standard-atmosphere pressure of "
            "the site elevation (inverse Magnus formula).",
        ),
        Field(
            F.ECONOMISER_SHARE,
            "share of hours",
            "Outside-air (economiser) hours",
            "Share of the year's hours inside the ASHRAE recommended envelope (dry bulb ≤ 27 °C, dew point ≤ "
            "15 °C), from monthly temperatures and an assumed seasonal humidity shape (siting.model.cooling).",
        ),
        Field(
            F.MINER_DERATE_SHARE,
            "share of output",
            "Miner derate in the hottest month",
            "Share of air-cooled ASIC output lost in the hottest month: output falls from full at 35 °C intake "
            "to shutdown at 40 °C (Compass Mining), hourly temperatures spread ± 8 °C about the monthly mean.",
        ),
        Field(
            F.COAST_DIST_KM,
            "km",
            "Distance to the coast (proxy)",
            "Great-circle distance to the stretches of the Natural Earth outline that border the DEM's sea "
            "(south of 25.9 °N, west of Sir Creek); salt air corrodes air-cooled miners near the sea.",
        ),
        Field(F.KOPPEN, "", "Köppen-Geiger main group", "Main climate group (Beck et al. 2018), e.g. 'B arid'."),
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
            "Annual power usage effectiveness of an air-economised facility with air-cooled chillers, from "
            "monthly temperatures and dew points (siting.model.cooling; coefficients in cooling_coefficients.csv).",
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
            "Overhead energy at the tariff and exchange rate of the region's national.csv, per MW of IT load a year.",
        ),
        Field(F.DIST_IXP_KM, "km", "Distance to internet exchange", "Great-circle distance to the nearest PKIX node."),
        Field(
            F.DIST_CABLE_LANDING_KM,
            "km",
            "Distance to cable landing",
            "Great-circle distance to the nearest submarine cable landing (connectivity_nodes.csv).",
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
            "Round trip over fibre to the region's latency anchor (the node flagged in connectivity_nodes.csv): "
            "2 × distance × fibre route factor / speed of light in fibre; switching excluded.",
        ),
        Field(F.ELEVATION_M, "m", "Elevation", "Mean elevation of the ~9 km DEM cell."),
        Field(
            F.FLOODED_2022,
            "0/1",
            "In the 2022 flood extent",
            "1 if the cell centre lies in UNOSAT's VIIRS flood-water extent of 25-31 Aug 2022 after removing "
            "permanent water (Natural Earth lakes, MODIS water cells), else 0.",
        ),
        Field(F.LANDCOVER, "IGBP class", "Land cover (MODIS 2019)", "MODIS MCD12C1 2019 IGBP class, 0.05° cell."),
        Field(
            F.DIST_FAULT_KM,
            "km",
            "Distance to active fault",
            "Great-circle distance to the nearest GEM active fault trace (fold axes not counted); a stated "
            "proxy for surface-rupture and near-field shaking, not a hazard map.",
        ),
        Field(
            F.QUAKES_50KM,
            "count",
            "M5.5+ earthquakes within 50 km",
            "USGS ComCat earthquakes of magnitude 5.5 or more, 1965-2016, with epicentre within 50 km "
            "(great circle); a stated proxy, not a hazard map.",
        ),
        Field(F.N_CELLS, "count", "Cells in the site", "H3 cells of the site (bounded by sites.max_area_km2)."),
        Field(
            F.ZONE_AREA_KM2,
            "km²",
            "Zone area",
            "Area of the site's zone: every connected high-scoring cell of the province around the site, "
            "the site included.",
        ),
        Field(F.ZONE_CELLS, "count", "Cells in the zone", "H3 cells of the site's zone, the site included."),
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
    # surplus: zones, interfaces, roster (surplus_zones*.csv, interface_flows.csv, roster_reconciliation.csv)
    ("legacy_zone", "", "Old model's zone", "Zone of the former two-zone provincial model (north / south)."),
    (
        "firm_surplus_counted_roster_mw",
        "MW",
        "Firm surplus, old model on the corrected roster",
        "The former provincial model's worst-month surplus with only the plants that count.",
    ),
    ("old_model", "", "Old model", "The former provincial model's figure, for comparison."),
    ("peak_mw", "MW", "Peak demand", "Monthly peak demand of the zone."),
    ("average_mw", "MW", "Average demand", "Monthly average demand of the zone (energy / hours)."),
    ("trough_mw", "MW", "Trough demand", "Monthly minimum demand of the zone."),
    ("firm_demand_mw", "MW", "Firm demand", "Peak demand × (1 + reserve margin), what firm hosting must cover."),
    (
        "shed_at_firm_demand_mw",
        "MW",
        "Unserved at firm demand",
        "Demand the zone cannot serve at firm demand "
        "even before new load (the LP keeps it at its minimum; new load never adds to it).",
    ),
    ("binding_interfaces", "", "Binding interfaces", "Interfaces at their limit in that month ('+'-separated)."),
    ("hosted_zone", "", "Zone hosting the new load", "Zone whose hosting capacity the flows were solved for."),
    ("interface", "", "Interface", "A transfer limit between two zones, from → to."),
    ("flow_mw", "MW", "Flow", "Power over the interface in the solution."),
    ("limit_mw", "MW", "Limit", "Transfer limit of the interface (interfaces.csv or the study)."),
    ("binding", "yes/no", "Binding", "The flow or allocation is at its limit."),
    ("counted_capacity_mw", "MW", "Counted capacity", "Capacity of the plants that count, located in the zone."),
    ("peak_demand_max_mw", "MW", "Highest monthly peak", "The zone's highest monthly peak demand."),
    ("firm_worst_month", "", "Worst month (firm)", "Month in which the zone's firm hosting is lowest."),
    ("demand_basis", "", "Demand basis", "Where the zone's demand figures come from."),
    ("counts", "yes/no", "Counts", "Whether the plant counts as deliverable capacity (plant_status.csv)."),
    ("status", "", "Status", "Operating, retired, PPA terminated, offline or commissioned (plant_status.csv)."),
    ("origin", "", "Origin", "Where the plant row comes from: GEM, plant_status.csv or renewables."),
    ("tracker", "", "Tracker", "GEM tracker (fuel family) of the plant."),
    ("idle_plant_nearest", "", "Nearest idle plant", "Nearest contracted plant with a published low load factor."),
    ("dist_idle_plant_km", "km", "Distance to idle plant", "Great-circle distance to that plant."),
    ("placed_mw", "MW", "Placed", "Load the allocation places in the zone."),
    ("from_own_zone_mw", "MW", "Served from the zone", "Part of the placed load served by the zone's own plants."),
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
    (
        re.compile(r"via_(?P<a>[a-z_]+)_to_(?P<b>[a-z_]+)_mw"),
        "MW",
        "Imported {a} → {b}",
        "Extra flow over the interface {a} → {b} caused by the placed load.",
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
