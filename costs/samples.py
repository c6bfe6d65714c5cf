"""Published GEOS-Chem throughput figures (GEOSCHEM.md section 7), the estimator's starting data.

Each figure carries its citation and a confidence label:
  "measured-official"       the GEOS-Chem team's own timing of a named configuration;
  "reported"                a user's or the cloud project's report of a real run;
  "third-party-unreviewed"  figures from an unreviewed third-party repository (indicative only);
  "platform-measured"       a GEOS-Chem run on this platform (its metrics.json); demo-model runs
                            are recorded too but never feed GEOS-Chem estimates.
Measured runs on the platform replace these as they come in.

Left out: GCPy PR #332 timing tables (14.4.1 21,173 s, 14.4.2 28,458 s for the 1-month 4x5
benchmark) state no platform or core count, so they cannot calibrate a per-core rate; and the
geos-chem-cloud#5 dollar figures ($1 per 4x5 month, $15 per 0.25 NA month, $50 per 2x2.5 year on
Spot) name no instance type, so they cannot be turned into hours honestly.
"""

from __future__ import annotations

from dataclasses import dataclass

CONFIDENCE_LABELS = ("platform-measured", "measured-official", "reported", "third-party-unreviewed")


@dataclass(frozen=True)
class ThroughputFigure:
    model: str  # classic | gchp
    simulation: str
    resolution: str
    levels: int
    instance_type: str | None  # None: platform not stated
    cores: int  # physical cores used in total
    nodes: int
    days_per_day: float  # simulated days per wall-clock day
    peak_memory_gib: float | None
    source: str
    confidence: str
    measured: str  # when the figure was measured or published (approximate)
    advected_species: int | None = None  # None: the simulation's usual count (estimator.SPECIES)
    notes: str = ""


_SCTT = "scttfrdmn/aws-gchp (GCHP 14.7.1, TransportTracers, C90, 1 simulated day), via GEOSCHEM.md s7"

SAMPLES: tuple[ThroughputFigure, ...] = (
    # "A 1-month fullchem 4x5 benchmark takes about 3 to 3.5 h on 48 cores": midpoint 3.25 h;
    # 31 simulated days (July) / (3.25 h / 24 h) = 228.9 days/day. Platform not stated.
    ThroughputFigure("classic", "fullchem", "4x5", 72, None, 48, 1, 31 / (3.25 / 24), None,
                     "geoschem/geos-chem#2108", "measured-official", "2024",
                     notes="platform not stated; 3-3.5 h, midpoint used"),
    # "1-month 4x5 on c4.4xlarge 5 h 50 min": 31 / (5.833 h / 24) = 127.5 days/day on the 8
    # physical cores of a c4.4xlarge (16 vCPUs with Hyper-Threading). GEOS-Chem v11/12 era,
    # with a much smaller fullchem mechanism than 14.x.
    ThroughputFigure("classic", "fullchem", "4x5", 72, "c4.4xlarge", 8, 1, 31 / ((5 + 50 / 60) / 24), None,
                     "JiaweiZhuang/old_cloud_GC (2017-18), via GEOSCHEM.md s7", "reported", "2018",
                     notes="GEOS-Chem v11/12; smaller mechanism than 14.x"),
    # "8-day CH4 run with 200 tracers on c5.24xlarge, 48 cores: 81.4 simulated days/day".
    # A CH4 run is today's carbon simulation; 200 tracers (inversion-style) replace the usual
    # count. The resolution is not stated in GEOSCHEM.md: GCHP's default, C24, is assumed.
    ThroughputFigure("gchp", "carbon", "C24", 72, "c5.24xlarge", 48, 1, 81.4, None,
                     "geoschem/GCHP#511", "reported", "2025", advected_species=200,
                     notes="resolution not stated (C24 assumed); 200 CH4 tracers"),
    # scttfrdmn/aws-gchp, days/day as published, one node each. c7g.16xlarge has 64 cores but
    # GCHP needs a multiple of 6: 60 assumed. Intel runs with SMT off (96 physical cores).
    ThroughputFigure("gchp", "TransportTracers", "C90", 72, "c7g.16xlarge", 60, 1, 842, None,
                     _SCTT, "third-party-unreviewed", "2025", notes="60 of 64 cores assumed"),
    ThroughputFigure("gchp", "TransportTracers", "C90", 72, "c8g.24xlarge", 96, 1, 1260, None,
                     _SCTT, "third-party-unreviewed", "2025"),
    ThroughputFigure("gchp", "TransportTracers", "C90", 72, "c8a.24xlarge", 96, 1, 397, None,
                     _SCTT, "third-party-unreviewed", "2025"),
    ThroughputFigure("gchp", "TransportTracers", "C90", 72, "c8i.48xlarge", 96, 1, 573, None,
                     _SCTT, "third-party-unreviewed", "2025", notes="SMT off"),
    ThroughputFigure("gchp", "TransportTracers", "C90", 72, "c7i.48xlarge", 96, 1, 363, None,
                     _SCTT, "third-party-unreviewed", "2025", notes="SMT off"),
)
