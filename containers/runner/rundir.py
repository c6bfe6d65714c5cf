"""The run directory: the files GEOS-Chem reads, rendered from the run spec.

Pure renderers (``render_geoschem_config``, ``render_history``,
``render_common_run_settings``, ``restart_filename``, ``cap_restart_text``) turn spec values
into the text GEOS-Chem expects; ``prepare_run_dir`` writes them into a directory and stages
the restart file. The texts are hand-formatted (no YAML library: the runner uses the standard
library only), line for line as the platform renders them for display (simulations/spec.py).
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
# The texts match what the platform renders (simulations/spec.py, pinned by the golden files in
# tests/simulations/golden/): a person comparing the two should find no difference.

# YAML 1.1 reads these words as booleans or null; GEOS-Chem's own template quotes them too.
_YAML_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_PLAIN = re.compile(r"[A-Za-z0-9_./$][A-Za-z0-9_./$+-]*")
_DATE_KEYS = {"start_date", "end_date"}


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text[:1].isdigit() and "-" in text  # 2019-01-01 would read as a date
    return True


def yaml_scalar(value) -> str:
    """One YAML scalar as GEOS-Chem's template writes it (reserved words and numbers-like
    text quoted)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_RESERVED and not _looks_numeric(text):
        return text
    return "'" + text.replace("'", "''") + "'"  # 'NO' must stay a species, not false


def yaml_date(value: list) -> str:
    """``[20190101, 0]`` as ``[20190101, 000000]``."""
    # GEOS-Chem writes [YYYYMMDD, hhmmss] with midnight as 000000. Other times stay unpadded:
    # YAML 1.1 readers take 060000 for an octal number, GEOS-Chem reads 60000 the same.
    time = "000000" if value[1] == 0 else str(value[1])
    return f"[{value[0]:08d}, {time}]"


