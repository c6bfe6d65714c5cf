"""The run directory the runner prepares: rendered files, restart staging, cap_restart."""

import copy
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml  # only to check that the hand-formatted YAML reads back; the runner never imports it

GOLDEN = Path(__file__).resolve().parents[1] / "simulations" / "golden"

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner.rundir import (  # noqa: E402
    adopt_gchp_checkpoint, cap_restart_text, end_restart_path, gchp_interval, prepare_run_dir,
    read_cap_restart, render_common_run_settings, render_geoschem_config, render_history,
    restart_filename,
)
from runner.spec import check_spec  # noqa: E402
from runner.transport import TransportError  # noqa: E402

GEOSCHEM_CONFIG = {
    "simulation": {"name": "TransportTracers", "start_date": [20190101, 0], "end_date": [20190103, 0],
                   "root_data_dir": "/data/ExtData", "met_field": "MERRA2",
                   "species_database_file": "./species_database.yml", "verbose": False,
                   "use_gcclassic_timers": True},
    "grid": {"resolution": "4.0x5.0", "number_of_levels": 72,
             "longitude": {"range": [-180.0, 180.0], "center_at_180": True},
             "latitude": {"range": [-90.0, 90.0], "half_size_polar_boxes": True},
             "nested_grid_simulation": {"activate": False, "buffer_zone_NSEW": [0, 0, 0, 0]}},
    "timesteps": {"transport_timestep_in_s": 600, "chemistry_timestep_in_s": 1200,
                  "radiation_timestep_in_s": 10800},
    "operations": {"chemistry": {"activate": True},
                   "pbl_mixing": {"activate": True, "use_non_local_pbl": True},
                   "transport": {"activate": True, "transported_species": ["Rn222", "Pb210", "NO", "Be7"]}},
}


def spec_for(model: str, tmp_path: Path, restart_uri=None) -> dict:
    gchp = model == "gchp"
    return {
        "spec_version": 1, "job_name": "gcr-abc-s002-a1",
        "model": {"name": model, "executable": "demo"},
        "grid": {"cs_res": 24 if gchp else None},
        "period": {"start": "2019-01-03T00:00:00", "end": "2019-01-05T00:00:00"},
        "restart": {"uri": restart_uri},
        "geoschem_config": GEOSCHEM_CONFIG,
        "history": {"collections": [{"name": "SpeciesConc", "frequency": "00000001 000000",
                                     "duration": "00000001 000000", "mode": "time-averaged",
                                     "fields": ["SpeciesConcVV_?ALL?"]}]},
        "gchp": {"setCommonRunSettings": {"TOTAL_CORES": 12, "CS_RES": 24, "STRETCH_GRID": "OFF",
                                          "Run_Duration": "00000002 000000",
                                          "Diag_Collections": ["SpeciesConc"]}} if gchp else None,
        "compute": {"nodes": 1, "cores_per_node": 12, "threads": 4},
        "io": {"output_uri": (tmp_path / "out").as_uri(), "report_uri": (tmp_path / "rep").as_uri()},
    }


def config_spec(config: dict) -> dict:
    return {"job_name": "gcr-abc", "model": {"geoschem_version": "14.7.0"}, "geoschem_config": config}


def history_spec(model: str, collections: list, start="2019-01-01T00:00:00", end="2019-01-04T00:00:00") -> dict:
    return {"model": {"name": model}, "period": {"start": start, "end": end},
            "history": {"collections": collections}, "compute": {"cores_per_node": 6}}


GOLDEN_CASES = sorted(p.name[: -len(".spec.json")] for p in GOLDEN.glob("*.spec.json"))


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_the_runner_renders_the_same_files_as_the_platform(case):
    spec = json.loads((GOLDEN / f"{case}.spec.json").read_text())
    assert render_geoschem_config(spec) == (GOLDEN / f"{case}.geoschem_config.yml").read_text()
    assert render_history(spec) == (GOLDEN / f"{case}.HISTORY.rc").read_text()


def test_the_geoschem_config_reads_back_as_the_same_values():
    text = render_geoschem_config(config_spec(GEOSCHEM_CONFIG))
    assert text.startswith("---\n### geoschem_config.yml: written by the GEOS-Chem Cloud Runner\n"
                           "### job gcr-abc, GEOS-Chem 14.7.0\n")
    assert yaml.safe_load(text) == GEOSCHEM_CONFIG


def test_the_geoschem_config_writes_dates_the_way_geoschem_does():
    config = copy.deepcopy(GEOSCHEM_CONFIG)
    config["simulation"]["end_date"] = [20190103, 60000]
    text = render_geoschem_config(config_spec(config))
    assert "  start_date: [20190101, 000000]\n" in text
    # 060000 would read as an octal number in YAML 1.1; GEOS-Chem reads 60000 the same.
    assert "  end_date: [20190103, 60000]\n" in text
    assert "    range: [-180.0, 180.0]\n" in text
    assert "      - Rn222\n" in text
    # YAML 1.1 would read a bare NO as false; GEOS-Chem's template quotes such words too.
    assert "      - 'NO'\n" in text
    assert yaml.safe_load(text)["simulation"]["end_date"] == [20190103, 60000]


