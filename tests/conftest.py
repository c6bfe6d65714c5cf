"""Shared fixtures: users alice, bob and an operator; an in-memory compute backend; temp folders."""

import pytest
from django.core.cache import cache
from django_q.conf import Conf

from simulations.backends import override_backend
from simulations.backends.base import JobState, LogChunk, SubmitResult

TWO_DAYS = {
    "name": "TransportTracers 4x5, two days",
    "model": "classic",
    "simulation": "TransportTracers",
    "met": "MERRA2",
    "resolution": "4x5",
    "levels": 72,
    "start": "2019-01-01",
    "end": "2019-01-03",
    "outputs": {"SpeciesConc": {"frequency": "daily"}},
}


class FakeBackend:
    """An in-memory backend: records calls, and reports whatever state a test sets."""

    name = "local"

    def __init__(self):
        self.states: dict[str, JobState] = {}
        self.specs: dict[str, dict] = {}
        self.logs: dict[str, str] = {}
        self.submit_calls = 0
        self.describe_calls = 0
        self.cancels: list[tuple[str, str]] = []

    def config_problems(self, cfg):
        from simulations import catalog

        return catalog.demo_problems(cfg)

    def prepare_spec(self, spec):
        return spec

    def submit(self, *, job_name, spec):
        if job_name in self.states:
            return SubmitResult(job_name, already_existed=True)
        self.submit_calls += 1
        self.states[job_name] = JobState(job_name, "SUBMITTED")
        self.specs[job_name] = spec
        return SubmitResult(job_name)

    def set(self, job_name, state, **fields):
        self.states[job_name] = JobState(job_name, state, **fields)

    def describe(self, backend_ids):
        self.describe_calls += 1
        return {i: self.states[i] for i in backend_ids if i in self.states}

    def cancel(self, backend_id, *, reason):
        self.cancels.append((backend_id, reason))

    def read_log(self, backend_id, *, position="", limit=65536):
        offset = int(position or 0)
        text = self.logs.get(backend_id, "")
        chunk = text[offset:offset + limit]
        return LogChunk(chunk, str(offset + len(chunk)), self.states[backend_id].state in ("SUCCEEDED", "FAILED"))

    def read_progress(self, backend_id):
        return self.states[backend_id].progress


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The hashed-name manifest exists only after collectstatic (make run does it).
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.LOCAL_JOBS_DIR = tmp_path / "jobs"
    settings.OUTPUT_ROOT_URI = (tmp_path / "outputs").as_uri() + "/"
    settings.DATA_DIR = tmp_path
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Local-memory caches share their store within a process: start each test with rate limits,
    # JWKS and the rest forgotten.
    cache.clear()
    settings.SYNC_LOOP_SECONDS = 0
    settings.GCCLASSIC_EXECUTABLE = "demo"
    settings.GCHP_EXECUTABLE = "demo"
    # Queued tasks run in-line (they are still queued only when the transaction commits).
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def fake_backend():
    backend = FakeBackend()
    override_backend("local", backend)
    yield backend
    override_backend("local", None)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(email="alice@example.org", password="pw-alice-123")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user(email="bob@example.org", password="pw-bob-123")


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user(email="ops@example.org", password="pw-ops-123", is_staff=True,
                                                 is_superuser=True)


@pytest.fixture
def two_days():
    return dict(TWO_DAYS)


# --- AWS stand-ins: moto in-process, or a moto server on 127.0.0.1 for subprocesses ---------------
TEST_REGION = "us-east-1"
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": TEST_REGION}


def use_fake_aws_credentials(monkeypatch) -> None:
    """Fake credentials and no real endpoint or profile, so nothing can reach real AWS."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in TEST_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws_credentials(monkeypatch):
    use_fake_aws_credentials(monkeypatch)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def moto_server(tmp_path):
    """A moto server on 127.0.0.1 (Batch without Docker: jobs end at once); yields its URL."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    port = _free_port()
    log = open(tmp_path / "moto.log", "w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("moto_server did not start: " + (tmp_path / "moto.log").read_text())
                time.sleep(0.2)
        config = json.dumps({"batch": {"use_docker": False}}).encode()
        urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/config", data=config, method="POST"),
                               timeout=5)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
