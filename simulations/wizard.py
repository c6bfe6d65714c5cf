"""The new-simulation wizard: six steps (simulations/wizard_forms.py), presets, clones, help.

Thin: the forms collect, `services.config_check` judges (see wizard_forms for which step shows
which key's messages), and the end calls `services.simulation_create` and
`services.simulation_submit`. Each step has its URL (`simulations:wizard_step`); the input of
every step is kept in the session, also when the user jumps back through the step list, so
steps can be revisited without losing anything. Starting points: `?preset=<id>` (everyone's,
mine or my groups'), `?clone=<simulation id>` (one I can see), `?reset`.

Double submission: the review step carries a one-time token (kept in the wizard's session
data). Creating the simulation locks the owner's row, and the token is then recorded against
the new simulation in the shared cache before the transaction commits, so a second POST of the
same token (a double click, a resent form) finds it and redirects to that simulation instead
of creating another.
"""

from __future__ import annotations

import json
import math
import secrets
import uuid
from datetime import datetime
from functools import lru_cache

import yaml
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.datastructures import MultiValueDict
from django.views.decorators.http import require_POST
from formtools.wizard.forms import ManagementForm
from formtools.wizard.views import NamedUrlSessionWizardView, WizardView

from accounts.models import Membership, ResearchGroup
from simulations import catalog, presets, services
from simulations import spec as runspec
from simulations.config import ConfigInvalid, config_to_dict, default_name, parse_config
from simulations.models import Preset, Simulation
from simulations.wizard_forms import FORMS, STEP_TITLES, STEPS, step_of

TOKEN_SECONDS = 24 * 3600  # how long a used token still finds its simulation
AWAITING_APPROVAL = ("Submitted. The run is over its budget for this month, so it waits for an operator's "
                     "approval before it starts; the page below shows the figures.")


# --- Plain helpers (no ORM) ---------------------------------------------------------------------

@lru_cache(maxsize=1)
def coastline_path() -> str:
    """Natural Earth 110m coastlines as one SVG path in lon/lat degrees, on a half-degree
    raster (a map a few hundred pixels wide shows no more), repeated points dropped."""
    from results.coastlines import coastlines

    lon, lat = coastlines()
    parts, previous, pen_down = [], None, False
    for x, y in zip(lon.tolist(), lat.tolist()):
        if math.isnan(x) or math.isnan(y):
            pen_down, previous = False, None
            continue
        point = (round(x * 2) / 2, round(y * 2) / 2)
        if point == previous:
            continue
        parts.append(f"{'L' if pen_down else 'M'}{point[0]:g} {point[1]:g}")
        pen_down, previous = True, point
    return "".join(parts)


def graticule_path(step: int = 30) -> str:
    lines = [f"M{lon} -90V90" for lon in range(-180 + step, 180, step)]
    lines += [f"M-180 {lat}H180" for lat in range(-90 + step, 90, step)]
    return "".join(lines)


def _when(text: str) -> str:
    return text[:10] if text.endswith("00:00:00") else text[:16]


def _day(when) -> str:
    return _when(when.strftime("%Y-%m-%d %H:%M:%S"))


