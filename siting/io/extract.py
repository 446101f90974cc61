"""Cut a region out of an official artefact: one extractor a source kind, each writing the file siting reads.

The kinds (``official_format.kind`` in ``catalog.yml``):

- ``ne_zip``: a Natural Earth zip holding a shapefile; rows whose ``adm0_a3`` (or ``iso_a2``) is the region's,
  or (``filter: bbox``) whose geometry meets the bounding box of the region's admin-0 outline (lakes).
- ``geonames_zip``: the GeoNames country dump ``<ISO2>.zip`` (tab-separated, no header); populated places
  (feature class P) of at least ``min_population`` or seats of an administrative division, as GeoNames'
  ``cities500`` ("population > 500 or seats of adm div down to PPLA4").
- ``table``: a CSV or Excel file (or a zip holding one, ``member``) filtered on a country column: GEM trackers
  (by country name), the WRI Global Power Plant Database (``country == ISO3``).
- ``overpass``: an Overpass API JSON response (``out geom``) → substations (points; areas by their centroid) or
  lines of one voltage class (``class``: 500, 220, 132, 66 kV or ``hvdc``).
- ``koppen_zip``, ``dem_tiles``: global rasters cut to the region's bounding box (:mod:`siting.io.rasters`).
- ``cds``: ERA5 monthly means from the Copernicus Climate Data Store → 12-band climatology (:mod:`siting.io.era5`).
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from siting._errors import DataError
from siting.io import era5, rasters

GEONAMES_COLUMNS = [
    "geonameid", "name", "asciiname", "alternatenames", "latitude", "longitude", "feature_class", "feature_code",
    "countrycode", "cc2", "admin1code", "admin2code", "admin3code", "admin4code", "population", "elevation", "dem",
    "timezone", "modification_date",
]  # fmt: skip
"""The columns of a GeoNames dump (download.geonames.org/export/dump/readme.txt)."""
SEAT_CODES = ("PPLC", "PPLA", "PPLA2", "PPLA3", "PPLA4")
CITIES_COLUMNS = ["geonameid", "name", "latitude", "longitude", "countrycode", "population", "timezone", "admin1code",
                  "alternatenames"]  # fmt: skip
VOLTAGE_CLASSES_V = {"500": 500_000, "220": 220_000, "132": 132_000, "66": 66_000}
"""Lower bound of each AC class in volts (up to the next class); a line is in every class one of its voltages is."""
OVERPASS_QUERY = """[out:json][timeout:1800];
area["ISO3166-1"="{iso2}"][admin_level=2]->.a;
(nwr["power"="substation"](area.a); way["power"~"^(line|minor_line|cable)$"](area.a);
 relation["route"="power"](area.a););
out geom;"""
"""The documented Overpass query: substations, lines (every voltage) and power routes (the voltage of member ways
that carry none) inside the country's admin_level 2 area."""


@dataclass(frozen=True)
class Region:
    """What an extractor needs to know of the region."""

    iso3: str
    iso2: str
    name: str
    outline: gpd.GeoDataFrame | None = None
    """The region's admin-0 outline, once extracted (for ``filter: bbox``)."""


def _lower(df: pd.DataFrame) -> dict[str, str]:
    return {str(c).lower(): str(c) for c in df.columns}


def ne_zip(artefact: Path, dest: Path, region: Region, rule: dict) -> int:
    """Cut a Natural Earth zip into a GeoJSON of the region's rows; returns the number of features."""
    try:
        layer = gpd.read_file(f"zip://{artefact}")
    except Exception as exc:  # pyogrio's own errors
        raise DataError(f"{artefact} is not a Natural Earth shapefile zip ({exc}); delete it and fetch again.") from exc
    how = rule.get("filter", "adm0_a3")
    if how == "bbox":
        if region.outline is None:
            raise DataError("the lakes are cut by the admin-0 outline; fetch naturalearth.admin0 first.")
        out = layer[layer.intersects(shapely.box(*region.outline.total_bounds))]
    else:
        cols = _lower(layer)
        col = cols.get(how.lower())
        if col is None:
            raise DataError(f"{artefact} has no column {how}; is it the Natural Earth file the catalog names?")
        value = region.iso2 if how.lower().startswith("iso_a2") else region.iso3
        out = layer[layer[col] == value]
    keep = rule.get("columns")
    if keep:
        cols = _lower(out)
        out = out[[cols[c.lower()] for c in keep if c.lower() in cols] + ["geometry"]]
    out.reset_index(drop=True).to_file(dest, driver="GeoJSON")
    return len(out)


