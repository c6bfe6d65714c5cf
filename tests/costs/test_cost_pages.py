"""The cost dashboard (/costs/), the budgets page (/costs/budgets/), the detail page's cost section,
GET /api/v1/costs and GET /api/v1/budgets, and the charts they draw."""

import re
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from costs import charts, spending
from costs.models import Budget, BudgetAlert, BudgetEvent, CostReconciliation, month_of
from simulations.models import Simulation
from tests.costs.test_spending import (FEBRUARY, MARCH, make_cost, make_estimate, make_sim,  # noqa: F401 (lab)
                                       make_storage, lab)

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc
D = Decimal
DASHBOARD, BUDGETS = reverse("costs:dashboard"), reverse("costs:budgets")
API_COSTS, API_BUDGETS = reverse("api-costs"), reverse("api-budgets")


def _text(response) -> str:
    """The page's visible words, tags removed and spaces collapsed, for reading sentences."""
    html = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    html = re.sub(r"</?(?:p|div|dl|dt|dd|li|ul|tr|td|th|h[1-3]|section|nav|table|br)\b[^>]*>", " ", html)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
    return re.sub(r"([(]) | ([),:;.])", r"\1\2", text).replace("&nbsp;", " ")


def _scripts(response) -> list[str]:
    return re.findall(r'<script[^>]*\ssrc="([^"]+)"', response.content.decode())


@pytest.fixture
def march(alice, bob, lab):
    """alice's priced run with an estimate, a notional lab run of bob's, and bob's private run."""
    Membership.objects.create(user=bob, group=lab)
    own = make_sim(alice, "alice own", status=Simulation.Status.SUCCEEDED,
                   finished_at=datetime(2026, 3, 20, tzinfo=UTC))
    make_estimate(own, "11.00", low="8.00", high="15.00")
    make_cost(own, "12.00")
    make_storage(own, "0.50")
    shared = make_sim(bob, "bob in lab", group=lab)
    make_cost(shared, "3.00", instance_type="c7i.16xlarge", notional=True)
    private = make_sim(bob, "bob private")
    make_cost(private, "99.00")
    make_cost(own, "1.00", month=FEBRUARY)
    return own, shared, private


# --- the dashboard -------------------------------------------------------------------------------

def test_the_dashboard_without_costs_says_what_to_do_and_draws_no_chart(client, alice):
    client.force_login(alice)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    text = _text(response)
    this_month = timezone.now().strftime("%B %Y")
    assert f"No costs yet in {this_month}: finished runs are priced when their jobs end" in text
    assert "No costs in these 12 months" in text
    assert response.context["charts"] == {} and "Bokeh.embed" not in response.content.decode()
    assert response.context["month"] == month_of(timezone.now())


def test_the_dashboard_shows_the_months_totals_notional_part_and_simulations(client, alice, march):
    own, shared, private = march
    client.force_login(alice)
    response = client.get(DASHBOARD, {"month": "2026-03"})
    assert response.status_code == 200
    text = _text(response)
    totals = response.context["totals"]
    assert (totals.compute, totals.storage, totals.notional) == (D("15.00"), D("0.50"), D("3.00"))
    assert "Total $15.50" in text and "Compute $15.00" in text and "Storage $0.50" in text
    assert "Notional $3.00" in text and "priced as if they had run on AWS" in text
    assert "Unpriced jobs 0" in text
    html = response.content.decode()
    assert f'href="{reverse("simulations:detail", args=[own.id])}"' in html
    assert f'href="{reverse("simulations:detail", args=[shared.id])}"' in html
    assert "bob private" not in html and "99.00" not in html


def test_the_dashboard_draws_five_charts_from_the_projects_static_files_and_no_cdn(client, alice, march):
    client.force_login(alice)
    response = client.get(DASHBOARD, {"month": "2026-03"})
    assert set(response.context["charts"]) == {"monthly", "owners", "groups", "families", "runs"}
    html = response.content.decode()
    sources = _scripts(response)
    assert sources and not [s for s in sources if re.match(r"(https?:)?//", s)]
    assert [s for s in sources if s.endswith("bokeh.min.js")] == [django_settings.STATIC_URL + "bokeh/js/bokeh.min.js"]
    assert "cdn.bokeh.org" not in html
    assert "Bokeh.embed.embed_items" in html and html.count("data-root-id") == 5


