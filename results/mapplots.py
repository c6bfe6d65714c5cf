"""Maps on the file's own grid (pure: no Django): lat-lon images and cubed-sphere patches.
results/plots.py says how things are drawn and why."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from bokeh.core.properties import expr
from bokeh.models import ColumnDataSource, CustomJSExpr

from results.plotting import (MAP_POSITION, MAP_WIDTH, MAX_IMAGES, POLE_TOLERANCE, SPLIT_CELLS, VALUE_PALETTE,
                              coast_source, colour_bar, colour_mapper, data_range, draw_coasts, float32, hover, label,
                              map_frame)


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


def latlon_panel(values, lat_edges, lon_edges, *, title, units, palette, span, box, demo, width, coast,
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
    mapper = colour_mapper(palette, span)
    fig = map_frame(box, width)
    label(fig, title, demo, heading)
    lat_runs, lon_runs = _uniform_runs(lat_edges), _uniform_runs(lon_edges)
    if len(lon_runs) == 1 and len(lat_runs) <= MAX_IMAGES:
        if _is_global(lon_edges):
            values, lon_edges = _covering_columns(values, lon_edges, west, east)
        source = ColumnDataSource({
            "image": [float32(values[a:b]) for a, b in lat_runs],
            "x": [float(lon_edges[0])] * len(lat_runs), "dw": [float(lon_edges[-1] - lon_edges[0])] * len(lat_runs),
            "y": [float(lat_edges[a]) for a, _ in lat_runs],
            "dh": [float(lat_edges[b] - lat_edges[a]) for a, b in lat_runs]})
        renderer = fig.image(image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=mapper, source=source)
        field = "@image"
    else:
        lon2, lat2 = np.meshgrid(lon_edges, lat_edges)
        source = ColumnDataSource({
            "left": float32(lon2[:-1, :-1]).ravel(), "right": float32(lon2[:-1, 1:]).ravel(),
            "bottom": float32(lat2[:-1, :-1]).ravel(), "top": float32(lat2[1:, :-1]).ravel(),
            "value": float32(values).ravel()})
        colour = {"field": "value", "transform": mapper}
        renderer = fig.quad(left="left", right="right", bottom="bottom", top="top", source=source,
                            fill_color=colour, line_color=colour, line_width=1)  # no anti-aliasing seams
        field = "@value"
    draw_coasts(fig, coast if coast is not None else coast_source(box))
    colour_bar(fig, mapper, units)
    hover(fig, [renderer], field, units, MAP_POSITION)
    return fig


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


def cube_panel(values, layers: list[_CubeLayer], *, title, units, palette, span, demo, width, coast, heading=""):
    flat = float32(values).ravel()
    mapper = colour_mapper(palette, span)
    box = (-180.0, 180.0, -90.0, 90.0)
    fig = map_frame(box, width)
    label(fig, title, demo, heading)
    renderers = []
    for layer in layers:
        colour = {"field": "value", "transform": mapper}
        # The outline in the cell's own colour hides the hairline seams that anti-aliasing leaves
        # between neighbouring patches.
        renderers.append(fig.patches(xs=expr(layer.xs), ys=expr(layer.ys),
                                     source=ColumnDataSource({"value": flat[layer.cells]}),
                                     fill_color=colour, line_color=colour, line_width=1))
    draw_coasts(fig, coast if coast is not None else coast_source(box))
    colour_bar(fig, mapper, units)
    hover(fig, renderers, "@value", units, MAP_POSITION)
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
    return cube_panel(values, cube_layers(corner_lons, corner_lats), title=title, units=units, palette=palette,
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
