"""Reads for the researcher's pages: the dashboard's rows and the monitor's state.

Everything starts from `Simulation.objects.visible_to(user)` (the caller passes a simulation it
found through it), and every function runs a constant number of queries whatever the number of
rows, jobs, events or samples: sums are made in the database, running jobs are priced with one
PriceBook for all of them, never a query per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

from django.db.models import DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import ResearchGroup
from costs import services as cost_services, spending
from costs.models import JobCost, StorageCharge
from simulations.backends import get_backend
from simulations.models import Job, Simulation, SimulationEvent

Status = Simulation.Status
_MONEY = DecimalField(max_digits=14, decimal_places=6)
ZERO = Decimal(0)
PAGE_SIZE = 25
EVENTS_SHOWN = 100  # the monitor's timeline: the newest this many at first, then what follows them
SEARCH_MAX = 100

# The dashboard's status filter: a group name -> (its label, the statuses in it).
STATUS_GROUPS = {
    "active": ("active", Simulation.ACTIVE_STATUSES),
    "finished": ("finished", (Status.SUCCEEDED,)),
    "failed": ("failed or cancelled", (Status.FAILED, Status.CANCELLED)),
    "drafts": ("drafts", (Status.DRAFT,)),
    "awaiting_approval": ("awaiting approval", (Status.AWAITING_APPROVAL,)),
}
MINE = "mine"
GROUP_PREFIX = "group:"
_ID_PREFIX = re.compile(r"[0-9a-fA-F-]{4,36}")


# --- the dashboard ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DashboardFilters:
    """The dashboard's GET parameters once checked; "" means no filter."""

    status: str = ""
    model: str = ""
    who: str = ""  # "", "mine" or "group:<slug>" of a group the user belongs to
    q: str = ""
    ignored: tuple[str, ...] = ()  # the parameters whose values were not understood, for a notice

    @property
    def any(self) -> bool:
        return bool(self.status or self.model or self.who or self.q)


def dashboard_filters(params, *, groups: list[ResearchGroup]) -> DashboardFilters:
    """Read status, model, who and q from a QueryDict. A value that is not one of the choices
    (a group the user is not in, say) is dropped and named in `ignored`: it can only narrow what
    `visible_to` allows, never widen it, but a silent no-op would read as "nothing matches"."""
    wanted = {name: (params.get(name) or "").strip() for name in ("status", "model", "who", "q")}
    allowed = {
        "status": set(STATUS_GROUPS),
        "model": set(Simulation.Model.values),
        "who": {MINE} | {GROUP_PREFIX + g.slug for g in groups},
    }
    ignored = tuple(name for name, choices in allowed.items() if wanted[name] and wanted[name] not in choices)
    for name in ignored:
        wanted[name] = ""
    wanted["q"] = wanted["q"][:SEARCH_MAX]
    return DashboardFilters(**wanted, ignored=ignored)


def user_groups(user) -> list[ResearchGroup]:
    """The research groups `user` belongs to (any role), by name. One query."""
    return list(ResearchGroup.objects.filter(memberships__user=user).order_by("name"))


def dashboard_simulations(user, filters: DashboardFilters) -> QuerySet:
    """The simulations `user` may see, filtered, newest first, with owner and group joined and
    `finished_cost_usd` (the sum of its JobCosts and StorageCharges, as the monitor's "cost so
    far") and `cost_notional` (one of them is notional) annotated. One query per evaluation
    (a lazy QuerySet: paginate it)."""
    sims = Simulation.objects.visible_to(user)
    if filters.status:
        sims = sims.filter(status__in=STATUS_GROUPS[filters.status][1])
    if filters.model:
        sims = sims.filter(model=filters.model)
    if filters.who == MINE:
        sims = sims.filter(owner=user)
    elif filters.who.startswith(GROUP_PREFIX):
        sims = sims.filter(group__slug=filters.who[len(GROUP_PREFIX):])
    if filters.q:
        match = Q(name__icontains=filters.q)
        if _ID_PREFIX.fullmatch(filters.q):
            # The short id the pages show, or the whole id, with or without its hyphens.
            match |= Q(id__istartswith=filters.q)
        sims = sims.filter(match)
    jobs = JobCost.objects.filter(simulation=OuterRef("pk")).order_by()
    storage = StorageCharge.objects.filter(simulation=OuterRef("pk")).order_by()
    return (sims.select_related("owner", "group")
            .annotate(finished_cost_usd=_sum(jobs) + _sum(storage),
                      cost_notional=Exists(jobs.filter(notional=True)) | Exists(storage.filter(notional=True)))
            .order_by("-created_at", "-id"))


