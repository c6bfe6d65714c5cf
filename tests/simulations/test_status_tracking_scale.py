"""One sync cycle over many Batch jobs: ceil(N/100) DescribeJobs calls and constant queries."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from moto import mock_aws

from benchmarks.status_tracking import count_calls, keep_jobs_running, populate_running_jobs
from simulations import aws, tracking
from simulations.aws_names import AwsNames
from simulations.management.commands.setup_dev_aws import create_dev_resources
from simulations.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(settings, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws(config={"batch": {"use_docker": False}}):
        aws.reset_clients()
        names = AwsNames.from_prefix("gcr-scale")
        settings.AWS_REGION, settings.AWS_PREFIX, settings.S3_BUCKET = "us-east-1", names.prefix, "scale-results"
        settings.COMPUTE_BACKEND, settings.BATCH = "batch", True
        create_dev_resources(names=names, bucket="scale-results", region="us-east-1")
        keep_jobs_running(aws.client("batch"))
        yield names, count_calls(aws.client("batch"))
    aws.reset_clients()


def _batches(n: int) -> int:
    # as bulk_update sizes its batches: a pk and a value per field and object, plus the pk list
    size = connection.ops.bulk_batch_size(["pk", "pk", "progress_percent", "simulated_until", "last_seen_at"],
                                          list(range(n)))
    return math.ceil(n / size)


def _sync(calls):
    calls["DescribeJobs"] = 0
    with CaptureQueriesContext(connection) as queries:
        counts = tracking.jobs_sync()
    return counts, calls["DescribeJobs"], len(queries)


def test_a_sync_of_many_jobs_batches_describes_and_keeps_queries_constant(batch):
    names, calls = batch
    populate_running_jobs(30, names, "scale-results")
    counts, describes, few_queries = _sync(calls)
    assert counts["checked"] == 30 and describes == 1
    populate_running_jobs(220, names, "scale-results")
    Job.objects.update(progress_percent=0.0)  # every job has news again
    counts, describes, many_queries = _sync(calls)
    assert counts["checked"] == 250 and counts["changed"] == 250
    assert describes == math.ceil(250 / 100)
    # Constant, but for the database's own limit on one statement's size: PostgreSQL writes all
    # jobs in one UPDATE, SQLite in batches of 999 parameters (two bulk updates: jobs, simulations).
    assert many_queries - 2 * _batches(250) == few_queries - 2 * _batches(30)
    assert set(Job.objects.values_list("progress_percent", flat=True)) == {42.0}
