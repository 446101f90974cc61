"""Raw files → standard, schema-checked layers in ``data/processed/layers/<ISO3>/``.

Vector layers are GeoParquet; grids (climate, elevation, Köppen-Geiger, MODIS land cover) stay GeoTIFF,
checked and copied, because a grid is sampled far faster by index arithmetic than as polygons. ``prepare`` writes every
layer atomically and records what it read in ``layers/<ISO3>/provenance.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from affine import Affine
from numpy.typing import NDArray
from tqdm import tqdm

from siting._errors import DataError
from siting.config import Study
from siting.io import reference
from siting.io.catalog import source_file
from siting.io.files import atomic_path, sha256_file, write_json, write_parquet
from siting.io.paths import layers_dir
from siting.io.regions import find_pack
from siting.kernels.grids import Grid
from siting.layers import boundaries, climate, grid, hazards, places, plants, zones

VECTOR_LAYERS = (
    "country",
    "provinces",
    "lakes",
    "lines",
    "substations",
    "zones",
    "plants",
    "places",
    "connectivity_nodes",
    "flood_2022",
    "faults",
    "earthquakes",
)
RASTER_LAYERS = {
    # layer name: (catalog file, band count, units)
    "t2m_monthly_c": ("era5.t2m", 12, "degC"),
    "elevation_m": ("dem.altitude", 1, None),
    "koppen_class": ("koppen.classes", 1, None),
    "landcover_class": ("modis.landcover", 1, None),
}
HUMIDITY = "humidity"
"""Built grid layer: GLDAS annual specific humidity (g/kg) at 0.25°, band 1 mean, band 2 rms (gldas.stressors)."""
OPTIONAL_GRIDS = {
    "t2m_monthly_c": "the cooling columns (temperatures, degree days, PUE, cooling cost, miner derate) are left "
    "empty and a profile criterion on them is dropped",
    "elevation_m": "the elevation exclusion, the lapse-rate correction and the coast proxy are skipped",
    "koppen_class": "the Köppen-Geiger group is left empty",
    "landcover_class": "the land-cover exclusions are skipped and only the lakes are taken out of the flood extent "
    "as permanent water",
    HUMIDITY: "cooling falls back to the dry-bulb model (no dew-point limit on economiser hours, no "
    "dehumidification) and dew_point_annual_c is left empty",
}
"""Grids a region may lack: what is skipped without them (the layer reads as all nodata)."""
OPTIONAL_LAYERS = {
    "flood_2022": "the flood exclusion is skipped and flooded_2022 is left empty (a profile criterion on it is "
    "dropped)",
    "faults": "dist_active_fault_km is left empty and the seismic criterion on it is dropped",
    "earthquakes": "quakes_m55_within_50km is left empty and the seismic criterion on it is dropped",
}
"""Vector layers a region may lack: what is skipped without them (the layer reads as empty, ``Layers.has`` False)."""
ERA5_CELL_ELEVATION = "era5_cell_elevation_m"
BUILT_GRIDS = {HUMIDITY: "gldas.stressors"}
LINE_FILES = ("osm.lines_500kv", "osm.lines_220kv", "osm.lines_132kv", "osm.lines_66kv", "osm.lines_hvdc")
GEM_FILES = {t: f"gem.{t}" for t in ("coal", "oil_gas", "hydro", "nuclear", "bioenergy")}


def missing_why(path: Path) -> str | None:
    """Why a raw vector or table file cannot stand for its layer (missing, no feature, header only), else None."""
    if not path.is_file():
        return f"no file {path.name}"
    if path.suffix == ".csv":
        return f"{path.name} has a header only" if len(pd.read_csv(path, nrows=1)) == 0 else None
    if path.suffix in (".geojson", ".gpkg", ".shp") and pyogrio.read_info(path).get("features", 1) == 0:
        return f"{path.name} covers nothing (no feature)"
    return None


def grid_missing_why(path: Path, name: str) -> str | None:
    """Why a raw grid cannot stand for its layer (missing, all nodata), else None; refuses an unreadable grid."""
    if not path.is_file():
        return f"no file {path.name}"
    _, bands, units = RASTER_LAYERS[name]
    climate.check_raster(path, name, bands, units)
    return f"{path.name} covers nothing (all nodata)" if np.isnan(climate.load_grid(path).values).all() else None


def _optional_layer(
    name: str, path: Path, degraded: list[str], build: Callable[[Path], gpd.GeoDataFrame]
) -> gpd.GeoDataFrame | None:
    """Build an optional vector layer (:data:`OPTIONAL_LAYERS`) from ``path``, or note why it is skipped (None)."""
    why = missing_why(path)
    if why:
        degraded.append(f"{name}: {why}; {OPTIONAL_LAYERS[name]}")
        return None
    return build(path)


def degraded_notes(folder: Path) -> list[str]:
    """Return the lines saying what ``prepare`` skipped and why (``degraded`` in the layers' provenance.json)."""
    prov = folder / "provenance.json"
    return list(json.loads(prov.read_text()).get("degraded", [])) if prov.is_file() else []


def _substations_file(
    path: Path, out: Path, lines: gpd.GeoDataFrame, study: Study, degraded: list[str]
) -> tuple[Path, str | None]:
    """Return the OSM substations file, or (none usable) a stand-in inferred from the line ends, written beside out."""
    why = missing_why(path)
    if not why:
        return path, None
    stand_in = grid.inferred_substations(lines, study.grid.substation_min_kv)
    path = Path(tempfile.gettempdir()) / f"siting-inferred-substations-{os.getpid()}.geojson"  # not in out: no debris
    stand_in.to_file(path, driver="GeoJSON")
    degraded.append(
        f"substations: {why}; {len(stand_in)} substations inferred from the ends of lines at or above "
        f"{study.grid.substation_min_kv:g} kV, clustered within 2 km and named '{grid.INFERRED_NAME}'"
    )
    return path, why


def _line_paths(raw: Path, degraded: list[str]) -> list[Path]:
    paths = []
    for ref in LINE_FILES:
        path = raw / source_file(ref).raw_relpath
        why = missing_why(path)
        if why:
            degraded.append(f"lines {ref.removeprefix('osm.lines_')}: {why}; that voltage class is left out")
        else:
            paths.append(path)
    if not paths:
        raise DataError(f"no transmission line file in {raw / 'osm'}; siting needs at least one voltage class.")
    return paths


def _lakes(path: Path, country: gpd.GeoDataFrame, degraded: list[str]) -> gpd.GeoDataFrame:
    why = missing_why(path)
    if why:
        degraded.append(f"lakes: {why}; the lake exclusion is skipped")
        return boundaries.no_lakes()
    return boundaries.lakes(path, country)


def _humidity(src: Path, out: Path, degraded: list[str]) -> NDArray[np.float64] | None:
    """Write the humidity grid built from the GLDAS table; without a usable table note it and return None."""
    why = missing_why(src)
    if why:
        degraded.append(f"{HUMIDITY}: {why}; {OPTIONAL_GRIDS[HUMIDITY]}")
        (out / f"{HUMIDITY}.tif").unlink(missing_ok=True)  # no stale grid of an earlier prepare
        return None
    values, transform = climate.humidity_grid(src)
    if np.isnan(values[:2]).any(axis=0).all():
        degraded.append(f"{HUMIDITY}: {src.name} covers nothing (no cell with data); {OPTIONAL_GRIDS[HUMIDITY]}")
        (out / f"{HUMIDITY}.tif").unlink(missing_ok=True)
        return None
    with atomic_path(out / f"{HUMIDITY}.tif") as tmp:
        climate.write_grid(tmp, values, transform, "g/kg")
    return values


REFERENCE_GAPS = {
    "zones.csv": f"the whole region is one network zone ('{zones.WHOLE_REGION_ZONE}') with no interface, its "
    f"demand the zone_demand.csv rows of '{zones.WHOLE_REGION_ZONE}'",
    "interfaces.csv": "the zones exchange no power (every zone hosts on its own plants)",
    "connectivity_nodes.csv": "dist_ixp_km, dist_cable_landing_km, dist_connectivity_km and latency_ms are left "
    "empty (a profile criterion or constraint on them is dropped)",
    "fibre_routes.csv": "dist_fibre_route_km is left empty",
    "idle_plants.csv": "idle_capacity_mw is left empty (a profile criterion on it is dropped)",
    "grid_stations_n1.csv": "no grid station has a headroom figure (0 MW: the allocation places nothing)",
    "constrained_grid_stations.csv": "no station has a published loading or constraint; each takes its class average",
    "renewables_by_province.csv": "no wind or solar capacity is added to the plant trackers'",
}
"""Reference tables a pack may leave with a header only (as ``siting region new`` writes them): what is skipped."""


def reference_gaps(ref: reference.Reference) -> list[str]:
    """One line for each table of :data:`REFERENCE_GAPS` that the pack gives with a header only.

    ``interfaces.csv`` is named only when there are zones to connect (``zones.csv`` has more than one row). A
    table missing altogether is refused where it is read, naming the file to add.
    """
    zone_rows = len(ref.table("zones.csv")) if ref.holds("zones.csv") else 0
    return [
        f"{name}: the region pack's table has a header only; {what}"
        for name, what in REFERENCE_GAPS.items()
        if ref.holds(name) and not ref.has(name) and not (name == "interfaces.csv" and zone_rows < 2)
    ]


def input_files(study: Study) -> list[str]:
    """Catalog references of every raw file the layers are built from."""
    return [
        "naturalearth.admin0",
        "naturalearth.admin1",
        "naturalearth.lakes",
        *LINE_FILES,
        "osm.substations",
        *GEM_FILES.values(),
        "geonames.cities",
        "unosat.flood_2022",
        "gem_faults.faults",
        "usgs.earthquakes",
        *(spec[0] for spec in RASTER_LAYERS.values()),
        *BUILT_GRIDS.values(),
    ]


def prepare(study: Study, raw: Path, processed: Path, progress: bool = True) -> Path:
    """Build every standard layer of the study's region.

    Parameters
    ----------
    study
        The study (region and grid parameters).
    raw
        The ``data/raw`` folder filled by ``siting fetch``.
    processed
        The ``data/processed`` folder.
    progress
        Show a progress bar.

    Returns
    -------
    Path
        The layers folder.

    """
    from siting.io.fetch import check_region, fetched_products  # the downloader (http, ssl): only prepare needs it

    iso3 = study.region.iso3
    check_region(raw, iso3)
    out = layers_dir(processed, iso3)
    products = fetched_products(raw, find_pack(iso3, study.region.path))

    def raw_path(ref: str) -> Path:
        return raw / source_file(ref).raw_relpath

    ref = reference.Reference.for_study(study)
    ref_provinces = ref.provinces

    voltage_record: dict = {}

    degraded: list[str] = reference_gaps(ref)

    def substations() -> gpd.GeoDataFrame:
        units = pd.concat([plants.read_gem(raw_path(r), t) for t, r in GEM_FILES.items()], ignore_index=True)
        path, why = _substations_file(raw_path("osm.substations"), out, built["lines"], study, degraded)
        layer, model = grid.substations_layer(
            path,
            built["lines"],
            study.grid.infer_voltage_within_km,
            units,
            ref.table("substation_kind_rules.csv"),
            ref.table("substation_kinds.csv"),
        )
        voltage_record.update(model.summary())
        if why:
            path.unlink()
        return layer

    built: dict[str, gpd.GeoDataFrame] = {}
    # the MODIS water cells are taken out of the flood extent only where the land-cover grid is usable
    landcover = (
        None if grid_missing_why(raw_path("modis.landcover"), "landcover_class") else raw_path("modis.landcover")
    )
    steps: list[tuple[str, Callable[[], gpd.GeoDataFrame | None]]] = [
        ("country", lambda: boundaries.country(raw_path("naturalearth.admin0"), study.region.name)),
        ("provinces", lambda: boundaries.provinces(raw_path("naturalearth.admin1"), ref_provinces)),
        ("lakes", lambda: _lakes(raw_path("naturalearth.lakes"), built["country"], degraded)),
        ("lines", lambda: grid.lines(_line_paths(raw, degraded))),
        (
            "zones",
            lambda: zones.build_zones(
                built["provinces"],
                ref.table("zones.csv"),
                ref.table("ke_service_area.csv"),
                lambda: ref.value("ke_service_buffer_km"),
                study.region.name,
            ),
        ),
        (
            "plants",
            lambda: plants.operating_plants(
                {t: raw_path(r) for t, r in GEM_FILES.items()},
                built["provinces"],
                status=ref.table("plant_status.csv"),
                renewables=ref.table("renewables_by_province.csv"),
                zones=built["zones"],
                zone_overrides=ref.table("plant_zone_overrides.csv"),
            ),
        ),
        ("substations", substations),
        ("places", lambda: places.places(raw_path("geonames.cities"))),
        ("connectivity_nodes", lambda: places.connectivity_nodes(ref.table("connectivity_nodes.csv"))),
        (
            "flood_2022",
            lambda: _optional_layer(
                "flood_2022",
                raw_path("unosat.flood_2022"),
                degraded,
                lambda path: hazards.flood_2022(path, landcover, built["lakes"]),
            ),
        ),
        ("faults", lambda: _optional_layer("faults", raw_path("gem_faults.faults"), degraded, hazards.faults)),
        (
            "earthquakes",
            lambda: _optional_layer("earthquakes", raw_path("usgs.earthquakes"), degraded, hazards.earthquakes),
        ),
    ]
    # a context and leave=False: the bar is cleared before an error line is printed, never sharing its line
    with tqdm(
        total=len(steps) + len(RASTER_LAYERS) + len(BUILT_GRIDS),
        desc="prepare",
        unit="layer",
        disable=not progress,
        leave=False,
    ) as bar:
        for name, build in steps:
            bar.set_postfix_str(name)
            layer = build()
            if layer is None:  # an optional layer the region lacks: no stale layer of an earlier prepare
                (out / f"{name}.parquet").unlink(missing_ok=True)
            else:
                built[name] = layer
            bar.update()
        for name, (file_ref, bands, units) in RASTER_LAYERS.items():
            bar.set_postfix_str(name)
            src = raw_path(file_ref)
            why = grid_missing_why(src, name) if name in OPTIONAL_GRIDS else None
            if why:
                degraded.append(f"{name}: {why}; {OPTIONAL_GRIDS[name]}")
                (out / f"{name}.tif").unlink(missing_ok=True)  # no stale grid of an earlier prepare
                bar.update()
                continue
            if name not in OPTIONAL_GRIDS:  # an optional one was checked by grid_missing_why
                climate.check_raster(src, name, bands, units)
            with atomic_path(out / f"{name}.tif") as tmp:
                shutil.copyfile(src, tmp)
            bar.update()
        bar.set_postfix_str(HUMIDITY)
        values = _humidity(raw_path(BUILT_GRIDS[HUMIDITY]), out, degraded)
        bar.update()
    for name, gdf in built.items():
        write_parquet(out / f"{name}.parquet", gdf)
    write_json(
        out / "provenance.json",
        {
            "region": study.region.model_dump(),
            "inputs": {
                ref: {"file": str(source_file(ref).raw_relpath), "sha256": sha256_file(raw_path(ref))}
                | ({"product": products[ref]} if ref in products else {})  # cut from another product: its credit
                for ref in input_files(study)
                if raw_path(ref).is_file()
            },
            "degraded": degraded,
            "layers": {name: len(gdf) for name, gdf in built.items()},
            "grids": {
                HUMIDITY: {
                    "source": BUILT_GRIDS[HUMIDITY],
                    "bands": list(climate.HUMIDITY_BANDS),
                    "units": "g/kg",
                    "cells_with_data": 0 if values is None else int((~np.isnan(values[0])).sum()),
                }
            },
            "infer_voltage_within_km": study.grid.infer_voltage_within_km,
            "voltage_classifier": voltage_record,
        },
    )
    return out


LAYER_COLUMNS = {  # what scoring reads of each prepared layer (the full schemas are checked by prepare)
    "country": boundaries.COUNTRY_COLUMNS,
    "provinces": tuple(boundaries.PROVINCE_SCHEMA),
    "lakes": (),
    "lines": tuple(grid.LINE_SCHEMA),
    "substations": tuple(grid.SUBSTATION_SCHEMA),
    "plants": tuple(plants.PLANT_SCHEMA),
    "places": tuple(places.PLACE_SCHEMA),
    "connectivity_nodes": tuple(places.NODE_SCHEMA),
}


def _checked(gdf: gpd.GeoDataFrame, name: str, path: Path) -> gpd.GeoDataFrame:
    """Refuse a valid file that is not this layer (another table copied in its place)."""
    missing = [c for c in LAYER_COLUMNS.get(name, ()) if c not in gdf.columns]
    if missing:
        raise DataError(
            f"{path} (layer '{name}') is not the {name} layer (it lacks column {missing[0]!r}); run `siting "
            f"prepare` again to rebuild it."
        )
    return gdf


@dataclass
class Layers:
    """The standard layers of a region, read lazily from ``data/processed/layers/<ISO3>/``.

    Examples
    --------
    >>> layers = Layers(Path("data/processed/layers/PAK"))  # doctest: +SKIP
    >>> layers.provinces.head()  # doctest: +SKIP

    """

    folder: Path

    def __post_init__(self) -> None:
        self._cache: dict[str, gpd.GeoDataFrame] = {}
        self._grids: dict[str, Grid] = {}
        self._present: dict[str, bool] = {}

    def replace(self, name: str, layer: gpd.GeoDataFrame) -> None:
        """Use ``layer`` in place of the prepared one for this run (a planner's own grid stations)."""
        if name not in VECTOR_LAYERS:
            raise AttributeError(name)
        self._cache[name] = layer

    def has(self, name: str) -> bool:
        """Whether the region has this layer: False for an optional one ``prepare`` skipped (see ``degraded``).

        Vector layers of :data:`OPTIONAL_LAYERS` and grids of :data:`OPTIONAL_GRIDS` may be absent; they then read
        as an empty layer or an all-nodata grid. Decided once per layer, so a copy sent to a worker agrees.
        """
        if name not in self._present:
            file = self.folder / (f"{name}.parquet" if name in VECTOR_LAYERS else f"{name}.tif")
            self._present[name] = file.is_file()
        return self._present[name]

    def __getattr__(self, name: str) -> gpd.GeoDataFrame:
        if name.startswith("_") or name not in VECTOR_LAYERS:
            raise AttributeError(name)
        if name not in self._cache:
            from siting.io.validate import read_vector

            path = self.folder / f"{name}.parquet"
            if name in OPTIONAL_LAYERS and not self.has(name):
                self._cache[name] = hazards.empty(name)
                return self._cache[name]
            if not path.is_file():
                raise DataError(f"layer '{name}' is missing from {self.folder}; run `siting prepare` first.")
            self._cache[name] = _checked(read_vector(path, f"layer '{name}'"), name, path)
        return self._cache[name]

    def grid(self, name: str) -> Grid:
        """Return a grid layer, read into memory once (``t2m_monthly_c``, ``elevation_m``, ``humidity``, ...).

        ``era5_cell_elevation_m`` is derived: the area-weighted mean elevation of each ERA5 cell, on the ERA5
        grid (it stands in for ERA5's own orography in the lapse-rate correction).
        """
        if name not in self._grids:
            absent = name in OPTIONAL_GRIDS and not self.has(name)
            if absent or (name == ERA5_CELL_ELEVATION and not (self.has("elevation_m") and self.has("t2m_monthly_c"))):
                self._grids[name] = self._none(name)
            elif name == ERA5_CELL_ELEVATION:
                values, transform = climate.average_onto(self.raster("elevation_m"), self.raster("t2m_monthly_c"))
                self._grids[name] = Grid(values[None], transform, f"layer '{name}'")
            elif name in RASTER_LAYERS or name in BUILT_GRIDS:
                path = self.raster(name)
                climate.check_exists(path, f"layer '{name}'")
                self._grids[name] = climate.load_grid(path, f"layer '{name}'")
            else:
                raise AttributeError(name)
        return self._grids[name]

    def _none(self, name: str) -> Grid:
        """All-nodata stand-in for a grid the region lacks: on the ERA5 grid, or one cell over the globe without it."""
        bands = len(climate.HUMIDITY_BANDS) if name == HUMIDITY else 12 if name == "t2m_monthly_c" else 1
        if self.has("t2m_monthly_c") and name != "t2m_monthly_c":
            t2m = self.grid("t2m_monthly_c")
            shape, transform = t2m.shape, t2m.transform
        else:
            shape, transform = (1, 1), Affine(360.0, 0.0, -180.0, 0.0, -180.0, 90.0)
        return Grid(np.full((bands, *shape), np.nan), transform, f"layer '{name}' (none)")

    def load(self) -> Layers:
        """Read every layer into memory now, so that the compute that follows opens no file."""
        for name in VECTOR_LAYERS:
            getattr(self, name)
        for name in (*RASTER_LAYERS, *BUILT_GRIDS, ERA5_CELL_ELEVATION):
            self.grid(name)
        return self

    def raster(self, name: str) -> Path:
        """Path of a grid layer (``t2m_monthly_c``, ``elevation_m``, ``koppen_class``)."""
        return self.folder / f"{name}.tif"
