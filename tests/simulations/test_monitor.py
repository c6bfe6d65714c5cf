"""The monitor page (simulations:detail) and what it polls (simulations:status): timeline, jobs,
progress and ETA, CPU and memory samples, cost so far against the estimate, the actions posted
by the page, and a constant number of queries."""

from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, ResearchGroup
from costs.models import Budget, InstancePrice, JobCost, RunEstimate
from simulations import selectors, services, tracking
from simulations.models import Job, Simulation

pytestmark = pytest.mark.django_db
S = Simulation.Status
UTC = dt_timezone.utc
THREE_DAYS = {"name": "three one-day segments", "model": "classic", "simulation": "TransportTracers",
              "resolution": "4x5", "start": "2019-01-01", "end": "2019-01-04", "segment_days": 1,
              "outputs": {"SpeciesConc": {"frequency": "daily"}},
              "compute": {"instance_type": "c7g.16xlarge", "capacity": "on-demand"}}
JSON = {"HTTP_ACCEPT": "application/json"}


def samples(n):
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    return [{"t": (start + timedelta(seconds=5 * i)).isoformat().replace("+00:00", "Z"),
             "cpu_percent": 90.0 + i % 10, "rss_mb": 100.0 + i} for i in range(n)]


def progress(percent, *, simulated, n_samples=3, eta=30.0, days_per_day=2880.0):
    return {"state": "running", "percent": percent, "simulated_time": simulated, "days_per_day": days_per_day,
            "eta_seconds": eta, "updated_at": timezone.now().isoformat(), "samples": samples(n_samples)}


@pytest.fixture
def submitted(alice, fake_backend, django_capture_on_commit_callbacks):
    sim = services.simulation_create(owner=alice, raw_config=dict(THREE_DAYS))
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    return sim


@pytest.fixture
def running(submitted, fake_backend, django_capture_on_commit_callbacks):
    """Segment 1 finished in 10 minutes; segment 2 has run for 5 and reports samples."""
    now = timezone.now()
    first = submitted.jobs.get()
    fake_backend.set(first.name, "RUNNING", started_at=now - timedelta(minutes=16))
    tracking.jobs_sync()
    fake_backend.set(first.name, "SUCCEEDED", exit_code=0, started_at=now - timedelta(minutes=16),
                     stopped_at=now - timedelta(minutes=6),
                     metrics={"restart": "Restarts/GEOSChem.Restart.20190102_0000z.nc4", "outputs": []})
    with django_capture_on_commit_callbacks(execute=True):
        tracking.jobs_sync()
    second = submitted.jobs.get(segment=2)
    fake_backend.set(second.name, "RUNNING", started_at=now - timedelta(minutes=5),
                     progress=progress(50.0, simulated="2019-01-02T12:00:00"))
    tracking.jobs_sync()
    submitted.refresh_from_db()
    assert submitted.status == S.RUNNING and submitted.segments_done == 1
    return submitted


def status_json(client, sim, **params):
    response = client.get(reverse("simulations:status", args=[sim.id]), params)
    assert response.status_code == 200
    return response.json()


