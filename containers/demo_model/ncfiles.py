"""netCDF files in GEOS-Chem's layouts: Classic and GCHP diagnostics, and both restarts.

Classic diagnostics follow GEOS-Chem's History component (geoschem/geos-chem
``History/history_netcdf_mod.F90`` and ``GeosUtil/grid_registry_mod.F90``): dims ``time``
(unlimited), ``lev``, ``ilev``, ``lat``, ``lon``; index variables ``lon lat lev ilev hyam hybm hyai
hybi P0 AREA time`` with GEOS-Chem's names, long names and units; float32 data with
``averaging_method``. ``lat_bnds``/``lon_bnds`` (with a ``nv`` dim) are added for convenience.

GCHP diagnostics follow MAPL's cubed-sphere metadata (CubedSphereGridFactory
``append_metadata``): dims ``Xdim Ydim nf ncontact XCdim YCdim lev time``; ``lons lats`` (nf,
Ydim, Xdim), ``corner_lons corner_lats`` (nf, YCdim, XCdim), the fake ``Xdim``/``Ydim``
coordinates, ``nf``, ``contacts`` and ``anchor``.

Every file is labelled as demo-model output in its ``title`` and in a ``demo_model`` attribute.
"""

from __future__ import annotations

import functools
from datetime import datetime

import netCDF4
import numpy as np

DEMO_LABEL = "GEOS-Chem Cloud Runner demo model (radon/lead tracer model, NOT GEOS-Chem)"
FILL = 1.0e30          # GEOS-Chem's missing value
MAPL_FILL = 1.0e15     # MAPL's


def _variable(ds, name, dims, dtype, attrs, values=None):
    """Create a variable with its attributes and, if given, its values."""
    v = ds.createVariable(name, dtype, dims)
    v.setncatts(attrs)
    if values is not None:
        v[...] = values
    return v


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _common_attrs(simulation: str, start: datetime, end: datetime) -> dict:
    return {
        "demo_model": DEMO_LABEL,
        "simulation": simulation,
        "simulation_start_date_and_time": _stamp(start) + "z",
        "simulation_end_date_and_time": _stamp(end) + "z",
    }


class OutputFile:
    """An open diagnostics file that time slices are appended to."""

    def __init__(self, dataset: netCDF4.Dataset, shape3d: tuple, shape2d: tuple):
        self.ds = dataset
        self.shape3d, self.shape2d = shape3d, shape2d
        self.slices = 0
        self.path = dataset.filepath()

    def write(self, minutes: float, fields: dict) -> None:
        """Append one time slice; ``fields`` maps names to (nlev, ncell) or (ncell,) arrays."""
        k = self.slices
        self.ds.variables["time"][k] = minutes
        for name, values in fields.items():
            var = self.ds.variables[name]
            if values.ndim == 2:
                var[k] = values.reshape(self.shape3d)
            else:
                var[k] = values.reshape(self.shape2d)
        self.slices += 1

    def close(self) -> None:
        if self.ds.isopen():
            self.ds.close()


