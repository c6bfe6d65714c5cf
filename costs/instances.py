"""A shipped snapshot of the EC2 instance types GEOS-Chem users need (data only).

SNAPSHOT, TO BE REFRESHED: prices are public Linux on-demand list prices as the platform's
authors know them for 2025-2026 (us-east-1 and us-west-2 list the same price for these
families); they are not fetched live. Spot figures are *typical* discounts, not live prices:
Spot prices move hourly, so the estimator shows them as a typical range only.

physical_cores: Graviton has one thread per core (cores = vCPUs); Intel with SMT has two
(cores = vCPUs / 2); c7a/c8a (AMD Zen 4/5) and the hpc families run one thread per core.
GEOS-Chem is run on physical cores (the team moved to 48 physical cores because SMT hurts on
AWS: GCClassic#112, GCHP#563).

Region gaps are real: hpc7g is sold in us-east-1 but not us-west-2; hpc6a and hpc7a are sold in
us-east-2 (not us-east-1/us-west-2). A missing region price means "not offered there". The hpc
families offer no Spot capacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SNAPSHOT_DATE = "2026-01-15"
SOURCE = f"AWS EC2 On-Demand pricing page, us-east-1/us-west-2, retrieved {SNAPSHOT_DATE} (snapshot; refresh)"
SOURCE_HPC = f"AWS EC2 On-Demand pricing page, us-east-1/us-east-2, retrieved {SNAPSHOT_DATE} (snapshot; refresh)"
APPROX = f"AWS EC2 On-Demand pricing page, us-east-1/us-west-2, retrieved {SNAPSHOT_DATE}; approximate, verify before use"


@dataclass(frozen=True)
class InstanceOffer:
    name: str
    family: str
    architecture: str  # "arm64" | "x86_64"
    cpu: str  # processor generation, the key of estimator.PER_CORE_SPEED
    vcpus: int
    physical_cores: int
    memory_gib: float
    network_gbps: float
    efa: bool
    on_demand_usd_per_hour: dict[str, float] = field(default_factory=dict)  # region -> $/h
    typical_spot_discount: float | None = None  # fraction off on-demand; None = no Spot offered
    source: str = SOURCE
    # region -> recent mean Spot price from EC2's Spot price history (refresh_prices); when a
    # region has none, the typical discount stands in and the estimate says so.
    spot_history_usd_per_hour: dict[str, float] = field(default_factory=dict)

    def on_demand(self, region: str) -> float | None:
        return self.on_demand_usd_per_hour.get(region)

    def typical_spot(self, region: str) -> float | None:
        price = self.on_demand(region)
        if price is None or self.typical_spot_discount is None:
            return None
        return price * (1 - self.typical_spot_discount)

    def spot(self, region: str) -> tuple[float | None, bool]:
        """The Spot price to estimate with, and whether it is measured (history) or typical."""
        if self.typical_spot_discount is None:
            return None, False  # no Spot capacity for this family
        measured = self.spot_history_usd_per_hour.get(region)
        if measured is not None:
            return measured, True
        return self.typical_spot(region), False


def _both(price: float) -> dict[str, float]:
    return {"us-east-1": price, "us-west-2": price}


# Typical Spot discounts (Spot Instance Advisor ranges as commonly seen, not live):
# older/larger x86 compute families ~65-70 % off, Graviton and newest generations ~55-60 %.
_SPOT_OLD, _SPOT_NEW = 0.65, 0.55

_ROWS = [
    # name, family, arch, cpu, vcpus, cores, GiB, Gbps, efa, $/h (us-east-1 = us-west-2), spot discount, source
    ("c7g.8xlarge", "c7g", "arm64", "graviton3", 32, 32, 64, 15, False, _both(1.1568), _SPOT_NEW, SOURCE),
    ("c7g.16xlarge", "c7g", "arm64", "graviton3", 64, 64, 128, 30, True, _both(2.3136), _SPOT_NEW, SOURCE),
    ("c8g.8xlarge", "c8g", "arm64", "graviton4", 32, 32, 64, 15, False, _both(1.27616), _SPOT_NEW, SOURCE),
    ("c8g.16xlarge", "c8g", "arm64", "graviton4", 64, 64, 128, 30, False, _both(2.55232), _SPOT_NEW, SOURCE),
    ("c8g.24xlarge", "c8g", "arm64", "graviton4", 96, 96, 192, 40, True, _both(3.82848), _SPOT_NEW, SOURCE),
    ("m7g.8xlarge", "m7g", "arm64", "graviton3", 32, 32, 128, 15, False, _both(1.3056), _SPOT_NEW, SOURCE),
    ("m7g.16xlarge", "m7g", "arm64", "graviton3", 64, 64, 256, 30, True, _both(2.6112), _SPOT_NEW, SOURCE),
    ("r7g.8xlarge", "r7g", "arm64", "graviton3", 32, 32, 256, 15, False, _both(1.7136), _SPOT_NEW, SOURCE),
    ("r7g.16xlarge", "r7g", "arm64", "graviton3", 64, 64, 512, 30, True, _both(3.4272), _SPOT_NEW, SOURCE),
    ("hpc7g.16xlarge", "hpc7g", "arm64", "graviton3e", 64, 64, 128, 200, True, {"us-east-1": 1.6832}, None,
     SOURCE_HPC),
    ("c7i.16xlarge", "c7i", "x86_64", "sapphire-rapids", 64, 32, 128, 25, False, _both(2.856), _SPOT_NEW, SOURCE),
    ("c7i.24xlarge", "c7i", "x86_64", "sapphire-rapids", 96, 48, 192, 37.5, False, _both(4.284), _SPOT_NEW, SOURCE),
    ("c7i.48xlarge", "c7i", "x86_64", "sapphire-rapids", 192, 96, 384, 50, True, _both(8.568), _SPOT_NEW, SOURCE),
    ("c8i.48xlarge", "c8i", "x86_64", "granite-rapids", 192, 96, 384, 75, True, _both(9.02), _SPOT_NEW, APPROX),
    ("c6i.32xlarge", "c6i", "x86_64", "ice-lake", 128, 64, 256, 50, True, _both(5.44), _SPOT_OLD, SOURCE),
    ("c7a.16xlarge", "c7a", "x86_64", "zen4", 64, 64, 128, 25, False, _both(3.28384), _SPOT_NEW, SOURCE),
    ("c7a.24xlarge", "c7a", "x86_64", "zen4", 96, 96, 192, 37.5, False, _both(4.92576), _SPOT_NEW, SOURCE),
    ("c7a.48xlarge", "c7a", "x86_64", "zen4", 192, 192, 384, 50, True, _both(9.85152), _SPOT_NEW, SOURCE),
    ("c8a.24xlarge", "c8a", "x86_64", "zen5", 96, 96, 192, 40, False, _both(5.17), _SPOT_NEW, APPROX),
    ("hpc6a.48xlarge", "hpc6a", "x86_64", "zen3", 96, 96, 384, 100, True, {"us-east-2": 2.88}, None, SOURCE_HPC),
    ("hpc7a.96xlarge", "hpc7a", "x86_64", "zen4", 192, 192, 768, 300, True, {"us-east-2": 7.20}, None, SOURCE_HPC),
    ("c5.24xlarge", "c5", "x86_64", "cascade-lake", 96, 48, 192, 25, False, _both(4.08), _SPOT_OLD, SOURCE),
    ("c4.4xlarge", "c4", "x86_64", "haswell", 16, 8, 30, 2, False, _both(0.796), _SPOT_OLD, SOURCE),
]

INSTANCE_TYPES: dict[str, InstanceOffer] = {
    row[0]: InstanceOffer(name=row[0], family=row[1], architecture=row[2], cpu=row[3], vcpus=row[4],
                         physical_cores=row[5], memory_gib=row[6], network_gbps=row[7], efa=row[8],
                         on_demand_usd_per_hour=row[9], typical_spot_discount=row[10], source=row[11])
    for row in _ROWS
}
