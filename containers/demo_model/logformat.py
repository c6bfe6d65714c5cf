"""Log lines in GEOS-Chem's and MAPL's formats, so that the runner's parser and people who know
GEOS-Chem recognise them (shared/GEOSCHEM.md section 6).

- GCClassic time step (GeosUtil/time_mod.F90 Print_Current_Time):
  ``'---> DATE: ', i4.4,'/',i2.2,'/',i2.2, '  UTC: ', i2.2,':',i2.2, '  X-HRS: ', f11.3``
- GCClassic timers (GeosUtil/timers_mod.F90): header ``2x, a10, 23x, a15, 5x, a13`` and one line
  per timer ``2x, a30, ':', 2x, DD-hh:mm:ss.SSS, 4x, f14.3``.
- MAPL heartbeat (GCHP): `` AGCM Date: 2019/01/01  Time: 01:00:00  Throughput(days/day)[Avg Tot
  Run]: ...  TimeRemaining(Est) 000:00:00    2.7% :  13.3% Mem Comm:Used``.
"""

from __future__ import annotations

import os
from datetime import datetime

BANNER = (
    "*" * 79,
    "***   GEOS-Chem Cloud Runner DEMO MODEL  --  this is NOT GEOS-Chem",
    "***   A small radon-222 / lead-210 tracer model with a prescribed wind, made so that",
    "***   the platform can be tried without AWS or a GEOS-Chem build. It writes files and",
    "***   log lines in GEOS-Chem's formats; its numbers are not GEOS-Chem results.",
    "*" * 79,
)
END_OF_GEOS_CHEM = "**************   E N D   O F   G E O S -- C H E M   **************"


def classic_date_line(when: datetime, elapsed_hours: float) -> str:
    return f"---> DATE: {when:%Y/%m/%d}  UTC: {when:%H:%M}  X-HRS: {elapsed_hours:11.3f}"


def _split_seconds(seconds: float):
    whole = int(seconds)
    ms = int((seconds - whole) * 1000)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return days, hours, minutes, secs, ms


def timer_lines(timers: dict) -> list:
    """The GEOS-Chem timers summary for ``timers`` (name -> seconds, in print order)."""
    lines = [" ", "=" * 79, "G E O S - C H E M   T I M E R S", " ",
             f"  {'Timer name':10s}{'':23s}{'DD-hh:mm:ss.SSS':15s}{'':5s}{'Total Seconds':13s}", "-" * 79]
    for name, seconds in timers.items():
        label = f"{name[:30]:<30s}"
        if seconds <= 0.0:
            lines.append(f"  {label}:  >>>>> THE TIMER DID NOT RUN <<<<<")
            continue
        d, h, m, s, ms = _split_seconds(seconds)
        lines.append(f"  {label}:  {d:02d}-{h:02d}:{m:02d}:{s:02d}.{ms:03d}    {seconds:14.3f}")
    return lines


def _memory_percent() -> tuple[float, float]:
    """(this process's resident memory, memory in use on the machine) as % of total; zeros
    where /proc is not available."""
    try:
        info = {}
        with open("/proc/meminfo") as handle:
            for line in handle:
                key, value = line.split(":", 1)
                info[key] = float(value.split()[0])
        rss = 0.0
        with open(f"/proc/{os.getpid()}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    rss = float(line.split()[1])
        total = info["MemTotal"]
        used = total - info.get("MemAvailable", info.get("MemFree", total))
        return 100.0 * rss / total, 100.0 * used / total
    except (OSError, KeyError, ValueError, ZeroDivisionError):
        return 0.0, 0.0


def mapl_line(when: datetime, *, avg: float, tot: float, run: float, remaining_s: float) -> str:
    """MAPL's heartbeat line; throughputs in simulated days per wall-clock day."""
    remaining = max(0, int(round(remaining_s)))
    hours, rest = divmod(remaining, 3600)
    minutes, seconds = divmod(rest, 60)
    mine, used = _memory_percent()
    return (f" AGCM Date: {when:%Y/%m/%d}  Time: {when:%H:%M:%S}  Throughput(days/day)[Avg Tot Run]: "
            f"{avg:12.1f} {tot:12.1f} {run:12.1f}  TimeRemaining(Est) {hours:03d}:{minutes:02d}:{seconds:02d}"
            f"  {mine:5.1f}% : {used:5.1f}% Mem Comm:Used")
