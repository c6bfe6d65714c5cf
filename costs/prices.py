"""The service that refreshes the instance catalog from AWS: on-demand prices, Spot price history
and hardware facts (costs/aws_pricing.py makes the calls).

Each region is fetched whole before anything is written, then written in its own transaction:
an AWS error in one region leaves that region as it was and keeps what the others got.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from costs import aws_pricing
from costs.models import InstancePrice, InstanceType, SpotPrice
from simulations.backends.base import BackendError

PRICE_SOURCE = "AWS Price List API"
# InstancePrice's precision: AWS's longer figures compare equal to what was stored from them.
MICRO_USD = Decimal("0.000001")
HARDWARE_FIELDS = ["vcpus", "physical_cores", "memory_gib", "network_gbps", "efa", "architecture"]


@dataclass(frozen=True)
class _Fetched:
    prices: dict[str, aws_pricing.OnDemandPrice]
    spot: list[aws_pricing.SpotPoint]
    hardware: dict[str, aws_pricing.Hardware]


def default_regions() -> list[str]:
    """settings.AWS_REGION, then every other region the catalog has a price in."""
    known = InstancePrice.objects.order_by("region").values_list("region", flat=True).distinct()
    return list(dict.fromkeys([settings.AWS_REGION, *known]))


def prices_refresh(*, regions: list[str], instance_types: list[str] | None = None, spot_days: int = 7,
                   hardware: bool = True) -> dict:
    """Refresh the catalog's prices in `regions` from AWS, region by region.

    instance_types: names from the InstanceType table (default: all of them); a name not in it
    raises ValueError before AWS is asked anything. Per region: upserts the on-demand price of
    each type AWS sells there (retrieved_at now), adds the Spot price points of the last
    `spot_days` days not stored yet (0: no Spot history), and, when `hardware`, updates the
    hardware facts of types not yet described by an earlier region of this call.

    Returns {"regions": {region: {"prices_updated", "prices_unchanged", "not_offered" (names),
    "spot_points_added", "hardware_updated"}}, "failed": {region: AWS's message}}; a failed
    region wrote nothing.
    """
    if spot_days < 0:
        raise ValueError("spot_days cannot be negative")
    catalog = _catalog(instance_types)
    report: dict = {"regions": {}, "failed": {}}
    described: set[str] = set() if hardware else set(catalog)
    for region in regions:
        try:
            fetched = _fetch(region, sorted(catalog), spot_days, sorted(set(catalog) - described))
        except BackendError as exc:
            report["failed"][region] = str(exc)
            continue
        with transaction.atomic():
            report["regions"][region] = _store(region, catalog, fetched)
        described |= set(fetched.hardware)
    return report


def _catalog(names: list[str] | None) -> dict[str, InstanceType]:
    rows = InstanceType.objects.all() if names is None else InstanceType.objects.filter(name__in=names)
    catalog = {row.name: row for row in rows}
    unknown = sorted(set(names or []) - set(catalog))
    if unknown:
        raise ValueError(f"not in the instance catalog: {', '.join(unknown)}")
    return catalog


def _fetch(region: str, names: list[str], spot_days: int, undescribed: list[str]) -> _Fetched:
    """Everything AWS says about `region`, before any of it is written."""
    if not names:
        return _Fetched(prices={}, spot=[], hardware={})
    since = timezone.now() - timedelta(days=spot_days)
    return _Fetched(
        prices=aws_pricing.on_demand_prices(region=region, instance_types=names),
        spot=aws_pricing.spot_price_history(region=region, instance_types=names, since=since) if spot_days else [],
        hardware=aws_pricing.hardware(region=region, instance_types=undescribed) if undescribed else {})


def _store(region: str, catalog: dict[str, InstanceType], fetched: _Fetched) -> dict:
    now = timezone.now()
    counts = _store_prices(region, catalog, fetched.prices, now)
    counts["spot_points_added"] = _store_spot(region, catalog, fetched.spot)
    counts["hardware_updated"] = _store_hardware(region, catalog, fetched.hardware, now)
    return counts


def _store_prices(region: str, catalog: dict[str, InstanceType], prices: dict, now: datetime) -> dict:
    """Upserts in two bulk queries; every price AWS confirmed gets the new retrieval time."""
    stored = {p.instance_type_id: p for p in InstancePrice.objects.filter(region=region,
                                                                           instance_type__in=catalog.values())}
    source = f"{PRICE_SOURCE}, {region}, retrieved {now:%Y-%m-%d %H:%M} UTC"
    new, seen, unchanged = [], [], 0
    for name, price in prices.items():
        usd = price.usd_per_hour.quantize(MICRO_USD)
        row = stored.get(catalog[name].pk)
        if row is None:
            row = InstancePrice(instance_type=catalog[name], region=region, usd_per_hour=usd)
            new.append(row)
        else:
            unchanged += row.usd_per_hour == usd
            seen.append(row)
        row.usd_per_hour, row.source, row.retrieved_at = usd, source, now
    InstancePrice.objects.bulk_create(new)
    InstancePrice.objects.bulk_update(seen, ["usd_per_hour", "source", "retrieved_at"])
    return {"prices_updated": len(new) + len(seen) - unchanged, "prices_unchanged": unchanged,
            "not_offered": sorted(set(catalog) - set(prices))}


def _store_spot(region: str, catalog: dict[str, InstanceType], points: list) -> int:
    """Adds the points not stored yet: one query for what is stored, one bulk insert."""
    if not points:
        return 0
    stored = set(SpotPrice.objects.filter(region=region, instance_type__in=catalog.values(),
                                          at__gte=min(p.at for p in points))
                 .values_list("instance_type_id", "availability_zone", "at"))
    new = {}
    for p in points:
        key = (catalog[p.instance_type].pk, p.availability_zone, p.at)
        if key not in stored:
            new[key] = SpotPrice(instance_type=catalog[p.instance_type], region=region,
                                 availability_zone=p.availability_zone, usd_per_hour=p.usd_per_hour, at=p.at)
    # A refresh running at the same time may have stored some since: the constraint drops them.
    SpotPrice.objects.bulk_create(new.values(), ignore_conflicts=True)
    return len(new)


def _store_hardware(region: str, catalog: dict[str, InstanceType], described: dict, now: datetime) -> int:
    """Updates the types whose facts differ; cpu, family and the typical Spot discount stay."""
    changed = [catalog[name] for name, facts in described.items() if _apply_hardware(catalog[name], facts)]
    for row in changed:
        row.source = f"EC2 DescribeInstanceTypes in {region}, retrieved {now:%Y-%m-%d}"
        row.updated_at = now  # bulk_update does not touch auto_now fields
    InstanceType.objects.bulk_update(changed, [*HARDWARE_FIELDS, "source", "updated_at"])
    return len(changed)


def _apply_hardware(row: InstanceType, facts: aws_pricing.Hardware) -> bool:
    """Sets `row`'s hardware from `facts`; True if anything changed. A network speed AWS gives in
    words only, or an architecture that is neither arm64 nor x86_64, keeps the stored value."""
    values = {"vcpus": facts.vcpus, "physical_cores": facts.physical_cores, "memory_gib": facts.memory_gib,
              "network_gbps": facts.network_gbps, "efa": facts.efa, "architecture": facts.architecture}
    values = {field: value for field, value in values.items() if value is not None}
    changed = any(getattr(row, field) != value for field, value in values.items())
    for field, value in values.items():
        setattr(row, field, value)
    return changed
