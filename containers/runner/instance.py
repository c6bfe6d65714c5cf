"""Which EC2 instance type the job runs on, for metrics.json (and so for what the job cost).

On AWS Batch the spec's instance type is a wish: a compute environment may place the job on any
instance type it allows, and with no instance type chosen the spec names none. The instance
metadata service (IMDSv2) knows the truth, so on Batch it is asked first; elsewhere, or when it
does not answer within a second (multi-node jobs with awsvpc networking may have it blocked),
the spec's instance type stands. Standard library only, like the rest of the runner.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Mapping

DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL_S = "60"
TIMEOUT_S = 1.0


def _metadata(endpoint: str, path: str, timeout: float) -> str:
    token_request = urllib.request.Request(f"{endpoint}/latest/api/token", method="PUT",
                                           headers={"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_S})
    with urllib.request.urlopen(token_request, timeout=timeout) as answer:  # noqa: S310 - a fixed http URL
        token = answer.read().decode()
    request = urllib.request.Request(f"{endpoint}/latest/meta-data/{path}",
                                     headers={"X-aws-ec2-metadata-token": token})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        return answer.read().decode().strip()


def detect_instance_type(requested: str | None, *, env: Mapping[str, str] = os.environ,
                         timeout: float = TIMEOUT_S) -> str | None:
    """The instance type the metadata service reports on Batch, else `requested`.

    Honours botocore's variables: AWS_EC2_METADATA_DISABLED=true skips the call, and
    AWS_EC2_METADATA_SERVICE_ENDPOINT points it elsewhere (tests)."""
    if "AWS_BATCH_JOB_ID" not in env or env.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return requested
    endpoint = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    try:
        found = _metadata(endpoint, "instance-type", timeout)
    except (urllib.error.URLError, OSError, ValueError):
        return requested
    return found or requested
