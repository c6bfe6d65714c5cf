"""The admin's cost consoles: budgets (standing, form, audit, actions) and the read-only cost records."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, ResearchGroup, User
from costs import budgets
from costs.models import (BenchmarkCampaign, BenchmarkRun, Budget, BudgetAlert, BudgetEvent, BudgetReservation,
                          CostReconciliation, JobCost, RunEstimate, StorageCharge, month_of)
from simulations import services
from simulations.models import Job, Simulation

pytestmark = pytest.mark.django_db
S = Simulation.Status
ONE_MONTH = {"name": "fullchem month", "model": "classic", "simulation": "TransportTracers", "resolution": "4x5",
             "start": "2019-01-01", "end": "2019-02-01", "outputs": {"SpeciesConc": {"frequency": "daily"}},
             "compute": {"instance_type": "c7g.16xlarge", "capacity": "on-demand"}}


def _draft(owner, group=None, name="fullchem month"):
    return services.simulation_create(owner=owner, raw_config=dict(ONE_MONTH, name=name), group=group)


def _lab(name, *members):
    lab = ResearchGroup.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    for user in members:
        Membership.objects.create(user=user, group=lab)
    return lab


def _spend(sim, usd, when=None):
    """A finished job of `sim` that cost `usd`, stopped at `when` (now by default)."""
    when = when or timezone.now()
    n = Job.objects.count()
    job = Job.objects.create(simulation=sim, segment=99, attempt=n + 1, name=f"spent-{sim.short_id}-{n}",
                             backend="batch", state="SUCCEEDED", spec={}, period_start=when, period_end=when,
                             started_at=when, stopped_at=when)
    return JobCost.objects.create(job=job, simulation=sim, owner=sim.owner, group=sim.group, month=month_of(when),
                                  instance_type="c7g.16xlarge", capacity="on-demand", nodes=1, region="us-east-1",
                                  started_at=when - timedelta(hours=2), stopped_at=when, hours=2,
                                  usd_per_hour=Decimal(usd) / 2, usd=Decimal(usd), price_source="test")


def _store(sim, usd, month=None):
    return StorageCharge.objects.create(simulation=sim, owner=sim.owner, group=sim.group,
                                        month=month or month_of(timezone.now()), gb=10, usd_per_gb_month="0.023",
                                        usd=Decimal(usd))


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Every page, in a constant number of queries ---------------------------------------------------


def _grow(n, start=0):
    """n more of every cost record, each budget alternately a user's and a group's; and, under the
    first user's budget and in the first campaign, n more events, alerts, runs waiting and benchmark runs."""
    month = month_of(timezone.now())
    for i in range(start, start + n):
        user = User.objects.create_user(email=f"user{i}@example.org", password="pw-x-123")
        lab = _lab(f"Lab {i}", user)
        budget = (Budget.objects.create(user=user, monthly_limit_usd=100) if i % 2 == 0
                  else Budget.objects.create(group=lab, monthly_limit_usd=100))
        sim = _draft(user, group=lab.slug, name=f"run {i}")
        Simulation.objects.filter(id=sim.id).update(status=S.RUNNING)
        BudgetReservation.objects.create(budget=budget, simulation=sim, month=month, usd=20)
        _spend(sim, "10")
        _store(sim, "1")
        CostReconciliation.objects.create(simulation=sim, month=month, platform_usd=11, aws_usd=10,
                                          fetched_at=timezone.now())
        RunEstimate.objects.create(simulation=sim, instance_type="c7g.16xlarge", capacity="on-demand",
                                   region="us-east-1", hours_expected=2, usd_low=8, usd_expected=10, usd_high=12,
                                   basis="test")
        BudgetAlert.objects.create(budget=budget, month=month, threshold=10, spent_usd=11, limit_usd=100)
        BudgetEvent.objects.create(budget=budget, simulation=sim, actor=user, kind="alert", message=f"event {i}")
        campaign = BenchmarkCampaign.objects.create(name=f"campaign {i}", definition={}, created_by=user)
        BenchmarkRun.objects.create(campaign=campaign, simulation=sim, label="4x5", instance_type="c7g.16xlarge")
        # Under the first budget and in the first campaign:
        first = User.objects.get(email="user0@example.org")
        waiting = _draft(first, name=f"waiting {i}")
        Simulation.objects.filter(id=waiting.id).update(status=S.AWAITING_APPROVAL)
        BudgetEvent.objects.create(budget=first.budget, simulation=waiting, actor=first, kind="approval_requested",
                                   message=f"waiting {i}")
        BudgetAlert.objects.create(budget=first.budget, month=month, threshold=20 + i, spent_usd=11, limit_usd=100)
        BenchmarkRun.objects.create(campaign=BenchmarkCampaign.objects.get(name="campaign 0"), simulation=waiting,
                                    label=f"waiting {i}", instance_type="c7g.16xlarge")


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


