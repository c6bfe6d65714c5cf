"""What the runner writes to ``io.report_uri``: runner.log, progress.json, metrics.json.

``progress_figures``, ``progress_document`` and ``metrics_document`` are pure and follow the
field lists of docs/run-spec.md (plus a few extra fields, which the contract allows).
``RunLog`` writes the log as it comes and keeps the recent lines for the reports.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import TextIO

from . import SPEC_VERSION
from .logparse import LogWatcher
from .transport import TransportError

LOG_KEY = "runner.log"
PROGRESS_KEY = "progress.json"
METRICS_KEY = "metrics.json"
TAIL_LINES = 50
MAX_SAMPLES = 120


def progress_figures(start: datetime, end: datetime, simulated: datetime | None, wall_seconds: float) -> dict:
    """Percent of the segment done, throughput and time left.

    ``days_per_day`` is simulated days per wall-clock day since the model started (so it
    includes the model's start-up); ``eta_seconds`` assumes that pace holds. Both are None
    until the model has reported a time past the segment start.
    """
    span = (end - start).total_seconds()
    done = 0.0 if simulated is None else min(max((simulated - start).total_seconds(), 0.0), span)
    figures = {"percent": round(100.0 * done / span, 2), "days_per_day": None, "eta_seconds": None}
    if done > 0 and wall_seconds > 0:
        pace = done / wall_seconds  # simulated seconds per wall second = days per day
        figures["days_per_day"] = round(pace, 1)
        figures["eta_seconds"] = round((span - done) / pace, 1)
    return figures


def iso_model_time(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None


def progress_document(
    *, job_name: str, state: str, start: datetime, end: datetime, simulated: datetime | None,
    wall_seconds: float, started_at: str, updated_at: str, samples: list[dict],
    status: str | None = None,
) -> dict:
    """progress.json: ``state`` is starting | running | finished; ``status`` (the final
    status) is added once finished."""
    document = {
        "spec_version": SPEC_VERSION,
        "job_name": job_name,
        "state": state,
        "simulated_time": iso_model_time(simulated),
        **progress_figures(start, end, simulated, wall_seconds),
        "started_at": started_at,
        "updated_at": updated_at,
        "samples": samples[-MAX_SAMPLES:],
    }
    if status is not None:
        document["status"] = status
    return document


def metrics_document(
    *, job_name: str | None, status: str, exit_code: int | None, reason: str,
    wall_seconds: float, model_wall_seconds: float | None, peak_rss_mb: float | None,
    instance_type: str | None, simulated_days: float, model_timers: dict, outputs: list[str],
    restart: str | None, log_tail: list[str], started_at: str, finished_at: str,
) -> dict:
    """metrics.json, written once at the end whatever happened.

    ``days_per_day`` uses the model's own wall time, not the runner's (staging and copying
    are not the model's speed); ``wall_seconds`` is the runner's, which is what was paid for.
    """
    days_per_day = None
    if model_wall_seconds and simulated_days > 0:
        days_per_day = round(simulated_days * 86400.0 / model_wall_seconds, 1)
    return {
        "spec_version": SPEC_VERSION,
        "job_name": job_name,
        "status": status,
        "exit_code": exit_code,
        "reason": reason,
        "wall_seconds": round(wall_seconds, 2),
        "model_wall_seconds": None if model_wall_seconds is None else round(model_wall_seconds, 2),
        "peak_rss_mb": peak_rss_mb,
        "instance_type": instance_type,
        "simulated_days": round(simulated_days, 4),
        "days_per_day": days_per_day,
        "model_timers": dict(model_timers),
        "outputs": sorted(outputs),
        "restart": restart,
        "log_tail": log_tail[-TAIL_LINES:],
        "started_at": started_at,
        "finished_at": finished_at,
    }


def write_json(store, key: str, document: dict) -> None:
    """Write a report document atomically (the store writes a temporary name, then renames)."""
    store.put_bytes((json.dumps(document, indent=2) + "\n").encode(), key)


class RunLog:
    """runner.log: the model's output and the runner's own ``[runner]`` lines, each written
    and flushed as it comes, and echoed to the runner's standard output (which is what AWS
    Batch sends to CloudWatch Logs). Safe to call from the output thread and the main thread.
    """

    def __init__(self, path: Path, watcher: LogWatcher, *, echo: TextIO | None):
        self.path = path
        self.watcher = watcher
        self._echo = echo
        self._lock = threading.Lock()
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._model_lines: deque[str] = deque(maxlen=200)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Line-buffered append: a retried attempt in the same folder keeps the earlier log.
        self._file = open(path, "a", encoding="utf-8", buffering=1)

    def _write(self, line: str) -> None:
        self._file.write(line + "\n")
        self._tail.append(line)
        if self._echo is not None:
            try:
                self._echo.write(line + "\n")
                self._echo.flush()
            except (OSError, ValueError):  # nobody reads our stdout any more
                self._echo = None

    def model_line(self, line: str) -> None:
        with self._lock:
            self._write(line)
            self._model_lines.append(line)
            self.watcher.feed(line)

    def runner_line(self, text: str) -> None:
        with self._lock:
            self._write(f"[runner] {text}")

    def tail(self) -> list[str]:
        """The last lines of the log, the runner's included."""
        with self._lock:
            return list(self._tail)

    def recent_model_lines(self) -> list[str]:
        """The model's own recent lines, where a failure's reason is looked for."""
        with self._lock:
            return list(self._model_lines)

    def snapshot(self) -> tuple[datetime | None, dict]:
        """The watcher's latest simulated time and timers, read consistently."""
        with self._lock:
            return self.watcher.simulated_time, dict(self.watcher.timers)

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class LogUploader:
    """Copies runner.log to a remote report store every ``interval`` seconds and at the end.

    A local report store holds the log itself (RunLog writes it in place), so there is
    nothing to copy. Each upload replaces the whole object: S3 has no append, and a log of a
    few megabytes is cheap to send twice a minute.
    """

    def __init__(self, store, log: RunLog, *, interval: float, clock=time.monotonic):
        self.store = store
        self.log = log
        self.interval = interval
        self.clock = clock
        self.remote = store.local_path(LOG_KEY) is None
        self._next = clock() + interval
        self.failures = 0

    def maybe_upload(self) -> None:
        """Upload if the interval has passed since the last upload."""
        if self.remote and self.clock() >= self._next:
            self.upload()

    def upload(self) -> str | None:
        """Upload now; returns the error in words if it failed (the run goes on)."""
        if not self.remote:
            return None
        self._next = self.clock() + self.interval
        self.log.flush()
        try:
            self.store.put(self.log.path, LOG_KEY)
        except TransportError as exc:
            self.failures += 1
            return str(exc)
        return None
