"""Text of the maps: escaping, number formats, tooltips, popups, legend, title and sources box."""

from __future__ import annotations

import html
import math

import branca.colormap as cm
import folium
import numpy as np
import pandas as pd

from siting._errors import DataError
from siting.config import Profile, Study
from siting.decide.scoring import points_column
from siting.fields import F, label
from siting.io.catalog import Source
from siting.layers.userdata import CANDIDATE_ID, CANDIDATE_NAME
from siting.outputs.maps.style import _BOX_STYLE, HVDC_STYLE, UNKNOWN_VOLTAGE_STYLE, VOLTAGE_STYLES

ROBUST_P = 0.9  # ring colours of top-site markers by p_top_n: green at or above, amber down to FRAGILE_P, red below
FRAGILE_P = 0.5

# ---------------------------------------------------------------------------------------------- text


def esc(value: object) -> str:
    """Escape a data value for HTML and for the JavaScript template literals folium wraps popups in.

    ``html.escape`` covers ``< > & " '``; the backtick, ``$`` and backslash are also replaced by their
    character references, so a name such as ``${alert(1)}`` cannot break out of a JavaScript template.

    Parameters
    ----------
    value
        Any value; None and NaN give an empty string.

    Returns
    -------
    str
        Text safe to place inside HTML and inside a JavaScript template literal.

    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def fmt_number(value: float, signed: bool = False) -> str:
    """Format a measured value for a reader: thousands separators, one decimal below 100, "–" when missing."""
    if value is None or not np.isfinite(value):
        return "–"
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{value:,.0f}" if abs(value) >= 100 else f"{sign}{value:,.1f}"


def fmt_points(points: float, weight: float) -> str:
    """Points earned out of the criterion's maximum, e.g. ``"24.4 / 25"``."""
    return f"{points:.1f} / {100.0 * weight:g}"


def _kv(kv: float) -> str:
    return f"{kv:g} kV" if np.isfinite(kv) else "voltage unknown"


# ---------------------------------------------------------------------------------------------- sites


def candidate_label(site: pd.Series) -> str:
    """Return the planner's name and id of a site scored with ``--candidates`` (``"Thar (T1)"``), "" for a cell."""
    name, ident = site.get(CANDIDATE_NAME), site.get(CANDIDATE_ID)
    name = "" if name is None or pd.isna(name) else str(name)
    ident = "" if ident is None or pd.isna(ident) else str(ident)
    if name and ident and name != ident:
        return f"{name} ({ident})"
    return name or ident


def site_tooltip(site: pd.Series) -> str:
    """Hover text of a site: ``"[<your name> · ]<province> #<rank> — score <x>"`` (escaped)."""
    own = candidate_label(site)
    return (f"{esc(own)} · " if own else "") + (
        f"{esc(site[F.PROVINCE])} #{int(site[F.RANK_IN_PROVINCE])} — score {site[F.SCORE]:.1f}"
    )


def robustness_colour(p_top_n: float) -> str:
    """Ring colour of a top site by its share of weight draws in the province's top N (as sensitivity.png)."""
    if not np.isfinite(p_top_n):
        return "#111"
    return "#2b8a3e" if p_top_n >= ROBUST_P else "#e8a33d" if p_top_n >= FRAGILE_P else "#c92a2a"


def robustness_html(robust: pd.Series | None, top_n: int, ran: bool = False) -> str:
    """Popup lines on a site's robustness: share of draws in the top N, rank range, the weight it depends on.

    ``ran``: the sensitivity run exists but ``robust`` is None (the cell is in no site it ranked).
    """
    if robust is None and ran:
        return "<div style='color:#777'>Robustness: this cell is in no site the sensitivity run ranked.</div>"
    if robust is None:
        return "<div style='color:#777'>Robustness: run <code>siting sensitivity</code> to see it here.</div>"
    crit = str(robust["most_influential"])
    depends = "no single weight moves its rank" if crit == "none" else f"depends most on {esc(label(crit))}"
    return (
        f"<div class='siting-robustness' style='margin-top:3px'><b>Robustness</b> (site {esc(robust['site_id'])}): "
        f"in the province top {top_n} in <b>{100 * float(robust['p_top_n']):.0f} %</b> of weight draws; "
        f"rank {int(robust['rank_min'])}–{int(robust['rank_max'])} (median {float(robust['rank_median']):g}); "
        f"{depends}.</div>"
    )


