"""Requests and their answers, shared by the results pages (results/views.py) and the API
(results/api.py), so a page and its endpoint say the same things in the same words: the
parameters parsed (`whole`, the region, the file, variable, time step and level), the answers
built (`field_answer`, `series_answer`, `comparison_answer`, the exports' `csv_answer` and
`netcdf_export`). Nothing here renders a response.

Every path comes from the index (`selectors.result_file`), never from the request alone. Problems
are the exceptions in `ANSWERABLE`: `RequestInvalid` (a parameter, 400), `NotFound` and
`files.OutputMissing` (no such simulation or indexed readable file, 404), `readers.ReaderError`
and its subclass `analysis.AnalysisError` (what the data cannot answer, 400); `problem(exc)`
gives the status, the parameter and the message.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.conf import settings

from results import exports, figures, readers, selectors
from results.analysis import AnalysisError, Region
from results.files import OutputMissing
from results.models import ResultFile
from simulations import catalog
from simulations.models import Simulation
from simulations.outputs import safe_relative

DEMO_LABEL = "demo model, not GEOS-Chem"


class RequestInvalid(Exception):
    """A parameter the request got wrong (400): which one, and what would work."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class NotFound(Exception):
    """No such simulation for this user (404)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


ANSWERABLE = (RequestInvalid, NotFound, OutputMissing, readers.ReaderError)


def problem(exc: Exception) -> tuple[int, str, str]:
    """(HTTP status, parameter, message) of one of ANSWERABLE."""
    if isinstance(exc, (RequestInvalid, NotFound)):
        return (400 if isinstance(exc, RequestInvalid) else 404), exc.field, exc.message
    if isinstance(exc, OutputMissing):
        return 404, "file", str(exc)
    return 400, "", str(exc)


# --- Parameters ---------------------------------------------------------------------------------------

def whole(params, name: str, default: int | None) -> int | None:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise RequestInvalid(name, f"{name} must be a whole number, not {text!r}") from None


def _number(params, name: str) -> float:
    text = (params.get(name) or "").strip()
    if not text:
        raise RequestInvalid(name, f"give {name} (degrees) for a point")
    try:
        value = float(text)
    except ValueError:
        raise RequestInvalid(name, f"{name} must be a number of degrees, not {text!r}") from None
    if not math.isfinite(value):
        raise RequestInvalid(name, f"{name} must be a finite number of degrees, not {text!r}")
    return value


def _box(text: str) -> tuple[float, float, float, float]:
    """"W,E,S,N" as four finite numbers with -90 <= S < N <= 90."""
    parts = [p.strip() for p in text.split(",")]
    try:
        box = tuple(float(p) for p in parts)
    except ValueError:
        box = ()
    if len(box) != 4 or not all(math.isfinite(x) for x in box):
        raise RequestInvalid("box", f"box must be four numbers, west,east,south,north in degrees "
                                    f"(e.g. -130,-60,20,55), not {text!r}")
    try:
        Region.box(west=box[0], east=box[1], south=box[2], north=box[3])
    except AnalysisError as exc:
        raise RequestInvalid("box", str(exc)) from None
    return box


def region_codes() -> dict[str, str]:
    """The named regions a request may use (catalog codes with a box), by code: their labels."""
    return {code: info["label"] for code, info in catalog.data.NESTED_REGIONS.items()
            if catalog.region_any_box(code) is not None}


@dataclass(frozen=True)
class Where:
    """The region a profile or time series is over, with the summary code it has (if any)."""

    region: Region
    code: str | None  # "global" or a catalog region code; None for a point or a free box
    params: dict  # the parameters that name it, for links

    @property
    def summary_code(self) -> str | None:
        """The code the index summarises this region under, or None (then the files are read)."""
        if self.code == "global" or self.code in settings.RESULTS_SUMMARY_REGIONS:
            return self.code
        return None


def _where(params) -> Where:
    kind = (params.get("region") or "").strip()
    if not kind:  # scripts may give lat/lon or a box without naming the kind
        kind = "point" if params.get("lat") or params.get("lon") else "box" if params.get("box") else "globe"
    if kind == "globe":
        return Where(Region.globe(), "global", {"region": "globe"})
    if kind == "point":
        lat, lon = _number(params, "lat"), _number(params, "lon")
        try:
            region = Region.point(lat, lon)
        except AnalysisError as exc:
            raise RequestInvalid("lat", str(exc)) from None
        return Where(region, None, {"region": "point", "lat": f"{lat:g}", "lon": f"{lon:g}"})
    if kind == "box":
        text = (params.get("box") or "").strip()
        if not text:
            raise RequestInvalid("box", "give the box as west,east,south,north in degrees (e.g. -130,-60,20,55)")
        west, east, south, north = _box(text)
        return Where(Region.box(west=west, east=east, south=south, north=north), None,
                     {"region": "box", "box": text})
    codes = region_codes()
    if kind in codes:
        west, east, south, north = catalog.region_any_box(kind)
        return Where(Region.box(west=west, east=east, south=south, north=north), kind, {"region": kind})
    raise RequestInvalid("region", f"unknown region {kind!r}: globe, point (with lat and lon), box (with "
                                   f"box=W,E,S,N) or one of {', '.join(codes)}")


def _file(sim: Simulation, params) -> ResultFile:
    path = (params.get("file") or "").strip()
    if not path:
        raise RequestInvalid("file", "choose a file: file=<path>, as the results page and "
                                     ".../results/files list them")
    if safe_relative(path) is None:
        raise OutputMissing(f"{path!r} is not one of this simulation's output files")
    return selectors.result_file(sim, path)


def _known_variables(row: ResultFile) -> str:
    names = [v["name"] for v in row.variables]
    return ", ".join(names[:12]) + (" ..." if len(names) > 12 else "") if names else "no data variables"


def _variable(row: ResultFile, params) -> dict:
    wanted = (params.get("variable") or "").strip()
    if not wanted:
        raise RequestInvalid("variable", f"choose a variable of {row.name}: {_known_variables(row)}")
    var = row.variable(wanted)
    if var is None:
        raise RequestInvalid("variable", f"{row.name} has no variable {wanted!r}; it has {_known_variables(row)}")
    return var


def _span(row: ResultFile) -> str:
    if not row.times:
        return "no time axis"
    return f"{when(row.times[0])} to {when(row.times[-1])}"


def _time(row: ResultFile, params) -> int:
    time = whole(params, "time", 0)
    count = max(len(row.times), 1)
    if not 0 <= time < count:
        raise RequestInvalid("time", f"time step {time} is out of range: {row.name} has {count} "
                                     f"(0 to {count - 1}; {_span(row)})")
    return time


def _level(var: dict, params) -> int | None:
    """The level from the surface (1); None for a 2-D variable (any level given is ignored)."""
    levels = var.get("levels")
    if not levels:
        return None
    level = whole(params, "level", 1)
    if not 1 <= level <= levels:
        raise RequestInvalid("level", f"level {level} is out of range: {var['name']} has levels 1 (surface) "
                                      f"to {levels}")
    return level


def variable_label(var: dict) -> str:
    return var.get("species") or var["name"]


def when(iso: str | None) -> str:
    return iso.replace("T", " ")[:16] if iso else "-"


# --- A collection's time steps ------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One time step of a collection: a file and an index into its times."""

    file: ResultFile
    index: int
    time: str | None  # ISO, as indexed

    @property
    def label(self) -> str:
        return when(self.time)


