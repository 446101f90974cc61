"""Side-by-side comparison of two profiles, cell by cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.fields import F
from siting.outputs.reports import cells_side_by_side


def test_cells_side_by_side_cross_scores_and_overlap() -> None:
    cells = ["a1", "a2", "a3", "b1", "b2"]
    scored = {
        "p": pd.DataFrame({F.CELL: cells, F.SCORE: [90.0, 80.0, 10.0, 70.0, 60.0]}),
        "q": pd.DataFrame({F.CELL: cells[:4], F.SCORE: [50.0, 85.0, 20.0, 65.0]}),  # q's constraint removed b2
    }

    def top(frame, keep):
        t = frame.set_index(F.CELL).loc[keep].reset_index()
        t[F.ISO_3166_2] = ["PK-SD" if c.startswith("a") else "PK-BA" for c in t[F.CELL]]
        t[F.PROVINCE] = t[F.ISO_3166_2].map({"PK-SD": "Sindh", "PK-BA": "Balochistan"})
        t["nearest_place"] = t[F.CELL].str.upper()
        return t

    side = cells_side_by_side(
        scored, {"p": top(scored["p"], ["a1", "a2", "b1", "b2"]), "q": top(scored["q"], ["a2", "a1"])}
    )
    sindh, baloch = side.loc["Sindh"], side.loc["Balochistan"]
    assert sindh["p best near"] == "A1" and sindh["q best near"] == "A2"
    assert sindh["… its score as q"] == 50.0 and sindh["… its score as p"] == 80.0
    assert sindh["top cells shared"] == 2
    assert pd.isna(baloch["q best near"]) and baloch["top cells shared"] == 0  # q kept no Balochistan cell
    assert side.attrs["cells_in_both"] == 4
    expected = pd.Series([90.0, 80, 10, 70]).corr(pd.Series([50.0, 85, 20, 65]), method="spearman")
    assert side.attrs["spearman"] == pytest.approx(expected)
    assert np.isfinite(side.attrs["spearman"])