def test_the_status_json_of_a_running_run_has_its_timeline_jobs_samples_and_cost(client, alice, running):
    client.force_login(alice)
    d = status_json(client, running, after=0)
    # The timeline: every event, oldest first, status changes told apart from the rest.
    events = list(running.events.order_by("created_at", "id"))
    assert [e["id"] for e in d["events"]] == [e.id for e in events]
    changes = [(e["from_status"], e["to_status"]) for e in d["events"] if e["status_change"]]
    assert changes == [("", "draft"), ("draft", "queued"), ("queued", "starting"), ("starting", "running")]
    assert any(not e["status_change"] and "RUNNING -> SUCCEEDED" in e["message"] for e in d["events"])
    assert d["events"][0]["who"] == "alice@example.org"
    # Nothing new since the last one shown.
    assert status_json(client, running, after=events[-1].id)["events"] == []
    # The jobs, the current one last.
    assert [(j["segment"], j["attempt"], j["state"]) for j in d["jobs"]] == [(1, 1, "SUCCEEDED"), (2, 1, "RUNNING")]
    assert d["jobs"][0]["exit_code"] == 0 and d["jobs"][0]["stopped_at"]
    assert d["job"] == d["jobs"][1]["name"]
    # Progress: one of three segments done and half the second one.
    p = d["progress"]
    assert p["percent"] == pytest.approx(50.0)
    assert (p["segment"], p["attempt"], p["job_state"]) == (2, 1, "RUNNING")
    assert p["simulated_time"] == "2019-01-02T12:00:00" and p["days_per_day"] == 2880.0
    # ETA: the segment's 30 s, plus a simulated day more at segment 1's pace (10 minutes a day).
    assert p["eta_seconds"] == pytest.approx(30 + 600, abs=1)
    assert d["samples"] == samples(3)
    # Cost: segment 1's JobCost, plus five minutes of the running job, against the estimate.
    estimate = RunEstimate.objects.get(simulation=running)
    finished = JobCost.objects.get(simulation=running).usd
    hourly = InstancePrice.objects.get(instance_type__name="c7g.16xlarge", region="us-east-1").usd_per_hour
    c = d["cost"]
    assert c["finished_usd"] == pytest.approx(float(finished))
    assert c["running_usd"] == pytest.approx(float(hourly) * 5 / 60, rel=0.02)
    assert c["so_far_usd"] == pytest.approx(c["finished_usd"] + c["running_usd"])
    assert c["estimate"] == {"expected_usd": float(estimate.usd_expected), "low_usd": float(estimate.usd_low),
                             "high_usd": float(estimate.usd_high)}
    assert c["finished_jobs"] == 1 and c["notional"] is True  # the fake backend is "local"
    assert d["actions"] == {"submit": False, "cancel": True, "retry": False, "clone": True}


def test_the_status_json_runs_the_same_queries_whatever_the_jobs_events_and_samples(
        client, alice, running, fake_backend):
    client.force_login(alice)
    current = running.jobs.get(segment=2)
    with CaptureQueriesContext(connection) as few:
        status_json(client, running, after=0)
    for n in range(40):
        services.record_event(running.id, source="task", message=f"note {n}")
    for attempt in range(2, 8):
        Job.objects.create(simulation=running, segment=3, attempt=attempt, name=f"extra-{attempt}", backend="local",
                           state=Job.State.FAILED, spec={}, period_start=current.period_end,
                           period_end=current.period_end)
    Job.objects.create(simulation=running, segment=3, attempt=8, name="extra-now", backend="local",
                       backend_id="extra-now", state=Job.State.RUNNING, started_at=timezone.now(),
                       spec={"compute": {"instance_type": "c7g.16xlarge"}}, period_start=current.period_end,
                       period_end=current.period_end)
    fake_backend.set("extra-now", "RUNNING", progress=progress(10.0, simulated="2019-01-03T02:00:00", n_samples=120))
    with CaptureQueriesContext(connection) as many:
        d = status_json(client, running, after=0)
    assert len(d["events"]) > 40 and len(d["jobs"]) == 9 and len(d["samples"]) == 120
    assert len(many) == len(few), [q["sql"] for q in many]
    # session, user, the simulation, the manage check, jobs, events, the cost's 3, the PriceBook's 3
    assert len(few) == 12, [q["sql"][:80] for q in few]


def test_samples_that_are_not_well_formed_are_left_out(client, alice, running, fake_backend):
    job = running.jobs.get(segment=2)
    report = progress(50.0, simulated="2019-01-02T12:00:00")
    report["samples"] += [{"t": "2026-03-01T12:01:00Z", "cpu_percent": "high"}, "junk", {"cpu_percent": 1, "rss_mb": 2}]
    fake_backend.set(job.name, "RUNNING", started_at=job.started_at, progress=report)
    client.force_login(alice)
    assert status_json(client, running)["samples"] == samples(3)


