"""The AWS Batch backend against moto in-process (Batch without Docker), and botocore's Stubber
for the states and errors moto cannot produce.

moto's Batch marks a job SUCCEEDED the moment it is submitted, shows container overrides'
environment but not their resourceRequirements, and ignores nodeOverrides: what the backend asks
for is read from the SubmitJob request itself (a botocore event hook), what Batch made of it from
DescribeJobs.
"""

import json
import math
import time
import uuid

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from simulations import aws, s3, spec as runspec
from tests.conftest import use_fake_aws_credentials
from simulations.aws_names import AwsNames
from simulations.backends.base import BackendError, BackendTransientError
from simulations.backends.batch import UNKNOWN_JOB_REASON, BatchBackend, job_state
from simulations.config import parse_config
from simulations.management.commands.setup_dev_aws import create_dev_resources

PREFIX = "gcr-test"
BUCKET = "gcr-test-results"
CLASSIC = {
    "name": "TransportTracers 4x5, two days", "model": "classic", "simulation": "TransportTracers",
    "resolution": "4x5", "start": "2019-01-01", "end": "2019-01-03",
}
GCHP = {
    "name": "GCHP C90, two days", "model": "gchp", "simulation": "TransportTracers", "resolution": "C90",
    "start": "2019-01-01", "end": "2019-01-03",
}


def _fake_credentials(monkeypatch, settings):
    use_fake_aws_credentials(monkeypatch)
    settings.AWS_REGION = "us-east-1"
    settings.AWS_PREFIX = PREFIX
    settings.S3_BUCKET = BUCKET
    settings.OUTPUT_ROOT_URI = f"s3://{BUCKET}/runs/"
    settings.BATCH_TIMEOUT_HOURS = 24
    settings.INPUT_SOURCE = "s3://geos-chem"
    settings.CONTAINER_INPUT_ROOT = "/scratch/ExtData"


@pytest.fixture
def dev_aws(settings, monkeypatch):
    """moto with every resource setup_dev_aws makes."""
    _fake_credentials(monkeypatch, settings)
    with mock_aws(config={"batch": {"use_docker": False}}):
        aws.reset_clients()
        create_dev_resources(names=AwsNames.from_prefix(PREFIX), bucket=BUCKET, region="us-east-1")
        yield
    aws.reset_clients()


@pytest.fixture
def stubbed(settings, monkeypatch):
    """No AWS at all: tests put a Stubber on the client they need."""
    _fake_credentials(monkeypatch, settings)
    aws.reset_clients()
    yield
    aws.reset_clients()


@pytest.fixture
def submitted():
    """The SubmitJob requests the backend sends (moto drops some of their fields)."""
    requests = []
    aws.client("batch").meta.events.register(
        "provide-client-params.batch.SubmitJob", lambda params, **kwargs: requests.append(dict(params)))
    return requests


def _spec(raw: dict, compute: dict, *, segment: int = 1, attempt: int = 1) -> dict:
    sim_id = str(uuid.uuid4())
    cfg = parse_config({**raw, "compute": compute})
    spec = runspec.render_spec(cfg, simulation_id=sim_id, segment_index=segment, attempt=attempt,
                               executable="/opt/geos-chem/bin/gcclassic", backend="batch", input_root="/unused",
                               output_uri=f"s3://{BUCKET}/runs/{sim_id}/", restart_uri=None)
    return BatchBackend().prepare_spec(spec)


def _describe(job_id: str) -> dict:
    return aws.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]


def _environment(job: dict) -> dict:
    return {item["name"]: item["value"] for item in job["container"]["environment"]}


def _detail(job_id="job-1", status="RUNNING", **fields) -> dict:
    """A job as DescribeJobs shows it (the fields Stubber's validation requires, and more)."""
    return {"jobName": "gcr-abc-s001-a1", "jobId": job_id, "jobQueue": "arn:aws:batch:q", "status": status,
            "startedAt": 1641944300058, "jobDefinition": "arn:aws:batch:d", **fields}


# --- clients -------------------------------------------------------------------------------------
@pytest.mark.parametrize("service", ["batch", "s3", "sqs", "logs", "events", "iam", "ec2", "sts"])
def test_every_client_talks_to_the_endpoint_in_aws_endpoint_url(stubbed, monkeypatch, service):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")

    made = aws.client(service)

    assert made.meta.endpoint_url == "http://127.0.0.1:5000"
    assert made.meta.region_name == "us-east-1"
    assert made.meta.config.retries["mode"] == "adaptive"
    assert made.meta.config.retries["total_max_attempts"] == 9  # botocore's name for 8 retries after the first try


