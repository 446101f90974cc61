"""take_labels against the column pandas makes of ``labels[idx]`` itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.kernels.labels import take_labels

CASES = {
    "names": np.array(["Jamshoro", "Guddu", "", "Tarbela"], dtype=object),
    "names and missing": np.array(["Jamshoro", np.nan, "Guddu", None], dtype=object),
    "all missing": np.array([np.nan, np.nan], dtype=object),
    "mixed types": np.array(["a", 1, 2.5], dtype=object),
    "floats": np.array([np.nan, 1.0, 2.0]),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("pick", ["all", "first", "none", "subset"])
def test_take_labels_makes_the_same_column_as_pandas(case: str, pick: str) -> None:
    labels = CASES[case]
    rng = np.random.default_rng(7)
    idx = {
        "all": rng.integers(0, len(labels), 1000),
        "first": np.zeros(50, dtype=np.intp),
        "none": np.zeros(0, dtype=np.intp),
        "subset": rng.integers(0, 2, 300),
    }[pick]
    want = pd.DataFrame({"x": labels[idx]})["x"]
    got = pd.DataFrame({"x": take_labels(labels, idx)})["x"]
    assert got.dtype == want.dtype
    pd.testing.assert_series_equal(got, want)
    assert got.equals(want)


def test_unused_labels_of_another_type_do_not_change_the_dtype() -> None:
    labels = np.array(["a", "b", 3], dtype=object)  # 3 never picked: pandas sees strings only
    idx = np.array([0, 1, 1, 0])
    want = pd.Series(labels[idx])
    got = pd.Series(take_labels(labels, idx))
    assert got.dtype == want.dtype
    assert got.equals(want)