MODELS = ["budget", "budgetalert", "budgetevent", "jobcost", "storagecharge", "costreconciliation", "runestimate",
          "benchmarkcampaign"]


def _first(model):
    """The row of `model` that _grow's later calls add to (the first budget, the first campaign)."""
    first = User.objects.get(email="user0@example.org")
    return {
        "budget": first.budget, "budgetalert": first.budget.alerts.order_by("id").first(),
        "budgetevent": first.budget.events.order_by("id").first(), "jobcost": JobCost.objects.order_by("id").first(),
        "storagecharge": StorageCharge.objects.order_by("id").first(),
        "costreconciliation": CostReconciliation.objects.order_by("id").first(),
        "runestimate": RunEstimate.objects.order_by("id").first(),
        "benchmarkcampaign": BenchmarkCampaign.objects.get(name="campaign 0"),
    }[model]


@pytest.mark.parametrize("model", MODELS)
def test_each_cost_list_answers_an_operator_in_constant_queries(client, operator, model):
    _grow(3)
    client.force_login(operator)
    url = reverse(f"admin:costs_{model}_changelist")
    client.get(url)  # the content types are cached on the first visit
    few = _queries(client, url)
    _grow(12, start=3)
    assert _queries(client, url) == few  # no query per row


@pytest.mark.parametrize("model", MODELS)
def test_each_cost_change_page_answers_an_operator_in_constant_queries(client, operator, model):
    _grow(3)
    client.force_login(operator)
    url = reverse(f"admin:costs_{model}_change", args=[_first(model).pk])
    client.get(url)
    few = _queries(client, url)
    _grow(12, start=3)
    assert _queries(client, url) == few


def test_the_budget_add_page_answers_an_operator(client, operator):
    client.force_login(operator)
    response = client.get(reverse("admin:costs_budget_add"))
    assert response.status_code == 200
    assert b'name="thresholds"' in response.content and b'value="50, 80, 100"' in response.content


