"""What changes cost records: estimates at submission, job costs, samples from runs, storage.

Each is safe to run twice: the rows are unique per job, per simulation or per month, and a
second call returns the first call's row. Budget services are in costs/budgets.py.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from costs import estimator
from costs.models import JobCost, RunEstimate, StorageCharge, ThroughputSample, month_of
from costs.pricing import PriceBook, job_hours
from costs.selectors import EstimateReport, UpperCost, estimate_configuration, upper_cost
from simulations.config import parse_config
from simulations.models import Job, Simulation

log = logging.getLogger(__name__)
# A throughput figure from less than a simulated day is mostly start-up: too noisy to keep.
MIN_SAMPLE_DAYS = 1.0
USD = Decimal("0.000001")


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(USD)


# --- Estimates at submission -------------------------------------------------------------------

def simulation_estimate(sim: Simulation, *, fraction: float = 1.0) -> tuple[EstimateReport, UpperCost]:
    """The estimate report for a simulation's configuration and what admission would hold."""
    cfg = parse_config(sim.config)
    report = estimate_configuration(cfg, region=settings.AWS_REGION, demo=sim.is_demo)
    return report, upper_cost(cfg, report, fraction=fraction)


def run_estimate_record(*, sim: Simulation, report: EstimateReport, upper: UpperCost) -> RunEstimate:
    """Keep the first submission's estimate of the chosen option (a resumed run keeps it too)."""
    cfg = parse_config(sim.config)
    chosen = report.for_choice(cfg.compute.instance_type, cfg.compute.nodes if cfg.model == "gchp" else 1)
    fields = {"instance_type": cfg.compute.instance_type or "", "capacity": cfg.compute.capacity,
              "region": report.region, "basis": upper.basis, "usd_high": upper.usd}
    if chosen is not None:
        cost = chosen.cost_usd.get("spot" if cfg.compute.capacity == "spot" else "on_demand") \
            or chosen.cost_usd["on_demand"]
        storage = chosen.output_storage_usd_per_month
        fields.update(hours_low=chosen.hours.low, hours_expected=chosen.hours.expected, hours_high=chosen.hours.high,
                      usd_low=_money(cost.low + storage), usd_expected=_money(cost.expected + storage))
    estimate, _ = RunEstimate.objects.get_or_create(simulation=sim, defaults=fields)
    return estimate


# --- What a job cost -------------------------------------------------------------------------------

def _job_instance(job: Job) -> str:
    """The instance type a job ran on: the runner's report first, then what the spec asked for."""
    return (job.metrics or {}).get("instance_type") or (job.spec.get("compute") or {}).get("instance_type") or ""


def job_cost_record(*, job_id: int) -> JobCost | None:
    """Record what a finished job cost: (stop - start) x nodes x the price per node-hour paid.

    On-demand jobs pay the list price; Spot jobs the Spot price in effect when they started
    (costs/pricing.py). A job on the local backend is priced as if it had run on AWS and
    marked notional. Returns None for a job that is not final yet."""
    job = Job.objects.select_related("simulation").filter(id=job_id).first()
    if job is None or not job.is_final:
        return None
    existing = JobCost.objects.filter(job=job).first()
    if existing is not None:
        return existing
    sim = job.simulation
    compute = job.spec.get("compute") or {}
    capacity = compute.get("capacity") or "on-demand"
    nodes = int(compute.get("nodes") or 1)
    stopped = job.stopped_at or timezone.now()
    started = job.started_at or stopped
    instance = _job_instance(job)
    region = settings.AWS_REGION
    price = PriceBook([instance], region=region, start=started, end=stopped).hourly(instance, capacity, started)
    hours = job_hours(job.started_at, stopped)
    usd = _money(price.usd_per_hour * Decimal(str(hours)) * nodes) if price.usd_per_hour is not None else Decimal(0)
    source = price.source if price.usd_per_hour is not None else f"not priced: {price.source}"
    try:
        with transaction.atomic():
            return JobCost.objects.create(
                job=job, simulation=sim, owner_id=sim.owner_id, group_id=sim.group_id, month=month_of(stopped),
                instance_type=instance, capacity=capacity, nodes=nodes, region=region, started_at=started,
                stopped_at=stopped, hours=hours, usd_per_hour=price.usd_per_hour or 0, usd=usd,
                price_source=source, priced=price.usd_per_hour is not None, notional=job.backend != "batch")
    except IntegrityError:  # another worker recorded it first
        return JobCost.objects.get(job=job)


