"""Parsing and validating the researcher's configuration: every rule, with its field."""

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from simulations import catalog
from simulations.config import (ConfigInvalid, FieldError, RunConfig, config_to_dict, default_name,
                                parse_config)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CLASSIC = {"simulation": "TransportTracers", "start": "2019-01-01", "end": "2019-01-03"}
GCHP = {**CLASSIC, "model": "gchp", "resolution": "C24"}
FULLCHEM_HALF = {"simulation": "fullchem", "resolution": "0.5x0.625", "start": "2019-07-01", "end": "2019-07-03"}
FP_QUARTER = {"simulation": "fullchem", "met": "GEOSFP", "resolution": "0.25x0.3125",
              "start": "2019-07-01", "end": "2019-07-03"}
MODELE = {"simulation": "fullchem", "met": "ModelE2.1", "scenario": "SSP245", "levels": 40,
          "start": "2040-07-01", "end": "2040-07-03"}


def errors_of(raw) -> list[FieldError]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(raw)
    return caught.value.errors


# --- The examples ----------------------------------------------------------------------------

def test_the_briefs_two_day_file_parses_as_it_stands():
    text = """
name: TransportTracers 4x5, two days
model: classic
simulation: TransportTracers
met: MERRA2
resolution: 4x5
levels: 72
start: 2019-01-01
end: 2019-01-03
outputs:
  SpeciesConc: {frequency: daily}
"""
    cfg = parse_config(yaml.safe_load(text))
    assert cfg.start == datetime(2019, 1, 1) and cfg.end == datetime(2019, 1, 3)
    assert cfg == parse_config(yaml.safe_load((EXAMPLES / "demo-transport-tracers-4x5.yml").read_text()))


@pytest.mark.parametrize("filename", ["demo-transport-tracers-4x5.yml", "demo-gchp-c24.yml"])
def test_the_demo_examples_parse_and_the_demo_model_accepts_them(filename):
    cfg = parse_config(yaml.safe_load((EXAMPLES / filename).read_text()))
    assert catalog.demo_problems(cfg) == []


def test_the_gchp_example_runs_six_cores_at_c24():
    cfg = parse_config(yaml.safe_load((EXAMPLES / "demo-gchp-c24.yml").read_text()))
    assert (cfg.model, cfg.resolution, cfg.compute.total_cores) == ("gchp", "C24", 6)


def test_the_invalid_example_reports_every_bad_field_at_once():
    errors = errors_of(yaml.safe_load((EXAMPLES / "invalid.yml").read_text()))
    assert [e.field for e in errors] == [
        "reslution", "resolution", "levels", "end", "outputs.SpeciesConc.frequency", "outputs.Restart",
        "compute.capacity", "compute.nodes"]
    assert errors[0].message == "unknown key 'reslution'; did you mean 'resolution'?"


# --- Defaults and normal form ---------------------------------------------------------------------

def test_it_fills_sensible_defaults():
    cfg = parse_config({"simulation": "TransportTracers"})
    assert (cfg.model, cfg.met, cfg.resolution, cfg.domain, cfg.levels) == ("classic", "MERRA2", "4x5", "global", 72)
    assert (cfg.start, cfg.end) == (datetime(2019, 1, 1), datetime(2019, 2, 1))
    assert cfg.name == "gc_4x5_merra2_TransportTracers"
    assert cfg.compute.nodes == 1 and cfg.compute.cores_per_node == 1 and cfg.compute.capacity == "on-demand"
    assert cfg.compute.instance_type is None and cfg.segment_days is None and cfg.stretch is None
    assert (cfg.transport_timestep_s, cfg.chemistry_timestep_s) == (600, 1200)


def test_gchp_defaults_to_six_cores_on_one_node_at_c24():
    cfg = parse_config({"model": "gchp", "simulation": "fullchem"})
    assert (cfg.resolution, cfg.compute.nodes, cfg.compute.cores_per_node) == ("C24", 1, 6)
    assert cfg.name == "gchp_c24_merra2_fullchem"


