"""The stages that chain fetch → prepare → score → map, with the paths each reads and writes.

The command line and the notebooks call these; each stage reads only what the stage before it wrote.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting import __version__, config
from siting._errors import ConfigError
from siting.config import Profile, Study
from siting.decide import scoring
from siting.decide.sites import build as build_sites
from siting.decide.sites import build_from as sites_from
from siting.fields import F
from siting.io import reference
from siting.io.catalog import load_catalog
from siting.io.files import sha256_file, write_atomic, write_csv, write_json, write_parquet
from siting.io.paths import SITE_CELLS_FILE, Paths
from siting.kernels.geodesy import PointIndex
from siting.layers import Layers
from siting.model import candidates, cooling, criteria, surplus


def load_study(study: str = "pakistan", profile: str | None = None) -> tuple[Study, Profile]:
    """Load and validate a study and its profile, including the province names its ``surplus`` section uses.

    Parameters
    ----------
    study
        A study name (``configs/studies/<name>.yml``) or a path to a study file.
    profile
        A profile name or file; default the study's own ``profile``.

    Returns
    -------
    tuple of Study and Profile

    Raises
    ------
    ConfigError
        Naming the file or key, for a bad file or a province override that names no province.

    """
    st, prof = config.load_study(study, profile)
    try:
        reference.normalise_province_keys(st.surplus, reference.Reference.for_study(st))
    except ConfigError as exc:
        raise ConfigError(f"{config.study_path(study)}: {exc}") from exc
    return st, prof


@dataclass
class Result:
    """What ``score_study`` computed, for notebooks and the map."""

    scored: gpd.GeoDataFrame
    surplus: pd.DataFrame
    provinces: pd.DataFrame
    top: pd.DataFrame
    excluded: dict[str, int]
    surplus_model: surplus.SurplusModel | None = None
    constraints: dict[str, int] | None = None  # candidates removed by each hard constraint of the profile
    weights: dict[str, float] | None = None  # the weights used (direct, AHP or entropy)
    sites: pd.DataFrame | None = None  # siting.decide.sites: adjacent high-scoring cells merged, ranked, spaced
    site_cells: pd.Series | None = None  # index: H3 cell, value: the site it belongs to
    province_shapes: gpd.GeoDataFrame | None = None  # the province polygons, for the GeoPackage
    scores_dataset: Path | None = None  # a partitioned run: the staged dataset; ``scored`` holds its top cells
    n_scored: int | None = None  # a partitioned run: candidates scored (``len(scored)`` in process)
    partitions: dict | None = None  # a partitioned run: how many, parent resolution, workers' peak RSS

    @property
    def count(self) -> int:
        """Candidates scored."""
        return len(self.scored) if self.n_scored is None else self.n_scored


def score_study(study: Study, profile: Profile, layers: Layers, points: gpd.GeoDataFrame | None = None) -> Result:
    """Score every candidate of a study (pure: reads layers, writes nothing).

    Parameters
    ----------
    study, profile
        Validated configuration.
    layers
        The region's standard layers.
    points
        A planner's own candidate points (:func:`siting.layers.userdata.read_points`) to score instead of H3 cells;
        they keep their ``candidate_id`` and are not merged into sites.

    Returns
    -------
    Result

    """
    ref = reference.Reference.for_study(study)
    layers.load()  # everything in memory: the compute below opens no file
    if points is None:
        cand = candidates.build(layers, study.candidates)
    else:
        cand = candidates.from_points(points, layers, study.candidates)
    zones, plants = study_zones(study, layers, ref)
    model = surplus.provincial_surplus(study, layers.provinces, plants, ref, zones=zones)
    table = model.provinces
    crit = criteria.compute(cand.cells, layers, study, table, ref, zonal=model.zones)
    excluded = cand.excluded
    del cand  # the criteria table holds a copy of the candidates' columns: free them before scoring copies it
    evaluated = scoring.evaluate(crit, profile)
    del crit
    scored = gpd.GeoDataFrame(evaluated.table, geometry="geometry", crs=4326)
    top = scoring.top_sites(scored, study.ranking.top_n)
    top = _with_nearest_place(top, layers.places)
    built = (
        None if points is not None else build_sites(scored.drop(columns="geometry"), profile.sites, study.ranking.top_n)
    )
    return Result(
        scored, table, province_summary(table, scored, top), top, excluded, model,
        constraints=evaluated.removed, weights=evaluated.weights,
        sites=None if built is None else built.table,
        site_cells=None if built is None else built.members,
        province_shapes=layers.provinces[[F.ISO_3166_2, "geometry"]],
    )  # fmt: skip


def score_study_partitioned(
    study: Study,
    profile: Profile,
    layers: Layers,
    client,
    staging: Path,
    polygons: bool = False,
    cells_per_partition: int | None = None,
) -> Result:
    """:func:`score_study` partition by partition on a dask.distributed cluster (:mod:`siting.cluster`).

    The cells go to ``staging`` (a folder of GeoParquet parts, committed by :func:`write_outputs`); the small
    tables (top cells, sites, provinces) are reduced from the partitions and equal the in-process ones.
    """
    from siting import cluster

    ref = reference.Reference.for_study(study)
    layers.load()
    zones, plants = study_zones(study, layers, ref)
    model = surplus.provincial_surplus(study, layers.provinces, plants, ref, zones=zones)
    run = cluster.score_partitioned(
        client, layers, study, profile, model.provinces, ref, model.zones, staging, polygons,
        cells_per_partition or cluster.CELLS_PER_PARTITION,
    )  # fmt: skip
    top_cells = scoring.top_sites(run.top, study.ranking.top_n)
    top = _with_nearest_place(top_cells, layers.places)
    built = sites_from(run.high, profile.sites, study.ranking.top_n)
    return Result(
        gpd.GeoDataFrame(top_cells, geometry=gpd.points_from_xy(top_cells[F.LON], top_cells[F.LAT]), crs=4326),
        model.provinces, province_summary(model.provinces, run.counts, top), top, run.excluded, model,
        constraints=run.removed, weights=run.weights, sites=built.table, site_cells=built.members,
        province_shapes=layers.provinces[[F.ISO_3166_2, "geometry"]], scores_dataset=run.dataset,
        n_scored=run.n_scored,
        partitions={"count": run.n_partitions, "parent_resolution": run.parent_resolution,
                    "worker_peak_rss_mb": run.worker_peak_rss_mb},
    )  # fmt: skip


def study_zones(study: Study, layers: Layers, ref: reference.Reference) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the zones layer, or the study's own polygons (``surplus.zones_file``: GeoJSON/GPKG, ``zone`` column).

    Returns the zones and the plants; a study's own zones re-assign the plants to zones (point in polygon, then
    the grid-connection overrides) on a copy of the plants layer.
    """
    if study.surplus.zones_file is None:
        return layers.zones, layers.plants
    from siting.layers import plants as plant_layer
    from siting.layers import zones as zone_layer

    path = Path(study.surplus.zones_file)
    if not path.is_file():
        raise ConfigError(f"surplus.zones_file: {path} does not exist.")
    known = set(ref.table("zones.csv")["zone"])
    own = zone_layer.read_zones_file(gpd.read_file(path), known, f"surplus.zones_file {path}")
    plants = layers.plants.assign(
        zone=plant_layer.assign_zones(layers.plants, own, ref.table("plant_zone_overrides.csv"))
    )
    return own, plants


