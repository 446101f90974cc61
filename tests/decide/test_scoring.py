"""Scoring on the real layers: value functions, weights, ranks, and how a weight change moves the ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from siting.config import LinearValue
from siting.decide.scoring import linear_value, points_column, score
from siting.fields import F


def test_linear_value_benefit_and_cost() -> None:
    benefit = LinearValue(worst=0, best=100)
    cost = LinearValue(worst=50, best=0)
    np.testing.assert_allclose(linear_value(np.array([-10, 0, 25, 100, 200]), benefit), [0, 0, 0.25, 1, 1])
    np.testing.assert_allclose(linear_value(np.array([0, 10, 50, 80]), cost), [1, 0.8, 0, 0])


def test_points_add_up_to_score(result, profile) -> None:
    scored = result.scored
    pts = sum(scored[points_column(c)] for c in profile.criteria)
    np.testing.assert_allclose(pts, scored[F.SCORE], atol=1e-9)
    assert scored[F.SCORE].between(0, 100).all()
    for name, crit in profile.criteria.items():
        assert scored[points_column(name)].max() <= 100 * crit.weight + 1e-9


def test_ranks_are_dense_and_ordered(result) -> None:
    scored = result.scored
    for _, group in scored.groupby(F.ISO_3166_2):
        ranked = group.sort_values(F.RANK_IN_PROVINCE)
        assert ranked[F.RANK_IN_PROVINCE].tolist() == list(range(1, len(group) + 1))
        assert ranked[F.SCORE].is_monotonic_decreasing
    assert sorted(scored[F.RANK_NATIONAL]) == list(range(1, len(scored) + 1))


def test_every_province_has_top_sites_inside_it(result, layers) -> None:
    polys = layers.provinces.set_index(F.ISO_3166_2).geometry
    top = result.top
    # every province with a candidate left after the constraints; Gilgit-Baltistan has none within the profile's
    # 100 km of a 220 kV grid station (its nearest 220 kV substation is the Allai Khwar hydropower switchyard)
    assert set(top[F.ISO_3166_2]) == set(result.scored[F.ISO_3166_2]) <= set(polys.index)
    assert len(set(top[F.ISO_3166_2])) >= 6
    for row in top.itertuples():
        point = shapely.Point(getattr(row, F.LON), getattr(row, F.LAT))
        assert polys[getattr(row, F.ISO_3166_2)].contains(point), row
    assert (top.groupby(F.ISO_3166_2).size() <= 5).all()


def test_province_summary_matches_scores(result) -> None:
    summary = result.provinces.set_index(F.ISO_3166_2)
    scored = result.scored
    assert summary["candidate_count"].sum() == len(scored)
    best = scored.groupby(F.ISO_3166_2)[F.SCORE].max()
    np.testing.assert_allclose(summary.loc[best.index, "best_score"], best)


@pytest.mark.parametrize("criterion", ["dist_connectivity_km", "t2m_hottest_month_c", "dist_substation_km"])
def test_more_weight_moves_the_best_site_toward_that_criterion(criterion, result, profile, study) -> None:
    """For a weighted sum, shifting weight to criterion c can only raise c's value at each province's best site.

    Proof: with w' = (1-t) w + t e_c, S'(z) = (1-t) S(z) + t v_c(z); if y beats the old best x under S',
    then (1-t)(S(y) - S(x)) + t (v_c(y) - v_c(x)) >= 0 and S(y) <= S(x), so v_c(y) >= v_c(x).
    """
    t = 0.5
    crits = {
        name: c.model_copy(update={"weight": (1 - t) * c.weight + (t if name == criterion else 0.0)})
        for name, c in profile.criteria.items()
    }
    heavier = profile.model_copy(update={"criteria": crits})
    columns = [F.CELL, F.ISO_3166_2, *profile.criteria]
    rescored = score(result.scored[columns], heavier)
    fn = profile.criteria[criterion].value
    old_best = result.scored[result.scored[F.RANK_IN_PROVINCE] == 1].set_index(F.ISO_3166_2)
    new_best = rescored[rescored[F.RANK_IN_PROVINCE] == 1].set_index(F.ISO_3166_2)
    old_v = linear_value(old_best[criterion].to_numpy(), fn)
    new_v = linear_value(new_best.loc[old_best.index, criterion].to_numpy(), fn)
    assert (new_v >= old_v - 1e-12).all()
    # and the weight matters: some province's best site changes
    assert (new_best.loc[old_best.index, F.CELL] != old_best[F.CELL]).any()


def test_zero_weight_criterion_does_not_affect_ranking(result, profile) -> None:
    name = "dist_connectivity_km"
    others = {k: c for k, c in profile.criteria.items() if k != name}
    total = sum(c.weight for c in others.values())
    crits = {k: c.model_copy(update={"weight": c.weight / total}) for k, c in others.items()}
    crits[name] = profile.criteria[name].model_copy(update={"weight": 0.0})
    changed = profile.model_copy(update={"criteria": crits})
    data = result.scored[[F.CELL, F.ISO_3166_2, *profile.criteria]].copy()
    base = score(data, changed)
    data[name] = data[name].sample(frac=1.0, random_state=0).to_numpy()  # scramble the ignored criterion
    shuffled = score(data, changed)
    assert (base[F.RANK_NATIONAL] == shuffled[F.RANK_NATIONAL]).all()


# --- the engine wired to profiles, on a sample of the real decision matrix -------------------------------

from pymcdm import methods, normalizations  # noqa: E402
from pymcdm.weights import entropy_weights as pymcdm_entropy  # noqa: E402

from siting._errors import ConfigError  # noqa: E402
from siting.config import Constraint  # noqa: E402
from siting.decide.scoring import evaluate, value_matrix  # noqa: E402
from siting.kernels import mcda  # noqa: E402


@pytest.fixture(scope="module")
def sample(result, profile):
    return result.scored[[F.CELL, F.ISO_3166_2, *profile.criteria]].sample(2000, random_state=1)


def _extreme_profile(profile, sample, aggregation):
    """Linear value functions spanning the sample's range: min-max normalisation, as pymcdm does it."""
    crits = {}
    for name, c in profile.criteria.items():
        lo, hi = sample[name].min(), sample[name].max()
        cost = c.value.best < c.value.worst
        crits[name] = c.model_copy(update={"value": LinearValue(worst=hi if cost else lo, best=lo if cost else hi)})
    types = np.array([-1 if c.value.best < c.value.worst else 1 for c in profile.criteria.values()])
    return profile.model_copy(update={"criteria": crits, "aggregation": aggregation}), types