@pytest.mark.parametrize("model", MODELS)
def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, alice, model):
    client.force_login(alice)
    response = client.get(reverse(f"admin:costs_{model}_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


# --- The budget list ---------------------------------------------------------------------------------


@pytest.fixture
def standing(alice, bob):
    """alice's own budget, her lab's (bob is in the lab too) and bob's zero budget, with this month's
    and last month's costs."""
    lab = _lab("Lab", alice, bob)
    mine = Budget.objects.create(user=alice, monthly_limit_usd=300)
    lab_budget = Budget.objects.create(group=lab, monthly_limit_usd=50)
    zero = Budget.objects.create(user=bob, monthly_limit_usd=0)
    in_lab, private = _draft(alice, group="lab"), _draft(alice, group="")
    _spend(in_lab, "30")
    _store(in_lab, "5")
    _spend(private, "100", when=timezone.now() - timedelta(days=40))  # last month: not counted
    month, last_month = month_of(timezone.now()), month_of(timezone.now() - timedelta(days=40))
    BudgetReservation.objects.create(budget=mine, simulation=private, month=month, usd=70)  # its earlier attempt's
    BudgetReservation.objects.create(budget=mine, simulation=private, month=month, usd=50)  # resumed: this one holds
    _spend(private, "40")  # since the reservation: 10 of it is still held
    old = _draft(alice, group="", name="admitted last month")
    Simulation.objects.filter(id__in=[private.id, old.id]).update(status=S.RUNNING)
    BudgetReservation.objects.create(budget=mine, simulation=old, month=last_month, usd=99)  # not this month's
    Simulation.objects.filter(id=in_lab.id).update(status=S.SUCCEEDED)
    BudgetReservation.objects.create(budget=lab_budget, simulation=in_lab, month=month, usd=20)  # a finished run's
    _spend(_draft(bob, group="lab"), "10")
    return mine, lab_budget, zero


def test_the_budget_list_shows_spent_held_left_and_share_for_user_and_group_budgets(client, operator, standing):
    mine, lab_budget, zero = standing
    client.force_login(operator)
    response = client.get(reverse("admin:costs_budget_changelist"))
    cl = response.context["cl"]
    rows = {b.pk: b for b in cl.result_list}

    def shown(budget):
        row = rows[budget.pk]
        return (row.spent_usd, row.held_usd, cl.model_admin.left(row), cl.model_admin.percent(row))

    # alice's: everything she owns this month (30 + 5 + 40); the lab's: its simulations' (30 + 5 + bob's 10).
    assert shown(mine) == (75, 10, "$215.00", "25 %")
    assert shown(lab_budget) == (45, 0, "$5.00", "90 %")
    assert shown(zero) == (10, 0, "-$10.00", "100 %")
    for budget in (mine, lab_budget, zero):  # the same figures as the service admission uses
        service = budgets.budget_standing(budget)
        assert (rows[budget.pk].spent_usd, rows[budget.pk].held_usd) == (service.spent, service.held)
    content = response.content.decode()
    assert "user alice@example.org" in content and "group Lab" in content
    assert "$75.00" in content and "$215.00" in content and "90 %" in content


def test_the_budget_change_page_shows_this_months_standing(client, operator, standing):
    mine, _, _ = standing
    client.force_login(operator)
    content = client.get(reverse("admin:costs_budget_change", args=[mine.pk])).content.decode()
    assert "spent $75.00, held by running runs $10.00, left $215.00 of $300.00 (25 % used)" in content


@pytest.mark.parametrize("params, expected", [
    ({"used": "80"}, {"lab", "zero"}),
    ({"used": "100"}, {"zero"}),
    ({"scope": "group"}, {"lab"}),
    ({"scope": "user"}, {"mine", "zero"}),
    ({"q": "Lab"}, {"lab"}),
    ({"q": "bob@"}, {"zero"}),
    ({"o": "5"}, ["zero", "lab", "mine"]),  # by what is left
    ({"o": "-6"}, ["zero", "lab", "mine"]),  # by the share used, the most first
])
def test_the_budget_list_filters_sorts_and_searches(client, operator, standing, params, expected):
    names = dict(zip(standing, ["mine", "lab", "zero"]))
    client.force_login(operator)
    response = client.get(reverse("admin:costs_budget_changelist"), params)
    found = [names[b] for b in response.context["cl"].result_list]
    assert (found if isinstance(expected, list) else set(found)) == expected


# --- The budget form, and the audit trail of its changes -------------------------------------------

FORM = {"group": "", "monthly_limit_usd": "100", "thresholds": "80, 50, 50", "over_limit": "refuse",
        "stop_at_limit": "on", "notify_email": "on", "webhook_url": ""}


def _change_data(client, url, **fields):
    """The change page's form as shown, with `fields` changed (and its read-only inlines' counts)."""
    response = client.get(url)
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: ("on" if value is True else "" if value in (False, None) else value)
            for name, value in data.items()}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = formset.total_form_count()
        data[f"{formset.prefix}-INITIAL_FORMS"] = formset.initial_form_count()
    return {**data, **fields}


def test_creating_a_budget_in_the_admin_leaves_a_created_event_by_the_operator(client, operator, alice):
    client.force_login(operator)
    response = client.post(reverse("admin:costs_budget_add"), {**FORM, "user": alice.pk})
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    budget = Budget.objects.get(user=alice)
    assert (budget.monthly_limit_usd, budget.thresholds) == (Decimal("100.00"), [50, 80])
    event = BudgetEvent.objects.get(budget=budget)
    assert (event.kind, event.actor) == ("created", operator)
    assert event.detail["thresholds"] == [50, 80] and event.detail["monthly_limit_usd"] == "100.00"


def test_changing_a_budget_in_the_admin_leaves_an_event_naming_what_changed(client, operator, alice, bob):
    budget = budgets.budget_save(budget=Budget(user=alice, monthly_limit_usd=Decimal("100")), actor=alice,
                                 previous=None)
    client.force_login(operator)
    url = reverse("admin:costs_budget_change", args=[budget.pk])
    data = _change_data(client, url, monthly_limit_usd="250", thresholds="[90, 50]", over_limit="approval",
                        user=bob.pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    budget.refresh_from_db()
    assert (budget.user, budget.monthly_limit_usd, budget.thresholds) == (alice, Decimal("250.00"), [50, 90])
    changed = BudgetEvent.objects.get(budget=budget, kind="changed")
    assert changed.actor == operator
    assert changed.detail == {"monthly_limit_usd": ["100.00", "250.00"], "thresholds": [[50, 80, 100], [50, 90]],
                              "over_limit": ["refuse", "approval"]}


def test_saving_a_budget_unchanged_leaves_no_change_event(client, operator, alice):
    budget = budgets.budget_save(budget=Budget(user=alice, monthly_limit_usd=Decimal("100")), actor=alice,
                                 previous=None)
    client.force_login(operator)
    url = reverse("admin:costs_budget_change", args=[budget.pk])
    response = client.post(url, _change_data(client, url, monthly_limit_usd="100", thresholds="100, 80, 50"))
    assert response.status_code == 302
    assert list(BudgetEvent.objects.values_list("kind", flat=True)) == ["created"]


@pytest.mark.parametrize("thresholds, message", [
    ("50, abc, 0, 1001, 12.5, -5", "these are not: abc, 0, 1001, 12.5, -5."),
    ("", "Give at least one threshold"),
    ("[]", "Give at least one threshold"),
])
def test_thresholds_that_are_not_whole_percentages_are_refused(client, operator, alice, thresholds, message):
    client.force_login(operator)
    response = client.post(reverse("admin:costs_budget_add"), {**FORM, "user": alice.pk, "thresholds": thresholds})
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors["thresholds"])
    assert not Budget.objects.exists() and not BudgetEvent.objects.exists()


def test_a_budget_for_both_a_user_and_a_group_or_for_neither_is_refused(client, operator, alice):
    lab = _lab("Lab", alice)
    client.force_login(operator)
    url = reverse("admin:costs_budget_add")
    both = client.post(url, {**FORM, "user": alice.pk, "group": lab.pk}).context["adminform"].form.errors
    assert both == {"group": ["A budget is for one user or one research group, not both: clear one of them."]}
    neither = client.post(url, {**FORM, "user": ""}).context["adminform"].form.errors
    assert neither == {"user": ["Choose the user or the research group this budget is for."]}
    assert not Budget.objects.exists() and not BudgetEvent.objects.exists()


def test_a_negative_limit_is_refused_with_a_message(client, operator, alice):
    client.force_login(operator)
    response = client.post(reverse("admin:costs_budget_add"), {**FORM, "user": alice.pk, "monthly_limit_usd": "-1"})
    assert response.context["adminform"].form.errors == {"monthly_limit_usd": ["The monthly limit cannot be negative."]}
    assert not Budget.objects.exists()


def test_deleting_a_budget_leaves_a_deleted_event_by_the_operator(client, operator, alice):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=100)
    client.force_login(operator)
    response = client.post(reverse("admin:costs_budget_delete", args=[budget.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Budget.objects.exists()
    deleted = BudgetEvent.objects.get(kind="deleted")
    assert deleted.actor == operator and "user alice@example.org" in deleted.message


def test_deleting_budgets_in_bulk_leaves_a_deleted_event_for_each(client, operator, alice, bob):
    kept = Budget.objects.create(group=_lab("Lab", alice), monthly_limit_usd=5)
    chosen = [Budget.objects.create(user=alice, monthly_limit_usd=100), Budget.objects.create(user=bob,
                                                                                               monthly_limit_usd=200)]
    client.force_login(operator)
    response = client.post(reverse("admin:costs_budget_changelist"), {
        "action": "delete_selected", "_selected_action": [b.pk for b in chosen], "post": "yes"}, follow=True)
    assert "Successfully deleted 2 budgets." in _messages(response)
    assert list(Budget.objects.all()) == [kept]
    deleted = BudgetEvent.objects.filter(kind="deleted", actor=operator)
    assert sorted(e.message.split(":")[0] for e in deleted) == ["user alice@example.org", "user bob@example.org"]


def test_a_budgets_page_shows_its_alerts_and_latest_events_read_only(client, operator, alice):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=100)
    BudgetAlert.objects.create(budget=budget, month=month_of(timezone.now()), threshold=80, spent_usd=81,
                               limit_usd=100, email_recipients="alice@example.org", webhook_result="HTTP 200")
    for i in range(55):
        BudgetEvent.objects.create(budget=budget, actor=operator, kind="changed", message=f"change number {i}")
    client.force_login(operator)
    response = client.get(reverse("admin:costs_budget_change", args=[budget.pk]))
    content = response.content.decode()
    assert "HTTP 200" in content and "alice@example.org" in content
    events = next(i for i in response.context["inline_admin_formsets"] if i.formset.prefix == "events").formset
    assert [f.instance.message for f in events.forms][:2] == ["change number 54", "change number 53"]
    assert len(events.forms) == 50  # the newest 50; the Budget events list has them all
    assert 'name="alerts-0-threshold"' not in content and 'name="events-0-message"' not in content


# --- Approving, rejecting and checking from the budget list ------------------------------------------


def _over_budget_runs(owner, n, group=None):
    sims = [_draft(owner, group=group, name=f"over {owner.email} {i}") for i in range(n)]
    for sim in sims:
        assert services.simulation_submit(simulation_id=sim.id, actor=owner) == "awaiting_approval"
    return sims


def test_approving_a_budgets_waiting_runs_starts_them_and_says_how_many(
        client, operator, alice, bob, fake_backend, django_capture_on_commit_callbacks):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=0, over_limit="approval")
    Budget.objects.create(user=bob, monthly_limit_usd=0, over_limit="approval")
    waiting = _over_budget_runs(alice, 2)
    other = _over_budget_runs(bob, 1)[0]
    client.force_login(operator)
    page = client.get(reverse("admin:costs_budget_change", args=[budget.pk])).content.decode()
    assert all(reverse("admin:simulations_simulation_change", args=[s.pk]) in page for s in waiting)
    assert reverse("admin:simulations_simulation_change", args=[other.pk]) not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:costs_budget_changelist"), {
            "action": "approve_waiting", "_selected_action": [budget.pk]}, follow=True)
    assert _messages(response) == ["Approved 2 of 2 run(s) waiting for approval under 1 budget(s)."]
    assert set(Simulation.objects.filter(id__in=[s.id for s in waiting]).values_list("status", flat=True)) == {
        S.STARTING}
    assert all(BudgetReservation.objects.get(simulation=s).approved_by == operator for s in waiting)
    assert BudgetEvent.objects.filter(kind="approved", actor=operator).count() == 2
    other.refresh_from_db()
    assert other.status == S.AWAITING_APPROVAL


