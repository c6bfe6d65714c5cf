"""Plots of estimates and spending (pure): estimator dataclasses or plain lists in, Bokeh models out;
no ORM, no request.

The page embeds them with `bokeh.embed.components` and loads BokehJS from the project's static
files (templates/bokeh_resources.html), never from a CDN.
"""

from __future__ import annotations

import math

from collections.abc import Sequence

from bokeh.models import (ColumnDataSource, FactorRange, FixedTicker, HoverTool, NumeralTickFormatter, Range1d,
                          Whisker)
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


def _one_two_five(low: float, high: float) -> list[float]:
    """Ticks at 1, 2 and 5 of each decade between low and high: for short log ranges Bokeh's own
    log ticker falls back to linear steps, crowded at the top and absent below."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return [m * 10.0 ** k for k in range(first, last + 1) for m in (1, 2, 5) if low <= m * 10.0 ** k <= high]


def _padded(values: list[float], axis_type: str = "log") -> Range1d:
    if axis_type == "log":
        return Range1d(min(values) / PADDING, max(values) * PADDING)
    margin = (max(values) - min(values)) * (PADDING - 1) or max(values) * 0.1
    return Range1d(max(0.0, min(values) - margin), max(values) + margin)


def time_cost_figure(estimates: Sequence[Estimate], *, chosen: Estimate | None = None):
    """Expected hours (x) against the expected cost on the cheaper capacity (y), one point per
    option, coloured by architecture, with whiskers from the low to the high end of both
    ranges; `chosen` is ringed. Hover names the option, its hours and its cost. Needs at least
    one estimate."""
    columns = _columns(estimates)
    hours = columns["hours_low"] + columns["hours_high"]
    costs = columns["cost_low"] + columns["cost_high"]
    # Log axes where the values span more than a decade: the ranges are multiplicative (expected
    # x/ a factor), so they show symmetric. Within a decade Bokeh's log ticker falls back to a
    # few crowded linear ticks, so a linear axis reads better there. The axes span the whiskers,
    # which the automatic ranges would ignore.
    x_type = "log" if max(hours) > 10 * min(hours) > 0 else "linear"
    y_type = "log" if max(costs) > 10 * min(costs) > 0 else "linear"
    fig = figure(height=400, sizing_mode="stretch_width", toolbar_location="above",
                 tools="pan,box_zoom,wheel_zoom,reset,save", x_axis_type=x_type, y_axis_type=y_type,
                 x_range=_padded(hours, x_type), y_range=_padded(costs, y_type),
                 x_axis_label="expected wall time (hours)", y_axis_label="expected cost, cheaper capacity (USD)")
    for axis, axis_type, axis_range in ((fig.xaxis, x_type, fig.x_range), (fig.yaxis, y_type, fig.y_range)):
        if axis_type == "log":
            axis.ticker = FixedTicker(ticks=_one_two_five(axis_range.start, axis_range.end))
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
    fig.yaxis.formatter = NumeralTickFormatter(format="$0,0.00[0]")
    fig.add_layout(fig.legend[0], "right")  # beside the plot, not over its points
    return fig


# --- spending (the cost dashboard) -----------------------------------------------------------------

# Okabe-Ito blue and orange again: compute and storage stay the same colours on every chart.
COMPUTE_COLOUR = "#0072B2"
STORAGE_COLOUR = "#E69F00"
MONEY_AXIS = "$0,0.[0000]"  # demo runs cost fractions of a cent: show the digits they need
MONEY_HOVER = "{$0,0.00[0000]}"
MOST_BARS = 15


def monthly_spend_figure(months: Sequence[str], compute: Sequence[float], storage: Sequence[float]):
    """Compute and storage stacked per month (labels such as "2026-03", oldest first), with a $
    axis and hover giving both parts and the total."""
    source = ColumnDataSource({"month": list(months), "compute": list(compute), "storage": list(storage),
                               "total": [c + s for c, s in zip(compute, storage)]})
    fig = figure(x_range=FactorRange(*months), height=300, sizing_mode="stretch_width", toolbar_location=None,
                 tools="", y_axis_label="USD")
    bars = fig.vbar_stack(["compute", "storage"], x="month", width=0.8, source=source,
                          color=[COMPUTE_COLOUR, STORAGE_COLOUR], legend_label=["compute", "storage"])
    fig.add_tools(HoverTool(renderers=bars, tooltips=[
        ("month", "@month"), ("compute", "@compute" + MONEY_HOVER), ("storage", "@storage" + MONEY_HOVER),
        ("total", "@total" + MONEY_HOVER)]))
    fig.y_range.start = 0
    fig.yaxis.formatter = NumeralTickFormatter(format=MONEY_AXIS)
    fig.xaxis.major_label_orientation = 0.8
    fig.xgrid.grid_line_color = None
    fig.legend.location = "top_left"
    return fig


def _top(labels: Sequence[str], compute: Sequence[float], storage: Sequence[float], limit: int):
    """The `limit` largest rows by total, the rest summed into one "n others" row."""
    rows = sorted(zip(labels, compute, storage), key=lambda r: -(r[1] + r[2]))
    if len(rows) <= limit:
        return rows
    kept, rest = rows[:limit - 1], rows[limit - 1:]
    return kept + [(f"{len(rest)} others", sum(r[1] for r in rest), sum(r[2] for r in rest))]


def spend_bars_figure(labels: Sequence[str], compute: Sequence[float], storage: Sequence[float] | None = None,
                      *, limit: int = MOST_BARS):
    """Horizontal bars of what each label (a user, a group, an instance family) spent, largest at
    the top: compute and storage stacked, or compute alone when `storage` is None. At most `limit`
    bars; the smallest are summed into one. Hover gives the label and the figures."""
    rows = _top(labels, compute, storage if storage is not None else [0.0] * len(labels), limit)
    source = ColumnDataSource({"label": [r[0] for r in rows], "compute": [r[1] for r in rows],
                               "storage": [r[2] for r in rows], "total": [r[1] + r[2] for r in rows]})
    fig = figure(y_range=FactorRange(*reversed([r[0] for r in rows])),
                 height=(70 if storage is None else 100) + 32 * len(rows),
                 sizing_mode="stretch_width", toolbar_location=None, tools="", x_axis_label="USD")
    tooltips = [("", "@label"), ("compute", "@compute" + MONEY_HOVER)]
    if storage is None:
        bars = [fig.hbar(y="label", right="compute", height=0.7, source=source, color=COMPUTE_COLOUR)]
    else:
        bars = fig.hbar_stack(["compute", "storage"], y="label", height=0.7, source=source,
                              color=[COMPUTE_COLOUR, STORAGE_COLOUR], legend_label=["compute", "storage"])
        tooltips += [("storage", "@storage" + MONEY_HOVER), ("total", "@total" + MONEY_HOVER)]
        fig.legend.orientation = "horizontal"
        fig.add_layout(fig.legend[0], "above")  # the charts sit in narrow columns: not over the bars
    fig.add_tools(HoverTool(renderers=bars, tooltips=tooltips))
    fig.x_range.start = 0
    fig.xaxis.formatter = NumeralTickFormatter(format=MONEY_AXIS)
    fig.xaxis.ticker.desired_num_ticks = 4
    fig.ygrid.grid_line_color = None
    return fig


def estimate_actual_figure(names: Sequence[str], expected: Sequence[float], low: Sequence[float],
                           high: Sequence[float], actual: Sequence[float], notional: Sequence[bool]):
    """One point per finished run: its expected estimate (x) against what it cost (y), with a
    whisker from the estimate's low to its high end and the line y = x (on it: as estimated;
    below: cheaper). Log axes, since runs differ by orders of magnitude: every figure must be
    positive (the caller leaves out the others and says so). Hover names the run."""
    source = ColumnDataSource({"name": list(names), "expected": list(expected), "low": list(low),
                               "high": list(high), "actual": list(actual),
                               "kind": ["notional" if n else "billed" for n in notional]})
    values = list(low) + list(high) + list(actual) + list(expected)
    span = (min(values) / PADDING, max(values) * PADDING)
    fig = figure(height=400, sizing_mode="stretch_width", toolbar_location="above",
                 tools="pan,box_zoom,wheel_zoom,reset,save", x_axis_type="log", y_axis_type="log",
                 x_range=Range1d(*span), y_range=Range1d(*span),
                 x_axis_label="estimated cost at submission, expected (USD)", y_axis_label="actual cost (USD)")
    fig.line(list(span), list(span), line_color=OTHER_COLOUR, line_dash="dashed", legend_label="actual = estimate")
    whisker = Whisker(source=source, dimension="width", base="actual", lower="low", upper="high",
                      line_color=COMPUTE_COLOUR, line_alpha=0.4)
    whisker.upper_head.line_color = whisker.lower_head.line_color = COMPUTE_COLOUR
    fig.add_layout(whisker)
    points = fig.scatter("expected", "actual", source=source, size=9, color=COMPUTE_COLOUR, line_color="white",
                         legend_label="run (estimate low to high)")
    fig.add_tools(HoverTool(renderers=[points], tooltips=[
        ("run", "@name"),
        ("estimated", "@expected" + MONEY_HOVER + " (@low" + MONEY_HOVER + " to @high" + MONEY_HOVER + ")"),
        ("actual", "@actual" + MONEY_HOVER + " (@kind)")]))
    fig.xaxis.formatter = NumeralTickFormatter(format=MONEY_AXIS)
    fig.yaxis.formatter = NumeralTickFormatter(format=MONEY_AXIS)
    fig.legend.location = "top_left"
    return fig
