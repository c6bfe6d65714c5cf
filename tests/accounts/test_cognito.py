"""Amazon Cognito: web sign-in through the hosted UI, and the user pool's tokens on the API.

The web round trip mocks Cognito's token and userInfo endpoints with `responses` (allauth calls
them through requests). The API tests use moto's user pool, whose tokens are real RS256 JWTs
signed with the key moto publishes at the pool's JWKS address.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import jwt
import pytest
import requests
import responses
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from django.urls import reverse
from moto import mock_aws
from moto.utilities.utils import load_resource
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import cognito
from accounts.cognito import CognitoJWTAuthentication, InvalidToken, verify_token

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "https://gcr-test.auth.us-east-1.amazoncognito.com"
TOKEN_URL = f"{DOMAIN}/oauth2/token"
USERINFO_URL = f"{DOMAIN}/oauth2/userInfo"
REGION = "us-east-1"


def _cognito_settings(settings, *, client_id="web-client", issuer=""):
    settings.COGNITO = True
    settings.COGNITO_CLIENT_ID = client_id
    settings.COGNITO_ISSUER = issuer or f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_test"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "amazon_cognito": {"DOMAIN": DOMAIN, "APPS": [{"client_id": client_id, "secret": "web-secret"}]}}


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The JWKS and the re-fetch cool-down live in the cache; locmem outlives a test.
    cache.clear()


@pytest.fixture
def cognito_on(settings):
    _cognito_settings(settings)


def _userinfo(email="carol@example.org", sub="sub-carol", verified="true"):
    return {"sub": sub, "email": email, "email_verified": verified, "username": sub}


def _sign_in_with_cognito(client, *, userinfo=None, token_failure=None):
    """The browser's round trip: our login view, the hosted UI (skipped), then our callback."""
    start = client.post(reverse("amazon_cognito_login"))
    assert start.status_code == 302 and start["Location"].startswith(f"{DOMAIN}/oauth2/authorize")
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as cognito_http:
        if token_failure is not None:
            cognito_http.post(TOKEN_URL, **token_failure)
        else:
            cognito_http.post(TOKEN_URL, json={"access_token": "at", "id_token": "it", "token_type": "Bearer",
                                               "expires_in": 3600})
            cognito_http.get(USERINFO_URL, json=userinfo or _userinfo())
        return client.get(reverse("amazon_cognito_callback"), {"code": "the-code", "state": state})


def _signed_in_email(client):
    response = client.get(reverse("account_email"))
    return response.wsgi_request.user.email if response.wsgi_request.user.is_authenticated else None


# --- Settings ------------------------------------------------------------------------------------
def _manage_check(env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCR_") and k != "DATABASE_URL"}
    env.update({"GCR_DATA_DIR": str(tmp_path), **env_extra})
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cognito_on_without_its_settings_stops_start_up_naming_each(tmp_path):
    result = _manage_check({"GCR_COGNITO": "on", "GCR_COGNITO_CLIENT_ID": "abc"}, tmp_path)
    assert result.returncode != 0
    assert ("with GCR_COGNITO=on these settings are required: GCR_COGNITO_DOMAIN, GCR_COGNITO_CLIENT_SECRET, "
            "GCR_COGNITO_USER_POOL_ID, GCR_AWS_REGION") in result.stderr


def test_cognito_on_with_its_settings_starts(tmp_path):
    result = _manage_check({"GCR_COGNITO": "on", "GCR_COGNITO_DOMAIN": DOMAIN, "GCR_COGNITO_CLIENT_ID": "abc",
                            "GCR_COGNITO_CLIENT_SECRET": "s", "GCR_COGNITO_USER_POOL_ID": "us-east-1_x",
                            "GCR_AWS_REGION": REGION}, tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_cognito_domain_without_https_stops_start_up(tmp_path):
    result = _manage_check({"GCR_COGNITO": "on", "GCR_COGNITO_DOMAIN": "myapp.auth.amazoncognito.com",
                            "GCR_COGNITO_CLIENT_ID": "abc", "GCR_COGNITO_CLIENT_SECRET": "s",
                            "GCR_COGNITO_USER_POOL_ID": "us-east-1_x", "GCR_AWS_REGION": REGION}, tmp_path)
    assert result.returncode != 0
    assert "GCR_COGNITO_DOMAIN must start with https://" in result.stderr


# --- Web sign-in ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_sign_in_page_offers_cognito_only_when_it_is_on(client, settings):
    assert b"Sign in with Amazon Cognito" not in client.get(reverse("account_login")).content
    _cognito_settings(settings)
    page = client.get(reverse("account_login")).content.decode()
    assert "Sign in with Amazon Cognito" in page
    assert f'action="{reverse("amazon_cognito_login")}' in page


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["amazon_cognito_login", "amazon_cognito_callback"])
def test_the_cognito_pages_are_not_found_while_cognito_is_off(client, name):
    assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse(name)).status_code == 404


