"""Following jobs: bulk progress, forward-only states, RUNNABLE reports, Spot interruptions."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from simulations import services, tracking
from simulations.backends.base import JobState
from simulations.models import Job, Simulation

pytestmark = pytest.mark.django_db
S = Simulation.Status


def _running(n, owner, config, backend, capture):
    sims = []
    for _ in range(n):
        sim = services.simulation_create(owner=owner, raw_config=config)
        with capture(execute=True):
            services.simulation_submit(simulation_id=sim.id, actor=owner)
        job = sim.jobs.get()
        backend.set(job.name, "RUNNING", progress={"percent": 10.0})
        sims.append(sim)
    tracking.jobs_sync()
    return sims


def _advance(backend, percent):
    for name, state in list(backend.states.items()):
        backend.set(name, state.state, progress={"percent": percent, "simulated_time": "2019-01-01T12:00:00",
                                                 "updated_at": timezone.now().isoformat()})


def test_a_sync_costs_the_same_queries_for_ten_or_forty_running_jobs(alice, two_days, fake_backend,
                                                                     django_capture_on_commit_callbacks):
    _running(10, alice, two_days, fake_backend, django_capture_on_commit_callbacks)
    _advance(fake_backend, 20.0)
    with CaptureQueriesContext(connection) as ten:
        tracking.jobs_sync()
    _running(30, alice, two_days, fake_backend, django_capture_on_commit_callbacks)
    _advance(fake_backend, 30.0)
    with CaptureQueriesContext(connection) as forty:
        counts = tracking.jobs_sync()
    assert counts["checked"] == 40 and counts["changed"] == 40
    assert len(forty) == len(ten)
    assert set(Job.objects.values_list("progress_percent", flat=True)) == {30.0}
    assert set(Simulation.objects.values_list("progress_percent", flat=True)) == {30.0}


def test_an_earlier_state_reported_late_is_ignored(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _running(1, alice, two_days, fake_backend, django_capture_on_commit_callbacks)[0]
    job = sim.jobs.get()
    assert job.state == "RUNNING"
    assert services.job_apply_state(job_id=job.id, state=JobState(job.name, "RUNNABLE")) is False
    job.refresh_from_db()
    assert job.state == "RUNNING"


def test_a_job_waiting_in_runnable_is_reported_once_with_the_likely_cause(
        alice, two_days, fake_backend, django_capture_on_commit_callbacks, settings):
    settings.RUNNABLE_STUCK_MINUTES = 60
    settings.RUNNABLE_STUCK_CANCEL = False
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = sim.jobs.get()
    fake_backend.set(job.name, "RUNNABLE")
    tracking.jobs_sync()
    Job.objects.filter(id=job.id).update(state_changed_at=timezone.now() - timedelta(minutes=75))
    assert tracking.jobs_report_runnable() == 1
    assert tracking.jobs_report_runnable() == 0
    event = sim.events.get(message__contains="RUNNABLE for 75 minutes")
    assert "no compute environment" in event.message
    sim.refresh_from_db()
    assert sim.status == S.STARTING  # reported, not cancelled
    assert fake_backend.cancels == []


def test_a_runnable_job_is_cancelled_when_the_setting_says_so(alice, two_days, fake_backend,
                                                              django_capture_on_commit_callbacks, settings):
    settings.RUNNABLE_STUCK_CANCEL = True
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = sim.jobs.get()
    Job.objects.filter(id=job.id).update(state="RUNNABLE", state_changed_at=timezone.now() - timedelta(hours=3))
    assert tracking.jobs_report_runnable() == 1
    sim.refresh_from_db()
    assert sim.status == S.FAILED
    assert "waited in RUNNABLE for 180 minutes" in sim.status_reason and "cancelled" in sim.status_reason
    assert fake_backend.cancels and fake_backend.cancels[0][0] == job.name


def test_a_waiting_job_is_not_killed_for_having_no_heartbeat(alice, two_days, fake_backend,
                                                              django_capture_on_commit_callbacks):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    Job.objects.filter(simulation=sim).update(state="RUNNABLE", created_at=timezone.now() - timedelta(hours=5))
    assert tracking.jobs_mark_stuck() == 0


def test_spot_interruptions_resume_and_then_move_the_run_to_on_demand(
        alice, two_days, fake_backend, django_capture_on_commit_callbacks, settings):
    settings.SPOT_MAX_INTERRUPTIONS = 2
    two_days["compute"] = {"capacity": "spot"}
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    assert sim.capacity == "spot"
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    for attempt in (1, 2):
        job = sim.jobs.get(attempt=attempt)
        assert fake_backend.specs[job.name]["compute"]["capacity"] == "spot"
        fake_backend.set(job.name, "FAILED", reason="Host EC2 (instance i-0abc) terminated.", interrupted=True)
        with django_capture_on_commit_callbacks(execute=True):
            tracking.jobs_sync()
    sim.refresh_from_db()
    assert (sim.status, sim.interruptions, sim.capacity) == (S.STARTING, 2, "on-demand")
    third = sim.jobs.get(attempt=3)
    assert fake_backend.specs[third.name]["compute"]["capacity"] == "on-demand"
    assert third.segment == 1
    messages = list(sim.events.values_list("message", flat=True))
    assert any("moves to on-demand capacity" in m for m in messages)
    assert any("Host EC2 (instance i-0abc) terminated." in m for m in messages)
    assert sim.jobs.filter(interrupted=True).count() == 2


def test_an_interrupted_later_segment_restarts_from_the_previous_segments_restart(
        alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    two_days.update(start="2019-01-01", end="2019-03-01", compute={"capacity": "spot"})
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    first = sim.jobs.get()
    fake_backend.set(first.name, "SUCCEEDED", exit_code=0, metrics={
        "status": "succeeded", "restart": "Restarts/GEOSChem.Restart.20190201_0000z.nc4"})
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    second = sim.jobs.get(segment=2)
    fake_backend.set(second.name, "FAILED", reason="Host EC2 (instance i-0def) terminated.", interrupted=True)
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    again = sim.jobs.get(segment=2, attempt=2)
    restart = sim.output_uri + "Restarts/GEOSChem.Restart.20190201_0000z.nc4"
    assert fake_backend.specs[second.name]["restart"]["uri"] == restart
    assert fake_backend.specs[again.name]["restart"]["uri"] == restart
    assert fake_backend.specs[again.name]["period"]["start"].startswith("2019-02-01")
    sim.refresh_from_db()
    assert sim.segments_done == 1 and sim.interruptions == 1
