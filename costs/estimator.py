"""Run-time and cost estimates for a GEOS-Chem configuration on each EC2 instance type (pure).

Dataclasses in and out, no Django: `estimate`, `unrunnable`, `recommend`.

The scaling model, and why
--------------------------
Throughput (simulated days per wall-clock day) on `c` physical cores is

    days_per_day = rate * speed(cpu) * A(c) * node_efficiency / work

* work = grid cells x levels x (species + OVERHEAD) x (600 s / transport timestep).
  GEOS-Chem's cost is a loop over grid boxes for every species in transport, mixing,
  deposition and chemistry, once per time step; finer grids take shorter steps (300 s at 0.5
  and 0.25 degree, 150 s at 0.125: GEOSCHEM.md s2), so a day needs more of them. Species are
  the advected count (SPECIES): the transport loops are per advected species, and for
  fullchem the chemistry cost is folded into "about 200" (GCHP#511's 200-tracer CH4 run and the
  48-core fullchem benchmark give similar rates per species on this count). OVERHEAD stands for
  per-cell work that does not depend on species (met-field reading and regridding, PBL, physics).
* A(c) = c / (1 + (c - 1) * s): Amdahl-like saturation; the serial fraction s is fitted from
  the samples by a grid search over [0, 0.2], minimising the leave-one-out log error (on at
  most FIT_MAX_SAMPLES of them, evenly spread; the selector caches the fit until the samples
  change).
* speed(cpu): relative per-core speed by processor generation (PER_CORE_SPEED), a coarse prior
  from CPU generations, LOW CONFIDENCE. The third-party C90 figures put Graviton 3/4 two to
  three times ahead of Intel/AMD per core; rather than hard-coding that unreviewed ratio, the
  calibration below weights samples on the same architecture and family far more, so those
  figures move Graviton estimates only through Graviton samples.
* node_efficiency: 0.95 per doubling of nodes with EFA, 0.8 without (and a warning).
* rate: the weighted geometric mean of the samples' implied rates, weight = confidence weight
  x exp(-2 x distance), distance growing with a different model (+1), simulation (+1),
  resolution (+0.5 per factor 2 in cells), architecture (+1) or family (+0.5), cores (+0.25
  per factor 2). The nearest sample's distance and confidence set the range width (below).
* Containers run GCHP about 15 % slower than native at C90 (GCHP docs); the samples are native,
  the platform runs containers, so GCHP estimates are divided by 1.15 (containerized=True).

Range: hours are expected x exp(+-w), w = CONFIDENCE_WIDTH[nearest sample's label] + 0.25 x
its distance; `basis` names the nearest sample, how it differs, and the width.

Data volumes: input = met GB/year (GEOSCHEM.md s5) x years; staging at STAGING_MB_PER_S from
S3 in-region. Output: one 72-level float32 field per step is cells x levels x 4 bytes (0.95
MB at 4x5, 14 MB at C90, as in GEOSCHEM.md s4), times fields per collection, times output
steps; uncompressed, so an upper figure. Storage at S3 Standard us-east-1 $/GB-month.

Classic on AWS runs on one node with all the instance's physical cores (OpenMP threads), so
compute.cores_per_node is informational for Classic: the instance is paid for whole. GCHP uses
the largest core count per node (<= physical cores) that GCHP can decompose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from costs.instances import INSTANCE_TYPES, InstanceOffer
from costs.samples import ThroughputFigure
from simulations import catalog

# Advected species per simulation (GEOS-Chem 14.x run directory templates, approximate):
# fullchem ~200 advected of ~300 in SpeciesConc (GEOSCHEM.md s4); TransportTracers 21 (the
# geoschem_config.yml template, catalog_data.TRANSPORTED_SPECIES); carbon 4 (CH4, CO, CO2, OCS:
# GEOSCHEM.md s2), 1 with a single-species option; the others are rough counts of their
# templates and should be refreshed from the 14.7.0 run directories.
SPECIES = {"fullchem": 200, "aerosol": 40, "carbon": 4, "Hg": 30, "POPs": 5, "tagO3": 11,
           "TransportTracers": 21, "metals": 2}
SPECIES_CONC_TOTAL = {"fullchem": 300}  # SpeciesConc_?ALL? writes every species
OVERHEAD = 5  # species-equivalents of per-cell work independent of species
REFERENCE_TIMESTEP_S = 600

PER_CORE_SPEED = {"haswell": 0.55, "cascade-lake": 0.8, "ice-lake": 0.9, "sapphire-rapids": 1.0,
                  "granite-rapids": 1.1, "zen3": 0.95, "zen4": 1.1, "zen5": 1.2, "graviton3": 1.0,
                  "graviton3e": 1.05, "graviton4": 1.2, "unknown": 0.9}
# A run measured on this platform (its own metrics.json, same container, same instance type) is
# the best evidence there is: it weighs most and gives the narrowest range.
CONFIDENCE_WEIGHT = {"platform-measured": 1.5, "measured-official": 1.0, "reported": 0.6,
                     "third-party-unreviewed": 0.4}
CONFIDENCE_WIDTH = {"platform-measured": 0.1, "measured-official": 0.15, "reported": 0.3,
                    "third-party-unreviewed": 0.45}
# No Spot price history for the region: the typical discount stands in, and the Spot range's
# upper end is widened by this factor (Spot prices move; a typical figure is a guess).
TYPICAL_SPOT_WIDENING = 1.25
FAR_DISTANCE = 1.5  # a nearest sample further than this is "far" in basis
CONTAINER_SLOWDOWN = 1.15

# Met-field GB per year (GEOSCHEM.md s5); (met, resolution, region or "global").
MET_GB_PER_YEAR = {
    ("MERRA2", "4x5", "global"): 30, ("MERRA2", "2x2.5", "global"): 110,
    ("MERRA2", "0.5x0.625", "AS"): 115, ("MERRA2", "0.5x0.625", "EU"): 60, ("MERRA2", "0.5x0.625", "NA"): 110,
    ("GEOSFP", "4x5", "global"): 30, ("GEOSFP", "2x2.5", "global"): 120,
    ("GEOSFP", "0.5x0.625", "AS"): 115, ("GEOSFP", "0.5x0.625", "EU"): 60, ("GEOSFP", "0.5x0.625", "NA"): 110,
    ("GEOSFP", "0.25x0.3125", "AF"): 434, ("GEOSFP", "0.25x0.3125", "AS"): 380,
    ("GEOSFP", "0.25x0.3125", "EU"): 125, ("GEOSFP", "0.25x0.3125", "ME"): 175,
    ("GEOSFP", "0.25x0.3125", "NA"): 200, ("GEOSFP", "0.25x0.3125", "OC"): 240,
    ("GEOSFP", "0.25x0.3125", "SA"): 250, ("GEOSFP", "0.25x0.3125", "RU"): 375,
    ("GEOSIT", "4x5", "global"): 26, ("GEOSIT", "2x2.5", "global"): 78,
}
# aws s3 cp of many ~100 MB files from s3://geos-chem in-region sustains a few hundred MB/s on
# a large instance; 200 MB/s is a conservative single-stream-per-file figure.
STAGING_MB_PER_S = 200
DATA_BUCKET_REGION = "us-west-2"
INTER_REGION_USD_PER_GB = 0.02
S3_STANDARD_USD_PER_GB_MONTH = 0.023  # S3 Standard, us-east-1, first 50 TB
FREQUENCY_HOURS = {"hourly": 1, "3-hourly": 3, "6-hourly": 6, "daily": 24, "monthly": 730.5}
STATEMET_FIELDS = 20  # 3-D-equivalent fields in StateMet
RESTART_MET_FIELDS = 5
SPOT_RERUN = (1.0, 1.1, 1.3)  # Spot hours multiplier: no, typical, heavy reclaiming


@dataclass(frozen=True)
class Range:
    low: float
    expected: float
    high: float

    def scaled(self, factor: float) -> "Range":
        return Range(self.low * factor, self.expected * factor, self.high * factor)


@dataclass
class Estimate:
    instance_type: str
    architecture: str
    cores: int
    nodes: int
    hours: Range
    days_per_day: float
    cost_usd: dict[str, Range | None]  # "on_demand", "spot" (None when not possible)
    staging_hours: float
    input_gb: float
    output_gb: float
    output_breakdown_gb: dict[str, float]
    output_storage_usd_per_month: float
    basis: str
    warnings: list[str] = field(default_factory=list)

    def cheapest_cost(self) -> tuple[str, Range]:
        spot = self.cost_usd.get("spot")
        if spot is not None and spot.expected < self.cost_usd["on_demand"].expected:
            return "spot", spot
        return "on-demand", self.cost_usd["on_demand"]


@dataclass(frozen=True)
class Recommendation:
    kind: str  # cheapest | fastest | balanced | graviton-vs-x86 | spot-vs-on-demand | nodes
    instance_type: str
    capacity: str
    reason: str


# --- Grid geometry --------------------------------------------------------------------------

def grid_cells(model: str, resolution: str, domain: str = "global", lon_range=None, lat_range=None) -> int:
    """Horizontal cells: 6 N^2 on a cube; lon x lat boxes on a lat-lon grid (polar half boxes)."""
    cs = catalog.cs_res(resolution)
    if cs is not None:
        return 6 * cs * cs
    grid = catalog.latlon_grid(resolution)
    if domain == "global" or lon_range is None:
        return round(360 / grid["dlon"]) * (round(180 / grid["dlat"]) + 1)
    nlon = round((lon_range[1] - lon_range[0]) / grid["dlon"]) + 1
    nlat = round((lat_range[1] - lat_range[0]) / grid["dlat"]) + 1
    return nlon * nlat


def _cfg_cells(cfg) -> int:
    return grid_cells(cfg.model, cfg.resolution, cfg.domain, cfg.lon_range, cfg.lat_range)


def _transport_step(model: str, resolution: str) -> int:
    cs = catalog.cs_res(resolution)
    if cs is not None:
        return catalog.gchp_timesteps(cs, None)[0]
    return catalog.latlon_grid(resolution)["timesteps"][0]


def _species(simulation: str, options=()) -> int:
    if simulation == "carbon" and options:
        return len(options)
    return SPECIES.get(simulation, 20)


def _work(cells: int, levels: int, species: int, timestep_s: int) -> float:
    return cells * levels * (species + OVERHEAD) * (REFERENCE_TIMESTEP_S / timestep_s)


def amdahl(cores: int, serial: float) -> float:
    return cores / (1 + (cores - 1) * serial)


def _node_efficiency(nodes: int, efa: bool) -> float:
    return (0.95 if efa else 0.8) ** math.log2(nodes) if nodes > 1 else 1.0


# --- Calibration ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Point:
    """What the calibration needs of a run: a sample or the configuration being estimated."""
    model: str
    simulation: str
    cells: int
    levels: int
    species: int
    timestep_s: int
    cpu: str
    family: str
    architecture: str
    cores: int
    nodes: int
    efa: bool

    @property
    def work(self) -> float:
        return _work(self.cells, self.levels, self.species, self.timestep_s)


def _sample_point(sample: ThroughputFigure, instances: dict[str, InstanceOffer]) -> _Point:
    inst = instances.get(sample.instance_type) if sample.instance_type else None
    species = sample.advected_species or _species(sample.simulation)
    return _Point(sample.model, sample.simulation, grid_cells(sample.model, sample.resolution), sample.levels,
                  species, _transport_step(sample.model, sample.resolution),
                  inst.cpu if inst else "unknown", inst.family if inst else "unknown",
                  inst.architecture if inst else "unknown", sample.cores, sample.nodes, inst.efa if inst else False)


def _distance(a: _Point, b: _Point) -> float:
    d = 0.0
    d += 1.0 if a.model != b.model else 0.0
    d += 1.0 if a.simulation != b.simulation or a.species != b.species else 0.0
    d += 0.5 * abs(math.log2(a.cells * a.levels / (b.cells * b.levels)))
    if a.architecture != b.architecture:
        d += 1.0
    elif a.family != b.family:
        d += 0.5
    d += 0.25 * abs(math.log2(a.cores / b.cores))
    return d


def _log_rate(sample: ThroughputFigure, point: _Point, serial: float) -> float:
    capacity = PER_CORE_SPEED.get(point.cpu, 0.9) * amdahl(point.cores, serial) * _node_efficiency(point.nodes, point.efa)
    return math.log(sample.days_per_day * point.work / capacity)


def _predict_log_rate(target: _Point, pairs, serial: float) -> float:
    weights = [CONFIDENCE_WEIGHT[s.confidence] * math.exp(-2 * _distance(target, p)) for s, p in pairs]
    rates = [_log_rate(s, p, serial) for s, p in pairs]
    return sum(w * r for w, r in zip(weights, rates)) / sum(weights)


def calibration_pairs(samples: Iterable[ThroughputFigure], instances: Iterable[InstanceOffer] = ()) -> list:
    lookup = {**INSTANCE_TYPES, **{inst.name: inst for inst in instances}}
    return [(s, _sample_point(s, lookup)) for s in samples]


# The leave-one-out fit costs 41 x n^2 predictions; past this many samples it is fitted on an
# evenly spread subset (every k-th, in the samples' order), which keeps it under a second.
FIT_MAX_SAMPLES = 64


def fit_serial_fraction(pairs) -> float:
    """Grid search of s in [0, 0.2] minimising the leave-one-out squared log error."""
    if len(pairs) < 2:
        return 0.02
    if len(pairs) > FIT_MAX_SAMPLES:
        pairs = pairs[::math.ceil(len(pairs) / FIT_MAX_SAMPLES)]
    best = None
    for step in range(41):
        serial = step * 0.005
        error = 0.0
        for i, (sample, point) in enumerate(pairs):
            others = pairs[:i] + pairs[i + 1:]
            error += (_predict_log_rate(point, others, serial) - _log_rate(sample, point, serial)) ** 2
        if best is None or error < best[0] - 1e-12:
            best = (error, serial)
    return best[1]


# --- Feasibility ----------------------------------------------------------------------------

def _classic_memory_needed(cfg) -> float:
    known = catalog.classic_memory_gb(cfg.resolution)
    if known is not None:
        return known
    # No catalog figure: scale the 2x2.5 figure by cells (nested and fine grids).
    return catalog.classic_memory_gb("2x2.5") * _cfg_cells(cfg) / grid_cells("classic", "2x2.5")


def _gchp_layout(cfg, inst: InstanceOffer, nodes: int) -> int | None:
    """Largest cores per node (<= physical cores) whose total GCHP can decompose, or None."""
    cs = cfg.cs_res
    for per_node in range(inst.physical_cores, 0, -1):
        if catalog.gchp_decomposition(cs, per_node * nodes) is not None:
            return per_node
    return None


def _gchp_node_counts(cfg) -> list[int]:
    minimum = catalog.gchp_memory(cfg.cs_res)["min_nodes"]
    return sorted({cfg.compute.nodes, max(cfg.compute.nodes, minimum)})


# The platform's GCHP images are built for x86_64 only (containers/README.md), so on the
# platform (containerized) GCHP cannot run on Graviton, whatever native builds manage.
GCHP_IMAGE_ARCHITECTURES = ("x86_64",)


def _problem(cfg, inst: InstanceOffer, region: str, nodes: int = 1, containerized: bool = True) -> str | None:
    if inst.on_demand(region) is None:
        offered = ", ".join(sorted(inst.on_demand_usd_per_hour)) or "no region"
        return f"{inst.name} is not offered in {region} (the price snapshot lists {offered})"
    if cfg.model == "classic":
        need = _classic_memory_needed(cfg)
        if need > inst.memory_gib:
            return f"needs {need:.0f} GB of memory; {inst.name} has {inst.memory_gib:g} GiB"
        return None
    if containerized and inst.architecture not in GCHP_IMAGE_ARCHITECTURES:
        return (f"the platform's GCHP images are built for {', '.join(GCHP_IMAGE_ARCHITECTURES)} only; "
                f"{inst.name} is {inst.architecture}")
    need = catalog.gchp_memory(cfg.cs_res)["gb_per_node"]
    if need > inst.memory_gib:
        return f"GCHP at {cfg.resolution} needs {need} GB per node; {inst.name} has {inst.memory_gib:g} GiB"
    if _gchp_layout(cfg, inst, nodes) is None:
        return (f"GCHP cannot split {cfg.resolution} over {nodes} node(s) of {inst.name} "
                f"(at most {catalog.max_gchp_cores(cfg.cs_res)} cores, a multiple of 6)")
    return None


def unrunnable(cfg, instances: Iterable[InstanceOffer], region: str = "us-east-1", *,
               containerized: bool = True) -> list[tuple[str, str]]:
    """(instance type, reason) for every instance type that cannot run the configuration."""
    out = []
    for inst in instances:
        nodes = _gchp_node_counts(cfg)[0] if cfg.model == "gchp" else 1
        problem = _problem(cfg, inst, region, nodes, containerized)
        if problem:
            out.append((inst.name, problem))
    return out


# --- Volumes --------------------------------------------------------------------------------

def _run_days(cfg) -> float:
    return (cfg.end - cfg.start).total_seconds() / 86400


def input_volume_gb(cfg) -> tuple[float, list[str]]:
    """Met-field GB the run reads (GEOSCHEM.md s5 x years), with warnings for guessed figures."""
    years = _run_days(cfg) / 365.25
    warnings = []
    if cfg.model == "gchp":
        # GCHP reads met on its own grid choice; coarse runs can use the 2x2.5 product.
        resolution = "2x2.5" if cfg.cs_res <= 48 else "0.5x0.625"
        region = "global"
    else:
        resolution, region = cfg.resolution, cfg.domain
    key = (cfg.met, resolution, region)
    if key in MET_GB_PER_YEAR:
        per_year = MET_GB_PER_YEAR[key]
    else:
        base = MET_GB_PER_YEAR.get((cfg.met, "2x2.5", "global"), 110)
        cells = (grid_cells("classic", resolution) if region == "global" or cfg.model == "gchp" else _cfg_cells(cfg))
        per_year = base * cells / grid_cells("classic", "2x2.5")
        warnings.append(f"no published met volume for {cfg.met} {resolution} {region}; scaled from 2x2.5 by grid cells")
    if cfg.model == "gchp":
        warnings.append(f"GCHP input volume assumes the {resolution} met product; check ExtData.rc")
    return per_year * years, warnings


def _field_mb(cells: int, levels: int) -> float:
    return cells * levels * 4 / 1e6  # float32


def _collection_fields(collection: str, simulation: str, options) -> int:
    species = _species(simulation, options)
    if collection == "SpeciesConc":
        return SPECIES_CONC_TOTAL.get(simulation, species)
    if collection == "StateMet":
        return STATEMET_FIELDS
    fields = 0
    for name in catalog.collection_fields(collection):
        if "?ALL?" in name:
            fields += SPECIES_CONC_TOTAL.get(simulation, species)
        elif "?" in name:
            fields += max(1, species // 2)  # ?ADV?, ?WET?, ?DRY? ...: a subset of species
        else:
            fields += 1
    return fields


def _segments(cfg) -> int:
    """Run segments (one restart file each): segment_days long, or calendar months."""
    if cfg.segment_days:
        return max(1, math.ceil(_run_days(cfg) / cfg.segment_days))
    count, boundary = 0, cfg.start
    while boundary < cfg.end:
        boundary = catalog.add_months(boundary, 1)
        count += 1
    return count


def output_volume_gb(cfg) -> dict[str, float]:
    """GB per collection (and Restart), uncompressed float32."""
    field_mb = _field_mb(_cfg_cells(cfg), cfg.levels)
    hours = _run_days(cfg) * 24
    out = {}
    for request in cfg.outputs:
        steps = _segments(cfg) if request.frequency == "end" else max(1, math.floor(hours / FREQUENCY_HOURS[request.frequency]))
        out[request.collection] = _collection_fields(request.collection, cfg.simulation, cfg.options) * field_mb * steps / 1000
    restart_fields = _species(cfg.simulation, cfg.options) + RESTART_MET_FIELDS
    out["Restart"] = restart_fields * field_mb * _segments(cfg) / 1000
    return out


# --- Estimates -----------------------------------------------------------------------------

def _target_point(cfg, inst, cores, nodes, species) -> _Point:
    return _Point(cfg.model, cfg.simulation, _cfg_cells(cfg), cfg.levels, species, cfg.transport_timestep_s,
                  inst.cpu, inst.family, inst.architecture, cores, nodes, inst.efa)


def _describe_difference(target: _Point, sample: ThroughputFigure, point: _Point) -> str:
    diffs = []
    if target.model != point.model:
        diffs.append("model")
    if target.simulation != point.simulation or target.species != point.species:
        diffs.append("simulation")
    if target.cells * target.levels != point.cells * point.levels:
        diffs.append("resolution")
    if target.family != point.family:
        diffs.append("instance family" if target.architecture == point.architecture else "architecture")
    if target.cores != point.cores:
        diffs.append("cores")
    return "same configuration" if not diffs else "differs in " + ", ".join(diffs)


def estimate(cfg, instances: Iterable[InstanceOffer], samples: Iterable[ThroughputFigure],
             region: str = "us-east-1", *, containerized: bool = True,
             advected_species: int | None = None, serial: float | None = None) -> list[Estimate]:
    """An Estimate for every instance type (and, for GCHP, node count) that can run `cfg`.

    `advected_species` overrides the simulation's usual count (e.g. 200-tracer inversions).
    `serial` is the fitted serial fraction when the caller has it (fitting is quadratic in the
    number of samples; see fit_serial_fraction), else it is fitted here."""
    instances = list(instances)
    pairs = calibration_pairs(samples, instances)  # samples may name instances not offered here
    if not pairs:
        raise ValueError("estimate needs at least one throughput sample")
    serial = fit_serial_fraction(pairs) if serial is None else serial
    species = advected_species or _species(cfg.simulation, cfg.options)
    days = _run_days(cfg)
    input_gb, input_warnings = input_volume_gb(cfg)
    breakdown = output_volume_gb(cfg)
    output_gb = sum(breakdown.values())
    staging_hours = input_gb * 1000 / STAGING_MB_PER_S / 3600
    results = []
    for inst in instances:
        node_counts = _gchp_node_counts(cfg) if cfg.model == "gchp" else [1]
        for nodes in node_counts:
            if _problem(cfg, inst, region, nodes, containerized):
                continue
            per_node = _gchp_layout(cfg, inst, nodes) if cfg.model == "gchp" else inst.physical_cores
            cores = per_node * nodes
            target = _target_point(cfg, inst, cores, nodes, species)
            log_rate = _predict_log_rate(target, pairs, serial)
            dpd = (math.exp(log_rate) * PER_CORE_SPEED.get(inst.cpu, 0.9) * amdahl(cores, serial)
                   * _node_efficiency(nodes, inst.efa) / target.work)
            if cfg.model == "gchp" and containerized:
                dpd /= CONTAINER_SLOWDOWN
            distances = [(_distance(target, p), s, p) for s, p in pairs]
            near_d, near_s, near_p = min(distances, key=lambda item: item[0])
            width = CONFIDENCE_WIDTH[near_s.confidence] + 0.25 * near_d
            expected_h = days / dpd * 24
            hours = Range(expected_h * math.exp(-width), expected_h, expected_h * math.exp(width))
            billed = Range(hours.low + staging_hours, hours.expected + staging_hours, hours.high + staging_hours)
            price = inst.on_demand(region) * nodes
            warnings = list(input_warnings)
            costs = {"on_demand": billed.scaled(price), "spot": None}
            spot_price, measured = inst.spot(region)
            if nodes > 1:
                warnings.append("Spot not possible: AWS Batch runs no multi-node parallel jobs on Spot")
            elif spot_price is None:
                warnings.append(f"Spot not possible: {inst.family} is sold on-demand only")
            else:
                widen = 1.0 if measured else TYPICAL_SPOT_WIDENING
                if not measured:
                    warnings.append(f"no Spot price history for {inst.name} in {region}: a typical "
                                    f"{inst.typical_spot_discount:.0%} discount is assumed and the Spot range widened")
                costs["spot"] = Range(billed.low * spot_price * SPOT_RERUN[0], billed.expected * spot_price * SPOT_RERUN[1],
                                      billed.high * spot_price * SPOT_RERUN[2] * widen)
            if nodes > 1 and not inst.efa:
                warnings.append(f"{inst.name} has no EFA; multi-node MPI traffic will be slow")
            if cfg.model == "gchp" and nodes < catalog.gchp_memory(cfg.cs_res)["min_nodes"]:
                warnings.append(f"GCHP at {cfg.resolution} usually runs on "
                                f"{catalog.gchp_memory(cfg.cs_res)['min_nodes']}+ nodes")
            if region != DATA_BUCKET_REGION:
                warnings.append(f"input data is in {DATA_BUCKET_REGION}; staging into {region} costs about "
                                f"${input_gb * INTER_REGION_USD_PER_GB:.2f} in transfer unless mirrored")
            far = " - far from any sample, so the range is wide" if near_d > FAR_DISTANCE else ""
            basis = (f"{len(pairs)} samples, serial fraction {serial:.3f}; nearest: {near_s.model} {near_s.simulation} "
                     f"{near_s.resolution} on {near_s.instance_type or 'an unstated platform'} ({near_s.source}, "
                     f"{near_s.confidence}), {_describe_difference(target, near_s, near_p)}, distance {near_d:.2f}; "
                     f"range x/{math.exp(width):.2f}{far}")
            results.append(Estimate(
                instance_type=inst.name, architecture=inst.architecture, cores=cores, nodes=nodes, hours=hours,
                days_per_day=dpd, cost_usd=costs, staging_hours=staging_hours, input_gb=input_gb,
                output_gb=output_gb, output_breakdown_gb=breakdown,
                output_storage_usd_per_month=output_gb * S3_STANDARD_USD_PER_GB_MONTH, basis=basis, warnings=warnings))
    return results


# --- Recommendations ------------------------------------------------------------------------

SPOT_RISK = ("Spot capacity can be reclaimed with two minutes' notice; the run then restarts its current "
             "segment from the last restart file, so the time and cost can grow")


def hours_text(hours: float) -> str:
    """A duration as people say it: "40 min", "3.2 h", "2.5 days"."""
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _label(e: Estimate) -> str:
    return f"{e.instance_type}" + (f" x{e.nodes} nodes" if e.nodes > 1 else "")


def recommend(estimates: list[Estimate]) -> list[Recommendation]:
    """Cheapest, fastest, balanced, Graviton vs x86, Spot vs on-demand, and (GCHP) nodes.

    Balanced: among estimates whose cheapest expected cost is within 1.25x of the cheapest,
    the one with the shortest expected time (a small premium for a real saving in time)."""
    if not estimates:
        return []
    out = []
    cheapest = min(estimates, key=lambda e: e.cheapest_cost()[1].expected)
    capacity, cost = cheapest.cheapest_cost()
    out.append(Recommendation("cheapest", cheapest.instance_type, capacity,
                              f"{_label(cheapest)} on {capacity} is the cheapest at about ${cost.expected:.2f} "
                              f"(${cost.low:.2f}-${cost.high:.2f}) and {hours_text(cheapest.hours.expected)}."))
    fastest = min(estimates, key=lambda e: e.hours.expected)
    out.append(Recommendation("fastest", fastest.instance_type, "on-demand",
                              f"{_label(fastest)} is the fastest at about {hours_text(fastest.hours.expected)} "
                              f"for ${fastest.cost_usd['on_demand'].expected:.2f} on-demand."))
    limit = 1.25 * cost.expected
    balanced = min((e for e in estimates if e.cheapest_cost()[1].expected <= limit), key=lambda e: e.hours.expected)
    b_cap, b_cost = balanced.cheapest_cost()
    out.append(Recommendation("balanced", balanced.instance_type, b_cap,
                              f"{_label(balanced)} on {b_cap} is the fastest within 1.25x of the cheapest cost: "
                              f"about {hours_text(balanced.hours.expected)} for ${b_cost.expected:.2f}."))
    arm = [e for e in estimates if e.architecture == "arm64"]
    x86 = [e for e in estimates if e.architecture == "x86_64"]
    if arm and x86:
        best_arm = min(arm, key=lambda e: e.cheapest_cost()[1].expected)
        best_x86 = min(x86, key=lambda e: e.cheapest_cost()[1].expected)
        a, x = best_arm.cheapest_cost()[1].expected, best_x86.cheapest_cost()[1].expected
        out.append(Recommendation("graviton-vs-x86", best_arm.instance_type if a <= x else best_x86.instance_type,
                                  (best_arm if a <= x else best_x86).cheapest_cost()[0],
                                  f"Best Graviton: {_label(best_arm)} ${a:.2f}, {hours_text(best_arm.hours.expected)}; "
                                  f"best x86: {_label(best_x86)} ${x:.2f}, {hours_text(best_x86.hours.expected)}; "
                                  f"difference ${abs(a - x):.2f} and "
                                  f"{hours_text(abs(best_arm.hours.expected - best_x86.hours.expected))} "
                                  "(Graviton needs the platform's own ARM64 build; the official images are x86_64)."))
    with_spot = [e for e in estimates if e.cost_usd.get("spot") is not None]
    multi = [e for e in estimates if e.nodes > 1]
    if with_spot:
        best = min(with_spot, key=lambda e: e.cost_usd["spot"].expected)
        saving = best.cost_usd["on_demand"].expected - best.cost_usd["spot"].expected
        text = (f"Spot on {best.instance_type} saves about ${saving:.2f} against on-demand. {SPOT_RISK}; "
                "choose on-demand when a deadline matters.")
        if multi:
            text += " Multi-node GCHP cannot use Spot: AWS Batch runs no multi-node jobs on Spot."
        out.append(Recommendation("spot-vs-on-demand", best.instance_type, "spot", text))
    elif multi:
        out.append(Recommendation("spot-vs-on-demand", multi[0].instance_type, "on-demand",
                                  "Multi-node GCHP cannot use Spot: AWS Batch runs no multi-node jobs on Spot; "
                                  "these runs need on-demand capacity."))
    single = [e for e in estimates if e.nodes == 1]
    if multi:
        best_multi = min(multi, key=lambda e: e.hours.expected)
        if single:
            best_single = min(single, key=lambda e: e.cheapest_cost()[1].expected)
            text = (f"One node: {_label(best_single)} about {hours_text(best_single.hours.expected)} for "
                    f"${best_single.cheapest_cost()[1].expected:.2f}; several: {_label(best_multi)} about "
                    f"{hours_text(best_multi.hours.expected)} for ${best_multi.cost_usd['on_demand'].expected:.2f} on-demand "
                    "(multi-node GCHP cannot use Spot).")
        else:
            text = (f"Every option needs {best_multi.nodes}+ nodes here; fastest: {_label(best_multi)} about "
                    f"{hours_text(best_multi.hours.expected)} on-demand (multi-node GCHP cannot use Spot).")
        out.append(Recommendation("nodes", best_multi.instance_type, "on-demand", text))
    return out
