"""Output writing: reruns give identical bytes, and a failed write leaves the previous file and no debris."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from siting.io.files import atomic_path, sha256_file, write_atomic, write_csv, write_json, write_parquet, write_text


class Boom(RuntimeError):
    pass


def table(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "name": [f"site {i}" for i in range(n)],
            "score": rng.uniform(0, 100, n),
            "rank": np.arange(1, n + 1),
            "ok": rng.random(n) > 0.5,
        }
    )


def geotable(n: int = 300, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(61, 77, n), rng.uniform(24, 37, n)
    geoms = [
        Point(x, y) if i % 2 else LineString([(x, y), (x + 0.1, y + 0.1)])
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    return gpd.GeoDataFrame({"v": rng.normal(size=n), "k": [f"c{i % 7}" for i in range(n)]}, geometry=geoms, crs=4326)


def debris(folder: Path) -> list[str]:
    """Anything in ``folder`` other than the expected outputs (temporary files)."""
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name or p.name.startswith("."))


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    data = np.random.default_rng(2).bytes(3_000_000)  # larger than one read chunk
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk=7) == hashlib.sha256(data).hexdigest()


def test_write_csv_twice_is_byte_identical(tmp_path: Path) -> None:
    df = table()
    a, b = write_csv(tmp_path / "a.csv", df), write_csv(tmp_path / "b.csv", df.copy())
    assert a.read_bytes() == b.read_bytes()
    first = a.read_bytes()
    write_csv(a, df)
    assert a.read_bytes() == first
    assert b"\r\n" not in first
    back = pd.read_csv(a)
    assert list(back.columns) == list(df.columns)
    assert back["name"].tolist() == df["name"].tolist()
    assert back["rank"].tolist() == df["rank"].tolist()
    assert np.allclose(back["score"], df["score"], rtol=1e-5)  # written with 6 significant digits
    assert debris(tmp_path) == []


def test_write_csv_keeps_large_floats_exact(tmp_path: Path) -> None:
    df = pd.DataFrame({"province": ["Punjab"], "population": [127688922.0], "lon": [74.35071]})
    back = pd.read_csv(write_csv(tmp_path / "p.csv", df))
    assert back.loc[0, "population"] == 127688922.0
    assert back.loc[0, "lon"] == pytest.approx(74.35071, abs=1e-9)


@pytest.mark.parametrize("frame", [table, geotable], ids=["DataFrame", "GeoDataFrame"])
def test_write_parquet_twice_is_byte_identical(tmp_path: Path, frame) -> None:
    df = frame()
    a = write_parquet(tmp_path / "a.parquet", df)
    b = write_parquet(tmp_path / "b.parquet", frame())
    assert a.read_bytes() == b.read_bytes()
    first = a.read_bytes()
    write_parquet(a, df)
    assert a.read_bytes() == first
    back = gpd.read_parquet(a) if isinstance(df, gpd.GeoDataFrame) else pd.read_parquet(a)
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry", errors="ignore")),
        pd.DataFrame(df.drop(columns="geometry", errors="ignore")),
        check_dtype=False,
    )
    if isinstance(df, gpd.GeoDataFrame):
        assert back.crs.to_epsg() == 4326
        assert back.geometry.geom_equals_exact(df.geometry, tolerance=0).all()
        assert "bbox" not in back.columns
    assert "__index_level_0__" not in pd.read_parquet(a).columns
    assert debris(tmp_path) == []


def test_write_json_is_sorted_and_stable(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", {"b": 1, "a": {"z": [1, 2], "y": "Ü"}, "p": Path("x/y")})
    b = write_json(tmp_path / "b.json", {"p": Path("x/y"), "a": {"y": "Ü", "z": [1, 2]}, "b": 1})
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text(encoding="utf-8")
    assert text.endswith("\n") and "Ü" in text
    assert list(json.loads(text)) == ["a", "b", "p"]
    assert json.loads(text)["p"] == "x/y"


def test_failed_writer_keeps_previous_file_and_leaves_no_temp(tmp_path: Path) -> None:
    dest = write_text(tmp_path / "out.txt", "previous\n")

    def half_then_boom(p: Path) -> None:
        with open(p, "w") as fh:
            fh.write("half of the new")
            fh.flush()
        raise Boom("disk on fire")

    with pytest.raises(Boom):
        write_atomic(dest, half_then_boom)
    assert dest.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


class Unprintable:
    """A cell value whose text form fails: to_csv raises after it has started writing rows."""

    def __str__(self) -> str:
        raise Boom("cannot format")

    __repr__ = __str__


def test_failed_csv_write_keeps_previous_file(tmp_path: Path) -> None:
    good = table()
    dest = write_csv(tmp_path / "scores.csv", good)
    before = dest.read_bytes()
    bad = table(5000, seed=3).astype({"name": object})
    bad.loc[4000, "name"] = Unprintable()
    with pytest.raises(Boom):
        write_csv(dest, bad)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_failed_parquet_write_keeps_previous_file(tmp_path: Path) -> None:
    dest = write_parquet(tmp_path / "layer.parquet", geotable())
    before = dest.read_bytes()
    bad = geotable()
    bad["k"] = [object()] * len(bad)  # arrow cannot convert arbitrary objects
    with pytest.raises(Exception):  # noqa: B017 - arrow's error type is an implementation detail
        write_parquet(dest, bad)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layer.parquet"]


def test_atomic_path_creates_folder_and_renames_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "deeper" / "file.txt"
    with atomic_path(dest) as tmp:
        assert tmp.parent == dest.parent
        assert tmp != dest
        assert not tmp.exists()  # the writer creates it
        tmp.write_text("done")
        assert not dest.exists()  # nothing visible before the block ends
    assert dest.read_text() == "done"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.txt"]


def test_atomic_path_writer_that_writes_nothing(tmp_path: Path) -> None:
    dest = write_text(tmp_path / "keep.txt", "keep")
    with pytest.raises(OSError), atomic_path(dest):
        pass  # nothing written: the rename fails, and the old file must survive
    assert dest.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


# --- GeoParquet written from Arrow directly: the same table geopandas writes --------------------------------


def _geopandas_table(gdf: gpd.GeoDataFrame):
    """The table ``gdf.to_parquet`` writes (geopandas' own conversion), CRS made canonical as write_parquet does."""
    from geopandas.io.arrow import _geopandas_to_arrow

    from siting.io.files import _canonical_crs

    if gdf.crs is not None:
        gdf = gdf.set_crs(_canonical_crs(gdf.crs), allow_override=True)
    return _geopandas_to_arrow(gdf, index=False, write_covering_bbox=False)


def _frames() -> dict[str, gpd.GeoDataFrame]:
    rng = np.random.default_rng(3)
    n = 400
    lon, lat = rng.uniform(61, 77, n), rng.uniform(24, 37, n)
    base = {
        "h3_cell": pd.array([f"88{i:013x}" for i in range(n)], dtype="str"),
        "score": rng.uniform(0, 100, n),
        "gap": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        "rank": np.arange(1, n + 1),
        "ok": rng.random(n) > 0.5,
    }
    points = gpd.GeoDataFrame(base, geometry=shapely.points(lon, lat), crs=4326)
    points.attrs["gaps"] = {"dem_nodata": 3}
    mixed = geotable()
    missing = points.copy()
    missing.loc[[2, 5], "geometry"] = None
    empty_point = points.copy()
    empty_point.loc[7, "geometry"] = Point()
    three_d = points.set_geometry(shapely.points(lon, lat, np.ones(n)))
    two = points.assign(other=gpd.GeoSeries(shapely.points(lat, lon), crs=3857))
    return {
        "points": points,
        "points, another CRS": points.to_crs(32642),
        "points, no CRS": points.set_crs(None, allow_override=True),
        "points, renamed geometry": points.rename_geometry("geom"),
        "points and lines": mixed,
        "hexagons": points.set_geometry(
            gpd.GeoSeries(shapely.buffer(shapely.points(lon, lat), 0.01, quad_segs=2), crs=4326)
        ),
        "missing geometries": missing,
        "an empty point": empty_point,
        "3D points": three_d,
        "two geometry columns": two,
        "no rows": points.iloc[:0],
    }


@pytest.mark.parametrize("name", list(_frames()))
def test_geoparquet_table_is_what_geopandas_writes(name: str) -> None:
    from siting.io.files import geoparquet_table

    gdf = _frames()[name]
    ours, theirs = geoparquet_table(gdf), _geopandas_table(gdf)
    assert ours.schema.equals(theirs.schema, check_metadata=True)
    assert [f.metadata for f in ours.schema] == [f.metadata for f in theirs.schema]  # geoarrow.wkb + CRS
    assert ours.schema.metadata == theirs.schema.metadata  # pandas, geo (types, bbox, CRS), PANDAS_ATTRS
    for col in theirs.column_names:
        assert ours.column(col).combine_chunks().equals(theirs.column(col).combine_chunks()), col


def test_point_wkb_is_shapely_wkb() -> None:
    from siting.io.files import POINT_WKB_BYTES, point_wkb

    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-180, 180, 1000), [0.0, -0.0, 1e-300, 5e-324, 1e308, -1e308]])
    y = np.concatenate([rng.uniform(-90, 90, 1000), [0.0, 0.0, -1e-300, 1.0, -1e308, 1e308]])
    ours = point_wkb(x, y)
    assert ours.to_pylist() == list(shapely.to_wkb(shapely.points(x, y), flavor="iso", byte_order=1))
    assert all(len(b) == POINT_WKB_BYTES for b in ours.to_pylist())
    assert shapely.equals_exact(shapely.from_wkb(ours.to_numpy(zero_copy_only=False)), shapely.points(x, y), 0).all()
    assert len(point_wkb(np.zeros(0), np.zeros(0))) == 0


