"""The researcher's run configuration: parsing, validation and normal form.

One format for the CLI, the wizard and the API: a mapping (YAML or JSON already loaded)
with these keys, all optional except `simulation`:

    name            free text; default: GEOS-Chem's run directory name (default_name)
    model           classic | gchp                                    (default classic)
    simulation      fullchem, TransportTracers, ... (catalog.simulations(model))
    options         list of extra options: a fullchem option (benchmark, complexSOA,
                    TOMAS15, ...; "Standard" = none), the POPs species (BaP | PHE | PYR,
                    required), or the carbon species (CH4 | CO2 | CO | OCS; "all" = none)
    met             MERRA2 | GEOSFP | GEOSIT | ModelE2.1 (also "MERRA-2", "GEOS-FP", ...)
                                                                      (default MERRA2)
    scenario        ModelE2.1 only: HIST, HIST-nudged, SSP119 ... SSP585 (or "SSP2-4.5")
    resolution      4x5, 2x2.5, 0.5x0.625, 0.25x0.3125, 0.125x0.15625 (Classic) or
                    C24 ... C720 (GCHP)                     (default 4x5 / C24)
    domain          global (default), a region code (AS, EU, NA, SA, ...), or a custom box:
                        domain: {custom: {lon: [W, E], lat: [S, N]}}   (normal form)
                        domain: {lon: [W, E], lat: [S, N]}             (accepted too)
    levels          72 | 47 (40 for ModelE2.1; GCHP 72)      (default: the met's native)
    start, end      YAML dates/datetimes or "YYYY-MM-DD[ HH:MM[:SS]]" strings
                    (default: the simulation's one-month default period; with only one
                    given, the other is one calendar month away)
    outputs         {Collection: frequency} or {Collection: {frequency, duration, mode}};
                    frequency/duration: hourly | 3-hourly | 6-hourly | daily | monthly | end;
                    mode: time-averaged (default) | instantaneous; duration defaults to
                    daily for sub-daily frequencies, else to the frequency.
                    (default: SpeciesConc daily for runs up to 31 days, else monthly).
                    Restart is always written and is not requested here.
    compute         {instance_type, capacity: spot | on-demand, nodes, cores_per_node}
                    (default: no instance type, on-demand, 1 node, 1 core per node for
                    Classic and 6 for GCHP)
    segment_days    positive integer; absent/null = calendar-month segments
    stretch         GCHP only: {factor, target_lat, target_lon}

A key (top-level or in compute) set to null counts as left out.

`parse_config` reports every problem at once, each tied to a dotted key path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from simulations import catalog

TOP_KEYS = ("name", "model", "simulation", "options", "met", "scenario", "resolution", "domain",
            "levels", "start", "end", "outputs", "compute", "segment_days", "stretch")
COMPUTE_KEYS = ("instance_type", "capacity", "nodes", "cores_per_node")
STRETCH_KEYS = ("factor", "target_lat", "target_lon")
OUTPUT_KEYS = ("frequency", "duration", "mode")
BOX_KEYS = ("lon", "lat")
NAME_MAX_LENGTH = 200
DAILY_OUTPUT_MAX_DAYS = 31  # longer runs default to monthly SpeciesConc

_INVALID = object()  # a value that failed validation (None is a legitimate value)


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted key path: "resolution", "compute.cores_per_node", "outputs.Foo"
    message: str


class ConfigInvalid(Exception):
    """Raised by parse_config with every problem found."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{error.field or '(configuration)'}: {error.message}" for error in self.errors))


@dataclass(frozen=True)
class OutputRequest:
    collection: str
    frequency: str
    duration: str
    mode: str


@dataclass(frozen=True)
class Compute:
    instance_type: str | None
    capacity: str
    nodes: int
    cores_per_node: int

    @property
    def total_cores(self) -> int:
        return self.nodes * self.cores_per_node


@dataclass(frozen=True)
class Stretch:
    factor: float
    target_lat: float
    target_lon: float  # as given, in [-180, 360)


