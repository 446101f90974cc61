"""Stages that read what ``siting score`` wrote and answer the planners' questions.

Sensitivity, allocation, and the side-by-side comparison of profiles; each writes atomically into the
study's output folders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from siting._errors import ConfigError, DataError
from siting.config import Profile, Study, load_study
from siting.decide import allocation, sensitivity, sites
from siting.decide.scoring import resolve_weights, value_matrix
from siting.fields import F
from siting.io.files import write_atomic, write_csv, write_parquet, write_text
from siting.io.outputset import verify_output_set
from siting.io.paths import SITE_CELLS_FILE
from siting.io.safe import path_name

CSV_DECIMALS = 4
SENSITIVITY_CELLS_FILE = "sensitivity_cells.parquet"
TOP_SHARE_COLUMN = "p_top_5pct"


def read_scores(out: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read the scores table of a profile's output folder (a file, or a partitioned run's folder), no geometry."""
    path = out / "scores.parquet"
    if not path.exists():
        raise DataError(f"{path} does not exist; run `siting score` for this study and profile first.")
    table = pd.read_parquet(path, columns=columns)
    return table.drop(columns="geometry", errors="ignore")


def _partitioned_sensitivity_inputs(
    path: Path, profile: Profile, site_cells: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Values of the site cells and each criterion's min and max, one part file at a time (never all cells).

    Returns the member cells' values (in ``site_cells`` order), the profile's weights (direct or AHP: a
    partitioned run has no entropy weights) and the column minimum and maximum over every cell.
    """
    import pyarrow.dataset as pads

    cols = [F.CELL, *profile.criteria]
    wanted = pd.Index(site_cells[F.CELL])
    rows = np.full((len(wanted), len(profile.criteria)), np.nan)
    vmin = np.full(len(profile.criteria), np.inf)
    vmax = np.full(len(profile.criteria), -np.inf)
    for frag in pads.dataset(path, format="parquet").get_fragments():
        part = frag.to_table(columns=cols).to_pandas()
        values = value_matrix(part, profile)
        if len(values):
            vmin, vmax = np.minimum(vmin, values.min(axis=0)), np.maximum(vmax, values.max(axis=0))
        pos = wanted.get_indexer(part[F.CELL])
        rows[pos[pos >= 0]] = values[pos >= 0]
    if np.isnan(rows).any():
        raise DataError("the sites do not match the scores; run `siting score` again for this study and profile.")
    return rows, resolve_weights(profile, rows), vmin, vmax


def sensitivity_table(
    study: Study, profile: Profile, scored: pd.DataFrame, site_table: pd.DataFrame, site_cells: pd.DataFrame, **kw
) -> pd.DataFrame:
    """Sensitivity of the sites scoring built (``sites.parquet``, ``site_cells.parquet``); see ``sensitivity.run``."""
    values = value_matrix(scored, profile)
    weights = resolve_weights(profile, values)
    pos = pd.Index(scored[F.CELL]).get_indexer(site_cells[F.CELL])
    if (pos < 0).any():
        raise DataError("the sites do not match the scores; run `siting score` again for this study and profile.")
    member_site = pd.Index(site_table[sites.SITE_ID]).get_indexer(site_cells[sites.SITE_ID])
    return sensitivity.run(
        values[pos], weights, list(profile.criteria), profile.aggregation, member_site, site_table,
        top_n=study.ranking.top_n, vmin=values.min(axis=0), vmax=values.max(axis=0), **kw,
    )  # fmt: skip


def _read_outputs(out: Path, *names: str) -> list[pd.DataFrame]:
    frames = []
    for name in names:
        path = out / name
        if not path.is_file():
            raise DataError(f"{path} does not exist; run `siting score` for this study and profile first.")
        frames.append(pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path))
    return frames


def write_sensitivity(out: Path, study: Study, profile: Profile, **kw) -> dict[str, Path]:
    """``sensitivity.csv`` and ``sensitivity.png`` in the profile's output folder."""
    site_table, site_cells = _read_outputs(out, "sites.parquet", SITE_CELLS_FILE)
    scored = None
    if (out / "scores.parquet").is_dir():  # a partitioned run: one part at a time
        rows, weights, vmin, vmax = _partitioned_sensitivity_inputs(out / "scores.parquet", profile, site_cells)
        member_site = pd.Index(site_table[sites.SITE_ID]).get_indexer(site_cells[sites.SITE_ID])
        table = sensitivity.run(
            rows, weights, list(profile.criteria), profile.aggregation, member_site, site_table,
            top_n=study.ranking.top_n, vmin=vmin, vmax=vmax, **kw,
        )  # fmt: skip
    else:
        scored = read_scores(out)
        table = sensitivity_table(study, profile, scored, site_table, site_cells, **kw)
    csv = write_csv(out / "sensitivity.csv", table.round(CSV_DECIMALS))
    files = {"sensitivity": csv}
    if scored is not None:  # each cell's share of national top-5 % draws needs every cell's score per draw
        files["sensitivity_cells"] = write_parquet(
            out / SENSITIVITY_CELLS_FILE, cell_top_share_table(profile, scored, **kw)
        )
    title = (
        f"{study.name} / {profile.name}: {kw.get('runs', 500)} Dirichlet weight draws "
        f"(concentration {kw.get('concentration', 100.0):g}, seed {kw.get('seed', 0)})"
    )
    png = write_atomic(out / "sensitivity.png", lambda p: sensitivity.plot(table, study.ranking.top_n, p, title))
    return files | {"sensitivity_plot": png}


def cell_top_share_table(profile: Profile, scored: pd.DataFrame, **kw) -> pd.DataFrame:
    """``h3_cell``, ``p_top_5pct``: how often each cell is in the national top 5 % over the Monte Carlo draws."""
    values = value_matrix(scored, profile)
    weights = resolve_weights(profile, values)
    settings = {k: kw[k] for k in ("runs", "concentration", "seed") if k in kw}
    share = sensitivity.cell_top_share(values, weights, profile.aggregation, **settings)
    return pd.DataFrame({F.CELL: scored[F.CELL].to_numpy(), TOP_SHARE_COLUMN: share})


def zonal_caps(out: Path, profile: Profile, rules) -> allocation.ZonalCaps | None:
    """Build the zonal network and the profile's demand measure from what ``siting score`` wrote (none if absent).

    ``load: firm``: the monthly peak × (1 + reserve margin); ``load: interruptible``: the demand exceeded in
    ``allocation.curtailment_share`` of each month's hours (the load-duration curve of ``siting.model.zones``).
    """
    mpath, fpath = out / "surplus_zones_monthly.csv", out / "interface_flows.csv"
    if not (mpath.is_file() and fpath.is_file()):
        return None
    return zonal_caps_from(pd.read_csv(mpath), pd.read_csv(fpath), profile, rules)


def zonal_caps_from(monthly: pd.DataFrame, flows: pd.DataFrame, profile: Profile, rules) -> allocation.ZonalCaps:
    """:func:`zonal_caps` from the zonal model's ``monthly`` and ``flows`` tables."""
    from siting.model.zones import ldc

    zones = list(dict.fromkeys(monthly[F.ZONE].astype(str)))

    def grid(col: str) -> np.ndarray:
        return monthly.pivot(index=F.ZONE, columns="month", values=col).reindex(zones).to_numpy(float)

    arcs_tab = flows.drop_duplicates("interface")[["interface", "limit_mw"]]
    arcs = [tuple(i.split("->")) for i in arcs_tab["interface"]]
    if profile.load == "firm":
        demand, measure = grid("firm_demand_mw"), "monthly peak × (1 + reserve margin) (load: firm)"
    else:
        q = rules.curtailment_share
        demand = ldc(grid("peak_mw"), grid("average_mw"), grid("trough_mw"), np.array([q]))[..., 0]
        measure = f"demand exceeded in {q:.0%} of each month's hours (load: interruptible)"
    return allocation.ZonalCaps(
        zones, arcs, arcs_tab["limit_mw"].to_numpy(float), grid("available_mw"), demand, measure
    )


def write_allocation(out: Path, study: Study, profile: Profile, **overrides) -> tuple[allocation.Allocation, dict]:
    """``allocation.csv`` (sites with capacity) and ``allocation.md`` (summary) in the profile's output folder."""
    rules = profile.allocation.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    try:
        rules = type(rules).model_validate(rules.model_dump())
    except ValidationError as exc:  # an option such as --total-mw inf
        err = exc.errors()[0]
        option = {"max_blocks_per_site": "max-blocks"}.get(str(err["loc"][0]), str(err["loc"][0]).replace("_", "-"))
        raise ConfigError(f"--{option} {err['input']!r}: {err['msg']}.") from exc
    site_table, province_table = _read_outputs(out, "sites.parquet", "provinces.csv")
    zonal = zonal_caps(out, profile, rules)
    res = allocation.allocate(site_table, province_table, rules, zonal)
    title = f"Allocation of {rules.total_mw:,.0f} MW — {study.name} / {profile.name}"
    files = {
        "allocation": write_csv(out / "allocation.csv", res.sites.round(CSV_DECIMALS)),
        "allocation_md": write_text(out / "allocation.md", allocation.to_markdown(res, title)),
    }
    if res.zones is not None:
        files["allocation_zones"] = write_csv(out / "allocation_zones.csv", res.zones.round(CSV_DECIMALS))
    return res, files


def comparison(study_name: str, processed: Path, profiles: list[str]) -> pd.DataFrame:
    """Per province, each profile's best site and score, and how many top-N sites the profiles share.

    Two sites "overlap" when they share at least one H3 cell; ``top_n_overlap`` counts the first profile's
    shortlisted sites that overlap a shortlisted site of the second.
    """
    rows: dict[str, dict] = {}
    shortlists, members = {}, {}
    for name in profiles:
        study, profile = load_study(study_name, name)
        out = processed / path_name(study.name, "study name") / path_name(profile.name, "profile name")
        verify_output_set(out)
        site_table, site_cells = _read_outputs(out, "sites.parquet", SITE_CELLS_FILE)
        short = sites.shortlist(site_table)
        shortlists[name] = short
        members[name] = pd.Series(site_cells[sites.SITE_ID].to_numpy(), index=site_cells[F.CELL].to_numpy())
        for r in short[short["top_rank"] == 1].itertuples():
            row = rows.setdefault(getattr(r, F.ISO_3166_2), {F.ISO_3166_2: getattr(r, F.ISO_3166_2),
                                                             F.PROVINCE: getattr(r, F.PROVINCE)})  # fmt: skip
            row[f"{name}_best_site"] = r.site_id
            row[f"{name}_best_score"] = r.score
            row[f"{name}_best_lat"] = r.best_lat
            row[f"{name}_best_lon"] = r.best_lon
            row[f"{name}_sites"] = int((site_table[F.ISO_3166_2] == getattr(r, F.ISO_3166_2)).sum())
    table = pd.DataFrame(list(rows.values())).sort_values(F.ISO_3166_2).reset_index(drop=True)
    if len(profiles) >= 2:
        a, b = profiles[:2]
        cells_b = {}
        for sid, grp in members[b].groupby(members[b]).groups.items():
            cells_b[sid] = set(grp)
        overlap = []
        for iso in table[F.ISO_3166_2]:
            sa = shortlists[a][shortlists[a][F.ISO_3166_2] == iso][sites.SITE_ID]
            sb = shortlists[b][shortlists[b][F.ISO_3166_2] == iso][sites.SITE_ID]
            cb = set().union(*(cells_b.get(s, set()) for s in sb)) if len(sb) else set()
            ma = members[a]
            overlap.append(int(sum(bool(set(ma.index[ma == s]) & cb) for s in sa)))
        table["top_n_overlap"] = overlap
        table["same_best_site"] = [
            bool(set(members[a].index[members[a] == x]) & set(members[b].index[members[b] == y]))
            if isinstance(x, str) and isinstance(y, str) else False
            for x, y in zip(table.get(f"{a}_best_site", [np.nan] * len(table)),
                            table.get(f"{b}_best_site", [np.nan] * len(table)), strict=True)
        ]  # fmt: skip
    return table


def cells_side_by_side(scored: dict[str, pd.DataFrame], top: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Two profiles scored on the same candidates, cell by cell (in memory; ``comparison`` compares sites).

    Parameters
    ----------
    scored
        Profile name to its scored table (``h3_cell``, ``score``); exactly two profiles.
    top
        Profile name to its top cells per province (``iso_3166_2``, ``province``, ``h3_cell``, ``score``,
        ``nearest_place``).

    Returns
    -------
    DataFrame
        Per province: each profile's best cell (nearest town, score), the score the *other* profile gives
        that cell, and how many top cells the two share. ``attrs["spearman"]`` holds the rank correlation of
        the two scores over the cells both kept.

    """
    a, b = list(scored)
    score = {n: scored[n].set_index(F.CELL)[F.SCORE] for n in (a, b)}
    rows = []
    for iso in sorted(set(top[a][F.ISO_3166_2]) | set(top[b][F.ISO_3166_2])):  # constraints may empty a province
        grp = {n: top[n][top[n][F.ISO_3166_2] == iso] for n in (a, b)}
        row = {F.PROVINCE: (grp[a] if len(grp[a]) else grp[b])[F.PROVINCE].iloc[0]}
        for name, other in ((a, b), (b, a)):
            best = grp[name].iloc[0] if len(grp[name]) else None
            row[f"{name} best near"] = None if best is None else best["nearest_place"]
            row[f"{name} score"] = None if best is None else best[F.SCORE]
            row[f"… its score as {other}"] = None if best is None else score[other].get(best[F.CELL])
        row["top cells shared"] = len(set(grp[a][F.CELL]) & set(grp[b][F.CELL]))
        rows.append(row)
    table = pd.DataFrame(rows).set_index(F.PROVINCE)
    both = pd.concat(score, axis=1).dropna()
    table.attrs["spearman"] = float(both.corr(method="spearman").iloc[0, 1]) if len(both) > 1 else float("nan")
    table.attrs["cells_in_both"] = len(both)
    return table


def write_comparison(study_name: str, processed: Path, profiles: list[str]) -> Path:
    """``data/processed/<study>/profiles_comparison.csv``."""
    study, _ = load_study(study_name, profiles[0])
    table = comparison(study_name, processed, profiles)
    return write_csv(processed / study.name / "profiles_comparison.csv", table.round(CSV_DECIMALS))
