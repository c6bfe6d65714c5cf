"""Whole runs of containers/runner/runner.py as a subprocess against a fake model.

The fake model is a small Python script, made executable with a shebang, that the spec names
as ``model.executable``. It prints GEOS-Chem-style progress lines, writes OutputDir/ and
Restarts/ files (plain bytes, not netCDF) and exits as the test tells it to.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "containers" / "runner" / "runner.py"

FAKE_MODEL = r'''#!{python}
import json, os, signal, sys, time
from datetime import datetime, timedelta

behaviour = {behaviour!r}
spec = json.load(open("runspec.json"))
start = datetime.fromisoformat(spec["period"]["start"])
end = datetime.fromisoformat(spec["period"]["end"])
gchp = spec["model"]["name"] == "gchp"
cs = spec["grid"].get("cs_res")
open("model.pid", "w").write(str(os.getpid()))
if behaviour.get("ignore_sigterm"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("*************   S T A R T I N G   G E O S - C H E M   *************", flush=True)
print("fake model, restart present:", sorted(os.listdir("Restarts")), flush=True)
now = start
hour = 0
while now < end:
    if now.hour == 0:
        stamp = now.strftime("%Y%m%d_%H%Mz")
        with open(f"OutputDir/GEOSChem.SpeciesConc.{{stamp}}.nc4", "wb") as f:
            f.write(b"CDF\x01 fake " + stamp.encode())
        if behaviour.get("daily_restart") and now > start:
            with open(f"Restarts/GEOSChem.Restart.{{stamp}}.nc4", "wb") as f:
                f.write(b"restart " + stamp.encode())
    if gchp:
        print(f" GCHP Date: {{now:%Y/%m/%d}}  Time: {{now:%H:%M:%S}}  Throughput(days/day)[Avg Tot Run]:"
              f"     1549.5     7202.7     7605.9  TimeRemaining(Est) 000:00:01   40.0% :  22.4% Mem Comm:Used",
              flush=True)
    else:
        print(f"---> DATE: {{now:%Y/%m/%d}}  UTC: {{now:%H:%M}}  X-HRS: {{hour:11.3f}}", flush=True)
    if behaviour.get("crash_at_hour") == hour:
        print("===============================================================================")
        print("GEOS-Chem ERROR: Could not find file MERRA2.20190101.A1.4x5.nc4")
        print(" -> at Get_Met_A1 (in module GeosCore/flexgrid_read_mod.F90)")
        print("===============================================================================", flush=True)
        sys.exit(behaviour.get("exit_code", 1))
    if behaviour.get("hang_at_hour") == hour:
        time.sleep(120)  # silent: a dead reader would not be noticed through a broken pipe
    time.sleep(behaviour.get("step_sleep", 0.01))
    now += timedelta(hours=1)
    hour += 1
if gchp:
    if behaviour.get("advance_cap_restart", True):
        open("cap_restart", "w").write(end.strftime("%Y%m%d %H%M%S") + "\n")
    if behaviour.get("write_restart", True):
        open("Restarts/gcchem_internal_checkpoint", "wb").write(b"checkpoint")
else:
    if behaviour.get("write_restart", True):
        with open(f"Restarts/GEOSChem.Restart.{{end:%Y%m%d_%H%M}}z.nc4", "wb") as f:
            f.write(b"restart")
    print("")
    print("=" * 79)
    print("G E O S - C H E M   T I M E R S")
    print("")
    print("  Timer name                       DD-hh:mm:ss.SSS     Total Seconds")
    print("-" * 79)
    print("  GEOS-Chem                     :  00-00:00:01.250             1.250")
    print("  Transport                     :  00-00:00:00.400             0.400")
    print("  => Gas-phase chem             :  00-00:00:00.125             0.125")
    print("  Convection                    :  >>>>> THE TIMER DID NOT RUN <<<<<", flush=True)
print("**************   E N D   O F   G E O S - C H E M   **************", flush=True)
if behaviour.get("leave_garbage_line"):
    print("MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD with errorcode 134", flush=True)
sys.exit(behaviour.get("exit_code", 0))
'''


def make_model(folder: Path, **behaviour) -> Path:
    path = folder / "fake_gc"
    path.write_text(FAKE_MODEL.format(python=sys.executable, behaviour=behaviour))
    path.chmod(0o755)
    return path


def make_spec(tmp_path: Path, executable: str, *, model="classic", days=2, restart_uri=None, **changes) -> Path:
    end_day = 1 + days
    spec = {
        "spec_version": 1,
        "simulation_id": "6f1c0a52",
        "job_name": "gcr-6f1c0a52-s001-a1",
        "name": "fake run",
        # source_dir null: the runner writes the run directory itself (no createRunDir.sh),
        # as for a model built outside the official images.
        "model": {"name": model, "geoschem_version": "14.7.0", "executable": executable, "source_dir": None},
        "simulation": {"type": "TransportTracers", "options": []},
        "met": {"name": "MERRA2", "scenario": None},
        "grid": {
            "kind": "cubed_sphere" if model == "gchp" else "latlon",
            "resolution": "C24" if model == "gchp" else "4x5",
            "levels": 72, "domain": "global", "lon_range": [-180.0, 180.0], "lat_range": [-90.0, 90.0],
            "nested": False, "buffer_zone_NSEW": [0, 0, 0, 0],
            "cs_res": 24 if model == "gchp" else None, "stretch": None,
        },
        "timesteps": {"transport_s": 600, "chemistry_s": 1200},
        "period": {"start": "2019-01-01T00:00:00", "end": f"2019-01-{end_day:02d}T00:00:00"},
        "run": {"start": "2019-01-01T00:00:00", "end": f"2019-01-{end_day:02d}T00:00:00"},
        "segment": {"index": 1, "count": 1},
        "attempt": 1,
        "restart": {"uri": restart_uri},
        "geoschem_config": {
            "simulation": {"name": "TransportTracers", "start_date": [20190101, 0],
                           "end_date": [20190100 + end_day, 0], "met_field": "MERRA2"},
            "operations": {"transport": {"activate": True, "transported_species": ["Rn222", "Pb210"]}},
        },
        "history": {"collections": [{
            "name": "SpeciesConc", "frequency": "00000001 000000", "duration": "00000001 000000",
            "mode": "time-averaged", "fields": ["SpeciesConcVV_?ALL?"]}]},
        "gchp": {"setCommonRunSettings": {"TOTAL_CORES": 6, "NUM_NODES": 1, "NUM_CORES_PER_NODE": 6,
                                          "CS_RES": 24, "Run_Duration": f"000000{days:02d} 000000"}}
        if model == "gchp" else None,
        "compute": {"backend": "local", "instance_type": "c7g.4xlarge", "capacity": "on-demand",
                    "nodes": 1, "cores_per_node": 6 if model == "gchp" else 2, "threads": 2},
        "io": {
            "input_root": str(tmp_path / "ExtData"),
            "output_uri": (tmp_path / "outputs").as_uri() + "/",
            "report_uri": (tmp_path / "outputs" / "reports" / "s001-a1").as_uri() + "/",
        },
    }
    for dotted, value in changes.items():
        node = spec
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def runner_argv(spec: Path, workdir: Path, *extra: str) -> list[str]:
    return [sys.executable, str(RUNNER), "--spec", str(spec), "--workdir", str(workdir),
            "--progress-interval", "0.2", *extra]


def run_runner(spec: Path, workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(runner_argv(spec, workdir, *extra), capture_output=True, text=True, timeout=120)


def reports(tmp_path: Path) -> Path:
    return tmp_path / "outputs" / "reports" / "s001-a1"


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def progress_state(tmp_path: Path):
    try:
        return read_json(reports(tmp_path) / "progress.json")
    except (OSError, ValueError):
        return None


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie awaiting its parent still answers to kill(0); it runs no more code.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# ------------------------------------------------------------------------------------------
# Classic
# ------------------------------------------------------------------------------------------

def test_a_classic_run_succeeds_and_reports_progress_metrics_and_outputs(tmp_path):
    model = make_model(tmp_path, step_sleep=0.04)
    done = run_runner(make_spec(tmp_path, str(model)), tmp_path / "run")

    assert done.returncode == 0, done.stderr
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "succeeded"
    assert metrics["exit_code"] == 0
    assert metrics["reason"] == ""
    assert metrics["job_name"] == "gcr-6f1c0a52-s001-a1"
    assert metrics["instance_type"] == "c7g.4xlarge"
    assert metrics["simulated_days"] == 2.0
    assert metrics["days_per_day"] > 0
    assert metrics["wall_seconds"] >= metrics["model_wall_seconds"] > 1.0
    assert metrics["peak_rss_mb"] > 1
    assert metrics["model_timers"] == {"GEOS-Chem": 1.25, "Transport": 0.4, "=> Gas-phase chem": 0.125}
    assert metrics["outputs"] == [
        "GEOSChem.SpeciesConc.20190101_0000z.nc4",
        "GEOSChem.SpeciesConc.20190102_0000z.nc4",
        "Restarts/GEOSChem.Restart.20190103_0000z.nc4",
    ]
    assert metrics["restart"] == "Restarts/GEOSChem.Restart.20190103_0000z.nc4"
    assert metrics["log_tail"][-1].startswith("[runner] finished: succeeded")
    assert len(metrics["log_tail"]) == 50

    out = tmp_path / "outputs"
    assert (out / "GEOSChem.SpeciesConc.20190102_0000z.nc4").read_bytes() == b"CDF\x01 fake 20190102_0000z"
    assert (out / "Restarts" / "GEOSChem.Restart.20190103_0000z.nc4").read_bytes() == b"restart"
    assert not [p for p in out.rglob(".*.tmp")]

    progress = read_json(reports(tmp_path) / "progress.json")
    assert progress["state"] == "finished"
    assert progress["status"] == "succeeded"
    assert progress["simulated_time"] == "2019-01-03T00:00:00"
    assert progress["percent"] == 100.0
    assert progress["eta_seconds"] == 0.0
    assert progress["started_at"].endswith("Z") and progress["updated_at"].endswith("Z")
    if sys.platform.startswith("linux"):
        assert progress["samples"], "no CPU/memory sample taken on Linux"
        sample = progress["samples"][-1]
        assert set(sample) == {"t", "cpu_percent", "rss_mb"} and sample["rss_mb"] > 1

    log = (reports(tmp_path) / "runner.log").read_text().splitlines()
    assert log[0].startswith("[runner] GEOS-Chem Cloud Runner: job gcr-6f1c0a52-s001-a1")
    assert any(line.startswith("[runner] running: ") and str(model) in line for line in log)
    assert "---> DATE: 2019/01/02  UTC: 23:00  X-HRS:      47.000" in log

    run = tmp_path / "run"
    assert json.loads((run / "runspec.json").read_text())["job_name"] == "gcr-6f1c0a52-s001-a1"
    assert (run / "geoschem_config.yml").is_file() and (run / "HISTORY.rc").is_file()


def test_progress_json_reports_a_running_segment_while_the_model_runs(tmp_path):
    model = make_model(tmp_path, step_sleep=0.05)
    proc = subprocess.Popen(runner_argv(make_spec(tmp_path, str(model)), tmp_path / "run"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def midway():
            state = progress_state(tmp_path)
            return state and state["state"] == "running" and 10 < state["percent"] < 90

        assert wait_for(midway), progress_state(tmp_path)
        state = progress_state(tmp_path)
        assert state["simulated_time"].startswith("2019-01-0")
        assert state["days_per_day"] > 0 and state["eta_seconds"] > 0
    finally:
        assert proc.wait(timeout=60) == 0


def test_a_model_that_exits_1_fails_with_the_exit_code_and_the_error_line(tmp_path):
    model = make_model(tmp_path, crash_at_hour=5, exit_code=1)
    done = run_runner(make_spec(tmp_path, str(model)), tmp_path / "run")

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "failed"
    assert metrics["exit_code"] == 1
    assert metrics["reason"] == ("the model exited with code 1; last log line: "
                                 "GEOS-Chem ERROR: Could not find file MERRA2.20190101.A1.4x5.nc4")
    assert "GEOS-Chem ERROR: Could not find file MERRA2.20190101.A1.4x5.nc4" in metrics["log_tail"]
    assert metrics["restart"] is None
    assert metrics["simulated_days"] == pytest.approx(5 / 24, abs=1e-4)
    assert metrics["outputs"] == ["GEOSChem.SpeciesConc.20190101_0000z.nc4"]
    assert read_json(reports(tmp_path) / "progress.json")["status"] == "failed"


def test_a_model_that_exits_0_without_the_end_restart_fails(tmp_path):
    model = make_model(tmp_path, write_restart=False)
    done = run_runner(make_spec(tmp_path, str(model)), tmp_path / "run")

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "failed"
    assert metrics["exit_code"] == 0
    assert metrics["reason"].startswith(
        "the model exited with code 0 but did not write the end-of-segment restart "
        "Restarts/GEOSChem.Restart.20190103_0000z.nc4")
    assert metrics["restart"] is None


def test_a_model_killed_by_a_signal_fails_and_names_the_signal(tmp_path):
    model = tmp_path / "killed_gc"
    model.write_text(f"#!{sys.executable}\nimport os, signal\nprint('reading met fields', flush=True)\n"
                     "os.kill(os.getpid(), signal.SIGKILL)\n")
    model.chmod(0o755)
    done = run_runner(make_spec(tmp_path, str(model)), tmp_path / "run")

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["exit_code"] == 137
    assert metrics["reason"] == ("the model was killed by signal 9 (SIGKILL), possibly by the "
                                 "out-of-memory killer; last log line: reading met fields")


def test_a_missing_executable_fails_with_a_reason(tmp_path):
    done = run_runner(make_spec(tmp_path, str(tmp_path / "no_such_gcclassic")), tmp_path / "run")

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "failed"
    assert metrics["exit_code"] is None
    assert metrics["reason"].startswith("could not start the model: ")
    assert "no_such_gcclassic" in metrics["reason"]


def test_the_restart_of_the_segment_start_is_staged_and_not_copied_back(tmp_path):
    previous = tmp_path / "previous" / "GEOSChem.Restart.20190101_0000z.nc4"
    previous.parent.mkdir()
    previous.write_bytes(b"previous segment restart")
    model = make_model(tmp_path)
    done = run_runner(make_spec(tmp_path, str(model), restart_uri=previous.as_uri()), tmp_path / "run")

    assert done.returncode == 0, done.stderr
    staged = tmp_path / "run" / "Restarts" / "GEOSChem.Restart.20190101_0000z.nc4"
    assert staged.read_bytes() == b"previous segment restart"
    log = (reports(tmp_path) / "runner.log").read_text()
    assert "fake model, restart present: ['GEOSChem.Restart.20190101_0000z.nc4']" in log
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert "Restarts/GEOSChem.Restart.20190101_0000z.nc4" not in metrics["outputs"]
    assert not (tmp_path / "outputs" / "Restarts" / "GEOSChem.Restart.20190101_0000z.nc4").exists()


def test_a_restart_uri_that_does_not_exist_fails_before_the_model_starts(tmp_path):
    model = make_model(tmp_path)
    spec = make_spec(tmp_path, str(model), restart_uri=(tmp_path / "missing.nc4").as_uri())
    done = run_runner(spec, tmp_path / "run")

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["reason"].startswith("could not prepare the run directory: file not found: file://")
    assert not (tmp_path / "run" / "model.pid").exists()


# ------------------------------------------------------------------------------------------
# GCHP
# ------------------------------------------------------------------------------------------

def with_fake_mpirun(tmp_path: Path) -> dict:
    """An environment whose PATH starts with a fake mpirun that checks ``-np 6`` and runs the
    program once (no MPI in the test environment)."""
    (tmp_path / "bin").mkdir()
    mpirun = tmp_path / "bin" / "mpirun"
    mpirun.write_text('#!/bin/sh\n[ "$1" = -np ] && [ "$2" = 6 ] || exit 99\nshift 2\nexec "$@"\n')
    mpirun.chmod(0o755)
    return dict(os.environ, PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")


def test_gchp_exit_134_after_a_complete_run_counts_as_succeeded(tmp_path):
    model = make_model(tmp_path, exit_code=134, leave_garbage_line=True)
    spec = make_spec(tmp_path, str(model), model="gchp", days=1)
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True,
                          env=with_fake_mpirun(tmp_path), timeout=120)

    assert done.returncode == 0, done.stdout[-2000:]
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "succeeded"
    assert metrics["exit_code"] == 134
    assert "known GCHP issue #556" in metrics["reason"]
    assert metrics["restart"] == "Restarts/GEOSChem.Restart.20190102_0000z.c24.nc4"
    assert (tmp_path / "outputs" / "Restarts" / "GEOSChem.Restart.20190102_0000z.c24.nc4").read_bytes() == b"checkpoint"
    assert "Restarts/gcchem_internal_checkpoint" not in metrics["outputs"]
    assert (tmp_path / "run" / "cap_restart").read_text() == "20190102 000000\n"
    log = (reports(tmp_path) / "runner.log").read_text()
    assert "[runner] running: mpirun -np 6 " in log
    assert "known GCHP issue #556" in log
    progress = read_json(reports(tmp_path) / "progress.json")
    assert progress["simulated_time"] == "2019-01-02T00:00:00"


def test_gchp_exit_134_without_cap_restart_advanced_fails(tmp_path):
    model = make_model(tmp_path, exit_code=134, advance_cap_restart=False, leave_garbage_line=True)
    spec = make_spec(tmp_path, str(model), model="gchp", days=1)
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True,
                          env=with_fake_mpirun(tmp_path), timeout=120)

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "failed"
    assert metrics["exit_code"] == 134
    assert metrics["reason"].startswith(
        "the model exited with code 134 (signal 6, SIGABRT) but cap_restart shows "
        "20190101 000000, not the segment end 20190102 000000")
    assert metrics["reason"].endswith(
        "last log line: MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD with errorcode 134")


# ------------------------------------------------------------------------------------------
# Signals
# ------------------------------------------------------------------------------------------

def _start_and_wait_for_first_output(tmp_path, **behaviour):
    model = make_model(tmp_path, step_sleep=0.1, **behaviour)
    log = open(tmp_path / "runner.stdout", "w")
    argv = runner_argv(make_spec(tmp_path, str(model), days=3), tmp_path / "run", "--grace-seconds", "1")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    first = tmp_path / "run" / "OutputDir" / "GEOSChem.SpeciesConc.20190102_0000z.nc4"
    assert wait_for(first.exists), (tmp_path / "runner.stdout").read_text()
    pid = int((tmp_path / "run" / "model.pid").read_text())
    return proc, pid


def test_sigterm_stops_the_model_copies_partial_outputs_and_exits_143(tmp_path):
    proc, model_pid = _start_and_wait_for_first_output(tmp_path)
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=30) == 143
    assert process_gone(model_pid)
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "interrupted"
    assert metrics["reason"] == "received SIGTERM (e.g. Spot interruption or cancel)"
    assert metrics["exit_code"] == 143  # the fake model died of the forwarded SIGTERM
    assert metrics["restart"] is None
    assert 1.0 <= metrics["simulated_days"] < 3.0
    partial = {"GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190102_0000z.nc4"}
    assert partial <= set(metrics["outputs"])
    assert (tmp_path / "outputs" / "GEOSChem.SpeciesConc.20190102_0000z.nc4").is_file()
    progress = read_json(reports(tmp_path) / "progress.json")
    assert progress["state"] == "finished" and progress["status"] == "interrupted"
    assert 33.0 <= progress["percent"] < 100.0
    assert "[runner] received SIGTERM: stopping the model" in (reports(tmp_path) / "runner.log").read_text()


def test_a_model_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    proc, model_pid = _start_and_wait_for_first_output(tmp_path, ignore_sigterm=True)
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=30) == 143
    assert process_gone(model_pid)
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "interrupted"
    assert metrics["exit_code"] == 137
    log = (reports(tmp_path) / "runner.log").read_text()
    assert "[runner] the model did not stop within 1 s: sending SIGKILL" in log


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_a_runner_killed_outright_takes_the_model_with_it(tmp_path):
    proc, model_pid = _start_and_wait_for_first_output(tmp_path, ignore_sigterm=True, hang_at_hour=24)
    proc.kill()
    proc.wait(timeout=30)

    assert wait_for(lambda: process_gone(model_pid), timeout=10)
    assert not (reports(tmp_path) / "metrics.json").exists()


def test_sigint_interrupts_like_sigterm(tmp_path):
    proc, model_pid = _start_and_wait_for_first_output(tmp_path)
    proc.send_signal(signal.SIGINT)

    assert proc.wait(timeout=30) == 143
    assert process_gone(model_pid)
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "interrupted"
    assert metrics["reason"].startswith("received SIGINT")


# ------------------------------------------------------------------------------------------
# Bad specs and entry points
# ------------------------------------------------------------------------------------------

def test_a_spec_missing_a_key_exits_2_and_says_which_key_in_metrics(tmp_path):
    spec = make_spec(tmp_path, "demo")
    data = json.loads(spec.read_text())
    del data["period"]["end"]
    spec.write_text(json.dumps(data))
    done = run_runner(spec, tmp_path / "run")

    assert done.returncode == 2
    assert "run spec is missing 'period.end'" in done.stderr
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "failed"
    assert metrics["reason"] == "bad run spec: run spec is missing 'period.end'"
    assert metrics["job_name"] == "gcr-6f1c0a52-s001-a1"
    assert not (tmp_path / "run").exists()


def test_a_spec_that_is_not_json_exits_2(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text("{not json")
    done = run_runner(spec, tmp_path / "run")

    assert done.returncode == 2
    assert "is not valid JSON" in done.stderr


def test_a_spec_file_that_does_not_exist_exits_2(tmp_path):
    done = run_runner(tmp_path / "nowhere.json", tmp_path / "run")

    assert done.returncode == 2
    assert "cannot read the run spec" in done.stderr


def test_a_spec_of_another_version_exits_2(tmp_path):
    spec = make_spec(tmp_path, "demo", spec_version=2)
    done = run_runner(spec, tmp_path / "run")

    assert done.returncode == 2
    assert read_json(reports(tmp_path) / "metrics.json")["reason"] == (
        "bad run spec: spec_version 2 is not supported (this runner reads 1)")


def test_an_output_uri_of_an_unknown_scheme_is_refused(tmp_path):
    spec = make_spec(tmp_path, "demo", io__output_uri="gs://bucket/outputs/")
    done = run_runner(spec, tmp_path / "run")

    assert done.returncode == 2
    assert "unsupported location scheme gs:// in gs://bucket/outputs/" in done.stderr


def test_the_runner_also_runs_as_a_package_with_a_file_uri_spec(tmp_path):
    model = make_model(tmp_path)
    spec = make_spec(tmp_path, str(model), days=1)
    argv = [sys.executable, "-m", "containers.runner", "--spec", spec.as_uri(), "--workdir", str(tmp_path / "run")]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert read_json(reports(tmp_path) / "metrics.json")["status"] == "succeeded"
    # The runner echoes the log to its standard output, for CloudWatch Logs on AWS Batch.
    assert "[runner] finished: succeeded" in done.stdout


def test_the_help_text_names_the_options():
    done = subprocess.run([sys.executable, str(RUNNER), "--help"], capture_output=True, text=True, timeout=60)

    assert done.returncode == 0
    for option in ("--spec", "--workdir", "--grace-seconds", "--progress-interval", "--log-interval",
                   "--stage-workers", "--rendezvous-timeout"):
        assert option in done.stdout


# ------------------------------------------------------------------------------------------
# In-process (so that coverage sees the orchestration too)
# ------------------------------------------------------------------------------------------

@pytest.fixture
def runner_main():
    sys.path.insert(0, str(REPO / "containers"))
    from runner.runner import main

    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield main
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_main_runs_a_segment_in_process(tmp_path, runner_main, capsys):
    model = make_model(tmp_path)
    code = runner_main(["--spec", str(make_spec(tmp_path, str(model), days=1)),
                        "--workdir", str(tmp_path / "run"), "--progress-interval", "0.1"])

    assert code == 0
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "succeeded"
    assert metrics["outputs"] == ["GEOSChem.SpeciesConc.20190101_0000z.nc4",
                                  "Restarts/GEOSChem.Restart.20190102_0000z.nc4"]
    assert "---> DATE: 2019/01/01  UTC: 23:00  X-HRS:      23.000" in capsys.readouterr().out


def test_main_refuses_a_bad_spec_in_process(tmp_path, runner_main, capsys):
    spec = make_spec(tmp_path, "demo", compute__threads=0)
    assert runner_main(["--spec", str(spec), "--workdir", str(tmp_path / "run")]) == 2
    assert "'compute.threads' must be a positive integer" in capsys.readouterr().err
    assert read_json(reports(tmp_path) / "metrics.json")["status"] == "failed"


def test_main_reports_a_spec_whose_history_gchp_cannot_express(tmp_path, runner_main, capsys):
    spec = make_spec(tmp_path, str(make_model(tmp_path)), model="gchp",
                     history__collections=[{"name": "Yearly", "frequency": "00010000 000000"}])
    assert runner_main(["--spec", str(spec), "--workdir", str(tmp_path / "run")]) == 2
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["reason"].startswith("bad run spec: cannot render the run directory from the spec: ")
    assert "[runner] bad run spec: cannot render" in metrics["log_tail"][-1]
    progress = read_json(reports(tmp_path) / "progress.json")
    assert progress["state"] == "finished" and progress["status"] == "failed"


# ------------------------------------------------------------------------------------------
# The demo model
# ------------------------------------------------------------------------------------------

DEMO_MODEL = REPO / "containers" / "demo_model" / "demo_model.py"
GOLDEN = REPO / "tests" / "simulations" / "golden"


def one_day_demo_spec(tmp_path: Path, model: str) -> Path:
    """The platform's own spec (its golden file) for a TransportTracers run, 4x5 Classic or
    C24 GCHP, cut to one day and pointed at this test's folders."""
    golden = GOLDEN / ("classic-tt-4x5-2days.spec.json" if model == "classic" else "gchp-tt-c24-6cores.spec.json")
    if not golden.exists():
        return make_spec(tmp_path, "demo", model=model, days=1)
    spec = json.loads(golden.read_text())
    spec["period"] = {"start": "2019-01-01T00:00:00", "end": "2019-01-02T00:00:00"}
    spec["run"] = dict(spec["period"])
    spec["geoschem_config"]["simulation"]["start_date"] = [20190101, 0]
    spec["geoschem_config"]["simulation"]["end_date"] = [20190102, 0]
    if spec.get("gchp"):
        spec["gchp"]["setCommonRunSettings"]["Run_Duration"] = "00000001 000000"
    spec["model"]["executable"] = "demo"
    spec["io"]["output_uri"] = (tmp_path / "outputs").as_uri() + "/"
    spec["io"]["report_uri"] = (tmp_path / "outputs" / "reports" / "s001-a1").as_uri() + "/"
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.parametrize(("model", "restart"), [
    ("classic", "Restarts/GEOSChem.Restart.20190102_0000z.nc4"),
    ("gchp", "Restarts/GEOSChem.Restart.20190102_0000z.c24.nc4"),
])
def test_the_demo_model_runs_one_day_to_success(tmp_path, model, restart):
    done = subprocess.run(runner_argv(one_day_demo_spec(tmp_path, model), tmp_path / "run"),
                          capture_output=True, text=True, timeout=600)

    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert done.returncode == 0, metrics["reason"] + "\n" + "\n".join(metrics["log_tail"])
    assert metrics["status"] == "succeeded"
    assert "GEOSChem.SpeciesConc.20190101_0000z.nc4" in metrics["outputs"]
    assert metrics["restart"] == restart
    assert (tmp_path / "outputs" / "GEOSChem.SpeciesConc.20190101_0000z.nc4").stat().st_size > 0
    assert metrics["simulated_days"] == 1.0 and metrics["model_timers"]
    assert read_json(reports(tmp_path) / "progress.json")["percent"] == 100.0
    log = (reports(tmp_path) / "runner.log").read_text()
    assert ("---> DATE: 2019/01/01  UTC: 12:00" if model == "classic" else "Date: 2019/01/01  Time: 12:00:00") in log