def test_the_geoschem_config_quotes_strings_that_would_read_as_something_else():
    config = {"s": {"a": "on", "b": "s3://geos-chem", "c": "", "d": "it's", "e": "12", "f": "null",
                    "g": "2019-01-01", "h": "4.0x5.0", "i": {}}}
    assert yaml.safe_load(render_geoschem_config(config_spec(config))) == config


def test_classic_history_writes_the_restart_collection_to_restarts():
    collections = [{"name": "Restart", "frequency": "End", "duration": "End", "mode": "instantaneous",
                    "fields": ["SpeciesRst_?ALL?", "Met_DELPDRY"]},
                   {"name": "SpeciesConc", "frequency": "00000001 000000", "duration": "00000001 000000",
                    "mode": "time-averaged", "fields": ["SpeciesConcVV_?ALL?"]}]
    text = render_history(history_spec("classic", collections))
    assert "COLLECTIONS: 'Restart',\n             'SpeciesConc',\n::" in text
    assert "  Restart.filename:           './Restarts/GEOSChem.Restart.%y4%m2%d2_%h2%n2z.nc4'," in text
    assert "  Restart.frequency:          'End',\n" in text
    assert ("  Restart.fields:             'SpeciesRst_?ALL?', 'GIGCchem',\n"
            "                              'Met_DELPDRY', 'GIGCchem',\n::") in text
    assert "  SpeciesConc.frequency:      00000001 000000\n" in text
    assert "  SpeciesConc.mode:           'time-averaged'\n" in text


def test_classic_history_gets_a_restart_collection_when_the_spec_has_none():
    text = render_history(history_spec("classic", [{"name": "SpeciesConc"}]))
    assert "COLLECTIONS: 'Restart',\n             'SpeciesConc',\n::" in text
    assert text.count("Restart.filename") == 1
    assert "'SpeciesRst_?ALL?', 'GIGCchem'" in text


def test_gchp_history_uses_hours_and_has_no_restart_collection():
    collections = [
        {"name": "Restart", "frequency": "End", "duration": "End"},
        {"name": "SpeciesConc", "frequency": "00000000 010000", "duration": "00000001 000000",
         "mode": "instantaneous", "fields": ["SpeciesConcVV_?ALL?", "SpeciesConcMND_?ALL?"]},
        {"name": "StateMet", "frequency": "End", "duration": "End", "fields": ["Met_AD"]},
        {"name": "Monthly", "frequency": "00000100 000000", "duration": "00000100 000000", "fields": ["Met_T"]},
    ]
    text = render_history(history_spec("gchp", collections))
    assert text.startswith("EXPID:  OutputDir/GEOSChem\nEXPDSC: GEOS-Chem_devel\nCoresPerNode: 6\nVERSION: 1\n")
    assert "COLLECTIONS: 'SpeciesConc',\n             'StateMet',\n             'Monthly',\n::" in text
    assert "Restart." not in text
    assert "  SpeciesConc.frequency:      010000\n" in text
    assert "  SpeciesConc.duration:       240000\n" in text
    assert "                              'SpeciesConcMND_?ALL?', 'GCHPchem',\n" in text
    assert "  StateMet.frequency:         720000\n" in text  # End = the three-day segment
    assert "  Monthly.monthly:            1\n" in text
    assert "Monthly.frequency" not in text and "Monthly.duration" not in text


START, END = datetime(2019, 1, 1), datetime(2019, 1, 4)


@pytest.mark.parametrize(("interval", "expected"), [
    ("00000000 010000", "010000"),
    ("00000000 030000", "030000"),
    ("00000001 000000", "240000"),
    ("00000007 000000", "1680000"),
    ("00000000 003000", "003000"),
    ("End", "720000"),
    ("00000100 000000", None),
])
def test_gchp_intervals_are_hours_or_the_monthly_switch(interval, expected):
    assert gchp_interval(interval, START, END) == expected


def test_a_gchp_interval_of_a_year_is_refused():
    with pytest.raises(ValueError):
        gchp_interval("00010000 000000", START, END)


def test_common_run_settings_are_shell_assignments_that_bash_can_source():
    text = render_common_run_settings({
        "TOTAL_CORES": 24, "STRETCH_GRID": "OFF", "Run_Duration": "00000001 000000",
        "Diag_Collections": ["SpeciesConc", "StateMet"], "TARGET_LAT": None, "Midrun_Checkpoint": False,
    })
    assert text.startswith("#!/bin/bash\n")
    assert "\nTOTAL_CORES=24\n" in text
    assert "\nRun_Duration='00000001 000000'\n" in text
    assert "\nDiag_Collections=(SpeciesConc StateMet)\n" in text
    assert '\nTARGET_LAT=""\n' in text
    assert "\nMidrun_Checkpoint=OFF\n" in text


def test_common_run_settings_refuse_a_name_that_is_not_a_shell_variable():
    with pytest.raises(ValueError):
        render_common_run_settings({"rm -rf /; X": 1})