def test_short_runs_default_to_daily_species_output_and_long_ones_to_monthly():
    short = parse_config({**CLASSIC, "end": "2019-02-01"})
    long = parse_config({**CLASSIC, "end": "2019-02-02"})
    assert [(o.collection, o.frequency, o.duration) for o in short.outputs] == [("SpeciesConc", "daily", "daily")]
    assert [(o.frequency, o.duration) for o in long.outputs] == [("monthly", "monthly")]


def test_one_given_date_sets_the_other_a_month_away():
    assert parse_config({"simulation": "fullchem", "start": "2019-03-15"}).end == datetime(2019, 4, 15)
    assert parse_config({"simulation": "fullchem", "end": "2019-03-15"}).start == datetime(2019, 2, 15)


def test_modele_defaults_to_40_levels_and_a_date_within_the_scenario():
    cfg = parse_config({"simulation": "fullchem", "met": "ModelE2.1", "scenario": "HIST"})
    assert cfg.levels == 40 and cfg.start == datetime(2001, 7, 1)


@pytest.mark.parametrize(("given", "expected"), [
    ({"met": "MERRA-2"}, {"met": "MERRA2"}),
    ({"met": "geos-fp", "resolution": "4.0x5.0"}, {"met": "GEOSFP", "resolution": "4x5"}),
    ({"resolution": "2x25"}, {"resolution": "2x2.5"}),
    ({"model": "GCHP", "resolution": "c48"}, {"model": "gchp", "resolution": "C48"}),
    ({"simulation": "transporttracers"}, {"simulation": "TransportTracers"}),
    ({"outputs": {"SpeciesConc": "HOURLY"}}, {"outputs": ("hourly", "daily")}),
    ({"compute": {"capacity": "OnDemand"}}, {"capacity": "on-demand"}),
])
def test_it_accepts_common_spellings(given, expected):
    cfg = parse_config({**CLASSIC, **given})
    for key, value in expected.items():
        if key == "outputs":
            assert (cfg.outputs[0].frequency, cfg.outputs[0].duration) == value
        elif key == "capacity":
            assert cfg.compute.capacity == value
        else:
            assert getattr(cfg, key) == value


@pytest.mark.parametrize(("value", "expected"), [
    (date(2019, 1, 1), datetime(2019, 1, 1)),
    (datetime(2019, 1, 1, 6), datetime(2019, 1, 1, 6)),
    (datetime(2019, 1, 1, 6, tzinfo=timezone.utc), datetime(2019, 1, 1, 6)),
    ("2019-01-01 06:30", datetime(2019, 1, 1, 6, 30)),
    ("2019-01-01T06:30:15", datetime(2019, 1, 1, 6, 30, 15)),
])
def test_it_reads_dates_datetimes_and_strings(value, expected):
    assert parse_config({**CLASSIC, "start": value}).start == expected


@pytest.mark.parametrize("domain", [
    {"custom": {"lon": [-100, -80], "lat": [30, 45]}},
    {"lon": [-100, -80], "lat": [30, 45]},
])
def test_it_accepts_both_forms_of_a_custom_box(domain):
    cfg = parse_config({**FULLCHEM_HALF, "domain": domain})
    assert (cfg.domain, cfg.lon_range, cfg.lat_range) == ("custom", (-100.0, -80.0), (30.0, 45.0))
    assert cfg.nested and cfg.name == "gc_05x0625_CU_merra2_fullchem"


def test_a_region_takes_its_box_from_the_catalog():
    cfg = parse_config({**FULLCHEM_HALF, "domain": "na", "levels": 47})
    assert (cfg.domain, cfg.lon_range, cfg.lat_range) == ("NA", (-140.0, -40.0), (10.0, 70.0))
    assert cfg.name == "gc_05x0625_NA_47L_merra2_fullchem"


@pytest.mark.parametrize(("raw", "name"), [
    ({**FULLCHEM_HALF, "resolution": "4x5", "options": ["benchmark"]}, "gc_4x5_merra2_fullchem_benchmark"),
    ({**FULLCHEM_HALF, "options": ["Standard"], "resolution": "2x2.5"}, "gc_2x25_merra2_fullchem"),
    ({**FP_QUARTER, "simulation": "carbon", "options": ["CH4"], "domain": "EU"},
     "gc_025x03125_EU_geosfp_carbon_CH4"),
    ({**MODELE}, "gc_4x5_ModelE2.1_fullchem"),
    ({**GCHP, "met": "GEOSIT"}, "gchp_c24_geosit_TransportTracers"),
])
def test_default_name_follows_geoschem_run_directory_names(raw, name):
    cfg = parse_config(raw)
    assert cfg.name == name == default_name(cfg)


