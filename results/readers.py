"""Reading GEOS-Chem Classic and GCHP output files (pure: no Django, no ORM).

Layouts (shared/GEOSCHEM.md section 4):
- Classic: dims (time, lev, lat, lon); species as `SpeciesConcVV_<X>` (14.1+) or `SpeciesConc_<X>`
  (14.0); `hyam hybm P0` for pressure; `AREA(lat, lon)` in m2; level 1 is the surface.
- GCHP diagnostics: (time, lev, nf, Ydim, Xdim) with `lons lats (nf, Ydim, Xdim)` and
  `corner_lons corner_lats (nf, YCdim, XCdim)`; level 1 is the surface except in the Emissions
  collection, where it is the top of the atmosphere.
- GCHP restarts: (time, lev, lat, lon) with lat = 6N (the six faces stacked) and level 1 at the
  top; they carry no coordinates, so the (unstretched) cube's geometry is computed.
- Restarts: `SpeciesRst_<X>` (Classic), `SPC_<X>` (GCHP). HEMCO diagnostics: lat-lon like Classic.

`inspect` reads metadata only (dimensions, attributes, coordinates). `Reader` reads one slice at
a time with netCDF4 (the file's own chunking: GEOS-Chem writes a chunk per level and time), so a
0.25 degree or C180 file costs no more than the slice asked for. Levels are numbered from the
surface (1) in every method, whatever the file's order. Every problem is a `ReaderError` whose
message a researcher can act on.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import netCDF4
import numpy as np

from results import cubesphere, vertical

SPECIES_PREFIXES = ("SpeciesConcVV_", "SpeciesConc_", "SpeciesRst_", "SPC_")
# Variables that describe the grid or the time axis rather than hold model output.
COORDINATES = frozenset({
    "time", "lev", "ilev", "lat", "lon", "lat_bnds", "lon_bnds", "hyam", "hybm", "hyai", "hybi", "P0", "AREA",
    "lons", "lats", "corner_lons", "corner_lats", "nf", "Xdim", "Ydim", "XCdim", "YCdim", "ncontact", "contacts",
    "anchor", "orientation", "cubed_sphere", "time_bnds",
})
_DIAGNOSTIC = re.compile(r"^(?:GEOSChem|GCHP)\.(?P<collection>[A-Za-z0-9_]+)\.(?P<stamp>\d{8}_\d{4})z(?:\.c\d+)?\.nc4?$")
_HEMCO = re.compile(r"^HEMCO_diagnostics\.(?P<stamp>\d{8,12})\.nc4?$")
_GCHP_CHECKPOINT = re.compile(r"^gcchem_internal_checkpoint")
# Lat-lon grids by (dlat, dlon) spacing.
LATLON_RESOLUTIONS = {(4.0, 5.0): "4x5", (2.0, 2.5): "2x2.5", (0.5, 0.625): "0.5x0.625",
                      (0.25, 0.3125): "0.25x0.3125", (0.125, 0.15625): "0.125x0.15625", (1.0, 1.25): "1x1.25"}
GC_EARTH_RADIUS_M = 6.375e6  # GEOS-Chem's (PhysConstants); MAPL's cube uses cubesphere.EARTH_RADIUS_M


class ReaderError(Exception):
    """A file or a request that cannot be read; the message says why and what would work."""


# --- What a file is ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridInfo:
    """A file's horizontal grid, in plain values (what the index stores)."""

    kind: str  # "latlon" | "cubed-sphere"
    resolution: str  # "4x5", "0.5x0.625", "C24", or e.g. "1.9x2.3" for an unknown spacing
    shape: tuple[int, ...]  # (nlat, nlon) or (6, N, N)
    nested: bool = False
    lat_range: tuple[float, float] | None = None  # lat-lon: the outer edges of the boxes
    lon_range: tuple[float, float] | None = None
    cs_res: int | None = None
    stretch: dict | None = None  # {"factor", "target_lat", "target_lon"} for a stretched cube
    stacked_faces: bool = False  # a GCHP restart: faces stacked as lat = 6N, no coordinates

    @property
    def label(self) -> str:
        if self.kind == "cubed-sphere":
            return f"C{self.cs_res}" + (f" stretched x{self.stretch['factor']:g}" if self.stretch else "")
        if self.nested:
            return (f"{self.resolution} nested, lon {self.lon_range[0]:g} to {self.lon_range[1]:g}, "
                    f"lat {self.lat_range[0]:g} to {self.lat_range[1]:g}")
        return f"{self.resolution} global"

    def same_grid(self, other: "GridInfo") -> bool:
        return (self.kind, self.shape, self.resolution, self.lat_range, self.lon_range, self.stretch) == (
            other.kind, other.shape, other.resolution, other.lat_range, other.lon_range, other.stretch)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "resolution": self.resolution, "shape": list(self.shape), "nested": self.nested,
                "lat_range": list(self.lat_range) if self.lat_range else None,
                "lon_range": list(self.lon_range) if self.lon_range else None, "cs_res": self.cs_res,
                "stretch": self.stretch, "label": self.label}


