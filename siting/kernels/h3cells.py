"""H3 cell centres for arrays of cells, bit-identical to h3's ``cellToLatLng`` (h3 4.5, as h3-py 4.5 ships it).

h3-py converts one cell per Python call; this kernel converts an array in one compiled loop and returns the
same doubles, bit for bit. It follows the steps of the h3 C library, in the same floating-point operations
and order, so that every rounding happens as in the reference:

1. index → FaceIJK: the base cell's home face and ``ijk`` coordinates, then one aperture-7 step per
   resolution digit (counter-clockwise at Class III resolutions, clockwise at Class II), then, for cells that
   may lie off their base cell's face, the "overage" moves onto the neighbouring icosahedron face (with the
   pentagons' missing sub-sequence handled as h3 does);
2. FaceIJK → planar hex coordinates ``(x, y)`` on the face → polar ``(r, θ)``, scaled down by √7 per
   resolution and by the gnomonic unit, ``r = atan(r)`` (inverse gnomonic), ``θ`` made an azimuth from the
   face's i axis;
3. azimuth and distance from the face centre on the unit sphere, as h3 4.5 does it: a local
   north/east tangent basis at the face centre, the point ``cos r · p + sin r · (cos az · N + sin az · E)``,
   normalised; then ``lat = asin(z)``, ``lng = atan2(y, x)``, and degrees as h3-py makes them
   (``radians × 180/π``).

The transcendental functions are the C library's (numba calls libm's ``sin``, ``cos``, ``atan``, ``atan2``,
``asin`` as h3 does); no fused multiply-add and no reassociation (numba without ``fastmath``). The tables
are h3's own values: icosahedron face centres (unit vectors) and i-axis azimuths, each base cell's home face
and coordinates and whether it is a pentagon, and the face neighbours used by the overage step.
``tests/kernels/test_h3cells.py`` checks the result against h3-py over all resolutions, all base cells
(pentagons included) and every face. Earlier h3 releases (4.0-4.4) reached the point from the face centre
by spherical trigonometry instead, with other roundings: :data:`EXACT_FOR_H3` names the versions this
kernel stands for, and :func:`siting.model.candidates.cell_centres` calls h3-py for any other.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

# icosahedron face centres, unit vectors (x, y, z): h3's faceCenterPoint
FACE_CENTRE_XYZ = np.array(
    [
        (0.2199307791404606, 0.6583691780274996, 0.7198475378926182),
        (-0.2139234834501421, 0.1478171829550703, 0.9656017935214205),
        (0.1092625278784797, -0.481195157287321, 0.8697775121287253),
        (0.7428567301586791, -0.3593941678278028, 0.5648005936517033),
        (0.8112534709140969, 0.3448953237639384, 0.472138773641393),
        (-0.1055498149613921, 0.9794457296411413, 0.1718874610009365),
        (-0.8075407579970092, 0.1533552485898818, 0.5695261994882688),
        (-0.2846148069787907, -0.8644080972654206, 0.4144792552473539),
        (0.7405621473854482, -0.6673299564565524, -0.0789837646326737),
        (0.8512303986474293, 0.4722343788582681, -0.2289137388687808),
        (-0.7405621473854481, 0.6673299564565524, 0.0789837646326737),
        (-0.8512303986474292, -0.4722343788582682, 0.2289137388687808),
        (0.1055498149613919, -0.9794457296411413, -0.1718874610009365),
        (0.8075407579970092, -0.1533552485898819, -0.5695261994882688),
        (0.2846148069787908, 0.8644080972654204, -0.4144792552473539),
        (-0.7428567301586791, 0.3593941678278027, -0.5648005936517033),
        (-0.811253470914097, -0.3448953237639382, -0.472138773641393),
        (-0.2199307791404607, -0.6583691780274996, -0.7198475378926182),
        (0.213923483450142, -0.1478171829550704, -0.9656017935214205),
        (-0.1092625278784796, 0.481195157287321, -0.8697775121287253),
    ],
    dtype=np.float64,
)

# azimuth (radians) from each face centre to its vertex 0, the direction of the face's Class II i axis:
# the first column of h3's faceAxesAzRadsCII
FACE_I_AXIS_AZ = np.array(
    [
        5.6199582685239395, 5.7603390817141875, 0.78021365439343, 0.4304693639799999, 6.130269123335111,
        2.692877706530643, 2.982963003477244, 3.532912002790141, 3.494305004259568, 3.0032141694995382,
        5.930472956509812, 0.13837848409025486, 0.4487149470591504, 0.15862965011254937, 5.891865957979238,
        2.711123289609793, 3.294508837434268, 3.80481969224544, 3.6644388790551923, 2.361378999196363,
    ],
    dtype=np.float64,
)  # fmt: skip

# the 122 base cells: home face, then home (i, j, k) as three digits; the 12 pentagons
_BASE_FACE = """
1 2 1 2 0 1 1 2 0 2 1 1 3 3 11 4 0 6 0 2 7 2 0 6 10 6 3 11 4 3 0 4 5 0 7 11 7 10 12 6 7 4 3 3 4 6 11
8 5 14 5 12 10 4 12 7 11 10 13 10 11 9 8 6 8 9 14 5 16 8 5 12 7 12 10 9 13 16 15 15 16 14 13 5 8 14
9 14 17 12 16 17 15 16 9 15 13 8 13 17 19 14 19 17 13 17 16 9 15 15 18 18 19 17 19 18 18 19 19 18 19
18
"""
_BASE_IJK = """
100 110 000 100 200 110 001 000 100 010 010 011 100 110 200 100 000 010 001 011 001 001 110 001 200
000 000 100 110 010 011 000 010 010 010 110 000 100 200 101 101 001 001 011 010 100 000 001 001 200
000 100 110 011 110 100 010 000 200 001 001 010 010 200 000 001 100 101 011 101 100 000 200 010 010
000 100 001 011 010 010 110 110 200 100 000 101 001 001 001 000 011 001 101 100 000 000 200 010 101
010 010 011 010 001 000 100 200 101 100 011 001 001 100 000 010 101 200 100 000 101 100
"""
PENTAGON_BASE_CELLS = (4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117)

BASE_FACE = np.array(_BASE_FACE.split(), dtype=np.int64)
BASE_IJK = np.array([[int(c) for c in code] for code in _BASE_IJK.split()], dtype=np.int64)
BASE_PENTAGON = np.isin(np.arange(len(BASE_FACE)), PENTAGON_BASE_CELLS)

# face neighbours across each edge, in the order of the overage "quadrants" ij, ki, jk (h3's faceNeighbors):
# the neighbouring face, the 60° counter-clockwise rotations into its frame, and the translation (in units of
# the resolution's face scale) of the origin
FACE_NEIGHBOUR = np.array(
    [
        (4, 1, 5), (0, 2, 6), (1, 3, 7), (2, 4, 8), (3, 0, 9),
        (10, 14, 0), (11, 10, 1), (12, 11, 2), (13, 12, 3), (14, 13, 4),
        (5, 6, 15), (6, 7, 16), (7, 8, 17), (8, 9, 18), (9, 5, 19),
        (16, 19, 10), (17, 15, 11), (18, 16, 12), (19, 17, 13), (15, 18, 14),
    ],
    dtype=np.int64,
)  # fmt: skip
_CAP = (np.arange(20) < 5) | (np.arange(20) >= 15)  # the faces around the poles, the others the equatorial band
NEIGHBOUR_CCW_ROT = np.where(_CAP[:, None], [1, 5, 3], [3, 3, 3]).astype(np.int64)
NEIGHBOUR_SHIFT = np.where(
    _CAP[:, None, None], [[2, 0, 2], [2, 2, 0], [0, 2, 2]], [[2, 2, 0], [2, 0, 2], [0, 2, 2]]
).astype(np.int64)

# the h3 C library versions whose cellToLatLng this kernel reproduces (brute-force checked: its tests)
EXACT_FOR_H3 = ("4.5.0",)

MAX_RES = 15
_CW_DIGIT = np.array([0, 3, 6, 2, 5, 1, 4], dtype=np.int64)  # a digit (direction) turned 60° clockwise
_UNIT_SCALE = 7 ** np.arange(MAX_RES // 2 + 2, dtype=np.int64)  # 7^(r/2) at Class II resolution r
_UNIT = np.array([(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0)], dtype=np.int64)

# h3's double constants (the same doubles the library's long literals round to)
_EPSILON = 1e-16
_TWO_PI = 6.283185307179586
_SQRT3_2 = 0.8660254037844386  # √3 / 2
_RSQRT7 = 0.37796447300922725  # 1 / √7
_RES0_U_GNOMONIC = 0.381966011250105  # the unit length of resolution 0 on the gnomonic plane
_AP7_ROT_RADS = 0.3334731722518321  # the rotation between Class II and Class III grids
_ONE_SEVENTH = 0.14285714285714285
_RAD_TO_DEG = 57.29577951308232  # 180 / π


def cell_centres(cells: ArrayLike) -> NDArray[np.float64]:
    """Centres ``(lat, lng)`` in degrees of valid H3 cells (integers), shape ``(n, 2)``.

    The same doubles as ``h3.api.basic_int.cell_to_latlng`` for each cell; the cells are not validated
    (pass H3 cell indexes, as ``h3.uncompact_cells`` gives).
    """
    v = np.ascontiguousarray(np.asarray(cells).astype(np.uint64).ravel()).view(np.int64)
    out = np.empty((len(v), 2), dtype=np.float64)
    parts = min(_cores(), 2) if len(v) >= SPLIT_ABOVE else 1
    if parts > 1:  # the compiled loop releases the GIL: halves in two threads
        cut = len(v) // 2
        with ThreadPoolExecutor(parts) as pool:
            list(pool.map(_centres, (v[:cut], v[cut:]), (out[:cut], out[cut:])))
    elif len(v):
        _centres(v, out)
    return out


SPLIT_ABOVE = 200_000  # cells from which cell_centres runs in two threads


def _cores() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def hex_digits(cells: ArrayLike) -> NDArray[np.uint8]:
    """Return the 15 lower-case hex digits (ASCII) of each H3 cell index, shape ``(n, 15)``: its ``"%x"``.

    A cell index has 15 hex digits (bits 59-62 hold mode 1, the top four bits are then zero).
    """
    v = np.ascontiguousarray(np.asarray(cells).astype(np.uint64).ravel())
    out = np.empty((len(v), 15), dtype=np.uint8)
    _hex_digits(v, out)
    return out


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).copy()


@numba.njit(nogil=True, cache=True)
def _hex_digits(cells: NDArray[np.uint64], out: NDArray[np.uint8]) -> None:  # pragma: no cover - compiled
    for n in range(len(cells)):
        h = cells[n]
        for d in range(15):
            out[n, 14 - d] = _HEX[(h >> np.uint64(4 * d)) & np.uint64(15)]


@numba.njit(nogil=True, cache=True)
def _centres(cells: NDArray[np.int64], out: NDArray[np.float64]) -> None:  # pragma: no cover - compiled
    """Fill ``out[n] = (lat, lng)`` in degrees for each cell, in h3's operations and order."""
    for n in range(len(cells)):
        h = cells[n]
        res = (h >> 52) & 15
        face, a, b = _face_ijk(h)
        # planar hex coordinates on the face, then polar
        fb = float(b)
        x = float(a) - 0.5 * fb
        y = fb * _SQRT3_2
        r = np.sqrt(x * x + y * y)
        px, py, pz = FACE_CENTRE_XYZ[face, 0], FACE_CENTRE_XYZ[face, 1], FACE_CENTRE_XYZ[face, 2]
        if r < _EPSILON:  # the face centre itself
            ox, oy, oz = px, py, pz
        else:
            theta = np.arctan2(y, x)
            for _ in range(res):
                r *= _RSQRT7
            r = np.arctan(r * _RES0_U_GNOMONIC)
            if res % 2:
                theta = _pos_angle(theta + _AP7_ROT_RADS)
            az = _pos_angle(FACE_I_AXIS_AZ[face] - theta)
            # tangent basis at the face centre: north (the pole direction less its component along p), east
            nd = -((px * 0.0 + py * 0.0) + pz)
            nx, ny, nz = nd * px + 0.0, nd * py + 0.0, nd * pz + 1.0
            norm = np.sqrt((nx * nx + ny * ny) + nz * nz)
            inv = 1.0 / norm if norm > 0.0 else 0.0
            nx, ny, nz = nx * inv, ny * inv, nz * inv
            ex, ey, ez = pz * ny - py * nz, px * nz - pz * nx, nx * py - ny * px
            sr, cr = np.sin(r), np.cos(r)
            sa, ca = np.sin(az), np.cos(az)
            ox = (ex * sa + nx * ca) * sr + px * cr
            oy = (ey * sa + ny * ca) * sr + py * cr
            oz = (ez * sa + nz * ca) * sr + pz * cr
            norm = np.sqrt((ox * ox + oy * oy) + oz * oz)
            inv = 1.0 / norm if norm > 0.0 else 0.0
            ox, oy, oz = ox * inv, oy * inv, oz * inv
        out[n, 0] = np.arcsin(oz) * _RAD_TO_DEG
        out[n, 1] = np.arctan2(oy, ox) * _RAD_TO_DEG


