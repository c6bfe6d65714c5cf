"""The new-simulation wizard (simulations/wizard.py), its presets and the help page."""

import re
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Membership, ResearchGroup
from costs.models import Budget
from simulations import services
from simulations.config import config_to_dict, parse_config
from simulations.models import Preset, Simulation
from simulations.wizard_forms import KEY_STEPS, STEPS, step_of

pytestmark = pytest.mark.django_db

PREFIX = "simulation_wizard"  # formtools' management-form prefix for SimulationWizard
START = reverse("simulations:wizard")

CLASSIC = {
    "type": {"model": "classic", "simulation": "TransportTracers", "option": ""},
    "domain": {"resolution": "4x5", "domain": "global", "levels": ""},
    "science": {"met": "MERRA2", "start": "2019-01-01", "end": "2019-01-03", "segment_days": "",
                "out_SpeciesConc_frequency": "daily", "out_SpeciesConc_mode": "time-averaged",
                "out_StateMet_frequency": "daily", "out_StateMet_mode": "instantaneous"},
    "compute": {"instance_type": "c7g.8xlarge", "capacity": "spot", "cores_per_node": "32"},
    "cost": {},
}
GCHP = {
    "type": {"model": "gchp", "simulation": "TransportTracers", "option": ""},
    "domain": {"resolution": "C24"},
    "science": {"met": "MERRA2", "start": "2019-01-01", "end": "2019-01-04", "segment_days": "",
                "out_SpeciesConc_frequency": "daily", "out_SpeciesConc_mode": "time-averaged"},
    "compute": {"instance_type": "c7i.24xlarge", "capacity": "on-demand", "nodes": "1", "cores_per_node": "6"},
    "cost": {},
}


def url(step):
    return reverse("simulations:wizard_step", kwargs={"step": step})


def post(client, step, data=None, **extra):
    payload = {f"{PREFIX}-current_step": step, **{f"{step}-{key}": value for key, value in (data or {}).items()}}
    payload.update(extra)
    return client.post(url(step), payload)


def walk(client, steps, until="review"):
    """Fill the steps in order up to (not including) `until`; each must move on to the next one."""
    client.get(START + "?reset=1")
    for step in STEPS[:STEPS.index(until)]:
        response = post(client, step, steps[step])
        assert response.status_code == 302, (step, _errors(response))
        assert response.url == url(STEPS[STEPS.index(step) + 1]), (step, response.url)


def review_token(client):
    response = client.get(url("review"))
    assert response.status_code == 200
    return response.context["token"]


def submit(client, action="submit", **review):
    token = review.pop("token", None) or review_token(client)
    return post(client, "review", {"name": "", "group": "", "token": token, **review}, action=action)


def _errors(response) -> list[str]:
    if response.status_code != 200:
        return []
    return [str(e) for field in response.context["wizard"]["form"] for e in field.errors] + [
        str(e) for e in response.context["wizard"]["form"].non_field_errors()]


def field_errors(response, name) -> list[str]:
    return list(response.context["wizard"]["form"][name].errors)


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def lab(alice):
    group = ResearchGroup.objects.create(name="Atmospheric Chemistry Lab", slug="acl")
    Membership.objects.create(user=alice, group=group)
    return group


# --- the key -> step mapping -----------------------------------------------------------------

def test_every_configuration_key_belongs_to_one_step_before_the_estimate_or_at_the_review():
    from simulations.config import TOP_KEYS

    assert set(TOP_KEYS) <= set(KEY_STEPS)
    assert step_of("compute.cores_per_node") == "compute"
    assert step_of("outputs.SpeciesConc.duration") == "science"
    assert step_of("domain.custom.lon") == "domain"
    assert step_of("") is None
    assert "cost" not in KEY_STEPS.values()


# --- walking the six steps -------------------------------------------------------------------

