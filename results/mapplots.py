"""Maps on the file's own grid (pure: no Django): lat-lon images and cubed-sphere patches.
results/plots.py says how things are drawn and why.

A map is drawn in two steps: a layout, which the displayed grid (and the box shown) alone decides
(`latlon_layout`, `cube_layout`), says which value goes where; `value_columns(values)` gives the
data columns that depend on the values, and the map is drawn from the layout and those columns.
So the frame of a map (axes, coastlines, colour bar, tools, the images' placement or the patches'
corners) can be serialised once per grid as a `MapTemplate`, and a map of new values is that
text with the columns, the colour range, the title and the units filled in (`map_json`).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from bokeh.core.properties import expr
from bokeh.embed import json_item
from bokeh.models import ColumnDataSource, CustomJSExpr

from results.plotting import (MAP_POSITION, MAP_WIDTH, MAX_IMAGES, POLE_TOLERANCE, SPLIT_CELLS, VALUE_PALETTE,
                              DocumentTemplate, bar_title, coast_source, colour_bar, colour_mapper, data_range,
                              defined_models, display_values, draw_coasts, float32, hover, label, map_frame, ndarray_json, slot,
                              tooltips, value_json)
from results.readers import geometry_fingerprint


# --- lat-lon maps -------------------------------------------------------------------------------

def _uniform_runs(edges: np.ndarray, rtol: float = 1e-4) -> list[tuple[int, int]]:
    """[(first, end)] row ranges over which the spacing of `edges` is constant."""
    steps = np.diff(edges)
    if steps.size == 0:
        return []
    breaks = np.flatnonzero(np.abs(np.diff(steps)) > rtol * np.abs(steps).max()) + 1
    bounds = [0, *breaks.tolist(), steps.size]
    return list(zip(bounds[:-1], bounds[1:]))


def _is_global(lon_edges: np.ndarray) -> bool:
    return abs((lon_edges[-1] - lon_edges[0]) - 360.0) < 1e-3


def _covering_columns(lon_edges: np.ndarray, west: float, east: float) -> tuple[np.ndarray, np.ndarray]:
    """(columns, their edges) of a global, evenly spaced grid that cover west..east, wrapping
    around the globe."""
    n, step, first = lon_edges.size - 1, (lon_edges[-1] - lon_edges[0]) / (lon_edges.size - 1), lon_edges[0]
    offset = math.floor((west - first) / step + 1e-9)
    count = math.ceil((east - (first + offset * step)) / step - 1e-9)
    return (offset + np.arange(count)) % n, first + (offset + np.arange(count + 1)) * step


@dataclass(frozen=True)
class LatlonLayout:
    """Where a lat-lon grid's values go on a map of `box`: rows and columns in ascending order, a
    regional grid moved into the box's longitudes (0-360 or -180-180), and either one image per
    run of equally spaced rows (`runs`; a global grid's columns repeated past the edges to cover
    the box, `columns`) or, when the spacing varies too much, one quad per cell (`runs` None)."""

    box: tuple[float, float, float, float]
    shape: tuple[int, int]  # of the values, as given
    flip_rows: bool
    flip_columns: bool
    lat_edges: np.ndarray  # ascending
    lon_edges: np.ndarray  # ascending, in the box's longitudes (the covering columns' for images)
    runs: tuple[tuple[int, int], ...] | None
    columns: np.ndarray | None  # which of the ascending columns the images show; None: all of them

    def value_columns(self, values) -> list[np.ndarray]:
        """The data that depend on `values` (nlat, nlon): each image's float32 rows, or the quads'
        values."""
        values = np.asarray(values)
        if values.shape != self.shape:
            raise ValueError(f"values of shape {values.shape} do not fit {self.shape[0] + 1} latitude and "
                             f"{self.shape[1] + 1} longitude edges")
        if self.flip_rows:
            values = values[::-1]
        if self.flip_columns:
            values = values[:, ::-1]
        values = display_values(values)
        if self.runs is None:
            return [values.ravel()]
        if self.columns is not None:
            values = values[:, self.columns]
        return [values[a:b] for a, b in self.runs]


def latlon_layout(lat_edges, lon_edges, box: tuple[float, float, float, float]) -> LatlonLayout:
    lat_edges, lon_edges = np.asarray(lat_edges, float), np.asarray(lon_edges, float)
    flip_rows, flip_columns = bool(lat_edges[0] > lat_edges[-1]), bool(lon_edges[0] > lon_edges[-1])
    shape = (lat_edges.size - 1, lon_edges.size - 1)
    lat_edges = lat_edges[::-1] if flip_rows else lat_edges
    lon_edges = lon_edges[::-1] if flip_columns else lon_edges
    west, east, south, north = box
    if not _is_global(lon_edges):  # put a regional grid in the box's longitudes (0-360 vs -180-180)
        lon_edges = lon_edges + 360.0 * round(((west + east) - (lon_edges[0] + lon_edges[-1])) / 720.0)
    lat_runs, lon_runs = _uniform_runs(lat_edges), _uniform_runs(lon_edges)
    runs = columns = None
    if len(lon_runs) == 1 and len(lat_runs) <= MAX_IMAGES:
        runs = tuple(lat_runs)
        if _is_global(lon_edges):
            columns, lon_edges = _covering_columns(lon_edges, west, east)
    return LatlonLayout(box, shape, flip_rows, flip_columns, lat_edges, lon_edges, runs, columns)


@dataclass
class _Drawn:
    """A map figure and the models that carry what depends on the values: the columns (source,
    column name, index in a list column or None), the colour mapper, the title, the colour bar, hover."""

    fig: object
    columns: list[tuple[ColumnDataSource, str, int | None]]
    mapper: object
    title: object
    bar: object
    hover: object
    field: str  # the hover's value field


def _draw_latlon(layout: LatlonLayout, columns: list[np.ndarray], *, title, units, palette, span, demo, width, coast,
                 heading="") -> _Drawn:
    mapper = colour_mapper(palette, span)
    fig = map_frame(layout.box, width)
    carrier = label(fig, title, demo, heading)
    lat_edges, lon_edges = layout.lat_edges, layout.lon_edges
    if layout.runs is not None:
        runs = layout.runs
        source = ColumnDataSource({
            "image": list(columns),
            "x": [float(lon_edges[0])] * len(runs), "dw": [float(lon_edges[-1] - lon_edges[0])] * len(runs),
            "y": [float(lat_edges[a]) for a, _ in runs], "dh": [float(lat_edges[b] - lat_edges[a]) for a, b in runs]})
        renderer = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=mapper, source=source)
        field, slots = "@image", [(source, "image", i) for i in range(len(runs))]
    else:
        lon2, lat2 = np.meshgrid(lon_edges, lat_edges)
        source = ColumnDataSource({
            "left": float32(lon2[:-1, :-1]).ravel(), "right": float32(lon2[:-1, 1:]).ravel(),
            "bottom": float32(lat2[:-1, :-1]).ravel(), "top": float32(lat2[1:, :-1]).ravel(),
            "value": columns[0]})
        colour = {"field": "value", "transform": mapper}
        renderer = fig.quad(left="left", right="right", bottom="bottom", top="top", source=source,
                            fill_color=colour, line_color=colour, line_width=1)  # no anti-aliasing seams
        field, slots = "@value", [(source, "value", None)]
    draw_coasts(fig, coast if coast is not None else coast_source(layout.box))
    bar = colour_bar(fig, mapper, units)
    tool = hover(fig, [renderer], field, units, MAP_POSITION)
    return _Drawn(fig, slots, mapper, carrier, bar, tool, field)


def latlon_panel(values, lat_edges, lon_edges, *, title, units, palette, span, box, demo, width, coast,
                  heading=""):
    values = np.asarray(values)
    if values.shape != (np.size(lat_edges) - 1, np.size(lon_edges) - 1):
        raise ValueError(f"values of shape {values.shape} do not fit {np.size(lat_edges)} latitude and "
                         f"{np.size(lon_edges)} longitude edges")
    layout = latlon_layout(lat_edges, lon_edges, box)
    return _draw_latlon(layout, layout.value_columns(values), title=title, units=units, palette=palette, span=span,
                        demo=demo, width=width, coast=coast, heading=heading).fig


def latlon_box(lat_edges, lon_edges, nested_extent) -> tuple[float, float, float, float]:
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
    box = latlon_box(lat_edges, lon_edges, nested_extent)
    span = value_range if value_range is not None else data_range(values)
    return latlon_panel(values, lat_edges, lon_edges, title=title, units=units, palette=palette, span=span,
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


def cube_layers(corner_lons, corner_lats) -> list[_CubeLayer]:
    layers = []
    for group in cube_polygons(corner_lons, corner_lats):
        k = group.xs.shape[1]
        layers.append(_CubeLayer(
            group.cells,
            CustomJSExpr(args={"flat": group.xs.astype(np.float32).ravel(), "k": k}, code=SPLIT_CELLS),
            CustomJSExpr(args={"flat": group.ys.astype(np.float32).ravel(), "k": k}, code=SPLIT_CELLS)))
    return layers


CUBE_BOX = (-180.0, 180.0, -90.0, 90.0)


@dataclass(frozen=True)
class CubeLayout:
    """Where a cube's values go: one patch per cell and vertex count (`layers`), cells across the
    date line drawn twice."""

    layers: tuple[_CubeLayer, ...]
    shape: tuple[int, int, int]  # (6, N, N)
    box: tuple[float, float, float, float] = CUBE_BOX

    def value_columns(self, values) -> list[np.ndarray]:
        """Each layer's float32 values (as maps show them), one per patch (the date-line copies included)."""
        values = np.asarray(values)
        if values.shape != self.shape:
            raise ValueError(f"values of shape {values.shape} do not fit a C{self.shape[-1]} cube's corners")
        flat = display_values(values).ravel()
        return [flat[layer.cells] for layer in self.layers]


