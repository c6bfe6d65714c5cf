"""Reconciliation: the platform's figure for each simulation and month beside AWS's bill.

The platform's figure is what it recorded (JobCost + StorageCharge); AWS's is Cost Explorer's,
grouped by the `gcr:simulation` tag every Batch job carries. Both are kept side by side, never
merged: the difference is information (idle instances, data transfer, tags not yet active).
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from costs import cost_explorer
from costs.models import CostReconciliation, JobCost, StorageCharge
from simulations.models import Simulation


def _months(today: date) -> tuple[date, date]:
    this_month = today.replace(day=1)
    return (this_month - timedelta(days=1)).replace(day=1), this_month


def costs_reconcile(*, today: date) -> dict:
    """Upsert a CostReconciliation for every simulation AWS or the platform reports for last
    month and this month to date. One Cost Explorer call (plus pages) and a bounded number of queries."""
    start, this_month = _months(today)
    end = today if today > this_month else this_month  # Cost Explorer's end is exclusive
    aws_figures: dict[tuple[str, date], Decimal] = {}
    for item in cost_explorer.monthly_costs_by_tag(start=start, end=end):
        if _is_uuid(item.tag_value):
            key = (item.tag_value, item.month)
            aws_figures[key] = aws_figures.get(key, Decimal(0)) + item.usd
    platform: dict[tuple[str, date], Decimal] = {}
    for model in (JobCost, StorageCharge):
        for row in (model.objects.filter(month__gte=start, notional=False).values("simulation_id", "month")
                    .annotate(total=Sum("usd"))):
            key = (str(row["simulation_id"]), row["month"])
            platform[key] = platform.get(key, Decimal(0)) + row["total"]
    known = {str(i) for i in Simulation.objects.filter(
        id__in={uuid.UUID(sim_id) for sim_id, _ in aws_figures | platform}).values_list("id", flat=True)}
    now = timezone.now()
    rows = [CostReconciliation(simulation_id=sim_id, month=month, platform_usd=platform.get((sim_id, month), 0),
                               aws_usd=aws_figures.get((sim_id, month), 0), fetched_at=now)
            for sim_id, month in sorted(aws_figures | platform) if sim_id in known]
    CostReconciliation.objects.bulk_create(rows, update_conflicts=True, unique_fields=["simulation", "month"],
                                           update_fields=["platform_usd", "aws_usd", "fetched_at"])
    unknown = sorted({sim_id for sim_id, _ in aws_figures} - known)
    return {"reconciled": len(rows), "aws_usd": str(sum(aws_figures.values(), Decimal(0))),
            "platform_usd": str(sum(platform.values(), Decimal(0))), "unknown_simulations": unknown}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
