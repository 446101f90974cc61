"""Output writing: reruns give identical bytes, and a failed write leaves the previous file and no debris."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
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
