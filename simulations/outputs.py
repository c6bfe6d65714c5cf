"""A simulation's output files, wherever they are: a local folder (file://) or an S3 prefix."""

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings

from simulations.backends.local import file_uri_to_path
from simulations.models import Simulation

# Under the output prefix but not outputs: the runner's reports and the run specs.
_INTERNAL = ("reports", "specs")


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the simulation's output location, "/"-separated
    size: int


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


def output_files(sim: Simulation) -> list[OutputFile]:
    """What is under the simulation's output location now (listing, not the runners' reports)."""
    if sim.output_uri.startswith("s3://"):
        from simulations import s3

        prefix = s3.split_uri(sim.output_uri)[1]
        found = [OutputFile(obj.key[len(prefix):], obj.size) for obj in s3.list_keys(sim.output_uri)]
    else:
        root = file_uri_to_path(sim.output_uri)
        if not root.is_dir():
            return []
        found = [OutputFile(p.relative_to(root).as_posix(), p.stat().st_size) for p in root.rglob("*") if p.is_file()]
    return sorted((f for f in found if PurePosixPath(f.path).parts[:1] not in [(name,) for name in _INTERNAL]),
                  key=lambda f: f.path)


def safe_relative(path: str) -> str | None:
    """`path` if it stays inside an output location and names an output, else None."""
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts or parts[0] in _INTERNAL:
        return None
    return "/".join(parts)


def local_file(sim: Simulation, path: str) -> Path | None:
    """The local file for an output path, or None (not local, outside the outputs, or missing)."""
    relative = safe_relative(path)
    if relative is None or not sim.output_uri.startswith("file://"):
        return None
    root = file_uri_to_path(sim.output_uri).resolve()
    target = (root / relative).resolve()
    return target if target.is_relative_to(root) and target.is_file() else None


def download_url(sim: Simulation, path: str) -> str | None:
    """A presigned, expiring S3 link for an output path, or None (not on S3, outside, or missing)."""
    relative = safe_relative(path)
    if relative is None or not sim.output_uri.startswith("s3://"):
        return None
    from simulations import s3

    uri = sim.output_uri + relative
    if not s3.exists(uri):
        return None
    return s3.presigned_url(uri, settings.S3_URL_EXPIRY_SECONDS)