def cube_layout(corner_lons, corner_lats) -> CubeLayout:
    n = np.asarray(corner_lons).shape[-1] - 1
    return CubeLayout(tuple(cube_layers(corner_lons, corner_lats)), (6, n, n))


def _draw_cube(layout: CubeLayout, columns: list[np.ndarray], *, title, units, palette, span, demo, width, coast,
               heading="") -> _Drawn:
    mapper = colour_mapper(palette, span)
    fig = map_frame(layout.box, width)
    carrier = label(fig, title, demo, heading)
    renderers, slots = [], []
    for layer, column in zip(layout.layers, columns):
        colour = {"field": "value", "transform": mapper}
        source = ColumnDataSource({"value": column})
        # The outline in the cell's own colour hides the hairline seams that anti-aliasing leaves
        # between neighbouring patches.
        renderers.append(fig.patches(xs=expr(layer.xs), ys=expr(layer.ys), source=source,
                                     fill_color=colour, line_color=colour, line_width=1))
        slots.append((source, "value", None))
    draw_coasts(fig, coast if coast is not None else coast_source(layout.box))
    bar = colour_bar(fig, mapper, units)
    tool = hover(fig, renderers, "@value", units, MAP_POSITION)
    return _Drawn(fig, slots, mapper, carrier, bar, tool, "@value")


