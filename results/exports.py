"""Exports: a NetCDF subset of a file, and CSV of a slice or a time series (pure: paths and arrays).

A subset keeps GEOS-Chem's layout and attributes (so GCPy and xarray read it as they read the
original): the chosen variables, time steps and, on lat-lon grids, a lon/lat box, plus the
coordinates and the hybrid coefficients and AREA those variables need. A cubed sphere cannot be
cut to a rectangle, so its subsets keep every cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import netCDF4
import numpy as np

from results.readers import COORDINATES, Field, ReaderError, inspect

# The coordinates a subset always carries along when the file has them.
_CARRIED = ("hyam", "hybm", "hyai", "hybi", "P0", "lev", "ilev", "lons", "lats", "corner_lons", "corner_lats",
            "nf", "Xdim", "Ydim", "contacts", "anchor")


def _box_indices(lat: np.ndarray, lon: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
    west, east, south, north = box
    lon180 = (lon + 180.0) % 360.0 - 180.0
    j = np.flatnonzero((lat >= south) & (lat <= north))
    i = np.flatnonzero((lon180 >= west) & (lon180 <= east) if west <= east else (lon180 >= west) | (lon180 <= east))
    if j.size == 0 or i.size == 0:
        raise ReaderError(f"the box lon {west:g} to {east:g}, lat {south:g} to {north:g} holds no grid box of this file")
    return j, i


def netcdf_subset(source, target, *, variables: Sequence[str], times: Sequence[int] | None = None,
                  box: tuple[float, float, float, float] | None = None) -> Path:
    """Write `target`: `variables` (names or species) at `times` (indices; None: all) within `box`
    (lon W, lon E, lat S, lat N; lat-lon grids only). Raises ReaderError naming what is wrong."""
    info = inspect(source)
    chosen = [info.variable(name).name for name in variables] if variables else []
    if not chosen:
        raise ReaderError("choose at least one variable to export")
    if box is not None and info.grid.kind != "latlon":
        raise ReaderError("a lon/lat box can only cut a lat-lon grid; a cubed-sphere subset keeps every cell "
                          "(leave the box out)")
    count = len(info.times)
    picked = list(range(count)) if times is None else list(times)
    bad = [t for t in picked if not 0 <= t < max(count, 1)]
    if bad:
        raise ReaderError(f"time steps {bad} are out of range: the file has {count} (0 to {count - 1})")
    target = Path(target)
    with netCDF4.Dataset(source) as src, netCDF4.Dataset(target, "w", format="NETCDF4") as dst:
        selection = {"time": picked}
        if box is not None:
            j, i = _box_indices(np.asarray(src["lat"][:], float), np.asarray(src["lon"][:], float), box)
            selection.update(lat=j, lon=i)
        note = f"subset by GEOS-Chem Cloud Runner on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        history = src.__dict__.get("history", "")
        dst.setncatts({**src.__dict__, "history": f"{history}; {note}" if history else note})
        needed = set(chosen) | {name for name in _CARRIED if name in src.variables}
        needed |= {name for name in ("time", "lat", "lon", "lat_bnds", "lon_bnds", "AREA") if name in src.variables}
        for name in sorted(needed, key=lambda n: (n not in COORDINATES, n)):
            _copy_variable(src, dst, name, selection)
    return target


def _copy_variable(src, dst, name: str, selection: dict) -> None:
    var = src.variables[name]
    for dim in var.dimensions:
        if dim not in dst.dimensions:
            size = len(selection[dim]) if dim in selection else len(src.dimensions[dim])
            dst.createDimension(dim, None if src.dimensions[dim].isunlimited() else size)
    fill = var.__dict__.get("_FillValue")
    out = dst.createVariable(name, var.dtype, var.dimensions, zlib=True, complevel=1, fill_value=fill)
    out.setncatts({k: v for k, v in var.__dict__.items() if k != "_FillValue"})
    index = tuple(selection.get(dim, slice(None)) for dim in var.dimensions)
    out[...] = var[...] if not var.dimensions else _take(var, index)


def _take(var, index: tuple):
    """Orthogonal selection one axis at a time (netCDF4 allows one list index per call)."""
    data = var[tuple(i if isinstance(i, slice) else slice(None) for i in index)]
    for axis, chosen in enumerate(index):
        if not isinstance(chosen, slice):
            data = np.take(data, chosen, axis=axis)
    return data


def slice_csv(field: Field) -> str:
    """One row per cell: lat, lon (centres) and the value, with a header naming variable, units, time, level."""
    lat, lon = field.geometry.centres()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    label = f"{field.variable.name} ({field.units})"
    when = field.time.isoformat() if field.time else ""
    writer.writerow(["# " + label, f"time {when}", f"level {field.level or '-'}",
                     f"source {field.source}" + (" (demo model, not GEOS-Chem)" if field.demo else "")])
    cube = field.geometry.grid.kind == "cubed-sphere"
    writer.writerow((["face", "j", "i"] if cube else []) + ["lat", "lon", label])
    for index in np.ndindex(field.values.shape):
        value = field.values[index]
        cells = [index[0] + 1, index[1] + 1, index[2] + 1] if cube else []
        writer.writerow(cells + [f"{lat[index]:.4f}", f"{lon[index]:.4f}", "" if np.isnan(value) else f"{value:.6g}"])
    return buffer.getvalue()


def series_csv(times: Sequence[datetime], values: Sequence[float | None], *, label: str, where: str) -> str:
    """time, value rows; empty where a step had no valid value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["# " + where])
    writer.writerow(["time", label])
    for when, value in zip(times, values):
        missing = value is None or (isinstance(value, float) and np.isnan(value))
        writer.writerow([when.isoformat(), "" if missing else f"{value:.6g}"])
    return buffer.getvalue()
