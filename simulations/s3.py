"""S3, as the platform uses it: small JSON documents, listings and download links by `s3://` URI.

Dataclasses out, the project's errors out (BackendError, BackendTransientError from aws.translate).
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from simulations import aws

log = logging.getLogger(__name__)
_MISSING_CODES = ("NoSuchKey", "404", "NotFound")


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    last_modified: datetime


def split_uri(uri: str) -> tuple[str, str]:
    """("bucket", "key/part") from "s3://bucket/key/part"; ValueError for anything else."""
    parts = urlsplit(uri or "")
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"not an s3:// location: {uri!r}")
    return parts.netloc, parts.path.lstrip("/")


def put_json(uri: str, data) -> None:
    """Write `data` as a JSON document (replacing what is there; S3 writes are all-or-nothing)."""
    bucket, key = split_uri(uri)
    with aws.translated(f"S3 refused to write {uri}"):
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(data, indent=2).encode(),
                                    ContentType="application/json")


def get_json(uri: str) -> dict | None:
    """The JSON document at `uri`; None when there is none (or it is not JSON, which is logged)."""
    bucket, key = split_uri(uri)
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if aws.error_code(exc) in _MISSING_CODES:
            return None
        raise aws.translate(exc, action=f"S3 refused to read {uri}") from exc
    except BotoCoreError as exc:
        raise aws.translate(exc, action=f"S3 refused to read {uri}") from exc
    try:
        return json.loads(body)
    except ValueError:
        # A runner writes whole objects, so this is a stray file; it must not stop a sync.
        log.warning("%s is not JSON; ignored", uri)
        return None


def list_keys(prefix_uri: str) -> list[S3Object]:
    """Every object under the prefix (all pages), keys relative to the bucket."""
    bucket, prefix = split_uri(prefix_uri)
    found = []
    with aws.translated(f"S3 refused to list {prefix_uri}"):
        for page in aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found.extend(S3Object(item["Key"], item["Size"], item["LastModified"]) for item in page.get("Contents", []))
    return found


def presigned_url(uri: str, expires_s: int | None = None) -> str:
    """A time-limited download link (default lifetime: settings.S3_URL_EXPIRY_SECONDS)."""
    bucket, key = split_uri(uri)
    with aws.translated(f"could not sign a link to {uri}"):
        return aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key},
            ExpiresIn=int(expires_s or settings.S3_URL_EXPIRY_SECONDS))


def exists(uri: str) -> bool:
    """Whether an object is at `uri`."""
    bucket, key = split_uri(uri)
    try:
        aws.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if aws.error_code(exc) in _MISSING_CODES:
            return False
        raise aws.translate(exc, action=f"S3 refused to look at {uri}") from exc
    except BotoCoreError as exc:
        raise aws.translate(exc, action=f"S3 refused to look at {uri}") from exc
    return True


def download(uri: str, path) -> None:
    """Copy the object at `uri` to the local `path`, whole or not at all (a temporary name, then
    a rename), so a reader never sees half a file."""
    from pathlib import Path

    bucket, key = split_uri(uri)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with aws.translated(f"S3 refused to send {uri}"):
        aws.client("s3").download_file(bucket, key, str(partial))
    partial.replace(target)
