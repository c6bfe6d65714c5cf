"""Reading and checking the run spec (docs/run-spec.md, ``spec_version`` 1).

``load_spec`` returns the raw document; ``check_spec`` checks the fields the runner relies on
and returns them as a ``Segment``. Any problem raises ``SpecError`` with a message that names
the field, because that message ends up in metrics.json for a person to read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from . import SPEC_VERSION
from .transport import TransportError, read_bytes, scheme_of

MODELS = ("classic", "gchp")
# Where the official images keep the GEOS-Chem source (GCClassic/ and GCHP/ under it), whose
# createRunDir.sh makes the run directory on the production path.
DEFAULT_SOURCE_DIR = "/opt/geos-chem/src"
DEMO = "demo"  # model.executable of the demo model (containers/demo_model)


class SpecError(Exception):
    """The run spec cannot be read or lacks what the runner needs."""


@dataclass(frozen=True)
class Segment:
    """What the runner needs to know about the segment it runs, already checked."""

    job_name: str
    model: str  # classic | gchp
    executable: str  # "demo" or a path to gcclassic / gchp
    start: datetime
    end: datetime
    cs_res: int | None  # cubed-sphere resolution, GCHP only
    threads: int  # OMP_NUM_THREADS (Classic)
    total_cores: int  # MPI ranks (GCHP)
    restart_uri: str | None
    output_uri: str
    report_uri: str
    instance_type: str | None
    nodes: int = 1
    cores_per_node: int = 1
    source_dir: str | None = None  # GEOS-Chem source with createRunDir.sh; None: render only
    input_root: str | None = None  # the local ExtData root the model reads
    input_source: str | None = None  # where missing inputs are copied from; None: no staging

    @property
    def is_demo(self) -> bool:
        return self.executable == DEMO

    @property
    def days(self) -> float:
        """Length of the segment in simulated days."""
        return (self.end - self.start).total_seconds() / 86400.0


def load_spec(uri: str) -> dict:
    """The run spec at ``uri`` (a path or a ``file://`` URI) as a dict."""
    try:
        raw = read_bytes(uri)
    except TransportError as exc:
        raise SpecError(f"cannot read the run spec: {exc}") from exc
    try:
        spec = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"the run spec at {uri} is not valid JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise SpecError(f"the run spec at {uri} is not a JSON object")
    return spec


_MISSING = object()


def _get(spec: dict, dotted: str, *, allow_null: bool = False):
    node = spec
    walked = []
    for part in dotted.split("."):
        if not isinstance(node, dict):
            raise SpecError(f"run spec field '{'.'.join(walked)}' must be an object")
        walked.append(part)
        node = node.get(part, _MISSING)
        if node is _MISSING:
            raise SpecError(f"run spec is missing '{dotted}'")
    if node is None and not allow_null:
        raise SpecError(f"run spec field '{dotted}' must not be null")
    return node


def _text(spec: dict, dotted: str) -> str:
    value = _get(spec, dotted)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"run spec field '{dotted}' must be a non-empty string")
    return value


def _count(value, dotted: str) -> int:
    # bool is an int in Python; a "true" core count is a mistake worth reporting.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"run spec field '{dotted}' must be a positive integer, not {value!r}")
    return value


def _when(spec: dict, dotted: str) -> datetime:
    value = _text(spec, dotted)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SpecError(f"run spec field '{dotted}' is not an ISO date-time: {value!r}") from exc
    # Model time has no zone; a zone here would make comparisons with log dates fail later.
    if parsed.tzinfo is not None:
        raise SpecError(f"run spec field '{dotted}' must not carry a time zone: {value!r}")
    return parsed


