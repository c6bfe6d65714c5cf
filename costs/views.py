"""The cost pages: the dashboard (what was spent), the budgets, and the estimate page (a
configuration's hours and cost on every instance type).

The dashboard and the budgets page read through `costs.spending`, which applies the access rule
and sums in the database; these views parse the month, build the charts (`costs.charts`) and render.

The estimate page is thin too: `selectors.estimate_request` validates a configuration and a region
and estimates it; this page (YAML in a form) and the API (JSON, costs/api.py) both answer with it,
so they say the same things in the same words. `estimate_context` is what costs/_estimate.html
needs, for any page including it.
"""

from __future__ import annotations

import math
import uuid
from decimal import Decimal
from pathlib import Path

import yaml
from bokeh.embed import components
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from costs import charts, spending
from costs.models import Budget, month_of
from costs.selectors import EstimateReport, estimate_request, priced_regions
from simulations.config import FieldError, RunConfig
from simulations.models import Simulation

EXAMPLE = Path(settings.BASE_DIR) / "examples" / "demo-transport-tracers-4x5.yml"
SPOT_REFUSED = "Spot not possible: "


# --- the partial's context -------------------------------------------------------------------------

def _number(x: float) -> str:
    """Two significant figures below 1 (0.019, 0.50), two decimals below 100, whole numbers above."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1 or x <= 0:
        return f"{x:.2f}"
    return f"{x:.{1 - math.floor(math.log10(x))}f}"


def _span(r) -> str:
    return f"{_number(r.low)}–{_number(r.expected)}–{_number(r.high)}"


def _row(e, chosen) -> dict:
    spot = e.cost_usd.get("spot")
    spot_refusals = [w.removeprefix(SPOT_REFUSED) for w in e.warnings if w.startswith(SPOT_REFUSED)]
    return {
        "estimate": e, "label": charts.option_label(e), "chosen": e is chosen, "cheaper": e.cheapest_cost()[0],
        "hours": _span(e.hours), "on_demand": _span(e.cost_usd["on_demand"]), "spot": _span(spot) if spot else None,
        "spot_refusal": "; ".join(spot_refusals) or "no Spot price is known",
        "input_gb": _number(e.input_gb), "staging_minutes": _number(e.staging_hours * 60),
        "output_gb": _number(e.output_gb), "storage_usd": _number(e.output_storage_usd_per_month),
        "warnings": [w for w in e.warnings if not w.startswith(SPOT_REFUSED)],
    }


def estimate_context(cfg: RunConfig, report: EstimateReport) -> dict:
    """What costs/_estimate.html shows: a row per option (cheapest first), the configuration's
    own choice marked, the refusals, the recommendations, the notes and the chart."""
    wanted = cfg.compute.instance_type
    chosen = report.for_choice(wanted, cfg.compute.nodes if cfg.model == "gchp" else 1)
    refused = [{"instance_type": name, "reason": reason, "chosen": name == wanted} for name, reason in report.unrunnable]
    if wanted is None:
        choice = "The configuration names no instance type (compute.instance_type), so none is marked."
    elif chosen is not None:
        choice = f"Your choice, {charts.option_label(chosen)}, is marked."
    elif any(r["chosen"] for r in refused):
        choice = f"Your choice, {wanted}, cannot run this configuration; the reason is below."
    else:
        choice = f"Your choice, {wanted}, is not in the instance catalog, so it cannot be estimated."
    context = {"report": report, "rows": [_row(e, chosen) for e in report.estimates], "refused": refused,
               "choice": choice, "chart_script": "", "chart_div": ""}
    if report.estimates:
        context["chart_script"], context["chart_div"] = components(charts.time_cost_figure(report.estimates,
                                                                                           chosen=chosen))
    return context


# --- the page ---------------------------------------------------------------------------------------

def _starting_point(request) -> tuple[str, Simulation | None]:
    """The YAML the form starts with: ?simulation=<id>'s configuration (404 unless visible), or the example."""
    sim_id = request.GET.get("simulation")
    if not sim_id:
        return (EXAMPLE.read_text() if EXAMPLE.exists() else ""), None
    try:
        uuid.UUID(sim_id)
    except ValueError:
        raise Http404("no such simulation") from None
    sim = get_object_or_404(Simulation.objects.visible_to(request.user), pk=sim_id)
    return yaml.safe_dump(sim.config, sort_keys=False), sim


