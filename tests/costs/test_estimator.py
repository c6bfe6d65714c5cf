"""The pure cost estimator: feasibility, ranges, volumes, recommendations, leave-one-out accuracy."""

import math

import pytest

from benchmarks.estimator_accuracy import leave_one_out
from costs import estimator
from costs.instances import INSTANCE_TYPES
from costs.samples import SAMPLES
from simulations.config import parse_config

INSTANCES = list(INSTANCE_TYPES.values())


def classic(**raw):
    return parse_config({"model": "classic", "simulation": "fullchem", "resolution": "4x5", **raw})


def gchp_c90_two_nodes():
    return parse_config({"model": "gchp", "simulation": "TransportTracers", "resolution": "C90",
                         "compute": {"nodes": 2, "cores_per_node": 48, "capacity": "on-demand"}})


def test_every_instance_that_can_run_a_classic_4x5_month_gets_an_ordered_range_and_spot_below_on_demand():
    cfg = classic()
    estimates = estimator.estimate(cfg, INSTANCES, SAMPLES)
    refused = {name for name, _ in estimator.unrunnable(cfg, INSTANCES)}
    assert {e.instance_type for e in estimates} | refused == set(INSTANCE_TYPES)
    assert len(estimates) >= 15
    for e in estimates:
        assert 0 < e.hours.low <= e.hours.expected <= e.hours.high
        on_demand = e.cost_usd["on_demand"]
        assert on_demand.low <= on_demand.expected <= on_demand.high
        if e.cost_usd["spot"] is not None:
            spot = e.cost_usd["spot"]
            assert spot.low <= spot.expected <= spot.high
            assert spot.high < on_demand.high and spot.expected < on_demand.expected
        assert e.cores == INSTANCE_TYPES[e.instance_type].physical_cores and e.nodes == 1


def test_an_instance_without_enough_memory_is_refused_with_the_reason():
    cfg = classic(resolution="2x2.5")
    reasons = dict(estimator.unrunnable(cfg, INSTANCES))
    assert reasons["c4.4xlarge"] == "needs 40 GB of memory; c4.4xlarge has 30 GiB"
    assert "c4.4xlarge" not in {e.instance_type for e in estimator.estimate(cfg, INSTANCES, SAMPLES)}


def test_an_instance_not_sold_in_the_region_is_refused_with_the_reason():
    reasons = dict(estimator.unrunnable(classic(), INSTANCES, region="us-west-2"))
    assert "hpc7g.16xlarge is not offered in us-west-2" in reasons["hpc7g.16xlarge"]


def test_a_gchp_c90_two_node_run_has_only_on_demand_costs_and_says_why_spot_is_absent():
    cfg = gchp_c90_two_nodes()
    estimates = estimator.estimate(cfg, INSTANCES, SAMPLES)
    assert estimates
    for e in estimates:
        assert e.nodes == 2
        assert e.cores % 6 == 0
        assert e.cost_usd["spot"] is None
        assert e.cost_usd["on_demand"].expected > 0
        assert any("Spot not possible" in w and "multi-node" in w for w in e.warnings)
    reasons = dict(estimator.unrunnable(cfg, INSTANCES))
    assert "needs 100 GB per node" in reasons["c4.4xlarge"]
    # The platform's GCHP images are x86_64 only; a native build is judged on memory and cores.
    assert "images are built for x86_64 only" in reasons["c7g.8xlarge"]
    native = dict(estimator.unrunnable(cfg, INSTANCES, containerized=False))
    assert "needs 100 GB per node" in native["c7g.8xlarge"]
    assert {e.architecture for e in estimates} == {"x86_64"}


def test_more_cores_of_one_family_are_not_slower():
    estimates = {e.instance_type: e for e in estimator.estimate(classic(), INSTANCES, SAMPLES)}
    for family in (("c7a.16xlarge", "c7a.24xlarge", "c7a.48xlarge"), ("c7i.16xlarge", "c7i.24xlarge", "c7i.48xlarge"),
                   ("c8g.8xlarge", "c8g.16xlarge", "c8g.24xlarge")):
        hours = [estimates[name].hours.expected for name in family]
        assert hours == sorted(hours, reverse=True)


