"""Compare two output trees table by table: byte-identical, or which columns differ and by how much.

Used to show that a refactoring changed no result::

    python benchmarks/compare_outputs.py data/processed/pakistan /tmp/after/processed/pakistan

Exit status 0 when every CSV and Parquet table of the first tree exists in the second with the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def describe(a: Path, b: Path) -> str:
    """What differs between two tables of the same name."""
    read = pd.read_parquet if a.suffix == ".parquet" else pd.read_csv
    x, y = read(a), read(b)
    if list(x.columns) != list(y.columns) or len(x) != len(y):
        return f"shape/columns differ: {x.shape} {list(x.columns)[:5]}... vs {y.shape}"
    out = []
    for c in x.columns:
        if x[c].dtype.kind in "fi" and y[c].dtype.kind in "fi":
            d = np.nanmax(np.abs(x[c].to_numpy(float) - y[c].to_numpy(float))) if len(x) else 0.0
            if d > 0:
                out.append(f"{c} (max |Δ| {d:.3g})")
        elif not x[c].astype(str).equals(y[c].astype(str)):
            out.append(f"{c} (values)")
    return "; ".join(out) or "same values, different bytes (metadata)"


def main(first: str, second: str) -> int:
    """Compare every table of ``first`` with the same file in ``second``; print one line each."""
    a_root, b_root = Path(first), Path(second)
    same = differ = 0
    for a in sorted(p for p in a_root.rglob("*") if p.suffix in (".csv", ".parquet")):
        rel = a.relative_to(a_root)
        b = b_root / rel
        if not b.exists():
            print(f"missing  {rel}")
            differ += 1
        elif a.read_bytes() == b.read_bytes():
            print(f"same     {rel}")
            same += 1
        else:
            print(f"DIFFERS  {rel}: {describe(a, b)}")
            differ += 1
    print(f"{same} identical, {differ} different")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
