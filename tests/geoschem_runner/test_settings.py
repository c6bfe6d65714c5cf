"""Settings come from the environment; switched-on integrations demand theirs; production is deploy-clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from geoschem_runner.settings import envbool, envchoice, envint, required

ROOT = Path(__file__).resolve().parents[2]


def _manage(args, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCR_") and k != "DATABASE_URL"}
    env.update({"GCR_DATA_DIR": str(tmp_path), **env_extra})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("raw, expected", [("on", True), ("1", True), ("TRUE", True), ("off", False), ("no", False)])
def test_envbool_reads_the_usual_words(monkeypatch, raw, expected):
    monkeypatch.setenv("GCR_X", raw)
    assert envbool("GCR_X", not expected) is expected


def test_envbool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("GCR_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="GCR_X must be on or off"):
        envbool("GCR_X", False)


def test_envint_and_envchoice_name_the_bad_value(monkeypatch):
    monkeypatch.setenv("GCR_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="GCR_N must be a whole number"):
        envint("GCR_N", 1)
    monkeypatch.setenv("GCR_C", "batch2")
    with pytest.raises(ImproperlyConfigured, match="one of local"):
        envchoice("GCR_C", "local", ("local",))


def test_required_names_every_missing_setting(monkeypatch):
    monkeypatch.delenv("GCR_A", raising=False)
    monkeypatch.setenv("GCR_B", "set")
    monkeypatch.delenv("GCR_C", raising=False)
    with pytest.raises(ImproperlyConfigured) as exc:
        required("GCR_FLAG=on", "GCR_A", "GCR_B", "GCR_C")
    assert str(exc.value) == "with GCR_FLAG=on these settings are required: GCR_A, GCR_C"


def test_a_switched_on_integration_without_its_settings_stops_start_up(tmp_path):
    result = _manage(["check"], {"GCR_SMTP": "on"}, tmp_path)
    assert result.returncode != 0
    assert "with GCR_SMTP=on these settings are required: GCR_SMTP_HOST" in result.stderr


def test_the_batch_backend_without_its_settings_stops_start_up(tmp_path):
    result = _manage(["check"], {"GCR_COMPUTE_BACKEND": "batch", "GCR_AWS_REGION": "us-west-2"}, tmp_path)
    assert result.returncode != 0
    assert ("with GCR_COMPUTE_BACKEND=batch these settings are required: GCR_AWS_PREFIX, GCR_S3_BUCKET, "
            "GCR_SQS_QUEUE_URL") in result.stderr


def test_the_batch_backend_puts_outputs_on_s3(tmp_path):
    env = {"GCR_COMPUTE_BACKEND": "batch", "GCR_AWS_REGION": "us-west-2", "GCR_AWS_PREFIX": "gcr-test",
           "GCR_S3_BUCKET": "results", "GCR_SQS_QUEUE_URL": "https://sqs.us-west-2.amazonaws.com/1/q"}
    show = ["shell", "-c", "from django.conf import settings as s; print(s.OUTPUT_ROOT_URI, s.GCCLASSIC_EXECUTABLE, "
            "s.STORAGES['default']['BACKEND'])"]
    out = _manage(show, env, tmp_path).stdout.splitlines()[-1]
    assert out == "s3://results/runs/ /opt/geos-chem/bin/gcclassic storages.backends.s3.S3Storage"


def test_the_embedded_default_generates_its_secret_key_once(tmp_path):
    assert _manage(["check"], {}, tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert _manage(["check"], {}, tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        "GCR_SECRET_KEY": "k" * 20 + "-production-secret-from-the-environment-0123456789",
        "GCR_HTTPS": "on",
        "GCR_ALLOWED_HOSTS": "runner.example.org",
    }
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked_for(tmp_path):
    show = ["shell", "-c", "from django.conf import settings; print(settings.DEBUG)"]
    assert _manage(show, {}, tmp_path).stdout.splitlines()[-1] == "False"
    assert _manage(show, {"GCR_DEBUG": "on"}, tmp_path).stdout.splitlines()[-1] == "True"
