"""Province briefs: one page per province for officials, as HTML and PDF (``siting brief``).

Each page holds a small map of the province (the study's score surface, its top sites, the grid), the top
sites with their score breakdown and robustness, the province's surplus and grid facts, the assumptions that
matter most with their sources, and the date, study and profile. Everything is read from the tables
``siting score`` and ``siting sensitivity`` wrote (:func:`siting.outputs.maps.data.read_outputs`,
``surplus_figures.csv``); nothing is scored again. The PDF is drawn with matplotlib (one page a province,
TrueType text so that it can be searched and copied), the HTML is a standalone page with the map inlined.
"""

from __future__ import annotations

import base64
import io
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._errors import DataError
from siting.config import Profile, Study
from siting.decide.scoring import points_column
from siting.fields import F, label
from siting.io.files import write_atomic, write_text
from siting.io.paths import Paths
from siting.io.validate import read_table
from siting.layers import Layers
from siting.outputs.maps.data import MapInputs, drawn_lines, read_outputs
from siting.outputs.maps.raster import ScoreImage, score_rgba, study_score_image
from siting.outputs.maps.style import LAND_COLOUR, OUTSIDE_COLOUR, voltage_style
from siting.outputs.maps.text import _kv, esc, fmt_number
from siting.outputs.textsafe import plain_text

BRIEFS_DIR = "briefs"
PAGE_INCHES = (8.27, 11.69)  # A4 portrait
SHARED_FIGURES = ("monthly_peak_demand_mw", "south_north_transfer_mw", "load_factor")  # surplus_figures.csv rows
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}  # equal inputs, equal bytes


@dataclass
class Brief:
    """What one province's page says, every figure read from the study's tables."""

    iso: str
    province: str
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sites: list[str]  # column heads: "#1 near X"
    rows: list[tuple[str, list[str]]]  # score breakdown and robustness: row label, one value a site
    assumptions: list[tuple[str, str]]  # (assumption, its source or basis)
    sources: list[str]
    top: pd.DataFrame = field(repr=False)


def _facts(prov: pd.Series, top: pd.DataFrame, study: Study) -> list[tuple[str, str]]:
    facts = [
        (label(F.CAPACITY_MW), f"{fmt_number(prov[F.CAPACITY_MW])} MW"),
        (label(F.PEAK_DEMAND_MW), f"{fmt_number(prov[F.PEAK_DEMAND_MW])} MW"),
        (label(F.SURPLUS_MW), f"{fmt_number(prov[F.SURPLUS_MW], signed=True)} MW"),
        (label(F.FIRM_SURPLUS_MW), f"{fmt_number(prov[F.FIRM_SURPLUS_MW], signed=True)} MW"),
        (label(F.SURPLUS_ENERGY_GWH), f"{fmt_number(prov[F.SURPLUS_ENERGY_GWH])} GWh"),
        ("Tightest month", str(prov.get("worst_month", "–"))),
        ("Grid zone", str(prov.get("zone", "–"))),
        ("Candidate cells scored", f"{int(prov['candidate_count']):,}"),
    ]
    if len(top) and F.SUBSTATION_NAME in top:
        best = top.iloc[0]
        name = best.get(F.SUBSTATION_NAME)
        name = "unnamed substation" if name is None or pd.isna(name) or not str(name).strip() else str(name)
        facts.append(
            (
                f"Grid station of the best site (≥ {study.grid.substation_min_kv:g} kV)",
                f"{name}, {_kv(float(best.get(F.SUBSTATION_KV, np.nan)))}, "
                f"{fmt_number(float(best.get(F.DIST_SUBSTATION_KM, np.nan)))} km",
            )
        )
    if F.SUBSTATION_HEADROOM_MW in top and len(top):
        facts.append(
            ("Headroom at that station", f"{fmt_number(float(top.iloc[0][F.SUBSTATION_HEADROOM_MW]))} MW (assumed)")
        )
    return facts


