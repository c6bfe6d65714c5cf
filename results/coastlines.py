"""Coastlines for the maps: Natural Earth 1:110m land outlines (public domain), shipped in
results/data/coastlines_110m.json (its README says where it comes from), so maps work offline.

`coastlines()` gives lon and lat arrays with NaN between lines, ready for a Bokeh `line` glyph.
Global lines have longitudes in [-180, 180]: a line cut at the date line ends exactly on +180 or
-180, so it meets the map's edge. With a box the lines are clipped to it exactly (a segment that
leaves the box ends on its edge) and given in the box's own longitudes: a box from 150 to 250
(a domain across the date line, in the file's 0-360 longitudes) gets lines from 150 to 250.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "coastlines_110m.json"


@lru_cache(maxsize=1)
def _world() -> tuple[np.ndarray, np.ndarray]:
    """Every line, NaN between lines, as read-only float64 arrays (read once per process)."""
    lines = json.loads(DATA.read_text())["lines"]
    points = []
    for line in lines:
        points.extend(line)
        points.append([np.nan, np.nan])
    both = np.asarray(points[:-1], dtype=float)
    lon, lat = both[:, 0].copy(), both[:, 1].copy()
    lon.flags.writeable = lat.flags.writeable = False
    return lon, lat


def coastlines(box: tuple[float, float, float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) float32 arrays of the coastlines with NaN between lines; `box` = (west, east,
    south, north) in degrees clips them to that box (west < east, either longitude convention,
    spans up to 360 degrees). The arrays are new on every call: the caller may keep them."""
    lon, lat = _world()
    if box is None:
        return lon.astype(np.float32), lat.astype(np.float32)
    west, east, south, north = (float(v) for v in box)
    if not (west < east and south < north):
        raise ValueError(f"a coastline box needs west < east and south < north, not {box}")
    # Three copies of the world side by side cover any box from -540 to 540 degrees east; since no
    # line crosses the date line, the copies join up at +-180 and clipping does the rest.
    shifts = [s for s in (-360.0, 0.0, 360.0) if west < 180.0 + s and east > -180.0 + s]
    gap = np.array([np.nan])
    xs = np.concatenate([part for s in shifts for part in (lon + s, gap)])
    ys = np.concatenate([part for s in shifts for part in (lat, gap)])
    x, y = _clip(xs, ys, west, east, south, north)
    return x.astype(np.float32), y.astype(np.float32)


def _clip(x: np.ndarray, y: np.ndarray, west: float, east: float, south: float, north: float):
    """Polylines (NaN-separated) clipped to a box, segment by segment (Liang-Barsky): a segment
    is kept from where it enters the box to where it leaves; consecutive whole segments stay one line."""
    x0, y0, x1, y1 = x[:-1], y[:-1], x[1:], y[1:]
    dx, dy = x1 - x0, y1 - y0
    visible = np.isfinite(x0) & np.isfinite(x1)
    t0, t1 = np.zeros_like(x0), np.ones_like(x0)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, x0 - west), (dx, east - x0), (-dy, y0 - south), (dy, north - y0)):
            visible &= ~((p == 0) & (q < 0))  # parallel to this edge and outside it
            r = q / p
            t0 = np.where(p < 0, np.maximum(t0, r), t0)
            t1 = np.where(p > 0, np.minimum(t1, r), t1)
    visible &= t0 < t1
    index = np.flatnonzero(visible)
    if index.size == 0:
        return np.empty(0), np.empty(0)
    a, b = t0[index], t1[index]
    starts = np.stack([x0[index] + a * dx[index], y0[index] + a * dy[index]], axis=-1)
    ends = np.stack([x0[index] + b * dx[index], y0[index] + b * dy[index]], axis=-1)
    continues = np.zeros(index.size, bool)
    continues[1:] = (index[1:] == index[:-1] + 1) & (b[:-1] == 1.0) & (a[1:] == 0.0)
    # Per kept segment: [a NaN break, its start, its end]; break and start only where a line begins.
    slots = np.full((index.size, 3, 2), np.nan)
    slots[:, 1], slots[:, 2] = starts, ends
    keep = np.ones((index.size, 3), bool)
    keep[:, 0] = keep[:, 1] = ~continues
    keep[0, 0] = False
    out = slots[keep]
    return out[:, 0], out[:, 1]
