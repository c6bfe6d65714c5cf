"""The local compute backend: the runner as a detached subprocess on this machine.

Each job has a folder `<jobs_dir>/<job name>/` holding the spec, the runner's pid and its own
console output; the runner writes its log, progress.json and metrics.json to the spec's
`report_uri`. The runner starts in a new session, so the web server or the task worker can
restart (or Ctrl-C can stop them) without killing it; state is read back from files and /proc,
never from memory, so a restarted worker picks up where the last one left off.
"""

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings

from simulations import catalog
from simulations.backends.base import BackendError, JobState, LogChunk, SubmitResult, parse_utc

RUNNER = Path(__file__).resolve().parents[2] / "containers" / "runner" / "runner.py"
# A job folder without a pid this long after it was made means the submitter died mid-way.
NEVER_STARTED_AFTER_S = 60
LOG_TAIL_LINES = 20

# Popen objects of runners this process started, polled now and then so they do not linger
# as zombies while this process lives (a zombie would look alive in /proc).
_children: list[subprocess.Popen] = []


def file_uri_to_path(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme not in ("file", ""):
        raise BackendError(f"the local backend reads only file:// locations, not {uri}")
    return Path(unquote(parsed.path))


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, OSError):
        # A half-written file cannot happen (the runner renames into place), but a corrupt one
        # must not stop the sync of every other job.
        return None


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    except FileNotFoundError:
        return None


