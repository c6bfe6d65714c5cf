"""Launch a benchmark campaign: every configuration of a campaign file on every instance type.

    python manage.py run_benchmark_campaign FILE [--user EMAIL] [--json]

The file format is in benchmarks/campaigns/README.md. Exit codes: 0 the campaign was created
and its runs submitted (a run a budget refused is listed, and stays a draft); 1 every run was
refused, so nothing runs; 2 the file is invalid or unreadable, with every problem listed, and
nothing was created. Follow the runs with `manage.py benchmark_report`.
"""

import json
import sys
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from costs.campaigns import CampaignInvalid, campaign_launch, campaign_report
from simulations import services
from simulations.backends.base import BackendTransientError
from simulations.commandline import DEFAULT_USER, command_owner, migrate_if_needed
from simulations.config import FieldError
from simulations.models import Simulation


class Command(BaseCommand):
    help = "Create and submit a benchmark campaign: configurations x instance types, one simulation each."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the campaign file (YAML)")
        parser.add_argument("--user", default=None, help=f"owner's email (default {DEFAULT_USER})")
        parser.add_argument("--json", action="store_true", help="print one JSON object at the end")

    def handle(self, *args, **opts):
        self.as_json = opts["json"]
        definition = self._load(opts["file"])
        migrate_if_needed(self._say)
        owner = command_owner(opts["user"])
        try:
            campaign = campaign_launch(definition=definition, actor=owner, source="cli")
        except CampaignInvalid as exc:
            self._print_problems(opts["file"], exc.problems)
            sys.exit(2)
        # Start the first segments now, whether or not a task cluster is there to do it.
        for sim_id in campaign.runs.filter(simulation__status=Simulation.Status.QUEUED).values_list(
                "simulation_id", flat=True):
            try:
                services.segment_submit_next(simulation_id=sim_id)
            except BackendTransientError as exc:
                self._say(f"{sim_id}: the backend did not take it yet ({exc}); the task queue retries it")
        rows = campaign_report(campaign=campaign)
        demo = any(row.demo for row in rows)
        submitted = [row for row in rows if row.status != Simulation.Status.DRAFT]
        if self.as_json:
            self.stdout.write(json.dumps({
                "campaign": campaign.name, "demo_model": demo, "runs_total": len(rows),
                "runs_submitted": len(submitted), "runs": [row.as_dict() for row in rows]}, indent=2))
        else:
            self._summary(campaign, rows, demo, len(submitted))
        if not submitted:
            sys.exit(1)

    def _load(self, path: str):
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            self._print_problems(path, [FieldError("", f"not valid YAML: {exc}")])
            sys.exit(2)

    def _print_problems(self, path, problems):
        if self.as_json:
            self.stdout.write(json.dumps({"valid": False, "problems": [
                {"field": p.field, "message": p.message} for p in problems]}, indent=2))
            return
        self.stderr.write(f"{path} has {len(problems)} problem(s); nothing was created:")
        for problem in problems:
            self.stderr.write(f"  {problem.field or '(file)'}: {problem.message}")

    def _summary(self, campaign, rows, demo, submitted):
        model = " with the demo model, not GEOS-Chem" if demo else ""
        self.stdout.write(f"campaign '{campaign.name}': {len(rows)} run(s){model}; {submitted} submitted")
        for row in rows:
            line = f"  {row.label} on {row.instance_type} ({row.architecture}): {row.status}  {row.simulation_id}"
            self.stdout.write(line + (f"  {row.note}" if row.note else ""))
        self.stdout.write(f"Follow it with: python manage.py benchmark_report '{campaign.name}'")

    def _say(self, text: str):
        # With --json, stdout carries only the final object.
        (self.stderr if self.as_json else self.stdout).write(text)