def test_unpriced_jobs_are_counted_with_their_reason(client, alice):
    sim = make_sim(alice)
    for _ in range(2):
        make_cost(sim, "1", instance_type="x9z.metal", priced=False,
                  price_source="not priced: x9z.metal is not in the instance catalog")
    client.force_login(alice)
    text = _text(client.get(DASHBOARD, {"month": "2026-03"}))
    assert "Unpriced jobs 2" in text
    assert ("2 jobs could not be priced and count as $0 here: "
            "2 × not priced: x9z.metal is not in the instance catalog") in text


def test_the_month_picker_shows_the_chosen_month_and_links_its_neighbours(client, alice, march):
    client.force_login(alice)
    response = client.get(DASHBOARD, {"month": "2026-02"})
    assert response.context["totals"].compute == D("1.00")
    assert [r["name"] for r in response.context["page"]] == ["alice own"]
    html = response.content.decode()
    assert 'href="?month=2026-01" rel="prev"' in html and 'href="?month=2026-03" rel="next"' in html
    assert 'value="2026-02"' in html
    assert "Spending in February 2026" in _text(response)


@pytest.mark.parametrize("month", ["2026-13", "March", "2026-3", "<script>"])
def test_a_malformed_month_is_a_clear_message_not_a_500(client, alice, month):
    client.force_login(alice)
    response = client.get(DASHBOARD, {"month": month})
    assert response.status_code == 400
    text = _text(response)
    assert "The month is not valid" in text and "use YYYY-MM, for example 2026-03" in text
    assert "<script>'" not in response.content.decode()  # escaped


def test_reconciliation_rows_show_only_when_there_are_some(client, alice, march):
    own = march[0]
    client.force_login(alice)
    assert "Reconciliation with AWS" not in _text(client.get(DASHBOARD, {"month": "2026-03"}))
    CostReconciliation.objects.create(simulation=own, month=MARCH, platform_usd=D("12.00"), aws_usd=D("12.40"),
                                      fetched_at=timezone.now())
    text = _text(client.get(DASHBOARD, {"month": "2026-03"}))
    assert "Reconciliation with AWS" in text and "alice own $12.00 $12.40 $0.40" in text


