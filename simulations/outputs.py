"""Where a simulation's outputs are, from what its runners reported (metrics.json `outputs`)."""

from simulations.backends.local import file_uri_to_path
from simulations.models import Simulation


def output_locations(sim: Simulation) -> list[str]:
    """Every output file the runners copied, as local paths (file://) or URIs, in order, once each."""
    seen: dict[str, None] = {}
    for metrics in sim.jobs.exclude(metrics=None).order_by("segment", "attempt").values_list("metrics", flat=True):
        for key in metrics.get("outputs") or []:
            seen.setdefault(key, None)
    if sim.output_uri.startswith("file://"):
        root = file_uri_to_path(sim.output_uri)
        return [str(root / key) for key in seen]
    return [sim.output_uri + key for key in seen]
