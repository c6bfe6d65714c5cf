"""The whole path on the embedded default: CLI -> services -> local backend -> runner -> demo model."""

import json
import os
import signal
import time
from pathlib import Path

import pytest
import xarray as xr
from django.core.management import call_command

from simulations import services, tracking
from simulations.backends import get_backend
from simulations.models import Job, Simulation

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _sync_until_final(sim, timeout_s):
    """What the scheduled sync does, until the simulation ends (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tracking.jobs_sync()
        sim.refresh_from_db()
        if sim.is_final:
            return
        time.sleep(0.2)


def test_the_two_day_example_runs_to_success_with_geoschem_files(capsys):
    call_command("run_simulation", "--config", str(ROOT / "examples" / "demo-transport-tracers-4x5.yml"),
                 "--wait", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "succeeded", summary["status_reason"]
    assert summary["model"] == "classic" and summary["demo_model"] is True
    species = [p for p in summary["outputs"] if p.endswith("GEOSChem.SpeciesConc.20190101_0000z.nc4")]
    assert species, summary["outputs"]
    with xr.open_dataset(species[0]) as ds:
        assert set(ds["SpeciesConcVV_Rn222"].dims) == {"time", "lev", "lat", "lon"}
        assert "demo model" in ds.attrs["title"].lower() or "demo_model" in ds.attrs
    sim = Simulation.objects.get(id=summary["id"])
    job = sim.jobs.get()
    assert job.state == Job.State.SUCCEEDED and job.metrics["status"] == "succeeded"
    assert sim.events.filter(to_status="succeeded").exists()


def test_a_run_killed_while_nobody_watched_is_found_by_the_next_sync(alice, two_days, settings):
    two_days.update(start="2019-01-01", end="2019-02-01")  # long enough to kill mid-run
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = services.segment_submit_next(simulation_id=sim.id)
    pid = int((Path(settings.LOCAL_JOBS_DIR) / job.name / "runner.pid").read_text())
    time.sleep(1.0)
    os.killpg(pid, signal.SIGKILL)  # no SIGTERM: nothing gets to write metrics.json
    _sync_until_final(sim, 20)
    assert sim.status == Simulation.Status.FAILED
    assert "stopped without reporting an end" in sim.status_reason


def test_cancelling_a_running_demo_run_stops_it(alice, two_days):
    two_days.update(start="2019-01-01", end="2019-03-01")
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = services.segment_submit_next(simulation_id=sim.id)
    backend = get_backend()
    deadline = time.monotonic() + 20
    while backend.describe([job.name])[job.name].state != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    tracking.jobs_sync()
    assert services.simulation_cancel(simulation_id=sim.id, actor=alice) is True
    _sync_until_final(sim, 40)
    assert sim.status == Simulation.Status.CANCELLED
    assert sim.status_reason == "cancelled by alice@example.org"
    job.refresh_from_db()
    assert job.metrics["status"] == "interrupted"
