"""What the results views show: read only the slice asked for, reduce it to screen size, plot it.

Every function takes local file paths (results.files.local_path) and plain options and returns a
`Figure`: the Bokeh document as the JSON text of its `json_item` (the page embeds it; BokehJS
comes from static files) and `data`, the numbers beside it in plain JSON types (what the API
returns). A map's JSON is its grid's template filled with its values (results/mapplots.py
`map_json`): no Bokeh document is built for it once its grid has been drawn. Built figures are
cached (Django's cache) under the file's path, size and modification time and the options, so a
second look costs a cache read; `use_cache=False` builds afresh (the benchmark's cold path).
Errors are readers.ReaderError / analysis.AnalysisError with a message for a person.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from bokeh.embed import json_item
from django.core.cache import cache

from results import analysis, display, plots, readers
from results.analysis import Region

CACHE_SECONDS = 24 * 3600
CACHE_VERSION = 2  # bump when a figure's make-up changes (2: `item` is JSON text)


@dataclass
class Figure:
    item: str  # the JSON text of the Bokeh document's json_item
    data: dict

    @property
    def payload_bytes(self) -> int:
        """What the browser receives for the figure (the JSON of its Bokeh document; ASCII)."""
        return len(self.item)


def _json_item(fig) -> str:
    return json.dumps(json_item(fig))


def _stamp(path) -> str:
    stat = Path(path).stat()
    return f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _cached(kind: str, paths: Sequence, options: dict, build: Callable[[], Figure], use_cache: bool) -> Figure:
    if not use_cache:
        return build()
    raw = json.dumps([CACHE_VERSION, kind, [_stamp(p) for p in paths], options], sort_keys=True, default=str)
    key = "results:" + hashlib.sha256(raw.encode()).hexdigest()
    found = cache.get(key)
    if found is not None:
        return Figure(**found)
    figure = build()
    cache.set(key, {"item": figure.item, "data": figure.data}, CACHE_SECONDS)
    return figure


def _finite(value) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _when(time: datetime | None) -> str | None:
    return time.isoformat() if time else None


def _in_units(field: readers.Field, factor: float, units: str) -> readers.Field:
    return dataclasses.replace(field, values=field.values * factor,
                               variable=dataclasses.replace(field.variable, units=units))


def _map_data(field: readers.Field, shown: readers.Field, factor: float) -> dict:
    """The map's numbers in display units (`factor` times the file's): the mean from the reduced
    field `shown` (its block means keep the area-weighted mean when no value is missing; else from
    the full field), the minimum and maximum from the full one."""
    values = field.values
    complete = bool(np.isfinite(values).all())
    if complete:
        mean = analysis.area_mean(shown.values, shown.geometry.area)
        low, high = values.min() * factor, values.max() * factor
    else:
        mean = analysis.area_mean(values, field.geometry.area) * factor
        some = np.isfinite(values).any()
        low, high = (np.nanmin(values) * factor, np.nanmax(values) * factor) if some else (None, None)
    return {
        "variable": field.variable.name, "species": field.variable.species, "long_name": field.variable.long_name,
        "units": shown.units, "file_units": field.units, "time": _when(field.time), "level": field.level,
        "pressure_hpa": _finite(field.pressure_hpa), "grid": field.geometry.grid.as_dict(),
        "displayed_grid": shown.geometry.grid.label, "displayed_shape": list(shown.values.shape),
        "mean": _finite(mean), "min": _finite(low), "max": _finite(high), "demo": field.demo, "source": field.source,
    }


# --- One file -----------------------------------------------------------------------------------

def map_figure(path, variable: str, *, time: int = 0, level: int | None = 1, use_cache: bool = True) -> Figure:
    """A map of `variable` at a time step and level (from the surface), on the file's own grid:
    reduced to screen size in the file's units, then converted to display units (chosen from the
    values shown) and filled into its grid's template."""
    def build() -> Figure:
        with readers.Reader(path) as reader:
            field = reader.field(variable, time=time, level=level)
        reduced = display.for_display(field)
        factor, units = analysis.display_units(field.units, reduced.values)  # the magnitude: the shown values'
        shown = _in_units(reduced, factor, units)
        return Figure(plots.map_json(shown), _map_data(field, shown, factor))

    return _cached("map", [path], {"variable": variable, "time": time, "level": level}, build, use_cache)


def _column(path, variable: str, time: int):
    """(variable, column surface first, mid-level pressures, geometry, file info, time) of one time step."""
    with readers.Reader(path) as reader:
        var = reader.info.variable(variable)
        column = reader.column(var.name, time=time)
        pressure = reader.pressure_mid(var.levels)
        info = reader.info
        return var, column, pressure, reader.geometry, info, info.times[reader.time_index(time)] if info.times else None


def zonal_figure(path, variable: str, *, time: int = 0, use_cache: bool = True) -> Figure:
    """The zonal mean of `variable` at a time step, latitude against pressure."""
    def build() -> Figure:
        var, column, pressure, geometry, info, when = _column(path, variable, time)
        zonal = analysis.zonal_mean(column, geometry, pressure, var.units)
        title = f"{var.species or var.name}, zonal mean" + (f", {when:%Y-%m-%d %H:%M}" if when else "")
        fig = plots.zonal_mean_plot(zonal.lat_edges, zonal.pressure, zonal.values, units=zonal.units, title=title,
                                    demo=info.demo)
        data = {"variable": var.name, "units": zonal.units, "time": _when(when), "where": zonal.where,
                "lat": zonal.lat.tolist(), "pressure_hpa": zonal.pressure.tolist(),
                "values": _plain(zonal.values), "demo": info.demo, "source": info.name}
        return Figure(_json_item(fig), data)

    return _cached("zonal", [path], {"variable": variable, "time": time}, build, use_cache)


