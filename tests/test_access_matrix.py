"""Every URL of the project, as an anonymous visitor, a member of another group, a group member,
a group admin, the owner and an operator: who gets what. What one may not see is a 404, never a
403, so ids do not leak. A new URL pattern without an expectation here fails this test."""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Membership, ResearchGroup
from accounts.services import api_token_create
from simulations import services

pytestmark = pytest.mark.django_db

# Simulation pages, by what they need: seeing the simulation, or managing it.
READS = {"simulations:detail", "simulations:status", "simulations:log", "simulations:file", "results:index"}
MANAGE = {"simulations:submit", "simulations:cancel", "simulations:retry"}
VISIBLE_ACTIONS = {"simulations:clone"}
# Pages of one's own (no other user's object in the URL): sign-in required, then 200.
OWN_PAGES = {"simulations:list", "simulations:new", "accounts:profile", "costs:estimate", "costs:dashboard",
             "costs:budgets"}
# POST-only actions on one's own things: sign-in required; a token is one's own (404 for others').
OWN_ACTIONS = {"accounts:token_create"}
OWN_OBJECT_ACTIONS = {"accounts:token_revoke"}
# POST-only changes to one's own notification preferences, which go back to the profile: 302.
OWN_REDIRECTING_ACTIONS = {"accounts:notifications", "accounts:notifications_test"}
# A research group's notification settings (the world's lab, by slug): its admins and operators
# get the page (200) and the test button (302, back); everyone else a 404.
GROUP_ADMIN_PAGES = {"accounts:group_notifications"}
GROUP_ADMIN_ACTIONS = {"accounts:group_notifications_test"}
# The API answers 401 rather than redirecting to a sign-in page.
API = {"api-me", "api-estimates", "api-costs", "api-budgets"}
# API endpoints that take a POSTed JSON body: the world's simulation's configuration.
API_POSTED = {"api-estimates"}
# Results views, exports and comparisons of the world's simulation, asked without the parameters they
# need (its one output is not indexed): whoever may see it gets past the access check to a 400 that
# says what is missing; whoever may not, a 404 before any parameter is looked at.
RESULT_REQUESTS = {"results:map", "results:zonal", "results:profile", "results:timeseries", "results:export_csv",
                   "results:export_nc", "results:compare"}
# The same in the API (401 rather than a sign-in page), and the list of indexed files (200).
API_RESULT_READS = {"api-results-files"}
API_RESULT_REQUESTS = {"api-results-map", "api-results-zonal", "api-results-profile", "api-results-timeseries",
                       "api-results-export-csv", "api-results-export-nc", "api-results-compare"}
# Comparisons name their simulations in the query: the world's, as Ref and Dev.
COMPARISONS = {"results:compare", "api-results-compare"}
PUBLIC = {"healthz"}
REDIRECTS = {"home"}  # to the list, which then asks for sign-in


def _walk(resolvers, prefix="", namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield prefix + str(entry.pattern), name, entry


def _patterns():
    return list(_walk(get_resolver().url_patterns))


@pytest.fixture
def world(django_user_model, fake_backend, tmp_path, django_capture_on_commit_callbacks, two_days):
    make = django_user_model.objects.create_user
    people = {
        "anonymous": None,
        "outsider": make(email="outsider@example.org", password="pw-outsider-1"),
        "member": make(email="member@example.org", password="pw-member-1"),
        "group_admin": make(email="gadmin@example.org", password="pw-gadmin-1"),
        "owner": make(email="owner@example.org", password="pw-owner-1"),
        "operator": make(email="ops@example.org", password="pw-ops-1", is_staff=True, is_superuser=True),
    }
    lab = ResearchGroup.objects.create(name="Atmospheric Chemistry Lab", slug="acl")
    other = ResearchGroup.objects.create(name="Other Lab", slug="other")
    Membership.objects.create(user=people["member"], group=lab)
    Membership.objects.create(user=people["owner"], group=lab)
    Membership.objects.create(user=people["group_admin"], group=lab, role=Membership.Role.ADMIN)
    Membership.objects.create(user=people["outsider"], group=other, role=Membership.Role.ADMIN)
    sim = services.simulation_create(owner=people["owner"], raw_config=two_days, group="acl")
    token, _ = api_token_create(user=people["owner"], name="laptop", actor=people["owner"], ip="127.0.0.1",
                                source="test")
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=people["owner"])
    outputs = tmp_path / "outputs" / str(sim.id)
    outputs.mkdir(parents=True)
    (outputs / "GEOSChem.SpeciesConc.20190101_0000z.nc4").write_bytes(b"CDF")
    return people, sim, token