@pytest.mark.django_db
def test_a_first_cognito_sign_in_creates_the_user_with_the_email_from_userinfo(client, cognito_on,
                                                                               django_user_model):
    response = _sign_in_with_cognito(client)
    assert response.status_code == 302 and response["Location"] == reverse("simulations:list")
    user = django_user_model.objects.get()
    assert user.email == "carol@example.org"
    link = SocialAccount.objects.get(user=user)
    assert (link.provider, link.uid) == ("amazon_cognito", "sub-carol")  # what the API looks tokens up by
    assert _signed_in_email(client) == "carol@example.org"


@pytest.mark.django_db
def test_a_returning_cognito_user_is_matched_not_created_again(client, cognito_on, django_user_model):
    _sign_in_with_cognito(client)
    client.logout()
    response = _sign_in_with_cognito(client)
    assert response.status_code == 302
    assert django_user_model.objects.count() == 1
    assert SocialAccount.objects.count() == 1
    assert _signed_in_email(client) == "carol@example.org"


@pytest.mark.django_db
def test_a_verified_cognito_email_signs_in_the_existing_local_account(client, cognito_on, alice,
                                                                      django_user_model):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    _sign_in_with_cognito(client, userinfo=_userinfo(email="alice@example.org", sub="sub-alice"))
    assert django_user_model.objects.count() == 1
    assert SocialAccount.objects.get(uid="sub-alice").user == alice
    assert _signed_in_email(client) == "alice@example.org"
    alice.refresh_from_db()
    assert alice.check_password("pw-alice-123")  # her own verified address: nothing to fear


@pytest.mark.django_db
def test_a_local_account_with_an_unverified_email_loses_its_password_at_cognito_sign_in(client, cognito_on,
                                                                                      alice):
    # Whoever registered that address locally without proving it must not keep a way in.
    _sign_in_with_cognito(client, userinfo=_userinfo(email="alice@example.org", sub="sub-alice"))
    assert _signed_in_email(client) == "alice@example.org"
    alice.refresh_from_db()
    assert not alice.has_usable_password()


@pytest.mark.django_db
def test_an_unverified_cognito_email_does_not_take_over_the_local_account(client, cognito_on, alice,
                                                                          django_user_model):
    _sign_in_with_cognito(client, userinfo=_userinfo(email="alice@example.org", sub="sub-mallory",
                                                     verified="false"))
    assert _signed_in_email(client) is None
    assert not SocialAccount.objects.filter(user=alice).exists()
    alice.refresh_from_db()
    assert alice.check_password("pw-alice-123")


@pytest.mark.django_db
@pytest.mark.parametrize("failure", [{"body": requests.ConnectionError("connection refused")},
                                     {"status": 503, "body": "Service Unavailable"}],
                         ids=["unreachable", "5xx"])
def test_a_cognito_outage_shows_a_clear_message_and_creates_nothing(client, cognito_on, django_user_model,
                                                                    failure):
    response = _sign_in_with_cognito(client, token_failure=failure)
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    page = client.get(response["Location"]).content.decode()
    assert "Sign-in with Amazon Cognito is not working right now" in page
    assert "sign in with your password" in page
    assert django_user_model.objects.count() == 0
    assert SocialAccount.objects.count() == 0


@pytest.mark.django_db
def test_a_callback_with_a_stale_state_asks_to_try_again(client, cognito_on, django_user_model):
    response = client.get(reverse("amazon_cognito_callback"), {"code": "c", "state": "not-ours"})
    assert response.status_code == 302
    assert "could not be completed" in client.get(response["Location"]).content.decode()
    assert django_user_model.objects.count() == 0


@pytest.mark.django_db
def test_password_sign_in_still_works_with_cognito_on(client, cognito_on, operator):
    response = client.post(reverse("account_login"), {"login": "ops@example.org", "password": "pw-ops-123"})
    assert response.status_code == 302
    assert _signed_in_email(client) == "ops@example.org"


