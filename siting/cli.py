"""The ``siting`` command: thin wrappers that parse, call the library and print.

Errors a user can fix print as one sentence and exit non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from siting._errors import SitingError

_DEBUG = {"on": False}


@contextmanager
def _stage(name: str) -> Iterator[None]:
    start = time.perf_counter()
    click.echo(f"▶ {name}", err=True)
    yield
    click.echo(f"✓ {name} ({time.perf_counter() - start:.1f} s)", err=True)


def _run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except SitingError as exc:
        if _DEBUG["on"]:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted; outputs already written are complete, the one being written was discarded.", err=True)
        sys.exit(130)
    except Exception as exc:
        if _DEBUG["on"]:
            raise
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc} — rerun with --debug for the traceback and report it.",
            err=True,
        )
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = {"data_dir": data_dir}


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
    help="Copy from this mirror folder instead of downloading (or set SITING_DATA_MIRROR).",
)
@click.option("--base-url", default=None, help="Download <base-url>/<mirror path> instead (or SITING_DATA_URL).")
@click.option("--source", "sources", multiple=True, help="Only these source ids (repeatable).")
@click.pass_obj
def fetch(obj: dict, mirror: Path | None, base_url: str | None, sources: tuple[str, ...]) -> None:
    """Bring the catalogued source files into data/raw/, verifying sha256."""
    from siting.fetch import fetch_all, resolve_mirror

    with _stage("fetch"):
        mirror_dir = _run(resolve_mirror, mirror)
        results = _run(
            fetch_all, obj["data_dir"] / "raw", mirror=mirror_dir, base_url=base_url, sources=sources or None
        )
    counts: dict[str, int] = {}
    for r in results:
        counts[r.action] = counts.get(r.action, 0) + 1
    origin = f"from {mirror_dir}" if mirror_dir else "from the official sources"
    click.echo(
        f"{len(results)} files in {obj['data_dir'] / 'raw'} ({origin}): "
        + ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
    )


@main.command()
@_study_opt
@click.pass_obj
def prepare(obj: dict, study: str) -> None:
    """Build the standard layers in data/processed/layers/<ISO3>/."""
    from siting.config import load_study
    from siting.layers import prepare as build

    st, _ = _run(load_study, study)
    with _stage("prepare"):
        folder = _run(build, st, obj["data_dir"] / "raw", obj["data_dir"] / "processed")
    click.echo(f"layers: {folder}")


@main.command()
@_study_opt
@_profile_opt
@click.pass_obj
def score(obj: dict, study: str, profile: str | None) -> None:
    """Score candidates and write scores, province summary, top sites and provenance."""
    from siting.config import load_study
    from siting.layers import Layers
    from siting.pipeline import Paths, score_study, write_outputs

    st, prof = _run(load_study, study, profile)
    paths = Paths(obj["data_dir"], st)
    layers = Layers(paths.layers)
    with _stage(f"score {st.name}/{prof.name}"):
        result = _run(score_study, st, prof, layers)
        inputs = json.loads((paths.layers / "provenance.json").read_text())["inputs"]
        files = _run(write_outputs, paths, st, prof, result, inputs)
    click.echo(
        f"{len(result.scored):,} candidates scored; excluded: "
        + ", ".join(f"{n:,} {why}" for why, n in result.excluded.items())
    )
    for name, path in files.items():
        click.echo(f"  {name:<12} {path}")


@main.command(name="map")
@_study_opt
@_profile_opt
@click.pass_obj
def map_(obj: dict, study: str, profile: str | None) -> None:
    """Write the interactive HTML map of a scored study."""
    from siting.config import load_study
    from siting.layers import Layers
    from siting.maps import write_study_map
    from siting.pipeline import Paths

    st, prof = _run(load_study, study, profile)
    paths = Paths(obj["data_dir"], st)
    with _stage(f"map {st.name}/{prof.name}"):
        path = _run(write_study_map, paths, st, prof, Layers(paths.layers))
    click.echo(f"  map          {path}")


if __name__ == "__main__":
    main()
