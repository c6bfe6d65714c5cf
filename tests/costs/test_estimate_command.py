"""`manage.py estimate`: every instance type's estimate for a configuration file."""

import json

import pytest
import yaml
from django.core.management import call_command

from tests.conftest import TWO_DAYS


def _write(tmp_path, config):
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.mark.django_db
def test_json_lists_every_runnable_instance_with_hours_and_costs(tmp_path, capsys):
    call_command("estimate", "--config", _write(tmp_path, TWO_DAYS), "--json")
    out = json.loads(capsys.readouterr().out)
    assert len(out["estimates"]) > 10
    for item in out["estimates"]:
        hours = item["hours"]
        assert hours["low"] <= hours["expected"] <= hours["high"]
        on_demand = item["cost_usd"]["on_demand"]
        assert on_demand["low"] <= on_demand["expected"] <= on_demand["high"]
        assert set(item["cost_usd"]) == {"on_demand", "spot"}
    kinds = {r["kind"] for r in out["recommendations"]}
    assert {"cheapest", "fastest", "balanced"} <= kinds
    assert all(r["reason"] for r in out["recommendations"])


@pytest.mark.django_db
def test_the_table_names_what_cannot_run_it_and_why(tmp_path, capsys):
    call_command("estimate", "--config", _write(tmp_path, TWO_DAYS))
    out = capsys.readouterr().out
    assert "Recommendations:" in out
    assert "cannot run it:" in out


def test_an_invalid_file_exits_2_naming_the_field(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("estimate", "--config", _write(tmp_path, {**TWO_DAYS, "resolution": "3x3"}))
    assert exc.value.code == 2
    assert "resolution:" in capsys.readouterr().err
