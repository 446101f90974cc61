"""The ``siting`` command: thin wrappers that parse, call the library and print.

Errors a user can fix print as one sentence and exit non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import gc
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from siting import config
from siting._errors import ConfigError, Interrupted, SitingError, escape_controls, from_os_error

_DEBUG = {"on": False}


@contextmanager
def _stage(name: str) -> Iterator[None]:
    start = time.perf_counter()
    click.echo(escape_controls(f"▶ {name}"), err=True)
    yield
    click.echo(escape_controls(f"✓ {name} ({time.perf_counter() - start:.1f} s)"), err=True)


def _say(text: str) -> None:
    """Print one line to stderr with control characters escaped (a file name cannot forge a second line)."""
    click.echo(escape_controls(text), err=True)


def _echo(text: str) -> None:
    """Print one line to stdout with control characters escaped (paths and names come from the user)."""
    click.echo(escape_controls(text))


def _run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Interrupted as exc:
        _say(str(exc))
        sys.exit(exc.exit_code)
    except SitingError as exc:
        if _DEBUG["on"]:
            raise
        _say(f"error: {exc}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _say(_INTERRUPTED)
        sys.exit(130)
    except Exception as exc:
        if _DEBUG["on"]:
            raise
        known = from_os_error(exc) if isinstance(exc, OSError) else None
        if known is not None:
            _say(f"error: {known}")
            sys.exit(known.exit_code)
        _say(f"error: unexpected {type(exc).__name__}: {exc} — rerun with --debug for the traceback and report it.")
        sys.exit(1)


_INTERRUPTED = "interrupted; every file already written is complete, the one being written was discarded."


class _Group(click.Group):
    """The command group; Ctrl-C or SIGTERM outside a stage (while importing, loading the study) ends in one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _say(_INTERRUPTED)
            ctx.exit(130)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a run as Ctrl-C does: nothing half-written, the message says what is kept


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path("data"),
    show_default=True,
    envvar="SITING_DATA_DIR",
    help="Folder holding raw/ and processed/.",
)
@click.version_option(package_name="siting")
@click.pass_context
def main(ctx: click.Context, debug: bool, data_dir: Path) -> None:
    """Score places for Bitcoin mines and AI data centres on surplus power, grid, climate and connectivity."""
    _DEBUG["on"] = debug
    signal.signal(signal.SIGTERM, _terminate)
    _batch_gc()
    ctx.obj = {"data_dir": data_dir}


GC_THRESHOLDS = (50_000, 20, 100)  # allocations between young collections, and older ones per younger one


