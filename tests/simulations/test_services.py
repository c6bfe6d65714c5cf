"""The simulation lifecycle through its services, on an in-memory backend."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.utils import timezone

from simulations import services, tracking
from simulations.backends.base import BackendError, JobState
from simulations.config import ConfigInvalid
from simulations.models import Job, Simulation, SimulationEvent

pytestmark = pytest.mark.django_db
S = Simulation.Status


def _submitted(alice, config, capture):
    sim = services.simulation_create(owner=alice, raw_config=config)
    with capture(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    sim.refresh_from_db()
    return sim


def _succeed(backend, job, restart="Restarts/GEOSChem.Restart.x.nc4"):
    metrics = {"status": "succeeded", "exit_code": 0, "outputs": [f"GEOSChem.SpeciesConc.s{job.segment}.nc4"],
               "restart": restart}
    backend.set(job.name, "SUCCEEDED", exit_code=0, metrics=metrics, progress={"percent": 100.0})


def test_it_creates_nothing_for_an_invalid_configuration(alice, two_days):
    two_days["resolution"] = "3x3"
    two_days["levels"] = "many"
    with pytest.raises(ConfigInvalid) as exc:
        services.simulation_create(owner=alice, raw_config=two_days)
    fields = {e.field for e in exc.value.errors}
    assert {"resolution", "levels"} <= fields
    assert Simulation.objects.count() == 0


def test_it_rejects_what_the_demo_model_cannot_run(alice, two_days):
    two_days.update(resolution="0.25x0.3125", met="GEOSFP", domain="NA")
    with pytest.raises(ConfigInvalid) as exc:
        services.simulation_create(owner=alice, raw_config=two_days)
    assert any("demo model" in e.message for e in exc.value.errors)


def test_it_creates_a_draft_with_an_event(alice, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    assert sim.status == S.DRAFT
    assert sim.is_demo
    assert sim.segments_total == 1
    assert sim.output_uri.endswith(f"/{sim.id}/")
    event = sim.events.get()
    assert event.to_status == S.DRAFT and event.actor == alice


def test_submitting_queues_the_first_segment_once(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    assert sim.status == S.STARTING
    job = sim.jobs.get()
    assert (job.segment, job.attempt, job.state) == (1, 1, Job.State.SUBMITTED)
    assert job.backend_id == job.name
    assert fake_backend.specs[job.name]["period"]["start"].startswith("2019-01-01")
    # A retried task, a second worker, the CLI: none starts a second job.
    services.segment_submit_next(simulation_id=sim.id)
    services.segment_submit_next(simulation_id=sim.id)
    assert fake_backend.submit_calls == 1
    assert sim.jobs.count() == 1


def test_submitting_twice_changes_nothing_the_second_time(alice, two_days, fake_backend,
                                                           django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    assert services.simulation_submit(simulation_id=sim.id, actor=alice) == ""
    assert sim.events.filter(to_status=S.QUEUED).count() == 1


def test_a_job_that_runs_then_succeeds_finishes_the_simulation(alice, two_days, fake_backend,
                                                               django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    job = sim.jobs.get()
    beat = timezone.now()
    fake_backend.set(job.name, "RUNNING", progress={"percent": 50.0, "simulated_time": "2019-01-02T00:00:00",
                                                    "updated_at": beat.isoformat()}, heartbeat_at=beat)
    tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.RUNNING
    assert sim.progress_percent == 50.0
    assert sim.simulated_until == datetime(2019, 1, 2, tzinfo=dt_timezone.utc)
    assert sim.last_seen_at == beat
    _succeed(fake_backend, job)
    tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.SUCCEEDED
    assert sim.progress_percent == 100.0
    assert sim.finished_at is not None
    statuses = list(sim.events.exclude(to_status="").values_list("to_status", flat=True))
    assert statuses == [S.DRAFT, S.QUEUED, S.STARTING, S.RUNNING, S.SUCCEEDED]


def test_duplicate_and_late_reports_change_nothing(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    job = sim.jobs.get()
    _succeed(fake_backend, job)
    tracking.jobs_sync()
    events = SimulationEvent.objects.count()
    late = JobState(job.name, "RUNNING", progress={"percent": 10.0})
    assert services.job_apply_state(job_id=job.id, state=late) is False
    assert services.job_apply_state(job_id=job.id, state=fake_backend.states[job.name]) is False
    job.refresh_from_db()
    sim.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED and sim.status == S.SUCCEEDED
    assert SimulationEvent.objects.count() == events


def test_segments_chain_through_the_previous_restart(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    two_days.update(start="2019-01-01", end="2019-03-01")  # two calendar months
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    assert sim.segments_total == 2
    first = sim.jobs.get()
    _succeed(fake_backend, first, restart="Restarts/GEOSChem.Restart.20190201_0000z.nc4")
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.RUNNING or sim.status == S.STARTING
    assert sim.segments_done == 1
    assert sim.progress_percent == 50.0
    second = sim.jobs.get(segment=2)
    spec = fake_backend.specs[second.name]
    assert spec["restart"]["uri"] == sim.output_uri + "Restarts/GEOSChem.Restart.20190201_0000z.nc4"
    assert spec["period"]["start"].startswith("2019-02-01")
    _succeed(fake_backend, second)
    tracking.jobs_sync()
    sim.refresh_from_db()
    assert (sim.status, sim.segments_done) == (S.SUCCEEDED, 2)


def test_a_failed_job_fails_the_simulation_with_the_reason(alice, two_days, fake_backend,
                                                           django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    job = sim.jobs.get()
    fake_backend.set(job.name, "FAILED", exit_code=1, reason="model exited with code 1. Last log lines:\nboom",
                     metrics={"status": "failed"})
    tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.FAILED
    assert "exited with code 1" in sim.status_reason and "boom" in sim.status_reason
    job.refresh_from_db()
    assert job.exit_code == 1


def test_an_interrupted_segment_resumes_as_a_new_attempt(alice, two_days, fake_backend,
                                                         django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    job = sim.jobs.get()
    fake_backend.set(job.name, "FAILED", exit_code=143, reason="received SIGTERM", metrics={"status": "interrupted"},
                     interrupted=True)
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status in (S.STARTING, S.RUNNING)
    retry = sim.jobs.get(attempt=2)
    assert retry.segment == 1 and retry.name.endswith("a2")


def test_cancelling_a_queued_simulation_cancels_it_at_once(alice, two_days, fake_backend):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    services.simulation_submit(simulation_id=sim.id, actor=alice)  # the task is not run: no job yet
    assert services.simulation_cancel(simulation_id=sim.id, actor=alice) is True
    sim.refresh_from_db()
    assert sim.status == S.CANCELLED
    assert sim.status_reason == "cancelled by alice@example.org"
    assert fake_backend.cancels == []


def test_cancelling_a_running_simulation_stops_its_job_and_names_who_asked(
        alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    job = sim.jobs.get()
    fake_backend.set(job.name, "RUNNING", progress={"percent": 10.0})
    tracking.jobs_sync()
    assert services.simulation_cancel(simulation_id=sim.id, actor=alice) is True
    sim.refresh_from_db()
    assert sim.status == S.CANCELLING
    assert fake_backend.cancels == [(job.name, "cancelled by alice@example.org")]
    fake_backend.set(job.name, "FAILED", exit_code=143, metrics={"status": "interrupted"})
    tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.CANCELLED
    assert sim.status_reason == "cancelled by alice@example.org"
    assert sim.jobs.count() == 1  # an interrupt caused by a cancel is not resumed


def test_a_finished_simulation_cannot_be_cancelled(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _succeed(fake_backend, sim.jobs.get())
    tracking.jobs_sync()
    assert services.simulation_cancel(simulation_id=sim.id, actor=alice) is False


def test_retry_resumes_a_failed_run_from_its_last_finished_segment(alice, two_days, fake_backend,
                                                                   django_capture_on_commit_callbacks):
    two_days.update(start="2019-01-01", end="2019-03-01")
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _succeed(fake_backend, sim.jobs.get(), restart="Restarts/GEOSChem.Restart.20190201_0000z.nc4")
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    second = sim.jobs.get(segment=2)
    fake_backend.set(second.name, "FAILED", exit_code=1, reason="disk full", metrics={"status": "failed"})
    tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_retry(simulation_id=sim.id, actor=alice) == "queued"
    again = sim.jobs.get(segment=2, attempt=2)
    assert fake_backend.specs[again.name]["restart"]["uri"].endswith("GEOSChem.Restart.20190201_0000z.nc4")
    sim.refresh_from_db()
    assert sim.status == S.STARTING and sim.status_reason == ""


def test_clone_makes_a_new_draft_for_the_person_cloning(alice, bob, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    clone = services.simulation_clone(simulation_id=sim.id, actor=bob)
    assert clone.owner == bob and clone.status == S.DRAFT
    assert clone.name == "Copy of TransportTracers 4x5, two days"
    assert clone.config["resolution"] == sim.config["resolution"]


def test_a_backend_that_refuses_fails_the_simulation_in_plain_words(alice, two_days, fake_backend,
                                                                    django_capture_on_commit_callbacks, monkeypatch):
    def refuse(**kwargs):
        raise BackendError("no compute environment can run 64 vCPUs")

    monkeypatch.setattr(fake_backend, "submit", refuse)
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    assert sim.status == S.FAILED
    assert sim.status_reason == "could not submit: no compute environment can run 64 vCPUs"
    assert sim.jobs.get().state == Job.State.FAILED


def test_sync_resubmits_when_the_submit_task_was_lost(alice, two_days, fake_backend):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    services.simulation_submit(simulation_id=sim.id, actor=alice)  # on_commit never ran: task lost
    counts = tracking.jobs_sync()
    assert counts["resubmitted"] == 1
    assert sim.jobs.count() == 1 and fake_backend.submit_calls == 1


def test_sync_asks_the_backend_once_for_all_active_jobs(alice, two_days, fake_backend,
                                                        django_capture_on_commit_callbacks, django_assert_max_num_queries):
    for _ in range(5):
        _submitted(alice, two_days, django_capture_on_commit_callbacks)
    fake_backend.describe_calls = 0
    tracking.jobs_sync()
    assert fake_backend.describe_calls == 1


def test_a_silent_job_is_marked_failed_with_the_reason(alice, two_days, fake_backend,
                                                       django_capture_on_commit_callbacks, settings):
    settings.STUCK_AFTER_MINUTES = 30
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    job = sim.jobs.get()
    Job.objects.filter(id=job.id).update(last_seen_at=timezone.now() - timedelta(minutes=45), state="RUNNING")
    assert tracking.jobs_mark_stuck() == 1
    sim.refresh_from_db()
    assert sim.status == S.FAILED
    assert "no heartbeat from the runner for 45 minutes" in sim.status_reason
    assert fake_backend.cancels and fake_backend.cancels[0][0] == job.name


def test_a_recent_heartbeat_is_not_stuck(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    Job.objects.filter(simulation=sim).update(last_seen_at=timezone.now() - timedelta(minutes=2))
    assert tracking.jobs_mark_stuck() == 0


def test_a_segment_without_the_previous_restart_fails_instead_of_starting_from_nothing(
        alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    two_days.update(start="2019-01-01", end="2019-03-01")
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    first = sim.jobs.get()
    fake_backend.set(first.name, "SUCCEEDED", exit_code=0, metrics=None)
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.FAILED
    assert sim.status_reason == "segment 1 finished without reporting its restart file, so segment 2 cannot start"
    assert not sim.jobs.filter(segment=2).exists()


def test_a_transient_backend_error_leaves_the_run_queued_and_the_next_sync_submits_it(
        alice, two_days, fake_backend, monkeypatch):
    from simulations.backends.base import BackendTransientError

    sim = services.simulation_create(owner=alice, raw_config=two_days)
    services.simulation_submit(simulation_id=sim.id, actor=alice)
    real_submit = fake_backend.submit

    def busy(**kwargs):
        raise BackendTransientError("AWS Batch is busy (TooManyRequestsException)")

    monkeypatch.setattr(fake_backend, "submit", busy)
    with pytest.raises(BackendTransientError):
        services.segment_submit_next(simulation_id=sim.id)
    sim.refresh_from_db()
    assert sim.status == S.QUEUED
    assert sim.jobs.get().backend_id == ""
    monkeypatch.setattr(fake_backend, "submit", real_submit)
    assert tracking.jobs_sync()["resubmitted"] == 1
    sim.refresh_from_db()
    job = sim.jobs.get()
    assert (sim.status, job.attempt, job.backend_id) == (S.STARTING, 1, job.name)
    assert fake_backend.submit_calls == 1