def geonames_zip(artefact: Path, dest: Path, region: Region, rule: dict) -> int:
    """Cut the GeoNames country dump into a CSV of populated places with at least ``min_population`` people."""
    member = f"{region.iso2}.txt"
    with zipfile.ZipFile(artefact) as zf:
        if member not in zf.namelist():
            raise DataError(f"{artefact} holds no {member}; is it the GeoNames dump of {region.iso2}?")
        with zf.open(member) as fh:
            dump = pd.read_csv(fh, sep="\t", header=None, names=GEONAMES_COLUMNS, dtype=str, keep_default_na=False,
                               quoting=3)  # fmt: skip
    pop = pd.to_numeric(dump["population"], errors="coerce").fillna(0)
    seat = dump["feature_code"].isin(SEAT_CODES)
    out = dump[(dump["feature_class"] == "P") & ((pop >= float(rule.get("min_population", 500))) | seat)]
    out[CITIES_COLUMNS].to_csv(dest, index=False)
    return len(out)


def _read_table(artefact: Path, rule: dict) -> pd.DataFrame:
    member = rule.get("member")
    if artefact.suffix == ".zip":
        with zipfile.ZipFile(artefact) as zf:
            names = [n for n in zf.namelist() if n.endswith(member or ".csv")]
            if not names:
                raise DataError(f"{artefact} holds no {member or 'CSV file'}; is it the catalogued artefact?")
            with zf.open(names[0]) as fh:
                return pd.read_csv(fh, dtype=str, keep_default_na=False)
    if artefact.suffix in (".xlsx", ".xls"):
        return pd.read_excel(artefact, sheet_name=rule.get("sheet", 0), dtype=str).fillna("")
    return pd.read_csv(artefact, dtype=str, keep_default_na=False)


def table(artefact: Path, dest: Path, region: Region, rule: dict) -> int:
    """Cut a CSV/Excel table (or a zip holding one) into a CSV of the rows whose country column is the region's."""
    df = _read_table(artefact, rule)
    col = rule.get("column")
    if col is None:  # GEM's trackers name it "Country/Area", "country", "country/area", ...
        col = next((c for c in df.columns if str(c).lower().startswith("country")), None)
    if col not in df.columns:
        raise DataError(f"{artefact} has no country column {col or ''}; is it the catalogued artefact?")
    value = region.iso3 if rule.get("match") == "iso3" else region.name
    out = df[df[col] == value]
    out.to_csv(dest, index=False)
    return len(out)


def _voltages(raw: object) -> list[float]:
    """Volts of an OSM ``voltage`` tag: ``;``-separated, a number below 1,000 read as kV (``220``, ``220kv``)."""
    vals = []
    for part in str(raw or "").replace(",", ";").split(";"):
        m = re.match(r"\s*(\d+(?:\.\d+)?)", part)
        if m:
            v = float(m.group(1))
            vals.append(v * 1000 if v < 1000 else v)
    return vals


def _in_class(voltages: list[float], klass: str) -> float | None:
    """Return the highest of a line's voltages in an AC class (a ``220000;132000`` line is in both), else None."""
    lower = VOLTAGE_CLASSES_V[klass]
    upper = min((b for b in VOLTAGE_CLASSES_V.values() if b > lower), default=float("inf"))
    inside = [v for v in voltages if lower <= v < upper]
    return max(inside) if inside else None


def _relation_voltages(doc: dict) -> dict[int, str]:
    """Way id → the ``voltage`` of a ``route=power`` relation holding it (for ways without their own)."""
    out: dict[int, str] = {}
    for el in doc.get("elements", []):
        tags = el.get("tags", {})
        if el.get("type") == "relation" and tags.get("route") == "power" and tags.get("voltage"):
            for m in el.get("members", []):
                if m.get("type") == "way":
                    out.setdefault(int(m["ref"]), tags["voltage"])
    return out