def test_a_classic_demo_run_walks_all_six_steps_and_is_queued_once(signed_in, alice, fake_backend,
                                                                    django_capture_on_commit_callbacks):
    walk(signed_in, CLASSIC)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(signed_in, name="Radon in January")
    sim = Simulation.objects.get()
    assert response.status_code == 302 and response.url == reverse("simulations:detail", args=[sim.id])
    expected = parse_config({
        "name": "Radon in January", "model": "classic", "simulation": "TransportTracers", "met": "MERRA2",
        "resolution": "4x5", "start": "2019-01-01", "end": "2019-01-03",
        "outputs": {"SpeciesConc": {"frequency": "daily"}, "StateMet": {"frequency": "daily", "mode": "instantaneous"}},
        "compute": {"instance_type": "c7g.8xlarge", "capacity": "spot", "cores_per_node": 32}})
    assert sim.config == config_to_dict(expected)
    assert sim.owner == alice and sim.group is None
    assert fake_backend.submit_calls == 1
    assert sim.jobs.count() == 1
    sim.refresh_from_db()
    assert sim.status == Simulation.Status.STARTING  # queued, then its first segment went to the backend


def test_a_gchp_c24_run_walks_all_six_steps_and_is_queued(signed_in, fake_backend, django_capture_on_commit_callbacks):
    walk(signed_in, GCHP)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(signed_in)
    sim = Simulation.objects.get()
    assert response.status_code == 302
    assert sim.model == "gchp" and sim.resolution == "C24"
    assert sim.config["compute"] == {"instance_type": "c7i.24xlarge", "capacity": "on-demand", "nodes": 1,
                                     "cores_per_node": 6}
    assert sim.config["name"] == "gchp_c24_merra2_TransportTracers"  # the default run directory name
    assert fake_backend.submit_calls == 1


def test_save_as_draft_creates_a_draft_and_submits_nothing(signed_in, fake_backend):
    walk(signed_in, CLASSIC)
    response = submit(signed_in, action="draft")
    sim = Simulation.objects.get()
    assert response.url == reverse("simulations:detail", args=[sim.id])
    assert sim.status == Simulation.Status.DRAFT
    assert fake_backend.submit_calls == 0


def test_every_step_renders_with_its_help_and_documentation_links(signed_in, fake_backend):
    walk(signed_in, CLASSIC)
    for step in STEPS:
        response = signed_in.get(url(step))
        assert response.status_code == 200, step
        content = response.content.decode()
        assert f"step {STEPS.index(step) + 1} of 6" in content
        if step not in ("cost",):
            assert "readthedocs.io" in content, step
    assert b"domain-map" in signed_in.get(url("domain")).content


def test_the_review_shows_the_configuration_in_words_and_as_yaml_the_command_line_accepts(signed_in, fake_backend):
    walk(signed_in, CLASSIC)
    response = signed_in.get(url("review"))
    summary = " ".join(response.context["summary"])
    assert "GEOS-Chem Classic TransportTracers on 4x5, global, 72 levels, MERRA-2" in summary
    assert "2019-01-01 to 2019-01-03" in summary and "in 1 segment" in summary
    assert "demo model" in summary
    text = re.search(r'<textarea id="config-yaml"[^>]*>(.*?)</textarea>', response.content.decode(), re.S).group(1)
    import html

    cfg, errors = services.config_check(yaml.safe_load(html.unescape(text)))
    assert errors == [] and cfg == response.context["cfg"]
    assert b"Copy YAML" in response.content


# --- each invalid combination at its step ------------------------------------------------------

def test_geos_fp_across_2020_06_01_is_refused_at_the_science_step(signed_in, fake_backend):
    walk(signed_in, CLASSIC, until="science")
    response = post(signed_in, "science", {**CLASSIC["science"], "met": "GEOSFP", "start": "2020-05-15",
                                           "end": "2020-06-15"})
    assert response.status_code == 200
    assert any("must not span 2020-06-01" in e for e in field_errors(response, "end"))


def test_a_nested_region_the_resolution_does_not_offer_is_refused_at_the_domain_step(signed_in, fake_backend):
    walk(signed_in, CLASSIC, until="domain")
    response = post(signed_in, "domain", {"resolution": "0.5x0.625", "domain": "AF", "levels": ""})
    assert response.status_code == 200
    assert field_errors(response, "domain") == [
        "the AF nested domain is not available at 0.5x0.625; choose one of global, AS, EU, NA, custom"]


