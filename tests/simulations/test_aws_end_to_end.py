"""The production path end to end against a moto server on 127.0.0.1.

The platform submits a real Batch job to the moto server; moto does not run containers, so the
test plays the container: it runs the runner with the job's environment (GCR_SPEC_URI) against
the same server, which fetches the spec from S3, runs the demo model and uploads to S3. Then
the sync sees the job SUCCEEDED and the outputs are listed from S3.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from django_q.conf import Conf

from simulations import aws, tracking
from simulations.aws_names import AwsNames
from simulations.management.commands.setup_dev_aws import create_dev_resources
from simulations.models import Simulation
from simulations.outputs import output_files, output_locations
from tests.conftest import TEST_CREDENTIALS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def endpoint(moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    for key, value in TEST_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    aws.reset_clients()
    yield moto_server
    aws.reset_clients()


@pytest.fixture
def batch_settings(settings, endpoint, monkeypatch):
    # moto marks a job SUCCEEDED the moment it is submitted; keep the follow-up sync task queued
    # (not run in-line) so the job is read only after the test has played the container.
    monkeypatch.setattr(Conf, "SYNC", False)
    names = AwsNames.from_prefix("gcr-e2e")
    settings.AWS_REGION, settings.AWS_PREFIX, settings.S3_BUCKET = "us-east-1", names.prefix, "gcr-e2e-results"
    _, queue_url = create_dev_resources(names=names, bucket=settings.S3_BUCKET, region="us-east-1")
    settings.COMPUTE_BACKEND, settings.BATCH, settings.SQS_QUEUE_URL = "batch", True, queue_url
    settings.OUTPUT_ROOT_URI = f"s3://{settings.S3_BUCKET}/runs/"
    settings.GCCLASSIC_EXECUTABLE = settings.GCHP_EXECUTABLE = "demo"
    settings.INPUT_SOURCE = ""  # the demo model reads no input data
    return settings


def _run_container(job_env: dict, endpoint: str, workdir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **TEST_CREDENTIALS, **job_env, "AWS_ENDPOINT_URL": endpoint}
    return subprocess.run([sys.executable, str(ROOT / "containers" / "runner" / "runner.py"), "--workdir",
                           str(workdir)], env=env, capture_output=True, text=True, timeout=300)


def test_submit_run_and_list_outputs_from_s3(batch_settings, endpoint, tmp_path, capsys):
    call_command("run_simulation", "--config", str(ROOT / "examples" / "demo-transport-tracers-4x5.yml"), "--json")
    sim = Simulation.objects.get(id=json.loads(capsys.readouterr().out)["id"])
    job = sim.jobs.get()
    batch = boto3.client("batch", endpoint_url=endpoint, region_name="us-east-1")
    described = batch.describe_jobs(jobs=[job.backend_id])["jobs"][0]
    assert described["jobName"] == job.name
    assert described["jobQueue"].endswith("gcr-e2e-ondemand-x86")
    assert "gcr-e2e-gcclassic-amd64" in described["jobDefinition"]
    env = {item["name"]: item["value"] for item in described["container"].get("environment", [])}
    assert env["GCR_SPEC_URI"] == sim.output_uri + f"specs/{job.name}.json"

    result = _run_container(env, endpoint, tmp_path / "run")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tracking.jobs_sync()
        sim.refresh_from_db()
        if sim.is_final:
            break
        time.sleep(0.5)
    assert sim.status == Simulation.Status.SUCCEEDED, sim.status_reason
    assert sim.output_uri + "GEOSChem.SpeciesConc.20190101_0000z.nc4" in output_locations(sim)
    listed = {f.path for f in output_files(sim)}
    assert {"GEOSChem.SpeciesConc.20190101_0000z.nc4", "Restarts/GEOSChem.Restart.20190103_0000z.nc4"} <= listed
