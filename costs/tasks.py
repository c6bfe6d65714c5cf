"""django-q2 tasks for costs: thin edges that take ids, call services, and are safe to run twice."""

from django.conf import settings
from django.utils import timezone

from costs import budgets, services
from costs.models import Budget, month_of
from simulations.models import Job


def job_finished(job_id: int) -> dict:
    """A job reached a final state: record its cost and throughput sample, charge the outputs'
    storage when its simulation has ended, and check the budgets it spends from."""
    job = Job.objects.select_related("simulation").filter(id=job_id).first()
    if job is None:
        return {}
    cost = services.job_cost_record(job_id=job_id)
    sample = services.sample_record(job_id=job_id)
    sim = job.simulation
    sim.refresh_from_db(fields=["status"])
    if sim.is_final:
        services.storage_charge_record(simulation_id=sim.id)
    checked = {b.id: budgets.budget_check(budget_id=b.id) for b in Budget.objects.filter(budgets.budgets_for(sim))}
    return {"usd": str(cost.usd) if cost else None, "sample": sample.id if sample else None, "budgets": checked}


def check_budgets() -> dict:
    """Every budget's thresholds and limit, including what running jobs have cost so far."""
    return {budget_id: budgets.budget_check(budget_id=budget_id)
            for budget_id in Budget.objects.values_list("id", flat=True)}


def send_budget_alert(alert_id: int) -> dict:
    return budgets.alert_deliver(alert_id=alert_id)


def accrue_storage() -> int:
    """Charge this month's storage for every simulation whose outputs were charged last month."""
    return services.storage_accrue(month=month_of(timezone.now()))


def reconcile_costs() -> dict | str:
    """Compare this month's and last month's figures with AWS Cost Explorer (batch backend only)."""
    if not settings.BATCH:
        return "the batch backend is off: there is no AWS bill to reconcile with"
    from costs import reconciliation

    return reconciliation.costs_reconcile(today=timezone.now().date())


def refresh_prices() -> dict | str:
    """On-demand prices and 30 days of Spot history from AWS (batch backend only): 30 days so the
    price in effect when a job started is there even if it last changed weeks ago."""
    if not settings.BATCH:
        return "the batch backend is off: prices stay as the shipped snapshot"
    from costs import prices

    return prices.prices_refresh(regions=prices.default_regions(), spot_days=30)
