"""setup_dev_aws and check_aws: against moto in-process, and setup_dev_aws end to end against a
moto server on this machine (the way a developer runs it)."""

import io
import json
from unittest import mock

import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command
from moto import mock_aws

from simulations import aws
from tests.conftest import use_fake_aws_credentials
from simulations.aws_names import AwsNames
from simulations.management.commands.setup_dev_aws import create_dev_resources, endpoint_is_local

PREFIX = "gcr-test"
BUCKET = "gcr-test-results"
NAMES = AwsNames.from_prefix(PREFIX)


def _settings(settings, monkeypatch):
    use_fake_aws_credentials(monkeypatch)
    settings.AWS_REGION = "us-east-1"
    settings.AWS_PREFIX = PREFIX
    settings.S3_BUCKET = BUCKET
    settings.AWS_PRINCIPAL_ARN = ""


@pytest.fixture
def moto(settings, monkeypatch):
    _settings(settings, monkeypatch)
    with mock_aws(config={"batch": {"use_docker": False}}):
        aws.reset_clients()
        yield
    aws.reset_clients()


@pytest.fixture
def dev_aws(moto, settings):
    """moto with everything setup_dev_aws makes, and the settings pointing at it."""
    _, queue_url = create_dev_resources(names=NAMES, bucket=BUCKET, region="us-east-1")
    settings.SQS_QUEUE_URL = queue_url
    return queue_url


def _counts() -> dict[str, int]:
    batch = aws.client("batch")
    return {
        "compute environments": len(batch.describe_compute_environments()["computeEnvironments"]),
        "job queues": len(batch.describe_job_queues()["jobQueues"]),
        "job definitions": len(batch.describe_job_definitions()["jobDefinitions"]),
        "vpcs": len(aws.client("ec2").describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": [f"{PREFIX}-vpc"]}])["Vpcs"]),
        "queues": len(aws.client("sqs").list_queues(QueueNamePrefix=PREFIX)["QueueUrls"]),
        "targets": len(aws.client("events").list_targets_by_rule(Rule=NAMES.events_rule)["Targets"]),
        "roles": len([r for r in aws.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(PREFIX)]),
    }


# --- setup_dev_aws -------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", [None, "https://batch.us-east-1.amazonaws.com", "http://10.0.0.5:5000",
                                      "http://localhost.example.com:5000"])
def test_setup_dev_aws_refuses_anything_but_a_local_endpoint(settings, monkeypatch, endpoint):
    _settings(settings, monkeypatch)
    if endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with mock.patch("simulations.management.commands.setup_dev_aws.create_dev_resources") as create:
        with pytest.raises(CommandError) as raised:
            call_command("setup_dev_aws", stdout=io.StringIO())

    assert "never on real AWS" in str(raised.value)
    create.assert_not_called()


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:5000", "http://localhost:4566", "http://[::1]:5000"])
def test_local_endpoints_are_recognised(endpoint):
    assert endpoint_is_local(endpoint)


def test_setup_creates_every_named_resource(moto):
    done, queue_url = create_dev_resources(names=NAMES, bucket=BUCKET, region="us-east-1")

    made = {(outcome.kind, outcome.name) for outcome in done if outcome.created}
    assert {("job queue", name) for name in NAMES.queues} <= made
    assert {("compute environment", NAMES.compute_environment(name)) for name in NAMES.queues} <= made
    assert {("job definition", name) for name in NAMES.job_definitions} <= made
    assert {("S3 bucket", BUCKET), ("SQS queue", NAMES.events_queue), ("SQS queue", NAMES.events_dead_letter_queue),
            ("EventBridge rule", NAMES.events_rule)} <= made
    assert queue_url.endswith(f"/{NAMES.events_queue}")


