"""What the page with weights carries, decoded in Python: the same values, cells and grid as the scores."""

from __future__ import annotations

import base64
import json
import zlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from siting.config import load_profile
from siting.decide import sensitivity
from siting.decide.scoring import value_matrix
from siting.fields import F
from siting.kernels import mcda
from siting.outputs.maps import score_colormap
from siting.outputs.maps.raster import cell_grid, grid_score_image, score_image
from siting.outputs.maps.weights import WeightsPayload, payload, quantised_values


def _unpack(text: str, dtype) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.dtype(dtype).newbyteorder("<"))


@pytest.fixture(scope="module")
def table() -> gpd.GeoDataFrame:
    """Twelve hexagon-ish squares in two provinces, with every criterion of the default profile."""
    profile = load_profile("bitcoin_mining")
    rng = np.random.default_rng(3)
    n = 12
    cells = [f"87{i:013x}" for i in rng.permutation(n)]  # unsorted ids: the page sorts them
    geoms = [shapely.box(67 + 0.1 * (i % 4), 25 + 0.1 * (i // 4), 67.09 + 0.1 * (i % 4), 25.09 + 0.1 * (i // 4))
             for i in range(n)]  # fmt: skip
    data = {F.CELL: cells, F.ISO_3166_2: ["PK-SD"] * 6 + ["PK-BA"] * 6, F.SCORE: rng.uniform(0, 100, n)}
    for name in profile.criteria:
        data[name] = rng.uniform(0, 60, n)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4326)


def test_the_payload_decodes_to_the_quantised_values_in_h3_order(table) -> None:
    profile = load_profile("bitcoin_mining")
    grid = cell_grid(table, 2000.0)
    image = grid_score_image(table, grid, score_colormap())
    provinces = pd.DataFrame({F.ISO_3166_2: ["PK-SD", "PK-BA"], F.PROVINCE: ["Sindh", "</script><b>x"]})
    share = pd.Series(np.linspace(0, 1, len(table)), index=table[F.CELL])
    data = payload(table, grid, image, profile, None, provinces, score_colormap(), share).data
    order = np.argsort(table[F.CELL].to_numpy())
    k = len(profile.criteria)
    codes = _unpack(data["values"], np.uint16).reshape(k, len(table)).T
    assert np.array_equal(codes / 65535.0, quantised_values(value_matrix(table, profile))[order])
    assert np.abs(codes / 65535.0 - value_matrix(table, profile)[order]).max() <= 0.5 / 65535 + 1e-12
    ids = np.cumsum(_unpack(data["cells"], np.uint64))
    assert [f"{i:x}" for i in ids] == list(table[F.CELL].to_numpy()[order])
    prov = _unpack(data["province"], np.uint8)
    assert [data["provinces"][p]["iso"] for p in prov] == list(table[F.ISO_3166_2].to_numpy()[order])
    pixels = _unpack(data["grid"]["index"], np.uint32).reshape(data["grid"]["height"], data["grid"]["width"])
    # each pixel names, in page order, the cell the score image coloured there
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    assert np.array_equal(pixels[grid.index > 0] - 1, position[grid.index[grid.index > 0] - 1])
    assert data["grid"]["bounds"] == image.bounds
    assert np.array_equal(_unpack(data["top_share"], np.uint8), np.rint(share.to_numpy()[order] * 100))
    assert [c["weight"] for c in data["criteria"]] == [c.weight for c in profile.criteria.values()]
    text = WeightsPayload(data).json()
    assert "</script" not in text and "<b>" not in text
    assert {p["iso"]: p["name"] for p in json.loads(text)["provinces"]}["PK-BA"] == "</script><b>x"


def test_the_score_image_is_unchanged_by_the_shared_grid(table) -> None:
    a = score_image(table, 2000.0, score_colormap())
    b = grid_score_image(table, cell_grid(table, 2000.0), score_colormap())
    assert a.png == b.png and a.bounds == b.bounds


def test_the_cell_top_share_follows_the_draws() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, (400, 3))
    w = np.array([0.5, 0.3, 0.2])
    base = 100 * mcda.weighted_sum(values, w)
    top = base >= np.sort(base)[-20]
    sharp = sensitivity.cell_top_share(values, w, "weighted_sum", runs=40, concentration=1e7)
    assert np.array_equal(sharp == 1.0, top) and set(np.unique(sharp)) <= {0.0, 1.0}
    loose = sensitivity.cell_top_share(values, w, "topsis", runs=60, concentration=5.0)
    assert 0 < loose.max() <= 1 and loose.sum() == pytest.approx(20, abs=1)  # 5 % of 400 a draw
