"""The researcher's pages: the dashboard, a new-simulation form, and the monitor page that polls for status.

Thin: each view finds the simulation through `visible_to` / `manageable_by` (404 otherwise),
calls one service and renders.
"""

import mimetypes
from pathlib import Path

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import ResearchGroup
from simulations import selectors, services
from simulations.backends import get_backend
from simulations.config import ConfigInvalid
from simulations.models import Preset, Simulation
from simulations.outputs import download_url, local_file, output_files

AWAITING_APPROVAL = ("The run is over its budget for this month, so it waits for an operator's approval; "
                     "the detail page shows the figures.")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "demo-transport-tracers-4x5.yml"


@login_required
def simulation_list(request):
    """The dashboard: what the user may see, filtered by GET parameters, 25 a page."""
    groups = selectors.user_groups(request.user)
    filters = selectors.dashboard_filters(request.GET, groups=groups)
    page = Paginator(selectors.dashboard_simulations(request.user, filters),
                     selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "simulations/list.html", {
        "page": page, "rows": selectors.dashboard_rows(list(page.object_list)), "filters": filters,
        "groups": groups, "status_groups": [(key, label) for key, (label, _) in selectors.STATUS_GROUPS.items()],
        "models": Simulation.Model.choices,
    })


def _initial_yaml(request) -> str:
    preset_id = request.GET.get("preset")
    if preset_id and preset_id.isdigit():
        preset = Preset.objects.visible_to(request.user).filter(id=preset_id).first()
        if preset:
            return yaml.safe_dump(preset.config, sort_keys=False)
    return EXAMPLE.read_text() if EXAMPLE.exists() else ""


@login_required
def simulation_new(request):
    errors = []
    text = _initial_yaml(request)
    if request.method == "POST":
        text = request.POST.get("config", "")
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            errors = [{"field": "", "message": f"this is not valid YAML: {exc}"}]
        else:
            try:
                sim = services.simulation_create(owner=request.user, raw_config=raw,
                                                 group=request.POST.get("group", ""), source="web")
            except ConfigInvalid as exc:
                errors = [{"field": e.field, "message": e.message} for e in exc.errors]
            else:
                if request.POST.get("action") == "submit":
                    try:
                        outcome = services.simulation_submit(simulation_id=sim.id, actor=request.user, source="web")
                    except services.SubmitRefused as exc:
                        messages.error(request, f"Saved as a draft, not submitted. {exc.message}")
                    else:
                        if outcome == Simulation.Status.AWAITING_APPROVAL:
                            messages.warning(request, AWAITING_APPROVAL)
                        else:
                            messages.success(request, "Simulation submitted.")
                else:
                    messages.success(request, "Draft saved; submit it when ready.")
                return redirect("simulations:detail", pk=sim.id)
    presets = Preset.objects.visible_to(request.user)
    groups = list(ResearchGroup.objects.filter(memberships__user=request.user))
    chosen = request.POST.get("group", groups[0].slug if len(groups) == 1 else "")
    return render(request, "simulations/new.html", {"text": text, "errors": errors, "presets": presets,
                                                     "groups": groups, "chosen_group": chosen})


@login_required
def simulation_detail(request, pk):
    """The monitor page; monitor.js keeps it current from `simulation_status`."""
    sim = get_object_or_404(Simulation.objects.visible_to(request.user).select_related("owner", "group"), pk=pk)
    state = selectors.monitor_state(sim, user=request.user)
    return render(request, "simulations/detail.html", {
        "sim": sim,
        "state": state.as_json(),
        "jobs": state.jobs,
        "current": state.current,
        "timeline": selectors.timeline(sim),
        "outputs": output_files(sim),
        "actions": state.actions,
        "can_manage": state.can_manage,
        "cost": state.spent,
        "my_groups": ResearchGroup.objects.filter(memberships__user=request.user),
    })


def _after(request) -> int | None:
    value = request.GET.get("after", "")
    return int(value) if value.isdigit() else None


