"""S3, the runner's one outside service: ``s3://bucket/key`` locations.

boto3 is imported here and only here, and only when an ``s3://`` location is first used, so
that a local run needs nothing beyond the standard library. Every botocore or boto3 error
leaves this module as ``transport.TransportError`` with a plain message that names the
operation and the location.

The client uses botocore's adaptive retry mode (exponential back-off plus client-side rate
limiting), which is what a job that uploads outputs while S3 throttles wants. It honours the
usual AWS environment (``AWS_ENDPOINT_URL`` points it at a moto server in tests).
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .transport import TransportError, checked_key

MAX_ATTEMPTS = 10
# The pool must be at least as large as the staging thread pool, or threads wait for a
# connection and botocore warns that the pool is full.
MAX_POOL_CONNECTIONS = 64

_client = None
_client_lock = threading.Lock()


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str  # no leading slash; "" for the bucket root

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def child(self, key: str) -> S3Location:
        """The location of ``key`` under this one (which is read as a folder)."""
        base = self.key.rstrip("/")
        return S3Location(self.bucket, f"{base}/{key}" if base else key)


def parse_s3_uri(uri: str) -> S3Location:
    """``s3://bucket/some/key`` -> S3Location("bucket", "some/key")."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "s3" or not parts.netloc:
        raise TransportError(f"not an s3://bucket/key location: {uri}")
    return S3Location(parts.netloc, parts.path.lstrip("/"))


def client():
    """The shared S3 client (boto3 clients are thread-safe), created on first use."""
    global _client
    with _client_lock:
        if _client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError as exc:  # the local image may lack boto3: say so plainly
                raise TransportError("s3:// locations need boto3, which is not installed") from exc
            config = Config(retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
                            max_pool_connections=MAX_POOL_CONNECTIONS)
            _client = boto3.session.Session().client("s3", config=config)
        return _client


def reset_client() -> None:
    """Forget the shared client (tests that change the AWS environment call this)."""
    global _client
    with _client_lock:
        _client = None


def _error_code(exc) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _describe(exc) -> str:
    response = getattr(exc, "response", None)
    if response:
        error = response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        return f"{code}: {message}" if message and message != code else str(code or exc)
    return str(exc)


def _botocore_errors() -> tuple:
    try:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (OSError,)
    return (ClientError, BotoCoreError, Boto3Error)


def _not_found(exc) -> bool:
    return _error_code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


def _fail(operation: str, where: S3Location, exc) -> TransportError:
    return TransportError(f"S3 {operation} {where.uri} failed: {_describe(exc)}")


# ---------------------------------------------------------------------------------------------
# Single objects
# ---------------------------------------------------------------------------------------------

def read_bytes(uri: str) -> bytes:
    """The whole object at ``uri``; TransportError (saying "not found") if it is missing."""
    where = parse_s3_uri(uri)
    try:
        return client().get_object(Bucket=where.bucket, Key=where.key)["Body"].read()
    except _botocore_errors() as exc:
        if _not_found(exc):
            raise TransportError(f"file not found: {uri}") from exc
        raise _fail("read of", where, exc) from exc


def head_size(uri: str) -> int | None:
    """The size in bytes of the object at ``uri``, or None when there is none."""
    where = parse_s3_uri(uri)
    try:
        return int(client().head_object(Bucket=where.bucket, Key=where.key)["ContentLength"])
    except _botocore_errors() as exc:
        if _not_found(exc):
            return None
        raise _fail("HEAD of", where, exc) from exc


def download(uri: str, dest: Path) -> None:
    """Copy the object at ``uri`` to ``dest`` through a temporary name in the same folder, so
    that a half-downloaded file never sits under the final name."""
    where = parse_s3_uri(uri)
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(handle)
    try:
        client().download_file(where.bucket, where.key, tmp)
        os.replace(tmp, dest)
    except _botocore_errors() as exc:
        _discard(tmp)
        if _not_found(exc):
            raise TransportError(f"file not found: {uri}") from exc
        raise _fail("download of", where, exc) from exc
    except OSError as exc:
        _discard(tmp)
        raise TransportError(f"could not write {dest}: {exc}") from exc


def list_keys(uri: str) -> list[tuple[str, int]]:
    """``(key relative to uri, size)`` of every object under the folder ``uri``."""
    where = parse_s3_uri(uri)
    prefix = where.key.rstrip("/") + "/" if where.key.strip("/") else ""
    found = []
    try:
        pages = client().get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                found.append((item["Key"][len(prefix):], int(item["Size"])))
    except _botocore_errors() as exc:
        raise _fail("listing of", where, exc) from exc
    return found


def _discard(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# A store: a folder of objects the runner writes into
# ---------------------------------------------------------------------------------------------

class S3Store:
    """An ``s3://bucket/prefix/`` location, with the same methods as ``transport.FileStore``.

    S3 has no rename, and needs none: a PUT (and the completion of a multipart upload) makes
    the whole object visible at once, so readers never see a half-written file.
    """

    def __init__(self, root: S3Location):
        self.root = root

    @classmethod
    def from_uri(cls, uri: str) -> S3Store:
        return cls(parse_s3_uri(uri))

    def _where(self, key: str) -> S3Location:
        return self.root.child(str(checked_key(key)))

    def uri_of(self, key: str) -> str:
        return self._where(key).uri

    def local_path(self, key: str) -> None:
        """Always None: files for S3 are written locally first and then ``put``."""
        checked_key(key)
        return None

    def put(self, local_path: Path, key: str) -> None:
        """Upload ``local_path`` (multipart when large, through boto3's transfer manager)."""
        where = self._where(key)
        try:
            client().upload_file(str(local_path), where.bucket, where.key)
        except _botocore_errors() as exc:
            raise _fail("upload to", where, exc) from exc
        except OSError as exc:
            raise TransportError(f"could not read {local_path} to upload it: {exc}") from exc

    def put_bytes(self, data: bytes, key: str) -> None:
        where = self._where(key)
        try:
            client().put_object(Bucket=where.bucket, Key=where.key, Body=data)
        except _botocore_errors() as exc:
            raise _fail("write of", where, exc) from exc

    def get_bytes(self, key: str) -> bytes | None:
        """The object at ``key``, or None when there is none."""
        where = self._where(key)
        try:
            return client().get_object(Bucket=where.bucket, Key=where.key)["Body"].read()
        except _botocore_errors() as exc:
            if _not_found(exc):
                return None
            raise _fail("read of", where, exc) from exc

    def keys(self, folder: str) -> list[str]:
        """Keys (relative to this store) of the objects under ``folder``."""
        base = PurePosixPath(str(checked_key(folder)))
        return [str(base / name) for name, _ in list_keys(self._where(str(base)).uri)]