def test_the_run_eta_uses_the_runners_pace_until_a_segment_has_finished():
    start = datetime(2019, 1, 1, tzinfo=UTC)
    current = Job(segment=1, attempt=1, state=Job.State.RUNNING, period_start=start,
                  period_end=start + timedelta(days=1))
    live = {"eta_seconds": 20.0, "days_per_day": 8640.0}  # a simulated day in 10 s
    eta = selectors.run_eta_seconds(live=live, current=current, jobs=[current], run_end=start + timedelta(days=3))
    assert eta == pytest.approx(20 + 2 * 10)
    assert selectors.run_eta_seconds(live={"eta_seconds": None}, current=current, jobs=[current],
                                     run_end=start + timedelta(days=3)) is None


def test_the_outputs_section_comes_with_the_json_when_asked(client, alice, running, tmp_path):
    root = tmp_path / "outputs" / str(running.id)
    root.mkdir(parents=True)
    (root / "GEOSChem.SpeciesConc.20190101_0000z.nc4").write_bytes(b"CDF")
    client.force_login(alice)
    assert "outputs_html" not in status_json(client, running)
    html = status_json(client, running, outputs=1)["outputs_html"]
    assert "GEOSChem.SpeciesConc.20190101_0000z.nc4" in html and "<table" in html


# --- the page --------------------------------------------------------------------------------------

def page(client, sim):
    response = client.get(reverse("simulations:detail", args=[sim.id]))
    assert response.status_code == 200
    return response.content.decode()


def shown(html, action):
    """Whether the page shows the action's form (or the cancel confirmation) without `hidden`."""
    import re

    tag = re.search(r'<(?:form|details)[^>]*data-action="%s"[^>]*>' % action, html)
    return tag is not None and " hidden" not in tag.group(0)


def test_the_page_of_a_draft_offers_submit_and_cancel(client, alice, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    client.force_login(alice)
    html = page(client, sim)
    assert shown(html, "submit") and shown(html, "cancel") and not shown(html, "retry") and shown(html, "clone")
    assert "No jobs yet." in html and 'data-final="false"' in html
    assert 'class="event change"' in html and "created with the demo model" in html


def test_the_page_of_a_running_run_shows_its_progress_jobs_and_timeline(client, alice, running):
    client.force_login(alice)
    html = page(client, running)
    assert shown(html, "cancel") and not shown(html, "submit") and not shown(html, "retry")
    assert "segment 2, attempt 1 · RUNNING" in html and 'aria-valuenow="50"' in html
    assert 'class="current" aria-current="true"' in html
    assert html.count('class="event change"') == 4
    assert f'data-last-event="{running.events.order_by("id").last().id}"' in html
    assert 'id="samples-note" class="muted" hidden' in html  # the charts are drawn from the samples
    assert "Yes, cancel it" in html


def test_the_page_of_a_succeeded_run_offers_only_clone(client, alice, running, fake_backend,
                                                       django_capture_on_commit_callbacks):
    now = timezone.now()
    for segment in (2, 3):
        job = running.jobs.get(segment=segment)
        fake_backend.set(job.name, "SUCCEEDED", exit_code=0, started_at=now, stopped_at=now,
                         metrics={"restart": f"Restarts/r{segment}.nc4", "outputs": []})
        with django_capture_on_commit_callbacks(execute=True):
            tracking.jobs_sync()
    running.refresh_from_db()
    assert running.status == S.SUCCEEDED
    client.force_login(alice)
    html = page(client, running)
    assert not shown(html, "cancel") and not shown(html, "retry") and shown(html, "clone")
    assert 'data-final="true"' in html and ">finished<" in html and "3/3" in html


def test_the_page_of_a_failed_run_shows_the_reason_and_offers_resume(client, alice, running, fake_backend):
    job = running.jobs.get(segment=2)
    fake_backend.set(job.name, "FAILED", exit_code=1, reason="the model stopped: out of memory",
                     started_at=job.started_at, stopped_at=timezone.now())
    tracking.jobs_sync()
    client.force_login(alice)
    html = page(client, running)
    assert shown(html, "retry") and not shown(html, "cancel") and ">stopped<" in html
    assert "segment 2 failed: the model stopped: out of memory" in html
    assert '<div id="reason-box" >' in html  # not hidden


# --- the actions, as the page posts them -------------------------------------------------------------

def test_cancel_posted_by_the_page_answers_json_and_asks_the_backend(client, alice, running, fake_backend):
    client.force_login(alice)
    response = client.post(reverse("simulations:cancel", args=[running.id]), **JSON)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "level": "success", "message": "Cancel requested.", "redirect": None}
    running.refresh_from_db()
    assert running.status == S.CANCELLING and running.cancel_requested_by == alice
    assert [backend_id for backend_id, _ in fake_backend.cancels] == [running.jobs.get(segment=2).backend_id]