def test_the_dashboard_runs_the_same_number_of_queries_for_3_and_30_simulations(client, alice, lab):
    client.force_login(alice)

    def runs(n, start):
        for i in range(start, start + n):
            sim = make_sim(alice, f"run {i}", group=lab if i % 2 else None, status=Simulation.Status.SUCCEEDED,
                           finished_at=datetime(2026, 3, 15, tzinfo=UTC))
            make_estimate(sim, "2.00")
            make_cost(sim, "1.50", instance_type="c7g.16xlarge" if i % 2 else "c7i.16xlarge")
            make_storage(sim, "0.01")
            CostReconciliation.objects.create(simulation=sim, month=MARCH, platform_usd=1, aws_usd=2,
                                              fetched_at=timezone.now())

    runs(3, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(DASHBOARD, {"month": "2026-03"})
    runs(27, 3)
    with CaptureQueriesContext(connection) as many:
        response = client.get(DASHBOARD, {"month": "2026-03"})
    assert response.context["page"].paginator.count == 30
    assert len(many) == len(few) <= 20, [q["sql"] for q in many]


# --- the sub-navigation ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["costs:dashboard", "costs:budgets", "costs:estimate"])
def test_each_cost_page_has_the_sub_navigation_with_itself_current(client, alice, name):
    client.force_login(alice)
    html = client.get(reverse(name)).content.decode()
    subnav = re.search(r'<nav class="subnav".*?</nav>', html, re.S).group(0)
    for other in ("costs:dashboard", "costs:budgets", "costs:estimate"):
        assert f'href="{reverse(other)}"' in subnav
    assert re.search(rf'href="{re.escape(reverse(name))}" aria-current="page"', subnav)
    assert subnav.count("aria-current") == 1


def test_the_costs_link_in_the_top_navigation_goes_to_the_dashboard(client, alice):
    client.force_login(alice)
    top = re.search(r'<header class="topbar">.*?</header>', client.get(DASHBOARD).content.decode(), re.S).group(0)
    assert f'<a href="{DASHBOARD}">Costs</a>' in top


# --- the budgets page --------------------------------------------------------------------------------

def test_a_user_with_no_budget_is_told_no_limit_applies_and_who_sets_budgets(client, alice):
    client.force_login(alice)
    response = client.get(BUDGETS)
    assert response.status_code == 200
    text = _text(response)
    assert "No budget applies to you: your runs have no monthly limit" in text
    assert "Operators set budgets, for a user or a research group, in the admin" in text


def test_the_budgets_page_shows_where_a_budget_stands_and_what_it_does(client, alice, fake_backend):
    month = month_of(timezone.now())
    budget = Budget.objects.create(user=alice, monthly_limit_usd=D("40.00"), thresholds=[50, 80, 100],
                                   over_limit=Budget.OverLimit.APPROVAL, stop_at_limit=True)
    spent = make_sim(alice, "spent")
    make_cost(spent, "25.00", month=month)
    running = make_sim(alice, "running", status=Simulation.Status.RUNNING)
    budget.reservations.create(simulation=running, month=month, usd=D("10.00"))
    client.force_login(alice)
    response = client.get(BUDGETS)
    text = _text(response)
    assert f"User {alice.email}" in text
    assert "Monthly limit $40.00" in text and "Spent $25.00 63 %" in text
    assert "Held by running runs $10.00" in text and "Left $5.00" in text
    assert "Alerts at 50 %, 80 %, 100 %" in text
    assert "a run whose upper estimate does not fit: ask an operator to approve it" in text
    assert "running runs stop after their current segment" in text
    html = response.content.decode()
    assert 'class="spent" style="width: 62.50%"' in html and 'class="held" style="width: 25.00%"' in html
    assert 'class="budget-bar"' in html  # under 80 %: neither near nor over


def test_a_budget_over_its_limit_says_by_how_much(client, alice):
    Budget.objects.create(user=alice, monthly_limit_usd=D("10.00"), stop_at_limit=False)
    make_cost(make_sim(alice), "12.00", month=month_of(timezone.now()))
    client.force_login(alice)
    response = client.get(BUDGETS)
    text = _text(response)
    assert "Left over by $2.00" in text and "Spent $12.00 120 %" in text
    assert "running runs continue; new runs are still checked" in text
    assert 'class="budget-bar over"' in response.content.decode()


def test_another_users_budget_is_not_shown_but_my_groups_is(client, alice, bob, lab):
    Budget.objects.create(user=bob, monthly_limit_usd=D("777.00"))
    Budget.objects.create(group=lab, monthly_limit_usd=D("500.00"))
    client.force_login(alice)
    text = _text(client.get(BUDGETS))
    assert "$777.00" not in text and bob.email not in text
    assert f"Group {lab.name}" in text and "$500.00" in text
    assert "You have no budget of your own" in text


def test_an_operator_sees_every_budget(client, operator, alice, bob):
    Budget.objects.create(user=alice, monthly_limit_usd=D("100.00"))
    Budget.objects.create(user=bob, monthly_limit_usd=D("200.00"))
    client.force_login(operator)
    text = _text(client.get(BUDGETS))
    assert f"User {alice.email}" in text and f"User {bob.email}" in text


def test_the_alerts_of_this_and_last_month_show_their_delivery_results(client, alice):
    month = month_of(timezone.now())
    budget = Budget.objects.create(user=alice, monthly_limit_usd=D("100.00"), webhook_url="https://hooks.example/x")
    now = timezone.now()
    BudgetAlert.objects.create(budget=budget, month=month, threshold=50, spent_usd=D("51"), limit_usd=D("100"),
                               email_sent_at=now, email_recipients=alice.email, webhook_sent_at=now,
                               webhook_result="HTTP 200")
    BudgetAlert.objects.create(budget=budget, month=month, threshold=80, spent_usd=D("81"), limit_usd=D("100"),
                               email_sent_at=now, email_recipients="failed: connection refused")
    BudgetAlert.objects.create(budget=budget, month=spending.month_shift(month, -1), threshold=100,
                               spent_usd=D("101"), limit_usd=D("100"))
    BudgetAlert.objects.create(budget=budget, month=spending.month_shift(month, -2), threshold=80,
                               spent_usd=D("33.33"), limit_usd=D("100"))
    client.force_login(alice)
    text = _text(client.get(BUDGETS))
    assert f"50 % $51.00 of $100.00" in text and f"sent to {alice.email} HTTP 200" in text
    assert "80 % $81.00 of $100.00" in text and "failed: connection refused not sent yet" in text
    assert "100 % $101.00 of $100.00" in text
    assert "$33.33" not in text  # two months ago


def test_the_history_is_newest_first_and_limited_with_a_count(client, alice):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=D("100.00"))
    for i in range(spending.EVENTS_SHOWN + 3):
        BudgetEvent.objects.create(budget=budget, kind=BudgetEvent.Kind.CHANGED, message=f"change number {i:02d}")
    client.force_login(alice)
    text = _text(client.get(BUDGETS))
    assert f"the {spending.EVENTS_SHOWN} newest of {spending.EVENTS_SHOWN + 3} events, newest first" in text
    shown = re.findall(r"change number (\d\d)", text)
    assert shown == [f"{i:02d}" for i in range(spending.EVENTS_SHOWN + 2, 2, -1)]


