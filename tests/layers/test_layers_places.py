"""GeoNames populated places against the raw CSV."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from siting._errors import DataError
from siting.layers import places


@pytest.fixture(scope="module")
def raw(mirror: Path) -> pd.DataFrame:
    return pd.read_csv(mirror / "geonames" / "cities500_PAK.csv")


def test_every_place_with_its_coordinates(layers, raw: pd.DataFrame) -> None:
    p = layers.places
    assert len(p) == len(raw) == 572  # mirror README
    assert p["geonameid"].is_unique
    ref = raw.set_index("geonameid").loc[p["geonameid"]]
    assert np.array_equal(p.geometry.x.to_numpy(), ref["longitude"].to_numpy())
    assert np.array_equal(p.geometry.y.to_numpy(), ref["latitude"].to_numpy())
    assert p["name"].tolist() == ref["name"].tolist()
    assert np.array_equal(p["population"].to_numpy(), ref["population"].astype(float).to_numpy())


def test_places_are_largest_first(layers, raw: pd.DataFrame) -> None:
    p = layers.places
    assert p["population"].is_monotonic_decreasing
    assert p["name"].iloc[0] == raw.loc[raw["population"].idxmax(), "name"]


def test_places_lie_in_the_province_geonames_names(layers, raw: pd.DataFrame) -> None:
    # GeoNames' own admin-1 labels are an independent check that each province code sits on the right polygon
    admin1 = {
        "Punjab": "PK-PB",
        "Sindh": "PK-SD",
        "Khyber Pakhtunkhwa": "PK-KP",
        "Balochistan": "PK-BA",
        "Islamabad": "PK-IS",
        "Gilgit-Baltistan": "PK-GB",
        "Azad Kashmir": "PK-JK",
    }
    pts = gpd.GeoDataFrame(
        {"expected": raw["admin1_name_derived"].map(admin1)},
        geometry=gpd.points_from_xy(raw["longitude"], raw["latitude"]),
        crs=4326,
    )
    assert pts["expected"].notna().all()
    joined = gpd.sjoin(pts, layers.provinces[["iso_3166_2", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    inside = joined["iso_3166_2"].notna()
    assert inside.mean() > 0.99
    agree = joined.loc[inside, "iso_3166_2"] == joined.loc[inside, "expected"]
    assert agree.mean() > 0.98, joined.loc[inside & ~agree, ["expected", "iso_3166_2"]].value_counts()
    # and for every province separately (a swapped pair of codes would fail here)
    per_province = agree.groupby(joined.loc[inside, "expected"]).mean()
    assert len(per_province) == 7
    assert (per_province > 0.9).all(), per_province


def test_places_without_population_column_is_refused(tmp_path: Path, raw: pd.DataFrame) -> None:
    path = tmp_path / "cities.csv"
    raw.drop(columns=["population"]).to_csv(path, index=False)
    with pytest.raises(DataError, match="population"):
        places.places(path)
