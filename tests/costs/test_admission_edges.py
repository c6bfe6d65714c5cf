"""What a budget's refusal or approval request looks like from the form, the detail page, the CLI
and the admin; and the estimator's constant number of queries."""

from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from costs.models import Budget, BudgetEvent, InstancePrice, InstanceType, ThroughputSample
from costs.selectors import estimate_configuration
from simulations import services
from simulations.config import parse_config
from simulations.models import Simulation

pytestmark = pytest.mark.django_db
S = Simulation.Status


def test_the_form_keeps_a_refused_run_as_a_draft_and_says_why(client, alice, two_days, fake_backend):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"))
    client.force_login(alice)
    response = client.post(reverse("simulations:new"), {"config": yaml.safe_dump(two_days), "action": "submit"},
                           follow=True)
    sim = Simulation.objects.get()
    assert sim.status == S.DRAFT
    text = response.content.decode()
    assert "Saved as a draft, not submitted." in text and "budget has $0.00 left" in text


def test_the_submit_button_says_when_a_run_waits_for_approval(client, alice, two_days, fake_backend):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"), over_limit="approval")
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    client.force_login(alice)
    response = client.post(reverse("simulations:submit", args=[sim.id]), follow=True)
    assert "waits for an operator&#x27;s approval" in response.content.decode()
    sim.refresh_from_db()
    assert sim.status == S.AWAITING_APPROVAL


def test_the_submit_button_shows_a_refusal(client, alice, two_days, fake_backend):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"))
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    client.force_login(alice)
    response = client.post(reverse("simulations:submit", args=[sim.id]), follow=True)
    assert "The run was refused" in response.content.decode()


def test_the_cli_exits_3_when_a_budget_refuses_the_run(alice, two_days, tmp_path, capsys, fake_backend):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"))
    path = tmp_path / "run.yml"
    path.write_text(yaml.safe_dump(two_days))
    with pytest.raises(SystemExit) as exc:
        call_command("run_simulation", "--config", str(path), "--user", alice.email)
    assert exc.value.code == 3
    assert "as a draft, not submitted" in capsys.readouterr().out
    assert Simulation.objects.get().status == S.DRAFT


def test_operators_approve_and_reject_from_the_admin(client, alice, operator, two_days, fake_backend,
                                                    django_capture_on_commit_callbacks):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"), over_limit="approval")
    first, second = (services.simulation_create(owner=alice, raw_config=two_days) for _ in range(2))
    for sim in (first, second):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    client.force_login(operator)
    url = reverse("admin:simulations_simulation_changelist")
    assert client.get(url, {"activity": "approval"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "approve_selected", "_selected_action": [first.id]}, follow=True)
    assert "Approved 1 of 1 simulation(s)." in response.content.decode()
    response = client.post(url, {"action": "reject_selected", "_selected_action": [second.id]}, follow=True)
    assert "Rejected 1 of 1 simulation(s)." in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.STARTING, S.CANCELLED)
    assert set(BudgetEvent.objects.values_list("kind", flat=True)) == {"approval_requested", "approved", "rejected"}


def test_an_admin_retry_refused_by_a_budget_says_why(client, alice, operator, two_days, fake_backend):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    Simulation.objects.filter(id=sim.id).update(status=S.FAILED)
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"))
    client.force_login(operator)
    response = client.post(reverse("admin:simulations_simulation_changelist"),
                           {"action": "retry_selected", "_selected_action": [sim.id]}, follow=True)
    text = response.content.decode()
    assert "Queued 0 of 1 simulation(s) again." in text and "The run was refused" in text


@pytest.mark.parametrize("raw", [
    {"model": "classic", "simulation": "fullchem", "resolution": "4x5"},
    {"model": "gchp", "simulation": "TransportTracers", "resolution": "C90",
     "compute": {"nodes": 2, "cores_per_node": 48}},
])
def test_an_estimate_takes_the_same_queries_however_many_instance_types(raw, django_assert_num_queries):
    cfg = parse_config(raw)
    estimate_configuration(cfg, region="us-east-1")  # the serial fraction is now cached
    with django_assert_num_queries(5):
        before = estimate_configuration(cfg, region="us-east-1")
    template = InstanceType.objects.get(name="c7i.16xlarge")
    for i in range(20):
        extra = InstanceType.objects.create(name=f"c7i.test{i}", family="c7i", architecture="x86_64",
                                            cpu="sapphire-rapids", vcpus=64, physical_cores=32, memory_gib=128,
                                            network_gbps=25, efa=False, typical_spot_discount=0.5, source="test")
        InstancePrice.objects.create(instance_type=extra, region="us-east-1", usd_per_hour=Decimal("3"),
                                     source="test", retrieved_at=template.updated_at)
    ThroughputSample.objects.create(model="classic", simulation_type="fullchem", resolution="2x2.5", levels=72,
                                    instance_type="c7i.16xlarge", cores=32, nodes=1, days_per_day=40, source="test",
                                    confidence="platform-measured", measured_on="2026-11-01")
    estimate_configuration(cfg, region="us-east-1")  # a new sample: the fit is cached again
    with django_assert_num_queries(5):
        after = estimate_configuration(cfg, region="us-east-1")
    assert len(after.estimates) + len(after.unrunnable) == len(before.estimates) + len(before.unrunnable) + 20


def test_an_estimate_without_samples_says_so_for_every_instance_type():
    ThroughputSample.objects.all().delete()
    report = estimate_configuration(parse_config({"model": "classic", "simulation": "fullchem",
                                                  "resolution": "4x5"}), region="us-east-1")
    assert report.estimates == [] and report.recommendations == []
    assert len(report.unrunnable) == InstanceType.objects.count()
    assert all("no throughput samples" in reason for _, reason in report.unrunnable)


def test_a_demo_estimate_says_it_is_for_geoschem_and_a_region_without_prices_says_so():
    cfg = parse_config({"model": "classic", "simulation": "TransportTracers", "resolution": "4x5"})
    report = estimate_configuration(cfg, region="eu-west-1", demo=True)
    assert "Runs here use the demo model" in report.notes[0]
    assert report.estimates == []
    assert all("not offered in eu-west-1" in reason for _, reason in report.unrunnable)
