"""The results pages: a simulation's indexed files with one picker, the views (map, zonal mean,
profile, time series), the comparison of two simulations, and the exports (CSV, NetCDF subset).

Every page finds the simulation through `Simulation.objects.visible_to(user)` (404 otherwise)
before it looks at a parameter, so nobody learns anything about a simulation they cannot see.
Each view parses and answers through results/answers.py (shared with the API, results/api.py)
and renders the answer here; a problem (`answers.ANSWERABLE`) is the page with its message.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from results import figures, selectors, vertical
from results.answers import (ANSWERABLE, DEMO_LABEL, FieldAnswer, RequestInvalid, SeriesAnswer, comparison_choice,
                             comparison_figure, compare_choices, csv_answer, field_answer, netcdf_export, problem,
                             region_codes, series_answer, species_first, variable_label, visible_simulation, when,
                             whole)
from results.models import SeriesSummary
from simulations.models import Simulation


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


# What JSON may hold that HTML would read inside <script>: "</script>" ends it, "<!--" changes how it
# is parsed. JSON has these characters only inside strings, where \u escapes mean the same.
_SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"))


def _figure(figure: figures.Figure) -> dict:
    """A figure for results/_figure.html: `figure_json` is its JSON text made safe to embed in a
    <script type="application/json"> (as Django's json_script escapes it), marked safe."""
    text = figure.item
    for char, escape in _SCRIPT_ESCAPES:
        text = text.replace(char, escape)
    return {"figure": figure, "figure_json": mark_safe(text)}


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
    variables = species_first(row.variables)
    var = (row.variable((params.get("variable") or "").strip()) or variables[0]) if variables else None
    levels = max((v["levels"] or 0 for v in variables), default=0)
    summarised = set(SeriesSummary.objects.filter(file=row, region="global").values_list("level", flat=True))
    level = _whole_or(params, "level", 1)
    time = _whole_or(params, "time", 0)
    where = (params.get("region") or "globe").strip()
    return {
        "collection": collection, "collections": choosable, "files": files, "file": row,
        "variables": variables, "variable": var,
        "times": [(i, when(t)) for i, t in enumerate(row.times or [None])],
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
        return whole(params, name, default)
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
    base = {"file": row.path, "variable": variable_label(var), "time": answer.time, "level": answer.level}
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
    facts = [("File", row.name), ("Time", when(data.get("time")))]
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
    context.update({**_figure(answer.figure), "demo": answer.figure.data.get("demo") or answer.row.demo,
                    "heading": f"{variable_label(answer.variable)}, {VIEW_TITLES[kind].lower()}"})
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
    params = {"collection": req.collection, "variable": variable_label(var), "level": req.level} | req.where.params
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
             ("Period", f"{when(times[0])} to {when(times[-1])}" if times else "-")]
    facts += _fact_rows(data, _values(data["values"]), grid=req.files[0].grid_label)
    base = {"file": req.files[0].path, "variable": variable_label(var), "time": 0, "level": req.level}
    return {
        **_figure(answer.figure), "demo": data.get("demo"), "source": answer.source,
        "source_text": _series_source(answer), "heading": f"{variable_label(var)}, time series", "nav": nav,
        "facts": facts, "variable": var, "exports": [("CSV of this time series", _url("export_csv", sim, of="series", **params))],
        "table": [(when(t), _num(v)) for t, v in zip(times, data["values"])],
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
                    visible_simulation(request.user, params, name)
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
        **_figure(figure), "units": figure.data.get("units"), "grid": choice.ref_step.file.grid_label,
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
