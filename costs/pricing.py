"""The price paid for compute: on-demand list prices, and the Spot price in effect at a time.

`PriceBook` loads what a batch of jobs needs in three queries (instance types, on-demand prices,
Spot points in the window), so pricing N jobs costs the same queries as pricing one. Every price
says where it came from; a price that cannot be known is `None` with the reason, never a zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from costs.models import InstancePrice, InstanceType, SpotPrice

# Spot history only records changes: the point in effect at a time may be days old.
SPOT_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class Price:
    usd_per_hour: Decimal | None  # per node; None: unknown (source says why)
    source: str


class PriceBook:
    def __init__(self, instance_types: Iterable[str], *, region: str, start: datetime, end: datetime):
        names = {name for name in instance_types if name}
        self.region = region
        self.types = {t.name: t for t in InstanceType.objects.filter(name__in=names)}
        self.on_demand = {p.instance_type.name: p for p in InstancePrice.objects.filter(
            instance_type__name__in=names, region=region).select_related("instance_type")}
        self.spot: dict[str, list[tuple[datetime, str, Decimal]]] = {}
        points = (SpotPrice.objects.filter(instance_type__name__in=names, region=region,
                                           at__gte=start - SPOT_LOOKBACK, at__lte=end)
                  .values_list("instance_type__name", "at", "availability_zone", "usd_per_hour").order_by("at"))
        for name, at, zone, usd in points:
            self.spot.setdefault(name, []).append((at, zone, usd))

    def hourly(self, instance_type: str, capacity: str, at: datetime) -> Price:
        """The price per node-hour of `instance_type` on `capacity` for a job that started at `at`."""
        if not instance_type:
            return Price(None, "no instance type was recorded for this job, so it cannot be priced")
        if instance_type not in self.types:
            return Price(None, f"{instance_type} is not in the instance catalog, so it cannot be priced")
        listed = self.on_demand.get(instance_type)
        if listed is None:
            return Price(None, f"the catalog has no on-demand price for {instance_type} in {self.region}")
        list_source = (f"on-demand list price in {self.region} ({listed.source}, "
                       f"retrieved {listed.retrieved_at:%Y-%m-%d})")
        if capacity != "spot":
            return Price(listed.usd_per_hour, list_source)
        in_effect = self._spot_in_effect(instance_type, at)
        if in_effect:
            mean = sum(in_effect.values()) / len(in_effect)
            return Price(mean.quantize(Decimal("0.000001")),
                         f"Spot price history in {self.region}: the mean over {len(in_effect)} zone(s) of the "
                         f"prices in effect at {at:%Y-%m-%d %H:%M} UTC")
        discount = self.types[instance_type].typical_spot_discount
        if discount is None:
            return Price(listed.usd_per_hour, f"{instance_type} has no Spot capacity; {list_source}")
        price = (listed.usd_per_hour * (1 - Decimal(str(discount)))).quantize(Decimal("0.000001"))
        return Price(price, f"no Spot price history for {instance_type} in {self.region} at "
                            f"{at:%Y-%m-%d %H:%M} UTC: the {list_source} less the typical {discount:.0%} discount")

    def _spot_in_effect(self, instance_type: str, at: datetime) -> dict[str, Decimal]:
        """Per availability zone, the last point at or before `at` (or the first after, if none)."""
        latest: dict[str, Decimal] = {}
        later: dict[str, Decimal] = {}
        for when, zone, usd in self.spot.get(instance_type, []):
            if when <= at:
                latest[zone] = usd
            else:
                later.setdefault(zone, usd)
        return latest or later


def job_hours(started_at: datetime | None, stopped_at: datetime | None) -> float:
    """Hours between start and stop; a job that never started ran (and cost) nothing."""
    if started_at is None or stopped_at is None or stopped_at <= started_at:
        return 0.0
    return (stopped_at - started_at).total_seconds() / 3600