def test_clients_are_made_once_per_service_region_and_endpoint(stubbed, settings, monkeypatch):
    first = aws.client("batch")
    assert aws.client("batch") is first
    settings.AWS_REGION = "eu-west-1"
    assert aws.client("batch").meta.region_name == "eu-west-1"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:5000")
    assert aws.client("batch").meta.endpoint_url == "http://localhost:5000"
    settings.AWS_REGION = "us-east-1"
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert aws.client("batch") is first
    aws.reset_clients()
    assert aws.client("batch") is not first


# --- validation and the spec ---------------------------------------------------------------------
def test_gchp_on_a_graviton_instance_is_refused_with_advice(settings):
    settings.GCHP_EXECUTABLE = "/opt/geos-chem/bin/gchp"
    cfg = parse_config({**GCHP, "resolution": "C48",
                        "compute": {"instance_type": "c7g.16xlarge", "cores_per_node": 48}})

    problems = BatchBackend().config_problems(cfg)

    assert [(p.field, p.message) for p in problems] == [(
        "compute.instance_type",
        "GCHP images are built for x86_64 only; choose an x86 instance type (e.g. c7i, c7a, hpc7a)")]


def test_classic_on_graviton_and_gchp_on_x86_are_accepted(settings):
    settings.GCCLASSIC_EXECUTABLE = "/opt/geos-chem/bin/gcclassic"
    settings.GCHP_EXECUTABLE = "/opt/geos-chem/bin/gchp"
    classic = parse_config({**CLASSIC, "compute": {"instance_type": "c7g.16xlarge", "capacity": "spot"}})
    gchp = parse_config({**GCHP, "compute": {"instance_type": "c7i.24xlarge", "nodes": 2, "cores_per_node": 48}})

    assert BatchBackend().config_problems(classic) == []
    assert BatchBackend().config_problems(gchp) == []


def test_the_demo_model_keeps_its_limits_on_batch(settings):
    settings.GCHP_EXECUTABLE = "demo"
    cfg = parse_config({**GCHP, "compute": {"instance_type": "c7i.24xlarge", "nodes": 2, "cores_per_node": 48}})

    assert [p.field for p in BatchBackend().config_problems(cfg)] == ["resolution"]


def test_multinode_gchp_on_spot_is_refused_by_validation_already():
    from simulations.config import ConfigInvalid

    with pytest.raises(ConfigInvalid) as raised:
        parse_config({**GCHP, "compute": {"capacity": "spot", "nodes": 2, "cores_per_node": 48}})

    assert [error.field for error in raised.value.errors] == ["compute.capacity"]


def test_the_prepared_spec_carries_what_batch_and_the_container_need(dev_aws):
    spec = _spec(CLASSIC, {"instance_type": "c7g.16xlarge", "capacity": "spot", "cores_per_node": 64})

    assert spec["compute"].items() >= {"architecture": "arm64", "vcpus": 64, "memory_mib": 15 * 1024,
                                       "timeout_s": 24 * 3600}.items()
    assert spec["io"]["spec_uri"] == f"{spec['io']['output_uri']}specs/{spec['job_name']}.json"
    assert spec["io"]["input_source"] == "s3://geos-chem"
    assert spec["io"]["input_root"] == "/scratch/ExtData"
    assert spec["geoschem_config"]["simulation"]["root_data_dir"] == "/scratch/ExtData"


def test_memory_comes_from_the_catalog_per_grid_with_a_fallback(dev_aws):
    nested = _spec({**CLASSIC, "resolution": "0.5x0.625", "domain": "NA", "met": "MERRA2"}, {})
    gchp = _spec(GCHP, {"instance_type": "c7i.24xlarge", "nodes": 2, "cores_per_node": 48})

    assert nested["compute"]["memory_mib"] == 16 * 1024
    assert gchp["compute"]["memory_mib"] == 100 * 1024
    assert gchp["compute"]["architecture"] == "x86_64"