def site_popup_html(
    site: pd.Series,
    profile: Profile,
    weights: dict[str, float] | None = None,
    robust: pd.Series | None = None,
    top_n: int | None = None,
    ran: bool = False,
) -> str:
    """Popup of a top site: where it is, its score and the points each criterion earned.

    Parameters
    ----------
    site
        One row of ``top_sites.csv``.
    profile
        The profile it was scored with (criteria, weights, value functions).
    weights
        The weights used (``provenance.json``); the profile's own weights when None.
    robust, top_n, ran
        The sensitivity run's row of the site this cell belongs to, the study's top N, and whether the run
        exists; with ``top_n`` given, the popup says how robust the site is (or how to find out).

    Returns
    -------
    str
        HTML; every value from data is escaped.

    """
    rows = []
    for name, crit in profile.criteria.items():
        pcol = points_column(name)
        if name not in site.index or pcol not in site.index:
            raise DataError(f"top_sites.csv has no column '{name}' or '{pcol}'; rerun `siting score`.")
        why = esc(crit.why)
        scale = crit.value.describe()
        weight = float((weights or {}).get(name, crit.weight) or 0.0)
        rows.append(
            f"<tr title='{why} ({esc(scale)})'><td>{esc(label(name))}</td>"
            f"<td class='num'>{fmt_number(float(site[name]))}</td>"
            f"<td class='num'>{fmt_points(float(site[pcol]), weight)}</td></tr>"
        )
    place = esc(site.get("nearest_place", ""))
    place_km = site.get("dist_place_km", np.nan)
    sub_name = esc(site.get(F.SUBSTATION_NAME, "")) or "unnamed substation"
    own = candidate_label(site)
    parts = [
        f"<div class='siting-site' data-cell='{esc(site[F.CELL])}' style='font-size:12px;min-width:300px'>",
        f"<div style='font-size:15px'><b>{esc(own)}</b></div>" if own else "",
        f"<div style='font-size:14px'><b>{esc(site[F.PROVINCE])}</b> — #{int(site[F.RANK_IN_PROVINCE])} in province"
        + (f" (#{int(site[F.RANK_NATIONAL]):,} nationally)" if F.RANK_NATIONAL in site.index else "")
        + "</div>",
        f"<div style='font-size:14px;margin:2px 0 4px'>Score <b>{site[F.SCORE]:.1f}</b> / 100</div>",
        f"<div>Near {place} ({fmt_number(float(place_km))} km)</div>" if place else "",
        "<table style='border-collapse:collapse;margin:4px 0'>"
        "<tr style='border-bottom:1px solid #999'><th style='text-align:left'>Criterion</th>"
        "<th class='num'>Value</th><th class='num'>Points</th></tr>",
        *rows,
        f"<tr style='border-top:1px solid #999'><td><b>Total</b></td><td></td>"
        f"<td class='num'><b>{site[F.SCORE]:.1f} / 100</b></td></tr></table>",
        robustness_html(robust, top_n, ran) if top_n is not None else "",
        f"<div>Nearest substation: <b>{sub_name}</b>, {_kv(float(site.get(F.SUBSTATION_KV, np.nan)))}, "
        f"{fmt_number(float(site.get(F.DIST_SUBSTATION_KM, np.nan)))} km</div>",
        f"<div>Nearest connectivity node: {esc(site.get(F.CONNECTIVITY_NODE, ''))}, "
        f"{fmt_number(float(site.get(F.DIST_CONNECTIVITY_KM, np.nan)))} km</div>",
        f"<div style='color:#666'>{'in ' if own else ''}H3 cell {esc(site[F.CELL])} · "
        f"{site[F.LAT]:.4f}° N, {site[F.LON]:.4f}° E</div>",
        "</div>",
    ]
    return "".join(parts)