def test_a_resolution_the_meteorology_cannot_do_sends_the_user_back_to_the_domain_step(signed_in):
    steps = {**CLASSIC, "type": {"model": "classic", "simulation": "fullchem"}}
    walk(signed_in, steps, until="domain")
    # Nested 0.5x0.625 passes step 2, where no meteorology is chosen yet (MERRA-2 stands in)...
    response = post(signed_in, "domain", {"resolution": "0.5x0.625", "domain": "NA", "levels": ""})
    assert response.status_code == 302 and response.url == url("science")
    # ...and GEOS-IT at step 3 sends the user back to step 2, where the grid is chosen, with the reasons.
    response = post(signed_in, "science", {**CLASSIC["science"], "met": "GEOSIT"})
    assert response.status_code == 302 and response.url == url("domain")
    response = signed_in.get(url("domain"))
    assert field_errors(response, "resolution") == [
        "GEOS-IT at 0.5x0.625 is only available for the TransportTracers simulation; choose 4x5 or 2x2.5, "
        "or another meteorology"]
    assert response.context["bounce"]["step"] == 3
    # What was typed at step 3 is kept, though it did not fit.
    assert signed_in.get(url("science")).context["wizard"]["form"]["met"].value() == "GEOSIT"


def test_with_a_geos_chem_build_a_quarter_degree_grid_waits_for_geos_fp_at_step_3(client, alice, settings):
    settings.GCCLASSIC_EXECUTABLE = "/opt/geos-chem/bin/gcclassic"  # a real build: no demo-model limits
    client.force_login(alice)
    walk(client, CLASSIC, until="domain")
    assert post(client, "domain", {"resolution": "0.25x0.3125", "domain": "EU"}).url == url("science")
    assert signed_in_met_initial(client) == "GEOSFP"  # the meteorology that grid has, filled in
    response = post(client, "science", {**CLASSIC["science"], "met": "MERRA2"})
    assert response.url == url("domain")
    assert field_errors(client.get(url("domain")), "resolution") == [
        "0.25x0.3125 is only available with GEOS-FP or GISS ModelE2.1 (GCAP 2.0) meteorology"]


def signed_in_met_initial(client):
    return client.get(url("science")).context["wizard"]["form"]["met"].value()


def test_gchp_cores_not_divisible_by_6_are_refused_at_the_compute_step(signed_in):
    walk(signed_in, GCHP, until="compute")
    response = post(signed_in, "compute", {**GCHP["compute"], "cores_per_node": "8"})
    assert field_errors(response, "cores_per_node") == ["GCHP needs a total number of cores divisible by 6 (you asked for 8)"]


def test_multi_node_gchp_on_spot_is_refused_at_the_compute_step(signed_in):
    walk(signed_in, GCHP, until="compute")
    response = post(signed_in, "compute", {**GCHP["compute"], "nodes": "2", "capacity": "spot"})
    assert field_errors(response, "capacity") == [
        "a multi-node GCHP run must use on-demand capacity: AWS Batch runs no multi-node jobs on Spot; "
        "use one node or capacity: on-demand"]


def test_the_demo_models_limits_are_refused_at_the_step_they_concern(signed_in):
    walk(signed_in, CLASSIC, until="domain")
    response = post(signed_in, "domain", {"resolution": "2x2.5", "domain": "global"})
    assert response.status_code == 302
    response = post(signed_in, "science", {**CLASSIC["science"], "out_RadioNuclide_frequency": "daily",
                                           "out_RadioNuclide_mode": "time-averaged"})
    assert field_errors(response, "out_RadioNuclide_frequency") == [
        "the demo model writes only SpeciesConc and StateMet (and the restart); remove RadioNuclide "
        "or use a real GEOS-Chem build"]
    walk(signed_in, GCHP, until="domain")
    response = post(signed_in, "domain", {"resolution": "C90"})
    assert field_errors(response, "resolution") == [
        "the demo model runs GCHP only at C24 and C48; choose one of these or use a real GEOS-Chem build"]


def test_a_simulation_gchp_does_not_offer_is_refused_at_the_first_step(signed_in):
    signed_in.get(START + "?reset=1")
    response = post(signed_in, "type", {"model": "gchp", "simulation": "Hg"})
    assert field_errors(response, "simulation")[0].startswith("GCHP 14.7 does not offer the Hg simulation")


