"""The runner asks the instance metadata service (IMDSv2) which instance type it is on, on Batch only."""

import http.server
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner.instance import detect_instance_type  # noqa: E402


@pytest.fixture
def imds():
    """A stand-in for the metadata service on 127.0.0.1 that insists on an IMDSv2 token."""
    calls = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802 - the standard library's name
            calls.append(("PUT", self.path))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"token-123")

        def do_GET(self):  # noqa: N802
            calls.append(("GET", self.path))
            ok = self.headers.get("X-aws-ec2-metadata-token") == "token-123"
            self.send_response(200 if ok else 401)
            self.end_headers()
            if ok:
                self.wfile.write(b"c7g.16xlarge\n")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", calls
    server.shutdown()


def test_on_batch_the_metadata_service_says_which_instance_type_it_is(imds):
    endpoint, calls = imds
    env = {"AWS_BATCH_JOB_ID": "job-1", "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint}
    assert detect_instance_type(None, env=env) == "c7g.16xlarge"
    # What Batch placed the job on wins over what the spec asked for.
    assert detect_instance_type("c7g.8xlarge", env=env) == "c7g.16xlarge"
    assert calls[:2] == [("PUT", "/latest/api/token"), ("GET", "/latest/meta-data/instance-type")]


def test_off_batch_or_with_metadata_disabled_the_spec_stands_and_nothing_is_asked(imds):
    endpoint, calls = imds
    assert detect_instance_type("c7i.16xlarge", env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint}) == "c7i.16xlarge"
    disabled = {"AWS_BATCH_JOB_ID": "j", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint}
    assert detect_instance_type(None, env=disabled) is None
    assert calls == []


def test_a_silent_metadata_service_leaves_the_specs_instance_type():
    env = {"AWS_BATCH_JOB_ID": "j", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"}
    assert detect_instance_type("c7a.16xlarge", env=env, timeout=0.5) == "c7a.16xlarge"
