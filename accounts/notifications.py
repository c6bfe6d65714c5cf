"""Notifications: who hears that a simulation succeeded, failed, waits for approval or was
cancelled, by email and by Slack-compatible webhook, each message once.

Who gets what (each by their own preferences, NotificationPreference; no row means all on):
- the owner, by email and on their own webhook (not for a cancel they made themselves);
- the simulation's group, on the group's webhook, for the kinds its settings name;
- for a run waiting for approval, every active operator (staff) by email, so someone approves.

Sent once: each message is claimed before it goes out, by writing its Notification row, unique
per (event, channel, recipient or group). A retried task or a second worker finds the row there
and sends nothing. Delivery is at most once: a failure is recorded with its reason, never
retried. Budget threshold emails stay in costs/budgets.py (BudgetAlert has its own once-only
claims) and ask `users_wanting_email` here who wants them.
"""

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import (RUN_EVENTS, GroupNotificationSettings, Membership, Notification,
                             NotificationPreference, ResearchGroup, User)
from costs import webhooks
from simulations.models import Simulation, SimulationEvent

log = logging.getLogger(__name__)
MAX_URL = 500
# The preference fields a user sets on the profile page, and a group's on its settings page.
PREFERENCE_FIELDS = ("email_succeeded", "email_failed", "email_awaiting_approval", "email_cancelled",
                     "email_budget_threshold", "webhook_succeeded", "webhook_failed", "webhook_awaiting_approval",
                     "webhook_cancelled")
GROUP_FIELDS = ("on_succeeded", "on_failed", "on_awaiting_approval", "on_cancelled")
TITLES = {"succeeded": "Run succeeded", "failed": "Run failed", "awaiting_approval": "Run needs approval",
          "cancelled": "Run cancelled"}


class WebhookUrlInvalid(ValueError):
    """A webhook URL that may not be saved; the message says why, in words for the form."""


# --- Reads ---------------------------------------------------------------------------------------

def preference_for(user: User) -> NotificationPreference:
    """The user's preferences: their row, or an unsaved one holding the defaults."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def users_wanting_email(users: Iterable[User], *, kind: str) -> list[User]:
    """Those of `users` (active, with an address) whose preferences want an email of `kind`: a
    RUN_EVENTS status or BUDGET_THRESHOLD. One query, whatever their number."""
    users = [u for u in users if u.is_active and u.email]
    saved = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=users)}
    return [u for u in users if saved.get(u.id, NotificationPreference(user=u)).emails(kind)]


def groups_managed_by(user: User) -> QuerySet:
    """The groups whose notification settings `user` may change: those they are an admin of."""
    return ResearchGroup.objects.filter(memberships__user=user, memberships__role=Membership.Role.ADMIN)


def group_for_settings(*, user: User, slug: str) -> ResearchGroup | None:
    """The group called `slug` if `user` may change its settings (its admin, or an operator);
    None otherwise, as for a group that does not exist, so other groups' names do not leak."""
    groups = ResearchGroup.objects.all() if user.is_staff else groups_managed_by(user)
    return groups.filter(slug=slug).first()


def group_settings_for(group: ResearchGroup) -> GroupNotificationSettings:
    return (GroupNotificationSettings.objects.filter(group=group).first()
            or GroupNotificationSettings(group=group))


# --- Saving preferences and settings ---------------------------------------------------------------

def _is_local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_internal_address(host: str) -> bool:
    """An IP literal that is not on the public internet (private, link-local such as the EC2
    metadata service, loopback...). Names are not resolved here."""
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def webhook_url_problem(url: str) -> str:
    """Why `url` may not be a webhook ("" when it may): an https:// URL of a public host. Plain
    http:// is allowed only to this machine (127.0.0.1, localhost) and only while GCR_HTTPS is
    off, for development and tests; in production (GCR_HTTPS on) this machine and private
    addresses are refused too, so a webhook cannot be aimed at the server's own network."""
    if len(url) > MAX_URL:
        return f"a webhook URL has at most {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "this is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "a webhook URL starts with https:// and names a host"
    local = _is_local_host(host)
    if settings.HTTPS:
        if parts.scheme != "https":
            return "a webhook URL must start with https://"
        if local or _is_internal_address(host):
            return "a webhook may not point at this server or a private network address"
    elif parts.scheme == "http" and not local:
        return "a webhook URL must start with https:// (plain http:// only to 127.0.0.1)"
    return ""


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    problem = webhook_url_problem(url) if url else ""
    if problem:
        raise WebhookUrlInvalid(problem)
    return url