# --- Tokens from moto's user pool --------------------------------------------------------------
class Pool:
    def __init__(self, idp, name="gcr"):
        self.idp = idp
        self.id = idp.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"]["Id"]
        self.client_id = self.add_client("web")
        self.issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{self.id}"

    def add_client(self, name):
        return self.idp.create_user_pool_client(UserPoolId=self.id, ClientName=name,
                                                ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])["UserPoolClient"]["ClientId"]

    def add_user(self, email):
        self.idp.admin_create_user(UserPoolId=self.id, Username=email, MessageAction="SUPPRESS",
                                   UserAttributes=[{"Name": "email", "Value": email},
                                                   {"Name": "email_verified", "Value": "true"}])
        self.idp.admin_set_user_password(UserPoolId=self.id, Username=email, Password="Pw-123456!", Permanent=True)
        attributes = self.idp.admin_get_user(UserPoolId=self.id, Username=email)["UserAttributes"]
        return next(a["Value"] for a in attributes if a["Name"] == "sub")

    def tokens(self, email, client_id=None):
        result = self.idp.admin_initiate_auth(UserPoolId=self.id, ClientId=client_id or self.client_id,
                                              AuthFlow="ADMIN_NO_SRP_AUTH",
                                              AuthParameters={"USERNAME": email, "PASSWORD": "Pw-123456!"})
        return result["AuthenticationResult"]["IdToken"], result["AuthenticationResult"]["AccessToken"]


@pytest.fixture
def pool(aws_credentials, settings):
    with mock_aws():
        pool = Pool(boto3.client("cognito-idp", region_name=REGION))
        _cognito_settings(settings, client_id=pool.client_id, issuer=pool.issuer)
        yield pool


@pytest.fixture
def jwks_fetches(monkeypatch):
    """Counts the JWKS downloads (the real ones, from moto)."""
    calls = []
    real = cognito.fetch_jwks

    def counting(url):
        calls.append(url)
        return real(url)

    monkeypatch.setattr(cognito, "fetch_jwks", counting)
    return calls


def _moto_signed(claims, *, kid="dummy"):
    """A token signed with the key moto's pools sign with (published in their JWKS)."""
    key = jwt.PyJWK.from_dict(load_resource("cognitoidp/resources/jwks-private.json")).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _claims(pool, **changes):
    now = int(time.time())
    claims = {"iss": pool.issuer, "sub": "s-1", "aud": pool.client_id, "token_use": "id", "iat": now,
              "exp": now + 600, "email": "carol@example.org"}
    return {**claims, **changes}


def test_a_real_id_token_of_the_pool_is_accepted(pool):
    sub = pool.add_user("carol@example.org")
    id_token, _ = pool.tokens("carol@example.org")
    claims = verify_token(id_token)
    assert (claims.sub, claims.token_use, claims.email) == (sub, "id", "carol@example.org")


def test_a_real_access_token_of_the_pool_is_accepted(pool):
    sub = pool.add_user("carol@example.org")
    _, access_token = pool.tokens("carol@example.org")
    claims = verify_token(access_token)
    assert (claims.sub, claims.token_use, claims.email) == (sub, "access", None)


def test_the_key_set_is_fetched_once_and_then_read_from_the_cache(pool, jwks_fetches):
    pool.add_user("carol@example.org")
    id_token, access_token = pool.tokens("carol@example.org")
    verify_token(id_token)
    verify_token(access_token)
    assert jwks_fetches == [f"{pool.issuer}/.well-known/jwks.json"]


def test_an_expired_token_is_rejected(pool):
    token = _moto_signed(_claims(pool, exp=int(time.time()) - 60))
    with pytest.raises(InvalidToken, match="token expired"):
        verify_token(token)


def test_a_token_signed_by_another_key_with_the_pools_kid_is_rejected(pool):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(pool), forger, algorithm="RS256", headers={"kid": "dummy"})
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(token)


def test_an_unknown_key_is_looked_up_once_more_then_rejected(pool, jwks_fetches):
    pool.add_user("carol@example.org")
    verify_token(pool.tokens("carol@example.org")[0])
    token = _moto_signed(_claims(pool), kid="rotated-away")
    for _ in range(3):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            verify_token(token)
    assert len(jwks_fetches) == 2  # the first fill, then one re-fetch within the cool-down