# --- submitting ----------------------------------------------------------------------------------
def test_a_classic_spot_job_on_graviton_goes_to_the_arm64_spot_queue(dev_aws, submitted):
    spec = _spec(CLASSIC, {"instance_type": "c7g.16xlarge", "capacity": "spot", "cores_per_node": 64})

    result = BatchBackend().submit(job_name=spec["job_name"], spec=spec)

    job = _describe(result.backend_id)
    assert result.already_existed is False
    assert job["jobName"] == spec["job_name"]
    assert job["jobQueue"].endswith(f":job-queue/{PREFIX}-spot-arm64")
    assert f":job-definition/{PREFIX}-gcclassic-arm64:" in job["jobDefinition"]
    assert _environment(job).items() >= {"GCR_SPEC_URI": spec["io"]["spec_uri"], "OMP_NUM_THREADS": "64"}.items()
    assert job["tags"] == {"gcr:simulation": spec["simulation_id"], "gcr:job": spec["job_name"], "gcr:segment": "1"}
    assert job["timeout"] == {"attemptDurationSeconds": 86400}
    [request] = submitted
    assert request["containerOverrides"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "64"}, {"type": "MEMORY", "value": str(15 * 1024)}]
    assert request["propagateTags"] is True
    assert s3.get_json(spec["io"]["spec_uri"]) == spec


def test_a_classic_on_demand_job_on_x86_goes_to_the_x86_on_demand_queue(dev_aws, submitted):
    spec = _spec({**CLASSIC, "resolution": "2x2.5"},
                 {"instance_type": "c7i.16xlarge", "capacity": "on-demand", "cores_per_node": 32})

    result = BatchBackend().submit(job_name=spec["job_name"], spec=spec)

    job = _describe(result.backend_id)
    assert job["jobQueue"].endswith(f":job-queue/{PREFIX}-ondemand-x86")
    assert f":job-definition/{PREFIX}-gcclassic-amd64:" in job["jobDefinition"]
    assert _environment(job)["OMP_NUM_THREADS"] == "32"
    assert submitted[0]["containerOverrides"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "32"}, {"type": "MEMORY", "value": str(40 * 1024)}]


def test_a_multinode_gchp_job_is_a_multinode_parallel_job_on_the_multinode_queue(dev_aws, submitted):
    spec = _spec(GCHP, {"instance_type": "c7i.24xlarge", "capacity": "on-demand", "nodes": 4, "cores_per_node": 48})

    result = BatchBackend().submit(job_name=spec["job_name"], spec=spec)

    job = _describe(result.backend_id)
    assert job["jobQueue"].endswith(f":job-queue/{PREFIX}-multinode")
    assert f":job-definition/{PREFIX}-gchp-multinode:" in job["jobDefinition"]
    [request] = submitted
    assert "containerOverrides" not in request
    assert request["nodeOverrides"]["numNodes"] == 4
    [target] = request["nodeOverrides"]["nodePropertyOverrides"]
    assert target["targetNodes"] == "0:"
    assert target["containerOverrides"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "48"}, {"type": "MEMORY", "value": str(100 * 1024)}]
    assert {"name": "GCR_SPEC_URI", "value": spec["io"]["spec_uri"]} in target["containerOverrides"]["environment"]


def test_a_single_node_gchp_job_is_a_container_job(dev_aws, submitted):
    spec = _spec(GCHP, {"instance_type": "c7i.24xlarge", "nodes": 1, "cores_per_node": 96})

    job = _describe(BatchBackend().submit(job_name=spec["job_name"], spec=spec).backend_id)

    assert job["jobQueue"].endswith(f":job-queue/{PREFIX}-ondemand-x86")
    assert f":job-definition/{PREFIX}-gchp:" in job["jobDefinition"]
    assert _environment(job)["OMP_NUM_THREADS"] == "1"


def test_submitting_the_same_name_twice_starts_one_job(dev_aws, submitted):
    spec = _spec(CLASSIC, {"instance_type": "c7g.16xlarge", "capacity": "spot", "cores_per_node": 64})
    backend = BatchBackend()

    first = backend.submit(job_name=spec["job_name"], spec=spec)
    second = backend.submit(job_name=spec["job_name"], spec=spec)

    assert second.backend_id == first.backend_id
    assert second.already_existed is True
    assert len(submitted) == 1
    listed = aws.client("batch").list_jobs(jobQueue=f"{PREFIX}-spot-arm64", filters=[
        {"name": "JOB_NAME", "values": [spec["job_name"]]}])["jobSummaryList"]
    assert len(listed) == 1


