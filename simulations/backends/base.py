"""The compute backend protocol: what the services need from wherever jobs run.

A backend submits a run spec under a deterministic job name (submitting the same name twice
returns the first job), describes many jobs at once, cancels, and reads a job's log and progress.
Implementations return these dataclasses and raise these errors, never a library's own.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol


class BackendError(Exception):
    """The backend refused or failed; the message is for a researcher to read."""


class BackendTransientError(BackendError):
    """Worth retrying later (throttling, a busy service)."""


def parse_utc(value: str | None) -> datetime | None:
    """An ISO 8601 time from a runner report ("...Z" allowed) as an aware datetime, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class JobState:
    """Where a job stands, in AWS Batch's state names (SUBMITTED ... SUCCEEDED, FAILED)."""

    backend_id: str
    state: str
    reason: str = ""
    exit_code: int | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    heartbeat_at: datetime | None = None
    progress: dict | None = None
    metrics: dict | None = None
    # Stopped from outside (a Spot reclaim, SIGTERM that was not a cancel): resume, don't fail.
    interrupted: bool = False


@dataclass(frozen=True)
class LogChunk:
    """Log text from a position on; `position` is opaque (a byte offset, a CloudWatch token)."""

    text: str
    position: str
    complete: bool = False  # the job is over and nothing more will be written


@dataclass(frozen=True)
class SubmitResult:
    backend_id: str
    already_existed: bool = False


class ComputeBackend(Protocol):
    name: str

    def config_problems(self, cfg) -> list: ...  # FieldErrors for what this backend cannot run

    def prepare_spec(self, spec: dict) -> dict: ...  # the spec with this backend's fields added

    def submit(self, *, job_name: str, spec: dict) -> SubmitResult: ...

    def describe(self, backend_ids: list[str]) -> dict[str, JobState]: ...

    def cancel(self, backend_id: str, *, reason: str) -> None: ...

    def read_log(self, backend_id: str, *, position: str = "", limit: int = 65536) -> LogChunk: ...

    def read_progress(self, backend_id: str) -> dict | None: ...
