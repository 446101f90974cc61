"""Leaflet's script, stylesheet and images, inlined so a map page needs no network.

The files come from the pinned PyPI package ``django-js-lib-leaflet`` (Leaflet 1.9.4 as released, BSD-2-Clause,
no dependencies; it is only a carrier of the files, Django is never imported), installed with ``siting``. The
stylesheet's ``url(images/...)`` references become ``data:`` URLs and the source-map comment is dropped, so
nothing on the page refers to another file.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

from siting._errors import DataError

LEAFLET_PACKAGE = "js_lib_leaflet"
LEAFLET_DIR = "static/js_lib_leaflet"
LEAFLET_VERSION = "1.9.4"
_CSS_URL = re.compile(r"url\((['\"]?)images/([A-Za-z0-9_.-]+\.png)\1\)")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)


def _leaflet_file(name: str) -> bytes:
    try:
        return (resources.files(LEAFLET_PACKAGE) / LEAFLET_DIR / name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DataError(
            f"Leaflet's {name} is missing: the package django-js-lib-leaflet=={LEAFLET_VERSION}.1 is not installed; "
            "reinstall siting (`pip install -e .`) to get it."
        ) from exc


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images as ``data:`` URLs."""
    css = _leaflet_file("leaflet.css").decode("utf-8")
    return _CSS_URL.sub(lambda m: f"url({_data_url(_leaflet_file('images/' + m.group(2)))})", css)


@cache
def leaflet_js() -> str:
    """Leaflet's minified script, checked to be the pinned version and safe to place in a ``<script>``."""
    js = _SOURCE_MAP.sub("", _leaflet_file("leaflet.js").decode("utf-8"))
    if f'version="{LEAFLET_VERSION}"' not in js:
        raise DataError(
            f"the installed django-js-lib-leaflet does not carry Leaflet {LEAFLET_VERSION}; reinstall siting."
        )
    if "</script" in js.lower():
        raise DataError("Leaflet's script contains '</script' and cannot be inlined; report this.")
    return js


def leaflet_head() -> str:
    """``<style>`` and ``<script>`` elements carrying Leaflet, for the page's ``<head>``."""
    return f"<style>{leaflet_css()}</style>\n<script>{leaflet_js()}</script>"
