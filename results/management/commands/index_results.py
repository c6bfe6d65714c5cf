"""(Re)index simulations' output files: what each holds, and the time-series summaries.

    python manage.py index_results [SIMULATION_ID ...]

With no id, every simulation that has finished jobs. Safe to run again: rows are replaced.
"""

from django.core.management.base import BaseCommand

from results import indexing
from simulations.models import Job


class Command(BaseCommand):
    help = "Index the output files of the given simulations (default: all with finished jobs)."

    def add_arguments(self, parser):
        parser.add_argument("simulations", nargs="*", help="simulation ids")

    def handle(self, *args, **opts):
        jobs = Job.objects.filter(state__in=Job.FINAL_STATES).exclude(metrics=None).order_by("simulation", "segment",
                                                                                            "attempt")
        if opts["simulations"]:
            jobs = jobs.filter(simulation_id__in=opts["simulations"])
        indexed = failed = 0
        for job_id in jobs.values_list("id", flat=True):
            for row in indexing.outputs_index(job_id=job_id):
                indexed += not row.error
                failed += bool(row.error)
                if row.error:
                    self.stderr.write(f"{row.simulation_id} {row.path}: {row.error}")
        self.stdout.write(f"indexed {indexed} file(s); {failed} could not be read")
