"""The stages that chain fetch → prepare → score → map, with the paths each reads and writes.

The command line and the notebooks call these; each stage reads only what the stage before it wrote.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting import __version__, config
from siting._errors import ConfigError, DataError
from siting.config import Profile, Study
from siting.decide import scoring
from siting.decide.sites import build as build_sites
from siting.decide.sites import build_from as sites_from
from siting.fields import F
from siting.io import reference
from siting.io.catalog import sources_used
from siting.io.files import sha256_file, sha256_path, write_atomic, write_csv, write_json, write_parquet
from siting.io.outputset import (
    OutputSet,
    interruptible,
    locked,
    remove_stale_parts,  # noqa: F401 - re-exported (its former home)
    verify_output_set,
)
from siting.io.paths import SITE_CELLS_FILE, Paths
from siting.kernels.geodesy import PointIndex
from siting.layers import Layers
from siting.model import candidates, cooling, criteria, surplus


def region_new(
    data: Path, iso3: str, admin1: Path | None, dest: Path, study_dir: Path, study_name: str | None = None
) -> dict[str, Path]:
    """Scaffold a region pack and its study (``siting region new``; see ``siting.io.scaffold``)."""
    from siting.io import scaffold

    return scaffold.new_region(iso3, admin1 or scaffold.find_admin1(data), dest, study_dir, study_name)


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
        ref = reference.Reference.for_study(st)
        reference.normalise_province_keys(st.surplus, ref)
        if st.candidates.provinces:
            codes = [ref.province_code(n, f"candidates.provinces.{n}") for n in st.candidates.provinces]
            st = st.model_copy(update={"candidates": st.candidates.model_copy(update={"provinces": codes})})
    except ConfigError as exc:
        raise ConfigError(f"{config.study_path(study)}: {exc}") from exc
    return st, prof


@dataclass
class Result:
    """What ``score_study`` computed, for notebooks and the map."""

    scored: pd.DataFrame  # one row a scored candidate; its place is ``lon``, ``lat`` (the H3 cell's centre)
    surplus: pd.DataFrame
    provinces: pd.DataFrame
    top: pd.DataFrame
    excluded: dict[str, int]
    surplus_model: surplus.SurplusModel | None = None
    constraints: dict[str, int] | None = None  # candidates removed by each hard constraint of the profile
    weights: dict[str, float] | None = None  # the weights used (direct, AHP or entropy)
    sites: pd.DataFrame | None = None  # siting.decide.sites: adjacent high-scoring cells merged, ranked, spaced
    site_cells: pd.Series | None = None  # index: H3 cell, value: the site it belongs to
    dropped: list[str] | None = None  # criteria dropped because their layer is missing, one line each
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
    model = _surplus_model(study, layers, ref)
    table = model.provinces
    crit = criteria.compute(cand.cells, layers, study, table, ref, zonal=model.zones)
    excluded = cand.excluded
    del cand  # the criteria table holds a copy of the candidates' columns: free them before scoring copies it
    evaluated = scoring.evaluate(crit, profile, consume=True)  # crit's columns move into the scored table
    del crit
    scored = evaluated.table
    top = scoring.top_sites(scored, study.ranking.top_n)
    top = _with_nearest_place(top, layers.places)
    built = None if points is not None else build_sites(scored, profile.sites, study.ranking.top_n)
    return Result(
        scored, table, province_summary(table, scored, top), top, excluded, model,
        constraints=evaluated.removed, weights=evaluated.weights,
        sites=None if built is None else built.table,
        site_cells=None if built is None else built.members, dropped=evaluated.dropped,
        province_shapes=layers.provinces[[F.ISO_3166_2, "geometry"]],
    )  # fmt: skip


def _surplus_model(study: Study, layers: Layers, ref: reference.Reference) -> surplus.SurplusModel:
    zones, plants = study_zones(study, layers, ref)
    return surplus.provincial_surplus(study, layers.provinces, plants, ref, zones=zones)


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
    model = _surplus_model(study, layers, ref)
    run = cluster.score_partitioned(
        client, layers, study, profile, model.provinces, ref, model.zones, staging, polygons,
        cells_per_partition or cluster.CELLS_PER_PARTITION,
    )  # fmt: skip
    top_cells = scoring.top_sites(run.top, study.ranking.top_n)
    top = _with_nearest_place(top_cells, layers.places)
    built = sites_from(run.high, profile.sites, study.ranking.top_n)
    return Result(
        top_cells, model.provinces, province_summary(model.provinces, run.counts, top), top, run.excluded, model,
        constraints=run.removed, weights=run.weights, sites=built.table, site_cells=built.members,
        province_shapes=layers.provinces[[F.ISO_3166_2, "geometry"]], scores_dataset=run.dataset,
        n_scored=run.n_scored, dropped=run.dropped,
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
    staged: OutputSet | None = None,
) -> dict[str, Path]:
    """Write scores (GeoParquet), the GIS layers (GeoPackage), province summary, top sites and provenance as one set.

    The set is written into a staging folder and swapped in whole under the folder's lock
    (:mod:`siting.io.outputset`), ``provenance.json`` last with every output's sha256; outputs of later
    stages in the folder (map, sensitivity, allocation) belonged to the previous scores and go with them.
    ``extra`` is merged into ``provenance.json`` (the command line records the command and any user files).
    ``scores.parquet`` holds hexagons with ``polygons=True``, cell centres with ``False``; by default
    (``None``) hexagons up to ``POLYGONS_AUTO_MAX`` cells. The GeoPackage holds :func:`gis_layers`.

    Returns
    -------
    dict of str to Path
        Output name to path.

    """
    if staged is not None:  # a partitioned run staged its cell dataset in this set already
        files = _write_set(staged.staging, paths, study, profile, result, inputs, extra, polygons)
        staged.commit()
    else:
        with locked(paths.out, "siting score"), OutputSet(paths.out) as staged:
            files = _write_set(staged.staging, paths, study, profile, result, inputs, extra, polygons)
            staged.commit()
    return {name: paths.out / p.name for name, p in files.items()}


def _write_scores(dest: Path, scored: pd.DataFrame, draw: bool) -> Path:
    """``scores.parquet``: every column, and a last ``geometry`` column of the cells' hexagons (``draw``) or centres."""
    if not draw:
        return write_parquet(dest, scored, points=(F.LON, F.LAT))  # WKB from the coordinates, no shapely object
    frame = scored.copy(deep=False)  # a new column on a view: the other columns are not copied
    frame["geometry"] = gpd.GeoSeries(hexagons(scored[F.CELL]), index=scored.index, crs=4326)
    return write_parquet(dest, gpd.GeoDataFrame(frame, geometry="geometry", crs=4326, copy=False))