# ---------------------------------------------------------------------------------------------
# GEOS-Chem Classic
# ---------------------------------------------------------------------------------------------
def _classic_index_variables(ds, grid, vertical, reference: datetime) -> None:
    nlat, nlon = grid.shape
    ds.createDimension("time", None)
    ds.createDimension("lev", vertical.nlev)
    ds.createDimension("ilev", vertical.nlev + 1)
    ds.createDimension("lat", nlat)
    ds.createDimension("lon", nlon)
    ds.createDimension("nv", 2)

    var = functools.partial(_variable, ds)

    p0 = 1000.0
    var("time", ("time",), "f8", {"long_name": "Time", "units": f"minutes since {_stamp(reference)}",
                                  "calendar": "gregorian", "axis": "T"})
    var("lev", ("lev",), "f8", {"long_name": "hybrid level at midpoints ((A/P0)+B)", "units": "level",
                                "axis": "Z", "positive": "up",
                                "standard_name": "atmosphere_hybrid_sigma_pressure_coordinate",
                                "formula_terms": "a: hyam b: hybm p0: P0 ps: PS"},
        vertical.hyam / p0 + vertical.hybm)
    var("ilev", ("ilev",), "f8", {"long_name": "hybrid level at interfaces ((A/P0)+B)", "units": "level",
                                  "positive": "up",
                                  "standard_name": "atmosphere_hybrid_sigma_pressure_coordinate",
                                  "formula_terms": "a: hyai b: hybi p0: P0 ps: PS"},
        vertical.ap / p0 + vertical.bp)
    var("lat", ("lat",), "f8", {"long_name": "Latitude", "units": "degrees_north", "axis": "Y",
                                "bounds": "lat_bnds"}, grid.extra["lat"])
    var("lon", ("lon",), "f8", {"long_name": "Longitude", "units": "degrees_east", "axis": "X",
                                "bounds": "lon_bnds"}, grid.extra["lon"])
    le, oe = grid.extra["lat_edges"], grid.extra["lon_edges"]
    var("lat_bnds", ("lat", "nv"), "f8", {"long_name": "Latitude edges", "units": "degrees_north"},
        np.stack([le[:-1], le[1:]], axis=1))
    var("lon_bnds", ("lon", "nv"), "f8", {"long_name": "Longitude edges", "units": "degrees_east"},
        np.stack([oe[:-1], oe[1:]], axis=1))
    var("hyam", ("lev",), "f8", {"long_name": "hybrid A coefficient at layer midpoints", "units": "hPa"}, vertical.hyam)
    var("hybm", ("lev",), "f8", {"long_name": "hybrid B coefficient at layer midpoints", "units": "1"}, vertical.hybm)
    var("hyai", ("ilev",), "f8", {"long_name": "hybrid A coefficient at layer interfaces", "units": "hPa"}, vertical.ap)
    var("hybi", ("ilev",), "f8", {"long_name": "hybrid B coefficient at layer interfaces", "units": "1"}, vertical.bp)
    var("P0", (), "f8", {"long_name": "reference pressure", "units": "hPa"}, p0)
    var("AREA", ("lat", "lon"), "f4", {"long_name": "Surface area", "units": "m2"}, grid.area.reshape(nlat, nlon))


def create_classic_file(path, *, grid, vertical, reference: datetime, collection: str, simulation: str,
                        start: datetime, end: datetime, variables: list, restart: bool = False) -> OutputFile:
    """A new Classic file with its index variables and the data ``variables`` defined:
    (name, long_name, units, rank 2|3, averaging_method)."""
    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
    ds.setncatts({
        "title": f"GEOS-Chem diagnostic collection: {collection} (DEMO MODEL output, not GEOS-Chem)",
        "history": "Written by the GEOS-Chem Cloud Runner demo model",
        "format": "NetCDF-4",
        "conventions": "COARDS",
        "ProdDateTime": "",
        "reference": "GEOS-Chem Cloud Runner demo model; see containers/demo_model/README.md",
        "contact": "GEOS-Chem Cloud Runner (demo model output; not from, or supported by, the GEOS-Chem team)",
        **_common_attrs(simulation, start, end),
    })
    _classic_index_variables(ds, grid, vertical, reference)
    nlat, nlon = grid.shape
    for name, long_name, units, rank, method in variables:
        dims = ("time", "lev", "lat", "lon") if rank == 3 else ("time", "lat", "lon")
        chunks = (1, 1, nlat, nlon) if rank == 3 else (1, nlat, nlon)
        dtype = "f8" if restart and name.startswith("SpeciesRst_") else "f4"
        v = ds.createVariable(name, dtype, dims, zlib=True, complevel=1, chunksizes=chunks, fill_value=FILL)
        v.setncatts({"long_name": long_name, "units": units, "averaging_method": method,
                     "missing_value": np.array(FILL, dtype=dtype)})
    return OutputFile(ds, (vertical.nlev, nlat, nlon), (nlat, nlon))


# ---------------------------------------------------------------------------------------------
# GCHP
# ---------------------------------------------------------------------------------------------
_CONTACTS = np.array([[5, 3, 2, 6], [1, 3, 4, 6], [1, 5, 4, 2], [3, 5, 6, 2], [3, 1, 6, 4], [5, 1, 2, 4]], dtype="i4")


def _anchor(n: int) -> np.ndarray:
    """MAPL's 'anchor point' table. Its Fortran array anchor(j, k, face) is stored in netCDF
    (C order) as [face][k][j], which is how the rows below are written."""
    odd = [[n, n, 1, n], [1, n, 1, 1], [1, n, 1, 1], [n, n, 1, n]]
    even = [[n, 1, n, n], [1, 1, n, 1], [1, 1, n, 1], [n, 1, n, n]]
    return np.array([odd, even, odd, even, odd, even], dtype="i4")


