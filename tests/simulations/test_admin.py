"""The admin as the operator console."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.contrib.messages import get_messages
from django.urls import reverse

from simulations import services
from simulations.models import Simulation

pytestmark = pytest.mark.django_db


def _many(owner, config, n):
    return [services.simulation_create(owner=owner, raw_config=config) for _ in range(n)]


def test_the_simulation_list_shows_the_columns_in_constant_queries(client, operator, alice, two_days):
    _many(alice, two_days, 3)
    client.force_login(operator)
    url = reverse("admin:simulations_simulation_changelist")
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    _many(alice, two_days, 12)
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)  # no query per row
    assert b"alice@example.org" in response.content and b"0 %" in response.content


def test_the_cancel_action_reports_how_many_it_changed(client, operator, alice, two_days):
    sims = _many(alice, two_days, 2)
    services.simulation_create(owner=alice, raw_config=two_days)
    client.force_login(operator)
    response = client.post(reverse("admin:simulations_simulation_changelist"), {
        "action": "cancel_selected", "_selected_action": [str(s.id) for s in sims]}, follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Cancel requested for 2 of 2 simulation(s)."]
    assert Simulation.objects.filter(status="cancelled").count() == 2
    assert Simulation.objects.filter(status="draft").count() == 1
    assert all(s.events.filter(source="admin", actor=operator).exists() for s in sims)


def test_the_retry_action_requeues_only_failed_or_cancelled(client, operator, alice, two_days, fake_backend):
    cancelled, draft = _many(alice, two_days, 2)
    services.simulation_cancel(simulation_id=cancelled.id, actor=alice)
    client.force_login(operator)
    response = client.post(reverse("admin:simulations_simulation_changelist"), {
        "action": "retry_selected", "_selected_action": [str(cancelled.id), str(draft.id)]}, follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Queued 1 of 2 simulation(s) again."]
    cancelled.refresh_from_db()
    draft.refresh_from_db()
    assert (cancelled.status, draft.status) == ("queued", "draft")


def test_the_change_page_shows_jobs_and_events_read_only(client, operator, alice, two_days):
    sim = _many(alice, two_days, 1)[0]
    client.force_login(operator)
    response = client.get(reverse("admin:simulations_simulation_change", args=[sim.id]))
    assert response.status_code == 200
    assert b"created with the demo model" in response.content
    assert b'name="status"' not in response.content  # the status is changed by services only


def test_researchers_cannot_open_the_admin(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:simulations_simulation_changelist"))
    assert response.status_code == 302


def test_a_preset_with_a_bad_configuration_is_refused_with_the_reasons(client, operator, two_days):
    import json

    from simulations.models import Preset

    client.force_login(operator)
    url = reverse("admin:simulations_preset_add")
    bad = {**two_days, "resolution": "3x3"}
    response = client.post(url, {"name": "bad", "description": "", "config": json.dumps(bad)})
    assert response.status_code == 200
    assert b"resolution:" in response.content
    assert not Preset.objects.exists()
    response = client.post(url, {"name": "good", "description": "", "config": json.dumps(two_days)})
    assert response.status_code == 302
    assert Preset.objects.get(name="good").config["levels"] == 72
