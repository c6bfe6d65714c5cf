"""Maps and plots of GEOS-Chem output (pure: no Django, no ORM): plain arrays and readers.Field in,
Bokeh models out, for the pages to embed with bokeh.embed.components or json_item (BokehJS comes
from the project's static files, templates/bokeh_resources.html; only bokeh.min.js is needed);
a map can also come as json_item's JSON text straight from its grid's template (map_json, in
results/mapplots.py).

How things are drawn, and why:
- Lat-lon maps are `image` glyphs placed by the box edges, one image per run of equally spaced
  latitude rows. GEOS-Chem's global grids have half-size polar boxes, so one image stretched from
  -90 to 90 would shift every row by up to half a box; three images (south polar row, interior,
  north polar row) put each row where it belongs at no extra payload. A grid whose longitudes are
  not equally spaced, or whose latitude spacing changes more than MAX_IMAGES times, is drawn as
  quads, one per cell. A global grid is shown from -180 to 180, the columns past one edge repeated
  at the other (GEOS-Chem's 4x5 boxes start at -182.5); a nested grid at its own box.
- Cubed-sphere maps are patches, one per cell, from the file's corner coordinates: no regridding.
  A cell across the date line is drawn twice, 360 degrees apart, each copy cut by the map's edge,
  so nothing smears across the map; a cell with a corner on a pole reaches the pole along the
  meridians of its two neighbouring corners (the great circles to a pole are meridians); a cell
  around a pole (odd N) covers the band above its corners. The corners travel as one flat float32
  array per vertex count, cut into cells in the browser by a three-line CustomJSExpr
  (SPLIT_CELLS), instead of thousands of per-cell lists; a comparison's six panels share them.
- Values use viridis (perceptually uniform), differences RdBu (blue below zero, white at zero, red
  above) on a range symmetric about zero; missing values (NaN, and the infinite percentages where
  Ref is zero) are a neutral grey that is on neither scale; values beyond a colour bar's range take
  its end colours.
- Every figure of demo-model data says so in a subtitle, DEMO_SUBTITLE.
- Axes are in degrees (maps, equal aspect: a degree of longitude is as wide as a degree of latitude
  is high) or hPa (decreasing upward, log by default as in GCPy); colour bars carry the units; hover
  gives the position and the value with its units.
"""


from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from bokeh.layouts import gridplot
from bokeh.models import ColumnDataSource, FixedTicker, PrintfTickFormatter, Range1d
from bokeh.plotting import figure

from results.mapplots import (CellPolygons, cube_layers, cube_panel, cube_polygons, cubed_sphere_map, field_title,
                              latlon_box, latlon_map, latlon_panel, map_figure, map_json)
from results.plotting import (DEMO_SUBTITLE, DIFFERENCE_PALETTE, NAN_COLOUR, NUMBER_FORMAT, PANEL_WIDTH,
                              RESTRICTED_PERCENTILES, SERIES_COLOURS, TOOLS, VALUE_PALETTE, coast_source, colour_bar,
                              colour_mapper, data_range, float32, hover, label, one_two_five, symmetric_range)

# The map functions and the palettes are public here too: pages and tests import this module.
__all__ = ["CellPolygons", "DEMO_SUBTITLE", "DIFFERENCE_PALETTE", "NAN_COLOUR", "VALUE_PALETTE", "comparison_panels",
           "cube_polygons", "cubed_sphere_map", "data_range", "field_title", "latlon_map", "map_figure",
           "map_json", "profile_plot", "symmetric_range", "time_series_plot", "zonal_mean_plot"]


# --- vertical and time plots --------------------------------------------------------------------

def _pressure_edges(pressure: np.ndarray) -> np.ndarray:
    """Layer edges between mid-level pressures (descending), half-way in log pressure."""
    if pressure.size == 1:
        return np.array([pressure[0] * 1.1, pressure[0] / 1.1])
    inner = np.sqrt(pressure[1:] * pressure[:-1])
    return np.concatenate([[pressure[0] ** 2 / inner[0]], inner, [pressure[-1] ** 2 / inner[-1]]])


