"""Budgets: admission at submit, approvals, alerts once per threshold, stopping at the limit, audit."""

from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Membership, ResearchGroup
from costs import budgets, services as cost_services, tasks, webhooks
from costs.models import Budget, BudgetAlert, BudgetEvent, BudgetReservation, JobCost, RunEstimate, month_of
from simulations import services, tracking
from simulations.models import Job, Simulation

pytestmark = pytest.mark.django_db
S = Simulation.Status
ONE_MONTH = {"name": "fullchem month", "model": "classic", "simulation": "TransportTracers", "resolution": "4x5",
             "start": "2019-01-01", "end": "2019-02-01", "outputs": {"SpeciesConc": {"frequency": "daily"}},
             "compute": {"instance_type": "c7g.16xlarge", "capacity": "on-demand"}}


def _draft(owner, config=None, group=None):
    return services.simulation_create(owner=owner, raw_config=dict(config or ONE_MONTH), group=group)


def _upper(sim) -> Decimal:
    return cost_services.simulation_estimate(sim)[1].usd


def _spend(sim, usd, when=None):
    """A finished job of `sim` that cost `usd` this month."""
    when = when or timezone.now()
    job = Job.objects.create(simulation=sim, segment=99, attempt=Job.objects.count() + 1,
                             name=f"spent-{sim.short_id}-{Job.objects.count()}", backend="batch", state="SUCCEEDED",
                             spec={}, period_start=when, period_end=when, started_at=when, stopped_at=when)
    return JobCost.objects.create(job=job, simulation=sim, owner=sim.owner, group=sim.group, month=month_of(when),
                                  instance_type="c7g.16xlarge", capacity="on-demand", nodes=1, region="us-east-1",
                                  started_at=when, stopped_at=when, hours=1, usd_per_hour=usd, usd=usd,
                                  price_source="test")


def test_a_run_with_no_budget_is_queued_and_its_estimate_kept(alice, fake_backend, django_capture_on_commit_callbacks):
    sim = _draft(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_submit(simulation_id=sim.id, actor=alice) == "queued"
    estimate = RunEstimate.objects.get(simulation=sim)
    assert estimate.instance_type == "c7g.16xlarge"
    assert 0 < estimate.usd_low <= estimate.usd_expected <= estimate.usd_high
    assert estimate.hours_low <= estimate.hours_expected <= estimate.hours_high
    assert not BudgetReservation.objects.exists()


def test_a_run_within_budget_is_queued_and_its_upper_estimate_held(alice, fake_backend,
                                                                   django_capture_on_commit_callbacks):
    sim = _draft(alice)
    upper = _upper(sim)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=upper * 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_submit(simulation_id=sim.id, actor=alice) == "queued"
    held = BudgetReservation.objects.get(budget=budget, simulation=sim)
    assert held.usd == upper
    standing = budgets.budget_standing(budget)
    assert standing.held == upper and standing.left == budget.limit - upper
    assert "held against user alice@example.org" in sim.events.get(to_status=S.QUEUED).message


def test_a_run_over_a_refusing_budget_is_refused_and_stays_a_draft(alice, fake_backend):
    sim = _draft(alice)
    Budget.objects.create(user=alice, monthly_limit_usd=_upper(sim) / 2)
    with pytest.raises(services.SubmitRefused) as refused:
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    assert "refused" in refused.value.message and "upper estimate is $" in refused.value.message
    sim.refresh_from_db()
    assert sim.status == S.DRAFT and not sim.jobs.exists()
    assert BudgetEvent.objects.get(kind="refused").simulation == sim
    assert sim.events.filter(message=refused.value.message).exists()
    assert not BudgetReservation.objects.exists()


def test_what_was_spent_this_month_counts_against_the_budget(alice, fake_backend):
    earlier = _draft(alice)
    sim = _draft(alice)
    upper = _upper(sim)
    Budget.objects.create(user=alice, monthly_limit_usd=upper * 2)
    _spend(earlier, upper * Decimal("1.5"))
    with pytest.raises(services.SubmitRefused):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    # Last month's spending does not.
    JobCost.objects.update(month=month_of(timezone.now() - timedelta(days=40)))
    assert services.simulation_submit(simulation_id=sim.id, actor=alice) == "queued"


def test_a_finished_run_releases_what_it_held(alice, fake_backend, django_capture_on_commit_callbacks):
    sim = _draft(alice)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=_upper(sim) * 3)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    assert budgets.budget_held(budget, month_of(timezone.now())) > 0
    Simulation.objects.filter(id=sim.id).update(status=S.SUCCEEDED)
    assert budgets.budget_held(budget, month_of(timezone.now())) == 0


