"""Benchmark campaigns: configurations x instance types the platform runs to measure itself.

The file format is described in benchmarks/campaigns/README.md. Three layers:

- pure functions (no ORM): `campaign_plan` validates a campaign file against an instance
  catalog and expands it into one run configuration per configuration x instance type;
  `architecture_summary` and `report_plot_html` turn report rows into medians and a chart;
- the service `campaign_launch` creates the campaign, its simulations and BenchmarkRun rows in
  one transaction, then submits each run;
- the selector `campaign_report` reads every run's figures in a constant number of queries.
"""

from __future__ import annotations

import difflib
import json
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum

from costs.models import BenchmarkCampaign, BenchmarkRun, InstanceType, JobCost
from simulations import catalog
from simulations.config import NAME_MAX_LENGTH, ConfigInvalid, FieldError, parse_config
from simulations.models import Job, SimulationEvent
from simulations.services import SubmitRefused, config_check, record_event, simulation_create, simulation_submit

CAMPAIGN_KEYS = ("name", "description", "capacity", "instance_types", "configurations")
CONFIGURATION_KEYS = ("label", "config")
# The campaign sets these for every run; a configuration that set them too would be overridden.
CAMPAIGN_COMPUTE_KEYS = {
    "instance_type": "the campaign sets each run's instance type from instance_types",
    "cores_per_node": "the campaign sets cores_per_node from each instance type's physical cores",
    "capacity": "set capacity once, at the top of the campaign file",
}
LABEL_MAX_LENGTH = 200  # BenchmarkRun.label
# The event a budget's refusal leaves on a run's timeline; the report reads it back.
NOT_SUBMITTED = "not submitted (benchmark campaign): "
DEMO_LABEL = "demo model, not GEOS-Chem"
GEOSCHEM_LABEL = "GEOS-Chem"


class CampaignInvalid(Exception):
    """Every problem found in a campaign file; nothing was created."""

    def __init__(self, problems: list[FieldError]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field or '(file)'}: {p.message}" for p in self.problems))


@dataclass(frozen=True)
class InstanceHardware:
    """What a campaign needs to know of an instance type."""

    name: str
    architecture: str
    physical_cores: int


@dataclass(frozen=True)
class PlannedRun:
    label: str
    instance_type: str
    architecture: str
    config: dict  # a configuration in the CLI's format, ready for simulation_create


@dataclass(frozen=True)
class CampaignPlan:
    name: str
    description: str
    capacity: str
    runs: tuple[PlannedRun, ...]


# --- Parsing and validation (pure) ----------------------------------------------------------------

def parse_problems(raw: dict) -> list[FieldError]:
    """GEOS-Chem's rules for one run configuration (parse_config), as a list."""
    try:
        parse_config(raw)
    except ConfigInvalid as exc:
        return list(exc.errors)
    return []


def gchp_cores_per_node(cs: int, nodes: int, physical_cores: int) -> int | None:
    """The most cores per node, up to `physical_cores`, over which GCHP can split CS_RES `cs`."""
    for cores in range(physical_cores, 0, -1):
        if catalog.gchp_decomposition(cs, nodes * cores):
            return cores
    return None


def campaign_plan(raw, *, instance_types: Mapping[str, InstanceHardware],
                  check: Callable[[dict], list[FieldError]] = parse_problems
                  ) -> tuple[CampaignPlan | None, list[FieldError]]:
    """Validate a campaign file (already loaded from YAML) and expand it into runs.

    Returns (plan, []) or (None, every problem). `instance_types` is the catalog; `check`
    validates one expanded run configuration (the service passes the platform's full check,
    which adds the compute backend's limits). Field paths are dotted, from the file's top.
    """
    if not isinstance(raw, Mapping):
        return None, [FieldError("", "a campaign file is a mapping with name, instance_types and configurations")]
    problems: list[FieldError] = []
    for key in raw:
        if key not in CAMPAIGN_KEYS:
            problems.append(FieldError(str(key), f"unknown key{_did_you_mean(str(key), CAMPAIGN_KEYS)}; "
                                                 f"a campaign has {', '.join(CAMPAIGN_KEYS)}"))
    name = _text(raw.get("name"), "name", LABEL_MAX_LENGTH, problems, required=True)
    description = raw.get("description") or ""
    if not isinstance(description, str):
        problems.append(FieldError("description", f"description must be text (got {description!r})"))
    capacity = _capacity(raw.get("capacity"), problems)
    types = _instance_types(raw.get("instance_types"), instance_types, problems)
    runs = _configurations(raw.get("configurations"), name=name, capacity=capacity, types=types, check=check,
                           problems=problems)
    if problems:
        return None, problems
    return CampaignPlan(name=name, description=description, capacity=capacity, runs=tuple(runs)), []