def test_amdahl_throughput_grows_with_cores_and_saturates():
    assert estimator.amdahl(1, 0.05) == 1
    values = [estimator.amdahl(c, 0.05) for c in (1, 8, 48, 96, 1000)]
    assert values == sorted(values)
    assert values[-1] < 1 / 0.05


def test_a_configuration_far_from_any_sample_gets_a_wider_range_and_says_so():
    near = estimator.estimate(classic(), [INSTANCE_TYPES["c7i.48xlarge"]], SAMPLES)[0]
    far_cfg = parse_config({"model": "classic", "simulation": "Hg", "met": "GEOSFP", "resolution": "0.25x0.3125",
                            "domain": "NA", "start": "2019-01-01", "end": "2019-02-01"})
    far = estimator.estimate(far_cfg, [INSTANCE_TYPES["c7i.48xlarge"]], SAMPLES)[0]
    assert far.hours.high / far.hours.expected > near.hours.high / near.hours.expected
    assert "far from any sample" in far.basis
    assert "far from any sample" not in near.basis
    assert "nearest:" in far.basis


def test_input_volume_for_a_year_of_merra2_4x5_is_about_30_gb():
    cfg = classic(start="2019-01-01", end="2020-01-01")
    gb, warnings = estimator.input_volume_gb(cfg)
    assert gb == pytest.approx(30, rel=0.01)
    assert warnings == []
    e = estimator.estimate(cfg, [INSTANCE_TYPES["c7i.24xlarge"]], SAMPLES)[0]
    # 30 GB at 200 MB/s = 150 s
    assert e.staging_hours == pytest.approx(30_000 / 200 / 3600, rel=0.01)


def test_output_volume_of_daily_transporttracers_speciesconc_for_a_month_is_plausible():
    cfg = parse_config({"simulation": "TransportTracers", "resolution": "4x5", "levels": 72,
                        "start": "2019-01-01", "end": "2019-02-01", "outputs": {"SpeciesConc": "daily"}})
    volumes = estimator.output_volume_gb(cfg)
    # 4x5 is 72 x 46 = 3312 columns; one 72-level float32 field = 3312 * 72 * 4 B = 0.954 MB
    # (GEOSCHEM.md: 0.95 MB). 21 species x 31 daily means x 0.954 MB = 621 MB.
    assert volumes["SpeciesConc"] == pytest.approx(0.621, abs=0.005)
    # One restart at the end of the single segment: (21 species + 5 met) x 0.954 MB = 25 MB.
    assert volumes["Restart"] == pytest.approx(0.0248, abs=0.001)
    e = estimator.estimate(cfg, [INSTANCE_TYPES["c7g.8xlarge"]], SAMPLES)[0]
    assert e.output_storage_usd_per_month == pytest.approx(e.output_gb * 0.023)


def test_recommendations_name_cheapest_fastest_and_balanced_with_sentences():
    recs = {r.kind: r for r in estimator.recommend(estimator.estimate(classic(), INSTANCES, SAMPLES))}
    for kind in ("cheapest", "fastest", "balanced", "graviton-vs-x86", "spot-vs-on-demand"):
        assert recs[kind].reason.endswith(".")
        assert recs[kind].instance_type in INSTANCE_TYPES
    assert "two minutes' notice" in recs["spot-vs-on-demand"].reason


def test_recommendations_for_multi_node_gchp_say_spot_is_not_possible():
    recs = estimator.recommend(estimator.estimate(gchp_c90_two_nodes(), INSTANCES, SAMPLES))
    kinds = {r.kind: r for r in recs}
    assert "Multi-node GCHP cannot use Spot" in kinds["spot-vs-on-demand"].reason
    assert kinds["spot-vs-on-demand"].capacity == "on-demand"
    assert "nodes" in kinds


def test_leave_one_out_error_is_finite_and_no_worse_than_the_naive_median():
    result = leave_one_out()
    assert len(result["rows"]) == len(SAMPLES)
    assert math.isfinite(result["median_error"])
    assert result["median_error"] <= result["baseline_median_error"]