def test_a_running_runs_cost_so_far_comes_off_what_it_holds(alice, fake_backend, django_capture_on_commit_callbacks):
    sim = _draft(alice)
    upper = _upper(sim)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=upper * 3)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    _spend(sim, Decimal("0.50"))
    standing = budgets.budget_standing(budget)
    assert standing.spent == Decimal("0.50")
    assert standing.held == upper - Decimal("0.50")


def test_a_group_budget_limits_the_groups_runs_and_not_the_members_own(alice, fake_backend):
    lab = ResearchGroup.objects.create(name="Lab", slug="lab")
    Membership.objects.create(user=alice, group=lab)
    in_lab = _draft(alice, group="lab")
    private = _draft(alice, group="")
    Budget.objects.create(group=lab, monthly_limit_usd=Decimal("0.01"))
    with pytest.raises(services.SubmitRefused) as refused:
        services.simulation_submit(simulation_id=in_lab.id, actor=alice)
    assert "group Lab's budget" in refused.value.message
    assert services.simulation_submit(simulation_id=private.id, actor=alice) == "queued"


def test_a_run_over_an_approval_budget_waits_and_an_operator_approves_it(
        alice, operator, fake_backend, django_capture_on_commit_callbacks):
    sim = _draft(alice)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0.01"), over_limit="approval")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_submit(simulation_id=sim.id, actor=alice) == "awaiting_approval"
    sim.refresh_from_db()
    assert sim.status == S.AWAITING_APPROVAL and not sim.jobs.exists()
    assert BudgetEvent.objects.filter(budget=budget, kind="approval_requested", simulation=sim).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_approve(simulation_id=sim.id, actor=operator) is True
    sim.refresh_from_db()
    assert sim.status == S.STARTING and sim.jobs.count() == 1
    held = BudgetReservation.objects.get(simulation=sim)
    assert held.approved_by == operator and held.usd == _upper(sim)
    approved = BudgetEvent.objects.get(kind="approved")
    assert approved.actor == operator and "approved by ops@example.org" in approved.message
    assert services.simulation_approve(simulation_id=sim.id, actor=operator) is False


def test_an_operator_can_reject_a_run_waiting_for_approval(alice, operator, fake_backend):
    sim = _draft(alice)
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"), over_limit="approval")
    services.simulation_submit(simulation_id=sim.id, actor=alice)
    assert services.simulation_reject(simulation_id=sim.id, actor=operator, reason="not this month") is True
    sim.refresh_from_db()
    assert sim.status == S.CANCELLED and "rejected by ops@example.org: not this month" == sim.status_reason
    assert BudgetEvent.objects.get(kind="rejected").actor == operator
    assert services.simulation_reject(simulation_id=sim.id, actor=operator) is False


def test_a_retry_is_admitted_for_the_part_still_to_do(alice, fake_backend, django_capture_on_commit_callbacks):
    config = dict(ONE_MONTH, end="2019-03-01")
    sim = _draft(alice, config)
    full = _upper(sim)
    Simulation.objects.filter(id=sim.id).update(status=S.FAILED, segments_done=1)
    sim.refresh_from_db()
    budget = Budget.objects.create(user=alice, monthly_limit_usd=full * Decimal("0.75"))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_retry(simulation_id=sim.id, actor=alice) == "queued"
    held = BudgetReservation.objects.get(budget=budget).usd
    assert held < full * Decimal("0.75")
    assert "still to do" in sim.events.get(to_status=S.QUEUED).message


