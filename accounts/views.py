"""The profile page: the user's groups, API tokens and notification preferences; making a token
(its key shown once) and revoking one; a group's notification settings (its admins and operators)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import notifications, services
from accounts.adapters import client_ip
from accounts.forms import GroupNotificationForm, NotificationPreferenceForm, choices_of
from accounts.models import ApiToken, Membership, Notification


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “laptop scripts”.")


RECENT = 10  # notifications listed on the profile and group pages


def _group_form(group, data=None) -> GroupNotificationForm:
    return GroupNotificationForm(data, instance=notifications.group_settings_for(group), prefix=f"group-{group.pk}")


def _render_profile(request, *, form: TokenForm, new_key: str = "", status: int = 200,
                    notification_form: NotificationPreferenceForm | None = None):
    user = request.user
    preference = notifications.preference_for(user)
    return render(request, "accounts/profile.html", {
        "memberships": Membership.objects.filter(user=user).select_related("group").order_by("group__name"),
        "tokens": ApiToken.objects.filter(user=user),
        "form": form,
        "new_key": new_key,
        "notification_form": notification_form or NotificationPreferenceForm(instance=preference),
        "saved_webhook_url": preference.webhook_url,
        "group_forms": [(group, _group_form(group)) for group in notifications.groups_managed_by(user).order_by("name")],
        "recent_notifications": Notification.objects.filter(recipient=user).select_related("simulation")[:RECENT],
    }, status=status)


@login_required
def profile(request):
    return _render_profile(request, form=TokenForm())


@never_cache  # the response carries the new key: no cache may keep it
@login_required
@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _render_profile(request, form=form, status=400)
    try:
        token, key = services.api_token_create(user=request.user, name=form.cleaned_data["name"],
                                               actor=request.user, ip=client_ip(request))
    except services.TokenRateLimited as exc:
        messages.error(request, str(exc))
        return _render_profile(request, form=form, status=429)
    messages.success(request, f"Token “{token.name}” created.")
    # Rendered, not redirected: the key lives only in this response and is never stored.
    return _render_profile(request, form=TokenForm(), new_key=key)


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if services.api_token_revoke(token_id=token.pk, by=request.user, ip=client_ip(request)):
        messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("accounts:profile")


# --- Notifications -------------------------------------------------------------------------------

NOTIFICATIONS_ANCHOR = "#notifications"


@login_required
@require_POST
def notifications_save(request):
    form = NotificationPreferenceForm(request.POST, instance=notifications.preference_for(request.user))
    if form.is_valid():
        try:
            notifications.preference_save(user=request.user, webhook_url=form.cleaned_data["webhook_url"],
                                          choices=choices_of(form))
        except notifications.WebhookUrlInvalid as exc:
            form.add_error("webhook_url", str(exc))
        else:
            messages.success(request, "Notification preferences saved.")
            return redirect(reverse("accounts:profile") + NOTIFICATIONS_ANCHOR)
    return _render_profile(request, form=TokenForm(), notification_form=form, status=400)


def _report_test(request, sent: Notification | None) -> None:
    if sent is None:
        messages.error(request, "There is no webhook URL saved to send a test message to.")
    elif sent.outcome == Notification.Outcome.DELIVERED:
        messages.success(request, f"Test message delivered to {sent.address} ({sent.detail}).")
    else:
        messages.error(request, f"Test message to {sent.address} failed: {sent.detail}")


@login_required
@require_POST
def notifications_test(request):
    _report_test(request, notifications.webhook_test(recipient=request.user))
    return redirect(reverse("accounts:profile") + NOTIFICATIONS_ANCHOR)


def _managed_group(request, slug: str):
    group = notifications.group_for_settings(user=request.user, slug=slug)
    if group is None:
        raise Http404("no such group")  # not 403: whether a group exists is not told
    return group


def _after_group_change(request, group):
    """Back to the profile for the group's admins (whose profile shows its form); operators,
    who may not be members, stay on the group's page."""
    if notifications.groups_managed_by(request.user).filter(pk=group.pk).exists():
        return redirect(reverse("accounts:profile") + NOTIFICATIONS_ANCHOR)
    return redirect("accounts:group_notifications", slug=group.slug)


@login_required
@require_http_methods(["GET", "POST"])
def group_notifications(request, slug: str):
    group = _managed_group(request, slug)
    form = _group_form(group, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                notifications.group_settings_save(group=group, actor=request.user,
                                                  webhook_url=form.cleaned_data["webhook_url"],
                                                  choices=choices_of(form))
            except notifications.WebhookUrlInvalid as exc:
                form.add_error("webhook_url", str(exc))
            else:
                messages.success(request, f"Notification settings of {group.name} saved.")
                return _after_group_change(request, group)
        status = 400
    return render(request, "accounts/group_notifications.html", {
        "group": group, "group_form": form,
        "recent_notifications": Notification.objects.filter(group=group).select_related("simulation")[:RECENT],
    }, status=status)


@login_required
@require_POST
def group_notifications_test(request, slug: str):
    group = _managed_group(request, slug)
    _report_test(request, notifications.webhook_test(group=group))
    return _after_group_change(request, group)
