"""The run directory: the files GEOS-Chem reads, rendered from the run spec.

Pure renderers (``render_geoschem_config``, ``render_history``,
``render_common_run_settings``, ``restart_filename``, ``cap_restart_text``) turn spec values
into the text GEOS-Chem expects; ``prepare_run_dir`` writes them into a directory and stages
the restart file. The texts are hand-formatted (no YAML library: the runner uses the standard
library only) in the layout of the files ``createRunDir.sh`` writes, so a person can diff them.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from .spec import Segment
from .transport import fetch as fetch_uri

OUTPUT_DIR = "OutputDir"
RESTART_DIR = "Restarts"
SPEC_FILE = "runspec.json"
CAP_RESTART = "cap_restart"
# GCHP (MAPL) writes its end-of-run checkpoint under this name; the run scripts of GCHP
# rename it to GEOSChem.Restart.<date>z.c<N>.nc4 afterwards, and so does the runner.
GCHP_CHECKPOINT = "gcchem_internal_checkpoint"


def restart_filename(when: datetime, cs_res: int | None = None) -> str:
    """The name GEOS-Chem gives the restart valid at ``when``.

    Classic: ``GEOSChem.Restart.20190101_0000z.nc4``; GCHP adds the cube size:
    ``GEOSChem.Restart.20190101_0000z.c24.nc4``.
    """
    stamp = when.strftime("%Y%m%d_%H%Mz")
    grid = f".c{cs_res}" if cs_res else ""
    return f"GEOSChem.Restart.{stamp}{grid}.nc4"


def cap_restart_text(when: datetime) -> str:
    """The content of GCHP's ``cap_restart``: the start date as ``YYYYMMDD hhmmss``."""
    return when.strftime("%Y%m%d %H%M%S") + "\n"