@pytest.mark.parametrize(("when", "cs_res", "name"), [
    (datetime(2019, 1, 1), None, "GEOSChem.Restart.20190101_0000z.nc4"),
    (datetime(2019, 7, 1, 6, 30), None, "GEOSChem.Restart.20190701_0630z.nc4"),
    (datetime(2019, 1, 1), 24, "GEOSChem.Restart.20190101_0000z.c24.nc4"),
    (datetime(2020, 2, 29, 12), 180, "GEOSChem.Restart.20200229_1200z.c180.nc4"),
])
def test_restart_names_follow_geoschem(when, cs_res, name):
    assert restart_filename(when, cs_res) == name


def test_cap_restart_round_trips(tmp_path):
    path = tmp_path / "cap_restart"
    path.write_text(cap_restart_text(datetime(2019, 1, 3, 6)))
    assert path.read_text() == "20190103 060000\n"
    assert read_cap_restart(path) == datetime(2019, 1, 3, 6)
    path.write_text("20190105 0\n")  # some tools drop the leading zeros of the time
    assert read_cap_restart(path) == datetime(2019, 1, 5)
    path.write_text("garbage")
    assert read_cap_restart(path) is None
    assert read_cap_restart(tmp_path / "missing") is None


def test_a_classic_run_dir_has_the_spec_the_configs_and_the_staged_restart(tmp_path):
    previous = tmp_path / "prev.nc4"
    previous.write_bytes(b"restart bytes")
    spec = spec_for("classic", tmp_path, restart_uri=previous.as_uri())
    segment = check_spec(spec)
    run_dir = prepare_run_dir(spec, segment, tmp_path / "run")

    root = tmp_path / "run"
    assert json.loads((root / "runspec.json").read_text()) == spec
    assert (root / "geoschem_config.yml").read_text() == render_geoschem_config(spec)
    assert yaml.safe_load((root / "geoschem_config.yml").read_text()) == GEOSCHEM_CONFIG
    assert (root / "HISTORY.rc").read_text() == render_history(spec)
    assert (root / "OutputDir").is_dir() and (root / "Restarts").is_dir()
    assert run_dir.staged_restart == root / "Restarts" / "GEOSChem.Restart.20190103_0000z.nc4"
    assert run_dir.staged_restart.read_bytes() == b"restart bytes"
    assert not (root / "cap_restart").exists()
    assert not (root / "setCommonRunSettings.sh").exists()
    assert end_restart_path(run_dir, segment).name == "GEOSChem.Restart.20190105_0000z.nc4"


def test_a_gchp_run_dir_has_cap_restart_settings_and_a_cube_sized_restart(tmp_path):
    previous = tmp_path / "prev.nc4"
    previous.write_bytes(b"c24 restart")
    spec = spec_for("gchp", tmp_path, restart_uri=str(previous))  # a plain path works too
    run_dir = prepare_run_dir(spec, check_spec(spec), tmp_path / "run")

    root = tmp_path / "run"
    assert (root / "cap_restart").read_text() == "20190103 000000\n"
    assert "\nTOTAL_CORES=12\n" in (root / "setCommonRunSettings.sh").read_text()
    assert run_dir.staged_restart.name == "GEOSChem.Restart.20190103_0000z.c24.nc4"


def test_a_run_dir_without_a_restart_stages_nothing(tmp_path):
    spec = spec_for("classic", tmp_path)
    run_dir = prepare_run_dir(spec, check_spec(spec), tmp_path / "run")
    assert run_dir.staged_restart is None
    assert list((tmp_path / "run" / "Restarts").iterdir()) == []


def test_a_missing_restart_file_stops_the_preparation(tmp_path):
    spec = spec_for("classic", tmp_path, restart_uri=(tmp_path / "nope.nc4").as_uri())
    with pytest.raises(TransportError, match="file not found"):
        prepare_run_dir(spec, check_spec(spec), tmp_path / "run")


def test_the_gchp_checkpoint_is_renamed_to_the_end_restart(tmp_path):
    spec = spec_for("gchp", tmp_path)
    segment = check_spec(spec)
    run_dir = prepare_run_dir(spec, segment, tmp_path / "run")
    (run_dir.restart_dir / "gcchem_internal_checkpoint").write_bytes(b"ckpt")

    assert adopt_gchp_checkpoint(run_dir, segment) is True
    assert (run_dir.restart_dir / "GEOSChem.Restart.20190105_0000z.c24.nc4").read_bytes() == b"ckpt"
    assert not (run_dir.restart_dir / "gcchem_internal_checkpoint").exists()
    assert adopt_gchp_checkpoint(run_dir, segment) is False


def test_an_empty_gchp_checkpoint_is_not_taken_for_a_restart(tmp_path):
    spec = spec_for("gchp", tmp_path)
    segment = check_spec(spec)
    run_dir = prepare_run_dir(spec, segment, tmp_path / "run")
    (run_dir.restart_dir / "gcchem_internal_checkpoint").write_bytes(b"")

    assert adopt_gchp_checkpoint(run_dir, segment) is False
    assert not end_restart_path(run_dir, segment).exists()
