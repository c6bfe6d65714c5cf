"""The pure parts around the model process: command, environment, success rule, report
documents, /proc sampling, and the output copier."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner import launch, outcome  # noqa: E402
from runner.outputs import SETTLE_SECONDS, OutputShipper  # noqa: E402
from runner.procstats import ProcStat, TreeSampler, parse_stat, tree_of  # noqa: E402
from runner.reports import metrics_document, progress_document, progress_figures  # noqa: E402
from runner.spec import Segment  # noqa: E402
from runner.transport import FileStore  # noqa: E402

CLASSIC = Segment(
    job_name="gcr-x-s001-a1", model="classic", executable="/opt/gc/gcclassic",
    start=datetime(2019, 1, 1), end=datetime(2019, 1, 3), cs_res=None, threads=8, total_cores=8,
    restart_uri=None, output_uri="file:///o/", report_uri="file:///o/r/", instance_type=None,
)
GCHP = replace(CLASSIC, model="gchp", executable="/opt/gchp/gchp", cs_res=24, total_cores=96, threads=1)


# -- command and environment ---------------------------------------------------------------

@pytest.mark.parametrize(("segment", "argv"), [
    (CLASSIC, ["/opt/gc/gcclassic"]),
    (GCHP, ["mpirun", "-np", "96", "/opt/gchp/gchp"]),
    (replace(CLASSIC, executable="demo"), ["/usr/bin/python3", "/r/demo_model.py", "--spec", "runspec.json"]),
    (replace(GCHP, executable="demo"), ["/usr/bin/python3", "/r/demo_model.py", "--spec", "runspec.json"]),
])
def test_the_command_runs_the_right_program(segment, argv):
    assert launch.build_command(segment, demo_path=Path("/r/demo_model.py"), python="/usr/bin/python3") == argv


def test_classic_gets_its_threads_and_unbuffered_output():
    env = launch.build_env(CLASSIC, {"PATH": "/bin", "OMP_NUM_THREADS": "64"})
    assert env["OMP_NUM_THREADS"] == "8"
    assert env["GFORTRAN_UNBUFFERED_PRECONNECTED"] == "y"
    assert env["PATH"] == "/bin"


def test_gchp_ranks_run_one_thread_each_and_mpirun_may_run_as_root():
    env = launch.build_env(GCHP, {})
    assert env["OMP_NUM_THREADS"] == "1"
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == "1"
    assert "OMPI_ALLOW_RUN_AS_ROOT" not in launch.build_env(CLASSIC, {})


def test_the_demo_model_is_found_next_to_the_runner_or_where_the_env_says():
    here = Path("/repo/containers/runner/runner.py")
    assert launch.find_demo_model({}, here) == Path("/repo/containers/demo_model/demo_model.py")
    assert launch.find_demo_model({"GCR_DEMO_MODEL": "/x/demo.py"}, here) == Path("/x/demo.py")


def test_a_model_process_streams_lines_and_is_stopped_with_its_group(tmp_path):
    lines = []
    script = ("import time, subprocess, sys\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "open('child.pid', 'w').write(str(child.pid))\n"
              "print('first', flush=True)\n"
              "time.sleep(60)\n")
    proc = launch.ModelProcess([sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ),
                               on_line=lines.append)
    deadline = time.monotonic() + 20
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lines == ["first"]
    assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)

    said = []
    proc.stop(5, said.append)
    proc.finish_output()
    assert proc.returncode == -signal.SIGTERM
    assert said[0].startswith("sent SIGTERM to the model (process group")
    child = int((tmp_path / "child.pid").read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(100):  # the grandchild got the signal too; wait for it to be reaped
            os.kill(child, 0)
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                raise ProcessLookupError
            time.sleep(0.05)


def test_waiting_returns_early_when_a_stop_is_requested(tmp_path):
    proc = launch.ModelProcess([sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path,
                               env=dict(os.environ), on_line=lambda line: None)
    try:
        started = time.monotonic()
        launch.wait_either(proc, lambda: True, 10)
        assert time.monotonic() - started < 1
    finally:
        proc.stop(0, lambda text: None)


# -- the success rule --------------------------------------------------------------------------

END = datetime(2019, 1, 3)
RESTART = "Restarts/GEOSChem.Restart.20190103_0000z.nc4"

JUDGEMENTS = [
    ("classic exit 0 with restart", dict(model="classic", returncode=0, restart_written=True),
     "succeeded", ""),
    ("classic exit 0 without restart", dict(model="classic", returncode=0, restart_written=False),
     "failed", f"the model exited with code 0 but did not write the end-of-segment restart {RESTART}; "
               "last log line: done"),
    ("classic exit 1 even with a restart", dict(model="classic", returncode=1, restart_written=True),
     "failed", "the model exited with code 1; last log line: done"),
    ("classic killed by SIGSEGV", dict(model="classic", returncode=-11, restart_written=False),
     "failed", "the model was killed by signal 11 (SIGSEGV); last log line: done"),
    ("gchp exit 0 complete", dict(model="gchp", returncode=0, restart_written=True, cap_restart=END),
     "succeeded", ""),
    ("gchp exit 134 complete", dict(model="gchp", returncode=134, restart_written=True, cap_restart=END),
     "succeeded", "known GCHP issue #556"),
    ("gchp SIGABRT complete", dict(model="gchp", returncode=-6, restart_written=True, cap_restart=END),
     "succeeded", "known GCHP issue #556"),
    ("gchp exit 134 without checkpoint", dict(model="gchp", returncode=134, restart_written=False, cap_restart=END),
     "failed", f"the model exited with code 134 (signal 6, SIGABRT) but the checkpoint restart {RESTART} "
               "was not written; last log line: done"),
    ("gchp exit 0 with cap_restart not advanced",
     dict(model="gchp", returncode=0, restart_written=True, cap_restart=datetime(2019, 1, 1)),
     "failed", "the model exited with code 0 but cap_restart shows 20190101 000000, not the segment "
               "end 20190103 000000; last log line: done"),
    ("gchp exit 134 with no cap_restart at all",
     dict(model="gchp", returncode=134, restart_written=False, cap_restart=None),
     "failed", "cap_restart shows nothing readable, not the segment end 20190103 000000 and the checkpoint"),
    ("gchp exit 1 even when complete", dict(model="gchp", returncode=1, restart_written=True, cap_restart=END),
     "failed", "the model exited with code 1; last log line: done"),
]


@pytest.mark.parametrize(("why", "facts", "status", "reason"), JUDGEMENTS, ids=[j[0] for j in JUDGEMENTS])
def test_the_success_rule(why, facts, status, reason):
    result = outcome.judge(end=END, restart_name=RESTART, last_line="done", **facts)
    assert result.status == status
    assert reason in result.reason if reason else result.reason == ""


@pytest.mark.parametrize(("returncode", "code", "words"), [
    (0, 0, "exited with code 0"),
    (2, 2, "exited with code 2"),
    (137, 137, "exited with code 137 (signal 9, SIGKILL)"),
    (-9, 137, "was killed by signal 9 (SIGKILL), possibly by the out-of-memory killer"),
    (-15, 143, "was killed by signal 15 (SIGTERM)"),
])
def test_exit_codes_are_described_with_their_signal(returncode, code, words):
    assert outcome.exit_code_of(returncode) == code
    assert outcome.describe_exit(returncode) == words


def test_interruptions_name_the_signal():
    assert outcome.interrupted(signal.SIGTERM) == outcome.Outcome(
        "interrupted", "received SIGTERM (e.g. Spot interruption or cancel)")
    assert outcome.interrupted(signal.SIGINT).reason.startswith("received SIGINT")


# -- report documents ----------------------------------------------------------------------------

@pytest.mark.parametrize(("simulated", "wall", "expected"), [
    (None, 5.0, {"percent": 0.0, "days_per_day": None, "eta_seconds": None}),
    (datetime(2019, 1, 1), 5.0, {"percent": 0.0, "days_per_day": None, "eta_seconds": None}),
    (datetime(2019, 1, 2, 6), 10.0, {"percent": 62.5, "days_per_day": 10800.0, "eta_seconds": 6.0}),
    (datetime(2019, 1, 3), 20.0, {"percent": 100.0, "days_per_day": 8640.0, "eta_seconds": 0.0}),
    (datetime(2019, 1, 4), 20.0, {"percent": 100.0, "days_per_day": 8640.0, "eta_seconds": 0.0}),
    (datetime(2019, 1, 2), 0.0, {"percent": 50.0, "days_per_day": None, "eta_seconds": None}),
])
def test_progress_figures(simulated, wall, expected):
    assert progress_figures(datetime(2019, 1, 1), datetime(2019, 1, 3), simulated, wall) == expected


def test_the_progress_document_has_the_contract_fields_and_the_last_120_samples():
    samples = [{"t": f"s{i}", "cpu_percent": 1.0, "rss_mb": 2.0} for i in range(130)]
    document = progress_document(
        job_name="j", state="running", start=datetime(2019, 1, 1), end=datetime(2019, 1, 3),
        simulated=datetime(2019, 1, 2, 6), wall_seconds=10.0, started_at="a", updated_at="b", samples=samples,
    )
    assert set(document) == {"spec_version", "job_name", "state", "simulated_time", "percent", "days_per_day",
                             "eta_seconds", "started_at", "updated_at", "samples"}
    assert document["simulated_time"] == "2019-01-02T06:00:00"
    assert len(document["samples"]) == 120 and document["samples"][0]["t"] == "s10"


def test_the_metrics_document_has_the_contract_fields():
    document = metrics_document(
        job_name="j", status="succeeded", exit_code=0, reason="", wall_seconds=12.345,
        model_wall_seconds=10.0, peak_rss_mb=150.2, instance_type="c7g.4xlarge", simulated_days=2.0,
        model_timers={"Transport": 1.2}, outputs=["b.nc4", "a.nc4"], restart="Restarts/r.nc4",
        log_tail=[str(i) for i in range(80)], started_at="a", finished_at="b",
    )
    assert {"spec_version", "job_name", "status", "exit_code", "reason", "wall_seconds", "peak_rss_mb",
            "instance_type", "simulated_days", "days_per_day", "model_timers", "outputs", "restart",
            "log_tail"} <= set(document)
    assert document["days_per_day"] == 17280.0
    assert document["outputs"] == ["a.nc4", "b.nc4"]
    assert document["log_tail"] == [str(i) for i in range(30, 80)]
    assert document["wall_seconds"] == 12.35


# -- /proc sampling ------------------------------------------------------------------------------

def test_a_stat_line_is_parsed_even_with_odd_command_names():
    text = ("4242 (my (odd) prog) S 4200 4242 4242 0 -1 4194560 100 0 0 0 "
            "150 50 7 3 20 0 1 0 12345 104857600 2560 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1")
    assert parse_stat(text) == ProcStat(pid=4242, ppid=4200, cpu_ticks=210, rss_pages=2560)


def test_the_tree_holds_the_root_and_all_its_descendants():
    stats = {pid: ProcStat(pid, ppid, 0, 0) for pid, ppid in
             [(1, 0), (10, 1), (11, 10), (12, 10), (13, 12), (20, 1)]}
    assert sorted(stat.pid for stat in tree_of(10, stats)) == [10, 11, 12, 13]
    assert tree_of(99, stats) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_the_sampler_measures_a_busy_process_tree():
    busy = subprocess.Popen([sys.executable, "-c", "x = bytearray(50 * 2**20)\nwhile True: pass"])
    try:
        sampler = TreeSampler(busy.pid)
        assert sampler.sample() is None  # the baseline
        assert sampler.sample() is None  # too soon after it to measure CPU
        time.sleep(0.6)
        sample = sampler.sample()
        assert sample is not None
        assert sample.cpu_percent > 30
        assert sample.rss_mb > 40
        assert sample.t.endswith("Z")
        assert sampler.peak_rss_mb >= sample.rss_mb
    finally:
        busy.kill()
        busy.wait()
    assert sampler.sample() is None  # the tree is gone


def test_the_sampler_gives_nothing_without_proc(tmp_path):
    assert TreeSampler(os.getpid(), proc=tmp_path).sample() is None


# -- output copying ------------------------------------------------------------------------------

def _run_dir(tmp_path):
    root = tmp_path / "run"
    (root / "OutputDir").mkdir(parents=True)
    (root / "Restarts").mkdir()
    return root


def test_outputs_go_to_the_top_and_restarts_under_restarts(tmp_path):
    root = _run_dir(tmp_path)
    (root / "OutputDir" / "GEOSChem.SpeciesConc.20190101_0000z.nc4").write_bytes(b"s")
    (root / "OutputDir" / ".partial.tmp").write_bytes(b"hidden")
    (root / "Restarts" / "GEOSChem.Restart.20190103_0000z.nc4").write_bytes(b"r")
    (root / "Restarts" / "gcchem_internal_checkpoint").write_bytes(b"raw")
    shipper = OutputShipper(root, FileStore(tmp_path / "out"))

    assert shipper.ship(final=True) == ["GEOSChem.SpeciesConc.20190101_0000z.nc4",
                                        "Restarts/GEOSChem.Restart.20190103_0000z.nc4"]
    assert (tmp_path / "out" / "GEOSChem.SpeciesConc.20190101_0000z.nc4").read_bytes() == b"s"
    assert (tmp_path / "out" / "Restarts" / "GEOSChem.Restart.20190103_0000z.nc4").read_bytes() == b"r"
    assert shipper.ship(final=True) == []  # nothing changed


def test_during_the_run_only_settled_files_are_copied_and_changes_are_copied_again(tmp_path):
    root = _run_dir(tmp_path)
    path = root / "OutputDir" / "GEOSChem.SpeciesConc.20190101_0000z.nc4"
    path.write_bytes(b"first")
    now = [time.time()]
    shipper = OutputShipper(root, FileStore(tmp_path / "out"), clock=lambda: now[0])

    assert shipper.ship(final=False) == []  # still being written, perhaps
    now[0] += SETTLE_SECONDS + 1
    assert shipper.ship(final=False) == ["GEOSChem.SpeciesConc.20190101_0000z.nc4"]
    path.write_bytes(b"second, longer")
    assert shipper.ship(final=True) == ["GEOSChem.SpeciesConc.20190101_0000z.nc4"]
    assert (tmp_path / "out" / path.name).read_bytes() == b"second, longer"
    assert shipper.copied == ["GEOSChem.SpeciesConc.20190101_0000z.nc4"]


def test_the_staged_restart_is_copied_only_if_the_model_changes_it(tmp_path):
    root = _run_dir(tmp_path)
    staged = root / "Restarts" / "GEOSChem.Restart.20190101_0000z.nc4"
    staged.write_bytes(b"from the previous segment")
    shipper = OutputShipper(root, FileStore(tmp_path / "out"))
    shipper.ignore_unchanged(staged)

    assert shipper.ship(final=True) == []
    staged.write_bytes(b"overwritten by the model")
    assert shipper.ship(final=True) == ["Restarts/GEOSChem.Restart.20190101_0000z.nc4"]