def _sum(rows: QuerySet) -> Coalesce:
    """The sum of `rows`' usd (rows of one simulation, by OuterRef), 0 when there are none."""
    total = rows.values("simulation").annotate(total=Sum("usd")).values("total")
    return Coalesce(Subquery(total, output_field=_MONEY), Value(ZERO, output_field=_MONEY))


@dataclass(frozen=True)
class DashboardRow:
    sim: Simulation
    finished_usd: Decimal  # what its finished jobs and its storage cost (JobCosts, StorageCharges)
    running_usd: Decimal  # what its running jobs have cost so far
    notional: bool  # some of it ran on the local backend: priced as if on AWS, not billed

    @property
    def cost_usd(self) -> Decimal:
        return self.finished_usd + self.running_usd


def dashboard_rows(sims: list[Simulation], *, now: datetime | None = None) -> list[DashboardRow]:
    """A page of `dashboard_simulations` as rows with their cost so far: one query for the
    page's running jobs, plus the PriceBook's when some have started."""
    active_ids = [sim.id for sim in sims if sim.is_active]
    jobs = list(Job.objects.active().filter(simulation_id__in=active_ids, started_at__isnull=False)) \
        if active_ids else []
    running = cost_services.running_costs(jobs, now=now)
    local = {job.simulation_id for job in jobs if job.backend != "batch"}
    return [DashboardRow(sim, sim.finished_cost_usd, running.get(sim.id, ZERO),
                         sim.cost_notional or (sim.id in local and sim.id in running)) for sim in sims]


# --- the monitor -----------------------------------------------------------------------------------

def allowed_actions(sim: Simulation, *, can_manage: bool) -> dict[str, bool]:
    """Which of the page's actions apply now; the services check again when one is posted."""
    return {
        "submit": can_manage and sim.status == Status.DRAFT,
        "cancel": can_manage and not sim.is_final,
        "retry": can_manage and sim.status in (Status.FAILED, Status.CANCELLED),
        "clone": True,
    }


def can_manage(sim: Simulation, user) -> bool:
    """One query."""
    return Simulation.objects.manageable_by(user).filter(pk=sim.pk).exists()


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(dt_timezone.utc).isoformat() if when else None


def event_row(event: SimulationEvent) -> dict:
    """An event as the timeline shows it; `status_change` ones are drawn prominently."""
    return {
        "id": event.id,
        "at": _iso(event.created_at),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "status_change": bool(event.to_status),
        "message": event.message,
        "who": event.actor.email if event.actor_id and event.actor else "",
        "source": event.source,
    }


def job_row(job: Job) -> dict:
    return {
        "name": job.name,
        "segment": job.segment,
        "attempt": job.attempt,
        "state": job.state,
        "is_final": job.is_final,
        "period_start": _iso(job.period_start),
        "period_end": _iso(job.period_end),
        "submitted_at": _iso(job.submitted_at),
        "started_at": _iso(job.started_at),
        "stopped_at": _iso(job.stopped_at),
        "exit_code": job.exit_code,
        "reason": job.status_reason,
        "interrupted": job.interrupted,
    }


