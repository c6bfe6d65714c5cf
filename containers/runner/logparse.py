"""Reading GEOS-Chem's log as it streams: simulated time, timers, and why a run failed.

Pure functions on single lines (``parse_progress_line``, ``parse_timer_line``,
``is_timer_header``), on a list of lines (``parse_timers``, ``reason_line``), and one small
stateful reader (``LogWatcher``) that applies them to a stream. Formats (GEOSCHEM.md §6):

- GCClassic, one line per time step, ``UTC:`` in recent releases, ``GMT:`` in older ones::

      ---> DATE: 2019/07/01  UTC: 01:00  X-HRS:       1.000

- GCHP (MAPL) heartbeat on the root process; older MAPL prints only date and time, MAPL 2
  adds throughput, time remaining and memory, newer MAPL puts the root component's name
  (``GCHP``) where ``AGCM`` was and appends the wall-clock date and time::

      AGCM Date: 2007/08/01  Time: 01:00:00  Throughput(days/day)[Avg Tot Run]: ...

- The GCClassic timers summary (``use_gcclassic_timers: true``) after a header line with
  "Timer name" and "Total Seconds"::

        GEOS-Chem                     :  00-00:02:38.133           158.134
"""

from __future__ import annotations

import re
from datetime import datetime

_CLASSIC = re.compile(
    r"--->\s*DATE:\s*(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"
    r"\s+(?:GMT|UTC):\s*(?P<H>\d{1,2}):(?P<M>\d{2})"
)
# The word before "Date:" is the MAPL root component's name: AGCM in older MAPL, GCHP in
# GCHP 14. Upper case only, so that prose such as "Start Date:" does not count.
_GCHP = re.compile(
    r"(?<![\w-])[A-Z][A-Z0-9_]*\s+Date:\s*(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"
    r"\s+Time:\s*(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})"
)
_TIMER = re.compile(r"^\s+(?P<name>\S.*?)\s*:\s+\d+-\d\d:\d\d:\d\d\.\d{3}\s+(?P<seconds>[\d.]+)\s*$")


def parse_progress_line(line: str) -> datetime | None:
    """The simulated date and time a Classic or GCHP progress line reports, else None."""
    match = _CLASSIC.search(line) or _GCHP.search(line)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        return datetime(
            int(parts["y"]), int(parts["m"]), int(parts["d"]),
            int(parts["H"]), int(parts["M"]), int(parts.get("S") or 0),
        )
    except ValueError:  # a garbled line, e.g. two ranks writing at once
        return None


def is_timer_header(line: str) -> bool:
    """True for the header line of the GCClassic timers summary."""
    return "Timer name" in line and "Total Seconds" in line


def parse_timer_line(line: str) -> tuple[str, float] | None:
    """``(name, seconds)`` for one line of the timers summary, else None."""
    match = _TIMER.match(line.rstrip("\r\n"))
    if match is None:
        return None
    try:
        return match["name"], float(match["seconds"])
    except ValueError:
        return None


def parse_timers(lines) -> dict[str, float]:
    """Timer name -> total seconds from the summary in ``lines`` (empty if none printed)."""
    timers: dict[str, float] = {}
    in_summary = False
    for line in lines:
        if is_timer_header(line):
            in_summary = True
            continue
        if in_summary:
            parsed = parse_timer_line(line)
            if parsed:
                timers[parsed[0]] = parsed[1]
    return timers


# Markers GEOS-Chem, HEMCO and MAPL use for real errors, in upper case ("GEOS-Chem ERROR: ...",
# "HEMCO ERROR", MAPL's "pe=00000 FAIL at line=...").
_LOUD_ERROR = re.compile(r"\bERROR\b|\bFAIL at\b|Error encountered")
_ANY_ERROR = re.compile(
    r"error|abort|fatal|exception|traceback|segmentation fault|sigsegv|sigbus|forrtl|"
    r"not found|no such file|cannot|could not|failed|killed|out of memory",
    re.IGNORECASE,
)
_DECORATION = re.compile(r"[\W_]*")
# gfortran's backtrace says nothing a person can act on; the line before it does.
_BACKTRACE = re.compile(r"Backtrace for this error|#\d+\s+0x[0-9a-fA-F]+")


def _meaningful(line: str) -> bool:
    text = line.strip()
    return (
        bool(text)
        and not _DECORATION.fullmatch(text)
        and not text.startswith("[runner]")
        and not _BACKTRACE.match(text)
        and parse_progress_line(text) is None
    )


def reason_line(lines) -> str | None:
    """The log line that best says why a run stopped: the last loud error (``ERROR``), else
    the last line that mentions an error in other words, else the last meaningful line.

    Blank lines, decoration (``=====``), progress lines and the runner's own lines never count.
    """
    candidates = [line.strip() for line in lines if _meaningful(line)]
    for pattern in (_LOUD_ERROR, _ANY_ERROR):
        for text in reversed(candidates):
            if pattern.search(text):
                return text
    return candidates[-1] if candidates else None


class LogWatcher:
    """Follows the model's output line by line.

    ``simulated_time`` is the latest simulated time a progress line reported (None before the
    first one); ``timers`` fills in once the timers summary has been printed.
    """

    def __init__(self) -> None:
        self.simulated_time: datetime | None = None
        self.timers: dict[str, float] = {}
        self._in_timers = False

    def feed(self, line: str) -> None:
        when = parse_progress_line(line)
        if when is not None:
            if self.simulated_time is None or when > self.simulated_time:
                self.simulated_time = when
            return
        if is_timer_header(line):
            self._in_timers = True
        elif self._in_timers:
            parsed = parse_timer_line(line)
            if parsed:
                self.timers[parsed[0]] = parsed[1]
