"""Study and profile files: valid ones load, every kind of mistake is a ConfigError naming the file and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from siting._errors import ConfigError
from siting.config import CRITERIA, Profile, Study, available_profiles, config_dir, load_profile, load_study

REPO = Path(__file__).resolve().parents[1]

GOOD_PROFILE = """\
name: {name}
description: a test profile
criteria:
  surplus_mw:
    weight: 0.5
    value: {{kind: linear, worst: 0, best: 6000}}
  dist_substation_km:
    weight: 0.3
    value: {{kind: linear, worst: 50, best: 0}}
    why: close is cheap
  t2m_hottest_month_c:
    weight: 0.2
    value: {{kind: linear, worst: 38, best: 22}}
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder with two good profiles and one study, selected through $SITING_CONFIG_DIR."""
    folder = tmp_path / "cfg"
    (folder / "studies").mkdir(parents=True)
    for name in ("alpha", "beta"):
        (folder / f"{name}.yml").write_text(GOOD_PROFILE.format(name=name))
    (folder / "studies" / "small.yml").write_text("name: small\nprofile: beta\ncandidates:\n  h3_resolution: 5\n")
    monkeypatch.setenv("SITING_CONFIG_DIR", str(folder))
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def profile_with(criteria: str) -> str:
    return "name: bad\ncriteria:\n" + textwrap.indent(textwrap.dedent(criteria), "  ")


def test_good_profile_loads_by_name(cfg: Path) -> None:
    profile = load_profile("alpha")
    assert isinstance(profile, Profile)
    assert profile.name == "alpha"
    assert profile.weights == {"surplus_mw": 0.5, "dist_substation_km": 0.3, "t2m_hottest_month_c": 0.2}
    assert profile.criteria["dist_substation_km"].value.worst == 50
    assert profile.criteria["dist_substation_km"].why == "close is cheap"
    assert available_profiles() == ["ai_datacenter", "alpha", "beta", "bitcoin_mining"]  # overrides + packaged
    assert config_dir() == cfg


def test_profile_loads_by_path(cfg: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "elsewhere", "gamma.yml", GOOD_PROFILE.format(name="gamma"))
    assert load_profile(str(path)).name == "gamma"


def test_config_dir_defaults_to_configs_below_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITING_CONFIG_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "configs", "delta.yml", GOOD_PROFILE.format(name="delta"))
    assert config_dir() == Path("configs")
    assert load_profile("delta").name == "delta"


def test_packaged_defaults_load_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITING_CONFIG_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    study, profile = load_study("pakistan")
    assert study.region.iso3 == "PAK" and profile.name == "bitcoin_mining"


def test_override_folder_wins_over_packaged_default(cfg: Path) -> None:
    (cfg / "bitcoin_mining.yml").write_text(GOOD_PROFILE.format(name="bitcoin_mining"))
    assert load_profile("bitcoin_mining").criteria.keys() == load_profile("alpha").criteria.keys()


def test_unknown_study_names_every_folder_searched(cfg: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_study("nowhere")
    message = str(err.value)
    assert "pakistan" in message and "small" in message
    assert str(cfg / "studies") in message and str(Path("siting") / "defaults" / "studies") in message


def test_unknown_profile_lists_the_available_ones(cfg: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_profile("gamma")
    message = str(err.value)
    assert "'gamma'" in message
    assert "alpha" in message and "beta" in message


@pytest.mark.parametrize(
    ("criteria", "key", "fragment"),
    [
        (
            """\
            surplus_mw: {weight: 1.0, value: {kind: linear, worst: 0, best: 1}}
            ping_ms: {weight: 0.0, value: {kind: linear, worst: 0, best: 1}}
            """,
            "criteria.ping_ms",
            "unknown criterion",
        ),
        (
            """\
            surplus_mw: {weight: 1.2, value: {kind: linear, worst: 0, best: 1}}
            dist_substation_km: {weight: -0.2, value: {kind: linear, worst: 50, best: 0}}
            """,
            "criteria.dist_substation_km.weight",
            "greater than or equal to 0",
        ),
        (
            """\
            surplus_mw: {weight: 0.6, value: {kind: linear, worst: 0, best: 1}}
            dist_substation_km: {weight: 0.6, value: {kind: linear, worst: 50, best: 0}}
            """,
            "criteria",
            "sum to 1.2",
        ),
        (
            """\
            surplus_mw: {weight: 0.5, value: {kind: linear, worst: 0, best: 1}}
            dist_substation_km: {weight: 0.4, value: {kind: linear, worst: 50, best: 0}}
            """,
            "criteria",
            "sum to 0.9",
        ),
        (
            """\
            surplus_mw: {weight: 1.0, colour: red, value: {kind: linear, worst: 0, best: 1}}
            """,
            "criteria.surplus_mw.colour",
            "unknown key",
        ),
        (
            """\
            surplus_mw: {value: {kind: linear, worst: 0, best: 1}}
            """,
            "criteria.surplus_mw.weight",
            "required",
        ),
        (
            """\
            surplus_mw: {weight: 1.0, value: {kind: linear, worst: 5, best: 5}}
            """,
            "criteria.surplus_mw.value",
            "worst and best must differ",
        ),
        (
            """\
            surplus_mw: {weight: 1.0, value: {kind: cubic, worst: 0, best: 1}}
            """,
            "criteria.surplus_mw.value",
            "kind must be one of linear, piecewise",
        ),
    ],
    ids=[
        "unknown-criterion",
        "negative-weight",
        "weights-over-1",
        "weights-under-1",
        "extra-key",
        "no-weight",
        "flat",
        "kind",
    ],
)
def test_bad_profile_names_the_key(cfg: Path, criteria: str, key: str, fragment: str) -> None:
    path = write(cfg, "bad.yml", profile_with(criteria))
    with pytest.raises(ConfigError) as err:
        load_profile("bad")
    message = str(err.value)
    assert str(path) in message
    assert key in message
    assert fragment in message


def test_unknown_top_level_key_is_named(cfg: Path) -> None:
    write(cfg, "bad.yml", GOOD_PROFILE.format(name="bad") + "colour: red\n")
    with pytest.raises(ConfigError, match=r"colour: unknown key"):
        load_profile("bad")


def test_weights_within_tolerance_are_accepted(cfg: Path) -> None:
    write(
        cfg,
        "rounded.yml",
        profile_with(
            """\
            surplus_mw: {weight: 0.3333, value: {kind: linear, worst: 0, best: 1}}
            dist_substation_km: {weight: 0.3333, value: {kind: linear, worst: 50, best: 0}}
            t2m_annual_mean_c: {weight: 0.3333, value: {kind: linear, worst: 30, best: 10}}
            """
        ),
    )
    assert sum(load_profile("rounded").weights.values()) == pytest.approx(0.9999)


def test_invalid_yaml_names_the_line(cfg: Path) -> None:
    path = write(cfg, "broken.yml", "name: broken\ncriteria:\n  surplus_mw: {weight: 1\n  x: [\n")
    with pytest.raises(ConfigError) as err:
        load_profile("broken")
    assert str(path) in str(err.value)
    assert "not valid YAML at line" in str(err.value)


def test_yaml_that_is_not_a_mapping_is_refused(cfg: Path) -> None:
    path = write(cfg, "list.yml", "- surplus_mw\n- dist_substation_km\n")
    with pytest.raises(ConfigError, match="mapping") as err:
        load_profile("list")
    assert str(path) in str(err.value)


def test_missing_profile_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_profile(str(tmp_path / "nowhere.yml"))


def test_study_loads_with_its_profile_and_defaults(cfg: Path) -> None:
    study, profile = load_study("small")
    assert isinstance(study, Study)
    assert study.name == "small"
    assert study.candidates.h3_resolution == 5
    assert profile.name == "beta"
    # everything not given keeps its documented default
    assert study.region.iso3 == "PAK"
    assert study.grid.substation_min_kv == 220.0
    assert study.grid.infer_voltage_within_km == 1.0
    assert study.ranking.top_n == 5


def test_study_profile_override(cfg: Path) -> None:
    study, profile = load_study("small", profile="alpha")
    assert study.profile == "alpha"
    assert profile.name == "alpha"


def test_unknown_study_lists_the_known_ones(cfg: Path) -> None:
    write(cfg / "studies", "other.yml", "name: other\n")
    with pytest.raises(ConfigError) as err:
        load_study("nope")
    assert "'nope'" in str(err.value)
    assert "small" in str(err.value) and "other" in str(err.value)


def test_study_with_unknown_profile_lists_profiles(cfg: Path) -> None:
    write(cfg / "studies", "s.yml", "name: s\nprofile: gamma\n")
    with pytest.raises(ConfigError, match="alpha"):
        load_study("s")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("name: s\ngrid:\n  substaton_min_kv: 132\n", "grid.substaton_min_kv"),
        ("name: s\ncandidates:\n  h3_resolution: 20\n", "candidates.h3_resolution"),
        ("name: s\ngrid:\n  infer_voltage_within_km: -1\n", "grid.infer_voltage_within_km"),
        ("name: s\nregion:\n  iso3: pak\n", "region.iso3"),
        ("name: has space\n", "name"),
        ("profile: alpha\n", "name"),
        ("name: s\nsurplus:\n  population: {PK-PB: -5}\n", "surplus.population.PK-PB"),
    ],
)
def test_bad_study_names_the_key(cfg: Path, text: str, key: str) -> None:
    path = write(cfg / "studies", "bad.yml", text)
    with pytest.raises(ConfigError) as err:
        load_study("bad")
    assert str(path) in str(err.value)
    assert f": {key}: " in str(err.value)


def test_study_objects_are_frozen() -> None:
    study = Study(name="x")
    with pytest.raises(Exception, match="frozen"):
        study.name = "y"


def test_shipped_profiles_are_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITING_CONFIG_DIR", str(tmp_path / "empty"))
    assert available_profiles() == ["ai_datacenter", "bitcoin_mining"]
    for name in available_profiles():
        profile = load_profile(name)
        assert profile.name == name
        assert set(profile.criteria) <= set(CRITERIA)
        assert sum(profile.weights.values()) == pytest.approx(1.0, abs=1e-3)


AHP_PROFILE = """\
name: {name}
weights:
  method: ahp
  pairwise:
    surplus_mw: {{dist_substation_km: 2, t2m_hottest_month_c: {x}, dist_connectivity_km: 8}}
    dist_substation_km: {{t2m_hottest_month_c: 2, dist_connectivity_km: 4}}
    t2m_hottest_month_c: {{dist_connectivity_km: 2}}