def _did_you_mean(word: str, choices) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _text(value, field: str, max_length: int, problems: list[FieldError], *, required: bool) -> str | None:
    if value is None:
        if required:
            problems.append(FieldError(field, f"{field} is required"))
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(FieldError(field, f"{field} must be non-empty text (got {value!r})"))
        return None
    if len(value.strip()) > max_length:
        problems.append(FieldError(field, f"{field} must be at most {max_length} characters (got {len(value)})"))
        return None
    return value.strip()


def _capacity(value, problems: list[FieldError]) -> str | None:
    if value is None:
        return "on-demand"
    word = re.sub(r"[\s\-_]", "", value.lower()) if isinstance(value, str) else ""
    capacity = {"spot": "spot", "ondemand": "on-demand"}.get(word)
    if capacity is None:
        problems.append(FieldError("capacity", f"choose spot or on-demand (got {value!r})"))
    return capacity


def _instance_types(value, known: Mapping[str, InstanceHardware], problems: list[FieldError]) -> list[InstanceHardware]:
    """The known instance types listed (unknown and repeated ones are problems)."""
    if not isinstance(value, list) or not value:
        problems.append(FieldError("instance_types", ("list at least one instance type, e.g. "
                                                      "instance_types: [c7g.16xlarge, c7i.16xlarge]")))
        return []
    found, seen = [], set()
    for index, name in enumerate(value):
        field = f"instance_types[{index}]"
        if not isinstance(name, str) or name.strip() not in known:
            hint = _did_you_mean(name, known) if isinstance(name, str) else ""
            problems.append(FieldError(field, f"unknown instance type {name!r}{hint}; the catalog (Instance types "
                                              "in the admin) lists the types the platform can run"))
        elif name.strip() in seen:
            problems.append(FieldError(field, f"{name.strip()} is listed twice"))
        else:
            seen.add(name.strip())
            found.append(known[name.strip()])
    return found


def _configurations(value, *, name, capacity, types, check, problems) -> list[PlannedRun]:
    if not isinstance(value, list) or not value:
        problems.append(FieldError("configurations", "list at least one configuration: - {label: ..., config: {...}}"))
        return []
    runs: list[PlannedRun] = []
    labels: dict[str, int] = {}
    for index, entry in enumerate(value):
        where = f"configurations[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(FieldError(where, "each configuration is a mapping: {label: ..., config: {...}}"))
            continue
        for key in entry:
            if key not in CONFIGURATION_KEYS:
                problems.append(FieldError(f"{where}.{key}", f"unknown key{_did_you_mean(str(key), CONFIGURATION_KEYS)}"
                                                             "; a configuration has label and config"))
        label = _text(entry.get("label"), f"{where}.label", LABEL_MAX_LENGTH, problems, required=True)
        if label is not None and label in labels:
            problems.append(FieldError(f"{where}.label", (f"the label '{label}' is already used by "
                                                          f"configurations[{labels[label]}]; labels must be unique")))
        elif label is not None:
            labels[label] = index
        config = entry.get("config")
        if not isinstance(config, Mapping):
            problems.append(FieldError(f"{where}.config", ("config must be a mapping with the keys run_simulation "
                                                           f"takes (got {config!r})")))
            continue
        runs += _expand(dict(config), where=f"{where}.config", campaign=name, label=label, capacity=capacity,
                        types=types, check=check, problems=problems)
    return runs