def collection_steps(files: list[ResultFile]) -> list[Step]:
    """Every time step of a collection's files (in time order), one after the other."""
    return [Step(row, i, t) for row in files for i, t in enumerate(row.times or [None])]


# --- Map, zonal mean, profile -------------------------------------------------------------------------

@dataclass
class FieldAnswer:
    kind: str  # "map" | "zonal" | "profile"
    row: ResultFile
    variable: dict
    time: int
    level: int | None
    where: Where | None  # profiles only
    figure: figures.Figure
    steps: list[Step]
    step: int  # this one's position in `steps`

    @property
    def neighbours(self) -> tuple[Step | None, Step | None]:
        before = self.steps[self.step - 1] if self.step > 0 else None
        after = self.steps[self.step + 1] if self.step + 1 < len(self.steps) else None
        return before, after


def field_answer(sim: Simulation, kind: str, params) -> FieldAnswer:
    """A map (at `level`), zonal mean or profile (over `region`) of `variable` in `file` at `time`."""
    row = _file(sim, params)
    var = _variable(row, params)
    time = _time(row, params)
    level = _level(var, params)
    where = _where(params) if kind == "profile" else None
    if kind != "map" and not var.get("levels"):
        view = "zonal mean" if kind == "zonal" else "profile"
        raise RequestInvalid("variable", f"{var['name']} is a 2-D field: a {view} needs levels; show it as a map")
    path = selectors.file_path(sim, row)
    if kind == "map":
        figure = figures.map_figure(path, var["name"], time=time, level=level)
    elif kind == "zonal":
        figure = figures.zonal_figure(path, var["name"], time=time)
    else:
        figure = figures.profile_figure(path, var["name"], time=time, region=where.region)
    steps = collection_steps(selectors.collection_files(sim, row.collection))
    position = next((i for i, s in enumerate(steps) if s.file.id == row.id and s.index == time), 0)
    return FieldAnswer(kind, row, var, time, level, where, figure, steps, position)


