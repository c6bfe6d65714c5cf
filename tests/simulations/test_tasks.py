"""The django-q2 tasks are thin and safe to run twice."""

import fcntl
from pathlib import Path

import pytest

from simulations import services, tasks
from simulations.models import Simulation

pytestmark = pytest.mark.django_db


def test_submit_task_submits_once_however_often_it_runs(alice, two_days, fake_backend):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    services.simulation_submit(simulation_id=sim.id, actor=alice)
    first = tasks.submit_next_segment(str(sim.id))
    second = tasks.submit_next_segment(str(sim.id))
    assert first == second == sim.jobs.get().name
    assert fake_backend.submit_calls == 1
    # the submit task also started a sync, which asked the backend about the new job
    assert fake_backend.describe_calls == 2


def test_submit_task_does_nothing_for_a_draft(alice, two_days, fake_backend):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    assert tasks.submit_next_segment(str(sim.id)) is None
    assert fake_backend.submit_calls == 0


def test_sync_task_applies_states_and_counts(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = sim.jobs.get()
    fake_backend.set(job.name, "SUCCEEDED", exit_code=0, metrics={"status": "succeeded"})
    totals = tasks.sync_active_jobs()
    assert totals["checked"] == 1 and totals["changed"] == 1
    assert Simulation.objects.get(id=sim.id).status == "succeeded"


def test_only_one_sync_loop_runs_at_a_time(settings, fake_backend):
    with open(Path(settings.DATA_DIR) / "sync.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert tasks.sync_active_jobs() == "another sync is running"
    assert fake_backend.describe_calls == 0
    assert tasks.sync_active_jobs() == {"checked": 0, "changed": 0, "resubmitted": 0, "cancelled": 0}