def test_throttling_on_submit_is_worth_retrying(stubbed):
    spec = {"compute": {"architecture": "x86_64", "capacity": "on-demand", "nodes": 1}, "model": {"name": "classic"}}
    with Stubber(aws.client("batch")) as stub:
        stub.add_client_error("list_jobs", service_error_code="ThrottlingException", service_message="Rate exceeded",
                              http_status_code=429)
        with pytest.raises(BackendTransientError):
            BatchBackend().submit(job_name="gcr-abc-s001-a1", spec=spec)


def test_access_denied_on_submit_is_a_backend_error_in_plain_words(dev_aws):
    spec = _spec(CLASSIC, {"instance_type": "c7i.16xlarge"})
    message = "User: arn:aws:iam::123456789012:user/app is not authorized to perform: batch:SubmitJob"
    with Stubber(aws.client("batch")) as stub:
        stub.add_response("list_jobs", {"jobSummaryList": []})
        stub.add_client_error("submit_job", service_error_code="AccessDeniedException", service_message=message,
                              http_status_code=403)
        with pytest.raises(BackendError) as raised:
            BatchBackend().submit(job_name=spec["job_name"], spec=spec)

    assert not isinstance(raised.value, BackendTransientError)
    assert str(raised.value) == f"AWS Batch refused the job: {message}"


@pytest.mark.parametrize("code,status", [("ServiceUnavailable", 503), ("InternalError", 500), ("ServerException", 500),
                                         ("SomethingNew", 502), ("TooManyRequestsException", 429)])
def test_busy_or_failing_services_are_worth_retrying(stubbed, code, status):
    with Stubber(aws.client("batch")) as stub:
        stub.add_client_error("describe_jobs", service_error_code=code, http_status_code=status)
        with pytest.raises(BackendTransientError):
            BatchBackend().describe(["job-1"])


def test_connection_trouble_is_worth_retrying():
    error = aws.translate(EndpointConnectionError(endpoint_url="https://batch.us-east-1.amazonaws.com"))

    assert isinstance(error, BackendTransientError)


# --- describing ----------------------------------------------------------------------------------
def test_describing_250_jobs_takes_three_calls(dev_aws):
    backend = BatchBackend()
    real = []
    for segment in (1, 2, 3):
        spec = _spec(CLASSIC, {"instance_type": "c7i.16xlarge"}, segment=1, attempt=segment)
        real.append(backend.submit(job_name=spec["job_name"], spec=spec).backend_id)
        s3.put_json(backend.prepare_spec(spec)["io"]["report_uri"] + "metrics.json", {"status": "succeeded"})
    unknown = [f"00000000-0000-0000-0000-{index:012d}" for index in range(247)]
    calls = []
    aws.client("batch").meta.events.register(
        "provide-client-params.batch.DescribeJobs", lambda params, **kwargs: calls.append(len(params["jobs"])))

    states = backend.describe(real + unknown)

    assert len(calls) == math.ceil(250 / 100) == 3
    assert calls == [100, 100, 50]
    assert len(states) == 250
    assert {states[job_id].state for job_id in real} == {"SUCCEEDED"}
    assert states[unknown[0]].state == "FAILED"
    assert states[unknown[0]].reason == UNKNOWN_JOB_REASON


def test_a_job_batch_calls_succeeded_without_the_runners_report_is_a_failure(dev_aws):
    backend = BatchBackend()
    spec = _spec(CLASSIC, {"instance_type": "c7i.16xlarge"})
    job_id = backend.submit(job_name=spec["job_name"], spec=spec).backend_id  # moto: SUCCEEDED at once
    state = backend.describe([job_id])[job_id]
    assert state.state == "FAILED"
    assert state.reason.startswith("Batch reports success but the runner left no metrics.json")


def test_describe_reads_the_runners_reports_from_the_jobs_report_prefix(dev_aws):
    spec = _spec(CLASSIC, {"instance_type": "c7i.16xlarge"})
    backend = BatchBackend()
    job_id = backend.submit(job_name=spec["job_name"], spec=spec).backend_id
    report = spec["io"]["report_uri"]
    s3.put_json(report + "progress.json", {"state": "finished", "percent": 100.0,
                                           "started_at": "2026-11-28T19:30:00Z", "updated_at": "2026-11-28T19:35:00Z"})
    s3.put_json(report + "metrics.json", {"status": "succeeded", "exit_code": 0, "restart": "Restarts/r.nc4"})

    state = backend.describe([job_id])[job_id]

    assert state.state == "SUCCEEDED"
    assert state.metrics["restart"] == "Restarts/r.nc4"
    assert state.progress["percent"] == 100.0
    assert state.heartbeat_at.isoformat() == "2026-11-28T19:35:00+00:00"
    assert state.exit_code == 0
    assert state.started_at is not None and state.started_at.tzinfo is not None
    assert state.stopped_at is not None and state.interrupted is False
    assert backend.read_progress(job_id)["percent"] == 100.0


