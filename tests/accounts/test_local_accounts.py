"""Local accounts through django-allauth: sign up with email confirmation, password reset, sign out."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_signing_up_creates_the_user_and_sends_a_confirmation_email(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("account_signup"), {
        "email": "newcomer@example.org", "password1": "a-long-unusual-passphrase", "password2": "a-long-unusual-passphrase"})
    assert response.status_code == 302
    user = User.objects.get(email="newcomer@example.org")
    assert user.check_password("a-long-unusual-passphrase")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["newcomer@example.org"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    client.post(link.split("testserver", 1)[-1])
    assert user.emailaddress_set.get().verified


def test_a_password_reset_sends_a_link_that_sets_a_new_password(client, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.post(reverse("account_reset_password"), {"email": "alice@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[0].body).group(0)
    page = client.get(link.split("testserver", 1)[-1], follow=True)
    client.post(page.redirect_chain[-1][0] if page.redirect_chain else link,
                {"password1": "another-long-passphrase", "password2": "another-long-passphrase"})
    alice.refresh_from_db()
    assert alice.check_password("another-long-passphrase")


def test_signing_out_ends_the_session(client, alice):
    client.force_login(alice)
    client.post(reverse("account_logout"))
    assert client.get(reverse("simulations:list")).status_code == 302
