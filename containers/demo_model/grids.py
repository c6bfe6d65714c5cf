"""The grids the demo model runs on: GEOS-Chem's lat-lon grids, GCHP's cubed sphere, and the
GEOS-Chem hybrid sigma-pressure levels.

Every grid is turned into the same plain description (``Grid``): cells with areas and centres,
the corner vertices the cells share, and the list of cell faces ("edges") between neighbouring
cells. Transport (physics.py) only ever sees that description, so one mass-conserving scheme
serves lat-lon and cubed-sphere grids alike.

Sources (checked through the search tool, see README.md):
- Hybrid Ap/Bp: geoschem/geos-chem ``GeosUtil/pressure_mod.F90`` (Init_Pressure), 72 levels and
  the 47-level reduced grid. Copied as numbers, not invented.
- Lat-lon layout: geoschem/geos-chem ``GeosUtil/gc_grid_mod.F90`` (Compute_Grid): half-size
  polar boxes for GMAO met fields, longitudes centred on -180, nested grids keep the global
  grid's boxes whose centres fall inside the requested range.
- Cubed sphere: FV3's gnomonic "equal-edge" grid (``gnomonic_ed``: equal arcs along the cube's
  edges, interior points on the cube-face tensor product), rotated 10 degrees west so face 1 is
  centred on 350E. Face order and orientation follow MAPL's CubedSphereGridFactory ``contacts``
  table (neighbour faces left/top/right/bottom: 1:[5,3,2,6], 2:[1,3,4,6], 3:[1,5,4,2],
  4:[3,5,6,2], 5:[3,1,6,4], 6:[5,1,2,4]) and agree with gcpy's ``csgrid_GMAO``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# GEOS-Chem's Earth radius (PhysConstants, Re = 6.375e6 m) for lat-lon areas; MAPL uses its own
# (MAPL_RADIUS = 6371 km) for the cubed sphere.
EARTH_RADIUS_GC = 6.375e6
EARTH_RADIUS_MAPL = 6.371e6

# ---------------------------------------------------------------------------------------------
# Vertical: GEOS-Chem hybrid coefficients (pressure_mod.F90). Ap in hPa, Bp unitless, at level
# edges from the surface (index 0) to the top of the atmosphere.
# ---------------------------------------------------------------------------------------------
AP72 = np.array([
    0.000000e+00, 4.804826e-02, 6.593752e+00, 1.313480e+01, 1.961311e+01, 2.609201e+01,
    3.257081e+01, 3.898201e+01, 4.533901e+01, 5.169611e+01, 5.805321e+01, 6.436264e+01,
    7.062198e+01, 7.883422e+01, 8.909992e+01, 9.936521e+01, 1.091817e+02, 1.189586e+02,
    1.286959e+02, 1.429100e+02, 1.562600e+02, 1.696090e+02, 1.816190e+02, 1.930970e+02,
    2.032590e+02, 2.121500e+02, 2.187760e+02, 2.238980e+02, 2.243630e+02, 2.168650e+02,
    2.011920e+02, 1.769300e+02, 1.503930e+02, 1.278370e+02, 1.086630e+02, 9.236572e+01,
    7.851231e+01, 6.660341e+01, 5.638791e+01, 4.764391e+01, 4.017541e+01, 3.381001e+01,
    2.836781e+01, 2.373041e+01, 1.979160e+01, 1.645710e+01, 1.364340e+01, 1.127690e+01,
    9.292942e+00, 7.619842e+00, 6.216801e+00, 5.046801e+00, 4.076571e+00, 3.276431e+00,
    2.620211e+00, 2.084970e+00, 1.650790e+00, 1.300510e+00, 1.019440e+00, 7.951341e-01,
    6.167791e-01, 4.758061e-01, 3.650411e-01, 2.785261e-01, 2.113490e-01, 1.594950e-01,
    1.197030e-01, 8.934502e-02, 6.600001e-02, 4.758501e-02, 3.270000e-02, 2.000000e-02,
    1.000000e-02,
])
BP72 = np.array([
    1.000000e+00, 9.849520e-01, 9.634060e-01, 9.418650e-01, 9.203870e-01, 8.989080e-01,
    8.774290e-01, 8.560180e-01, 8.346609e-01, 8.133039e-01, 7.919469e-01, 7.706375e-01,
    7.493782e-01, 7.211660e-01, 6.858999e-01, 6.506349e-01, 6.158184e-01, 5.810415e-01,
    5.463042e-01, 4.945902e-01, 4.437402e-01, 3.928911e-01, 3.433811e-01, 2.944031e-01,
    2.467411e-01, 2.003501e-01, 1.562241e-01, 1.136021e-01, 6.372006e-02, 2.801004e-02,
    6.960025e-03, 8.175413e-09,
] + [0.0] * 41)

# The 47-level grid is the 72-level grid with levels above level 36 lumped: 4 pairs, then 7
# groups of 4 (pressure_mod.F90, "START LUMPING LEVELS ABOVE HERE"). Each entry is the number of
# native levels in one reduced level.
LUMP47 = [1] * 36 + [2] * 4 + [4] * 7
_EDGE_INDEX_47 = np.concatenate([[0], np.cumsum(LUMP47)])
AP47 = AP72[_EDGE_INDEX_47]
BP47 = BP72[_EDGE_INDEX_47]


@dataclass(frozen=True)
class Vertical:
    """Hybrid levels: ``ap`` (hPa) and ``bp`` at ``nlev + 1`` edges, surface first."""

    nlev: int
    ap: np.ndarray
    bp: np.ndarray

    def edge_pressure(self, ps_hpa: float) -> np.ndarray:
        """Pressure (hPa) at level edges for surface pressure ``ps_hpa``, surface first."""
        return self.ap + self.bp * ps_hpa

    @property
    def hyam(self) -> np.ndarray:
        return 0.5 * (self.ap[:-1] + self.ap[1:])

    @property
    def hybm(self) -> np.ndarray:
        return 0.5 * (self.bp[:-1] + self.bp[1:])


def vertical_grid(levels: int) -> Vertical:
    """GEOS-Chem's 72-level or 47-level vertical grid."""
    if levels == 72:
        return Vertical(72, AP72.copy(), BP72.copy())
    if levels == 47:
        return Vertical(47, AP47.copy(), BP47.copy())
    raise ValueError(f"unsupported number of levels: {levels} (the demo model supports 72 or 47)")