def describe(cfg, *, demo: bool) -> list[str]:
    """The configuration in words, a sentence per concern."""
    model = catalog.MODEL_LABELS[cfg.model]
    option = f" ({', '.join(cfg.options)})" if cfg.options else ""
    if cfg.model == "gchp":
        grid = f"the {cfg.resolution} cubed sphere"
        if cfg.stretch:
            grid += (f", stretched by {cfg.stretch.factor:g} around {cfg.stretch.target_lat:g}°N "
                     f"{cfg.stretch.target_lon:g}°E")
    elif cfg.domain == "global":
        grid = f"{cfg.resolution}, global"
    else:
        where = "a custom box" if cfg.domain == "custom" else f"the {cfg.domain} nested domain"
        grid = (f"{cfg.resolution} over {where} (lon {cfg.lon_range[0]:g} to {cfg.lon_range[1]:g}, "
                f"lat {cfg.lat_range[0]:g} to {cfg.lat_range[1]:g})")
    met = catalog.met_label(cfg.met) + (f", scenario {catalog.SCENARIOS[cfg.scenario]['label']}" if cfg.scenario else "")
    segments = len(runspec.segment_periods(cfg))
    days = (cfg.end - cfg.start).total_seconds() / 86400
    how = f"{cfg.segment_days}-day segments" if cfg.segment_days else "calendar-month segments"
    outputs = "; ".join(f"{o.collection} {o.frequency} ({o.mode}" + (f", files {o.duration}" if o.duration != o.frequency
                                                                     else "") + ")" for o in cfg.outputs)
    compute = cfg.compute
    machine = compute.instance_type or "no instance type chosen (the estimate holds the most expensive option)"
    if cfg.model == "gchp":
        nx, ny = catalog.gchp_decomposition(cfg.cs_res, compute.total_cores) or (0, 0)
        cores = (f"{compute.nodes} node{'s' if compute.nodes > 1 else ''} × {compute.cores_per_node} cores = "
                 f"{compute.total_cores} MPI processes (NX {nx} × NY {ny})")
    else:
        cores = f"{compute.cores_per_node} OpenMP thread{'s' if compute.cores_per_node > 1 else ''}"
    sentences = [
        f"{model} {cfg.simulation}{option} on {grid}, {cfg.levels} levels, {met} meteorology.",
        (f"From {_day(cfg.start)} to {_day(cfg.end)} UTC ({days:g} days) in {segments} "
         f"segment{'s' if segments != 1 else ''} ({how}); transport/chemistry timesteps "
         f"{cfg.transport_timestep_s}/{cfg.chemistry_timestep_s} s."),
        f"Output: {outputs}; the restart file is written at the end of every segment.",
        f"Compute: {machine}, {compute.capacity}, {cores}.",
    ]
    if demo:
        sentences.append("On this installation it runs with the demo model (a radon/lead tracer model), not GEOS-Chem.")
    return sentences


def config_yaml(cfg) -> str:
    """The configuration as YAML the command line and the API accept: the normal form without
    what parse_config fills in by itself (empty keys, automatic durations, time averages, one node
    for Classic), so that it reads as a researcher would write it and parses to the same run."""
    data = {key: value for key, value in config_to_dict(cfg).items() if value not in (None, [], {})}
    for key, when in (("start", cfg.start), ("end", cfg.end)):
        data[key] = when.date() if when.time() == datetime.min.time() else when
    for spec in data["outputs"].values():
        if spec["duration"] == ("daily" if spec["frequency"] in catalog.SUB_DAILY else spec["frequency"]):
            del spec["duration"]
        if spec["mode"] == "time-averaged":
            del spec["mode"]
    data["compute"] = {key: value for key, value in data["compute"].items() if value is not None
                       and not (key == "nodes" and cfg.model == "classic")}
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


# --- Reads for the cost step ------------------------------------------------------------------

def budget_notices(user, group_slug: str, upper) -> list[dict]:
    """The budgets a run of `user` in group `group_slug` spends from, what is left of each this
    month and, when the upper estimate does not fit, what will happen at submit."""
    from costs.budgets import budget_standing
    from costs.models import Budget

    scope = Q(user=user)
    group = ResearchGroup.objects.filter(slug=group_slug, memberships__user=user).first() if group_slug else None
    if group is not None:
        scope |= Q(group=group)
    notices = []
    for budget in Budget.objects.filter(scope).select_related("user", "group").order_by("id"):
        standing = budget_standing(budget)
        over = upper.usd is None or upper.usd > standing.left
        notices.append({"budget": budget, "standing": standing, "left": max(standing.left, 0), "over": over,
                        "refuse": budget.over_limit == Budget.OverLimit.REFUSE})
    return notices