@pytest.mark.parametrize(("raw", "timesteps"), [
    ({**FULLCHEM_HALF, "resolution": "4x5", "options": ["TOMAS15"]}, (1800, 3600)),
    ({**FULLCHEM_HALF}, (300, 600)),
    ({**FP_QUARTER, "resolution": "0.125x0.15625", "domain": "NA"}, (150, 300)),
    ({**GCHP, "resolution": "C90", "stretch": {"factor": 2.0, "target_lat": 40, "target_lon": -100}}, (300, 600)),
])
def test_it_derives_the_timesteps(raw, timesteps):
    cfg = parse_config(raw)
    assert (cfg.transport_timestep_s, cfg.chemistry_timestep_s) == timesteps


ROUND_TRIP = [
    CLASSIC,
    {**FULLCHEM_HALF, "domain": "NA", "levels": 47, "options": ["complexSOA_SVPOA"], "segment_days": 10,
     "outputs": {"SpeciesConc": {"frequency": "hourly", "duration": "daily", "mode": "instantaneous"},
                 "AerosolMass": "monthly"}},
    {**FULLCHEM_HALF, "domain": {"lon": [-100.5, -80], "lat": [30, 45.25]},
     "compute": {"instance_type": "c7i.16xlarge", "capacity": "spot", "cores_per_node": 32}},
    MODELE,
    {**GCHP, "resolution": "C90", "compute": {"nodes": 2, "cores_per_node": 48},
     "stretch": {"factor": 2.5, "target_lat": 40, "target_lon": -100}},
]


@pytest.mark.parametrize("raw", ROUND_TRIP)
def test_the_normal_form_parses_back_to_the_same_config(raw):
    cfg = parse_config(raw)
    assert isinstance(cfg, RunConfig)
    assert parse_config(config_to_dict(cfg)) == cfg
    assert parse_config(yaml.safe_load(yaml.safe_dump(config_to_dict(cfg)))) == cfg


def test_the_config_holds_tuples_not_lists():
    cfg = parse_config({**FULLCHEM_HALF, "options": ["APM"]})
    assert isinstance(cfg.options, tuple) and isinstance(cfg.outputs, tuple) and isinstance(cfg.lon_range, tuple)


def test_geosfp_runs_may_end_or_start_on_the_convection_change():
    parse_config({**FP_QUARTER, "start": "2020-05-01", "end": "2020-06-01"})
    parse_config({**FP_QUARTER, "start": "2020-06-01", "end": "2020-07-01"})


def test_a_modele_run_may_end_on_the_first_day_after_the_scenario_years():
    parse_config({**MODELE, "start": "2049-12-01", "end": "2050-01-01"})


def test_multi_node_gchp_may_use_spot_only_on_one_node():
    assert parse_config({**GCHP, "compute": {"capacity": "spot", "cores_per_node": 24}}).compute.capacity == "spot"


# --- Every rule, with the field it reports -------------------------------------------------------------

