"""Plots of estimates (pure): estimator dataclasses in, Bokeh models out; no ORM, no request.

The page embeds them with `bokeh.embed.components` and loads BokehJS from the project's static
files (templates/bokeh_resources.html), never from a CDN.
"""

from __future__ import annotations

from collections.abc import Sequence

from bokeh.models import ColumnDataSource, HoverTool, NumeralTickFormatter, Range1d, Whisker
from bokeh.plotting import figure

from costs.estimator import Estimate

# One colour per architecture, readable by colour-blind viewers (Okabe-Ito orange and blue).
ARCHITECTURE_COLOURS = {"arm64": "#E69F00", "x86_64": "#0072B2"}
OTHER_COLOUR = "#777777"
PADDING = 1.15  # the axes reach this factor beyond the outermost whisker


def option_label(e: Estimate) -> str:
    return e.instance_type + (f" x{e.nodes} nodes" if e.nodes > 1 else "")


def _columns(estimates: Sequence[Estimate]) -> dict[str, list]:
    columns: dict[str, list] = {name: [] for name in (
        "label", "hours", "hours_low", "hours_high", "cost", "cost_low", "cost_high", "capacity")}
    for e in estimates:
        capacity, cost = e.cheapest_cost()
        columns["label"].append(option_label(e))
        columns["hours"].append(e.hours.expected)
        columns["hours_low"].append(e.hours.low)
        columns["hours_high"].append(e.hours.high)
        columns["cost"].append(cost.expected)
        columns["cost_low"].append(cost.low)
        columns["cost_high"].append(cost.high)
        columns["capacity"].append(capacity)
    return columns


def _padded(values: list[float]) -> Range1d:
    return Range1d(min(values) / PADDING, max(values) * PADDING)


def time_cost_figure(estimates: Sequence[Estimate], *, chosen: Estimate | None = None):
    """Expected hours (x) against the expected cost on the cheaper capacity (y), one point per
    option, coloured by architecture, with whiskers from the low to the high end of both
    ranges; `chosen` is ringed. Hover names the option, its hours and its cost. Needs at least
    one estimate."""
    columns = _columns(estimates)
    # Log axes: the ranges are multiplicative (expected x/ a factor), so they show symmetric;
    # the axes span the whiskers, which the automatic ranges would ignore.
    fig = figure(height=400, sizing_mode="stretch_width", toolbar_location="above",
                 tools="pan,box_zoom,wheel_zoom,reset,save", x_axis_type="log", y_axis_type="log",
                 x_range=_padded(columns["hours_low"] + columns["hours_high"]),
                 y_range=_padded(columns["cost_low"] + columns["cost_high"]),
                 x_axis_label="expected wall time (hours)", y_axis_label="expected cost, cheaper capacity (USD)")
    points = []
    for architecture in sorted({e.architecture for e in estimates}):
        source = ColumnDataSource(_columns([e for e in estimates if e.architecture == architecture]))
        colour = ARCHITECTURE_COLOURS.get(architecture, OTHER_COLOUR)
        for dimension, base, lower, upper in (("width", "cost", "hours_low", "hours_high"),
                                              ("height", "hours", "cost_low", "cost_high")):
            whisker = Whisker(source=source, dimension=dimension, base=base, lower=lower, upper=upper,
                              line_color=colour, line_alpha=0.35)
            whisker.upper_head.line_color = whisker.lower_head.line_color = colour
            fig.add_layout(whisker)
        points.append(fig.scatter("hours", "cost", source=source, size=9, color=colour, line_color="white",
                                  legend_label=architecture))
    if chosen is not None:
        capacity, cost = chosen.cheapest_cost()
        fig.scatter([chosen.hours.expected], [cost.expected], size=18, marker="circle", fill_alpha=0,
                    line_color="#1d2733", line_width=2, legend_label="your choice")
    fig.add_tools(HoverTool(renderers=points, tooltips=[
        ("instance", "@label"),
        ("hours", "@hours{0,0.[000]} (@hours_low{0,0.[000]} to @hours_high{0,0.[000]})"),
        ("cost", "@cost{0,0.00[0]} USD (@cost_low{0,0.00[0]} to @cost_high{0,0.00[0]}) on @capacity")]))
    fig.xaxis.formatter = NumeralTickFormatter(format="0,0.[000]")
    fig.yaxis.formatter = NumeralTickFormatter(format="$0,0.[000]")
    fig.add_layout(fig.legend[0], "right")  # beside the plot, not over its points
    return fig