@numba.njit(nogil=True, cache=True)
def _face_ijk(h: int) -> tuple[int, int, int]:  # pragma: no cover - compiled; exercised through cell_centres
    """Face and axial coordinates ``(i - k, j - k)`` of a cell at its own resolution (h3's ``_h3ToFaceIjk``)."""
    res = (h >> 52) & 15
    base = (h >> 45) & 127
    pent = BASE_PENTAGON[base]
    if pent and _leading_digit(h, res) == 5:  # the pentagon's missing sub-sequence: turn the digits clockwise
        for r in range(1, res + 1):
            s = (MAX_RES - r) * 3
            h = (h & ~(7 << s)) | (_CW_DIGIT[(h >> s) & 7] << s)
    face = BASE_FACE[base]
    i, j, k = BASE_IJK[base, 0], BASE_IJK[base, 1], BASE_IJK[base, 2]
    overage = pent or not (res == 0 or (i == 0 and j == 0 and k == 0))
    # The aperture-7 steps and digit moves are linear and carry (1, 1, 1) onto a multiple of it, so they
    # run on the axial coordinates a = i - k, b = j - k, which h3's IJK+ normal form leaves unchanged.
    a, b = i - k, j - k
    for r in range(1, res + 1):
        if r % 2:  # Class III: aperture 7 counter-clockwise
            a, b = 2 * a + b, 3 * b - a
        else:  # Class II: aperture 7 clockwise
            a, b = 3 * a - b, a + 2 * b
        d = (h >> ((MAX_RES - r) * 3)) & 7
        a += _UNIT[d, 0] - _UNIT[d, 2]
        b += _UNIT[d, 1] - _UNIT[d, 2]
    if overage:
        face, a, b = _overage(face, a, b, res, pent, pent and _leading_digit(h, res) == 4)
    return face, a, b