RULES = [
    # (id, raw configuration, field, words the message contains)
    ("unknown key", {**CLASSIC, "reslution": "4x5"}, "reslution", "did you mean 'resolution'?"),
    ("unknown compute key", {**CLASSIC, "compute": {"cpus": 4}}, "compute.cpus", "unknown key 'cpus'"),
    ("unknown stretch key", {**GCHP, "stretch": {"factor": 2, "target_lat": 0, "target_lon": 0, "x": 1}},
     "stretch.x", "unknown key"),
    ("unknown output key", {**CLASSIC, "outputs": {"SpeciesConc": {"frequency": "daily", "freq": 1}}},
     "outputs.SpeciesConc.freq", "unknown key"),
    ("unknown box key", {**FULLCHEM_HALF, "domain": {"custom": {"lon": [0, 10], "lat": [0, 10], "z": 1}}},
     "domain.custom.z", "unknown key"),
    ("bad model", {**CLASSIC, "model": "wrf"}, "model", "classic (GEOS-Chem Classic) or gchp"),
    ("missing simulation", {"start": "2019-01-01"}, "simulation", "choose a simulation"),
    ("unknown simulation", {**CLASSIC, "simulation": "fulchem"}, "simulation", "did you mean 'fullchem'?"),
    ("simulation not in gchp", {**GCHP, "simulation": "Hg"}, "simulation", "GCHP 14.7 does not offer the Hg"),
    ("retired simulation", {**CLASSIC, "simulation": "CH4"}, "simulation", "retired in GEOS-Chem 14.7.0"),
    ("options not a list", {**FULLCHEM_HALF, "options": 5}, "options", "list of option names"),
    ("options where none exist", {**CLASSIC, "options": ["benchmark"]}, "options", "has no extra options"),
    ("unknown option", {**FULLCHEM_HALF, "options": ["complexsoa_x"]}, "options", "unknown fullchem option"),
    ("two options", {**FULLCHEM_HALF, "options": ["APM", "RRTMG"]}, "options", "one extra option at a time"),
    ("pops species missing", {**FULLCHEM_HALF, "simulation": "POPs"}, "options", "needs one of BaP, PHE, PYR"),
    ("unknown met", {**CLASSIC, "met": "ERA5"}, "met", "unknown meteorology"),
    ("modele in gchp", {**GCHP, "met": "ModelE2.1"}, "met", "available for GEOS-Chem Classic only"),
    ("scenario without modele", {**CLASSIC, "scenario": "SSP245"}, "scenario", "only to GISS ModelE2.1"),
    ("modele without scenario", {**MODELE, "scenario": None}, "scenario", "needs a scenario"),
    ("unknown scenario", {**MODELE, "scenario": "RCP85"}, "scenario", "unknown scenario"),
    ("unknown resolution", {**CLASSIC, "resolution": "1x1"}, "resolution", "unknown resolution"),
    ("resolution not text", {**CLASSIC, "resolution": 4}, "resolution", "unknown resolution"),
    ("cubed sphere in classic", {**CLASSIC, "resolution": "C24"}, "resolution", "C24 is a GCHP cubed-sphere"),
    ("lat-lon in gchp", {**GCHP, "resolution": "4x5"}, "resolution", "GCHP runs on cubed-sphere grids"),
    ("unoffered cubed sphere", {**GCHP, "resolution": "C100"}, "resolution", "choose a GCHP resolution"),
    ("quarter degree with merra2", {**FULLCHEM_HALF, "resolution": "0.25x0.3125"}, "resolution",
     "0.25x0.3125 is only available with GEOS-FP or GISS ModelE2.1 (GCAP 2.0) meteorology"),
    ("eighth degree with merra2", {**FULLCHEM_HALF, "resolution": "0.125x0.15625"}, "resolution",
     "0.125x0.15625 is only available with GEOS-FP meteorology"),
    ("geosit half degree fullchem", {**FULLCHEM_HALF, "met": "GEOSIT"}, "resolution",
     "GEOS-IT at 0.5x0.625 is only available for the TransportTracers simulation"),
    ("domain not text", {**FULLCHEM_HALF, "domain": 5}, "domain", "domain must be global"),
    ("bare custom", {**FULLCHEM_HALF, "domain": "custom"}, "domain", "{custom: {lon: [W, E], lat: [S, N]}}"),
    ("unknown region", {**FULLCHEM_HALF, "domain": "XX"}, "domain", "unknown domain 'XX'"),
    ("region at coarse grid", {**CLASSIC, "domain": "NA"}, "domain", "nested domains exist only at"),
    ("region in gchp", {**GCHP, "domain": "NA"}, "domain", "GCHP always runs on the whole globe"),
    ("region with geosit", {**CLASSIC, "met": "GEOSIT", "resolution": "0.5x0.625", "domain": "NA"}, "domain",
     "GEOS-IT at 0.5x0.625 runs only globally"),
    ("region not at resolution", {**FULLCHEM_HALF, "domain": "ME"}, "domain",
     "the ME nested domain is not available at 0.5x0.625; choose one of global, AS, EU, NA, custom"),
    ("region without a known box", {**FP_QUARTER, "domain": "RU"}, "domain",
     "boundaries of the RU nested domain at 0.25x0.3125 are not in the platform's catalog yet"),
    ("custom box at coarse grid", {**CLASSIC, "domain": {"lon": [0, 10], "lat": [0, 10]}}, "domain",
     "nested domains exist only at"),
    ("custom box not a mapping", {**FULLCHEM_HALF, "domain": {"custom": [0, 10]}}, "domain.custom",
     "{lon: [W, E], lat: [S, N]}"),
    ("custom lon not numbers", {**FULLCHEM_HALF, "domain": {"custom": {"lon": "west", "lat": [0, 10]}}},
     "domain.custom.lon", "give two numbers [west, east]"),
    ("custom lon missing", {**FULLCHEM_HALF, "domain": {"lat": [0, 10]}}, "domain.lon", "give two numbers"),
    ("custom lon out of range", {**FULLCHEM_HALF, "domain": {"lon": [-200, 10], "lat": [0, 10]}}, "domain.lon",
     "within -180 and 180"),
    ("custom lat reversed", {**FULLCHEM_HALF, "domain": {"lon": [0, 10], "lat": [40, 10]}}, "domain.lat",
     "the south edge must be less than the north edge"),
    ("levels not a number", {**CLASSIC, "levels": "abc"}, "levels", "levels must be a whole number"),
    ("levels as bool", {**CLASSIC, "levels": True}, "levels", "levels must be a whole number"),
    ("levels not offered", {**CLASSIC, "levels": 50}, "levels", "choose 72 (native) or 47 (reduced)"),
    ("modele levels", {**MODELE, "levels": 72}, "levels", "ModelE2.1 meteorology has 40 levels"),
    ("gchp levels", {**GCHP, "levels": 47}, "levels", "GCHP runs on 72 levels"),
    ("start a number", {**CLASSIC, "start": 12}, "start", "start must be a date"),
    ("end not a date", {**CLASSIC, "end": "soon"}, "end", "end must be a date"),
    ("end before start", {**CLASSIC, "end": "2018-12-31"}, "end", "the run must end after it starts"),
    ("end equals start", {**CLASSIC, "end": "2019-01-01"}, "end", "the run must end after it starts"),
    ("before merra2", {**CLASSIC, "start": "1979-12-01"}, "start", "MERRA-2 meteorology starts on 1980-01-01"),
    ("before geosfp", {**FP_QUARTER, "start": "2010-06-01", "end": "2010-07-01"}, "start",
     "GEOS-FP meteorology starts on 2011-01-01"),
    ("before geosit", {**CLASSIC, "met": "GEOSIT", "start": "1997-06-01", "end": "1997-07-01"}, "start",
     "GEOS-IT meteorology starts on 1998-01-01"),
    ("geosfp spans convection change", {**FP_QUARTER, "start": "2020-05-15", "end": "2020-06-15"}, "end",
     "a GEOS-FP run must not span 2020-06-01, when its convection scheme changed; end on or before 2020-06-01 "
     "or start on or after it"),
    ("outside the scenario", {**MODELE, "start": "2030-01-01", "end": "2030-02-01"}, "start",
     "the SSP2-4.5 scenario has meteorology for 2040-2049 and 2090-2099 only"),
    ("past the scenario", {**MODELE, "start": "2049-12-01", "end": "2050-01-02"}, "end",
     "end on or before 2050-01-01"),
    ("outputs not a mapping", {**CLASSIC, "outputs": 5}, "outputs", "map collection names to a frequency"),
    ("outputs a list", {**CLASSIC, "outputs": ["SpeciesConc"]}, "outputs", "map collection names"),
    ("unknown collection", {**CLASSIC, "outputs": {"SpeciesCon": "daily"}}, "outputs.SpeciesCon",
     "did you mean 'SpeciesConc'?"),
    ("collection not for simulation", {**CLASSIC, "outputs": {"AerosolMass": "daily"}}, "outputs.AerosolMass",
     "not available for the TransportTracers simulation"),
    ("restart requested", {**CLASSIC, "outputs": {"Restart": "end"}}, "outputs.Restart", "always written"),
    ("collection name not text", {**CLASSIC, "outputs": {5: "daily"}}, "outputs.5", "collection names are words"),
    ("output spec a list", {**CLASSIC, "outputs": {"SpeciesConc": ["daily"]}}, "outputs.SpeciesConc",
     "give a frequency"),
    ("output frequency missing", {**CLASSIC, "outputs": {"SpeciesConc": {"mode": "instantaneous"}}},
     "outputs.SpeciesConc.frequency", "choose one of hourly"),
    ("output frequency unknown", {**CLASSIC, "outputs": {"SpeciesConc": "weekly"}}, "outputs.SpeciesConc.frequency",
     "(got 'weekly')"),
    ("output duration unknown", {**CLASSIC, "outputs": {"SpeciesConc": {"frequency": "daily", "duration": 2}}},
     "outputs.SpeciesConc.duration", "choose one of"),
    ("output duration shorter", {**CLASSIC, "outputs": {"SpeciesConc": {"frequency": "daily", "duration": "hourly"}}},
     "outputs.SpeciesConc.duration", "a hourly file cannot hold daily output"),
    ("output at end held monthly", {**CLASSIC, "outputs": {"StateMet": {"frequency": "end", "duration": "monthly"}}},
     "outputs.StateMet.duration", "cannot hold end output"),
    ("gchp daily output in monthly files", {**GCHP, "outputs": {"SpeciesConc": {"frequency": "daily",
                                                                                "duration": "monthly"}}},
     "outputs.SpeciesConc.duration", "GCHP writes monthly files only for monthly output"),
    ("output mode unknown", {**CLASSIC, "outputs": {"SpeciesConc": {"frequency": "daily", "mode": "average"}}},
     "outputs.SpeciesConc.mode", "time-averaged, instantaneous"),
    ("compute a list", {**CLASSIC, "compute": []}, "compute", "compute must be a mapping"),
    ("instance type not text", {**CLASSIC, "compute": {"instance_type": 5}}, "compute.instance_type",
     "give an instance type name"),
    ("unknown capacity", {**CLASSIC, "compute": {"capacity": "reserved"}}, "compute.capacity",
     "choose spot or on-demand"),
    ("zero nodes", {**CLASSIC, "compute": {"nodes": 0}}, "compute.nodes", "at least 1"),
    ("nodes as text", {**GCHP, "compute": {"nodes": "2"}}, "compute.nodes", "whole number"),
    ("cores as bool", {**CLASSIC, "compute": {"cores_per_node": True}}, "compute.cores_per_node", "whole number"),
    ("classic on two nodes", {**CLASSIC, "compute": {"nodes": 2}}, "compute.nodes",
     "GEOS-Chem Classic runs on a single node"),
    ("gchp cores not divisible by six", {**GCHP, "compute": {"cores_per_node": 8}}, "compute.cores_per_node",
     "GCHP needs a total number of cores divisible by 6 (you asked for 8)"),
    ("gchp too many cores", {**GCHP, "compute": {"nodes": 2, "cores_per_node": 111}}, "compute.cores_per_node",
     "GCHP at C24 can use at most 216 cores"),
    ("gchp cores that do not split", {**GCHP, "resolution": "C48", "compute": {"nodes": 8, "cores_per_node": 96}},
     "compute.cores_per_node", "cannot split C48 over 768 cores"),
    ("multi-node gchp on spot", {**GCHP, "compute": {"nodes": 2, "cores_per_node": 6, "capacity": "spot"}},
     "compute.capacity", "AWS Batch runs no multi-node jobs on Spot"),
    ("zero segment days", {**CLASSIC, "segment_days": 0}, "segment_days", "at least 1"),
    ("segment days as text", {**CLASSIC, "segment_days": "10"}, "segment_days", "whole number of days"),
    ("stretch in classic", {**CLASSIC, "stretch": {"factor": 2}}, "stretch", "stretched grids are a GCHP feature"),
    ("stretch not a mapping", {**GCHP, "stretch": 2}, "stretch", "stretch must be a mapping"),
    ("stretch factor missing", {**GCHP, "stretch": {"target_lat": 0.0, "target_lon": 0.0}}, "stretch.factor",
     "factor must be a number"),
    ("stretch factor too small", {**GCHP, "stretch": {"factor": 1.0, "target_lat": 0.0, "target_lon": 0.0}},
     "stretch.factor", "at least 1.0001"),
    ("stretch target lat", {**GCHP, "stretch": {"factor": 2, "target_lat": 95, "target_lon": 0}},
     "stretch.target_lat", "within -90 and 90"),
    ("stretch target lon", {**GCHP, "stretch": {"factor": 2, "target_lat": 0, "target_lon": 360}},
     "stretch.target_lon", "within -180 and 360"),
    ("stretch target as text", {**GCHP, "stretch": {"factor": 2, "target_lat": "north", "target_lon": 0}},
     "stretch.target_lat", "must be a number"),
    ("empty name", {**CLASSIC, "name": "  "}, "name", "non-empty text"),
    ("name a number", {**CLASSIC, "name": 5}, "name", "non-empty text"),
    ("name too long", {**CLASSIC, "name": "x" * 201}, "name", "at most 200 characters"),
]


