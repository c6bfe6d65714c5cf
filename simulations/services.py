"""Every action that changes a simulation or a job.

Status changes are compare-and-swap (`filter(id=..., status=current).update(...)`), so two
workers, a retried task or a user clicking twice cannot apply one change twice, and each change
writes a SimulationEvent. Tasks are queued with transaction.on_commit.
"""

import logging
from collections.abc import Iterable
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import ResearchGroup
from simulations import spec as runspec
from simulations.backends import get_backend
from simulations.backends.base import BackendError, BackendTransientError, JobState, parse_utc
from simulations.config import ConfigInvalid, FieldError, RunConfig, config_to_dict, parse_config
from simulations.models import Job, Simulation, SimulationEvent

log = logging.getLogger(__name__)
Status = Simulation.Status
# The order a job's states come in; a report of an earlier state than the job's is stale.
STATE_RANK = {state: rank for rank, state in enumerate(
    ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"])} | {"FAILED": 5}
# Reaching these tells people (accounts/notifications.py decides who, by their preferences).
NOTIFIED_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.AWAITING_APPROVAL, Status.CANCELLED)

class SubmitRefused(Exception):
    """A budget refused the run at submission; the message says which budget and by how much."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- helpers -------------------------------------------------------------------------------------
def record_event(sim_id, *, source: str, message: str, actor=None, job=None, from_status="", to_status="") -> None:
    SimulationEvent.objects.create(
        simulation_id=sim_id, job=job, actor=actor, source=source,
        from_status=from_status, to_status=to_status, message=message,
    )


def _transition(sim_id, *, to: str, allowed_from: Iterable[str], source: str, message: str,
                actor=None, job=None, **fields) -> bool:
    """Move a simulation to `to` if it is in one of `allowed_from`; False if it was not.

    Compare-and-swap on the status read just before: if another process changed it in between,
    the update matches no row and nothing is written.
    """
    current = Simulation.objects.filter(id=sim_id).values_list("status", flat=True).first()
    if current is None or current not in allowed_from:
        return False
    changed = Simulation.objects.filter(id=sim_id, status=current).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if not changed:
        return False
    record_event(sim_id, source=source, message=message, actor=actor, job=job, from_status=current, to_status=to)
    if to in NOTIFIED_STATUSES:
        _enqueue("accounts.tasks.notify_simulation", str(sim_id), str(to))
    return True


def _enqueue(func: str, *args) -> None:
    """Queue a django-q2 task once the current transaction commits."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(func, *args))


def executable_for(model: str) -> str:
    return settings.GCHP_EXECUTABLE if model == "gchp" else settings.GCCLASSIC_EXECUTABLE


def config_check(raw) -> tuple[RunConfig | None, list[FieldError]]:
    """Validate a configuration for this platform: GEOS-Chem's rules, then the backend's limits."""
    if not isinstance(raw, dict):
        return None, [FieldError("", "the configuration must be a mapping of keys to values")]
    try:
        cfg = parse_config(raw)
    except ConfigInvalid as exc:
        return None, list(exc.errors)
    problems = get_backend().config_problems(cfg)
    if problems:
        return None, problems
    return cfg, []


# --- creating and submitting ----------------------------------------------------------------------
def _group_for(owner, group: str | None) -> tuple[ResearchGroup | None, list[FieldError]]:
    """The group a new simulation belongs to: the one named (by slug), which the owner must be in;
    "" for none (only the owner sees it); None for the owner's only group, or none."""
    mine = ResearchGroup.objects.filter(memberships__user=owner)
    if group == "":
        return None, []
    if group:
        found = mine.filter(slug=group).first()
        if found is None:
            return None, [FieldError("group", f"you are not a member of a research group called '{group}'")]
        return found, []
    only = list(mine[:2])
    return (only[0] if len(only) == 1 else None), []


def simulation_create(*, owner, raw_config: dict, group: str | None = None, source: str = "web") -> Simulation:
    """Validate and create a draft; raises ConfigInvalid (creating nothing) with every problem."""
    cfg, errors = config_check(raw_config)
    research_group, group_errors = _group_for(owner, group)
    if errors or group_errors:
        raise ConfigInvalid(errors + group_errors)
    with transaction.atomic():
        sim = Simulation(
            owner=owner,
            group=research_group,
            name=cfg.name,
            model=cfg.model,
            simulation_type=cfg.simulation,
            resolution=cfg.resolution,
            config=config_to_dict(cfg),
            executable=executable_for(cfg.model),
            segments_total=len(runspec.segment_periods(cfg)),
            capacity=cfg.compute.capacity,
        )
        sim.output_uri = f"{settings.OUTPUT_ROOT_URI}{sim.id}/"
        sim.save()
        label = " with the demo model" if sim.is_demo else ""
        record_event(sim.id, source=source, actor=owner, to_status=Status.DRAFT,
               message=f"created{label}: {sim.segments_total} segment(s)")
    return sim


def simulation_submit(*, simulation_id, actor=None, source: str = "web") -> str:
    """Queue a draft to run, after its budgets admit it; the first segment is submitted by a task
    after commit. Returns "queued", "awaiting_approval" (a budget asks an operator), or "" when
    the simulation was not a draft; raises SubmitRefused when a budget refuses it (the draft stays)."""
    sim = Simulation.objects.filter(id=simulation_id).first()
    if sim is None or sim.status != Status.DRAFT:
        return ""
    return _admit_and_queue(sim, allowed_from=[Status.DRAFT], actor=actor, source=source, message="submitted",
                            fraction=1.0, submitted_at=timezone.now())


def _admit_and_queue(sim: Simulation, *, allowed_from, actor, source: str, message: str, fraction: float,
                     **fields) -> str:
    """Estimate the run (or the part still to do), let its budgets decide, and move it.

    The estimate is computed before the transaction; admission locks the budget rows in the same
    transaction as the status change, so what it holds and the move commit together."""
    from costs import budgets
    from costs import services as cost_services

    report, upper = cost_services.simulation_estimate(sim, fraction=fraction)
    with transaction.atomic():
        admission = budgets.budget_admit(sim=sim, upper=upper, actor=actor)
        if admission.decision == "refuse":
            budgets.admission_record(sim=sim, admission=admission, actor=actor)
            record_event(sim.id, source=source, actor=actor, message=admission.message)
            refused = admission.message
        else:
            refused = None
            to = Status.QUEUED if admission.decision == "admit" else Status.AWAITING_APPROVAL
            text = message if not admission.budgets else f"{message}; {admission.message}"
            if not _transition(sim.id, to=to, allowed_from=allowed_from, source=source, actor=actor, message=text,
                               **fields):
                transaction.set_rollback(True)  # moved by someone else meanwhile: hold nothing
                return ""
            cost_services.run_estimate_record(sim=sim, report=report, upper=upper)
            if to == Status.QUEUED:
                _enqueue("simulations.tasks.submit_next_segment", str(sim.id))
            else:
                budgets.admission_record(sim=sim, admission=admission, actor=actor)
    if refused:
        raise SubmitRefused(refused)
    return to


def simulation_approve(*, simulation_id, actor, source: str = "admin") -> bool:
    """An operator lets a run that is over budget start: its estimate is held even over the limit."""
    from costs import budgets
    from costs import services as cost_services

    sim = Simulation.objects.filter(id=simulation_id, status=Status.AWAITING_APPROVAL).first()
    if sim is None:
        return False
    fraction = 1 - sim.segments_done / sim.segments_total
    _, upper = cost_services.simulation_estimate(sim, fraction=fraction)
    who = actor.email if actor else source
    with transaction.atomic():
        admission = budgets.budget_admit(sim=sim, upper=upper, actor=actor, force=True)
        if not _transition(sim.id, to=Status.QUEUED, allowed_from=[Status.AWAITING_APPROVAL], source=source,
                           actor=actor, message=f"approved by {who}; {admission.message}"):
            transaction.set_rollback(True)
            return False
        budgets.approval_record(sim=sim, actor=actor, approved=True)
        _enqueue("simulations.tasks.submit_next_segment", str(sim.id))
    return True


def simulation_reject(*, simulation_id, actor, reason: str = "", source: str = "admin") -> bool:
    """An operator refuses a run waiting for approval; it ends cancelled, saying who and why."""
    from costs import budgets

    who = actor.email if actor else source
    text = f"rejected by {who}" + (f": {reason}" if reason else "")
    with transaction.atomic():
        sim = Simulation.objects.filter(id=simulation_id).first()
        moved = sim is not None and _transition(
            sim.id, to=Status.CANCELLED, allowed_from=[Status.AWAITING_APPROVAL], source=source, actor=actor,
            message=text, status_reason=text, finished_at=timezone.now(), cancel_requested_by=actor)
        if moved:
            budgets.approval_record(sim=sim, actor=actor, approved=False, reason=reason)
    return moved


def _next_attempt(sim: Simulation, segment: int) -> tuple[int, Job | None]:
    """The attempt number for `segment` and the job already there for it, if still in play."""
    last = sim.jobs.filter(segment=segment).order_by("-attempt").first()
    if last is None:
        return 1, None
    if last.is_final:
        return last.attempt + 1, None
    return last.attempt, last


def _restart_uri(sim: Simulation, segment: int) -> str | None:
    if segment == 1:
        return None
    previous = sim.jobs.filter(segment=segment - 1, state=Job.State.SUCCEEDED).order_by("-attempt").first()
    if previous is None or not (previous.metrics or {}).get("restart"):
        return None
    return sim.output_uri + previous.metrics["restart"]


def segment_submit_next(*, simulation_id) -> Job | None:
    """Submit the simulation's next segment unless a job for it is already in play.

    Safe to run any number of times: the job row is unique per (simulation, segment, attempt)
    and the backend looks the deterministic job name up before starting anything.
    """
    sim = Simulation.objects.filter(id=simulation_id).first()
    if sim is None or sim.status not in (Status.QUEUED, Status.STARTING, Status.RUNNING):
        return None
    submitted = sim.jobs.active().exclude(backend_id="").first()
    if submitted is not None:
        return submitted
    # A job row without a backend id is one whose submission failed for now: submit it again.
    segment = sim.segments_done + 1
    if segment > sim.segments_total:
        return None
    cfg = parse_config(sim.config)
    periods = runspec.segment_periods(cfg)
    attempt, job = _next_attempt(sim, segment)
    backend = get_backend()
    restart_uri = _restart_uri(sim, segment)
    if job is None and segment > 1:
        from costs import budgets

        reason = sim.stop_after_segment or budgets.stop_reason(sim)
        if reason:
            message = f"stopped after segment {segment - 1} of {sim.segments_total}: {reason}"
            _transition(sim.id, to=Status.CANCELLED, allowed_from=Simulation.ACTIVE_STATUSES, source="task",
                        message=message, status_reason=message, finished_at=timezone.now())
            return None
    if job is None and segment > 1 and restart_uri is None:
        # Starting from nothing would silently give wrong results: a segment continues the last.
        reason = f"segment {segment - 1} finished without reporting its restart file, so segment {segment} cannot start"
        _transition(sim.id, to=Status.FAILED, allowed_from=Simulation.ACTIVE_STATUSES, source="task",
                    message=reason, status_reason=reason, finished_at=timezone.now())
        return None
    if job is None:
        name = runspec.job_name(str(sim.id), segment, attempt)
        spec = runspec.render_spec(
            cfg, simulation_id=str(sim.id), segment_index=segment, attempt=attempt,
            executable=sim.executable, backend=backend.name, input_root=settings.INPUT_ROOT,
            output_uri=sim.output_uri, restart_uri=restart_uri, capacity=sim.capacity,
        )
        spec = backend.prepare_spec(spec)
        # GEOS-Chem's dates are UTC.
        start, end = (when.replace(tzinfo=dt_timezone.utc) for when in periods[segment - 1])
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    simulation=sim, segment=segment, attempt=attempt, name=name, backend=backend.name,
                    spec=spec, period_start=start, period_end=end,
                )
        except IntegrityError:
            job = Job.objects.get(simulation=sim, segment=segment, attempt=attempt)
    try:
        result = backend.submit(job_name=job.name, spec=job.spec)
    except BackendTransientError as exc:
        log.warning("submitting %s failed for now: %s", job.name, exc)
        raise
    except BackendError as exc:
        _job_failed_to_submit(sim, job, str(exc))
        return job
    with transaction.atomic():
        Job.objects.filter(id=job.id, backend_id="").update(backend_id=result.backend_id, submitted_at=timezone.now())
        if not result.already_existed:
            record_event(sim.id, source="task", job=job,
                   message=f"segment {segment}/{sim.segments_total} submitted as {job.name} (attempt {attempt})")
        _transition(sim.id, to=Status.STARTING, allowed_from=[Status.QUEUED], source="task", job=job,
                    message=f"{job.name} submitted to the {backend.name} backend")
    job.refresh_from_db()
    return job