def _rows(top: pd.DataFrame, profile: Profile, weights: dict[str, float], inputs: MapInputs, n: int):
    robust = inputs.robustness
    rows: list[tuple[str, list[str]]] = [
        ("Score (0-100)", [f"{s:.1f}" for s in top[F.SCORE]]),
    ]
    for name in profile.criteria:
        w = weights.get(name, profile.criteria[name].weight or 0.0)
        rows.append(
            (
                f"{label(name)}: points of {100 * w:g}",
                [f"{p:.1f} ({fmt_number(float(v))})" for p, v in zip(top[points_column(name)], top[name], strict=True)],
            )
        )
    if robust is not None:
        found = [robust.loc[c] if c in robust.index else None for c in top[F.CELL].astype(str)]
        rows += [
            (f"Share of weight draws in top {n}", ["–" if r is None else f"{100 * r['p_top_n']:.0f} %" for r in found]),
            (
                "Rank range (median)",
                [
                    "–" if r is None else f"{int(r['rank_min'])}–{int(r['rank_max'])} ({r['rank_median']:g})"
                    for r in found
                ],
            ),
            (
                "Depends most on",
                [
                    "–"
                    if r is None
                    else ("no single weight" if r["most_influential"] == "none" else label(r["most_influential"]))
                    for r in found
                ],
            ),
        ]
    else:
        rows.append(("Robustness", ["run siting sensitivity"] * len(top)))
    if robust is not None:
        rows.append(
            (
                "Site (cells merged)",
                [robust.loc[c, "site_id"] if c in robust.index else "–" for c in top[F.CELL].astype(str)],
            )
        )
    rows.append(("H3 cell", list(top[F.CELL].astype(str))))
    return rows


def _assumptions(iso: str, profile: Profile, weights: dict[str, float], figures: pd.DataFrame | None, robust):
    out: list[tuple[str, str]] = []
    heaviest = sorted(profile.criteria, key=lambda c: -weights.get(c, 0.0))[:3]
    for name in heaviest:
        crit = profile.criteria[name]
        out.append(
            (f"Weight {100 * weights.get(name, 0.0):.0f} % on {label(name)} ({crit.value.describe()})", crit.why)
        )
    if robust is not None and len(robust):
        counts = robust["most_influential"].value_counts()
        counts = counts[counts.index != "none"]
        if len(counts):
            out.append(
                (
                    f"The ranking here depends most on the weight of {label(counts.index[0])}",
                    "siting sensitivity (one-at-a-time sweep of each weight)",
                )
            )
    for key, rule in profile.constraints.items():
        limits = ", ".join(f"{k} {v}" for k, v in rule.model_dump(exclude_none=True).items())
        out.append((f"Hard constraint on {label(key)}: {limits}", f"profile {profile.name}"))
    if figures is not None:
        names = figures["figure"].astype(str)
        own = figures[names.str.contains(f".{iso}.", regex=False)]
        fuels = {n.rsplit(".", 1)[-1] for n in own["figure"].astype(str)}
        shared = figures[
            names.isin(SHARED_FIGURES)
            | (names.str.startswith("availability.") & names.str.split(".").str[-1].isin(fuels))
        ]
        for row in pd.concat([own, shared]).itertuples(index=False):
            value = str(row.value)
            value = "by month" if ";" in value else f"{value} {row.unit if isinstance(row.unit, str) else ''}".strip()
            out.append((f"{row.figure}: {value}", str(row.basis)))
    return out


