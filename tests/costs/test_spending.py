"""The spending selectors (costs/spending.py): sums per month, owner, group and instance family
checked against the rows made here, who sees what, and a constant number of queries."""

from datetime import date, datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, ResearchGroup
from costs import spending
from costs.budgets import budget_standing
from costs.models import (Budget, BudgetAlert, BudgetEvent, CostReconciliation, InstanceType, JobCost, RunEstimate,
                          StorageCharge, month_of)
from simulations import services
from simulations.models import Job, Simulation
from tests.conftest import TWO_DAYS

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc
MARCH, FEBRUARY, JANUARY = date(2026, 3, 1), date(2026, 2, 1), date(2026, 1, 1)
D = Decimal


# --- a tiny factory -----------------------------------------------------------------------------

def make_sim(owner, name="run", group=None, **fields):
    sim = services.simulation_create(owner=owner, raw_config={**TWO_DAYS, "name": name},
                                     group=group.slug if group else "")
    if fields:
        Simulation.objects.filter(pk=sim.pk).update(**fields)
        sim.refresh_from_db()
    return sim


def make_cost(sim, usd, month=MARCH, *, instance_type="c7g.16xlarge", notional=False, priced=True,
              price_source="on-demand list price in us-east-1"):
    """A finished job of `sim` that cost `usd`, stopped in `month`."""
    n = Job.objects.filter(simulation=sim).count() + 1
    when = datetime(month.year, month.month, 10, 8, 0, tzinfo=UTC)
    job = Job.objects.create(simulation=sim, segment=1, attempt=n, name=f"job-{sim.id}-{n}",
                             backend="local" if notional else "batch", state=Job.State.SUCCEEDED, spec={},
                             period_start=when, period_end=when, started_at=when, stopped_at=when + timedelta(hours=1))
    return JobCost.objects.create(job=job, simulation=sim, owner=sim.owner, group=sim.group, month=month,
                                  instance_type=instance_type, capacity="on-demand", nodes=1, region="us-east-1",
                                  started_at=when, stopped_at=when + timedelta(hours=1), hours=1.0,
                                  usd_per_hour=D(usd), usd=D(usd) if priced else D(0), price_source=price_source,
                                  priced=priced, notional=notional)


def make_storage(sim, usd, month=MARCH, *, notional=False):
    return StorageCharge.objects.create(simulation=sim, owner=sim.owner, group=sim.group, month=month, gb=1.0,
                                        usd_per_gb_month=D(usd), usd=D(usd), notional=notional)


def make_estimate(sim, expected, low=None, high=None):
    return RunEstimate.objects.create(simulation=sim, instance_type="c7g.16xlarge", capacity="on-demand",
                                      region="us-east-1", usd_low=D(low or expected), usd_expected=D(expected),
                                      usd_high=D(high or expected), basis="upper estimate on c7g.16xlarge (on-demand)")


@pytest.fixture
def lab(alice):
    group = ResearchGroup.objects.create(name="Atmospheric Chemistry Lab", slug="acl")
    Membership.objects.create(user=alice, group=group)
    return group


@pytest.fixture
def costs(alice, bob, lab):
    """alice's own run, a lab run of bob's (alice is in the lab), and bob's private run."""
    Membership.objects.create(user=bob, group=lab)
    own, shared = make_sim(alice, "alice own"), make_sim(bob, "bob in lab", group=lab)
    private = make_sim(bob, "bob private")
    make_cost(own, "10.50")
    make_cost(own, "2.25", instance_type="c7i.16xlarge")
    make_storage(own, "0.75")
    make_cost(shared, "4.00", instance_type="c7i.16xlarge", notional=True)
    make_storage(shared, "0.10", notional=True)
    make_cost(private, "100.00")
    make_storage(private, "5.00")
    make_cost(own, "1.00", month=FEBRUARY)
    make_storage(own, "0.75", month=FEBRUARY)
    make_cost(private, "50.00", month=JANUARY)
    return own, shared, private


def _labels(shares):
    return {s.label: (s.compute, s.storage) for s in shares}


