"""All criteria for every H3 resolution-8 cell of Pakistan: siting vs a plain geopandas implementation.

Usage (after ``make layers``)::

    .venv/bin/python benchmarks/criteria_res8.py [--resolution 8] [--data-dir data]

Each implementation runs in its own process, so the peak memory printed is its own. Both start from the
same candidate points (H3 cell centres, drawn once and timed separately) and compute the same spatial
criteria: province (point in polygon), nearest substation at or above the study voltage and per class
(132/220/500 kV), nearest line per class (to the segment), nearest internet exchange, cable landing and
fibre route, and the climate grids (12 monthly temperatures, elevation, Köppen class). siting also does
its lapse-rate, PUE, headroom, cost and latency arithmetic inside the timed region; the baseline does not,
so the ratio slightly favours the baseline. The baseline measures in a projected CRS (UTM 42N), which is
what a plain geopandas user would do; the script prints how far the two disagree.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from siting.io.reference import Reference

PROJECTED = "EPSG:32642"  # UTM zone 42N, central to Pakistan


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def draw_candidates(data: Path, resolution: int, out: Path) -> None:
    from siting.layers import Layers
    from siting.model.candidates import h3_cells

    layers = Layers(data / "processed" / "layers" / "PAK")
    start = time.perf_counter()
    cells = h3_cells(layers.country.geometry.iloc[0], resolution)
    elapsed = time.perf_counter() - start
    cells.to_parquet(out)
    print(json.dumps({"impl": "candidates", "n": len(cells), "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}))


def run_siting(data: Path, points: Path) -> None:
    import geopandas as gpd

    from siting.config import Study
    from siting.fields import F
    from siting.kernels.geodesy import PointIndex
    from siting.layers import Layers
    from siting.model import candidates, surplus
    from siting.model.criteria import compute

    layers = Layers(data / "processed" / "layers" / "PAK")
    for name in ("provinces", "substations", "lines", "connectivity_nodes", "plants"):
        getattr(layers, name)  # read the layers before the clock starts, as the baseline does
    df = pd.read_parquet(points)
    study = Study(name="bench")
    # the compiled scans: built on the first call after installation, then loaded from numba's cache
    jit_start = time.perf_counter()
    PointIndex([67.0], [25.0]).nearest([67.1], [25.1])
    jit_seconds = time.perf_counter() - jit_start
    start = time.perf_counter()
    idx = candidates.assign_province(df[F.LON].to_numpy(), df[F.LAT].to_numpy(), layers.provinces)
    df[F.ISO_3166_2] = layers.provinces[F.ISO_3166_2].to_numpy()[idx]
    ref = Reference.for_study(study)
    table = surplus.provincial_surplus(study, layers.provinces, layers.plants, ref).provinces
    cells = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[F.LON], df[F.LAT]), crs=4326)
    out = compute(cells, layers, study, table, ref)
    elapsed = time.perf_counter() - start
    out[["dist_substation_220kv_km", "dist_line_220kv_km", "dist_ixp_km"]].to_parquet(points.with_suffix(".siting"))
    result = {"impl": "siting", "n": len(out), "seconds": elapsed, "peak_rss_mb": peak_rss_mb(), "jit": jit_seconds}
    print(json.dumps(result))


def run_baseline(data: Path, points: Path) -> None:
    import geopandas as gpd
    import rasterio

    from siting.fields import F
    from siting.layers import Layers

    layers = Layers(data / "processed" / "layers" / "PAK")
    provinces = layers.provinces.to_crs(PROJECTED)
    subs = layers.substations.to_crs(PROJECTED)
    lines = layers.lines[~layers.lines["is_hvdc"]].to_crs(PROJECTED)
    nodes = layers.connectivity_nodes.to_crs(PROJECTED)
    fibre = pd.read_csv(Path(__file__).resolve().parents[1] / "siting/regions/PAK/fibre_routes.csv")
    from shapely import LineString

    fibre_line = gpd.GeoDataFrame(geometry=[LineString(fibre[["lon", "lat"]].to_numpy())], crs=4326).to_crs(PROJECTED)
    df = pd.read_parquet(points)
    start = time.perf_counter()
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[F.LON], df[F.LAT]), crs=4326)
    proj = pts.to_crs(PROJECTED)
    out = pd.DataFrame(index=pts.index)
    joined = gpd.sjoin(proj, provinces[["iso_3166_2", "geometry"]], predicate="within", how="left")
    out["iso_3166_2"] = joined[~joined.index.duplicated()]["iso_3166_2"]

    def nearest(targets: gpd.GeoDataFrame, name: str) -> None:
        j = gpd.sjoin_nearest(proj[["geometry"]], targets[["geometry"]], distance_col="d")
        out[name] = j[~j.index.duplicated()]["d"] / 1000.0

    nearest(subs[subs[F.VOLTAGE_KV] >= 220], "dist_substation_km")
    for kv in (132, 220, 500):
        nearest(subs[subs[F.VOLTAGE_KV] >= kv], f"dist_substation_{kv}kv_km")
        nearest(lines[lines[F.VOLTAGE_KV] >= kv], f"dist_line_{kv}kv_km")
    nearest(nodes[nodes["kind"] == "internet_exchange"], "dist_ixp_km")
    nearest(nodes[nodes["kind"] == "cable_landing"], "dist_cable_landing_km")
    nearest(fibre_line, "dist_fibre_route_km")
    coords = list(zip(df[F.LON], df[F.LAT], strict=True))
    for name in ("t2m_monthly_c", "elevation_m", "koppen_class"):
        with rasterio.open(layers.raster(name)) as src:
            values = np.array(list(src.sample(coords)))
        out[name] = values.max(axis=1) if values.shape[1] > 1 else values[:, 0]
    elapsed = time.perf_counter() - start
    out[["dist_substation_220kv_km", "dist_line_220kv_km", "dist_ixp_km"]].to_parquet(points.with_suffix(".baseline"))
    print(json.dumps({"impl": "baseline", "n": len(out), "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}))


def child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=8)
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--_run", choices=["candidates", "siting", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--_points", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._run == "candidates":
        return draw_candidates(args.data_dir, args.resolution, args._points)
    if args._run == "siting":
        return run_siting(args.data_dir, args._points)
    if args._run == "baseline":
        return run_baseline(args.data_dir, args._points)

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        points = Path(tmp) / "points.parquet"
        common = ["--data-dir", str(args.data_dir), "--resolution", str(args.resolution), "--_points", str(points)]
        cand = child([*common, "--_run", "candidates"])
        print(f"H3 resolution {args.resolution}: {cand['n']:,} candidate cells drawn in {cand['seconds']:.2f} s")
        ours = child([*common, "--_run", "siting"])
        print(f"siting   all criteria: {ours['seconds']:7.2f} s   peak RSS {ours['peak_rss_mb']:7.0f} MB")
        print(f"  before the clock: numba kernels ready in {ours['jit']:.2f} s (compiled once per install, cached)")
        if args.skip_baseline:
            return None
        base = child([*common, "--_run", "baseline"])
        print(f"geopandas baseline:    {base['seconds']:7.2f} s   peak RSS {base['peak_rss_mb']:7.0f} MB")
        print(f"speed-up: {base['seconds'] / ours['seconds']:.1f}x")
        a = pd.read_parquet(points.with_suffix(".siting"))
        b = pd.read_parquet(points.with_suffix(".baseline"))
        for col in a.columns:
            rel = (a[col] - b[col]).abs() / b[col].clip(lower=1.0)
            print(f"  {col}: sphere vs UTM 42N, median |diff| {rel.median():.2%}, 99th pct {rel.quantile(0.99):.2%}")
    return None


if __name__ == "__main__":
    main()