def test_the_job_definitions_retry_spot_reclaims_only(moto):
    create_dev_resources(names=NAMES, bucket=BUCKET, region="us-east-1")
    batch = aws.client("batch")

    definitions = {d["jobDefinitionName"]: d for d in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]}

    classic = definitions[f"{PREFIX}-gcclassic-arm64"]
    assert classic["type"] == "container"
    assert classic["containerProperties"]["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/gcr-gcclassic:arm64"
    assert classic["retryStrategy"]["attempts"] == 3
    assert [(rule.get("onStatusReason"), rule.get("onReason"), rule["action"].upper())
            for rule in classic["retryStrategy"]["evaluateOnExit"]] == [("Host EC2*", None, "RETRY"),
                                                                        (None, "*", "EXIT")]
    assert definitions[f"{PREFIX}-gcclassic-amd64"]["containerProperties"]["image"].endswith("/gcr-gcclassic:amd64")
    assert definitions[f"{PREFIX}-gchp"]["containerProperties"]["image"].endswith("/gcr-gchp:amd64")
    assert definitions[f"{PREFIX}-gchp-multinode"]["type"] == "multinode"


def test_spot_queues_run_on_spot_environments_and_the_rest_on_demand(moto):
    create_dev_resources(names=NAMES, bucket=BUCKET, region="us-east-1")
    batch = aws.client("batch")

    kinds = {env["computeEnvironmentName"]: env["computeResources"]["type"]
             for env in batch.describe_compute_environments()["computeEnvironments"]}

    assert kinds == {f"{PREFIX}-ce-spot-arm64": "SPOT", f"{PREFIX}-ce-spot-x86": "SPOT",
                     f"{PREFIX}-ce-ondemand-arm64": "EC2", f"{PREFIX}-ce-ondemand-x86": "EC2",
                     f"{PREFIX}-ce-multinode": "EC2"}


def test_the_events_queue_has_a_dead_letter_queue_and_the_rule_feeds_it(dev_aws):
    sqs = aws.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=dev_aws, AttributeNames=["All"])["Attributes"]
    rule = aws.client("events").describe_rule(Name=NAMES.events_rule)
    [target] = aws.client("events").list_targets_by_rule(Rule=NAMES.events_rule)["Targets"]

    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(f":{NAMES.events_dead_letter_queue}")
    assert json.loads(rule["EventPattern"]) == {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"]}
    assert target["Arn"] == attributes["QueueArn"]


def test_running_setup_twice_creates_nothing_new(moto):
    create_dev_resources(names=NAMES, bucket=BUCKET, region="us-east-1")
    before = _counts()

    done, _ = create_dev_resources(names=NAMES, bucket=BUCKET, region="us-east-1")

    assert [str(outcome) for outcome in done if outcome.created] == []
    assert _counts() == before
    assert before["job definitions"] == 4 and before["job queues"] == 5


@pytest.fixture
def local_endpoint(moto_server, settings, monkeypatch):
    """The shared moto server (tests/conftest.py), as a developer would run `moto_server`."""
    _settings(settings, monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    aws.reset_clients()
    yield moto_server
    aws.reset_clients()


def test_setup_dev_aws_on_a_local_moto_server_prints_what_it_made_and_then_what_it_found(local_endpoint, settings):
    first, second = io.StringIO(), io.StringIO()

    call_command("setup_dev_aws", stdout=first)
    call_command("setup_dev_aws", stdout=second)

    assert f"created job queue {PREFIX}-spot-arm64" in first.getvalue()
    assert f"created job definition {PREFIX}-gchp-multinode" in first.getvalue()
    assert f"found   job queue {PREFIX}-spot-arm64" in second.getvalue()
    assert "\n0 created, " in second.getvalue()
    assert f"GCR_S3_BUCKET={BUCKET}" in second.getvalue()
    settings.SQS_QUEUE_URL = second.getvalue().split("GCR_SQS_QUEUE_URL=")[1].strip()
    out = io.StringIO()
    call_command("check_aws", stdout=out)  # and what it made is what check_aws looks for
    assert "MISSING" not in out.getvalue()


# --- check_aws -----------------------------------------------------------------------------------
def test_check_aws_passes_when_everything_is_there(dev_aws):
    out = io.StringIO()

    call_command("check_aws", stdout=out)

    lines = out.getvalue().splitlines()
    assert f"ok      S3 bucket {BUCKET}" in lines
    assert f"ok      job queue {PREFIX}-multinode" in lines
    assert f"ok      job definition {PREFIX}-gchp-multinode" in lines
    assert f"ok      EventBridge rule {NAMES.events_rule}" in lines
    assert any(line.startswith("skipped permissions: not checked") for line in lines)
    assert lines[-1].startswith("all ") and lines[-1].endswith(" checks passed")


def test_check_aws_reports_a_missing_queue_and_fails(dev_aws):
    batch = aws.client("batch")
    batch.update_job_queue(jobQueue=f"{PREFIX}-spot-arm64", state="DISABLED")
    batch.delete_job_queue(jobQueue=f"{PREFIX}-spot-arm64")
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("check_aws", stdout=out)

    assert f"MISSING job queue {PREFIX}-spot-arm64: not found" in out.getvalue().splitlines()
    assert f"ok      job queue {PREFIX}-spot-x86" in out.getvalue().splitlines()
    assert "1 of " in str(raised.value)


def test_check_aws_reports_a_disabled_queue(dev_aws):
    aws.client("batch").update_job_queue(jobQueue=f"{PREFIX}-multinode", state="DISABLED")
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("check_aws", stdout=out)

    assert f"MISSING job queue {PREFIX}-multinode: state DISABLED, status VALID (want ENABLED, VALID)" in out.getvalue()


def test_check_aws_reports_an_unset_bucket_and_queue(moto, settings):
    settings.S3_BUCKET = ""
    settings.SQS_QUEUE_URL = ""
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("check_aws", stdout=out)

    assert "MISSING S3 bucket: GCR_S3_BUCKET is not set" in out.getvalue()
    assert "MISSING SQS queue: GCR_SQS_QUEUE_URL is not set" in out.getvalue()


def test_check_aws_simulates_the_apps_permissions_when_its_principal_is_known(dev_aws, settings):
    settings.AWS_PRINCIPAL_ARN = "arn:aws:iam::123456789012:role/gcr-app"
    out = io.StringIO()
    with Stubber(aws.client("iam")) as stub:
        for actions in (["batch:SubmitJob", "batch:ListJobs", "batch:DescribeJobs", "batch:CancelJob",
                         "batch:TerminateJob"], ["s3:PutObject", "s3:GetObject"], ["s3:ListBucket"],
                        ["logs:GetLogEvents"], ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                        ["pricing:GetProducts", "ec2:DescribeSpotPriceHistory", "ec2:DescribeInstanceTypes",
                         "ce:GetCostAndUsage"]):
            stub.add_response("simulate_principal_policy", {"EvaluationResults": [
                {"EvalActionName": action, "EvalDecision": "implicitDeny" if action == "s3:PutObject" else "allowed"}
                for action in actions]})
        with pytest.raises(CommandError):
            call_command("check_aws", stdout=out)

    assert "MISSING permissions of arn:aws:iam::123456789012:role/gcr-app: denied s3:PutObject" in out.getvalue()
