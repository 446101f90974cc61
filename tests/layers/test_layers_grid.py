"""Substations (tagged / inferred voltage) and transmission lines against the raw OSM files and meta.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from siting.layers import grid

GEOD = Geod(ellps="WGS84")
LINE_FILES = ["500kv", "220kv", "132kv", "66kv", "hvdc"]


def max_kv(raw: object) -> float:
    """Independent reading of an OSM voltage tag: the largest ';'-separated number, volts → kV."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return np.nan
    values = [int(t) for t in re.findall(r"\d+", str(raw))]
    values = [v / 1000 if v >= 1000 else float(v) for v in values if v > 0]
    return max(values) if values else np.nan


@pytest.fixture(scope="module")
def osm(mirror: Path) -> Path:
    return mirror / "osm" / "PAK"


@pytest.fixture(scope="module")
def meta(osm: Path) -> dict:
    return json.loads((osm / "meta.json").read_text())


@pytest.fixture(scope="module")
def raw_substations(osm: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(osm / "substations.geojson")


@pytest.fixture(scope="module")
def raw_lines(osm: Path) -> gpd.GeoDataFrame:
    parts = []
    for name in LINE_FILES:
        df = gpd.read_file(osm / f"lines_{name}.geojson")
        df["file"] = name
        parts.append(df)
    lines = pd.concat(parts, ignore_index=True)
    tag = lines["voltage_raw"].where(lines["voltage_raw"].notna(), lines["voltage"].astype(str))
    lines["kv"] = tag.map(max_kv)
    lines["geod_km"] = [GEOD.geometry_length(g) / 1000 for g in lines.geometry]
    return lines


@pytest.fixture(scope="module")
def line_ends(raw_lines: gpd.GeoDataFrame) -> pd.DataFrame:
    rows = []
    for kv, geom in zip(raw_lines["kv"], raw_lines.geometry, strict=True):
        for part in shapely.get_parts(geom):
            xy = np.asarray(part.coords)
            rows += [(kv, xy[0, 0], xy[0, 1]), (kv, xy[-1, 0], xy[-1, 1])]
    return pd.DataFrame(rows, columns=["kv", "lon", "lat"])


def ends_near(ends: pd.DataFrame, lon: float, lat: float) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (km) and voltage of every raw line end within ~5 km of a point."""
    box = (np.abs(ends["lon"] - lon) < 0.06) & (np.abs(ends["lat"] - lat) < 0.05)
    e = ends[box]
    n = len(e)
    km = GEOD.inv(np.full(n, lon), np.full(n, lat), e["lon"].to_numpy(), e["lat"].to_numpy())[2] / 1000
    return km, e["kv"].to_numpy()


# --- parse_voltage_kv -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kv"),
    [
        ("500000;220000", 500.0),
        ("132kV", 132.0),
        ("132 KV", 132.0),
        ("132000;11000", 132.0),
        ("220/132", 220.0),
        ("66000", 66.0),
        ("220", 220.0),
        ("11000;132000", 132.0),
        ("500 kV;220 kV", 500.0),
        ("765000", 765.0),
        ("230000", 230.0),
    ],
)
def test_parse_voltage_kv(raw: str, kv: float) -> None:
    assert grid.parse_voltage_kv(raw) == kv


@pytest.mark.parametrize("raw", ["0", None, float("nan"), "", "unknown", "0;0"])
def test_parse_voltage_kv_missing_is_nan(raw) -> None:
    assert np.isnan(grid.parse_voltage_kv(raw))


def test_parse_voltage_kv_agrees_with_every_raw_tag(raw_substations, raw_lines) -> None:
    tags = pd.concat([raw_substations["voltage"], raw_lines["voltage_raw"]]).dropna().unique()
    assert len(tags) > 10
    for tag in tags:
        ours, ref = grid.parse_voltage_kv(tag), max_kv(tag)
        assert (np.isnan(ours) and np.isnan(ref)) or ours == ref, tag


# --- substations --------------------------------------------------------------------------------------------


def test_substation_count_matches_the_mirror(layers, raw_substations, meta) -> None:
    assert len(layers.substations) == 1177 == meta["substation_count"] == len(raw_substations)
    assert layers.substations["osm_id"].is_unique
    assert set(layers.substations["osm_id"]) == set(raw_substations["osm_id"].astype(str))


def test_voltage_source_values_are_consistent(layers) -> None:
    subs = layers.substations
    # voltage_source: the tag-and-line-end rule alone; voltage_basis: the final voltage's origin
    assert set(subs["voltage_source"]) == {"tagged", "inferred", "unknown"}
    assert set(subs["voltage_basis"]) <= {"tagged", "line end", "classifier", "unknown"}
    pairs = {("tagged", "tagged"), ("inferred", "line end"), ("unknown", "classifier"), ("unknown", "unknown")}
    assert set(zip(subs["voltage_source"], subs["voltage_basis"], strict=True)) <= pairs
    known = subs["voltage_kv"].notna()
    assert (known == subs["voltage_basis"].isin(["tagged", "line end", "classifier"])).all()
    assert (subs.loc[known, "voltage_kv"] > 0).all()


def test_untagged_count_matches_the_readme(layers, raw_substations) -> None:
    # README: 867 substations without a voltage tag. In the raw file 865 are null and 2 are tagged "0".
    raw_kv = raw_substations["voltage"].map(max_kv)
    assert raw_kv.isna().sum() == 867
    assert (layers.substations["voltage_source"] != "tagged").sum() == 867


@pytest.mark.parametrize("kv", [500, 220, 132, 66])
def test_tagged_counts_per_voltage_class(layers, raw_substations, kv: int) -> None:
    raw_kv = raw_substations["voltage"].map(max_kv)
    expected = int((raw_kv == kv).sum())
    subs = layers.substations
    tagged = subs[subs["voltage_source"] == "tagged"]
    assert int((tagged["voltage_kv"] == kv).sum()) == expected
    assert expected > 0


def test_tagged_voltage_is_the_raw_tag_per_substation(layers, raw_substations) -> None:
    raw = raw_substations.assign(osm_id=raw_substations["osm_id"].astype(str)).set_index("osm_id")
    subs = layers.substations.set_index("osm_id")
    tagged = subs[subs["voltage_source"] == "tagged"]
    assert np.array_equal(tagged["voltage_kv"].to_numpy(), raw.loc[tagged.index, "voltage"].map(max_kv).to_numpy())
    # substations keep their raw positions
    assert np.allclose(subs.geometry.x, raw.loc[subs.index].geometry.x)
    assert np.allclose(subs.geometry.y, raw.loc[subs.index].geometry.y)


def test_inferred_voltage_is_the_highest_line_ending_within_1_km(layers, line_ends) -> None:
    subs = layers.substations
    untagged = subs[subs["voltage_source"] != "tagged"]
    assert len(untagged) == 867
    checked = 0
    for src, kv, lon, lat in zip(
        untagged["voltage_source"], untagged["voltage_kv"], untagged.geometry.x, untagged.geometry.y, strict=True
    ):
        km, end_kv = ends_near(line_ends, lon, lat)
        if np.any(np.abs(km - 1.0) < 0.01):
            continue  # a line end right at the radius: the sphere and the ellipsoid may disagree
        near = km < 1.0
        if src == "inferred":
            assert near.any(), (lon, lat)
            assert kv == end_kv[near].max(), (lon, lat)
            assert np.any(km[end_kv == kv] < 1.0)  # a line of that voltage really ends within 1 km
        else:
            assert src == "unknown"
            assert not near.any(), (lon, lat, km.min())
        checked += 1
    assert checked > 850
    assert (untagged["voltage_source"] == "inferred").sum() > 400  # README: about 410 near a 132 kV line end


@pytest.fixture(scope="module")
def infer_at(osm: Path, layers):
    def build(km: float) -> gpd.GeoDataFrame:
        return grid.substations(osm / "substations.geojson", layers.lines, km).set_index("osm_id")

    return build


def test_larger_radius_infers_a_superset(infer_at, layers) -> None:
    small, base, large = infer_at(0.3), layers.substations.set_index("osm_id"), infer_at(5.0)
    count = {k: (df["voltage_source"] == "inferred").sum() for k, df in (("s", small), ("b", base), ("l", large))}
    assert count["s"] < count["b"] < count["l"]
    inferred_small = small.index[small["voltage_source"] == "inferred"]
    assert (base.loc[inferred_small, "voltage_source"] == "inferred").all()
    # a wider search can only find more (or higher) line ends
    both = base.index[(base["voltage_source"] == "inferred")]
    assert (large.loc[both, "voltage_kv"] >= base.loc[both, "voltage_kv"]).all()
    # tagged voltages never change
    tagged = base.index[base["voltage_source"] == "tagged"]
    assert large.loc[tagged, "voltage_kv"].equals(base.loc[tagged, "voltage_kv"])


# --- lines --------------------------------------------------------------------------------------------------


def test_500kv_and_hvdc_totals_match_meta(layers, meta) -> None:
    totals = layers.lines.groupby("voltage_class")["length_km"].sum()
    for cls in ("500kv", "hvdc"):
        assert totals[cls] == pytest.approx(meta["line_lengths_km"][cls], rel=5e-3), cls


def test_all_class_total_matches_meta(layers, meta) -> None:
    assert layers.lines["length_km"].sum() == pytest.approx(sum(meta["line_lengths_km"].values()), rel=5e-3)


def test_132_and_220_together_match_meta(layers, meta) -> None:
    # a line tagged "220000;132000" in the 132 kV file moves to the 220 kV class, so only the sum is comparable
    totals = layers.lines.groupby("voltage_class")["length_km"].sum()
    ref = meta["line_lengths_km"]["132kv"] + meta["line_lengths_km"]["220kv"]
    assert totals["132kv"] + totals["220kv"] == pytest.approx(ref, rel=5e-3)


def test_lines_are_classed_by_their_highest_voltage(layers, raw_lines) -> None:
    lines = layers.lines
    moved = raw_lines[(raw_lines["file"] == "132kv") & (raw_lines["kv"] >= 200)]
    assert len(moved) >= 1  # the mirror has at least one "220000;132000" line in the 132 kV file
    for osm_id in moved["osm_id"].astype(str):
        rows = lines[lines["osm_id"] == osm_id]
        assert len(rows) >= 1
        assert set(rows["voltage_class"]) == {"220kv"}
        assert (rows["voltage_kv"] == 220).all()
    expected = {"500kv": (400, 1e9), "220kv": (200, 400), "132kv": (100, 200), "66kv": (50, 100)}
    for cls, (lo, hi) in expected.items():
        kv = lines.loc[lines["voltage_class"] == cls, "voltage_kv"]
        assert len(kv) and kv.between(lo, hi, inclusive="left").all(), cls
    hvdc = lines[lines["voltage_class"] == "hvdc"]
    assert len(hvdc) == 5 and hvdc["is_hvdc"].all() and (hvdc["voltage_kv"] == 660).all()
    assert not lines.loc[lines["voltage_class"] != "hvdc", "is_hvdc"].any()


def test_line_lengths_match_wgs84_geodesics(layers, raw_lines) -> None:
    ref = raw_lines.drop_duplicates("osm_id").assign(osm_id=lambda d: d["osm_id"].astype(str)).set_index("osm_id")
    lines = layers.lines.drop_duplicates("osm_id").set_index("osm_id")
    geod = ref.loc[lines.index, "geod_km"].to_numpy()
    ours = lines["length_km"].to_numpy()
    assert np.all(np.abs(ours - geod) <= 5e-3 * geod + 1e-6)
    assert ours.sum() == pytest.approx(geod.sum(), rel=2e-3)


def test_line_length_km_of_a_multilinestring() -> None:
    geoms = np.array(
        [
            shapely.MultiLineString([[(67, 25), (68, 25)], [(70, 30), (70, 31)]]),
            shapely.LineString([(67, 25), (67, 25)]),
            shapely.LineString([(74, 31), (74.5, 31.5), (75, 32)]),
        ],
        dtype=object,
    )
    ours = grid.line_length_km(geoms)
    ref = np.array([GEOD.geometry_length(g) / 1000 for g in geoms])
    assert ours[1] == 0
    assert np.allclose(ours, ref, rtol=5e-3)


def test_every_raw_line_with_a_voltage_is_kept(layers, raw_lines) -> None:
    assert set(raw_lines.loc[raw_lines["kv"].notna(), "osm_id"].astype(str)) <= set(layers.lines["osm_id"])


def test_no_line_is_counted_twice(layers) -> None:
    assert layers.lines["osm_id"].is_unique


# --- connection points: kind of each substation ----------------------------------------------------------


def test_every_substation_has_a_kind_and_the_overrides_win(layers) -> None:
    from siting.io import reference
    from siting.layers.substation_kind import KINDS

    subs = layers.substations.set_index("osm_id")
    assert set(subs["kind"]) <= set(KINDS) and (subs["kind_basis"] != "").all()
    over = reference.table("PAK", "substation_kinds.csv").assign(osm_id=lambda d: d["osm_id"].astype(str))
    over = over[over["osm_id"].isin(subs.index)].set_index("osm_id")
    assert len(over) > 100
    assert (subs.loc[over.index, "kind"] == over["kind"]).all()
    assert (subs.loc[over.index, "kind_basis"] == "override").all()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Matiari-Lahore HVDC Converter station", "hvdc_converter"),
        ("Moro Converter Station", "unknown"),  # a 500 kV switching station with no HVDC line: not a load point
        ("Tarbela", "plant_switchyard"),
        ("Guddu", "plant_switchyard"),
        ("غازی بروتھا پن بجلی منصوبہ", "plant_switchyard"),  # Ghazi Barotha
        ("Sahiwal", "grid_station"),  # the NTDC Yousafwala grid station
        ("Gatti", "grid_station"),
        ("NTDC 500KV Grid Station Jamshoro", "grid_station"),
    ],
)
def test_named_500kv_kinds(layers, name: str, kind: str) -> None:
    subs = layers.substations
    rows = subs[(subs["name"] == name) & (subs["voltage_kv"] >= 500)]
    assert len(rows) >= 1 and (rows["kind"] == kind).all(), rows[["name", "kind", "kind_basis"]]


def test_the_rule_alone_finds_converters_and_switchyards(osm: Path, layers, mirror: Path) -> None:
    from siting.io import reference
    from siting.layers import plants, substation_kind

    subs = layers.substations
    units = pd.concat(
        [plants.read_gem(p, p.stem) for p in sorted((mirror / "gem").glob("*_PAK.csv"))], ignore_index=True
    )
    ends = grid._line_ends(layers.lines[layers.lines["is_hvdc"]])
    rule = substation_kind.classify(
        subs,
        ends,
        substation_kind.plant_groups(units),
        reference.table("PAK", "substation_kind_rules.csv"),
        pd.DataFrame({"osm_id": [], "kind": []}),
    )
    by_name = rule.assign(name=subs["name"], kv=subs["voltage_kv"])
    big = by_name[by_name["kv"] >= 500]
    assert (big.loc[big["name"].str.contains("HVDC Converter"), "kind"] == "hvdc_converter").all()
    assert big.loc[big["name"] == "Tarbela", "kind"].tolist() == ["plant_switchyard"]  # co-location
    assert big.loc[big["name"] == "Tarbela", "kind_basis"].tolist() == ["co-location"]
    assert big.loc[big["name"] == "Gatti", "kind"].tolist() == ["grid_station"]
    # where the rule is wrong the override table corrects it (and says why)
    assert big.loc[big["name"] == "Moro Converter Station", "kind"].tolist() == ["hvdc_converter"]


# --- voltage classifier --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier_record(processed_dir: Path) -> dict:
    return json.loads((processed_dir / "layers" / "PAK" / "provenance.json").read_text())["voltage_classifier"]


def test_classifier_coverage_and_precision_rule(layers, classifier_record) -> None:
    from siting.layers.voltage_model import MIN_PRECISION, MIN_PREDICTED

    subs = layers.substations
    assert subs["voltage_kv"].notna().mean() >= 0.95  # goal: 95 % of substations carry a voltage
    per_class = classifier_record["per_class"]
    kept = {float(k) for k, v in per_class.items() if v["kept"]}
    for k, v in per_class.items():  # a class is kept exactly when its CV precision clears the bar
        assert v["kept"] == (v["precision"] >= MIN_PRECISION and v["predicted"] >= MIN_PREDICTED), k
    assert kept == set(classifier_record["kept_kv"])
    filled = subs[subs["voltage_basis"] == "classifier"]
    assert len(filled) > 0 and set(filled["voltage_kv"]) <= kept
    left = subs[subs["voltage_basis"] == "unknown"]
    assert left["voltage_kv"].isna().all() and not set(left["voltage_predicted_kv"]) & kept
    assert classifier_record["cv_accuracy"] >= 0.9
    # the probability and the prediction are kept for every untagged station, never for a tagged one
    untagged = subs["voltage_basis"] != "tagged"
    assert subs.loc[untagged, "voltage_probability"].between(0, 1).all()
    assert subs.loc[~untagged, ["voltage_probability", "voltage_predicted_kv"]].isna().all().all()
    # tags and line ends are never overwritten by the classifier
    assert (subs.loc[subs["voltage_source"] == "inferred", "voltage_basis"] == "line end").all()


def test_prepare_is_reproducible(osm: Path, layers, mirror: Path) -> None:
    from siting.layers import voltage_model

    subs = grid.substations(osm / "substations.geojson", layers.lines, 1.0)
    from siting.layers import plants, substation_kind

    units = pd.concat(
        [plants.read_gem(p, p.stem) for p in sorted((mirror / "gem").glob("*_PAK.csv"))], ignore_index=True
    )
    again, _ = voltage_model.fill(subs, layers.lines, substation_kind.plant_groups(units))
    base = layers.substations.set_index("osm_id")
    again = again.set_index("osm_id").loc[base.index]
    for col in ("voltage_kv", "voltage_basis", "voltage_predicted_kv", "voltage_probability"):
        pd.testing.assert_series_equal(again[col], base[col], check_names=False)