@numba.njit(nogil=True, cache=True)
def _overage(face: int, a: int, b: int, res: int, pent: bool, lead4: bool) -> tuple[int, int, int]:  # pragma: no cover
    """Move a cell beyond its base cell's face onto the neighbouring face (h3's ``_adjustOverageClassII``)."""
    i, j, k = _normalise(a, b, 0)
    if res % 2:  # into the next finer Class II grid (aperture 7 clockwise)
        i, j, k = _normalise(3 * i + k, i + 3 * j, j + 3 * k)
    scale = _UNIT_SCALE[(res + 1) // 2]  # 7^(res/2): a resolution-0 face unit at this Class II resolution
    max_dim = 2 * scale  # the face's edge: i + j + k beyond it is on the next face
    moved = False
    while i + j + k > max_dim:
        if k > 0:
            if j > 0:
                q = 2  # jk
            else:
                q = 1  # ki
                if lead4:  # turn 60° clockwise about the pentagon's centre (max_dim, 0, 0)
                    ti, tj, tk = _normalise(i - max_dim + j, j + k, i - max_dim + k)
                    i, j, k = ti + max_dim, tj, tk
        else:
            q = 0  # ij
        for _ in range(NEIGHBOUR_CCW_ROT[face, q]):
            i, j, k = _normalise(i + k, i + j, j + k)  # 60° counter-clockwise
        t = NEIGHBOUR_SHIFT[face, q]
        i, j, k = _normalise(i + t[0] * scale, j + t[1] * scale, k + t[2] * scale)
        face = FACE_NEIGHBOUR[face, q]
        moved = True
        lead4 = False
        if not pent:  # only a pentagon's cells can be over a second edge
            break
    if not moved:
        return face, a, b
    if res % 2:  # back to the cell's Class III resolution (aperture 7 clockwise, up), as C's lround
        ci, cj = i - k, j - k
        i = int(np.floor(float(2 * ci + cj) * _ONE_SEVENTH + 0.5))
        j = int(np.floor(float(3 * cj - ci) * _ONE_SEVENTH + 0.5))
        return face, i, j
    return face, i - k, j - k


@numba.njit(nogil=True, cache=True)
def _normalise(i: int, j: int, k: int) -> tuple[int, int, int]:  # pragma: no cover - compiled
    """IJK+ normal form (h3's ``_ijkNormalize``): the same point with no negative and at least one zero."""
    m = min(i, j, k)
    return i - m, j - m, k - m


@numba.njit(nogil=True, cache=True)
def _leading_digit(h: int, res: int) -> int:  # pragma: no cover - compiled
    """First non-zero digit of a cell index, 0 for none."""
    for r in range(1, res + 1):
        d = (h >> ((MAX_RES - r) * 3)) & 7
        if d:
            return d
    return 0


@numba.njit(nogil=True, cache=True)
def _pos_angle(a: float) -> float:  # pragma: no cover - compiled
    """Bring an angle in radians into [0, 2π) as h3 does (one turn added or removed)."""
    t = a + _TWO_PI if a < 0.0 else a
    if a >= _TWO_PI:
        t -= _TWO_PI
    return t
