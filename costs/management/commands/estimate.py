"""Estimate a configuration's wall time and cost on every instance type that can run it.

    python manage.py estimate --config FILE [--region REGION] [--json]

Takes the same YAML or JSON configuration files as run_simulation. Prices and throughput
samples come from the catalog tables (the shipped snapshot, refreshed by refresh_prices, plus
the platform's own measured runs). --json prints a list of objects, one per option that can run
it, cheapest first: instance_type, architecture, cores, nodes, hours {low, expected, high},
cost_usd {on_demand, spot: {low, expected, high} or null}, volumes, basis, warnings and the
recommendations naming it; the instance types that cannot run it, with the reason, go to standard
error. Exit 0 with estimates, 1 when no instance type can run it, 2 for an invalid file.
"""

import json
import sys
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from costs.selectors import estimate_configuration
from simulations.config import ConfigInvalid, parse_config
from simulations.services import executable_for


def _json_list(report) -> list[dict]:
    """One object per option that can run the configuration (cheapest first), each with the
    recommendations that name it; what cannot run it goes to standard error."""
    items = report.as_dict()
    for item in items["estimates"]:
        item["recommendations"] = [r for r in items["recommendations"] if r["instance_type"] == item["instance_type"]]
        item["region"], item["prices_as_of"] = report.region, report.prices_as_of
    return items["estimates"]


class Command(BaseCommand):
    help = "Estimate wall time and cost of a configuration on every instance type that can run it."

    def add_arguments(self, parser):
        parser.add_argument("--config", required=True, help="YAML or JSON configuration file")
        parser.add_argument("--region", default=None, help="AWS region (default: GCR_AWS_REGION)")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **opts):
        try:
            raw = yaml.safe_load(Path(opts["config"]).read_text())
        except OSError as exc:
            raise CommandError(f"cannot read {opts['config']}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise CommandError(f"{opts['config']} is not valid YAML or JSON: {exc}") from exc
        try:
            cfg = parse_config(raw if isinstance(raw, dict) else {})
        except ConfigInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error.field or '(file)'}: {error.message}")
            sys.exit(2)
        region = opts["region"] or settings.AWS_REGION
        report = estimate_configuration(cfg, region=region, demo=executable_for(cfg.model) == "demo")
        if opts["json"]:
            self.stdout.write(json.dumps(_json_list(report), indent=2))
            for name, reason in report.unrunnable:
                self.stderr.write(f"{name} cannot run it: {reason}")
        else:
            self._table(report)
        if not report.estimates:
            sys.exit(1)

    def _table(self, report):
        self.stdout.write(f"{'instance':<16} {'arch':<7} {'cores':>5} {'nodes':>5} {'hours (low-expected-high)':>28} "
                          f"{'on-demand $':>22} {'spot $':>22}")
        for e in report.estimates:
            od, spot = e.cost_usd["on_demand"], e.cost_usd.get("spot")
            spot_text = f"{spot.low:.2f}-{spot.expected:.2f}-{spot.high:.2f}" if spot else "n/a"
            self.stdout.write(
                f"{e.instance_type:<16} {e.architecture:<7} {e.cores:>5} {e.nodes:>5} "
                f"{f'{e.hours.low:.2f}-{e.hours.expected:.2f}-{e.hours.high:.2f}':>28}  "
                f"{f'{od.low:.2f}-{od.expected:.2f}-{od.high:.2f}':>22} {spot_text:>22}")
        for name, reason in report.unrunnable:
            self.stdout.write(f"{name:<16} cannot run it: {reason}")
        if report.recommendations:
            self.stdout.write("\nRecommendations:")
            for r in report.recommendations:
                self.stdout.write(f"  {r.kind}: {r.instance_type} ({r.capacity}). {r.reason}")
        self.stdout.write(f"\nRegion {report.region}; prices as of {report.prices_as_of or 'unknown'}.")
        for note in report.notes:
            self.stdout.write(note)