def read_cap_restart(path: Path) -> datetime | None:
    """The date in a ``cap_restart`` file, or None if it is missing or unreadable."""
    try:
        fields = path.read_text().split()
        return datetime.strptime(f"{fields[0]} {fields[1]:0>6}", "%Y%m%d %H%M%S")
    except (OSError, IndexError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# geoschem_config.yml
# ---------------------------------------------------------------------------------------------

# YAML 1.1 reads these words as booleans or null; GEOS-Chem's own template quotes them too.
_YAML_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_PLAIN = re.compile(r"[A-Za-z_/][\w./+-]*|\./[\w./+-]*")
# GEOS-Chem writes dates as [YYYYMMDD, hhmmss] with the time zero-padded to six digits.
_DATE_KEYS = {"start_date", "end_date"}


def _yaml_scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_RESERVED:
        return text
    return "'" + text.replace("'", "''") + "'"


def _yaml_is_scalar(value) -> bool:
    return not isinstance(value, (dict, list))


def _yaml_lines(key: str, value, indent: int) -> list[str]:
    pad = " " * indent
    if key in _DATE_KEYS and isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return [f"{pad}{key}: [{value[0]:08d}, {value[1]:06d}]"]
    if isinstance(value, dict):
        if not value:
            return [f"{pad}{key}: {{}}"]
        lines = [f"{pad}{key}:"]
        for sub_key, sub_value in value.items():
            lines += _yaml_lines(str(sub_key), sub_value, indent + 2)
        return lines
    if isinstance(value, list):
        if not value:
            return [f"{pad}{key}: []"]
        # Short lists of numbers and switches stay on one line, as in GEOS-Chem's template
        # (ranges, buffer zones); lists of names become block lists (transported_species).
        if all(_yaml_is_scalar(v) and not isinstance(v, str) for v in value):
            return [f"{pad}{key}: [{', '.join(_yaml_scalar(v) for v in value)}]"]
        lines = [f"{pad}{key}:"]
        for item in value:
            lines += _yaml_list_item(item, indent + 2)
        return lines
    return [f"{pad}{key}: {_yaml_scalar(value)}"]


def _yaml_list_item(item, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(item, dict) and item:
        nested = []
        for sub_key, sub_value in item.items():
            nested += _yaml_lines(str(sub_key), sub_value, indent + 2)
        return [f"{pad}- {nested[0].lstrip()}"] + nested[1:]
    if isinstance(item, list):
        return [f"{pad}- [{', '.join(_yaml_scalar(v) for v in item)}]"]
    return [f"{pad}- {_yaml_scalar(item)}"]


def render_geoschem_config(config: dict, *, job_name: str = "") -> str:
    """``geoschem_config.yml`` for the values in ``spec["geoschem_config"]``.

    Sections keep the spec's order, each under a banner like GEOS-Chem's template.
    """
    out = [
        "---",
        "### geoschem_config.yml: GEOS-Chem run-time configuration options.",
        f"### Written by the GEOS-Chem Cloud Runner from the run spec{f' of {job_name}' if job_name else ''}.",
        "",
    ]
    for section, values in config.items():
        out += [
            "#" + "=" * 76,
            f"# {str(section).replace('_', ' ').capitalize()} settings",
            "#" + "=" * 76,
        ]
        out += _yaml_lines(str(section), values, 0)
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# HISTORY.rc
# ---------------------------------------------------------------------------------------------

# A Classic run writes its end-of-run restart through this History collection; without it
# there is no restart and the next segment cannot start, so the runner always adds it.
_CLASSIC_RESTART_FIELDS = [
    "SpeciesRst_?ALL?", "Met_DELPDRY", "Met_PS1WET", "Met_PS1DRY",
    "Met_SPHU1", "Met_TMPU1", "Met_BXHEIGHT", "Met_TropLev",
]
_KEY_WIDTH = 28


def _rc_line(collection: str, attribute: str, value: str) -> str:
    label = f"{collection}.{attribute}:"
    return f"  {label:<{_KEY_WIDTH}}{value}"


def _rc_fields(collection: str, fields: list[str], gridcomp: str) -> list[str]:
    names = fields or ["SpeciesConcVV_?ALL?"]
    quoted = [f"'{name:<30}', '{gridcomp}'," for name in names]
    lines = [_rc_line(collection, "fields", quoted[0])]
    lines += [" " * (_KEY_WIDTH + 2) + entry for entry in quoted[1:]]
    return lines


def gchp_interval(value: str) -> tuple[str, bool]:
    """A ``YYYYMMDD hhmmss`` interval as GCHP's History wants it: ``(hhmmss, monthly)``.

    MAPL History counts intervals in hours (``240000`` is one day) and has a separate
    ``monthly`` switch for calendar months.
    """
    date, _, time = value.strip().partition(" ")
    date, time = date.zfill(8), (time or "000000").zfill(6)
    years, months, days = int(date[:4]), int(date[4:6]), int(date[6:])
    if years == 0 and months == 1 and days == 0 and int(time) == 0:
        return "010000", True
    if years or months:
        raise ValueError(f"GCHP History cannot express the interval {value!r} except one month")
    hours = days * 24 + int(time[:2])
    return f"{hours:02d}{time[2:]}", False


def _collection_lines(col: dict, model: str) -> list[str]:
    name = str(col["name"])
    mode = col.get("mode", "time-averaged")
    lines = [
        "#" + "=" * 78,
        f"# %%%%% THE {name} COLLECTION %%%%%",
        "#" + "=" * 78,
    ]
    if model == "gchp":
        freq, monthly = gchp_interval(col.get("frequency", "00000001 000000"))
        dur, _ = gchp_interval(col.get("duration", col.get("frequency", "00000001 000000")))
        lines += [
            _rc_line(name, "template", "'%y4%m2%d2_%h2%n2z.nc4',"),
            _rc_line(name, "format", "'CFIO',"),
            _rc_line(name, "timestampStart", ".true."),
            _rc_line(name, "monthly", "1" if monthly else "0"),
            _rc_line(name, "frequency", freq),
            _rc_line(name, "duration", dur),
            _rc_line(name, "mode", f"'{mode}'"),
        ]
        lines += _rc_fields(name, list(col.get("fields") or []), "GCHPchem")
    else:
        lines += [
            _rc_line(name, "template", "'%y4%m2%d2_%h2%n2z.nc4',"),
            _rc_line(name, "frequency", str(col.get("frequency", "00000001 000000"))),
            _rc_line(name, "duration", str(col.get("duration", col.get("frequency", "00000001 000000")))),
            _rc_line(name, "mode", f"'{mode}'"),
        ]
        lines += _rc_fields(name, list(col.get("fields") or []), "GIGCchem")
    return lines + ["::"]


def _classic_restart_lines() -> list[str]:
    return [
        "#" + "=" * 78,
        "# %%%%% THE Restart COLLECTION %%%%%",
        "#" + "=" * 78,
        _rc_line("Restart", "filename", "'./Restarts/GEOSChem.Restart.%y4%m2%d2_%h2%n2z.nc4',"),
        _rc_line("Restart", "format", "'CFIO',"),
        _rc_line("Restart", "frequency", "'End',"),
        _rc_line("Restart", "duration", "'End',"),
        _rc_line("Restart", "mode", "'instantaneous'"),
        *_rc_fields("Restart", _CLASSIC_RESTART_FIELDS, "GIGCchem"),
        "::",
    ]


def render_history(history: dict, model: str) -> str:
    """``HISTORY.rc`` for ``spec["history"]``, Classic or GCHP flavour.

    Classic always gets the Restart collection (see ``_CLASSIC_RESTART_FIELDS``); GCHP never
    does, because its restart is MAPL's checkpoint, not a History collection.
    """
    collections = [c for c in history.get("collections", []) if c.get("name") != "Restart"]
    names = ([] if model == "gchp" else ["Restart"]) + [str(c["name"]) for c in collections]
    out = [
        "#" + "=" * 78,
        "# HISTORY.rc: GEOS-Chem diagnostic output (collections, frequencies, fields).",
        "# Written by the GEOS-Chem Cloud Runner from the run spec.",
        "#" + "=" * 78,
    ]
    if model == "gchp":
        out += ["VERSION: 1", "EXPID:  OutputDir/GEOSChem", "EXPDSC: GEOS-Chem_devel", "VERBOSE: 0"]
    else:
        out += ["EXPID:  ./OutputDir/GEOSChem"]
    out.append("")
    if names:
        out.append(f"COLLECTIONS: '{names[0]}',")
        out += [f"             '{name}'," for name in names[1:]]
    else:
        out.append("COLLECTIONS:")
    out.append("::")
    if model != "gchp":
        out += _classic_restart_lines()
    for col in collections:
        out += _collection_lines(col, model)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# setCommonRunSettings.sh (GCHP)
# ---------------------------------------------------------------------------------------------

def _shell_value(value) -> str:
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    if value is None:
        return '""'
    if isinstance(value, (list, tuple)):
        # GCHP's script keeps Diag_Collections as a bash array.
        return "(" + " ".join(shlex.quote(str(v)) for v in value) + ")"
    return shlex.quote(str(value))


def render_common_run_settings(settings: dict) -> str:
    """The settings part of GCHP's ``setCommonRunSettings.sh`` as shell assignments."""
    out = [
        "#!/bin/bash",
        "# setCommonRunSettings.sh: the common GCHP run settings of this segment.",
        "# Written by the GEOS-Chem Cloud Runner from the run spec.",
        "",
    ]
    for name, value in settings.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
            raise ValueError(f"not a shell variable name: {name!r}")
        out.append(f"{name}={_shell_value(value)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# The directory itself
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunDir:
    """Paths of a prepared run directory."""

    root: Path
    staged_restart: Path | None  # the restart copied in for the segment start

    @property
    def output_dir(self) -> Path:
        return self.root / OUTPUT_DIR

    @property
    def restart_dir(self) -> Path:
        return self.root / RESTART_DIR


def prepare_run_dir(
    spec: dict,
    segment: Segment,
    root: Path,
    fetch: Callable[[str, Path], None] = fetch_uri,
) -> RunDir:
    """Write the configuration files into ``root``, create OutputDir/ and Restarts/, and
    stage the restart of the segment start when the spec names one.

    Raises ``transport.TransportError`` when the restart cannot be fetched.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / OUTPUT_DIR).mkdir(exist_ok=True)
    (root / RESTART_DIR).mkdir(exist_ok=True)
    (root / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    (root / "geoschem_config.yml").write_text(
        render_geoschem_config(spec["geoschem_config"], job_name=segment.job_name)
    )
    (root / "HISTORY.rc").write_text(render_history(spec["history"], segment.model))
    if segment.model == "gchp":
        settings_path = root / "setCommonRunSettings.sh"
        settings_path.write_text(render_common_run_settings(spec["gchp"]["setCommonRunSettings"]))
        settings_path.chmod(0o755)
        # GCHP takes its start date from cap_restart, restart or not, so it is always written.
        (root / CAP_RESTART).write_text(cap_restart_text(segment.start))

    staged = None
    if segment.restart_uri:
        staged = root / RESTART_DIR / restart_filename(segment.start, segment.cs_res)
        fetch(segment.restart_uri, staged)
    return RunDir(root=root, staged_restart=staged)


def end_restart_path(run_dir: RunDir, segment: Segment) -> Path:
    """Where the model leaves the restart for the end of the segment."""
    return run_dir.restart_dir / restart_filename(segment.end, segment.cs_res)


def adopt_gchp_checkpoint(run_dir: RunDir, segment: Segment) -> bool:
    """Rename GCHP's raw checkpoint to the end-of-segment restart name, as GCHP's run
    scripts do. Returns True when a checkpoint was renamed."""
    checkpoint = run_dir.restart_dir / GCHP_CHECKPOINT
    target = end_restart_path(run_dir, segment)
    if checkpoint.is_file() and checkpoint.stat().st_size > 0 and not target.exists():
        checkpoint.replace(target)
        return True
    return False
