"""Diagnostic output the way GEOS-Chem's History component schedules it.

A collection has a ``frequency`` (averaging or sampling interval) and a ``duration`` (how much
time one file holds), both HISTORY.rc intervals or "End" (once, at the end of the segment):

- time-averaged: averages over [t, t + frequency) starting at the segment start; each file is
  named after the start of its first averaging period and the ``time`` values are the middle
  of each period in minutes since that reference (history_netcdf_mod.F90). A period still open
  when the segment ends is not written, as in GEOS-Chem.
- instantaneous: snapshots at start + k * frequency (k >= 1). If frequency equals duration each
  snapshot gets its own file named after it (GEOS-Chem skips the empty file at the start);
  otherwise a file starts at the segment start and holds the snapshots up to and including
  its end.

The model loop never steps across a time at which a collection acts (``next_event``), so a
step lies inside one averaging period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

import grids
import ncfiles
import physics


@dataclass(frozen=True)
class FieldInfo:
    long_name: str
    units: str
    rank: int            # 3: (lev, cell); 2: (cell,)
    kind: str            # species | static | dynamic


FIELDS = {f"SpeciesConcVV_{s}": FieldInfo(f"Dry mixing ratio of species {s}", "mol mol-1 dry", 3, "species")
          for s in physics.TRACERS}
# Names, long names and units as GEOS-Chem's State_Met registry (Headers/state_met_mod.F90).
FIELDS.update({
    "Met_AD": FieldInfo("Dry air mass", "kg", 3, "static"),
    "Met_AIRDEN": FieldInfo("Dry air density", "kg m-3", 3, "static"),
    "Met_AREAM2": FieldInfo("Surface area of grid box", "m2", 2, "static"),
    "Met_BXHEIGHT": FieldInfo("Grid box height", "m", 3, "static"),
    "Met_DELP": FieldInfo("Delta-pressure across grid box(wet air)", "hPa", 3, "static"),
    "Met_DELPDRY": FieldInfo("Delta-pressure across grid box (dry air)", "hPa", 3, "static"),
    "Met_FRLAND": FieldInfo("Fraction of land", "1", 2, "static"),
    "Met_FROCEAN": FieldInfo("Fraction of ocean", "1", 2, "static"),
    "Met_PBLH": FieldInfo("Planetary boundary layer height", "m", 2, "dynamic"),
    "Met_PMID": FieldInfo("Pressure (w/r/t moist air) at level centers", "hPa", 3, "static"),
    "Met_PMIDDRY": FieldInfo("Pressure (w/r/t dry air) at level centers", "hPa", 3, "static"),
    "Met_PSC2DRY": FieldInfo("Dry interpolated surface pressure", "hPa", 2, "static"),
    "Met_PSC2WET": FieldInfo("Wet interpolated surface pressure", "hPa", 2, "static"),
    "Met_T": FieldInfo("Temperature", "K", 3, "static"),
    "Met_TropLev": FieldInfo("GEOS-Chem level where the tropopause occurs", "1", 2, "static"),
    "Met_TropP": FieldInfo("Tropopause pressure", "hPa", 2, "static"),
    "Met_U": FieldInfo("East-west component of wind", "m s-1", 3, "dynamic"),
    "Met_V": FieldInfo("North-south component of wind", "m s-1", 3, "dynamic"),
})
COLLECTION_FIELDS = {
    "SpeciesConc": [n for n in FIELDS if n.startswith("SpeciesConcVV_")],
    "StateMet": [n for n in FIELDS if n.startswith("Met_")],
}


def select_fields(collection: str, requested) -> tuple[list, list]:
    """The collection's fields matching HISTORY.rc entries (exact names or wildcards such as
    ``SpeciesConcVV_?ALL?``), and the requested names the demo model cannot provide. No request
    means every field the demo model has for the collection."""
    available = COLLECTION_FIELDS[collection]
    if not requested:
        return list(available), []
    chosen, missing = [], []
    for entry in requested:
        entry = entry.strip().strip("'\"").strip()
        if "?" in entry:
            prefix = entry.split("?")[0].replace("SpeciesConc_", "SpeciesConcVV_")
            matches = [n for n in available if n.startswith(prefix)]
        else:
            matches = [n for n in available if n == entry]
        if not matches:
            missing.append(entry)
        chosen.extend(m for m in matches if m not in chosen)
    return chosen, missing


class Diagnostics:
    """Field values from the model state, on the output levels (72 or 47)."""

    def __init__(self, model: physics.TracerModel, out_vertical: grids.Vertical):
        self.model = model
        self.out_vertical = out_vertical
        self.expand = out_vertical.nlev == 72 and model.vertical.nlev == 47
        grid = model.grid
        self.atm = physics.make_atmosphere(out_vertical, grid.area, grid.lat)
        self._winds = None
        self._static = None

    def to_output_levels(self, internal: np.ndarray) -> np.ndarray:
        return grids.expand_47_to_72(internal, axis=0) if self.expand else internal

    def species_internal(self, name: str) -> np.ndarray:
        return self.model.q[physics.TRACERS.index(name.split("_", 1)[1])]

    def static(self, name: str) -> np.ndarray:
        if self._static is None:
            a, grid = self.atm, self.model.grid
            ones = np.ones((1, grid.ncell))
            dp_hpa = a.dp_pa[:, None] / 100.0 * ones
            land = self.model.land_fraction
            self._static = {
                "Met_AD": a.air_mass, "Met_AIRDEN": a.air_mass / (grid.area[None, :] * a.box_height),
                "Met_AREAM2": grid.area, "Met_BXHEIGHT": a.box_height, "Met_DELP": dp_hpa,
                "Met_DELPDRY": dp_hpa, "Met_FRLAND": land, "Met_FROCEAN": 1.0 - land,
                "Met_PMID": a.p_mid[:, None] * ones, "Met_PMIDDRY": a.p_mid[:, None] * ones,
                "Met_PSC2DRY": np.full(grid.ncell, physics.PS_HPA),
                "Met_PSC2WET": np.full(grid.ncell, physics.PS_HPA),
                "Met_T": a.temperature, "Met_TropLev": (a.trop_levels + 1).astype(float),
                "Met_TropP": physics.tropopause_hpa(grid.lat),
            }
        return self._static[name]

    def dynamic(self, name: str, seconds: float) -> np.ndarray:
        grid = self.model.grid
        if name == "Met_PBLH":
            return self.model.pbl_height(seconds)
        if self._winds is None:
            self._winds = physics.PointWinds(physics.Winds(self.atm.p_mid, grid.radius), grid.lon, grid.lat)
        u, v = self._winds.uv(seconds)
        return u if name == "Met_U" else v


class Collection:
    """One history collection during one segment."""

    def __init__(self, spec, *, cfg, diagnostics: Diagnostics, files, log):
        self.spec = spec
        self.name = spec.name
        self.cfg = cfg
        self.diag = diagnostics
        self.files = files
        self.log = log
        self.fields, missing = select_fields(spec.name, spec.fields)
        for name in missing:
            log(f"     - DEMO MODEL: field {name} of collection {spec.name} is not available in the demo model; skipped")
        self.averaged = spec.mode == "time-averaged"
        self.file = None
        self.file_reference = None
        self.file_end = None
        self.sums: dict = {}
        self.weight = 0.0
        if self.averaged:
            self.window_start = cfg.start
            self.window_end = self._after(cfg.start, spec.frequency)
        else:
            self.next_snapshot = self._after(cfg.start, spec.frequency)
        self.written = []

    def _after(self, when: datetime, interval):
        return self.cfg.end if interval is None else interval.add_to(when)

    def next_event(self) -> datetime | None:
        t = self.window_end if self.averaged else self.next_snapshot
        return t if t is not None and t <= self.cfg.end else None

    # -- the model loop calls these -------------------------------------------------------
    def after_step(self, t0: datetime, t1: datetime, seconds_mid: float, seconds_end: float) -> None:
        if self.averaged:
            dt = (t1 - t0).total_seconds()
            for name in self.fields:
                info = FIELDS[name]
                if info.kind == "static":
                    continue
                value = self.diag.species_internal(name) if info.kind == "species" else self.diag.dynamic(name, seconds_mid)
                if name in self.sums:
                    self.sums[name] += value * dt
                else:
                    self.sums[name] = value * dt
            self.weight += dt
            if t1 == self.window_end:
                self._write_average()
                self.window_start = t1
                self.window_end = self._after(t1, self.spec.frequency) if self.spec.frequency else None
        elif t1 == self.next_snapshot:
            self._write_snapshot(t1, seconds_end)
            self.next_snapshot = self._after(t1, self.spec.frequency) if self.spec.frequency else None

    def finish(self) -> None:
        """End of the segment: note an unfinished averaging period, close the file."""
        if self.averaged and self.weight > 0:
            self.log(f"     - DEMO MODEL: the {self.name} averaging period from {self.window_start:%Y-%m-%d %H:%M} "
                     f"is not complete at the end of the run and is not written (as in GEOS-Chem)")
        self.close()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    # -- writing --------------------------------------------------------------------------
    def _values(self, seconds: float) -> dict:
        out = {}
        for name in self.fields:
            info = FIELDS[name]
            if info.kind == "species":
                out[name] = self.diag.to_output_levels(self.diag.species_internal(name))
            elif info.kind == "static":
                out[name] = self.diag.static(name)
            else:
                out[name] = self.diag.dynamic(name, seconds)
        return out

    def _write_average(self) -> None:
        values = {}
        for name in self.fields:
            info = FIELDS[name]
            if info.kind == "static":
                values[name] = self.diag.static(name)
            elif info.kind == "species":
                values[name] = self.diag.to_output_levels(self.sums[name] / self.weight)
            else:
                values[name] = self.sums[name] / self.weight
        self.sums, self.weight = {}, 0.0
        start, end = self.window_start, self.window_end
        if self.file is None or start >= self.file_end:
            self._open(start, end_of_file=self._file_end(start))
        middle = (start - self.file_reference).total_seconds() + 0.5 * (end - start).total_seconds()
        self._put(middle / 60.0, values)

    def _write_snapshot(self, when: datetime, seconds: float) -> None:
        one_per_file = self.spec.frequency == self.spec.duration
        if one_per_file:
            self.close()
            self._open(when, end_of_file=when)
        else:
            if self.file is None and self.file_reference is None:
                self._open(self.cfg.start, end_of_file=self._file_end(self.cfg.start))
            while self.file_end is not None and when > self.file_end:
                self.close()
                reference = self.file_end
                self._open(reference, end_of_file=self._file_end(reference))
        self._put((when - self.file_reference).total_seconds() / 60.0, self._values(seconds))

    def _file_end(self, reference: datetime):
        return None if self.spec.duration is None else self.spec.duration.add_to(reference)

    def _open(self, reference: datetime, end_of_file) -> None:
        self.close()
        self.file_reference, self.file_end = reference, end_of_file
        method = self.spec.mode
        variables = [(n, FIELDS[n].long_name, FIELDS[n].units, FIELDS[n].rank, method) for n in self.fields]
        self.file = self.files.open_diagnostics(self.name, reference, variables)
        self.written.append(self.file.path)

    def _put(self, minutes: float, values: dict) -> None:
        self.file.write(minutes, values)
        self.files.wrote(self.name, self.file, values)


class FileMaker:
    """Creates output files in the run directory and prints GEOS-Chem's (or MAPL's) lines."""

    def __init__(self, *, cfg, grid, out_vertical, run_dir: Path, log):
        self.cfg, self.grid, self.vertical = cfg, grid, out_vertical
        self.run_dir = Path(run_dir)
        self.log = log
        self.gchp = cfg.model == "gchp"

    def diagnostics_path(self, collection: str, reference: datetime) -> Path:
        return self.run_dir / "OutputDir" / f"GEOSChem.{collection}.{reference:%Y%m%d_%H%M}z.nc4"

    def restart_path(self, when: datetime) -> Path:
        suffix = f".c{self.cfg.cs_res}" if self.gchp else ""
        return self.run_dir / "Restarts" / f"GEOSChem.Restart.{when:%Y%m%d_%H%M}z{suffix}.nc4"

    def open_diagnostics(self, collection: str, reference: datetime, variables: list):
        path = self.diagnostics_path(collection, reference)
        path.parent.mkdir(parents=True, exist_ok=True)
        common = dict(grid=self.grid, reference=reference, collection=collection,
                      simulation=self.cfg.simulation, start=self.cfg.start, end=self.cfg.end, variables=variables)
        if self.gchp:
            return ncfiles.create_gchp_file(path, nlev=self.vertical.nlev, **common)
        self.log(f"     - Creating file for {collection}; reference = {reference:%Y%m%d %H%M%S}")
        self.log(f"        with filename = ./{path.relative_to(self.run_dir)}")
        return ncfiles.create_classic_file(path, vertical=self.vertical, **common)

    def wrote(self, collection: str, file, values: dict) -> None:
        if self.gchp:
            slices = sum(v.shape[0] if v.ndim == 2 else 1 for v in values.values())
            self.log(f" Writing: {slices:6d} Slices to File:  {Path(file.path).relative_to(self.run_dir)}")

    def write_restart(self, diag: Diagnostics, when: datetime) -> Path:
        """The end-of-segment restart (Classic History 'Restart' collection or GCHP checkpoint)."""
        path = self.restart_path(when)
        path.parent.mkdir(parents=True, exist_ok=True)
        species = {s: diag.to_output_levels(diag.model.q[i]) for i, s in enumerate(physics.TRACERS)}
        dp = diag.static("Met_DELPDRY")
        if self.gchp:
            ncfiles.write_gchp_restart(path, grid=self.grid, species=species, delp_dry=dp, when=when,
                                       simulation=self.cfg.simulation, start=self.cfg.start, end=self.cfg.end)
            self.log(f" Writing: {2 * dp.shape[0] + dp.shape[0]:6d} Slices to File:  {path.relative_to(self.run_dir)}")
            return path
        self.log(f"     - Creating file for Restart; reference = {when:%Y%m%d %H%M%S}")
        self.log(f"        with filename = ./{path.relative_to(self.run_dir)}")
        method = "instantaneous"
        variables = [(f"SpeciesRst_{s}", f"Dry mixing ratio of species {s}", "mol mol-1 dry", 3, method)
                     for s in physics.TRACERS]
        met = {"Met_DELPDRY": dp, "Met_PS1DRY": diag.static("Met_PSC2DRY"), "Met_PS1WET": diag.static("Met_PSC2WET"),
               "Met_TMPU1": diag.static("Met_T"), "Met_SPHU1": np.zeros_like(dp)}
        units = {"Met_DELPDRY": ("Delta-pressure across grid box (dry air)", "hPa", 3),
                 "Met_PS1DRY": ("Dry surface pressure at dt start", "hPa", 2),
                 "Met_PS1WET": ("Wet surface pressure at dt start", "hPa", 2),
                 "Met_TMPU1": ("Instantaneous temperature at time=T", "K", 3),
                 "Met_SPHU1": ("Instantaneous specific humidity at time=T", "g kg-1", 3)}
        variables += [(n, *units[n], method) for n in met]
        out = ncfiles.create_classic_file(path, grid=self.grid, vertical=self.vertical, reference=when,
                                          collection="Restart", simulation=self.cfg.simulation,
                                          start=self.cfg.start, end=self.cfg.end, variables=variables,
                                          restart=True)
        try:
            out.write(0.0, {**{f"SpeciesRst_{s}": v for s, v in species.items()}, **met})
        finally:
            out.close()
        return path
