"""The researcher's pages: who sees what, and what the forms do."""

import pytest
import yaml
from django.urls import reverse

from simulations import services
from simulations.models import Preset, Simulation

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_sim(alice, two_days):
    return services.simulation_create(owner=alice, raw_config=two_days)


def test_it_sends_anonymous_visitors_to_sign_in(client, alice_sim):
    for url in [reverse("simulations:list"), reverse("simulations:detail", args=[alice_sim.id])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_the_sign_in_page_renders(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert b"GEOS-Chem Cloud Runner" in response.content


def test_the_list_shows_only_my_simulations(client, alice, bob, alice_sim, two_days):
    two_days["name"] = "Bob's run"
    services.simulation_create(owner=bob, raw_config=two_days)
    client.force_login(alice)
    response = client.get(reverse("simulations:list"))
    assert response.status_code == 200
    assert alice_sim.name.encode() in response.content
    assert b"Bob&#x27;s run" not in response.content
    assert b"demo model" in response.content


def test_it_hides_other_users_simulations_with_404(client, bob, alice_sim):
    client.force_login(bob)
    for name in ["detail", "status", "log"]:
        assert client.get(reverse(f"simulations:{name}", args=[alice_sim.id])).status_code == 404
    for name in ["submit", "cancel", "retry", "clone"]:
        assert client.post(reverse(f"simulations:{name}", args=[alice_sim.id])).status_code == 404
    assert client.get(reverse("simulations:file", args=[alice_sim.id, "x.nc4"])).status_code == 404


def test_operators_see_every_simulation(client, operator, alice_sim):
    client.force_login(operator)
    assert client.get(reverse("simulations:detail", args=[alice_sim.id])).status_code == 200


def test_the_detail_page_says_it_is_the_demo_model(client, alice, alice_sim):
    client.force_login(alice)
    response = client.get(reverse("simulations:detail", args=[alice_sim.id]))
    assert response.status_code == 200
    assert b"demo model, not GEOS-Chem" in response.content


def test_an_invalid_form_lists_every_problem_and_creates_nothing(client, alice, two_days):
    client.force_login(alice)
    two_days.update(resolution="3x3", levels=11)
    response = client.post(reverse("simulations:new"), {"config": yaml.safe_dump(two_days), "action": "submit"})
    assert response.status_code == 200
    assert b"<code>resolution</code>" in response.content
    assert b"<code>levels</code>" in response.content
    assert Simulation.objects.count() == 0


def test_a_form_that_is_not_yaml_says_so(client, alice):
    client.force_login(alice)
    response = client.post(reverse("simulations:new"), {"config": "model: [classic", "action": "submit"})
    assert b"not valid YAML" in response.content
    assert Simulation.objects.count() == 0


def test_a_valid_form_creates_and_submits(client, alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("simulations:new"), {"config": yaml.safe_dump(two_days), "action": "submit"})
    sim = Simulation.objects.get()
    assert response.status_code == 302 and response.url == reverse("simulations:detail", args=[sim.id])
    assert sim.owner == alice
    assert sim.status == Simulation.Status.STARTING
    assert fake_backend.submit_calls == 1


def test_saving_a_draft_does_not_submit(client, alice, two_days, fake_backend):
    client.force_login(alice)
    client.post(reverse("simulations:new"), {"config": yaml.safe_dump(two_days), "action": "draft"})
    assert Simulation.objects.get().status == Simulation.Status.DRAFT
    assert fake_backend.submit_calls == 0


def test_the_new_page_is_filled_from_a_preset(client, alice, two_days):
    preset = Preset.objects.create(name="two days", config={**two_days, "name": "From the preset"})
    client.force_login(alice)
    response = client.get(reverse("simulations:new") + f"?preset={preset.id}")
    assert b"From the preset" in response.content


def test_status_and_log_report_the_live_job(client, alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sim = services.simulation_create(owner=alice, raw_config=two_days)
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = sim.jobs.get()
    fake_backend.set(job.name, "RUNNING", progress={"percent": 25.0, "simulated_time": "2019-01-01T12:00:00"})
    fake_backend.logs[job.name] = "---> DATE: 2019/01/01  UTC: 12:00  X-HRS:      12.000\n"
    client.force_login(alice)
    status = client.get(reverse("simulations:status", args=[sim.id])).json()
    assert status["status"] == "starting"
    assert status["live"]["percent"] == 25.0
    log = client.get(reverse("simulations:log", args=[sim.id])).json()
    assert log["job"] == job.name and "X-HRS" in log["text"]
    more = client.get(reverse("simulations:log", args=[sim.id]), {"position": log["position"], "job": job.name})
    assert more.json()["text"] == ""


def test_cancel_from_the_page(client, alice, alice_sim):
    client.force_login(alice)
    response = client.post(reverse("simulations:cancel", args=[alice_sim.id]))
    assert response.status_code == 302
    alice_sim.refresh_from_db()
    assert alice_sim.status == Simulation.Status.CANCELLED


def test_clone_from_the_page(client, alice, alice_sim):
    client.force_login(alice)
    response = client.post(reverse("simulations:clone", args=[alice_sim.id]))
    clone = Simulation.objects.exclude(id=alice_sim.id).get()
    assert response.url == reverse("simulations:detail", args=[clone.id])


def test_output_files_download_and_nothing_outside_them(client, alice, alice_sim, tmp_path):
    root = tmp_path / "outputs" / str(alice_sim.id)
    root.mkdir(parents=True)
    (root / "GEOSChem.SpeciesConc.20190101_0000z.nc4").write_bytes(b"CDF")
    (tmp_path / "outputs" / "secret.txt").write_text("not yours")
    client.force_login(alice)
    ok = client.get(reverse("simulations:file", args=[alice_sim.id, "GEOSChem.SpeciesConc.20190101_0000z.nc4"]))
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"CDF"
    page = client.get(reverse("simulations:detail", args=[alice_sim.id]))
    assert b"GEOSChem.SpeciesConc.20190101_0000z.nc4" in page.content
    assert client.get(reverse("simulations:file", args=[alice_sim.id, "../secret.txt"])).status_code == 404


def test_the_health_check_answers(client):
    assert client.get("/healthz").content == b"ok"


def test_the_yaml_page_offers_and_loads_only_presets_one_may_use(client, alice, bob):
    from accounts.models import Membership, ResearchGroup
    from simulations.models import Preset

    lab = ResearchGroup.objects.create(name="Lab", slug="lab")
    Membership.objects.create(user=bob, group=lab)
    theirs = Preset.objects.create(name="Lab's own", group=lab, config={"name": "the lab's secret recipe"})
    client.force_login(alice)
    page = client.get(reverse("simulations:new"))
    assert "Lab&#x27;s own" not in page.content.decode() and "Lab's own" not in page.content.decode()
    loaded = client.get(reverse("simulations:new"), {"preset": theirs.id})
    assert "secret recipe" not in loaded.content.decode()
    client.force_login(bob)  # a member sees and loads it
    assert "secret recipe" in client.get(reverse("simulations:new"), {"preset": theirs.id}).content.decode()


def test_the_monitor_page_offers_a_wizard_copy_and_saving_as_a_preset(client, alice, two_days):
    from accounts.models import Membership, ResearchGroup

    lab = ResearchGroup.objects.create(name="Lab", slug="lab")
    Membership.objects.create(user=alice, group=lab)
    sim = services.simulation_create(owner=alice, raw_config=two_days, group="")
    client.force_login(alice)
    page = client.get(reverse("simulations:detail", args=[sim.id])).content.decode()
    assert f'{reverse("simulations:wizard")}?clone={sim.id}' in page
    assert reverse("simulations:preset_save", args=[sim.id]) in page and 'value="lab"' in page
    client.post(reverse("simulations:preset_save", args=[sim.id]), {"name": "my two days", "group": "lab"})
    assert Preset.objects.get(name="my two days").group == lab
