"""The researcher's pages: a list, a new-simulation form, and a detail page that polls for status.

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
from django.views.decorators.http import require_POST

from accounts.models import ResearchGroup
from costs import spending
from simulations import services
from simulations.backends import get_backend
from simulations.config import ConfigInvalid
from simulations.models import Preset, Simulation
from simulations.outputs import download_url, local_file, output_files

AWAITING_APPROVAL = ("The run is over its budget for this month, so it waits for an operator's approval; "
                     "the detail page shows the figures.")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "demo-transport-tracers-4x5.yml"


@login_required
def simulation_list(request):
    sims = Simulation.objects.visible_to(request.user).select_related("owner", "group")
    page = Paginator(sims, 25).get_page(request.GET.get("page"))
    return render(request, "simulations/list.html", {"page": page})


def _initial_yaml(request) -> str:
    preset_id = request.GET.get("preset")
    if preset_id and preset_id.isdigit():
        preset = Preset.objects.filter(id=preset_id, owner__isnull=True).first() or Preset.objects.filter(
            id=preset_id, owner=request.user
        ).first()
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
    presets = Preset.objects.filter(owner__isnull=True) | Preset.objects.filter(owner=request.user)
    groups = list(ResearchGroup.objects.filter(memberships__user=request.user))
    chosen = request.POST.get("group", groups[0].slug if len(groups) == 1 else "")
    return render(request, "simulations/new.html", {"text": text, "errors": errors, "presets": presets,
                                                     "groups": groups, "chosen_group": chosen})


@login_required
def simulation_detail(request, pk):
    sim = get_object_or_404(Simulation.objects.visible_to(request.user).select_related("owner", "group"), pk=pk)
    return render(request, "simulations/detail.html", {
        "sim": sim,
        "jobs": sim.jobs.all(),
        "events": sim.events.select_related("actor").order_by("-created_at")[:50],
        "outputs": output_files(sim),
        "can_manage": Simulation.objects.manageable_by(request.user).filter(pk=sim.pk).exists(),
        "cost": spending.simulation_cost(sim),
    })


@login_required
def simulation_status(request, pk):
    """What the detail page polls: status, progress and the live progress report."""
    sim = get_object_or_404(Simulation.objects.visible_to(request.user), pk=pk)
    job = sim.jobs.order_by("-segment", "-attempt").first()
    live = None
    if job and job.backend_id and not job.is_final:
        live = get_backend(job.backend).read_progress(job.backend_id)
    return JsonResponse({
        "id": str(sim.id),
        "status": sim.status,
        "status_label": sim.get_status_display(),
        "is_final": sim.is_final,
        "status_reason": sim.status_reason,
        "progress_percent": sim.progress_percent,
        "segments_done": sim.segments_done,
        "segments_total": sim.segments_total,
        "simulated_until": sim.simulated_until.isoformat() if sim.simulated_until else None,
        "job": job.name if job else None,
        "live": live,
    })


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


def _status_action(service, done: str, refused: str):
    """A POST-only view that runs one status-changing service on a simulation the user may manage."""

    @login_required
    @require_POST
    def view(request, pk):
        sim = get_object_or_404(Simulation.objects.manageable_by(request.user), pk=pk)
        try:
            outcome = service(simulation_id=sim.id, actor=request.user, source="web")
        except services.SubmitRefused as exc:
            messages.error(request, exc.message)
        else:
            if outcome == Simulation.Status.AWAITING_APPROVAL:
                messages.warning(request, AWAITING_APPROVAL)
            elif outcome:
                messages.success(request, done)
            else:
                messages.error(request, refused.format(status=sim.get_status_display()))
        return redirect("simulations:detail", pk=sim.id)

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
        messages.error(request, "This configuration is no longer valid: " + "; ".join(e.message for e in exc.errors))
        return redirect("simulations:detail", pk=sim.id)
    messages.success(request, "Cloned into a new draft.")
    return redirect("simulations:detail", pk=clone.id)
