"""Management commands, run as an operator or a script would."""

import json

import pytest
import yaml
from django.core.management import call_command
from django_q.models import Schedule

from accounts.models import User
from simulations.models import Preset, Simulation

pytestmark = pytest.mark.django_db


def _write(tmp_path, config, name="config.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def test_check_prints_the_run_spec_and_creates_nothing(tmp_path, two_days, capsys):
    call_command("run_simulation", "--config", str(_write(tmp_path, two_days)), "--check", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True
    assert out["spec"]["spec_version"] == 1
    assert out["spec"]["model"]["executable"] == "demo"
    assert out["spec"]["period"]["start"].startswith("2019-01-01")
    assert Simulation.objects.count() == 0


def test_check_lists_every_bad_field_and_exits_1(tmp_path, two_days, capsys):
    two_days.update(resolution="3x3", levels="many", outputs={"SpeciesConc": {"frequency": "fortnightly"}})
    with pytest.raises(SystemExit) as exc:
        call_command("run_simulation", "--config", str(_write(tmp_path, two_days)), "--check", "--json")
    assert exc.value.code == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    fields = {e["field"] for e in out["errors"]}
    assert {"resolution", "levels"} <= fields
    assert any(field.startswith("outputs.SpeciesConc") for field in fields)


def test_an_invalid_file_creates_nothing_and_exits_2(tmp_path, two_days, capsys):
    two_days["start"] = "2019-02-01"  # after the end
    with pytest.raises(SystemExit) as exc:
        call_command("run_simulation", "--config", str(_write(tmp_path, two_days)))
    assert exc.value.code == 2
    assert "end" in capsys.readouterr().err
    assert Simulation.objects.count() == 0


def test_a_file_that_is_not_yaml_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.yml"
    path.write_text("model: [classic\n")
    with pytest.raises(SystemExit) as exc:
        call_command("run_simulation", "--config", str(path))
    assert exc.value.code == 2
    assert "not valid YAML or JSON" in capsys.readouterr().err


def test_without_wait_it_submits_and_returns(tmp_path, two_days, fake_backend, capsys):
    call_command("run_simulation", "--config", str(_write(tmp_path, two_days)), "--json")
    out = json.loads(capsys.readouterr().out)
    sim = Simulation.objects.get(id=out["id"])
    assert out["status"] == "starting" and sim.owner.email == "demo@example.org"
    assert fake_backend.submit_calls == 1


def test_an_unknown_user_is_refused(tmp_path, two_days):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user with the email nobody@example.org"):
        call_command("run_simulation", "--config", str(_write(tmp_path, two_days)), "--user", "nobody@example.org")


def test_setup_schedules_is_idempotent(capsys):
    call_command("setup_schedules")
    call_command("setup_schedules")
    assert Schedule.objects.count() == 7
    sync = Schedule.objects.get(name="sync active jobs")
    assert sync.func == "simulations.tasks.sync_active_jobs" and sync.minutes == 1
    budgets = Schedule.objects.get(name="check budgets")
    assert budgets.func == "costs.tasks.check_budgets" and budgets.minutes == 10


def test_the_demo_account_password_is_printed_once(capsys, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("create_demo_account")
    first = capsys.readouterr().out
    password = first.split("password: ")[1].split()[0]
    user = User.objects.get(email="demo@example.org")
    assert user.check_password(password)
    call_command("create_demo_account")
    second = capsys.readouterr().out
    assert password not in second and "exists" in second
    assert password in (tmp_path / "demo_account.txt").read_text()


def test_load_presets_loads_the_valid_examples_once():
    call_command("load_presets")
    count = Preset.objects.count()
    call_command("load_presets")
    assert Preset.objects.count() == count
    assert Preset.objects.filter(name="TransportTracers 4x5, two days", owner=None).exists()


def test_a_group_the_user_is_not_in_is_refused_and_nothing_is_created(tmp_path, two_days, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("run_simulation", "--config", str(_write(tmp_path, two_days)), "--group", "nowhere")
    assert exc.value.code == 2
    assert "group: you are not a member of a research group called 'nowhere'" in capsys.readouterr().err
    assert Simulation.objects.count() == 0
