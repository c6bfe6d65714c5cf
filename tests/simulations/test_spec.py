"""Rendering the run spec (docs/run-spec.md) and the text files the runner writes from it.

Golden files live in tests/simulations/golden/: for each <case>.config.yml the rendered
<case>.spec.json, <case>.geoschem_config.yml and <case>.HISTORY.rc. Regenerate them after an
intended change with:  UPDATE_GOLDEN=1 pytest tests/simulations/test_spec.py
"""

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from containers.runner import rundir
from simulations import spec
from simulations.config import parse_config

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.name.removesuffix(".config.yml") for path in GOLDEN.glob("*.config.yml"))
SIMULATION_ID = "6f1c0a52-4e1b-4a7e-9d3c-0b5e2f7a1c9d"
OUTPUT_URI = f"file:///srv/var/outputs/{SIMULATION_ID}"

TWO_DAYS = {"simulation": "TransportTracers", "start": "2019-01-01", "end": "2019-01-03"}


def config(raw):
    return parse_config(raw)


def render(cfg, segment_index=1, attempt=1, restart_uri=None):
    return spec.render_spec(cfg, simulation_id=SIMULATION_ID, segment_index=segment_index, attempt=attempt,
                            executable="demo", backend="local", input_root="/srv/ExtData",
                            output_uri=OUTPUT_URI, restart_uri=restart_uri)


def check_golden(path: Path, text: str):
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"{path.name} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(), f"{path.name} changed; if intended, rerun with UPDATE_GOLDEN=1"


def test_golden_cases_exist():
    assert len(CASES) == 4


@pytest.mark.parametrize("case", CASES)
def test_the_rendered_spec_matches_its_golden_file(case):
    cfg = config(yaml.safe_load((GOLDEN / f"{case}.config.yml").read_text()))
    rendered = render(cfg)
    check_golden(GOLDEN / f"{case}.spec.json", json.dumps(rendered, indent=2) + "\n")
    # The runner renders the text files from the spec; one renderer, checked against the same goldens.
    check_golden(GOLDEN / f"{case}.geoschem_config.yml", rundir.render_geoschem_config(rendered))
    check_golden(GOLDEN / f"{case}.HISTORY.rc", rundir.render_history(rendered))


# --- Segments, names, files ------------------------------------------------------------------

def test_segments_default_to_calendar_months_with_partial_ends():
    cfg = config({**TWO_DAYS, "start": "2019-01-15", "end": "2019-03-10 12:00"})
    assert spec.segment_periods(cfg) == [
        (datetime(2019, 1, 15), datetime(2019, 2, 1)),
        (datetime(2019, 2, 1), datetime(2019, 3, 1)),
        (datetime(2019, 3, 1), datetime(2019, 3, 10, 12))]


def test_a_run_within_one_month_is_one_segment():
    assert spec.segment_periods(config(TWO_DAYS)) == [(datetime(2019, 1, 1), datetime(2019, 1, 3))]


def test_fixed_segments_cut_by_days_with_a_shorter_last_one():
    cfg = config({**TWO_DAYS, "end": "2019-01-26", "segment_days": 10})
    assert [(a.day, b.day) for a, b in spec.segment_periods(cfg)] == [(1, 11), (11, 21), (21, 26)]


def test_job_names_are_deterministic_and_batch_safe():
    assert spec.job_name(SIMULATION_ID, 1, 1) == "gcr-6f1c0a52-s001-a1"
    assert spec.job_name("a b/c:d;e", 12, 3) == "gcr-abcde-s012-a3"
    name = spec.job_name("x" * 300, 999, 99)
    assert len(name) <= 128 and name.replace("-", "").replace("_", "").isalnum()


def test_job_names_count_from_one():
    with pytest.raises(ValueError):
        spec.job_name(SIMULATION_ID, 0, 1)


def test_restart_file_names_follow_geoschem():
    when = datetime(2019, 1, 3)
    assert spec.restart_filename(config(TWO_DAYS), when) == "GEOSChem.Restart.20190103_0000z.nc4"
    gchp = config({**TWO_DAYS, "model": "gchp", "resolution": "C24"})
    assert spec.restart_filename(gchp, when) == "GEOSChem.Restart.20190103_0000z.c24.nc4"


# --- The spec ------------------------------------------------------------------------------------------

def test_the_spec_covers_one_segment_of_the_run():
    cfg = config({**TWO_DAYS, "end": "2019-03-01"})
    second = render(cfg, segment_index=2, attempt=3, restart_uri=OUTPUT_URI + "/Restarts/x.nc4")
    assert second["period"] == {"start": "2019-02-01T00:00:00", "end": "2019-03-01T00:00:00"}
    assert second["run"] == {"start": "2019-01-01T00:00:00", "end": "2019-03-01T00:00:00"}
    assert second["segment"] == {"index": 2, "count": 2} and second["attempt"] == 3
    assert second["geoschem_config"]["simulation"]["start_date"] == [20190201, 0]
    assert second["restart"] == {"uri": OUTPUT_URI + "/Restarts/x.nc4"}
    assert second["io"]["report_uri"] == OUTPUT_URI + "/reports/s002-a3/"


def test_a_segment_outside_the_run_is_refused():
    with pytest.raises(ValueError):
        render(config(TWO_DAYS), segment_index=2)


