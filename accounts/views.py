"""The profile page: the user's groups and API tokens; making a token (its key shown once) and revoking one."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.adapters import client_ip
from accounts.models import ApiToken, Membership


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “laptop scripts”.")


def _render_profile(request, *, form: TokenForm, new_key: str = "", status: int = 200):
    return render(request, "accounts/profile.html", {
        "memberships": Membership.objects.filter(user=request.user).select_related("group").order_by("group__name"),
        "tokens": ApiToken.objects.filter(user=request.user),
        "form": form,
        "new_key": new_key,
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
