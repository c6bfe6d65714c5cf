"""Make an API token for a user and print its key, once: `manage.py create_api_token EMAIL [--name NAME]`."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Create an API token for the user with this email and print its key (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="command line", help="what the token is for (default: %(default)s)")

    def handle(self, *args, email, name, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"no user with the email {email!r}")
        if not user.is_active:
            raise CommandError(f"{user.email} is disabled; their tokens would not work")
        # An operator's command: not counted against the user's hourly allowance.
        token, key = services.api_token_create(user=user, name=name, actor=None, source="command",
                                               enforce_rate_limit=False)
        self.stderr.write(f"Token {token.name!r} for {user.email}. Keep the key safe: it will not be shown again.")
        self.stdout.write(key)
