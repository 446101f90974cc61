"""Partitioned scoring on a 2-worker dask LocalCluster: the in-process score table bit for bit, the same sites."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")

from siting import cluster, stages
from siting._errors import DataError, Interrupted
from siting.fields import F

SMALL_TABLES = (
    "sensitivity.csv",
    "top_sites.csv",
    "sites.csv",
    "sites.parquet",
    "site_cells.parquet",
    "provinces.csv",
    "surplus.csv",
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, raw_dir) -> Path:
    data = tmp_path_factory.mktemp("partdata")
    (data / "raw").symlink_to(raw_dir, target_is_directory=True)
    study_file = data / "res6.yml"
    study_file.write_text("name: res6\ncandidates:\n  h3_resolution: 6\n")
    st, _ = stages.load_study(str(study_file))
    stages.prepare(data, st)
    return data


@pytest.fixture(scope="module")
def client():
    c = cluster.client_for(2, None, "3GB")
    yield c
    cl = c.cluster
    c.close()
    cl.close()


@pytest.fixture(scope="module")
def runs(data_dir, client, tmp_path_factory) -> tuple[Path, Path, stages.ScoreRun]:
    """The same res-6 study scored in process and partitioned (through --scheduler, the fixture's cluster)."""
    st, prof = stages.load_study(str(data_dir / "res6.yml"))
    out = stages.Paths(data_dir, st).out
    keep = tmp_path_factory.mktemp("runs")
    stages.score(data_dir, st, prof, polygons=False)
    stages.sensitivity(data_dir, st, prof, runs=40)
    stages.map_(data_dir, st, prof)
    shutil.copytree(out, keep / "inproc")
    part = stages.score(data_dir, st, prof, scheduler=client.scheduler.address, partition_cells=2_000)
    stages.sensitivity(data_dir, st, prof, runs=40)  # reads the dataset one part at a time
    stages.map_(data_dir, st, prof)
    shutil.copytree(out, keep / "part")
    return keep / "inproc", keep / "part", part


def test_partitioned_scores_are_bit_identical(runs) -> None:
    inproc, part, run = runs
    assert (inproc / "scores.parquet").is_file() and (part / "scores.parquet").is_dir()
    assert run.result.partitions and run.result.partitions["count"] > 1
    a = pq.read_table(inproc / "scores.parquet")
    b = pq.read_table(part / "scores.parquet")
    assert a.schema.names == b.schema.names
    assert a.num_rows == b.num_rows == run.result.count > 0
    for name in a.schema.names:  # same Arrow type and the same bits, column by column
        x, y = a.column(name).combine_chunks(), b.column(name).combine_chunks()
        assert x.type == y.type, name
        assert x.equals(y), name
    da, db = a.to_pandas(), b.to_pandas()
    floats = [c for c in da.columns if da[c].dtype.kind == "f"]
    assert da[floats].to_numpy().tobytes() == db[floats].to_numpy().tobytes()


def test_partitioned_sites_and_small_tables_equal(runs) -> None:
    inproc, part, _ = runs
    for name in SMALL_TABLES:
        assert (inproc / name).read_bytes() == (part / name).read_bytes(), name
    top_a, top_b = pd.read_csv(inproc / "top_sites.csv"), pd.read_csv(part / "top_sites.csv")
    assert top_a[["h3_cell", "rank_in_province"]].equals(top_b[["h3_cell", "rank_in_province"]])


def test_partitioned_outputs_leave_no_staging(runs) -> None:
    _, part, _ = runs
    assert not list(part.glob(".*")), "a staging folder or temporary file was left behind"
    assert all(p.name.startswith(cluster.PART_PREFIX) for p in (part / "scores.parquet").iterdir())


def _surface(folder: Path) -> bytes:
    """The score image embedded in ``map.html`` (the largest PNG data URL; the others are icons)."""
    import base64
    import re

    found = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", (folder / "map.html").read_text())
    assert found, "no score image in the map"
    return base64.b64decode(max(found, key=len))


def test_the_map_of_the_parts_is_the_map_in_process(runs) -> None:
    """The partitioned dataset's map draws the same score image (hexagons against centres: tests/outputs)."""
    inproc, part, _ = runs
    assert _surface(inproc) == _surface(part) and len(_surface(part)) > 1000


def test_reports_read_the_partitioned_dataset(runs) -> None:
    inproc, part, _ = runs
    from siting.outputs.reports import read_scores

    a, b = read_scores(inproc), read_scores(part)
    assert np.array_equal(a["score"].to_numpy(), b["score"].to_numpy())


def test_a_failed_partitioned_run_leaves_no_dataset(data_dir, client, tmp_path) -> None:
    st, prof = stages.load_study(str(data_dir / "res6.yml"))
    from siting.config import Constraint

    prof = prof.model_copy(update={"constraints": {"dist_substation_km": Constraint(max=-1.0)}})
    from siting.layers import Layers

    layers = Layers(stages.Paths(data_dir, st).layers)
    staging = tmp_path / ".scores.test.part"
    with pytest.raises(DataError, match="remove every candidate"):
        stages.score_study_partitioned(st, prof, layers, client, staging)
    assert not staging.exists()


def test_a_run_killed_after_its_parts_keeps_the_previous_set(data_dir, client, runs, monkeypatch) -> None:
    """The parts go into the output set's staging folder: a run that dies before the swap leaves the old set."""
    st, prof = stages.load_study(str(data_dir / "res6.yml"))
    out = stages.Paths(data_dir, st).out
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.suffix in (".csv", ".json")}

    def killed(*args, **kwargs):
        staged = list(out.parent.glob(f".{out.name}.staging-*/scores.parquet/{cluster.PART_PREFIX}*"))
        assert staged, "the partitions should be written into the staging folder before the small tables"
        raise KeyboardInterrupt

    monkeypatch.setattr(stages, "_write_gis", killed)
    with pytest.raises(Interrupted, match="still holds the previous complete set"):
        stages.score(data_dir, st, prof, scheduler=client.scheduler.address, partition_cells=2_000)
    assert not list(out.parent.glob(f".{out.name}.staging-*")), "a staging folder was left behind"
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in before} == before
    assert stages.verify_output_set(out)