def running_costs(jobs: list[Job], *, now=None) -> dict:
    """What running `jobs` have cost up to `now` (time so far x nodes x the price per node-hour),
    by simulation id, with one PriceBook (at most three queries) for all of them."""
    now = now or timezone.now()
    started = [job for job in jobs if job.started_at and not job.is_final]
    if not started:
        return {}
    book = PriceBook([_job_instance(job) for job in started], region=settings.AWS_REGION,
                     start=min(job.started_at for job in started), end=now)
    totals: dict = {}
    for job in started:
        compute = job.spec.get("compute") or {}
        price = book.hourly(_job_instance(job), compute.get("capacity") or "on-demand", job.started_at)
        if price.usd_per_hour is not None:
            usd = price.usd_per_hour * Decimal(str(job_hours(job.started_at, now))) * int(compute.get("nodes") or 1)
            totals[job.simulation_id] = totals.get(job.simulation_id, Decimal(0)) + usd
    return {sim_id: _money(usd) for sim_id, usd in totals.items()}


def running_cost_so_far(jobs: list[Job], *, now=None) -> Decimal:
    """What jobs still running have cost up to `now` (budget checks between segments)."""
    return _money(sum(running_costs(jobs, now=now).values(), Decimal(0)))


# --- Samples from finished runs ---------------------------------------------------------------------

def sample_record(*, job_id: int) -> ThroughputSample | None:
    """A throughput sample from a succeeded job's metrics.json; demo-model runs are labelled so
    and never feed GEOS-Chem estimates. None when the job has no usable figure."""
    job = Job.objects.select_related("simulation").filter(id=job_id, state=Job.State.SUCCEEDED).first()
    metrics = (job.metrics or {}) if job else {}
    days_per_day = metrics.get("days_per_day")
    if job is None or not days_per_day or (metrics.get("simulated_days") or 0) < MIN_SAMPLE_DAYS:
        return None
    sim = job.simulation
    compute = job.spec.get("compute") or {}
    nodes = int(compute.get("nodes") or 1)
    peak_mb = metrics.get("peak_rss_mb")
    campaign = getattr(getattr(sim, "benchmark", None), "campaign", None)
    where = f"benchmark campaign '{campaign.name}', " if campaign else ""
    try:
        with transaction.atomic():
            return ThroughputSample.objects.create(
                model=sim.model, simulation_type=sim.simulation_type, resolution=sim.resolution,
                levels=int(sim.config.get("levels") or 72), instance_type=_job_instance(job),
                cores=nodes * int(compute.get("cores_per_node") or 1), nodes=nodes, days_per_day=float(days_per_day),
                peak_memory_gib=round(peak_mb / 1024, 3) if peak_mb else None,
                source=f"{where}platform run {sim.short_id} ({sim.name}), {job.name}",
                confidence="demo-model" if sim.is_demo else "platform-measured", is_demo=sim.is_demo,
                measured_on=(job.stopped_at or timezone.now()).date(), job=job,
                notes=f"{metrics.get('simulated_days')} simulated days in {metrics.get('model_wall_seconds')} s "
                      "of model time" + (" (demo model, not GEOS-Chem)" if sim.is_demo else ""))
    except IntegrityError:
        return ThroughputSample.objects.filter(job=job).first()


# --- Storage ---------------------------------------------------------------------------------------

def storage_charge_record(*, simulation_id, month: date | None = None) -> StorageCharge | None:
    """Charge a simulation's outputs for a month (at S3 Standard's price), measured by listing them.

    Called when a run ends; the monthly accrual carries the size forward without listing again."""
    from simulations.outputs import output_files

    sim = Simulation.objects.filter(id=simulation_id).first()
    if sim is None:
        return None
    month = month or month_of(timezone.now())
    gb = sum(f.size for f in output_files(sim)) / 1e9
    price = _money(estimator.S3_STANDARD_USD_PER_GB_MONTH)
    charge, _ = StorageCharge.objects.update_or_create(
        simulation=sim, month=month,
        defaults=dict(owner_id=sim.owner_id, group_id=sim.group_id, gb=gb, usd_per_gb_month=price,
                      usd=_money(Decimal(str(gb)) * price), notional=not sim.output_uri.startswith("s3://")))
    return charge


def storage_accrue(*, month: date) -> int:
    """Carry every simulation's stored outputs into `month` (each month they are kept is paid).

    Two queries whatever the number of simulations; a month already charged is left alone."""
    previous = date(month.year - (month.month == 1), 12 if month.month == 1 else month.month - 1, 1)
    carried = [StorageCharge(simulation_id=c.simulation_id, owner_id=c.owner_id, group_id=c.group_id, month=month,
                             gb=c.gb, usd_per_gb_month=c.usd_per_gb_month, usd=c.usd, notional=c.notional)
               for c in StorageCharge.objects.filter(month=previous).exclude(
                   simulation__storage_charges__month=month)]
    StorageCharge.objects.bulk_create(carried, ignore_conflicts=True)
    return len(carried)
