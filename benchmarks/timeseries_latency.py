"""Time-series latency: the product's series over a month of daily files against xarray's way.

    .venv/bin/python benchmarks/timeseries_latency.py [--make 31] [--model classic|gchp|both] [--json]
    .venv/bin/python benchmarks/timeseries_latency.py --files DIR --var VAR [--json]

With no --files it makes N (default 31) daily files of one species on 72 levels, GEOS-Chem's
layout (one chunk per level and time): Classic 2x2.5 global (--resolution) and GCHP C90 (--cs).
Why those: they are what month-long daily output is usually written at (2x2.5 is Classic's
common global resolution, C90, about 1 degree, GCHP's); 0.25x0.3125 and C180 are covered by
map_latency.py. The files go in a temporary folder, or in --out, which keeps them for next time.
--files runs on any folder of GEOS-Chem Classic or GCHP files of one collection (in name order).

Timings of an area-weighted global mean at the surface per time step, in one run, each the
best of --repeat (default 3) with the OS page cache warm for all (one untimed pass first):
- ours: `results.figures.series_figure(paths, VAR, level=1, region=Region.globe(),
  use_cache=False)`, what the view does when the index has no summary: every file read at
  that one level, reduced, plotted and serialised;
- naive: `xarray.open_mfdataset(paths)[VAR].isel(lev=k).weighted(AREA).mean(...).compute()`
  when dask is installed; without dask open_mfdataset cannot run, and the naive way is
  `xarray.concat([xarray.open_dataset(p)[VAR] for p in paths], "time").isel(lev=k)` then the
  same weighted mean; concatenating loads every level of every file (`naive_method` says which);
- xarray_level_first: the careful xarray way, `isel(lev=k)` on each file before the concat, so
  it reads one level per file as ours does (what open_mfdataset with dask would also read).
k is the surface's level index found by the product's reader. AREA is the file's (Classic); a
GCHP diagnostic carries none, so the naive ways get the product's cell areas, computed before
the timing. The means of all three are compared (max_relative_difference).

The index: `results.indexing.file_index` run on each file (metadata and the summaries, written
to a temporary SQLite database) is the one-time cost a finished job pays, reported per file and
per file and species (it summarises every species at three levels; these files hold one, real
ones hundreds); and `results.selectors.summary_series`, the fast path the view takes afterwards
(a database read), timed like the others.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.map_latency import code_version, configure_django  # noqa: E402

VARIABLE = "SpeciesConcVV_O3"


def make_series(model: str, folder: Path, count: int, *, resolution: str, cs: int) -> tuple[list[Path], float | None]:
    """`count` daily files of `model` in `folder`, and the seconds writing them took (None: reused)."""
    from benchmarks import synthetic_files

    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2019, 7, 1)
    days = [start + timedelta(days=d) for d in range(count)]
    paths = [folder / f"GEOSChem.SpeciesConc.{day:%Y%m%d}_0000z.nc4" for day in days]
    stamp = folder / "made-with.json"
    recipe = {"model": model, "count": count, "resolution": resolution, "cs": cs, "species": ["O3"]}
    if stamp.is_file() and json.loads(stamp.read_text()) == recipe and all(p.is_file() for p in paths):
        return paths, None
    started = time.perf_counter()
    for day, path in zip(days, paths):
        if model == "classic":
            synthetic_files.write_classic(path, resolution=resolution, levels=72, species=("O3",), start=day)
        else:
            synthetic_files.write_gchp(path, cs=cs, levels=72, species=("O3",), start=day)
    took = time.perf_counter() - started
    stamp.write_text(json.dumps(recipe))
    return paths, took


def _has_dask() -> bool:
    return importlib.util.find_spec("dask") is not None


def _layout(paths, variable: str, level: int) -> dict:
    """What the product's reader makes of the series: the variable's name, the level's index in
    the files, the horizontal dimensions, the cell areas, the species count and the grid."""
    from results import readers

    with readers.Reader(paths[0]) as reader:
        info = reader.info
        var = info.variable(variable)
        horizontal = var.dims[-len(info.grid.shape):]
        return {"name": var.name, "k": reader.file_level(var, level), "horizontal": tuple(horizontal),
                "area": reader.geometry.area, "has_area": "AREA" in reader.ds.variables,
                "species": sum(1 for v in info.variables if v.species), "grid": info.grid.label,
                "model": info.model, "collection": info.collection}


def naive_means(paths, layout: dict, *, level_first: bool = False):
    """Area-weighted global means per time step the xarray way (see the module's docstring)."""
    import xarray as xr

    name, k, dims = layout["name"], layout["k"], layout["horizontal"]
    if layout["has_area"]:
        with xr.open_dataset(paths[0]) as first:
            area = first["AREA"].load()
    else:
        area = xr.DataArray(layout["area"], dims=dims)
    if _has_dask() and not level_first:
        with xr.open_mfdataset(paths) as ds:
            return ds[name].isel(lev=k).weighted(area).mean(dims).compute().values
    opened = [xr.open_dataset(p) for p in paths]
    try:
        if level_first:
            series = xr.concat([ds[name].isel(lev=k) for ds in opened], dim="time")
        else:
            series = xr.concat([ds[name] for ds in opened], dim="time").isel(lev=k)
        return series.weighted(area).mean(dims).compute().values
    finally:
        for ds in opened:
            ds.close()


def _best(runs: dict, repeat: int) -> tuple[dict, dict]:
    """Best seconds of `repeat` and the last value of each of `runs`, after one untimed pass of
    each (the page cache and imports warm), interleaved so that another process's load falls on
    all of them alike."""
    values = {key: fn() for key, fn in runs.items()}
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for key, fn in runs.items():
            started = time.perf_counter()
            values[key] = fn()
            best[key] = min(best[key], time.perf_counter() - started)
    return best, values


def _indexed(paths, repeat: int) -> dict:
    """file_index on every file (best of `repeat` passes), then summary_series (best of `repeat`)."""
    from django.core.management import call_command

    from accounts.models import User
    from results import indexing
    from simulations.models import Simulation

    call_command("migrate", verbosity=0)
    folder = Path(paths[0]).parent.resolve()
    owner, _ = User.objects.get_or_create(email="bench@example.org")
    sim = Simulation.objects.create(owner=owner, name="timeseries bench", model="classic",
                                    simulation_type="fullchem", resolution="bench", config={},
                                    executable="demo", status="succeeded", segments_total=1,
                                    output_uri=folder.as_uri() + "/")
    names = [Path(p).name for p in paths]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        rows = [indexing.file_index(sim=sim, path=name) for name in names]
        best = min(best, time.perf_counter() - started)
    errors = [row.error for row in rows if row.error]
    if errors:
        raise SystemExit(f"indexing could not read the files: {errors[0]}")
    collection = rows[0].collection
    return {"sim": sim, "collection": collection, "indexing_total_s": best}


def measure(paths, variable: str = VARIABLE, *, level: int = 1, repeat: int = 3, index: bool = True) -> dict:
    """Ours, the naive way and xarray level-first for one series over `paths`; the index's costs."""
    import numpy as np

    from results import analysis, figures, selectors

    paths = [str(p) for p in paths]
    layout = _layout(paths, variable, level)
    produced = {}

    def ours():
        produced["figure"] = figures.series_figure(paths, variable, level=level, region=analysis.Region.globe(),
                                                   use_cache=False)

    best, values = _best({"ours": ours, "naive": lambda: naive_means(paths, layout),
                          "first": lambda: naive_means(paths, layout, level_first=True)}, repeat)
    ours_s, naive_s, first_s = best["ours"], best["naive"], best["first"]
    naive, first = values["naive"], values["first"]
    figure = produced["figure"]
    factor, _ = analysis.display_units(figure.data["file_units"], naive)
    shown = np.asarray([np.nan if v is None else v for v in figure.data["values"]], dtype=float)
    method = ("xarray.open_mfdataset(paths) (dask installed)" if _has_dask() else
              "dask is not installed, so xarray.open_mfdataset cannot run: "
              "xarray.concat([xarray.open_dataset(p)[VAR] for p in paths], 'time') then .isel(lev=k), "
              "which loads every level of every file")
    result = {
        "files": len(paths), "folder": str(Path(paths[0]).parent), "variable": layout["name"], "level": level,
        "level_index": layout["k"], "grid": layout["grid"], "model": layout["model"],
        "bytes": sum(Path(p).stat().st_size for p in paths), "time_steps": len(shown), "repeat": repeat,
        "page_cache": "warm", "naive_method": method,
        "area_source": "the file's AREA" if layout["has_area"] else "the product's cell areas (none in the file)",
        "ours_s": ours_s, "naive_s": naive_s, "xarray_level_first_s": first_s,
        "naive_over_ours": naive_s / ours_s, "xarray_level_first_over_ours": first_s / ours_s,
        "payload_bytes": figure.payload_bytes,
        "max_relative_difference": float(max(np.nanmax(np.abs(shown / (naive * factor) - 1)),
                                             np.nanmax(np.abs(first / naive - 1)))),
        "code": code_version(),
    }
    if index:
        indexed = _indexed(paths, repeat)
        sim, collection = indexed["sim"], indexed["collection"]
        best, values = _best({"summary": lambda: selectors.summary_series(sim, collection, variable,
                                                                           region="global", level=level)}, repeat)
        summary_s, found = best["summary"], values["summary"]
        if found is None:
            raise SystemExit("the index holds no summary for this series")
        total = indexed["indexing_total_s"]
        result.update({
            "species_in_files": layout["species"], "indexing_total_s": total,
            "indexing_per_file_s": total / len(paths),
            "indexing_per_file_per_species_s": total / len(paths) / max(1, layout["species"]),
            "summary_series_s": summary_s, "ours_over_summary_series": ours_s / summary_s,
            "summary_max_relative_difference": float(np.nanmax(np.abs(
                np.asarray(found[1], dtype=float) / naive - 1))),
        })
    return result


def _print(result: dict) -> None:
    print(f"{result['files']} files in {result['folder']}: {result['grid']}, {result['variable']} level "
          f"{result['level']} (index {result['level_index']}), {result['time_steps']} time steps, "
          f"{result['bytes'] / 1e6:.1f} MB")
    if result.get("made"):
        print(f"  made: {result['made']}; writing took "
              + (f"{result['make_s']:.1f} s" if result.get("make_s") is not None else "nothing (reused)"))
    print(f"  code {result['code']}; best of {result['repeat']}, page cache warm for all:")
    print(f"    ours (figures.series_figure, cold)   {result['ours_s'] * 1000:9.1f} ms")
    print(f"    naive                                {result['naive_s'] * 1000:9.1f} ms   naive/ours "
          f"{result['naive_over_ours']:.2f}")
    print(f"    xarray, level selected per file      {result['xarray_level_first_s'] * 1000:9.1f} ms   "
          f"that/ours {result['xarray_level_first_over_ours']:.2f}")
    print(f"  naive: {result['naive_method']}; area: {result['area_source']}")
    print(f"  means agree to {result['max_relative_difference']:.1e} (relative); "
          f"payload {result['payload_bytes']:,} bytes")
    if "indexing_total_s" in result:
        print(f"  index (one-time, when the job finishes): {result['indexing_per_file_s'] * 1000:.1f} ms per file "
              f"({result['species_in_files']} species: {result['indexing_per_file_per_species_s'] * 1000:.1f} ms per "
              f"file and species), {result['indexing_total_s']:.2f} s for all")
        print(f"  then summary_series (the view's fast path): {result['summary_series_s'] * 1000:.2f} ms; "
              f"ours/summary_series {result['ours_over_summary_series']:.0f}; agrees to "
              f"{result['summary_max_relative_difference']:.1e}")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=Path, help="a folder of one collection's files (default: make them)")
    parser.add_argument("--make", type=int, default=31, metavar="N", help="daily files to make (default 31)")
    parser.add_argument("--model", choices=("classic", "gchp", "both"), default="both")
    parser.add_argument("--resolution", default="2x2.5", help="Classic resolution of the files made")
    parser.add_argument("--cs", type=int, default=90, help="GCHP cube size of the files made")
    parser.add_argument("--var", help=f"variable or species (default {VARIABLE})")
    parser.add_argument("--level", type=int, default=1, help="from the surface (1)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="keep the files made here (and reuse them next time)")
    parser.add_argument("--no-index", action="store_true", help="skip the indexing and summary_series timings")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="gcr-timeseries-latency-"))
    try:
        configure_django(tmp / "data")
        options = {"level": args.level, "repeat": args.repeat, "index": not args.no_index}
        results = []
        if args.files:
            paths = sorted(p for p in args.files.iterdir() if p.suffix in (".nc", ".nc4"))
            if not paths:
                parser.error(f"{args.files} holds no .nc or .nc4 files")
            from results.readers import ReaderError

            try:
                results.append(measure(paths, args.var or VARIABLE, **options))
            except ReaderError as exc:
                parser.exit(1, f"{exc}\n")
        else:
            folder = args.out or tmp
            for model in (("classic", "gchp") if args.model == "both" else (args.model,)):
                grid = args.resolution if model == "classic" else f"C{args.cs}"
                paths, took = make_series(model, folder / model, args.make, resolution=args.resolution, cs=args.cs)
                result = measure(paths, args.var or VARIABLE, **options)
                result.update(made=f"{args.make} daily {model} {grid} files, 72 levels, one species", make_s=took)
                results.append(result)
        if args.json:
            print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        else:
            for result in results:
                _print(result)
                print()
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
