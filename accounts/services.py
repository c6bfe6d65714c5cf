"""Account services: API tokens, group roles, and the audit trail they leave.

Views, the admin, the API, the allauth adapter and management commands call these; none of them
writes these rows itself.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent, Membership, User

KEY_START = "gcr_"
# A token's last_used_at is written at most this often, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)
# Creating tokens through the site or the API: at most this many per user per window.
TOKEN_CREATE_LIMIT = 10
TOKEN_CREATE_WINDOW_SECONDS = 3600


class TokenRateLimited(Exception):
    """The user made too many tokens lately; the message says so in words a person can act on."""


def audit_record(*, kind: str, user: User | None = None, actor: User | None = None, ip: str | None = None,
                 detail: dict | None = None) -> AuditEvent:
    """Record that `kind` happened to `user`, done by `actor` (None: the system or an anonymous caller)."""
    return AuditEvent.objects.create(kind=kind, user=user, actor=actor, ip=ip or None, detail=detail or {})


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _token_create_allowed(user: User) -> bool:
    """Count one creation against the user's hourly allowance; False once it is used up.

    A fixed window starting at the first creation, kept in the shared cache so that every web
    worker counts together.
    """
    key = f"accounts:token-create:{user.pk}"
    cache.add(key, 0, timeout=TOKEN_CREATE_WINDOW_SECONDS)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=TOKEN_CREATE_WINDOW_SECONDS)
        used = 1
    return used <= TOKEN_CREATE_LIMIT


def api_token_create(*, user: User, name: str, actor: User | None, ip: str | None = None,
                     source: str = "profile", enforce_rate_limit: bool = True) -> tuple[ApiToken, str]:
    """Make a token for `user`; return it and its full key, which is not kept and cannot be shown again.

    `actor` is who made it (None: an operator's command, not a signed-in person).

    Raises TokenRateLimited past TOKEN_CREATE_LIMIT per hour (operators' commands pass
    enforce_rate_limit=False).
    """
    if enforce_rate_limit and not _token_create_allowed(user):
        raise TokenRateLimited(f"You can create at most {TOKEN_CREATE_LIMIT} API tokens an hour. "
                               "Try again later, or reuse or revoke an existing token.")
    prefix = secrets.token_hex(4)
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name.strip(), prefix=prefix, key_hash=_key_hash(key))
        audit_record(kind=AuditEvent.Kind.TOKEN_CREATED, user=user, actor=actor, ip=ip,
                     detail={"token_id": token.pk, "name": token.name, "prefix": prefix, "source": source})
    return token, key


def api_token_revoke(*, token_id: int, by: User, ip: str | None = None) -> bool:
    """Revoke a token of `by` (or anyone's, if `by` is staff). False if not theirs or already revoked."""
    tokens = ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True)
    if not by.is_staff:
        tokens = tokens.filter(user=by)
    with transaction.atomic():
        # Compare-and-swap: of two revokes at once, one changes the row and leaves the event.
        if not tokens.update(revoked_at=timezone.now()):
            return False
        token = ApiToken.objects.get(pk=token_id)
        audit_record(kind=AuditEvent.Kind.TOKEN_REVOKED, user=token.user, actor=by, ip=ip,
                     detail={"token_id": token.pk, "name": token.name, "prefix": token.prefix})
    return True


def api_token_authenticate(key: str) -> User | None:
    """The active user whose unrevoked token `key` is, or None.

    The key is looked up by its sha256, so comparing never touches the secret itself; the final
    compare_digest only guards against a database that compares case-insensitively.
    """
    if not key.startswith(KEY_START) or len(key) > 200:
        return None
    digest = _key_hash(key)
    token = ApiToken.objects.select_related("user").filter(key_hash=digest).first()
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        # Conditional, so parallel requests write once a minute between them, not once each.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
    return token.user


def membership_set_role(*, membership_id: int, role: str, by: User | None, ip: str | None = None) -> bool:
    """Give a member `role` in their group; False if they had it already. Leaves a role_changed event.

    Whether `by` may do this is the caller's rule (the admin is for staff only).
    """
    if role not in Membership.Role.values:
        raise ValueError(f"unknown role {role!r}")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("group").get(pk=membership_id)
        old = membership.role
        if old == role or not Membership.objects.filter(pk=membership_id, role=old).update(role=role):
            return False
        audit_record(kind=AuditEvent.Kind.ROLE_CHANGED, user=membership.user, actor=by, ip=ip,
                     detail={"group_id": membership.group_id, "group": membership.group.name,
                             "from": old, "to": role})
    return True


def membership_record_change(*, membership: Membership, old_role: str | None, new_role: str | None,
                             by: User | None, ip: str | None = None) -> AuditEvent:
    """Audit a membership made (old_role None) or removed (new_role None) outside membership_set_role."""
    return audit_record(kind=AuditEvent.Kind.ROLE_CHANGED, user=membership.user, actor=by, ip=ip,
                        detail={"group_id": membership.group_id, "group": membership.group.name,
                                "from": old_role, "to": new_role})