def test_write_parquet_reads_back_as_the_frame(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    gdf = _frames()["points"]
    path = write_parquet(tmp_path / "p.parquet", gdf)
    back = gpd.read_parquet(path)
    pd.testing.assert_frame_equal(back, gdf, check_exact=True)
    assert back.attrs == gdf.attrs
    assert pq.read_table(path).equals(_geopandas_table(gdf))
    gdf.to_parquet(tmp_path / "g.parquet", index=False, compression="zstd", write_covering_bbox=False)
    assert pq.read_table(path).equals(pq.read_table(tmp_path / "g.parquet"))
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert "RLE_DICTIONARY" in encodings["h3_cell"] and "RLE_DICTIONARY" not in encodings["score"]


@pytest.mark.parametrize("rows", [400, 0])
def test_points_from_columns_are_the_table_of_the_frame_with_those_points(rows: int) -> None:
    """``points=(lon, lat)`` writes what geopandas writes for the frame with those points appended last."""
    from siting.io.files import geoparquet_table

    gdf = _frames()["points"].iloc[:rows]
    plain = pd.DataFrame(gdf.drop(columns="geometry"))
    plain.attrs = dict(gdf.attrs)
    plain["lon"], plain["lat"] = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    with_points = plain.copy()
    with_points["geometry"] = gpd.GeoSeries(gpd.points_from_xy(plain["lon"], plain["lat"]), index=plain.index)
    theirs = _geopandas_table(gpd.GeoDataFrame(with_points, geometry="geometry", crs=4326))
    ours = geoparquet_table(plain, points=("lon", "lat"))
    assert ours.schema.equals(theirs.schema, check_metadata=True)
    assert [f.metadata for f in ours.schema] == [f.metadata for f in theirs.schema]
    assert ours.schema.metadata == theirs.schema.metadata
    assert all(ours.column(c).combine_chunks().equals(theirs.column(c).combine_chunks()) for c in theirs.column_names)