def test_parent_resolution_is_chosen_by_size() -> None:
    assert [cluster.parent_resolution(r) for r in (6, 8, 9, 10, 11, 12)] == [3, 3, 3, 4, 5, 5]


def test_partitions_keep_the_cell_order() -> None:
    import h3.api.numpy_int as h3i

    coarse = np.sort(h3i.grid_disk(h3i.latlng_to_cell(27.0, 68.0, 5), 12))
    parts = cluster.partitions(coarse, 8, cells=50_000)
    assert len(parts) > 1 and list(parts) == sorted(parts)
    joined = np.concatenate([parts[k] for k in parts])
    assert np.array_equal(joined, coarse)
    assert all(len(v) * 7**3 <= 50_000 or len(v) == 1 for v in parts.values())


def test_ranks_and_province_thresholds_are_those_of_the_scored_table() -> None:
    from siting.decide import scoring, sites

    rng = np.random.default_rng(11)
    n = 5000
    iso = np.array(["PK-PB", "PK-SD", "PK-BA", "PK-KP"], dtype=object)[rng.integers(0, 4, n)]
    score = np.round(rng.uniform(0, 100, n), 1)  # rounded: many ties, broken by cell id
    cell = rng.choice(np.arange(6 * 10**17, 6 * 10**17 + 10 * n, dtype=np.int64), n, replace=False)
    table = pd.DataFrame({F.CELL: [f"{c:x}" for c in cell], F.ISO_3166_2: iso, F.SCORE: score})
    ranked = scoring.rank(table)
    codes = cluster.province_codes(table[F.ISO_3166_2], pd.Series(["PK-BA", "PK-KP", "PK-PB", "PK-SD"]))
    national, in_prov = cluster.rank_arrays(cell, codes, score)
    assert (national == ranked[F.RANK_NATIONAL].to_numpy()).all()
    assert (in_prov == ranked[F.RANK_IN_PROVINCE].to_numpy()).all()
    q = table.groupby(F.ISO_3166_2)[F.SCORE].transform(lambda s: s.quantile(0.95)).to_numpy()
    assert np.array_equal(sites.province_quantile(score, codes, 0.95), q)
    with pytest.raises(DataError, match="PK-IS"):
        cluster.province_codes(pd.Series(["PK-IS"]), pd.Series(["PK-BA"]))


def test_the_size_estimate_is_within_6_percent_of_the_cells_drawn(layers) -> None:
    from siting.config import Candidates
    from siting.model import candidates

    outline = candidates.outline(layers, Candidates())
    for res in (6, 7, 8):
        drawn = len(candidates.h3_cells(outline, res))
        assert abs(cluster.estimated_cells(outline, res) - drawn) <= 0.06 * drawn  # 5.4 % over in Pakistan
