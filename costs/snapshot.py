"""Load the shipped snapshot (costs/instances.py, costs/samples.py) into the catalog tables.

Called by the data migration with the historical models, so a fresh database has the catalog
and the published throughput figures; safe to run again. Hardware facts are updated from the
snapshot; a price already in the table is kept (refresh_prices may have replaced it with a
newer one), and a published figure is matched by its key.
"""

from datetime import date, datetime, timezone

from costs.instances import INSTANCE_TYPES, SNAPSHOT_DATE
from costs.samples import SAMPLES, ThroughputFigure


def published_key(figure: ThroughputFigure) -> str:
    return (f"{figure.model}/{figure.simulation}/{figure.resolution}/{figure.levels}L/"
            f"{figure.instance_type or 'unstated'}/{figure.cores}c/{figure.nodes}n")


def _measured_on(text: str) -> date:
    """"2024" or "2024-05" or "2024-05-01" as a date (the first day where only a year or month is known)."""
    parts = [int(p) for p in text.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


def load_snapshot(*, InstanceType, InstancePrice, ThroughputSample) -> dict[str, int]:
    retrieved = datetime.fromisoformat(SNAPSHOT_DATE).replace(tzinfo=timezone.utc)
    counts = {"instance_types": 0, "prices": 0, "samples": 0}
    for offer in INSTANCE_TYPES.values():
        row, _ = InstanceType.objects.update_or_create(name=offer.name, defaults=dict(
            family=offer.family, architecture=offer.architecture, cpu=offer.cpu, vcpus=offer.vcpus,
            physical_cores=offer.physical_cores, memory_gib=offer.memory_gib, network_gbps=offer.network_gbps,
            efa=offer.efa, typical_spot_discount=offer.typical_spot_discount, source=offer.source))
        counts["instance_types"] += 1
        for region, price in offer.on_demand_usd_per_hour.items():
            _, created = InstancePrice.objects.get_or_create(
                instance_type=row, region=region,
                defaults=dict(usd_per_hour=str(price), source=offer.source, retrieved_at=retrieved))
            counts["prices"] += created
    for figure in SAMPLES:
        _, created = ThroughputSample.objects.update_or_create(published_key=published_key(figure), defaults=dict(
            model=figure.model, simulation_type=figure.simulation, resolution=figure.resolution,
            levels=figure.levels, instance_type=figure.instance_type or "", cores=figure.cores, nodes=figure.nodes,
            days_per_day=figure.days_per_day, peak_memory_gib=figure.peak_memory_gib,
            advected_species=figure.advected_species, source=figure.source, confidence=figure.confidence,
            measured_on=_measured_on(figure.measured), notes=figure.notes))
        counts["samples"] += 1
    return counts
