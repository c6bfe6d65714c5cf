"""Following jobs on their backends: the periodic sync, the event queue, stuck and silent jobs.

Everything here is safe to run again or concurrently: state changes go through
`services.job_apply_state` (forward-only, compare-and-swap), and progress-only updates are
written in bulk so one sync cycle costs a constant number of queries however many jobs run.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from simulations import services
from simulations.backends import get_backend
from simulations.backends.base import BackendError, BackendTransientError, JobState, parse_utc
from simulations.models import Job, Simulation

log = logging.getLogger(__name__)
Status = Simulation.Status
_ACTIVE_JOB_STATES = [state for state in Job.State if state not in Job.FINAL_STATES]


def jobs_sync() -> dict[str, int]:
    """Ask each backend about its active jobs (in as few calls as it can) and apply the answers."""
    counts = {"checked": 0, "changed": 0, "resubmitted": 0, "cancelled": 0}
    jobs = list(Job.objects.active().exclude(backend_id="").select_related("simulation"))
    by_backend: dict[str, list[Job]] = {}
    for job in jobs:
        by_backend.setdefault(job.backend, []).append(job)
    for name, group in by_backend.items():
        backend = get_backend(name)
        try:
            states = backend.describe([job.backend_id for job in group])
        except BackendTransientError as exc:
            log.warning("describing %s jobs failed for now: %s", name, exc)
            continue
        progress_only = []
        for job in group:
            state = states.get(job.backend_id)
            if state is None:
                continue
            counts["checked"] += 1
            if job.simulation.is_final and state.state not in Job.FINAL_STATES:
                # A job left running for a finished simulation (cancelled while it was submitted).
                backend.cancel(job.backend_id, reason="its simulation has already ended")
                counts["cancelled"] += 1
            if state.state == job.state:
                progress_only.append((job, state))
            else:
                counts["changed"] += services.job_apply_state(job_id=job.id, state=state)
        counts["changed"] += _apply_progress(progress_only)
    counts["resubmitted"] = _repair_lost_submissions()
    return counts


def _apply_progress(pairs: list[tuple[Job, JobState]]) -> int:
    """Write heartbeats and progress of jobs whose state did not change, in two bulk updates."""
    jobs, sims = [], {}
    for job, state in pairs:
        progress = state.progress or {}
        percent = float(progress.get("percent") or job.progress_percent)
        simulated = parse_utc(progress.get("simulated_time")) or job.simulated_until
        seen = state.heartbeat_at or job.last_seen_at
        if (percent, simulated, seen) == (job.progress_percent, job.simulated_until, job.last_seen_at):
            continue
        job.progress_percent, job.simulated_until, job.last_seen_at = percent, simulated, seen
        jobs.append(job)
        sim = job.simulation
        sim.progress_percent = services.overall_progress(sim, percent)
        sim.simulated_until = simulated or sim.simulated_until
        sim.last_seen_at = seen or sim.last_seen_at
        sims[sim.id] = sim
    if jobs:
        with transaction.atomic():
            Job.objects.bulk_update(jobs, ["progress_percent", "simulated_until", "last_seen_at"])
            Simulation.objects.bulk_update(list(sims.values()), ["progress_percent", "simulated_until",
                                                                  "last_seen_at"])
    return len(jobs)


def _repair_lost_submissions() -> int:
    """Queued or running simulations with no job in play lost their submit task: submit again."""
    resubmitted = 0
    in_play = Job.objects.filter(simulation=OuterRef("pk"), state__in=_ACTIVE_JOB_STATES).exclude(backend_id="")
    lost = Simulation.objects.filter(status__in=[Status.QUEUED, Status.STARTING, Status.RUNNING]).exclude(
        Exists(in_play))
    for sim_id in lost.values_list("id", flat=True):
        try:
            if services.segment_submit_next(simulation_id=sim_id) is not None:
                resubmitted += 1
        except BackendTransientError as exc:
            log.warning("resubmitting %s failed for now: %s", sim_id, exc)
    for sim in Simulation.objects.filter(status=Status.CANCELLING).exclude(jobs__state__in=_ACTIVE_JOB_STATES):
        services.finish_cancel(sim, None, "task")
    return resubmitted


def jobs_mark_stuck(*, now=None) -> int:
    """Fail running jobs whose runner has been silent past GCR_STUCK_AFTER_MINUTES, saying so."""
    now = now or timezone.now()
    limit = now - timedelta(minutes=settings.STUCK_AFTER_MINUTES)
    running = Job.objects.filter(state__in=[Job.State.STARTING, Job.State.RUNNING]).select_related("simulation")
    stale = running.filter(last_seen_at__lt=limit) | running.filter(last_seen_at__isnull=True, created_at__lt=limit)
    marked = 0
    for job in stale:
        silent_since = job.last_seen_at or job.created_at
        minutes = int((now - silent_since).total_seconds() // 60)
        reason = f"no heartbeat from the runner for {minutes} minutes (stuck or lost); the job was stopped"
        if job.backend_id:
            get_backend(job.backend).cancel(job.backend_id, reason=reason)
        marked += services.job_apply_state(job_id=job.id, state=JobState(job.backend_id, Job.State.FAILED,
                                                                           reason=reason))
    return marked


def jobs_report_runnable(*, now=None) -> int:
    """Report jobs waiting in RUNNABLE past GCR_RUNNABLE_STUCK_MINUTES, with the likely cause, once.

    On Batch a job stays RUNNABLE when no compute environment of its queue can place it: the
    vCPUs or memory asked exceed every allowed instance type, or the environment is at its
    maximum vCPUs. With GCR_RUNNABLE_STUCK_CANCEL on, such jobs are cancelled and their
    simulations fail with that reason.
    """
    now = now or timezone.now()
    limit = now - timedelta(minutes=settings.RUNNABLE_STUCK_MINUTES)
    waiting = Job.objects.filter(state=Job.State.RUNNABLE, stuck_reported_at__isnull=True,
                                 state_changed_at__lt=limit).select_related("simulation")
    reported = 0
    for job in waiting:
        if not Job.objects.filter(id=job.id, stuck_reported_at__isnull=True).update(stuck_reported_at=now):
            continue  # another worker reported it
        compute = job.spec.get("compute", {})
        minutes = int((now - job.state_changed_at).total_seconds() // 60)
        reason = (f"{job.name} has waited in RUNNABLE for {minutes} minutes: most likely no compute environment "
                  f"of its queue can fit {compute.get('vcpus', compute.get('cores_per_node'))} vCPUs and "
                  f"{compute.get('memory_mib', '?')} MiB on {compute.get('nodes', 1)} node(s) "
                  f"({compute.get('instance_type') or 'any instance type'}), or the environment is at its "
                  "maximum vCPUs")
        services.record_event(job.simulation_id, source="task", job=job, message=reason)
        reported += 1
        if settings.RUNNABLE_STUCK_CANCEL:
            try:
                get_backend(job.backend).cancel(job.backend_id, reason=reason)
            except BackendError as exc:
                log.warning("cancelling stuck job %s failed: %s", job.name, exc)
            services.job_apply_state(job_id=job.id, state=JobState(job.backend_id, Job.State.FAILED,
                                                                     reason=reason + "; it was cancelled"))
    return reported


def batch_events_drain(*, max_messages: int = 1000) -> dict[str, int]:
    """Apply the Batch state changes waiting in the SQS queue, each once, then delete them.

    A message that cannot be read, or names a job the platform does not know, is logged and
    deleted; one whose application fails is left for SQS to hand out again (and, after the
    queue's maximum receives, to its dead-letter queue). The DescribeJobs sync catches whatever
    the queue missed.
    """
    from simulations import sqs

    counts = {"received": 0, "applied": 0, "unchanged": 0, "unknown": 0, "malformed": 0, "failed": 0}
    backend = get_backend("batch")
    queue_url = settings.SQS_QUEUE_URL
    while counts["received"] < max_messages:
        messages = sqs.receive(queue_url, max_messages=10)
        if not messages:
            break
        for message in messages:
            counts["received"] += 1
            try:
                outcome = _apply_event(backend, message.body)
            except Exception:  # noqa: BLE001 - one bad message must not stop the drain
                log.exception("applying Batch event %s failed; SQS will hand it out again", message.id)
                counts["failed"] += 1
                continue
            counts[outcome] += 1
            sqs.delete(queue_url, message.receipt_handle)
    return counts


def _apply_event(backend, body: str) -> str:
    parsed = backend.state_from_event(body)
    if parsed is None:
        log.warning("dropped a malformed or unrelated message from the Batch event queue: %.200s", body)
        return "malformed"
    backend_id, state = parsed
    job = Job.objects.filter(backend="batch", backend_id=backend_id).only("id").first()
    if job is None:
        log.info("dropped an event for Batch job %s, which is not one of ours", backend_id)
        return "unknown"
    return "applied" if services.job_apply_state(job_id=job.id, state=state, source="events") else "unchanged"