def recommended_picks(cfg, report) -> list[dict]:
    """Each recommendation as values for step 4: instance type, capacity, nodes, cores per node."""
    picks: dict[str, dict] = {}
    for rec in report.recommendations:
        options = [e for e in report.estimates if e.instance_type == rec.instance_type]
        if not options:
            continue
        if rec.kind == "nodes":
            chosen = max(options, key=lambda e: e.nodes)
        else:
            chosen = next((e for e in options if e.nodes == cfg.compute.nodes), options[0])
        value = f"{rec.instance_type}|{rec.capacity}|{chosen.nodes}|{chosen.cores // chosen.nodes}"
        if value in picks:
            picks[value]["kinds"].append(rec.kind)  # one button per option, naming every reason for it
            continue
        picks[value] = {"kinds": [rec.kind], "instance_type": rec.instance_type, "capacity": rec.capacity,
                        "nodes": chosen.nodes, "cores_per_node": chosen.cores // chosen.nodes, "value": value}
    return list(picks.values())


def _created_key(user, token: str) -> str:
    return f"wizard:created:{user.pk}:{token}"


def create_once(*, owner, raw: dict, group: str, token: str, submit: bool) -> tuple[Simulation, str, str]:
    """Create (and submit) the wizard's simulation once per token.

    Returns (simulation, outcome, refusal): outcome "again" when this token already made one,
    else "draft", "queued" or "awaiting_approval"; refusal is a budget's SubmitRefused message
    (the draft stays). Raises ConfigInvalid as simulation_create does."""
    key = _created_key(owner, token)
    with transaction.atomic():
        # One wizard submission of this owner at a time (on SQLite the IMMEDIATE transaction
        # already serialises writers); the second of two finds the first's token below.
        list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True))
        existing = cache.get(key) if token else None
        if existing and Simulation.objects.filter(pk=existing, owner=owner).exists():
            return Simulation.objects.get(pk=existing), "again", ""
        sim = services.simulation_create(owner=owner, raw_config=raw, group=group, source="web")
        if token:
            cache.set(key, str(sim.id), TOKEN_SECONDS)  # before commit: a waiting twin must see it
        outcome, refusal = Simulation.Status.DRAFT, ""
        if submit:
            try:
                outcome = services.simulation_submit(simulation_id=sim.id, actor=owner, source="web") or outcome
            except services.SubmitRefused as exc:
                refusal = exc.message
    return sim, outcome, refusal


def _executable_is_demo(model: str) -> bool:
    return services.executable_for(model) == "demo"


# --- The wizard ------------------------------------------------------------------------------------