def test_a_multinode_jobs_reports_are_found_from_its_tags(dev_aws):
    spec = _spec(GCHP, {"instance_type": "c7i.24xlarge", "nodes": 2, "cores_per_node": 48})
    backend = BatchBackend()
    job_id = backend.submit(job_name=spec["job_name"], spec=spec).backend_id
    s3.put_json(spec["io"]["report_uri"] + "metrics.json", {"status": "succeeded", "exit_code": 0})

    assert "environment" not in _describe(job_id)["container"]  # moto shows none for multi-node jobs
    assert backend.describe([job_id])[job_id].metrics == {"status": "succeeded", "exit_code": 0}


def test_a_job_name_of_another_form_finds_its_reports_through_its_spec(dev_aws):
    spec_uri = f"s3://{BUCKET}/runs/sim-9/specs/hand-made.json"
    s3.put_json(spec_uri, {"io": {"report_uri": f"s3://{BUCKET}/runs/sim-9/reports/elsewhere/"}})
    s3.put_json(f"s3://{BUCKET}/runs/sim-9/reports/elsewhere/metrics.json", {"status": "succeeded"})

    state = job_state(_detail(status="SUCCEEDED", jobName="hand-made",
                              container={"environment": [{"name": "GCR_SPEC_URI", "value": spec_uri}]}))

    assert state.metrics == {"status": "succeeded"}


def test_a_spot_reclaim_is_an_interruption_not_a_failure(stubbed):
    state = job_state(_detail(status="FAILED", statusReason="Host EC2 (instance i-0abc) terminated.",
                              stoppedAt=1641944400058, container={"exitCode": 143}))

    assert state.state == "FAILED"
    assert state.interrupted is True
    assert state.reason == "Host EC2 (instance i-0abc) terminated."
    assert state.exit_code == 143
    assert state.stopped_at.isoformat() == "2022-01-11T23:40:00.058000+00:00"


def test_a_failed_job_reports_the_runners_reason_and_log_tail(dev_aws):
    uri = f"s3://{BUCKET}/runs/sim-1/specs/gcr-sim1-s002-a1.json"
    s3.put_json(f"s3://{BUCKET}/runs/sim-1/reports/s002-a1/metrics.json", {
        "status": "failed", "exit_code": 1, "reason": "GEOS-Chem exited with code 1",
        "log_tail": ["line 1", "GEOS-CHEM ERROR: negative tracer"]})

    state = job_state(_detail(status="FAILED", statusReason="Essential container in task exited",
                              container={"exitCode": 1, "environment": [{"name": "GCR_SPEC_URI", "value": uri}]}))

    assert state.reason == ("GEOS-Chem exited with code 1. Last log lines:\nline 1\n"
                            "GEOS-CHEM ERROR: negative tracer")
    assert state.interrupted is False


@pytest.mark.parametrize("status_reason,interrupted", [
    ("Essential container in task exited", True),  # SIGTERM from outside the platform
    ("[gcr] cancelled by alice@example.org", False),  # our own cancel
    ("Job attempt duration exceeded timeout", False),  # out of time: resuming would loop
])
def test_a_runner_that_says_interrupted_is_resumed_unless_we_stopped_it(dev_aws, status_reason, interrupted):
    uri = f"s3://{BUCKET}/runs/sim-1/specs/gcr-sim1-s001-a1.json"
    s3.put_json(f"s3://{BUCKET}/runs/sim-1/reports/s001-a1/metrics.json", {"status": "interrupted", "exit_code": 143})

    state = job_state(_detail(status="FAILED", statusReason=status_reason,
                              container={"environment": [{"name": "GCR_SPEC_URI", "value": uri}]}))

    assert state.interrupted is interrupted
    assert not state.reason.startswith("[gcr]")


