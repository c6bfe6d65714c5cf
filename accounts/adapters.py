"""allauth adapters: the account adapter writes the sign-in audit trail through accounts.services."""

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from accounts import services
from accounts.models import AuditEvent, User


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address as allauth sees it (its trusted-proxy settings apply), or None."""
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return None


class AccountAdapter(DefaultAccountAdapter):
    """allauth's hooks for signing in and out, each leaving an AuditEvent.

    `login` runs for every completed sign-in (password, and social sign-ins such as Cognito);
    `logout` for every sign-out; `authentication_failed` after a wrong email or password;
    `pre_authenticate` raises once allauth's login_failed rate limit is used up.
    """

    def login(self, request, user):
        super().login(request, user)
        services.audit_record(kind=AuditEvent.Kind.SIGN_IN, user=user, actor=user, ip=client_ip(request),
                              detail={"backend": getattr(user, "backend", "")})

    def logout(self, request):
        user = request.user if request.user.is_authenticated else None
        super().logout(request)
        if user is not None:
            services.audit_record(kind=AuditEvent.Kind.SIGN_OUT, user=user, actor=user, ip=client_ip(request))

    def pre_authenticate(self, request, **credentials):
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            self._record_failure(request, credentials, reason="too_many_attempts")
            raise

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        self._record_failure(request, credentials, reason="wrong_credentials")

    def _record_failure(self, request, credentials: dict, *, reason: str) -> None:
        # Only the login name is kept, never the password that was tried.
        login = (credentials.get("email") or credentials.get("username") or "").strip().lower()
        user = User.objects.filter(email=login).first() if login else None
        services.audit_record(kind=AuditEvent.Kind.SIGN_IN_FAILED, user=user, ip=client_ip(request),
                              detail={"login": login[:254], "reason": reason})