# --- months ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, month", [("2026-03", MARCH), (" 2025-12 ", date(2025, 12, 1))])
def test_a_month_is_read_from_yyyy_mm(text, month):
    assert spending.month_from_text(text) == month


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-3", "March", "0000-01", "2026-03-01", ""])
def test_anything_else_is_not_a_month_and_the_message_says_what_to_use(text):
    with pytest.raises(spending.MonthInvalid, match="use YYYY-MM"):
        spending.month_from_text(text)


def test_months_count_back_across_a_year():
    assert spending.months_until(FEBRUARY, 3) == [date(2025, 12, 1), JANUARY, FEBRUARY]
    assert spending.month_shift(date(2025, 12, 1), 1) == JANUARY


# --- sums ------------------------------------------------------------------------------------------

def test_spend_per_month_sums_compute_and_storage_separately_with_zeros_for_empty_months(costs, alice):
    months = spending.monthly_spend(alice, until=MARCH, months=4)
    assert [m.month for m in months] == [date(2025, 12, 1), JANUARY, FEBRUARY, MARCH]
    assert [(m.compute, m.storage) for m in months] == [
        (0, 0), (0, 0), (D("1.00"), D("0.75")), (D("10.50") + D("2.25") + D("4.00"), D("0.75") + D("0.10"))]
    assert months[-1].total == D("17.60")


def test_the_month_totals_say_how_much_is_notional_and_which_jobs_could_not_be_priced(costs, alice):
    own = costs[0]
    make_cost(own, "3", instance_type="x9z.metal", priced=False,
              price_source="not priced: x9z.metal is not in the instance catalog")
    make_cost(own, "3", instance_type="x9z.metal", priced=False,
              price_source="not priced: x9z.metal is not in the instance catalog")
    totals = spending.month_totals(alice, MARCH)
    assert (totals.compute, totals.storage) == (D("16.75"), D("0.85"))
    assert totals.notional == D("4.10")  # the lab run was on the local backend
    assert totals.billed == D("13.50")
    assert totals.unpriced_jobs == 2
    assert totals.unpriced == [spending.UnpricedReason("not priced: x9z.metal is not in the instance catalog", 2)]


def test_spend_per_owner_and_per_group_add_up_the_rows(costs, alice, lab):
    assert _labels(spending.spend_by_owner(alice, MARCH)) == {
        "alice@example.org": (D("12.75"), D("0.75")), "bob@example.org": (D("4.00"), D("0.10"))}
    assert _labels(spending.spend_by_group(alice, MARCH)) == {
        spending.NO_GROUP: (D("12.75"), D("0.75")), lab.name: (D("4.00"), D("0.10"))}
    assert [s.label for s in spending.spend_by_owner(alice, MARCH)] == ["alice@example.org", "bob@example.org"]


def test_spend_per_family_uses_the_catalogs_family_else_the_name_before_the_dot(alice):
    InstanceType.objects.create(name="zz1.big", family="special", architecture="x86_64", cpu="zen4", vcpus=8,
                                physical_cores=4, memory_gib=16, network_gbps=10, source="test")
    sim = make_sim(alice)
    make_cost(sim, "1.00", instance_type="c7g.16xlarge")
    make_cost(sim, "2.00", instance_type="c7g.8xlarge")
    make_cost(sim, "4.00", instance_type="zz1.big")
    make_cost(sim, "8.00", instance_type="x9z.metal")
    make_cost(sim, "0.50", instance_type="")
    assert InstanceType.objects.get(name="c7g.16xlarge").family == "c7g"
    assert [(s.label, s.compute) for s in spending.spend_by_family(alice, MARCH)] == [
        ("x9z", D("8.00")), ("special", D("4.00")), ("c7g", D("3.00")), (spending.UNKNOWN_INSTANCE, D("0.50"))]


