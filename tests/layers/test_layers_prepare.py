"""``siting.layers.prepare`` and ``Layers``: every layer written, reproducible, recorded, failing cleanly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from siting._errors import DataError
from siting.config import Grid, Study
from siting.io.catalog import source_file
from siting.io.files import sha256_file
from siting.layers import BUILT_GRIDS, RASTER_LAYERS, VECTOR_LAYERS, Layers, input_files, layers_dir, prepare


def test_prepare_writes_every_layer(layers, processed_dir: Path) -> None:
    assert layers.folder == processed_dir / "layers" / "PAK" == layers_dir(processed_dir, "PAK")
    written = sorted(p.name for p in layers.folder.iterdir())
    expected = sorted(
        [f"{n}.parquet" for n in VECTOR_LAYERS]
        + [f"{n}.tif" for n in (*RASTER_LAYERS, *BUILT_GRIDS)]
        + ["provenance.json"]
    )
    assert written == expected  # and no temporary files
    for name in VECTOR_LAYERS:
        gdf = getattr(layers, name)
        assert isinstance(gdf, gpd.GeoDataFrame) and len(gdf) > 0, name
        assert gdf.crs.to_epsg() == 4326, name


def test_provenance_records_inputs_and_layers(layers, raw_dir: Path, mirror: Path) -> None:
    prov = json.loads((layers.folder / "provenance.json").read_text())
    assert prov["region"]["iso3"] == "PAK"
    assert prov["infer_voltage_within_km"] == 1.0
    assert set(prov["inputs"]) == set(input_files(Study(name="test")))
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    for ref, entry in prov["inputs"].items():
        f = source_file(ref)
        assert entry["file"] == str(f.raw_relpath)
        assert entry["sha256"] == sums[f.mirror_path] == sha256_file(raw_dir / f.raw_relpath), ref
    assert prov["layers"] == {name: len(getattr(layers, name)) for name in VECTOR_LAYERS}


def test_prepare_is_reproducible(tmp_path: Path, raw_dir: Path, layers) -> None:
    again = prepare(Study(name="test"), raw_dir, tmp_path, progress=False)
    assert again == tmp_path / "layers" / "PAK"
    for path in sorted(layers.folder.iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_study_grid_radius_reaches_the_substations(tmp_path: Path, raw_dir: Path, layers) -> None:
    study = Study(name="wide", grid=Grid(infer_voltage_within_km=3.0))
    wide = Layers(prepare(study, raw_dir, tmp_path, progress=False))
    inferred = (wide.substations["voltage_source"] == "inferred").sum()
    assert inferred > (layers.substations["voltage_source"] == "inferred").sum()
    assert json.loads((wide.folder / "provenance.json").read_text())["infer_voltage_within_km"] == 3.0


def test_missing_raw_file_fails_before_writing_anything(tmp_path: Path, raw_dir: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(raw_dir, raw)
    f = source_file("geonames.cities")  # required (a missing substation file degrades, see tests/test_degraded.py)
    (raw / f.raw_relpath).unlink()
    with pytest.raises(DataError) as err:
        prepare(Study(name="test"), raw, tmp_path / "processed", progress=False)
    assert f.path in str(err.value)
    out = tmp_path / "processed"
    assert not out.exists() or [p for p in out.rglob("*") if p.is_file()] == []


def test_layers_reader(tmp_path: Path, layers) -> None:
    with pytest.raises(AttributeError):
        _ = layers.not_a_layer
    with pytest.raises(AttributeError):
        _ = layers._private
    empty = Layers(tmp_path)
    with pytest.raises(DataError, match="provinces") as err:
        _ = empty.provinces
    assert str(tmp_path) in str(err.value)
    # layers are cached: the same object comes back
    assert layers.provinces is layers.provinces
    pd.testing.assert_frame_equal(
        pd.DataFrame(layers.provinces.drop(columns="geometry")),
        pd.DataFrame(gpd.read_parquet(layers.folder / "provinces.parquet").drop(columns="geometry")),
    )


def test_connectivity_nodes_come_from_the_reference_table(layers) -> None:
    from siting.io import reference

    table = reference.connectivity_nodes("PAK")
    nodes = layers.connectivity_nodes
    assert nodes["name"].tolist() == table["name"].tolist()
    assert nodes.geometry.x.tolist() == table["lon"].tolist()
    assert nodes.geometry.y.tolist() == table["lat"].tolist()
