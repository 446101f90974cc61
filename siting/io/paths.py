"""Where a study's files live: ``data/raw``, the layers of a region, and each profile's output folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from siting.config import Study
from siting.io.safe import path_name

SITE_CELLS_FILE = "site_cells.parquet"  # which H3 cell belongs to which site, as scoring built them


def layers_dir(processed: Path, iso3: str) -> Path:
    """Folder of the standard layers for a region."""
    return processed / "layers" / iso3


@dataclass(frozen=True)
class Paths:
    """Where a study's files live."""

    data: Path
    study: Study
    variant: str = ""
    """Appended to the profile folder: ``"_user"`` for a run on the planner's own candidates."""

    @property
    def raw(self) -> Path:
        """``data/raw``."""
        return self.data / "raw"

    @property
    def processed(self) -> Path:
        """``data/processed``."""
        return self.data / "processed"

    @property
    def layers(self) -> Path:
        """``data/processed/layers/<ISO3>``."""
        return layers_dir(self.processed, self.study.region.iso3)

    @property
    def out(self) -> Path:
        """``data/processed/<study>/<profile><variant>``; each part checked by :func:`siting.io.safe.path_name`."""
        profile = Path(self.study.profile).stem  # a profile given as a path writes to a folder named by its stem
        folder = path_name(self.study.name, "study name")
        return self.processed / folder / path_name(f"{path_name(profile, 'profile name')}{self.variant}", "output")

    @property
    def scores(self) -> Path:
        """Scores as GeoParquet."""
        return self.out / "scores.parquet"