@pytest.mark.parametrize(("aggregation", "method"), [("topsis", methods.TOPSIS), ("weighted_sum", methods.WSM)])
def test_scores_match_pymcdm_on_real_candidates(sample, profile, aggregation, method) -> None:
    prof, types = _extreme_profile(profile, sample, aggregation)
    ours = evaluate(sample, prof).table.loc[sample.index, F.SCORE].to_numpy()
    w = np.array(list(profile.weights.values()))
    ref = method(normalization_function=normalizations.minmax_normalization)(
        sample[list(profile.criteria)].to_numpy(float), w, types
    )
    np.testing.assert_allclose(ours, 100 * ref, rtol=1e-10, atol=1e-10)


def test_entropy_weights_on_real_values_match_pymcdm(sample, profile) -> None:
    v = value_matrix(sample, profile)
    v = v[(v > 0).all(axis=1)]  # pymcdm zeroes the entropy of a column with any zero; we use 0 ln 0 = 0
    assert len(v) > 100
    np.testing.assert_allclose(mcda.entropy_weights(v), pymcdm_entropy(v), rtol=1e-10, atol=1e-12)  # 0 vs -3e-15
    ent = profile.model_copy(
        update={
            "weights_": profile.weights_.model_copy(update={"method": "entropy"}),
            "criteria": {k: c.model_copy(update={"weight": None}) for k, c in profile.criteria.items()},
        }
    )
    res = evaluate(sample, ent)
    assert sum(res.weights.values()) == pytest.approx(1.0)
    np.testing.assert_allclose(list(res.weights.values()), mcda.entropy_weights(value_matrix(sample, profile)))