def test_a_later_step_cannot_be_opened_before_the_earlier_ones_are_valid(signed_in):
    signed_in.get(START + "?reset=1")
    response = signed_in.get(url("review"))
    assert response.status_code == 302 and response.url == url("type")


def test_a_get_of_the_done_url_creates_nothing(signed_in, fake_backend):
    walk(signed_in, CLASSIC)
    response = signed_in.get(url("done"))
    assert response.status_code == 302
    assert not Simulation.objects.exists()


# --- revisiting keeps the input ----------------------------------------------------------------

def test_going_back_through_the_step_list_keeps_what_each_step_holds(signed_in):
    walk(signed_in, CLASSIC, until="compute")
    # Typed at step 4, then back to step 1 through the step list without pressing Next.
    response = post(signed_in, "compute", {**CLASSIC["compute"], "instance_type": "c7i.16xlarge"},
                    wizard_goto_step="type")
    assert response.url == url("type")
    assert signed_in.get(url("type")).context["wizard"]["form"]["simulation"].value() == "TransportTracers"
    assert signed_in.get(url("science")).context["wizard"]["form"]["end"].value() == "2019-01-03"
    assert signed_in.get(url("compute")).context["wizard"]["form"]["instance_type"].value() == "c7i.16xlarge"


def test_changing_the_simulation_later_shows_why_an_output_no_longer_fits(signed_in):
    steps = {**CLASSIC, "type": {"model": "classic", "simulation": "fullchem"},
             "science": {**CLASSIC["science"], "out_AerosolMass_frequency": "daily"}}
    walk(signed_in, steps, until="science")
    response = post(signed_in, "science", steps["science"])
    assert field_errors(response, "out_AerosolMass_frequency")[0].startswith("the demo model writes only")
    post(signed_in, "type", {"model": "classic", "simulation": "TransportTracers"})
    response = signed_in.get(url("science"))
    assert field_errors(response, "out_AerosolMass_frequency") == [
        "the AerosolMass collection is not available for the TransportTracers simulation"]


# --- presets and clones --------------------------------------------------------------------------

def test_a_preset_fills_every_step(signed_in, alice):
    call_command("load_presets")
    preset = Preset.objects.get(name="GCHP C90 fullchem")
    response = signed_in.get(START + f"?preset={preset.id}")
    assert response.url == url("type")
    form = signed_in.get(url("type")).context["wizard"]["form"]
    assert form["model"].value() == "gchp" and form["simulation"].value() == "fullchem"
    compute = signed_in.get(url("compute"))
    # The demo model cannot run C90: the wizard keeps the preset and says so at step 2.
    assert compute.status_code == 302 and compute.url == url("domain")
    response = signed_in.get(url("domain"))
    assert field_errors(response, "resolution") == [
        "the demo model runs GCHP only at C24 and C48; choose one of these or use a real GEOS-Chem build"]


def test_load_presets_loads_the_real_geos_chem_presets_labelled_as_such():
    call_command("load_presets")
    names = set(Preset.objects.filter(owner=None, group=None).values_list("name", flat=True))
    assert {"1-month fullchem benchmark at 4x5", "TransportTracers year at 2x2.5", "GCHP C90 fullchem"} <= names
    benchmark = Preset.objects.get(name="1-month fullchem benchmark at 4x5")
    assert benchmark.config["options"] == ["benchmark"]
    assert "needs a GEOS-Chem build (not the demo model)" in benchmark.description.lower().replace("geos-chem", "GEOS-Chem")
    gchp = Preset.objects.get(name="GCHP C90 fullchem")
    assert gchp.config["compute"]["nodes"] == 2 and gchp.config["compute"]["capacity"] == "on-demand"
    assert "needs a GEOS-Chem build" not in Preset.objects.get(name="TransportTracers 4x5, two days").description
    assert not Preset.objects.filter(description__contains="invalid.yml").exists()


def test_another_users_personal_preset_is_a_404(signed_in, bob, two_days):
    theirs = Preset.objects.create(name="Bob's", owner=bob, config=two_days)
    assert signed_in.get(START + f"?preset={theirs.id}").status_code == 404
    assert signed_in.get(START + "?preset=abc").status_code == 404