# --- Time series --------------------------------------------------------------------------------------

@dataclass
class SeriesRequest:
    collection: str
    files: list[ResultFile]
    variable: dict
    level: int | None
    where: Where


def _collection(sim: Simulation, params) -> tuple[str, list[ResultFile]]:
    """The collection asked for (or the file's) and its readable files."""
    name = (params.get("collection") or "").strip()
    if not name and (params.get("file") or "").strip():
        name = _file(sim, params).collection
    groups = selectors.collections(sim)
    if not name:
        raise RequestInvalid("collection", "choose a collection: " + (", ".join(groups) or
                                                                      "this simulation has no indexed files yet"))
    if name not in groups:
        known = ", ".join(groups) or "none are indexed yet"
        raise RequestInvalid("collection", f"{name!r} is not a collection of this simulation's outputs: {known}")
    files = selectors.collection_files(sim, name)
    if not files:
        reason = groups[name][0].error
        raise OutputMissing(f"none of the {len(groups[name])} {name} files could be read ({reason})")
    return name, files


def series_request(sim: Simulation, params) -> SeriesRequest:
    collection, files = _collection(sim, params)
    var = _variable(files[0], params)
    return SeriesRequest(collection, files, var, _level(var, params), _where(params))


@dataclass
class SeriesAnswer:
    request: SeriesRequest
    source: str  # "summary" (the index's precomputed means) or "files" (read now)
    figure: figures.Figure


def _summary_where(req: SeriesRequest) -> str:
    code = req.where.code
    if code == "global":
        first = req.files[0]
        return f"the whole nested domain ({first.grid_label})" if first.grid.get("nested") else "the globe"
    return f"{region_codes()[code]} ({code}): {req.where.region.label}"


def _summary(sim: Simulation, req: SeriesRequest):
    """(times, means, file units) from the index's summaries, or None when they do not cover it."""
    code = req.where.summary_code
    if code is None:
        return None
    return selectors.summary_series(sim, req.collection, req.variable["name"], region=code, level=req.level or 0)


def series_answer(sim: Simulation, params) -> SeriesAnswer:
    """A time series of `variable` in `collection` at `level` over a region: from the index's summaries
    when it has them (the globe or a configured region code, at a summarised level), else from the files."""
    req = series_request(sim, params)
    summary = _summary(sim, req)
    label = variable_label(req.variable)
    if summary is not None:
        times, values, units = summary
        figure = figures.series_figure_of(times, values, units, variable=label, where=_summary_where(req),
                                          level=req.level, demo=any(f.demo for f in req.files))
        return SeriesAnswer(req, "summary", figure)
    paths = [selectors.file_path(sim, row) for row in req.files]
    figure = figures.series_figure(paths, label, level=req.level, region=req.where.region)
    return SeriesAnswer(req, "files", figure)


# --- Comparison ---------------------------------------------------------------------------------------

def visible_simulation(user, params, name: str) -> Simulation:
    text = (params.get(name) or "").strip()
    try:
        sim_id = uuid.UUID(text)
    except ValueError:
        raise RequestInvalid(name, f"{name} must be a simulation id, not {text!r}") from None
    sim = Simulation.objects.visible_to(user).filter(pk=sim_id).first()
    if sim is None:
        raise NotFound(name, f"no simulation {text} that you can see")
    return sim