def expand_47_to_72(values: np.ndarray, axis: int) -> np.ndarray:
    """Repeat each reduced level over the native levels it lumps (mixing ratios are uniform
    within a lumped level, so this is exact for them)."""
    return np.repeat(values, LUMP47, axis=axis)


def lump_72_to_47(values: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Mass-weighted mean over the native levels of each reduced level. ``weights`` (72,) are
    the native layer masses (e.g. pressure thicknesses)."""
    moved = np.moveaxis(values, axis, -1)
    summed = np.add.reduceat(moved * weights, _EDGE_INDEX_47[:-1], axis=-1)
    totals = np.add.reduceat(weights, _EDGE_INDEX_47[:-1])
    return np.moveaxis(summed / totals, -1, axis)


# ---------------------------------------------------------------------------------------------
# Horizontal grids
# ---------------------------------------------------------------------------------------------
@dataclass
class Grid:
    """A horizontal grid as the physics sees it.

    Cells are numbered 0..ncell-1 in output order: (lat, lon) row-major for lat-lon grids,
    (nf, Ydim, Xdim) for the cubed sphere. ``edge_left``/``edge_right`` are the two cells on
    either side of each interior cell face, oriented so that walking from vertex ``edge_va`` to
    ``edge_vb`` has ``edge_left`` on the left. Faces on the outer boundary of a nested domain
    are listed separately (``bedge_*``, the inside cell on the left).
    """

    kind: str                      # "latlon" | "cubed_sphere"
    label: str                     # "4x5", "C24", ...
    radius: float
    shape: tuple                   # (nlat, nlon) or (6, N, N)
    area: np.ndarray               # (ncell,) m2
    lon: np.ndarray                # (ncell,) cell centres, degrees east in [-180, 180)
    lat: np.ndarray                # (ncell,) degrees north
    vertex_lon: np.ndarray         # (nvert,) degrees
    vertex_lat: np.ndarray         # (nvert,) degrees
    edge_left: np.ndarray
    edge_right: np.ndarray
    edge_va: np.ndarray
    edge_vb: np.ndarray
    bedge_cell: np.ndarray
    bedge_va: np.ndarray
    bedge_vb: np.ndarray
    sample_lon: np.ndarray         # (ncell, nsample) points inside each cell, for land fractions
    sample_lat: np.ndarray
    # The same faces split for fast transport: cells form ``blocks`` (nblock, ny, nx) arrays
    # (one for lat-lon, the six faces for the cube) whose inner faces are found by slicing;
    # ``corner_vertex`` (nblock, ny+1, nx+1) maps block corners to vertex ids. The faces that
    # join blocks or wrap around the date line are listed in ``link_*`` like ``edge_*``.
    blocks: tuple = ()
    corner_vertex: np.ndarray = None
    link_left: np.ndarray = None
    link_right: np.ndarray = None
    link_va: np.ndarray = None
    link_vb: np.ndarray = None
    extra: dict = field(default_factory=dict)  # coordinates for output files

    @property
    def ncell(self) -> int:
        return self.area.size

    @property
    def is_global(self) -> bool:
        return self.bedge_cell.size == 0


def parse_latlon_resolution(text: str) -> tuple[float, float]:
    """``"4x5"`` or ``"4.0x5.0"`` -> (dlat, dlon) in degrees."""
    parts = text.lower().split("x")
    if len(parts) != 2:
        raise ValueError(f"not a lat-lon resolution: {text!r}")
    return float(parts[0]), float(parts[1])


def _global_latlon_axes(dlat: float, dlon: float):
    """Edges and centres of GEOS-Chem's global grid with half-size polar boxes, centred on
    -180 (gc_grid_mod.F90 Compute_Grid with Center180 and GMAO met)."""
    nlon = int(round(360.0 / dlon))
    nlat = int(round(180.0 / dlat)) + 1
    lat_edges = np.empty(nlat + 1)
    lat_edges[0] = -90.0
    lat_edges[1:-1] = -90.0 - 0.5 * dlat + dlat * np.arange(1, nlat)
    lat_edges[-1] = 90.0
    lon_edges = -180.0 - 0.5 * dlon + dlon * np.arange(nlon + 1)
    lat_c = 0.5 * (lat_edges[:-1] + lat_edges[1:])
    lon_c = 0.5 * (lon_edges[:-1] + lon_edges[1:])
    return lat_edges, lat_c, lon_edges, lon_c


def latlon_grid(resolution: str, lon_range=None, lat_range=None, nested: bool = False,
                samples: int = 4) -> Grid:
    """GEOS-Chem lat-lon grid; with ``nested`` the boxes of the global grid whose centres lie
    within ``lon_range``/``lat_range`` (inclusive), as GEOS-Chem selects them."""
    dlat, dlon = parse_latlon_resolution(resolution)
    lat_edges, lat_c, lon_edges, lon_c = _global_latlon_axes(dlat, dlon)
    if nested:
        x0, x1 = lon_range
        y0, y1 = lat_range
        tol = 1e-6
        ii = np.nonzero((lon_c >= x0 - tol) & (lon_c <= x1 + tol))[0]
        jj = np.nonzero((lat_c >= y0 - tol) & (lat_c <= y1 + tol))[0]
        if ii.size < 2 or jj.size < 2:
            raise ValueError(f"the nested box lon {lon_range} lat {lat_range} holds fewer than 2x2 grid boxes")
        lon_edges = lon_edges[ii[0]: ii[-1] + 2]
        lon_c = lon_c[ii]
        lat_edges = lat_edges[jj[0]: jj[-1] + 2]
        lat_c = lat_c[jj]
    nlat, nlon = lat_c.size, lon_c.size
    radius = EARTH_RADIUS_GC

    # Areas as GEOS-Chem computes them: dlon * Re^2 * (sin(lat_n) - sin(lat_s)).
    sin_e = np.sin(np.deg2rad(lat_edges))
    dlon_rad = np.deg2rad(dlon)
    area2d = np.repeat((dlon_rad * radius ** 2 * (sin_e[1:] - sin_e[:-1]))[:, None], nlon, axis=1)

    # Vertices: (nlat+1) x nvlon, where a global grid wraps around (nvlon = nlon).
    nvlon = nlon if not nested else nlon + 1
    vlat, vlon = np.meshgrid(lat_edges, lon_edges[:nvlon], indexing="ij")

    def vid(jv, iv):
        return jv * nvlon + (iv % nvlon if not nested else iv)

    def cid(j, i):
        return j * nlon + i

    jj, ii = np.meshgrid(np.arange(nlat), np.arange(nlon), indexing="ij")
    left, right, va, vb = [], [], [], []
    b_cell, b_va, b_vb = [], [], []

    # East faces: from the SE corner up to the NE corner, cell (j,i) on the left.
    east_inner = np.ones_like(jj, dtype=bool) if not nested else ii < nlon - 1
    left.append(cid(jj, ii)[east_inner])
    right.append(cid(jj, (ii + 1) % nlon)[east_inner])
    va.append(vid(jj, ii + 1)[east_inner])
    vb.append(vid(jj + 1, ii + 1)[east_inner])
    # North faces: from the NE corner to the NW corner, cell (j,i) on the left.
    north_inner = jj < nlat - 1
    left.append(cid(jj, ii)[north_inner])
    right.append(cid(jj + 1, ii)[north_inner])
    va.append(vid(jj + 1, ii + 1)[north_inner])
    vb.append(vid(jj + 1, ii)[north_inner])
    if nested:
        # Outer faces of the domain, walked counter-clockwise around each boundary cell.
        s = jj == 0
        b_cell.append(cid(jj, ii)[s]); b_va.append(vid(jj, ii)[s]); b_vb.append(vid(jj, ii + 1)[s])
        n = jj == nlat - 1
        b_cell.append(cid(jj, ii)[n]); b_va.append(vid(jj + 1, ii + 1)[n]); b_vb.append(vid(jj + 1, ii)[n])
        e = ii == nlon - 1
        b_cell.append(cid(jj, ii)[e]); b_va.append(vid(jj, ii + 1)[e]); b_vb.append(vid(jj + 1, ii + 1)[e])
        w = ii == 0
        b_cell.append(cid(jj, ii)[w]); b_va.append(vid(jj + 1, ii)[w]); b_vb.append(vid(jj, ii)[w])

    # Sub-sample points at the centres of an s x s split of each box (for land fractions).
    frac = (np.arange(samples) + 0.5) / samples
    sy = lat_edges[:-1, None] + np.outer(np.diff(lat_edges), frac)     # (nlat, s)
    sx = lon_edges[:-1, None] + np.outer(np.diff(lon_edges), frac)     # (nlon, s)
    sample_lat = np.broadcast_to(sy[:, None, :, None], (nlat, nlon, samples, samples))
    sample_lon = np.broadcast_to(sx[None, :, None, :], (nlat, nlon, samples, samples))

    cat = np.concatenate
    empty = np.zeros(0, dtype=np.int64)
    label = resolution if not nested else f"{resolution} nested"
    jv, iv = np.meshgrid(np.arange(nlat + 1), np.arange(nlon + 1), indexing="ij")
    corner_vertex = vid(jv, iv)[None]
    wrap = (ii == nlon - 1) if not nested else np.zeros_like(ii, dtype=bool)
    links = (cid(jj, ii)[wrap], cid(jj, 0)[wrap], vid(jj, ii + 1)[wrap], vid(jj + 1, ii + 1)[wrap])
    return Grid(
        kind="latlon", label=label, radius=radius, shape=(nlat, nlon),
        area=area2d.ravel(), lon=np.broadcast_to(lon_c, (nlat, nlon)).ravel().copy(),
        lat=np.broadcast_to(lat_c[:, None], (nlat, nlon)).ravel().copy(),
        vertex_lon=vlon.ravel(), vertex_lat=vlat.ravel(),
        edge_left=cat(left), edge_right=cat(right), edge_va=cat(va), edge_vb=cat(vb),
        bedge_cell=cat(b_cell) if nested else empty, bedge_va=cat(b_va) if nested else empty,
        bedge_vb=cat(b_vb) if nested else empty,
        sample_lon=_wrap180(sample_lon.reshape(nlat * nlon, -1)),
        sample_lat=sample_lat.reshape(nlat * nlon, -1).copy(),
        blocks=(1, nlat, nlon), corner_vertex=corner_vertex, link_left=links[0],
        link_right=links[1], link_va=links[2], link_vb=links[3],
        extra={"lat": lat_c, "lon": lon_c, "lat_edges": lat_edges, "lon_edges": lon_edges,
               "dlat": dlat, "dlon": dlon, "nested": nested},
    )


def _wrap180(lon):
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


# ---------------------------------------------------------------------------------------------
# Cubed sphere
# ---------------------------------------------------------------------------------------------
# Each face is (centre, X direction, Y direction) before the 10-degree rotation, as unit
# vectors in Earth-centred coordinates (x towards 0E, y towards 90E, z north). Derived from
# MAPL's contacts table: faces 1 and 2 run X east / Y north, face 3 (north pole) has face 1 to
# its left and face 5 above, faces 4 and 5 run X south / Y east, face 6 (south pole) has face 5
# to its left and face 1 above. All frames are right-handed (X x Y = outward normal).
_FACE_FRAMES = (
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    ((0, 1, 0), (-1, 0, 0), (0, 0, 1)),
    ((0, 0, 1), (-1, 0, 0), (0, -1, 0)),
    ((-1, 0, 0), (0, 0, -1), (0, -1, 0)),
    ((0, -1, 0), (0, 0, -1), (1, 0, 0)),
    ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
)
# GCHP (FV3) rotates the cube 10 degrees west so that a cube corner does not sit over Japan;
# face 1 is then centred on 350E.
CUBE_ROTATION_DEG = -10.0


def gnomonic_ed_coordinates(n: int) -> np.ndarray:
    """Cube-face coordinates in [-1, 1] of the ``n + 1`` cell edges of FV3's equal-edge
    gnomonic grid: equal arcs along the face's edge great circle, which spans +-asin(1/sqrt 3)."""
    beta = math.asin(1.0 / math.sqrt(3.0))
    angles = -beta + 2.0 * beta * np.arange(n + 1) / n
    coords = math.sqrt(2.0) * np.tan(angles)
    # Exact symmetry and end points (FV3 symmetrises its grid the same way).
    coords = 0.5 * (coords - coords[::-1])
    coords[0], coords[-1] = -1.0, 1.0
    return coords


def _rotate_z(xyz: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    return np.stack([c * x - s * y, s * x + c * y, z], axis=-1)


def cube_face_points(n: int, xi: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Unit vectors (6, len(eta), len(xi), 3) of points at cube-face coordinates (xi along X,
    eta along Y) on every face, rotated like GCHP's cube."""
    out = np.empty((6, eta.size, xi.size, 3))
    for f, (c, ex, ey) in enumerate(_FACE_FRAMES):
        c, ex, ey = (np.asarray(v, dtype=float) for v in (c, ex, ey))
        p = c[None, None, :] + xi[None, :, None] * ex[None, None, :] + eta[:, None, None] * ey[None, None, :]
        out[f] = p / np.linalg.norm(p, axis=-1, keepdims=True)
    return _rotate_z(out, CUBE_ROTATION_DEG)


def xyz_to_lonlat(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Degrees east in [0, 360) and degrees north of unit vectors."""
    lon = np.rad2deg(np.arctan2(xyz[..., 1], xyz[..., 0])) % 360.0
    lat = np.rad2deg(np.arcsin(np.clip(xyz[..., 2], -1.0, 1.0)))
    # Points on the polar axis get longitude 0 rather than a rounding artefact.
    polar = np.abs(xyz[..., 2]) > 1.0 - 1e-14
    lon = np.where(polar, 0.0, lon)
    return lon, lat


def _triangle_area(a, b, c):
    """Solid angle of spherical triangles with unit-vector corners (Van Oosterom & Strackee)."""
    num = np.abs(np.einsum("...i,...i->...", a, np.cross(b, c)))
    den = 1.0 + np.einsum("...i,...i->...", a, b) + np.einsum("...i,...i->...", b, c) \
        + np.einsum("...i,...i->...", c, a)
    return 2.0 * np.arctan2(num, den)


def cubed_sphere_grid(n: int, samples: int = 4) -> Grid:
    """GCHP's CN cubed sphere (unstretched): cells in (nf, Ydim, Xdim) order."""
    if n < 2 or n % 2:
        raise ValueError(f"cubed-sphere resolution must be even: C{n}")
    radius = EARTH_RADIUS_MAPL
    g = gnomonic_ed_coordinates(n)
    corners = cube_face_points(n, g, g)                                   # (6, n+1, n+1, 3)
    # Cell centres: normalised mean of the four corners (as FV3's cell_center2 and gcpy do).
    mean = corners[:, :-1, :-1] + corners[:, :-1, 1:] + corners[:, 1:, 1:] + corners[:, 1:, :-1]
    centres = mean / np.linalg.norm(mean, axis=-1, keepdims=True)
    sw, se, ne, nw = corners[:, :-1, :-1], corners[:, :-1, 1:], corners[:, 1:, 1:], corners[:, 1:, :-1]
    area = (_triangle_area(sw, se, ne) + _triangle_area(sw, ne, nw)) * radius ** 2   # (6, n, n)

    # Shared vertices: corners on face boundaries are computed on two or three faces; identify
    # them by position.
    flat = corners.reshape(-1, 3)
    keys = np.round(flat * 1e9).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if first.size != 6 * n * n + 2:
        raise RuntimeError(f"cubed-sphere vertex matching failed: {first.size} vertices")
    vert_xyz = flat[first]
    corner_id = inverse.reshape(6, n + 1, n + 1)

    # Cell faces: each cell walks its corners counter-clockwise (SW, SE, NE, NW in face
    # coordinates; faces are right-handed so this is counter-clockwise seen from outside).
    cell = np.arange(6 * n * n).reshape(6, n, n)
    a = np.stack([corner_id[:, :-1, :-1], corner_id[:, :-1, 1:], corner_id[:, 1:, 1:], corner_id[:, 1:, :-1]], -1)
    b = np.roll(a, -1, axis=-1)
    owner = np.broadcast_to(cell[..., None], a.shape).ravel()
    a, b = a.ravel(), b.ravel()
    # Every face appears twice, once in each direction; pair the two occurrences.
    key = np.minimum(a, b) * (vert_xyz.shape[0] + 1) + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    k_sorted = key[order]
    if not np.all(k_sorted[0::2] == k_sorted[1::2]):
        raise RuntimeError("cubed-sphere face pairing failed")
    first_occ, second_occ = order[0::2], order[1::2]
    left, right = owner[first_occ], owner[second_occ]
    va, vb = a[first_occ], b[first_occ]

    across = (left // (n * n)) != (right // (n * n))      # faces joining two cube faces
    lon_c, lat_c = xyz_to_lonlat(centres)
    lon_e, lat_e = xyz_to_lonlat(corners)
    vlon, vlat = xyz_to_lonlat(vert_xyz)

    # Sub-sample points: an s x s split of each cell in face coordinates.
    frac = (np.arange(samples) + 0.5) / samples
    sub = (g[:-1, None] + np.outer(np.diff(g), frac)).ravel()             # n*s points per axis
    spts = cube_face_points(n, sub, sub)                                    # (6, n*s, n*s, 3)
    slon, slat = xyz_to_lonlat(spts)
    slon = slon.reshape(6, n, samples, n, samples).transpose(0, 1, 3, 2, 4).reshape(6 * n * n, -1)
    slat = slat.reshape(6, n, samples, n, samples).transpose(0, 1, 3, 2, 4).reshape(6 * n * n, -1)

    # MAPL's "fake" coordinates: centres along the middle row / column of face 1.
    mid = n // 2
    empty = np.zeros(0, dtype=np.int64)
    return Grid(
        kind="cubed_sphere", label=f"C{n}", radius=radius, shape=(6, n, n),
        area=area.ravel(), lon=_wrap180(lon_c.ravel()), lat=lat_c.ravel(),
        vertex_lon=_wrap180(vlon), vertex_lat=vlat,
        edge_left=left, edge_right=right, edge_va=va, edge_vb=vb,
        bedge_cell=empty, bedge_va=empty, bedge_vb=empty,
        sample_lon=_wrap180(slon), sample_lat=slat,
        blocks=(6, n, n), corner_vertex=corner_id, link_left=left[across], link_right=right[across],
        link_va=va[across], link_vb=vb[across],
        extra={"n": n, "lons": lon_c, "lats": lat_c, "corner_lons": lon_e, "corner_lats": lat_e,
               "xdim": lon_c[0, mid, :].copy(), "ydim": lat_c[0, :, mid].copy()},
    )
