"""Draining Batch state-change events from SQS: each applied once, bad ones dropped, order-proof."""

import json

import boto3
import pytest
from moto import mock_aws

from simulations import aws, services, tasks, tracking
from simulations.models import Job, Simulation

pytestmark = pytest.mark.django_db


def _event(job_id, job_name, status, reason="", exit_code=None, started=None, stopped=None):
    detail = {"jobId": job_id, "jobName": job_name, "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
              "status": status, "statusReason": reason, "createdAt": 1735689600000, "attempts": [],
              "container": {"logStreamName": f"gcr/default/{job_id}"}}
    if started:
        detail["startedAt"] = started
    if stopped:
        detail["stoppedAt"] = stopped
    if exit_code is not None:
        detail["container"]["exitCode"] = exit_code
    return json.dumps({"version": "0", "id": f"evt-{status}", "detail-type": "Batch Job State Change",
                       "source": "aws.batch", "account": "123456789012", "time": "2025-01-01T00:00:00Z",
                       "region": "us-east-1", "resources": [], "detail": detail})


@pytest.fixture
def queue(settings):
    with mock_aws():
        aws.reset_clients()
        settings.AWS_REGION = "us-east-1"
        settings.AWS_PREFIX = "gcr-test"
        settings.S3_BUCKET = "gcr-test-results"
        settings.BATCH = True
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="gcr-test-results")
        url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="gcr-test-batch-events")["QueueUrl"]
        settings.SQS_QUEUE_URL = url
        yield url
        aws.reset_clients()


def _send(url, *bodies):
    sqs = boto3.client("sqs", region_name="us-east-1")
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def _batch_job(alice, config, fake_backend, capture, job_id="8d1f-job"):
    sim = services.simulation_create(owner=alice, raw_config=config)
    with capture(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = sim.jobs.get()
    Job.objects.filter(id=job.id).update(backend="batch", backend_id=job_id)
    return sim, Job.objects.get(id=job.id)


def test_events_are_applied_once_in_order_and_the_queue_is_emptied(
        queue, alice, two_days, fake_backend, django_capture_on_commit_callbacks):
    sim, job = _batch_job(alice, two_days, fake_backend, django_capture_on_commit_callbacks)
    _send(queue, _event("8d1f-job", job.name, "RUNNABLE"), _event("8d1f-job", job.name, "RUNNING",
                                                                  started=1735689700000))
    counts = tracking.batch_events_drain()
    assert counts["applied"] == 2
    sim.refresh_from_db()
    assert sim.status == Simulation.Status.RUNNING
    _send(queue,
          _event("8d1f-job", job.name, "RUNNING", started=1735689700000),          # a duplicate
          _event("8d1f-job", job.name, "SUCCEEDED", exit_code=0, started=1735689700000, stopped=1735690000000),
          _event("8d1f-job", job.name, "RUNNABLE"),                                 # late, out of order
          "this is not JSON",
          json.dumps({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}),
          _event("someone-elses-job", "other", "RUNNING"))
    counts = tracking.batch_events_drain()
    assert counts == {"received": 6, "applied": 1, "unchanged": 2, "unknown": 1, "malformed": 2, "failed": 0}
    job.refresh_from_db()
    sim.refresh_from_db()
    assert job.state == "SUCCEEDED" and job.exit_code == 0
    assert sim.status == Simulation.Status.SUCCEEDED
    # three job changes and two simulation transitions (running, succeeded); the duplicates wrote nothing
    assert sim.events.filter(source="events").count() == 5
    assert "Messages" not in boto3.client("sqs", region_name="us-east-1").receive_message(QueueUrl=queue)


def test_a_spot_reclaim_event_resumes_the_segment(queue, alice, two_days, fake_backend,
                                                  django_capture_on_commit_callbacks):
    two_days["compute"] = {"capacity": "spot"}
    sim, job = _batch_job(alice, two_days, fake_backend, django_capture_on_commit_callbacks)
    _send(queue, _event("8d1f-job", job.name, "FAILED", reason="Host EC2 (instance i-0abc123) terminated.",
                        started=1735689700000, stopped=1735690000000))
    with django_capture_on_commit_callbacks(execute=True):
        tracking.batch_events_drain()
    sim.refresh_from_db()
    assert sim.status in (Simulation.Status.STARTING, Simulation.Status.RUNNING)
    assert sim.interruptions == 1
    assert sim.jobs.get(attempt=1).interrupted is True
    assert sim.jobs.filter(attempt=2, segment=1).exists()


def test_the_drain_task_does_nothing_on_the_local_backend(settings):
    settings.BATCH = False
    assert tasks.drain_batch_events() == "the batch backend is off"