def _with_nearest_place(top: pd.DataFrame, places: gpd.GeoDataFrame) -> pd.DataFrame:
    km, idx = PointIndex(places.geometry.x, places.geometry.y).nearest(top[F.LON], top[F.LAT])
    out = top.copy()
    out["nearest_place"] = places[F.NAME].to_numpy()[idx]
    out["dist_place_km"] = km
    return out


def province_summary(table: pd.DataFrame, scored: pd.DataFrame | pd.Series, top: pd.DataFrame) -> pd.DataFrame:
    """One row a province: surplus figures, candidate count, best score and best site.

    ``scored``: the scored cells, or (a partitioned run) their count per province.
    """
    counts = scored if isinstance(scored, pd.Series) else scored.groupby(F.ISO_3166_2).size()
    best = top[top[F.RANK_IN_PROVINCE] == 1].set_index(F.ISO_3166_2)
    cols = [F.ISO_3166_2, F.PROVINCE, F.POPULATION, F.CAPACITY_MW, F.PEAK_DEMAND_MW, "zone"]
    cols += [F.FIRM_SURPLUS_MW, F.SURPLUS_MW, F.SURPLUS_ENERGY_GWH, "worst_month"]
    cols += [c for c in ("legacy_zone", "firm_surplus_counted_roster_mw", *surplus.ZONE_COLUMNS) if c in table.columns]
    cols = [c for c in cols if c in table.columns]
    out = table[cols].copy()
    out["candidate_count"] = out[F.ISO_3166_2].map(counts).fillna(0).astype(np.int64)
    out["best_score"] = out[F.ISO_3166_2].map(best[F.SCORE])
    out["best_site_h3_cell"] = out[F.ISO_3166_2].map(best[F.CELL])
    out["best_site_lat"] = out[F.ISO_3166_2].map(best[F.LAT])
    out["best_site_lon"] = out[F.ISO_3166_2].map(best[F.LON])
    out["best_site_near"] = out[F.ISO_3166_2].map(best["nearest_place"])
    return out.sort_values(F.SURPLUS_MW, ascending=False).reset_index(drop=True)


