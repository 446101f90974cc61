"""Time to first render of an offline map in headless Chromium, with the network cut off.

Usage::

    printf 'name: res8\\ncandidates:\\n  h3_resolution: 8\\n' > /tmp/res8.yml
    .venv/bin/siting score --study /tmp/res8.yml && .venv/bin/siting map --study /tmp/res8.yml
    .venv/bin/python benchmarks/map_render.py data/processed/res8/bitcoin_mining/map.html

Prints the HTML size, the network requests (there must be none), console errors, and the time from navigation
start until the score image has decoded and the province outlines are drawn (goal: 3 s or less), over several
fresh browser starts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the browser driver the tests use
from browser import find_chromium, open_offline

DEFAULT = Path("data/processed/res8/bitcoin_mining/map.html")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=DEFAULT, help=f"map page (default {DEFAULT})")
    parser.add_argument("--runs", type=int, default=5, help="fresh browser starts to time (default 5)")
    args = parser.parse_args()
    if not args.html.is_file():
        print(f"{args.html} is missing; build it first (see the usage in {__file__}).", file=sys.stderr)
        return 2
    if find_chromium() is None:
        print("chromium is not installed: apt-get install -y chromium", file=sys.stderr)
        return 2
    size = args.html.stat().st_size
    renders, wall = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        with open_offline(args.html) as (_page, report):
            wall.append(time.perf_counter() - start)
            renders.append(report.render_ms)
            if report.network_requests or report.console_errors:
                print(f"network requests: {report.network_requests}\nconsole errors: {report.console_errors}")
                return 1
    print(f"page:                 {args.html}")
    print(f"size:                 {size / 1e6:.2f} MB ({size:,} bytes)")
    print("network requests:     0; console errors: 0")
    print(
        f"time to first render: median {statistics.median(renders):.0f} ms "
        f"(min {min(renders):.0f}, max {max(renders):.0f}; {args.runs} runs; goal ≤ 3000 ms)"
    )
    print(f"browser start + load: median {statistics.median(wall):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