class LocalBackend:
    name = "local"

    def __init__(self, jobs_dir: Path, *, python: str = sys.executable, runner: Path = RUNNER) -> None:
        self.jobs_dir = Path(jobs_dir)
        self.python = python
        self.runner = runner

    # --- paths -------------------------------------------------------------------------------
    def _job_dir(self, backend_id: str) -> Path:
        if not backend_id or "/" in backend_id or backend_id.startswith("."):
            raise BackendError(f"not a local job id: {backend_id!r}")
        return self.jobs_dir / backend_id

    def _report_dir(self, job_dir: Path) -> Path | None:
        spec = _read_json(job_dir / "spec.json")
        if spec is None:
            return None
        return file_uri_to_path(spec["io"]["report_uri"])

    def _pid(self, job_dir: Path) -> int | None:
        try:
            return int((job_dir / "runner.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _alive(self, pid: int, job_dir: Path) -> bool:
        for child in list(_children):
            if child.poll() is not None:
                _children.remove(child)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        proc = Path(f"/proc/{pid}")
        if not proc.exists():
            return True  # no /proc (not Linux): the kill check is all we have
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        # A zombie has finished; a pid reused by another program is not our runner.
        return state != "Z" and job_dir.name in cmdline

    # --- operations --------------------------------------------------------------------------
    def config_problems(self, cfg) -> list:
        """The demo model's limits when it is the model here; a real build runs what GEOS-Chem runs."""
        executable = settings.GCHP_EXECUTABLE if cfg.model == "gchp" else settings.GCCLASSIC_EXECUTABLE
        return catalog.demo_problems(cfg) if executable == "demo" else []

    def prepare_spec(self, spec: dict) -> dict:
        return spec  # the platform's spec is all the local runner needs

    def submit(self, *, job_name: str, spec: dict) -> SubmitResult:
        job_dir = self._job_dir(job_name)
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        try:
            # mkdir is atomic: of two submitters racing on one name, only one starts a runner.
            job_dir.mkdir()
        except FileExistsError:
            return SubmitResult(backend_id=job_name, already_existed=True)
        spec_path = job_dir / "spec.json"
        spec_path.write_text(json.dumps(spec, indent=2))
        out = open(job_dir / "runner.out", "ab")
        try:
            proc = subprocess.Popen(
                [self.python, str(self.runner), "--spec", str(spec_path), "--workdir", str(job_dir / "run")],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=job_dir,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise BackendError(f"could not start the runner: {exc}") from exc
        finally:
            out.close()
        _children.append(proc)
        tmp = job_dir / "runner.pid.tmp"
        tmp.write_text(f"{proc.pid}\n")
        os.replace(tmp, job_dir / "runner.pid")
        return SubmitResult(backend_id=job_name)

    def describe(self, backend_ids: list[str]) -> dict[str, JobState]:
        return {backend_id: self._describe_one(backend_id) for backend_id in backend_ids}

    def _describe_one(self, backend_id: str) -> JobState:
        job_dir = self._job_dir(backend_id)
        if not job_dir.exists():
            return JobState(backend_id, "FAILED", reason="the job's folder is gone (was var/jobs deleted?)")
        report_dir = self._report_dir(job_dir)
        progress = _read_json(report_dir / "progress.json") if report_dir else None
        metrics = _read_json(report_dir / "metrics.json") if report_dir else None
        started_at = parse_utc(progress.get("started_at")) if progress else None
        heartbeat = parse_utc(progress.get("updated_at")) if progress else None
        if metrics is not None:
            return self._final_state(backend_id, job_dir, metrics, progress, started_at, report_dir)
        pid = self._pid(job_dir)
        if pid is None:
            if (job_dir / "cancel_requested").exists():
                return JobState(backend_id, "FAILED", reason="cancelled before the runner started")
            made = _mtime(job_dir)
            if made and (datetime.now(timezone.utc) - made).total_seconds() > NEVER_STARTED_AFTER_S:
                return JobState(backend_id, "FAILED", reason="the runner never started (the submitting process died)")
            return JobState(backend_id, "SUBMITTED")
        if self._alive(pid, job_dir):
            state = "RUNNING" if progress and progress.get("state") == "running" else "STARTING"
            return JobState(backend_id, state, started_at=started_at, heartbeat_at=heartbeat, progress=progress)
        # Dead without metrics.json: killed hard (SIGKILL, out of memory, machine restart).
        metrics = _read_json(report_dir / "metrics.json") if report_dir else None
        if metrics is not None:  # it finished between our two reads
            return self._final_state(backend_id, job_dir, metrics, progress, started_at, report_dir)
        tail = self._log_tail(job_dir, report_dir)
        reason = "the runner stopped without reporting an end (killed, out of memory, or the machine restarted)"
        if tail:
            reason += ". Last log lines:\n" + "\n".join(tail)
        return JobState(
            backend_id, "FAILED", reason=reason, started_at=started_at,
            stopped_at=heartbeat or datetime.now(timezone.utc), heartbeat_at=heartbeat, progress=progress,
        )

    def _final_state(self, backend_id, job_dir, metrics, progress, started_at, report_dir) -> JobState:
        succeeded = metrics.get("status") == "succeeded"
        reason = metrics.get("reason") or ""
        if not succeeded and metrics.get("log_tail"):
            reason = (reason + ". Last log lines:\n" if reason else "Last log lines:\n") + "\n".join(
                metrics["log_tail"][-LOG_TAIL_LINES:]
            )
        interrupted = metrics.get("status") == "interrupted" and not (job_dir / "cancel_requested").exists()
        return JobState(
            backend_id,
            "SUCCEEDED" if succeeded else "FAILED",
            reason=reason,
            exit_code=metrics.get("exit_code"),
            started_at=started_at,
            stopped_at=_mtime(report_dir / "metrics.json"),
            heartbeat_at=parse_utc(progress.get("updated_at")) if progress else None,
            progress=progress,
            metrics=metrics,
            interrupted=interrupted,
        )

    def _log_path(self, job_dir: Path, report_dir: Path | None) -> Path:
        if report_dir is not None and (report_dir / "runner.log").exists():
            return report_dir / "runner.log"
        return job_dir / "runner.out"

    def _log_tail(self, job_dir: Path, report_dir: Path | None) -> list[str]:
        path = self._log_path(job_dir, report_dir)
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 8192))
                lines = fh.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return [line for line in lines if line.strip()][-LOG_TAIL_LINES:]

    def cancel(self, backend_id: str, *, reason: str) -> None:
        job_dir = self._job_dir(backend_id)
        if not job_dir.exists():
            return
        (job_dir / "cancel_requested").write_text(reason + "\n")
        pid = self._pid(job_dir)
        if pid is not None and self._alive(pid, job_dir):
            try:
                # The runner leads its own session; it forwards the signal to the model's group.
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def read_log(self, backend_id: str, *, position: str = "", limit: int = 65536) -> LogChunk:
        offset = int(position) if position.isdigit() else 0
        job_dir = self._job_dir(backend_id)
        report_dir = self._report_dir(job_dir) if job_dir.exists() else None
        path = self._log_path(job_dir, report_dir)
        complete = report_dir is not None and (report_dir / "metrics.json").exists()
        try:
            with open(path, "rb") as fh:
                fh.seek(max(0, offset))
                data = fh.read(limit)
        except FileNotFoundError:
            return LogChunk("", str(offset), complete)
        # Cut at the last whole line so a multi-byte character or a line is never split.
        if len(data) == limit and b"\n" in data:
            data = data[: data.rindex(b"\n") + 1]
        return LogChunk(data.decode(errors="replace"), str(offset + len(data)), complete)

    def read_progress(self, backend_id: str) -> dict | None:
        job_dir = self._job_dir(backend_id)
        report_dir = self._report_dir(job_dir) if job_dir.exists() else None
        return _read_json(report_dir / "progress.json") if report_dir else None