def test_runs_waiting_for_approval_are_linked_under_their_budget(client, alice):
    Budget.objects.create(user=alice, monthly_limit_usd=D("1.00"), over_limit=Budget.OverLimit.APPROVAL)
    waiting = make_sim(alice, "big run", status=Simulation.Status.AWAITING_APPROVAL, submitted_at=timezone.now())
    make_estimate(waiting, "5.00", high="9.00")
    client.force_login(alice)
    response = client.get(BUDGETS)
    assert f'<a href="{reverse("simulations:detail", args=[waiting.id])}">big run</a>' in response.content.decode()
    assert "upper estimate $9.00" in _text(response)


# --- the simulation detail page ------------------------------------------------------------------

def test_the_detail_page_shows_the_estimate_at_submission_and_the_cost_so_far(client, alice):
    sim = make_sim(alice)
    make_estimate(sim, "11.00", low="8.00", high="15.00")
    make_cost(sim, "1.25", notional=True)
    make_cost(sim, "0.75", notional=True)
    make_storage(sim, "0.10", notional=True)
    client.force_login(alice)
    response = client.get(reverse("simulations:detail", args=[sim.id]))
    text = _text(response)
    assert "Estimate at submission $11.00 expected ($8.00 to $15.00)" in text
    assert "upper estimate on c7g.16xlarge (on-demand)" in text
    assert ("Cost so far $2.10: compute $2.00 (2 finished jobs), storage $0.10 "
            "notional priced as if on AWS, not billed") in text
    assert f'href="{reverse("costs:estimate")}?simulation={sim.id}">Estimate on every instance type</a>' in \
        response.content.decode()
    assert "Waiting for an operator's approval" not in text


def test_the_detail_page_of_a_draft_has_no_estimate_yet(client, alice):
    sim = make_sim(alice)
    client.force_login(alice)
    text = _text(client.get(reverse("simulations:detail", args=[sim.id])))
    assert "none yet: the estimate is kept when the run is first submitted" in text
    assert "Cost so far $0.00" in text and "notional" not in text


def test_the_detail_page_says_when_a_run_awaits_approval(client, alice):
    sim = make_sim(alice, status=Simulation.Status.AWAITING_APPROVAL)
    client.force_login(alice)
    response = client.get(reverse("simulations:detail", args=[sim.id]))
    assert "Waiting for an operator's approval. This run's upper estimate is more than what is left of its budget" in \
        _text(response)
    assert f'href="{BUDGETS}"' in response.content.decode()


def test_the_detail_page_runs_the_same_number_of_queries_whatever_the_number_of_job_costs(client, alice):
    sim = make_sim(alice)
    make_estimate(sim, "1.00")
    make_cost(sim, "1.00")
    client.force_login(alice)
    url = reverse("simulations:detail", args=[sim.id])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        make_cost(sim, "1.00")
        make_storage(make_sim(alice), "1.00")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert "compute $11.00 (11 finished jobs)" in _text(response)
    assert len(many) == len(few), [q["sql"] for q in many]


# --- GET /api/v1/costs -------------------------------------------------------------------------------