def province_briefs(study: Study, profile: Profile, inputs: MapInputs, figures: pd.DataFrame | None) -> list[Brief]:
    """One :class:`Brief` a province that has candidates, in the order of ``provinces.csv`` (largest surplus first)."""
    weights = inputs.weights or {k: float(c.weight or 0.0) for k, c in profile.criteria.items()}
    sources = [f"{s.attribution} — {s.title} ({s.vintage}; licence {s.licence})" for s in inputs.attributed().values()]
    made = datetime.now(tz=UTC).strftime("%Y-%m-%d")
    n = study.ranking.top_n
    briefs = []
    for _, prov in inputs.provinces.iterrows():
        iso = str(prov[F.ISO_3166_2])
        top = inputs.top[inputs.top[F.ISO_3166_2] == iso].sort_values(F.RANK_IN_PROVINCE)
        if top.empty:
            continue
        robust = None
        if inputs.robustness is not None:
            robust = inputs.robustness[inputs.robustness.index.isin(top[F.CELL].astype(str))]
        heads = [
            f"#{int(r[F.RANK_IN_PROVINCE])} near {r['nearest_place']}"
            if "nearest_place" in top
            else f"#{int(r[F.RANK_IN_PROVINCE])}"
            for _, r in top.iterrows()
        ]
        briefs.append(
            Brief(
                iso=iso,
                province=str(prov[F.PROVINCE]),
                title=f"{prov[F.PROVINCE]}: sites for {profile.name.replace('_', ' ')}",
                subtitle=(
                    f"Study {study.name}, profile {profile.name} ({profile.aggregation.replace('_', ' ')}) · "
                    f"scored {inputs.scored_on} · brief written {made}"
                ),
                facts=_facts(prov, top, study),
                sites=heads,
                rows=_rows(top, profile, weights, inputs, n),
                assumptions=_assumptions(iso, profile, weights, figures, robust),
                sources=sources,
                top=top,
            )
        )
    return briefs


# -------------------------------------------------------------------------------------------- drawing


def _province_map(ax, brief: Brief, layers: Layers, study: Study, image: ScoreImage | None, rgba) -> None:
    provinces = layers.provinces.to_crs(3857)
    shape = provinces[provinces[F.ISO_3166_2] == brief.iso]
    x0, y0, x1, y1 = shape.total_bounds
    pad = 0.06 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    ax.set_facecolor(OUTSIDE_COLOUR)
    layers.country.to_crs(3857).plot(ax=ax, facecolor=LAND_COLOUR, edgecolor="#777", linewidth=0.6, zorder=1)
    if image is not None and rgba is not None:
        ix0, _, ix1, iy1 = image.mercator
        px = (ix1 - ix0) / image.width
        c0, c1 = max(0, int((x0 - ix0) / px)), min(image.width, int(np.ceil((x1 - ix0) / px)))
        r0, r1 = max(0, int((iy1 - y1) / px)), min(image.height, int(np.ceil((iy1 - y0) / px)))
        if c1 > c0 and r1 > r0:
            ax.imshow(
                rgba[r0:r1, c0:c1],
                extent=(ix0 + c0 * px, ix0 + c1 * px, iy1 - r1 * px, iy1 - r0 * px),
                interpolation="nearest",
                alpha=0.85,
                zorder=2,
            )
    lines = drawn_lines(layers.lines, study.grid.line_min_kv).to_crs(3857)
    lines.plot(ax=ax, color="#444", linewidth=0.5, alpha=0.7, zorder=3)
    subs = layers.substations[layers.substations[F.VOLTAGE_KV] >= study.grid.substation_min_kv].to_crs(3857)
    colours = [voltage_style(float(v))[1] for v in subs[F.VOLTAGE_KV]]
    ax.scatter(subs.geometry.x, subs.geometry.y, s=9, c=colours, edgecolors="#222", linewidths=0.3, zorder=4)
    provinces.boundary.plot(ax=ax, color="#999", linewidth=0.5, zorder=4)
    shape.boundary.plot(ax=ax, color="#111", linewidth=1.4, zorder=5)
    top = gpd.GeoDataFrame(brief.top, geometry=gpd.points_from_xy(brief.top[F.LON], brief.top[F.LAT]), crs=4326).to_crs(
        3857
    )
    ax.scatter(top.geometry.x, top.geometry.y, s=110, c="#fff", edgecolors="#000", linewidths=1.2, zorder=6)
    for rank, pt in zip(top[F.RANK_IN_PROVINCE], top.geometry, strict=True):
        ax.annotate(str(int(rank)), (pt.x, pt.y), ha="center", va="center", fontsize=6.5, fontweight="bold", zorder=7)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def brief_figure(brief: Brief, layers: Layers, study: Study, image: ScoreImage | None, rgba=None):
    """Draw one province's page (A4 portrait) with matplotlib; no display needed; text from data as written."""
    with plain_text():  # a `$` in a name must not start mathtext
        return _brief_figure(brief, layers, study, image, rgba)


