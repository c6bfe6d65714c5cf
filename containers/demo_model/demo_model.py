#!/usr/bin/env python3
"""GEOS-Chem Cloud Runner DEMO MODEL (a radon/lead tracer model, NOT GEOS-Chem).

Usage, in a prepared run directory (the runner does this)::

    python containers/demo_model/demo_model.py [--spec runspec.json]

Reads the run spec (docs/run-spec.md), starts from ``Restarts/GEOSChem.Restart.<start>z.nc4``
(GCHP: ``...z.c<N>.nc4``) if it exists, else from zero, runs the segment ``period.start`` ..
``period.end`` and writes GEOS-Chem-style diagnostics to ``OutputDir/``, the end restart to
``Restarts/`` and, for GCHP, ``cap_restart``. Exit code 0 on success; 2 with a one-line
``DEMO MODEL ERROR`` message when the spec asks for something the demo model cannot do; 3 when
the restart file does not fit; 128 + signal number when stopped by SIGTERM or SIGINT.
README.md next to this file describes the model and what it simplifies.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

# The sibling modules are imported by name wherever this folder is copied to.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import grids  # noqa: E402
import history  # noqa: E402
import landmask  # noqa: E402
import logformat  # noqa: E402
import ncfiles  # noqa: E402
import physics  # noqa: E402
import runconfig  # noqa: E402

# The travelling waves' phase is counted from this fixed date so that segments chained through
# restarts see the same wind as one long run.
WAVE_EPOCH = datetime(2000, 1, 1)
# Physics runs on steps of up to two hours (a whole number of transport steps); the log still
# shows every transport step. Steps are shortened to land on every output time.
MAX_INTERNAL_STEP_S = 7200
INTERNAL_LEVELS = 47


def log(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Stop(Exception):
    """SIGTERM or SIGINT arrived; the run stops at the next step boundary."""


_signal_received = []


def _on_signal(signum, _frame):
    _signal_received.append(signum)


def build_grid(cfg: runconfig.RunConfig) -> grids.Grid:
    if cfg.model == "gchp":
        return grids.cubed_sphere_grid(cfg.cs_res)
    return grids.latlon_grid(cfg.resolution, cfg.lon_range, cfg.lat_range, nested=cfg.nested)


def load_initial_state(model, files, cfg, timers) -> None:
    """Start from the restart staged for this segment's start, else from zero."""
    t0 = time.perf_counter()
    path = files.restart_path(cfg.start)
    shown = f"./{path.relative_to(files.run_dir)}"
    if not path.is_file():
        log(f"DEMO MODEL: no restart file {shown}; starting from zero concentrations")
        return
    species, nlev = ncfiles.read_restart(path, grid=model.grid, model=cfg.model, species=physics.TRACERS)
    native = grids.vertical_grid(72)
    dp72 = np.diff(-native.edge_pressure(physics.PS_HPA))
    for i, name in enumerate(physics.TRACERS):
        if name not in species:
            log(f"DEMO MODEL: species {name} not found in the restart file; starting it from zero")
            continue
        values = species[name]
        if nlev == 72:
            values = grids.lump_72_to_47(values, dp72, axis=0)
        elif nlev != 47:
            raise ncfiles.RestartError(f"{shown} has {nlev} levels; the demo model reads 72 or 47")
        model.q[i] = values
    log(f"DEMO MODEL: initial conditions read from {shown} ({nlev} levels)")
    timers["Input"] += time.perf_counter() - t0


