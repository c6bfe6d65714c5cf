"""The operator console: users with groups, tokens and simulations; groups with audited roles; the audit log."""

import pytest
from django.core.cache import cache

from accounts import services
from accounts.models import ApiToken, AuditEvent, Membership, ResearchGroup

pytestmark = pytest.mark.django_db
Kind = AuditEvent.Kind


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lab(alice):
    group = ResearchGroup.objects.create(name="Atmos Lab", slug="atmos")
    Membership.objects.create(user=alice, group=group)
    return group


@pytest.fixture
def ops_client(client, operator):
    client.force_login(operator)
    return client


def group_form(group, membership, role):
    return {
        "name": group.name, "slug": group.slug, "description": "",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(membership.pk), "memberships-0-group": str(group.pk),
        "memberships-0-user": str(membership.user_id), "memberships-0-role": role,
    }


def test_the_user_list_shows_groups_and_a_link_to_simulations(ops_client, alice, lab, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):  # not one query per row
        response = ops_client.get("/admin/accounts/user/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Atmos Lab" in page
    assert f"/admin/simulations/simulation/?owner__id__exact={alice.pk}" in page
    assert "0 simulations" in page


def test_the_simulations_link_filters_the_simulation_list(ops_client, alice):
    response = ops_client.get(f"/admin/simulations/simulation/?owner__id__exact={alice.pk}")
    assert response.status_code == 200


def test_the_user_page_shows_memberships_and_tokens(ops_client, alice, lab):
    token, _ = services.api_token_create(user=alice, name="laptop", actor=alice)
    response = ops_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Atmos Lab" in page and "laptop" in page and token.prefix in page


def test_a_role_change_in_the_group_admin_is_audited(ops_client, operator, alice, lab):
    membership = Membership.objects.get(user=alice, group=lab)

    response = ops_client.post(f"/admin/accounts/researchgroup/{lab.pk}/change/",
                               group_form(lab, membership, "admin"))

    assert response.status_code == 302, response.context["adminform"].errors if response.context else ""
    membership.refresh_from_db()
    assert membership.role == "admin"
    event = AuditEvent.objects.get(kind=Kind.ROLE_CHANGED)
    assert (event.user, event.actor, event.detail["from"], event.detail["to"]) == (alice, operator, "member", "admin")


def test_saving_a_group_without_role_changes_records_nothing(ops_client, alice, lab):
    membership = Membership.objects.get(user=alice, group=lab)
    ops_client.post(f"/admin/accounts/researchgroup/{lab.pk}/change/", group_form(lab, membership, "member"))
    assert not AuditEvent.objects.exists()


def test_adding_a_member_in_the_group_admin_is_audited(ops_client, operator, bob, lab):
    alice_membership = Membership.objects.get(group=lab)
    data = group_form(lab, alice_membership, "member")
    data.update({"memberships-TOTAL_FORMS": "2", "memberships-1-id": "", "memberships-1-group": str(lab.pk),
                 "memberships-1-user": str(bob.pk), "memberships-1-role": "member"})

    assert ops_client.post(f"/admin/accounts/researchgroup/{lab.pk}/change/", data).status_code == 302

    assert Membership.objects.filter(user=bob, group=lab).exists()
    event = AuditEvent.objects.get(kind=Kind.ROLE_CHANGED)
    assert (event.user, event.detail["from"], event.detail["to"]) == (bob, None, "member")


def test_the_group_list_counts_members_and_admins(ops_client, alice, bob, lab):
    Membership.objects.create(user=bob, group=lab, role=Membership.Role.ADMIN)
    response = ops_client.get("/admin/accounts/researchgroup/")
    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.member_total, row.admin_total) == (2, 1)


def test_the_revoke_action_reports_counts(ops_client, operator, alice, bob):
    live, _ = services.api_token_create(user=alice, name="a", actor=alice)
    dead, _ = services.api_token_create(user=bob, name="b", actor=bob)
    services.api_token_revoke(token_id=dead.pk, by=bob)

    response = ops_client.post("/admin/accounts/apitoken/", {
        "action": "revoke_selected", "_selected_action": [live.pk, dead.pk]}, follow=True)

    assert "Revoked 1 of 2 token(s)" in response.content.decode()
    live.refresh_from_db()
    assert live.revoked_at is not None
    assert AuditEvent.objects.filter(kind=Kind.TOKEN_REVOKED, actor=operator).count() == 1


def test_tokens_cannot_be_added_or_deleted_in_the_admin(ops_client, alice):
    token, _ = services.api_token_create(user=alice, name="a", actor=alice)
    assert ops_client.get("/admin/accounts/apitoken/add/").status_code == 403
    assert ops_client.get(f"/admin/accounts/apitoken/{token.pk}/delete/").status_code == 403
    assert ApiToken.objects.count() == 1


def test_the_audit_log_filters_by_kind_and_is_read_only(ops_client, alice, operator):
    services.audit_record(kind=Kind.SIGN_IN, user=alice, actor=alice, ip="10.0.0.1")
    services.audit_record(kind=Kind.SIGN_OUT, user=alice, actor=alice)

    response = ops_client.get("/admin/accounts/auditevent/?kind__exact=sign_in")
    assert response.status_code == 200
    assert [e.kind for e in response.context["cl"].result_list] == ["sign_in"]

    event = AuditEvent.objects.get(kind=Kind.SIGN_IN)
    detail = ops_client.get(f"/admin/accounts/auditevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert ops_client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"kind": "sign_out"}).status_code == 403
    assert ops_client.get(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403
    event.refresh_from_db()
    assert event.kind == "sign_in"


def test_the_admin_is_for_staff_only(client, alice):
    client.force_login(alice)
    assert client.get("/admin/accounts/auditevent/").status_code == 302
