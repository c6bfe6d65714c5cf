"""The runner's S3 transport: the wrapper in-process against moto, and whole runs of the
runner as a subprocess against a moto server on 127.0.0.1 (no network beyond this machine).

Other test modules import the ``moto_endpoint`` fixture and ``s3_env``/``s3_client``.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner import s3  # noqa: E402
from runner.transport import TransportError, fetch, open_store, read_bytes  # noqa: E402

from .test_runner_job import RUNNER, make_model, make_spec, runner_main, wait_for  # noqa: E402, F401 (a fixture)

BUCKET = "gcr-test-results"
PREFIX = "runs/6f1c0a52"

# ---------------------------------------------------------------------------------------------
# In-process, with moto's mock
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def mocked_s3(aws_credentials):
    s3.reset_client()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
    s3.reset_client()


def test_an_s3_store_puts_files_and_documents_under_its_prefix(mocked_s3, tmp_path):
    store = open_store(f"s3://{BUCKET}/{PREFIX}/")
    source = tmp_path / "r.nc4"
    source.write_bytes(b"restart")
    store.put(source, "Restarts/GEOSChem.Restart.20190103_0000z.nc4")
    store.put_bytes(b'{"state": "running"}', "reports/s001-a1/progress.json")

    body = mocked_s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/Restarts/GEOSChem.Restart.20190103_0000z.nc4")["Body"]
    assert body.read() == b"restart"
    assert store.get_bytes("reports/s001-a1/progress.json") == b'{"state": "running"}'
    assert store.get_bytes("reports/s001-a1/metrics.json") is None
    assert store.keys("reports") == ["reports/s001-a1/progress.json"]
    assert store.local_path("reports/s001-a1/runner.log") is None
    assert store.uri_of("Restarts/x.nc4") == f"s3://{BUCKET}/{PREFIX}/Restarts/x.nc4"


def test_an_s3_store_refuses_keys_that_escape_it(mocked_s3):
    with pytest.raises(TransportError, match="bad key"):
        open_store(f"s3://{BUCKET}/{PREFIX}/").put_bytes(b"x", "../other-run/metrics.json")


def test_reading_fetching_and_heading_s3_objects(mocked_s3, tmp_path):
    mocked_s3.put_object(Bucket=BUCKET, Key="specs/job.json", Body=b'{"a": 1}')
    assert read_bytes(f"s3://{BUCKET}/specs/job.json") == b'{"a": 1}'
    assert s3.head_size(f"s3://{BUCKET}/specs/job.json") == 8
    assert s3.head_size(f"s3://{BUCKET}/specs/none.json") is None

    dest = tmp_path / "Restarts" / "r.nc4"
    dest.parent.mkdir()
    dest.symlink_to("/nonexistent/target")  # a link createRunDir.sh left is replaced, not followed
    dest.unlink()
    fetch(f"s3://{BUCKET}/specs/job.json", dest)
    assert dest.read_bytes() == b'{"a": 1}'
    assert [p.name for p in dest.parent.iterdir()] == ["r.nc4"]  # no temporary file left

    with pytest.raises(TransportError, match=f"file not found: s3://{BUCKET}/specs/none.json"):
        read_bytes(f"s3://{BUCKET}/specs/none.json")
    with pytest.raises(TransportError, match="file not found"):
        fetch(f"s3://{BUCKET}/specs/none.json", tmp_path / "x")
    assert not list(tmp_path.glob("x*")) and not list(tmp_path.glob(".x*"))


def test_listing_a_folder_gives_relative_keys_and_sizes(mocked_s3):
    for key, body in (("ExtData/HEMCO/a.nc", b"aa"), ("ExtData/HEMCO/sub/b.nc", b"b"), ("ExtDataX/c.nc", b"c")):
        mocked_s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert sorted(s3.list_keys(f"s3://{BUCKET}/ExtData")) == [("HEMCO/a.nc", 2), ("HEMCO/sub/b.nc", 1)]


def test_s3_errors_become_transport_errors_with_plain_words(mocked_s3, tmp_path):
    store = open_store("s3://no-such-bucket/runs/x/")
    with pytest.raises(TransportError, match=r"S3 write of s3://no-such-bucket/runs/x/metrics.json failed: NoSuchBucket"):
        store.put_bytes(b"{}", "metrics.json")
    source = tmp_path / "a.nc4"
    source.write_bytes(b"a")
    with pytest.raises(TransportError, match=r"S3 upload to s3://no-such-bucket/runs/x/a.nc4 failed"):
        store.put(source, "a.nc4")
    with pytest.raises(TransportError, match="not an s3://bucket/key location"):
        s3.parse_s3_uri("s3:///key-without-bucket")


def test_the_client_retries_in_adaptive_mode(mocked_s3):
    config = s3.client().meta.config
    # botocore counts the first attempt too: max_attempts=10 retries means 11 in total.
    assert config.retries == {"mode": "adaptive", "total_max_attempts": s3.MAX_ATTEMPTS + 1}
    assert config.max_pool_connections >= 16  # the default staging thread count


# ---------------------------------------------------------------------------------------------
# A moto server for subprocess runs
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def moto_endpoint(moto_server):
    """The shared moto server (tests/conftest.py) with the results bucket; yields its URL."""
    s3_client(moto_server).create_bucket(Bucket=BUCKET)
    return moto_server


def s3_env(endpoint: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    env.update(extra)
    return env


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def get_json(client, key: str) -> dict | None:
    try:
        return json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    except client.exceptions.NoSuchKey:
        return None


def keys_under(client, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"][len(prefix):] for item in listing.get("Contents", []))


def s3_spec(tmp_path: Path, client, executable: str, **changes) -> str:
    """A spec whose outputs and reports go to S3, uploaded to S3; returns its s3:// URI."""
    path = make_spec(tmp_path, executable, io__output_uri=f"s3://{BUCKET}/{PREFIX}/",
                     io__report_uri=f"s3://{BUCKET}/{PREFIX}/reports/s001-a1/", **changes)
    spec = json.loads(path.read_text())
    spec["io"]["input_source"] = None  # no staging in these runs
    spec["io"]["spec_uri"] = f"s3://{BUCKET}/{PREFIX}/specs/{spec['job_name']}.json"
    client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/specs/{spec['job_name']}.json", Body=json.dumps(spec).encode())
    return spec["io"]["spec_uri"]