def _site_icon(site: pd.Series, cmap: cm.LinearColormap, p_top_n: float = float("nan")) -> folium.DivIcon:
    r, g, b = cmap.rgb_bytes_tuple(float(site[F.SCORE]))
    text = "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"
    ring = f"3px solid {robustness_colour(p_top_n)}" if np.isfinite(p_top_n) else "2px solid #111"
    html_icon = (
        f"<div style='width:20px;height:20px;border-radius:50%;background:rgb({r},{g},{b});color:{text};"
        f"border:{ring};font:bold 11px/20px Arial,sans-serif;text-align:center'>"
        f"{int(site[F.RANK_IN_PROVINCE])}</div>"
    )
    return folium.DivIcon(html=html_icon, icon_size=(24, 24), icon_anchor=(12, 12), class_name="siting-site-icon")


# ------------------------------------------------------------------------------------------ overlays


def _gradient(cmap: cm.LinearColormap, n: int = 11) -> str:
    stops = np.linspace(cmap.vmin, cmap.vmax, n)
    return ",".join(cmap.rgb_hex_str(v) for v in stops)


def _legend_bar(title: str, cmap: cm.LinearColormap, ticks: list[tuple[float, str]]) -> str:
    width = 190
    spans = "".join(
        f"<span style='position:absolute;left:{(v - cmap.vmin) / (cmap.vmax - cmap.vmin) * width:.0f}px;"
        f"transform:translateX(-50%)'>{t}</span>"
        for v, t in ticks
    )
    return (
        f"<div style='margin-top:4px'><b>{title}</b></div>"
        f"<div style='width:{width}px;height:10px;background:linear-gradient(to right,{_gradient(cmap)});"
        "border:1px solid #777'></div>"
        f"<div style='position:relative;width:{width}px;height:15px;margin:0 8px 0 0'>{spans}</div>"
    )


def legend_html(score_cmap: cm.LinearColormap, surplus_cmap: cm.LinearColormap, substation_min_kv: float) -> str:
    """Return the legend box: score 0-100, provincial surplus in MW, and the grid's voltage classes."""
    span = surplus_cmap.vmax
    surplus_ticks = [(-span, f"−{span:,.0f}"), (0.0, "0"), (span, f"+{span:,.0f}")]
    grid = "".join(
        f"<div><span style='display:inline-block;width:18px;height:0;border-top:{weight + 1:.0f}px solid {colour};"
        f"vertical-align:middle;margin-right:5px'></span>{esc(name)}</div>"
        for _, name, colour, _, weight in VOLTAGE_STYLES[:2]
    )
    grid += (
        f"<div><span style='display:inline-block;width:18px;height:0;border-top:3px dashed {HVDC_STYLE[1]};"
        f"vertical-align:middle;margin-right:5px'></span>{HVDC_STYLE[0]} line</div>"
    )
    dots = [(name, colour) for _, name, colour, _, _ in VOLTAGE_STYLES] + [UNKNOWN_VOLTAGE_STYLE[:2]]
    grid += (
        "<div>Substations: "
        + " ".join(
            f"<span style='white-space:nowrap'><span style='display:inline-block;width:9px;height:9px;"
            f"border-radius:50%;background:{colour};vertical-align:middle'></span> {esc(name)}</span>"
            for name, colour in dots
        )
        + f"<br><i>below {substation_min_kv:g} kV: layer off by default</i></div>"
    )
    return (
        f"<div class='siting-legend' style='{_BOX_STYLE}bottom:26px;right:10px;max-width:230px'>"
        + _legend_bar("Suitability score (0-100)", score_cmap, [(0, "0"), (50, "50"), (100, "100")])
        + _legend_bar(f"{esc(label(F.SURPLUS_MW))}", surplus_cmap, surplus_ticks)
        + "<div style='color:#555'>deficit ← → surplus</div>"
        + f"<div style='margin-top:4px'><b>Grid</b></div>{grid}</div>"
    )


