"""Multi-node GCHP on AWS Batch: roles, hostfile, the rendezvous through the report location,
and a two-node job run as two runner subprocesses against a moto server."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner import multinode  # noqa: E402
from runner.logparse import LogWatcher  # noqa: E402
from runner.reports import RunLog  # noqa: E402
from runner.runner import Job  # noqa: E402
from runner.spec import check_spec  # noqa: E402
from runner.transport import FileStore  # noqa: E402

from .test_runner_job import make_model, make_spec, process_gone, read_json, reports, runner_argv, wait_for  # noqa: E402
from .test_runner_s3 import (  # noqa: E402, F401 (moto_endpoint is a fixture)
    BUCKET, REPORTS, get_json, keys_under, moto_endpoint, s3_client, s3_env, s3_spec,
)

BATCH = {"AWS_BATCH_JOB_NUM_NODES": "3", "AWS_BATCH_JOB_MAIN_NODE_INDEX": "0"}


# ---------------------------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("env", "expected"), [
    ({}, None),
    ({"AWS_BATCH_JOB_NUM_NODES": "1", "AWS_BATCH_JOB_NODE_INDEX": "0"}, None),
    ({**BATCH, "AWS_BATCH_JOB_NODE_INDEX": "0"}, multinode.NodeRole(0, 0, 3, None)),
    ({**BATCH, "AWS_BATCH_JOB_NODE_INDEX": "2", "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS": "10.0.1.5"},
     multinode.NodeRole(2, 0, 3, "10.0.1.5")),
])
def test_the_node_role_comes_from_the_batch_variables(env, expected):
    assert multinode.node_role(env) == expected


def test_only_the_main_index_is_main():
    assert multinode.node_role({**BATCH, "AWS_BATCH_JOB_NODE_INDEX": "0"}).is_main
    assert not multinode.node_role({**BATCH, "AWS_BATCH_JOB_NODE_INDEX": "1"}).is_main


@pytest.mark.parametrize("env", [
    {**BATCH, "AWS_BATCH_JOB_NODE_INDEX": "3"},
    {**BATCH, "AWS_BATCH_JOB_NODE_INDEX": "one"},
])
def test_impossible_node_variables_are_refused(env):
    with pytest.raises(ValueError):
        multinode.node_role(env)


def test_the_hostfile_lists_nodes_by_index_with_their_slots():
    text = multinode.hostfile_text({1: {"ip": "10.0.0.12", "slots": 48}, 0: {"ip": "10.0.0.11", "slots": 48}})
    assert text == "10.0.0.11 slots=48\n10.0.0.12 slots=48\n"


def test_the_sshd_command_comes_from_the_environment_or_the_system():
    assert multinode.sshd_command({"GCR_SSHD_COMMAND": "/opt/sshd -D -p 2222"}) == ["/opt/sshd", "-D", "-p", "2222"]
    assert multinode.sshd_command({"GCR_SSHD_COMMAND": ""}) is None
    assert multinode.sshd_command({}, exists=lambda path: True) == ["/usr/sbin/sshd", "-D"]
    assert multinode.sshd_command({}, exists=lambda path: False) is None


def test_the_node_ip_comes_from_the_environment_or_the_route():
    role = multinode.NodeRole(1, 0, 2, "127.0.0.1")
    assert multinode.own_ip({"GCR_NODE_IP": "10.1.2.3"}, role) == "10.1.2.3"
    assert multinode.own_ip({}, role) == "127.0.0.1"  # the address that reaches the main node


# ---------------------------------------------------------------------------------------------
# The rendezvous, through a file store
# ---------------------------------------------------------------------------------------------

def test_the_main_node_waits_until_every_node_has_registered(tmp_path):
    store = FileStore(tmp_path / "reports")
    roles = [multinode.NodeRole(i, 0, 3, None) for i in range(3)]
    multinode.register(store, roles[0], ip="10.0.0.1", slots=6)

    def late_nodes():
        for role in roles[1:]:
            time.sleep(0.2)
            multinode.register(store, role, ip=f"10.0.0.{role.index + 1}", slots=6)

    thread = threading.Thread(target=late_nodes)
    thread.start()
    said = []
    nodes = multinode.wait_for_nodes(store, 3, timeout=20, stop_requested=lambda: False, say=said.append, poll=0.05)
    thread.join()

    assert multinode.hostfile_text(nodes) == "10.0.0.1 slots=6\n10.0.0.2 slots=6\n10.0.0.3 slots=6\n"
    assert said[0] == "1 of 3 node(s) registered" and said[-1] == "3 of 3 node(s) registered"


def test_a_rendezvous_that_times_out_names_the_missing_nodes(tmp_path):
    store = FileStore(tmp_path / "reports")
    multinode.register(store, multinode.NodeRole(0, 0, 3, None), ip="10.0.0.1", slots=6)
    (tmp_path / "reports" / "nodes" / "2.json").write_text("{not json")
    with pytest.raises(multinode.RendezvousError, match=r"only 1 of 3 nodes registered \(within 0.2 s\); missing node\(s\) 1, 2"):
        multinode.wait_for_nodes(store, 3, timeout=0.2, stop_requested=lambda: False, poll=0.05)


def test_another_node_serves_sshd_until_the_main_node_is_done(tmp_path):
    store = FileStore(tmp_path / "reports")
    pid_file = tmp_path / "sshd.pid"
    fake_sshd = [sys.executable, "-c", f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"]
    threading.Timer(0.5, lambda: multinode.mark_done(store)).start()
    said = []

    why = multinode.serve_until_done(store, sshd=fake_sshd, stop_requested=lambda: False, say=said.append, poll=0.05)

    assert why == "done"
    assert said[0].startswith("started ")
    assert wait_for(lambda: process_gone(int(pid_file.read_text())), timeout=10)


def test_another_node_leaves_on_a_stop_request(tmp_path):
    why = multinode.serve_until_done(FileStore(tmp_path), sshd=None, stop_requested=lambda: True, say=print, poll=0.05)
    assert why == "stopped"


def test_the_main_node_fails_at_once_when_another_node_could_not_prepare(tmp_path):
    spec = json.loads(make_spec(tmp_path, "demo", model="gchp", compute__nodes=2).read_text())
    job = Job(spec_uri="unused", workdir=tmp_path / "run", grace_seconds=1, interval=1, rendezvous_timeout=5)
    job.segment = check_spec(spec)
    job.reports = FileStore(tmp_path / "reports")
    job.log = RunLog(tmp_path / "runner.log", LogWatcher(), echo=None)
    multinode.register(job.reports, multinode.NodeRole(1, 0, 2, None), ip="10.0.0.2", slots=6,
                       error="2 input file(s) exist neither in /scratch/ExtData nor in s3://geos-chem: a, b")
    run_dir = type("RunDir", (), {"root": tmp_path})()

    started = time.monotonic()
    # Node 2 never registers: the main node does not wait for it once node 1 has failed.
    with pytest.raises(multinode.RendezvousError, match="node 1 could not prepare: 2 input file"):
        job._meet_other_nodes(multinode.NodeRole(0, 0, 3, None), run_dir)
    assert time.monotonic() - started < 4
    assert json.loads((tmp_path / "reports" / "nodes" / "0.json").read_text())["slots"] == 6


# ---------------------------------------------------------------------------------------------
# Whole multi-node jobs
# ---------------------------------------------------------------------------------------------

def fake_mpirun_env(tmp_path: Path, base: dict) -> dict:
    """PATH with a fake mpirun that wants ``--hostfile hostfile -np 12``, prints the hostfile
    and runs the program once."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    mpirun = tmp_path / "bin" / "mpirun"
    mpirun.write_text('#!/bin/sh\n[ "$1" = --hostfile ] && [ "$2" = hostfile ] && [ "$3" = -np ] '
                      '&& [ "$4" = 12 ] || exit 99\nsed "s/^/hostfile: /" "$2"\nshift 4\nexec "$@"\n')
    mpirun.chmod(0o755)
    return dict(base, PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")


def batch_env(index: int, **extra) -> dict:
    env = {"AWS_BATCH_JOB_NUM_NODES": "2", "AWS_BATCH_JOB_MAIN_NODE_INDEX": "0",
           "AWS_BATCH_JOB_NODE_INDEX": str(index), "GCR_NODE_IP": f"10.0.0.{index + 1}"}
    if index:
        env["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] = "10.0.0.1"
    env.update(extra)
    return env


def test_a_two_node_gchp_job_meets_runs_mpirun_with_a_hostfile_and_releases_the_other_node(tmp_path, moto_endpoint):
    client = s3_client(moto_endpoint)
    model = make_model(tmp_path, step_sleep=0.01)
    spec_uri = s3_spec(tmp_path, client, str(model), model="gchp", days=1, compute__nodes=2,
                       gchp__setCommonRunSettings__TOTAL_CORES=12, gchp__setCommonRunSettings__NUM_NODES=2)
    sshd_pid = tmp_path / "sshd.pid"
    fake_sshd = f"{sys.executable} -c \"import os,time; open('{sshd_pid}','w').write(str(os.getpid())); time.sleep(120)\""
    other = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().parents[2] / "containers/runner/runner.py"),
         "--spec", spec_uri, "--workdir", str(tmp_path / "node1" / "run")],
        env=s3_env(moto_endpoint, **batch_env(1, GCR_SSHD_COMMAND=fake_sshd)),
        stdout=open(tmp_path / "node1.out", "w"), stderr=subprocess.STDOUT)
    try:
        main = subprocess.run(
            runner_argv(spec_uri, tmp_path / "node0" / "run"), capture_output=True, text=True, timeout=180,
            env=fake_mpirun_env(tmp_path, s3_env(moto_endpoint, **batch_env(0))))
        assert main.returncode == 0, main.stdout[-3000:]
        assert other.wait(timeout=60) == 0, (tmp_path / "node1.out").read_text()[-3000:]
    finally:
        if other.poll() is None:
            other.kill()

    metrics = get_json(client, REPORTS + "metrics.json")
    assert metrics["status"] == "succeeded"
    assert metrics["restart"] == "Restarts/GEOSChem.Restart.20190102_0000z.c24.nc4"
    log = client.get_object(Bucket=BUCKET, Key=REPORTS + "runner.log")["Body"].read().decode()
    assert "[runner] running: mpirun --hostfile hostfile -np 12 " in log
    assert "hostfile: 10.0.0.1 slots=6" in log and "hostfile: 10.0.0.2 slots=6" in log
    assert "node 0 of 2 (main)" in log
    assert set(keys_under(client, REPORTS + "nodes/")) == {"0.json", "1.json", "done"}
    assert json.loads(client.get_object(Bucket=BUCKET, Key=REPORTS + "nodes/1.json")["Body"].read())["ip"] == "10.0.0.2"
    # The other node prepared its own run directory, wrote no reports, and stopped its sshd.
    assert (tmp_path / "node1" / "run" / "setCommonRunSettings.sh").is_file()
    node1_log = (tmp_path / "node1" / "run.node1.log").read_text()
    assert "[runner] registered as node 1 (10.0.0.2, 6 slots)" in node1_log
    assert "[runner] the main node is done" in node1_log
    assert wait_for(lambda: sshd_pid.exists() and process_gone(int(sshd_pid.read_text())), timeout=10)