criteria:
  surplus_mw: {{value: {{kind: linear, worst: 0, best: 6000}}}}
  dist_substation_km: {{value: {{kind: linear, worst: 50, best: 0}}}}
  t2m_hottest_month_c: {{value: {{kind: linear, worst: 38, best: 22}}}}
  dist_connectivity_km: {{value: {{kind: linear, worst: 300, best: 0}}}}
"""


def test_ahp_profile_weights(cfg: Path) -> None:
    write(cfg, "ahp.yml", AHP_PROFILE.format(name="ahp", x=4))
    profile = load_profile("ahp")
    # a perfectly consistent 8:4:2:1 matrix
    assert list(profile.weights.values()) == pytest.approx([8 / 15, 4 / 15, 2 / 15, 1 / 15])
    assert profile.ahp().cr == pytest.approx(0.0, abs=1e-9)


def test_inconsistent_ahp_is_refused_naming_the_pair(cfg: Path) -> None:
    path = write(cfg, "ahp.yml", AHP_PROFILE.format(name="ahp", x="0.25"))
    with pytest.raises(ConfigError) as err:
        load_profile("ahp")
    msg = str(err.value)
    assert msg.startswith(f"{path}: weights.pairwise: consistency ratio")
    assert "exceeds 0.1" in msg
    assert "surplus_mw.t2m_hottest_month_c = 0.25 where the other judgements imply about 4" in msg


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (
            "weights: {method: ahp, pairwise: {surplus_mw: {dist_substation_km: 3}}}\ncriteria:\n"
            "  surplus_mw: {value: {kind: linear, worst: 0, best: 1}}\n"
            "  dist_substation_km: {value: {kind: linear, worst: 50, best: 0}}\n"
            "  t2m_annual_mean_c: {value: {kind: linear, worst: 30, best: 10}}\n",
            "weights.pairwise.surplus_mw.t2m_annual_mean_c",
            "not judged",
        ),
        (
            "weights: {method: ahp, pairwise: {surplus_mw: {dist_substation_km: 12}}}\ncriteria:\n"
            "  surplus_mw: {value: {kind: linear, worst: 0, best: 1}}\n"
            "  dist_substation_km: {value: {kind: linear, worst: 50, best: 0}}\n",
            "weights.pairwise.surplus_mw.dist_substation_km",
            "less than or equal to 9",
        ),
        (
            "weights: {method: ahp, pairwise: {surplus_mw: {dist_substation_km: 3}}}\ncriteria:\n"
            "  surplus_mw: {weight: 0.5, value: {kind: linear, worst: 0, best: 1}}\n"
            "  dist_substation_km: {value: {kind: linear, worst: 50, best: 0}}\n",
            "criteria.surplus_mw.weight",
            "remove this weight",
        ),
        (
            "criteria:\n  surplus_mw: {weight: 1, value: {kind: piecewise, points: [[0, 0], [10, 1.5]]}}\n",
            "criteria.surplus_mw.value.points.1.1",
            "less than or equal to 1",
        ),
        (
            "criteria:\n  surplus_mw: {weight: 1, value: {kind: piecewise, points: [[10, 0], [0, 1]]}}\n",
            "criteria.surplus_mw.value",
            "increase strictly",
        ),
        (
            "criteria:\n  surplus_mw: {weight: 1, value: {kind: sigmoid, midpoint: 3, best: 3}}\n",
            "criteria.surplus_mw.value",
            "midpoint and best must differ",
        ),
        (
            "criteria:\n  surplus_mw: {weight: 1, value: {kind: threshold, at: 0, below: 0, above: 2}}\n",
            "criteria.surplus_mw.value.above",
            "less than or equal to 1",
        ),
        (
            "criteria:\n  surplus_mw: {weight: 1, value: {kind: categorical, values: {a: -1}}}\n",
            "criteria.surplus_mw.value.values.a",
            "greater than or equal to 0",
        ),
        (
            "criteria:\n  surplus_mw: {weight: 1, value: {kind: linear, worst: 0, best: 1}}\n"
            "constraints: {surplus_mw: {}}\n",
            "constraints.surplus_mw",
            "at least one of min, max",
        ),
        (
            "aggregation: electre\ncriteria:\n  surplus_mw: {weight: 1, value: {kind: linear, worst: 0, best: 1}}\n",
            "aggregation",
            "weighted_sum",
        ),
    ],
    ids=["ahp-missing-pair", "ahp-off-scale", "ahp-with-weight", "piecewise-range", "piecewise-order",
         "sigmoid-flat", "threshold-range", "categorical-range", "empty-constraint", "aggregation"],
)  # fmt: skip
def test_bad_engine_config_names_the_key(cfg: Path, text: str, key: str, fragment: str) -> None:
    path = write(cfg, "bad.yml", "name: bad\n" + text)
    with pytest.raises(ConfigError) as err:
        load_profile("bad")
    message = str(err.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment in message
    assert message.count(". ") == 0  # one sentence


def test_every_value_kind_loads(cfg: Path) -> None:
    write(
        cfg,
        "kinds.yml",
        "name: kinds\ncriteria:\n"
        "  surplus_mw: {weight: 0.2, value: {worst: 0, best: 6000}}\n"  # kind defaults to linear
        "  dist_substation_km: {weight: 0.2, value: {kind: piecewise, points: [[0, 1], [20, 0.8], [50, 0]]}}\n"
        "  t2m_hottest_month_c: {weight: 0.2, value: {kind: sigmoid, midpoint: 35, best: 28}}\n"
        "  dist_line_220kv_km: {weight: 0.2, value: {kind: threshold, at: 30, below: 1, above: 0}}\n"
        "  dist_connectivity_km: {weight: 0.2, value: {kind: categorical, values: {'0': 1}, default: 0.5}}\n"
        "constraints:\n  dist_substation_km: {max: 80}\n  iso_3166_2: {none_of: [PK-IS]}\n",
    )
    p = load_profile("kinds")
    assert [c.value.kind for c in p.criteria.values()] == [
        "linear", "piecewise", "sigmoid", "threshold", "categorical"
    ]  # fmt: skip
    assert p.constraints["iso_3166_2"].none_of == ["PK-IS"]


def test_max_elevation_null_means_no_elevation_exclusion() -> None:
    study = Study.model_validate({"name": "x", "candidates": {"max_elevation_m": None}})
    assert study.candidates.max_elevation_m is None
