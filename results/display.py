"""Reducing a field to what a screen can show, before it is plotted (pure: numpy only).

A 0.25x0.3125 map is 721x1152 cells and a C180 cube 194,400; a figure a browser draws well has a
few hundred thousand at most. `for_display` takes area-weighted block means on the file's own grid
(no regridding), so a large file costs its one slice read and a fast reshape-mean, and the page
receives a payload sized to the screen.
"""

from __future__ import annotations

import collections
import dataclasses
import math

import numpy as np

from results.cubesphere import unit_vectors
from results.readers import Field, Geometry, geometry_fingerprint

def for_display(field: Field, *, max_latlon: tuple[int, int] = (361, 720), max_cs: int = 48) -> Field:
    """The field reduced to at most `max_latlon` (rows, columns) cells on a lat-lon grid or C`max_cs`
    on the cube, by area-weighted, NaN-aware means over k x k blocks of cells; the field itself if
    it is already that small.

    Why: a screen cannot show more cells than it has pixels for (a 0.25x0.3125 map is 721x1152, a
    C180 one 194,400 cells), and the browser should receive a payload sized to the screen, not to
    the model. The area-weighted mean over any union of blocks, the global mean above all, is kept
    (exactly, up to rounding, when no value is missing; a block's mean is over its cells that have a
    value, and a block with none is NaN).

    Lat-lon: k is the smallest integer that brings both dimensions within the limits (the same k
    for rows and columns, so cells keep their shape); the last block of a dimension that k does not
    divide is smaller (721 rows in 2-row blocks: 360 pairs and the polar row alone). Edges are the
    original edges every k (and the last), centres the middle of the new edges, areas the sums.

    Cubed sphere: blocks stay within a face, so the result is again six N/k x N/k faces: k is the
    smallest integer with N/k <= max_cs that divides N (C180 -> C45 with k = 4, C90 -> C45 with
    k = 2), as long as it keeps more than half of max_cs; otherwise (a prime N) the smallest k that
    fits, with a smaller last block along each face edge. Corners are the original corners every k
    (and the last), centres the normalised mean of each new cell's four corners (as GCHP's), areas
    the sums. The new grid's resolution says it is the original in k x k blocks, so `same_grid`
    never takes it for a model grid.

    Vectorised block sums (no loop over cells): it sits on the map path. The reduced geometry is
    computed once per geometry object and k and shared by the fields reduced with it: treat it as
    read-only."""
    grid = field.geometry.grid
    if grid.kind == "latlon":
        nlat, nlon = grid.shape
        k = max(1, math.ceil(nlat / max_latlon[0]), math.ceil(nlon / max_latlon[1]))
    else:
        k = _cube_block(grid.shape[-1], max_cs)
    if k == 1:
        return field
    geometry = _reduced_geometry(field.geometry, k)
    values = _block_means(field.values, _usable_area(field.geometry.area), k, geometry.area)
    return dataclasses.replace(field, values=values, geometry=geometry)


# The reduced geometry depends only on the grid and k, and costs more than the values on the cube
# (trigonometry on every new corner): a page drawing Ref, Dev and their difference reduces several
# fields of one Reader's geometry. Keyed by id() with a weak reference to tell a reused id apart.
_REDUCED: collections.OrderedDict = collections.OrderedDict()
_REDUCED_KEEP = 8


def _reduced_geometry(geometry: Geometry, k: int) -> Geometry:
    # The same grid with the same areas (a test may hand in other areas on the same coordinates).
    key = (geometry_fingerprint(geometry), float(np.nansum(geometry.area)), k)
    cached = _REDUCED.get(key)
    if cached is not None:
        _REDUCED.move_to_end(key)
        return cached
    area = _block_sums(_usable_area(geometry.area), k)
    reduced = _latlon_blocks(geometry, k, area) if geometry.grid.kind == "latlon" else _cube_blocks(geometry, k, area)
    _REDUCED[key] = reduced
    while len(_REDUCED) > _REDUCED_KEEP:
        _REDUCED.popitem(last=False)
    return reduced


def _usable_area(area: np.ndarray) -> np.ndarray:
    """Areas with missing ones (a masked AREA) as zero, so that they weigh nothing."""
    area = np.asarray(area, dtype=float)
    return area if np.isfinite(area).all() else np.where(np.isfinite(area), area, 0.0)


