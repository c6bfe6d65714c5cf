"""Refresh instance prices, Spot price history and hardware facts from AWS.

    python manage.py refresh_prices [--region R ...] [--instance-type T ...] [--spot-days N]
                                    [--no-hardware] [--json]

Default regions: GCR_AWS_REGION plus every region the catalog already has a price in; default
instance types: every one in the catalog. Needs pricing:GetProducts,
ec2:DescribeSpotPriceHistory and ec2:DescribeInstanceTypes. Each region is written on its own:
exit 0 when every region was refreshed, 1 when AWS refused one (its reason on stderr; the
others are kept).
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from costs.prices import default_regions, prices_refresh


class Command(BaseCommand):
    help = "Refresh instance prices, Spot price history and hardware facts from AWS."

    def add_arguments(self, parser):
        parser.add_argument("--region", action="append", dest="regions", metavar="REGION",
                            help="AWS region, repeatable (default: GCR_AWS_REGION and the regions already priced)")
        parser.add_argument("--instance-type", action="append", dest="instance_types", metavar="TYPE",
                            help="instance type from the catalog, repeatable (default: all)")
        parser.add_argument("--spot-days", type=int, default=7, help="days of Spot price history (default 7; 0: none)")
        parser.add_argument("--no-hardware", action="store_true", help="leave the hardware facts as they are")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a summary")

    def handle(self, *args, **opts):
        try:
            report = prices_refresh(regions=opts["regions"] or default_regions(),
                                    instance_types=opts["instance_types"], spot_days=opts["spot_days"],
                                    hardware=not opts["no_hardware"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._summary(report)
        for region, reason in report["failed"].items():
            self.stderr.write(f"{region} failed: {reason}")
        if report["failed"]:
            sys.exit(1)

    def _summary(self, report):
        for region, counts in report["regions"].items():
            self.stdout.write(
                f"{region}: {counts['prices_updated']} prices updated, {counts['prices_unchanged']} unchanged, "
                f"{counts['spot_points_added']} Spot price points added, "
                f"{counts['hardware_updated']} instance types' hardware updated")
            if counts["not_offered"]:
                self.stdout.write(f"  not offered in {region}: {', '.join(counts['not_offered'])}")