def preference_save(*, user: User, webhook_url: str, choices: Mapping[str, bool]) -> NotificationPreference:
    """Save `user`'s preferences: `choices` maps PREFERENCE_FIELDS (any not named keep their
    value) to on or off. Raises WebhookUrlInvalid, saving nothing, for a URL that may not be used."""
    unknown = set(choices) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValueError(f"unknown preference(s): {', '.join(sorted(unknown))}")
    url = _clean_url(webhook_url)
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"webhook_url": url, **{name: bool(value) for name, value in choices.items()}})
    return preference


def group_settings_save(*, group: ResearchGroup, actor: User, webhook_url: str,
                        choices: Mapping[str, bool]) -> GroupNotificationSettings:
    """Save a group's webhook and which events go to it (`choices` maps GROUP_FIELDS to on or
    off). Whether `actor` may is the caller's rule (group_for_settings). Raises WebhookUrlInvalid."""
    unknown = set(choices) - set(GROUP_FIELDS)
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    url = _clean_url(webhook_url)
    row, _ = GroupNotificationSettings.objects.update_or_create(
        group=group, defaults={"webhook_url": url, "updated_by": actor,
                               **{name: bool(value) for name, value in choices.items()}})
    return row


# --- Telling people about a simulation --------------------------------------------------------------

@dataclass(frozen=True)
class _Target:
    channel: str
    address: str
    recipient: User | None = None
    group: ResearchGroup | None = None
    as_operator: bool = False  # the approval request an operator gets, with the admin's link


def _targets(sim: Simulation, event: SimulationEvent, kind: str) -> list[_Target]:
    targets = []
    owner = sim.owner
    # Who cancelled a run knows it: the owner hears of a rejection, a budget stop or an operator's cancel.
    if owner.is_active and not (kind == "cancelled" and event.actor_id == owner.id):
        preference = preference_for(owner)
        if preference.emails(kind) and owner.email:
            targets.append(_Target(Notification.Channel.EMAIL, owner.email, recipient=owner))
        if preference.posts(kind):
            targets.append(_Target(Notification.Channel.WEBHOOK, preference.webhook_url, recipient=owner))
    if sim.group_id:
        group_settings = GroupNotificationSettings.objects.filter(group_id=sim.group_id).first()
        if group_settings and group_settings.posts(kind):
            targets.append(_Target(Notification.Channel.WEBHOOK, group_settings.webhook_url, group=sim.group))
    if kind == "awaiting_approval":
        operators = User.objects.filter(is_staff=True, is_active=True).exclude(id=owner.id).order_by("email")
        targets += [_Target(Notification.Channel.EMAIL, operator.email, recipient=operator, as_operator=True)
                    for operator in users_wanting_email(operators, kind=kind)]
    return targets


def _reason(sim: Simulation, event: SimulationEvent) -> str:
    # The simulation's reason while it still has this status (the full text); else the event's line.
    if sim.status == event.to_status and sim.status_reason:
        return sim.status_reason
    return event.message


def _describe(sim: Simulation) -> str:
    if sim.is_demo:
        return f"{sim.simulation_type}, {sim.resolution}, on the demo model (not GEOS-Chem)"
    return f"{sim.get_model_display()} {sim.simulation_type}, {sim.resolution}"


def _webhook_text(sim: Simulation, event: SimulationEvent, kind: str) -> str:
    reason = (_reason(sim, event).splitlines() or [""])[0]
    group = f" in {sim.group.name}" if sim.group_id else ""
    return (f"GEOS-Chem Cloud Runner: {TITLES[kind].lower()}: “{sim.name}” ({sim.short_id}) of {sim.owner.email}"
            f"{group}, {_describe(sim)}." + (f" {reason}." if reason else "")
            + f" {settings.SITE_URL}{reverse('simulations:detail', args=[sim.id])}")


def _email_body(sim: Simulation, event: SimulationEvent, kind: str, *, as_operator: bool) -> str:
    page = f"{settings.SITE_URL}{reverse('simulations:detail', args=[sim.id])}"
    status = Simulation.Status(kind).label
    if as_operator:
        opening = (f"The simulation “{sim.name}” ({sim.short_id}) of {sim.owner.email} is waiting for an "
                   "operator's approval: a budget it spends from has too little left for its estimate.")
    else:
        opening = f"Your simulation “{sim.name}” ({sim.short_id}): {status}."
    lines = [opening, "", f"Status: {status}", f"Why: {_reason(sim, event) or '-'}", f"Run: {_describe(sim)}"]
    if sim.group_id:
        lines.append(f"Group: {sim.group.name}")
    lines.append(f"When: {event.created_at:%Y-%m-%d %H:%M} UTC")
    lines += ["", f"Its page: {page}"]
    if as_operator:
        lines.append("Approve or reject it in the admin: " + settings.SITE_URL
                     + reverse("admin:simulations_simulation_changelist") + "?activity=approval")
    lines += ["", "You get this email because of your notification preferences; change them on your profile: "
              + settings.SITE_URL + reverse("accounts:profile") + "#notifications"]
    return "\n".join(lines)


