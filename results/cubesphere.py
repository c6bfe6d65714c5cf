"""GCHP's cubed sphere: the geometry of an unstretched CN cube, and cell areas from corners.

Needed where a file does not say where its cells are (GCHP checkpoints stack the six faces as
lat = 6N with no coordinates) and for the area weights of any cube (MAPL diagnostics carry no
AREA). The grid is FV3's gnomonic "equal-edge" cube rotated 10 degrees west, faces in MAPL's order
and orientation (shared/GEOSCHEM.md section 4; checked against the demo model's files, which
follow gcpy's csgrid_GMAO, in tests/results/test_readers.py).
"""

import math

import numpy as np

EARTH_RADIUS_M = 6.371e6  # MAPL_RADIUS
ROTATION_DEG = -10.0
# (centre, X direction, Y direction) of each face before the rotation, as unit vectors.
_FRAMES = (((1, 0, 0), (0, 1, 0), (0, 0, 1)), ((0, 1, 0), (-1, 0, 0), (0, 0, 1)),
           ((0, 0, 1), (-1, 0, 0), (0, -1, 0)), ((-1, 0, 0), (0, 0, -1), (0, -1, 0)),
           ((0, -1, 0), (0, 0, -1), (1, 0, 0)), ((0, 0, -1), (0, 1, 0), (1, 0, 0)))


def _edge_coordinates(n: int) -> np.ndarray:
    beta = math.asin(1.0 / math.sqrt(3.0))
    coords = math.sqrt(2.0) * np.tan(-beta + 2.0 * beta * np.arange(n + 1) / n)
    coords = 0.5 * (coords - coords[::-1])
    coords[0], coords[-1] = -1.0, 1.0
    return coords


def _points(xi: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Unit vectors (6, len(eta), len(xi), 3) at cube-face coordinates, rotated like GCHP's cube."""
    out = np.empty((6, eta.size, xi.size, 3))
    for f, (c, ex, ey) in enumerate(_FRAMES):
        c, ex, ey = (np.asarray(v, float) for v in (c, ex, ey))
        p = c + xi[None, :, None] * ex + eta[:, None, None] * ey
        out[f] = p / np.linalg.norm(p, axis=-1, keepdims=True)
    a = math.radians(ROTATION_DEG)
    x, y = out[..., 0].copy(), out[..., 1].copy()
    out[..., 0], out[..., 1] = math.cos(a) * x - math.sin(a) * y, math.sin(a) * x + math.cos(a) * y
    return out


def _lonlat(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.rad2deg(np.arctan2(xyz[..., 1], xyz[..., 0])) % 360.0
    lat = np.rad2deg(np.arcsin(np.clip(xyz[..., 2], -1.0, 1.0)))
    return np.where(np.abs(xyz[..., 2]) > 1 - 1e-14, 0.0, lon), lat


def corners(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(corner_lons, corner_lats), each (6, N+1, N+1), degrees east in [0, 360) and north."""
    g = _edge_coordinates(n)
    return _lonlat(_points(g, g))


def centres(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(lons, lats), each (6, N, N): the normalised mean of each cell's corners."""
    g = _edge_coordinates(n)
    p = _points(g, g)
    mean = p[:, :-1, :-1] + p[:, :-1, 1:] + p[:, 1:, 1:] + p[:, 1:, :-1]
    return _lonlat(mean / np.linalg.norm(mean, axis=-1, keepdims=True))


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 3) of points given in degrees."""
    lon, lat = np.deg2rad(lon), np.deg2rad(lat)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _triangle(a, b, c):
    num = np.abs(np.einsum("...i,...i->...", a, np.cross(b, c)))
    den = 1 + np.einsum("...i,...i->...", a, b) + np.einsum("...i,...i->...", b, c) + np.einsum("...i,...i->...", c, a)
    return 2 * np.arctan2(num, den)


def cell_areas(corner_lons: np.ndarray, corner_lats: np.ndarray, radius: float = EARTH_RADIUS_M) -> np.ndarray:
    """Areas (6, N, N) in m2 of the spherical quadrilaterals between the corners."""
    p = unit_vectors(corner_lons, corner_lats)
    sw, se, ne, nw = p[:, :-1, :-1], p[:, :-1, 1:], p[:, 1:, 1:], p[:, 1:, :-1]
    return (_triangle(sw, se, ne) + _triangle(sw, ne, nw)) * radius ** 2