def test_rejecting_a_group_budgets_waiting_runs_cancels_only_the_groups(client, operator, alice, bob, fake_backend):
    lab_budget = Budget.objects.create(group=_lab("Lab", alice), monthly_limit_usd=0, over_limit="approval")
    Budget.objects.create(user=bob, monthly_limit_usd=0, over_limit="approval")
    in_lab = _over_budget_runs(alice, 1, group="lab")[0]
    bobs = _over_budget_runs(bob, 1)[0]
    client.force_login(operator)
    listing = client.get(reverse("admin:costs_budget_changelist"))
    assert {b.pk: b.waiting_runs for b in listing.context["cl"].result_list}[lab_budget.pk] == 1
    response = client.post(reverse("admin:costs_budget_changelist"), {
        "action": "reject_waiting", "_selected_action": [lab_budget.pk]}, follow=True)
    assert _messages(response) == ["Rejected 1 of 1 run(s) waiting for approval under 1 budget(s)."]
    in_lab.refresh_from_db()
    bobs.refresh_from_db()
    assert in_lab.status == S.CANCELLED and in_lab.status_reason.startswith("rejected by ops@example.org")
    assert bobs.status == S.AWAITING_APPROVAL
    assert BudgetEvent.objects.get(kind="rejected", simulation=in_lab).actor == operator


