"""Map latency: the product's surface map of one file against the floor and the naive way.

    .venv/bin/python benchmarks/map_latency.py [--make classic|gchp|both] [--out DIR] [--json]
    .venv/bin/python benchmarks/map_latency.py --file FILE --var VAR [--level 1] [--time 0] [--json]

With no --file it makes realistic files (Classic 0.25x0.3125 on 72 levels, GCHP C180 on 72
levels, one species each, GEOS-Chem's layout of one chunk per level and time; see
benchmarks/synthetic_files.py) in a temporary folder, or in --out, which keeps them (and reuses
them on the next run), and runs on each. --file runs on any GEOS-Chem Classic or GCHP file.

Three timings of one map, in one run, each the best of --repeat (default 3), interleaved so
that another process's load falls on all three alike:
- floor: netCDF4 opens the file, reads `var[time, level]` (the level index found by the
  product's reader: level 1 is the surface in every layout) and closes it. No figure is made.
- naive: `xarray.open_dataset(FILE)[VAR].load()`, the whole variable (all levels and times).
- ours: `results.figures.map_figure(FILE, VAR, time=, level=, use_cache=False)`, the very function
  the map view calls, with Django's figure cache bypassed (cold): read the slice, reduce it to
  screen size, build the Bokeh figure and turn it into the JSON document.
The OS page cache is warm for all three (one untimed pass of each first): these are the costs
of the computation and the decompression, not of the disk. With --drop-caches (root only) each
timing is also taken after `sync; echo 3 > /proc/sys/vm/drop_caches` and reported beside.

Reported: floor_s, naive_s, ours_s, ours_over_floor, naive_over_ours, payload_bytes (the JSON
the browser receives, `Figure.payload_bytes`), the file's size and grid against the displayed
grid, and `stages`: the functions map_figure's build calls, with their cumulative seconds under
cProfile, to show where ours goes. Django is configured with GCR_DATA_DIR in a temporary folder,
so nothing touches var/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIABLE = "SpeciesConcVV_O3"
MADE = {
    "classic": ("GEOSChem.SpeciesConc.20190701_0000z.nc4", "Classic 0.25x0.3125, 72 levels"),
    "gchp": ("GEOSChem.SpeciesConc.20190701_0000z.c180.nc4", "GCHP C180, 72 levels"),
}


def configure_django(data_dir: Path) -> None:
    """Django settings with every file the settings would write kept in `data_dir` (not var/)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoschem_runner.settings")
    os.environ["GCR_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GCR_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def make_file(kind: str, folder: Path) -> tuple[Path, float | None]:
    """The realistic file of `kind` in `folder` and the seconds it took to write (None: reused)."""
    from benchmarks import synthetic_files

    name, _ = MADE[kind]
    path = folder / name
    if path.is_file() and _holds(path, VARIABLE):
        return path, None
    started = time.perf_counter()
    if kind == "classic":
        synthetic_files.write_classic(path, resolution="0.25x0.3125", levels=72, species=("O3",))
    else:
        synthetic_files.write_gchp(path, cs=180, levels=72, species=("O3",))
    return path, time.perf_counter() - started


def _holds(path: Path, variable: str) -> bool:
    from results import readers

    try:
        readers.inspect(path).variable(variable)
    except readers.ReaderError:
        return False
    return True


def code_version() -> str:
    """The commit measured, and whether results/ differs from it (other work in progress)."""
    def git(*args) -> str:
        done = subprocess.run(["git", "--no-optional-locks", "-C", str(ROOT), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    modified = git("status", "--porcelain", "--untracked-files=no", "--", "results")
    return commit + (" with results/ modified" if modified else "")


def drop_caches() -> None:
    """Empty the OS page cache (root only): the next read comes from the disk."""
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def _timed(fn, before=None) -> float:
    if before:
        before()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _target(path, variable: str, level: int | None, time_step: int) -> dict:
    """What the product's reader makes of the request: the variable's name in the file, its
    netCDF index for that time and level, and the file's grid."""
    from results import readers

    with readers.Reader(path) as reader:
        var = reader.info.variable(variable)
        t = reader.time_index(time_step)
        k = reader.file_level(var, level)
        index = ((t,) if var.dims and var.dims[0] == "time" else ()) + ((k,) if k is not None else ())
        grid = reader.info.grid
        cells = 1
        for n in grid.shape:
            cells *= n
    return {"name": var.name, "index": index, "file_index": list(index), "file_grid": grid.label,
            "file_shape": list(grid.shape), "model": reader.info.model, "cells": cells}


def _stages(path, variable: str, level: int | None, time_step: int, repeat: int) -> dict:
    """Where ours goes: map_figure run under cProfile (the run with the least total of `repeat`),
    and the cumulative seconds of each function the figure's `build` calls directly (open and
    read, units, reduce, plot, serialise...), named `module.function`. Read from the profile, not
    from a copy of map_figure's steps, so it follows the product's code as that changes; the
    profiler's overhead inflates Python-heavy steps, so compare the shares, not the seconds."""
    import cProfile
    import pstats

    from results import figures

    best = None
    for _ in range(repeat):
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(figures.map_figure, path, variable, time=time_step, level=level, use_cache=False)
        total = time.perf_counter() - started
        if best is None or total < best[0]:
            best = (total, pstats.Stats(profile).stats)
    total, stats = best
    builds = [key for key in stats if key[2] == "build" and Path(key[0]).name == "figures.py"]
    steps: dict[str, float] = {}
    for key, (_, _, _, _, callers) in stats.items():
        for build in builds:
            if build in callers:
                name = key[2] if key[0] == "~" else f"{Path(key[0]).stem}.{key[2]}"
                steps[name] = steps.get(name, 0.0) + callers[build][3]
    ordered = dict(sorted(steps.items(), key=lambda item: -item[1]))
    return {"profiled_total_s": total, **ordered}


def measure(path, variable: str, *, level: int | None = 1, time_step: int = 0, repeat: int = 3,
            cold: bool = False, stages: bool = True) -> dict:
    """Floor, naive and ours for one map of `variable` in `path` (seconds, best of `repeat`), the
    ratios, and what the browser receives. `cold`: also each after dropping the page cache."""
    import netCDF4
    import xarray as xr

    from results import figures

    target = _target(path, variable, level, time_step)
    name, index = target["name"], target["index"]
    produced = {}

    def floor():
        ds = netCDF4.Dataset(path)
        try:
            ds.variables[name][index]
        finally:
            ds.close()

    def naive():
        with xr.open_dataset(path) as ds:
            ds[name].load()

    def ours():
        produced["figure"] = figures.map_figure(path, variable, time=time_step, level=level, use_cache=False)

    runs = {"floor": floor, "naive": naive, "ours": ours}
    for fn in runs.values():  # warm the page cache (and imports) for all three alike
        fn()
    warm = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for key, fn in runs.items():
            warm[key] = min(warm[key], _timed(fn))
    figure = produced["figure"]
    payload = figure.item if isinstance(figure.item, str) else json.dumps(figure.item)  # the JSON text sent
    size = Path(path).stat().st_size
    result = {
        "file": str(path), "variable": name, "level": level, "time": time_step, "model": target["model"],
        "repeat": repeat, "page_cache": "warm",
        "floor_s": warm["floor"], "naive_s": warm["naive"], "ours_s": warm["ours"],
        "ours_over_floor": warm["ours"] / warm["floor"], "naive_over_ours": warm["naive"] / warm["ours"],
        "payload_bytes": figure.payload_bytes, "payload_gzip_bytes": len(gzip.compress(payload.encode(), 6)),
        "file_bytes": size, "slice_float32_bytes": target["cells"] * 4,
        "file_grid": target["file_grid"], "file_shape": target["file_shape"], "file_index": target["file_index"],
        "displayed_grid": figure.data["displayed_grid"], "displayed_shape": figure.data["displayed_shape"],
        "code": code_version(),
    }
    if cold:
        cold_times = {key: min(_timed(fn, before=drop_caches) for _ in range(repeat)) for key, fn in runs.items()}
        result.update({"cold_floor_s": cold_times["floor"], "cold_naive_s": cold_times["naive"],
                       "cold_ours_s": cold_times["ours"],
                       "cold_ours_over_floor": cold_times["ours"] / cold_times["floor"],
                       "cold_naive_over_ours": cold_times["naive"] / cold_times["ours"]})
    if stages:
        result["stages"] = _stages(path, variable, level, time_step, repeat)
    return result


def _print(result: dict) -> None:
    mb = 1e6
    print(f"{result['file']}  {result['variable']} level {result['level']} time {result['time']}  "
          f"(file index {result['file_index']})")
    if result.get("made"):
        print(f"  made: {result['made']}, writing took "
              + (f"{result['make_s']:.1f} s" if result.get("make_s") is not None else "nothing (reused)"))
    print(f"  file {result['file_bytes'] / mb:.1f} MB on {result['file_grid']} {result['file_shape']}; "
          f"displayed {result['displayed_grid']} {result['displayed_shape']}")
    print(f"  code {result['code']}; best of {result['repeat']}, page cache warm for all three:")
    print(f"    floor (netCDF4, the one slice)     {result['floor_s'] * 1000:9.1f} ms")
    print(f"    naive (xarray, whole variable)     {result['naive_s'] * 1000:9.1f} ms")
    print(f"    ours  (figures.map_figure, cold)   {result['ours_s'] * 1000:9.1f} ms")
    print(f"    ours/floor {result['ours_over_floor']:.2f}   naive/ours {result['naive_over_ours']:.2f}")
    if "cold_ours_s" in result:
        print(f"  after dropping the page cache: floor {result['cold_floor_s'] * 1000:.1f} ms, naive "
              f"{result['cold_naive_s'] * 1000:.1f} ms, ours {result['cold_ours_s'] * 1000:.1f} ms; ours/floor "
              f"{result['cold_ours_over_floor']:.2f}, naive/ours {result['cold_naive_over_ours']:.2f}")
    print(f"  payload {result['payload_bytes']:,} bytes ({result['payload_gzip_bytes']:,} gzipped; the product "
          f"sends it uncompressed); the slice itself as float32 is {result['slice_float32_bytes']:,} bytes")
    if "stages" in result:
        stages = dict(result["stages"])
        total = stages.pop("profiled_total_s")
        parts = ", ".join(f"{k} {v / total:.0%}" for k, v in stages.items() if v >= 0.005 * total)
        print(f"  where ours goes (cProfile, {total * 1000:.0f} ms with its overhead): {parts}")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="any GEOS-Chem Classic or GCHP file (default: make them)")
    parser.add_argument("--var", help=f"variable or species (default {VARIABLE} for the files made)")
    parser.add_argument("--level", type=int, default=1, help="from the surface (1)")
    parser.add_argument("--time", type=int, default=0, help="time step (0-based)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--make", choices=("classic", "gchp", "both"), default="both")
    parser.add_argument("--out", type=Path, help="keep the files made here (and reuse them next time)")
    parser.add_argument("--drop-caches", action="store_true", help="also time after dropping the page cache (root)")
    parser.add_argument("--no-stages", action="store_true", help="skip the per-step breakdown")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.drop_caches and os.geteuid() != 0:
        parser.error("--drop-caches needs root (it writes /proc/sys/vm/drop_caches)")
    tmp = Path(tempfile.mkdtemp(prefix="gcr-map-latency-"))
    try:
        configure_django(tmp / "data")
        options = {"level": args.level, "time_step": args.time, "repeat": args.repeat, "cold": args.drop_caches,
                   "stages": not args.no_stages}
        results = []
        if args.file:
            if not args.var:
                parser.error("--file needs --var")
            from results.readers import ReaderError

            try:
                results.append(measure(args.file, args.var, **options))
            except ReaderError as exc:
                parser.exit(1, f"{exc}\n")
        else:
            folder = args.out or tmp
            folder.mkdir(parents=True, exist_ok=True)
            for kind in (("classic", "gchp") if args.make == "both" else (args.make,)):
                path, took = make_file(kind, folder)
                result = measure(path, args.var or VARIABLE, **options)
                result.update(made=MADE[kind][1], make_s=took)
                results.append(result)
                if not args.json:
                    _print(result)
                    print()
        if args.json:
            print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        elif args.file:
            _print(results[0])
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