@dataclass(frozen=True)
class Timeline:
    events: list[SimulationEvent]
    earlier: int  # how many older events are not in `events`

    @property
    def last_id(self) -> int:
        return self.events[-1].id if self.events else 0


def timeline(sim: Simulation, *, limit: int = EVENTS_SHOWN) -> Timeline:
    """The newest `limit` events, oldest first, and how many came before them. Two queries."""
    newest = list(sim.events.select_related("actor").order_by("-created_at", "-id")[:limit])
    newest.reverse()
    earlier = sim.events.filter(id__lt=newest[0].id).count() if len(newest) == limit else 0
    return Timeline(newest, earlier)


def events_after(sim: Simulation, after: int, *, limit: int = EVENTS_SHOWN) -> list[SimulationEvent]:
    """The events after the one with id `after`, oldest first (what the page has not shown). One query."""
    return list(sim.events.select_related("actor").filter(id__gt=after).order_by("created_at", "id")[:limit])


def _seconds(start: datetime | None, end: datetime | None) -> float:
    return (end - start).total_seconds() if start and end and end > start else 0.0


def run_eta_seconds(*, live: dict | None, current: Job | None, jobs: list[Job], run_end: datetime) -> float | None:
    """Seconds until the whole run ends: the running segment's ETA from the runner, plus the
    simulated time of the segments after it at the pace of the segments already done (their
    wall time from start to stop per simulated second, which counts start-up and copying), or,
    before any has finished, at the runner's current pace. None while nothing gives a pace."""
    if not live or live.get("eta_seconds") is None or current is None or current.is_final:
        return None
    after = max(_seconds(current.period_end, run_end), 0.0)
    done = [job for job in jobs if job.state == Job.State.SUCCEEDED and job.started_at and job.stopped_at]
    simulated = sum(_seconds(job.period_start, job.period_end) for job in done)
    if simulated > 0:
        wall_per_simulated = sum(_seconds(job.started_at, job.stopped_at) for job in done) / simulated
    elif live.get("days_per_day"):
        wall_per_simulated = 1 / float(live["days_per_day"])  # days per day = simulated s per wall s
    else:
        return None
    return round(float(live["eta_seconds"]) + after * wall_per_simulated, 1)


def run_end(sim: Simulation) -> datetime | None:
    """The simulated end of the whole run (GEOS-Chem's dates are UTC)."""
    try:
        end = datetime.fromisoformat(str(sim.config.get("end")))
    except (TypeError, ValueError):
        return None
    return end if end.tzinfo else end.replace(tzinfo=dt_timezone.utc)


def overall_percent(sim: Simulation, live: dict | None) -> float:
    """The run's percent done, with the running segment's live share when the runner reports it."""
    pct = sim.progress_percent
    if live and isinstance(live.get("percent"), (int, float)) and sim.segments_total and not sim.is_final:
        pct = max(pct, 100 * (sim.segments_done + min(max(live["percent"], 0), 100) / 100) / sim.segments_total)
    return round(min(pct, 100.0), 2)


def _samples(progress: dict | None) -> list[dict]:
    """The runner's CPU and memory samples, only the well-formed ones."""
    rows = []
    for sample in (progress or {}).get("samples") or []:
        if not isinstance(sample, dict) or not isinstance(sample.get("t"), str):
            continue
        cpu, rss = sample.get("cpu_percent"), sample.get("rss_mb")
        if isinstance(cpu, (int, float)) and isinstance(rss, (int, float)):
            rows.append({"t": sample["t"], "cpu_percent": float(cpu), "rss_mb": float(rss)})
    return rows


