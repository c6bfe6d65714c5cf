"""Maps and plots of GEOS-Chem output (pure: no Django, no ORM): plain arrays and readers.Field in,
Bokeh models out, for the pages to embed with bokeh.embed.components or json_item (BokehJS comes
from the project's static files, templates/bokeh_resources.html; only bokeh.min.js is needed).

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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from bokeh.core.properties import expr
from bokeh.layouts import gridplot
from bokeh.models import (BoxZoomTool, ColorBar, ColumnDataSource, CustomJSExpr, FixedTicker, HoverTool,
                          LinearColorMapper, PrintfTickFormatter, Range1d, Title)
from bokeh.palettes import RdBu11, Viridis256
from bokeh.plotting import figure

from results import coastlines

VALUE_PALETTE = tuple(Viridis256)
NAN_COLOUR = "#999999"  # mid grey: viridis has no grey and RdBu's middle is near-white #f7f7f7
COAST_COLOUR = "#000000"
DEMO_SUBTITLE = "demo model, not GEOS-Chem"
DEMO_COLOUR = "#D55E00"  # Okabe-Ito vermilion: the warning should be seen
# Okabe-Ito, reordered so that the first series are the most distinct on white (yellow last).
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MAP_WIDTH = 720  # frame pixels for a 360-degree map
MAP_MAX_HEIGHT = 540
PANEL_WIDTH = 420  # frame pixels of one map in a comparison
MAX_IMAGES = 8
POLE_TOLERANCE = 1e-6  # degrees: a corner this close to +-90 is on the pole (its longitude means nothing)
RESTRICTED_PERCENTILES = (5.0, 95.0)
TOOLS = "pan,wheel_zoom,reset,save"
NUMBER_FORMAT = "%.3g"  # ticks of values: "4e-20", "0.5", "250" (Bokeh's default prints "4.000e-20")

# Cuts the flat corner array `flat` (k vertices per cell) into one Float32Array per cell, as views
# on the same buffer (no copy). Only this constant string is ever sent as code.
SPLIT_CELLS = """const n = flat.length / k, cells = new Array(n)
for (let i = 0; i < n; i++) cells[i] = new Float32Array(flat.buffer, flat.byteOffset + 4 * k * i, k)
return cells"""


def _interpolated(palette: Sequence[str], n: int) -> tuple[str, ...]:
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in palette], float)
    at = np.linspace(0, len(palette) - 1, n)
    out = np.stack([np.interp(at, np.arange(len(palette)), rgb[:, i]) for i in range(3)], axis=-1)
    return tuple("#%02x%02x%02x" % tuple(int(round(v)) for v in row) for row in out)


DIFFERENCE_PALETTE = _interpolated(RdBu11, 255)  # odd: the middle colour is RdBu's white, at zero


# --- colour ranges ----------------------------------------------------------------------------------

def data_range(*arrays) -> tuple[float, float]:
    """(min, max) over the finite values of all the arrays; widened a little when they are all equal,
    (0, 1) when there is none."""
    finite = [a[np.isfinite(a)] for a in (np.asarray(v, dtype=float) for v in arrays)]
    values = np.concatenate(finite) if finite else np.empty(0)
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if low == high:
        pad = abs(low) * 0.05 or 1.0
        return low - pad, high + pad
    return low, high


def symmetric_range(values, percentiles: tuple[float, float] | None = None) -> tuple[float, float]:
    """(-m, m) for a diverging scale centred on zero: m is the largest absolute finite value, or with
    `percentiles` (e.g. 5, 95) the larger magnitude of those two percentiles (GCPy's restricted range)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return -1.0, 1.0
    if percentiles is None:
        m = float(np.abs(v).max())
    else:
        m = float(np.abs(np.percentile(v, percentiles)).max())
    m = m or float(np.abs(v).max()) or 1.0
    return -m, m


def _mapper(palette: Sequence[str], span: tuple[float, float]) -> LinearColorMapper:
    return LinearColorMapper(palette=list(palette), low=float(span[0]), high=float(span[1]), nan_color=NAN_COLOUR)


def _float32(values) -> np.ndarray:
    """Compact and NaN where there is no finite value (float32 overflow included)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(values, dtype=np.float32)
    return np.where(np.isfinite(out), out, np.float32(np.nan))


# --- shared figure pieces ---------------------------------------------------------------------------

def _tooltip_units(units: str) -> str:
    return units.replace("@", "").replace("$", "")  # Bokeh's tooltip fields start with @ and $


def _label(fig, title: str, demo: bool, heading: str = "") -> None:
    """The title, and under it the demo subtitle; `heading` (a comparison's subject) above both.
    Titles added "above" stack outward from the plot, the figure's own title outermost."""
    if demo:
        fig.add_layout(Title(text=DEMO_SUBTITLE, text_font_style="italic", text_color=DEMO_COLOUR,
                             text_font_size="11px"), "above")
    if heading:
        fig.add_layout(Title(text=title, text_font_size="13px"), "above")
        fig.title.text = heading
        fig.title.text_font_style = "normal"
    else:
        fig.title.text = title


def _colour_bar(fig, mapper: LinearColorMapper, units: str) -> ColorBar:
    bar = ColorBar(color_mapper=mapper, title=units or "(no units)", width=14, padding=6,
                   formatter=PrintfTickFormatter(format=NUMBER_FORMAT), title_text_font_style="normal",
                   title_text_font_size="11px")
    fig.add_layout(bar, "right")
    return bar


def _hover(fig, renderers, field: str, units: str, position: Sequence[tuple[str, str]]) -> HoverTool:
    tool = HoverTool(renderers=list(renderers), formatters={field: "printf"},
                     tooltips=[*position, ("value", f"{field}{{%.4g}} {_tooltip_units(units)}".rstrip())])
    fig.add_tools(tool)
    return tool


MAP_POSITION = (("lon", "$x{0.00}"), ("lat", "$y{0.00}"))


def _map_figure(box: tuple[float, float, float, float], width: int):
    west, east, south, north = box
    scale = min(width / (east - west), MAP_MAX_HEIGHT * width / MAP_WIDTH / (north - south))
    fig = figure(frame_width=max(60, round((east - west) * scale)), frame_height=max(60, round((north - south) * scale)),
                 x_range=Range1d(west, east, bounds=(west, east)), y_range=Range1d(south, north, bounds=(south, north)),
                 tools=TOOLS, toolbar_location="right", x_axis_label="longitude (degrees east)",
                 y_axis_label="latitude (degrees north)")
    fig.add_tools(BoxZoomTool(match_aspect=True))
    fig.grid.visible = False
    fig.background_fill_color = "#ffffff"
    return fig


def _coast_source(box) -> ColumnDataSource:
    lon, lat = coastlines.coastlines(box)
    return ColumnDataSource({"x": lon, "y": lat})


def _draw_coasts(fig, source: ColumnDataSource) -> None:
    fig.line("x", "y", source=source, line_color=COAST_COLOUR, line_width=1)


def _one_two_five(low: float, high: float) -> list[float]:
    """Ticks at 1, 2 and 5 of each decade between low and high (Bokeh's log ticker crowds short ranges)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return [m * 10.0 ** k for k in range(first, last + 1) for m in (1, 2, 5) if low <= m * 10.0 ** k <= high]


# --- lat-lon maps -------------------------------------------------------------------------------

def _uniform_runs(edges: np.ndarray, rtol: float = 1e-4) -> list[tuple[int, int]]:
    """[(first, end)] row ranges over which the spacing of `edges` is constant."""
    steps = np.diff(edges)
    if steps.size == 0:
        return []
    breaks = np.flatnonzero(np.abs(np.diff(steps)) > rtol * np.abs(steps).max()) + 1
    bounds = [0, *breaks.tolist(), steps.size]
    return list(zip(bounds[:-1], bounds[1:]))


def _ascending(values: np.ndarray, lat_edges: np.ndarray, lon_edges: np.ndarray):
    if lat_edges[0] > lat_edges[-1]:
        values, lat_edges = values[::-1], lat_edges[::-1]
    if lon_edges[0] > lon_edges[-1]:
        values, lon_edges = values[:, ::-1], lon_edges[::-1]
    return values, lat_edges, lon_edges


def _is_global(lon_edges: np.ndarray) -> bool:
    return abs((lon_edges[-1] - lon_edges[0]) - 360.0) < 1e-3


def _covering_columns(values: np.ndarray, lon_edges: np.ndarray, west: float, east: float):
    """Columns of a global, evenly spaced grid that cover west..east, wrapping around the globe."""
    n, step, first = lon_edges.size - 1, (lon_edges[-1] - lon_edges[0]) / (lon_edges.size - 1), lon_edges[0]
    offset = math.floor((west - first) / step + 1e-9)
    count = math.ceil((east - (first + offset * step)) / step - 1e-9)
    columns = (offset + np.arange(count)) % n
    return values[:, columns], first + (offset + np.arange(count + 1)) * step


def _latlon_panel(values, lat_edges, lon_edges, *, title, units, palette, span, box, demo, width, coast,
                  heading=""):
    values = np.asarray(values)
    lat_edges, lon_edges = np.asarray(lat_edges, float), np.asarray(lon_edges, float)
    if values.shape != (lat_edges.size - 1, lon_edges.size - 1):
        raise ValueError(f"values of shape {values.shape} do not fit {lat_edges.size} latitude and "
                         f"{lon_edges.size} longitude edges")
    values, lat_edges, lon_edges = _ascending(values, lat_edges, lon_edges)
    west, east, south, north = box
    if not _is_global(lon_edges):  # put a regional grid in the box's longitudes (0-360 vs -180-180)
        lon_edges = lon_edges + 360.0 * round(((west + east) - (lon_edges[0] + lon_edges[-1])) / 720.0)
    mapper = _mapper(palette, span)
    fig = _map_figure(box, width)
    _label(fig, title, demo, heading)
    lat_runs, lon_runs = _uniform_runs(lat_edges), _uniform_runs(lon_edges)
    if len(lon_runs) == 1 and len(lat_runs) <= MAX_IMAGES:
        if _is_global(lon_edges):
            values, lon_edges = _covering_columns(values, lon_edges, west, east)
        source = ColumnDataSource({
            "image": [_float32(values[a:b]) for a, b in lat_runs],
            "x": [float(lon_edges[0])] * len(lat_runs), "dw": [float(lon_edges[-1] - lon_edges[0])] * len(lat_runs),
            "y": [float(lat_edges[a]) for a, _ in lat_runs],
            "dh": [float(lat_edges[b] - lat_edges[a]) for a, b in lat_runs]})
        renderer = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=mapper, source=source)
        field = "@image"
    else:
        lon2, lat2 = np.meshgrid(lon_edges, lat_edges)
        source = ColumnDataSource({
            "left": _float32(lon2[:-1, :-1]).ravel(), "right": _float32(lon2[:-1, 1:]).ravel(),
            "bottom": _float32(lat2[:-1, :-1]).ravel(), "top": _float32(lat2[1:, :-1]).ravel(),
            "value": _float32(values).ravel()})
        colour = {"field": "value", "transform": mapper}
        renderer = fig.quad(left="left", right="right", bottom="bottom", top="top", source=source,
                            fill_color=colour, line_color=colour, line_width=1)  # no anti-aliasing seams
        field = "@value"
    _draw_coasts(fig, coast if coast is not None else _coast_source(box))
    _colour_bar(fig, mapper, units)
    _hover(fig, [renderer], field, units, MAP_POSITION)
    return fig


def _latlon_box(lat_edges, lon_edges, nested_extent) -> tuple[float, float, float, float]:
    if nested_extent is not None:
        west, east, south, north = (float(v) for v in nested_extent)
        return west, east, south, north
    lat_edges, lon_edges = np.sort(np.asarray(lat_edges, float)), np.sort(np.asarray(lon_edges, float))
    if _is_global(lon_edges):
        return -180.0, 180.0, float(lat_edges[0]), float(lat_edges[-1])
    return float(lon_edges[0]), float(lon_edges[-1]), float(lat_edges[0]), float(lat_edges[-1])


def latlon_map(values, lat_edges, lon_edges, *, title: str = "", units: str = "",
               palette: Sequence[str] = VALUE_PALETTE, value_range: tuple[float, float] | None = None,
               nested_extent: tuple[float, float, float, float] | None = None, demo: bool = False,
               width: int = MAP_WIDTH):
    """A map of `values` (nlat, nlon) on the boxes between `lat_edges` (nlat + 1) and `lon_edges`
    (nlon + 1), in either order and longitude convention, with coastlines, a colour bar titled with
    `units` and hover. `nested_extent` (west, east, south, north) is the box to show; without it a
    global grid shows -180..180 and a regional one its own edges. `value_range` defaults to the
    data's; `width` is the frame's width in pixels for 360 degrees of longitude (smaller boxes are
    drawn at the same or a larger scale, at most MAP_MAX_HEIGHT high)."""
    box = _latlon_box(lat_edges, lon_edges, nested_extent)
    span = value_range if value_range is not None else data_range(values)
    return _latlon_panel(values, lat_edges, lon_edges, title=title, units=units, palette=palette, span=span,
                         box=box, demo=demo, width=width, coast=None)


# --- cubed-sphere maps ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CellPolygons:
    """Cells drawn with the same number of vertices: `cells` indexes the flattened (6 * N * N)
    cells (a cell drawn twice, across the date line, appears twice); `xs`, `ys` are (len(cells), k)."""

    cells: np.ndarray
    xs: np.ndarray
    ys: np.ndarray


def _wrap(degrees: np.ndarray) -> np.ndarray:
    return (degrees + 180.0) % 360.0 - 180.0


def _cell_corners(a: np.ndarray) -> np.ndarray:
    """(6, N+1, N+1) corner values as (6 N N, 4), going round each cell."""
    return np.stack([a[:, :-1, :-1], a[:, :-1, 1:], a[:, 1:, 1:], a[:, 1:, :-1]], axis=-1).reshape(-1, 4)


def cube_polygons(corner_lons, corner_lats) -> list[CellPolygons]:
    """The cells of a cube (corners (6, N+1, N+1), any longitude convention) as polygons in
    longitude and latitude that draw correctly on a -180..180 map: longitudes unwrapped around each
    cell, cells across the date line repeated 360 degrees over, pole corners and pole-encircling
    cells opened onto the pole's latitude (module docstring). One group per vertex count (4, 5, 7)."""
    lon_c, lat_c = np.asarray(corner_lons, float), np.asarray(corner_lats, float)
    if lon_c.ndim != 3 or lon_c.shape[0] != 6 or lon_c.shape[1] != lon_c.shape[2] or lat_c.shape != lon_c.shape:
        raise ValueError(f"cube corners must be (6, N+1, N+1), not {lon_c.shape} and {lat_c.shape}")
    cx, cy = _cell_corners(_wrap(lon_c)), _cell_corners(lat_c)
    cells = np.arange(cx.shape[0])
    on_pole = np.abs(cy) >= 90.0 - POLE_TOLERANCE
    touches_pole = on_pole.any(axis=1)
    groups = []

    # Cells with no corner on a pole: each corner's longitude unwrapped from the one before.
    plain = ~touches_pole
    px, py, pcells = cx[plain], cy[plain], cells[plain]
    steps = _wrap(np.diff(px, axis=1, append=px[:, :1]))  # the 4 edges, the last closing the ring
    x = px[:, :1] + np.concatenate([np.zeros((px.shape[0], 1)), np.cumsum(steps[:, :3], axis=1)], axis=1)
    turns = np.rint(steps.sum(axis=1) / 360.0)
    around = turns != 0
    groups.append((pcells[~around], x[~around], py[~around]))
    if around.any():  # round a pole: close the ring through the pole's latitude, 360 degrees on
        xa, ya, t = x[around], py[around], turns[around][:, None]
        pole = np.where(ya.mean(axis=1, keepdims=True) > 0, 90.0, -90.0)
        x0_far = xa[:, :1] + 360.0 * t
        groups.append((pcells[around], np.concatenate([xa, x0_far, x0_far, xa[:, :1]], axis=1),
                       np.concatenate([ya, ya[:, :1], pole, pole], axis=1)))

    # Cells with a corner on a pole: start the ring at that corner and replace it by the two points
    # on the pole's latitude straight above (below) its neighbours.
    if touches_pole.any():
        tx, ty, tcells = cx[touches_pole], cy[touches_pole], cells[touches_pole]
        first = np.argmax(on_pole[touches_pole], axis=1)
        order = (first[:, None] + np.arange(4)) % 4
        tx, ty = np.take_along_axis(tx, order, axis=1), np.take_along_axis(ty, order, axis=1)
        xa = tx[:, 1]
        xb = xa + _wrap(tx[:, 2] - xa)
        xc = xb + _wrap(tx[:, 3] - tx[:, 2])
        pole = np.where(ty[:, 0] > 0, 90.0, -90.0)
        groups.append((tcells, np.stack([xa, xa, xb, xc, xc], axis=1),
                       np.stack([pole, ty[:, 1], ty[:, 2], ty[:, 3], pole], axis=1)))

    out = []
    for group_cells, xs, ys in groups:
        if group_cells.size == 0:
            continue
        east, west = xs.max(axis=1) > 180.0, xs.min(axis=1) < -180.0
        out.append(CellPolygons(np.concatenate([group_cells, group_cells[east], group_cells[west]]),
                                np.concatenate([xs, xs[east] - 360.0, xs[west] + 360.0]),
                                np.concatenate([ys, ys[east], ys[west]])))
    return out


@dataclass(frozen=True)
class _CubeLayer:
    """One vertex count's cells, ready to draw: the indices and the shared coordinate expressions."""

    cells: np.ndarray
    xs: CustomJSExpr
    ys: CustomJSExpr


def _cube_layers(corner_lons, corner_lats) -> list[_CubeLayer]:
    layers = []
    for group in cube_polygons(corner_lons, corner_lats):
        k = group.xs.shape[1]
        layers.append(_CubeLayer(
            group.cells,
            CustomJSExpr(args={"flat": group.xs.astype(np.float32).ravel(), "k": k}, code=SPLIT_CELLS),
            CustomJSExpr(args={"flat": group.ys.astype(np.float32).ravel(), "k": k}, code=SPLIT_CELLS)))
    return layers


def _cube_panel(values, layers: list[_CubeLayer], *, title, units, palette, span, demo, width, coast, heading=""):
    flat = _float32(values).ravel()
    mapper = _mapper(palette, span)
    box = (-180.0, 180.0, -90.0, 90.0)
    fig = _map_figure(box, width)
    _label(fig, title, demo, heading)
    renderers = []
    for layer in layers:
        colour = {"field": "value", "transform": mapper}
        # The outline in the cell's own colour hides the hairline seams that anti-aliasing leaves
        # between neighbouring patches.
        renderers.append(fig.patches(xs=expr(layer.xs), ys=expr(layer.ys),
                                     source=ColumnDataSource({"value": flat[layer.cells]}),
                                     fill_color=colour, line_color=colour, line_width=1))
    _draw_coasts(fig, coast if coast is not None else _coast_source(box))
    _colour_bar(fig, mapper, units)
    _hover(fig, renderers, "@value", units, MAP_POSITION)
    return fig


def cubed_sphere_map(values, corner_lons, corner_lats, *, title: str = "", units: str = "",
                     palette: Sequence[str] = VALUE_PALETTE, value_range: tuple[float, float] | None = None,
                     demo: bool = False, width: int = MAP_WIDTH):
    """A global map of cubed-sphere `values` (6, N, N), drawn natively: one patch per cell from
    `corner_lons`, `corner_lats` (6, N+1, N+1) (see cube_polygons), with coastlines, a colour bar
    titled with `units` and hover. Meant for a reduced cube (up to about C90: 6 N^2 patches)."""
    values = np.asarray(values)
    n = np.asarray(corner_lons).shape[-1] - 1
    if values.shape != (6, n, n):
        raise ValueError(f"values of shape {values.shape} do not fit a C{n} cube's corners")
    span = value_range if value_range is not None else data_range(values)
    return _cube_panel(values, _cube_layers(corner_lons, corner_lats), title=title, units=units, palette=palette,
                       span=span, demo=demo, width=width, coast=None)


def field_title(field) -> str:
    """"O3, level 1 (~1005 hPa), 2019-07-01 12:00" for a readers.Field."""
    parts = [field.variable.species or field.variable.name]
    if field.level is not None:
        hpa = field.pressure_hpa
        parts.append(f"level {field.level}" + (f" (~{hpa:.0f} hPa)" if hpa and hpa >= 10 else
                                               f" (~{hpa:.2g} hPa)" if hpa else ""))
    if field.time is not None:
        parts.append(f"{field.time:%Y-%m-%d %H:%M}")
    return ", ".join(parts)


def map_figure(field, *, title: str | None = None, palette: Sequence[str] = VALUE_PALETTE,
               value_range: tuple[float, float] | None = None, width: int = MAP_WIDTH):
    """The map of a readers.Field on its own grid (lat-lon, nested or cubed sphere), titled after it,
    in its units, labelled as demo output when it is."""
    geometry = field.geometry
    title = field_title(field) if title is None else title
    if geometry.grid.kind == "cubed-sphere":
        return cubed_sphere_map(field.values, geometry.corner_lons, geometry.corner_lats, title=title,
                                units=field.units, palette=palette, value_range=value_range, demo=field.demo,
                                width=width)
    grid = geometry.grid
    extent = (*grid.lon_range, *grid.lat_range) if grid.nested and grid.lon_range and grid.lat_range else None
    return latlon_map(field.values, geometry.lat_edges, geometry.lon_edges, title=title, units=field.units,
                      palette=palette, value_range=value_range, nested_extent=extent, demo=field.demo, width=width)


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
        fig.yaxis.ticker = FixedTicker(ticks=_one_two_five(top, bottom))


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
    mapper = _mapper(palette, span)
    fig = figure(frame_width=width, frame_height=height, tools=TOOLS + ",box_zoom", toolbar_location="right",
                 x_range=Range1d(float(lat_e[0]), float(lat_e[-1]), bounds="auto"),
                 y_range=Range1d(y_bottom, y_top, bounds="auto"), y_axis_type="log" if log_pressure else "linear",
                 x_axis_label="latitude (degrees north)", y_axis_label="pressure (hPa)")
    _label(fig, title, demo, heading)
    nlev, nlat = values.shape
    source = ColumnDataSource({
        "left": _float32(np.tile(lat_e[:-1], nlev)), "right": _float32(np.tile(lat_e[1:], nlev)),
        "bottom": _float32(np.repeat(bottom_e, nlat)), "top": _float32(np.repeat(top_e, nlat)),
        "value": _float32(values).ravel()})
    colour = {"field": "value", "transform": mapper}
    renderer = fig.quad(left="left", right="right", bottom="bottom", top="top", source=source, fill_color=colour,
                        line_color=colour, line_width=1)  # the outline hides anti-aliasing seams
    fig.grid.visible = False
    _pressure_axis(fig, y_bottom, y_top, log_pressure)
    _colour_bar(fig, mapper, units)
    _hover(fig, [renderer], "@value", units, (("lat", "$x{0.0}"), ("pressure", "$y{0.[00]} hPa")))
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
    _label(fig, _with_where(title, where), demo)
    renderers = []
    for (name, v), colour in zip(series.items(), _cycle(SERIES_COLOURS, len(series))):
        source = ColumnDataSource({"value": _float32(v[keep]), "pressure": _float32(pressure[keep]),
                                   "series": [name] * int(keep.sum())})
        legend = {"legend_label": name} if name else {}
        fig.line("value", "pressure", source=source, line_color=colour, line_width=2, **legend)
        renderers.append(fig.scatter("value", "pressure", source=source, size=4, color=colour, **legend))
    _pressure_axis(fig, float(y_bottom), float(y_top), log_pressure)
    fig.xaxis.formatter = PrintfTickFormatter(format=NUMBER_FORMAT)
    position = (("series", "@series"),) if len(series) > 1 else ()
    _hover(fig, renderers, "@value", units, (*position, ("pressure", "@pressure{0.[00]} hPa")))
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
    _label(fig, _with_where(title, detail), demo)
    renderers = []
    for (name, v), colour in zip(series.items(), _cycle(SERIES_COLOURS, len(series))):
        source = ColumnDataSource({"time": stamps, "value": _float32(v), "series": [name] * stamps.size})
        legend = {"legend_label": name} if name else {}
        fig.line("time", "value", source=source, line_color=colour, line_width=2, **legend)
        renderers.append(fig.scatter("time", "value", source=source, size=5, color=colour, **legend))
    fig.yaxis.formatter = PrintfTickFormatter(format=NUMBER_FORMAT)
    position = (("series", "@series"),) if len(series) > 1 else ()
    tool = _hover(fig, renderers, "@value", units, (*position, ("time", "@time{%F %H:%M}")))
    tool.formatters = {**tool.formatters, "@time": "datetime"}
    if fig.legend:
        fig.legend.location = "top_left"
    return fig


# --- Ref vs Dev -------------------------------------------------------------------------------------

def _values_of(item) -> np.ndarray:
    """A Field's (or any object's) `values`, or the array itself."""
    return np.asarray(getattr(item, "values", item), dtype=float)


def comparison_panels(ref, dev, absolute, percent, *, ref_label: str = "Ref", dev_label: str = "Dev",
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
    such `values`) and `lat_edges`, `pressure_hpa` are required. `demo` defaults to either Field's."""
    ref_v, dev_v, abs_v, pct_v = (_values_of(x) for x in (ref, dev, absolute, percent))
    if units is None:
        units = getattr(ref, "units", "") or ""
    if demo is None:
        demo = bool(getattr(ref, "demo", False) or getattr(dev, "demo", False))
    span = value_range if value_range is not None else data_range(ref_v, dev_v)
    lows = "th to ".join(f"{p:g}" for p in restricted_percentiles) + "th percentile"
    panels = [
        (f"Ref: {ref_label}", ref_v, palette, span, units),
        (f"Dev: {dev_label}", dev_v, palette, span, units),
        (f"{dev_label} - {ref_label}, dynamic range", abs_v, DIFFERENCE_PALETTE, symmetric_range(abs_v), units),
        (f"{dev_label} - {ref_label}, restricted ({lows})", abs_v, DIFFERENCE_PALETTE,
         symmetric_range(abs_v, restricted_percentiles), units),
        (f"({dev_label} - {ref_label}) / {ref_label}, dynamic range", pct_v, DIFFERENCE_PALETTE,
         symmetric_range(pct_v), "%"),
        (f"({dev_label} - {ref_label}) / {ref_label}, restricted ({lows})", pct_v, DIFFERENCE_PALETTE,
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
    coast = _coast_source(box)
    built: list[tuple] = []  # (geometry, its cube layers): panels on the same cube share the corners
    figures = []
    for i, ((name, values, palette, span, units), field) in enumerate(zip(panels, fields)):
        g = field.geometry
        top = heading if i < 2 else ""
        if g.grid.kind == "cubed-sphere":
            layers = next((layers for known, layers in built if _same_corners(known, g)), None)
            if layers is None:
                layers = _cube_layers(g.corner_lons, g.corner_lats)
                built.append((g, layers))
            figures.append(_cube_panel(values, layers, title=name, units=units, palette=palette,
                                       span=span, demo=demo, width=width, coast=coast, heading=top))
        else:
            figures.append(_latlon_panel(values, g.lat_edges, g.lon_edges, title=name, units=units, palette=palette,
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
    return _latlon_box(g.lat_edges, g.lon_edges, extent)