@dataclass(frozen=True)
class VariableInfo:
    name: str
    long_name: str
    units: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    species: str | None  # "O3" for SpeciesConcVV_O3 and the other species namings
    levels: int | None  # None: a 2-D field

    def as_dict(self) -> dict:
        return {"name": self.name, "long_name": self.long_name, "units": self.units, "dims": list(self.dims),
                "shape": list(self.shape), "species": self.species, "levels": self.levels}


@dataclass(frozen=True)
class FileInfo:
    path: str
    name: str
    collection: str
    kind: str  # "diagnostic" | "restart" | "hemco" | "other"
    model: str  # "classic" | "gchp"
    grid: GridInfo
    times: tuple[datetime, ...]
    levels: int | None
    top_first: bool  # level 1 of the file is the top of the atmosphere
    variables: tuple[VariableInfo, ...]
    size_bytes: int
    demo: bool  # written by the demo model, not GEOS-Chem
    title: str = ""

    def variable(self, name: str) -> VariableInfo:
        """A variable by its name or its species ("O3" finds SpeciesConcVV_O3 or SpeciesConc_O3)."""
        for var in self.variables:
            if var.name == name:
                return var
        for var in self.variables:
            if var.species is not None and var.species == name:
                return var
        known = ", ".join(v.name for v in self.variables[:12]) + (" ..." if len(self.variables) > 12 else "")
        raise ReaderError(f"{self.name} has no variable {name!r}; it has {known or 'no data variables'}")


def species_of(name: str) -> str | None:
    for prefix in SPECIES_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return None


def name_kind(filename: str) -> tuple[str, str]:
    """(collection, kind) from GEOS-Chem's file names: GEOSChem.<Collection>.YYYYMMDD_hhmmz.nc4,
    GEOSChem.Restart.* (and GCHP's older gcchem_internal_checkpoint), HEMCO_diagnostics.*.nc."""
    match = _DIAGNOSTIC.match(filename)
    if match:
        collection = match["collection"]
        return collection, "restart" if collection == "Restart" else "diagnostic"
    if _HEMCO.match(filename):
        return "HEMCO", "hemco"
    if _GCHP_CHECKPOINT.match(filename):
        return "Restart", "restart"
    return Path(filename).stem, "other"


def _open(path) -> netCDF4.Dataset:
    name = Path(path).name
    try:
        return netCDF4.Dataset(path)
    except FileNotFoundError:
        raise ReaderError(f"{name} does not exist (any more)") from None
    except OSError as exc:
        raise ReaderError(f"{name} cannot be read as netCDF ({exc.strerror or exc}): it may be truncated "
                          "(a copy that did not finish) or not a netCDF file") from None


def _text(attrs, key: str) -> str:
    value = attrs.get(key, "")
    return str(value) if not isinstance(value, bytes) else value.decode(errors="replace")