REPORTS = f"{PREFIX}/reports/s001-a1/"


# ---------------------------------------------------------------------------------------------
# Whole runs against the moto server
# ---------------------------------------------------------------------------------------------

def test_a_run_reads_its_spec_from_s3_and_writes_outputs_and_reports_there(tmp_path, moto_endpoint):
    client = s3_client(moto_endpoint)
    client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/Restarts/GEOSChem.Restart.20190101_0000z.nc4",
                      Body=b"previous segment restart")
    model = make_model(tmp_path, step_sleep=0.02)
    spec_uri = s3_spec(tmp_path, client, str(model),
                       restart__uri=f"s3://{BUCKET}/{PREFIX}/Restarts/GEOSChem.Restart.20190101_0000z.nc4")
    # No --spec: on AWS Batch the spec comes in $GCR_SPEC_URI.
    argv = [sys.executable, str(RUNNER), "--workdir", str(tmp_path / "run"), "--progress-interval", "0.5"]
    done = subprocess.run(argv, env=s3_env(moto_endpoint, GCR_SPEC_URI=spec_uri), capture_output=True,
                          text=True, timeout=180)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    metrics = get_json(client, REPORTS + "metrics.json")
    assert metrics["status"] == "succeeded"
    assert metrics["restart"] == "Restarts/GEOSChem.Restart.20190103_0000z.nc4"
    assert metrics["outputs"] == ["GEOSChem.SpeciesConc.20190101_0000z.nc4",
                                  "GEOSChem.SpeciesConc.20190102_0000z.nc4",
                                  "Restarts/GEOSChem.Restart.20190103_0000z.nc4"]
    stored = keys_under(client, f"{PREFIX}/")
    assert {"GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190102_0000z.nc4",
            "Restarts/GEOSChem.Restart.20190101_0000z.nc4", "Restarts/GEOSChem.Restart.20190103_0000z.nc4",
            "reports/s001-a1/metrics.json", "reports/s001-a1/progress.json",
            "reports/s001-a1/runner.log"} <= set(stored)
    body = client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/GEOSChem.SpeciesConc.20190102_0000z.nc4")["Body"]
    assert body.read() == b"CDF\x01 fake 20190102_0000z"
    progress = get_json(client, REPORTS + "progress.json")
    assert progress["state"] == "finished" and progress["percent"] == 100.0
    log = client.get_object(Bucket=BUCKET, Key=REPORTS + "runner.log")["Body"].read().decode()
    assert "fake model, restart present: ['GEOSChem.Restart.20190101_0000z.nc4']" in log
    assert "---> DATE: 2019/01/02  UTC: 23:00  X-HRS:      47.000" in log
    assert log.rstrip().splitlines()[-1].startswith("[runner] finished: succeeded")
    assert (tmp_path / "run" / "runner.log").is_file()  # written locally, uploaded


