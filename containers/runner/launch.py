"""Starting, watching and stopping the model process.

``build_command`` and ``build_env`` are pure: which program to start, with which environment.
``ModelProcess`` starts it in its own process group (so a signal reaches mpirun and every
rank, and a Ctrl-C meant for the runner does not hit the model before the runner can act),
hands each output line to a callback as it comes, and stops the whole group on request.
On Linux the model is also told to die with the runner: a runner killed outright (SIGKILL,
out of memory) must not leave a model running with nobody to report on it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from .spec import DEMO, Segment

DEMO_ENV = "GCR_DEMO_MODEL"


def find_demo_model(env: dict, runner_file: str | Path) -> Path:
    """Where the demo model is: ``$GCR_DEMO_MODEL``, else ``../demo_model/demo_model.py``
    next to the runner's own folder."""
    if env.get(DEMO_ENV):
        return Path(env[DEMO_ENV])
    return Path(runner_file).resolve().parent.parent / "demo_model" / "demo_model.py"


def build_command(segment: Segment, *, demo_path: Path, python: str, spec_file: str = "runspec.json",
                  hostfile: str | None = None) -> list[str]:
    """The argv that runs the model for ``segment`` from inside the run directory.

    - ``demo``: ``python demo_model.py --spec runspec.json`` (Classic and GCHP alike).
    - Classic: the executable itself; its threads come from ``OMP_NUM_THREADS``.
    - GCHP: ``mpirun -np TOTAL_CORES <executable>``, with ``--hostfile FILE`` first on a
      multi-node job.
    """
    if segment.executable == DEMO:
        return [python, str(demo_path), "--spec", spec_file]
    if segment.model == "gchp":
        hosts = ["--hostfile", hostfile] if hostfile else []
        return ["mpirun", *hosts, "-np", str(segment.total_cores), segment.executable]
    return [segment.executable]


def build_env(segment: Segment, base: dict) -> dict:
    """The model's environment: ``base`` plus thread count and unbuffered output."""
    env = dict(base)
    # GCHP is pure MPI: one thread per rank; Classic uses OpenMP threads.
    env["OMP_NUM_THREADS"] = "1" if segment.model == "gchp" and segment.executable != DEMO else str(segment.threads)
    # Output to a pipe is block-buffered by default, which would delay progress lines by
    # minutes: gfortran and Python are told to write each line as it comes.
    env.setdefault("GFORTRAN_UNBUFFERED_PRECONNECTED", "y")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if segment.model == "gchp" and segment.executable != DEMO:
        # Containers run as root, which Open MPI's mpirun refuses unless told it is intended.
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent_hook():
    """A ``preexec_fn`` that makes the child get SIGKILL when the runner dies (Linux), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        # Runs in the child between fork and exec.
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the runner died before prctl took effect
            os._exit(1)

    return hook


class ModelProcess:
    """A running model: its output lines go to ``on_line`` (from a reader thread), and
    ``exited`` is set as soon as the process has ended."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict, on_line: Callable[[str], None]):
        self.argv = argv
        self.exited = threading.Event()
        self._on_line = on_line
        # stdin is closed: an MPI launcher or a prompt must never wait for keyboard input.
        # process_group=0 makes the model the leader of a new group whose id is its pid.
        self._proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, process_group=0, preexec_fn=_die_with_parent_hook(),
        )
        self._reader = threading.Thread(target=self._read, name="model-output", daemon=True)
        self._waiter = threading.Thread(target=self._wait, name="model-wait", daemon=True)
        self._reader.start()
        self._waiter.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self.exited.is_set() else None

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            self._on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    def _wait(self) -> None:
        self._proc.wait()
        self.exited.set()

    def _signal_group(self, signum: int) -> bool:
        try:
            os.killpg(self._proc.pid, signum)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def stop(self, grace_seconds: float, log: Callable[[str], None]) -> None:
        """SIGTERM to the model's process group, SIGKILL after ``grace_seconds``."""
        if self._signal_group(signal.SIGTERM):
            log(f"sent SIGTERM to the model (process group {self._proc.pid}); "
                f"SIGKILL follows in {grace_seconds:g} s")
        if not self.exited.wait(grace_seconds):
            log(f"the model did not stop within {grace_seconds:g} s: sending SIGKILL")
            self._signal_group(signal.SIGKILL)
            self.exited.wait(10)
        # Ranks or helpers left behind would keep the output pipe open and the CPU busy.
        self._signal_group(signal.SIGKILL)

    def finish_output(self, timeout: float = 5.0) -> None:
        """Wait until all output has been handed to ``on_line``; kills the process group if a
        leftover descendant still holds the output open after ``timeout``."""
        self._reader.join(timeout)
        if self._reader.is_alive():
            self._signal_group(signal.SIGKILL)
            self._reader.join(timeout)


def wait_either(process: ModelProcess, stop_requested: Callable[[], bool], seconds: float) -> None:
    """Sleep up to ``seconds``, waking early when the model ends or a stop is requested.

    Signal handlers must not touch threading primitives (they could deadlock on a lock the
    interrupted code holds), so a stop request is noticed by polling a flag every 0.1 s.
    """
    deadline = time.monotonic() + seconds
    while not stop_requested():
        left = deadline - time.monotonic()
        if left <= 0 or process.exited.wait(min(left, 0.1)):
            return
