"""What a benchmark campaign measured, per run and per architecture.

    python manage.py benchmark_report [CAMPAIGN_NAME] [--plot FILE.html] [--json]

Default: the newest campaign. Per run: status, simulated days, days/day (simulated days per
model wall-clock day, from the succeeded jobs), wall hours and cost of every attempt, $ per
simulated day, and whether it ran the demo model or GEOS-Chem; then the median days/day and
$ per simulated day per architecture. --plot writes a standalone HTML file (no CDN) with both
figures as bar charts. Exit 0; an unknown campaign is an error.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from costs.campaigns import DEMO_LABEL, architecture_summary, campaign_report, report_plot_html
from costs.models import BenchmarkCampaign


def _number(value, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


class Command(BaseCommand):
    help = "Print a benchmark campaign's figures per run and per architecture; optionally plot them."

    def add_arguments(self, parser):
        parser.add_argument("campaign", nargs="?", default=None, help="campaign name (default: the newest)")
        parser.add_argument("--plot", metavar="FILE.html", default=None, help="also write bar charts to this file")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **opts):
        campaign = self._campaign(opts["campaign"])
        rows = campaign_report(campaign=campaign)
        summary = architecture_summary(rows)
        demo = any(row.demo for row in rows)
        if opts["plot"]:
            title = f"Benchmark campaign '{campaign.name}'" + (f" ({DEMO_LABEL})" if demo else "")
            path = Path(opts["plot"])
            try:
                path.write_text(report_plot_html(rows, title=title))
            except OSError as exc:
                raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
        if opts["json"]:
            self.stdout.write(json.dumps({
                "campaign": campaign.name, "description": campaign.description,
                "created_at": campaign.created_at.isoformat(), "demo_model": demo,
                "runs": [row.as_dict() for row in rows], "architectures": [s.as_dict() for s in summary],
                "plot": opts["plot"]}, indent=2))
            return
        self._table(campaign, rows, summary, demo)
        if opts["plot"]:
            self.stdout.write(f"\nCharts written to {opts['plot']}")

    def _campaign(self, name: str | None) -> BenchmarkCampaign:
        if name is None:
            campaign = BenchmarkCampaign.objects.order_by("-created_at", "-id").first()
            if campaign is None:
                raise CommandError("no benchmark campaign yet; launch one with run_benchmark_campaign FILE")
            return campaign
        campaign = BenchmarkCampaign.objects.filter(name=name).first()
        if campaign is None:
            known = ", ".join(BenchmarkCampaign.objects.values_list("name", flat=True)[:10]) or "none yet"
            raise CommandError(f"no benchmark campaign called '{name}' (campaigns: {known})")
        return campaign

    def _table(self, campaign, rows, summary, demo):
        self.stdout.write(f"Benchmark campaign '{campaign.name}', created {campaign.created_at:%Y-%m-%d %H:%M} UTC")
        if demo:
            self.stdout.write(f"Runs marked '{DEMO_LABEL}' measure the platform with the demo model: "
                              "their figures say nothing about GEOS-Chem's speed.")
        width = max([len("configuration")] + [len(row.label) for row in rows])
        self.stdout.write(f"{'configuration':<{width}} {'instance':<15} {'arch':<7} {'status':<17} {'sim days':>8} "
                          f"{'days/day':>9} {'wall h':>8} {'cost $':>10} {'$/sim day':>10}  model")
        for row in rows:
            cost = f"{row.cost_usd:.4f}" + ("*" if row.notional else "")
            self.stdout.write(
                f"{row.label:<{width}} {row.instance_type:<15} {row.architecture:<7} {row.status:<17} "
                f"{row.simulated_days:>8.2f} {_number(row.days_per_day, '.1f'):>9} {row.wall_hours:>8.3f} "
                f"{cost:>10} {_number(row.usd_per_simulated_day, '.4f'):>10}  {row.model_label}")
            if row.note:
                self.stdout.write(f"{'':<{width}} {row.note.splitlines()[0]}")
        if any(row.notional for row in rows):
            self.stdout.write("* notional: run on the local backend and priced as if on AWS; nothing was billed.")
        self.stdout.write("\nPer architecture (medians over the runs that measured them):")
        for s in summary:
            self.stdout.write(f"  {s.architecture:<8} {s.runs} run(s)  days/day {_number(s.median_days_per_day, '.1f')}"
                              f"  $ per simulated day {_number(s.median_usd_per_simulated_day, '.4f')}")
