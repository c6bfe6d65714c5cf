"""The GEOS-Chem 14.7 option catalog: tables and the rules computed from them."""

from datetime import datetime

import pytest

from simulations import catalog
from simulations.config import FieldError, parse_config

TWO_DAYS = {"simulation": "TransportTracers", "start": "2019-01-01", "end": "2019-01-03"}


def test_the_catalog_describes_geoschem_14_7_0():
    assert catalog.GEOSCHEM_VERSION == "14.7.0"


def test_classic_offers_eight_simulations_and_no_retired_ones():
    sims = catalog.simulations("classic")
    assert set(sims) == {"fullchem", "aerosol", "carbon", "Hg", "POPs", "tagO3", "TransportTracers", "metals"}
    assert not {"CH4", "CO2", "tagCO"} & set(sims)


def test_gchp_offers_four_simulations():
    assert set(catalog.simulations("gchp")) == {"fullchem", "TransportTracers", "carbon", "tagO3"}


def test_pops_requires_one_of_three_species():
    spec = catalog.option_spec("POPs")
    assert spec["choices"] == ("BaP", "PHE", "PYR") and spec["required"]


def test_transport_tracers_has_no_extra_options():
    assert catalog.option_spec("TransportTracers") is None


def test_modele_is_classic_only_with_40_levels():
    assert catalog.met_fields_for("gchp") == ("MERRA2", "GEOSFP", "GEOSIT")
    assert catalog.levels_for("ModelE2.1") == (40,)
    assert catalog.levels_for("MERRA2") == (72, 47)


def test_every_met_field_has_a_first_date_and_open_end():
    for met in catalog.MET_FIELDS:
        first, last = catalog.met_coverage(met)
        assert isinstance(first, datetime) and last is None


def test_scenario_periods_are_half_open_calendar_years():
    assert catalog.scenario_periods("HIST") == (
        (datetime(1851, 1, 1), datetime(1861, 1, 1)), (datetime(2001, 1, 1), datetime(2015, 1, 1)))
    assert catalog.scenario_years_text("SSP245") == "2040-2049 and 2090-2099"


@pytest.mark.parametrize(("resolution", "mets"), [
    ("4x5", ("MERRA2", "GEOSFP", "GEOSIT", "ModelE2.1")),
    ("0.5x0.625", ("MERRA2", "GEOSFP", "GEOSIT", "ModelE2.1")),
    ("0.25x0.3125", ("GEOSFP", "ModelE2.1")),
    ("0.125x0.15625", ("GEOSFP",)),
])
def test_each_grid_lists_the_met_fields_createrundir_offers(resolution, mets):
    assert catalog.mets_for_resolution(resolution) == mets


def test_geosit_half_degree_is_transport_tracers_only():
    assert catalog.met_allows_resolution("GEOSIT", "0.5x0.625", "TransportTracers")
    assert not catalog.met_allows_resolution("GEOSIT", "0.5x0.625", "fullchem")


def test_nested_regions_per_resolution():
    assert catalog.regions_at("0.5x0.625", "MERRA2") == ("AS", "EU", "NA")
    assert catalog.regions_at("0.25x0.3125", "GEOSFP") == ("AS", "EU", "NA", "SA", "AF", "ME", "OC", "RU")
    assert catalog.regions_at("0.125x0.15625", "GEOSFP") == ("AS", "EU", "NA", "SA", "AF")
    assert catalog.regions_at("0.5x0.625", "GEOSIT") == ()
    assert catalog.regions_at("4x5", "MERRA2") == ()


def test_region_boxes_come_from_createrundir():
    assert catalog.region_box("NA", "0.5x0.625") == (-140.0, -40.0, 10.0, 70.0)
    assert catalog.region_box("NA", "0.25x0.3125") == (-130.0, -60.0, 9.75, 60.0)
    assert catalog.region_box("EU", "0.25x0.3125") == (-15.0, 40.0, 32.75, 61.25)
    assert catalog.region_box("AS", "0.5x0.625") == (60.0, 150.0, -11.0, 55.0)


def test_unverified_region_boxes_are_missing_rather_than_guessed():
    assert catalog.region_box("RU", "0.25x0.3125") is None


@pytest.mark.parametrize(("resolution", "options", "expected"), [
    ("4x5", (), (600, 1200)),
    ("2x2.5", (), (600, 1200)),
    ("4x5", ("TOMAS15",), (1800, 3600)),
    ("2x2.5", ("TOMAS40",), (1800, 3600)),
    ("0.5x0.625", ("TOMAS15",), (300, 600)),
    ("0.25x0.3125", (), (300, 600)),
    ("0.125x0.15625", (), (150, 300)),
])
def test_classic_timesteps_follow_createrundir(resolution, options, expected):
    assert catalog.classic_timesteps(resolution, options) == expected


@pytest.mark.parametrize(("cs", "factor", "expected"), [
    (24, None, (600, 1200)), (90, None, (600, 1200)), (180, None, (300, 600)),
    (90, 2.0, (300, 600)), (90, 1.5, (600, 1200)),
])
def test_gchp_timesteps_use_the_effective_stretched_resolution(cs, factor, expected):
    assert catalog.gchp_timesteps(cs, factor) == expected


