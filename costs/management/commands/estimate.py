"""Estimate a configuration's wall time and cost on every instance type that can run it.

    python manage.py estimate --config FILE [--region us-east-1] [--json]

Takes the same YAML or JSON configuration files as run_simulation. Prices and throughput come
from the shipped snapshot (costs/instances.py, costs/samples.py) until the catalog is in the
database. Exit 0 with estimates, 1 when no instance type can run it, 2 for an invalid file.
"""

import dataclasses
import json
import sys
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from costs.estimator import estimate, recommend, unrunnable
from costs.instances import INSTANCE_TYPES, SNAPSHOT_DATE
from costs.samples import SAMPLES
from simulations.config import ConfigInvalid, parse_config


def _range(r):
    return None if r is None else {"low": round(r.low, 4), "expected": round(r.expected, 4), "high": round(r.high, 4)}


class Command(BaseCommand):
    help = "Estimate wall time and cost of a configuration on every instance type that can run it."

    def add_arguments(self, parser):
        parser.add_argument("--config", required=True, help="YAML or JSON configuration file")
        parser.add_argument("--region", default="us-east-1")
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
        region = opts["region"]
        estimates = sorted(estimate(cfg, INSTANCE_TYPES.values(), SAMPLES, region=region),
                           key=lambda e: e.cheapest_cost()[1].expected)
        refused = unrunnable(cfg, INSTANCE_TYPES.values(), region=region)
        recommendations = recommend(estimates) if estimates else []
        if opts["json"]:
            self.stdout.write(json.dumps({
                "prices_snapshot": SNAPSHOT_DATE,
                "estimates": [{
                    "instance_type": e.instance_type, "architecture": e.architecture, "cores": e.cores,
                    "nodes": e.nodes, "hours": _range(e.hours),
                    "cost_usd": {"on_demand": _range(e.cost_usd["on_demand"]), "spot": _range(e.cost_usd.get("spot"))},
                    "input_gb": round(e.input_gb, 2), "staging_hours": round(e.staging_hours, 3),
                    "output_gb": round(e.output_gb, 3),
                    "output_storage_usd_per_month": round(e.output_storage_usd_per_month, 4),
                    "basis": e.basis, "warnings": e.warnings,
                } for e in estimates],
                "unrunnable": [{"instance_type": name, "reason": reason} for name, reason in refused],
                "recommendations": [dataclasses.asdict(r) for r in recommendations],
            }, indent=2))
        else:
            self._table(estimates, refused, recommendations)
        if not estimates:
            sys.exit(1)

    def _table(self, estimates, refused, recommendations):
        self.stdout.write(f"{'instance':<16} {'arch':<7} {'cores':>5} {'nodes':>5} {'hours (low-expected-high)':>28} "
                          f"{'on-demand $':>22} {'spot $':>22}")
        for e in estimates:
            od, spot = e.cost_usd["on_demand"], e.cost_usd.get("spot")
            spot_text = f"{spot.low:.2f}-{spot.expected:.2f}-{spot.high:.2f}" if spot else "n/a"
            self.stdout.write(
                f"{e.instance_type:<16} {e.architecture:<7} {e.cores:>5} {e.nodes:>5} "
                f"{f'{e.hours.low:.2f}-{e.hours.expected:.2f}-{e.hours.high:.2f}':>28}  "
                f"{f'{od.low:.2f}-{od.expected:.2f}-{od.high:.2f}':>22} {spot_text:>22}")
        for name, reason in refused:
            self.stdout.write(f"{name:<16} cannot run it: {reason}")
        if recommendations:
            self.stdout.write("\nRecommendations:")
            for r in recommendations:
                self.stdout.write(f"  {r.kind}: {r.instance_type} ({r.capacity}). {r.reason}")
        self.stdout.write(f"\nPrices: snapshot of {SNAPSHOT_DATE}; throughput from published figures (costs/samples.py).")
