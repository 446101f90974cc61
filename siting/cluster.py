"""Partitioned scoring on dask.distributed: candidates split by H3 parent cell, each scored by siting's kernels.

dask only distributes the work; every partition runs the same functions as the in-process path
(:func:`siting.model.candidates.build`, :func:`siting.model.criteria.compute`,
:func:`siting.decide.scoring.evaluate`). Two passes over the partitions:

1. each worker draws its partition's cells (the coarse cells of :func:`~siting.model.candidates.cover` under
   one parent cell), applies the exclusions, computes the criteria and scores them, writes the table to a
   temporary file and returns three small columns: cell id (as an integer), province, score;
2. the client ranks all cells from those columns (national and in province, ties by cell id) and takes each
   province's high-scoring threshold (``sites.quantile``); each worker then adds the ranks to its partition,
   writes it into the staging dataset and returns its top cells and its high-scoring cells.

Sites are built on the client from the gathered high-scoring cells (a few % of all), so no partition border
cuts a site. The small layers (lines, substations, plants, rasters) are scattered to the workers once.
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd

from siting._errors import ConfigError, DataError
from siting.config import Profile, Study
from siting.decide import scoring, sites
from siting.fields import F
from siting.io.files import write_parquet
from siting.layers import Layers
from siting.model import candidates, criteria

PARTITION_ABOVE_CELLS = 3_000_000  # estimated cells above which `siting score` partitions by default
CELLS_PER_PARTITION = 250_000  # cells a partition holds at most (about 1 GB of a worker's memory)
DEFAULT_WORKER_MEMORY = "4GB"
PART_PREFIX = "part-"


def estimated_cells(outline, resolution: int) -> int:
    """Cells of ``resolution`` in ``outline`` (lon/lat): its geodesic area over the average cell's.

    H3 cells vary in size by place (Pakistan's are smaller than average: the estimate is 5 % over). A few
    milliseconds, where covering the outline with cells takes a quarter of a second at any resolution;
    it only decides whether to partition.
    """
    import h3
    import pyproj

    area_m2, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(outline)
    return round(abs(area_m2) / 1e6 / h3.average_hexagon_area(resolution, unit="km^2"))


def parent_resolution(resolution: int, cells: int = CELLS_PER_PARTITION) -> int:
    """Resolution 3-5 of the partitions' parent cells: the coarsest with at most ``cells`` cells under one."""
    return int(min(5, max(3, resolution - math.floor(math.log(cells, 7)))))


def partitions(coarse: np.ndarray, resolution: int, cells: int = CELLS_PER_PARTITION) -> dict[int, np.ndarray]:
    """Coarse cover cells by parent cell, neighbouring parents (in id order) joined up to ``cells`` cells a partition.

    The key is the first parent of the partition; parents and the cells within come in id order, so the
    partitions' cells concatenate, in key order, to the in-process order.
    """
    coarse_res = int(h3i.get_resolution(coarse[0])) if len(coarse) else 5
    pres = min(parent_resolution(resolution, cells), coarse_res)
    parents = np.array([h3i.cell_to_parent(c, pres) for c in coarse], dtype=np.uint64)
    per_coarse = 7 ** (resolution - coarse_res)
    out: dict[int, np.ndarray] = {}
    group: list[np.ndarray] = []
    size, first = 0, 0
    for p in np.unique(parents):
        members = coarse[parents == p]
        if group and size + len(members) * per_coarse > cells:
            out[first] = np.concatenate(group)
            group, size = [], 0
        if not group:
            first = int(p)
        group.append(members)
        size += len(members) * per_coarse
    if group:
        out[first] = np.concatenate(group)
    return out


def check_partitionable(profile: Profile) -> None:
    """Raise unless the profile's score of a cell depends on that cell alone (direct or AHP weights, no TOPSIS)."""
    if profile.weights_.method == "entropy" or profile.aggregation == "topsis":
        raise ConfigError(
            f"profile {profile.name}: {profile.weights_.method} weights with {profile.aggregation} need every "
            "candidate at once; partitioned scoring supports direct or AHP weights with weighted_sum or "
            "weighted_product. Score in process (no --workers)."
        )


@dataclass
class Context:
    """What every partition needs, scattered to the workers once."""

    layers: Layers
    study: Study
    profile: Profile
    surplus: pd.DataFrame
    ref: object
    zonal: object | None
    polygons: bool


def score_part(ctx: Context, coarse: np.ndarray, tmp: str) -> dict:
    """Pass 1 on a worker: draw, exclude, compute the criteria of and score one partition; write it to ``tmp``."""
    cand = candidates.build(ctx.layers, ctx.study.candidates, coarse)
    if cand.cells.empty:  # a parent cell whose cells all fall outside the region or are excluded
        return {"cell": np.zeros(0, np.int64), "province": np.zeros(0, np.int16), "score": np.zeros(0),
                "excluded": cand.excluded, "removed": {}, "weights": None, "dropped": []}  # fmt: skip
    crit = criteria.compute(cand.cells, ctx.layers, ctx.study, ctx.surplus, ctx.ref, zonal=ctx.zonal)  # type: ignore[arg-type]
    ev = scoring.evaluate(crit, ctx.profile, ranked=False)
    table = ev.table
    if len(table):  # a partition the constraints emptied has no second step
        table.to_pickle(tmp)  # exact dtypes for pass 2 (a Parquet round trip may change string types)
    return {
        "cell": candidates.cell_ints(table[F.CELL]),
        "province": province_codes(table[F.ISO_3166_2], ctx.surplus[F.ISO_3166_2]),
        "score": table[F.SCORE].to_numpy(float),
        "excluded": cand.excluded,
        "removed": ev.removed,
        "weights": ev.weights,
        "dropped": ev.dropped,
    }


def finish_part(ctx: Context, tmp: str, dest: str, ranks: np.ndarray, high: np.ndarray, top_n: int) -> dict:
    """Pass 2 on a worker: add the ranks (national, in province) to a partition and write it into the dataset."""
    table = pd.read_pickle(tmp)
    os.unlink(tmp)
    table[F.RANK_NATIONAL] = ranks[0]
    table[F.RANK_IN_PROVINCE] = ranks[1]
    if ctx.polygons:
        write_parquet(dest, gpd.GeoDataFrame(table, geometry=candidates.cell_polygons(table[F.CELL]), crs=4326))
    else:
        write_parquet(dest, table, points=(F.LON, F.LAT))  # the centres' WKB from the coordinates
    return {"top": table[table[F.RANK_IN_PROVINCE] <= top_n], "high": table[high], "n": len(table)}


def province_codes(iso: pd.Series, known: pd.Series) -> np.ndarray:
    """Position of each cell's province code in ``known`` (the surplus table's codes), int16: small to gather."""
    codes = pd.Index(known).get_indexer(iso)
    if (codes < 0).any():
        raise DataError(f"cells of provinces {sorted(set(iso[codes < 0]))} have no surplus figures.")
    return codes.astype(np.int16)


def rank_arrays(cell: np.ndarray, province: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rank_national`` and ``rank_in_province`` as :func:`siting.decide.scoring.rank` gives them.

    Best score first, ties by cell id (the integer order of the 15-digit hex ids is their string order);
    ``province``: any integer (or other) code a province.
    """
    return scoring.ranks(np.lexsort((cell, -score)), province)


@dataclass
class PartitionedRun:
    """What a partitioned run gathered: the small tables' inputs and the staged dataset."""

    dataset: Path  # staging folder of part files, renamed onto scores.parquet by the caller
    top: pd.DataFrame  # cells with rank_in_province <= top_n
    high: pd.DataFrame  # high-scoring cells (for the sites), in cell order
    counts: pd.Series  # candidates scored per province
    n_scored: int
    excluded: dict[str, int]
    removed: dict[str, int]
    weights: dict[str, float]
    n_partitions: int
    parent_resolution: int
    worker_peak_rss_mb: list[float] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # criteria dropped (layer absent), as the weights' partition says


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for k, v in part.items():
        total[k] = total.get(k, 0) + int(v)


def _progress(futures: Iterable, total: int, bar) -> list:
    from distributed import as_completed

    done = []
    for fut in as_completed(list(futures)):
        done.append(fut)
        bar.update(1)
    return done


def client_for(workers: int | None, scheduler: str | None, memory_limit: str = DEFAULT_WORKER_MEMORY):
    """Return a dask.distributed client: on ``scheduler`` (an existing cluster), else a LocalCluster of ``workers``.

    The local workers are processes with one thread each (siting's kernels use their own threads) and a memory
    limit each.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(
        n_workers=workers or 2, threads_per_worker=1, memory_limit=memory_limit, processes=True,
        dashboard_address=None,
    )  # fmt: skip
    return Client(cluster)


def score_partitioned(
    client,
    layers: Layers,
    study: Study,
    profile: Profile,
    surplus: pd.DataFrame,
    ref: object,
    zonal: object | None,
    staging: Path,
    polygons: bool = False,
    cells_per_partition: int = CELLS_PER_PARTITION,
) -> PartitionedRun:
    """Score a study partition by partition on ``client``'s cluster; the dataset goes to ``staging``.

    Raises
    ------
    ConfigError
        For a profile whose scores need every candidate at once (entropy weights, TOPSIS).
    DataError
        If the constraints remove every candidate.

    """
    from tqdm.auto import tqdm

    check_partitionable(profile)
    layers.load()
    outline = candidates.outline(layers, study.candidates)
    res = study.candidates.h3_resolution
    parts = partitions(candidates.cover(outline, res), res, cells_per_partition)
    staging.mkdir(parents=True, exist_ok=False)
    ctx = client.scatter(Context(layers, study, profile, surplus, ref, zonal, polygons), broadcast=True, hash=False)
    keys = all_keys = sorted(parts)
    tmp = {k: str(staging / f".{k:x}.{uuid.uuid4().hex}.pass1.part") for k in keys}
    bar = tqdm(total=2 * len(keys), desc=f"score {len(keys)} partitions (res {res})", unit="step")
    try:
        first = {k: client.submit(score_part, ctx, parts[k], tmp[k], key=f"score-{k:x}", pure=False) for k in keys}
        _progress(first.values(), len(keys), bar)
        got = {k: first[k].result() for k in keys}
        del first
        keys = [k for k in all_keys if len(got[k]["cell"])]  # an empty partition has no second step
        if not keys:
            raise DataError(f"the constraints of profile {profile.name} remove every candidate; relax them.")
        bar.update(len(all_keys) - len(keys))
        cell = np.concatenate([got[k]["cell"] for k in keys])
        province = np.concatenate([got[k]["province"] for k in keys])
        score = np.concatenate([got[k]["score"] for k in keys])
        national, in_prov = rank_arrays(cell, province, score)
        high = sites.high_mask(score, province, profile.sites)
        bounds = np.cumsum([0, *[len(got[k]["cell"]) for k in keys]])
        second = {
            k: client.submit(
                finish_part, ctx, tmp[k], str(staging / f"{PART_PREFIX}{k:x}.parquet"),
                np.vstack([national[a:b], in_prov[a:b]]), high[a:b], study.ranking.top_n,
                key=f"write-{k:x}", pure=False,
            )
            for k, a, b in zip(keys, bounds[:-1], bounds[1:], strict=True)
        }  # fmt: skip
        _progress(second.values(), len(keys), bar)
        fin = {k: second[k].result() for k in keys}
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        bar.close()
    excluded: dict[str, int] = {}
    removed: dict[str, int] = {}
    for k in all_keys:
        _add(excluded, got[k]["excluded"])
        _add(removed, got[k]["removed"])
    peak = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    return PartitionedRun(
        dataset=staging,
        top=pd.concat([fin[k]["top"] for k in keys], ignore_index=True),
        high=pd.concat([fin[k]["high"] for k in keys], ignore_index=True),
        counts=pd.Series(np.bincount(province, minlength=len(surplus)), index=surplus[F.ISO_3166_2].to_numpy()).loc[
            lambda c: c > 0
        ],
        n_scored=len(cell),
        excluded=excluded,
        removed=removed,
        weights=got[keys[0]]["weights"],
        n_partitions=len(all_keys),
        parent_resolution=min(parent_resolution(res, cells_per_partition), min(5, res)),
        worker_peak_rss_mb=sorted(peak.values()),
        dropped=got[keys[0]]["dropped"],
    )
