"""The cost pages. The estimate page: a configuration's hours and cost on every instance type.

Thin: `selectors.estimate_request` validates a configuration and a region and estimates it; this page (YAML
in a form) and the API (JSON, costs/api.py) both answer with it, so they say the same things in
the same words. `estimate_context` is what costs/_estimate.html needs, for any page including it.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import yaml
from bokeh.embed import components
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from costs import charts
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
    context = {"text": text, "region": region, "regions": regions, "simulation": sim, "errors": []}
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