def _gchp_index_variables(ds, grid, nlev: int, reference: datetime) -> None:
    n = grid.extra["n"]
    for name, size in (("Xdim", n), ("Ydim", n), ("nf", 6), ("ncontact", 4), ("XCdim", n + 1),
                       ("YCdim", n + 1), ("lev", nlev), ("time", None)):
        ds.createDimension(name, size)

    var = functools.partial(_variable, ds)

    var("Xdim", ("Xdim",), "f8", {"long_name": "Fake Longitude for GrADS Compatibility", "units": "degrees_east"},
        grid.extra["xdim"])
    var("Ydim", ("Ydim",), "f8", {"long_name": "Fake Latitude for GrADS Compatibility", "units": "degrees_north"},
        grid.extra["ydim"])
    var("nf", ("nf",), "i4", {"long_name": "cubed-sphere face", "axis": "e", "grads_dim": "e"}, np.arange(1, 7))
    var("ncontact", ("ncontact",), "i4", {"long_name": "number of contact points"}, np.arange(1, 5))
    var("contacts", ("nf", "ncontact"), "i4",
        {"long_name": "adjacent face starting from left side going clockwise"}, _CONTACTS)
    var("anchor", ("nf", "ncontact", "ncontact"), "i4", {"long_name": "anchor point"}, _anchor(n))
    var("lons", ("nf", "Ydim", "Xdim"), "f8", {"long_name": "longitude", "units": "degrees_east"}, grid.extra["lons"])
    var("lats", ("nf", "Ydim", "Xdim"), "f8", {"long_name": "latitude", "units": "degrees_north"}, grid.extra["lats"])
    var("corner_lons", ("nf", "YCdim", "XCdim"), "f8", {"long_name": "longitude", "units": "degrees_east"},
        grid.extra["corner_lons"])
    var("corner_lats", ("nf", "YCdim", "XCdim"), "f8", {"long_name": "latitude", "units": "degrees_north"},
        grid.extra["corner_lats"])
    var("lev", ("lev",), "f8", {"long_name": "vertical level", "units": "layer", "positive": "down",
                                "coordinate": "eta", "standard_name": "model_layers"}, np.arange(1, nlev + 1))
    var("time", ("time",), "f8", {"long_name": "time", "units": f"minutes since {_stamp(reference)}",
                                  "begin_date": np.int32(int(reference.strftime("%Y%m%d"))),
                                  "begin_time": np.int32(int(reference.strftime("%H%M%S")))})
    cs = ds.createVariable("cubed_sphere", "i4", ())
    cs.setncatts({"grid_mapping_name": "gnomonic cubed-sphere"})


def create_gchp_file(path, *, grid, nlev: int, reference: datetime, collection: str, simulation: str,
                     start: datetime, end: datetime, variables: list) -> OutputFile:
    """A new GCHP (MAPL) diagnostics file with ``variables`` (name, long_name, units, rank,
    averaging_method) defined on (time, lev, nf, Ydim, Xdim); level 1 is the surface."""
    n = grid.extra["n"]
    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
    ds.setncatts({
        "Title": f"GCHP diagnostic collection: {collection} (DEMO MODEL output, not GCHP)",
        "History": "File written by the GEOS-Chem Cloud Runner demo model",
        "Source": "GEOS-Chem Cloud Runner demo model",
        "Contact": "GEOS-Chem Cloud Runner (demo model output; not from, or supported by, the GEOS-Chem team)",
        "Conventions": "CF",
        "grid_mapping_name": "gnomonic cubed-sphere",
        "file_format_version": "2.91",
        "additional_vars": "contacts,orientation,anchor",
        "gridspec_file": f"C{n}_gridspec.nc4",
        **_common_attrs(simulation, start, end),
    })
    _gchp_index_variables(ds, grid, nlev, reference)
    for name, long_name, units, rank, method in variables:
        dims = ("time", "lev", "nf", "Ydim", "Xdim") if rank == 3 else ("time", "nf", "Ydim", "Xdim")
        chunks = (1, 1, 6, n, n) if rank == 3 else (1, 6, n, n)
        v = ds.createVariable(name, "f4", dims, zlib=True, complevel=1, chunksizes=chunks, fill_value=MAPL_FILL)
        fill = np.float32(MAPL_FILL)
        v.setncatts({"long_name": long_name, "units": units, "missing_value": fill,
                     "fmissing_value": fill, "standard_name": name, "coordinates": "lons lats",
                     "grid_mapping": "cubed_sphere", "averaging_method": method})
    return OutputFile(ds, (nlev, 6, n, n), (6, n, n))