def cube_panel(values, layers: list[_CubeLayer], *, title, units, palette, span, demo, width, coast, heading=""):
    layout = CubeLayout(tuple(layers), np.shape(values))
    return _draw_cube(layout, layout.value_columns(values), title=title, units=units, palette=palette, span=span,
                      demo=demo, width=width, coast=coast, heading=heading).fig


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
    return cube_panel(values, cube_layers(corner_lons, corner_lats), title=title, units=units, palette=palette,
                       span=span, demo=demo, width=width, coast=None)


# --- one field's map ------------------------------------------------------------------------------

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


def _nested_extent(grid) -> tuple[float, float, float, float] | None:
    return (*grid.lon_range, *grid.lat_range) if grid.nested and grid.lon_range and grid.lat_range else None


def _layout(geometry) -> LatlonLayout | CubeLayout:
    """The layout of a field's map on its geometry (lat-lon, nested or cubed sphere)."""
    if geometry.grid.kind == "cubed-sphere":
        return cube_layout(geometry.corner_lons, geometry.corner_lats)
    box = latlon_box(geometry.lat_edges, geometry.lon_edges, _nested_extent(geometry.grid))
    return latlon_layout(geometry.lat_edges, geometry.lon_edges, box)


def _draw(layout, columns, **options) -> _Drawn:
    draw = _draw_cube if isinstance(layout, CubeLayout) else _draw_latlon
    return draw(layout, columns, coast=None, **options)


def map_figure(field, *, title: str | None = None, palette: Sequence[str] = VALUE_PALETTE,
               value_range: tuple[float, float] | None = None, width: int = MAP_WIDTH):
    """The map of a readers.Field on its own grid (lat-lon, nested or cubed sphere), titled after it,
    in its units, labelled as demo output when it is."""
    layout = _layout(field.geometry)
    span = value_range if value_range is not None else data_range(field.values)
    return _draw(layout, layout.value_columns(field.values), title=field_title(field) if title is None else title,
                 units=field.units, palette=palette, span=span, demo=field.demo, width=width).fig


