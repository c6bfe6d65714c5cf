import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from simulations.commandline import DEFAULT_USER as DEMO_EMAIL


class Command(BaseCommand):
    help = "Create the demo account once, printing its email and password (idempotent)."

    def handle(self, *args, **options):
        User = get_user_model()
        note = Path(settings.DATA_DIR) / "demo_account.txt"
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is not None and user.has_usable_password():
            self.stdout.write(f"The demo account {DEMO_EMAIL} exists; its password was printed when it was made "
                              f"(and kept in {note}). Reset it with: python manage.py changepassword {DEMO_EMAIL}")
            return
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_user(email=DEMO_EMAIL, password=password, full_name="Demo researcher")
        else:  # made by run_simulation without a password
            user.set_password(password)
            user.save(update_fields=["password"])
        fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"email: {DEMO_EMAIL}\npassword: {password}\n")
        self.stdout.write(self.style.SUCCESS(
            f"\n  Demo account created. Sign in at http://127.0.0.1:8000/ with\n"
            f"    email:    {DEMO_EMAIL}\n    password: {password}\n"
            f"  (shown once; also kept in {note})\n"))