def _claim(*, sim: Simulation, event: SimulationEvent | None, kind: str, target: _Target,
           subject: str) -> Notification | None:
    """Write the message's row, or None when another call already did (it is theirs to send)."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                kind=kind, channel=target.channel, event=event, simulation=sim, recipient=target.recipient,
                group=target.group, address=target.address, subject=subject[:300])
    except IntegrityError:
        return None


def _finish(notification: Notification, *, ok: bool, detail: str) -> Notification:
    """Record how a claimed message went; only a pending row changes."""
    outcome = Notification.Outcome.DELIVERED if ok else Notification.Outcome.FAILED
    now = timezone.now()
    Notification.objects.filter(id=notification.id, outcome=Notification.Outcome.PENDING).update(
        outcome=outcome, detail=detail, sent_at=now)
    notification.outcome, notification.detail, notification.sent_at = outcome, detail, now
    return notification


def _post(notification: Notification, text: str) -> Notification:
    # Checked again at sending: a URL saved before GCR_HTTPS was switched on may no longer be allowed.
    problem = webhook_url_problem(notification.address)
    if problem:
        return _finish(notification, ok=False, detail=f"not sent: {problem}")
    result = webhooks.post_json(notification.address, {"text": text})
    return _finish(notification, ok=result.ok, detail=result.summary if result.ok else result.error)


def _email(notification: Notification, body: str) -> Notification:
    try:
        send_mail(notification.subject, body, settings.DEFAULT_FROM_EMAIL, [notification.address])
    except Exception as exc:  # noqa: BLE001 - recorded; the claim stays, so it is not sent twice
        log.warning("notification %s email failed: %s", notification.id, exc)
        return _finish(notification, ok=False, detail=f"{type(exc).__name__}: {exc}")
    return _finish(notification, ok=True, detail="")


def notify_simulation(*, simulation_id, kind: str) -> dict[str, int]:
    """Tell whoever wants to know that the simulation reached `kind` (one of RUN_EVENTS).

    The event told of is the simulation's latest change to that status. Every message is claimed
    before it is sent, so a second call for the same event sends nothing. Returns how many
    messages this call delivered and how many failed."""
    if kind not in RUN_EVENTS:
        raise ValueError(f"not a notified status: {kind!r}")
    nothing = {"delivered": 0, "failed": 0}
    sim = Simulation.objects.select_related("owner", "group").filter(id=simulation_id).first()
    if sim is None or (kind == "awaiting_approval" and sim.status != kind):
        return nothing  # gone, or approved or rejected already: no one need be asked any more
    event = sim.events.filter(to_status=kind).order_by("-created_at", "-id").first()
    if event is None:
        return nothing
    subject = f"{TITLES[kind]}: {sim.name}"
    text = _webhook_text(sim, event, kind)
    sent = []
    for target in _targets(sim, event, kind):
        notification = _claim(sim=sim, event=event, kind=kind, target=target, subject=subject)
        if notification is None:
            continue
        if target.channel == Notification.Channel.EMAIL:
            sent.append(_email(notification, _email_body(sim, event, kind, as_operator=target.as_operator)))
        else:
            sent.append(_post(notification, text))
    delivered = sum(n.outcome == Notification.Outcome.DELIVERED for n in sent)
    return {"delivered": delivered, "failed": len(sent) - delivered}


def webhook_test(*, recipient: User | None = None, group: ResearchGroup | None = None) -> Notification | None:
    """Post one test message, now, to the saved webhook of `recipient` or of `group`, and record
    it; None when none is saved. Not queued and not retried: the outcome is the answer."""
    if (recipient is None) == (group is None):
        raise ValueError("a test message is for a user's webhook or a group's, one of them")
    url = preference_for(recipient).webhook_url if recipient else group_settings_for(group).webhook_url
    if not url:
        return None
    whose = f"{recipient.email}'s" if recipient else f"{group.name}'s"
    subject = f"Test message for {whose} webhook"
    # A test is no event: each press is its own row, so the once-only constraints do not apply.
    notification = Notification.objects.create(
        kind=Notification.Kind.TEST, channel=Notification.Channel.WEBHOOK, recipient=recipient, group=group,
        address=url, subject=subject)
    text = (f"GEOS-Chem Cloud Runner: a test message for {whose} webhook. Run notifications will arrive "
            f"here. {settings.SITE_URL}{reverse('accounts:profile')}#notifications")
    return _post(notification, text)