def write_gchp_restart(path, *, grid, species: dict, delp_dry: np.ndarray, when: datetime,
                       simulation: str, start: datetime, end: datetime) -> None:
    """GCHP checkpoint layout: (time, lev, lat, lon) with lat = 6N (faces stacked) and level 1 at
    the TOP of the atmosphere. ``species`` maps names to (nlev, ncell) surface-first arrays."""
    n = grid.extra["n"]
    nlev = delp_dry.shape[0]
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.setncatts({"Title": "GCHP checkpoint (DEMO MODEL output, not GCHP)",
                      "History": "File written by the GEOS-Chem Cloud Runner demo model",
                      **_common_attrs(simulation, start, end)})
        for name, size in (("lon", n), ("lat", 6 * n), ("lev", nlev), ("time", 1)):
            ds.createDimension(name, size)
        for name, size, attrs in (("lon", n, {"long_name": "longitude", "units": "degrees_east"}),
                                  ("lat", 6 * n, {"long_name": "latitude", "units": "degrees_north"}),
                                  ("lev", nlev, {"long_name": "vertical level", "units": "layer", "positive": "down"})):
            v = ds.createVariable(name, "f8", (name,))
            v.setncatts(attrs)
            v[:] = np.arange(1, size + 1)
        t = ds.createVariable("time", "f8", ("time",))
        t.setncatts({"long_name": "time", "units": f"minutes since {_stamp(when)}"})
        t[:] = 0.0

        def put(name, long_name, units, values):
            v = ds.createVariable(name, "f8", ("time", "lev", "lat", "lon"), zlib=True, complevel=1)
            v.setncatts({"long_name": long_name, "units": units})
            v[0] = values.reshape(nlev, 6 * n, n)[::-1]

        for spc, values in species.items():
            put(f"SPC_{spc}", f"Dry mixing ratio of species {spc}", "mol mol-1 dry", values)
        put("DELP_DRY", "Delta-pressure across grid box (dry air)", "hPa", delp_dry)


# ---------------------------------------------------------------------------------------------
# Reading restarts
# ---------------------------------------------------------------------------------------------
class RestartError(Exception):
    """A restart file does not fit the run."""


def _species_variable(ds, species: str):
    for name in (f"SpeciesRst_{species}", f"SPC_{species}", f"SpeciesConcVV_{species}"):
        if name in ds.variables:
            return ds.variables[name]
    return None


def read_restart(path, *, grid, model: str, species: tuple) -> tuple[dict, int]:
    """Species (nlev_file, ncell) surface-first arrays from a restart, and the file's number of
    levels. Missing species are left out of the dict. Classic files may cover a larger lat-lon
    grid at the same resolution (a global restart for a nested run): the run's boxes are picked
    out by coordinate."""
    out, nlev = {}, None
    with netCDF4.Dataset(path) as ds:
        for spc in species:
            var = _species_variable(ds, spc)
            if var is None:
                continue
            data = np.asarray(var[:], dtype=float)
            if data.ndim == 4:
                data = data[0]
            if data.ndim != 3:
                raise RestartError(f"{path}: {var.name} has dims {var.dimensions}, expected (time, lev, lat, lon)")
            if model == "gchp":
                n = grid.extra["n"]
                if data.shape[1:] != (6 * n, n):
                    raise RestartError(f"{path}: {var.name} is {data.shape[1]}x{data.shape[2]}, not the C{n} checkpoint shape {6 * n}x{n}")
                data = data[::-1].reshape(data.shape[0], grid.ncell)     # level 1 is the top
            else:
                data = _pick_latlon(ds, data, grid, path)
            nlev = data.shape[0]
            out[spc] = data
    return out, nlev


def _pick_latlon(ds, data: np.ndarray, grid, path) -> np.ndarray:
    nlat, nlon = grid.shape
    if data.shape[1:] == (nlat, nlon):
        return data.reshape(data.shape[0], -1)
    if "lat" in ds.variables and "lon" in ds.variables:
        lat, lon = np.asarray(ds.variables["lat"][:]), np.asarray(ds.variables["lon"][:])
        jj = [np.flatnonzero(np.isclose(lat, y, atol=1e-4)) for y in grid.extra["lat"]]
        ii = [np.flatnonzero(np.isclose((lon - x + 180.0) % 360.0 - 180.0, 0.0, atol=1e-4)) for x in grid.extra["lon"]]
        if all(j.size == 1 for j in jj) and all(i.size == 1 for i in ii):
            j = np.array([j[0] for j in jj])
            i = np.array([i[0] for i in ii])
            return data[:, j][:, :, i].reshape(data.shape[0], -1)
    raise RestartError(f"{path}: its {data.shape[1]}x{data.shape[2]} grid does not match the run's {nlat}x{nlon} grid")