def test_a_second_demo_segment_starts_from_the_first_ones_restart(tmp_path):
    first = one_day_demo_spec(tmp_path, "classic")
    assert subprocess.run(runner_argv(first, tmp_path / "run1"), capture_output=True, timeout=600).returncode == 0
    restart_uri = (tmp_path / "outputs" / read_json(reports(tmp_path) / "metrics.json")["restart"]).as_uri()

    spec = json.loads(first.read_text())
    spec["job_name"] = "gcr-6f1c0a52-s002-a1"
    spec["segment"]["index"] = 2
    spec["period"] = {"start": "2019-01-02T00:00:00", "end": "2019-01-03T00:00:00"}
    spec["geoschem_config"]["simulation"]["start_date"] = [20190102, 0]
    spec["geoschem_config"]["simulation"]["end_date"] = [20190103, 0]
    spec["restart"]["uri"] = restart_uri
    spec["io"]["report_uri"] = (tmp_path / "outputs" / "reports" / "s002-a1").as_uri() + "/"
    second = tmp_path / "spec2.json"
    second.write_text(json.dumps(spec))
    done = subprocess.run(runner_argv(second, tmp_path / "run2"), capture_output=True, text=True, timeout=600)

    assert done.returncode == 0
    metrics = read_json(tmp_path / "outputs" / "reports" / "s002-a1" / "metrics.json")
    assert metrics["restart"] == "Restarts/GEOSChem.Restart.20190103_0000z.nc4"
    assert "Restarts/GEOSChem.Restart.20190102_0000z.nc4" not in metrics["outputs"]  # staged, not copied back
    log = (tmp_path / "outputs" / "reports" / "s002-a1" / "runner.log").read_text()
    assert "DEMO MODEL: initial conditions read from ./Restarts/GEOSChem.Restart.20190102_0000z.nc4" in log
    assert sorted(p.name for p in (tmp_path / "outputs" / "Restarts").iterdir()) == [
        "GEOSChem.Restart.20190102_0000z.nc4", "GEOSChem.Restart.20190103_0000z.nc4"]