def test_checking_thresholds_now_creates_each_alert_once_and_stops_runs_at_the_limit(
        client, operator, alice, django_capture_on_commit_callbacks):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=100)
    running = _draft(alice, name="running")
    Simulation.objects.filter(id=running.id).update(status=S.RUNNING)
    _spend(_draft(alice), "120")
    client.force_login(operator)
    url = reverse("admin:costs_budget_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"action": "check_now", "_selected_action": [budget.pk]}, follow=True)
    assert _messages(first) == ["Checked 1 budget(s): 3 new alert(s), 1 run(s) marked to stop after their current "
                                "segment."]
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, {"action": "check_now", "_selected_action": [budget.pk]}, follow=True)
    assert _messages(again) == ["Checked 1 budget(s): 0 new alert(s), 0 run(s) marked to stop after their current "
                                "segment."]
    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == [50, 80, 100]
    assert len(mail.outbox) == 3
    running.refresh_from_db()
    assert "reached its limit" in running.stop_after_segment


# --- The read-only consoles -----------------------------------------------------------------------

READ_ONLY = ["budgetalert", "budgetevent", "jobcost", "storagecharge", "costreconciliation", "runestimate",
             "benchmarkcampaign"]


@pytest.mark.parametrize("model", READ_ONLY)
def test_the_cost_records_cannot_be_added_or_edited_and_only_reconciliations_deleted(client, operator, model):
    _grow(1)
    row = _first(model)
    client.force_login(operator)
    assert client.get(reverse(f"admin:costs_{model}_add")).status_code == 403
    url = reverse(f"admin:costs_{model}_change", args=[row.pk])
    assert b'name="_save"' not in client.get(url).content
    assert client.post(url, {}).status_code == 403
    deletable = model == "costreconciliation"
    assert client.get(reverse(f"admin:costs_{model}_delete", args=[row.pk])).status_code == (200 if deletable else 403)
    assert type(row).objects.filter(pk=row.pk).exists()


