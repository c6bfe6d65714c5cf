from django.core.management.base import BaseCommand
from django_q.models import Schedule

# name -> (function, minutes between runs). Names are the keys: running the command again
# updates these rows instead of adding more.
SCHEDULES = {
    "sync active jobs": ("simulations.tasks.sync_active_jobs", 1),
    "mark stuck jobs": ("simulations.tasks.mark_stuck_jobs", 5),
    # Does nothing on the local backend; on Batch it applies the queued state-change events.
    "drain batch events": ("simulations.tasks.drain_batch_events", 1),
    # Thresholds and limits, counting what running jobs have cost so far.
    "check budgets": ("costs.tasks.check_budgets", 10),
    # Each month kept on storage is paid: carry last month's storage charges into this one.
    "accrue storage": ("costs.tasks.accrue_storage", 24 * 60),
    # Batch backend only (the others say so and do nothing): AWS's bill beside the platform's
    # figures, and prices and Spot history from AWS.
    "reconcile costs with AWS": ("costs.tasks.reconcile_costs", 24 * 60),
    "refresh prices from AWS": ("costs.tasks.refresh_prices", 24 * 60),
}


class Command(BaseCommand):
    help = "Create or update the periodic task schedules (idempotent)."

    def handle(self, *args, **options):
        for name, (func, minutes) in SCHEDULES.items():
            _, created = Schedule.objects.update_or_create(
                name=name,
                defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
            )
            self.stdout.write(f"{'created' if created else 'updated'} schedule '{name}': {func} every {minutes} min")
