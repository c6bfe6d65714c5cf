"""Amazon Cognito: the user pool's tokens for the API, and failed hosted-UI sign-ins for the web.

`verify_token` checks a pool-issued JWT against the pool's published keys (JWKS, kept in Django's
cache). `CognitoJWTAuthentication` lets `Authorization: Bearer <jwt>` into the API.
`CognitoSocialAccountAdapter` turns a failed round trip to the hosted UI into a message on the
sign-in page. Settings: COGNITO_ISSUER, COGNITO_CLIENT_ID (geoschem_runner/settings.py).

Which local user a token stands for: the one whose Cognito sign-in on the web linked that pool
user (allauth's SocialAccount, provider "amazon_cognito", uid = the token's `sub`). Id and access
tokens both carry `sub`; access tokens carry no email, so email cannot be the API's key. A token
of a pool user who never signed in on the web is refused ("sign in on the web first"): accounts
are created, and matched to existing ones by verified email, in one place only, the web sign-in.
"""

import logging
import os
from dataclasses import dataclass

import jwt
import requests
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect
from rest_framework import authentication, exceptions

logger = logging.getLogger(__name__)

PROVIDER = "amazon_cognito"
JWKS_CACHE_SECONDS = 6 * 3600
# An unknown `kid` re-fetches the JWKS (the pool rotated its keys) at most once a minute, so
# tokens with made-up kids cannot turn every request into a call to Cognito.
REFETCH_COOLDOWN_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 5
NO_ACCOUNT = "no account for this token; sign in on the web first"


class InvalidToken(Exception):
    """The token is not acceptable; `reason` is short and safe to show to the caller."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CognitoUnavailable(Exception):
    """The pool's keys could not be fetched, so no token can be judged right now."""


@dataclass(frozen=True)
class Claims:
    sub: str
    token_use: str  # "id" or "access"
    username: str
    email: str | None


def jwks_url() -> str:
    """The pool's JWKS; under AWS_ENDPOINT_URL (moto) it is served at <endpoint>/<pool id>/."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        pool_id = settings.COGNITO_ISSUER.rstrip("/").rsplit("/", 1)[-1]
        return f"{endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"
    return f"{settings.COGNITO_ISSUER}/.well-known/jwks.json"


def fetch_jwks(url: str) -> dict[str, dict]:
    """The key set at `url` as {kid: jwk}; CognitoUnavailable when it cannot be had."""
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
        response.raise_for_status()
        keys = response.json()["keys"]
        return {key["kid"]: key for key in keys}
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        logger.warning("Cognito JWKS at %s unavailable: %s", url, exc)
        raise CognitoUnavailable(str(exc)) from None


def signing_key(kid: str):
    """The public key `kid` of the pool, from the cache, or fetched (again once on a miss)."""
    url = jwks_url()
    cache_key = f"cognito:jwks:{url}"
    keys = cache.get(cache_key)
    if keys is None or (kid not in keys and cache.add(f"{cache_key}:refetched", 1, REFETCH_COOLDOWN_SECONDS)):
        keys = fetch_jwks(url)
        cache.set(cache_key, keys, JWKS_CACHE_SECONDS)
    if kid not in keys:
        raise InvalidToken("unknown signing key")
    return jwt.PyJWK.from_dict(keys[kid]).key


def verify_token(token: str) -> Claims:
    """The claims of a valid id or access token of the pool for our app client.

    Raises InvalidToken (with a reason) for anything else, CognitoUnavailable if the pool's keys
    cannot be fetched.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("malformed token") from None
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise InvalidToken("malformed token")
    key = signing_key(header["kid"])
    try:
        payload = jwt.decode(token, key, algorithms=["RS256"], issuer=settings.COGNITO_ISSUER,
                             options={"verify_aud": False, "require": ["exp", "iss", "sub", "token_use"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("wrong issuer") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("bad signature") from None
    except jwt.PyJWTError:
        raise InvalidToken("malformed token") from None
    token_use = payload["token_use"]
    if token_use not in ("id", "access"):
        raise InvalidToken("wrong token use")
    # Id tokens name our app client in `aud`; access tokens in `client_id`.
    audience = payload.get("aud") if token_use == "id" else payload.get("client_id")
    if audience != settings.COGNITO_CLIENT_ID:
        raise InvalidToken("wrong audience")
    return Claims(sub=payload["sub"], token_use=token_use,
                  username=payload.get("cognito:username") or payload.get("username") or "",
                  email=payload.get("email"))


def user_for_claims(claims: Claims):
    """The active local user linked to the pool user `claims.sub`; InvalidToken if none."""
    account = SocialAccount.objects.filter(provider=PROVIDER, uid=claims.sub).select_related("user").first()
    if account is None or not account.user.is_active:
        raise InvalidToken(NO_ACCOUNT)
    return account.user


class CognitoUnavailableError(exceptions.APIException):
    status_code = 503
    default_detail = "could not verify the token now; try again shortly"
    default_code = "cognito_unavailable"
    wait = 30  # DRF's exception handler sends it as Retry-After


class CognitoJWTAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <jwt>` with an id or access token of the user pool.

    Other schemes are left to the other authenticators (None). A bad token answers 401 with
    `WWW-Authenticate: Bearer error="invalid_token", error_description="<reason>"` (when this
    class is the view's first authenticator, which DRF asks for the header); an outage 503.
    """

    keyword = b"bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not settings.COGNITO or not parts or parts[0].lower() != self.keyword:
            return None
        try:
            if len(parts) != 2:
                raise InvalidToken("malformed token")
            user = user_for_claims(verify_token(parts[1].decode("ascii")))
        except UnicodeDecodeError:
            self._fail(request, "malformed token")
        except InvalidToken as exc:
            self._fail(request, exc.reason)
        except CognitoUnavailable:
            raise CognitoUnavailableError() from None
        return user, None

    def _fail(self, request, reason: str):
        request._cognito_reason = reason  # read by authenticate_header for this response
        raise exceptions.AuthenticationFailed(reason)

    def authenticate_header(self, request):
        reason = getattr(request, "_cognito_reason", None)
        if reason:
            return f'Bearer error="invalid_token", error_description="{reason}"'
        return 'Bearer realm="api"'


OUTAGE_MESSAGE = ("Sign-in with Amazon Cognito is not working right now (the service did not answer or "
                  "refused the request). Please try again in a few minutes, or sign in with your password.")
INCOMPLETE_MESSAGE = "The Cognito sign-in could not be completed (it may have expired). Please try again."


class CognitoSocialAccountAdapter(DefaultSocialAccountAdapter):
    """Back to the sign-in page with a message when the hosted-UI round trip fails.

    allauth's own error page says only "Third-Party Login Failure"; a cancelled sign-in keeps
    allauth's cancelled page. The provider's pages answer 404 while Cognito is off.
    """

    def get_provider(self, request, provider, client_id=None):
        # With GCR_COGNITO off the provider is installed but has no app: its pages are not
        # found (as allauth does for OpenID Connect), rather than a server error.
        try:
            return super().get_provider(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404("this sign-in method is not switched on") from None

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        if error == AuthError.CANCELLED:
            return
        logger.warning("Cognito sign-in failed: error=%s exception=%r", error, exception)
        outage = isinstance(exception, (requests.RequestException, OAuth2Error, ProviderException))
        messages.error(request, OUTAGE_MESSAGE if outage else INCOMPLETE_MESSAGE)
        raise ImmediateHttpResponse(redirect(settings.LOGIN_URL))