def test_my_groups_presets_are_offered_and_other_groups_are_not(signed_in, lab, two_days):
    other = ResearchGroup.objects.create(name="Other Lab", slug="other")
    ours = Preset.objects.create(name="Our lab's", group=lab, config=two_days)
    theirs = Preset.objects.create(name="Their lab's", group=other, config=two_days)
    response = signed_in.get(url("type"))
    offered = set(response.context["presets"])
    assert ours in offered and theirs not in offered
    assert signed_in.get(START + f"?preset={ours.id}").status_code == 302
    assert signed_in.get(START + f"?preset={theirs.id}").status_code == 404


def test_a_clone_of_a_visible_run_prefills_the_wizard(signed_in, alice, two_days):
    sim = services.simulation_create(owner=alice, raw_config={**two_days, "resolution": "2x2.5"})
    response = signed_in.get(START + f"?clone={sim.id}")
    assert response.url == url("type")
    assert signed_in.get(url("domain")).context["wizard"]["form"]["resolution"].value() == "2x2.5"
    assert signed_in.get(url("review")).context["wizard"]["form"]["name"].value() == f"Copy of {sim.name}"


def test_a_clone_of_a_run_i_cannot_see_is_a_404(signed_in, bob, two_days):
    theirs = services.simulation_create(owner=bob, raw_config=two_days)
    assert signed_in.get(START + f"?clone={theirs.id}").status_code == 404
    assert signed_in.get(START + "?clone=not-a-uuid").status_code == 404


def test_a_run_is_saved_as_my_preset_and_as_my_groups(client, alice, lab, two_days):
    client.force_login(alice)
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    response = client.post(reverse("simulations:preset_save", args=[sim.id]), {"name": "Two days"})
    assert response.status_code == 302
    mine = Preset.objects.get(name="Two days")
    assert mine.owner == alice and mine.group is None and mine.config == sim.config
    client.post(reverse("simulations:preset_save", args=[sim.id]), {"name": "Two days", "group": "acl"})
    ours = Preset.objects.get(name="Two days", group=lab)
    assert ours.owner is None


def test_a_non_member_cannot_save_a_group_preset(client, alice, bob, lab, two_days):
    client.force_login(bob)
    sim = services.simulation_create(owner=bob, raw_config=two_days)
    response = client.post(reverse("simulations:preset_save", args=[sim.id]), {"name": "Sneaky", "group": "acl"},
                           follow=True)
    assert not Preset.objects.filter(name="Sneaky").exists()
    assert "you are not a member of a research group called &#x27;acl&#x27;" in response.content.decode()


