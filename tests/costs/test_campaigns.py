"""Benchmark campaigns: the file format, launching, the report, and the two commands."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from costs import campaigns
from costs.campaigns import (CampaignInvalid, InstanceHardware, ReportRow, architecture_summary, campaign_launch,
                             campaign_plan, campaign_report, instance_catalog)
from costs.models import BenchmarkCampaign, BenchmarkRun, JobCost, month_of
from simulations.models import Job, Simulation
from simulations.services import SubmitRefused
from tests.conftest import TWO_DAYS

ROOT = Path(__file__).resolve().parents[2]
GCHP_C24 = {"model": "gchp", "simulation": "TransportTracers", "resolution": "C24", "start": "2019-01-01",
            "end": "2019-01-03", "outputs": {"SpeciesConc": "daily"}, "compute": {"nodes": 1}}
CATALOG = {"c7g.16xlarge": InstanceHardware("c7g.16xlarge", "arm64", 64),
           "c7i.16xlarge": InstanceHardware("c7i.16xlarge", "x86_64", 32)}


def _definition(name="smoke", types=("c7g.16xlarge", "c7i.16xlarge"), **extra):
    classic = {key: value for key, value in TWO_DAYS.items() if key != "name"}
    return {"name": name, "instance_types": list(types),
            "configurations": [{"label": "classic 4x5", "config": classic},
                               {"label": "gchp C24", "config": dict(GCHP_C24)}], **extra}


def _write(tmp_path, definition, name="campaign.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(definition))
    return str(path)


def _finished_job(sim, *, segment, attempt, state, hours, usd, metrics=None, notional=True):
    stopped = timezone.now()
    started = stopped - timedelta(hours=hours)
    job = Job.objects.create(simulation=sim, segment=segment, attempt=attempt, name=f"{sim.id}-{segment}-{attempt}",
                             backend="local", state=state, period_start=started, period_end=stopped, spec={},
                             metrics=metrics, started_at=started, stopped_at=stopped)
    JobCost.objects.create(job=job, simulation=sim, owner=sim.owner, month=month_of(stopped),
                           instance_type=sim.config["compute"]["instance_type"], capacity="on-demand", nodes=1,
                           region="us-east-1", started_at=started, stopped_at=stopped, hours=hours,
                           usd_per_hour=Decimal(usd) / Decimal(str(hours)), usd=Decimal(usd), price_source="test",
                           notional=notional)
    return job


def _succeeded(sim, *, segment=1, attempt=1, days, model_seconds, hours, usd):
    metrics = {"simulated_days": days, "model_wall_seconds": model_seconds, "wall_seconds": model_seconds + 60,
               "days_per_day": round(days * 86400 / model_seconds, 1), "instance_type": "", "peak_rss_mb": 900}
    return _finished_job(sim, segment=segment, attempt=attempt, state=Job.State.SUCCEEDED, hours=hours, usd=usd,
                         metrics=metrics)


def _run(campaign, label, instance_type):
    return BenchmarkRun.objects.select_related("simulation").get(campaign=campaign, label=label,
                                                                 instance_type=instance_type).simulation


# --- The file format ---------------------------------------------------------------------------------

def test_a_valid_file_plans_every_configuration_on_every_instance_type():
    plan, problems = campaign_plan(_definition(capacity="Spot"), instance_types=CATALOG)
    assert problems == []
    assert plan.capacity == "spot"
    cells = {(run.label, run.instance_type): run.config["compute"] for run in plan.runs}
    assert set(cells) == {(label, name) for label in ("classic 4x5", "gchp C24") for name in CATALOG}
    # Classic uses every physical core; GCHP the most that C24 can be split over.
    assert cells[("classic 4x5", "c7g.16xlarge")]["cores_per_node"] == 64
    assert cells[("classic 4x5", "c7i.16xlarge")]["cores_per_node"] == 32
    assert cells[("gchp C24", "c7g.16xlarge")]["cores_per_node"] == 60
    assert cells[("gchp C24", "c7i.16xlarge")]["cores_per_node"] == 30
    assert all(compute["capacity"] == "spot" for compute in cells.values())
    assert all(compute["instance_type"] == name for (_, name), compute in cells.items())
    assert plan.runs[0].config["name"] == "smoke: classic 4x5 on c7g.16xlarge"


def test_gchp_keeps_its_nodes_and_gets_a_core_count_it_can_split():
    definition = _definition()
    definition["configurations"][1]["config"]["compute"] = {"nodes": 2}
    plan, _ = campaign_plan(definition, instance_types=CATALOG)
    gchp = [run.config["compute"] for run in plan.runs if run.label == "gchp C24"]
    assert [(c["nodes"], c["cores_per_node"]) for c in gchp] == [(2, 60), (2, 30)]
    assert campaigns.gchp_cores_per_node(24, 1, 5) is None  # fewer than GCHP's 6 cores


def test_an_instance_type_too_small_for_gchp_is_a_problem_naming_it():
    small = {**CATALOG, "tiny.large": InstanceHardware("tiny.large", "x86_64", 4)}
    _, problems = campaign_plan(_definition(types=["c7g.16xlarge", "tiny.large"]), instance_types=small)
    assert [(p.field, "tiny.large" in p.message) for p in problems] == [("configurations[1].config.compute", True)]


def test_every_problem_in_a_file_is_reported_at_once():
    definition = _definition(capacity="cheap", types=["c7g.17xlarge", "c7i.16xlarge", "c7i.16xlarge"])
    definition["instance_type"] = "c7g.16xlarge"
    definition["configurations"][0]["config"].update(resolution="3x3", compute={"cores_per_node": 8})
    definition["configurations"][1]["label"] = "classic 4x5"
    definition["configurations"].append({"label": "extra", "config": dict(GCHP_C24), "nodes": 2})
    _, problems = campaign_plan(definition, instance_types=CATALOG)
    by_field = {p.field: p.message for p in problems}
    assert "did you mean 'instance_types'" in by_field["instance_type"]
    assert by_field["capacity"] == "choose spot or on-demand (got 'cheap')"
    assert "unknown instance type 'c7g.17xlarge' (did you mean 'c7g.16xlarge'?)" in by_field["instance_types[0]"]
    assert by_field["instance_types[2]"] == "c7i.16xlarge is listed twice"
    assert "3x3" in by_field["configurations[0].config.resolution"]
    assert by_field["configurations[0].config.compute.cores_per_node"].startswith("leave cores_per_node out")
    assert "already used by configurations[0]" in by_field["configurations[1].label"]
    assert "a configuration has label and config" in by_field["configurations[2].nodes"]
    assert len(problems) == 8


def test_a_problem_of_one_configuration_is_reported_once_not_per_instance_type():
    definition = _definition()
    definition["configurations"][0]["config"]["end"] = "2018-12-01"
    _, problems = campaign_plan(definition, instance_types=CATALOG)
    assert [p.field for p in problems] == ["configurations[0].config.end"]


def test_a_file_that_is_not_a_mapping_is_one_problem():
    plan, problems = campaign_plan(["c7g.16xlarge"], instance_types=CATALOG)
    assert plan is None and len(problems) == 1 and problems[0].field == ""


@pytest.mark.django_db
def test_the_catalog_is_the_instance_type_table():
    catalog = instance_catalog()
    assert catalog["c7i.16xlarge"] == InstanceHardware("c7i.16xlarge", "x86_64", 32)
    assert catalog["c8g.16xlarge"].architecture == "arm64"


@pytest.mark.django_db
def test_the_shipped_fullchem_campaign_is_valid_for_a_real_geoschem_build(settings):
    settings.GCCLASSIC_EXECUTABLE = "/opt/geos-chem/bin/gcclassic"
    definition = yaml.safe_load((ROOT / "benchmarks" / "campaigns" / "fullchem-4x5-month.yml").read_text())
    plan, problems = campaign_plan(definition, instance_types=instance_catalog(), check=campaigns.platform_problems)
    assert problems == []
    assert {run.instance_type: run.config["compute"]["cores_per_node"] for run in plan.runs} == {
        "c7g.16xlarge": 64, "c8g.16xlarge": 64, "c7i.16xlarge": 32, "c7a.16xlarge": 64}
    assert plan.capacity == "spot"
    assert {run.config["simulation"] for run in plan.runs} == {"fullchem"}


@pytest.mark.django_db
def test_the_fullchem_campaign_is_refused_on_the_demo_model_and_nothing_is_created(alice):
    definition = yaml.safe_load((ROOT / "benchmarks" / "campaigns" / "fullchem-4x5-month.yml").read_text())
    with pytest.raises(CampaignInvalid) as exc:
        campaign_launch(definition=definition, actor=alice)
    assert {p.field for p in exc.value.problems} == {"configurations[0].config.outputs.AerosolMass",
                                                     "configurations[0].config.outputs.Metrics"}
    assert BenchmarkCampaign.objects.count() == 0 and Simulation.objects.count() == 0


# --- Launching -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_launch_creates_one_simulation_and_benchmark_run_per_configuration_and_instance_type(
        alice, fake_backend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaign = campaign_launch(definition=_definition(), actor=alice)
    assert campaign.created_by == alice and campaign.name == "smoke"
    runs = list(campaign.runs.select_related("simulation"))
    assert sorted((r.label, r.instance_type) for r in runs) == [
        ("classic 4x5", "c7g.16xlarge"), ("classic 4x5", "c7i.16xlarge"),
        ("gchp C24", "c7g.16xlarge"), ("gchp C24", "c7i.16xlarge")]
    for run in runs:
        assert run.simulation.owner == alice
        assert run.simulation.config["compute"]["instance_type"] == run.instance_type
        assert run.simulation.is_demo
    # Submitted: the queued task started each first segment on the backend.
    assert fake_backend.submit_calls == 4
    assert set(Simulation.objects.values_list("status", flat=True)) == {"starting"}


@pytest.mark.django_db
def test_yaml_dates_in_the_file_are_stored_as_text(alice, fake_backend):
    definition = _definition()
    definition["configurations"][0]["config"]["start"] = date(2019, 1, 1)  # what YAML reads for 2019-01-01
    campaign = campaign_launch(definition=definition, actor=alice)
    campaign.refresh_from_db()
    assert campaign.definition["configurations"][0]["config"]["start"] == "2019-01-01"
    assert _run(campaign, "classic 4x5", "c7i.16xlarge").config["start"] == "2019-01-01 00:00:00"


@pytest.mark.django_db
def test_an_invalid_file_creates_nothing(alice, fake_backend):
    definition = _definition(types=["c7g.16xlarge", "m9z.huge"])
    with pytest.raises(CampaignInvalid) as exc:
        campaign_launch(definition=definition, actor=alice)
    assert [p.field for p in exc.value.problems] == ["instance_types[1]"]
    assert BenchmarkCampaign.objects.count() == 0 and Simulation.objects.count() == 0
    assert fake_backend.submit_calls == 0


@pytest.mark.django_db
def test_a_campaign_name_already_used_is_refused_and_no_second_campaign_is_made(alice, fake_backend):
    campaign_launch(definition=_definition(), actor=alice)
    with pytest.raises(CampaignInvalid) as exc:
        campaign_launch(definition=_definition(), actor=alice)
    assert [p.field for p in exc.value.problems] == ["name"]
    assert "already exists" in exc.value.problems[0].message
    assert BenchmarkCampaign.objects.count() == 1 and Simulation.objects.count() == 4


@pytest.mark.django_db
def test_a_budget_refusal_is_recorded_for_that_run_and_the_others_are_submitted(alice, fake_backend, monkeypatch):
    real_submit = campaigns.simulation_submit

    def submit(*, simulation_id, actor=None, source="web"):
        if Simulation.objects.get(id=simulation_id).config["compute"]["instance_type"] == "c7i.16xlarge":
            raise SubmitRefused("alice's budget has $1.00 left this month; this run may cost up to $4.10")
        return real_submit(simulation_id=simulation_id, actor=actor, source=source)

    monkeypatch.setattr(campaigns, "simulation_submit", submit)
    campaign = campaign_launch(definition=_definition(), actor=alice)
    statuses = {(r.label, r.instance_type): r.simulation.status for r in campaign.runs.select_related("simulation")}
    assert statuses == {("classic 4x5", "c7g.16xlarge"): "queued", ("gchp C24", "c7g.16xlarge"): "queued",
                        ("classic 4x5", "c7i.16xlarge"): "draft", ("gchp C24", "c7i.16xlarge"): "draft"}
    refused = _run(campaign, "gchp C24", "c7i.16xlarge")
    assert refused.events.filter(message__startswith=campaigns.NOT_SUBMITTED, actor=alice).count() == 1
    row = next(r for r in campaign_report(campaign=campaign) if r.simulation_id == str(refused.id))
    assert row.status == "draft"
    assert row.note == "alice's budget has $1.00 left this month; this run may cost up to $4.10"


# --- The report ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_report_takes_days_per_day_from_succeeded_jobs_and_cost_from_every_job(alice, fake_backend):
    campaign = campaign_launch(definition=_definition(), actor=alice)
    sim = _run(campaign, "classic 4x5", "c7g.16xlarge")
    _succeeded(sim, segment=1, days=1.0, model_seconds=3600, hours=1.25, usd="2.50")
    # A failed attempt costs money but measures nothing.
    _finished_job(sim, segment=2, attempt=1, state=Job.State.FAILED, hours=0.5, usd="1.00",
                  metrics={"simulated_days": 0.5, "model_wall_seconds": 1800})
    _succeeded(sim, segment=2, attempt=2, days=1.0, model_seconds=7200, hours=2.25, usd="4.50")
    Simulation.objects.filter(id=sim.id).update(status="succeeded")
    row = next(r for r in campaign_report(campaign=campaign) if r.simulation_id == str(sim.id))
    assert row.status == "succeeded" and row.architecture == "arm64"
    assert row.simulated_days == 2.0
    assert row.days_per_day == 16.0  # 2 simulated days in 3 model hours (1/8 day)
    assert row.wall_hours == 4.0  # 1.25 + 0.5 + 2.25, every attempt
    assert row.cost_usd == Decimal("8.00")  # 2.50 + 1.00 + 4.50
    assert row.usd_per_simulated_day == Decimal("4.00")
    assert row.notional is True
    assert row.model_label == "demo model, not GEOS-Chem"


@pytest.mark.django_db
def test_a_run_that_measured_nothing_has_no_speed_or_price_per_day(alice, fake_backend):
    campaign = campaign_launch(definition=_definition(), actor=alice)
    sim = _run(campaign, "gchp C24", "c7i.16xlarge")
    _finished_job(sim, segment=1, attempt=1, state=Job.State.FAILED, hours=0.1, usd="0.30")
    row = next(r for r in campaign_report(campaign=campaign) if r.simulation_id == str(sim.id))
    assert (row.simulated_days, row.days_per_day, row.usd_per_simulated_day) == (0.0, None, None)
    assert row.cost_usd == Decimal("0.30")


def _row(architecture, days_per_day, usd_per_day, instance_type="t"):
    return ReportRow(label="l", instance_type=instance_type, architecture=architecture, simulation_id="s",
                     status="succeeded", note="", demo=True, simulated_days=2.0, days_per_day=days_per_day,
                     wall_hours=1.0, cost_usd=Decimal(1), notional=False,
                     usd_per_simulated_day=None if usd_per_day is None else Decimal(usd_per_day))


def test_the_summary_gives_each_architectures_medians_over_the_runs_that_measured_them():
    rows = [_row("arm64", 100.0, "0.50"), _row("arm64", 300.0, "0.10"), _row("arm64", None, None),
            _row("x86_64", 80.0, "0.90"), _row("x86_64", 120.0, "0.70"), _row("x86_64", 90.0, "0.80")]
    summary = {s.architecture: s for s in architecture_summary(rows)}
    assert (summary["arm64"].runs, summary["arm64"].median_days_per_day) == (3, 200.0)
    assert summary["arm64"].median_usd_per_simulated_day == Decimal("0.30")
    assert (summary["x86_64"].median_days_per_day, summary["x86_64"].median_usd_per_simulated_day) == (
        90.0, Decimal("0.80"))


@pytest.mark.django_db
def test_the_report_runs_the_same_number_of_queries_for_2_and_8_runs(alice, fake_backend):
    small = campaign_launch(definition=_definition(name="small", types=["c7g.16xlarge"]), actor=alice)
    big = campaign_launch(definition=_definition(name="big", types=["c7g.16xlarge", "c8g.16xlarge", "c7i.16xlarge",
                                                                    "c7a.16xlarge"]), actor=alice)
    assert (small.runs.count(), big.runs.count()) == (2, 8)
    for run in BenchmarkRun.objects.select_related("simulation"):
        _succeeded(run.simulation, days=2.0, model_seconds=600, hours=0.2, usd="0.60")
    counts = []
    for campaign in (small, big):
        with CaptureQueriesContext(connection) as queries:
            rows = campaign_report(campaign=campaign)
        assert all(row.days_per_day == 288.0 for row in rows)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5


@pytest.mark.django_db
def test_a_run_of_a_real_geoschem_build_is_not_labelled_demo(alice, settings):
    settings.GCCLASSIC_EXECUTABLE = "/opt/geos-chem/bin/gcclassic"
    definition = _definition(name="real")
    del definition["configurations"][1]
    campaign = campaign_launch(definition=definition, actor=alice)
    assert {row.model_label for row in campaign_report(campaign=campaign)} == {"GEOS-Chem"}


# --- The commands -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_shipped_demo_smoke_campaign_is_submitted_for_the_demo_account(fake_backend, capsys):
    call_command("run_benchmark_campaign", str(ROOT / "benchmarks" / "campaigns" / "demo-smoke.yml"))
    out = capsys.readouterr().out
    assert "4 run(s) with the demo model, not GEOS-Chem; 4 submitted" in out
    campaign = BenchmarkCampaign.objects.get(name="demo smoke")
    sims = Simulation.objects.filter(benchmark__campaign=campaign)
    assert sims.count() == 4
    assert set(sims.values_list("owner__email", flat=True)) == {"demo@example.org"}
    assert {run.instance_type for run in campaign.runs.all()} == {"c7g.16xlarge", "c7i.16xlarge"}
    # The first segments start at once, as run_simulation starts its run.
    assert fake_backend.submit_calls == 4
    assert set(sims.values_list("status", flat=True)) == {"starting"}


@pytest.mark.django_db
def test_run_benchmark_campaign_lists_every_problem_and_exits_2(tmp_path, fake_backend, capsys):
    definition = _definition(types=["c7g.17xlarge"])
    definition["configurations"][1]["label"] = "classic 4x5"
    with pytest.raises(SystemExit) as exc:
        call_command("run_benchmark_campaign", _write(tmp_path, definition))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "2 problem(s); nothing was created" in err
    assert "instance_types[0]: unknown instance type 'c7g.17xlarge'" in err
    assert "configurations[1].label: the label 'classic 4x5' is already used" in err
    assert BenchmarkCampaign.objects.count() == 0 and Simulation.objects.count() == 0


@pytest.mark.django_db
def test_run_benchmark_campaign_json_lists_the_problems(tmp_path, fake_backend, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("run_benchmark_campaign", _write(tmp_path, {"name": "x"}), "--json")
    assert exc.value.code == 2
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    assert {p["field"] for p in out["problems"]} == {"instance_types", "configurations"}


@pytest.mark.django_db
def test_a_second_launch_of_the_same_file_exits_2(tmp_path, fake_backend, capsys):
    path = _write(tmp_path, _definition())
    call_command("run_benchmark_campaign", path, "--json")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        call_command("run_benchmark_campaign", path)
    assert exc.value.code == 2
    assert "name: a campaign called 'smoke' already exists" in capsys.readouterr().err
    assert BenchmarkCampaign.objects.count() == 1


@pytest.mark.django_db
def test_when_the_budget_refuses_every_run_the_command_exits_1_and_says_why(tmp_path, fake_backend, monkeypatch,
                                                                            capsys):
    def refuse(**kwargs):
        raise SubmitRefused("the group budget is spent")

    monkeypatch.setattr(campaigns, "simulation_submit", refuse)
    with pytest.raises(SystemExit) as exc:
        call_command("run_benchmark_campaign", _write(tmp_path, _definition()))
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "0 submitted" in out and out.count("the group budget is spent") == 4
    assert fake_backend.submit_calls == 0


@pytest.mark.django_db
def test_a_file_that_is_not_yaml_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.yml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(SystemExit) as exc:
        call_command("run_benchmark_campaign", str(path))
    assert exc.value.code == 2
    assert "not valid YAML" in capsys.readouterr().err


@pytest.mark.django_db
def test_an_unknown_owner_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no user with the email nobody@example.org"):
        call_command("run_benchmark_campaign", _write(tmp_path, _definition()), "--user", "nobody@example.org")


@pytest.mark.django_db
def test_benchmark_report_prints_the_table_summary_and_demo_label_and_writes_an_offline_plot(
        alice, fake_backend, tmp_path, capsys):
    campaign = campaign_launch(definition=_definition(), actor=alice)
    _succeeded(_run(campaign, "classic 4x5", "c7g.16xlarge"), days=2.0, model_seconds=864, hours=0.5, usd="1.20")
    _succeeded(_run(campaign, "classic 4x5", "c7i.16xlarge"), days=2.0, model_seconds=1728, hours=1.0, usd="2.80")
    plot = tmp_path / "campaign.html"
    call_command("benchmark_report", "smoke", "--plot", str(plot))
    out = capsys.readouterr().out
    line = next(text for text in out.splitlines() if text.startswith("classic 4x5") and "c7g.16xlarge" in text)
    assert "200.0" in line and "0.6000" in line and "demo model, not GEOS-Chem" in line
    assert "arm64    2 run(s)  days/day 200.0  $ per simulated day 0.6000" in out
    assert "x86_64   2 run(s)  days/day 100.0  $ per simulated day 1.4000" in out
    assert "notional" in out
    html = plot.read_text()
    assert "days/day" in html and "c7i.16xlarge" in html and "cost per simulated day (USD)" in html
    assert not re.search(r"<script[^>]*\bsrc=[\"']?https?://", html)
    assert "Bokeh" in html


@pytest.mark.django_db
def test_benchmark_report_defaults_to_the_newest_campaign_and_prints_json(alice, fake_backend, capsys):
    campaign_launch(definition=_definition(name="older"), actor=alice)
    newest = campaign_launch(definition=_definition(name="newer", types=["c7i.16xlarge"]), actor=alice)
    _succeeded(_run(newest, "gchp C24", "c7i.16xlarge"), days=2.0, model_seconds=1728, hours=1.0, usd="3.00")
    call_command("benchmark_report", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["campaign"] == "newer" and out["demo_model"] is True
    gchp = next(row for row in out["runs"] if row["label"] == "gchp C24")
    assert (gchp["days_per_day"], gchp["usd_per_simulated_day"], gchp["model"]) == (
        100.0, 1.5, "demo model, not GEOS-Chem")
    assert out["architectures"] == [{"architecture": "x86_64", "runs": 2, "median_days_per_day": 100.0,
                                     "median_usd_per_simulated_day": 1.5}]


@pytest.mark.django_db
def test_benchmark_report_names_an_unknown_campaign():
    with pytest.raises(CommandError, match="no benchmark campaign yet"):
        call_command("benchmark_report")
    with pytest.raises(CommandError, match="no benchmark campaign called 'nope'"):
        call_command("benchmark_report", "nope")


@pytest.mark.django_db
def test_the_plot_of_a_campaign_that_measured_nothing_yet_says_so(alice, fake_backend, tmp_path, capsys):
    campaign_launch(definition=_definition(), actor=alice)
    plot = tmp_path / "empty.html"
    call_command("benchmark_report", "--plot", str(plot))
    assert "queued" in capsys.readouterr().out
    assert plot.read_text().count("(no run has measured it yet)") == 2