def remove_stale_parts(folder: Path, keep: Path | None = None) -> list[Path]:
    """Delete the temporary files and folders (``.<name>.*.part*``) a run killed mid-write left in ``folder``.

    ``keep``: this run's own staging folder.
    """
    stale = sorted(p for p in folder.glob(".*.part*") if p != keep) if folder.is_dir() else []
    for p in stale:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return stale


def staging_dir(dest: Path) -> Path:
    """Return a temporary folder beside ``dest`` (``.<name>.<random>.part``) that :func:`remove_stale_parts` knows."""
    return dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.part")


def commit_folder(staging: Path, dest: Path) -> Path:
    """Rename a finished folder (or file) onto ``dest``; what was there is moved aside first, then removed."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.old.part")
        os.replace(dest, old)
    os.replace(staging, dest)
    if old is not None:
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    return dest


def _sha256_dataset(folder: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for part in sorted(folder.glob("*.parquet")):
        h.update(part.name.encode() + b"\0" + sha256_file(part).encode())
    return h.hexdigest()


def hexagons(cells: pd.Series) -> np.ndarray:
    """H3 cell polygons (lon/lat) for a series of cell ids: :func:`siting.model.candidates.cell_polygons`."""
    return candidates.cell_polygons(cells)


POLYGONS_AUTO_MAX = 250_000  # scores.parquet holds hexagons up to this many cells (or with --polygons), else centres


def gis_layers(result: Result, study: Study, profile: Profile) -> dict[str, gpd.GeoDataFrame]:
    """Return the GeoPackage layers a GIS user opens: ``sites``, ``top_cells`` and ``provinces``.

    Sites are the union of their member hexagons; the top cells (``top_sites.csv``) are hexagons (points for
    the planner's own candidates); provinces carry the province summary. The full cell table is
    ``scores.parquet``.
    """
    top = result.top.drop(columns="geometry", errors="ignore")
    user_points = "candidate_id" in top.columns
    geom = gpd.points_from_xy(top[F.LON], top[F.LAT]) if user_points else hexagons(top[F.CELL])
    out = {"top_cells": gpd.GeoDataFrame(top, geometry=geom, crs=4326)}
    if result.sites is not None and result.site_cells is not None and len(result.sites):
        members = pd.DataFrame({"site_id": result.site_cells.to_numpy(), "g": hexagons(result.site_cells.index)})
        shapes = members.groupby("site_id", sort=False)["g"].agg(lambda g: shapely.union_all(g.to_numpy()))
        sites = result.sites.copy()
        out["sites"] = gpd.GeoDataFrame(sites, geometry=shapes.reindex(sites["site_id"]).to_numpy(), crs=4326)
    if result.province_shapes is not None:
        shapes = result.province_shapes.set_index(F.ISO_3166_2).geometry
        prov = result.provinces.round(CSV_DECIMALS)
        out["provinces"] = gpd.GeoDataFrame(prov, geometry=shapes.reindex(prov[F.ISO_3166_2]).to_numpy(), crs=4326)
    return out


def _write_gis(dest: Path, gis: dict[str, gpd.GeoDataFrame]) -> Path:
    def writer(p: Path) -> None:
        for i, (layer, gdf) in enumerate(gis.items()):
            gdf.to_file(p, layer=layer, driver="GPKG", engine="pyogrio", **({"append": True} if i else {}))

    return write_atomic(dest, writer)


CSV_DECIMALS = 4  # tables for people: 0.1 m, 0.0001 MW, 0.0001 °C are far below the data's precision

TABLE_COLUMNS = [
    F.ISO_3166_2,
    F.PROVINCE,
    F.RANK_IN_PROVINCE,
    F.RANK_NATIONAL,
    F.SCORE,
    F.CELL,
    F.LAT,
    F.LON,
    "nearest_place",
    "dist_place_km",
]


def _surplus_tables(out: Path, result: Result) -> dict[str, Path]:
    model = result.surplus_model
    if model is None:
        return {}
    files = {
        "surplus_monthly": write_csv(out / "surplus_monthly.csv", model.monthly.round(CSV_DECIMALS)),
        "surplus_figures": write_csv(out / "surplus_figures.csv", model.figures),
        "national_checks": write_csv(out / "national_checks.csv", model.national.round(CSV_DECIMALS)),
    }
    if model.zones is not None:
        zm = model.zones
        files["surplus_zones"] = write_csv(out / "surplus_zones.csv", zm.zones.round(CSV_DECIMALS))
        files["surplus_zones_monthly"] = write_csv(out / "surplus_zones_monthly.csv", zm.monthly.round(CSV_DECIMALS))
        files["interface_flows"] = write_csv(out / "interface_flows.csv", zm.flows.round(CSV_DECIMALS))
    if model.roster is not None:
        files["roster_reconciliation"] = write_csv(out / "roster_reconciliation.csv", model.roster.round(CSV_DECIMALS))
    return files


def write_outputs(
    paths: Paths,
    study: Study,
    profile: Profile,
    result: Result,
    inputs: dict,
    extra: dict | None = None,
    polygons: bool | None = None,
) -> dict[str, Path]:
    """Write scores (GeoParquet), the GIS layers (GeoPackage), province summary, top sites and provenance.

    Temporary files a killed earlier run left in the output folder (``.<name>.*.part*``) are removed first.
    ``extra`` is merged into ``provenance.json`` (the command line records the command and any user files).
    ``scores.parquet`` holds hexagons with ``polygons=True``, cell centres with ``False``; by default
    (``None``) hexagons up to ``POLYGONS_AUTO_MAX`` cells. The GeoPackage holds :func:`gis_layers`.

    Returns
    -------
    dict of str to Path
        Output name to path.

    """
    out = paths.out
    remove_stale_parts(out, keep=result.scores_dataset)
    if result.scores_dataset is None and paths.scores.is_dir():  # a partitioned run's dataset before
        shutil.rmtree(paths.scores)
    scored = result.scored.drop(columns="geometry")
    crit_cols = [c for c in scored.columns if c not in TABLE_COLUMNS]
    user_points = "candidate_id" in scored.columns  # the planner's own points stay points
    draw = not user_points and (len(scored) <= POLYGONS_AUTO_MAX if polygons is None else polygons)
    draw = draw and result.scores_dataset is None  # a partitioned run wrote its cells already
    geometry = hexagons(scored[F.CELL]) if draw else result.scored.geometry.values
    scored_hex = gpd.GeoDataFrame(scored, geometry=geometry, crs=4326)
    top = result.top.drop(columns="geometry", errors="ignore")
    top = top[[*TABLE_COLUMNS, *[c for c in crit_cols if c in top.columns]]]
    files = {
        "scores": (
            write_parquet(paths.scores, scored_hex)
            if result.scores_dataset is None
            else commit_folder(result.scores_dataset, paths.scores)
        ),
        "scores_gpkg": _write_gis(out / "scores.gpkg", gis_layers(result, study, profile)),
        "provinces": write_csv(out / "provinces.csv", result.provinces.round(CSV_DECIMALS)),
        "surplus": write_csv(out / "surplus.csv", result.surplus.round(CSV_DECIMALS)),
        **_surplus_tables(out, result),
        "top_sites": write_csv(out / "top_sites.csv", top.round(CSV_DECIMALS)),
    }
    if result.sites is not None:
        files["sites"] = write_csv(out / "sites.csv", result.sites.round(CSV_DECIMALS))
        files["sites_parquet"] = write_parquet(out / "sites.parquet", result.sites)
    if result.site_cells is not None:  # which cell belongs to which site: sensitivity reads these, never rebuilds
        cells = pd.DataFrame({F.CELL: result.site_cells.index.to_numpy(), "site_id": result.site_cells.to_numpy()})
        files["site_cells"] = write_parquet(out / SITE_CELLS_FILE, cells)
    catalog = load_catalog()
    prov = {
        "siting_version": __version__,
        "python": platform.python_version(),
        "study": study.model_dump(),
        "profile": profile.model_dump(by_alias=True),
        "weights": result.weights,
        "cooling": {  # the coefficients the cooling columns used (cdd_cdays is on base cdd_base_c)
            "table": f"siting/reference/{study.region.iso3}/{cooling.REFERENCE_TABLE}",
            "overridden": sorted(study.cooling),
            "params": cooling.cooling_params(
                reference.table(study.region.iso3, cooling.REFERENCE_TABLE), study.cooling
            ).as_dict(),
        },
        "inputs": inputs,
        "sources": {
            sid: {"title": s.title, "licence": s.licence, "attribution": s.attribution, "official": s.official}
            for sid, s in catalog.items()
        },
        "candidates": {"scored": result.count, "excluded": result.excluded, "constraints": result.constraints},
        "outputs": {
            name: {"file": p.name, "sha256": _sha256_dataset(p) if p.is_dir() else sha256_file(p)}
            for name, p in files.items()
            if name != "scores_gpkg"
        },  # GeoPackage embeds a write time, so no stable hash; a dataset's hash is over its parts' hashes
        **({"partitions": result.partitions} if result.partitions else {}),
        **(extra or {}),
    }
    files["provenance"] = write_json(out / "provenance.json", prov)
    return files


@dataclass
class ScoreRun:
    """What the ``score`` stage did: the result, the files written and any warnings about the inputs."""

    result: Result
    files: dict[str, Path]
    warnings: list[str]


def score(  # noqa: PLR0913  (the files a planner may bring, then how to partition)
    data: Path,
    study: Study,
    profile: Profile,
    candidates_file: Path | None = None,
    substations_file: Path | None = None,
    drop_outside: bool = False,
    study_ref: str | None = None,
    polygons: bool | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    worker_memory: str | None = None,
    partition_above: int | None = None,
    partition_cells: int | None = None,
) -> ScoreRun:
    """Run the ``score`` stage: score a study and write its outputs, with the planner's own files if given.

    ``candidates_file`` replaces the H3 cells by the planner's points (outputs in ``<profile>_user/``);
    ``substations_file`` replaces the OpenStreetMap substations for this run. Both are recorded with their
    sha256 in ``provenance.json``, with the command that reruns the stage (``study_ref``: the study as the
    user named it, a name or a file; default its name). ``polygons``: hexagons in ``scores.parquet`` (True),
    cell centres (False), or hexagons up to ``POLYGONS_AUTO_MAX`` cells (None).

    Partitioned on dask.distributed (:func:`score_study_partitioned`) with ``workers`` (a LocalCluster, each
    worker limited to ``worker_memory``), ``scheduler`` (an existing cluster's address), or when the study's
    estimated cells exceed ``partition_above`` (default ``siting.cluster.PARTITION_ABOVE_CELLS``); the
    planner's own candidates are always scored in process. ``partition_cells``: cells a partition holds
    at most (default ``siting.cluster.CELLS_PER_PARTITION``).

    Returns
    -------
    ScoreRun

    """
    from siting.layers.userdata import read_points, read_substations

    paths = Paths(data, study, "_user" if candidates_file else "")
    layers = Layers(paths.layers)
    command = [
        "siting",
        "--data-dir",
        str(data),
        "score",
        "--study",
        study_ref or study.name,
        "--profile",
        profile.name,
    ]
    user_files: dict[str, dict[str, str]] = {}
    points, warnings = None, list[str]()
    if candidates_file or substations_file:
        outline = layers.country.geometry.iloc[0]
    if substations_file:
        layers.replace("substations", read_substations(substations_file, outline, study.region.name))
        command += ["--substations", str(substations_file)]
        user_files["substations"] = _file_record(substations_file)
    if candidates_file:
        points, warnings = read_points(candidates_file, outline, study.region.name, drop_outside)
        command += ["--candidates", str(candidates_file)] + (["--drop-outside"] if drop_outside else [])
        user_files["candidates"] = _file_record(candidates_file)
    if points is None and _partitioned(layers, study, workers, scheduler, partition_above):
        from siting import cluster

        client = cluster.client_for(workers, scheduler, worker_memory or cluster.DEFAULT_WORKER_MEMORY)
        try:
            result = score_study_partitioned(
                study, profile, layers, client, staging_dir(paths.scores), bool(polygons), partition_cells
            )
        finally:
            cl = client.cluster if scheduler is None else None
            client.close()
            if cl is not None:
                cl.close()
        command += [f"--workers={workers}"] if workers else []
    else:
        result = score_study(study, profile, layers, points)
    inputs = json.loads((paths.layers / "provenance.json").read_text())["inputs"]
    extra = {"rerun": shlex.join(command), "user_files": user_files}
    if polygons:
        command += ["--polygons"]
    files = write_outputs(paths, study, profile, result, inputs, extra, polygons=polygons)
    return ScoreRun(result, files, list(warnings))


def _partitioned(layers: Layers, study: Study, workers, scheduler, above: int | None) -> bool:
    if workers or scheduler:
        return True
    from siting import cluster

    res = study.candidates.h3_resolution
    estimate = cluster.estimated_cells(candidates.cover(layers.country.geometry.iloc[0], res), res)
    return estimate > (cluster.PARTITION_ABOVE_CELLS if above is None else above)


def _file_record(path: Path) -> dict[str, str]:
    return {"file": str(path), "sha256": sha256_file(path) if path.is_file() else "(folder)"}


# --- the other stages: one function a Make target; the command line calls these and only prints -------------


def fetch(data: Path, mirror: Path | None = None, base_url: str | None = None, sources: list[str] | None = None):
    """Run the ``fetch`` stage (``make data``): bring every catalogued file into ``data/raw``, sha256-checked.

    Returns
    -------
    tuple
        The mirror used (None when downloading) and one result per file.

    """
    from siting.io.fetch import fetch_all, resolve_mirror

    mirror_dir = resolve_mirror(mirror)
    return mirror_dir, fetch_all(data / "raw", mirror=mirror_dir, base_url=base_url, sources=sources)


def prepare(data: Path, study: Study) -> Path:
    """Run the ``prepare`` stage (``make layers``): build the region's standard layers; return their folder."""
    from siting.layers import prepare as build

    return build(study, data / "raw", data / "processed")


def map_(data: Path, study: Study, profile: Profile, offline: bool = True, user: bool = False) -> tuple[Path, Path]:
    """Run the ``map`` stage (``make maps``): write ``map.html`` and ``map.png`` of a scored study; return both."""
    from siting.outputs.maps import PNG_FILE, write_study_map

    paths = Paths(data, study, "_user" if user else "")
    html = write_study_map(paths, study, profile, Layers(paths.layers), offline)
    return html, html.with_name(PNG_FILE)


def sensitivity(data: Path, study: Study, profile: Profile, **kw) -> dict[str, Path]:
    """Run the ``sensitivity`` stage (``make sensitivity``) on the sites the score stage wrote."""
    from siting.outputs.reports import write_sensitivity

    return write_sensitivity(Paths(data, study).out, study, profile, **kw)


def allocate(data: Path, study: Study, profile: Profile, **overrides):
    """Run the ``allocate`` stage (``make allocate``): place the profile's total on the scored sites."""
    from siting.outputs.reports import write_allocation

    return write_allocation(Paths(data, study).out, study, profile, **overrides)


def compare(data: Path, study: str, profiles: list[str]) -> Path:
    """Run the ``compare`` stage (``make compare``): the profiles of a study side by side."""
    from siting.outputs.reports import write_comparison

    return write_comparison(study, data / "processed", profiles)