def test_the_simulation_rows_give_each_runs_month_its_estimate_and_whether_it_is_notional(costs, alice, lab):
    own, shared, _ = costs
    make_estimate(own, "11.00", low="8.00", high="15.00")
    rows = list(spending.simulation_spend(alice, MARCH))
    assert [r["name"] for r in rows] == ["alice own", "bob in lab"]  # most expensive first
    first, second = rows
    assert (first["id"], first["owner_email"], first["group_name"]) == (own.id, "alice@example.org", None)
    assert (first["compute_usd"], first["storage_usd"], first["total_usd"]) == (D("12.75"), D("0.75"), D("13.50"))
    assert (first["estimate_expected_usd"], first["estimate_high_usd"]) == (D("11.00"), D("15.00"))
    assert (first["notional"], first["unpriced"]) == (False, False)
    assert (second["group_name"], second["notional"], second["estimate_expected_usd"]) == (lab.name, True, None)


def test_a_run_with_only_storage_or_only_unpriced_jobs_in_the_month_still_has_a_row(alice):
    stored, unpriced, idle = make_sim(alice, "stored"), make_sim(alice, "unpriced"), make_sim(alice, "idle")
    make_storage(stored, "0.02")
    make_cost(unpriced, "1", priced=False, price_source="not priced: test")
    make_cost(idle, "1", month=FEBRUARY)
    rows = {r["name"]: r for r in spending.simulation_spend(alice, MARCH)}
    assert set(rows) == {"stored", "unpriced"}
    assert rows["unpriced"]["unpriced"] and rows["unpriced"]["total_usd"] == 0


def test_estimate_vs_actual_compares_succeeded_runs_estimate_with_the_sum_of_their_job_costs(alice):
    finished = datetime(2026, 3, 20, tzinfo=UTC)
    done = make_sim(alice, "done", status=Simulation.Status.SUCCEEDED, finished_at=finished)
    make_estimate(done, "10.00", low="6.00", high="16.00")
    make_cost(done, "4.00", month=FEBRUARY)
    make_cost(done, "5.00", notional=True)
    failed = make_sim(alice, "failed", status=Simulation.Status.FAILED, finished_at=finished)
    make_estimate(failed, "10.00")
    make_cost(failed, "1.00")
    no_estimate = make_sim(alice, "no estimate", status=Simulation.Status.SUCCEEDED, finished_at=finished)
    make_cost(no_estimate, "1.00")
    long_ago = make_sim(alice, "long ago", status=Simulation.Status.SUCCEEDED,
                        finished_at=datetime(2024, 1, 1, tzinfo=UTC))
    make_estimate(long_ago, "1.00")
    later = make_sim(alice, "after the month", status=Simulation.Status.SUCCEEDED,
                     finished_at=datetime(2026, 4, 1, tzinfo=UTC))
    make_estimate(later, "1.00")
    points = spending.estimate_vs_actual(alice, until=MARCH)
    assert points == [spending.EstimateVsActual(done.id, "done", D("10.00"), D("6.00"), D("16.00"), D("9.00"),
                                                notional=True, unpriced=False)]


def test_the_cost_of_one_simulation_is_its_estimate_and_the_sums_of_its_rows(alice):
    sim = make_sim(alice)
    assert spending.simulation_cost(sim) == spending.SimulationCost(None, D(0), D(0), 0, False, 0)
    estimate = make_estimate(sim, "3.00")
    make_cost(sim, "1.25", notional=True)
    make_cost(sim, "0.75", month=FEBRUARY, notional=True)
    make_cost(sim, "9", priced=False, price_source="not priced: test")
    make_storage(sim, "0.01", notional=True)
    cost = spending.simulation_cost(sim)
    assert (cost.estimate, cost.compute, cost.storage, cost.total) == (estimate, D("2.00"), D("0.01"), D("2.01"))
    assert (cost.jobs, cost.notional, cost.unpriced_jobs) == (3, True, 1)


def test_reconciliation_rows_put_the_platforms_figure_beside_aws_largest_difference_first(costs, alice):
    own, shared, private = costs
    now = timezone.now()
    for sim, platform, aws in ((own, "13.50", "13.60"), (shared, "4.00", "9.00"), (private, "1", "2")):
        CostReconciliation.objects.create(simulation=sim, month=MARCH, platform_usd=D(platform), aws_usd=D(aws),
                                          fetched_at=now)
    CostReconciliation.objects.create(simulation=own, month=FEBRUARY, platform_usd=1, aws_usd=1, fetched_at=now)
    rows = spending.reconciliations(alice, MARCH)
    assert [(r.simulation_name, r.difference) for r in rows] == [("bob in lab", D("5.00")), ("alice own", D("0.10"))]