def profile_figure(path, variable: str, *, time: int = 0, region: Region, use_cache: bool = True) -> Figure:
    """The vertical profile of `variable` at a point or over a region, at a time step."""
    def build() -> Figure:
        var, column, pressure, geometry, info, when = _column(path, variable, time)
        result = analysis.profile(column, geometry, pressure, region, var.units)
        fig = plots.profile_plot(result.pressure, result.values, units=result.units, where=result.where,
                                 title=f"{var.species or var.name}, vertical profile", demo=info.demo)
        data = {"variable": var.name, "units": result.units, "time": _when(when), "where": result.where,
                "pressure_hpa": result.pressure.tolist(), "values": _plain(result.values), "demo": info.demo}
        return Figure(_json_item(fig), data)

    return _cached("profile", [path], {"variable": variable, "time": time, "region": repr(region)}, build, use_cache)


# --- Across files -----------------------------------------------------------------------------------

def series_values(paths: Sequence, variable: str, *, level: int | None = 1,
                  region: Region) -> tuple[list[datetime], np.ndarray, str, str, bool]:
    """(times, means in the file's units, units, where, demo) over `region` at `level`, file after
    file: each file is read at that one level and reduced to one mean per time step at once."""
    times, means, units, where, demo, grid = [], [], "", "", False, None
    for path in paths:
        with readers.Reader(path) as reader:
            var = reader.info.variable(variable)
            if grid is not None and not grid.same_grid(reader.info.grid):
                raise analysis.AnalysisError(f"{reader.info.name} is on {reader.info.grid.label}, the files before it "
                                             f"on {grid.label}: a time series needs one grid")
            grid = reader.info.grid
            cells = analysis.region_cells(reader.geometry, region)
            series = reader.level_series(var.name, level=level)
            means.extend(np.atleast_1d(analysis.area_mean(series, reader.geometry.area, cells.mask)))
            times.extend(reader.info.times)
            units, where, demo = var.units, cells.where, demo or reader.info.demo
    return times, np.asarray(means, dtype=float), units, where, demo


def series_figure_of(times: Sequence[datetime], values, file_units: str, *, variable: str, where: str,
                     level: int | None, demo: bool, weighting: str = "area") -> Figure:
    """The plot and data of a time series already reduced to one value per time step."""
    values = np.asarray(values, dtype=float)
    factor, units = analysis.display_units(file_units, values)
    shown = values * factor
    title = f"{variable}" + (f", level {level}" if level else "")
    fig = plots.time_series_plot(list(times), shown, units=units, title=title, where=where, weighting=weighting,
                                 demo=demo)
    data = {"variable": variable, "units": units, "file_units": file_units, "where": where, "level": level,
            "weighting": weighting, "times": [t.isoformat() for t in times], "values": _plain(shown), "demo": demo}
    return Figure(_json_item(fig), data)


def series_figure(paths: Sequence, variable: str, *, level: int | None = 1, region: Region,
                  use_cache: bool = True) -> Figure:
    """A time series over `region` at `level` across `paths` (in time order), read from the files."""
    def build() -> Figure:
        times, means, units, where, demo = series_values(paths, variable, level=level, region=region)
        return series_figure_of(times, means, units, variable=variable, where=where, level=level, demo=demo)

    return _cached("series", list(paths), {"variable": variable, "level": level, "region": repr(region)}, build,
                   use_cache)


def comparison_figure(ref_path, dev_path, variable: str, *, time: int = 0, level: int | None = 1,
                      ref_label: str = "", dev_label: str = "", use_cache: bool = True) -> Figure:
    """GCPy's six panels for one variable at one time and level of two files on the same grid; the
    statistics are of the full-resolution fields, the panels of the fields reduced to screen size.
    `ref_label`, `dev_label` (e.g. the simulations' names) title the Ref and Dev panels."""
    def build() -> Figure:
        with readers.Reader(ref_path) as ref_reader, readers.Reader(dev_path) as dev_reader:
            ref = ref_reader.field(variable, time=time, level=level)
            dev = dev_reader.field(variable, time=time, level=level)
        full = analysis.difference(ref, dev)
        shown = analysis.difference(display.for_display(ref), display.for_display(dev))
        title = plots.field_title(ref)
        fig = plots.comparison_panels(shown.ref, shown.dev, shown.absolute, shown.percent, ref_label=ref_label,
                                      dev_label=dev_label, title=title, units=shown.units)
        stats = full.statistics
        data = {"variable": ref.variable.name, "units": full.units, "time": _when(ref.time), "level": ref.level,
                "grid": ref.geometry.grid.as_dict(), "ref": ref_label, "dev": dev_label,
                "statistics": {"ref_mean": _finite(stats.ref_mean), "dev_mean": _finite(stats.dev_mean),
                               "mean_bias": _finite(stats.mean_bias),
                               "normalized_mean_bias": _finite(stats.normalized_mean_bias),
                               "rmse": _finite(stats.rmse), "correlation": _finite(stats.correlation), "n": stats.n},
                "demo": ref.demo or dev.demo}
        return Figure(_json_item(fig), data)

    options = {"variable": variable, "time": time, "level": level, "labels": [ref_label, dev_label]}
    return _cached("compare", [ref_path, dev_path], options, build, use_cache)


def _plain(values: np.ndarray) -> list:
    """A numpy array as nested lists with None for NaN (JSON has no NaN)."""
    return np.where(np.isfinite(values), values, None).tolist()