def _resolution_label(dlat: float, dlon: float) -> str:
    for (a, b), label in LATLON_RESOLUTIONS.items():
        if math.isclose(dlat, a, rel_tol=1e-3) and math.isclose(dlon, b, rel_tol=1e-3):
            return label
    return f"{dlat:g}x{dlon:g}"


def _edges(centres: np.ndarray, low: float, high: float) -> np.ndarray:
    """Box edges from centres: midpoints, the ends mirrored and clamped (GEOS-Chem's half polar boxes)."""
    if centres.size == 1:
        return np.array([max(low, centres[0] - 0.5), min(high, centres[0] + 0.5)])
    mid = 0.5 * (centres[1:] + centres[:-1])
    first, last = 2 * centres[0] - mid[0], 2 * centres[-1] - mid[-1]
    return np.clip(np.concatenate([[first], mid, [last]]), low, high)


def _latlon_edges(ds) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(ds.variables["lat"][:], dtype=float)
    lon = np.asarray(ds.variables["lon"][:], dtype=float)
    if "lat_bnds" in ds.variables and "lon_bnds" in ds.variables:
        lb, ob = np.asarray(ds.variables["lat_bnds"][:], float), np.asarray(ds.variables["lon_bnds"][:], float)
        return np.concatenate([lb[:, 0], lb[-1:, 1]]), np.concatenate([ob[:, 0], ob[-1:, 1]])
    return _edges(lat, -90.0, 90.0), _edges(lon, -540.0, 540.0)


def _grid_info(ds, name: str, kind: str) -> GridInfo:
    dims = ds.dimensions
    if "nf" in dims and "Xdim" in dims and "Ydim" in dims:
        n = len(dims["Xdim"])
        stretch = None
        factor = ds.__dict__.get("STRETCH_FACTOR")
        if factor is not None and float(factor) > 1.00001:
            stretch = {"factor": float(factor), "target_lat": float(ds.__dict__.get("TARGET_LAT", 0.0)),
                       "target_lon": float(ds.__dict__.get("TARGET_LON", 0.0))}
        return GridInfo("cubed-sphere", f"C{n}", (6, len(dims["Ydim"]), n), cs_res=n, stretch=stretch)
    if "lat" in dims and "lon" in dims:
        nlat, nlon = len(dims["lat"]), len(dims["lon"])
        if nlat == 6 * nlon and ("lat" not in ds.variables or _is_index_axis(ds.variables["lat"])):
            # A GCHP checkpoint: the six faces stacked along "lat", no real coordinates.
            return GridInfo("cubed-sphere", f"C{nlon}", (6, nlon, nlon), cs_res=nlon, stacked_faces=True)
        if "lat" not in ds.variables or "lon" not in ds.variables:
            raise ReaderError(f"{name} has lat/lon dimensions but no lat/lon coordinates")
        lat_e, lon_e = _latlon_edges(ds)
        lat = np.asarray(ds.variables["lat"][:], float)
        lon = np.asarray(ds.variables["lon"][:], float)
        dlat = float(np.median(np.diff(lat))) if lat.size > 1 else 0.0
        dlon = float(np.median(np.diff(lon))) if lon.size > 1 else 0.0
        lat_range = (float(lat_e[0]), float(lat_e[-1]))
        lon_range = (float(lon_e[0]), float(lon_e[-1]))
        nested = (lon_range[1] - lon_range[0]) < 359.0 or (lat_range[1] - lat_range[0]) < 179.0
        return GridInfo("latlon", _resolution_label(round(dlat, 6), round(dlon, 6)), (nlat, nlon), nested=nested,
                        lat_range=lat_range, lon_range=lon_range)
    raise ReaderError(f"{name} has dimensions {', '.join(dims) or 'none'}: neither GEOS-Chem Classic's "
                      "(time, lev, lat, lon) nor GCHP's (time, lev, nf, Ydim, Xdim)")