def _batch_gc() -> None:
    """Collect cyclic garbage less often: a command makes millions of objects that live to its end.

    Python's default (a young collection every 700 new objects, a full one every 100 of those) walks the
    tables of a resolution-8 score again and again: 1.1-2.2 s of a 10-12 s run, freeing nothing, since
    siting makes almost no reference cycles. The modules imported so far are frozen out of the walks;
    the collector still runs. The library leaves the collector alone: this is the command line's choice.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


_study_opt = click.option(
    "--study",
    default="pakistan",
    show_default=True,
    help="Study name (configs/studies/<name>.yml) or path to a study YAML.",
)
_profile_opt = click.option(
    "--profile", default=None, help="Profile name (configs/<name>.yml) overriding the study's profile."
)


@main.command()
@click.option(
    "--mirror",
    type=click.Path(path_type=Path),
    default=None,
    help="Copy the Pakistan extracts from this mirror folder instead of downloading (or set SITING_DATA_MIRROR).",
)
@click.option("--base-url", default=None, help="Download <base-url>/<mirror path> instead (or SITING_DATA_URL).")
@click.option("--source", "sources", multiple=True, help="Only these source ids (repeatable).")
@click.option("--study", default=None, help="Fetch the region of this study (name or file).")
@click.option("--region", "iso3", default=None, help="Fetch this region (ISO3 code of a region pack).")
@click.option(
    "--official-base",
    default=None,
    help="A server laid out like the official sites (http://host/<official host>/<path>), e.g. an office cache.",
)
@click.option("--refresh", is_flag=True, help="Download the artefacts again and accept new snapshots in the lock.")
@click.pass_obj
def fetch(
    obj: dict,
    mirror: Path | None,
    base_url: str | None,
    sources: tuple[str, ...],
    study: str | None,
    iso3: str | None,
    official_base: str | None,
    refresh: bool,
) -> None:
    """Bring a region's source files into data/raw/: the mirror's pinned extracts, or cut from the official ones."""
    from siting import stages

    if study and iso3:
        _run(_refuse, "pass --study or --region, not both.")
    st = _run(stages.load_study, study)[0] if study else None
    if iso3:
        st = _run(config.Study, name=iso3.lower(), region=config.Region(iso3=iso3.upper(), name=iso3.upper()))
    with _stage("fetch"):
        mirror_dir, results, skipped = _run(
            stages.fetch, obj["data_dir"], mirror, base_url, list(sources) or None, st, official_base, refresh
        )
    for line in skipped:
        click.echo(f"warning: {line}", err=True)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.action] = counts.get(r.action, 0) + 1
    origin = f"from {mirror_dir}" if mirror_dir else "from the official sources"
    region = st.region.iso3 if st else "PAK"
    _echo(
        f"{len(results)} files of {region} in {obj['data_dir'] / 'raw'} ({origin}): "
        + ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
    )


def _refuse(message: str) -> None:
    raise ConfigError(message)


@main.command()
@_study_opt
@click.pass_obj
def prepare(obj: dict, study: str) -> None:
    """Build the standard layers in data/processed/layers/<ISO3>/."""
    from siting import stages

    st, _ = _run(stages.load_study, study)
    with _stage("prepare"):
        folder = _run(stages.prepare, obj["data_dir"], st)
    for note in stages.degraded(folder):
        _say(f"warning: {note}")
    _echo(f"layers: {folder}")


@main.command()
@_study_opt
@_profile_opt
@click.option(
    "--candidates",
    "candidates_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Score your own sites instead of H3 cells: CSV (lon/lat columns, optional id, name), GeoPackage, "
    "Shapefile or GeoJSON in any CRS. Outputs go to <study>/<profile>_user/.",
)
@click.option(
    "--substations",
    "substations_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Use this grid-station list (CSV with lon/lat or any vector file, with a voltage column) instead of "
    "the OpenStreetMap substations for this run.",
)
@click.option("--drop-outside", is_flag=True, help="Drop --candidates points outside the region instead of failing.")
@click.option("--layer", default=None, help="The layer of a --candidates file with several (a GeoPackage).")
@click.option(
    "--polygons/--centres",
    default=None,
    help="scores.parquet holds the cells' hexagons (--polygons) or their centre points (--centres); default "
    "hexagons up to 250,000 cells. A hexagon is derivable from h3_cell either way.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Score partition by partition on a local "
    "dask.distributed cluster of N worker processes (default: above --partition-above cells).",
)
@click.option(
    "--scheduler",
    default=None,
    help="Score partition by partition on an existing dask cluster, e.g. tcp://10.0.0.5:8786.",
)
@click.option("--worker-memory", default=None, help="Memory limit of each local worker (default 4GB).")
@click.option(
    "--partition-above",
    type=click.IntRange(0),
    default=None,
    help="Partition when the study has more cells than this (default 3,000,000: H3 res 9 and finer for Pakistan).",
)
@click.pass_obj
def score(  # noqa: PLR0913
    obj: dict,
    study: str,
    profile: str | None,
    candidates_file: Path | None,
    substations_file: Path | None,
    drop_outside: bool,
    layer: str | None,
    polygons: bool | None,
    workers: int | None,
    scheduler: str | None,
    worker_memory: str | None,
    partition_above: int | None,
) -> None:
    """Score candidates and write scores, province summary, top sites and provenance."""
    from siting import stages

    st, prof = _run(stages.load_study, study, profile)
    with _stage(f"score {st.name}/{prof.name}"):
        run = _run(
            stages.score, obj["data_dir"], st, prof, candidates_file, substations_file, drop_outside, study, layer,
            polygons, workers=workers, scheduler=scheduler, worker_memory=worker_memory,
            partition_above=partition_above,
        )  # fmt: skip
    for warning in run.warnings:
        _say(f"warning: {warning}")
    result, files = run.result, run.files
    _echo(
        f"{result.count:,} candidates scored"
        + ("; excluded: " if result.excluded else "")
        + ", ".join(f"{n:,} {why}" for why, n in result.excluded.items())
    )
    if result.constraints:
        _echo(
            "removed by the profile's constraints: "
            + ", ".join(f"{n:,} by {key} {_rule(prof.constraints[key])}" for key, n in result.constraints.items())
        )
    for name, path in files.items():
        _echo(f"  {name:<12} {path}")


def _rule(rule: Any) -> str:
    parts = [f"{k} {v}" for k, v in rule.model_dump(exclude_none=True).items()]
    return "(" + ", ".join(parts) + ")"


@main.command(name="map")
@_study_opt
@_profile_opt
@click.option(
    "--offline/--online",
    default=True,
    show_default=True,
    help="Offline: one self-contained page, no tiles, needs no network. Online: OpenStreetMap tiles underneath.",
)
@click.option(
    "--user",
    is_flag=True,
    help="Map the run on your own sites (`siting score --candidates FILE`, in <study>/<profile>_user/): every "
    "site coloured by score, each with its score breakdown.",
)
@click.option(
    "--weights/--no-weights",
    default=True,
    show_default=True,
    help="Weights: the page carries every cell's criterion values and a slider per weight, and re-scores in the "
    "browser (larger page). No weights: the scores as `siting score` wrote them.",
)
@click.pass_obj
def map_(obj: dict, study: str, profile: str | None, offline: bool, user: bool, weights: bool) -> None:
    """Write the interactive HTML map (map.html) and the static map for reports (map.png) of a scored study."""
    from siting import stages

    st, prof = _run(stages.load_study, study, profile)
    with _stage(f"map {st.name}/{prof.name}{'_user' if user else ''}"):
        for warning in _run(stages.map_warnings, obj["data_dir"], st, user):
            _say(f"warning: {warning}")
        path, png = _run(stages.map_, obj["data_dir"], st, prof, offline, user, weights)
    _echo(f"  map          {path}")
    _echo(f"  map (PNG)    {png}")


@main.command(name="brief")
@_study_opt
@_profile_opt
@click.option(
    "--province",
    "provinces",
    multiple=True,
    help="ISO 3166-2 code or name of a province to write (repeatable; default every province with candidates).",
)
@click.pass_obj
def brief(obj: dict, study: str, profile: str | None, provinces: tuple[str, ...]) -> None:
    """Write one page per province for officials (briefs/brief_<ISO>.html and .pdf, briefs/briefs.pdf)."""
    from siting import stages

    st, prof = _run(stages.load_study, study, profile)
    with _stage(f"brief {st.name}/{prof.name}"):
        files = _run(stages.brief, obj["data_dir"], st, prof, list(provinces) or None)
    for name, path in files.items():
        click.echo(f"  {name:<12} {path}")


@main.command(name="sensitivity")
@_study_opt
@_profile_opt
@click.option("--runs", default=500, show_default=True, type=click.IntRange(1), help="Monte Carlo weight draws.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same tables).")
@click.option(
    "--concentration",
    default=100.0,
    show_default=True,
    type=click.FloatRange(min=1.0),
    help="Dirichlet concentration around the profile's weights (larger = smaller perturbations).",
)
@click.pass_obj
def sensitivity_(obj: dict, study: str, profile: str | None, runs: int, seed: int, concentration: float) -> None:
    """How robust are the sites' ranks to the weights? Writes sensitivity.csv and sensitivity.png."""
    from siting import stages

    st, prof = _run(stages.load_study, study, profile)
    with _stage(f"sensitivity {st.name}/{prof.name}"):
        files = _run(stages.sensitivity, obj["data_dir"], st, prof, runs=runs, seed=seed, concentration=concentration)
    for name, path in files.items():
        _echo(f"  {name:<16} {path}")


