"""The run spec (docs/run-spec.md, version 1): a validated RunConfig plus one segment in, a
JSON-ready dict out. The runner (containers/runner/rundir.py) turns it into geoschem_config.yml,
HISTORY.rc and, for GCHP, setCommonRunSettings.sh.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from simulations import catalog
from simulations.config import RunConfig

SPEC_VERSION = 1
JOB_NAME_MAX = 128  # AWS Batch job names: letters, digits, hyphens, underscores; <= 128
RADIATION_TIMESTEP_S = 10800  # createRunDir.sh / setCommonRunSettings.sh (RRTMG)
NESTED_BUFFER_ZONE = [3, 3, 3, 3]
HISTORY_EXPID = {"classic": "./OutputDir/GEOSChem", "gchp": "OutputDir/GEOSChem"}
RESTART_TEMPLATE = "./Restarts/GEOSChem.Restart.%y4%m2%d2_%h2%n2z.nc4"
# Simulations whose templates switch photolysis on (TransportTracers and the other
# passive-tracer runs have no photolysis; the aerosol-only run skips Cloud-J).
PHOTOLYSIS_SIMULATIONS = ("fullchem", "Hg")


# --- Segments and names --------------------------------------------------------------------------

def segment_periods(cfg: RunConfig) -> list[tuple[datetime, datetime]]:
    """The run cut into consecutive [start, end) segments.

    Default: calendar months, so the first and last may be partial (2019-01-15..2019-03-10
    gives Jan 15-Feb 1, Feb 1-Mar 1, Mar 1-Mar 10). With segment_days: fixed lengths from
    the start, the last one shorter if needed."""
    periods = []
    start = cfg.start
    while start < cfg.end:
        if cfg.segment_days:
            stop = start + timedelta(days=cfg.segment_days)
        else:
            stop = catalog.add_months(start.replace(day=1, hour=0, minute=0, second=0, microsecond=0), 1)
        stop = min(stop, cfg.end)
        periods.append((start, stop))
        start = stop
    return periods


def job_name(simulation_id: str, segment_index: int, attempt: int) -> str:
    """Deterministic AWS Batch-safe name, e.g. "gcr-6f1c0a52-s001-a1"."""
    if segment_index < 1 or attempt < 1:
        raise ValueError("segment_index and attempt count from 1")
    short_id = re.sub(r"[^A-Za-z0-9_]", "", simulation_id)[:8] or "run"
    return f"gcr-{short_id}-s{segment_index:03d}-a{attempt}"[:JOB_NAME_MAX]


def restart_filename(cfg: RunConfig, when: datetime) -> str:
    """GEOS-Chem's restart file name for a restart valid at `when`."""
    stamp = when.strftime("%Y%m%d_%H%M")
    if cfg.model == "gchp":
        return f"GEOSChem.Restart.{stamp}z.c{cfg.cs_res}.nc4"
    return f"GEOSChem.Restart.{stamp}z.nc4"


# --- The spec ------------------------------------------------------------------------------------

