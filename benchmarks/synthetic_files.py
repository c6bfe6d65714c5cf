"""Synthetic GEOS-Chem output files of any size, for the results benchmarks and tests.

The demo model writes real GEOS-Chem layouts but runs only coarse grids; the viewer must also be
measured on a global 0.25x0.3125 Classic file and a GCHP C180 file. These writers produce those
layouts (shared/GEOSCHEM.md section 4) with smooth, plausible values: Classic (time, lev, lat, lon)
with `SpeciesConcVV_` or the 14.0 `SpeciesConc_` names, hybrid coefficients and AREA, one chunk
per level and time as GEOS-Chem writes; GCHP diagnostics (time, lev, nf, Ydim, Xdim) with centre
and corner coordinates; GCHP checkpoints (lat = 6N, level 1 at the top). Labelled synthetic.

    .venv/bin/python benchmarks/synthetic_files.py classic --resolution 0.25x0.3125 --out DIR
    .venv/bin/python benchmarks/synthetic_files.py gchp --cs 180 --out DIR
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path

import netCDF4
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results import cubesphere, vertical  # noqa: E402
from results.readers import latlon_area  # noqa: E402

LABEL = "synthetic GEOS-Chem-layout file for the platform's benchmarks and tests (not model output)"
SPACING = {"4x5": (4.0, 5.0), "2x2.5": (2.0, 2.5), "0.5x0.625": (0.5, 0.625), "0.25x0.3125": (0.25, 0.3125),
           "0.125x0.15625": (0.125, 0.15625)}


def _values(lat: np.ndarray, lon: np.ndarray, level_p: np.ndarray, species_index: int, t: int) -> np.ndarray:
    """(levels, *horizontal) mixing ratios: a surface maximum in the northern mid-latitudes that
    decays with height, a zonal wave, and a small drift in time; different per species."""
    base = (20 + 10 * species_index) * 1e-9
    shape = np.exp(-((lat - 40.0) / 35.0) ** 2) * (1 + 0.3 * np.cos(np.deg2rad(lon) * (2 + species_index)))
    profile = (level_p / 1013.25)[:, None] ** 0.7
    return (base * (0.3 + shape.ravel()[None, :] * (1 + 0.05 * t)) * profile).reshape((level_p.size,) + lat.shape)


def _time_axis(ds, start: datetime, times: int, step: timedelta):
    ds.createDimension("time", None)
    var = ds.createVariable("time", "f8", ("time",))
    var.units = f"minutes since {start:%Y-%m-%d %H:%M:%S}"
    var.calendar = "gregorian"
    var[:] = [i * step.total_seconds() / 60 for i in range(times)]


def _latlon_axes(resolution: str, box):
    """Centres and edges of GEOS-Chem's global grid (half-size polar boxes, longitudes from
    -180), or of the boxes whose centres fall in `box` ((W, E), (S, N)) for a nested domain."""
    dlat, dlon = SPACING[resolution]
    lat = np.concatenate([[-90 + dlat / 4], np.arange(-90 + dlat, 90 - dlat / 2, dlat), [90 - dlat / 4]])
    lat_edges = np.concatenate([[-90.0], np.arange(-90 + dlat / 2, 90 - dlat / 4, dlat), [90.0]])
    lon = np.arange(-180.0, 180.0 - dlon / 2, dlon)
    lon_edges = np.concatenate([lon - dlon / 2, [lon[-1] + dlon / 2]])
    if box:
        (w, e), (s, n) = box
        j = np.flatnonzero((lat >= s) & (lat <= n))
        i = np.flatnonzero((lon >= w) & (lon <= e))
        lat, lat_edges = lat[j], lat_edges[j[0]:j[-1] + 2]
        lon, lon_edges = lon[i], lon_edges[i[0]:i[-1] + 2]
    return lat, lon, lat_edges, lon_edges


def _hybrid_edges(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """GEOS-Chem's 72 or 47 levels; any other count takes the lowest levels of the 72-level grid
    (small test files; the file carries its coefficients, so readers still get pressures)."""
    if levels in (72, 47):
        return vertical.edges(levels)
    return vertical.AP72[:levels + 1], vertical.BP72[:levels + 1]


def write_classic(path, *, resolution: str = "4x5", levels: int = 72, times: int = 1,
                  species: tuple[str, ...] = ("O3", "CO"), naming: str = "SpeciesConcVV_", box=None,
                  start: datetime = datetime(2019, 7, 1), step: timedelta = timedelta(days=1)) -> Path:
    """A Classic SpeciesConc-like file; `box` ((W, E), (S, N)) makes a nested domain."""
    path = Path(path)
    lat, lon, lat_edges, lon_edges = _latlon_axes(resolution, box)
    ap, bp = _hybrid_edges(levels)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.title = f"GEOS-Chem diagnostic collection: SpeciesConc ({LABEL})"
        ds.synthetic = LABEL
        _time_axis(ds, start, times, step)
        for name, size in (("lev", levels), ("ilev", levels + 1), ("lat", lat.size), ("lon", lon.size), ("nv", 2)):
            ds.createDimension(name, size)
        coordinates = {"lat": lat, "lon": lon, "hyam": 0.5 * (ap[:-1] + ap[1:]), "hybm": 0.5 * (bp[:-1] + bp[1:])}
        for name, values in coordinates.items():
            dim = "lev" if name in ("hyam", "hybm") else name
            var = ds.createVariable(name, "f8", (dim,))
            var[:] = values
        ds.variables["hyam"].units = "hPa"
        lev = ds.createVariable("lev", "f8", ("lev",))
        lev.positive, lev.formula_terms = "up", "a: hyam b: hybm p0: P0 ps: PS"
        lev[:] = coordinates["hyam"] / 1000 + coordinates["hybm"]
        ds.createVariable("P0", "f8", ())[...] = 1000.0
        for name, edges in (("lat_bnds", lat_edges), ("lon_bnds", lon_edges)):
            ds.createVariable(name, "f8", (name[:3], "nv"))[:] = np.stack([edges[:-1], edges[1:]], axis=1)
        area = ds.createVariable("AREA", "f4", ("lat", "lon"))
        area.units = "m2"
        area[:] = latlon_area(lat_edges, lon_edges)
        lon2, lat2 = np.meshgrid(lon, lat)
        pressure = 0.5 * (ap[:-1] + ap[1:]) + 0.5 * (bp[:-1] + bp[1:]) * vertical.STANDARD_SURFACE_HPA
        for s, spc in enumerate(species):
            var = ds.createVariable(naming + spc, "f4", ("time", "lev", "lat", "lon"), zlib=True, complevel=1,
                                    chunksizes=(1, 1, lat.size, lon.size), fill_value=1.0e30)
            var.long_name, var.units = f"Dry mixing ratio of species {spc}", "mol mol-1 dry"
            for t in range(times):
                var[t] = _values(lat2, lon2, pressure, s, t).astype("f4")
    return path


def write_gchp(path, *, cs: int = 24, levels: int = 72, times: int = 1, species: tuple[str, ...] = ("O3", "CO"),
               collection: str = "SpeciesConc", start: datetime = datetime(2019, 7, 1),
               step: timedelta = timedelta(days=1)) -> Path:
    """A GCHP (MAPL) diagnostics file on C`cs`; in the Emissions collection level 1 is the top."""
    path = Path(path)
    corner_lons, corner_lats = cubesphere.corners(cs)
    lons, lats = cubesphere.centres(cs)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.Title = f"GCHP diagnostic collection: {collection} ({LABEL})"
        ds.synthetic = LABEL
        _time_axis(ds, start, times, step)
        for name, size in (("Xdim", cs), ("Ydim", cs), ("nf", 6), ("XCdim", cs + 1), ("YCdim", cs + 1), ("lev", levels)):
            ds.createDimension(name, size)
        ds.createVariable("nf", "i4", ("nf",))[:] = np.arange(1, 7)
        ds.createVariable("lev", "f8", ("lev",))[:] = np.arange(1, levels + 1)
        for name, values in (("lons", lons), ("lats", lats)):
            ds.createVariable(name, "f8", ("nf", "Ydim", "Xdim"))[:] = values
        for name, values in (("corner_lons", corner_lons), ("corner_lats", corner_lats)):
            ds.createVariable(name, "f8", ("nf", "YCdim", "XCdim"))[:] = values
        pressure = vertical.mid_pressures(levels)
        for s, spc in enumerate(species):
            var = ds.createVariable(f"SpeciesConcVV_{spc}", "f4", ("time", "lev", "nf", "Ydim", "Xdim"), zlib=True,
                                    complevel=1, chunksizes=(1, 1, 6, cs, cs), fill_value=1.0e15)
            var.long_name, var.units = f"Dry mixing ratio of species {spc}", "mol mol-1 dry"
            for t in range(times):
                values = _values(lats, lons, pressure, s, t)
                var[t] = (values[::-1] if collection == "Emissions" else values).astype("f4")
    return path


def write_gchp_restart(path, *, cs: int = 24, levels: int = 72, species: tuple[str, ...] = ("O3",)) -> Path:
    """A GCHP checkpoint: (time, lev, lat = 6N, lon = N), faces stacked, level 1 at the top."""
    path = Path(path)
    lons, lats = cubesphere.centres(cs)
    pressure = vertical.mid_pressures(levels)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.Title = f"GCHP checkpoint ({LABEL})"
        for name, size in (("lon", cs), ("lat", 6 * cs), ("lev", levels), ("time", 1)):
            ds.createDimension(name, size)
            ds.createVariable(name, "f8", (name,))[:] = np.arange(1, size + 1)
        ds.variables["time"].units = "minutes since 2019-07-01 00:00:00"
        for s, spc in enumerate(species):
            var = ds.createVariable(f"SPC_{spc}", "f8", ("time", "lev", "lat", "lon"))
            var.units = "mol mol-1 dry"
            var[0] = _values(lats, lons, pressure, s, 0)[::-1].reshape(levels, 6 * cs, cs)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic GEOS-Chem-layout file.")
    parser.add_argument("kind", choices=("classic", "gchp"))
    parser.add_argument("--resolution", default="0.25x0.3125", choices=sorted(SPACING))
    parser.add_argument("--cs", type=int, default=180)
    parser.add_argument("--levels", type=int, default=72)
    parser.add_argument("--times", type=int, default=1)
    parser.add_argument("--out", required=True, help="folder to write into")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.kind == "classic":
        path = write_classic(out / "GEOSChem.SpeciesConc.20190701_0000z.nc4", resolution=args.resolution,
                             levels=args.levels, times=args.times)
    else:
        path = write_gchp(out / "GEOSChem.SpeciesConc.20190701_0000z.nc4", cs=args.cs, levels=args.levels,
                          times=args.times)
    print(path)


if __name__ == "__main__":
    main()
