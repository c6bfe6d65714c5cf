"""Notifications: who is told of a run's end, failure, approval or cancel, by email and webhook,
each once; budget threshold emails by preference; the profile's forms, their access rules and the
test-message button; the admin's log."""

import http.server
import json
import smtplib
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import notifications, tasks
from accounts.models import (GroupNotificationSettings, Membership, Notification, NotificationPreference,
                             ResearchGroup)
from costs import budgets
from costs.models import Budget, BudgetAlert, month_of
from simulations import services, tracking
from simulations.models import Simulation

pytestmark = pytest.mark.django_db
S = Simulation.Status
ONE_MONTH = {"name": "fullchem month", "model": "classic", "simulation": "TransportTracers", "resolution": "4x5",
             "start": "2019-01-01", "end": "2019-02-01", "outputs": {"SpeciesConc": {"frequency": "daily"}},
             "compute": {"instance_type": "c7g.16xlarge", "capacity": "on-demand"}}
PROFILE = reverse("accounts:profile")
SAVE = reverse("accounts:notifications")
TEST = reverse("accounts:notifications_test")


@pytest.fixture
def hook():
    """A webhook receiver on 127.0.0.1: /ok answers 200, anything else 500; `received` keeps
    (path, body) of every POST."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the standard library's name
            received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200 if self.path == "/ok" else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.base = f"http://127.0.0.1:{server.server_port}"
    server.received = received
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def lab(alice, bob):
    """Alice's group, where bob is the admin."""
    group = ResearchGroup.objects.create(name="Atmos Lab", slug="atmos")
    Membership.objects.create(user=alice, group=group)
    Membership.objects.create(user=bob, group=group, role=Membership.Role.ADMIN)
    return group


def _submitted(owner, config, capture, group=None):
    sim = services.simulation_create(owner=owner, raw_config=config, group=group)
    with capture(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=owner)
    sim.refresh_from_db()
    return sim


def _finish(backend, sim, capture, state="SUCCEEDED", reason=""):
    """The backend reports the simulation's current job ended; the tasks this queues run."""
    job = sim.jobs.order_by("-attempt").first()
    if state == "SUCCEEDED":
        backend.set(job.name, state, exit_code=0, progress={"percent": 100.0},
                    metrics={"status": "succeeded", "exit_code": 0, "restart": "Restarts/r.nc4"})
    else:
        backend.set(job.name, state, exit_code=137, reason=reason)
    with capture(execute=True):
        tracking.jobs_sync()
    sim.refresh_from_db()
    assert sim.status == state.lower()


def _prefer(user, **choices):
    url = choices.pop("webhook_url", "")
    return notifications.preference_save(user=user, webhook_url=url, choices=choices)


# --- Runs that end ----------------------------------------------------------------------------------

def test_a_run_that_succeeds_emails_its_owner_once_even_when_the_task_runs_twice(
        alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, sim, django_capture_on_commit_callbacks)

    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    email = mail.outbox[0]
    assert email.subject == f"Run succeeded: {sim.name}"
    assert f"http://127.0.0.1:8000/simulations/{sim.id}/" in email.body
    assert "Why: all segments finished" in email.body and "demo model" in email.body
    note = Notification.objects.get()
    assert (note.kind, note.channel, note.recipient, note.outcome) == ("succeeded", "email", alice, "delivered")
    assert note.event == sim.events.get(to_status=S.SUCCEEDED) and note.sent_at is not None

    assert tasks.notify_simulation(str(sim.id), "succeeded") == {"delivered": 0, "failed": 0}
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


def test_the_links_point_at_the_configured_site(alice, two_days, fake_backend, settings,
                                                django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://gcr.example.org"
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, sim, django_capture_on_commit_callbacks)
    assert f"https://gcr.example.org/simulations/{sim.id}/" in mail.outbox[0].body
    assert "https://gcr.example.org/profile/#notifications" in mail.outbox[0].body