def render_spec(cfg: RunConfig, *, simulation_id: str, segment_index: int, attempt: int, executable: str,
                backend: str, input_root: str, output_uri: str, restart_uri: str | None,
                capacity: str | None = None) -> dict:
    """The run spec for segment `segment_index` (1-based) of the run, attempt `attempt`.

    `capacity` overrides the configuration's (a run moved to on-demand after Spot interruptions).
    """
    periods = segment_periods(cfg)
    if not 1 <= segment_index <= len(periods):
        raise ValueError(f"segment_index must be within 1..{len(periods)} (got {segment_index})")
    start, end = periods[segment_index - 1]
    if not output_uri.endswith("/"):
        output_uri += "/"
    outputs = [{"name": o.collection, "frequency": catalog.HISTORY_INTERVALS[o.frequency],
                "duration": catalog.HISTORY_INTERVALS[o.duration], "mode": o.mode,
                "fields": list(catalog.collection_fields(o.collection))} for o in cfg.outputs]
    # The restart is written once, instantaneously, at the end of every segment.
    restart = {"name": "Restart", "frequency": "End", "duration": "End", "mode": "instantaneous",
               "fields": list(catalog.collection_fields("Restart"))}
    return {
        "spec_version": SPEC_VERSION,
        "simulation_id": simulation_id,
        "job_name": job_name(simulation_id, segment_index, attempt),
        "name": cfg.name,
        "model": {"name": cfg.model, "geoschem_version": catalog.GEOSCHEM_VERSION, "executable": executable},
        "simulation": {"type": cfg.simulation, "options": list(cfg.options)},
        "met": {"name": cfg.met, "scenario": cfg.scenario},
        "grid": _grid(cfg),
        "timesteps": {"transport_s": cfg.transport_timestep_s, "chemistry_s": cfg.chemistry_timestep_s},
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "run": {"start": cfg.start.isoformat(), "end": cfg.end.isoformat()},
        "segment": {"index": segment_index, "count": len(periods)},
        "attempt": attempt,
        "restart": {"uri": restart_uri},
        "geoschem_config": _geoschem_config(cfg, start, end, input_root),
        "history": {"collections": [restart] + outputs},
        "gchp": _gchp(cfg, start, end) if cfg.model == "gchp" else None,
        "compute": {"backend": backend, "instance_type": cfg.compute.instance_type,
                    "capacity": capacity or cfg.compute.capacity, "nodes": cfg.compute.nodes,
                    "cores_per_node": cfg.compute.cores_per_node,
                    # OpenMP threads: Classic uses every core of its node; GCHP is MPI-only.
                    "threads": cfg.compute.cores_per_node if cfg.model == "classic" else 1},
        "io": {"input_root": input_root, "output_uri": output_uri,
               "report_uri": output_uri + f"reports/s{segment_index:03d}-a{attempt}/"},
    }


def _grid(cfg: RunConfig) -> dict:
    stretch = None
    if cfg.stretch:
        stretch = {"factor": cfg.stretch.factor, "target_lat": cfg.stretch.target_lat,
                   "target_lon": cfg.stretch.target_lon}
    return {
        "kind": cfg.grid_kind, "resolution": cfg.resolution, "levels": cfg.levels, "domain": cfg.domain,
        "lon_range": list(cfg.lon_range), "lat_range": list(cfg.lat_range), "nested": cfg.nested,
        "buffer_zone_NSEW": NESTED_BUFFER_ZONE if cfg.nested else [0, 0, 0, 0],
        "cs_res": cfg.cs_res, "stretch": stretch,
    }


def _geoschem_config(cfg: RunConfig, start: datetime, end: datetime, input_root: str) -> dict:
    """geoschem_config.yml values for this segment. GCHP takes its grid from
    setCommonRunSettings.sh and GCHP.rc, so its file has no grid section."""
    values = {
        "simulation": {
            "name": cfg.simulation,
            "start_date": [int(start.strftime("%Y%m%d")), int(start.strftime("%H%M%S"))],
            "end_date": [int(end.strftime("%Y%m%d")), int(end.strftime("%H%M%S"))],
            "root_data_dir": input_root,
            "met_field": cfg.met,
            "species_database_file": "./species_database.yml",
            "verbose": False,
            "use_gcclassic_timers": cfg.model == "classic",
        },
    }
    if cfg.model == "classic":
        modele_native = cfg.met == "ModelE2.1" and cfg.resolution == "2x2.5"
        half_polar = not cfg.nested and (cfg.met != "ModelE2.1" or cfg.resolution == "4x5")
        values["grid"] = {
            "resolution": catalog.latlon_grid(cfg.resolution)["geoschem_name"],
            "number_of_levels": cfg.levels,
            # GISS 2x2.5 boxes have the date line on an edge; every other grid centres on it.
            "longitude": {"range": list(cfg.lon_range), "center_at_180": not modele_native},
            "latitude": {"range": list(cfg.lat_range), "half_size_polar_boxes": half_polar},
            "nested_grid_simulation": {"activate": cfg.nested,
                                       "buffer_zone_NSEW": NESTED_BUFFER_ZONE if cfg.nested else [0, 0, 0, 0]},
        }
    tomas = any(option.startswith("TOMAS") for option in cfg.options)
    values["timesteps"] = {"transport_timestep_in_s": cfg.transport_timestep_s,
                           "chemistry_timestep_in_s": cfg.chemistry_timestep_s,
                           "radiation_timestep_in_s": RADIATION_TIMESTEP_S}
    values["operations"] = {
        "chemistry": {"activate": True},
        "convection": {"activate": True},
        "dry_deposition": {"activate": True},
        # createRunDir.sh turns the non-local PBL scheme off for TOMAS.
        "pbl_mixing": {"activate": True, "use_non_local_pbl": not tomas},
        "photolysis": {"activate": cfg.simulation in PHOTOLYSIS_SIMULATIONS},
        "transport": {"activate": True,
                      "transported_species": list(catalog.transported_species(cfg.simulation, cfg.options))},
        "wet_deposition": {"activate": True},
    }
    return values