def _client(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def _url(name, sim, token):
    if name == "accounts:token_revoke":
        return reverse(name, args=[token.pk])
    if name == "simulations:file":
        return reverse(name, args=[sim.id, "GEOSChem.SpeciesConc.20190101_0000z.nc4"])
    if name in GROUP_ADMIN_PAGES | GROUP_ADMIN_ACTIONS:
        return reverse(name, args=[sim.group.slug])
    if name in COMPARISONS:
        return reverse(name) + f"?ref={sim.id}&dev={sim.id}"
    if name in READS | MANAGE | VISIBLE_ACTIONS | RESULT_REQUESTS | API_RESULT_READS | API_RESULT_REQUESTS:
        return reverse(name, args=[sim.id])
    return reverse(name)


def _expect(name, role):
    """The status codes `role` may get from `name`."""
    signed_in = role != "anonymous"
    sees = role in ("member", "group_admin", "owner", "operator")
    if name in PUBLIC:
        return {200}
    if name in REDIRECTS:
        return {302}
    if name in API_RESULT_READS | API_RESULT_REQUESTS:
        if not signed_in:
            return {401}
        return ({200} if name in API_RESULT_READS else {400}) if sees else {404}
    if name in API:
        return {200} if signed_in else {401}
    if not signed_in:
        return {302}  # to the sign-in page
    if name in OWN_PAGES | OWN_ACTIONS:
        return {200}
    if name in OWN_OBJECT_ACTIONS:
        return {302} if role == "owner" else {404}
    if name in OWN_REDIRECTING_ACTIONS:
        return {302}
    if name in GROUP_ADMIN_PAGES | GROUP_ADMIN_ACTIONS:
        if role not in ("group_admin", "operator"):
            return {404}
        return {200} if name in GROUP_ADMIN_PAGES else {302}
    manages = role in ("group_admin", "owner", "operator")
    if name in READS:
        return {200} if sees else {404}
    if name in RESULT_REQUESTS:
        return {400} if sees else {404}
    if name in VISIBLE_ACTIONS:
        return {302} if sees else {404}
    if name in MANAGE:
        return {302} if manages else {404}
    raise AssertionError(f"no access expectation for {name}")


KNOWN = (READS | MANAGE | VISIBLE_ACTIONS | OWN_PAGES | PUBLIC | REDIRECTS | OWN_ACTIONS | OWN_OBJECT_ACTIONS | API
         | RESULT_REQUESTS | API_RESULT_READS | API_RESULT_REQUESTS | OWN_REDIRECTING_ACTIONS | GROUP_ADMIN_PAGES
         | GROUP_ADMIN_ACTIONS)
POSTED = MANAGE | VISIBLE_ACTIONS | OWN_ACTIONS | OWN_OBJECT_ACTIONS | OWN_REDIRECTING_ACTIONS | GROUP_ADMIN_ACTIONS
ROLES = ["anonymous", "outsider", "member", "group_admin", "owner", "operator"]

# --- The new-simulation wizard, presets and help (simulations/wizard.py) ------------------------
# The wizard's steps are one's own pages (the step is in the URL); its start with ?clone= of the
# world's simulation redirects into the wizard for whoever may see that simulation and is a 404
# for everyone else; saving a simulation as a preset needs to see it; the help page is public.
WIZARD_STARTS = {"simulations:wizard"}
OWN_PAGES |= {"simulations:wizard_step"}
VISIBLE_ACTIONS |= {"simulations:preset_save"}
PUBLIC |= {"help"}
KNOWN |= WIZARD_STARTS | OWN_PAGES | VISIBLE_ACTIONS | PUBLIC
POSTED |= {"simulations:preset_save"}
_url_without_wizard, _expect_without_wizard = _url, _expect


def _url(name, sim, token):
    if name == "simulations:wizard_step":
        return reverse(name, kwargs={"step": "type"})
    if name in WIZARD_STARTS:
        return reverse(name) + f"?clone={sim.id}"
    return _url_without_wizard(name, sim, token)


def _expect(name, role):
    if name in WIZARD_STARTS and role != "anonymous":
        return {302} if role in ("member", "group_admin", "owner", "operator") else {404}
    return _expect_without_wizard(name, role)
# --- end of the wizard's section ----------------------------------------------------------------


def test_every_project_url_pattern_has_an_access_expectation():
    ours = [(route, name) for route, name, _ in _patterns()
            if not route.startswith(("admin/", "accounts/"))]
    missing = [route for route, name in ours if name not in KNOWN]
    assert not missing, f"URL patterns without an access expectation in this test: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_who_gets_what_on_every_project_url(client, world, role):
    people, sim, token = world
    got = {}
    for route, name, _ in _patterns():
        if route.startswith(("admin/", "accounts/")) or name not in KNOWN:
            continue
        c = _client(client, people[role])
        url = _url(name, sim, token)
        if name in API_POSTED:
            response = c.post(url, json.dumps(sim.config), content_type="application/json")
        elif name in POSTED:
            response = c.post(url, {"name": "matrix"})
        else:
            response = c.get(url)
        got[name] = response.status_code
        if response.status_code == 302 and role == "anonymous" and name not in REDIRECTS | API:
            assert response.url.startswith(reverse("account_login")), (name, response.url)
    wrong = {name: code for name, code in got.items() if code not in _expect(name, role)}
    assert not wrong, f"{role} got unexpected status codes: {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_only_operators_get_into_the_admin(client, world, role):
    people, sim, _ = world
    c = _client(client, people[role])
    for url in [reverse("admin:index"), reverse("admin:simulations_simulation_changelist"),
                reverse("admin:simulations_simulation_change", args=[sim.id])]:
        response = c.get(url)
        if role == "operator":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302 and "/admin/login/" in response.url, (role, url)


def test_the_sign_in_pages_answer_everyone_without_error(client, world):
    people, _, _ = world
    for route, name, _ in _patterns():
        if not route.startswith("accounts/") or not name or "<" in route:
            continue
        for role in ("anonymous", "member"):
            response = _client(client, people[role]).get(reverse(name))
            assert response.status_code < 500, (name, role, response.status_code)


def test_a_member_sees_the_groups_simulations_in_the_list_and_an_outsider_does_not(client, world):
    people, sim, _ = world
    assert sim.name.encode() in _client(client, people["member"]).get(reverse("simulations:list")).content
    assert sim.name.encode() not in _client(client, people["outsider"]).get(reverse("simulations:list")).content
