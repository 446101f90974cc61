"""`siting score` end to end across H3 resolutions, in process and partitioned on dask.distributed.

Usage (after ``siting fetch`` and ``siting prepare``)::

    .venv/bin/python benchmarks/score_scaling.py --data-dir data [--runs 3] \\
        --case 6:inproc --case 7:inproc --case 8:inproc --case 8:workers=2 --case 9:workers=2 \
        --case 10:workers=2:PK-SD

Each case (``RES:MODE`` or ``RES:MODE:PROVINCE``) runs ``siting score`` in its own process (``--runs``
times) on a study file ``res<N>`` with ``candidates: {h3_resolution: N}`` (and ``provinces: [PROVINCE]``).
The table gives the cells scored, the wall time (min-max over the runs), the peak RSS of the command's
process tree (the largest of the command and its workers) and, for partitioned runs, of every dask worker
(``provenance.json`` records them), and the ratio of the wall time to the in-process case at the same
resolution when there is one. The machine's load is printed too: timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(data: Path, res: int, mode: str, province: str | None = None) -> dict:
    """Run ``siting score`` once in a child process; wall time, its peak RSS, the workers' and the cell count."""
    name = f"res{res}" + (f"_{province}" if province else "")
    study = Path(tempfile.mkdtemp()) / f"{name}.yml"
    only = f"  provinces: [{province}]\n" if province else ""
    study.write_text(f"name: {name}\ncandidates:\n  h3_resolution: {res}\n{only}")
    args = [sys.executable, "-m", "siting", "--data-dir", str(data), "score", "--study", str(study)]
    if mode.startswith("workers="):
        args += ["--workers", mode.split("=", 1)[1]]
    else:
        args += ["--partition-above", str(10**12)]  # in process, whatever the size
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        return {"res": res, "mode": mode, "error": proc.stderr.strip().splitlines()[-1:]}
    prov = json.loads((data / "processed" / name / "bitcoin_mining" / "provenance.json").read_text())
    part = prov.get("partitions") or {}
    return {
        "res": res,
        "mode": mode + (f" {province}" if province else ""),
        "cells": prov["candidates"]["scored"],
        "seconds": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
        "worker_peak_rss_mb": part.get("worker_peak_rss_mb", []),
        "partitions": part.get("count"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--case", action="append", default=None, help="RES:inproc or RES:workers=N (repeatable)")
    parser.add_argument("--_one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._one:  # a fresh process a run, so that RUSAGE_CHILDREN is this run's own peak
        res, mode, *province = args._one.split(":")
        print(json.dumps(one(args.data_dir, int(res), mode, *province)))
        return
    cases = args.case or ["6:inproc", "7:inproc", "8:inproc", "8:workers=2", "9:workers=2"]
    rows = []
    for case in cases:
        got = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--data-dir", str(args.data_dir), "--_one", case],
                capture_output=True, text=True, check=True, env=os.environ,
            )  # fmt: skip
            got.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(got[-1]) + f"  load {os.getloadavg()[0]:.1f}", flush=True)
        rows.append(got)
    inproc = {
        (g[0]["res"], g[0]["mode"].partition(" ")[2]): min(r["seconds"] for r in g)
        for g in rows
        if g[0]["mode"].partition(" ")[0] == "inproc" and "error" not in g[0]
    }
    print(f"\n{'res':>3} {'mode':<16} {'cells':>10} {'wall s (min-max)':>17} {'peak MB':>8} "
          f"{'workers peak MB':>16} {'parts':>5} {'× in-proc':>9}")  # fmt: skip
    for g in rows:
        r = g[0]
        if "error" in r:
            print(f"{r['res']:>3} {r['mode']:<16} error: {r['error']}")
            continue
        secs = [x["seconds"] for x in g]
        workers = "/".join(f"{m:.0f}" for m in r["worker_peak_rss_mb"]) or "-"
        key = (r["res"], r["mode"].partition(" ")[2])
        ratio = f"{min(secs) / inproc[key]:.2f}" if key in inproc else "-"
        peak = max(x["peak_rss_mb"] for x in g)
        print(f"{r['res']:>3} {r['mode']:<16} {r['cells']:>10,} {min(secs):>8.1f}-{max(secs):<8.1f} "
              f"{peak:>8.0f} {workers:>16} {r['partitions'] or '-':>5} {ratio:>9}")  # fmt: skip


if __name__ == "__main__":
    main()