def test_constraints_remove_and_count(result, profile) -> None:
    table = result.scored[[F.CELL, F.ISO_3166_2, *profile.criteria]]
    rules = {
        "dist_substation_km": Constraint(max=50),
        F.ISO_3166_2: Constraint(none_of=["PK-IS"]),
        "hosting_interruptible_5pct_mw": Constraint(min=2500),
    }
    res = evaluate(table, profile.model_copy(update={"constraints": rules}))
    far = table["dist_substation_km"] > 50
    isl = table[F.ISO_3166_2] == "PK-IS"
    deficit = table["hosting_interruptible_5pct_mw"] < 2500
    assert res.removed == {
        "dist_substation_km": int(far.sum()),
        F.ISO_3166_2: int((~far & isl).sum()),
        "hosting_interruptible_5pct_mw": int((~far & ~isl & deficit).sum()),
    }
    assert len(res.table) == len(table) - sum(res.removed.values())
    assert res.table["dist_substation_km"].max() <= 50
    assert not set(res.table[F.ISO_3166_2]) & {"PK-IS", "PK-GB"}
    assert sorted(res.table[F.RANK_NATIONAL]) == list(range(1, len(res.table) + 1))


def test_constraint_on_unknown_column_names_the_key(result, profile) -> None:
    bad = profile.model_copy(update={"constraints": {"firm_surplus_gw": Constraint(min=0)}})
    with pytest.raises(ConfigError, match=r"constraints\.firm_surplus_gw: there is no such column"):
        evaluate(result.scored, bad)


def test_weighted_product_and_topsis_keep_points_as_weighted_values(sample, profile) -> None:
    for agg in ("weighted_product", "topsis"):
        res = evaluate(sample, profile.model_copy(update={"aggregation": agg})).table
        v = value_matrix(res, profile)
        w = np.array(list(profile.weights.values()))
        np.testing.assert_allclose(res[[points_column(c) for c in profile.criteria]].to_numpy(), 100 * v * w)
        assert res[F.SCORE].between(0, 100).all()


def test_consuming_evaluate_gives_the_same_table_and_empties_its_input(result, profile) -> None:
    """``consume=True`` (the in-process run's memory saving) scores exactly as the plain boolean take."""
    points = [c for c in result.scored.columns if c.startswith("points_")]
    cells = result.scored.drop(columns=[*points, F.SCORE, F.RANK_NATIONAL, F.RANK_IN_PROVINCE])
    cells.attrs["gaps"] = {"dem_nodata": 1}
    rules = {"dist_substation_km": Constraint(max=50), F.ISO_3166_2: Constraint(none_of=["PK-IS"])}
    prof = profile.model_copy(update={"constraints": rules})
    plain = evaluate(cells.copy(), prof)
    owned = cells.copy()
    consumed = evaluate(owned, prof, consume=True)
    assert owned.shape[1] == 0  # every column moved into the result
    assert consumed.removed == plain.removed and consumed.weights == plain.weights and consumed.removed
    assert consumed.table.attrs == plain.table.attrs == cells.attrs
    pd.testing.assert_frame_equal(consumed.table, pd.DataFrame(plain.table), check_exact=True)
    assert "geometry" not in consumed.table.columns  # candidates are ids and centres, no geometry objects
    assert len(cells.columns) == len(plain.table.columns) - len(points) - 3  # the caller's own copy kept


@pytest.mark.parametrize(
    "values",
    [
        ["8820922821fffff", "8820922823fffff", "8820922825fffff"],
        ["8820922823fffff", "8820922821fffff"],
        ["a", "a", "b"],
        ["a", None, "b"],
        ["é", "z"],  # UTF-8 bytes of é sort after z's as its code point does
        ["z", "é"],
        ["Z", "a", "ä", "\U0001f600"],
        ["x"],
        [],
    ],
)
@pytest.mark.parametrize("dtype", ["str", object, "string[pyarrow]"])
def test_increasing_is_pandas_is_monotonic_increasing(values, dtype) -> None:
    from siting.decide.scoring import _increasing

    s = pd.Series(values, dtype=dtype)
    assert _increasing(s) == s.is_monotonic_increasing
    assert _increasing(s.iloc[::-1]) == s.iloc[::-1].is_monotonic_increasing