def test_the_costs_api_answers_the_months_totals_twelve_months_and_simulations(client, alice, march):
    own, shared, _ = march
    client.force_login(alice)
    response = client.get(API_COSTS, {"month": "2026-03"})
    assert response.status_code == 200
    body = response.json()
    assert body["month"] == "2026-03"
    assert body["totals"] == {"compute_usd": "15.000000", "storage_usd": "0.500000", "total_usd": "15.500000",
                              "notional_usd": "3.000000", "unpriced_jobs": 0, "unpriced": []}
    assert [m["month"] for m in body["months"]] == [f"{m:%Y-%m}" for m in spending.months_until(MARCH, 12)]
    assert body["months"][-2:] == [
        {"month": "2026-02", "compute_usd": "1.000000", "storage_usd": "0.000000", "total_usd": "1.000000"},
        {"month": "2026-03", "compute_usd": "15.000000", "storage_usd": "0.500000", "total_usd": "15.500000"}]
    first, second = body["simulations"]
    assert first == {"id": str(own.id), "name": "alice own", "status": "succeeded", "owner": alice.email,
                     "group": None, "compute_usd": "12.000000", "storage_usd": "0.500000", "total_usd": "12.500000",
                     "estimate_expected_usd": "11.000000", "estimate_high_usd": "15.000000", "notional": False,
                     "unpriced": False}
    assert (second["id"], second["group"], second["notional"]) == (str(shared.id), "Atmospheric Chemistry Lab", True)


def test_the_costs_api_defaults_to_this_month(client, alice):
    client.force_login(alice)
    body = client.get(API_COSTS).json()
    assert body["month"] == f"{timezone.now():%Y-%m}" and body["simulations"] == []


@pytest.mark.parametrize("month", ["2026-13", "soon", "2026-03-01"])
def test_the_costs_api_refuses_a_malformed_month_in_the_projects_error_format(client, alice, month):
    client.force_login(alice)
    response = client.get(API_COSTS, {"month": month})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["field"] == "month" and "use YYYY-MM" in errors[0]["message"]