def test_a_failed_run_emails_its_owner_the_reason(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, sim, django_capture_on_commit_callbacks, state="FAILED", reason="OutOfMemoryError: killed")

    (email,) = mail.outbox
    assert email.subject == f"Run failed: {sim.name}" and email.to == ["alice@example.org"]
    assert "Why: segment 1 failed: OutOfMemoryError: killed" in email.body
    assert Notification.objects.get().kind == "failed"


def test_each_failure_of_a_resumed_run_is_told_once(alice, two_days, fake_backend,
                                                   django_capture_on_commit_callbacks):
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, sim, django_capture_on_commit_callbacks, state="FAILED", reason="first")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.simulation_retry(simulation_id=sim.id, actor=alice) == "queued"
    sim.refresh_from_db()
    _finish(fake_backend, sim, django_capture_on_commit_callbacks, state="FAILED", reason="second")
    tasks.notify_simulation(str(sim.id), "failed")

    assert [m.subject for m in mail.outbox] == [f"Run failed: {sim.name}"] * 2
    assert "first" in mail.outbox[0].body and "second" in mail.outbox[1].body
    assert Notification.objects.filter(kind="failed").count() == 2


def test_a_run_waiting_for_approval_asks_every_operator_who_wants_it_and_tells_its_owner(
        alice, operator, django_user_model, fake_backend, django_capture_on_commit_callbacks):
    quiet = django_user_model.objects.create_user(email="quiet-ops@example.org", is_staff=True)
    _prefer(quiet, email_awaiting_approval=False)
    django_user_model.objects.create_user(email="gone-ops@example.org", is_staff=True, is_active=False)
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0.01"), over_limit="approval")

    sim = _submitted(alice, ONE_MONTH, django_capture_on_commit_callbacks)

    assert sim.status == S.AWAITING_APPROVAL
    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == ["alice@example.org", "ops@example.org"]
    assert all(m.subject == f"Run needs approval: {sim.name}" for m in mail.outbox)
    assert "/admin/simulations/simulation/?activity=approval" in by_address["ops@example.org"].body
    assert "of alice@example.org is waiting for an operator's approval" in by_address["ops@example.org"].body
    assert "/admin/" not in by_address["alice@example.org"].body
    assert "sent to an operator for approval" in by_address["alice@example.org"].body
    assert set(Notification.objects.values_list("recipient__email", flat=True)) == {"alice@example.org",
                                                                                   "ops@example.org"}


def test_an_approval_request_handled_before_its_task_ran_asks_no_one(alice, operator, fake_backend):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0.01"), over_limit="approval")
    sim = services.simulation_create(owner=alice, raw_config=ONE_MONTH)
    services.simulation_submit(simulation_id=sim.id, actor=alice)  # its tasks are not run (no commit)
    services.simulation_reject(simulation_id=sim.id, actor=operator, reason="not this month")

    assert notifications.notify_simulation(simulation_id=sim.id, kind="awaiting_approval") == {
        "delivered": 0, "failed": 0}
    assert not mail.outbox and not Notification.objects.exists()


def test_a_rejected_run_tells_its_owner_and_a_cancel_of_ones_own_does_not(
        alice, operator, two_days, fake_backend, django_capture_on_commit_callbacks):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0.01"), over_limit="approval")
    waiting = services.simulation_create(owner=alice, raw_config=ONE_MONTH)
    services.simulation_submit(simulation_id=waiting.id, actor=alice)
    own = services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_reject(simulation_id=waiting.id, actor=operator, reason="not this month")
        services.simulation_cancel(simulation_id=own.id, actor=alice)

    (email,) = mail.outbox
    assert email.subject == f"Run cancelled: {waiting.name}" and email.to == ["alice@example.org"]
    assert "rejected by ops@example.org: not this month" in email.body
    assert Simulation.objects.get(id=own.id).status == S.CANCELLED
    assert not Notification.objects.filter(simulation=own).exists()