# --- who sees what ---------------------------------------------------------------------------------

def test_alice_never_sees_bobs_private_costs(costs, alice):
    private = costs[2]
    assert private.name not in {r["name"] for r in spending.simulation_spend(alice, MARCH)}
    # bob's lab run only, and not his 100 on c7g
    assert _labels(spending.spend_by_owner(alice, MARCH))["bob@example.org"] == (D("4.00"), D("0.10"))
    assert _labels(spending.spend_by_family(alice, MARCH))["c7g"] == (D("10.50"), 0)
    assert spending.month_totals(alice, MARCH).compute == D("16.75")  # not the 100 of bob's private run
    assert spending.monthly_spend(alice, until=JANUARY, months=1)[0].compute == 0  # nor his 50 in January
    assert spending.estimate_vs_actual(alice, until=MARCH) == []


def test_bob_sees_his_own_and_the_labs_but_not_alices_own(costs, bob):
    assert [r["name"] for r in spending.simulation_spend(bob, MARCH)] == ["bob private", "bob in lab"]
    assert _labels(spending.spend_by_owner(bob, MARCH)) == {"bob@example.org": (D("104.00"), D("5.10"))}


def test_a_group_member_sees_the_groups_costs_and_an_outsider_does_not(costs, django_user_model, lab):
    member = django_user_model.objects.create_user(email="member@example.org", password="pw-member-1")
    outsider = django_user_model.objects.create_user(email="outsider@example.org", password="pw-outsider-1")
    Membership.objects.create(user=member, group=lab)
    assert [r["name"] for r in spending.simulation_spend(member, MARCH)] == ["bob in lab"]
    assert spending.month_totals(member, MARCH).total == D("4.10")
    assert list(spending.simulation_spend(outsider, MARCH)) == []
    assert spending.month_totals(outsider, MARCH).total == 0
    assert spending.spend_by_family(outsider, MARCH) == []


def test_an_operator_sees_every_cost(costs, operator):
    totals = spending.month_totals(operator, MARCH)
    assert (totals.compute, totals.storage) == (D("116.75"), D("5.85"))
    assert len(list(spending.simulation_spend(operator, MARCH))) == 3
    assert spending.monthly_spend(operator, until=JANUARY, months=1)[0].compute == D("50.00")


def test_anonymous_visitors_see_nothing(costs):
    from django.contrib.auth.models import AnonymousUser

    assert spending.month_totals(AnonymousUser(), MARCH).total == 0
    assert list(spending.visible_budgets(AnonymousUser())) == []


# --- budgets -----------------------------------------------------------------------------------------

def test_a_user_sees_their_budget_and_their_groups_but_not_another_users(alice, bob, lab, operator):
    other = ResearchGroup.objects.create(name="Other Lab", slug="other")
    mine = Budget.objects.create(user=alice, monthly_limit_usd=100)
    labs = Budget.objects.create(group=lab, monthly_limit_usd=500)
    bobs = Budget.objects.create(user=bob, monthly_limit_usd=50)
    others = Budget.objects.create(group=other, monthly_limit_usd=50)
    assert list(spending.visible_budgets(alice)) == [mine, labs]
    assert list(spending.visible_budgets(bob)) == [bobs]
    assert list(spending.visible_budgets(operator)) == [mine, labs, bobs, others]


