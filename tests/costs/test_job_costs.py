"""Actual cost from job times, samples from finished runs, storage charges."""

from datetime import date, datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest

from costs import selectors, services, tasks
from costs.models import InstancePrice, InstanceType, JobCost, SpotPrice, StorageCharge, ThroughputSample
from simulations import services as sim_services, tracking
from simulations.models import Job

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc
START = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)


def _job(alice, config, *, instance="c7i.16xlarge", capacity="on-demand", backend="batch", hours=4.0, nodes=1,
         state=Job.State.SUCCEEDED, metrics=None):
    sim = sim_services.simulation_create(owner=alice, raw_config=config)
    spec = {"compute": {"instance_type": instance, "capacity": capacity, "nodes": nodes, "cores_per_node": 32}}
    return Job.objects.create(simulation=sim, segment=1, attempt=1, name=f"job-{sim.short_id}", backend=backend,
                              backend_id="b-1", state=state, spec=spec, period_start=START, period_end=START,
                              started_at=START, stopped_at=START + timedelta(hours=hours), metrics=metrics)


def test_an_on_demand_job_costs_its_hours_times_nodes_times_the_list_price(alice, two_days):
    job = _job(alice, two_days, hours=4.0)
    cost = services.job_cost_record(job_id=job.id)
    price = InstancePrice.objects.get(instance_type__name="c7i.16xlarge", region="us-east-1").usd_per_hour
    assert cost.usd == (price * 4).quantize(Decimal("0.000001"))
    assert (cost.hours, cost.nodes, cost.priced, cost.notional) == (4.0, 1, True, False)
    assert cost.month == date(2026, 11, 1)
    assert "on-demand list price in us-east-1" in cost.price_source
    assert cost.owner == alice


def test_a_multi_node_job_pays_for_every_node(alice, two_days):
    job = _job(alice, two_days, hours=2.0, nodes=3)
    cost = services.job_cost_record(job_id=job.id)
    price = InstancePrice.objects.get(instance_type__name="c7i.16xlarge", region="us-east-1").usd_per_hour
    assert cost.usd == (price * 2 * 3).quantize(Decimal("0.000001"))


def test_a_spot_job_pays_the_mean_spot_price_in_effect_when_it_started(alice, two_days):
    inst = InstanceType.objects.get(name="c7i.16xlarge")
    for zone, before, after in (("us-east-1a", "1.00", "9.00"), ("us-east-1b", "1.20", "9.00")):
        SpotPrice.objects.create(instance_type=inst, region="us-east-1", availability_zone=zone,
                                 usd_per_hour=Decimal(before), at=START - timedelta(days=2))
        # A later change does not reprice a job that had already started.
        SpotPrice.objects.create(instance_type=inst, region="us-east-1", availability_zone=zone,
                                 usd_per_hour=Decimal(after), at=START + timedelta(hours=1))
    job = _job(alice, two_days, capacity="spot", hours=10.0)
    cost = services.job_cost_record(job_id=job.id)
    assert cost.usd_per_hour == Decimal("1.100000")
    assert cost.usd == Decimal("11.000000")
    assert "mean over 2 zone(s)" in cost.price_source


def test_a_spot_job_without_history_says_it_used_the_typical_discount(alice, two_days):
    job = _job(alice, two_days, capacity="spot", hours=1.0)
    cost = services.job_cost_record(job_id=job.id)
    listed = InstancePrice.objects.get(instance_type__name="c7i.16xlarge", region="us-east-1").usd_per_hour
    assert cost.usd_per_hour == (listed * Decimal("0.45")).quantize(Decimal("0.000001"))
    assert "no Spot price history" in cost.price_source and "typical 55% discount" in cost.price_source


def test_a_job_on_an_unknown_instance_type_is_marked_unpriced_with_the_reason(alice, two_days):
    job = _job(alice, two_days, instance="x9z.metal")
    cost = services.job_cost_record(job_id=job.id)
    assert (cost.priced, cost.usd) == (False, Decimal(0))
    assert cost.price_source.startswith("not priced: x9z.metal is not in the instance catalog")


def test_a_local_job_is_priced_as_if_on_aws_and_marked_notional(alice, two_days):
    job = _job(alice, two_days, backend="local", hours=1.0)
    cost = services.job_cost_record(job_id=job.id)
    assert cost.notional and cost.priced and cost.usd > 0


def test_a_job_that_never_started_cost_nothing(alice, two_days):
    job = _job(alice, two_days, state=Job.State.FAILED)
    Job.objects.filter(id=job.id).update(started_at=None)
    cost = services.job_cost_record(job_id=job.id)
    assert (cost.hours, cost.usd) == (0.0, Decimal(0))