def test_a_resumed_run_holds_only_its_newest_reservation(alice, fake_backend, django_capture_on_commit_callbacks):
    sim = _draft(alice)
    upper = _upper(sim)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=upper * 5)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    Simulation.objects.filter(id=sim.id).update(status=S.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_retry(simulation_id=sim.id, actor=alice) == "queued"
    assert BudgetReservation.objects.filter(simulation=sim).count() == 2
    assert budgets.budget_held(budget, month_of(timezone.now())) == upper


def test_alerts_are_created_and_sent_once_per_threshold(alice, fake_backend, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    posted = []
    monkeypatch.setattr(webhooks, "post_json", lambda url, payload: posted.append((url, payload))
                        or webhooks.WebhookResult(True, 200))
    sim = _draft(alice)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=Decimal("100"), stop_at_limit=False,
                                   webhook_url="https://hooks.example.org/T0/B0")
    _spend(sim, Decimal("55"))
    with django_capture_on_commit_callbacks(execute=True):
        assert budgets.budget_check(budget_id=budget.id)["alerts"] == [50]
        assert budgets.budget_check(budget_id=budget.id)["alerts"] == []
    _spend(sim, Decimal("30"))
    with django_capture_on_commit_callbacks(execute=True):
        assert budgets.budget_check(budget_id=budget.id)["alerts"] == [80]
        tasks.check_budgets()
    assert list(BudgetAlert.objects.order_by("threshold").values_list("threshold", flat=True)) == [50, 80]
    assert len(mail.outbox) == 2 and mail.outbox[0].to == ["alice@example.org"]
    assert "50 %" in mail.outbox[0].subject
    assert [p[1]["text"] for p in posted] == [mail.outbox[0].body, mail.outbox[1].body]
    # A retried delivery task sends nothing more.
    for alert in BudgetAlert.objects.all():
        assert tasks.send_budget_alert(alert.id) == {}
    assert len(mail.outbox) == 2 and len(posted) == 2
    assert BudgetAlert.objects.filter(threshold=50).get().webhook_result == "HTTP 200"
    assert BudgetEvent.objects.filter(kind="alert").count() == 2


def test_a_group_alert_goes_to_the_groups_admins(alice, bob, fake_backend, django_capture_on_commit_callbacks):
    lab = ResearchGroup.objects.create(name="Lab", slug="lab")
    Membership.objects.create(user=alice, group=lab)
    Membership.objects.create(user=bob, group=lab, role=Membership.Role.ADMIN)
    sim = _draft(alice, group="lab")
    budget = Budget.objects.create(group=lab, monthly_limit_usd=Decimal("10"), thresholds=[100])
    _spend(sim, Decimal("12"))
    with django_capture_on_commit_callbacks(execute=True):
        budgets.budget_check(budget_id=budget.id)
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]


def test_running_jobs_cost_so_far_counts_toward_the_thresholds(alice, fake_backend):
    sim = _draft(alice)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=Decimal("1"), stop_at_limit=False)
    now = timezone.now()
    Job.objects.create(simulation=sim, segment=1, attempt=1, name="running", backend="batch", backend_id="b",
                       state="RUNNING", spec={"compute": {"instance_type": "c7g.16xlarge", "capacity": "on-demand",
                                                          "nodes": 1}},
                       period_start=now, period_end=now, started_at=now - timedelta(hours=10))
    result = budgets.budget_check(budget_id=budget.id, now=now)
    assert result["percent"] > 100 and result["alerts"] == [50, 80, 100]


def test_at_the_limit_runs_stop_after_their_current_segment(alice, fake_backend, django_capture_on_commit_callbacks):
    config = dict(ONE_MONTH, end="2019-03-01")
    sim = _draft(alice, config)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=_upper(sim) * 2)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    budget.refresh_from_db()  # the limit as stored, to the cent
    _spend(_draft(alice), budget.limit)  # another run spent the rest
    with django_capture_on_commit_callbacks(execute=True):
        assert budgets.budget_check(budget_id=budget.id)["stopped"] == 1
    sim.refresh_from_db()
    assert "reached its limit" in sim.stop_after_segment
    first = sim.jobs.get()
    fake_backend.set(first.name, "SUCCEEDED", exit_code=0, metrics={"status": "succeeded", "restart": "r1.nc4"})
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == S.CANCELLED and sim.segments_done == 1 and sim.jobs.count() == 1
    assert sim.status_reason.startswith("stopped after segment 1 of 2")
    assert BudgetEvent.objects.filter(kind="stopped").count() == 1