@main.command()
@_study_opt
@_profile_opt
@click.option("--total-mw", type=click.FloatRange(min=0, min_open=True), default=None, help="Capacity to place "
              "[profile's allocation.total_mw, 2000].")  # fmt: skip
@click.option("--site-mw", type=click.FloatRange(min=0, min_open=True), default=None, help="Block size "
              "[profile's allocation.site_mw, 100].")  # fmt: skip
@click.option("--max-blocks", "max_blocks_per_site", type=click.IntRange(1), default=None, help="Blocks per site.")
@click.pass_obj
def allocate(obj: dict, study: str, profile: str | None, **overrides: Any) -> None:
    """Place capacity on sites to maximise total score under provincial surplus and grid-station headroom."""
    from siting import stages

    st, prof = _run(stages.load_study, study, profile)
    with _stage(f"allocate {st.name}/{prof.name}"):
        res, files = _run(stages.allocate, obj["data_dir"], st, prof, **overrides)
    placed = res.provinces[res.provinces["allocated_mw"] > 0]
    _echo(
        f"{res.placed_mw:,.0f} of {res.total_mw:,.0f} MW placed at {len(res.sites)} sites: "
        + ", ".join(f"{r.province} {r.allocated_mw:,.0f} MW" for r in placed.itertuples())
    )
    for name, path in files.items():
        _echo(f"  {name:<16} {path}")