def test_a_job_cost_is_recorded_once_and_not_before_the_job_ends(alice, two_days):
    running = _job(alice, two_days, state=Job.State.RUNNING)
    assert services.job_cost_record(job_id=running.id) is None
    Job.objects.filter(id=running.id).update(state=Job.State.SUCCEEDED)
    first = services.job_cost_record(job_id=running.id)
    assert services.job_cost_record(job_id=running.id) == first
    assert JobCost.objects.count() == 1


def test_the_lifecycle_records_cost_sample_and_storage_when_a_run_ends(
        alice, two_days, fake_backend, django_capture_on_commit_callbacks, tmp_path):
    two_days["compute"] = {"instance_type": "c7g.8xlarge", "capacity": "on-demand"}
    sim = sim_services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        sim_services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = sim.jobs.get()
    outputs = tmp_path / "outputs" / str(sim.id)
    outputs.mkdir(parents=True)
    (outputs / "GEOSChem.SpeciesConc.20190101_0000z.nc4").write_bytes(b"x" * 5000)
    metrics = {"status": "succeeded", "days_per_day": 9000.0, "simulated_days": 2.0, "model_wall_seconds": 19.2,
               "peak_rss_mb": 512.0, "instance_type": "c7g.8xlarge", "outputs": [], "restart": "r.nc4"}
    fake_backend.set(job.name, "SUCCEEDED", exit_code=0, metrics=metrics, progress={"percent": 100.0},
                     started_at=START, stopped_at=START + timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    cost = JobCost.objects.get(job=job)
    assert (cost.instance_type, cost.hours, cost.notional) == ("c7g.8xlarge", 0.5, True)
    sample = ThroughputSample.objects.get(job=job)
    assert (sample.is_demo, sample.confidence, sample.days_per_day) == (True, "demo-model", 9000.0)
    assert sample.peak_memory_gib == 0.5
    charge = StorageCharge.objects.get(simulation=sim)
    assert charge.gb == pytest.approx(5000 / 1e9)
    # The demo model's sample never calibrates GEOS-Chem estimates.
    assert all(f.confidence != "demo-model" for f in selectors.throughput_figures())


def test_a_geoschem_run_becomes_a_platform_measured_sample(alice, two_days, settings):
    metrics = {"days_per_day": 150.0, "simulated_days": 31.0, "model_wall_seconds": 17856, "peak_rss_mb": 10240,
               "instance_type": "c7g.16xlarge"}
    job = _job(alice, two_days, instance="c7g.16xlarge", metrics=metrics)
    job.simulation.executable = "/opt/geos-chem/bin/gcclassic"
    job.simulation.save()
    sample = services.sample_record(job_id=job.id)
    assert (sample.confidence, sample.is_demo, sample.instance_type, sample.cores) == (
        "platform-measured", False, "c7g.16xlarge", 32)
    assert sample.resolution == "4x5" and sample.simulation_type == "TransportTracers"
    assert any(f.confidence == "platform-measured" for f in selectors.throughput_figures())


def test_a_run_shorter_than_a_simulated_day_gives_no_sample(alice, two_days):
    job = _job(alice, two_days, metrics={"days_per_day": 50.0, "simulated_days": 0.25})
    assert services.sample_record(job_id=job.id) is None


def test_storage_is_carried_into_the_next_month_once(alice, two_days):
    job = _job(alice, two_days)
    StorageCharge.objects.create(simulation=job.simulation, owner=alice, month=date(2026, 11, 1), gb=100.0,
                                 usd_per_gb_month=Decimal("0.023"), usd=Decimal("2.3"))
    assert services.storage_accrue(month=date(2026, 12, 1)) == 1
    assert services.storage_accrue(month=date(2026, 12, 1)) == 0
    december = StorageCharge.objects.get(month=date(2026, 12, 1))
    assert (december.gb, december.usd) == (100.0, Decimal("2.3"))


def test_pricing_running_jobs_takes_the_same_queries_for_one_or_many(alice, two_days, django_assert_num_queries):
    jobs = [_job(alice, two_days, state=Job.State.RUNNING) for _ in range(6)]
    now = START + timedelta(hours=2)
    with django_assert_num_queries(3):
        one = services.running_cost_so_far(jobs[:1], now=now)
    with django_assert_num_queries(3):
        many = services.running_cost_so_far(jobs, now=now)
    assert many == one * 6 and one > 0


def test_the_job_finished_task_is_harmless_twice(alice, two_days):
    job = _job(alice, two_days, metrics={"days_per_day": 50.0, "simulated_days": 2.0})
    tasks.job_finished(job.id)
    tasks.job_finished(job.id)
    assert JobCost.objects.count() == 1 and ThroughputSample.objects.filter(job=job).count() == 1
