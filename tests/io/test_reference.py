"""The Reference object: every table and figure of a region read once, with the study's overrides."""

from __future__ import annotations

import pandas as pd
import pytest

from siting._errors import ConfigError
from siting.config import Study
from siting.io import reference
from siting.io.reference import Reference


def test_figures_come_with_their_source_and_overrides_win() -> None:
    ref = Reference.load("PAK", {"pkr_per_usd": 300.0})
    value, basis = ref.figure("pkr_per_usd")
    assert (value, basis) == (300.0, "study config")
    peak, source = ref.figure("peak_demand_mw")
    assert peak == 30150 and "NEPRA" in source
    assert ref.value("peak_demand_mw") == reference.national_value("PAK", "peak_demand_mw")


def test_unknown_override_key_is_refused_in_one_sentence() -> None:
    with pytest.raises(ConfigError, match=r"^figures\.pkr_per_euro: unknown figure; use one of "):
        Reference.load("PAK", {"pkr_per_euro": 300.0})


def test_missing_table_and_missing_figure_name_the_file() -> None:
    ref = Reference.load("PAK")
    with pytest.raises(ConfigError, match=r"regions/PAK/nope\.csv"):
        ref.table("nope.csv")
    with pytest.raises(ConfigError, match=r"national\.csv has no row 'nope'"):
        ref.figure("nope")


def test_tables_are_read_once_and_handed_out_as_copies() -> None:
    ref = Reference.load("PAK")
    first = ref.table("provinces.csv")
    first.loc[:, "population"] = 0
    assert (ref.table("provinces.csv")["population"] > 0).all()
    on_disk = reference.provinces("PAK")
    pd.testing.assert_frame_equal(ref.provinces, on_disk)


@pytest.mark.parametrize(
    ("name", "code"), [("Sind", "PK-SD"), ("KPK", "PK-KP"), ("F.A.T.A.", "PK-KP"), ("ICT", "PK-IS")]
)
def test_province_aliases_resolve_like_the_module_function(name: str, code: str) -> None:
    ref = Reference.for_study(Study(name="t"))
    assert ref.province_code(name) == code == reference.province_code("PAK", name)
