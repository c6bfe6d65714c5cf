"""The results pages: a simulation's indexed files with one picker, the views (map, zonal mean,
profile, time series), the comparison of two simulations, and the exports (CSV, NetCDF subset).

Every page finds the simulation through `Simulation.objects.visible_to(user)` (404 otherwise)
before it looks at a parameter, so nobody learns anything about a simulation they cannot see.

The first half of this module turns a request's parameters into an answer (`field_answer`,
`series_answer`, `comparison_answer`, the exports) and is shared with the API (results/api.py),
so a page and its endpoint say the same things in the same words. Every path comes from the
index (`selectors.result_file`), never from the request alone. Problems are the exceptions in
`ANSWERABLE`: `RequestInvalid` (a parameter, 400), `NotFound` and `files.OutputMissing` (no such
simulation or indexed readable file, 404), `readers.ReaderError` and its subclass
`analysis.AnalysisError` (what the data cannot answer, 400); `problem(exc)` gives the status,
the parameter and the message. The second half renders them.
"""

from __future__ import annotations

import math
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode

from results import exports, figures, readers, selectors, vertical
from results.analysis import AnalysisError, Region
from results.files import OutputMissing
from results.models import ResultFile, SeriesSummary
from simulations import catalog
from simulations.models import Simulation
from simulations.outputs import safe_relative

DEMO_LABEL = "demo model, not GEOS-Chem"


# === Requests and their answers (shared with the API) ================================================

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

def _whole(params, name: str, default: int | None) -> int | None:
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
    return f"{_when(row.times[0])} to {_when(row.times[-1])}"


def _time(row: ResultFile, params) -> int:
    time = _whole(params, "time", 0)
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
    level = _whole(params, "level", 1)
    if not 1 <= level <= levels:
        raise RequestInvalid("level", f"level {level} is out of range: {var['name']} has levels 1 (surface) "
                                      f"to {levels}")
    return level


def _label(var: dict) -> str:
    return var.get("species") or var["name"]


def _when(iso: str | None) -> str:
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
        return _when(self.time)


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
    label = _label(req.variable)
    if summary is not None:
        times, values, units = summary
        figure = figures.series_figure_of(times, values, units, variable=label, where=_summary_where(req),
                                          level=req.level, demo=any(f.demo for f in req.files))
        return SeriesAnswer(req, "summary", figure)
    paths = [selectors.file_path(sim, row) for row in req.files]
    figure = figures.series_figure(paths, label, level=req.level, region=req.where.region)
    return SeriesAnswer(req, "files", figure)


# --- Comparison ---------------------------------------------------------------------------------------

def _simulation(user, params, name: str) -> Simulation:
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


def _species_first(variables: list[dict]) -> list[dict]:
    return sorted(variables, key=lambda v: v.get("species") is None)


def _readable(groups) -> list[str]:
    return [name for name, rows in groups.items() if any(not r.error for r in rows)]


def comparison_choice(user, params) -> Comparison:
    """What to compare, without reading a file: Ref's and Dev's collection (the first they share unless
    named), a variable both have (the first species unless named), Ref's time step matched in Dev by
    its time stamp (or the first step of each, when the two have no time in common) and the level."""
    ref, dev = _simulation(user, params, "ref"), _simulation(user, params, "dev")
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
    variables = _species_first([v for v in ref_files[0].variables if v["name"] in dev_names])
    if not variables:
        raise RequestInvalid("variable", f"the {collection} files of the two simulations share no variable")
    wanted = (params.get("variable") or "").strip()
    var = next((v for v in variables if wanted in (v["name"], v.get("species"))), None) if wanted else variables[0]
    if var is None:
        raise RequestInvalid("variable", f"{wanted!r} is not a variable of both simulations' {collection} files; "
                                         f"they share {', '.join(v['name'] for v in variables[:12])}")
    level = _level(var, params)
    ref_steps, dev_steps = collection_steps(ref_files), collection_steps(dev_files)
    time = _whole(params, "time", 0)
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


SHORT_LABEL = 12


