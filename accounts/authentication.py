"""The API's token authentication: `Authorization: Token gcr_…`, checked against stored hashes."""

from rest_framework import authentication, exceptions

from accounts import services


class HashedTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # not ours: let the session (or Cognito) try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header: the key is not text.") from None
        user = services.api_token_authenticate(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or disabled token.")
        return user, None

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 to unauthenticated calls.
        return self.keyword