# --- map templates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class MapTemplate:
    """A map's frame on one displayed grid, serialised once (json_item, then JSON text) with slots
    for what depends on the values: the columns, the colour range, the title, the colour bar's
    title and the hover's units. `fill` gives the JSON text that json_item of the map drawn
    directly would give (the same models and arrays; only the model ids are the template's)."""

    layout: LatlonLayout | CubeLayout
    document: DocumentTemplate
    field: str  # the hover's value field

    def fill(self, values, *, title: str, units: str, value_range: tuple[float, float] | None = None) -> str:
        span = value_range if value_range is not None else data_range(values)
        filled = {f"column{i}": ndarray_json(column) for i, column in enumerate(self.layout.value_columns(values))}
        filled.update(low=value_json(float(span[0])), high=value_json(float(span[1])), title=value_json(title),
                      bar_title=value_json(bar_title(units)),
                      tooltips=value_json(tooltips(self.field, units, MAP_POSITION)))
        return self.document.fill(filled)


def map_template(layout: LatlonLayout | CubeLayout, *, palette: Sequence[str] = VALUE_PALETTE, demo: bool = False,
                 width: int = MAP_WIDTH) -> MapTemplate:
    """Draw the frame of `layout` with placeholder values and serialise it with slots."""
    placeholders = layout.value_columns(np.zeros(layout.shape))
    drawn = _draw(layout, placeholders, title="title", units="units", palette=palette, span=(0.0, 1.0), demo=demo,
                  width=width)
    item = json_item(drawn.fig)
    models = defined_models(item)
    names = []
    for i, (source, name, index) in enumerate(drawn.columns):
        entries = models[source.id]["attributes"]["data"]["entries"]  # [(column name, data)], as tuples
        j = next(j for j, (key, _) in enumerate(entries) if key == name)
        if index is None:
            entries[j] = (name, slot(f"column{i}"))
        else:
            entries[j] = (name, [*entries[j][1][:index], slot(f"column{i}"), *entries[j][1][index + 1:]])
        names.append(f"column{i}")
    for model, attribute, name in ((drawn.mapper, "low", "low"), (drawn.mapper, "high", "high"),
                                   (drawn.title, "text", "title"), (drawn.bar, "title", "bar_title"),
                                   (drawn.hover, "tooltips", "tooltips")):
        models[model.id].setdefault("attributes", {})[attribute] = slot(name)
        names.append(name)
    return MapTemplate(layout, DocumentTemplate.of(item, names), drawn.field)


# Templates by displayed grid and frame options. A grid's frame is drawn and serialised once per
# process (25-90 ms); a map is then the template's text with its values' columns put in.
_TEMPLATES: OrderedDict = OrderedDict()
_TEMPLATES_KEEP = 16
_TEMPLATES_LOCK = threading.Lock()  # a server's threads share them


def _frame_key(geometry, palette: Sequence[str], demo: bool, width: int) -> tuple:
    """What a map's frame depends on: the displayed grid (its description and the exact bytes of
    its coordinates, not only their sums: a wrong frame would draw one grid's map on another) and
    the options."""
    if geometry.grid.kind == "cubed-sphere":
        arrays = (geometry.corner_lons, geometry.corner_lats)
    else:
        arrays = (geometry.lat_edges, geometry.lon_edges)
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a, dtype=float)
        digest.update(repr(a.shape).encode())
        digest.update(a.tobytes())
    return (geometry_fingerprint(geometry), digest.hexdigest(), _nested_extent(geometry.grid), tuple(palette),
            bool(demo), int(width))


def cached_map_template(geometry, *, palette: Sequence[str] = VALUE_PALETTE, demo: bool = False,
                        width: int = MAP_WIDTH) -> MapTemplate:
    """The template of maps on `geometry` (the displayed one), built on first use and kept (LRU)."""
    key = _frame_key(geometry, palette, demo, width)
    with _TEMPLATES_LOCK:
        template = _TEMPLATES.get(key)
        if template is not None:
            _TEMPLATES.move_to_end(key)
            return template
    # Built outside the lock: two threads may both build it, and one is kept.
    template = map_template(_layout(geometry), palette=palette, demo=demo, width=width)
    with _TEMPLATES_LOCK:
        _TEMPLATES[key] = template
        while len(_TEMPLATES) > _TEMPLATES_KEEP:
            _TEMPLATES.popitem(last=False)
    return template


def clear_map_templates() -> None:
    """Forget every template (the next map of each grid builds its own again)."""
    with _TEMPLATES_LOCK:
        _TEMPLATES.clear()


def map_json(field, *, title: str | None = None, palette: Sequence[str] = VALUE_PALETTE,
             value_range: tuple[float, float] | None = None, width: int = MAP_WIDTH) -> str:
    """The JSON text of `json_item(map_figure(field, ...))`, filled into its grid's template."""
    template = cached_map_template(field.geometry, palette=palette, demo=field.demo, width=width)
    return template.fill(field.values, title=field_title(field) if title is None else title, units=field.units,
                         value_range=value_range)