def _write_set(
    out: Path,
    paths: Paths,
    study: Study,
    profile: Profile,
    result: Result,
    inputs: dict,
    extra: dict | None,
    polygons: bool | None,
) -> dict[str, Path]:
    scored = result.scored
    crit_cols = [c for c in scored.columns if c not in TABLE_COLUMNS]
    user_points = "candidate_id" in scored.columns  # the planner's own points stay points
    draw = not user_points and (len(scored) <= POLYGONS_AUTO_MAX if polygons is None else polygons)
    draw = draw and result.scores_dataset is None  # a partitioned run wrote its cells already
    top = result.top.drop(columns="geometry", errors="ignore")
    top = top[[*TABLE_COLUMNS, *[c for c in crit_cols if c in top.columns]]]
    files = {
        "scores": (
            _write_scores(out / paths.scores.name, scored, draw)
            if result.scores_dataset is None
            else result.scores_dataset
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
    pack = reference.Reference.for_study(study)
    prov = {
        "siting_version": __version__,
        "python": platform.python_version(),
        "study": study.model_dump(),
        "profile": profile.model_dump(by_alias=True),
        "weights": result.weights,
        "cooling": {  # the coefficients the cooling columns used (cdd_cdays is on base cdd_base_c)
            "table": f"{pack.where}/{cooling.REFERENCE_TABLE}",
            "overridden": sorted(study.cooling),
            "params": cooling.cooling_params(pack.table(cooling.REFERENCE_TABLE), study.cooling).as_dict(),
        },
        "inputs": inputs,
        "sources": sources_used(inputs),  # only the sources actually used, as the product actually fetched
        "candidates": {"scored": result.count, "excluded": result.excluded, "constraints": result.constraints},
        "outputs": {
            name: {"file": p.name, "sha256": sha256_path(p)} for name, p in files.items() if name != "scores_gpkg"
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
    layer: str | None = None,
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
    user named it, a name or a file; default its name). ``layer`` names the layer of a candidates file with
    several. ``polygons``: hexagons in ``scores.parquet`` (True), cell centres (False), or hexagons up to
    ``POLYGONS_AUTO_MAX`` cells (None). The output folder is locked for the whole run
    (:func:`siting.io.outputset.locked`).

    Partitioned on dask.distributed (:func:`score_study_partitioned`) with ``workers`` (a LocalCluster, each
    worker limited to ``worker_memory``), ``scheduler`` (an existing cluster's address), or when the study's
    estimated cells exceed ``partition_above`` (default ``siting.cluster.PARTITION_ABOVE_CELLS``); the
    planner's own candidates are always scored in process. ``partition_cells``: cells a partition holds
    at most (default ``siting.cluster.CELLS_PER_PARTITION``). The cell dataset is written partition by
    partition into the output set's staging folder, so a killed run leaves the previous set whole.

    Returns
    -------
    ScoreRun

    """
    paths = Paths(data, study, "_user" if candidates_file else "")
    with interruptible(paths.out), locked(paths.out, "siting score"):  # the whole run, so two runs never mix
        opts = ScoreOptions(polygons, workers, scheduler, worker_memory, partition_above, partition_cells)
        return _score(
            paths, data, study, profile, candidates_file, substations_file, drop_outside, study_ref, layer, opts
        )


@dataclass(frozen=True)
class ScoreOptions:
    """How the ``score`` stage writes cells and whether it partitions (see :func:`score`)."""

    polygons: bool | None = None
    workers: int | None = None
    scheduler: str | None = None
    worker_memory: str | None = None
    partition_above: int | None = None
    partition_cells: int | None = None


def _score(
    paths: Paths,
    data: Path,
    study: Study,
    profile: Profile,
    candidates_file: Path | None,
    substations_file: Path | None,
    drop_outside: bool,
    study_ref: str | None,
    layer: str | None,
    opts: ScoreOptions,
) -> ScoreRun:
    from siting.layers.userdata import read_points, read_substations

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
        points, warnings = read_points(candidates_file, outline, study.region.name, drop_outside, layer)
        command += ["--candidates", str(candidates_file)] + (["--drop-outside"] if drop_outside else [])
        command += ["--layer", layer] if layer else []
        user_files["candidates"] = _file_record(candidates_file)
    inputs = _layer_inputs(paths.layers / "provenance.json")
    command += {True: ["--polygons"], False: ["--centres"], None: []}[opts.polygons]
    record = {"user_files": user_files, "skipped": degraded(paths.layers)}  # what prepare skipped: read once
    if points is None and _partitioned(layers, study, opts):
        command += [f"--workers={opts.workers}"] if opts.workers else []
        result, files = _score_partitioned(paths, study, profile, layers, inputs, command, record, opts)
    else:
        result = score_study(study, profile, layers, points)
        files = write_outputs(paths, study, profile, result, inputs, _extra(command, record, result), opts.polygons)
    return ScoreRun(result, files, [*warnings, *_notes(record, result)])


def _notes(record: dict, result: Result) -> list[str]:
    """Return what prepare skipped and the criteria dropped: a warning each, and a ``degraded`` note in provenance."""
    return [*record["skipped"], *(result.dropped or [])]


def _extra(command: list[str], record: dict, result: Result) -> dict:
    """Return what ``provenance.json`` records beyond the outputs: the rerun command, user files, degraded notes."""
    return {"rerun": shlex.join(command), "user_files": record["user_files"], "degraded": _notes(record, result)}


def _score_partitioned(
    paths: Paths,
    study: Study,
    profile: Profile,
    layers: Layers,
    inputs: dict,
    command: list[str],
    record: dict,
    opts: ScoreOptions,
) -> tuple[Result, dict[str, Path]]:
    """Score on a dask cluster into the output set's staging folder, then write the rest of the set there.

    The output folder is already locked by :func:`score` for the whole run.
    """
    from siting import cluster

    with OutputSet(paths.out) as staged:
        memory = opts.worker_memory or cluster.DEFAULT_WORKER_MEMORY
        client = cluster.client_for(opts.workers, opts.scheduler, memory)
        try:
            result = score_study_partitioned(
                study, profile, layers, client, staged.staging / paths.scores.name, bool(opts.polygons),
                opts.partition_cells,
            )  # fmt: skip
        finally:
            cl = client.cluster if opts.scheduler is None else None
            client.close()
            if cl is not None:
                cl.close()
        extra = _extra(command, record, result)
        return result, write_outputs(paths, study, profile, result, inputs, extra, opts.polygons, staged=staged)


def _layer_inputs(path: Path) -> dict:
    """Return the raw inputs the layers were built from, as ``siting prepare`` recorded them."""
    try:
        inputs = json.loads(path.read_text(encoding="utf-8"))["inputs"]
        if not isinstance(inputs, dict):
            raise TypeError(type(inputs).__name__)
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; run `siting prepare` first.") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path} (layers provenance) is corrupt ({type(exc).__name__}); run `siting prepare` again."
        ) from exc
    return inputs


def _partitioned(layers: Layers, study: Study, opts: ScoreOptions) -> bool:
    """Whether to score on a cluster: asked for, or the study's estimated cells exceed the threshold."""
    if opts.workers or opts.scheduler:
        return True
    from siting import cluster

    res = study.candidates.h3_resolution
    estimate = cluster.estimated_cells(candidates.outline(layers, study.candidates), res)
    above = opts.partition_above
    return estimate > (cluster.PARTITION_ABOVE_CELLS if above is None else above)


def _file_record(path: Path) -> dict[str, str]:
    return {"file": str(path), "sha256": sha256_file(path) if path.is_file() else "(folder)"}


# --- the other stages: one function a Make target; the command line calls these and only prints -------------


def fetch(
    data: Path,
    mirror: Path | None = None,
    base_url: str | None = None,
    sources: list[str] | None = None,
    study: Study | None = None,
    official_base: str | None = None,
    refresh: bool = False,
):
    """Run the ``fetch`` stage (``make data``): bring the region's files into ``data/raw``, checked.

    With a mirror or a base URL, the Pakistan extracts are copied and verified against their pinned sha256;
    otherwise each file is cut out of its official artefact (``siting.io.fetch.fetch_official``).

    Returns
    -------
    tuple
        The mirror used (None when downloading), one result per file, and one line per file skipped.

    """
    from siting.io import fetch as fetching
    from siting.io.regions import find_pack

    region = study.region if study else config.Region()
    mirror_dir = fetching.resolve_mirror(mirror)
    base_url = base_url or os.environ.get(fetching.BASE_URL_ENV) or None
    if mirror_dir is not None or base_url:
        if region.iso3 != "PAK":
            raise ConfigError(
                f"the mirror and --base-url hold the pinned Pakistan extracts, not {region.iso3}; fetch "
                f"{region.iso3} from the official sources (no --mirror, unset SITING_DATA_MIRROR)."
            )
        results = fetching.fetch_all(data / "raw", mirror=mirror_dir, base_url=base_url, sources=sources)
        skipped: list[str] = []
    else:
        pack = find_pack(region.iso3, region.path)
        results, skipped = fetching.fetch_official(data / "raw", data / "cache", pack, official_base, sources, refresh)
    fetching.mark_region(data / "raw", region.iso3)
    return mirror_dir, results, skipped


def _as_scored(out: Path, profile: Profile) -> Profile:
    """Return the profile as ``siting score`` used it, without the criteria and constraints it dropped."""
    try:
        prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # not scored yet, or unreadable: the stage itself says what to run
        return profile
    candidates_ = prov.get("candidates") if isinstance(prov, dict) else None
    weights = prov.get("weights") if isinstance(prov, dict) else None
    constraints = candidates_.get("constraints") if isinstance(candidates_, dict) else None
    if not isinstance(weights, dict) or not isinstance(constraints, dict):
        return profile
    return scoring.profile_as_scored(profile, weights, constraints)


def degraded(layers_folder: Path) -> list[str]:
    """Return what ``prepare`` skipped for missing or empty inputs, one line each (``layers.degraded_notes``)."""
    from siting.layers import degraded_notes

    return degraded_notes(layers_folder)


def prepare(data: Path, study: Study) -> Path:
    """Run the ``prepare`` stage (``make layers``): build the region's standard layers; return their folder."""
    from siting.layers import prepare as build

    with locked(Paths(data, study).layers, "siting prepare"):  # two prepares at once would mix their layers
        return build(study, data / "raw", data / "processed")


def map_(
    data: Path, study: Study, profile: Profile, offline: bool = True, user: bool = False, weights: bool = True
) -> tuple[Path, Path]:
    """Run the ``map`` stage (``make maps``): write ``map.html`` and ``map.png`` of a scored study; return both.

    ``weights``: the page carries the weight sliders and every cell's criterion values (H3 cells only).
    """
    from siting.outputs.maps import PNG_FILE, write_study_map
    from siting.outputs.textsafe import plain_text

    paths = Paths(data, study, "_user" if user else "")
    with locked(paths.out, "siting map", shared=True), plain_text():
        verify_output_set(paths.out)
        profile = _as_scored(paths.out, profile)
        html = write_study_map(paths, study, profile, Layers(paths.layers), offline, weights)
    return html, html.with_name(PNG_FILE)


def brief(data: Path, study: Study, profile: Profile, provinces: list[str] | None = None) -> dict[str, Path]:
    """Run the ``brief`` stage (``make briefs``): one page a province, HTML and PDF, from the score outputs."""
    from siting.outputs.briefs import write_briefs
    from siting.outputs.textsafe import plain_text

    paths = Paths(data, study)
    with locked(paths.out, "siting brief", shared=True), plain_text():
        verify_output_set(paths.out)
        return write_briefs(paths, study, _as_scored(paths.out, profile), Layers(paths.layers), provinces)


def map_warnings(data: Path, study: Study, user: bool = False) -> list[str]:
    """Return what the ``map`` stage will leave out (the planner's sites beyond the map's bound), for the user."""
    from siting.outputs.maps.data import user_sites_notice

    notice = user_sites_notice(Paths(data, study, "_user")) if user else None
    return [notice] if notice else []


def sensitivity(data: Path, study: Study, profile: Profile, **kw) -> dict[str, Path]:
    """Run the ``sensitivity`` stage (``make sensitivity``) on the sites the score stage wrote."""
    from siting.outputs.reports import write_sensitivity
    from siting.outputs.textsafe import plain_text

    out = Paths(data, study).out
    with locked(out, "siting sensitivity", shared=True), plain_text():
        verify_output_set(out)
        return write_sensitivity(out, study, _as_scored(out, profile), **kw)


def allocate(data: Path, study: Study, profile: Profile, **overrides):
    """Run the ``allocate`` stage (``make allocate``): place the profile's total on the scored sites."""
    from siting.outputs.reports import write_allocation

    out = Paths(data, study).out
    with locked(out, "siting allocate", shared=True):
        verify_output_set(out)
        return write_allocation(out, study, _as_scored(out, profile), **overrides)


def compare(data: Path, study: str, profiles: list[str]) -> Path:
    """Run the ``compare`` stage (``make compare``): the profiles of a study side by side."""
    from siting.outputs.reports import write_comparison

    return write_comparison(study, data / "processed", profiles)