def test_cancelling_a_finished_run_is_refused_with_its_status(client, alice, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    Simulation.objects.filter(id=sim.id).update(status=S.SUCCEEDED)
    client.force_login(alice)
    response = client.post(reverse("simulations:cancel", args=[sim.id]), **JSON)
    assert response.status_code == 409
    assert response.json()["message"] == "This simulation is succeeded; there is nothing to cancel."


def test_a_retry_refused_by_a_budget_says_why_and_the_run_stays_failed(client, alice, running):
    Simulation.objects.filter(id=running.id).update(status=S.FAILED)
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0.00"))
    client.force_login(alice)
    response = client.post(reverse("simulations:retry", args=[running.id]), **JSON)
    assert response.status_code == 409
    answer = response.json()
    assert answer["ok"] is False and "refused" in answer["message"] and "alice@example.org" in answer["message"]
    running.refresh_from_db()
    assert running.status == S.FAILED
    # The same refusal without JavaScript: a redirect and the message on the page.
    plain = client.post(reverse("simulations:retry", args=[running.id]), follow=True)
    assert answer["message"] in plain.content.decode().replace("&#x27;", "'")


def test_a_retry_resumes_a_failed_run_from_its_last_restart(client, alice, running,
                                                            django_capture_on_commit_callbacks):
    Simulation.objects.filter(id=running.id).update(status=S.FAILED)
    Job.objects.filter(simulation=running, segment=2).update(state=Job.State.FAILED)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("simulations:retry", args=[running.id]), **JSON)
    assert response.json()["message"] == "Resuming from the last finished segment."
    retried = running.jobs.get(segment=2, attempt=2)
    assert retried.spec["restart"]["uri"].endswith("Restarts/GEOSChem.Restart.20190102_0000z.nc4")


def test_clone_posted_by_the_page_answers_where_the_new_draft_is(client, alice, running):
    client.force_login(alice)
    response = client.post(reverse("simulations:clone", args=[running.id]), **JSON)
    clone = Simulation.objects.exclude(id=running.id).get()
    assert response.json()["redirect"] == reverse("simulations:detail", args=[clone.id])
    assert clone.status == S.DRAFT and clone.owner == alice and clone.name == "Copy of three one-day segments"


def test_a_member_who_cannot_manage_gets_404_for_the_actions_but_may_clone(client, alice, bob, django_user_model,
                                                                          fake_backend,
                                                                          django_capture_on_commit_callbacks):
    lab = ResearchGroup.objects.create(name="Lab", slug="lab")
    Membership.objects.create(user=alice, group=lab)
    Membership.objects.create(user=bob, group=lab)
    sim = services.simulation_create(owner=alice, raw_config=dict(THREE_DAYS), group="lab")
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    client.force_login(bob)
    for name in ("cancel", "retry", "submit"):
        assert client.post(reverse(f"simulations:{name}", args=[sim.id]), **JSON).status_code == 404
    sim.refresh_from_db()
    assert sim.status == S.STARTING and fake_backend.cancels == []
    html = page(client, sim)
    assert 'data-action="cancel"' not in html and shown(html, "clone")
    assert status_json(client, sim)["actions"] == {"submit": False, "cancel": False, "retry": False, "clone": True}
    assert client.post(reverse("simulations:clone", args=[sim.id]), **JSON).status_code == 200