def _job_failed_to_submit(sim: Simulation, job: Job, reason: str) -> None:
    with transaction.atomic():
        Job.objects.filter(id=job.id).exclude(state__in=Job.FINAL_STATES).update(
            state=Job.State.FAILED, status_reason=reason, stopped_at=timezone.now()
        )
        _transition(sim.id, to=Status.FAILED, allowed_from=Simulation.ACTIVE_STATUSES, source="task", job=job,
                    message=f"could not submit: {reason}", status_reason=f"could not submit: {reason}",
                    finished_at=timezone.now())


# --- applying what the backend says -------------------------------------------------------------
def overall_progress(sim: Simulation, job_percent: float) -> float:
    done = sim.segments_done + max(0.0, min(job_percent, 100.0)) / 100.0
    return round(100.0 * done / sim.segments_total, 2)


def job_apply_state(*, job_id: int, state: JobState, source: str = "task") -> bool:
    """Apply a backend's report on one job; returns whether anything changed.

    A job's state only moves forward and a final state never changes again, so duplicate or
    out-of-order reports are harmless. Finishing a segment advances the simulation or queues the
    next segment.
    """
    with transaction.atomic():
        job = Job.objects.select_related("simulation").filter(id=job_id).first()
        if job is None or job.is_final or STATE_RANK.get(state.state, -1) < STATE_RANK[job.state]:
            return False
        sim = job.simulation
        now = timezone.now()
        percent = float((state.progress or {}).get("percent") or job.progress_percent)
        fields = dict(
            last_seen_at=state.heartbeat_at or job.last_seen_at,
            progress_percent=percent,
            simulated_until=parse_utc((state.progress or {}).get("simulated_time")) or job.simulated_until,
        )
        if state.started_at and not job.started_at:
            fields["started_at"] = state.started_at
        if state.state == job.state and all(getattr(job, name) == value for name, value in fields.items()):
            return False  # a duplicate report: nothing new
        if state.state != job.state:
            fields["state_changed_at"] = now
        if state.state in Job.FINAL_STATES:
            fields.update(stopped_at=state.stopped_at or now, exit_code=state.exit_code,
                          status_reason=state.reason, metrics=state.metrics, interrupted=state.interrupted)
            if state.state == Job.State.SUCCEEDED:
                fields["progress_percent"] = 100.0
        changed = Job.objects.filter(id=job.id, state=job.state).update(state=state.state, **fields)
        if not changed:
            return False
        if state.state != job.state:
            record_event(sim.id, source=source, job=job, message=f"{job.name}: {job.state} -> {state.state}"
                   + (f" ({state.reason.splitlines()[0]})" if state.reason else ""))
        Simulation.objects.filter(id=sim.id).update(
            last_seen_at=state.heartbeat_at or sim.last_seen_at,
            progress_percent=overall_progress(sim, fields["progress_percent"]),
            simulated_until=fields["simulated_until"] or sim.simulated_until,
        )
        if state.state in Job.FINAL_STATES:
            # Its cost, its throughput sample and its budgets' thresholds (costs/tasks.py), and
            # the index of the files it wrote (results/tasks.py; a failed segment may have some).
            _enqueue("costs.tasks.job_finished", job.id)
            if (state.metrics or {}).get("outputs"):
                _enqueue("results.tasks.index_job_outputs", job.id)
        if state.state == Job.State.RUNNING:
            _transition(sim.id, to=Status.RUNNING, allowed_from=[Status.QUEUED, Status.STARTING], source=source,
                        job=job, message=f"{job.name} is running", started_at=state.started_at or now)
        elif state.state == Job.State.SUCCEEDED:
            _segment_succeeded(sim.id, job, source)
        elif state.state == Job.State.FAILED:
            _segment_failed(sim.id, job, state, source)
    return True