@login_required
def simulation_status(request, pk):
    """What the monitor polls: status, progress, jobs, samples, cost so far and, with ?after=<id>,
    the events after that one; with ?outputs=1 also the outputs section's HTML (its last refresh)."""
    sim = get_object_or_404(Simulation.objects.visible_to(request.user), pk=pk)
    state = selectors.monitor_state(sim, user=request.user, events_after_id=_after(request))
    answer = state.as_json()
    if request.GET.get("outputs") == "1":
        answer["outputs_html"] = render_to_string("simulations/_outputs.html",
                                                  {"sim": sim, "outputs": output_files(sim)}, request=request)
    return JsonResponse(answer)


@login_required
def simulation_log(request, pk):
    """The log of the newest job from an opaque position (a byte offset, a CloudWatch token)."""
    sim = get_object_or_404(Simulation.objects.visible_to(request.user), pk=pk)
    job = sim.jobs.order_by("-segment", "-attempt").first()
    if job is None or not job.backend_id:
        return JsonResponse({"job": None, "text": "", "next_offset": 0, "complete": sim.is_final})
    position = request.GET.get("position", "")[:512]
    if request.GET.get("job") not in (None, job.name):
        position = ""  # a new segment began: start its log from the top
    chunk = get_backend(job.backend).read_log(job.backend_id, position=position)
    return JsonResponse({"job": job.name, "text": chunk.text, "position": chunk.position, "complete": chunk.complete})


@login_required
def simulation_file(request, pk, path):
    """Download one output file (an expiring S3 link on AWS); nothing outside the simulation's outputs."""
    sim = get_object_or_404(Simulation.objects.visible_to(request.user), pk=pk)
    target = local_file(sim, path)
    if target is not None:
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return FileResponse(open(target, "rb"), as_attachment=True, filename=target.name, content_type=content_type)
    url = download_url(sim, path)
    if url is None:
        raise Http404("no such output file")
    return HttpResponseRedirect(url)


def _wants_json(request) -> bool:
    """monitor.js posts the action forms with fetch and asks for JSON; a plain form post redirects."""
    return "application/json" in request.headers.get("Accept", "")


def _reply(request, sim, level: str, text: str, *, to=None):
    """The outcome of an action: JSON for the page's fetch (409 when nothing was done), else a
    message and a redirect to the simulation (or to `to`)."""
    target = to or reverse("simulations:detail", args=[sim.id])
    if _wants_json(request):
        return JsonResponse({"ok": level != "error", "level": level, "message": text,
                             "redirect": target if to else None}, status=409 if level == "error" else 200)
    messages.add_message(request, {"success": messages.SUCCESS, "warning": messages.WARNING,
                                   "error": messages.ERROR}[level], text)
    return HttpResponseRedirect(target)


def _status_action(service, done: str, refused: str):
    """A POST-only view that runs one status-changing service on a simulation the user may manage."""

    @login_required
    @require_POST
    def view(request, pk):
        sim = get_object_or_404(Simulation.objects.manageable_by(request.user), pk=pk)
        try:
            outcome = service(simulation_id=sim.id, actor=request.user, source="web")
        except services.SubmitRefused as exc:
            return _reply(request, sim, "error", exc.message)
        if outcome == Simulation.Status.AWAITING_APPROVAL:
            return _reply(request, sim, "warning", AWAITING_APPROVAL)
        if outcome:
            return _reply(request, sim, "success", done)
        sim.refresh_from_db(fields=["status"])
        return _reply(request, sim, "error", refused.format(status=sim.get_status_display().lower()))

    return view


simulation_submit = _status_action(
    services.simulation_submit, "Simulation submitted.", "Only a draft can be submitted; this one is {status}.")
simulation_cancel = _status_action(
    services.simulation_cancel, "Cancel requested.", "This simulation is {status}; there is nothing to cancel.")
simulation_retry = _status_action(
    services.simulation_retry, "Resuming from the last finished segment.",
    "Only a failed or cancelled simulation can be resumed; this one is {status}.")


@login_required
@require_POST
def simulation_clone(request, pk):
    sim = get_object_or_404(Simulation.objects.visible_to(request.user), pk=pk)
    try:
        clone = services.simulation_clone(simulation_id=sim.id, actor=request.user, source="web")
    except ConfigInvalid as exc:
        return _reply(request, sim, "error",
                      "This configuration is no longer valid: " + "; ".join(e.message for e in exc.errors))
    return _reply(request, clone, "success", "Cloned into a new draft.",
                  to=reverse("simulations:detail", args=[clone.id]))