def _is_index_axis(var) -> bool:
    """A checkpoint's fake "lat": 1..6N, not latitudes."""
    values = np.asarray(var[:], float)
    return values.size > 0 and (values.max() > 90.0 or np.allclose(values, np.arange(1, values.size + 1)))


def _times(ds) -> tuple[datetime, ...]:
    if "time" not in ds.variables or len(ds.variables["time"].shape) != 1:
        return ()
    var = ds.variables["time"]
    units = getattr(var, "units", "")
    if "since" not in units:
        return ()
    values = np.asarray(var[:], dtype=float)
    if values.size == 0:
        return ()
    decoded = netCDF4.num2date(values, units, calendar=getattr(var, "calendar", "standard"),
                               only_use_cftime_datetimes=False, only_use_python_datetimes=True)
    return tuple(datetime(d.year, d.month, d.day, d.hour, d.minute, d.second) for d in np.atleast_1d(decoded))


def _horizontal_dims(grid: GridInfo) -> tuple[str, ...]:
    if grid.kind == "cubed-sphere" and not grid.stacked_faces:
        return ("nf", "Ydim", "Xdim")
    return ("lat", "lon")


def _variables(ds, grid: GridInfo) -> tuple[VariableInfo, ...]:
    horizontal = _horizontal_dims(grid)
    out = []
    for name, var in ds.variables.items():
        if name in COORDINATES or tuple(var.dimensions[-len(horizontal):]) != horizontal:
            continue
        levels = len(ds.dimensions["lev"]) if "lev" in var.dimensions else None
        out.append(VariableInfo(name, _text(var.__dict__, "long_name"), _text(var.__dict__, "units"),
                                tuple(var.dimensions), tuple(var.shape), species_of(name), levels))
    return tuple(out)


def _model(ds, grid: GridInfo, filename: str) -> str:
    if grid.kind == "cubed-sphere" or filename.startswith(("GCHP.", "gcchem_")):
        return "gchp"
    return "classic"


def inspect(path) -> FileInfo:
    """What a file holds, from its metadata only (no data variable is read)."""
    with _open(path) as ds:
        return _inspect(ds, Path(path))


def _inspect(ds, path: Path) -> FileInfo:
    name = path.name
    collection, kind = name_kind(name)
    grid = _grid_info(ds, name, kind)
    model = _model(ds, grid, name)
    levels = len(ds.dimensions["lev"]) if "lev" in ds.dimensions else None
    attrs = ds.__dict__
    top_first = model == "gchp" and (kind == "restart" or collection == "Emissions")
    title = _text(attrs, "title") or _text(attrs, "Title")
    return FileInfo(path=str(path), name=name, collection=collection, kind=kind, model=model, grid=grid,
                    times=_times(ds), levels=levels, top_first=top_first, variables=_variables(ds, grid),
                    size_bytes=path.stat().st_size, demo="demo_model" in attrs, title=title)


# --- Geometry -----------------------------------------------------------------------------------------