def candidates_phrase(study: Study, n_candidates: int, user: bool = False) -> str:
    """Return what was scored: ``"143,791 H3 res-7 candidates"`` or ``"58 of your candidate sites"``."""
    if user:
        return f"{n_candidates:,} of your candidate sites"
    return f"{n_candidates:,} H3 res-{study.candidates.h3_resolution} candidates"


def title_html(
    study: Study, profile: Profile, scored_on: str, n_candidates: int, offline: bool = True, user: bool = False
) -> str:
    """Return the title box: study, profile, date of the scores, how many candidates were scored, base map.

    ``user``: the candidates are the planner's own sites (``siting score --candidates``), not H3 cells.
    """
    base = (
        "Offline page: base map drawn from Natural Earth and GeoNames, no tiles"
        if offline
        else "Base map: OpenStreetMap tiles (needs internet)"
    )
    return (
        f"<div class='siting-title' style='{_BOX_STYLE}top:10px;left:55px;max-width:430px'>"
        f"<div style='font-size:14px'><b>{esc(study.region.name)}: sites for {esc(profile.name.replace('_', ' '))}"
        f"</b></div><div>{esc(profile.description)}</div>"
        f"<div style='color:#555'>Study <b>{esc(study.name)}</b>, profile <b>{esc(profile.name)}</b> · "
        f"{candidates_phrase(study, n_candidates, user)} · scored {esc(scored_on)}</div>"
        f"<div style='color:#777;font-size:11px'>{base}</div></div>"
    )


def sources_html(
    catalog: dict[str, Source], extra: list[tuple[str, str]] | None = None, degraded: list[str] | None = None
) -> str:
    """Return the sources box: what the run lacks (``degraded``), then the sources credited, then ``extra`` notes.

    Parameters
    ----------
    catalog
        The sources to credit: those the scores used (:meth:`MapInputs.attributed`), or the whole catalog.
    extra
        ``(heading, text)`` pairs for figures that do not come from the catalog (reference tables).
    degraded
        The ``degraded`` lines of the run's provenance.json (a layer or table missing or empty, a criterion
        dropped): listed first, under a heading, so that a reader sees what the scores were made without.

    """
    items = [
        f"<li><b>{esc(s.attribution)}</b> — {esc(s.title)} ({esc(s.vintage)}; licence: {esc(s.licence)})</li>"
        for s in catalog.values()
    ]
    items += [f"<li><b>{esc(head)}</b>: {esc(text)}</li>" for head, text in extra or []]
    lacking = ""
    if degraded:
        lacking = (
            "<div class='siting-degraded' style='margin:3px 0;padding:3px 5px;background:#fff3cd;"
            "border-left:3px solid #d39e00'><b>Degraded: what this run skipped or dropped</b>"
            f"<ul style='margin:2px 0;padding-left:16px'>{''.join(f'<li>{esc(n)}</li>' for n in degraded)}</ul>"
            "</div>"
        )
    title = "Data sources and licences" + (f" · degraded ({len(degraded)})" if degraded else "")
    return (
        f"<details open class='siting-sources' style='{_BOX_STYLE}bottom:52px;left:10px;max-width:440px;"
        "max-height:26vh;overflow:auto;font-size:10.5px'>"
        f"<summary style='font-size:12px;cursor:pointer'><b>{esc(title)}</b></summary>"
        f"{lacking}<ul style='margin:3px 0;padding-left:16px'>{''.join(items)}</ul></details>"
    )
