"""What a map reads: the outputs of ``siting score`` and the layers shared by both renderers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from siting._errors import DataError
from siting.fields import F
from siting.io.catalog import Source, as_sources, load_catalog
from siting.io.paths import Paths
from siting.io.validate import read_table, require_columns

# ----------------------------------------------------------------------------------------------- I/O


@dataclass
class MapInputs:
    """What ``siting score`` wrote that the map shows."""

    cells: gpd.GeoDataFrame  # hexagons with score
    provinces: pd.DataFrame  # provinces.csv
    top: pd.DataFrame  # top_sites.csv
    surplus: pd.DataFrame | None  # surplus.csv (sources of each figure), when present
    scored_on: str  # date the scores were written (UTC)
    weights: dict[str, float] | None = None  # weights used (provenance.json), also for AHP and entropy
    user_sites: gpd.GeoDataFrame | None = None  # every column, when the candidates are the planner's own points
    robustness: pd.DataFrame | None = None  # sensitivity.csv rows of the top cells' sites, indexed by h3_cell
    top_share: pd.Series | None = None  # sensitivity_cells.parquet: p_top_5pct by h3_cell
    sources: dict[str, Source] | None = None  # the sources the scores were built from (provenance.json)

    def attributed(self) -> dict[str, Source]:
        """Return the sources to credit: those the scores used, or the whole catalog when none is recorded."""
        return self.sources or load_catalog()  # crediting too many is safe; crediting too few breaks a licence

    degraded: list[str] | None = None  # provenance.json `degraded`: what the run skipped or dropped, one line each


ROBUSTNESS_COLUMNS = ("site_id", "p_top_n", "rank_min", "rank_median", "rank_max", "most_influential")


MAX_USER_SITES = 2000
"""At most this many of the planner's sites get a marker with its breakdown (the best-scoring); the rest are in
the tables. 130,000 markers would make a page of gigabytes that no browser opens."""


def user_sites_notice(paths: Paths) -> str | None:
    """Say how many of the planner's sites the map leaves out, or None when it shows them all."""
    import pyarrow.parquet as pq

    try:
        rows = pq.read_metadata(paths.scores).num_rows
    except Exception:  # missing or unreadable: read_outputs says so
        return None
    if rows <= MAX_USER_SITES:
        return None
    return (
        f"{paths.scores} holds {rows:,} sites; the map shows the {MAX_USER_SITES:,} best-scoring, each with its "
        f"breakdown (all {rows:,} are in scores.parquet and scores.gpkg)."
    )


def read_outputs(paths: Paths, columns: list[str] | None = None) -> MapInputs:
    """Read the scores, province summary and top sites of a study.

    ``columns``: the columns of every cell to read (:func:`read_cells`; the score by default), so that a map
    reads the cells once for the score image and the weights.

    Raises
    ------
    DataError
        If ``siting score`` has not been run for this study and profile.

    """
    out = paths.out
    for name in ("scores.parquet", "provinces.csv", "top_sites.csv"):
        if not (out / name).exists():  # scores.parquet: a file, or a partitioned run's folder of parts
            own = " --candidates FILE" if paths.variant == "_user" else ""
            raise DataError(
                f"{out / name} is missing; run `siting score --study {paths.study.name} "
                f"--profile {paths.study.profile}{own}` before `siting map`."
            )
    try:
        cells = read_cells(paths.scores, columns)
    except Exception as exc:
        raise DataError(f"{paths.scores} could not be read ({type(exc).__name__}); rerun `siting score`.") from exc
    top = read_table(out / "top_sites.csv", "top sites")
    require_columns(
        top, [F.PROVINCE, F.RANK_IN_PROVINCE, F.SCORE, F.CELL, F.LAT, F.LON], out / "top_sites.csv", "top sites"
    )
    surplus_path = out / "surplus.csv"
    mtime = paths.scores.stat().st_mtime
    point_sites = "geometry" in cells.columns and bool(len(cells)) and bool((cells.geom_type == "Point").all())
    user_sites = gpd.read_parquet(paths.scores) if point_sites else None
    if user_sites is not None and len(user_sites) > MAX_USER_SITES:  # a marker and popup each: bound the page
        user_sites = user_sites.nlargest(MAX_USER_SITES, F.SCORE, keep="first")
    return MapInputs(
        cells=cells,
        provinces=read_table(out / "provinces.csv", "province summary"),
        top=top,
        surplus=read_table(surplus_path, "surplus table") if surplus_path.is_file() else None,
        scored_on=datetime.fromtimestamp(mtime, tz=UTC).strftime("%Y-%m-%d"),
        weights=_weights_used(out / "provenance.json"),
        sources=_sources_used(out / "provenance.json"),
        user_sites=user_sites,
        robustness=_robustness(out, top),
        top_share=_top_share(out),
        degraded=_degraded(out / "provenance.json"),
    )


