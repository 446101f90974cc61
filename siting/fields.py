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
            "Provincial surplus",
            "Operating capacity in the province minus its share of national peak demand.",
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
            "Great-circle distance to the nearest 220 kV or higher transmission line segment.",
        ),
        Field(
            F.T2M_HOTTEST_C,
            "°C",
            "Hottest-month temperature",
            "Mean 2 m air temperature of the hottest month, ERA5 climatology 2000-2025.",
        ),
        Field(
            F.T2M_ANNUAL_C,
            "°C",
            "Annual mean temperature",
            "Mean 2 m air temperature over the year, ERA5 climatology 2000-2025.",
        ),
        Field(
            F.DIST_CONNECTIVITY_KM,
            "km",
            "Distance to internet exchange / cable landing",
            "Great-circle distance to the nearest internet exchange point or submarine cable landing.",
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
