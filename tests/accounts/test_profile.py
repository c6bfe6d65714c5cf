"""The profile page: groups with roles, API tokens listed by prefix, a key shown once, revoking."""

import pytest
from django.core.cache import cache

from accounts import services
from accounts.models import ApiToken, AuditEvent, Membership, ResearchGroup

pytestmark = pytest.mark.django_db
PROFILE = "/profile/"
CREATE = "/profile/tokens/"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def revoke_url(token):
    return f"/profile/tokens/{token.pk}/revoke/"


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_lists_the_users_groups_with_their_roles(client, alice, bob):
    lab = ResearchGroup.objects.create(name="Atmos Lab", slug="atmos")
    other = ResearchGroup.objects.create(name="Ocean Lab", slug="ocean")
    Membership.objects.create(user=alice, group=lab, role=Membership.Role.ADMIN)
    Membership.objects.create(user=bob, group=other)
    client.force_login(alice)

    response = client.get(PROFILE)

    assert response.status_code == 200
    assert [(m.group.name, m.role) for m in response.context["memberships"]] == [("Atmos Lab", "admin")]
    assert "group admin" in response.content.decode()
    assert "Ocean Lab" not in response.content.decode()


def test_the_nav_links_to_the_profile(client, alice):
    client.force_login(alice)
    assert 'href="/profile/"' in client.get("/simulations/").content.decode()


def test_creating_a_token_shows_its_key_once(client, alice):
    client.force_login(alice)

    response = client.post(CREATE, {"name": "laptop"})

    assert response.status_code == 200
    token = ApiToken.objects.get(user=alice)
    key = response.context["new_key"]
    page = response.content.decode()
    assert key in page and "will not be shown again" in page
    assert "no-store" in response["Cache-Control"]
    assert services.api_token_authenticate(key) == alice
    assert token.name == "laptop"

    later = client.get(PROFILE).content.decode()
    assert key not in later
    assert f"gcr_{token.prefix}…" in later


def test_a_token_needs_a_name(client, alice):
    client.force_login(alice)
    response = client.post(CREATE, {"name": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_eleventh_token_in_an_hour_is_refused_with_a_message(client, alice):
    client.force_login(alice)
    for i in range(10):
        assert client.post(CREATE, {"name": f"t{i}"}).status_code == 200

    response = client.post(CREATE, {"name": "one too many"})

    assert response.status_code == 429
    assert "at most 10 API tokens an hour" in response.content.decode()
    assert not response.context["new_key"]
    assert ApiToken.objects.filter(user=alice).count() == 10


def test_revoking_a_token_marks_it_revoked(client, alice):
    token, key = services.api_token_create(user=alice, name="laptop", actor=alice)
    client.force_login(alice)

    response = client.post(revoke_url(token), follow=True)

    assert response.redirect_chain == [("/profile/", 302)]
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.api_token_authenticate(key) is None
    assert "revoked" in response.content.decode()


def test_revoking_needs_a_post(client, alice):
    token, _ = services.api_token_create(user=alice, name="laptop", actor=alice)
    client.force_login(alice)
    assert client.get(revoke_url(token)).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_bob_cannot_revoke_alices_token(client, alice, bob):
    token, key = services.api_token_create(user=alice, name="laptop", actor=alice)
    client.force_login(bob)

    assert client.post(revoke_url(token)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert services.api_token_authenticate(key) == alice
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_REVOKED).exists()


def test_bob_does_not_see_alices_tokens(client, alice, bob):
    token, _ = services.api_token_create(user=alice, name="alice-laptop", actor=alice)
    client.force_login(bob)
    page = client.get(PROFILE).content.decode()
    assert "alice-laptop" not in page and token.prefix not in page
