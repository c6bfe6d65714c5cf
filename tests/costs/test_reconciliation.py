"""Cost Explorer's figures by cost-allocation tag beside the platform's own (Stubber for Cost Explorer)."""

from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from botocore.stub import Stubber

from costs import cost_explorer, reconciliation, tasks
from costs.models import CostReconciliation, JobCost, StorageCharge
from simulations import aws, services
from simulations.backends.base import BackendError, BackendTransientError
from simulations.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def ce(aws_credentials):
    aws.reset_clients()
    client = aws.client("ce", region="us-east-1")
    with Stubber(client) as stub:
        yield stub
    aws.reset_clients()


def _period(start, end, groups, estimated=False):
    return {"TimePeriod": {"Start": start, "End": end}, "Estimated": estimated, "Total": {},
            "Groups": [{"Keys": [f"gcr:simulation${value}"], "Metrics": {"UnblendedCost": {"Amount": amount,
                                                                                           "Unit": "USD"}}}
                       for value, amount in groups]}


def _request(start, end, token=None):
    request = {"TimePeriod": {"Start": start, "End": end}, "Granularity": "MONTHLY", "Metrics": ["UnblendedCost"],
               "GroupBy": [{"Type": "TAG", "Key": "gcr:simulation"}]}
    if token:
        request["NextPageToken"] = token
    return request


def test_the_wrapper_reads_every_page_and_splits_the_tag_values(ce):
    ce.add_response("get_cost_and_usage", {"ResultsByTime": [_period("2026-11-01", "2026-12-01", [("abc", "1.5")])],
                                           "NextPageToken": "p2"}, _request("2026-11-01", "2026-12-01"))
    ce.add_response("get_cost_and_usage", {"ResultsByTime": [_period("2026-11-01", "2026-12-01", [("", "0.25")],
                                                                     estimated=True)]},
                    _request("2026-11-01", "2026-12-01", "p2"))
    found = cost_explorer.monthly_costs_by_tag(start=date(2026, 11, 1), end=date(2026, 12, 1))
    assert found == [cost_explorer.TagCost("abc", date(2026, 11, 1), Decimal("1.5"), False),
                     cost_explorer.TagCost("", date(2026, 11, 1), Decimal("0.25"), True)]


def test_the_wrapper_turns_aws_errors_into_the_projects_own(ce):
    ce.add_client_error("get_cost_and_usage", service_error_code="AccessDeniedException",
                        service_message="not allowed: ce:GetCostAndUsage", http_status_code=400)
    with pytest.raises(BackendError, match="not allowed: ce:GetCostAndUsage"):
        cost_explorer.monthly_costs_by_tag(start=date(2026, 11, 1), end=date(2026, 12, 1))
    ce.add_client_error("get_cost_and_usage", service_error_code="LimitExceededException", http_status_code=503)
    with pytest.raises(BackendTransientError):
        cost_explorer.monthly_costs_by_tag(start=date(2026, 11, 1), end=date(2026, 12, 1))


def _cost(sim, usd, month, notional=False):
    when = datetime(month.year, month.month, 2, tzinfo=dt_timezone.utc)
    job = Job.objects.create(simulation=sim, segment=1, attempt=Job.objects.count() + 1,
                             name=f"j{Job.objects.count()}", backend="batch", state="SUCCEEDED", spec={},
                             period_start=when, period_end=when)
    JobCost.objects.create(job=job, simulation=sim, owner=sim.owner, month=month, instance_type="c7g.16xlarge",
                           capacity="spot", nodes=1, region="us-east-1", started_at=when, stopped_at=when, hours=1,
                           usd_per_hour=usd, usd=usd, price_source="test", notional=notional)


def test_reconciliation_keeps_both_figures_per_simulation_and_month(alice, two_days, monkeypatch):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    other = services.simulation_create(owner=alice, raw_config=two_days)
    november, december = date(2026, 11, 1), date(2026, 12, 1)
    _cost(sim, Decimal("10"), november)
    StorageCharge.objects.create(simulation=sim, owner=alice, month=november, gb=10, usd_per_gb_month=Decimal("0.023"),
                                 usd=Decimal("0.23"))
    _cost(other, Decimal("4"), december)
    _cost(other, Decimal("99"), december, notional=True)  # local runs are not on the AWS bill
    asked = []

    def fake_costs(*, start, end):
        asked.append((start, end))
        return [cost_explorer.TagCost(str(sim.id), november, Decimal("11.10"), False),
                cost_explorer.TagCost("", november, Decimal("3"), False),
                cost_explorer.TagCost("11111111-2222-3333-4444-555555555555", december, Decimal("1"), True)]

    monkeypatch.setattr(cost_explorer, "monthly_costs_by_tag", fake_costs)
    result = reconciliation.costs_reconcile(today=date(2026, 12, 15))
    assert asked == [(november, date(2026, 12, 15))]
    rows = {(r.simulation_id, r.month): (r.platform_usd, r.aws_usd) for r in CostReconciliation.objects.all()}
    assert rows == {(sim.id, november): (Decimal("10.23"), Decimal("11.10")),
                    (other.id, december): (Decimal("4"), Decimal("0"))}
    assert result["unknown_simulations"] == ["11111111-2222-3333-4444-555555555555"]
    # Again: the rows are updated, not added.
    reconciliation.costs_reconcile(today=date(2026, 12, 15))
    assert CostReconciliation.objects.count() == 2


def test_on_the_first_of_the_month_only_last_month_is_asked_for(monkeypatch):
    asked = []
    monkeypatch.setattr(cost_explorer, "monthly_costs_by_tag",
                        lambda *, start, end: asked.append((start, end)) or [])
    reconciliation.costs_reconcile(today=date(2026, 12, 1))
    assert asked == [(date(2026, 11, 1), date(2026, 12, 1))]


def test_the_task_does_nothing_without_the_batch_backend(settings):
    settings.BATCH = False
    assert "batch backend is off" in tasks.reconcile_costs()
    assert "batch backend is off" in tasks.refresh_prices()