def test_a_reconciliation_can_be_deleted(client, operator):
    _grow(1)
    row = CostReconciliation.objects.get()
    client.force_login(operator)
    response = client.post(reverse("admin:costs_costreconciliation_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not CostReconciliation.objects.exists()


def test_the_reconciliation_list_shows_platform_minus_aws_and_filters_on_it(client, operator, alice):
    above, below = _draft(alice, name="above"), _draft(alice, name="below")
    month = month_of(timezone.now())
    CostReconciliation.objects.create(simulation=above, month=month, platform_usd="12.5", aws_usd="10",
                                      fetched_at=timezone.now())
    CostReconciliation.objects.create(simulation=below, month=month, platform_usd="9", aws_usd="10",
                                      fetched_at=timezone.now())
    client.force_login(operator)
    url = reverse("admin:costs_costreconciliation_changelist")
    content = client.get(url).content.decode()
    assert "$2.50" in content and "-$1.00" in content
    response = client.get(url, {"difference": "aws"})
    assert [r.simulation_id for r in response.context["cl"].result_list] == [below.id]


def test_the_job_cost_list_filters_by_month_and_priced_and_searches_by_owner_and_simulation(client, operator, alice,
                                                                                            bob):
    now = timezone.now()
    this_month = _spend(_draft(alice, name="this month"), "3")
    earlier = _spend(_draft(alice, name="earlier"), "4", when=now - timedelta(days=40))
    bobs = _spend(_draft(bob, name="bobs"), "5")
    JobCost.objects.filter(pk=bobs.pk).update(priced=False, usd=0)
    client.force_login(operator)
    url = reverse("admin:costs_jobcost_changelist")

    def listed(params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {c.pk for c in response.context["cl"].result_list}

    assert listed({"month": month_of(now - timedelta(days=40)).isoformat()}) == {earlier.pk}
    assert listed({"month": "not a month"}) == {this_month.pk, earlier.pk, bobs.pk}
    assert listed({"priced__exact": "0"}) == {bobs.pk}
    assert listed({"q": "bob@example.org"}) == {bobs.pk}
    assert listed({"q": "earlier"}) == {earlier.pk}
    assert listed({"q": str(this_month.simulation_id)}) == {this_month.pk}


def test_the_alert_list_filters_by_delivery(client, operator, alice):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=100)
    month, now = month_of(timezone.now()), timezone.now()
    sent = BudgetAlert.objects.create(budget=budget, month=month, threshold=50, spent_usd=51, limit_usd=100,
                                      email_sent_at=now, email_recipients="alice@example.org")
    failed = BudgetAlert.objects.create(budget=budget, month=month, threshold=80, spent_usd=81, limit_usd=100,
                                        webhook_sent_at=now, webhook_result="failed: HTTP 500 Server Error")
    unsent = BudgetAlert.objects.create(budget=budget, month=month, threshold=100, spent_usd=101, limit_usd=100)
    client.force_login(operator)
    url = reverse("admin:costs_budgetalert_changelist")
    for value, expected in (("sent", sent), ("failed", failed), ("unsent", unsent)):
        assert [a.pk for a in client.get(url, {"delivery": value}).context["cl"].result_list] == [expected.pk]
    assert [a.pk for a in client.get(url, {"threshold": "80"}).context["cl"].result_list] == [failed.pk]


def test_the_event_list_filters_by_budget_including_deleted_ones_and_searches_messages(client, operator, alice, bob):
    mine = budgets.budget_save(budget=Budget(user=alice, monthly_limit_usd=Decimal("10")), actor=operator,
                               previous=None)
    budgets.budget_delete(budget=budgets.budget_save(budget=Budget(user=bob, monthly_limit_usd=Decimal("20")),
                                                     actor=operator, previous=None), actor=operator)
    client.force_login(operator)
    url = reverse("admin:costs_budgetevent_changelist")
    assert [e.kind for e in client.get(url, {"budget": mine.pk}).context["cl"].result_list] == ["created"]
    # bob's budget is gone: its events (created, deleted) keep their messages and lose the link.
    assert {e.kind for e in client.get(url, {"budget": "none"}).context["cl"].result_list} == {"created", "deleted"}
    assert [e.kind for e in client.get(url, {"q": "deleted"}).context["cl"].result_list] == ["deleted"]
    assert [e.kind for e in client.get(url, {"kind__exact": "created"}).context["cl"].result_list] == ["created"] * 2


def test_the_estimate_list_shows_what_the_runs_jobs_cost_beside_the_estimate(client, operator, alice):
    sim = _draft(alice)
    RunEstimate.objects.create(simulation=sim, instance_type="c7g.16xlarge", capacity="on-demand", region="us-east-1",
                               hours_expected=2, usd_low=8, usd_expected=10, usd_high=12, basis="test")
    _spend(sim, "4")
    _spend(sim, "7.5", when=timezone.now() - timedelta(days=40))
    client.force_login(operator)
    response = client.get(reverse("admin:costs_runestimate_changelist"))
    assert [e.actual_usd for e in response.context["cl"].result_list] == [Decimal("11.5")]
    assert "$8.00 / $10.00 / $12.00" in response.content.decode()


def test_a_campaigns_page_lists_its_runs_with_their_status_linked(client, operator, alice):
    campaign = BenchmarkCampaign.objects.create(name="graviton vs x86", definition={}, created_by=alice)
    done, queued = _draft(alice, name="on c7g"), _draft(alice, name="on c7i")
    Simulation.objects.filter(id=done.id).update(status=S.SUCCEEDED)
    Simulation.objects.filter(id=queued.id).update(status=S.QUEUED)
    BenchmarkRun.objects.create(campaign=campaign, simulation=done, label="4x5", instance_type="c7g.16xlarge")
    BenchmarkRun.objects.create(campaign=campaign, simulation=queued, label="4x5", instance_type="c7i.16xlarge")
    client.force_login(operator)
    listing = client.get(reverse("admin:costs_benchmarkcampaign_changelist"))
    row = listing.context["cl"].result_list[0]
    assert (row.runs_total, row.runs_succeeded) == (2, 1)
    content = client.get(reverse("admin:costs_benchmarkcampaign_change", args=[campaign.pk])).content.decode()
    for sim in (done, queued):
        sim.refresh_from_db()
        assert reverse("admin:simulations_simulation_change", args=[sim.pk]) in content
        assert sim.get_status_display() in content
