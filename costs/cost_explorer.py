"""The one wrapper for AWS Cost Explorer: monthly cost grouped by a cost-allocation tag.

Cost Explorer answers in us-east-1 only. Batch jobs carry the tag `gcr:simulation` (and
propagate it to their ECS tasks); it must be activated as a cost-allocation tag in the billing
console, and per-job figures need ECS split cost allocation data switched on (docs/aws.md).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from simulations import aws

CE_REGION = "us-east-1"
SIMULATION_TAG = "gcr:simulation"


@dataclass(frozen=True)
class TagCost:
    tag_value: str  # "" for costs without the tag
    month: date  # the period's first day
    usd: Decimal
    estimated: bool  # the month is not closed yet: AWS may still revise it


def monthly_costs_by_tag(*, start: date, end: date, tag: str = SIMULATION_TAG) -> list[TagCost]:
    """Unblended cost per tag value per month for [start, end) (end exclusive, as AWS takes it)."""
    ce = aws.client("ce", region=CE_REGION)
    request = {"TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()}, "Granularity": "MONTHLY",
               "Metrics": ["UnblendedCost"], "GroupBy": [{"Type": "TAG", "Key": tag}]}
    found = []
    with aws.translated("AWS Cost Explorer could not report costs"):
        while True:
            answer = ce.get_cost_and_usage(**request)
            for period in answer.get("ResultsByTime", []):
                month = date.fromisoformat(period["TimePeriod"]["Start"]).replace(day=1)
                for group in period.get("Groups", []):
                    key = (group.get("Keys") or [""])[0]
                    value = key.split("$", 1)[1] if "$" in key else ""
                    amount = group.get("Metrics", {}).get("UnblendedCost", {}).get("Amount", "0")
                    found.append(TagCost(value, month, Decimal(amount), bool(period.get("Estimated"))))
            token = answer.get("NextPageToken")
            if not token:
                return found
            request["NextPageToken"] = token