class SimulationWizard(LoginRequiredMixin, NamedUrlSessionWizardView):
    form_list = FORMS

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self._fragments: dict[str, dict | None] = {}

    def get_template_names(self):
        return [f"simulations/wizard/{self.steps.current}.html"]

    # --- what is chosen so far ------------------------------------------------------------

    def fragment(self, step: str) -> dict | None:
        """A step's part of the configuration from its stored input; None if missing or invalid."""
        if step not in self._fragments:
            data = self.storage.get_step_data(step)
            form = self.get_form(step, data=data) if data is not None else None
            self._fragments[step] = form.fragment() if form is not None and form.is_valid() else None
        return self._fragments[step]

    def earlier(self, step: str) -> dict | None:
        raw = {}
        for before in STEPS[:STEPS.index(step)]:
            part = self.fragment(before)
            if part is None:
                return None
            raw.update(part)
        return raw

    def first_unfinished(self, step: str) -> str | None:
        return next((before for before in STEPS[:STEPS.index(step)] if self.fragment(before) is None), None)

    def save_step(self, step: str, form) -> None:
        self.storage.set_step_data(step, self.process_step(form))
        for later in STEPS[STEPS.index(step):]:
            self._fragments.pop(later, None)

    def get_form_kwargs(self, step=None):
        return {"earlier": self.earlier(step or self.steps.current), "user": self.request.user}

    # --- GET: start points and steps ---------------------------------------------------------

    def get(self, request, *args, **kwargs):
        step = kwargs.get("step")
        if step is None:
            return self.start(request)
        if step not in self.get_form_list():
            # Includes formtools' "done" URL: creating happens on the review step's POST only.
            return redirect(self.get_step_url(self.steps.current))
        missing = self.first_unfinished(step)
        if missing is not None:
            messages.info(request, f"Complete step {STEPS.index(missing) + 1} ({STEP_TITLES[missing]}) first.")
            return redirect(self.get_step_url(missing))
        self.storage.current_step = step
        return self.render(self.get_form(data=self.storage.get_step_data(step)))

    def start(self, request):
        if "preset" in request.GET:
            preset_id = request.GET["preset"]
            if not preset_id.isdigit():
                raise Http404("no such preset")
            preset = get_object_or_404(Preset.objects.visible_to(request.user), pk=int(preset_id))
            self.start_from(preset.config, group=None)
            messages.info(request, f"Started from the preset “{preset.name}”. Check each step; nothing is created "
                                   "until you submit at the last one.")
        elif "clone" in request.GET:
            try:
                sim_id = uuid.UUID(request.GET["clone"])
            except ValueError:
                raise Http404("no such simulation") from None
            sim = get_object_or_404(Simulation.objects.visible_to(request.user).select_related("group"), pk=sim_id)
            raw = {**sim.config, "name": f"Copy of {sim.name}"[:200]}
            member = sim.group_id and Membership.objects.filter(user=request.user, group_id=sim.group_id).exists()
            self.start_from(raw, group=sim.group.slug if member else None)
            messages.info(request, f"Started from a copy of “{sim.name}”. Change what you need; nothing is created "
                                   "until you submit at the last one.")
        elif "reset" in request.GET:
            self.storage.reset()
        return redirect(self.get_step_url(self.steps.current))

    def start_from(self, raw: dict, *, group: str | None) -> None:
        """Fill every step from a configuration (its normal form when it is still valid)."""
        try:
            cfg = config_to_dict(parse_config(raw))
        except ConfigInvalid:
            cfg = dict(raw)  # kept as it is: each step will say what no longer fits
        if group is None:
            mine = list(ResearchGroup.objects.filter(memberships__user=self.request.user)[:2])
            group = mine[0].slug if len(mine) == 1 else ""
        self.storage.reset()
        for step, form_class in FORMS:
            data = form_class.data_from(cfg)
            if step == "review":
                data["group"] = group
            self.storage.set_step_data(step, {f"{step}-{key}": [str(value)] for key, value in data.items()
                                              if value is not None})
        self.storage.current_step = self.steps.first
        self._fragments.clear()

    # --- POST: store, move, bounce back, finish ------------------------------------------------

    def post(self, *args, **kwargs):
        request = self.request
        management = ManagementForm(request.POST, prefix=self.prefix)
        if not management.is_valid():
            raise SuspiciousOperation("The wizard's management form is missing or has been tampered with.")
        step = management.cleaned_data["current_step"]
        if step not in self.get_form_list():
            return redirect(self.get_step_url(self.steps.first))
        self.storage.current_step = step
        if step == "review":
            created = self.already_created(request.POST.get("review-token", ""))
            if created is not None:
                return created
        form = self.get_form(data=request.POST, files=request.FILES)
        bounced = self.storage.extra_data.setdefault("bounced", {})
        bounced.pop(step, None)
        goto = request.POST.get("wizard_goto_step")
        if step == "cost" and request.POST.get("pick"):
            goto = "compute"  # a recommendation fills step 4 and goes there
        if goto in self.get_form_list():
            self.save_step(step, form)  # what was typed here is kept, valid or not
            if step == "cost" and request.POST.get("pick"):
                self.pick_recommended(request.POST["pick"])
            return redirect(self.get_step_url(goto))
        if form.is_valid():
            self.save_step(step, form)
            if step != self.steps.last:
                return redirect(self.get_step_url(self.get_next_step(step)))
            action = request.POST.get("action")
            if action == "preset":
                return self.save_preset(form)
            if action not in ("submit", "draft"):
                return redirect(self.get_step_url(step))  # Enter in a field: kept, nothing created
            if form.cleaned_data["token"] != self.storage.extra_data.get("token"):
                messages.warning(request, "This page was out of date (the wizard was started again in another "
                                          "window); here is the configuration as it stands now.")
                return redirect(self.get_step_url(step))
            return self.render_done(form, **kwargs)
        self.save_step(step, form)  # kept as typed, so coming back shows it with its messages
        if form.earlier_errors:
            # A choice here does not fit a key chosen earlier: show it where that key is chosen.
            back = min(form.earlier_errors, key=STEPS.index)
            bounced[back] = {"from": step, "errors": [[e.field, e.message] for e in form.earlier_errors[back]]}
            self.storage.current_step = back
            return redirect(self.get_step_url(back))
        return self.render(form)

    def render_done(self, form, **kwargs):
        # formtools' named-URL wizard would redirect to a "done" URL and create on that GET;
        # here creating stays in the POST of the review step.
        return WizardView.render_done(self, form, **kwargs)

    def already_created(self, token: str):
        sim_id = cache.get(_created_key(self.request.user, token)) if token else None
        if sim_id and Simulation.objects.filter(pk=sim_id, owner=self.request.user).exists():
            messages.info(self.request, "This simulation was already created by your first click; here it is.")
            return redirect("simulations:detail", pk=sim_id)
        return None

    def pick_recommended(self, value: str) -> None:
        """Fill step 4 with a recommendation from step 5 ("instance|capacity|nodes|cores")."""
        parts = value.split("|")
        if len(parts) != 4:
            return
        stored = self.storage.get_step_data("compute") or MultiValueDict()
        data = {key: list(values) for key, values in stored.lists()}
        for name, item in zip(("instance_type", "capacity", "nodes", "cores_per_node"), parts):
            data[f"compute-{name}"] = [item]
        self.storage.set_step_data("compute", data)
        self._fragments.clear()
        messages.info(self.request, f"Step 4 now has {parts[0]} on {parts[1]} capacity; check it and go on.")

    def save_preset(self, form):
        raw = {**self.earlier("review"), **form.fragment()}
        name = form.cleaned_data["preset_name"] or form.config.name
        scope = form.cleaned_data["preset_scope"]
        try:
            preset, created = presets.preset_save(actor=self.request.user, name=name, raw_config=raw,
                                                  group_slug=scope, description="Saved from the wizard.")
        except presets.PresetRefused as exc:
            messages.error(self.request, f"Not saved as a preset: {exc.message}")
        else:
            verb = "Saved" if created else "Replaced"
            messages.success(self.request, f"{verb} the preset “{preset.name}” ({preset.scope_label}); "
                                           "New simulation lists it as a starting point.")
        return redirect(self.get_step_url("review"))

    def done(self, form_list, form_dict=None, **kwargs):
        raw = {}
        for form in form_list:
            raw.update(form.fragment())
        review = form_dict["review"]
        request = self.request
        try:
            sim, outcome, refusal = create_once(
                owner=request.user, raw=raw, group=review.cleaned_data["group"] or "",
                token=review.cleaned_data["token"], submit=request.POST.get("action") != "draft")
        except ConfigInvalid as exc:
            messages.error(request, "Not created: " + "; ".join(e.message for e in exc.errors))
            return redirect(self.get_step_url("review"))
        if outcome == "again":
            messages.info(request, "This simulation was already created by your first click; here it is.")
        elif refusal:
            messages.error(request, f"Saved as a draft, not submitted. {refusal}")
        elif outcome == Simulation.Status.AWAITING_APPROVAL:
            messages.warning(request, AWAITING_APPROVAL)
        elif outcome == Simulation.Status.DRAFT:
            messages.success(request, "Draft saved; submit it from this page when ready.")
        else:
            messages.success(request, "Simulation submitted.")
        return redirect("simulations:detail", pk=sim.id)

    # --- what each page shows ----------------------------------------------------------------

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        step = self.steps.current
        bounce = self.storage.extra_data.get("bounced", {}).get(step)
        if bounce and form.is_bound:
            form.is_valid()
            for key, message in bounce["errors"]:
                form.add_error(form.field_for(key), message)
            context["bounce"] = {"step": STEPS.index(bounce["from"]) + 1, "title": STEP_TITLES[bounce["from"]],
                                 "name": bounce["from"]}
        model = (form.earlier or {}).get("model") or "classic"
        context.update({
            "step": step, "step_number": STEPS.index(step) + 1, "step_title": STEP_TITLES[step],
            "step_list": self.step_list(step), "model": model, "demo": _executable_is_demo(model),
            "next_title": STEP_TITLES.get(self.get_next_step(step) or "", ""),
            "docs": {"gc": "https://geos-chem.readthedocs.io/en/latest/", "gchp": "https://gchp.readthedocs.io/en/latest/"},
        })
        getattr(self, f"context_{step}")(context, form)
        return context

    def step_list(self, current: str) -> list[dict]:
        items = []
        reachable = True
        for number, name in enumerate(STEPS, start=1):
            done = self.fragment(name) is not None
            items.append({"name": name, "number": number, "title": STEP_TITLES[name], "current": name == current,
                          "done": done and name != current, "reachable": reachable})
            reachable = reachable and done
        return items

    def context_type(self, context, form):
        user = self.request.user
        context["presets"] = Preset.objects.visible_to(user).select_related("group", "owner")
        context["recent"] = Simulation.objects.visible_to(user).filter(owner=user)[:5]
        context["simulation_models"] = form.simulation_models()

    def context_domain(self, context, form):
        box = form.box() if "domain" in form.fields else None
        rect = None
        if box is not None and box[1] > box[0] and box[3] > box[2]:
            rect = {"x": box[0], "y": box[2], "w": box[1] - box[0], "h": box[3] - box[2]}
        context.update({"coastlines": coastline_path(), "graticule": graticule_path(), "box": box, "box_rect": rect,
                        "region_boxes": form.region_boxes() if "domain" in form.fields else {},
                        "region_rows": form.region_rows(),
                        "cube_rows": form.cube_rows() if self.earlier("domain").get("model") == "gchp" else []})

    def context_science(self, context, form):
        rows = form.output_rows()
        context.update({"featured_rows": [r for r in rows if r["featured"] or r["frequency"].value()],
                        "other_rows": [r for r in rows if not (r["featured"] or r["frequency"].value())],
                        "date_rules": form.date_rules(),
                        "current_met": form["met"].value(),
                        "demo_collections": ", ".join(catalog.DEMO_COLLECTIONS)})
        context["others_open"] = any(r["frequency"].errors or r["duration"].errors for r in context["other_rows"])

    def context_compute(self, context, form):
        context.update({
            "instances": {it.name: {"cores": it.physical_cores, "memory": it.memory_gib, "arch": it.architecture,
                                    "label": it.get_architecture_display(), "efa": it.efa} for it in form.instances},
            "gchp": form.gchp_limits(), "spot_max": settings.SPOT_MAX_INTERRUPTIONS,
        })

    def _config_so_far(self, form):
        raw = dict(form.earlier or {})
        if form.is_bound and form.is_valid():
            raw.update(form.fragment())
        cfg, errors = services.config_check(raw)
        return cfg, errors

    def context_cost(self, context, form):
        from costs.selectors import estimate_configuration, upper_cost
        from costs.views import estimate_context

        cfg, errors = self._config_so_far(form)
        context["config_errors"] = errors
        if cfg is None:
            return
        report = estimate_configuration(cfg, region=settings.AWS_REGION, demo=_executable_is_demo(cfg.model))
        upper = upper_cost(cfg, report)
        stored = self.storage.get_step_data("review")
        group = stored.get("review-group", "") if stored is not None else self._default_group()
        context.update(estimate_context(cfg, report))
        context["chosen_row"] = next((row for row in context["rows"] if row["chosen"]), None)
        context.update({"cfg": cfg, "upper": upper, "notices": budget_notices(self.request.user, group, upper),
                        "picks": recommended_picks(cfg, report), "group_slug": group})

    def _default_group(self) -> str:
        mine = list(ResearchGroup.objects.filter(memberships__user=self.request.user)[:2])
        return mine[0].slug if len(mine) == 1 else ""

    def context_review(self, context, form):
        token = self.storage.extra_data.get("token")
        if not token:
            token = self.storage.extra_data["token"] = secrets.token_urlsafe(18)
        cfg, errors = self._config_so_far(form)
        context.update({"token": token, "config_errors": errors, "cfg": cfg})
        if cfg is not None:
            form.fields["name"].widget.attrs["placeholder"] = default_name(cfg)
            context.update({"summary": describe(cfg, demo=_executable_is_demo(cfg.model)), "yaml": config_yaml(cfg),
                            "config_json": json.dumps(config_to_dict(cfg))})


