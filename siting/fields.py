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