def test_a_preference_turned_off_means_no_email(alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    _prefer(alice, email_succeeded=False)
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, sim, django_capture_on_commit_callbacks)
    assert not mail.outbox and not Notification.objects.exists()
    # The other kinds stay on.
    assert NotificationPreference.objects.get(user=alice).email_failed


def test_an_email_that_cannot_be_sent_is_recorded_as_failed_and_not_sent_again(
        alice, two_days, fake_backend, monkeypatch, django_capture_on_commit_callbacks):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(notifications, "send_mail", refuse)
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, sim, django_capture_on_commit_callbacks)
    tasks.notify_simulation(str(sim.id), "succeeded")

    note = Notification.objects.get()
    assert note.outcome == "failed" and note.detail == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert len(calls) == 1


# --- Webhooks ---------------------------------------------------------------------------------------

def test_the_groups_webhook_receives_the_events_it_asked_for(
        alice, bob, lab, hook, two_days, fake_backend, django_capture_on_commit_callbacks):
    notifications.group_settings_save(group=lab, actor=bob, webhook_url=hook.base + "/ok",
                                      choices={"on_failed": False})
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks, group="atmos")
    _finish(fake_backend, sim, django_capture_on_commit_callbacks)
    failing = _submitted(alice, two_days, django_capture_on_commit_callbacks, group="atmos")
    _finish(fake_backend, failing, django_capture_on_commit_callbacks, state="FAILED", reason="boom")

    ((path, body),) = hook.received
    assert path == "/ok" and list(body) == ["text"]
    assert f"run succeeded: “{sim.name}” ({sim.short_id}) of alice@example.org in Atmos Lab" in body["text"]
    assert f"http://127.0.0.1:8000/simulations/{sim.id}/" in body["text"]
    note = Notification.objects.get(channel="webhook")
    assert (note.group, note.recipient, note.outcome, note.detail) == (lab, None, "delivered", "HTTP 200")
    # The owner's emails go out as before, one per run.
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Run succeeded", "Run failed"]


def test_the_owners_webhook_gets_the_kinds_they_chose(alice, hook, two_days, fake_backend,
                                                     django_capture_on_commit_callbacks):
    _prefer(alice, webhook_url=hook.base + "/ok", webhook_succeeded=False, email_failed=False)
    done = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, done, django_capture_on_commit_callbacks)
    failed = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, failed, django_capture_on_commit_callbacks, state="FAILED", reason="boom")

    assert len(hook.received) == 1 and "run failed" in hook.received[0][1]["text"]
    assert [m.subject for m in mail.outbox] == [f"Run succeeded: {done.name}"]
    assert Notification.objects.get(channel="webhook").recipient == alice


def test_a_failing_webhook_is_recorded_as_failed_with_the_reason_and_not_retried(
        alice, bob, lab, hook, two_days, fake_backend, django_capture_on_commit_callbacks):
    notifications.group_settings_save(group=lab, actor=bob, webhook_url=hook.base + "/broken", choices={})
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks, group="atmos")
    _finish(fake_backend, sim, django_capture_on_commit_callbacks)
    # The task runs again (a retry, a second worker): the failed post is not repeated.
    assert tasks.notify_simulation(str(sim.id), "succeeded") == {"delivered": 0, "failed": 0}

    assert len(hook.received) == 1
    note = Notification.objects.get(channel="webhook")
    assert note.outcome == "failed" and note.detail == "HTTP 500 Internal Server Error"
    assert Notification.objects.get(channel="email").outcome == "delivered"


def test_a_webhook_saved_before_https_was_required_is_not_posted_to(
        alice, hook, two_days, fake_backend, settings, django_capture_on_commit_callbacks):
    _prefer(alice, webhook_url=hook.base + "/ok")
    settings.HTTPS = True
    sim = _submitted(alice, two_days, django_capture_on_commit_callbacks)
    _finish(fake_backend, sim, django_capture_on_commit_callbacks)
    assert not hook.received
    note = Notification.objects.get(channel="webhook")
    assert note.outcome == "failed" and note.detail == "not sent: a webhook URL must start with https://"