def test_the_main_node_fails_when_the_others_never_register_and_still_releases_them(tmp_path):
    model = make_model(tmp_path)
    spec = make_spec(tmp_path, str(model), model="gchp", days=1, compute__nodes=2)
    env = dict(os.environ, **batch_env(0))
    done = subprocess.run(runner_argv(spec, tmp_path / "run", "--rendezvous-timeout", "1"), capture_output=True,
                          text=True, env=env, timeout=120)

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["reason"] == "only 1 of 2 nodes registered (within 1 s); missing node(s) 1"
    assert (reports(tmp_path) / "nodes" / "done").is_file()
    assert not (tmp_path / "run" / "model.pid").exists()


def test_another_node_leaves_on_sigterm_without_reports(tmp_path):
    spec = make_spec(tmp_path, str(make_model(tmp_path)), model="gchp", days=1, compute__nodes=2)
    env = dict(os.environ, **batch_env(1, GCR_SSHD_COMMAND=""))
    proc = subprocess.Popen(runner_argv(spec, tmp_path / "run"), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    assert wait_for((reports(tmp_path) / "nodes" / "1.json").exists, timeout=60)
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=30) == 0
    assert not (reports(tmp_path) / "metrics.json").exists()
    assert not (reports(tmp_path) / "progress.json").exists()
    assert "received a signal: leaving" in (tmp_path / "run.node1.log").read_text()