@dataclass
class Geometry:
    """Where a file's cells are, and how big: what maps, weights and regions need.

    Lat-lon: `lat`, `lon` centres and `lat_edges`, `lon_edges`. Cubed sphere: `lats`, `lons`
    (6, N, N) centres and `corner_lats`, `corner_lons` (6, N+1, N+1). `area` (m2) has the
    horizontal shape either way."""

    grid: GridInfo
    area: np.ndarray
    lat: np.ndarray | None = None
    lon: np.ndarray | None = None
    lat_edges: np.ndarray | None = None
    lon_edges: np.ndarray | None = None
    lats: np.ndarray | None = None
    lons: np.ndarray | None = None
    corner_lats: np.ndarray | None = None
    corner_lons: np.ndarray | None = None

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) of every cell, with the horizontal shape (lon in [-180, 180))."""
        if self.grid.kind == "latlon":
            lon2, lat2 = np.meshgrid(self.lon, self.lat)
        else:
            lat2, lon2 = self.lats, self.lons
        return lat2, (lon2 + 180.0) % 360.0 - 180.0


def latlon_area(lat_edges: np.ndarray, lon_edges: np.ndarray, radius: float = GC_EARTH_RADIUS_M) -> np.ndarray:
    """Box areas (nlat, nlon) in m2 on a sphere of `radius`."""
    band = np.abs(np.diff(np.sin(np.deg2rad(lat_edges))))
    width = np.deg2rad(np.abs(np.diff(lon_edges)))
    return radius ** 2 * np.outer(band, width)


# --- Reading ----------------------------------------------------------------------------------------

@dataclass
class Field:
    """A horizontal field: one variable at one time and level, NaN where the file has no value."""

    values: np.ndarray
    geometry: Geometry
    variable: VariableInfo
    time: datetime | None
    level: int | None  # from the surface, 1 = surface; None for a 2-D variable
    pressure_hpa: float | None  # the level's mid-point pressure at a standard surface pressure
    demo: bool = False
    source: str = ""  # the file's name

    @property
    def units(self) -> str:
        return self.variable.units


class Reader:
    """An open file: metadata at once, data one slice at a time. Use as a context manager."""

    def __init__(self, path):
        self.path = Path(path)
        self.ds = _open(path)
        try:
            self.info = _inspect(self.ds, self.path)
        except Exception:
            self.ds.close()
            raise

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.ds.isopen():
            self.ds.close()

    # --- indices ---------------------------------------------------------------------------------
    def time_index(self, time: int | datetime | None) -> int:
        """A time step by position (negative counts from the end) or by its date-time."""
        count = len(self.info.times) or 1
        if time is None:
            return 0
        if isinstance(time, datetime):
            for index, when in enumerate(self.info.times):
                if when == time:
                    return index
            raise ReaderError(f"{self.info.name} has no time {time:%Y-%m-%d %H:%M}; it covers "
                              f"{self._time_span()}")
        if not -count <= time < count:
            raise ReaderError(f"time step {time} is out of range: {self.info.name} has {count} "
                              f"(0 to {count - 1}; {self._time_span()})")
        return time % count

    def _time_span(self) -> str:
        times = self.info.times
        if not times:
            return "no time axis"
        return f"{times[0]:%Y-%m-%d %H:%M} to {times[-1]:%Y-%m-%d %H:%M}"

    def file_level(self, var: VariableInfo, level: int | None) -> int | None:
        """The file's 0-based level index for a level counted from the surface (1 = surface)."""
        if var.levels is None:
            return None
        level = 1 if level is None else level
        if not 1 <= level <= var.levels:
            raise ReaderError(f"level {level} is out of range: {var.name} has levels 1 (surface) to {var.levels}")
        return var.levels - level if self.info.top_first else level - 1

    # --- data ------------------------------------------------------------------------------------
    def _netcdf(self, var: VariableInfo):
        return self.ds.variables[var.name]

    def _read(self, var: VariableInfo, index: tuple) -> np.ndarray:
        """The slice as float64 with NaN for missing values. Unpacked data (GEOS-Chem's) is read
        raw and its fill values replaced, which is several times faster than netCDF4's masked
        arrays on a large slice; packed data (scale_factor/add_offset) goes through netCDF4's own
        masking and scaling."""
        nc = self._netcdf(var)
        packed = "scale_factor" in nc.ncattrs() or "add_offset" in nc.ncattrs()
        nc.set_auto_mask(packed)
        try:
            data = nc[index]
        except (OSError, RuntimeError, IndexError) as exc:
            raise ReaderError(f"{var.name} in {self.info.name} could not be read ({exc}): the file may be "
                              "truncated") from None
        if packed:
            return self._unstack(np.ma.filled(np.ma.masked_invalid(np.ma.asarray(data, dtype=np.float64)), np.nan))
        values = np.asarray(data, dtype=np.float64)
        for attribute in ("_FillValue", "missing_value"):
            if attribute in nc.ncattrs():
                values[values == np.float64(np.asarray(nc.getncattr(attribute), dtype=nc.dtype))] = np.nan
        values[~np.isfinite(values)] = np.nan
        return self._unstack(values)

    def _unstack(self, values: np.ndarray) -> np.ndarray:
        """A checkpoint's (..., 6N, N) as (..., 6, N, N)."""
        if self.info.grid.stacked_faces:
            n = self.info.grid.cs_res
            return values.reshape(values.shape[:-2] + (6, n, n))
        return values

    def _prefix(self, var: VariableInfo, t: int) -> tuple:
        return (t,) if var.dims and var.dims[0] == "time" else ()

    def field(self, name: str, *, time: int | datetime | None = 0, level: int | None = 1) -> Field:
        """One variable at one time step and level (from the surface): reads that slice only."""
        var = self.info.variable(name)
        t = self.time_index(time)
        k = self.file_level(var, level)
        index = self._prefix(var, t) + ((k,) if k is not None else ())
        values = self._read(var, index)
        pressure = None
        if var.levels is not None:
            pressure = float(self.pressure_mid(var.levels)[level - 1 if level else 0])
        return Field(values, self.geometry, var, self.info.times[t] if self.info.times else None,
                     level if var.levels is not None else None, pressure, self.info.demo, self.info.name)

    def column(self, name: str, *, time: int | datetime | None = 0) -> np.ndarray:
        """Every level of one time step, surface first: (levels, *horizontal)."""
        var = self.info.variable(name)
        if var.levels is None:
            raise ReaderError(f"{var.name} is a 2-D field: it has no levels")
        values = self._read(var, self._prefix(var, self.time_index(time)))
        return values[::-1] if self.info.top_first else values

    def level_series(self, name: str, *, level: int | None = 1) -> np.ndarray:
        """Every time step at one level (from the surface): (times, *horizontal)."""
        var = self.info.variable(name)
        k = self.file_level(var, level)
        if not (var.dims and var.dims[0] == "time"):
            raise ReaderError(f"{var.name} has no time dimension")
        return self._read(var, (slice(None),) + ((k,) if k is not None else ()))

    # --- vertical and horizontal geometry -------------------------------------------------------
    def pressure_mid(self, levels: int) -> np.ndarray:
        """Mid-level pressures (hPa, surface first) at a standard surface pressure: from the file's
        hybrid coefficients (Classic) or GEOS-Chem's 72- and 47-level grids (GCHP files carry none)."""
        ds = self.ds
        if "hyam" in ds.variables and "hybm" in ds.variables and ds.variables["hyam"].shape == (levels,):
            hyam = np.asarray(ds.variables["hyam"][:], float)
            hybm = np.asarray(ds.variables["hybm"][:], float)
            return hyam + hybm * vertical.STANDARD_SURFACE_HPA
        try:
            return vertical.mid_pressures(levels)
        except ValueError as exc:
            raise ReaderError(f"{self.info.name}: {exc}") from None

    @cached_property
    def geometry(self) -> Geometry:
        """Where the cells are. Files of one run share a grid, so geometries are kept per grid (a key
        from the grid's description and a hash of a few coordinate rows, cheap to read): a map of
        the next file reads no coordinates or areas again."""
        return _remember(_GEOMETRIES, self._geometry_key(), self._shared_geometry)

    def _shared_geometry(self) -> Geometry:
        """The geometry read from this file, its arrays made read-only: later files share it."""
        geometry = self._read_geometry()
        for name in ("area", "lat", "lon", "lat_edges", "lon_edges", "lats", "lons", "corner_lats", "corner_lons"):
            array = getattr(geometry, name)
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
        return geometry

    def _geometry_key(self) -> tuple:
        grid, ds = self.info.grid, self.ds
        digest = hashlib.blake2b(digest_size=16)
        if grid.kind == "latlon":
            names = ("lat", "lon", "lat_bnds", "lon_bnds")
            for name in names:
                if name in ds.variables:
                    digest.update(np.asarray(ds.variables[name][:], dtype=np.float64).tobytes())
            digest.update(b"AREA" if "AREA" in ds.variables else b"")
        elif not grid.stacked_faces:
            for name in ("corner_lons", "corner_lats", "lons", "lats"):
                if name in ds.variables:
                    var = ds.variables[name]
                    # A row and a column of every face: different cubes of one size differ there.
                    digest.update(np.asarray(var[:, 0, :], dtype=np.float64).tobytes())
                    digest.update(np.asarray(var[:, :, 0], dtype=np.float64).tobytes())
        return (grid.kind, grid.shape, grid.resolution, grid.lat_range, grid.lon_range, grid.stacked_faces,
                tuple(sorted((grid.stretch or {}).items())), digest.hexdigest())

    def _read_geometry(self) -> Geometry:
        grid, ds = self.info.grid, self.ds
        if grid.kind == "latlon":
            lat_e, lon_e = _latlon_edges(ds)
            lat = np.asarray(ds.variables["lat"][:], float)
            lon = np.asarray(ds.variables["lon"][:], float)
            if "AREA" in ds.variables and ds.variables["AREA"].shape == grid.shape:
                area = np.asarray(np.ma.filled(ds.variables["AREA"][:], np.nan), float)
            else:
                area = latlon_area(lat_e, lon_e)
            return Geometry(grid, area, lat=lat, lon=lon, lat_edges=lat_e, lon_edges=lon_e)
        if grid.stacked_faces:
            corners_lon, corners_lat = cubesphere.corners(grid.cs_res)
            lons, lats = cubesphere.centres(grid.cs_res)
        else:
            for needed in ("lons", "lats"):
                if needed not in ds.variables:
                    raise ReaderError(f"{self.info.name} is on a cubed sphere but has no {needed} coordinate")
            lons, lats = (np.asarray(ds.variables[v][:], float) for v in ("lons", "lats"))
            if "corner_lons" in ds.variables and "corner_lats" in ds.variables:
                corners_lon, corners_lat = (np.asarray(ds.variables[v][:], float) for v in ("corner_lons", "corner_lats"))
            elif grid.stretch is None:
                corners_lon, corners_lat = cubesphere.corners(grid.cs_res)
            else:
                raise ReaderError(f"{self.info.name} is on a stretched cube but has no corner coordinates")
        geometry = Geometry(grid, None, lats=lats, lons=lons, corner_lats=corners_lat, corner_lons=corners_lon)
        geometry.area = _cube_areas(geometry)
        return geometry