def _expand(config: dict, *, where, campaign, label, capacity, types, check, problems) -> list[PlannedRun]:
    """One configuration x every instance type; problems found go to `problems`."""
    compute = config.get("compute")
    if compute is None:
        compute = {}
    if isinstance(compute, Mapping):
        compute = dict(compute)
        for key, why in CAMPAIGN_COMPUTE_KEYS.items():
            if compute.pop(key, None) is not None:
                problems.append(FieldError(f"{where}.compute.{key}", f"leave {key} out: {why}"))
        # Checked first with the campaign's capacity and the default cores, so that a problem
        # of the configuration itself is reported once, not once per instance type.
        config["compute"] = {**compute, "capacity": capacity or "on-demand"}
    try:
        cfg = parse_config(config)
    except ConfigInvalid as exc:
        problems.extend(FieldError(f"{where}.{e.field}" if e.field else where, e.message) for e in exc.errors)
        return []
    if campaign is None or label is None or capacity is None:
        return []  # reported above; nothing to expand
    runs, errors_by_type = [], {}
    for instance in types:
        if cfg.model == "gchp":
            cores = gchp_cores_per_node(cfg.cs_res, cfg.compute.nodes, instance.physical_cores)
            if cores is None:
                problems.append(FieldError(f"{where}.compute", (
                    f"GCHP cannot split {cfg.resolution} over {cfg.compute.nodes} node(s) of at most "
                    f"{instance.physical_cores} cores ({instance.name})")))
                continue
        else:
            cores = instance.physical_cores
        raw = {**config, "name": f"{campaign}: {label} on {instance.name}"[:NAME_MAX_LENGTH],
               "compute": {**config["compute"], "instance_type": instance.name, "cores_per_node": cores}}
        errors = check(raw)
        if errors:
            errors_by_type[instance.name] = errors
        else:
            runs.append(PlannedRun(label=label, instance_type=instance.name, architecture=instance.architecture,
                                   config=raw))
    problems.extend(_merge_per_type(errors_by_type, len(types), where))
    return runs


def _merge_per_type(errors_by_type: dict[str, list[FieldError]], type_count: int, where: str) -> list[FieldError]:
    """One problem per distinct error, naming the instance types it applies to unless it is all."""
    merged: dict[FieldError, list[str]] = {}
    for name, errors in errors_by_type.items():
        for error in errors:
            merged.setdefault(error, []).append(name)
    out = []
    for error, names in merged.items():
        on = "" if len(names) == type_count else f" (on {', '.join(names)})"
        out.append(FieldError(f"{where}.{error.field}" if error.field else where, error.message + on))
    return out


def json_safe(value):
    """The file as read, storable as JSON: YAML dates and datetimes become ISO text."""
    return json.loads(json.dumps(value, default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o)))


# --- Launching --------------------------------------------------------------------------------------

def instance_catalog() -> dict[str, InstanceHardware]:
    """The InstanceType table, as a campaign needs it (one query)."""
    return {name: InstanceHardware(name, architecture, cores) for name, architecture, cores in
            InstanceType.objects.values_list("name", "architecture", "physical_cores")}


def platform_problems(raw: dict) -> list[FieldError]:
    """The platform's whole check of one run configuration: GEOS-Chem's rules and the backend's limits."""
    return config_check(raw)[1]


def campaign_launch(*, definition: dict, actor, source: str = "cli") -> BenchmarkCampaign:
    """Create a campaign from its file and submit every run; raises CampaignInvalid, creating nothing.

    The whole file is validated first (keys, instance types against the catalog, every run's
    configuration with the compute backend's limits, unique labels, an unused campaign name)
    and every problem is reported at once. Then one transaction creates the campaign, one draft
    simulation per configuration x instance type (owned by `actor`) and its BenchmarkRun. Each
    run is then submitted; a budget's refusal (SubmitRefused) leaves that run a draft with a
    NOT_SUBMITTED event on its timeline, which campaign_report shows, and the others go on.
    """
    plan, problems = campaign_plan(definition, instance_types=instance_catalog(), check=platform_problems)
    name = definition.get("name") if isinstance(definition, Mapping) else None
    if isinstance(name, str) and BenchmarkCampaign.objects.filter(name=name.strip()).exists():
        problems.append(_name_taken(name.strip()))
    if problems:
        raise CampaignInvalid(problems)
    try:
        with transaction.atomic():
            campaign = BenchmarkCampaign.objects.create(name=plan.name, description=plan.description,
                                                        definition=json_safe(definition), created_by=actor)
            for run in plan.runs:
                sim = simulation_create(owner=actor, raw_config=run.config, source=source)
                BenchmarkRun.objects.create(campaign=campaign, simulation=sim, label=run.label,
                                            instance_type=run.instance_type)
    except IntegrityError:
        # Another launch took the name between the check and the insert.
        raise CampaignInvalid([_name_taken(plan.name)]) from None
    except ConfigInvalid as exc:
        raise CampaignInvalid(exc.errors) from None
    for run in campaign.runs.order_by("id"):
        try:
            simulation_submit(simulation_id=run.simulation_id, actor=actor, source=source)
        except SubmitRefused as exc:
            record_event(run.simulation_id, source=source, actor=actor, message=NOT_SUBMITTED + exc.message)
    return campaign


