"""django-q2 tasks: thin edges that take ids, call one service, and are safe to run twice."""

import time

from django.conf import settings

from simulations import services
from simulations.models import Job


def submit_next_segment(simulation_id: str) -> str | None:
    job = services.segment_submit_next(simulation_id=simulation_id)
    return job.name if job else None


def sync_active_jobs(duration_s: float | None = None) -> dict[str, int]:
    """Sync now, and keep syncing every GCR_SYNC_EVERY_SECONDS for up to `duration_s`.

    Schedules run at most once a minute; looping inside the run gives the local backend's short
    demo runs a few seconds' latency instead of a minute's, and stops as soon as nothing is active.
    """
    duration_s = 50.0 if duration_s is None else duration_s
    deadline = time.monotonic() + duration_s
    totals: dict[str, int] = {}
    while True:
        for key, value in services.jobs_sync().items():
            totals[key] = totals.get(key, 0) + value
        if time.monotonic() + settings.SYNC_EVERY_SECONDS > deadline or not Job.objects.active().exists():
            return totals
        time.sleep(settings.SYNC_EVERY_SECONDS)


def mark_stuck_jobs() -> int:
    return services.jobs_mark_stuck()