def run(cfg: runconfig.RunConfig, run_dir: Path) -> int:
    started = time.perf_counter()
    for line in logformat.BANNER:
        log(line)
    log(f"===> SIMULATION START TIME: {datetime.now():%Y/%m/%d %H:%M} <===")
    timers = {"GEOS-Chem": 0.0, "Initialization": 0.0, "Timesteps": 0.0, "Input": 0.0, "Output": 0.0,
              "All diagnostics": 0.0, "Finalization": 0.0}

    grid = build_grid(cfg)
    internal = grids.vertical_grid(INTERNAL_LEVELS)
    out_vertical = grids.vertical_grid(cfg.levels)
    land = landmask.land_fraction(grid.sample_lon, grid.sample_lat)
    model = physics.TracerModel(grid, internal, land, physics.Operations(**cfg.operations))
    shape = " x ".join(str(s) for s in grid.shape)
    log(f"DEMO MODEL: model = {cfg.model} (demo), simulation = {cfg.simulation} (the demo model always "
        f"runs Rn222 and Pb210), grid = {grid.label} ({shape})")
    log(f"DEMO MODEL: {cfg.levels} output levels; tracers are carried on {INTERNAL_LEVELS} internal layers "
        "(GEOS-Chem's 47-level lumping of the 72 levels)")
    if cfg.nested:
        log("DEMO MODEL: nested grid with zero-gradient boundary conditions (no global run needed); "
            "the buffer zone is not treated specially")
    off = [name for name, on in cfg.operations.items() if not on]
    if off:
        log(f"DEMO MODEL: switched off in geoschem_config operations: {', '.join(off)}")
    step_s = cfg.transport_s * max(1, MAX_INTERNAL_STEP_S // cfg.transport_s)
    log(f"DEMO MODEL: segment {cfg.start:%Y-%m-%d %H:%M} to {cfg.end:%Y-%m-%d %H:%M}; transport step "
        f"{cfg.transport_s} s, physics computed on steps of up to {step_s} s")

    files = history.FileMaker(cfg=cfg, grid=grid, out_vertical=out_vertical, run_dir=run_dir, log=log)
    (run_dir / "OutputDir").mkdir(parents=True, exist_ok=True)
    (run_dir / "Restarts").mkdir(parents=True, exist_ok=True)
    load_initial_state(model, files, cfg, timers)
    diagnostics = history.Diagnostics(model, out_vertical)
    collections = [history.Collection(spec, cfg=cfg, diagnostics=diagnostics, files=files, log=log)
                   for spec in cfg.collections]
    for name in cfg.ignored_collections:
        if name == "Restart":
            continue  # always written at the end of the segment
        log(f"DEMO MODEL: collection {name} is not produced by the demo model (only SpeciesConc and "
            "StateMet are); ignored")
    timers["Initialization"] = time.perf_counter() - started

    loop_started = time.perf_counter()
    try:
        _time_loop(cfg, model, collections, step_s, timers, loop_started, started)
    except Stop:
        for c in collections:
            c.close()
        signum = _signal_received[0]
        log(f"DEMO MODEL: received {signal.Signals(signum).name}; stopped before the end of the segment, "
            "no restart written")
        return 128 + signum
    timers["Timesteps"] = time.perf_counter() - loop_started

    t0 = time.perf_counter()
    for c in collections:
        c.finish()
    restart = files.write_restart(diagnostics, cfg.end)
    if cfg.model == "gchp":
        (run_dir / "cap_restart").write_text(f"{cfg.end:%Y%m%d %H%M%S}\n")
        log(f"DEMO MODEL: cap_restart advanced to {cfg.end:%Y%m%d %H%M%S}")
    timers["Output"] += time.perf_counter() - t0
    log(f"DEMO MODEL: wrote {restart.relative_to(run_dir)}; global Rn222 {model.tracer_mass()[0]:.4e} mol, "
        f"Pb210 {model.tracer_mass()[1]:.4e} mol")

    timers["Finalization"] = time.perf_counter() - t0
    timers["GEOS-Chem"] = time.perf_counter() - started
    ordered = {k: timers[k] for k in ("GEOS-Chem", "Initialization", "Timesteps")}
    ordered.update(model.timers)
    ordered.update({k: timers[k] for k in ("All diagnostics", "Input", "Output", "Finalization")})
    log("DEMO MODEL: timers below measure the demo model, not GEOS-Chem")
    for line in logformat.timer_lines(ordered):
        log(line)
    log()
    log(f"===> SIMULATION END TIME: {datetime.now():%Y/%m/%d %H:%M} <===")
    if cfg.model == "classic":
        log()
        log(logformat.END_OF_GEOS_CHEM)
    return 0


def _time_loop(cfg, model, collections, step_s: int, timers: dict, loop_started: float, started: float) -> None:
    transport = timedelta(seconds=cfg.transport_s)
    total_days = cfg.seconds / 86400.0
    t = cfg.start
    next_line = cfg.start           # next transport step to announce
    while t < cfg.end:
        if _signal_received:
            raise Stop()
        events = [e for e in (c.next_event() for c in collections) if e is not None and e > t]
        t_next = min([t + timedelta(seconds=step_s), cfg.end] + events)
        wall0 = time.perf_counter()
        if cfg.model == "classic":
            while next_line < t_next:     # GEOS-Chem prints the time at the start of each step
                log(logformat.classic_date_line(next_line, (next_line - cfg.start).total_seconds() / 3600.0))
                next_line += transport
        seconds = (t - WAVE_EPOCH).total_seconds()
        dt = (t_next - t).total_seconds()
        model.step(seconds, dt)
        t1 = time.perf_counter()
        for c in collections:
            c.after_step(t, t_next, seconds + 0.5 * dt, seconds + dt)
        timers["All diagnostics"] += time.perf_counter() - t1
        if cfg.model == "gchp":
            now = time.perf_counter()
            run_days = dt / 86400.0 / max((now - wall0) / 86400.0, 1e-12)
            while next_line + transport <= t_next:   # MAPL prints after each completed step
                next_line += transport
                done = (next_line - cfg.start).total_seconds() / 86400.0
                # Heartbeats inside one physics step share out its wall time evenly.
                wall = wall0 + (now - wall0) * (next_line - t).total_seconds() / dt
                avg = done / max((wall - loop_started) / 86400.0, 1e-12)
                tot = done / max((wall - started) / 86400.0, 1e-12)
                log(logformat.mapl_line(next_line, avg=avg, tot=tot, run=run_days,
                                        remaining_s=(total_days - done) / avg * 86400.0))
        t = t_next


def run_spec(spec_path, run_dir: Path) -> int:
    """Run the segment the spec at ``spec_path`` describes in ``run_dir``; the exit code."""
    try:
        cfg = runconfig.load_run_config(spec_path)
        return run(cfg, Path(run_dir))
    except (runconfig.DemoInputError, ncfiles.RestartError) as exc:
        print(f"DEMO MODEL ERROR: {exc}", file=sys.stderr, flush=True)
        return 2 if isinstance(exc, runconfig.DemoInputError) else 3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="GEOS-Chem Cloud Runner demo model (not GEOS-Chem)")
    parser.add_argument("--spec", default="runspec.json", help="run spec JSON (default ./runspec.json)")
    args = parser.parse_args(argv)
    # The runner forwards SIGTERM (e.g. a Spot interruption): stop at the next step, promptly.
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    return run_spec(args.spec, Path.cwd())


if __name__ == "__main__":
    sys.exit(main())