@pytest.mark.parametrize("url, https, problem", [
    ("https://hooks.slack.com/services/T0/B0/x", False, ""),
    ("https://hooks.slack.com/services/T0/B0/x", True, ""),
    ("http://127.0.0.1:8123/hook", False, ""),
    ("http://localhost:8123/hook", False, ""),
    ("http://hooks.example.org/x", False, "plain http:// only to 127.0.0.1"),
    ("http://127.0.0.1:8123/hook", True, "must start with https://"),
    ("https://127.0.0.1/hook", True, "may not point at this server or a private network"),
    ("https://10.1.2.3/hook", True, "may not point at this server or a private network"),
    ("https://169.254.169.254/latest/meta-data/", True, "may not point at this server or a private network"),
    ("ftp://files.example.org/x", False, "starts with https://"),
    ("https://hooks.example.org:99999/x", False, "not a valid URL"),
])
def test_a_webhook_url_must_be_https_and_plain_http_is_only_for_this_machine_in_development(
        settings, url, https, problem):
    settings.HTTPS = https
    found = notifications.webhook_url_problem(url)
    assert (problem in found) if problem else found == ""


def test_saving_a_refused_webhook_url_saves_nothing(alice):
    with pytest.raises(notifications.WebhookUrlInvalid):
        _prefer(alice, webhook_url="http://hooks.example.org/x", email_failed=False)
    assert not NotificationPreference.objects.exists()


# --- Budget thresholds ---------------------------------------------------------------------------------

def _alert(budget):
    alert = BudgetAlert.objects.create(budget=budget, month=month_of(timezone.now()), threshold=80,
                                       spent_usd=Decimal("85"), limit_usd=budget.monthly_limit_usd)
    return budgets.alert_deliver(alert_id=alert.id), BudgetAlert.objects.get(id=alert.id)


def test_a_budget_threshold_email_is_not_sent_to_a_user_who_turned_it_off(alice):
    _prefer(alice, email_budget_threshold=False)
    done, alert = _alert(Budget.objects.create(user=alice, monthly_limit_usd=Decimal("100")))
    assert not mail.outbox
    assert done == {"email": "nobody: its recipients turned budget emails off"}
    assert alert.email_sent_at is not None  # decided once: a retried task sends nothing later
    assert budgets.alert_deliver(alert_id=alert.id) == {}


def test_a_group_budget_threshold_emails_only_the_admins_who_want_it(alice, bob, django_user_model, lab):
    carol = django_user_model.objects.create_user(email="carol@example.org")
    Membership.objects.create(user=carol, group=lab, role=Membership.Role.ADMIN)
    _prefer(bob, email_budget_threshold=False)
    done, _ = _alert(Budget.objects.create(group=lab, monthly_limit_usd=Decimal("100")))
    assert [m.to for m in mail.outbox] == [["carol@example.org"]]
    assert done["email"] == "carol@example.org"


# --- The profile page ---------------------------------------------------------------------------------

def _form(**on):
    """The profile form's POST data: the boxes named in `on` ticked, the rest not."""
    data = {"webhook_url": on.pop("webhook_url", "")}
    data.update({name: "on" for name, ticked in on.items() if ticked})
    return data


def test_the_profile_shows_the_notification_preferences_all_on_by_default(client, alice):
    client.force_login(alice)
    response = client.get(PROFILE)
    page = response.content.decode()
    assert response.status_code == 200 and 'id="notifications"' in page
    form = response.context["notification_form"]
    assert all(form[name].value() for name in notifications.PREFERENCE_FIELDS)
    assert "Send a test message" not in page  # no webhook yet
    assert "Your groups' notifications" not in page


