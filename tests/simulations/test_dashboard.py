"""The dashboard (simulations:list): what it lists, its filters, search and pages, cost so far,
and its constant number of queries."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, ResearchGroup
from simulations import selectors
from simulations.models import Job, Simulation
from tests.costs.test_spending import make_cost, make_sim, make_storage

pytestmark = pytest.mark.django_db
S = Simulation.Status
LIST = reverse("simulations:list")


@pytest.fixture
def lab(alice, bob):
    group = ResearchGroup.objects.create(name="Atmospheric Chemistry Lab", slug="acl")
    Membership.objects.create(user=alice, group=group)
    Membership.objects.create(user=bob, group=group)
    return group


@pytest.fixture
def elsewhere(django_user_model):
    """Another group's run, by someone alice shares no group with."""
    carol = django_user_model.objects.create_user(email="carol@example.org", password="pw-carol-123")
    other = ResearchGroup.objects.create(name="Other Lab", slug="other")
    Membership.objects.create(user=carol, group=other)
    return make_sim(carol, "carol other lab run", group=other)


def names(response) -> list[str]:
    """The simulation names the page lists, in order."""
    return re.findall(r'<a href="/simulations/[0-9a-f-]+/">([^<]+)</a>', response.content.decode())


def running_job(sim, *, started_minutes_ago=30, instance_type="c7g.16xlarge", backend="batch"):
    started = timezone.now() - timedelta(minutes=started_minutes_ago)
    return Job.objects.create(simulation=sim, segment=2, attempt=1, name=f"run-{sim.id}", backend=backend,
                              backend_id=f"run-{sim.id}", state=Job.State.RUNNING, period_start=started,
                              period_end=started, started_at=started,
                              spec={"compute": {"instance_type": instance_type, "capacity": "on-demand", "nodes": 1}})


def test_it_lists_my_and_my_groups_simulations_newest_first_and_never_another_groups(
        client, alice, bob, lab, elsewhere):
    make_sim(alice, "alice first")
    make_sim(bob, "bob in the lab", group=lab)
    make_sim(bob, "bob private")
    make_sim(alice, "alice newest")
    client.force_login(alice)
    response = client.get(LIST)
    assert response.status_code == 200
    assert names(response) == ["alice newest", "bob in the lab", "alice first"]
    # Asking for the other group by name changes nothing: it is not one of alice's, so it is ignored.
    sneaky = client.get(LIST, {"who": "group:other"})
    assert "carol other lab run" not in sneaky.content.decode()
    assert "Not understood, so not applied: who" in sneaky.content.decode()


def test_operators_see_everyones_simulations(client, operator, alice, elsewhere):
    make_sim(alice, "alice run")
    client.force_login(operator)
    assert set(names(client.get(LIST))) == {"alice run", "carol other lab run"}


@pytest.mark.parametrize("group, expected", [
    ("active", {"queued", "starting", "running", "cancelling"}),
    ("finished", {"succeeded"}),
    ("failed", {"failed", "cancelled"}),
    ("drafts", {"draft"}),
    ("awaiting_approval", {"awaiting_approval"}),
])
def test_the_status_filter_shows_only_its_group_of_statuses(client, alice, group, expected):
    for status in S.values:
        make_sim(alice, f"run {status}", status=status)
    client.force_login(alice)
    response = client.get(LIST, {"status": group})
    assert {name.removeprefix("run ") for name in names(response)} == expected
    assert f'<option value="{group}" selected>' in response.content.decode()


def test_the_model_filter_tells_classic_from_gchp(client, alice):
    make_sim(alice, "a classic run")
    make_sim(alice, "a gchp run", model="gchp", resolution="C24")
    client.force_login(alice)
    assert names(client.get(LIST, {"model": "gchp"})) == ["a gchp run"]
    assert names(client.get(LIST, {"model": "classic"})) == ["a classic run"]


def test_mine_and_one_of_my_groups_narrow_the_list(client, alice, bob, lab):
    make_sim(alice, "alice private")
    make_sim(alice, "alice in the lab", group=lab)
    make_sim(bob, "bob in the lab", group=lab)
    client.force_login(alice)
    assert set(names(client.get(LIST, {"who": "mine"}))) == {"alice private", "alice in the lab"}
    assert set(names(client.get(LIST, {"who": "group:acl"}))) == {"alice in the lab", "bob in the lab"}


