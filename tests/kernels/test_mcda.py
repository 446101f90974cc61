"""The MCDA engine against published examples and an independent implementation (pymcdm).

AHP references: Saaty, T. L. (1990), "How to make a decision: The analytic hierarchy process", European
Journal of Operational Research 48(1), 9-26: the "relative wealth of nations" matrix (7 countries; eigenvector
.427 .230 .021 .052 .052 .123 .094, λmax 7.61) and the house-buying criteria matrix (8 criteria; eigenvector
.173 .054 .188 .018 .031 .036 .167 .333, λmax 9.669, CI .238, CR .169: inconsistent beyond 0.10).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from pymcdm import methods, normalizations
from pymcdm.weights import entropy_weights as pymcdm_entropy
from pymcdm.weights.subjective import AHP as PymcdmAHP

from siting.kernels import mcda


def _matrix(text: str) -> np.ndarray:
    return np.array([[float(Fraction(x)) for x in row.split()] for row in text.strip().splitlines()])


WEALTH = _matrix(
    """
    1   4   9   6   6   5   5
    1/4 1   7   5   5   3   4
    1/9 1/7 1   1/5 1/5 1/7 1/5
    1/6 1/5 5   1   1   1/3 1/3
    1/6 1/5 5   1   1   1/3 1/3
    1/5 1/3 7   3   3   1   2
    1/5 1/4 5   3   3   1/2 1
    """
)
HOUSE = _matrix(
    """
    1   5   3   7   6   6   1/3 1/4
    1/5 1   1/3 5   3   3   1/5 1/7
    1/3 3   1   6   3   4   6   1/5
    1/7 1/5 1/6 1   1/3 1/4 1/7 1/8
    1/6 1/3 1/3 3   1   1/2 1/5 1/6
    1/6 1/3 1/4 4   2   1   1/5 1/6
    3   5   1/6 7   5   5   1   1/2
    4   7   5   8   6   6   2   1
    """
)


def test_ahp_wealth_of_nations_saaty_1990() -> None:
    res = mcda.ahp(WEALTH)
    np.testing.assert_allclose(res.weights, [0.427, 0.230, 0.021, 0.052, 0.052, 0.123, 0.094], atol=0.0015)
    assert res.lambda_max == pytest.approx(7.61, abs=0.005)
    assert res.cr == pytest.approx(0.08, abs=0.005)
    assert res.cr <= mcda.MAX_CR


def test_ahp_house_example_is_inconsistent_saaty_1990() -> None:
    res = mcda.ahp(HOUSE)
    np.testing.assert_allclose(res.weights, [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333], atol=0.0015)
    assert res.lambda_max == pytest.approx(9.669, abs=0.001)
    assert res.ci == pytest.approx(0.238, abs=0.001)
    assert res.cr == pytest.approx(0.169, abs=0.001)
    # the judgement most at odds with the weights: neighbourhood (3) over general condition (7) rated 6,
    # where the eigenvector says condition is about as important as neighbourhood
    assert res.worst_pair == (2, 6)


def test_ahp_weights_match_pymcdm_eigenvector() -> None:
    for matrix in (WEALTH, HOUSE):
        ref = PymcdmAHP(matrix=matrix)()
        np.testing.assert_allclose(mcda.ahp(matrix).weights, ref, atol=1e-10)


def test_ahp_of_a_consistent_matrix_recovers_the_ratios() -> None:
    w = np.array([0.5, 0.3, 0.15, 0.05])
    res = mcda.ahp(w[:, None] / w[None, :])
    np.testing.assert_allclose(res.weights, w, atol=1e-12)
    assert res.cr == pytest.approx(0.0, abs=1e-12)


def test_pairwise_matrix_from_judgements_and_its_errors() -> None:
    names = ["a", "b", "c"]
    a = mcda.pairwise_matrix(names, {"a": {"b": 3, "c": 5}, "c": {"b": 0.5}})
    np.testing.assert_allclose(a, [[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 0.5, 1]])
    with pytest.raises(ValueError, match=r"b\.c: this pair is not judged"):
        mcda.pairwise_matrix(names, {"a": {"b": 3, "c": 5}})
    with pytest.raises(ValueError, match="judged twice"):
        mcda.pairwise_matrix(names, {"a": {"b": 3, "c": 5}, "b": {"a": 2, "c": 1}})
    with pytest.raises(ValueError, match="'d' is not a criterion"):
        mcda.pairwise_matrix(names, {"a": {"d": 3}})


@pytest.fixture(scope="module")
def matrix() -> np.ndarray:
    """A strictly positive decision matrix of 300 alternatives × 5 criteria (benefit-oriented values)."""
    rng = np.random.default_rng(7)
    return rng.uniform(0.05, 1.0, size=(300, 5))


WEIGHTS = np.array([0.35, 0.25, 0.2, 0.15, 0.05])
BENEFIT = np.ones(5, dtype=int)


def _identity(x, cost=False):
    return x


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (mcda.weighted_sum, methods.WSM(normalization_function=_identity)),
        (mcda.weighted_product, methods.WPM(normalization_function=_identity)),
        (mcda.topsis, methods.TOPSIS(normalization_function=_identity)),
    ],
    ids=["wsm", "wpm", "topsis"],
)
def test_aggregations_match_pymcdm(matrix, ours, theirs) -> None:
    np.testing.assert_allclose(ours(matrix, WEIGHTS), theirs(matrix, WEIGHTS, BENEFIT), rtol=1e-12)


def test_entropy_weights_match_pymcdm(matrix) -> None:
    np.testing.assert_allclose(mcda.entropy_weights(matrix), pymcdm_entropy(matrix), rtol=1e-10)


def test_entropy_weights_treat_zero_as_zero_log_zero() -> None:
    x = np.array([[0.0, 1.0, 0.5], [1.0, 1.0, 0.5], [0.5, 1.0, 0.0]])
    w = mcda.entropy_weights(x)
    assert w.sum() == pytest.approx(1.0)
    assert w[1] == pytest.approx(0.0)  # identical values carry no information
    assert (w[[0, 2]] > 0).all()


def test_weighted_product_zero_weight_ignores_zero_value() -> None:
    v = np.array([[0.0, 0.5], [0.2, 0.5]])
    np.testing.assert_allclose(mcda.weighted_product(v, np.array([0.0, 1.0])), [0.5, 0.5])
    np.testing.assert_allclose(mcda.weighted_product(v, np.array([0.5, 0.5])), [0.0, np.sqrt(0.1)])


def test_topsis_on_raw_criteria_matches_pymcdm_minmax(matrix) -> None:
    """Our linear value function with worst/best at the column extremes *is* min-max normalisation."""
    raw = matrix * np.array([6000, 50, 30, 38, 800])
    types = np.array([1, -1, -1, -1, -1])
    values = np.column_stack(
        [
            mcda.linear(raw[:, j], raw[:, j].min(), raw[:, j].max())
            if t > 0
            else mcda.linear(raw[:, j], raw[:, j].max(), raw[:, j].min())
            for j, t in enumerate(types)
        ]
    )
    ref = methods.TOPSIS(normalization_function=normalizations.minmax_normalization)(raw, WEIGHTS, types)
    np.testing.assert_allclose(mcda.topsis(values, WEIGHTS), ref, rtol=1e-12)


def test_value_functions() -> None:
    x = np.array([-10.0, 0, 10, 20, 50, 100])
    np.testing.assert_allclose(mcda.linear(x, 50, 0), [1, 1, 0.8, 0.6, 0, 0])
    np.testing.assert_allclose(mcda.piecewise(x, [0, 20, 50], [1, 0.8, 0]), [1, 1, 0.9, 0.8, 0, 0])
    s = mcda.sigmoid(np.array([35.0, 28.0, 42.0, 1e6, -1e6]), midpoint=35, best=28)  # a cost
    np.testing.assert_allclose(s, [0.5, 0.95, 0.05, 0, 1], atol=1e-12)
    np.testing.assert_allclose(mcda.threshold(x, 20, below=1, above=0.25), [1, 1, 1, 0.25, 0.25, 0.25])
    kv = np.array([220.0, 500.0, 660.0, 132.0])
    np.testing.assert_allclose(mcda.categorical(kv, {"500": 1, "660": 1, 220: 0.6}, 0), [0.6, 1, 1, 0])
    names = np.array(["Karachi", "Gwadar", "Lahore"], dtype=object)
    np.testing.assert_allclose(mcda.categorical(names, {"Karachi": 1, "Gwadar": 0.7}, 0.2), [1, 0.7, 0.2])


def test_rank_desc_breaks_ties_by_position() -> None:
    np.testing.assert_array_equal(mcda.rank_desc(np.array([0.5, 0.9, 0.5, 0.1])), [2, 1, 3, 4])
    np.testing.assert_array_equal(mcda.rank_desc(np.array([[1.0, 2.0], [2.0, 1.0]]), axis=1), [[2, 1], [1, 2]])
