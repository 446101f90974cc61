"""Open a map page in headless Chromium with the network cut off, and report what it did.

Used by the browser tests and ``benchmarks/map_render.py``. Drives Debian's ``chromium`` through Playwright
(a ``dev`` dependency; Playwright's own browser downloads are never used). Every request the page makes is
recorded and any that is not ``data:``, ``file:``, ``about:`` or ``blob:`` is aborted, console errors and
uncaught exceptions are collected, and the time to first render is taken in the page: from navigation start
until the score image has decoded and the province outlines are in the DOM.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = ("data:", "file:", "about:", "blob:")
# true once the province outlines are drawn and the score image has decoded: the map is usable (a map of the
# planner's own sites has no score image; the element, added before the outlines, is then absent)
RENDERED_JS = """() => {
  const img = document.querySelector('img.siting-score-surface');
  const provinces = document.querySelectorAll('path.siting-province').length;
  return (!img || (img.complete && img.naturalWidth > 0)) && provinces > 0 ? performance.now() : false;
}"""


def find_chromium() -> str | None:
    """Path of the system Chromium (``$SITING_CHROMIUM``, ``chromium`` or ``chromium-browser``), or None."""
    for name in (os.environ.get("SITING_CHROMIUM"), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    return None


@dataclass
class PageReport:
    """What an opened page did."""

    requests: list[str] = field(default_factory=list)  # every URL requested, in order
    console_errors: list[str] = field(default_factory=list)  # console.error messages and uncaught exceptions
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt messages (there must be none)
    render_ms: float = float("nan")  # navigation start to score image and provinces drawn

    @property
    def network_requests(self) -> list[str]:
        """Requests that would have gone to the network (aborted)."""
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


@contextmanager
def open_offline(
    html_file: Path, width: int = 1280, height: int = 900, timeout_ms: float = 30_000
) -> Iterator[tuple[Any, PageReport]]:
    """Open ``html_file`` in headless Chromium with no network; yield ``(playwright page, report)``.

    Raises
    ------
    RuntimeError
        If Chromium or Playwright is not installed.

    """
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("chromium is not installed: `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    report = PageReport()
    with tempfile.TemporaryDirectory(prefix="siting-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            offline=True,
            viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("request", lambda req: report.requests.append(req.url))
            page.on("console", lambda msg: msg.type == "error" and report.console_errors.append(msg.text))
            page.on("pageerror", lambda exc: report.console_errors.append(str(exc)))
            page.on("dialog", lambda dialog: (report.dialogs.append(dialog.message), dialog.dismiss()))
            context.route(
                "**/*",
                lambda route: route.continue_() if route.request.url.startswith(LOCAL_SCHEMES) else route.abort(),
            )
            page.goto(Path(html_file).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
            report.render_ms = float(page.wait_for_function(RENDERED_JS, timeout=timeout_ms).json_value())
            yield page, report
        finally:
            context.close()


def click_a_top_site(page) -> Any:
    """Click the first top-site marker not covered by another, with the mouse; return its open popup (a locator)."""
    spot = page.evaluate(
        """() => {
        for (const el of document.querySelectorAll('.siting-site-icon')) {
          const r = el.getBoundingClientRect();
          const x = r.left + r.width / 2, y = r.top + r.height / 2;
          const hit = document.elementFromPoint(x, y);
          if (hit && hit.closest('.siting-site-icon') === el) return [x, y];
        }
        return null;
      }"""
    )
    assert spot, "no top-site marker can be clicked"
    page.mouse.click(*spot)
    popup = page.locator(".leaflet-popup-content .siting-site")
    popup.wait_for(timeout=5000)
    return popup
