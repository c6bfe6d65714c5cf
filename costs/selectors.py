"""Reads for costs: the catalog as the estimator's plain data, and estimates for a configuration.

`estimate_configuration` runs a constant number of queries whatever the number of instance
types and samples (tests/costs/test_selectors.py asserts it): the instance types, their prices,
one aggregate of recent Spot history and the samples.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Avg, Max
from django.utils import timezone

from costs import estimator
from costs.estimator import Estimate, Recommendation
from costs.instances import InstanceOffer
from costs.models import InstancePrice, InstanceType, SpotPrice, ThroughputSample
from costs.samples import ThroughputFigure
from simulations.config import ConfigInvalid, FieldError, RunConfig, parse_config
from simulations.services import executable_for

# The estimator's Spot price: the mean of the Spot price history points of the last week.
SPOT_WINDOW = timedelta(days=7)


def instance_offers() -> list[InstanceOffer]:
    """Every instance type with its on-demand prices and recent mean Spot price per region."""
    since = timezone.now() - SPOT_WINDOW
    spot: dict[str, dict[str, float]] = {}
    for row in (SpotPrice.objects.filter(at__gte=since).values("instance_type_id", "region")
                .annotate(mean=Avg("usd_per_hour"))):
        spot.setdefault(row["instance_type_id"], {})[row["region"]] = float(row["mean"])
    offers = []
    for row in InstanceType.objects.prefetch_related("prices"):
        offers.append(InstanceOffer(
            name=row.name, family=row.family, architecture=row.architecture, cpu=row.cpu, vcpus=row.vcpus,
            physical_cores=row.physical_cores, memory_gib=row.memory_gib, network_gbps=row.network_gbps,
            efa=row.efa, on_demand_usd_per_hour={p.region: float(p.usd_per_hour) for p in row.prices.all()},
            typical_spot_discount=row.typical_spot_discount, source=row.source,
            spot_history_usd_per_hour=spot.get(row.pk, {})))
    return offers


def throughput_figures() -> list[ThroughputFigure]:
    """The samples that calibrate GEOS-Chem estimates (never the demo model's)."""
    return [ThroughputFigure(
        model=s.model, simulation=s.simulation_type, resolution=s.resolution, levels=s.levels,
        instance_type=s.instance_type or None, cores=s.cores, nodes=s.nodes, days_per_day=s.days_per_day,
        peak_memory_gib=s.peak_memory_gib, source=s.source, confidence=s.confidence,
        measured=s.measured_on.isoformat(), advected_species=s.advected_species, notes=s.notes,
    ) for s in ThroughputSample.objects.for_geoschem().order_by("id")]


@dataclass
class EstimateReport:
    """Everything a page, the API or the command shows for one configuration in one region."""

    region: str
    estimates: list[Estimate]
    unrunnable: list[tuple[str, str]]
    recommendations: list[Recommendation]
    notes: list[str] = field(default_factory=list)
    prices_as_of: str | None = None

    def for_choice(self, instance_type: str | None, nodes: int = 1) -> Estimate | None:
        for e in self.estimates:
            if e.instance_type == instance_type and e.nodes == nodes:
                return e
        return None

    def as_dict(self) -> dict:
        return {
            "region": self.region,
            "prices_as_of": self.prices_as_of,
            "estimates": [estimate_as_dict(e) for e in self.estimates],
            "unrunnable": [{"instance_type": name, "reason": reason} for name, reason in self.unrunnable],
            "recommendations": [dataclasses.asdict(r) for r in self.recommendations],
            "notes": list(self.notes),
        }


def _range(r) -> dict | None:
    return None if r is None else {"low": round(r.low, 4), "expected": round(r.expected, 4), "high": round(r.high, 4)}


def estimate_as_dict(e: Estimate) -> dict:
    return {
        "instance_type": e.instance_type, "architecture": e.architecture, "cores": e.cores, "nodes": e.nodes,
        "hours": _range(e.hours), "days_per_day": round(e.days_per_day, 2),
        "cost_usd": {"on_demand": _range(e.cost_usd["on_demand"]), "spot": _range(e.cost_usd.get("spot"))},
        "input_gb": round(e.input_gb, 2), "staging_hours": round(e.staging_hours, 3),
        "output_gb": round(e.output_gb, 3),
        "output_breakdown_gb": {k: round(v, 3) for k, v in e.output_breakdown_gb.items()},
        "output_storage_usd_per_month": round(e.output_storage_usd_per_month, 4),
        "basis": e.basis, "warnings": list(e.warnings),
    }


def estimate_configuration(cfg, *, region: str, demo: bool = False) -> EstimateReport:
    """Estimates for every instance type, the ones that cannot run `cfg` (and why), and advice."""
    offers = instance_offers()
    figures = throughput_figures()
    prices_as_of = InstancePrice.objects.aggregate(latest=Max("retrieved_at"))["latest"]
    notes = []
    if demo:
        notes.append("These figures are for GEOS-Chem on AWS. Runs here use the demo model, which takes "
                     "seconds; on the local backend costs are notional (priced as if on AWS, not billed).")
    if not figures:
        reason = "no throughput samples to estimate from: load the published figures or run a benchmark campaign"
        return EstimateReport(region, [], [(o.name, reason) for o in offers], [], notes + [reason],
                              prices_as_of.date().isoformat() if prices_as_of else None)
    serial = _serial_fraction(figures, offers)
    estimates = sorted(estimator.estimate(cfg, offers, figures, region=region, serial=serial),
                       key=lambda e: e.cheapest_cost()[1].expected)
    refused = estimator.unrunnable(cfg, offers, region=region)
    if not estimates:
        notes.append("No instance type can run this configuration; the reasons are listed per instance type.")
    notes.append(f"{len(figures)} throughput samples: "
                 + ", ".join(f"{n} {label}" for label, n in _count_by(figures, "confidence").items()) + ".")
    return EstimateReport(region, estimates, refused, estimator.recommend(estimates) if estimates else [], notes,
                          prices_as_of.date().isoformat() if prices_as_of else None)


def _serial_fraction(figures: list[ThroughputFigure], offers: list[InstanceOffer]) -> float:
    """The fitted serial fraction, cached until the samples change.

    The leave-one-out fit is quadratic in the number of samples; with the platform adding a
    sample per finished run, refitting on every estimate would grow without bound. The key is a
    digest of the samples themselves, so an edited sample refits too."""
    digest = hashlib.sha256(repr(figures).encode()).hexdigest()[:32]
    key = f"costs:serial:{digest}"
    serial = cache.get(key)
    if serial is None:
        serial = estimator.fit_serial_fraction(estimator.calibration_pairs(figures, offers))
        cache.set(key, serial, 24 * 3600)
    return serial


def _count_by(items, attribute) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[getattr(item, attribute)] = counts.get(getattr(item, attribute), 0) + 1
    return counts


@dataclass(frozen=True)
class UpperCost:
    """What admission holds against a budget: the upper estimate, or None when none can be made."""

    usd: Decimal | None
    basis: str


def upper_cost(cfg, report: EstimateReport, *, fraction: float = 1.0) -> UpperCost:
    """The high end of the chosen option's cost (compute plus a month of output storage).

    With no instance type chosen, or one the catalog cannot estimate, the most expensive option
    that can run it stands in, so a budget is never under-held. `fraction` scales it to the part
    of the run still to do (a resumed run)."""
    capacity = cfg.compute.capacity
    key = "spot" if capacity == "spot" else "on_demand"
    chosen = report.for_choice(cfg.compute.instance_type, cfg.compute.nodes if cfg.model == "gchp" else 1)

    def high(e: Estimate) -> float:
        cost = e.cost_usd.get(key) or e.cost_usd["on_demand"]
        return cost.high + e.output_storage_usd_per_month

    if chosen is not None:
        amount = high(chosen)
        basis = f"upper estimate on {chosen.instance_type} ({capacity})"
    elif report.estimates:
        worst = max(report.estimates, key=high)
        amount = high(worst)
        why = ("no instance type was chosen" if not cfg.compute.instance_type
               else f"{cfg.compute.instance_type} cannot be estimated")
        basis = f"{why}: the most expensive option that can run it ({worst.instance_type}, {capacity}) is held"
    else:
        return UpperCost(None, "no instance type can run this configuration, so no estimate can be held")
    if fraction < 1.0:
        basis += f", for the {fraction:.0%} of the run still to do"
    return UpperCost(Decimal(str(round(amount * fraction, 6))), basis)


def priced_regions() -> list[str]:
    """The regions the catalog has on-demand prices for: the ones an estimate can be made in."""
    return list(InstancePrice.objects.order_by("region").values_list("region", flat=True).distinct())


def estimate_request(raw, *, region: str, regions: list[str]) -> tuple[RunConfig | None, EstimateReport | None,
                                                                       list[FieldError]]:
    """Validate a raw configuration (the keys the command line takes) and a region, and estimate it.

    Returns (configuration, report, []) or (configuration or None, None, every error). The
    configuration is checked against GEOS-Chem's rules only, as `manage.py estimate` does: an
    estimate is for GEOS-Chem on AWS, whatever this installation's backend can run."""
    errors = []
    if region not in regions:
        errors.append(FieldError("region", f"there are no prices for {region!r}; choose one of {', '.join(regions)}"))
    try:
        cfg = parse_config(raw)
    except ConfigInvalid as exc:
        return None, None, list(exc.errors) + errors
    if errors:
        return cfg, None, errors
    return cfg, estimate_configuration(cfg, region=region, demo=executable_for(cfg.model) == "demo"), []