def compare_choices(user):
    """The simulations a comparison may pick from: the user's visible, succeeded ones, newest first."""
    return Simulation.objects.visible_to(user).filter(status=Simulation.Status.SUCCEEDED).order_by("-created_at")


@dataclass
class Comparison:
    ref: Simulation
    dev: Simulation
    collection: str
    common: list[str]  # the collections both have readable files of
    variable: dict
    variables: list[dict]  # those both have, species first
    time: int  # position in ref_steps
    level: int | None
    ref_steps: list[Step]
    ref_step: Step
    dev_step: Step
    note: str
    figure: figures.Figure | None = None


def species_first(variables: list[dict]) -> list[dict]:
    return sorted(variables, key=lambda v: v.get("species") is None)


def _readable(groups) -> list[str]:
    return [name for name, rows in groups.items() if any(not r.error for r in rows)]


def comparison_choice(user, params) -> Comparison:
    """What to compare, without reading a file: Ref's and Dev's collection (the first they share unless
    named), a variable both have (the first species unless named), Ref's time step matched in Dev by
    its time stamp (or the first step of each, when the two have no time in common) and the level."""
    ref, dev = visible_simulation(user, params, "ref"), visible_simulation(user, params, "dev")
    ref_groups, dev_groups = selectors.collections(ref), selectors.collections(dev)
    common = [name for name in _readable(dev_groups) if name in _readable(ref_groups)]
    if not common:
        raise RequestInvalid("collection", f"{ref.name} and {dev.name} have no readable output collection in "
                                           "common to compare" + ("" if ref_groups and dev_groups else
                                                                  " (one of them has no indexed files yet)"))
    collection = (params.get("collection") or "").strip() or common[0]
    if collection not in common:
        raise RequestInvalid("collection", f"{collection!r} is not a collection both simulations have; "
                                           f"they share {', '.join(common)}")
    ref_files, dev_files = (selectors.collection_files(s, collection) for s in (ref, dev))
    dev_names = {v["name"] for v in dev_files[0].variables}
    variables = species_first([v for v in ref_files[0].variables if v["name"] in dev_names])
    if not variables:
        raise RequestInvalid("variable", f"the {collection} files of the two simulations share no variable")
    wanted = (params.get("variable") or "").strip()
    var = next((v for v in variables if wanted in (v["name"], v.get("species"))), None) if wanted else variables[0]
    if var is None:
        raise RequestInvalid("variable", f"{wanted!r} is not a variable of both simulations' {collection} files; "
                                         f"they share {', '.join(v['name'] for v in variables[:12])}")
    level = _level(var, params)
    ref_steps, dev_steps = collection_steps(ref_files), collection_steps(dev_files)
    time = whole(params, "time", 0)
    if not 0 <= time < len(ref_steps):
        raise RequestInvalid("time", f"time step {time} is out of range: {ref.name} has {len(ref_steps)} "
                                     f"{collection} time steps (0 to {len(ref_steps) - 1})")
    ref_step = ref_steps[time]
    dev_step = next((s for s in dev_steps if s.time == ref_step.time), None)
    note = ""
    if dev_step is None:
        if time != 0:
            raise RequestInvalid("time", f"{dev.name} has no {collection} output at {ref_step.label} (it covers "
                                         f"{dev_steps[0].label} to {dev_steps[-1].label}); choose a time both have")
        dev_step = dev_steps[0]
        note = (f"The two simulations have no {collection} output at the same time here: comparing the first "
                f"time step of each ({ref_step.label} and {dev_step.label}).")
    return Comparison(ref, dev, collection, common, var, variables, time, level, ref_steps, ref_step, dev_step, note)


LABEL_CHARACTERS = 40  # of a name in a panel's title: "Ref: <name>" fits a 420-pixel panel


def _cut(text: str, limit: int = LABEL_CHARACTERS) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def panel_label(name: str, other: str, short_id: str) -> str:
    """A simulation's name for its comparison panel, cut to LABEL_CHARACTERS with an ellipsis; with
    its short id when it would read the same as the other one's (two runs of one name)."""
    if _cut(name) != _cut(other):
        return _cut(name)
    return f"{_cut(name, LABEL_CHARACTERS - len(short_id) - 3)} ({short_id})"