def _gchp(cfg: RunConfig, start: datetime, end: datetime) -> dict:
    """setCommonRunSettings.sh values. NX and NY are fixed here (AutoUpdate_NXNY OFF) so the
    decomposition is the one validation approved. HISTORY.rc is rendered per collection, so
    the Diag_* entries only mirror the first output (AutoUpdate_Diagnostics OFF)."""
    nx, ny = catalog.gchp_decomposition(cfg.cs_res, cfg.compute.total_cores)
    first = cfg.outputs[0] if cfg.outputs else None
    settings = {
        "TOTAL_CORES": cfg.compute.total_cores,
        "NUM_NODES": cfg.compute.nodes,
        "NUM_CORES_PER_NODE": cfg.compute.cores_per_node,
        "CS_RES": cfg.cs_res,
        "STRETCH_GRID": "ON" if cfg.stretch else "OFF",
        "STRETCH_FACTOR": cfg.stretch.factor if cfg.stretch else None,
        "TARGET_LAT": cfg.stretch.target_lat if cfg.stretch else None,
        # GCHP wants TARGET_LON in [0, 360).
        "TARGET_LON": cfg.stretch.target_lon % 360.0 if cfg.stretch else None,
        "Run_Duration": mapl_duration(start, end),
        "AutoUpdate_NXNY": "OFF",
        "NX": nx,
        "NY": ny,
        "AutoUpdate_Diagnostics": "OFF",
        "Diag_Collections": [o.collection for o in cfg.outputs],
        "Diag_Monthly": "1" if first and first.frequency == "monthly" else "0",
        # Ignored by GCHP when Diag_Monthly is 1; 744 hours (31 days) keeps the value sane.
        "Diag_Frequency": (gchp_interval(first.frequency, start, end) or "7440000") if first else None,
        "Diag_Duration": (gchp_interval(first.duration, start, end) or "7440000") if first else None,
        "Midrun_Checkpoint": "OFF",
        "Periodic_Checkpoint": "OFF",
    }
    return {"setCommonRunSettings": settings}


def mapl_duration(start: datetime, end: datetime) -> str:
    """MAPL's "YYYYMMDD hhmmss" run length: whole calendar years and months from `start`,
    then days and time (MAPL reads the fields as separate counts, so 40 days from Jan 1 is
    "00000109 000000", one month and nine days)."""
    months = 0
    while catalog.add_months(start, months + 1) <= end:
        months += 1
    rest = end - catalog.add_months(start, months)
    hours, seconds = divmod(rest.seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{months // 12:04d}{months % 12:02d}{rest.days:02d} {hours:02d}{minutes:02d}{seconds:02d}"


def gchp_interval(word: str, start: datetime, end: datetime) -> str | None:
    """GCHP HISTORY.rc interval "HHMMSS" (hours may exceed two digits); None for monthly,
    which GCHP states with `.monthly: 1`; `end` = the segment's length."""
    hours = {"hourly": 1, "3-hourly": 3, "6-hourly": 6, "daily": 24}.get(word)
    if word == "monthly":
        return None
    if word == "end":
        seconds = int((end - start).total_seconds())
        return f"{seconds // 3600:02d}{seconds % 3600 // 60:02d}{seconds % 60:02d}"
    return f"{hours:02d}0000"