def geometry_fingerprint(geometry: Geometry) -> tuple:
    """A key that is the same for two files on the same grid (their coordinates summed, with the
    grid's description), cheap to compute: what per-grid caches are keyed by."""
    grid = geometry.grid
    arrays = ((geometry.corner_lons, geometry.corner_lats) if grid.kind == "cubed-sphere"
              else (geometry.lat_edges, geometry.lon_edges))
    sums = tuple(round(float(np.nansum(a)), 6) for a in arrays)
    return (grid.kind, grid.shape, grid.resolution, grid.lat_range, grid.lon_range,
            tuple(sorted((grid.stretch or {}).items())), sums)


_GEOMETRIES: "OrderedDict[tuple, Geometry]" = OrderedDict()
_AREAS: "OrderedDict[tuple, np.ndarray]" = OrderedDict()


def _cube_areas(geometry: Geometry) -> np.ndarray:
    """Cell areas from the corners, computed once per grid (31 ms for C180: more than reading a
    slice), not once per file."""
    def compute():
        area = cubesphere.cell_areas(geometry.corner_lons, geometry.corner_lats)
        area.setflags(write=False)
        return area

    return _remember(_AREAS, geometry_fingerprint(geometry), compute)


def _remember(store: OrderedDict, key, make, keep: int = 8):
    """A small per-process LRU: `store[key]`, made by `make()` the first time."""
    found = store.get(key)
    if found is None:
        found = store[key] = make()
        while len(store) > keep:
            store.popitem(last=False)
    store.move_to_end(key)
    return found