def test_saving_the_preferences_stores_them(client, alice):
    client.force_login(alice)
    response = client.post(SAVE, _form(email_failed=True, email_budget_threshold=True, webhook_failed=True,
                                       webhook_url="https://hooks.slack.com/services/T0/B0/x"))
    assert response.status_code == 302 and response["Location"] == "/profile/#notifications"
    saved = NotificationPreference.objects.get(user=alice)
    assert [name for name in notifications.PREFERENCE_FIELDS if getattr(saved, name)] == [
        "email_failed", "email_budget_threshold", "webhook_failed"]
    assert saved.webhook_url == "https://hooks.slack.com/services/T0/B0/x"
    assert "Send a test message to your webhook" in client.get(PROFILE).content.decode()


def test_an_insecure_webhook_url_is_refused_on_the_profile_with_the_reason(client, alice):
    client.force_login(alice)
    response = client.post(SAVE, _form(email_failed=True, webhook_url="http://hooks.example.org/x"))
    assert response.status_code == 400
    assert "plain http:// only to 127.0.0.1" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_notification_pages_need_a_sign_in(client, lab):
    for url in [SAVE, TEST, reverse("accounts:group_notifications", args=["atmos"]),
                reverse("accounts:group_notifications_test", args=["atmos"])]:
        response = client.post(url, {})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert not NotificationPreference.objects.exists() and not GroupNotificationSettings.objects.exists()


def test_the_test_button_posts_once_and_shows_the_result(client, alice, hook):
    _prefer(alice, webhook_url=hook.base + "/ok")
    client.force_login(alice)

    page = client.post(TEST, follow=True).content.decode()

    assert f"Test message delivered to {hook.base}/ok (HTTP 200)" in page
    ((path, body),) = hook.received
    assert path == "/ok" and "a test message for alice@example.org's webhook" in body["text"]
    note = Notification.objects.get()
    assert (note.kind, note.recipient, note.outcome, note.event) == ("test", alice, "delivered", None)


def test_a_failing_test_message_shows_why(client, alice, hook):
    _prefer(alice, webhook_url=hook.base + "/nowhere")
    client.force_login(alice)
    page = client.post(TEST, follow=True).content.decode()
    assert f"Test message to {hook.base}/nowhere failed: HTTP 500 Internal Server Error" in page
    assert len(hook.received) == 1 and Notification.objects.get().outcome == "failed"


def test_the_test_button_without_a_saved_webhook_says_so_and_posts_nothing(client, alice):
    client.force_login(alice)
    page = client.post(TEST, follow=True).content.decode()
    assert "no webhook URL saved" in page and not Notification.objects.exists()


# --- A group's settings ---------------------------------------------------------------------------------

def _group_form(group, **on):
    data = {f"group-{group.pk}-webhook_url": on.pop("webhook_url", "")}
    data.update({f"group-{group.pk}-{name}": "on" for name, ticked in on.items() if ticked})
    return data


def test_a_group_admin_sets_the_groups_webhook_from_the_profile(client, bob, lab, hook):
    client.force_login(bob)
    assert "Your groups' notifications" in client.get(PROFILE).content.decode()

    response = client.post(reverse("accounts:group_notifications", args=["atmos"]),
                           _group_form(lab, webhook_url=hook.base + "/ok", on_failed=True))

    assert response.status_code == 302 and response["Location"] == "/profile/#notifications"
    saved = GroupNotificationSettings.objects.get(group=lab)
    assert (saved.webhook_url, saved.updated_by) == (hook.base + "/ok", bob)
    assert [name for name in notifications.GROUP_FIELDS if getattr(saved, name)] == ["on_failed"]
    assert "Send a test message to the group's webhook" in client.get(PROFILE).content.decode()

    page = client.post(reverse("accounts:group_notifications_test", args=["atmos"]), follow=True).content.decode()
    assert "Test message delivered" in page
    ((_, body),) = hook.received
    assert "Atmos Lab's webhook" in body["text"]
    assert Notification.objects.get().group == lab


def test_a_groups_settings_refuse_an_insecure_url(client, bob, lab):
    client.force_login(bob)
    response = client.post(reverse("accounts:group_notifications", args=["atmos"]),
                           _group_form(lab, webhook_url="http://hooks.example.org/x"))
    assert response.status_code == 400 and "plain http:// only to 127.0.0.1" in response.content.decode()
    assert not GroupNotificationSettings.objects.exists()