def _brief_figure(brief: Brief, layers: Layers, study: Study, image: ScoreImage | None, rgba=None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=PAGE_INCHES, dpi=120)
    FigureCanvasAgg(fig)
    fig.text(0.05, 0.965, brief.title, fontsize=15, fontweight="bold", va="top")
    fig.text(0.05, 0.94, brief.subtitle, fontsize=7.5, color="#333", va="top")
    ax = fig.add_axes((0.05, 0.6, 0.5, 0.32))
    _province_map(ax, brief, layers, study, image, rgba)
    fig.text(0.05, 0.592, "Score 0-100 (viridis: dark low, yellow high); numbered: top sites; dots: grid stations",
             fontsize=6, color="#555", va="top")  # fmt: skip
    fig.text(0.58, 0.92, "Surplus and grid", fontsize=10, fontweight="bold", va="top")
    y = 0.895
    for k, v in brief.facts:
        fig.text(0.58, y, textwrap.fill(k, 34), fontsize=7, va="top", color="#333")
        fig.text(0.97, y, textwrap.fill(v, 26), fontsize=7, va="top", ha="right", fontweight="bold")
        y -= 0.012 * max(textwrap.fill(k, 34).count("\n"), textwrap.fill(v, 26).count("\n")) + 0.021
    fig.text(0.05, 0.565, "Top sites: score breakdown and robustness", fontsize=10, fontweight="bold", va="top")
    tab = fig.add_axes((0.05, 0.33, 0.92, 0.225))
    tab.axis("off")
    cell_text = [[textwrap.fill(v, 16) for v in values] for _, values in brief.rows]
    row_labels = [textwrap.fill(r, 38) for r, _ in brief.rows]
    table = tab.table(
        cellText=cell_text,
        rowLabels=row_labels,
        colLabels=[textwrap.fill(s, 16) for s in brief.sites],
        loc="upper right",
        cellLoc="center",
        colWidths=[0.62 / max(1, len(brief.sites))] * len(brief.sites),
    )
    table.auto_set_font_size(False)
    table.set_fontsize(6)
    table.scale(1, 1.25)
    fig.text(0.05, 0.31, "Assumptions that matter most, and their sources", fontsize=10, fontweight="bold", va="top")
    lines = []
    for what, source in brief.assumptions:
        lines.append(textwrap.fill(f"• {what} — {source}", 150, subsequent_indent="   "))
    text = "\n".join(lines)
    fig.text(0.05, 0.29, text, fontsize=5.8, va="top", linespacing=1.25)
    used = text.count("\n") + 1
    y = 0.29 - 0.0095 * used - 0.012
    fig.text(0.05, y, "Data sources", fontsize=8, fontweight="bold", va="top")
    fig.text(0.05, y - 0.016, textwrap.fill("; ".join(brief.sources), 175), fontsize=5, va="top", color="#333")
    return fig


def brief_html(brief: Brief, map_png: bytes) -> str:
    """Return the page as standalone HTML: every data string escaped, the map inlined as a PNG ``data:`` URL."""
    facts = "".join(f"<tr><td>{esc(k)}</td><td class='num'>{esc(v)}</td></tr>" for k, v in brief.facts)
    head = "".join(f"<th>{esc(s)}</th>" for s in brief.sites)
    rows = "".join(
        f"<tr><th class='row'>{esc(r)}</th>" + "".join(f"<td class='num'>{esc(v)}</td>" for v in vals) + "</tr>"
        for r, vals in brief.rows
    )
    assumptions = "".join(f"<li>{esc(a)} — <i>{esc(s)}</i></li>" for a, s in brief.assumptions)
    sources = "".join(f"<li>{esc(s)}</li>" for s in brief.sources)
    img = base64.b64encode(map_png).decode("ascii")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(brief.title)}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font: 11px/1.35 Arial, Helvetica, sans-serif; color: #222; max-width: 190mm; margin: 0 auto; }}