def _segment_succeeded(sim_id, job: Job, source: str) -> None:
    Simulation.objects.filter(id=sim_id, segments_done=job.segment - 1).update(segments_done=F("segments_done") + 1)
    sim = Simulation.objects.get(id=sim_id)
    if sim.segments_done >= sim.segments_total:
        _transition(sim_id, to=Status.SUCCEEDED, allowed_from=[Status.QUEUED, Status.STARTING, Status.RUNNING],
                    source=source, job=job, message="all segments finished", finished_at=timezone.now(),
                    progress_percent=100.0)
        # Cancelled just as it finished: the work is done, keep it.
        _transition(sim_id, to=Status.SUCCEEDED, allowed_from=[Status.CANCELLING], source=source, job=job,
                    message="finished before the cancel took effect", finished_at=timezone.now(),
                    progress_percent=100.0)
    elif sim.status == Status.CANCELLING:
        finish_cancel(sim, job, source)
    else:
        _enqueue("simulations.tasks.submit_next_segment", str(sim_id))


def _segment_failed(sim_id, job: Job, state: JobState, source: str) -> None:
    sim = Simulation.objects.get(id=sim_id)
    if sim.status == Status.CANCELLING:
        finish_cancel(sim, job, source)
        return
    if state.interrupted and sim.is_active:
        _segment_interrupted(sim, job, state, source)
        return
    reason = f"segment {job.segment} failed: {state.reason or 'no reason given'}"
    _transition(sim_id, to=Status.FAILED, allowed_from=Simulation.ACTIVE_STATUSES, source=source, job=job,
                message=reason.splitlines()[0], status_reason=reason, finished_at=timezone.now())