# --- cancelling ----------------------------------------------------------------------------------
def test_cancelling_a_queued_job_cancels_it(stubbed):
    with Stubber(aws.client("batch")) as stub:
        stub.add_response("describe_jobs", {"jobs": [_detail(status="RUNNABLE")]}, {"jobs": ["job-1"]})
        stub.add_response("cancel_job", {}, {"jobId": "job-1", "reason": "[gcr] cancelled by alice@example.org"})
        BatchBackend().cancel("job-1", reason="cancelled by alice@example.org")
        stub.assert_no_pending_responses()


def test_cancelling_a_running_job_terminates_it(stubbed):
    with Stubber(aws.client("batch")) as stub:
        stub.add_response("describe_jobs", {"jobs": [_detail(status="RUNNING")]}, {"jobs": ["job-1"]})
        stub.add_response("terminate_job", {}, {"jobId": "job-1", "reason": ANY})
        BatchBackend().cancel("job-1", reason="cancelled by alice@example.org")
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("jobs", [[_detail(status="SUCCEEDED")], []])
def test_cancelling_a_finished_or_unknown_job_does_nothing(stubbed, jobs):
    with Stubber(aws.client("batch")) as stub:
        stub.add_response("describe_jobs", {"jobs": jobs}, {"jobs": ["job-1"]})
        BatchBackend().cancel("job-1", reason="cancelled")  # a cancel or terminate call would fail the stub
        stub.assert_no_pending_responses()


# --- logs ----------------------------------------------------------------------------------------
def test_the_log_is_read_forward_from_a_token(dev_aws):
    spec = _spec(CLASSIC, {"instance_type": "c7i.16xlarge"})
    backend = BatchBackend()
    job_id = backend.submit(job_name=spec["job_name"], spec=spec).backend_id
    stream = _describe(job_id)["container"]["logStreamName"]
    logs = aws.client("logs")
    now_ms = int(time.time() * 1000)
    logs.create_log_stream(logGroupName="/aws/batch/job", logStreamName=stream)
    logs.put_log_events(logGroupName="/aws/batch/job", logStreamName=stream, logEvents=[
        {"timestamp": now_ms + 0, "message": "[runner] starting"},
        {"timestamp": now_ms + 1, "message": "GEOS-Chem: day 1"}])

    first = backend.read_log(job_id)
    logs.put_log_events(logGroupName="/aws/batch/job", logStreamName=stream, logEvents=[
        {"timestamp": now_ms + 2, "message": "[runner] finished"}])
    second = backend.read_log(job_id, position=first.position)
    third = backend.read_log(job_id, position=second.position)

    assert first.text == "[runner] starting\nGEOS-Chem: day 1\n"
    assert first.complete is False
    assert second.text == "[runner] finished\n"
    assert third.text == ""
    assert third.complete is True  # the job is final and nothing more came


def test_a_multinode_jobs_log_is_its_main_nodes(stubbed):
    parent = _detail(nodeProperties={"numNodes": 4, "mainNode": 0, "nodeRangeProperties": []})
    main_node = _detail(job_id="job-1#0", container={"logStreamName": "gcr-test-gchp-multinode/default/abc"})
    with Stubber(aws.client("batch")) as batch, Stubber(aws.client("logs")) as logs:
        batch.add_response("describe_jobs", {"jobs": [parent]}, {"jobs": ["job-1"]})
        batch.add_response("describe_jobs", {"jobs": [main_node]}, {"jobs": ["job-1#0"]})
        logs.add_response("get_log_events", {"events": [{"timestamp": 1, "message": "GCHP started"}],
                                             "nextForwardToken": "f/2", "nextBackwardToken": "b/1"},
                          {"logGroupName": "/aws/batch/job", "logStreamName": "gcr-test-gchp-multinode/default/abc",
                           "startFromHead": True, "limit": ANY, "nextToken": "f/1"})
        chunk = BatchBackend().read_log("job-1", position="f/1")

    assert (chunk.text, chunk.position, chunk.complete) == ("GCHP started\n", "f/2", False)


def test_a_job_without_a_log_stream_yet_gives_an_empty_chunk_at_the_same_position(stubbed):
    with Stubber(aws.client("batch")) as stub:
        stub.add_response("describe_jobs", {"jobs": [_detail(status="RUNNABLE")]})
        chunk = BatchBackend().read_log("job-1", position="f/123")

    assert (chunk.text, chunk.position, chunk.complete) == ("", "f/123", False)


def test_a_stream_not_created_yet_gives_an_empty_chunk(dev_aws):
    spec = _spec(CLASSIC, {"instance_type": "c7i.16xlarge"})
    job_id = BatchBackend().submit(job_name=spec["job_name"], spec=spec).backend_id

    chunk = BatchBackend().read_log(job_id)

    assert chunk.text == "" and chunk.position == ""


