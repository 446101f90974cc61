"""Size, first render and re-score time of the offline map with weights, beside the plain map.

Usage::

    .venv/bin/siting score && .venv/bin/siting sensitivity
    .venv/bin/siting map --no-weights && cp data/processed/pakistan/bitcoin_mining/map.html /tmp/plain.html
    .venv/bin/siting map
    .venv/bin/python benchmarks/map_weights.py data/processed/pakistan/bitcoin_mining/map.html /tmp/plain.html

In headless Chromium with the network cut off (``tests/browser.py``), prints for each page its size and the
median time to first render (navigation start until the score image has decoded and the province outlines are
drawn) over fresh browser starts; for the page with weights, the time until its data is inflated and ready, and
the median time from a slider's input event (a real key press on the range input) to the next frame after the
re-scored surface and best-cell list are drawn, over many moves, and the ratio of the two pages' sizes and
first renders. Goals (issue #15): res 7 ≤ 6 MB and ≤ 150 ms a move; res 8 ≤ 15 MB and ≤ 600 ms; first render
≤ 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the browser driver the tests use
from browser import find_chromium, open_offline

READY = "() => document.documentElement.getAttribute('data-siting-weights-ready') === '1'"


def first_render(html: Path, runs: int) -> list[float]:
    """Time to first render (ms) over ``runs`` fresh browser starts."""
    out = []
    for _ in range(runs):
        with open_offline(html, timeout_ms=120_000) as (_page, report):
            if report.network_requests or report.console_errors:
                raise SystemExit(f"{html}: requests {report.network_requests}, errors {report.console_errors}")
            out.append(report.render_ms)
    return out


def slider_moves(html: Path, moves: int) -> tuple[float, list[float], list[float]]:
    """Ready time (ms after navigation start), and compute and frame times (ms) of ``moves`` slider moves."""
    with open_offline(html, timeout_ms=120_000) as (page, report):
        page.wait_for_function(READY, timeout=120_000)
        ready = float(page.evaluate("() => performance.now()"))
        sliders = page.locator(".siting-weight input")
        count = sliders.count()
        for i in range(moves):
            slider = sliders.nth(i % count)
            slider.focus()
            page.keyboard.press("ArrowRight" if (i // count) % 2 == 0 else "ArrowLeft")
            page.wait_for_function(
                f"() => Number(document.documentElement.getAttribute('data-siting-rescored')) >= {i + 1}",
                timeout=60_000,
            )
        timings = page.evaluate("() => sitingWeights.state().timings")
        if report.console_errors or report.network_requests:
            raise SystemExit(f"{html}: requests {report.network_requests}, errors {report.console_errors}")
    return ready, [t["compute"] for t in timings], [t["frame"] for t in timings]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="map.html written by `siting map` (with weights)")
    parser.add_argument("plain", type=Path, nargs="?", help="the same map written with `siting map --no-weights`")
    parser.add_argument("--runs", type=int, default=3, help="fresh browser starts to time first render (default 3)")
    parser.add_argument("--moves", type=int, default=24, help="slider moves to time (default 24)")
    args = parser.parse_args()
    if find_chromium() is None:
        print("chromium is not installed: apt-get install -y chromium", file=sys.stderr)
        return 2
    for page in (args.weights, args.plain):
        if page is not None and not page.is_file():
            print(f"{page} is missing; build it first (see the usage in {__file__}).", file=sys.stderr)
            return 2
    size = args.weights.stat().st_size
    render = first_render(args.weights, args.runs)
    ready, compute, frame = slider_moves(args.weights, args.moves)
    print(f"page with weights:    {args.weights}")
    print(f"  size:               {size / 1e6:.2f} MB ({size:,} bytes)")
    print(f"  first render:       median {statistics.median(render):.0f} ms ({args.runs} browser starts)")
    print(f"  weights ready:      {ready:.0f} ms after navigation start (data inflated, sliders live)")
    print(
        f"  slider move:        median {statistics.median(frame):.0f} ms to the next frame "
        f"(max {max(frame):.0f}; re-score and draw alone median {statistics.median(compute):.0f} ms; "
        f"{len(frame)} moves; first move {frame[0]:.0f} ms)"
    )
    if args.plain is not None:
        plain_size = args.plain.stat().st_size
        plain_render = first_render(args.plain, args.runs)
        print(f"plain page:           {args.plain}")
        print(f"  size:               {plain_size / 1e6:.2f} MB ({plain_size:,} bytes)")
        print(f"  first render:       median {statistics.median(plain_render):.0f} ms")
        print(
            f"ratio weights/plain:  size {size / plain_size:.2f}×, "
            f"first render {statistics.median(render) / statistics.median(plain_render):.2f}×"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