def test_the_restart_collection_is_always_written_at_the_end():
    rendered = render(config({**TWO_DAYS, "outputs": {}}))
    assert rendered["history"]["collections"] == [
        {"name": "Restart", "frequency": "End", "duration": "End", "mode": "instantaneous",
         "fields": rendered["history"]["collections"][0]["fields"]}]


@pytest.mark.parametrize(("frequency", "interval"), [
    ("hourly", "00000000 010000"), ("3-hourly", "00000000 030000"), ("6-hourly", "00000000 060000"),
    ("daily", "00000001 000000"), ("monthly", "00000100 000000"), ("end", "End")])
def test_output_frequencies_use_history_rc_intervals(frequency, interval):
    rendered = render(config({**TWO_DAYS, "outputs": {"SpeciesConc": {"frequency": frequency, "duration": "end"}}}))
    assert rendered["history"]["collections"][1]["frequency"] == interval


def test_classic_uses_every_core_as_an_openmp_thread():
    rendered = render(config({**TWO_DAYS, "compute": {"cores_per_node": 16}}))
    assert rendered["compute"]["threads"] == 16 and rendered["gchp"] is None


def test_nested_runs_get_a_buffer_zone_and_no_half_polar_boxes():
    cfg = config({"simulation": "fullchem", "resolution": "0.5x0.625", "domain": "EU",
                  "start": "2019-07-01", "end": "2019-07-02"})
    grid = render(cfg)["geoschem_config"]["grid"]
    assert grid["nested_grid_simulation"] == {"activate": True, "buffer_zone_NSEW": [3, 3, 3, 3]}
    assert grid["latitude"] == {"range": [30.0, 70.0], "half_size_polar_boxes": False}
    assert grid["resolution"] == "0.5x0.625"


def test_modele_native_grid_puts_the_date_line_on_an_edge():
    cfg = config({"simulation": "TransportTracers", "met": "ModelE2.1", "scenario": "HIST", "resolution": "2x2.5"})
    grid = render(cfg)["geoschem_config"]["grid"]
    assert grid["longitude"]["center_at_180"] is False and grid["latitude"]["half_size_polar_boxes"] is False
    assert render(cfg)["met"] == {"name": "ModelE2.1", "scenario": "HIST"}


def test_tomas_turns_off_the_non_local_pbl():
    cfg = config({"simulation": "fullchem", "options": ["TOMAS15"]})
    assert render(cfg)["geoschem_config"]["operations"]["pbl_mixing"]["use_non_local_pbl"] is False


def test_gchp_settings_fix_the_decomposition_and_stretch():
    cfg = config({**TWO_DAYS, "model": "gchp", "resolution": "C90", "compute": {"nodes": 2, "cores_per_node": 48},
                  "stretch": {"factor": 2.0, "target_lat": 40.0, "target_lon": -100.0}})
    settings = render(cfg)["gchp"]["setCommonRunSettings"]
    assert (settings["TOTAL_CORES"], settings["NX"], settings["NY"]) == (96, 4, 24)
    assert (settings["STRETCH_GRID"], settings["TARGET_LON"]) == ("ON", 260.0)
    assert settings["Run_Duration"] == "00000002 000000"
    assert render(cfg)["compute"]["threads"] == 1


@pytest.mark.parametrize(("start", "end", "duration"), [
    (datetime(2019, 1, 1), datetime(2019, 1, 3), "00000002 000000"),
    (datetime(2019, 1, 1), datetime(2019, 2, 1), "00000100 000000"),
    (datetime(2019, 1, 1), datetime(2020, 2, 10, 6), "00010109 060000"),
    (datetime(2019, 1, 15), datetime(2019, 2, 1), "00000017 000000"),
])
def test_mapl_durations_count_calendar_months_then_days(start, end, duration):
    assert spec.mapl_duration(start, end) == duration


# --- Text files ----------------------------------------------------------------------------------------

def test_geoschem_config_yml_reads_back_as_the_spec_values():
    cfg = config({"simulation": "fullchem", "resolution": "0.5x0.625", "domain": "NA", "levels": 47,
                  "start": "2019-07-01 06:00", "end": "2019-07-02"})
    rendered = render(cfg)
    text = rundir.render_geoschem_config(rendered)
    assert yaml.safe_load(text) == rendered["geoschem_config"]
    assert "start_date: [20190701, 60000]" in text and "end_date: [20190702, 000000]" in text
    assert "  - 'NO'" in text  # quoted, or YAML would read the species as false


def test_history_rc_for_classic_lists_every_collection():
    text = rundir.render_history(render(config({**TWO_DAYS, "outputs": {"StateMet": "monthly"}})))
    assert "COLLECTIONS: 'Restart',\n             'StateMet',\n::" in text
    assert "StateMet.frequency:         00000100 000000" in text
    assert "Restart.frequency:          'End'," in text


def test_history_rc_for_gchp_leaves_the_restart_to_the_checkpoint():
    cfg = config({**TWO_DAYS, "model": "gchp", "resolution": "C24",
                  "outputs": {"SpeciesConc": "monthly", "StateMet": {"frequency": "end"}}})
    text = rundir.render_history(render(cfg))
    assert "'Restart'" not in text
    assert "SpeciesConc.monthly:        1" in text and "SpeciesConc.frequency" not in text
    assert "StateMet.frequency:         480000" in text