@pytest.mark.parametrize(("cs", "most"), [
    (24, 216), (48, 864), (180, 12150), (360, 48600), (720, 194400),
    # GEOSCHEM.md (copying the template comment) says 3174, which fails the script's own
    # integer check 90/23 = 3 < 4; the template's example NX=22, NY=132 gives 2904.
    (90, 2904),
])
def test_max_gchp_cores_reproduces_the_decomposition_rule(cs, most):
    assert catalog.max_gchp_cores(cs) == most
    assert catalog.gchp_decomposition(cs, most) is not None
    assert catalog.gchp_decomposition(cs, most + 6) is None


def test_3174_cores_do_not_fit_c90():
    assert catalog.gchp_decomposition(90, 3174) is None


def test_gchp_decomposition_picks_the_most_square_split():
    assert catalog.gchp_decomposition(24, 6) == (1, 6)
    assert catalog.gchp_decomposition(90, 96) == (4, 24)
    assert catalog.gchp_decomposition(24, 216) == (6, 36)


def test_gchp_decomposition_rejects_splits_finer_than_four_cells():
    # The script's own example: 768 cores at C48 trigger the FV3 domain error.
    assert catalog.gchp_decomposition(48, 768) is None
    assert catalog.nearby_gchp_core_counts(48, 768) == (726, 792)


def test_gchp_needs_at_least_six_cores():
    assert "at least 6 cores" in catalog.gchp_cores_problem(None, 0)


def test_gchp_memory_minimums_are_recorded_per_resolution():
    assert catalog.gchp_memory(24) == {"gb_per_node": 32, "min_nodes": 1}
    assert catalog.gchp_memory(90)["min_nodes"] == 2


@pytest.mark.parametrize(("simulation", "resolution", "expected"), [
    ("fullchem", "4x5", (datetime(2019, 7, 1), datetime(2019, 8, 1))),
    ("TransportTracers", "4x5", (datetime(2019, 1, 1), datetime(2019, 2, 1))),
    ("metals", "2x2.5", (datetime(2011, 1, 1), datetime(2011, 2, 1))),
    ("fullchem", "0.125x0.15625", (datetime(2023, 1, 1), datetime(2023, 2, 1))),
])
def test_default_periods_are_one_month_from_the_restart_date(simulation, resolution, expected):
    assert catalog.default_period(simulation, resolution) == expected


def test_modele_default_period_lies_within_the_scenario():
    assert catalog.default_period("fullchem", "4x5", "HIST")[0] == datetime(2001, 7, 1)
    assert catalog.default_period("fullchem", "4x5", "SSP585")[0] == datetime(2040, 7, 1)


def test_add_months_clamps_to_the_end_of_short_months():
    assert catalog.add_months(datetime(2019, 1, 31), 1) == datetime(2019, 2, 28)
    assert catalog.add_months(datetime(2019, 12, 15), 1) == datetime(2020, 1, 15)
    assert catalog.add_months(datetime(2019, 1, 15), -1) == datetime(2018, 12, 15)


def test_geosfp_convection_change_date():
    assert catalog.GEOSFP_CONVECTION_CHANGE == datetime(2020, 6, 1)


def test_collections_depend_on_the_simulation():
    assert "AerosolMass" in catalog.history_collections("classic", "fullchem")
    assert "AerosolMass" not in catalog.history_collections("classic", "TransportTracers")
    assert "RadioNuclide" in catalog.history_collections("classic", "TransportTracers")
    assert "Emissions" in catalog.history_collections("gchp", "TransportTracers")
    assert "Restart" not in catalog.all_history_collections("classic")


def test_every_collection_has_fields():
    for model in catalog.MODELS:
        for collection in catalog.all_history_collections(model):
            assert catalog.collection_fields(collection)


def test_single_species_carbon_advects_that_species():
    assert catalog.transported_species("carbon", ("CO2",)) == ("CO2",)
    assert catalog.transported_species("carbon", ()) == ("CH4", "CO", "CO2", "OCS")
    assert catalog.transported_species("POPs", ("PHE",))[0] == "POPG_PHE"


# --- The demo model ---------------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [
    {},
    {"resolution": "2x2.5"},
    {"resolution": "0.5x0.625", "domain": "NA"},
    {"resolution": "0.5x0.625", "domain": "EU"},
    {"resolution": "0.5x0.625", "domain": {"custom": {"lon": [-100, -80], "lat": [30, 45]}}},
    {"outputs": {"SpeciesConc": "hourly", "StateMet": "daily"}},
    {"model": "gchp", "resolution": "C24"},
    {"model": "gchp", "resolution": "C48"},
])
def test_the_demo_model_accepts_its_grids_and_collections(overrides):
    assert catalog.demo_problems(parse_config({**TWO_DAYS, **overrides})) == []


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"resolution": "0.25x0.3125", "met": "GEOSFP"}, "resolution",
     "the demo model runs only 4x5, 2x2.5 and 0.5x0.625 (nested); choose one of these or use a real GEOS-Chem build"),
    ({"resolution": "0.5x0.625"}, "domain", "only as a nested domain"),
    ({"model": "gchp", "resolution": "C90"}, "resolution", "only at C24 and C48"),
    ({"outputs": {"DryDep": "daily"}}, "outputs.DryDep", "writes only SpeciesConc and StateMet"),
])
def test_the_demo_model_explains_what_it_cannot_run(overrides, field, words):
    problems = catalog.demo_problems(parse_config({**TWO_DAYS, **overrides}))
    assert len(problems) == 1
    assert isinstance(problems[0], FieldError)
    assert problems[0].field == field
    assert words in problems[0].message