def test_a_budget_summary_has_its_standing_recent_alerts_newest_events_and_waiting_runs(alice, bob, lab):
    month = month_of(timezone.now())
    Membership.objects.create(user=bob, group=lab)
    mine = Budget.objects.create(user=alice, monthly_limit_usd=100)
    labs = Budget.objects.create(group=lab, monthly_limit_usd=500)
    spent = make_sim(alice, "spent", group=lab)
    make_cost(spent, "30.00", month=month)
    for months_ago, threshold in ((0, 50), (0, 80), (1, 100), (2, 50)):
        BudgetAlert.objects.create(budget=labs, month=spending.month_shift(month, -months_ago), threshold=threshold,
                                   spent_usd=1, limit_usd=500)
    for i in range(5):
        BudgetEvent.objects.create(budget=labs, kind=BudgetEvent.Kind.CHANGED, message=f"change {i}")
    BudgetEvent.objects.create(budget=mine, kind=BudgetEvent.Kind.CREATED, message="mine created")
    waiting_own = make_sim(alice, "waiting, own", status=Simulation.Status.AWAITING_APPROVAL)
    waiting_lab = make_sim(bob, "waiting, lab", group=lab, status=Simulation.Status.AWAITING_APPROVAL)
    make_sim(bob, "waiting, bob's", status=Simulation.Status.AWAITING_APPROVAL)

    summaries = spending.budget_summaries([mine, labs], user=alice, month=month, event_limit=3)
    own, group = summaries
    assert (own.standing.spent, group.standing.spent) == (D("30.00"), D("30.00"))  # alice's run is in the lab
    assert group.standing == budget_standing(labs, month)
    assert [(a.month, a.threshold) for a in group.alerts] == [
        (month, 50), (month, 80), (spending.month_shift(month, -1), 100)]
    assert [a.threshold for a in group.current_alerts] == [50, 80]
    assert [e.message for e in group.events] == ["change 4", "change 3", "change 2"]
    assert (group.event_count, own.event_count, [e.message for e in own.events]) == (5, 1, ["mine created"])
    assert [s["name"] for s in own.waiting] == ["waiting, own"]
    assert [s["id"] for s in group.waiting] == [waiting_lab.id]
    assert waiting_own.id not in {s["id"] for s in group.waiting}


# --- constant queries ----------------------------------------------------------------------------

READS = {
    "monthly_spend": lambda user: spending.monthly_spend(user, until=MARCH),
    "month_totals": lambda user: spending.month_totals(user, MARCH),
    "spend_by_owner": lambda user: spending.spend_by_owner(user, MARCH),
    "spend_by_group": lambda user: spending.spend_by_group(user, MARCH),
    "spend_by_family": lambda user: spending.spend_by_family(user, MARCH),
    "simulation_spend": lambda user: list(spending.simulation_spend(user, MARCH)),
    "estimate_vs_actual": lambda user: spending.estimate_vs_actual(user, until=MARCH),
    "reconciliations": lambda user: spending.reconciliations(user, MARCH),
    "budget_summaries": lambda user: spending.budget_summaries(list(spending.visible_budgets(user)), user=user,
                                                               month=MARCH),
}


def _runs(owner, group, n, start):
    instance_types = ["c7g.16xlarge", "c7i.16xlarge", "x9z.metal", "hpc7g.16xlarge"]
    for i in range(start, start + n):
        sim = make_sim(owner, f"run {i}", group=group if i % 2 else None, status=Simulation.Status.SUCCEEDED,
                       finished_at=datetime(2026, 3, 15, tzinfo=UTC))
        make_estimate(sim, "2.00", low="1.00", high="3.00")
        make_cost(sim, "1.50", instance_type=instance_types[i % 4], notional=bool(i % 3))
        make_storage(sim, "0.01")
        CostReconciliation.objects.create(simulation=sim, month=MARCH, platform_usd=1, aws_usd=2,
                                          fetched_at=timezone.now())


@pytest.mark.parametrize("name", sorted(READS))
def test_each_read_runs_the_same_number_of_queries_for_3_and_30_simulations(name, alice, bob, lab):
    Membership.objects.create(user=bob, group=lab)
    Budget.objects.create(user=alice, monthly_limit_usd=100)
    Budget.objects.create(group=lab, monthly_limit_usd=100)
    read = READS[name]
    _runs(alice, lab, 2, 0)
    _runs(bob, lab, 1, 2)
    with CaptureQueriesContext(connection) as few:
        small = read(alice)
    _runs(alice, lab, 15, 3)
    _runs(bob, lab, 12, 18)
    with CaptureQueriesContext(connection) as many:
        large = read(alice)
    assert len(many) == len(few), [q["sql"] for q in many]
    assert repr(large) != repr(small)  # the read did see the new rows