@login_required
def estimate(request):
    """GET: the starting configuration, estimated. POST: the configuration and region sent."""
    text, sim = _starting_point(request)
    data = request.POST if request.method == "POST" else request.GET
    text = request.POST.get("config", "") if request.method == "POST" else text
    region = data.get("region") or settings.AWS_REGION
    regions = priced_regions()
    context = {"text": text, "region": region, "regions": regions, "simulation": sim, "errors": [], "nav": "estimate"}
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        context["errors"] = [FieldError("", f"this is not valid YAML: {exc}")]
    else:
        cfg, report, context["errors"] = estimate_request(raw, region=region, regions=regions)
        if report is not None:
            context.update(estimate_context(cfg, report))
    context["region_errors"] = [e for e in context["errors"] if e.field == "region"]
    context["config_errors"] = [e for e in context["errors"] if e.field != "region"]
    return render(request, "costs/estimate.html", context)


# --- the dashboard -----------------------------------------------------------------------------------

SIMULATIONS_PER_PAGE = 50
BUDGETS_PER_PAGE = 10


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def _dashboard_charts(months, owners, groups, families, runs) -> dict[str, object]:
    """The Bokeh figures there is something to draw for, by name."""
    figures = {}
    if any(m.total for m in months):
        figures["monthly"] = charts.monthly_spend_figure([f"{m.month:%Y-%m}" for m in months],
                                                         _floats(m.compute for m in months),
                                                         _floats(m.storage for m in months))
    for name, shares in (("owners", owners), ("groups", groups)):
        if any(s.total for s in shares):
            figures[name] = charts.spend_bars_figure([s.label for s in shares], _floats(s.compute for s in shares),
                                                     _floats(s.storage for s in shares))
    if any(s.total for s in families):
        figures["families"] = charts.spend_bars_figure([s.label for s in families],
                                                       _floats(s.compute for s in families))
    if runs:
        figures["runs"] = charts.estimate_actual_figure(
            [r.name for r in runs], _floats(r.expected for r in runs),
            _floats(r.low or r.expected for r in runs), _floats(r.high or r.expected for r in runs),
            _floats(r.actual for r in runs), [r.notional for r in runs])
    return figures


@login_required
def dashboard(request):
    """GET ?month=YYYY-MM (default: this month): the month's totals, charts and simulations."""
    this_month = month_of(timezone.now())
    context = {"nav": "dashboard", "this_month": this_month, "month_text": request.GET.get("month", "")}
    try:
        month = spending.month_from_text(context["month_text"]) if context["month_text"] else this_month
    except spending.MonthInvalid as exc:
        context["month_error"] = str(exc)
        return render(request, "costs/dashboard.html", context, status=400)
    user = request.user
    months = spending.monthly_spend(user, until=month)
    owners, groups = spending.spend_by_owner(user, month), spending.spend_by_group(user, month)
    families = spending.spend_by_family(user, month)
    finished = spending.estimate_vs_actual(user, until=month)
    drawable = [r for r in finished if r.expected > 0 and r.actual > 0]
    figures = _dashboard_charts(months, owners, groups, families, drawable)
    script, divs = components(figures) if figures else ("", {})
    context.update({
        "month": month, "previous": spending.month_shift(month, -1), "next": spending.month_shift(month, 1),
        "totals": spending.month_totals(user, month), "months": months,
        "page": Paginator(spending.simulation_spend(user, month), SIMULATIONS_PER_PAGE).get_page(
            request.GET.get("page")),
        "reconciliations": spending.reconciliations(user, month),
        "finished_runs": len(finished), "not_drawn": len(finished) - len(drawable),
        "chart_script": script, "charts": divs,
    })
    return render(request, "costs/dashboard.html", context)


# --- budgets -----------------------------------------------------------------------------------------

def _bar(standing) -> dict:
    """The widths (percent of the limit) of the spent and the held parts of a budget's bar, and
    by how much spent and held together are over the limit (0 when they are not)."""
    limit, over = standing.budget.limit, max(-standing.left, Decimal(0))
    if limit <= 0:
        return {"spent": 100.0 if standing.spent > 0 else 0.0, "held": 0.0, "over": over}
    spent = min(100.0, float(standing.spent / limit * 100))
    return {"spent": spent, "held": min(100.0 - spent, float(max(standing.held, 0) / limit * 100)), "over": over}


@login_required
def budgets(request):
    """The budgets the user may see, ten at a time (operators see every budget): where each stands
    this month, its alerts, its audit trail and the runs waiting for approval under it."""
    month = month_of(timezone.now())
    page = Paginator(spending.visible_budgets(request.user), BUDGETS_PER_PAGE).get_page(request.GET.get("page"))
    summaries = spending.budget_summaries(list(page.object_list), user=request.user, month=month)
    return render(request, "costs/budgets.html", {
        "nav": "budgets", "month": month, "previous": spending.month_shift(month, -1), "page": page,
        "summaries": [(s, _bar(s.standing)) for s in summaries],
        "has_own": Budget.objects.filter(user=request.user).exists(),
    })
