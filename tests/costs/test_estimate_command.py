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
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert isinstance(out, list) and len(out) > 10
    for item in out:
        hours = item["hours"]
        assert hours["low"] <= hours["expected"] <= hours["high"]
        on_demand = item["cost_usd"]["on_demand"]
        assert on_demand["low"] <= on_demand["expected"] <= on_demand["high"]
        assert set(item["cost_usd"]) == {"on_demand", "spot"}
    kinds = {r["kind"] for item in out for r in item["recommendations"]}
    assert {"cheapest", "fastest", "balanced"} <= kinds
    assert all(r["reason"] for item in out for r in item["recommendations"])
    assert out[0]["recommendations"][0]["kind"] == "cheapest"  # the list is cheapest first
    assert "cannot run it:" in captured.err


@pytest.mark.django_db
def test_a_gchp_configuration_gets_single_and_multi_node_options(tmp_path, capsys):
    config = {"model": "gchp", "simulation": "fullchem", "resolution": "C90", "start": "2019-07-01",
              "end": "2019-08-01", "compute": {"nodes": 1, "cores_per_node": 48}}
    call_command("estimate", "--config", _write(tmp_path, config), "--json")
    out = json.loads(capsys.readouterr().out)
    assert {item["nodes"] for item in out} == {1, 2}
    assert all(item["cost_usd"]["spot"] is None for item in out if item["nodes"] > 1)
    assert any(r["kind"] == "nodes" for item in out for r in item["recommendations"])


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