def comparison_figure(choice: Comparison) -> figures.Figure:
    """The six panels and the statistics of a choice; an AnalysisError for two grids or two units."""
    ref, dev, ref_step, dev_step = choice.ref, choice.dev, choice.ref_step, choice.dev_step
    # One `time` reads both files: the common stamp, or index 0 (the first step of each).
    same = bool(ref_step.time) and ref_step.time == dev_step.time
    # The panels' titles repeat the labels up to three times ("(Dev - Ref) / Ref, restricted ..."), so
    # only short, distinct names are used as labels; the page names both simulations beside them.
    ref_label, dev_label = ref.name, dev.name
    if ref_label == dev_label or max(len(ref_label), len(dev_label)) > SHORT_LABEL:
        ref_label, dev_label = "Ref", "Dev"
    return figures.comparison_figure(selectors.file_path(ref, ref_step.file), selectors.file_path(dev, dev_step.file),
                                     choice.variable["name"], time=datetime.fromisoformat(ref_step.time) if same else 0,
                                     level=choice.level, ref_label=ref_label, dev_label=dev_label)


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
    name = f"{_stem(row)}.{_label(var)}.t{time}" + (f".L{level}" if level else "") + ".csv"
    return name, exports.slice_csv(field)


def series_export(sim: Simulation, params) -> tuple[str, str]:
    """(file name, CSV) of a time series in the file's units: the summaries' or the files' numbers."""
    req = series_request(sim, params)
    label = _label(req.variable)
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


# === The pages =========================================================================================

def _visible(request, pk) -> Simulation:
    return get_object_or_404(Simulation.objects.visible_to(request.user), pk=pk)


def _url(name: str, sim: Simulation | None = None, **params) -> str:
    base = reverse(f"results:{name}", args=[sim.id] if sim is not None else [])
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return base + ("?" + urlencode(query, doseq=True) if query else "")