@pytest.mark.parametrize(("raw", "field", "words"), [rule[1:] for rule in RULES], ids=[rule[0] for rule in RULES])
def test_it_reports_each_rule_on_its_field(raw, field, words):
    errors = errors_of(raw)
    assert [e.field for e in errors] == [field], errors
    assert words in errors[0].message


def test_it_rejects_quarter_degree_with_merra2():
    errors = errors_of({**FULLCHEM_HALF, "resolution": "0.25x0.3125", "met": "MERRA2"})
    assert errors == [FieldError("resolution",
                                 "0.25x0.3125 is only available with GEOS-FP or GISS ModelE2.1 (GCAP 2.0) meteorology")]


def test_it_rejects_something_that_is_not_a_mapping():
    assert errors_of(["simulation", "fullchem"]) == [FieldError("", "the configuration must be a mapping of keys to values")]


def test_it_reports_all_problems_not_just_the_first():
    errors = errors_of({"model": "gchp", "simulation": "TransportTracers", "resolution": "C24", "levels": "x",
                        "start": 12, "outputs": 5, "compute": [], "segment_days": -1, "stretch": 2, "colour": 1})
    assert sorted(e.field for e in errors) == sorted(
        ["colour", "levels", "start", "outputs", "compute", "segment_days", "stretch"])


