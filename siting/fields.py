"""Column names used across siting, each carrying its unit, with a label a planner can read.

This is the one place where a column is named. Code refers to ``F.DIST_SUBSTATION_KM`` rather than to
the string, and maps, tables and the README take the label and description from here, so a score table
or a popup explains itself without the code.
"""

from __future__ import annotations

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
    LATENCY_MS = "latency_karachi_ms"
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
            "Round-trip latency to Karachi landing",
            "2 × distance × fibre route factor / speed of light in fibre; switching delay excluded.",
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
    field = FIELDS.get(name)
    return f"{field.label} ({field.unit})" if field else name
