"""Where an output file is on this machine: the file itself (file://) or a cached copy (s3://).

Readers need a local file (netCDF4 reads by seeking). On AWS the web app and the task cluster
keep copies of the files they have read under GCR_RESULTS_CACHE_DIR, downloaded whole on first
use; a copy is kept while its size matches the object's. Nothing outside the simulation's own
outputs can be reached: paths go through simulations.outputs.safe_relative.
"""

from pathlib import Path

from django.conf import settings

from simulations.models import Simulation
from simulations.outputs import local_file, safe_relative


class OutputMissing(Exception):
    """No such output file of this simulation (or the path leaves its outputs)."""


def local_path(sim: Simulation, path: str) -> Path:
    relative = safe_relative(path)
    if relative is None:
        raise OutputMissing(f"{path!r} is not one of this simulation's output files")
    if sim.output_uri.startswith("file://"):
        found = local_file(sim, relative)
        if found is None:
            raise OutputMissing(f"{relative} is not among this simulation's outputs (any more)")
        return found
    from simulations import s3

    cached = Path(settings.RESULTS_CACHE_DIR) / str(sim.id) / relative
    if not cached.is_file():
        uri = sim.output_uri + relative
        if not s3.exists(uri):
            raise OutputMissing(f"{relative} is not among this simulation's outputs (any more)")
        s3.download(uri, cached)
    return cached