def test_a_budget_that_does_not_stop_runs_lets_them_finish(alice, fake_backend, django_capture_on_commit_callbacks):
    config = dict(ONE_MONTH, end="2019-03-01")
    sim = _draft(alice, config)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=_upper(sim) * 2, stop_at_limit=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    budget.refresh_from_db()
    _spend(_draft(alice), budget.limit)
    first = sim.jobs.get()
    fake_backend.set(first.name, "SUCCEEDED", exit_code=0, metrics={"status": "succeeded", "restart": "r1.nc4"})
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    assert sim.jobs.count() == 2


def test_budget_changes_leave_audit_events_naming_what_changed(alice, operator):
    budget = budgets.budget_save(budget=Budget(user=alice, monthly_limit_usd=Decimal("100")), actor=operator,
                                 previous=None)
    previous = {name: getattr(budget, name) for name in budgets.AUDITED_FIELDS}
    budget.monthly_limit_usd = Decimal("250")
    budget.thresholds = [90, 50, 50]
    budgets.budget_save(budget=budget, actor=operator, previous=previous)
    created, changed = BudgetEvent.objects.order_by("id")
    assert (created.kind, changed.kind, changed.actor) == ("created", "changed", operator)
    assert changed.detail == {"monthly_limit_usd": ["100", "250"], "thresholds": [[50, 80, 100], [50, 90]]}
    budgets.budget_delete(budget=budget, actor=operator)
    assert BudgetEvent.objects.filter(kind="deleted", actor=operator).exists()
    assert not Budget.objects.exists()


def test_an_unchanged_save_leaves_no_event(alice, operator):
    budget = budgets.budget_save(budget=Budget(user=alice, monthly_limit_usd=Decimal("100")), actor=operator,
                                 previous=None)
    budgets.budget_save(budget=budget, actor=operator,
                        previous={name: getattr(budget, name) for name in budgets.AUDITED_FIELDS})
    assert BudgetEvent.objects.count() == 1


def test_a_budget_is_for_one_user_or_one_group_never_both(alice):
    from django.db import IntegrityError

    lab = ResearchGroup.objects.create(name="Lab", slug="lab")
    with pytest.raises(IntegrityError):
        Budget.objects.create(user=alice, group=lab, monthly_limit_usd=Decimal("1"))


def test_alert_text_names_scope_share_and_month(alice):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=Decimal("200"))
    alert = BudgetAlert(budget=budget, month=datetime(2026, 12, 1).date(), threshold=80, spent_usd=Decimal("161.5"),
                        limit_usd=Decimal("200"))
    assert budgets.alert_text(alert) == ("GEOS-Chem Cloud Runner: user alice@example.org has used 80 % of its "
                                         "monthly budget ($161.50 of $200.00, December 2026).")


def test_the_webhook_wrapper_posts_json_and_reports_failures():
    import http.server
    import json
    import threading

    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the standard library's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            if self.path == "/moved":
                self.send_response(307)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            else:
                self.send_response(200 if self.path == "/ok" else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert webhooks.post_json(base + "/ok", {"text": "hi"}).summary == "HTTP 200"
        failed = webhooks.post_json(base + "/broken", {"text": "hi"})
        assert not failed.ok and failed.status == 500
        moved = webhooks.post_json(base + "/moved", {"text": "hi"})
        assert not moved.ok and "redirect to http://169.254.169.254" in moved.error
    finally:
        server.shutdown()
    assert received == [{"text": "hi"}, {"text": "hi"}, {"text": "hi"}]
    assert webhooks.post_json("ftp://x", {}).summary.startswith("failed: not an http(s) URL")
    unreachable = webhooks.post_json("http://127.0.0.1:9/", {}, timeout=1)
    assert not unreachable.ok and unreachable.status is None


def test_admission_is_refused_when_no_estimate_can_be_made(alice):
    sim = _draft(alice)
    budget = Budget.objects.create(user=alice, monthly_limit_usd=Decimal("1000"))
    upper = cost_services.UpperCost(None, "no instance type can run this configuration")
    admission = budgets.budget_admit(sim=sim, upper=upper)
    assert admission.decision == "refuse" and "no cost estimate can be made" in admission.message
    assert admission.budgets == [budget]


def test_a_budget_standing_in_a_month(alice):
    budget = Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"))
    standing = budgets.budget_standing(budget, month_of(datetime(2026, 1, 5, tzinfo=dt_timezone.utc)))
    assert (standing.spent, standing.held, standing.percent) == (0, 0, 0.0)
