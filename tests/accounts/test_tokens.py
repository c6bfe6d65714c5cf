"""API tokens: stored hashed, authenticate the API, revoked ones refused; GET /api/v1/me; create_api_token."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, AuditEvent, Membership, ResearchGroup

pytestmark = pytest.mark.django_db
ME = "/api/v1/me"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # rate-limit counters and throttles must not leak between tests
    yield
    cache.clear()


def test_it_stores_the_hash_of_the_key_and_never_the_key(alice):
    token, key = services.api_token_create(user=alice, name="laptop", actor=alice)

    token.refresh_from_db()
    assert key.startswith(f"gcr_{token.prefix}_")
    assert len(token.prefix) == 8
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    secret = key.split("_", 2)[2]
    stored = [str(v) for v in ApiToken.objects.values_list(flat=False).get(pk=token.pk)]
    assert not any(secret in value for value in stored)


def test_each_key_is_different(alice):
    keys = {services.api_token_create(user=alice, name=f"t{i}", actor=alice)[1] for i in range(3)}
    assert len(keys) == 3


def test_a_key_authenticates_its_user(alice):
    _, key = services.api_token_create(user=alice, name="laptop", actor=alice)
    assert services.api_token_authenticate(key) == alice


@pytest.mark.parametrize("key", ["", "gcr_", "gcr_nothere_abc", "not-a-gcr-key", "gcr_" + "x" * 300])
def test_unknown_keys_authenticate_nobody(alice, key):
    services.api_token_create(user=alice, name="laptop", actor=alice)
    assert services.api_token_authenticate(key) is None


def test_a_revoked_key_authenticates_nobody(alice):
    token, key = services.api_token_create(user=alice, name="laptop", actor=alice)
    assert services.api_token_revoke(token_id=token.pk, by=alice)
    assert services.api_token_authenticate(key) is None


def test_a_disabled_users_key_authenticates_nobody(alice):
    _, key = services.api_token_create(user=alice, name="laptop", actor=alice)
    alice.is_active = False
    alice.save()
    assert services.api_token_authenticate(key) is None


def test_last_used_is_written_at_most_once_a_minute(alice, django_assert_num_queries):
    token, key = services.api_token_create(user=alice, name="laptop", actor=alice)

    services.api_token_authenticate(key)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    with django_assert_num_queries(1):  # the lookup only: no write within the minute
        services.api_token_authenticate(key)
    token.refresh_from_db()
    assert token.last_used_at == first

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    services.api_token_authenticate(key)
    token.refresh_from_db()
    assert token.last_used_at > first


def test_only_the_owner_or_staff_can_revoke_a_token(alice, bob, operator):
    token, _ = services.api_token_create(user=alice, name="laptop", actor=alice)

    assert services.api_token_revoke(token_id=token.pk, by=bob) is False
    token.refresh_from_db()
    assert token.revoked_at is None

    assert services.api_token_revoke(token_id=token.pk, by=operator) is True
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_REVOKED)
    assert (event.user, event.actor) == (alice, operator)


def test_revoking_twice_changes_nothing_the_second_time(alice):
    token, _ = services.api_token_create(user=alice, name="laptop", actor=alice)
    assert services.api_token_revoke(token_id=token.pk, by=alice) is True
    revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at

    assert services.api_token_revoke(token_id=token.pk, by=alice) is False
    assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_REVOKED).count() == 1


def test_token_creation_stops_after_ten_an_hour(alice, bob):
    for i in range(services.TOKEN_CREATE_LIMIT):
        services.api_token_create(user=alice, name=f"t{i}", actor=alice)

    with pytest.raises(services.TokenRateLimited, match="at most 10 API tokens an hour"):
        services.api_token_create(user=alice, name="one too many", actor=alice)
    assert ApiToken.objects.filter(user=alice).count() == 10
    services.api_token_create(user=bob, name="bob's first", actor=bob)  # counted per user


# --- GET /api/v1/me ---------------------------------------------------------------------------------

def test_me_with_a_token_tells_who_and_how(client, alice):
    alice.full_name = "Alice Example"
    alice.save()
    group = ResearchGroup.objects.create(name="Atmos Lab", slug="atmos")
    Membership.objects.create(user=alice, group=group, role=Membership.Role.ADMIN)
    _, key = services.api_token_create(user=alice, name="laptop", actor=alice)

    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert response.json() == {
        "email": "alice@example.org", "full_name": "Alice Example", "is_staff": False,
        "groups": [{"id": group.pk, "slug": "atmos", "name": "Atmos Lab", "role": "admin"}],
        "authenticated_by": "token",
    }


def test_me_with_a_session_says_session(client, operator):
    client.force_login(operator)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["authenticated_by"] == "session"
    assert response.json()["is_staff"] is True


def test_me_without_credentials_is_401(client):
    response = client.get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_me_with_a_wrong_key_is_401_with_a_reason(client, alice):
    services.api_token_create(user=alice, name="laptop", actor=alice)
    response = client.get(ME, HTTP_AUTHORIZATION="Token gcr_12345678_wrong")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, revoked or disabled token."}


def test_me_with_a_revoked_key_is_401(client, alice):
    token, key = services.api_token_create(user=alice, name="laptop", actor=alice)
    services.api_token_revoke(token_id=token.pk, by=alice)
    assert client.get(ME, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_me_with_a_malformed_header_is_401(client):
    response = client.get(ME, HTTP_AUTHORIZATION="Token")
    assert response.status_code == 401
    assert "expected 'Token <key>'" in response.json()["detail"]


# --- manage.py create_api_token ---------------------------------------------------------------------

def test_the_command_prints_a_key_that_works(client, alice):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "Alice@Example.org", "--name", "cron", stdout=out, stderr=err)

    key = out.getvalue().strip()
    assert "will not be shown again" in err.getvalue()
    assert client.get(ME, HTTP_AUTHORIZATION=f"Token {key}").json()["email"] == "alice@example.org"
    token = ApiToken.objects.get(user=alice)
    assert token.name == "cron"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_CREATED)
    assert event.user == alice and event.actor is None and event.detail["source"] == "command"


def test_the_command_is_not_held_by_the_hourly_limit(alice):
    for i in range(services.TOKEN_CREATE_LIMIT):
        services.api_token_create(user=alice, name=f"t{i}", actor=alice)
    call_command("create_api_token", "alice@example.org", stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.filter(user=alice).count() == 11


def test_the_command_refuses_an_unknown_email(db):
    with pytest.raises(CommandError, match="no user with the email"):
        call_command("create_api_token", "nobody@example.org", stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