def _lat_edges(lat, count: int) -> np.ndarray:
    """Latitude edges from edges (count + 1) or centres (count: midpoints, the ends clamped to +-90)."""
    lat = np.asarray(lat, float)
    if lat.size == count + 1:
        return lat
    if lat.size != count:
        raise ValueError(f"{lat.size} latitudes for {count} columns: give the edges or the centres")
    if count == 1:
        return np.array([max(-90.0, lat[0] - 1.0), min(90.0, lat[0] + 1.0)])
    mid = 0.5 * (lat[1:] + lat[:-1])
    return np.clip(np.concatenate([[2 * lat[0] - mid[0]], mid, [2 * lat[-1] - mid[-1]]]), -90.0, 90.0)


def _pressure_axis(fig, bottom: float, top: float, log: bool) -> None:
    if log:
        fig.yaxis.ticker = FixedTicker(ticks=one_two_five(top, bottom))


def _pressure_window(pressure: np.ndarray, pressure_range) -> np.ndarray:
    """Which levels to show: those with their mid-point within `pressure_range` (either order)."""
    if pressure_range is None:
        return np.ones(pressure.size, bool)
    low, high = sorted(float(p) for p in pressure_range)
    return (pressure >= low) & (pressure <= high)


def _zonal_panel(lat_edges, pressure_hpa, values, *, title, units, palette, span, log_pressure, pressure_range,
                 demo, width, height, heading=""):
    values = np.asarray(values, float)
    pressure = np.asarray(pressure_hpa, float)
    if values.ndim != 2 or values.shape[0] != pressure.size:
        raise ValueError(f"a zonal mean is (levels, latitudes); got {values.shape} for {pressure.size} pressures")
    lat_e = _lat_edges(lat_edges, values.shape[1])
    if lat_e[0] > lat_e[-1]:
        lat_e, values = lat_e[::-1], values[:, ::-1]
    order = np.argsort(-pressure)  # surface first
    pressure, values = pressure[order], values[order]
    keep = _pressure_window(pressure, pressure_range)
    if not keep.any():
        raise ValueError(f"no level has its pressure within {pressure_range} hPa")
    p_edges = _pressure_edges(pressure)
    bottom_e, top_e = p_edges[:-1][keep], p_edges[1:][keep]
    values = values[keep]
    if pressure_range is not None:
        y_bottom, y_top = max(pressure_range), min(pressure_range)
    else:
        y_bottom, y_top = float(bottom_e.max()), float(top_e.min())
    mapper = colour_mapper(palette, span)
    fig = figure(frame_width=width, frame_height=height, tools=TOOLS + ",box_zoom", toolbar_location="right",
                 x_range=Range1d(float(lat_e[0]), float(lat_e[-1]), bounds="auto"),
                 y_range=Range1d(y_bottom, y_top, bounds="auto"), y_axis_type="log" if log_pressure else "linear",
                 x_axis_label="latitude (degrees north)", y_axis_label="pressure (hPa)")
    label(fig, title, demo, heading)
    nlev, nlat = values.shape
    source = ColumnDataSource({
        "left": float32(np.tile(lat_e[:-1], nlev)), "right": float32(np.tile(lat_e[1:], nlev)),
        "bottom": float32(np.repeat(bottom_e, nlat)), "top": float32(np.repeat(top_e, nlat)),
        "value": float32(values).ravel()})
    colour = {"field": "value", "transform": mapper}
    renderer = fig.quad(left="left", right="right", bottom="bottom", top="top", source=source, fill_color=colour,
                        line_color=colour, line_width=1)  # the outline hides anti-aliasing seams
    fig.grid.visible = False
    _pressure_axis(fig, y_bottom, y_top, log_pressure)
    colour_bar(fig, mapper, units)
    hover(fig, [renderer], "@value", units, (("lat", "$x{0.0}"), ("pressure", "$y{0.[00]} hPa")))
    return fig


