"""CPU and memory of the model's process tree, read from /proc (Linux only).

The model may be one process (gcclassic, the demo model) or a tree (mpirun and its ranks), so
every sample sums over the root process and all its descendants. ``TreeSampler.sample()``
returns ``None`` where /proc does not exist (macOS), so callers simply record no samples.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat the sampler uses."""

    pid: int
    ppid: int
    cpu_ticks: int  # utime + stime + cutime + cstime
    rss_pages: int


@dataclass(frozen=True)
class Sample:
    """One measurement of the whole tree; ``cpu_percent`` may exceed 100 on several cores."""

    t: str
    cpu_percent: float
    rss_mb: float

    def as_dict(self) -> dict:
        return {"t": self.t, "cpu_percent": self.cpu_percent, "rss_mb": self.rss_mb}


def parse_stat(text: str) -> ProcStat:
    """Parse the content of /proc/<pid>/stat.

    The command name is in parentheses and may itself contain spaces and ")", so fields are
    counted from the last ")".
    """
    pid = int(text[: text.index("(")])
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); utime..cstime are fields 14-17 and rss is field 24.
    ticks = sum(int(value) for value in rest[11:15])
    return ProcStat(pid=pid, ppid=int(rest[1]), cpu_ticks=ticks, rss_pages=int(rest[21]))


def _read_all(proc: Path) -> dict[int, ProcStat]:
    stats = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stats[int(entry.name)] = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):  # the process ended while we looked
            continue
    return stats


def tree_of(root_pid: int, stats: dict[int, ProcStat]) -> list[ProcStat]:
    """The root process and all its descendants among ``stats``."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found.append(stats[pid])
            todo.extend(children.get(pid, []))
    return found


def utc_stamp(when: float | None = None) -> str:
    """UTC ISO 8601 with a Z, to the second: ``2026-11-28T19:30:05Z``."""
    moment = datetime.fromtimestamp(time.time() if when is None else when, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class TreeSampler:
    """Samples CPU % and resident memory of a process tree.

    CPU % is the tree's CPU time over wall time since the previous sample, so the first call
    only takes the baseline and returns None, and so do calls less than ``min_window`` after
    it. The CPU time of children that ended and were waited for moves into their parent's
    cutime/cstime, so it is not lost from the sum.
    """

    def __init__(self, root_pid: int, proc: Path = PROC, clock=time.monotonic, min_window: float = 0.5):
        self.root_pid = root_pid
        # CPU time comes in clock ticks (10 ms): over a shorter window the figure is noise.
        self.min_window = min_window
        self.proc = proc
        self.clock = clock
        self.peak_rss_mb = 0.0
        self._last: tuple[float, int] | None = None
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    @property
    def available(self) -> bool:
        return (self.proc / "self" / "stat").exists()

    def sample(self) -> Sample | None:
        """A sample of the tree now, or None (no /proc, first call, or the tree is gone)."""
        if not self.available:
            return None
        tree = tree_of(self.root_pid, _read_all(self.proc))
        if not tree:
            return None
        now = self.clock()
        ticks = sum(stat.cpu_ticks for stat in tree)
        rss_mb = round(sum(stat.rss_pages for stat in tree) * self._page / 2**20, 1)
        self.peak_rss_mb = max(self.peak_rss_mb, rss_mb)
        last = self._last
        if last is not None and now - last[0] < self.min_window:
            return None  # keep the baseline until the window is long enough
        self._last = (now, ticks)
        if last is None:
            return None
        cpu = max(0, ticks - last[1]) / self._tick / (now - last[0]) * 100.0
        return Sample(t=utc_stamp(), cpu_percent=round(cpu, 1), rss_mb=rss_mb)


def children_peak_rss_mb() -> float:
    """Largest resident size of any child process that has ended and been waited for.

    Catches runs too short for a /proc sample. ru_maxrss is in KiB on Linux, bytes on macOS.
    """
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)