@dataclass(frozen=True)
class RunConfig:
    """A validated, normalized configuration; build it with parse_config."""

    name: str
    model: str
    simulation: str
    options: tuple[str, ...]
    met: str
    scenario: str | None
    resolution: str
    domain: str  # "global", a region code, or "custom"
    lon_range: tuple[float, float]
    lat_range: tuple[float, float]
    levels: int
    start: datetime
    end: datetime
    outputs: tuple[OutputRequest, ...]
    compute: Compute
    segment_days: int | None
    stretch: Stretch | None
    transport_timestep_s: int
    chemistry_timestep_s: int

    @property
    def nested(self) -> bool:
        return self.domain != "global"

    @property
    def grid_kind(self) -> str:
        return "cubed_sphere" if self.model == "gchp" else "latlon"

    @property
    def cs_res(self) -> int | None:
        return catalog.cs_res(self.resolution)


# --- Public API --------------------------------------------------------------------------------

def parse_config(raw: Mapping) -> RunConfig:
    """Validate and normalize a raw configuration; raise ConfigInvalid with every problem."""
    if not isinstance(raw, Mapping):
        raise ConfigInvalid([FieldError("", "the configuration must be a mapping of keys to values")])
    return _Parser(raw).parse()


def config_to_dict(cfg: RunConfig) -> dict:
    """The JSON-serializable normal form; parse_config(config_to_dict(c)) == c."""
    if cfg.domain == "custom":
        domain = {"custom": {"lon": list(cfg.lon_range), "lat": list(cfg.lat_range)}}
    else:
        domain = cfg.domain
    return {
        "name": cfg.name,
        "model": cfg.model,
        "simulation": cfg.simulation,
        "options": list(cfg.options),
        "met": cfg.met,
        "scenario": cfg.scenario,
        "resolution": cfg.resolution,
        "domain": domain,
        "levels": cfg.levels,
        "start": cfg.start.strftime("%Y-%m-%d %H:%M:%S"),
        "end": cfg.end.strftime("%Y-%m-%d %H:%M:%S"),
        "outputs": {o.collection: {"frequency": o.frequency, "duration": o.duration, "mode": o.mode}
                    for o in cfg.outputs},
        "compute": {"instance_type": cfg.compute.instance_type, "capacity": cfg.compute.capacity,
                    "nodes": cfg.compute.nodes, "cores_per_node": cfg.compute.cores_per_node},
        "segment_days": cfg.segment_days,
        "stretch": None if cfg.stretch is None else {
            "factor": cfg.stretch.factor, "target_lat": cfg.stretch.target_lat,
            "target_lon": cfg.stretch.target_lon},
    }


def default_name(cfg) -> str:
    """GEOS-Chem's default run directory name.

    Classic (createRunDir.sh): gc_{res}[_{nest}][_47L]_{met}_{sim}[_{option}], e.g.
    gc_05x0625_NA_47L_merra2_fullchem; a custom box is "CU" as in the script. GCHP's script
    names gchp_{met}_{sim}[_{option}] and sets the resolution later; the platform fixes the
    resolution up front, so it goes in: gchp_c24_merra2_TransportTracers."""
    met = catalog.MET_FIELDS[cfg.met]["dir_name"]
    option = f"_{cfg.options[0]}" if cfg.options else ""
    if cfg.model == "gchp":
        return f"gchp_c{cfg.cs_res}_{met}_{cfg.simulation}{option}"
    grid = catalog.latlon_grid(cfg.resolution)["dir_name"]
    if cfg.domain != "global":
        grid += "_CU" if cfg.domain == "custom" else f"_{cfg.domain}"
    if cfg.levels == 47:
        grid += "_47L"
    return f"gc_{grid}_{met}_{cfg.simulation}{option}"


# --- Small helpers -------------------------------------------------------------------------------

def _did_you_mean(word: str, choices) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _one_of(choices) -> str:
    return ", ".join(str(choice) for choice in choices)


def _squash(text: str) -> str:
    """Lower-case without separators, so "MERRA-2", "merra2" and "Merra_2" meet."""
    return re.sub(r"[\s\-_.]", "", text).lower()


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def _parse_datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        text = value.strip()
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    return None