def _segment_interrupted(sim: Simulation, job: Job, state: JobState, source: str) -> None:
    """Resume from the last restart; after too many interruptions, move the rest of the run to on-demand."""
    Simulation.objects.filter(id=sim.id).update(interruptions=F("interruptions") + 1)
    sim.refresh_from_db(fields=["interruptions", "capacity"])
    limit = settings.SPOT_MAX_INTERRUPTIONS
    message = (f"segment {job.segment} was interrupted ({state.reason.splitlines()[0] if state.reason else 'stopped'}); "
               f"interruption {sim.interruptions} of at most {limit}; resuming from its last restart")
    if sim.interruptions > limit and sim.capacity == "on-demand":
        reason = f"segment {job.segment} failed: interrupted {sim.interruptions} times, even on on-demand capacity"
        _transition(sim.id, to=Status.FAILED, allowed_from=Simulation.ACTIVE_STATUSES, source=source, job=job,
                    message=reason, status_reason=reason, finished_at=timezone.now())
        return
    if sim.interruptions >= limit and sim.capacity == "spot":
        Simulation.objects.filter(id=sim.id).update(capacity="on-demand")
        message += f"; after {sim.interruptions} interruptions the rest of the run moves to on-demand capacity"
    record_event(sim.id, source=source, job=job, message=message)
    _enqueue("simulations.tasks.submit_next_segment", str(sim.id))


