"""Did the segment succeed? The success rule, as pure functions.

- Classic: exit code 0 AND the end-of-segment restart exists.
- GCHP: ``cap_restart`` advanced to the segment end AND the checkpoint restart was written,
  with exit code 0, or 134: GCHP 14.7.1 can abort at shutdown after a complete run
  (GCHP#556), and that abort must not turn a finished segment into a failure.

Reasons are plain words for a researcher: they name the exit code or signal and the last
meaningful log line.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from datetime import datetime

SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"

GCHP_SHUTDOWN_ABORT = 134  # 128 + SIGABRT, GCHP#556


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded | failed | interrupted
    reason: str


def exit_code_of(returncode: int) -> int:
    """A process's return code as a shell would report it: a signal N becomes 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_exit(returncode: int) -> str:
    """``returncode`` (from subprocess, negative for a signal) in words."""
    if returncode < 0:
        number = -returncode
        words = f"was killed by signal {number} ({_signal_name(number)})"
        if number == signal.SIGKILL:
            words += ", possibly by the out-of-memory killer"
        return words
    if 128 < returncode < 128 + 65:
        # mpirun and shells report a rank killed by signal N as exit code 128 + N.
        return f"exited with code {returncode} (signal {returncode - 128}, {_signal_name(returncode - 128)})"
    return f"exited with code {returncode}"


def _with_line(reason: str, last_line: str | None) -> str:
    return f"{reason}; last log line: {last_line}" if last_line else reason


def _stamp(when: datetime | None) -> str:
    return when.strftime("%Y%m%d %H%M%S") if when else "nothing readable"


def judge(
    *,
    model: str,
    returncode: int,
    end: datetime,
    restart_written: bool,
    restart_name: str,
    cap_restart: datetime | None = None,
    last_line: str | None = None,
) -> Outcome:
    """The outcome of a model run that ended by itself (not interrupted by the runner).

    ``restart_written``: the end-of-segment restart (``restart_name``) exists and is not empty.
    ``cap_restart``: the date in GCHP's cap_restart after the run (ignored for Classic).
    """
    code = exit_code_of(returncode)
    how = f"the model {describe_exit(returncode)}"
    if model != "gchp":
        if code != 0:
            return Outcome(FAILED, _with_line(how, last_line))
        if not restart_written:
            return Outcome(FAILED, _with_line(
                f"{how} but did not write the end-of-segment restart {restart_name}", last_line))
        return Outcome(SUCCEEDED, "")

    advanced = cap_restart is not None and cap_restart >= end
    problems = []
    if not advanced:
        problems.append(f"cap_restart shows {_stamp(cap_restart)}, not the segment end {_stamp(end)}")
    if not restart_written:
        problems.append(f"the checkpoint restart {restart_name} was not written")
    if code not in (0, GCHP_SHUTDOWN_ABORT):
        return Outcome(FAILED, _with_line(how, last_line))
    if problems:
        return Outcome(FAILED, _with_line(f"{how} but " + " and ".join(problems), last_line))
    if code == GCHP_SHUTDOWN_ABORT:
        return Outcome(SUCCEEDED, (
            f"GCHP exited with code {code} while shutting down after a complete run (known GCHP "
            "issue #556); cap_restart reached the segment end and the checkpoint restart was "
            "written, so the segment counts as succeeded"))
    return Outcome(SUCCEEDED, "")


def interrupted(signum: int) -> Outcome:
    """The outcome when the runner itself received ``signum`` and stopped the model."""
    if signum == signal.SIGTERM:
        return Outcome(INTERRUPTED, "received SIGTERM (e.g. Spot interruption or cancel)")
    return Outcome(INTERRUPTED, f"received {_signal_name(signum)} (interrupted by hand)")
