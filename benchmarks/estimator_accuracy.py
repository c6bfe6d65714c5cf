"""Estimator accuracy (leave-one-out over the shipped throughput samples) and its time.

    .venv/bin/python benchmarks/estimator_accuracy.py [--json]

For each sample in costs.samples.SAMPLES, a 1-month run of that sample's model, simulation,
resolution and levels on that instance type is estimated from the OTHER samples, and the
predicted days/day is compared with the held-out figure. The baseline, in the same run,
predicts the median days/day of the other samples, scaled by nothing. Reported: per-sample
relative error |predicted - actual| / actual, the median and the worst, for both; the figure
is the ratio of the estimator's median error to the baseline's. Samples are native runs, so
the container slowdown is off here. No Django needed (config, catalog and costs are pure).

Time: one estimate across every instance type of the snapshot, for a Classic 4x5 month and a
GCHP C90 two-node month, with the serial fraction fitted in the call (the baseline: what every
estimate would cost without the selector's cache) and given (what the selector does once the fit
is cached), with the 8 shipped samples and with 200 (the shipped ones plus platform-measured
variations, as a busy platform accumulates them). The figures are the ratios.
"""

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from costs import estimator  # noqa: E402
from costs.instances import INSTANCE_TYPES, InstanceOffer  # noqa: E402
from costs.samples import SAMPLES  # noqa: E402
from simulations.config import parse_config  # noqa: E402

# A sample with no stated platform is estimated on a stand-in with its core count and an
# "unknown" CPU, exactly as the calibration treats it.
UNSTATED = InstanceOffer("unstated", "unknown", "unknown", "unknown", 0, 0, 1024, 0, False,
                        {"us-east-1": 1.0}, None, "stand-in for an unstated platform")


def _config(sample):
    raw = {"model": sample.model, "simulation": sample.simulation, "resolution": sample.resolution,
           "levels": sample.levels, "start": "2019-01-01", "end": "2019-02-01",
           "compute": {"nodes": sample.nodes, "cores_per_node": 6 if sample.model == "gchp" else 1}}
    return parse_config(raw)


def leave_one_out(samples=SAMPLES) -> dict:
    """Per-sample and summary relative errors of the estimator and of the naive median baseline."""
    rows = []
    for i, held in enumerate(samples):
        others = samples[:i] + samples[i + 1:]
        if held.instance_type:
            instance = INSTANCE_TYPES[held.instance_type]
        else:
            instance = replace(UNSTATED, vcpus=held.cores, physical_cores=held.cores)
        estimates = estimator.estimate(_config(held), [instance], others, containerized=False,
                                       advected_species=held.advected_species)
        match = [e for e in estimates if e.nodes == held.nodes]
        predicted = match[0].days_per_day
        baseline = statistics.median(s.days_per_day for s in others)
        rows.append({"sample": f"{held.model} {held.simulation} {held.resolution} {held.instance_type or 'unstated'}"
                               f" {held.cores}c", "confidence": held.confidence, "actual": held.days_per_day,
                     "predicted": predicted, "error": abs(predicted - held.days_per_day) / held.days_per_day,
                     "baseline": baseline, "baseline_error": abs(baseline - held.days_per_day) / held.days_per_day})
    errors = [r["error"] for r in rows]
    base = [r["baseline_error"] for r in rows]
    return {"rows": rows, "median_error": statistics.median(errors), "worst_error": max(errors),
            "baseline_median_error": statistics.median(base), "baseline_worst_error": max(base),
            "ratio_to_baseline": statistics.median(errors) / statistics.median(base)}


def _many_samples(n: int) -> tuple:
    """The shipped samples, then platform-measured variations of them (other core counts)."""
    extra = []
    i = 0
    while len(SAMPLES) + len(extra) < n:
        base = SAMPLES[i % len(SAMPLES)]
        factor = 0.5 + (i % 7) / 6
        extra.append(replace(base, cores=max(6, int(base.cores * factor)) // 6 * 6 or 6,
                             days_per_day=base.days_per_day * factor ** 0.8, confidence="platform-measured"))
        i += 1
    return SAMPLES + tuple(extra)


def _best_of(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def timing() -> dict:
    """Seconds per estimate across all instance types: fit in the call vs fit given."""
    configs = {
        "classic fullchem 4x5 month": {"model": "classic", "simulation": "fullchem", "resolution": "4x5"},
        "gchp TransportTracers C90 2 nodes": {"model": "gchp", "simulation": "TransportTracers",
                                              "resolution": "C90", "compute": {"nodes": 2, "cores_per_node": 48}},
    }
    instances = list(INSTANCE_TYPES.values())
    rows = []
    for count in (len(SAMPLES), 200):
        samples = _many_samples(count)
        serial = estimator.fit_serial_fraction(estimator.calibration_pairs(samples, instances))
        for label, raw in configs.items():
            cfg = parse_config({**raw, "start": "2019-07-01", "end": "2019-08-01"})
            cold = _best_of(lambda: estimator.estimate(cfg, instances, samples), repeat=1 if count > 50 else 5)
            warm = _best_of(lambda: estimator.estimate(cfg, instances, samples, serial=serial))
            rows.append({"configuration": label, "samples": count, "instances": len(instances),
                         "fit_in_call_s": cold, "fit_given_s": warm, "ratio_given_to_fit": warm / cold})
    return {"rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = leave_one_out()
    result["timing"] = timing()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for r in result["rows"]:
        print(f"{r['sample']:<48} {r['confidence']:<24} actual {r['actual']:7.1f}  predicted {r['predicted']:7.1f} "
              f"({r['error']:6.1%})  baseline {r['baseline']:7.1f} ({r['baseline_error']:6.1%})")
    print(f"estimator: median {result['median_error']:.1%}, worst {result['worst_error']:.1%}")
    print(f"baseline : median {result['baseline_median_error']:.1%}, worst {result['baseline_worst_error']:.1%}")
    print(f"ratio (estimator / baseline median error): {result['ratio_to_baseline']:.2f}")
    print("\ntime of one estimate across all instance types:")
    for r in result["timing"]["rows"]:
        print(f"  {r['configuration']:<36} {r['samples']:>4} samples, {r['instances']} instance types: fit in the call "
              f"{r['fit_in_call_s'] * 1000:9.1f} ms, fit given (cached) {r['fit_given_s'] * 1000:7.2f} ms, "
              f"ratio {r['ratio_given_to_fit']:.4f}")


if __name__ == "__main__":
    main()