def comparison_figure(choice: Comparison) -> figures.Figure:
    """The six panels and the statistics of a choice; an AnalysisError for two grids or two units.
    The Ref and Dev panels carry the simulations' names (the difference panels say "Dev - Ref")."""
    ref, dev, ref_step, dev_step = choice.ref, choice.dev, choice.ref_step, choice.dev_step
    # One `time` reads both files: the common stamp, or index 0 (the first step of each).
    same = bool(ref_step.time) and ref_step.time == dev_step.time
    return figures.comparison_figure(selectors.file_path(ref, ref_step.file), selectors.file_path(dev, dev_step.file),
                                     choice.variable["name"], time=datetime.fromisoformat(ref_step.time) if same else 0,
                                     level=choice.level, ref_label=panel_label(ref.name, dev.name, ref.short_id),
                                     dev_label=panel_label(dev.name, ref.name, dev.short_id))


def comparison_answer(user, params) -> Comparison:
    """Ref against Dev: the choice (`comparison_choice`) with its figure."""
    choice = comparison_choice(user, params)
    choice.figure = comparison_figure(choice)
    return choice


# --- Exports ------------------------------------------------------------------------------------------

def _stem(row: ResultFile) -> str:
    return PurePosixPath(row.name).stem


def slice_export(sim: Simulation, params) -> tuple[str, str]:
    """(file name, CSV) of one variable at one time step and level: a row per grid cell."""
    row = _file(sim, params)
    var = _variable(row, params)
    time, level = _time(row, params), _level(var, params)
    with readers.Reader(selectors.file_path(sim, row)) as reader:
        field = reader.field(var["name"], time=time, level=level)
    name = f"{_stem(row)}.{variable_label(var)}.t{time}" + (f".L{level}" if level else "") + ".csv"
    return name, exports.slice_csv(field)


def series_export(sim: Simulation, params) -> tuple[str, str]:
    """(file name, CSV) of a time series in the file's units: the summaries' or the files' numbers."""
    req = series_request(sim, params)
    label = variable_label(req.variable)
    summary = _summary(sim, req)
    if summary is not None:
        times, values, units = summary
        where, demo = _summary_where(req), any(f.demo for f in req.files)
    else:
        paths = [selectors.file_path(sim, row) for row in req.files]
        times, means, units, where, demo = figures.series_values(paths, label, level=req.level,
                                                                 region=req.where.region)
        values = [None if math.isnan(v) else float(v) for v in means]
    heading = (f"{sim.name}: {req.collection} {label}" + (f" at level {req.level}" if req.level else "")
               + f" over {where}" + (f" ({DEMO_LABEL})" if demo else ""))
    name = f"{req.collection}.{label}" + (f".L{req.level}" if req.level else "") + ".timeseries.csv"
    return name, exports.series_csv(times, values, label=f"{label} ({units})", where=heading)


def csv_answer(sim: Simulation, params) -> tuple[str, str]:
    """(file name, CSV): `of=slice` (file, variable, time, level) or `of=series` (collection, variable,
    level and a region, as the time-series view takes them)."""
    of = (params.get("of") or "slice").strip()
    if of == "slice":
        return slice_export(sim, params)
    if of == "series":
        return series_export(sim, params)
    raise RequestInvalid("of", f"of must be slice or series, not {of!r}")


def _listed(params, name: str) -> list[str]:
    """A repeated or comma-separated parameter, as its non-empty values."""
    values = params.getlist(name) if hasattr(params, "getlist") else [params.get(name) or ""]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def netcdf_export(sim: Simulation, params, target: Path) -> str:
    """Write a NetCDF subset of `file` to `target`: `variable` (one or more), `time` (indices; none:
    every step) and an optional `box` W,E,S,N. Returns the name to download it as."""
    row = _file(sim, params)
    variables = _listed(params, "variable")
    if not variables:
        raise RequestInvalid("variable", f"choose at least one variable of {row.name} to export: "
                                         f"{_known_variables(row)}")
    for name in variables:
        if row.variable(name) is None:
            raise RequestInvalid("variable", f"{row.name} has no variable {name!r}; it has {_known_variables(row)}")
    times = []
    for text in _listed(params, "time"):
        times.append(_time(row, {"time": text}))
    box_text = (params.get("box") or "").strip()
    exports.netcdf_subset(selectors.file_path(sim, row), target, variables=variables, times=times or None,
                          box=_box(box_text) if box_text else None)
    return f"{_stem(row)}.subset.nc"
