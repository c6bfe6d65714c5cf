"""The pieces every results figure shares (pure: no Django): palettes, colour ranges, titles with
the demo label, colour bars, hover, map frames, coastlines, and document templates (a figure
serialised once, its value-dependent parts filled in as text). results/plots.py says how things are
drawn and why."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from bokeh.core.serialization import Serializer
from bokeh.models import (BoxZoomTool, ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, PrintfTickFormatter,
                          Range1d, Title)
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


def colour_mapper(palette: Sequence[str], span: tuple[float, float]) -> LinearColorMapper:
    return LinearColorMapper(palette=list(palette), low=float(span[0]), high=float(span[1]), nan_color=NAN_COLOUR)


def float32(values) -> np.ndarray:
    """Compact and NaN where there is no finite value (float32 overflow included)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(values, dtype=np.float32)
    return np.where(np.isfinite(out), out, np.float32(np.nan))


# Map values travel with 11 significant bits (the 12 lowest of float32's 23 mantissa bits set to 0,
# rounding to nearest): a relative error below 2.5e-4, finer than the 3 digits the colour bar and
# the hover show, and gzip then packs the arrays 1.7-10x smaller and 2-7x faster (measured on
# noisy and smooth 361x576 fields). The statistics and the exports use the file's full values.
DISPLAY_DROPPED_BITS = 12


def display_values(values) -> np.ndarray:
    """float32 values rounded to what a map shows (DISPLAY_DROPPED_BITS), NaN kept."""
    out = float32(values)
    bits = out.view(np.uint32)
    half = np.uint32(1 << (DISPLAY_DROPPED_BITS - 1))
    mask = np.uint32((0xFFFFFFFF << DISPLAY_DROPPED_BITS) & 0xFFFFFFFF)
    rounded = ((bits + half) & mask).view(np.float32)
    return np.where(np.isfinite(out), rounded, out)


# --- shared figure pieces ---------------------------------------------------------------------------

def _tooltip_units(units: str) -> str:
    return units.replace("@", "").replace("$", "")  # Bokeh's tooltip fields start with @ and $


def label(fig, title: str, demo: bool, heading: str = "") -> Title:
    """The title, and under it the demo subtitle; `heading` (a comparison's subject) above both.
    Titles added "above" stack outward from the plot, the figure's own title outermost. Returns
    the Title model that carries `title`."""
    if demo:
        fig.add_layout(Title(text=DEMO_SUBTITLE, text_font_style="italic", text_color=DEMO_COLOUR,
                             text_font_size="11px"), "above")
    if heading:
        carrier = Title(text=title, text_font_size="13px")
        fig.add_layout(carrier, "above")
        fig.title.text = heading
        fig.title.text_font_style = "normal"
        return carrier
    fig.title.text = title
    return fig.title


def bar_title(units: str) -> str:
    return units or "(no units)"


def colour_bar(fig, mapper: LinearColorMapper, units: str) -> ColorBar:
    bar = ColorBar(color_mapper=mapper, title=bar_title(units), width=14, padding=6,
                   formatter=PrintfTickFormatter(format=NUMBER_FORMAT), title_text_font_style="normal",
                   title_text_font_size="11px")
    fig.add_layout(bar, "right")
    return bar


def tooltips(field: str, units: str, position: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [*position, ("value", f"{field}{{%.4g}} {_tooltip_units(units)}".rstrip())]


def hover(fig, renderers, field: str, units: str, position: Sequence[tuple[str, str]]) -> HoverTool:
    tool = HoverTool(renderers=list(renderers), formatters={field: "printf"}, tooltips=tooltips(field, units, position))
    fig.add_tools(tool)
    return tool


MAP_POSITION = (("lon", "$x{0.00}"), ("lat", "$y{0.00}"))


def map_frame(box: tuple[float, float, float, float], width: int):
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


def coast_source(box) -> ColumnDataSource:
    lon, lat = coastlines.coastlines(box)
    return ColumnDataSource({"x": lon, "y": lat})


def draw_coasts(fig, source: ColumnDataSource) -> None:
    fig.line("x", "y", source=source, line_color=COAST_COLOUR, line_width=1)


def one_two_five(low: float, high: float) -> list[float]:
    """Ticks at 1, 2 and 5 of each decade between low and high (Bokeh's log ticker crowds short ranges)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return [m * 10.0 ** k for k in range(first, last + 1) for m in (1, 2, 5) if low <= m * 10.0 ** k <= high]


# --- document templates -----------------------------------------------------------------------------
# A figure whose frame serves many values (a map on one grid) is serialised once with unique tokens
# where the values go; a figure is then the template's text joined with the values' JSON: no Bokeh
# document is built, copied or parsed again.

_SLOT = "@@gcr-slot:{}@@"
_SLOTS = re.compile(r'"@@gcr-slot:(\w+)@@"')


def slot(name: str) -> str:
    """The token (a string) that marks the slot `name` in a document before it is serialised."""
    return _SLOT.format(name)


def defined_models(item: dict) -> dict[str, dict]:
    """Every model defined in a json_item ({"type": "object", "name", "id", "attributes"}), by id:
    the dicts themselves, so that changing one changes the item."""
    found, stack = {}, [item]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "object" and "id" in node:
                found[node["id"]] = node
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


@dataclass(frozen=True)
class DocumentTemplate:
    """The JSON text of a json_item cut at its slots: parts[0], slot names[0], parts[1], ..."""

    parts: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, item: dict, names: Collection[str]) -> DocumentTemplate:
        """The template of `item`, in which the string slot(name) stands in for each of `names`
        exactly once (a JSON value of its own: a whole attribute, column or list entry)."""
        pieces = _SLOTS.split(json.dumps(item))
        found = pieces[1::2]
        if sorted(found) != sorted(names):
            raise ValueError(f"the document's slots are {sorted(found)}, not {sorted(names)}")
        return cls(tuple(pieces[0::2]), tuple(found))

    def fill(self, values: Mapping[str, str]) -> str:
        """The document's JSON text with each slot replaced by `values[name]` (JSON text)."""
        out = [self.parts[0]]
        for name, part in zip(self.names, self.parts[1:]):
            out += (values[name], part)
        return "".join(out)


def value_json(value) -> str:
    """A number, string or list as json_item writes it (NaN and infinities as Bokeh's number reps)."""
    return json.dumps(Serializer(deferred=False).encode(value))


def ndarray_json(array: np.ndarray) -> str:
    """An array as json_item writes it, so that BokehJS decodes it the same way: Bokeh's own
    encoding ({"type": "ndarray", "array": {"type": "bytes", "data": the bytes gzipped and in
    base64}, "shape", "dtype", "order"}), with the long base64 text put in without a JSON pass."""
    rep = Serializer(deferred=False).encode(array)
    if not (isinstance(rep, dict) and isinstance(rep.get("array"), dict)):  # not a binary dtype
        return json.dumps(rep)
    data = rep["array"]["data"]
    rep["array"]["data"] = ""
    return json.dumps(rep).replace('"data": ""', f'"data": "{data}"', 1)