@main.command()
@_study_opt
@click.option("--profiles", default="bitcoin_mining,ai_datacenter", show_default=True, help="Comma-separated.")
@click.pass_obj
def compare(obj: dict, study: str, profiles: str) -> None:
    """Compare profiles side by side: data/processed/<study>/profiles_comparison.csv."""
    from siting import stages

    names = [p.strip() for p in profiles.split(",") if p.strip()]
    with _stage(f"compare {', '.join(names)}"):
        path = _run(stages.compare, obj["data_dir"], study, names)
    _echo(f"  comparison       {path}")


@main.group()
def region() -> None:
    """Region packs: the reference tables, region.yml and lock file of one country."""


@region.command(name="new")
@click.argument("iso3")
@click.option(
    "--admin1",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Natural Earth admin-1 file (the official ne_10m_admin_1_states_provinces.zip or an extract) "
    "[default: the one `siting fetch` left in <data-dir>].",
)
@click.option("--dest", type=click.Path(path_type=Path), default=Path("regions"), show_default=True,
              help="Folder of region packs; the pack goes to <dest>/<ISO3>/.")  # fmt: skip
@click.option("--study-dir", type=click.Path(path_type=Path), default=Path("configs/studies"), show_default=True,
              help="Where the new study file goes.")  # fmt: skip
@click.option("--study", "study_name", default=None, help="Study name [the country's name, lower case].")
@click.pass_obj
def region_new(obj: dict, iso3: str, admin1: Path | None, dest: Path, study_dir: Path, study_name: str | None) -> None:
    """Scaffold a region pack for any country (ISO3) and a study file that uses it."""
    from siting import stages

    out = _run(stages.region_new, obj["data_dir"], iso3.upper(), admin1, dest, study_dir, study_name)
    click.echo(f"  region pack  {out['pack']}/  (fill national.csv, provinces.csv population, the other tables)")
    click.echo(f"  study        {out['study']}")


if __name__ == "__main__":
    main()
