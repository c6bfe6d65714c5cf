"""django-q2 tasks: thin edges that take ids, call one service, and are safe to run twice."""

import fcntl
import time
from pathlib import Path

from django.conf import settings
from django_q.tasks import async_task

from simulations import services, tracking
from simulations.models import Job


def submit_next_segment(simulation_id: str) -> str | None:
    job = services.segment_submit_next(simulation_id=simulation_id)
    if job is not None and not job.is_final:
        # Follow the new job at once rather than at the next scheduled minute.
        async_task("simulations.tasks.sync_active_jobs")
    return job.name if job else None


def sync_active_jobs() -> dict[str, int] | str:
    """Sync now, and keep syncing every GCR_SYNC_EVERY_SECONDS for up to GCR_SYNC_LOOP_SECONDS.

    Schedules run at most once a minute; looping inside one run gives the local backend's short
    demo runs a few seconds' latency instead of a minute's, and stops as soon as nothing is
    active. A file lock keeps it to one loop at a time, so the workers stay free for other tasks.
    """
    lock_path = Path(settings.DATA_DIR) / "sync.lock"
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return "another sync is running"
        deadline = time.monotonic() + settings.SYNC_LOOP_SECONDS
        totals: dict[str, int] = {}
        while True:
            for key, value in tracking.jobs_sync().items():
                totals[key] = totals.get(key, 0) + value
            if time.monotonic() + settings.SYNC_EVERY_SECONDS > deadline or not Job.objects.active().exists():
                return totals
            time.sleep(settings.SYNC_EVERY_SECONDS)


def mark_stuck_jobs() -> dict[str, int]:
    """Fail silent running jobs; report (and per setting cancel) jobs waiting too long in RUNNABLE."""
    return {"silent": tracking.jobs_mark_stuck(), "runnable": tracking.jobs_report_runnable()}


def drain_batch_events() -> dict[str, int] | str:
    """Apply the Batch state-change events waiting in the SQS queue (batch backend only)."""
    if not settings.BATCH:
        return "the batch backend is off"
    return tracking.batch_events_drain()