wizard_view = SimulationWizard.as_view(url_name="simulations:wizard_step", done_step_name="done")


# --- Presets from a simulation, and the help page ----------------------------------------------------

@login_required
@require_POST
def preset_save(request, pk):
    """Save a visible simulation's configuration as my preset, or (group=<slug>) my group's."""
    sim = get_object_or_404(Simulation.objects.visible_to(request.user), pk=pk)
    try:
        preset, created = presets.preset_save(
            actor=request.user, name=request.POST.get("name") or sim.name, raw_config=sim.config,
            group_slug=request.POST.get("group", ""), description=f"Saved from the simulation {sim.name} ({sim.short_id}).")
    except presets.PresetRefused as exc:
        messages.error(request, f"Not saved as a preset: {exc.message}")
    else:
        verb = "Saved" if created else "Replaced"
        messages.success(request, f"{verb} the preset “{preset.name}” ({preset.scope_label}).")
    return redirect("simulations:detail", pk=sim.id)


def help_page(request):
    return render(request, "help.html", {
        "spot_max": settings.SPOT_MAX_INTERRUPTIONS, "demo": _executable_is_demo("classic") or _executable_is_demo("gchp"),
        "backend": settings.COMPUTE_BACKEND, "region": settings.AWS_REGION, "steps": [STEP_TITLES[s] for s in STEPS],
    })


__all__ = ["SimulationWizard", "wizard_view", "preset_save", "help_page", "describe", "config_yaml", "step_of"]