def finish_cancel(sim: Simulation, job: Job | None, source: str) -> None:
    who = sim.cancel_requested_by.email if sim.cancel_requested_by else "an operator"
    _transition(sim.id, to=Status.CANCELLED, allowed_from=[Status.CANCELLING], source=source, job=job,
                message=f"cancelled by {who}", status_reason=f"cancelled by {who}", finished_at=timezone.now())


# --- user actions ----------------------------------------------------------------------------------
def simulation_cancel(*, simulation_id, actor=None, source: str = "web") -> bool:
    """Cancel: at once when nothing runs yet, else ask the backend and finish when the job ends."""
    who = actor.email if actor else source
    with transaction.atomic():
        sim = Simulation.objects.filter(id=simulation_id).first()
        if sim is None or sim.is_final:
            return False
        active = list(sim.jobs.active())
        if not active and sim.status in (Status.DRAFT, Status.AWAITING_APPROVAL, Status.QUEUED):
            return _transition(sim.id, to=Status.CANCELLED, allowed_from=[sim.status], source=source, actor=actor,
                               message=f"cancelled by {who}", status_reason=f"cancelled by {who}",
                               finished_at=timezone.now(), cancel_requested_by=actor)
        if sim.status == Status.CANCELLING:
            return False  # asked already: the backend has the request
        moved = _transition(sim.id, to=Status.CANCELLING, allowed_from=Simulation.ACTIVE_STATUSES, source=source,
                            actor=actor, message=f"cancel requested by {who}", cancel_requested_by=actor)
    backend = get_backend()
    for job in active:
        if job.backend_id:
            backend.cancel(job.backend_id, reason=f"cancelled by {who}")
    if moved and not active:
        finish_cancel(Simulation.objects.get(id=simulation_id), None, source)
    return moved


def simulation_retry(*, simulation_id, actor=None, source: str = "admin") -> str:
    """Resume a failed or cancelled run from its last finished segment's restart, after its
    budgets admit the part still to do (returns and raises as simulation_submit)."""
    sim = Simulation.objects.filter(id=simulation_id).first()
    if sim is None or sim.status not in (Status.FAILED, Status.CANCELLED):
        return ""
    fraction = 1 - sim.segments_done / sim.segments_total
    return _admit_and_queue(sim, allowed_from=[Status.FAILED, Status.CANCELLED], actor=actor, source=source,
                            message="retry: resuming from the last finished segment", fraction=fraction,
                            status_reason="", finished_at=None, cancel_requested_by=None, stop_after_segment="")


def simulation_clone(*, simulation_id, actor, source: str = "web") -> Simulation:
    """A new draft with the same configuration, owned by `actor`."""
    original = Simulation.objects.select_related("group").get(id=simulation_id)
    raw = dict(original.config)
    raw["name"] = f"Copy of {original.name}"[:200]
    # The copy stays in the original's group when the person cloning belongs to it.
    in_group = original.group and original.group.memberships.filter(user=actor).exists()
    clone = simulation_create(owner=actor, raw_config=raw, group=original.group.slug if in_group else None,
                              source=source)
    record_event(clone.id, source=source, actor=actor, message=f"cloned from {original.id}")
    return clone
