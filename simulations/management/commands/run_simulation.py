"""Create and run a simulation from a YAML or JSON configuration file.

Exit codes: 0 succeeded (or, without --wait, submitted; with --check, valid); 1 the run failed or
was cancelled (with --check: the configuration is invalid); 2 the configuration is invalid or
unreadable (nothing created); 3 a budget refused the run (it is kept as a draft); 130 interrupted
while waiting (the run goes on).
"""

import json
import sys
import time
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from simulations import services, tracking, spec as runspec
from simulations.backends import get_backend
from simulations.commandline import DEFAULT_USER, command_owner, migrate_if_needed
from simulations.config import ConfigInvalid, FieldError
from simulations.models import Simulation
from simulations.outputs import output_locations

POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = "Validate a configuration, create and submit the simulation, and optionally wait for it."

    def add_arguments(self, parser):
        parser.add_argument("--config", required=True, help="YAML or JSON configuration file")
        parser.add_argument("--user", default=None, help=f"owner's email (default {DEFAULT_USER})")
        parser.add_argument("--group", default=None,
                            help="research group (slug) the simulation belongs to; default: your only group")
        parser.add_argument("--check", action="store_true", help="only validate and print the run spec")
        parser.add_argument("--wait", action="store_true", help="follow the run to a final state")
        parser.add_argument("--json", action="store_true", help="print one JSON object at the end")

    def handle(self, *args, **opts):
        self.as_json = opts["json"]
        raw = self._load(opts["config"])
        cfg, errors = services.config_check(raw)
        if opts["check"]:
            return self._check(cfg, errors)
        if errors:
            self._print_errors(errors)
            sys.exit(2)
        migrate_if_needed(self._say)
        owner = command_owner(opts["user"])
        try:
            sim = services.simulation_create(owner=owner, raw_config=raw, group=opts["group"], source="cli")
        except ConfigInvalid as exc:
            self._print_errors(exc.errors)
            sys.exit(2)
        try:
            outcome = services.simulation_submit(simulation_id=sim.id, actor=owner, source="cli")
        except services.SubmitRefused as exc:
            self._say(f"created {sim.id} ({sim.name}) as a draft, not submitted: {exc.message}")
            if self.as_json:
                self.stdout.write(json.dumps({"id": str(sim.id), "status": "draft", "refused": exc.message}))
            sys.exit(3)
        if outcome == Simulation.Status.AWAITING_APPROVAL:
            self._say("over budget: the run waits for an operator's approval")
        # Start the first segment now, whether or not a task cluster is there to do it.
        services.segment_submit_next(simulation_id=sim.id)
        self._say(f"created {sim.id} ({sim.name}){' with the demo model' if sim.is_demo else ''}: "
                  f"{sim.segments_total} segment(s)")
        if opts["wait"]:
            try:
                sim = self._follow(sim.id)
            except KeyboardInterrupt:
                self._say(f"stopped waiting; the run goes on. Follow it with the web page or the admin ({sim.id}).")
                sys.exit(130)
        sim.refresh_from_db()
        self._finish(sim)
        if opts["wait"] and sim.status != Simulation.Status.SUCCEEDED:
            sys.exit(1)

    # --- steps ---------------------------------------------------------------------------------
    def _load(self, path: str):
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            return yaml.safe_load(text)  # JSON is YAML too
        except yaml.YAMLError as exc:
            self._print_errors([FieldError("", f"{path} is not valid YAML or JSON: {exc}")])
            sys.exit(2)

    def _check(self, cfg, errors):
        if errors:
            self._print_errors(errors)
            sys.exit(1)
        spec = runspec.render_spec(
            cfg, simulation_id="00000000-0000-0000-0000-000000000000", segment_index=1, attempt=1,
            executable=services.executable_for(cfg.model), backend=settings.COMPUTE_BACKEND,
            input_root=settings.INPUT_ROOT, output_uri=f"{settings.OUTPUT_ROOT_URI}<simulation id>/",
            restart_uri=None,
        )
        segments = [[start.isoformat(), end.isoformat()] for start, end in runspec.segment_periods(cfg)]
        if self.as_json:
            self.stdout.write(json.dumps({"valid": True, "spec": spec, "segments": segments}, indent=2))
        else:
            self.stdout.write(f"valid: {len(segments)} segment(s); the first segment's run spec:")
            self.stdout.write(json.dumps(spec, indent=2))

    def _print_errors(self, errors):
        if self.as_json:
            self.stdout.write(json.dumps({"valid": False, "errors": [
                {"field": e.field, "message": e.message} for e in errors]}, indent=2))
        else:
            self.stderr.write(f"The configuration has {len(errors)} problem(s):")
            for e in errors:
                self.stderr.write(f"  {e.field or '(file)'}: {e.message}")

    def _follow(self, sim_id) -> Simulation:
        last_line = None
        while True:
            services.segment_submit_next(simulation_id=sim_id)
            tracking.jobs_sync()
            sim = Simulation.objects.get(id=sim_id)
            line = self._progress_line(sim)
            if line != last_line:
                self._say(line)
                last_line = line
            if sim.is_final:
                return sim
            time.sleep(POLL_SECONDS)

    def _progress_line(self, sim: Simulation) -> str:
        percent = sim.progress_percent
        job = sim.jobs.order_by("-segment", "-attempt").first()
        live = None
        if job and job.backend_id and not job.is_final:
            live = get_backend(job.backend).read_progress(job.backend_id)
        simulated = sim.simulated_until.strftime("%Y-%m-%d %H:%M") if sim.simulated_until else "-"
        if live and isinstance(live.get("percent"), (int, float)):
            percent = max(percent, 100 * (sim.segments_done + live["percent"] / 100) / sim.segments_total)
            simulated = (live.get("simulated_time") or simulated).replace("T", " ")[:16]
        return (f"[{percent:5.1f}%] {sim.status:<10} segment {min(sim.segments_done + 1, sim.segments_total)}"
                f"/{sim.segments_total}  simulated to {simulated}")

    def _finish(self, sim: Simulation):
        outputs = output_locations(sim)
        summary = {
            "id": str(sim.id),
            "name": sim.name,
            "status": sim.status,
            "model": sim.model,
            "demo_model": sim.is_demo,
            "status_reason": sim.status_reason,
            "segments_done": sim.segments_done,
            "segments_total": sim.segments_total,
            "output_uri": sim.output_uri,
            "outputs": outputs,
        }
        if self.as_json:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(f"{sim.id}: {sim.status}")
        if sim.status_reason:
            self.stdout.write(sim.status_reason)
        for path in outputs:
            self.stdout.write(f"  {path}")

    def _say(self, text: str):
        # With --json, stdout carries only the final object; progress goes to stderr.
        (self.stderr if self.as_json else self.stdout).write(text)
