"""The compiled H3 cell centres against h3-py, bit for bit, over every resolution, face and pentagon."""

from __future__ import annotations

import h3
import h3.api.basic_int as h3b
import h3.api.numpy_int as h3i
import numpy as np
import pytest

from siting.kernels import h3cells

pytestmark = pytest.mark.skipif(
    h3.versions()["c"] not in h3cells.EXACT_FOR_H3,
    reason=f"h3 {h3.versions()['c']}: candidates.cell_centres uses h3-py itself, not the kernel",
)


def h3py_centres(cells: np.ndarray) -> np.ndarray:
    return np.array([h3b.cell_to_latlng(int(c)) for c in cells], dtype=np.float64).reshape(-1, 2)


def assert_bit_identical(cells: np.ndarray) -> None:
    got = h3cells.cell_centres(cells)
    ref = h3py_centres(cells)
    same = (got.view(np.int64) == ref.view(np.int64)).all(axis=1)
    if not same.all():
        bad = np.flatnonzero(~same)[:5]
        pytest.fail(f"{(~same).sum()} of {len(cells)} differ, e.g. {[hex(int(c)) for c in cells[bad]]}")


def random_cells(rng: np.random.Generator, res: int, n: int) -> np.ndarray:
    """Cells of uniform random points on the sphere."""
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lng = rng.uniform(-180.0, 180.0, n)
    return np.unique([h3b.latlng_to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)]).astype(np.uint64)


@pytest.mark.parametrize("res", range(16))
def test_random_cells_of_every_resolution_match_h3py_bit_for_bit(res: int) -> None:
    cells = random_cells(np.random.default_rng(res), res, 4000)
    # every icosahedron face is visited at every resolution
    assert {f for c in cells for f in h3b.get_icosahedron_faces(int(c))} == set(range(20))
    assert_bit_identical(cells)


@pytest.mark.parametrize("res", range(16))
def test_pentagons_and_the_cells_around_them_match_h3py(res: int) -> None:
    pentagons = np.array(h3b.get_pentagons(res), dtype=np.uint64)
    around = np.unique(np.concatenate([h3i.grid_disk(p, 2) for p in pentagons]))
    assert_bit_identical(np.union1d(pentagons, around))


def test_every_cell_to_resolution_2_and_pentagon_descendants_match_h3py() -> None:
    res0 = np.array(h3b.get_res0_cells(), dtype=np.uint64)
    every = np.concatenate([h3i.uncompact_cells(res0, r) for r in range(3)])
    assert len(every) == 122 + 842 + 5882
    # every descendant, three resolutions down, of each pentagon at resolutions 0 and 5: the deleted
    # sub-sequence and the overage onto neighbouring faces
    pent = [p for r in (0, 5) for p in h3b.get_pentagons(r)]
    desc = np.concatenate([h3i.cell_to_children(np.uint64(p), h3b.get_resolution(p) + 3) for p in pent])
    assert_bit_identical(np.concatenate([every, desc]))


def test_every_res8_cell_of_a_pakistan_block_matches_h3py() -> None:
    """All res-8 cells under a res-3 cell on the Indus (Sindh), as candidates draws them."""
    parent = np.uint64(h3b.latlng_to_cell(26.0, 68.5, 3))
    cells = h3i.cell_to_children(parent, 8)
    assert len(cells) == 7**5
    assert_bit_identical(cells)


def test_shape_and_empty_input() -> None:
    assert h3cells.cell_centres(np.zeros(0, dtype=np.uint64)).shape == (0, 2)
    one = np.array([h3b.latlng_to_cell(33.7, 73.1, 9)], dtype=np.uint64)
    np.testing.assert_array_equal(h3cells.cell_centres(one), h3py_centres(one))