def test_saving_a_preset_of_a_run_i_cannot_see_is_a_404(client, bob, alice, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    client.force_login(bob)
    assert client.post(reverse("simulations:preset_save", args=[sim.id]), {"name": "x"}).status_code == 404
    assert not Preset.objects.exists()


def test_the_review_step_saves_the_configuration_as_a_group_preset(signed_in, lab):
    walk(signed_in, CLASSIC)
    response = submit(signed_in, action="preset", preset_name="Radon, two days", preset_scope="acl")
    assert response.url == url("review")
    preset = Preset.objects.get(name="Radon, two days")
    assert preset.group == lab and preset.config["resolution"] == "4x5"
    assert not Simulation.objects.exists()


def test_a_preset_belongs_to_everyone_one_user_or_one_group(alice, lab, two_days):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Preset.objects.create(name="Both", owner=alice, group=lab, config=two_days)


# --- double submission ---------------------------------------------------------------------------

def test_a_second_post_of_the_same_token_redirects_to_the_simulation_already_created(signed_in, fake_backend):
    walk(signed_in, CLASSIC)
    token = review_token(signed_in)
    first = submit(signed_in, token=token)
    second = submit(signed_in, token=token)
    sim = Simulation.objects.get()
    assert first.url == second.url == reverse("simulations:detail", args=[sim.id])


def test_create_once_makes_one_simulation_per_token(alice, two_days, fake_backend):
    from simulations.wizard import create_once

    first, outcome, _ = create_once(owner=alice, raw=two_days, group="", token="t-1", submit=False)
    again, repeat, _ = create_once(owner=alice, raw=two_days, group="", token="t-1", submit=False)
    other, _, _ = create_once(owner=alice, raw=two_days, group="", token="t-2", submit=False)
    assert (outcome, repeat) == ("draft", "again")
    assert again.id == first.id != other.id
    assert Simulation.objects.count() == 2


def test_a_stale_review_page_does_not_submit_another_wizards_data(signed_in, fake_backend):
    walk(signed_in, CLASSIC)
    response = submit(signed_in, token="a-token-from-another-window")
    assert response.url == url("review")
    assert not Simulation.objects.exists()


# --- costs and budgets ---------------------------------------------------------------------------

def test_the_estimate_step_shows_the_table_with_the_chosen_option_marked(signed_in):
    walk(signed_in, CLASSIC, until="cost")
    response = signed_in.get(url("cost"))
    content = response.content.decode()
    assert '<table class="estimates">' in content
    assert "Your choice, c7g.8xlarge" in content and "your choice</span>" in content
    assert "bokeh" in content


def test_the_estimate_step_warns_that_an_over_budget_run_will_be_refused(signed_in, alice):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"))
    walk(signed_in, CLASSIC, until="cost")
    content = signed_in.get(url("cost")).content.decode()
    assert "this run will be refused" in content


def test_the_estimate_step_says_an_over_budget_run_will_wait_for_approval(signed_in, alice):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"), over_limit="approval")
    walk(signed_in, CLASSIC, until="cost")
    content = signed_in.get(url("cost")).content.decode()
    assert "will wait for an operator's approval" in content
    assert "will be refused" not in content


def test_a_recommended_option_fills_the_compute_step(signed_in):
    walk(signed_in, CLASSIC, until="cost")
    picks = signed_in.get(url("cost")).context["picks"]
    assert picks
    pick = picks[0]
    response = post(signed_in, "cost", {}, pick=pick["value"])
    assert response.url == url("compute")
    form = signed_in.get(url("compute")).context["wizard"]["form"]
    assert form["instance_type"].value() == pick["instance_type"]
    assert form["capacity"].value() == pick["capacity"]


def test_a_budget_refusal_keeps_a_draft_and_says_why_on_its_page(signed_in, alice, fake_backend):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"))
    walk(signed_in, CLASSIC)
    response = submit(signed_in)
    sim = Simulation.objects.get()
    assert sim.status == Simulation.Status.DRAFT
    page = signed_in.get(response.url).content.decode()
    assert "Saved as a draft, not submitted." in page and "The run was refused" in page
    assert fake_backend.submit_calls == 0


def test_an_approval_budget_leaves_the_run_waiting_and_says_so(signed_in, alice, fake_backend):
    Budget.objects.create(user=alice, monthly_limit_usd=Decimal("0"), over_limit="approval")
    walk(signed_in, CLASSIC)
    page = signed_in.get(submit(signed_in).url).content.decode()
    assert Simulation.objects.get().status == Simulation.Status.AWAITING_APPROVAL
    assert "waits for an operator&#x27;s approval" in page


def test_the_group_chosen_at_the_review_owns_the_run(signed_in, lab, fake_backend):
    walk(signed_in, CLASSIC)
    submit(signed_in, action="draft", group="acl")
    assert Simulation.objects.get().group == lab


# --- help and navigation -------------------------------------------------------------------------

def test_the_help_page_explains_the_workflow_costs_and_spot(client, settings):
    settings.SPOT_MAX_INTERRUPTIONS = 4
    response = client.get(reverse("help"))
    content = response.content.decode()
    assert response.status_code == 200
    for anchor in ('id="workflow"', 'id="costs"', 'id="budgets"', 'id="spot"', 'id="demo"'):
        assert anchor in content
    assert "After 4 interruptions the rest of the run moves to" in content
    assert "restarts from its last restart file" in content


def test_new_simulation_in_the_navigation_starts_the_wizard_and_keeps_the_yaml_page(signed_in):
    content = signed_in.get(reverse("simulations:list")).content.decode()
    assert f'href="{START}">New simulation' in content
    assert f'href="{reverse("simulations:new")}"' in content
    assert signed_in.get(reverse("simulations:new")).status_code == 200
