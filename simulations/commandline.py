"""What the commands that create runs share: a database ready on a fresh machine, and the owner."""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

DEFAULT_USER = "demo@example.org"


def migrate_if_needed(say: Callable[[str], None]) -> None:
    """Apply pending migrations, so the command works before `make setup` was ever run."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        say("preparing the database (migrate)")
        call_command("migrate", interactive=False, verbosity=0)


def command_owner(email: str | None):
    """The user named by --user, or the demo account (created without a password if missing)."""
    User = get_user_model()
    email = (email or DEFAULT_USER).lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        if email != DEFAULT_USER:
            raise CommandError(f"no user with the email {email}")
        user = User.objects.create_user(email=email, password=None)
    return user