def _format_when(when: datetime) -> str:
    return when.strftime("%Y-%m-%d") if when.time() == datetime.min.time() else when.strftime("%Y-%m-%d %H:%M")


def _frequency_rank(word: str) -> int:
    return catalog.FREQUENCIES.index(word)


# --- The parser -------------------------------------------------------------------------------------

class _Parser:
    """Walks one raw configuration, collecting FieldErrors instead of stopping at the first."""

    def __init__(self, raw: Mapping):
        self.raw = raw
        self.errors: list[FieldError] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def unknown_keys(self, mapping: Mapping, allowed, prefix: str = "") -> None:
        for key in mapping:
            if key not in allowed:
                path = f"{prefix}{key}"
                self.error(path, f"unknown key '{key}'{_did_you_mean(str(key), allowed)}")

    def parse(self) -> RunConfig:
        self.unknown_keys(self.raw, TOP_KEYS)
        self.raw = {key: value for key, value in self.raw.items() if value is not None}  # null = left out
        model = self.model()
        simulation = self.simulation(model)
        options = self.options(simulation)
        met = self.met(model)
        scenario = self.scenario(met)
        resolution = self.resolution(model, met, simulation)
        domain, lon_range, lat_range = self.domain(model, resolution, met)
        levels = self.levels(model, met)
        start, end = self.dates(simulation, resolution, met, scenario)
        outputs = self.outputs(model, simulation, start, end)
        stretch = self.stretch(model)
        compute = self.compute(model, resolution)
        segment_days = self.segment_days()
        name = self.name()
        if self.errors:
            raise ConfigInvalid(self.errors)

        if model == "gchp":
            transport, chemistry = catalog.gchp_timesteps(catalog.cs_res(resolution), stretch and stretch.factor)
        else:
            transport, chemistry = catalog.classic_timesteps(resolution, options)
        config = RunConfig(
            name="", model=model, simulation=simulation, options=options, met=met, scenario=scenario,
            resolution=resolution, domain=domain, lon_range=lon_range, lat_range=lat_range,
            levels=levels, start=start, end=end, outputs=outputs, compute=compute,
            segment_days=segment_days, stretch=stretch, transport_timestep_s=transport,
            chemistry_timestep_s=chemistry)
        return replace(config, name=name or default_name(config))

    # --- model, simulation, options --------------------------------------------------------

    def model(self):
        value = self.raw.get("model", "classic")
        if isinstance(value, str) and value.strip().lower() in catalog.MODELS:
            return value.strip().lower()
        self.error("model", f"choose a model: classic (GEOS-Chem Classic) or gchp (got {value!r})")
        return _INVALID

    def simulation(self, model):
        value = self.raw.get("simulation")
        if value is None:
            self.error("simulation", "choose a simulation, e.g. fullchem or TransportTracers")
            return _INVALID
        if model is _INVALID:
            return value if isinstance(value, str) else _INVALID
        choices = catalog.simulations(model)
        if isinstance(value, str):
            by_lower = {sim.lower(): sim for sim in choices}
            if value.strip().lower() in by_lower:
                return by_lower[value.strip().lower()]
            if model == "gchp" and value in catalog.simulations("classic"):
                self.error("simulation", (f"GCHP 14.7 does not offer the {value} simulation; GCHP "
                                          f"runs {_one_of(choices)}; use model: classic for {value}"))
                return _INVALID
            if _squash(value) in ("ch4", "co2", "tagco"):
                self.error("simulation", (f"the {value} simulation was retired in GEOS-Chem 14.7.0; use "
                                          "simulation: carbon with the species in options (e.g. options: [CH4])"))
                return _INVALID
        hint = _did_you_mean(str(value), choices)
        self.error("simulation", f"unknown simulation {value!r}{hint}; choose one of {_one_of(choices)}")
        return _INVALID

    def options(self, simulation):
        value = self.raw.get("options")
        if value is None:
            value = []
        elif isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            self.error("options", "options must be a list of option names, e.g. [complexSOA]")
            return _INVALID
        if simulation is _INVALID:
            return _INVALID
        options, problem = catalog.options_named(simulation, value)
        if problem:
            self.error("options", problem)
            return _INVALID
        return options

    # --- meteorology ------------------------------------------------------------------------------

    def met(self, model):
        value = self.raw.get("met", "MERRA2")
        name = catalog.met_named(value)
        if name is None:
            self.error("met", (f"unknown meteorology {value!r}{_did_you_mean(str(value), catalog.MET_FIELDS)}; "
                               f"choose one of {_one_of(catalog.MET_FIELDS)}"))
            return _INVALID
        if model is not _INVALID and model not in catalog.MET_FIELDS[name]["models"]:
            self.error("met", (f"{catalog.met_label(name)} meteorology is available for GEOS-Chem Classic only; "
                               f"GCHP runs with {_one_of(catalog.met_fields_for(model))}"))
            return _INVALID
        return name

    def scenario(self, met):
        value = self.raw.get("scenario")
        if met is _INVALID:
            return _INVALID
        if met != "ModelE2.1":
            if value is not None:
                self.error("scenario", "a scenario applies only to GISS ModelE2.1 meteorology; remove it")
                return _INVALID
            return None
        if value is None:
            self.error("scenario", f"ModelE2.1 meteorology needs a scenario: one of {_one_of(catalog.SCENARIOS)}")
            return _INVALID
        code = catalog.scenario_named(value)
        if code is None:
            self.error("scenario", f"unknown scenario {value!r}; choose one of {_one_of(catalog.SCENARIOS)}")
            return _INVALID
        return code

    # --- grid ------------------------------------------------------------------------------------------

    def resolution(self, model, met, simulation):
        if model is _INVALID:
            return _INVALID
        value = self.raw.get("resolution", "4x5" if model == "classic" else "C24")
        text = value.strip() if isinstance(value, str) else None
        if text and re.fullmatch(r"[cC]\d+", text):
            resolution = "C" + text[1:]
            if model == "classic":
                self.error("resolution", (f"{resolution} is a GCHP cubed-sphere resolution; GEOS-Chem Classic runs on "
                                          f"{_one_of(catalog.latlon_resolutions())}"))
                return _INVALID
            if resolution not in catalog.cs_resolution_names():
                self.error("resolution", f"choose a GCHP resolution among {_one_of(catalog.cs_resolution_names())}")
                return _INVALID
            return resolution
        resolution = catalog.latlon_resolution_named(text) if text else None
        if resolution is None:
            self.error("resolution", (f"unknown resolution {value!r}; {catalog.MODEL_LABELS[model]} runs on "
                                      f"{_one_of(catalog.resolutions_for(model))}"))
            return _INVALID
        if model == "gchp":
            self.error("resolution", (f"{resolution} is a GEOS-Chem Classic lat-lon grid; GCHP runs on cubed-sphere "
                                      f"grids {_one_of(catalog.cs_resolution_names())} (C24 is about 4x5)"))
            return _INVALID
        if met is not _INVALID and simulation is not _INVALID:
            problem = catalog.resolution_problem(met, resolution, simulation)
            if problem:
                self.error("resolution", problem)
                return _INVALID
        return resolution

    def domain(self, model, resolution, met):
        invalid = (_INVALID, _INVALID, _INVALID)
        value = self.raw.get("domain", "global")
        global_box = ((-180.0, 180.0), (-90.0, 90.0))
        if isinstance(value, Mapping):
            return self.custom_domain(value, model, resolution, met)
        if not isinstance(value, str):
            self.error("domain", "domain must be global, a region code such as NA, or {custom: {lon: [W, E], lat: [S, N]}}")
            return invalid
        text = value.strip()
        if text.lower() == "global":
            return ("global",) + global_box
        if text.lower() == "custom":
            self.error("domain", "give the custom box as domain: {custom: {lon: [W, E], lat: [S, N]}}")
            return invalid
        code = text.upper()
        if code not in catalog.NESTED_REGIONS:
            self.error("domain", (f"unknown domain {value!r}; choose global, a region code "
                                  f"({_one_of(catalog.NESTED_REGIONS)}) or a custom box"))
            return invalid
        if not self.nested_possible(model, resolution, met):
            return invalid
        problem = catalog.region_problem(code, resolution, met)
        if problem:
            self.error("domain", problem)
            return invalid
        box = catalog.region_box(code, resolution)
        return code, (box[0], box[1]), (box[2], box[3])

    def nested_possible(self, model, resolution, met) -> bool:
        """Report why a nested domain is impossible here; True when it is possible."""
        if _INVALID in (model, resolution, met):
            return False
        problem = catalog.nested_problem(model, resolution, met)
        if problem:
            self.error("domain", problem)
        return problem is None

    def custom_domain(self, value: Mapping, model, resolution, met):
        invalid = (_INVALID, _INVALID, _INVALID)
        prefix = "domain."
        if set(value) == {"custom"}:
            value, prefix = value["custom"], "domain.custom."
            if not isinstance(value, Mapping):
                self.error("domain.custom", "the custom box is {lon: [W, E], lat: [S, N]}")
                return invalid
        self.unknown_keys(value, BOX_KEYS, prefix)
        lon = self.range_pair(value.get("lon"), prefix + "lon", -180.0, 180.0, "west", "east")
        lat = self.range_pair(value.get("lat"), prefix + "lat", -90.0, 90.0, "south", "north")
        if not self.nested_possible(model, resolution, met) or _INVALID in (lon, lat):
            return invalid
        return "custom", lon, lat

    def range_pair(self, value, field, low, high, first, second):
        if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value)):
            self.error(field, f"give two numbers [{first}, {second}] (got {value!r})")
            return _INVALID
        a, b = float(value[0]), float(value[1])
        if not (low <= a <= high and low <= b <= high):
            self.error(field, f"both edges must lie within {low:g} and {high:g} (got {a:g}, {b:g})")
            return _INVALID
        if a >= b:
            self.error(field, f"the {first} edge must be less than the {second} edge (got {a:g}, {b:g})")
            return _INVALID
        return (a, b)

    def levels(self, model, met):
        if met is _INVALID or model is _INVALID:
            return _INVALID
        allowed = (72,) if model == "gchp" else catalog.levels_for(met)
        value = self.raw.get("levels", allowed[0])
        if not _is_int(value):
            self.error("levels", f"levels must be a whole number: {_one_of(allowed)} (got {value!r})")
            return _INVALID
        if value not in allowed:
            if model == "gchp":
                message = f"GCHP runs on 72 levels (got {value})"
            elif met == "ModelE2.1":
                message = f"GISS ModelE2.1 meteorology has 40 levels (got {value})"
            else:
                message = f"choose 72 (native) or 47 (reduced) levels (got {value})"
            self.error("levels", message)
            return _INVALID
        return value

    # --- dates ---------------------------------------------------------------------------------------

    def dates(self, simulation, resolution, met, scenario):
        start = self.when("start")
        end = self.when("end")
        if _INVALID in (start, end):
            return _INVALID, _INVALID
        if start is None or end is None:
            if start is not None:
                end = catalog.add_months(start, 1)
            elif end is not None:
                start = catalog.add_months(end, -1)
            elif _INVALID in (simulation, resolution, scenario):
                return _INVALID, _INVALID  # the default period depends on these
            else:
                start, end = catalog.default_period(simulation, resolution, scenario)
        if end <= start:
            self.error("end", f"the run must end after it starts ({_format_when(end)} is not after {_format_when(start)})")
            return _INVALID, _INVALID
        if _INVALID not in (met, scenario):
            for key, problem in catalog.date_problems(met, scenario, start, end):
                self.error(key, problem)
        return start, end

    def when(self, key):
        if key not in self.raw or self.raw[key] is None:
            return None
        value = _parse_datetime(self.raw[key])
        if value is None:
            self.error(key, f"{key} must be a date such as 2019-01-01 or 2019-01-01 06:00 (got {self.raw[key]!r})")
            return _INVALID
        return value

    # --- outputs -------------------------------------------------------------------------------------

    def outputs(self, model, simulation, start, end):
        value = self.raw.get("outputs")
        if value is None:
            if _INVALID in (start, end):
                return _INVALID
            frequency = "daily" if end - start <= timedelta(days=DAILY_OUTPUT_MAX_DAYS) else "monthly"
            return (OutputRequest("SpeciesConc", frequency, frequency, "time-averaged"),)
        if not isinstance(value, Mapping):
            self.error("outputs", "outputs must map collection names to a frequency, e.g. {SpeciesConc: daily}")
            return _INVALID
        requests = []
        for collection, spec in value.items():
            request = self.output(model, simulation, collection, spec)
            if request is not _INVALID:
                requests.append(request)
        # Sorted, so the normal form survives stores that reorder keys (PostgreSQL jsonb, YAML dumps).
        return tuple(sorted(requests, key=lambda r: r.collection)) if len(requests) == len(value) else _INVALID

    def output(self, model, simulation, collection, spec):
        field = f"outputs.{collection}"
        if not isinstance(collection, str):
            self.error(field, "collection names are words such as SpeciesConc")
            return _INVALID
        if collection == "Restart":
            self.error(field, "Restart is always written at the end of every run segment; leave it out of outputs")
            return _INVALID
        if model is not _INVALID and simulation is not _INVALID:
            offered = catalog.history_collections(model, simulation)
            if collection not in offered:
                if collection in catalog.all_history_collections(model):
                    self.error(field, f"the {collection} collection is not available for the {simulation} simulation")
                else:
                    self.error(field, (f"unknown collection '{collection}'{_did_you_mean(collection, offered)}; "
                                       f"{catalog.MODEL_LABELS[model]} {simulation} offers {_one_of(offered)}"))
                return _INVALID
        if isinstance(spec, str):
            spec = {"frequency": spec}
        if not isinstance(spec, Mapping):
            self.error(field, "give a frequency (e.g. daily) or {frequency, duration, mode}")
            return _INVALID
        self.unknown_keys(spec, OUTPUT_KEYS, field + ".")
        frequency = self.word(spec.get("frequency"), catalog.FREQUENCIES, field + ".frequency", required=True)
        duration = self.word(spec.get("duration"), catalog.FREQUENCIES, field + ".duration", required=False)
        mode = self.word(spec.get("mode"), catalog.MODES, field + ".mode", required=False) or "time-averaged"
        if _INVALID in (frequency, duration, mode) or any(key not in OUTPUT_KEYS for key in spec):
            return _INVALID
        if duration is None:
            duration = "daily" if frequency in catalog.SUB_DAILY else frequency
        if _frequency_rank(duration) < _frequency_rank(frequency):
            self.error(field + ".duration", (f"a file must hold at least one output: a {duration} file cannot "
                                             f"hold {frequency} output; choose a duration of {frequency} or longer"))
            return _INVALID
        if model == "gchp" and duration == "monthly" and frequency != "monthly":
            # MAPL's monthly switch sets both; fixed-length durations cannot follow calendar months.
            self.error(field + ".duration", (f"GCHP writes monthly files only for monthly output; for {frequency} "
                                             "output choose a daily duration or end"))
            return _INVALID
        return OutputRequest(collection, frequency, duration, mode)

    def word(self, value, choices, field, *, required):
        if value is None:
            if required:
                self.error(field, f"choose one of {_one_of(choices)}")
                return _INVALID
            return None
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        self.error(field, f"choose one of {_one_of(choices)} (got {value!r})")
        return _INVALID

    # --- compute, segments, stretch -------------------------------------------------------------------

    def compute(self, model, resolution):
        value = self.raw.get("compute")
        value = {} if value is None else value
        if not isinstance(value, Mapping):
            self.error("compute", "compute must be a mapping: {instance_type, capacity, nodes, cores_per_node}")
            return _INVALID
        self.unknown_keys(value, COMPUTE_KEYS, "compute.")
        value = {key: item for key, item in value.items() if item is not None}
        instance_type = value.get("instance_type")
        if instance_type is not None and not (isinstance(instance_type, str) and instance_type.strip()):
            self.error("compute.instance_type", f"give an instance type name such as c7i.16xlarge (got {instance_type!r})")
            instance_type = _INVALID
        elif instance_type is not None:
            instance_type = instance_type.strip()
        capacity = value.get("capacity", "on-demand")
        capacity = {"spot": "spot", "ondemand": "on-demand"}.get(_squash(capacity) if isinstance(capacity, str) else "")
        if capacity is None:
            self.error("compute.capacity", f"choose spot or on-demand (got {value.get('capacity')!r})")
            capacity = _INVALID
        nodes = self.count(value, "nodes", 1)
        cores = self.count(value, "cores_per_node", 6 if model == "gchp" else 1)
        valid = _INVALID not in (instance_type, capacity, nodes, cores, model)
        if model == "classic" and nodes is not _INVALID and nodes != 1:
            self.error("compute.nodes", ("GEOS-Chem Classic runs on a single node (OpenMP threads); set nodes: 1 "
                                         "or use GCHP to run on several nodes"))
            valid = False
        if model == "gchp" and _INVALID not in (nodes, cores):
            problem = catalog.gchp_cores_problem(None if resolution is _INVALID else resolution, nodes * cores)
            if problem:
                self.error("compute.cores_per_node", problem)
                valid = False
            if nodes > 1 and capacity == "spot":
                self.error("compute.capacity", ("a multi-node GCHP run must use on-demand capacity: AWS Batch runs "
                                                "no multi-node jobs on Spot; use one node or capacity: on-demand"))
                valid = False
        if not valid or any(key not in COMPUTE_KEYS for key in value):
            return _INVALID
        return Compute(instance_type, capacity, nodes, cores)

    def count(self, mapping, key, default):
        value = mapping.get(key, default)
        if not _is_int(value) or value < 1:
            self.error(f"compute.{key}", f"{key} must be a whole number of at least 1 (got {value!r})")
            return _INVALID
        return value

    def segment_days(self):
        value = self.raw.get("segment_days")
        if value is None:
            return None
        if not _is_int(value) or value < 1:
            self.error("segment_days", ("segment_days must be a whole number of days of at least 1, or left out for "
                                        f"calendar-month segments (got {value!r})"))
            return _INVALID
        return value

    def stretch(self, model):
        value = self.raw.get("stretch")
        if value is None:
            return None
        if model == "classic":
            self.error("stretch", "stretched grids are a GCHP feature; remove stretch for GEOS-Chem Classic")
            return _INVALID
        if not isinstance(value, Mapping):
            self.error("stretch", "stretch must be a mapping: {factor, target_lat, target_lon}")
            return _INVALID
        self.unknown_keys(value, STRETCH_KEYS, "stretch.")
        factor = self.number(value, "factor")
        lat = self.number(value, "target_lat")
        lon = self.number(value, "target_lon")
        if factor is not _INVALID and factor < catalog.STRETCH_MIN_FACTOR:
            self.error("stretch.factor", (f"the stretch factor must be at least {catalog.STRETCH_MIN_FACTOR} "
                                          f"(GCHP's minimum; got {factor:g}); leave stretch out for a uniform grid"))
            factor = _INVALID
        low, high = catalog.STRETCH_LAT_RANGE
        if lat is not _INVALID and not low <= lat <= high:
            self.error("stretch.target_lat", f"target_lat must lie within -90 and 90 (got {lat:g})")
            lat = _INVALID
        low, high = catalog.STRETCH_LON_RANGE
        if lon is not _INVALID and not low <= lon < high:
            self.error("stretch.target_lon", f"target_lon must lie within -180 and 360 (got {lon:g})")
            lon = _INVALID
        if _INVALID in (factor, lat, lon) or any(key not in STRETCH_KEYS for key in value):
            return _INVALID
        return Stretch(factor, lat, lon)

    def number(self, mapping, key):
        value = mapping.get(key)
        if not _is_number(value):
            self.error(f"stretch.{key}", f"{key} must be a number (got {value!r})")
            return _INVALID
        return float(value)

    def name(self):
        value = self.raw.get("name")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error("name", f"name must be non-empty text (got {value!r})")
            return _INVALID
        if len(value) > NAME_MAX_LENGTH:
            self.error("name", f"name must be at most {NAME_MAX_LENGTH} characters (got {len(value)})")
            return _INVALID
        return value.strip()
