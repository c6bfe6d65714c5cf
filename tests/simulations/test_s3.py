"""simulations/s3.py against moto's in-process S3 (and botocore's Stubber for refusals)."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from simulations import aws, s3
from simulations.backends.base import BackendError, BackendTransientError

BUCKET = "gcr-test-results"


@pytest.fixture
def bucket(settings, aws_credentials):
    settings.AWS_REGION = "us-east-1"
    settings.S3_URL_EXPIRY_SECONDS = 900
    with mock_aws():
        aws.reset_clients()
        aws.client("s3").create_bucket(Bucket=BUCKET)
        yield BUCKET
    aws.reset_clients()


def test_split_uri_gives_bucket_and_key():
    assert s3.split_uri("s3://b/runs/x/specs/a.json") == ("b", "runs/x/specs/a.json")
    assert s3.split_uri("s3://b") == ("b", "")


@pytest.mark.parametrize("uri", ["file:///tmp/x", "s3:///no-bucket", "", "b/k"])
def test_split_uri_refuses_what_is_not_an_s3_location(uri):
    with pytest.raises(ValueError):
        s3.split_uri(uri)


def test_a_json_document_written_reads_back_the_same(bucket):
    s3.put_json(f"s3://{bucket}/runs/1/specs/a.json", {"job_name": "a", "io": {"n": [1, 2]}})

    assert s3.get_json(f"s3://{bucket}/runs/1/specs/a.json") == {"job_name": "a", "io": {"n": [1, 2]}}
    head = aws.client("s3").head_object(Bucket=bucket, Key="runs/1/specs/a.json")
    assert head["ContentType"] == "application/json"


def test_reading_a_missing_document_gives_none(bucket):
    assert s3.get_json(f"s3://{bucket}/runs/1/reports/s001-a1/metrics.json") is None


def test_reading_a_document_that_is_not_json_gives_none(bucket):
    aws.client("s3").put_object(Bucket=bucket, Key="runs/1/progress.json", Body=b"{half")

    assert s3.get_json(f"s3://{bucket}/runs/1/progress.json") is None


def test_listing_follows_every_page(bucket):
    client = aws.client("s3")
    for index in range(5):
        client.put_object(Bucket=bucket, Key=f"runs/1/GEOSChem.SpeciesConc.{index}.nc4", Body=b"x" * index)
    client.put_object(Bucket=bucket, Key="runs/2/other.nc4", Body=b"x")
    pages = []

    def two_per_page(params, **kwargs):
        params["MaxKeys"] = 2
        pages.append(params.get("ContinuationToken"))

    client.meta.events.register("provide-client-params.s3.ListObjectsV2", two_per_page)

    found = s3.list_keys(f"s3://{bucket}/runs/1/")

    assert len(pages) == 3
    assert [item.key for item in found] == [f"runs/1/GEOSChem.SpeciesConc.{i}.nc4" for i in range(5)]
    assert [item.size for item in found] == [0, 1, 2, 3, 4]
    assert all(isinstance(item.last_modified, datetime) for item in found)


def test_exists_tells_present_from_absent(bucket):
    s3.put_json(f"s3://{bucket}/runs/1/a.json", {})

    assert s3.exists(f"s3://{bucket}/runs/1/a.json") is True
    assert s3.exists(f"s3://{bucket}/runs/1/b.json") is False


def test_a_presigned_url_names_the_object_and_expires_when_asked(bucket):
    url = s3.presigned_url(f"s3://{bucket}/runs/1/GEOSChem.SpeciesConc.nc4", 60)

    parts = urlsplit(url)
    assert parts.path.endswith("/runs/1/GEOSChem.SpeciesConc.nc4")
    assert parse_qs(parts.query)["X-Amz-Expires"] == ["60"]


def test_a_presigned_url_lasts_the_configured_time_by_default(bucket):
    url = s3.presigned_url(f"s3://{bucket}/runs/1/x.nc4")

    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["900"]


def test_access_denied_becomes_a_backend_error_with_the_aws_message(bucket):
    with Stubber(aws.client("s3")) as stub:
        stub.add_client_error("get_object", service_error_code="AccessDenied", service_message="Access Denied",
                              http_status_code=403)
        with pytest.raises(BackendError) as raised:
            s3.get_json(f"s3://{bucket}/runs/1/a.json")

    assert not isinstance(raised.value, BackendTransientError)
    assert str(raised.value) == f"S3 refused to read s3://{bucket}/runs/1/a.json: Access Denied"


def test_a_slow_down_from_s3_is_worth_retrying(bucket):
    with Stubber(aws.client("s3")) as stub:
        stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
        with pytest.raises(BackendTransientError):
            s3.put_json(f"s3://{bucket}/runs/1/a.json", {})