@pytest.mark.parametrize("url", [API_COSTS, API_BUDGETS])
def test_the_cost_apis_ask_anonymous_callers_to_authenticate(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert "errors" not in response.json()


def test_the_costs_api_runs_the_same_number_of_queries_for_3_and_30_simulations(client, alice, lab):
    client.force_login(alice)

    def runs(n, start):
        for i in range(start, start + n):
            sim = make_sim(alice, f"run {i}", group=lab if i % 2 else None)
            make_estimate(sim, "2.00")
            make_cost(sim, "1.50")
            make_storage(sim, "0.01")

    runs(3, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(API_COSTS, {"month": "2026-03"})
    runs(27, 3)
    with CaptureQueriesContext(connection) as many:
        body = client.get(API_COSTS, {"month": "2026-03"}).json()
    assert len(body["simulations"]) == 30
    assert len(many) == len(few) <= 10, [q["sql"] for q in many]


# --- GET /api/v1/budgets -----------------------------------------------------------------------------

def test_the_budgets_api_answers_each_visible_budget_with_its_standing_and_this_months_alerts(client, alice, bob,
                                                                                             lab):
    month = month_of(timezone.now())
    mine = Budget.objects.create(user=alice, monthly_limit_usd=D("40.00"), thresholds=[50, 100],
                                 over_limit=Budget.OverLimit.APPROVAL)
    labs = Budget.objects.create(group=lab, monthly_limit_usd=D("500.00"), stop_at_limit=False)
    Budget.objects.create(user=bob, monthly_limit_usd=D("1.00"))
    make_cost(make_sim(alice), "25.00", month=month)
    BudgetAlert.objects.create(budget=mine, month=month, threshold=50, spent_usd=D("25"), limit_usd=D("40"),
                               email_recipients=alice.email, email_sent_at=timezone.now())
    BudgetAlert.objects.create(budget=mine, month=spending.month_shift(month, -1), threshold=100, spent_usd=D("41"),
                               limit_usd=D("40"))
    client.force_login(alice)
    body = client.get(API_BUDGETS).json()
    assert body["month"] == f"{month:%Y-%m}"
    own, group = body["budgets"]
    assert {k: v for k, v in own.items() if k != "alerts"} == {
        "id": mine.id, "scope": "user", "user": alice.email, "group": None, "monthly_limit_usd": "40.00",
        "spent_usd": "25.000000", "held_usd": "0.000000", "left_usd": "15.000000", "percent": 62.5,
        "thresholds": [50, 100], "over_limit": "approval", "stop_at_limit": True}
    assert [(a["threshold"], a["spent_usd"], a["email_result"], a["webhook_sent_at"]) for a in own["alerts"]] == [
        (50, "25.000000", alice.email, None)]
    assert (group["id"], group["scope"], group["user"], group["group"]) == (labs.id, "group", None, "acl")
    assert (group["stop_at_limit"], group["alerts"]) == (False, [])


def test_the_budgets_api_runs_the_same_number_of_queries_for_3_and_30_simulations(client, alice, lab):
    Budget.objects.create(user=alice, monthly_limit_usd=D("100.00"))
    Budget.objects.create(group=lab, monthly_limit_usd=D("100.00"))
    month = month_of(timezone.now())
    client.force_login(alice)

    def runs(n):
        for i in range(n):
            sim = make_sim(alice, f"run {i}", group=lab if i % 2 else None, status=Simulation.Status.RUNNING)
            make_cost(sim, "1.00", month=month)
            Budget.objects.get(user=alice).reservations.create(simulation=sim, month=month, usd=D("2.00"))

    runs(3)
    with CaptureQueriesContext(connection) as few:
        client.get(API_BUDGETS)
    runs(27)
    with CaptureQueriesContext(connection) as many:
        body = client.get(API_BUDGETS).json()
    assert body["budgets"][0]["spent_usd"] == "30.000000"
    assert len(many) == len(few), [q["sql"] for q in many]


# --- the charts (pure) -----------------------------------------------------------------------------

def _hover(fig):
    return dict(fig.select(type=charts.HoverTool)[0].tooltips)


def test_the_monthly_chart_stacks_compute_and_storage_with_dollar_labels():
    fig = charts.monthly_spend_figure(["2026-01", "2026-02"], [1.0, 2.5], [0.25, 0.5])
    data = fig.renderers[0].data_source.data
    assert (list(data["month"]), list(data["compute"]), list(data["storage"]), list(data["total"])) == (
        ["2026-01", "2026-02"], [1.0, 2.5], [0.25, 0.5], [1.25, 3.0])
    compute, storage = fig.renderers
    assert list(compute.glyph.top.expr.fields) == ["compute"]
    assert (list(storage.glyph.bottom.expr.fields), list(storage.glyph.top.expr.fields)) == (
        ["compute"], ["compute", "storage"])  # storage sits on compute
    assert {item.label.value for item in fig.legend[0].items} == {"compute", "storage"}
    assert fig.yaxis[0].formatter.format.startswith("$")
    assert _hover(fig)["total"] == "@total" + charts.MONEY_HOVER


def test_the_bar_chart_keeps_the_largest_and_sums_the_rest():
    labels = [f"user{i}@example.org" for i in range(20)]
    fig = charts.spend_bars_figure(labels, [float(i) for i in range(20)], [0.0] * 20, limit=5)
    data = fig.renderers[0].data_source.data
    assert list(data["label"]) == ["user19@example.org", "user18@example.org", "user17@example.org",
                                   "user16@example.org", "16 others"]
    assert data["compute"][-1] == sum(range(16))
    assert list(fig.y_range.factors)[-1] == "user19@example.org"  # the largest at the top
    assert fig.xaxis[0].formatter.format.startswith("$") and "@label" in _hover(fig).values()


def test_the_family_chart_has_compute_bars_only():
    fig = charts.spend_bars_figure(["c7g", "c7i"], [3.0, 1.0])
    assert len(fig.renderers) == 1 and "storage" not in _hover(fig)


def test_the_estimate_vs_actual_chart_has_the_run_names_a_y_equals_x_line_and_whiskers():
    fig = charts.estimate_actual_figure(["a", "b"], [10.0, 2.0], [5.0, 1.0], [20.0, 4.0], [8.0, 3.0],
                                        [False, True])
    points = next(r for r in fig.renderers if "name" in r.data_source.data)
    assert list(points.data_source.data["name"]) == ["a", "b"]
    assert (list(points.data_source.data["expected"]), list(points.data_source.data["actual"])) == (
        [10.0, 2.0], [8.0, 3.0])
    assert list(points.data_source.data["kind"]) == ["billed", "notional"]
    line = next(r for r in fig.renderers if "name" not in r.data_source.data)
    assert list(line.data_source.data["x"]) == list(line.data_source.data["y"])  # y = x
    assert line.data_source.data["x"][0] <= 1.0 and line.data_source.data["x"][1] >= 20.0
    whisker = fig.select(type=charts.Whisker)[0]
    assert (whisker.dimension, whisker.base, whisker.lower, whisker.upper) == (
        "width", "actual", "low", "high")
    assert _hover(fig)["run"] == "@name"
    assert fig.xaxis[0].axis_label.startswith("estimated cost") and fig.yaxis[0].axis_label == "actual cost (USD)"