def _name_taken(name: str) -> FieldError:
    return FieldError("name", (f"a campaign called '{name}' already exists; give this one another name "
                               "(its report: manage.py benchmark_report)"))


# --- The report --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRow:
    """One run of a campaign and what it measured."""

    label: str
    instance_type: str
    architecture: str
    simulation_id: str
    status: str
    note: str  # why it failed, or why it was not submitted
    demo: bool
    simulated_days: float  # from the SUCCEEDED jobs' metrics
    days_per_day: float | None  # simulated days / model wall-clock days, SUCCEEDED jobs only
    wall_hours: float  # hours its jobs ran, every attempt (what the cost is for)
    cost_usd: Decimal  # every job, failed attempts included
    notional: bool  # priced as if on AWS: the local backend bills nothing
    usd_per_simulated_day: Decimal | None

    @property
    def model_label(self) -> str:
        return DEMO_LABEL if self.demo else GEOSCHEM_LABEL

    def as_dict(self) -> dict:
        return {"label": self.label, "instance_type": self.instance_type, "architecture": self.architecture,
                "simulation_id": self.simulation_id, "status": self.status, "note": self.note,
                "model": self.model_label, "demo_model": self.demo, "simulated_days": self.simulated_days,
                "days_per_day": self.days_per_day, "wall_hours": self.wall_hours,
                "cost_usd": float(self.cost_usd), "cost_notional": self.notional,
                "usd_per_simulated_day": None if self.usd_per_simulated_day is None
                else float(self.usd_per_simulated_day)}


@dataclass(frozen=True)
class ArchitectureSummary:
    architecture: str
    runs: int
    median_days_per_day: float | None
    median_usd_per_simulated_day: Decimal | None

    def as_dict(self) -> dict:
        return {"architecture": self.architecture, "runs": self.runs, "median_days_per_day": self.median_days_per_day,
                "median_usd_per_simulated_day": None if self.median_usd_per_simulated_day is None
                else float(self.median_usd_per_simulated_day)}


def campaign_report(*, campaign: BenchmarkCampaign) -> list[ReportRow]:
    """Every run of `campaign` with its figures, in label then instance type order.

    Five queries whatever the number of runs and jobs: the runs with their simulations, the
    SUCCEEDED jobs' metrics, the cost sums, the architectures and the refusal events.
    """
    runs = list(campaign.runs.select_related("simulation").order_by("label", "instance_type"))
    ids = [run.simulation_id for run in runs]
    measured: dict = {sim_id: [0.0, 0.0] for sim_id in ids}  # simulated days, model wall seconds
    for sim_id, metrics in Job.objects.filter(simulation_id__in=ids, state=Job.State.SUCCEEDED).values_list(
            "simulation_id", "metrics"):
        metrics = metrics or {}
        measured[sim_id][0] += float(metrics.get("simulated_days") or 0)
        measured[sim_id][1] += float(metrics.get("model_wall_seconds") or metrics.get("wall_seconds") or 0)
    costs = {row["simulation_id"]: row for row in JobCost.objects.filter(simulation_id__in=ids).values(
        "simulation_id").annotate(usd=Sum("usd"), hours=Sum("hours"), notional=Count("id", filter=Q(notional=True)))}
    architectures = dict(InstanceType.objects.filter(name__in={run.instance_type for run in runs}).values_list(
        "name", "architecture"))
    refusals = dict(SimulationEvent.objects.filter(simulation_id__in=ids, message__startswith=NOT_SUBMITTED)
                    .order_by("created_at", "id").values_list("simulation_id", "message"))  # the latest wins
    rows = []
    for run in runs:
        sim = run.simulation
        days, wall_seconds = measured[sim.id]
        cost = costs.get(sim.id, {})
        usd = Decimal(cost.get("usd") or 0)
        note = sim.status_reason
        if sim.status == sim.Status.DRAFT and sim.id in refusals:
            note = refusals[sim.id][len(NOT_SUBMITTED):]
        rows.append(ReportRow(
            label=run.label, instance_type=run.instance_type,
            architecture=architectures.get(run.instance_type, "unknown"), simulation_id=str(sim.id),
            status=sim.status, note=note, demo=sim.is_demo, simulated_days=round(days, 4),
            days_per_day=round(days * 86400.0 / wall_seconds, 2) if days > 0 and wall_seconds > 0 else None,
            wall_hours=round(float(cost.get("hours") or 0), 6), cost_usd=usd, notional=bool(cost.get("notional")),
            usd_per_simulated_day=(usd / Decimal(str(days))).quantize(Decimal("0.000001")) if days > 0 else None))
    return rows