# --- events --------------------------------------------------------------------------------------
def _event(**detail) -> str:
    """A "Batch Job State Change" event as EventBridge delivers it (AWS Batch user guide's example)."""
    return json.dumps({
        "version": "0", "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b", "detail-type": "Batch Job State Change",
        "source": "aws.batch", "account": "123456789012", "time": "2022-01-11T23:36:40Z", "region": "us-east-1",
        "resources": ["arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8"],
        "detail": {
            "jobArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
            "jobName": "gcr-6f1c0a52-s001-a1", "jobId": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
            "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/gcr-test-spot-arm64",
            "status": "RUNNABLE", "attempts": [], "createdAt": 1641944200058,
            "retryStrategy": {"attempts": 3, "evaluateOnExit": []}, "dependsOn": [],
            "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/gcr-test-gcclassic-arm64:1",
            "parameters": {},
            "container": {
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/gcr-gcclassic:arm64",
                "command": ["sh", "-c", "exec runner --spec \"$GCR_SPEC_URI\" --workdir /scratch/run"],
                "volumes": [], "mountPoints": [], "ulimits": [], "networkInterfaces": [], "secrets": [],
                "environment": [{"name": "GCR_SPEC_URI",
                                 "value": f"s3://{BUCKET}/runs/6f1c0a52/specs/gcr-6f1c0a52-s001-a1.json"},
                                {"name": "OMP_NUM_THREADS", "value": "64"}],
                "resourceRequirements": [{"value": "64", "type": "VCPU"}, {"value": "15360", "type": "MEMORY"}],
            },
            "tags": {"resourceArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8"},
            "propagateTags": True, "platformCapabilities": [], **detail,
        },
    })


def test_a_state_change_event_becomes_the_jobs_state(dev_aws):
    job_id, state = BatchBackend().state_from_event(_event(status="RUNNING", startedAt=1641944300058))

    assert job_id == "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"
    assert state.state == "RUNNING"
    assert state.started_at.isoformat() == "2022-01-11T23:38:20.058000+00:00"
    assert state.progress is None  # reports are read only for final states


def test_a_final_event_brings_the_runners_metrics(dev_aws):
    s3.put_json(f"s3://{BUCKET}/runs/6f1c0a52/reports/s001-a1/metrics.json", {"status": "interrupted"})

    _, state = BatchBackend().state_from_event(_event(
        status="FAILED", statusReason="Host EC2 (instance i-0abc) terminated.", startedAt=1641944300058,
        stoppedAt=1641944400058, attempts=[{"container": {"exitCode": 143, "logStreamName": "x/default/y"}}]))

    assert state.state == "FAILED"
    assert state.interrupted is True
    assert state.metrics == {"status": "interrupted"}
    assert state.exit_code == 143


@pytest.mark.parametrize("body", ["not json", "[]", "null", json.dumps({"source": "aws.batch"}),
                                  json.dumps({"source": "aws.batch", "detail-type": "Batch Job State Change",
                                              "detail": {"jobId": "x", "status": "EXPLODED"}})])
def test_garbage_is_no_event(stubbed, body):
    assert BatchBackend().state_from_event(body) is None


def test_an_unrelated_event_is_no_event(stubbed):
    body = json.dumps({"version": "0", "source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification",
                       "detail": {"instance-id": "i-0abc", "state": "terminated"}})

    assert BatchBackend().state_from_event(body) is None


@pytest.mark.parametrize("executable, simulation, expected", [
    ("/opt/geos-chem/bin/gcclassic", "carbon", "/opt/geos-chem/bin/gcclassic-carbon"),
    ("/opt/geos-chem/bin/gcclassic", "Hg", "/opt/geos-chem/bin/gcclassic-Hg"),
    ("/opt/geos-chem/bin/gchp", "carbon", "/opt/geos-chem/bin/gchp-carbon"),
    ("/opt/geos-chem/bin/gcclassic", "fullchem", "/opt/geos-chem/bin/gcclassic"),
    ("demo", "carbon", "demo"),
    ("/home/me/gcclassic", "carbon", "/home/me/gcclassic"),
])
def test_the_image_executable_follows_the_mechanism(executable, simulation, expected):
    from simulations.backends.batch import image_executable

    assert image_executable(executable, simulation) == expected