def test_a_token_of_another_app_client_is_rejected_as_wrong_audience(pool):
    pool.add_user("carol@example.org")
    other_client = pool.add_client("someone-elses-app")
    id_token, access_token = pool.tokens("carol@example.org", client_id=other_client)
    for token in (id_token, access_token):
        with pytest.raises(InvalidToken, match="wrong audience"):
            verify_token(token)


def test_a_token_of_another_pool_is_rejected_as_wrong_issuer(pool):
    other = Pool(pool.idp, name="other")
    other.add_user("carol@example.org")
    with pytest.raises(InvalidToken, match="wrong issuer"):
        verify_token(other.tokens("carol@example.org")[0])


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", ""])
def test_garbage_is_rejected_as_malformed(pool, token):
    with pytest.raises(InvalidToken, match="malformed token"):
        verify_token(token)


def test_a_refresh_style_token_use_is_rejected(pool):
    with pytest.raises(InvalidToken, match="wrong token use"):
        verify_token(_moto_signed(_claims(pool, token_use="refresh")))


def test_an_unreachable_key_set_raises_cognito_unavailable(pool, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(cognito.CognitoUnavailable):
        verify_token(_moto_signed(_claims(pool)))


def test_the_key_set_comes_from_a_moto_server_under_aws_endpoint_url(moto_server, aws_credentials, monkeypatch,
                                                                     settings, jwks_fetches):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    pool = Pool(boto3.client("cognito-idp", region_name=REGION))
    _cognito_settings(settings, client_id=pool.client_id, issuer=pool.issuer)
    sub = pool.add_user("carol@example.org")
    assert verify_token(pool.tokens("carol@example.org")[1]).sub == sub
    assert jwks_fetches == [f"{moto_server}/{pool.id}/.well-known/jwks.json"]


# --- The DRF authentication class --------------------------------------------------------------
class Whoami(APIView):
    authentication_classes = [CognitoJWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"email": request.user.email})


def _call(authorization=None):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Whoami.as_view()(APIRequestFactory().get("/whoami", **headers))
    response.render()
    return response


@pytest.fixture
def carol_linked(pool, django_user_model):
    """carol, who has signed in on the web with Cognito once (so her pool `sub` is linked)."""
    sub = pool.add_user("carol@example.org")
    carol = django_user_model.objects.create_user(email="carol@example.org")
    SocialAccount.objects.create(user=carol, provider="amazon_cognito", uid=sub)
    return carol


@pytest.mark.django_db
@pytest.mark.parametrize("which", [0, 1], ids=["id token", "access token"])
def test_a_bearer_token_of_a_linked_user_authenticates_her(pool, carol_linked, which):
    token = pool.tokens("carol@example.org")[which]
    response = _call(f"Bearer {token}")
    assert response.status_code == 200
    assert response.data == {"email": "carol@example.org"}


@pytest.mark.django_db
def test_a_token_of_a_pool_user_who_never_signed_in_on_the_web_is_refused(pool, django_user_model):
    pool.add_user("dave@example.org")
    django_user_model.objects.create_user(email="dave@example.org")  # same email, but never linked
    response = _call(f"Bearer {pool.tokens('dave@example.org')[0]}")
    assert response.status_code == 401
    assert response.data["detail"] == "no account for this token; sign in on the web first"
    assert django_user_model.objects.count() == 1


@pytest.mark.django_db
def test_a_deactivated_user_is_refused(pool, carol_linked):
    carol_linked.is_active = False
    carol_linked.save()
    assert _call(f"Bearer {pool.tokens('carol@example.org')[1]}").status_code == 401


@pytest.mark.django_db
def test_a_bad_token_answers_401_with_the_reason_in_www_authenticate(pool):
    response = _call(f"Bearer {_moto_signed(_claims(pool, exp=int(time.time()) - 60))}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="token expired"'
    assert response.data["detail"] == "token expired"


@pytest.mark.django_db
def test_a_request_without_a_bearer_token_is_left_to_other_authenticators(pool):
    response = _call("Token gcr_something")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_a_cognito_outage_answers_503_not_500(pool, carol_linked, monkeypatch):
    token = pool.tokens("carol@example.org")[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    response = _call(f"Bearer {token}")
    assert response.status_code == 503
    assert response.data["detail"] == "could not verify the token now; try again shortly"
    assert response["Retry-After"] == "30"
