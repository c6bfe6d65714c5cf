"""Reading the run spec (docs/run-spec.md, spec_version 1) into what the demo model needs.

``load_run_config(path)`` returns a checked ``RunConfig`` or raises ``DemoInputError`` whose
message is one line a person can act on (the model prints it and exits non-zero). Only what the
demo model can run is accepted: Classic 4x5 and 2x2.5 global, Classic 0.5x0.625 nested on any
box, GCHP C24 and C48 (not stretched), 72 or 47 levels.
"""

from __future__ import annotations

import calendar
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SUPPORTED_GLOBAL = ("4x5", "2x2.5")
SUPPORTED_NESTED = ("0.5x0.625",)
SUPPORTED_CUBES = (24, 48)
SUPPORTED_LEVELS = (72, 47)
COLLECTIONS = ("SpeciesConc", "StateMet")


class DemoInputError(Exception):
    """The run spec asks for something the demo model cannot do, or is malformed."""


@dataclass(frozen=True)
class Interval:
    """A HISTORY.rc interval "YYYYMMDD hhmmss": calendar years and months, then a fixed time."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    def add_to(self, when: datetime) -> datetime:
        month0 = when.month - 1 + self.months + 12 * self.years
        year, month = when.year + month0 // 12, month0 % 12 + 1
        day = min(when.day, calendar.monthrange(year, month)[1])
        shifted = when.replace(year=year, month=month, day=day)
        return shifted + timedelta(days=self.days, hours=self.hours, minutes=self.minutes,
                                   seconds=self.seconds)

    @property
    def text(self) -> str:
        return f"{self.years:04d}{self.months:02d}{self.days:02d} {self.hours:02d}{self.minutes:02d}{self.seconds:02d}"


END = None  # "End": once, at the end of the segment


def parse_interval(text, what: str):
    """``"00000001 000000"`` -> Interval; ``"End"`` -> END."""
    if not isinstance(text, str):
        raise DemoInputError(f"{what} must be a string like '00000001 000000' or 'End', not {text!r}")
    cleaned = text.strip().strip("'\"")
    if cleaned.lower() == "end":
        return END
    parts = cleaned.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 8 or len(parts[1]) != 6:
        raise DemoInputError(f"{what} must look like 'YYYYMMDD hhmmss' or 'End', not {text!r}")
    ymd, hms = parts
    interval = Interval(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]), int(hms[:2]), int(hms[2:4]), int(hms[4:]))
    if interval == Interval():
        raise DemoInputError(f"{what} must be longer than zero: {text!r}")
    return interval


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    frequency: Interval | None   # None = End
    duration: Interval | None
    mode: str                    # "time-averaged" | "instantaneous"
    fields: tuple


@dataclass(frozen=True)
class RunConfig:
    model: str                   # classic | gchp
    geoschem_version: str
    simulation: str
    resolution: str              # "4x5", "0.5x0.625", "C24"
    levels: int
    domain: str
    nested: bool
    lon_range: tuple
    lat_range: tuple
    cs_res: int | None
    transport_s: int
    chemistry_s: int
    start: datetime              # this segment
    end: datetime
    run_start: datetime          # the whole simulation
    run_end: datetime
    collections: tuple
    ignored_collections: tuple
    operations: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _get(spec: dict, dotted: str, default=KeyError):
    node = spec
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is KeyError:
                raise DemoInputError(f"run spec is missing '{dotted}'")
            return default
        node = node[part]
    return node


def _datetime(spec: dict, dotted: str) -> datetime:
    text = _get(spec, dotted)
    try:
        return datetime.fromisoformat(str(text).replace("Z", ""))
    except ValueError:
        raise DemoInputError(f"run spec field '{dotted}' is not an ISO date-time: {text!r}") from None


def _normalise_resolution(text: str) -> str:
    """"4.0x5.0" -> "4x5"; "c24" -> "C24"."""
    text = str(text).strip()
    if text.upper().startswith("C") and text[1:].isdigit():
        return "C" + text[1:]
    try:
        a, b = (float(x) for x in text.lower().split("x"))
    except ValueError:
        return text
    return f"{a:g}x{b:g}"


def _pair(value, dotted: str) -> tuple:
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in value)):
        raise DemoInputError(f"run spec field '{dotted}' must be [min, max], not {value!r}")
    return float(value[0]), float(value[1])


def _operations(spec: dict) -> dict:
    """geoschem_config.operations switches the demo model honours (missing = on)."""
    ops = _get(spec, "geoschem_config.operations", {}) or {}

    def on(name):
        entry = ops.get(name, {})
        return bool(entry.get("activate", True)) if isinstance(entry, dict) else True

    return {"transport": on("transport"), "pbl_mixing": on("pbl_mixing"), "convection": on("convection"),
            "chemistry": on("chemistry"), "deposition": on("wet_deposition") or on("dry_deposition")}


def check_spec(spec: dict) -> RunConfig:
    """Check a parsed run spec; raises DemoInputError."""
    if not isinstance(spec, dict):
        raise DemoInputError("the run spec is not a JSON object")
    model = str(_get(spec, "model.name")).lower()
    if model not in ("classic", "gchp"):
        raise DemoInputError(f"model.name must be 'classic' or 'gchp', not {model!r}")
    levels = _get(spec, "grid.levels")
    if levels not in SUPPORTED_LEVELS:
        raise DemoInputError(f"the demo model supports 72 or 47 levels, not {levels!r}")
    resolution = _normalise_resolution(_get(spec, "grid.resolution"))
    domain = str(_get(spec, "grid.domain", "global") or "global")
    nested = bool(_get(spec, "grid.nested", False)) or domain.lower() != "global"
    lon_range = _pair(_get(spec, "grid.lon_range", [-180.0, 180.0]), "grid.lon_range")
    lat_range = _pair(_get(spec, "grid.lat_range", [-90.0, 90.0]), "grid.lat_range")
    cs_res = None
    if model == "gchp":
        cs_res = _get(spec, "grid.cs_res", None)
        if cs_res is None and resolution.startswith("C"):
            cs_res = int(resolution[1:])
        if cs_res not in SUPPORTED_CUBES:
            raise DemoInputError(f"unsupported GCHP resolution {resolution!r}: the demo model runs C24 and C48 only")
        if _get(spec, "grid.stretch", None):
            raise DemoInputError("stretched cubed-sphere grids are not supported by the demo model")
        resolution = f"C{cs_res}"
    else:
        if nested:
            if resolution not in SUPPORTED_NESTED:
                raise DemoInputError(f"unsupported nested resolution {resolution!r}: the demo model runs nested grids at 0.5x0.625 only")
            if not (-180.0 <= lon_range[0] < lon_range[1] <= 180.0 and -90.0 <= lat_range[0] < lat_range[1] <= 90.0):
                raise DemoInputError(f"nested box lon {list(lon_range)} lat {list(lat_range)} is not a valid box")
        elif resolution not in SUPPORTED_GLOBAL:
            raise DemoInputError(f"unsupported resolution {resolution!r}: the demo model runs global 4x5 or 2x2.5, nested 0.5x0.625, or GCHP C24/C48")

    start, end = _datetime(spec, "period.start"), _datetime(spec, "period.end")
    if end <= start:
        raise DemoInputError(f"period.end ({end}) must be after period.start ({start})")
    run_start = _datetime(spec, "run.start") if _get(spec, "run.start", None) else start
    run_end = _datetime(spec, "run.end") if _get(spec, "run.end", None) else end

    transport_s = _get(spec, "timesteps.transport_s", 600)
    chemistry_s = _get(spec, "timesteps.chemistry_s", 2 * transport_s if isinstance(transport_s, int) else 1200)
    for name, value in (("timesteps.transport_s", transport_s), ("timesteps.chemistry_s", chemistry_s)):
        if not isinstance(value, int) or value <= 0 or 86400 % value:
            raise DemoInputError(f"{name} must be a positive number of seconds dividing a day, not {value!r}")
    if (end - start).total_seconds() % transport_s:
        raise DemoInputError(f"the segment {start} .. {end} is not a whole number of {transport_s} s transport steps")

    collections, ignored = [], []
    raw = _get(spec, "history.collections", [])
    if not isinstance(raw, list):
        raise DemoInputError("history.collections must be a list")
    for item in raw:
        if not isinstance(item, dict) or "name" not in item:
            raise DemoInputError("each entry of history.collections needs a 'name'")
        name = str(item["name"])
        if name not in COLLECTIONS:
            ignored.append(name)
            continue
        mode = str(item.get("mode", "time-averaged")).lower().replace("_", "-")
        if mode in ("timeaveraged", "average", "time-average"):
            mode = "time-averaged"
        if mode not in ("time-averaged", "instantaneous"):
            raise DemoInputError(f"history collection {name}: mode must be time-averaged or instantaneous, not {item.get('mode')!r}")
        frequency = parse_interval(item.get("frequency", "00000001 000000"), f"{name}.frequency")
        duration = parse_interval(item.get("duration", item.get("frequency", "00000001 000000")), f"{name}.duration")
        fields = tuple(str(f) for f in (item.get("fields") or []))
        collections.append(CollectionSpec(name, frequency, duration, mode, fields))

    return RunConfig(
        model=model, geoschem_version=str(_get(spec, "model.geoschem_version", "14.7.0")),
        simulation=str(_get(spec, "simulation.type", "TransportTracers")),
        resolution=resolution, levels=levels, domain=domain, nested=nested and model == "classic",
        lon_range=lon_range, lat_range=lat_range, cs_res=cs_res,
        transport_s=transport_s, chemistry_s=chemistry_s, start=start, end=end,
        run_start=run_start, run_end=run_end, collections=tuple(collections),
        ignored_collections=tuple(ignored), operations=_operations(spec),
    )


def load_run_config(path) -> RunConfig:
    """Read and check the run spec at ``path``."""
    try:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
    except FileNotFoundError:
        raise DemoInputError(f"run spec not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DemoInputError(f"cannot read the run spec {path}: {exc}") from None
    return check_spec(spec)