def zonal_mean_plot(lat_edges, pressure_hpa, values, *, units: str = "", title: str = "",
                    palette: Sequence[str] = VALUE_PALETTE, value_range: tuple[float, float] | None = None,
                    log_pressure: bool = True, pressure_range: tuple[float, float] | None = None,
                    demo: bool = False, width: int = 640, height: int = 360):
    """Latitude (x) against pressure (y, decreasing upward, log unless `log_pressure` is False) of a
    zonal mean `values` (levels, latitudes) at mid-level `pressure_hpa`, in either order; `lat_edges`
    may be the edges or the centres. Each level reaches half-way (in log pressure) to its
    neighbours. `pressure_range` (e.g. (1000, 100)) shows only those levels. Colour bar, hover."""
    span = value_range if value_range is not None else _window_range(values, pressure_hpa, pressure_range)
    return _zonal_panel(lat_edges, pressure_hpa, values, title=title, units=units, palette=palette, span=span,
                        log_pressure=log_pressure, pressure_range=pressure_range, demo=demo, width=width,
                        height=height)


def _window_range(values, pressure_hpa, pressure_range) -> tuple[float, float]:
    """data_range of the levels a zonal plot shows."""
    keep = _pressure_window(np.asarray(pressure_hpa, float), pressure_range)
    return data_range(np.asarray(values, float)[keep])


def _series(values) -> dict[str, np.ndarray]:
    if isinstance(values, Mapping):
        return {str(name): np.asarray(v, float) for name, v in values.items()}
    return {"": np.asarray(values, float)}


def _with_where(title: str, where: str) -> str:
    return f"{title} ({where})" if title and where else title or where


def profile_plot(pressure_hpa, values, *, units: str = "", title: str = "", where: str = "",
                 log_pressure: bool = True, log_values: bool = False,
                 pressure_range: tuple[float, float] | None = None, demo: bool = False,
                 width: int = 420, height: int = 480):
    """A vertical profile: `values` (x, one array per level, or a mapping of series name to array,
    e.g. {"Ref": ..., "Dev": ...}, drawn with a legend) against `pressure_hpa` (y, decreasing upward).
    `where` (e.g. "global mean") goes into the title. Hover gives series, pressure and value."""
    pressure = np.asarray(pressure_hpa, float)
    keep = _pressure_window(pressure, pressure_range)
    series = _series(values)
    for name, v in series.items():
        if v.shape != pressure.shape:
            raise ValueError(f"profile {name or ''} has {v.shape} values for {pressure.size} pressures".replace("  ", " "))
    shown = pressure[keep]
    y_bottom, y_top = (max(pressure_range), min(pressure_range)) if pressure_range else (shown.max(), shown.min())
    if y_bottom == y_top:
        y_bottom, y_top = y_bottom * 1.1, y_top / 1.1
    fig = figure(frame_width=width, frame_height=height, tools=TOOLS + ",box_zoom", toolbar_location="right",
                 y_range=Range1d(float(y_bottom), float(y_top)), y_axis_type="log" if log_pressure else "linear",
                 x_axis_type="log" if log_values else "linear",
                 x_axis_label=f"{units}" if units else "value", y_axis_label="pressure (hPa)")
    label(fig, _with_where(title, where), demo)
    renderers = []
    for (name, v), colour in zip(series.items(), _cycle(SERIES_COLOURS, len(series))):
        source = ColumnDataSource({"value": float32(v[keep]), "pressure": float32(pressure[keep]),
                                   "series": [name] * int(keep.sum())})
        legend = {"legend_label": name} if name else {}
        fig.line("value", "pressure", source=source, line_color=colour, line_width=2, **legend)
        renderers.append(fig.scatter("value", "pressure", source=source, size=4, color=colour, **legend))
    _pressure_axis(fig, float(y_bottom), float(y_top), log_pressure)
    fig.xaxis.formatter = PrintfTickFormatter(format=NUMBER_FORMAT)
    position = (("series", "@series"),) if len(series) > 1 else ()
    hover(fig, renderers, "@value", units, (*position, ("pressure", "@pressure{0.[00]} hPa")))
    if fig.legend:
        fig.legend.location = "top_right"
    return fig


def _cycle(colours: Sequence[str], count: int) -> list[str]:
    return [colours[i % len(colours)] for i in range(count)]