h1 {{ font-size: 19px; margin: 4px 0 0; }} h2 {{ font-size: 13px; margin: 10px 0 3px; }}
.sub {{ color: #555; }} .top {{ display: flex; gap: 12px; }} .top img {{ width: 58%; border: 1px solid #999; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 5px; border-bottom: 1px solid #ddd; }}
.num {{ text-align: right; }} th.row {{ text-align: left; font-weight: normal; }}
ul {{ padding-left: 16px; margin: 2px 0; }} .sources {{ font-size: 9px; color: #444; }}
</style></head><body>
<h1>{esc(brief.title)}</h1><div class="sub">{esc(brief.subtitle)}</div>
<div class="top"><img alt="Map of {esc(brief.province)}: score surface, top sites and grid"
 src="data:image/png;base64,{img}">
<div><h2>Surplus and grid</h2><table>{facts}</table></div></div>
<h2>Top sites: score breakdown and robustness</h2>
<table class="sites"><tr><th></th>{head}</tr>{rows}</table>
<h2>Assumptions that matter most, and their sources</h2><ul>{assumptions}</ul>
<h2>Data sources</h2><ul class="sources">{sources}</ul>
</body></html>
"""


def _map_png(brief: Brief, layers: Layers, study: Study, image: ScoreImage | None, rgba) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 4.6), dpi=130)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    _province_map(ax, brief, layers, study, image, rgba)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _save_pdf(fig, tmp: Path) -> None:
    fig.savefig(tmp, format="pdf", metadata=PDF_METADATA)


def write_briefs(paths: Paths, study: Study, profile: Profile, layers: Layers, provinces: list[str] | None = None):
    """Write ``briefs/brief_<ISO 3166-2>.html`` and ``.pdf`` for each province and ``briefs/briefs.pdf`` (all).

    ``provinces``: ISO 3166-2 codes or names to write (default every province with candidates).

    Returns
    -------
    dict of str to Path

    Raises
    ------
    DataError
        If ``siting score`` has not been run, or a province named is not in the study.

    """
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    inputs = read_outputs(paths)
    figures_path = paths.out / "surplus_figures.csv"
    figures = read_table(figures_path, "surplus figures") if figures_path.is_file() else None
    briefs = province_briefs(study, profile, inputs, figures)
    if provinces:
        wanted = {p.lower() for p in provinces}
        known = {b.iso.lower() for b in briefs} | {b.province.lower() for b in briefs}
        unknown = sorted(wanted - known)
        if unknown:
            names = ", ".join(f"{b.iso} ({b.province})" for b in briefs)
            raise DataError(f"no province {', '.join(unknown)} with candidates in this study; use one of: {names}.")
        briefs = [b for b in briefs if b.iso.lower() in wanted or b.province.lower() in wanted]
    image = study_score_image(study, layers, inputs)
    rgba = score_rgba(image) if image is not None else None
    folder = paths.out / BRIEFS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    pages = []
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}):
        for brief in briefs:
            fig = brief_figure(brief, layers, study, image, rgba)
            pages.append(fig)
            files[f"{brief.iso}_pdf"] = write_atomic(folder / f"brief_{brief.iso}.pdf", partial(_save_pdf, fig))
            html = brief_html(brief, _map_png(brief, layers, study, image, rgba))
            files[f"{brief.iso}_html"] = write_text(folder / f"brief_{brief.iso}.html", html)

        def _all(tmp: Path) -> None:
            with PdfPages(tmp, metadata=PDF_METADATA) as pdf:
                for fig in pages:
                    pdf.savefig(fig)

        files["all_pdf"] = write_atomic(folder / "briefs.pdf", _all)
    return files


__all__ = ["BRIEFS_DIR", "Brief", "brief_figure", "brief_html", "province_briefs", "write_briefs"]