def check_spec(spec: dict) -> Segment:
    """Check ``spec`` against version 1 of the contract and return the runner's view of it."""
    version = _get(spec, "spec_version")
    if version != SPEC_VERSION:
        raise SpecError(f"spec_version {version!r} is not supported (this runner reads {SPEC_VERSION})")
    model = _text(spec, "model.name")
    if model not in MODELS:
        raise SpecError(f"run spec field 'model.name' must be one of {', '.join(MODELS)}, not {model!r}")
    start = _when(spec, "period.start")
    end = _when(spec, "period.end")
    if end <= start:
        raise SpecError(f"run spec period ends ({end.isoformat()}) before it starts ({start.isoformat()})")

    restart_uri = _get(spec, "restart.uri", allow_null=True)
    if restart_uri is not None and (not isinstance(restart_uri, str) or not restart_uri):
        raise SpecError("run spec field 'restart.uri' must be a string or null")
    if not isinstance(_get(spec, "geoschem_config"), dict):
        raise SpecError("run spec field 'geoschem_config' must be an object")
    collections = _get(spec, "history.collections")
    if not isinstance(collections, list):
        raise SpecError("run spec field 'history.collections' must be a list")
    for index, collection in enumerate(collections):
        if not isinstance(collection, dict) or not isinstance(collection.get("name"), str):
            raise SpecError(f"run spec field 'history.collections[{index}]' needs a 'name'")

    threads = _count(_get(spec, "compute.threads"), "compute.threads")
    nodes = _count(_get(spec, "compute.nodes"), "compute.nodes")
    cores_per_node = _count(_get(spec, "compute.cores_per_node"), "compute.cores_per_node")
    total_cores = nodes * cores_per_node
    cs_res = None
    if model == "gchp":
        cs_res = _count(_get(spec, "grid.cs_res"), "grid.cs_res")
        settings = _get(spec, "gchp.setCommonRunSettings")
        if not isinstance(settings, dict):
            raise SpecError("run spec field 'gchp.setCommonRunSettings' must be an object")
        # setCommonRunSettings is what GCHP itself is told, so it wins over compute.
        if "TOTAL_CORES" in settings:
            total_cores = _count(_as_int(settings["TOTAL_CORES"]), "gchp.setCommonRunSettings.TOTAL_CORES")

    instance_type = (spec.get("compute") or {}).get("instance_type")
    executable = _text(spec, "model.executable")
    source_dir, input_root, input_source = _production_fields(spec, executable)
    return Segment(
        job_name=_text(spec, "job_name"),
        model=model,
        executable=executable,
        start=start,
        end=end,
        cs_res=cs_res,
        threads=threads,
        total_cores=total_cores,
        restart_uri=restart_uri,
        output_uri=_text(spec, "io.output_uri"),
        report_uri=_text(spec, "io.report_uri"),
        instance_type=instance_type if isinstance(instance_type, str) else None,
        nodes=nodes,
        cores_per_node=cores_per_node,
        source_dir=source_dir,
        input_root=input_root,
        input_source=input_source,
    )


def _optional_text(spec: dict, section: str, name: str, default):
    node = spec.get(section)
    if not isinstance(node, dict) or name not in node:
        return default
    value = node[name]
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"run spec field '{section}.{name}' must be a non-empty string or null")
    return value


def _production_fields(spec: dict, executable: str) -> tuple[str | None, str | None, str | None]:
    """``model.source_dir``, ``io.input_root`` and ``io.input_source``, checked together.

    The demo model needs none of them. A real model gets its run directory from
    createRunDir.sh (unless ``model.source_dir`` is null) and its inputs staged (unless
    ``io.input_source`` is null or absent); both need ``io.input_root`` on this machine.
    """
    input_root = _optional_text(spec, "io", "input_root", None)
    if executable == DEMO:
        return None, input_root, None
    source_dir = _optional_text(spec, "model", "source_dir", DEFAULT_SOURCE_DIR)
    input_source = _optional_text(spec, "io", "input_source", None)
    if input_source is not None and scheme_of(input_source) not in ("s3", "file"):
        raise SpecError(f"run spec field 'io.input_source' must be an s3:// or file:// location, "
                        f"not {input_source!r}")
    if (source_dir or input_source) and (input_root is None or scheme_of(input_root) != "file"):
        raise SpecError("run spec field 'io.input_root' must be a local path (the ExtData root the "
                        "model reads) when createRunDir.sh or input staging is used")
    return source_dir, input_root, input_source


def _as_int(value):
    # The shell-variable values of setCommonRunSettings may arrive as strings ("24").
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def report_uri_of(spec) -> str | None:
    """``io.report_uri`` of a spec that failed its check, if it is there at all.

    Lets the runner still leave a metrics.json saying why it refused the spec.
    """
    if isinstance(spec, dict) and isinstance(spec.get("io"), dict):
        uri = spec["io"].get("report_uri")
        if isinstance(uri, str) and uri:
            return uri
    return None