def time_series_plot(times, values, *, units: str = "", title: str = "", where: str = "",
                     weighting: str = "", demo: bool = False, width: int = 720, height: int = 320):
    """Values against time (a datetime axis): one array the length of `times`, or a mapping of series
    name to such arrays (a legend). `where` and `weighting` (e.g. "area-weighted") go into the title.
    Hover gives series, time and value."""
    stamps = np.asarray([np.datetime64(t, "ms") for t in times])
    series = _series(values)
    for name, v in series.items():
        if v.shape != stamps.shape:
            raise ValueError(f"series {name!r} has {v.shape} values for {stamps.size} times")
    detail = ", ".join(part for part in (where, weighting) if part)
    fig = figure(frame_width=width, frame_height=height, x_axis_type="datetime", tools=TOOLS + ",box_zoom",
                 toolbar_location="right", x_axis_label="time (UTC)", y_axis_label=units or "value")
    label(fig, _with_where(title, detail), demo)
    renderers = []
    for (name, v), colour in zip(series.items(), _cycle(SERIES_COLOURS, len(series))):
        source = ColumnDataSource({"time": stamps, "value": float32(v), "series": [name] * stamps.size})
        legend = {"legend_label": name} if name else {}
        fig.line("time", "value", source=source, line_color=colour, line_width=2, **legend)
        renderers.append(fig.scatter("time", "value", source=source, size=5, color=colour, **legend))
    fig.yaxis.formatter = PrintfTickFormatter(format=NUMBER_FORMAT)
    position = (("series", "@series"),) if len(series) > 1 else ()
    tool = hover(fig, renderers, "@value", units, (*position, ("time", "@time{%F %H:%M}")))
    tool.formatters = {**tool.formatters, "@time": "datetime"}
    if fig.legend:
        fig.legend.location = "top_left"
    return fig


# --- Ref vs Dev -------------------------------------------------------------------------------------

def _values_of(item) -> np.ndarray:
    """A Field's (or any object's) `values`, or the array itself."""
    return np.asarray(getattr(item, "values", item), dtype=float)


def comparison_panels(ref, dev, absolute, percent, *, ref_label: str = "", dev_label: str = "",
                      title: str = "", units: str | None = None, palette: Sequence[str] = VALUE_PALETTE,
                      value_range: tuple[float, float] | None = None,
                      restricted_percentiles: tuple[float, float] = RESTRICTED_PERCENTILES,
                      lat_edges=None, pressure_hpa=None, log_pressure: bool = True,
                      pressure_range: tuple[float, float] | None = None, demo: bool | None = None,
                      width: int = PANEL_WIDTH):
    """GCPy's six-panel comparison in one gridplot, pan and zoom linked: Ref | Dev on one shared
    colour range (`value_range`, else both data's); Dev - Ref on its dynamic range | on a restricted
    range; the percent difference (Dev - Ref) / Ref on its dynamic | restricted range. Differences
    use DIFFERENCE_PALETTE on ranges symmetric about zero; "restricted" is the larger magnitude of
    the `restricted_percentiles` (5th, 95th) of the values, beyond which the colours saturate.

    Maps: `ref` and `dev` are readers.Fields (lat-lon, nested or cubed sphere; each drawn on its own
    grid) and `absolute`, `percent` arrays on Ref's grid (or Dev's, when only Dev's shape fits).
    Zonal means: `ref`, `dev`, `absolute`, `percent` are (levels, latitudes) arrays (or objects with
    such `values`) and `lat_edges`, `pressure_hpa` are required. `demo` defaults to either Field's.

    Titles: "Ref: <ref_label>" and "Dev: <dev_label>" (just "Ref", "Dev" without labels) on the
    top two panels, "Dev - Ref" and "(Dev - Ref) / Ref" on the four differences, so a name is said
    once and the difference titles stay short whatever the names."""
    ref_v, dev_v, abs_v, pct_v = (_values_of(x) for x in (ref, dev, absolute, percent))
    if units is None:
        units = getattr(ref, "units", "") or ""
    if demo is None:
        demo = bool(getattr(ref, "demo", False) or getattr(dev, "demo", False))
    span = value_range if value_range is not None else data_range(ref_v, dev_v)
    lows = "th to ".join(f"{p:g}" for p in restricted_percentiles) + "th percentile"
    panels = [
        (f"Ref: {ref_label}" if ref_label else "Ref", ref_v, palette, span, units),
        (f"Dev: {dev_label}" if dev_label else "Dev", dev_v, palette, span, units),
        ("Dev - Ref, dynamic range", abs_v, DIFFERENCE_PALETTE, symmetric_range(abs_v), units),
        (f"Dev - Ref, restricted ({lows})", abs_v, DIFFERENCE_PALETTE,
         symmetric_range(abs_v, restricted_percentiles), units),
        ("(Dev - Ref) / Ref, dynamic range", pct_v, DIFFERENCE_PALETTE, symmetric_range(pct_v), "%"),
        (f"(Dev - Ref) / Ref, restricted ({lows})", pct_v, DIFFERENCE_PALETTE,
         symmetric_range(pct_v, restricted_percentiles), "%"),
    ]
    if hasattr(ref, "geometry") and hasattr(dev, "geometry"):
        figures = _map_panels(ref, dev, panels, demo=demo, width=width, heading=title)
    else:
        if lat_edges is None or pressure_hpa is None:
            raise ValueError("a zonal-mean comparison needs lat_edges and pressure_hpa (maps need two Fields)")
        figures = [_zonal_panel(lat_edges, pressure_hpa, values, title=name, units=u, palette=pal, span=rng,
                                log_pressure=log_pressure, pressure_range=pressure_range, demo=demo,
                                width=width, height=round(width * 0.55), heading=title if i < 2 else "")
                   for i, (name, values, pal, rng, u) in enumerate(panels)]
    for fig in figures[1:]:
        fig.x_range, fig.y_range = figures[0].x_range, figures[0].y_range
    return gridplot([figures[0:2], figures[2:4], figures[4:6]], merge_tools=True, toolbar_location="right")