def test_a_groups_settings_are_not_found_for_its_members_and_outsiders(client, alice, lab, django_user_model):
    outsider = django_user_model.objects.create_user(email="outsider@example.org")
    Membership.objects.create(user=outsider, group=ResearchGroup.objects.create(name="Other", slug="other"),
                              role=Membership.Role.ADMIN)
    for user in (alice, outsider):
        client.force_login(user)
        assert client.get(reverse("accounts:group_notifications", args=["atmos"])).status_code == 404
        assert client.post(reverse("accounts:group_notifications", args=["atmos"]),
                           _group_form(lab, webhook_url="https://evil.example.org/")).status_code == 404
        assert client.post(reverse("accounts:group_notifications_test", args=["atmos"])).status_code == 404
    profile = client.get(PROFILE).content.decode()  # the outsider's: Other's settings, not Atmos Lab's
    assert 'id="group-other-notifications"' in profile and "Atmos Lab" not in profile
    assert not GroupNotificationSettings.objects.filter(group=lab).exists()


def test_an_operator_may_change_any_groups_settings_on_its_page(client, operator, lab):
    client.force_login(operator)
    url = reverse("accounts:group_notifications", args=["atmos"])
    assert client.get(url).status_code == 200
    response = client.post(url, _group_form(lab, webhook_url="https://hooks.slack.com/services/T/B/x",
                                            on_succeeded=True))
    assert response.status_code == 302 and response["Location"] == url
    assert GroupNotificationSettings.objects.get(group=lab).updated_by == operator


# --- The admin ------------------------------------------------------------------------------------------

def test_the_notification_log_is_read_only_and_filters_by_outcome(client, operator, alice):
    failed = Notification.objects.create(kind="failed", channel="webhook", recipient=alice, address="https://x/",
                                         subject="Run failed: a", outcome="failed", detail="failed: timed out")
    Notification.objects.create(kind="succeeded", channel="email", recipient=alice, address=alice.email,
                                subject="Run succeeded: b", outcome="delivered")
    client.force_login(operator)
    changelist = reverse("admin:accounts_notification_changelist")

    listing = client.get(changelist, {"outcome__exact": "failed"})

    assert [n.pk for n in listing.context["cl"].result_list] == [failed.pk]
    assert client.get(changelist, {"channel__exact": "email", "kind__exact": "succeeded"}).context[
        "cl"].result_count == 1
    assert client.get(reverse("admin:accounts_notification_add")).status_code == 403
    change = client.post(reverse("admin:accounts_notification_change", args=[failed.pk]), {"outcome": "delivered"})
    assert change.status_code == 403
    assert Notification.objects.get(pk=failed.pk).outcome == "failed"


def test_the_user_admin_lists_preferences_without_a_query_per_user(client, operator, django_user_model):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
        return len(captured)

    client.force_login(operator)
    first = django_user_model.objects.create_user(email="a1@example.org")
    _prefer(first, email_succeeded=False, email_cancelled=False, webhook_url="https://hooks.slack.com/services/x")
    few = queries()
    for i in range(5):
        _prefer(django_user_model.objects.create_user(email=f"b{i}@example.org"), email_failed=False)
    assert queries() == few
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "succeeded, cancelled · webhook" in page
    change = client.get(reverse("admin:accounts_user_change", args=[first.pk])).content.decode()
    assert "https://hooks.slack.com/services/x" in change


def test_the_group_admin_shows_the_groups_webhook_settings(client, operator, bob, lab):
    notifications.group_settings_save(group=lab, actor=bob, webhook_url="https://hooks.slack.com/services/g",
                                      choices={"on_cancelled": False})
    client.force_login(operator)
    page = client.get(reverse("admin:accounts_researchgroup_change", args=[lab.pk])).content.decode()
    assert "https://hooks.slack.com/services/g" in page
    assert "post when a run is cancelled: off" in page and "updated by: bob@example.org" in page
