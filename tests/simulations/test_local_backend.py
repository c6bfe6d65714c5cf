"""The local backend against a small fake runner (a real subprocess, real files, real signals)."""

import json
import os
import signal
import sys
import textwrap
import time

import pytest

from simulations.backends.base import BackendError
from simulations.backends.local import LocalBackend

FAKE_RUNNER = textwrap.dedent('''
    import argparse, json, os, signal, sys, time
    p = argparse.ArgumentParser(); p.add_argument("--spec"); p.add_argument("--workdir"); a = p.parse_args()
    spec = json.load(open(a.spec))
    report = spec["io"]["report_uri"][len("file://"):]
    os.makedirs(report, exist_ok=True)
    mode = spec["fake"]["mode"]
    def write(name, data):
        tmp = os.path.join(report, name + ".tmp")
        json.dump(data, open(tmp, "w")); os.replace(tmp, os.path.join(report, name))
    def stop(signum, frame):
        write("metrics.json", {"status": "interrupted", "exit_code": 143, "reason": "received SIGTERM",
                               "log_tail": ["step 1", "stopping"]})
        sys.exit(143)
    signal.signal(signal.SIGTERM, stop)
    log = open(os.path.join(report, "runner.log"), "a")
    for i in range(3):
        log.write(f"line {i}\\n"); log.flush()
    write("progress.json", {"state": "running", "percent": 40.0, "simulated_time": "2019-01-01T12:00:00",
                            "started_at": "2026-11-28T10:00:00Z", "updated_at": "2026-11-28T10:00:05Z"})
    if mode == "succeed":
        write("metrics.json", {"status": "succeeded", "exit_code": 0, "outputs": ["a.nc4"]})
    elif mode == "fail":
        write("metrics.json", {"status": "failed", "exit_code": 1, "reason": "the model exited with code 1",
                               "log_tail": ["ERROR: negative tracer"]})
    elif mode == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "hang":
        time.sleep(60)
''')


@pytest.fixture
def backend(tmp_path):
    runner = tmp_path / "fake_runner.py"
    runner.write_text(FAKE_RUNNER)
    return LocalBackend(tmp_path / "jobs", python=sys.executable, runner=runner)


def _spec(tmp_path, name, mode):
    return {"job_name": name, "io": {"report_uri": (tmp_path / "reports" / name).as_uri() + "/"}, "fake": {"mode": mode}}


def _wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _final(backend, name):
    return _wait_until(lambda: (s := backend.describe([name])[name]).state in ("SUCCEEDED", "FAILED") and s)


def test_it_runs_the_runner_and_reports_success_with_metrics(backend, tmp_path):
    result = backend.submit(job_name="gcr-a-s001-a1", spec=_spec(tmp_path, "gcr-a-s001-a1", "succeed"))
    assert result.backend_id == "gcr-a-s001-a1" and not result.already_existed
    state = _final(backend, "gcr-a-s001-a1")
    assert state.state == "SUCCEEDED"
    assert state.exit_code == 0
    assert state.metrics["outputs"] == ["a.nc4"]
    assert state.progress["percent"] == 40.0
    assert state.started_at.isoformat() == "2026-11-28T10:00:00+00:00"


def test_submitting_the_same_name_twice_starts_one_runner(backend, tmp_path):
    spec = _spec(tmp_path, "gcr-b-s001-a1", "succeed")
    backend.submit(job_name="gcr-b-s001-a1", spec=spec)
    again = backend.submit(job_name="gcr-b-s001-a1", spec=spec)
    assert again.already_existed
    assert len(list((tmp_path / "jobs").iterdir())) == 1


def test_a_failure_carries_the_reason_and_the_log_tail(backend, tmp_path):
    backend.submit(job_name="gcr-c-s001-a1", spec=_spec(tmp_path, "gcr-c-s001-a1", "fail"))
    state = _final(backend, "gcr-c-s001-a1")
    assert state.state == "FAILED"
    assert state.exit_code == 1
    assert state.reason.startswith("the model exited with code 1")
    assert "ERROR: negative tracer" in state.reason


def test_a_runner_killed_without_a_word_is_found_failed(backend, tmp_path):
    backend.submit(job_name="gcr-d-s001-a1", spec=_spec(tmp_path, "gcr-d-s001-a1", "die"))
    state = _final(backend, "gcr-d-s001-a1")
    assert state.state == "FAILED"
    assert "stopped without reporting an end" in state.reason
    assert "line 2" in state.reason  # the last lines of its log


def test_a_running_job_is_running_and_cancel_stops_it(backend, tmp_path):
    backend.submit(job_name="gcr-e-s001-a1", spec=_spec(tmp_path, "gcr-e-s001-a1", "hang"))
    state = _wait_until(lambda: (s := backend.describe(["gcr-e-s001-a1"])["gcr-e-s001-a1"]).state == "RUNNING" and s)
    assert state.heartbeat_at is not None
    pid = int((tmp_path / "jobs" / "gcr-e-s001-a1" / "runner.pid").read_text())
    backend.cancel("gcr-e-s001-a1", reason="cancelled by alice@example.org")
    state = _final(backend, "gcr-e-s001-a1")
    assert state.state == "FAILED" and state.metrics["status"] == "interrupted"
    assert (tmp_path / "jobs" / "gcr-e-s001-a1" / "cancel_requested").read_text().startswith("cancelled by alice")
    _wait_until(lambda: not os.path.exists(f"/proc/{pid}") or _is_zombie(pid))


def _is_zombie(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_the_runner_survives_its_parent(backend, tmp_path):
    """The runner leads its own session: a signal to the submitter's process group misses it."""
    backend.submit(job_name="gcr-f-s001-a1", spec=_spec(tmp_path, "gcr-f-s001-a1", "hang"))
    pid = int((tmp_path / "jobs" / "gcr-f-s001-a1" / "runner.pid").read_text())
    try:
        assert os.getsid(pid) == pid
        assert os.getsid(pid) != os.getsid(0)
    finally:
        os.killpg(pid, signal.SIGKILL)


def test_reading_the_log_goes_forward_from_an_offset(backend, tmp_path):
    backend.submit(job_name="gcr-g-s001-a1", spec=_spec(tmp_path, "gcr-g-s001-a1", "succeed"))
    _final(backend, "gcr-g-s001-a1")
    first = backend.read_log("gcr-g-s001-a1", limit=9)
    assert first.text == "line 0\n"  # cut at the last whole line
    rest = backend.read_log("gcr-g-s001-a1", position=first.position)
    assert rest.text == "line 1\nline 2\n"
    assert rest.complete
    assert backend.read_log("gcr-g-s001-a1", position=rest.position).text == ""


def test_a_job_whose_submitter_died_before_starting_it_is_failed_after_a_minute(backend, tmp_path):
    job_dir = tmp_path / "jobs" / "gcr-h-s001-a1"
    job_dir.mkdir(parents=True)
    (job_dir / "spec.json").write_text(json.dumps(_spec(tmp_path, "gcr-h-s001-a1", "succeed")))
    assert backend.describe(["gcr-h-s001-a1"])["gcr-h-s001-a1"].state == "SUBMITTED"
    old = time.time() - 120
    os.utime(job_dir, (old, old))
    state = backend.describe(["gcr-h-s001-a1"])["gcr-h-s001-a1"]
    assert state.state == "FAILED" and "never started" in state.reason


def test_it_refuses_ids_that_would_leave_its_folder(backend):
    with pytest.raises(BackendError):
        backend.describe(["../etc"])