def test_search_finds_a_name_part_or_the_start_of_an_id(client, alice, bob):
    tracers = make_sim(alice, "TransportTracers January")
    make_sim(alice, "fullchem benchmark")
    make_sim(bob, "bob TransportTracers")
    client.force_login(alice)
    assert names(client.get(LIST, {"q": "tracers"})) == ["TransportTracers January"]
    assert names(client.get(LIST, {"q": tracers.short_id})) == ["TransportTracers January"]
    assert names(client.get(LIST, {"q": str(tracers.id)})) == ["TransportTracers January"]
    assert names(client.get(LIST, {"q": "no such run"})) == []


def test_pages_of_25_keep_the_filters_in_their_links(client, alice):
    for n in range(30):
        make_sim(alice, f"failed {n:02d}", status=S.FAILED)
    make_sim(alice, "a draft")
    client.force_login(alice)
    first = client.get(LIST, {"status": "failed", "q": "failed"})
    assert len(names(first)) == 25
    html = first.content.decode()
    assert '?status=failed&amp;q=failed&amp;page=2' in html
    second = client.get(LIST, {"status": "failed", "q": "failed", "page": 2})
    assert names(second) == [f"failed {n:02d}" for n in range(4, -1, -1)]
    assert "?status=failed&amp;q=failed&amp;page=1" in second.content.decode()
    assert "30 simulations match" in second.content.decode()


def test_the_empty_states_say_what_to_do(client, alice):
    client.force_login(alice)
    html = client.get(LIST).content.decode()
    assert "No simulations yet." in html and f'href="{reverse("simulations:new")}"' in html
    make_sim(alice, "a draft")
    filtered = client.get(LIST, {"status": "finished"}).content.decode()
    assert "No simulation matches these filters." in filtered


def test_the_cost_so_far_sums_jobs_and_storage_marks_notional_and_adds_what_running_jobs_cost(client, alice):
    billed = make_sim(alice, "billed run", status=S.SUCCEEDED)
    make_cost(billed, "1.25")
    make_cost(billed, "0.75")
    make_storage(billed, "0.10")
    local = make_sim(alice, "local run", status=S.SUCCEEDED)
    make_cost(local, "3.00", notional=True)
    running = make_sim(alice, "running run", status=S.RUNNING)
    make_cost(running, "0.50")
    running_job(running, started_minutes_ago=60)
    make_sim(alice, "nothing yet")
    rows = {row.sim.name: row for row in selectors.dashboard_rows(
        list(selectors.dashboard_simulations(alice, selectors.DashboardFilters())))}
    assert rows["billed run"].cost_usd == Decimal("2.10") and not rows["billed run"].notional
    assert rows["local run"].cost_usd == Decimal("3.00") and rows["local run"].notional
    assert rows["nothing yet"].cost_usd == 0
    # An hour of c7g.16xlarge on demand, at the catalog's list price.
    from costs.models import InstancePrice
    hourly = InstancePrice.objects.get(instance_type__name="c7g.16xlarge", region="us-east-1").usd_per_hour
    assert rows["running run"].running_usd == pytest.approx(hourly, rel=Decimal("0.01"))
    assert rows["running run"].cost_usd == rows["running run"].running_usd + Decimal("0.50")
    client.force_login(alice)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(LIST).content.decode()))
    assert "$2.10" in text and "$3.00 notional" in text and " running" in text


def _fill(alice, lab, count):
    for n in range(count):
        sim = make_sim(alice, f"run {n}", group=lab if n % 2 else None,
                       status=S.RUNNING if n % 3 == 0 else S.SUCCEEDED)
        make_cost(sim, "1.00", notional=n % 2 == 0)
        if sim.status == S.RUNNING:
            running_job(sim)


def test_the_dashboard_runs_the_same_number_of_queries_for_3_and_30_simulations(client, alice, bob, lab):
    client.force_login(alice)
    _fill(alice, lab, 3)
    with CaptureQueriesContext(connection) as few:
        assert len(names(client.get(LIST))) == 3
    _fill(alice, lab, 27)
    with CaptureQueriesContext(connection) as many:
        assert len(names(client.get(LIST))) == 25
    assert len(many) == len(few), [q["sql"] for q in many]
    assert len(few) <= 9, len(few)  # session, user, groups, count, page, running jobs, the PriceBook's 3