def _line_rows(doc: dict, klass: str) -> list[dict]:
    rows, seen = [], set()
    from_relation = _relation_voltages(doc)
    for el in doc.get("elements", []):
        tags = dict(el.get("tags", {}))
        source = "osm"
        if el.get("type") == "way" and not tags.get("voltage") and el.get("id") in from_relation:
            tags["voltage"], source = from_relation[el["id"]], "osm-relation"
        if el.get("type") != "way" or tags.get("power") not in ("line", "minor_line", "cable") or "geometry" not in el:
            continue
        if el["id"] in seen:
            continue
        seen.add(el["id"])
        vals = _voltages(tags.get("voltage"))
        hvdc = tags.get("frequency") == "0" or tags.get("line") == "dc"
        v = (max(vals) if vals else None) if klass == "hvdc" else _in_class(vals, klass)
        if hvdc != (klass == "hvdc") or (v is None and klass != "hvdc"):
            continue
        coords = [(p["lon"], p["lat"]) for p in el["geometry"]]
        if len(coords) < 2:
            continue
        raw = tags.get("voltage") if source == "osm" else None
        rows.append({"source": source, "osm_id": el["id"], "voltage": int(v) if v is not None else None,
                     "voltage_raw": raw, "is_hvdc": hvdc, "name": tags.get("name"),
                     "operator": tags.get("operator"), "power_kind": tags.get("power"),
                     "geometry": shapely.LineString(coords)})  # fmt: skip
    return rows


def _substation_rows(doc: dict) -> list[dict]:
    rows, seen = [], set()
    for el in doc.get("elements", []):
        tags = el.get("tags", {})
        if tags.get("power") != "substation" or (el["type"], el["id"]) in seen:
            continue
        seen.add((el["type"], el["id"]))
        if el["type"] == "node":
            geom = shapely.Point(el["lon"], el["lat"])
        elif "geometry" in el and len(el["geometry"]) >= 3:
            ring = [(p["lon"], p["lat"]) for p in el["geometry"]]
            geom = shapely.Polygon(ring).centroid if len(ring) >= 4 else shapely.MultiPoint(ring).centroid
        elif "bounds" in el:
            b = el["bounds"]
            geom = shapely.box(b["minlon"], b["minlat"], b["maxlon"], b["maxlat"]).centroid
        else:
            continue
        rows.append({"source": "osm", "osm_id": el["id"], "osm_type": el["type"], "kind": "substation",
                     "name": tags.get("name"), "voltage": tags.get("voltage"), "operator": tags.get("operator"),
                     "plant_source": None, "plant_output": None, "capacity_mw": None, "geometry": geom})  # fmt: skip
    return rows


def overpass(artefact: Path, dest: Path, region: Region, rule: dict) -> int:
    """Cut an Overpass JSON response (``out geom``) into a GeoJSON of substations or of one voltage class of lines."""
    try:
        doc = json.loads(artefact.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{artefact} is not an Overpass JSON response ({exc}); delete it and fetch again.") from exc
    rows = _substation_rows(doc) if rule.get("select") == "substations" else _line_rows(doc, str(rule["class"]))
    if rows:
        out = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    else:
        out = gpd.GeoDataFrame({"osm_id": []}, geometry=gpd.GeoSeries([], crs=4326))
    out.to_file(dest, driver="GeoJSON")
    return len(out)


EXTRACTORS = {
    "ne_zip": ne_zip,
    "geonames_zip": geonames_zip,
    "table": table,
    "overpass": overpass,
    "koppen_zip": rasters.koppen_zip,
    "dem_tiles": rasters.dem_tiles,
    "cds": era5.climatology,
}
"""Extractor of each ``official_format.kind``: ``(artefact, dest, region, rule) -> number of features or cells``."""
NEEDS_OUTLINE = ("koppen_zip", "dem_tiles", "cds")
"""Kinds cut by the bounding box of the region's admin-0 outline (as ``ne_zip`` with ``filter: bbox``)."""