def _num(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if value == 0:
        return "0"
    return f"{value:.4g}"


def _values(nested) -> list[float]:
    """The numbers (not None) of a possibly nested list."""
    if isinstance(nested, list):
        return [x for item in nested for x in _values(item)]
    return [] if nested is None else [float(nested)]


def _pressure(levels: int | None, level: int | None) -> str:
    """A level's approximate mid pressure at a standard surface pressure (GEOS-Chem's 72 or 47 levels)."""
    if not levels or not level:
        return ""
    try:
        return f"≈ {vertical.mid_pressures(levels)[level - 1]:.0f} hPa"
    except (ValueError, IndexError):
        return ""


def _problem_page(request, template: str, context: dict, exc: Exception):
    status, field_name, message = problem(exc)
    context.update({"error": message, "error_field": field_name})
    return render(request, template, context, status=status)


# --- The results page ---------------------------------------------------------------------------------

def _picker(sim: Simulation, groups, params) -> dict:
    """The one form's choices, from the index rows already loaded (plus one query for the levels the
    index summarised): lenient, so that switching collection or file in the form just re-lists."""
    readable = {name: [r for r in rows if not r.error] for name, rows in groups.items()}
    choosable = [name for name, rows in readable.items() if rows]
    wanted = (params.get("collection") or "").strip()
    if not wanted and params.get("file"):  # back from a view, which names only the file
        wanted = next((r.collection for rows in groups.values() for r in rows if r.path == params["file"]), "")
    if wanted and wanted not in groups:
        raise RequestInvalid("collection", f"{wanted!r} is not a collection of this simulation's outputs: "
                                           f"{', '.join(groups) or 'none are indexed yet'}")
    collection = wanted if wanted in choosable else (choosable[0] if choosable else wanted)
    files = readable.get(collection, [])
    if not files:
        return {"collection": collection, "collections": choosable, "files": [], "variables": []}
    row = next((r for r in files if r.path == params.get("file")), files[0])
    variables = _species_first(row.variables)
    var = (row.variable((params.get("variable") or "").strip()) or variables[0]) if variables else None
    levels = max((v["levels"] or 0 for v in variables), default=0)
    summarised = set(SeriesSummary.objects.filter(file=row, region="global").values_list("level", flat=True))
    level = _whole_or(params, "level", 1)
    time = _whole_or(params, "time", 0)
    where = (params.get("region") or "globe").strip()
    return {
        "collection": collection, "collections": choosable, "files": files, "file": row,
        "variables": variables, "variable": var,
        "times": [(i, _when(t)) for i, t in enumerate(row.times or [None])],
        "time": time if 0 <= time < max(len(row.times), 1) else 0,
        "levels": [(k, _pressure(levels, k), k in summarised) for k in range(1, levels + 1)],
        "level": level if 1 <= level <= levels else 1,
        "regions": [("globe", "the globe", bool(summarised)), ("point", "a point (lat, lon)", False),
                    ("box", "a box (W,E,S,N)", False)] + [
            (code, f"{label} ({code})", bool(summarised) and code in settings.RESULTS_SUMMARY_REGIONS)
            for code, label in region_codes().items()],
        "region": where, "lat": params.get("lat", ""), "lon": params.get("lon", ""), "box": params.get("box", ""),
    }


def _whole_or(params, name: str, default: int) -> int:
    try:
        return _whole(params, name, default)
    except RequestInvalid:
        return default


@login_required
def results_index(request, pk):
    """The simulation's collections and files, the chosen collection's variables, and the picker."""
    sim = _visible(request, pk)
    groups = selectors.collections(sim)
    demo = sim.is_demo or any(r.demo for rows in groups.values() for r in rows)
    context = {"sim": sim, "groups": groups, "demo": demo, "demo_label": DEMO_LABEL, "picker": {}}
    try:
        context["picker"] = _picker(sim, groups, request.GET)
    except RequestInvalid as exc:
        return _problem_page(request, "results/index.html", context, exc)
    return render(request, "results/index.html", context)


# --- The views ----------------------------------------------------------------------------------------

VIEW_TITLES = {"map": "Map", "zonal": "Zonal mean", "profile": "Vertical profile", "timeseries": "Time series"}


def _fact_rows(data: dict, values: list[float], *, grid: str) -> list[tuple[str, str]]:
    rows = [("Units", data.get("units") or "-")]
    if data.get("file_units") and data.get("file_units") != data.get("units"):
        rows.append(("Units in the file", data["file_units"]))
    if "mean" in data:
        rows.append(("Area-weighted mean", _num(data["mean"])))
    elif values and "times" in data:
        rows.append(("Mean of the time steps", _num(sum(values) / len(values))))
    low = data["min"] if "min" in data else (min(values) if values else None)
    high = data["max"] if "max" in data else (max(values) if values else None)
    rows += [("Minimum", _num(low)), ("Maximum", _num(high)), ("Grid", grid)]
    shape = data.get("grid", {}).get("shape")
    if data.get("displayed_shape") and shape and data["displayed_shape"] != shape:
        rows.append(("Displayed at", f"{data['displayed_grid']} ({' x '.join(map(str, data['displayed_shape']))} "
                                     f"cells), reduced from {' x '.join(map(str, shape))} for the screen"))
    if data.get("where"):
        rows.append(("Where", data["where"]))
    return rows


def _field_context(sim: Simulation, answer: FieldAnswer) -> dict:
    row, var, data = answer.row, answer.variable, answer.figure.data
    base = {"file": row.path, "variable": _label(var), "time": answer.time, "level": answer.level}
    region = answer.where.params if answer.where else {}
    before, after = answer.neighbours
    levels = var.get("levels")
    nav = []
    if before:
        nav.append((f"← previous time step ({before.label})", _url(answer.kind, sim, **(base | region | {
            "file": before.file.path, "time": before.index})), before.file.name))
    if after:
        nav.append((f"next time step ({after.label}) →", _url(answer.kind, sim, **(base | region | {
            "file": after.file.path, "time": after.index})), after.file.name))
    if answer.kind == "map" and levels:
        nav += _level_links(sim, "map", base, levels, answer.level)
    facts = [("File", row.name), ("Time", _when(data.get("time")))]
    if answer.kind == "map" and answer.level:
        pressure = f" (≈ {data['pressure_hpa']:.0f} hPa)" if data.get("pressure_hpa") else ""
        facts.append(("Level", f"{answer.level} of {levels}{pressure}"))
    facts += _fact_rows(data, _values(data.get("values")), grid=row.grid_label)
    exports_ = [("CSV of this slice" if answer.kind == "map" else f"CSV of the level-{answer.level or 1} slice",
                 _url("export_csv", sim, of="slice", **base)),
                ("NetCDF subset: this variable at this time step",
                 _url("export_nc", sim, file=row.path, variable=var["name"], time=answer.time)),
                ("NetCDF subset: this variable, every time step", _url("export_nc", sim, file=row.path,
                                                                        variable=var["name"]))]
    table = []
    if answer.kind == "profile":
        table = [(f"{p:.1f}", _num(v)) for p, v in zip(data["pressure_hpa"], data["values"])]
    return {"nav": nav, "facts": facts, "exports": exports_, "download": row.path, "table": table,
            "table_heads": ("Pressure (hPa)", data.get("units", "")), "row": row, "variable": var,
            "views": _view_links(sim, base, region, row.collection, columns=bool(levels))}


def _level_links(sim: Simulation, kind: str, params: dict, levels: int, level: int) -> list[tuple[str, str, str]]:
    """Links to the same view one level down and up: (label, url, title)."""
    links = []
    for step, word in ((-1, "down"), (1, "up")):
        other = level + step
        if 1 <= other <= levels:
            arrow = "↓" if step < 0 else "↑"
            links.append((f"{arrow} level {other} ({_pressure(levels, other)})", _url(kind, sim, **(params | {
                "level": other})), f"one level {word}"))
    return links


def _view_links(sim: Simulation, base: dict, region: dict, collection: str, *,
                columns: bool) -> list[tuple[str, str, str]]:
    """The same choice as the other views (a 2-D field, without `columns`, has no zonal mean or
    profile): (kind, title, url)."""
    links = []
    for kind in ("map", "zonal", "profile", "timeseries"):
        if kind in ("zonal", "profile") and not columns:
            continue
        params = base | (region if kind == "profile" else {})
        if kind == "timeseries":
            params = {"collection": collection, "variable": base["variable"], "level": base["level"]} | region
        links.append((kind, VIEW_TITLES[kind], _url(kind, sim, **params)))
    return links


def _picker_link(sim: Simulation, params) -> str:
    keep = {k: params.get(k) for k in ("collection", "file", "variable", "time", "level", "region", "lat", "lon",
                                       "box")}
    return _url("index", sim, **keep)


def _field_page(request, pk, kind: str):
    sim = _visible(request, pk)
    context = {"sim": sim, "kind": kind, "title": VIEW_TITLES[kind], "demo_label": DEMO_LABEL,
               "picker_url": _picker_link(sim, request.GET)}
    try:
        answer = field_answer(sim, kind, request.GET)
    except ANSWERABLE as exc:
        return _problem_page(request, "results/view.html", context, exc)
    context.update(_field_context(sim, answer))
    context.update({"figure": answer.figure, "demo": answer.figure.data.get("demo") or answer.row.demo,
                    "heading": f"{_label(answer.variable)}, {VIEW_TITLES[kind].lower()}"})
    return render(request, "results/view.html", context)


@login_required
def map_page(request, pk):
    return _field_page(request, pk, "map")


@login_required
def zonal_page(request, pk):
    return _field_page(request, pk, "zonal")


@login_required
def profile_page(request, pk):
    return _field_page(request, pk, "profile")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _series_source(answer: SeriesAnswer) -> str:
    """Which path the numbers took, and why (the page says so)."""
    req = answer.request
    files = _plural(len(req.files), f"{req.collection} file")
    if answer.source == "summary":
        return f"From the index's precomputed area-weighted means ({files}, none opened): the fast path."
    if req.where.summary_code is None:
        regions = ", ".join(["the globe", *settings.RESULTS_SUMMARY_REGIONS])
        why = f"the index precomputes means over {regions} only"
    else:
        why = f"the index has no precomputed means at level {req.level} (it keeps the surface, ≈ 500 and ≈ 200 hPa)"
    return f"Read from the {files} now: {why}."


def _series_context(sim: Simulation, answer: SeriesAnswer) -> dict:
    req, data = answer.request, answer.figure.data
    var, levels = req.variable, req.variable.get("levels")
    params = {"collection": req.collection, "variable": _label(var), "level": req.level} | req.where.params
    nav = _level_links(sim, "timeseries", params, levels, req.level) if req.level else []
    code = req.where.summary_code
    if code is not None and req.level:  # the other levels the index summarised for this region: fast too
        summarised = SeriesSummary.objects.filter(file=req.files[0], variable=var["name"], region=code)
        nav += [(f"precomputed: level {k} ({_pressure(levels, k)})", _url("timeseries", sim, **(params | {"level": k})),
                 "the index's summaries: no file is read")
                for k in sorted(set(summarised.values_list("level", flat=True)) - {req.level})]
    times = data["times"]
    facts = [("Collection", f"{req.collection} ({_plural(len(req.files), 'file')})"),
             ("Level", f"{req.level} {_pressure(levels, req.level)}" if req.level else "2-D field"),
             ("Time steps", str(len(times))),
             ("Period", f"{_when(times[0])} to {_when(times[-1])}" if times else "-")]
    facts += _fact_rows(data, _values(data["values"]), grid=req.files[0].grid_label)
    base = {"file": req.files[0].path, "variable": _label(var), "time": 0, "level": req.level}
    return {
        "figure": answer.figure, "demo": data.get("demo"), "source": answer.source,
        "source_text": _series_source(answer), "heading": f"{_label(var)}, time series", "nav": nav, "facts": facts,
        "variable": var, "exports": [("CSV of this time series", _url("export_csv", sim, of="series", **params))],
        "table": [(_when(t), _num(v)) for t, v in zip(times, data["values"])],
        "table_heads": ("Time", data.get("units", "")),
        "views": _view_links(sim, base, req.where.params, req.collection, columns=bool(levels)),
    }


@login_required
def series_page(request, pk):
    sim = _visible(request, pk)
    context = {"sim": sim, "kind": "timeseries", "title": VIEW_TITLES["timeseries"], "demo_label": DEMO_LABEL,
               "picker_url": _picker_link(sim, request.GET)}
    try:
        answer = series_answer(sim, request.GET)
    except ANSWERABLE as exc:
        return _problem_page(request, "results/view.html", context, exc)
    context.update(_series_context(sim, answer))
    return render(request, "results/view.html", context)


# --- The comparison -------------------------------------------------------------------------------------

STATISTICS = (("ref_mean", "Ref mean"), ("dev_mean", "Dev mean"), ("mean_bias", "Mean bias (Dev − Ref)"),
              ("normalized_mean_bias", "Normalised mean bias"), ("rmse", "RMSE"), ("correlation", "Correlation"),
              ("n", "Cells compared"))


@login_required
def compare_page(request):
    """Two visible simulations (?ref=&dev=), a collection, variable, time step and level: six panels."""
    params = request.GET
    choices = list(compare_choices(request.user)[:200])
    context = {"choices": choices, "ref_id": params.get("ref", ""), "dev_id": params.get("dev", ""),
               "demo_label": DEMO_LABEL}
    try:
        if not params.get("ref") or not params.get("dev"):
            # The form alone (from a results page, one of them chosen): what is named must be visible.
            for name in ("ref", "dev"):
                if params.get(name):
                    _simulation(request.user, params, name)
            return render(request, "results/compare.html", context)
        choice = comparison_choice(request.user, params)
    except ANSWERABLE as exc:
        return _problem_page(request, "results/compare.html", context, exc)
    levels = choice.variable.get("levels") or 0
    choices += [sim for sim in (choice.ref, choice.dev) if sim not in choices]
    context.update({"choice": choice, "levels": [(k, _pressure(levels, k)) for k in range(1, levels + 1)],
                    "demo": choice.ref_step.file.demo or choice.dev_step.file.demo})
    try:
        figure = comparison_figure(choice)
    except ANSWERABLE as exc:
        return _problem_page(request, "results/compare.html", context, exc)
    stats = figure.data["statistics"]
    context.update({
        "figure": figure, "units": figure.data.get("units"), "grid": choice.ref_step.file.grid_label,
        "statistics": [(label, str(stats[key]) if key == "n" else _num(stats[key])) for key, label in STATISTICS],
    })
    return render(request, "results/compare.html", context)


# --- The exports ----------------------------------------------------------------------------------------

def _export_problem(request, sim: Simulation, exc: Exception):
    context = {"sim": sim, "kind": "export", "title": "Export", "demo_label": DEMO_LABEL,
               "picker_url": _picker_link(sim, request.GET)}
    return _problem_page(request, "results/view.html", context, exc)


def csv_response(name: str, text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def netcdf_response(sim: Simulation, params) -> FileResponse:
    """The subset written to a temporary file, streamed, and gone from the disk once it is open (the
    open handle keeps it readable until the response is sent); removed at once on any error."""
    handle, name = tempfile.mkstemp(suffix=".nc", prefix="gcr-subset-")
    os.close(handle)
    target = Path(name)
    try:
        download = netcdf_export(sim, params, target)
        stream = open(target, "rb")
    finally:
        target.unlink(missing_ok=True)
    return FileResponse(stream, as_attachment=True, filename=download, content_type="application/x-netcdf")


@login_required
def export_csv(request, pk):
    sim = _visible(request, pk)
    try:
        name, text = csv_answer(sim, request.GET)
    except ANSWERABLE as exc:
        return _export_problem(request, sim, exc)
    return csv_response(name, text)


@login_required
def export_nc(request, pk):
    sim = _visible(request, pk)
    try:
        return netcdf_response(sim, request.GET)
    except ANSWERABLE as exc:
        return _export_problem(request, sim, exc)