def _usd(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def cost_json(spent: spending.SimulationCost, running: Decimal, *, running_local: bool) -> dict:
    """Cost so far (finished jobs' JobCosts, storage, and what the running job has cost up to
    now) beside the estimate at submission."""
    estimate = spent.estimate
    return {
        "so_far_usd": _usd(spent.total + running),
        "finished_usd": _usd(spent.total),
        "compute_usd": _usd(spent.compute),
        "storage_usd": _usd(spent.storage),
        "running_usd": _usd(running),
        "finished_jobs": spent.jobs,
        "unpriced_jobs": spent.unpriced_jobs,
        "notional": spent.notional or (bool(running) and running_local),
        "estimate": None if estimate is None else {
            "expected_usd": _usd(estimate.usd_expected), "low_usd": _usd(estimate.usd_low),
            "high_usd": _usd(estimate.usd_high),
        },
    }


@dataclass
class MonitorState:
    """What the monitor page shows and refreshes: everything but the log."""

    sim: Simulation
    jobs: list[Job]
    current: Job | None
    progress: dict | None  # the newest job's progress.json, if its backend has one
    can_manage: bool
    spent: spending.SimulationCost  # the estimate and the finished jobs' and storage's costs
    running_usd: Decimal  # what the running job has cost up to now
    events: list[SimulationEvent] = field(default_factory=list)

    def as_json(self) -> dict:
        sim, current = self.sim, self.current
        live = self.progress if current is not None and not current.is_final else None
        simulated = (live or {}).get("simulated_time") or _iso(sim.simulated_until)
        end = run_end(sim)
        return {
            # What the page polled before the monitor (kept for anything else reading it).
            "id": str(sim.id),
            "status": sim.status,
            "status_label": sim.get_status_display(),
            "is_final": sim.is_final,
            "status_reason": sim.status_reason,
            "progress_percent": sim.progress_percent,
            "segments_done": sim.segments_done,
            "segments_total": sim.segments_total,
            "simulated_until": _iso(sim.simulated_until),
            "job": current.name if current else None,
            "live": live,
            # The monitor's.
            "progress": {
                "percent": overall_percent(sim, live),
                "simulated_time": simulated,
                "days_per_day": (live or {}).get("days_per_day") or (current.metrics or {}).get("days_per_day")
                if current else None,
                "segment_eta_seconds": (live or {}).get("eta_seconds"),
                "eta_seconds": run_eta_seconds(live=live, current=current, jobs=self.jobs, run_end=end)
                if end else None,
                "segment": current.segment if current else None,
                "attempt": current.attempt if current else None,
                "job_state": current.state if current else None,
            },
            "actions": self.actions,
            "jobs": [job_row(job) for job in self.jobs],
            "events": [event_row(event) for event in self.events],
            "samples": _samples(self.progress),
            "cost": cost_json(self.spent, self.running_usd,
                              running_local=any(job.backend != "batch" for job in self.jobs if not job.is_final)),
        }

    @property
    def actions(self) -> dict[str, bool]:
        return allowed_actions(self.sim, can_manage=self.can_manage)


def monitor_state(sim: Simulation, *, user, events_after_id: int | None = None,
                  now: datetime | None = None) -> MonitorState:
    """The monitor's state of `sim` (found through `visible_to(user)`): its jobs, the newest one's
    progress report, the actions `user` may take, the cost so far and, with `events_after_id`,
    the events after that one. Constant queries: the manage check, the jobs, the events, the
    cost's three and the PriceBook's while a job runs; plus one backend read."""
    jobs = list(sim.jobs.order_by("segment", "attempt"))
    current = max(jobs, key=lambda job: (job.segment, job.attempt)) if jobs else None
    progress = None
    if current is not None and current.backend_id:
        progress = get_backend(current.backend).read_progress(current.backend_id)
    return MonitorState(
        sim=sim, jobs=jobs, current=current, progress=progress if isinstance(progress, dict) else None,
        can_manage=can_manage(sim, user), spent=spending.simulation_cost(sim),
        running_usd=cost_services.running_costs(jobs, now=now).get(sim.id, ZERO),
        events=events_after(sim, events_after_id) if events_after_id is not None else [],
    )
