"""Audit events: sign-in, failed sign-in, sign-out (allauth's adapter), tokens and role changes (services)."""

import pytest
from django.core.cache import cache

from accounts import services
from accounts.models import AuditEvent, Membership, ResearchGroup

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
Kind = AuditEvent.Kind


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # allauth counts sign-in attempts in the cache
    yield
    cache.clear()


def test_signing_in_with_a_password_is_recorded(client, alice):
    response = client.post(LOGIN, {"login": "alice@example.org", "password": "pw-alice-123"})

    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.kind, event.user, event.actor, event.ip) == (Kind.SIGN_IN, alice, alice, "127.0.0.1")


def test_a_wrong_password_is_recorded_without_the_password(client, alice):
    response = client.post(LOGIN, {"login": "alice@example.org", "password": "guess-123"})

    assert response.status_code == 200  # the form again, with its error
    event = AuditEvent.objects.get()
    assert (event.kind, event.user, event.actor) == (Kind.SIGN_IN_FAILED, alice, None)
    assert event.detail == {"login": "alice@example.org", "reason": "wrong_credentials"}
    assert "guess-123" not in str(event.detail)


def test_a_failed_sign_in_for_an_unknown_email_has_no_user(client):
    client.post(LOGIN, {"login": "mallory@example.org", "password": "guess-123"})
    event = AuditEvent.objects.get()
    assert (event.kind, event.user, event.detail["login"]) == (Kind.SIGN_IN_FAILED, None, "mallory@example.org")


def test_signing_out_is_recorded(client, alice):
    client.force_login(alice)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.kind, event.user, event.actor) == (Kind.SIGN_OUT, alice, alice)


def test_signing_out_when_not_signed_in_records_nothing(client):
    client.post(LOGOUT)
    assert not AuditEvent.objects.exists()


def test_creating_and_revoking_a_token_are_recorded(alice):
    token, _ = services.api_token_create(user=alice, name="laptop", actor=alice, ip="10.0.0.5")
    services.api_token_revoke(token_id=token.pk, by=alice, ip="10.0.0.6")

    created, revoked = AuditEvent.objects.order_by("created_at", "pk")
    assert (created.kind, created.user, created.actor, created.ip) == (Kind.TOKEN_CREATED, alice, alice, "10.0.0.5")
    assert created.detail == {"token_id": token.pk, "name": "laptop", "prefix": token.prefix, "source": "profile"}
    assert (revoked.kind, revoked.user, revoked.ip) == (Kind.TOKEN_REVOKED, alice, "10.0.0.6")


def test_a_role_change_is_recorded(alice, operator):
    group = ResearchGroup.objects.create(name="Atmos Lab", slug="atmos")
    membership = Membership.objects.create(user=alice, group=group)

    assert services.membership_set_role(membership_id=membership.pk, role="admin", by=operator) is True

    membership.refresh_from_db()
    assert membership.role == "admin"
    event = AuditEvent.objects.get()
    assert (event.kind, event.user, event.actor) == (Kind.ROLE_CHANGED, alice, operator)
    assert event.detail == {"group_id": group.pk, "group": "Atmos Lab", "from": "member", "to": "admin"}


def test_setting_the_role_a_member_has_records_nothing(alice, operator):
    group = ResearchGroup.objects.create(name="Atmos Lab", slug="atmos")
    membership = Membership.objects.create(user=alice, group=group)
    assert services.membership_set_role(membership_id=membership.pk, role="member", by=operator) is False
    assert not AuditEvent.objects.exists()


def test_an_unknown_role_is_refused(alice, operator):
    group = ResearchGroup.objects.create(name="Atmos Lab", slug="atmos")
    membership = Membership.objects.create(user=alice, group=group)
    with pytest.raises(ValueError):
        services.membership_set_role(membership_id=membership.pk, role="owner", by=operator)
    membership.refresh_from_db()
    assert membership.role == "member"


# --- allauth's rate limits (ACCOUNT_RATE_LIMITS) ---------------------------------------------------

def test_after_five_failures_even_the_right_password_is_refused_for_a_while(client, alice):
    for _ in range(5):
        client.post(LOGIN, {"login": "alice@example.org", "password": "guess-123"})

    response = client.post(LOGIN, {"login": "alice@example.org", "password": "pw-alice-123"})

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    last = AuditEvent.objects.order_by("-created_at", "-pk").first()
    assert (last.kind, last.detail["reason"]) == (Kind.SIGN_IN_FAILED, "too_many_attempts")
    assert AuditEvent.objects.filter(kind=Kind.SIGN_IN).count() == 0


def test_the_failure_limit_is_per_email(client, alice, bob):
    for _ in range(5):
        client.post(LOGIN, {"login": "alice@example.org", "password": "guess-123"})
    response = client.post(LOGIN, {"login": "bob@example.org", "password": "pw-bob-123"})
    assert response.status_code == 302


def test_too_many_sign_in_posts_from_one_address_get_429(client, alice, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    for _ in range(2):
        client.post(LOGIN, {"login": "bob@example.org", "password": "guess-123"})
    response = client.post(LOGIN, {"login": "alice@example.org", "password": "pw-alice-123"})
    assert response.status_code == 429
    assert not AuditEvent.objects.filter(kind=Kind.SIGN_IN).exists()


def test_the_configured_sign_in_limits(settings):
    assert settings.ACCOUNT_RATE_LIMITS == {"login": "30/m/ip", "login_failed": "10/m/ip,5/5m/key"}