def _cube_block(n: int, max_cs: int) -> int:
    smallest = max(1, math.ceil(n / max_cs))
    for k in range(smallest, 2 * smallest):
        if n % k == 0:
            return k
    return smallest


def _block_means(values: np.ndarray, area: np.ndarray, k: int, total: np.ndarray) -> np.ndarray:
    """Area-weighted NaN-aware means over k x k blocks of the last two axes (the last block of
    each axis holding what is left), given the blocks' `total` area; missing values weigh nothing."""
    values = np.asarray(values, dtype=float)
    good = np.isfinite(values)
    if good.all():  # the usual case: skip the masking passes
        weighted, present = _block_sums(values * area, k), total
    else:
        weights = np.where(good, area, 0.0)
        weighted, present = _block_sums(np.where(good, values, 0.0) * weights, k), _block_sums(weights, k)
    return np.divide(weighted, present, out=np.full(present.shape, np.nan), where=present > 0)


def _block_sums(x: np.ndarray, k: int) -> np.ndarray:
    """Sums over k x k blocks of the last two axes, the last block of an axis that k does not
    divide being shorter. Adding the k strided slices along each axis (a loop over k, not over
    cells) is several times faster than reshape(..., k, ..., k).sum(), whose reduction over short
    axes numpy does not vectorise well, and needs no padded copy for ragged blocks."""
    rows = x[..., 0::k, :].copy()
    for i in range(1, k):
        part = x[..., i::k, :]
        rows[..., :part.shape[-2], :] += part
    out = rows[..., 0::k].copy()
    for i in range(1, k):
        part = rows[..., i::k]
        out[..., :part.shape[-1]] += part
    return out


def _every(edges: np.ndarray, k: int, axis: int = 0) -> np.ndarray:
    """Edges (or corners) every k along `axis`, and the last one when k does not divide."""
    n = edges.shape[axis] - 1
    index = np.arange(0, n + 1, k)
    if index[-1] != n:
        index = np.append(index, n)
    return np.take(edges, index, axis=axis)


def _latlon_blocks(geometry: Geometry, k: int, area: np.ndarray) -> Geometry:
    lat_edges = _every(np.asarray(geometry.lat_edges, float), k)
    lon_edges = _every(np.asarray(geometry.lon_edges, float), k)
    grid = dataclasses.replace(geometry.grid, resolution=f"{geometry.grid.resolution} in {k}x{k} blocks",
                               shape=area.shape)
    return Geometry(grid, area, lat=0.5 * (lat_edges[:-1] + lat_edges[1:]), lon=0.5 * (lon_edges[:-1] + lon_edges[1:]),
                    lat_edges=lat_edges, lon_edges=lon_edges)


def _cube_blocks(geometry: Geometry, k: int, area: np.ndarray) -> Geometry:
    corner_lons = _every(_every(np.asarray(geometry.corner_lons, float), k, axis=1), k, axis=2)
    corner_lats = _every(_every(np.asarray(geometry.corner_lats, float), k, axis=1), k, axis=2)
    p = unit_vectors(corner_lons, corner_lats)
    middle = p[:, :-1, :-1] + p[:, :-1, 1:] + p[:, 1:, 1:] + p[:, 1:, :-1]
    middle /= np.linalg.norm(middle, axis=-1, keepdims=True)
    lons = np.rad2deg(np.arctan2(middle[..., 1], middle[..., 0])) % 360.0
    lons = np.where(np.abs(middle[..., 2]) > 1 - 1e-14, 0.0, lons)  # a pole has no longitude: 0, as GCHP's
    lats = np.rad2deg(np.arcsin(np.clip(middle[..., 2], -1.0, 1.0)))
    n = area.shape[-1]
    grid = dataclasses.replace(geometry.grid, resolution=f"C{geometry.grid.cs_res} in {k}x{k} blocks",
                               shape=area.shape, cs_res=n)
    return Geometry(grid, area, lats=lats, lons=lons, corner_lats=corner_lats, corner_lons=corner_lons)


# --- Colour scales ----------------------------------------------------------------------------------