def _robustness(out: Path, top: pd.DataFrame) -> pd.DataFrame | None:
    """Return the sensitivity run's figures of the site each top cell belongs to (None before `siting sensitivity`)."""
    sens_path, members_path = out / "sensitivity.csv", out / "site_cells.parquet"
    if not (sens_path.is_file() and members_path.is_file()) or _stale(sens_path, out):
        return None
    sens = read_table(sens_path, "sensitivity table")
    require_columns(sens, list(ROBUSTNESS_COLUMNS), sens_path, "sensitivity table")
    members = pd.read_parquet(members_path)
    site_of = pd.Series(members["site_id"].to_numpy(), index=members[F.CELL].astype(str).to_numpy())
    rows = sens.drop_duplicates("site_id").set_index("site_id")[list(ROBUSTNESS_COLUMNS[1:])]
    cells = top[F.CELL].astype(str)
    found = cells[cells.isin(site_of.index)]
    table = rows.reindex(site_of.loc[found].to_numpy())
    table.index = found.to_numpy()
    table.insert(0, "site_id", site_of.loc[found].to_numpy())
    return table.dropna(subset=["p_top_n"])


def _stale(path: Path, out: Path) -> bool:
    """Return True when ``path`` was written before the scores it describes (``siting score`` ran again since)."""
    return path.stat().st_mtime < (out / "scores.parquet").stat().st_mtime


def _top_share(out: Path) -> pd.Series | None:
    path = out / "sensitivity_cells.parquet"
    if not path.is_file() or _stale(path, out):
        return None
    table = pd.read_parquet(path)
    return pd.Series(table["p_top_5pct"].to_numpy(dtype=float), index=table[F.CELL].astype(str).to_numpy())


def read_cells(scores: Path, columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """Read ``columns`` (default the score) of every cell, in file order, for the score image.

    Hexagons in ``scores.parquet``: the columns and the hexagons. Cell centres (``--centres``, a
    partitioned dataset): the columns with ``h3_cell, lon, lat`` and no geometry, so the image draws each
    cell's hexagon itself, a slice at a time (:func:`siting.outputs.maps.raster.cell_grid`). A planner's
    own points (``candidate_id``) keep their point geometry.
    """
    import pyarrow.dataset as pads

    wanted = list(columns or [F.SCORE])
    schema = pads.dataset(scores, format="parquet").schema
    geo = json.loads((schema.metadata or {}).get(b"geo", b"{}"))
    kinds = set(geo.get("columns", {}).get("geometry", {}).get("geometry_types", []))
    if "candidate_id" in schema.names:  # a planner's points: the map shows them as they are, with no weights
        return gpd.read_parquet(scores, columns=[c for c in dict.fromkeys([*wanted, "geometry"]) if c in schema.names])
    if not kinds or kinds - {"Point"}:
        return gpd.read_parquet(scores, columns=list(dict.fromkeys([*wanted, "geometry"])))
    names = list(dict.fromkeys([F.CELL, F.LON, F.LAT, *wanted]))
    return gpd.GeoDataFrame(pd.read_parquet(scores, columns=names))


def _weights_used(path: Path) -> dict[str, float] | None:
    """Return the weights ``siting score`` used, from its provenance.json (None when absent or unreadable)."""
    try:
        weights = json.loads(path.read_text(encoding="utf-8")).get("weights")
    except (OSError, ValueError):
        return None
    return {str(k): float(v) for k, v in weights.items()} if isinstance(weights, dict) else None


def _sources_used(path: Path) -> dict[str, Source] | None:
    """Return the sources ``siting score`` recorded as used (None when its provenance.json is absent or unreadable)."""
    try:
        records = json.loads(path.read_text(encoding="utf-8")).get("sources")
    except (OSError, ValueError):
        return None
    return as_sources(records) if isinstance(records, dict) else None


def _degraded(path: Path) -> list[str]:
    """Return the ``degraded`` lines of the run's provenance.json (none when absent or unreadable)."""
    try:
        notes = json.loads(path.read_text(encoding="utf-8")).get("degraded")
    except (OSError, ValueError, AttributeError):
        return []
    return [str(n) for n in notes] if isinstance(notes, list) else []


def _figure_sources(surplus: pd.DataFrame | None, nodes: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    extra = []
    if surplus is not None:
        for col, head in (
            ("peak_demand_basis", "Peak demand"),
            ("capacity_basis", "Operating capacity"),
            ("population_basis", "Population"),
        ):
            if col in surplus:
                extra.append((head, "; ".join(sorted(surplus[col].dropna().astype(str).unique()))))
    if "source" in nodes and len(nodes):
        extra.append(("Internet exchanges and cable landings", "; ".join(sorted(nodes["source"].astype(str).unique()))))
    return extra


def drawn_lines(lines: gpd.GeoDataFrame, min_kv: float) -> gpd.GeoDataFrame:
    """Select the lines both maps draw: at or above the study's ``grid.line_min_kv``, and every HVDC line."""
    return lines[(lines[F.VOLTAGE_KV] >= min_kv) | lines["is_hvdc"].astype(bool)]