def test_config_invalid_reads_as_a_sentence():
    with pytest.raises(ConfigInvalid, match="levels: choose 72"):
        parse_config({**CLASSIC, "levels": 50})


WRONG_TYPES = [None, 0, -1, 1.5, True, "", "x", [], [1, 2], {}, {"a": 1}, date(2019, 1, 1)]


@pytest.mark.parametrize("key", ["name", "model", "simulation", "options", "met", "scenario", "resolution", "domain",
                                 "levels", "start", "end", "outputs", "compute", "segment_days", "stretch"])
def test_wrong_types_give_field_errors_never_exceptions(key):
    for base in (CLASSIC, GCHP, FULLCHEM_HALF):
        for value in WRONG_TYPES:
            try:
                parse_config({**base, key: value})
            except ConfigInvalid as invalid:
                assert all(isinstance(e, FieldError) and e.message for e in invalid.errors)


@pytest.mark.parametrize("section", ["compute", "stretch", "outputs", "domain"])
def test_wrong_types_inside_sections_give_field_errors(section):
    base = GCHP if section == "stretch" else FULLCHEM_HALF
    inner_keys = {"compute": ["instance_type", "capacity", "nodes", "cores_per_node"],
                  "stretch": ["factor", "target_lat", "target_lon"],
                  "outputs": ["SpeciesConc"], "domain": ["lon", "lat", "custom"]}[section]
    for key in inner_keys:
        for value in WRONG_TYPES:
            try:
                parse_config({**base, section: {key: value}})
            except ConfigInvalid as invalid:
                assert all(e.field.startswith(section) for e in invalid.errors)


def test_null_values_count_as_left_out():
    cfg = parse_config({**CLASSIC, "model": None, "levels": None, "outputs": None,
                        "compute": {"capacity": None, "instance_type": None}})
    assert (cfg.model, cfg.levels, cfg.compute.capacity) == ("classic", 72, "on-demand")
    assert cfg.outputs[0].collection == "SpeciesConc"