def _map_panels(ref, dev, panels, *, demo: bool, width: int, heading: str) -> list:
    """Six map figures; differences drawn on Ref's grid, or Dev's when only that fits their shape."""
    difference_shape = panels[2][1].shape
    diff_field = ref if ref.values.shape == difference_shape or dev.values.shape != difference_shape else dev
    fields = [ref, dev, diff_field, diff_field, diff_field, diff_field]
    boxes = [_field_box(f) for f in fields]
    box = boxes[0]
    if any(b != box for b in boxes):  # different domains: show the smallest box that holds them all
        box = (min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes))
    coast = coast_source(box)
    built: list[tuple] = []  # (geometry, its cube layers): panels on the same cube share the corners
    figures = []
    for i, ((name, values, palette, span, units), field) in enumerate(zip(panels, fields)):
        g = field.geometry
        top = heading if i < 2 else ""
        if g.grid.kind == "cubed-sphere":
            layers = next((layers for known, layers in built if _same_corners(known, g)), None)
            if layers is None:
                layers = cube_layers(g.corner_lons, g.corner_lats)
                built.append((g, layers))
            figures.append(cube_panel(values, layers, title=name, units=units, palette=palette,
                                       span=span, demo=demo, width=width, coast=coast, heading=top))
        else:
            figures.append(latlon_panel(values, g.lat_edges, g.lon_edges, title=name, units=units, palette=palette,
                                         span=span, box=box, demo=demo, width=width, coast=coast,
                                         heading=top))
    return figures


def _same_corners(known, geometry) -> bool:
    return known is geometry or (known.corner_lons.shape == geometry.corner_lons.shape
                                 and np.array_equal(known.corner_lons, geometry.corner_lons)
                                 and np.array_equal(known.corner_lats, geometry.corner_lats))


def _field_box(field) -> tuple[float, float, float, float]:
    g = field.geometry
    if g.grid.kind == "cubed-sphere":
        return -180.0, 180.0, -90.0, 90.0
    extent = (*g.grid.lon_range, *g.grid.lat_range) if g.grid.nested and g.grid.lon_range else None
    return latlon_box(g.lat_edges, g.lon_edges, extent)
