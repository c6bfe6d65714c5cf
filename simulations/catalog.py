"""The GEOS-Chem option catalog: what a run may be made of, and small lookups over it.

Pure Python (no Django). The tables live in `catalog_data.py`; the version they describe is
`GEOSCHEM_VERSION`, the one place to change when GEOS-Chem changes. The authority for every
rule is `run/GCClassic/createRunDir.sh` and `run/GCHP/createRunDir.sh` of that tag (and
`run/GCHP/setCommonRunSettings.sh.template` for GCHP's core and timestep rules).
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime

from simulations import catalog_data as data

GEOSCHEM_VERSION = "14.7.0"

MODELS = ("classic", "gchp")
MODEL_LABELS = {"classic": "GEOS-Chem Classic", "gchp": "GCHP"}

GEOSFP_CONVECTION_CHANGE = data.GEOSFP_CONVECTION_CHANGE

# GCHP compute rules (setCommonRunSettings.sh.template): total cores divisible by 6 (one
# share per cube face), at least one core per face, subdomains of at least 4x4 cells.
GCHP_CORE_MULTIPLE = 6
GCHP_MIN_CORES = 6
GCHP_MIN_SUBDOMAIN_CELLS = 4

# Stretched grid (setCommonRunSettings.sh.template): STRETCH_FACTOR >= 1.0001, TARGET_LON
# in [0, 360). Researchers think of longitudes as -180..180, so both forms are accepted and
# the spec converts to GCHP's form.
STRETCH_MIN_FACTOR = 1.0001
STRETCH_LAT_RANGE = (-90.0, 90.0)
STRETCH_LON_RANGE = (-180.0, 360.0)  # half-open

# Output vocabulary, from finest to coarsest; `end` = once, at the end of the run segment.
FREQUENCIES = ("hourly", "3-hourly", "6-hourly", "daily", "monthly", "end")
SUB_DAILY = ("hourly", "3-hourly", "6-hourly")
MODES = ("time-averaged", "instantaneous")
CAPACITIES = ("spot", "on-demand")

# HISTORY.rc "YYYYMMDD hhmmss" strings (GCClassic templates) for each frequency word.
HISTORY_INTERVALS = {
    "hourly": "00000000 010000", "3-hourly": "00000000 030000", "6-hourly": "00000000 060000",
    "daily": "00000001 000000", "monthly": "00000100 000000", "end": "End",
}

NESTED_RESOLUTIONS = data.NESTED_RESOLUTIONS
CS_RESOLUTIONS = data.CS_RESOLUTIONS
SCENARIOS = data.SCENARIOS
MET_FIELDS = data.MET_FIELDS
NESTED_REGIONS = data.NESTED_REGIONS


# --- Simulations and options -------------------------------------------------------------

def simulations(model: str) -> tuple[str, ...]:
    """Simulation types the model offers (empty for an unknown model)."""
    return data.SIMULATIONS.get(model, ())


def option_spec(simulation: str) -> dict | None:
    """`{"choices", "none_aliases", "required"}` for a simulation with extra options, else None."""
    return data.SIMULATION_OPTIONS.get(simulation)


# --- Meteorology ---------------------------------------------------------------------------

def options_named(simulation: str, items: list[str]) -> tuple[tuple[str, ...] | None, str | None]:
    """(options in createRunDir.sh spelling, None) or (None, why not) for a simulation.

    Words meaning "no option" ("Standard", carbon's "all") are dropped, so a standard
    fullchem run has options ()."""
    spec = option_spec(simulation)
    if spec is None:
        return ((), None) if not items else (None, f"the {simulation} simulation has no extra options "
                                                   f"(got {_listing(items)})")
    by_lower = {choice.lower(): choice for choice in spec["choices"]}
    nones = {alias.lower() for alias in spec["none_aliases"]}
    chosen = []
    for item in items:
        key = item.strip().lower()
        if key in nones:
            continue
        if key not in by_lower:
            match = difflib.get_close_matches(item, spec["choices"], n=1, cutoff=0.6)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            return None, f"unknown {simulation} option '{item}'{hint}; choose one of {_listing(spec['choices'])}"
        chosen.append(by_lower[key])
    if len(chosen) > 1:
        return None, f"the {simulation} simulation takes one extra option at a time (got {_listing(chosen)})"
    if spec["required"] and not chosen:
        return None, f"the {simulation} simulation needs one of {_listing(spec['choices'])} in options"
    return tuple(chosen), None


def met_fields_for(model: str) -> tuple[str, ...]:
    return tuple(name for name, met in data.MET_FIELDS.items() if model in met["models"])


def met_label(met: str) -> str:
    return data.MET_FIELDS[met]["label"]


def levels_for(met: str) -> tuple[int, ...]:
    """Vertical level counts the met field allows (first = native)."""
    return data.MET_FIELDS[met]["levels"]


def scenario_periods(scenario: str) -> tuple[tuple[datetime, datetime], ...]:
    """Each available stretch of a GCAP 2.0 scenario as [start, end) datetimes."""
    return tuple((datetime(lo, 1, 1), datetime(hi + 1, 1, 1)) for lo, hi in data.SCENARIOS[scenario]["years"])


def scenario_years_text(scenario: str) -> str:
    return " and ".join(f"{lo}-{hi}" for lo, hi in data.SCENARIOS[scenario]["years"])


# --- Grids ---------------------------------------------------------------------------------------

def latlon_resolutions() -> tuple[str, ...]:
    return tuple(data.LATLON_GRIDS)


def cs_resolution_names() -> tuple[str, ...]:
    return tuple(f"C{n}" for n in data.CS_RESOLUTIONS)


def resolutions_for(model: str) -> tuple[str, ...]:
    return latlon_resolutions() if model == "classic" else cs_resolution_names()


def latlon_grid(resolution: str) -> dict:
    return data.LATLON_GRIDS[resolution]


def cs_res(resolution: str) -> int | None:
    """24 for "C24"; None for a lat-lon resolution."""
    if resolution.startswith("C") and resolution[1:].isdigit():
        return int(resolution[1:])
    return None


def met_allows_resolution(met: str, resolution: str, simulation: str) -> bool:
    """Whether createRunDir.sh offers this resolution with this met field and simulation."""
    if cs_res(resolution) is not None:
        return True  # every GCHP met option runs on every cubed-sphere resolution
    if met not in data.LATLON_GRIDS[resolution]["met"]:
        return False
    # GEOS-IT 0.5x0.625 is offered for TransportTracers only (GCClassic createRunDir.sh).
    return not (met == "GEOSIT" and resolution == "0.5x0.625" and simulation != "TransportTracers")


def mets_for_resolution(resolution: str) -> tuple[str, ...]:
    return data.LATLON_GRIDS[resolution]["met"]


def nested_allowed(resolution: str, met: str) -> bool:
    """Whether the domain menu (regions and custom boxes) exists for this grid and met.

    createRunDir.sh shows it at 0.5x0.625, 0.25x0.3125 and 0.125x0.15625, except for GEOS-IT
    (global only)."""
    return resolution in data.NESTED_RESOLUTIONS and met != "GEOSIT"


def regions_at(resolution: str, met: str) -> tuple[str, ...]:
    """Codes of the predefined nested regions offered at this resolution and met field."""
    if not nested_allowed(resolution, met):
        return ()
    return tuple(code for code, region in data.NESTED_REGIONS.items() if resolution in region["boxes"])


def region_box(code: str, resolution: str) -> tuple[float, float, float, float] | None:
    """(lon_west, lon_east, lat_south, lat_north) of a region at a resolution, or None when
    the catalog does not have that box (see catalog_data.NESTED_REGIONS)."""
    return data.NESTED_REGIONS[code]["boxes"].get(resolution)


def region_any_box(code: str) -> tuple[float, float, float, float] | None:
    """A region's box at the first resolution the catalog has one for (for summaries and maps)."""
    boxes = data.NESTED_REGIONS.get(code, {}).get("boxes", {})
    return next((box for box in boxes.values() if box), None)


def classic_timesteps(resolution: str, options: tuple[str, ...]) -> tuple[int, int]:
    """(transport_s, chemistry_s) as createRunDir.sh sets them; TOMAS slows coarse grids."""
    grid = data.LATLON_GRIDS[resolution]
    if grid["tomas_timesteps"] and any(option.startswith("TOMAS") for option in options):
        return grid["tomas_timesteps"]
    return grid["timesteps"]


def gchp_timesteps(cs: int, stretch_factor: float | None) -> tuple[int, int]:
    """(transport_s, chemistry_s) per setCommonRunSettings.sh: the effective resolution
    (CS_RES x STRETCH_FACTOR, rounded) below 180 runs 600/1200, otherwise 300/600."""
    effective = round(cs * stretch_factor) if stretch_factor else cs
    return (600, 1200) if effective < 180 else (300, 600)


def max_gchp_cores(cs: int) -> int:
    """Most cores GCHP can use at CS_RES `cs`.

    setCommonRunSettings.sh splits each cube face into NX x NY/6 subdomains and requires
    CS_RES/NX >= 4 and CS_RES*6/NY >= 4 in integer arithmetic, i.e. NX <= floor(CS/4) and
    NY/6 <= floor(CS/4). The total NX*NY is largest with both at that bound:
    6 * floor(CS/4)**2. C24 216, C48 864, C90 2904, C180 12150, C360 48600, C720 194400.
    (The script's comment says 3174 for C90, but its own example NX=22, NY=132 is 2904, and
    3174 = 23 x 138 fails its integer check 90/23 = 3 < 4.)"""
    side = cs // GCHP_MIN_SUBDOMAIN_CELLS
    return GCHP_CORE_MULTIPLE * side * side


def gchp_decomposition(cs: int, total_cores: int) -> tuple[int, int] | None:
    """(NX, NY) for `total_cores` on CS_RES `cs`, the most square valid split, or None.

    Valid: NX * NY == total_cores, NY a multiple of 6, CS/NX >= 4 and CS*6/NY >= 4 (integer
    division, as setCommonRunSettings.sh checks). "Most square" follows the script's own
    auto-split, which makes NX by NY/6 as square as possible."""
    if total_cores < GCHP_MIN_CORES or total_cores % GCHP_CORE_MULTIPLE:
        return None
    per_face = total_cores // GCHP_CORE_MULTIPLE
    best = None
    for nx in range(1, per_face + 1):
        if per_face % nx:
            continue
        ny = per_face // nx * GCHP_CORE_MULTIPLE
        if cs // nx < GCHP_MIN_SUBDOMAIN_CELLS or cs * 6 // ny < GCHP_MIN_SUBDOMAIN_CELLS:
            continue
        skew = abs(nx - ny // GCHP_CORE_MULTIPLE)
        if best is None or skew < best[0]:
            best = (skew, nx, ny)
    return None if best is None else (best[1], best[2])


def nearby_gchp_core_counts(cs: int, total_cores: int) -> tuple[int, ...]:
    """The valid core counts just below and just above `total_cores` (for error messages)."""
    below = next((n for n in range(total_cores - 1, GCHP_MIN_CORES - 1, -1)
                  if gchp_decomposition(cs, n)), None)
    above = next((n for n in range(total_cores + 1, max_gchp_cores(cs) + 1)
                  if gchp_decomposition(cs, n)), None)
    return tuple(n for n in (below, above) if n is not None)


def gchp_memory(cs: int) -> dict:
    """`{"gb_per_node", "min_nodes"}` a GCHP run wants at this resolution (data only)."""
    return data.GCHP_MEMORY[cs]


def classic_memory_gb(resolution: str) -> int | None:
    return data.CLASSIC_MEMORY_GB.get(resolution)


# --- Dates -----------------------------------------------------------------------------------

def add_months(when: datetime, months: int) -> datetime:
    """`when` moved by whole calendar months (day clamped to the month's length)."""
    month_index = when.year * 12 + when.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    days_in_month = (datetime(year + month // 12, month % 12 + 1, 1) - datetime(year, month, 1)).days
    return when.replace(year=year, month=month, day=min(when.day, days_in_month))


def default_period(simulation: str, resolution: str, scenario: str | None = None) -> tuple[datetime, datetime]:
    """createRunDir.sh's default run: one month from the shipped restart file's date.

    ModelE2.1 runs keep the month but move to the scenario's first period starting in 2000
    or later (2001 for the historical runs, 2040 for the SSPs), since 2019 is outside
    every GCAP 2.0 scenario."""
    start = data.DEFAULT_START_0125 if resolution == "0.125x0.15625" else data.DEFAULT_START[simulation]
    if scenario is not None:
        periods = data.SCENARIOS[scenario]["years"]
        year = next((lo for lo, _ in periods if lo >= 2000), periods[-1][0])
        start = start.replace(year=year)
    return start, add_months(start, 1)


def met_coverage(met: str) -> tuple[datetime, datetime | None]:
    """(first date served, last date or None when open-ended)."""
    return data.MET_FIELDS[met]["first_date"], data.MET_FIELDS[met]["last_date"]


# --- Diagnostics ---------------------------------------------------------------------------------

def history_collections(model: str, simulation: str) -> tuple[str, ...]:
    """HISTORY collections a researcher may request for this model and simulation."""
    return tuple(name for name in data.HISTORY_COLLECTIONS.get(model, ())
                 if simulation in data.COLLECTION_SIMULATIONS.get(name, (simulation,)))


def all_history_collections(model: str) -> tuple[str, ...]:
    return data.HISTORY_COLLECTIONS.get(model, ())


def collection_fields(collection: str) -> tuple[str, ...]:
    return data.COLLECTION_FIELDS[collection]


def transported_species(simulation: str, options: tuple[str, ...]) -> tuple[str, ...]:
    """Advected species (see the caveat on catalog_data.TRANSPORTED_SPECIES)."""
    if simulation == "carbon" and options:
        return options  # a single-species carbon run advects just that species
    if simulation == "POPs" and options:
        return tuple(f"{name}_{options[0]}" for name in data.TRANSPORTED_SPECIES["POPs"])
    return data.TRANSPORTED_SPECIES[simulation]


# --- Names as researchers write them ------------------------------------------------------------

def _squash(text: str) -> str:
    """Lower-case without separators, so "MERRA-2", "merra2" and "Merra_2" meet."""
    return re.sub(r"[\s\-_.]", "", text).lower()


_MET_NAMES = {_squash(name): name for name in data.MET_FIELDS}
_MET_NAMES.update({_squash(met["label"].split(" ")[0]): name for name, met in data.MET_FIELDS.items()})
_MET_NAMES.update({"gcap2": "ModelE2.1", "modele": "ModelE2.1"})
_SCENARIO_NAMES = {_squash(code): code for code in data.SCENARIOS}
_SCENARIO_NAMES.update({_squash(s["label"]): code for code, s in data.SCENARIOS.items()})
_SCENARIO_NAMES.update({"historical": "HIST", "histnudged": "HIST-nudged"})
_RESOLUTION_NAMES = {alias.lower(): res for res, grid in data.LATLON_GRIDS.items()
                     for alias in (res, grid["geoschem_name"], grid["dir_name"])}


def met_named(text) -> str | None:
    """The met field key for "MERRA-2", "geos-fp", "GCAP2", ...; None if unknown."""
    return _MET_NAMES.get(_squash(text)) if isinstance(text, str) else None


def scenario_named(text) -> str | None:
    """The scenario code for "SSP2-4.5", "ssp245", "Historical", ...; None if unknown."""
    return _SCENARIO_NAMES.get(_squash(text)) if isinstance(text, str) else None


def latlon_resolution_named(text: str) -> str | None:
    """"4x5" for "4x5", "4.0x5.0" (geoschem_config.yml) or "2x25"-style run directory names."""
    return _RESOLUTION_NAMES.get(text.lower())


# --- Rules in words ---------------------------------------------------------------------------
# Each returns None when the choice is fine, else a sentence a researcher understands that
# names the rule. config.py attaches them to the key that holds the offending value.

def _listing(items) -> str:
    return ", ".join(str(item) for item in items)


def resolution_problem(met: str, resolution: str, simulation: str) -> str | None:
    """Why GEOS-Chem Classic cannot run `resolution` with this met field and simulation."""
    if met not in mets_for_resolution(resolution):
        labels = " or ".join(met_label(m) for m in mets_for_resolution(resolution))
        return f"{resolution} is only available with {labels} meteorology"
    if not met_allows_resolution(met, resolution, simulation):
        return (f"GEOS-IT at {resolution} is only available for the TransportTracers simulation; "
                "choose 4x5 or 2x2.5, or another meteorology")
    return None


def nested_problem(model: str, resolution: str, met: str) -> str | None:
    """Why no nested domain (region or custom box) can be used here."""
    if model == "gchp":
        return ("GCHP always runs on the whole globe; to focus on a region use a stretched grid "
                "(stretch) instead of a nested domain")
    if resolution not in NESTED_RESOLUTIONS:
        return f"nested domains exist only at {_listing(NESTED_RESOLUTIONS)}; at {resolution} choose global"
    if not nested_allowed(resolution, met):
        return f"{met_label(met)} at {resolution} runs only globally; no nested domain is offered"
    return None


def region_problem(code: str, resolution: str, met: str) -> str | None:
    """Why the predefined region `code` cannot be used (nested_problem already passed)."""
    if code not in regions_at(resolution, met):
        offered = ("global",) + regions_at(resolution, met) + ("custom",)
        return f"the {code} nested domain is not available at {resolution}; choose one of {_listing(offered)}"
    if region_box(code, resolution) is None:
        return (f"the boundaries of the {code} nested domain at {resolution} are not in the platform's "
                "catalog yet; give them as a custom box: domain: {custom: {lon: [W, E], lat: [S, N]}}")
    return None


def _day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d") if when.time() == datetime.min.time() else when.strftime("%Y-%m-%d %H:%M")


def date_problems(met: str, scenario: str | None, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """(key, message) pairs for a run period the meteorology cannot serve (end > start given)."""
    if met == "ModelE2.1":
        label = data.SCENARIOS[scenario]["label"]
        years = scenario_years_text(scenario)
        containing = next(((lo, hi) for lo, hi in scenario_periods(scenario) if lo <= start < hi), None)
        if containing is None:
            return [("start", f"the {label} scenario has meteorology for {years} only; start within those years")]
        if end > containing[1]:
            return [("end", (f"the {label} scenario has meteorology for {years} only; "
                             f"end on or before {_day(containing[1])}"))]
        return []
    problems = []
    first, last = met_coverage(met)
    if start < first:
        problems.append(("start", f"{met_label(met)} meteorology starts on {_day(first)}; start on or after it"))
    if last is not None and end > last:
        problems.append(("end", f"{met_label(met)} meteorology ends on {_day(last)}; end on or before it"))
    if met == "GEOSFP" and start < GEOSFP_CONVECTION_CHANGE < end:
        problems.append(("end", ("a GEOS-FP run must not span 2020-06-01, when its convection scheme changed; "
                                 "end on or before 2020-06-01 or start on or after it")))
    return problems


def gchp_cores_problem(resolution: str | None, total: int) -> str | None:
    """Why GCHP cannot run on `total` cores (at `resolution`, when known)."""
    if total % GCHP_CORE_MULTIPLE:
        return f"GCHP needs a total number of cores divisible by 6 (you asked for {total})"
    if total < GCHP_MIN_CORES:
        return f"GCHP needs at least 6 cores (you asked for {total})"
    if resolution is None:
        return None
    cs = cs_res(resolution)
    most = max_gchp_cores(cs)
    if total > most:
        return (f"GCHP at {resolution} can use at most {most} cores, since each cube face must be cut into "
                f"pieces of at least 4x4 grid cells (you asked for {total})")
    if gchp_decomposition(cs, total) is None:
        nearby = " or ".join(str(n) for n in nearby_gchp_core_counts(cs, total))
        return (f"GCHP cannot split {resolution} over {total} cores: each cube face must be cut into NX by "
                f"NY/6 pieces of at least 4x4 grid cells; try {nearby} cores")
    return None


# --- The demo model ----------------------------------------------------------------------------

DEMO_COLLECTIONS = data.DEMO_COLLECTIONS


def demo_problems(config) -> list:
    """What in a parsed RunConfig the embedded demo model cannot run, in words.

    An empty list means the demo model accepts the configuration."""
    # config.py imports this module at load time, so its FieldError is imported here.
    from simulations.config import FieldError

    problems = []
    real_build = "or use a real GEOS-Chem build"
    if config.model == "classic":
        if config.resolution not in data.DEMO_CLASSIC_RESOLUTIONS:
            problems.append(FieldError("resolution", (
                "the demo model runs only 4x5, 2x2.5 and 0.5x0.625 (nested); "
                f"choose one of these {real_build}")))
        elif config.resolution in data.DEMO_NESTED_ONLY and config.domain == "global":
            problems.append(FieldError("domain", (
                f"the demo model runs {config.resolution} only as a nested domain (a region such "
                f"as NA, or a custom box); choose one {real_build}")))
    elif cs_res(config.resolution) not in data.DEMO_CS_RESOLUTIONS:
        problems.append(FieldError("resolution", (
            f"the demo model runs GCHP only at C24 and C48; choose one of these {real_build}")))
    for output in config.outputs:
        if output.collection not in data.DEMO_COLLECTIONS:
            problems.append(FieldError(f"outputs.{output.collection}", (
                f"the demo model writes only SpeciesConc and StateMet (and the restart); "
                f"remove {output.collection} {real_build}")))
    return problems
