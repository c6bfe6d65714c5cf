"""The one place boto3 clients are made, and where AWS's errors become the project's own.

Clients are cached per (service, region, endpoint): boto3 clients are thread-safe and costly to
build; the session they come from is not thread-safe, so clients are made under a lock. The
region is `settings.AWS_REGION`; the endpoint is the `AWS_ENDPOINT_URL` environment variable when set (a
moto server in development). botocore reads that variable on its own too, but passing it
explicitly makes it hold for every service and keeps the cache key honest.
"""

import os
import threading
from contextlib import contextmanager

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from django.conf import settings

from simulations.backends.base import BackendError, BackendTransientError

# Adaptive retries back off on throttling client-side before an error ever reaches us.
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8})
# Error codes that mean "busy, try again later", across the services the platform uses.
TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
    "ProvisionedThroughputExceededException", "BandwidthLimitExceeded", "PriorRequestNotComplete",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalError", "InternalFailure",
    "InternalServerError", "InternalServiceError", "ServerException", "RequestTimeout",
    "RequestTimeoutException",
})

_clients: dict[tuple[str, str, str | None], object] = {}
_session: boto3.session.Session | None = None
_loader = None
_lock = threading.Lock()


def endpoint_url() -> str | None:
    """The endpoint every client talks to: `AWS_ENDPOINT_URL`, or None for real AWS."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def _new_session() -> boto3.session.Session:
    """A session that shares the API-model loader of the ones before it: loading a service's
    model from disk is most of the cost of a client, and the models never change."""
    global _loader
    core = botocore.session.get_session()
    if _loader is None:
        _loader = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _loader)
    return boto3.session.Session(botocore_session=core)


def client(service: str, region: str | None = None):
    """A boto3 client for `service` in `region` (default settings.AWS_REGION), shared by every
    caller in this process. Some services answer in one region only (the Price List API and
    Cost Explorer in us-east-1), so their wrappers name it."""
    region = region or settings.AWS_REGION
    endpoint = endpoint_url()
    key = (service, region, endpoint)
    global _session
    with _lock:
        made = _clients.get(key)
        if made is None:
            if _session is None:
                _session = _new_session()
            config = CLIENT_CONFIG
            if service == "s3":
                # Presigned links signed with SigV4 (botocore would otherwise sign them with the
                # legacy SigV2, which newer regions refuse); a local endpoint has no per-bucket
                # host names, so buckets are addressed by path there.
                config = config.merge(Config(signature_version="s3v4",
                                             s3={"addressing_style": "path"} if endpoint else None))
            made = _session.client(service, region_name=region, endpoint_url=endpoint, config=config)
            _clients[key] = made
    return made


def reset_clients() -> None:
    """Forget every cached client and the session (tests: a new moto mock or new credentials)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None


def error_code(exc: Exception) -> str:
    """The AWS error code of a ClientError ("" for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def translate(exc: Exception, *, action: str = "") -> BackendError:
    """The project's error for a boto3 error: BackendTransientError when worth retrying later.

    Transient: throttling, a busy or failing service (5xx) and connection trouble. Everything else
    (access denied, a bad parameter, a missing resource, no credentials) is a BackendError whose
    message is AWS's own, after `action` ("AWS Batch refused the job: <message>").
    """
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = error.get("Message") or code or str(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        prefix = action or f"AWS refused {exc.operation_name}"
        if code in TRANSIENT_CODES or status >= 500:
            return BackendTransientError(f"{prefix}: AWS is busy, try again later ({code or status}: {message})")
        return BackendError(f"{prefix}: {message}")
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return BackendTransientError(f"{action or 'AWS could not be reached'}: connection trouble, try again later "
                                     f"({exc})")
    return BackendError(f"{action or 'AWS request failed'}: {exc}")


@contextmanager
def translated(action: str = ""):
    """Run a block of boto3 calls, raising the project's errors instead of botocore's."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, action=action) from exc