def _yaml_lines(mapping: dict, indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:" + (" {}" if not value else ""))
            lines += _yaml_lines(value, indent + 2)
        elif key in _DATE_KEYS and isinstance(value, list) and len(value) == 2:
            lines.append(f"{pad}{key}: {yaml_date(value)}")
        elif isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
            # Numbers and switches stay on one line (ranges, buffer zones), as in GEOS-Chem's
            # template; names become a block list (transported_species).
            lines.append(f"{pad}{key}: [{', '.join(yaml_scalar(v) for v in value)}]")
        elif isinstance(value, list):
            lines.append(f"{pad}{key}:")
            lines += [f"{pad}  - {yaml_scalar(v)}" for v in value]
        else:
            lines.append(f"{pad}{key}: {yaml_scalar(value)}")
    return lines


def render_geoschem_config(spec: dict) -> str:
    """``geoschem_config.yml`` for ``spec["geoschem_config"]``, keys in the spec's order."""
    header = [
        "---",
        "### geoschem_config.yml: written by the GEOS-Chem Cloud Runner",
        f"### job {spec.get('job_name', '')}, GEOS-Chem {spec.get('model', {}).get('geoschem_version', '')}",
        "",
    ]
    return "\n".join(header + _yaml_lines(spec["geoschem_config"], 0)) + "\n"


# ---------------------------------------------------------------------------------------------
# HISTORY.rc
# ---------------------------------------------------------------------------------------------

HISTORY_EXPID = {"classic": "./OutputDir/GEOSChem", "gchp": "OutputDir/GEOSChem"}
RESTART_TEMPLATE = "./Restarts/GEOSChem.Restart.%y4%m2%d2_%h2%n2z.nc4"
# A Classic run writes its end-of-run restart through the History collection "Restart";
# without it there is no restart and the next segment cannot start, so a spec that lacks it
# gets this one.
DEFAULT_CLASSIC_RESTART = {
    "name": "Restart", "frequency": "End", "duration": "End", "mode": "instantaneous",
    "fields": ["SpeciesRst_?ALL?", "Met_DELPDRY", "Met_PS1WET", "Met_PS1DRY", "Met_SPHU1", "Met_TMPU1"],
}
_KEY_WIDTH = 28
_FIELD_INDENT = 30
_END = "End"


def gchp_interval(value: str, start: datetime, end: datetime) -> str | None:
    """A spec interval (``YYYYMMDD hhmmss`` or ``End``) as MAPL History wants it: ``HHMMSS``
    with as many hours as needed (``240000`` is a day), or None for one calendar month, which
    GCHP states with ``.monthly: 1``. ``End`` is the segment's length."""
    if value == _END:
        seconds = int((end - start).total_seconds())
    else:
        date, _, time = value.strip().partition(" ")
        date, time = date.zfill(8), (time or "000000").zfill(6)
        years, months, days = int(date[:4]), int(date[4:6]), int(date[6:])
        if (years, months, days, int(time)) == (0, 1, 0, 0):
            return None
        if years or months:
            raise ValueError(f"GCHP History cannot express the interval {value!r}")
        seconds = days * 86400 + int(time[:2]) * 3600 + int(time[2:4]) * 60 + int(time[4:])
    return f"{seconds // 3600:02d}{seconds % 3600 // 60:02d}{seconds % 60:02d}"


def _rc_key(collection: str, attribute: str) -> str:
    return f"  {f'{collection}.{attribute}:':<{_KEY_WIDTH}}"


def _rc_fields(fields: list[str], component: str) -> str:
    return f",\n{' ' * _FIELD_INDENT}".join(f"'{field}', '{component}'" for field in fields) + ","


def _collection_lines(col: dict, gchp: bool, start: datetime, end: datetime) -> list[str]:
    name = col["name"]
    frequency = col.get("frequency", "00000001 000000")
    duration = col.get("duration", frequency)
    if name == "Restart":
        lines = [f"{_rc_key(name, 'filename')}'{RESTART_TEMPLATE}',"]
    else:
        lines = [f"{_rc_key(name, 'template')}'%y4%m2%d2_%h2%n2z.nc4',"]
    lines.append(f"{_rc_key(name, 'format')}'CFIO',")
    if gchp:
        lines.append(f"{_rc_key(name, 'timestampStart')}.true.")
        freq, dur = gchp_interval(frequency, start, end), gchp_interval(duration, start, end)
        if freq is None:
            lines.append(f"{_rc_key(name, 'monthly')}1")
        else:
            lines.append(f"{_rc_key(name, 'frequency')}{freq}")
        if dur is not None:
            lines.append(f"{_rc_key(name, 'duration')}{dur}")
    else:
        for attribute, value in (("frequency", frequency), ("duration", duration)):
            lines.append(_rc_key(name, attribute) + ("'End'," if value == _END else value))
    lines.append(f"{_rc_key(name, 'mode')}'{col.get('mode', 'time-averaged')}'")
    fields = list(col.get("fields") or ["SpeciesConcVV_?ALL?"])
    lines.append(_rc_key(name, "fields") + _rc_fields(fields, "GCHPchem" if gchp else "GIGCchem"))
    lines.append("::")
    return lines


def render_history(spec: dict) -> str:
    """``HISTORY.rc`` for ``spec["history"]``, Classic or GCHP flavour.

    Classic: intervals as ``YYYYMMDD hhmmss`` or ``'End'``, and always a Restart collection.
    GCHP (MAPL): intervals as ``HHMMSS``, monthly output as ``.monthly: 1``, no Restart
    collection (GCHP's restart is MAPL's checkpoint).
    """
    gchp = spec["model"]["name"] == "gchp"
    start = datetime.fromisoformat(spec["period"]["start"])
    end = datetime.fromisoformat(spec["period"]["end"])
    collections = list(spec["history"]["collections"])
    if gchp:
        collections = [c for c in collections if c["name"] != "Restart"]
    elif not any(c["name"] == "Restart" for c in collections):
        collections.insert(0, DEFAULT_CLASSIC_RESTART)
    lines = [f"EXPID:  {HISTORY_EXPID['gchp' if gchp else 'classic']}"]
    if gchp:
        lines += ["EXPDSC: GEOS-Chem_devel", f"CoresPerNode: {spec['compute']['cores_per_node']}", "VERSION: 1"]
    names = [f"'{c['name']}'," for c in collections]
    lines.append("COLLECTIONS: " + "\n             ".join(names) if names else "COLLECTIONS:")
    lines.append("::")
    for col in collections:
        lines += _collection_lines(col, gchp, start, end)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# setCommonRunSettings.sh (GCHP)
# ---------------------------------------------------------------------------------------------

def shell_value(value) -> str:
    """A value as bash wants it on the right of ``VAR=``."""
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
        out.append(f"{name}={shell_value(value)}")
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
    *,
    merge: bool = False,
    notes: list[str] | None = None,
) -> RunDir:
    """Write the configuration files into ``root``, create OutputDir/ and Restarts/, and
    stage the restart of the segment start when the spec names one.

    ``merge=True`` (a run directory createRunDir.sh made): geoschem_config.yml and
    setCommonRunSettings.sh, where they exist, get the spec's values written over GEOS-Chem's
    own file (``overlay.py``) instead of being replaced; what the merge added or kept is
    appended to ``notes``. HISTORY.rc is always the runner's: the spec lists every collection.

    Raises ``transport.TransportError`` when the restart cannot be fetched.
    """
    from .overlay import merge_yaml, set_shell_assignments  # overlay imports this module

    notes = notes if notes is not None else []
    root.mkdir(parents=True, exist_ok=True)
    (root / OUTPUT_DIR).mkdir(exist_ok=True)
    (root / RESTART_DIR).mkdir(exist_ok=True)
    (root / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    config_path = root / "geoschem_config.yml"
    if merge and config_path.is_file():
        text, config_notes = merge_yaml(config_path.read_text(), spec["geoschem_config"])
        notes += [f"geoschem_config.yml: {note}" for note in config_notes]
        config_path.write_text(text)
    else:
        config_path.write_text(render_geoschem_config(spec))
    (root / "HISTORY.rc").write_text(render_history(spec))
    if segment.model == "gchp":
        settings_path = root / "setCommonRunSettings.sh"
        settings = spec["gchp"]["setCommonRunSettings"]
        if merge and settings_path.is_file():
            text, settings_notes = set_shell_assignments(settings_path.read_text(), settings)
            notes += settings_notes
            settings_path.write_text(text)
        else:
            settings_path.write_text(render_common_run_settings(settings))
        settings_path.chmod(0o755)
        # GCHP takes its start date from cap_restart, restart or not, so it is always written.
        (root / CAP_RESTART).write_text(cap_restart_text(segment.start))

    staged = None
    if segment.restart_uri:
        staged = root / RESTART_DIR / restart_filename(segment.start, segment.cs_res)
        if staged.is_symlink():
            # GCHP's createRunDir.sh links sample restarts here; the copy must replace the
            # link, not write through it into the ExtData folder.
            staged.unlink()
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