def architecture_summary(rows: list[ReportRow]) -> list[ArchitectureSummary]:
    """Per architecture: how many runs, the median days/day and the median $ per simulated day
    over the runs that measured them."""
    summaries = []
    for architecture in sorted({row.architecture for row in rows}):
        mine = [row for row in rows if row.architecture == architecture]
        speeds = [row.days_per_day for row in mine if row.days_per_day is not None]
        prices = [row.usd_per_simulated_day for row in mine if row.usd_per_simulated_day is not None]
        summaries.append(ArchitectureSummary(
            architecture=architecture, runs=len(mine),
            median_days_per_day=statistics.median(speeds) if speeds else None,
            median_usd_per_simulated_day=statistics.median(prices) if prices else None))
    return summaries


# --- The chart ----------------------------------------------------------------------------------------

ARCHITECTURE_COLOURS = {"arm64": "#1b9e77", "x86_64": "#d95f02", "unknown": "#7f7f7f"}


def report_plot_html(rows: list[ReportRow], *, title: str) -> str:
    """A standalone HTML page with two bar charts per run (days/day, $ per simulated day),
    coloured by architecture. Bokeh's JavaScript is inlined: the file works offline."""
    from bokeh.embed import file_html
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, FactorRange, HoverTool
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    charts = []
    for attribute, axis, tooltip, number in (
            ("days_per_day", "simulated days per wall-clock day (days/day)", "days/day", "@value{0,0.0}"),
            ("usd_per_simulated_day", "cost per simulated day (USD)", "$ per simulated day", "$@value{0,0.0000}")):
        measured = [row for row in rows if getattr(row, attribute) is not None]
        factors = [(row.label, row.instance_type) for row in measured]
        source = ColumnDataSource({
            "x": factors, "value": [float(getattr(row, attribute)) for row in measured],
            "instance_type": [row.instance_type for row in measured], "label": [row.label for row in measured],
            "architecture": [row.architecture for row in measured],
            "colour": [ARCHITECTURE_COLOURS.get(row.architecture, ARCHITECTURE_COLOURS["unknown"]) for row in measured],
        })
        chart = figure(x_range=FactorRange(*factors), height=360, width=max(480, 90 * len(factors) + 160),
                       title=f"{title}: {tooltip}" + ("" if measured else " (no run has measured it yet)"),
                       toolbar_location=None, tools="")
        chart.vbar(x="x", top="value", width=0.8, source=source, fill_color="colour", line_color="colour",
                   legend_field="architecture")
        chart.add_tools(HoverTool(tooltips=[("run", "@label on @instance_type (@architecture)"), (tooltip, number)]))
        chart.y_range.start = 0
        chart.xaxis.axis_label = "configuration / instance type"
        chart.yaxis.axis_label = axis
        chart.xaxis.major_label_orientation = 0.9
        chart.legend.location = "top_right"
        charts.append(chart)
    return file_html(column(*charts), resources=INLINE, title=title)