def test_progress_and_the_log_reach_s3_while_the_model_runs(tmp_path, moto_endpoint):
    client = s3_client(moto_endpoint)
    model = make_model(tmp_path, step_sleep=0.06)
    spec_uri = s3_spec(tmp_path, client, str(model), days=3)
    argv = [sys.executable, str(RUNNER), "--spec", spec_uri, "--workdir", str(tmp_path / "run"),
            "--progress-interval", "0.3", "--log-interval", "1"]
    proc = subprocess.Popen(argv, env=s3_env(moto_endpoint), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def running_midway():
            state = get_json(client, REPORTS + "progress.json")
            return state and state["state"] == "running" and 20 < state["percent"] < 80

        assert wait_for(running_midway, timeout=60)
        assert wait_for(lambda: "runner.log" in keys_under(client, REPORTS), timeout=30)
        assert get_json(client, REPORTS + "metrics.json") is None
    finally:
        assert proc.wait(timeout=120) == 0


def test_sigterm_uploads_what_exists_and_the_latest_restart_then_reports_interrupted(tmp_path, moto_endpoint):
    client = s3_client(moto_endpoint)
    model = make_model(tmp_path, step_sleep=0.1, daily_restart=True)
    spec_uri = s3_spec(tmp_path, client, str(model), days=4)
    argv = [sys.executable, str(RUNNER), "--spec", spec_uri, "--workdir", str(tmp_path / "run"),
            "--progress-interval", "0.3", "--grace-seconds", "2"]
    proc = subprocess.Popen(argv, env=s3_env(moto_endpoint), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second_restart = tmp_path / "run" / "Restarts" / "GEOSChem.Restart.20190103_0000z.nc4"
    assert wait_for(second_restart.exists, timeout=60)
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=60) == 143
    metrics = get_json(client, REPORTS + "metrics.json")
    assert metrics["status"] == "interrupted"
    assert metrics["reason"] == "received SIGTERM (e.g. Spot interruption or cancel)"
    assert metrics["restart"] is None  # the end-of-segment restart was never written
    assert metrics["latest_restart"] == "Restarts/GEOSChem.Restart.20190103_0000z.nc4"
    stored = keys_under(client, f"{PREFIX}/")
    assert "Restarts/GEOSChem.Restart.20190103_0000z.nc4" in stored
    assert "GEOSChem.SpeciesConc.20190102_0000z.nc4" in stored
    assert get_json(client, REPORTS + "progress.json")["status"] == "interrupted"
    log = client.get_object(Bucket=BUCKET, Key=REPORTS + "runner.log")["Body"].read().decode()
    assert "[runner] received SIGTERM: stopping the model" in log


def test_a_bad_spec_in_s3_leaves_its_reason_in_s3(tmp_path, moto_endpoint):
    client = s3_client(moto_endpoint)
    spec_uri = s3_spec(tmp_path, client, "demo", compute__threads=0)
    done = subprocess.run([sys.executable, str(RUNNER), "--spec", spec_uri, "--workdir", str(tmp_path / "run")],
                          env=s3_env(moto_endpoint), capture_output=True, text=True, timeout=120)

    assert done.returncode == 2
    assert "'compute.threads' must be a positive integer" in get_json(client, REPORTS + "metrics.json")["reason"]


def test_a_spec_that_is_not_in_s3_exits_2_with_a_plain_message(tmp_path, moto_endpoint):
    done = subprocess.run([sys.executable, str(RUNNER), "--spec", f"s3://{BUCKET}/specs/missing.json",
                           "--workdir", str(tmp_path / "run")],
                          env=s3_env(moto_endpoint), capture_output=True, text=True, timeout=120)

    assert done.returncode == 2
    assert f"cannot read the run spec: file not found: s3://{BUCKET}/specs/missing.json" in done.stderr


# ---------------------------------------------------------------------------------------------
# In-process (so that coverage sees the S3 paths of the orchestration)
# ---------------------------------------------------------------------------------------------

def test_main_runs_a_segment_in_process_with_reports_on_s3(tmp_path, mocked_s3, runner_main):
    model = make_model(tmp_path, daily_restart=True)
    spec = make_spec(tmp_path, str(model), days=2, io__output_uri=f"s3://{BUCKET}/{PREFIX}/",
                     io__report_uri=f"s3://{BUCKET}/{PREFIX}/reports/s001-a1/")
    code = runner_main(["--spec", str(spec), "--workdir", str(tmp_path / "run"), "--progress-interval", "0.1",
                        "--log-interval", "1"])

    assert code == 0
    metrics = json.loads(mocked_s3.get_object(Bucket=BUCKET, Key=REPORTS + "metrics.json")["Body"].read())
    assert metrics["status"] == "succeeded"
    assert metrics["latest_restart"] == "Restarts/GEOSChem.Restart.20190103_0000z.nc4"
    assert "Restarts/GEOSChem.Restart.20190102_0000z.nc4" in metrics["outputs"]  # the daily restart
    log = mocked_s3.get_object(Bucket=BUCKET, Key=REPORTS + "runner.log")["Body"].read().decode()
    assert log.rstrip().splitlines()[-1].startswith("[runner] finished: succeeded")


def test_main_reports_a_failed_upload_and_fails_the_segment(tmp_path, mocked_s3, runner_main):
    model = make_model(tmp_path)
    spec = make_spec(tmp_path, str(model), days=1, io__output_uri="s3://no-such-bucket/out/",
                     io__report_uri=f"s3://{BUCKET}/{PREFIX}/reports/s001-a1/")
    code = runner_main(["--spec", str(spec), "--workdir", str(tmp_path / "run"), "--progress-interval", "0.1"])

    assert code == 1
    metrics = json.loads(mocked_s3.get_object(Bucket=BUCKET, Key=REPORTS + "metrics.json")["Body"].read())
    assert metrics["reason"].startswith("the model finished but copying its outputs failed: S3 upload to "
                                        "s3://no-such-bucket/out/")
