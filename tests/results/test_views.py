"""The results pages: a simulation's files and picker, the map / zonal / profile / time-series views,
the comparison of two simulations, the exports, and every bad input answered with a message."""

import csv
import io
import json
import re
import shutil
import tempfile
from html import escape
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from results import figures, indexing, plotting, readers, views
from simulations import services
from simulations.models import Simulation
from tests.results.test_indexing import _sim_with_outputs

pytestmark = pytest.mark.django_db

DAY1 = "GEOSChem.SpeciesConc.20190101_0000z.nc4"
DAY2 = "GEOSChem.SpeciesConc.20190102_0000z.nc4"
MET1 = "GEOSChem.StateMet.20190101_0000z.nc4"
CLASSIC_FILES = [DAY1, DAY2, MET1, "GEOSChem.StateMet.20190102_0000z.nc4", "GEOSChem.Restart.20190103_0000z.nc4"]
GCHP_FILES = [DAY1, "GEOSChem.StateMet.20190101_0000z.nc4", "GEOSChem.Restart.20190102_0000z.c24.nc4"]
NESTED_FILES = ["GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190101_0300z.nc4"]


def indexed_sim(owner, config, tmp_path, run_dir, names, *, name=None):
    """A succeeded simulation whose outputs are `names` from `run_dir`, indexed."""
    if name:
        config = {**config, "name": name}
    sim, job, out = _sim_with_outputs(owner, config, tmp_path, run_dir, names)
    indexing.outputs_index(job_id=job.id)
    Simulation.objects.filter(pk=sim.pk).update(status=Simulation.Status.SUCCEEDED)
    sim.refresh_from_db()
    return sim


@pytest.fixture
def classic(alice, two_days, tmp_path, demo_classic):
    return indexed_sim(alice, two_days, tmp_path, demo_classic, CLASSIC_FILES)


@pytest.fixture
def gchp(alice, two_days, tmp_path, demo_gchp):
    return indexed_sim(alice, two_days, tmp_path, demo_gchp, GCHP_FILES, name="GCHP C24 day")


@pytest.fixture
def nested(alice, two_days, tmp_path, demo_nested):
    names = sorted(p.name for p in demo_nested.rglob("GEOSChem.SpeciesConc.*.nc4"))
    assert names == NESTED_FILES
    return indexed_sim(alice, two_days, tmp_path, demo_nested, names, name="Nested NA")


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def url(name, sim=None, **params):
    base = reverse(f"results:{name}", args=[sim.id] if sim is not None else [])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def href(name, sim=None, **params) -> str:
    """A link to a results URL as the page writes it (HTML-escaped)."""
    return f'href="{escape(url(name, sim, **params))}"'


def text(response) -> str:
    return response.content.decode()


def outputs(sim) -> Path:
    return Path(sim.output_uri.removeprefix("file://"))


def embedded_item(page: str) -> dict:
    """The Bokeh json_item a view page embeds, checked to be embedded by BokehJS from static files."""
    assert 'Bokeh.embed.embed_item(JSON.parse(document.getElementById("figure-item").textContent), "figure")' in page
    assert '<script src="/static/bokeh/js/bokeh.min.js"></script>' in page
    assert not re.search(r"<script[^>]+src=\"https?:", page)  # nothing from a CDN
    item = json.loads(re.search(r'<script id="figure-item" type="application/json">(.*?)</script>', page, re.S)[1])
    assert item["doc"]["roots"] and item["root_id"]
    return item


def options(page: str, name: str) -> list[str]:
    """The visible labels of a <select name=...>'s options."""
    block = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)[1]
    return [re.sub(r"\s+", " ", label).strip() for label in re.findall(r"<option[^>]*>(.*?)</option>", block, re.S)]


def selected(page: str, name: str) -> str:
    block = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)[1]
    return re.search(r'<option value="([^"]*)" selected>', block)[1]


# --- The results page ---------------------------------------------------------------------------------

def test_the_results_page_lists_each_collection_with_its_files_and_downloads(signed_in, classic):
    response = signed_in.get(url("index", classic))
    assert response.status_code == 200
    page = text(response)
    for collection in ("SpeciesConc", "StateMet", "Restart"):
        assert f"<h3>{collection} " in page
    assert page.index("<h3>SpeciesConc") < page.index("<h3>Restart")  # diagnostics first
    assert "2019-01-01 12:00" in page and "4x5 global" in page
    download = reverse("simulations:file", args=[classic.id, "Restarts/GEOSChem.Restart.20190103_0000z.nc4"])
    assert f'href="{download}"' in page
    assert "demo model, not GEOS-Chem" in page


def test_the_results_page_shows_the_chosen_collections_variables_species_first_with_units(signed_in, classic):
    page = text(signed_in.get(url("index", classic, collection="StateMet")))
    variables = re.search(r'<table class="variables">(.*?)</table>', page, re.S)[1]
    assert "Met_T" in variables and "Rn222" not in variables
    page = text(signed_in.get(url("index", classic)))
    variables = re.search(r'<table class="variables">(.*?)</table>', page, re.S)[1]
    names = re.findall(r"<td><code>(\w+)</code></td>", variables)
    species = [n for n in names if n.startswith("SpeciesConcVV_")]
    assert species and names[:len(species)] == species  # species first
    assert "mol mol-1 dry" in variables


def test_the_picker_offers_the_collection_files_variables_time_steps_levels_and_regions(signed_in, classic):
    page = text(signed_in.get(url("index", classic, collection="StateMet", file=MET1)))
    assert options(page, "collection") == ["SpeciesConc", "StateMet", "Restart"]
    assert selected(page, "collection") == "StateMet" and selected(page, "file") == MET1
    assert [o.split(" · ")[1] for o in options(page, "file")] == [MET1, "GEOSChem.StateMet.20190102_0000z.nc4"]
    assert options(page, "time") == ["2019-01-01 06:00", "2019-01-01 12:00", "2019-01-01 18:00", "2019-01-02 00:00"]
    assert options(page, "variable") == ["Met_AD (kg)", "Met_PSC2WET (hPa, 2-D)", "Met_T (K)", "Met_DELPDRY (hPa)"]
    levels = options(signed_in.get(url("index", classic)).content.decode(), "level")
    assert len(levels) == 72 and levels[0].startswith("1 (surface) ≈ 1006 hPa") and "precomputed" in levels[0]
    assert sum("precomputed" in label for label in levels) == 3  # the surface, ~500 and ~200 hPa
    regions = options(page, "region")
    assert regions[:3] == ["the globe", "a point (lat, lon)", "a box (W,E,S,N)"]  # StateMet is not summarised
    assert "North America (NA)" in regions
    assert options(text(signed_in.get(url("index", classic))), "region")[0] == "the globe · precomputed"
    for view in ("map", "zonal", "profile", "timeseries"):
        assert f'formaction="{url(view, classic)}"' in page


def test_a_configured_summary_region_is_offered_as_precomputed(signed_in, classic, settings):
    settings.RESULTS_SUMMARY_REGIONS = ["NA"]
    assert "North America (NA) · precomputed" in options(text(signed_in.get(url("index", classic))), "region")


def test_the_results_page_renders_nested_and_gchp_outputs(signed_in, nested, gchp):
    page = text(signed_in.get(url("index", nested)))
    assert "0.5x0.625 nested, lon -140.312 to -39.6875, lat 9.75 to 70.25" in page
    assert options(page, "file")[1].endswith("GEOSChem.SpeciesConc.20190101_0300z.nc4")
    assert len(options(page, "level")) == 47
    page = text(signed_in.get(url("index", gchp)))
    assert "<td>C24</td>" in page and "Restarts/GEOSChem.Restart.20190102_0000z.c24.nc4" in page
    assert "demo model, not GEOS-Chem" in page


def test_the_results_page_makes_the_same_queries_for_one_file_as_for_many(signed_in, alice, two_days, tmp_path,
                                                                           demo_classic):
    one = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1])
    many = indexed_sim(alice, two_days, tmp_path, demo_classic, CLASSIC_FILES)
    counts = []
    for sim in (one, many):
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(url("index", sim)).status_code == 200
        counts.append(len(queries))
    # session, user, the simulation, its indexed files, the summarised levels of the chosen file
    assert counts == [5, 5]


def test_a_map_and_a_summarised_time_series_make_the_same_queries_however_many_files(
        signed_in, alice, two_days, tmp_path, demo_classic):
    one = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1])
    many = indexed_sim(alice, two_days, tmp_path, demo_classic, CLASSIC_FILES)
    counts = {}
    for sim in (one, many):
        for view, params in (("map", {"file": DAY1, "variable": "Rn222"}),
                             ("timeseries", {"collection": "SpeciesConc", "variable": "Rn222"})):
            with CaptureQueriesContext(connection) as queries:
                assert signed_in.get(url(view, sim, **params)).status_code == 200
            counts.setdefault(view, []).append(len(queries))
    # map: session, user, simulation, the file's row, the collection's rows (for the neighbours);
    # time series: session, user, simulation, the collections, the collection's rows, the summaries
    # (the rows again, then the summaries) and the other summarised levels
    assert counts == {"map": [5, 5], "timeseries": [8, 8]}


def test_a_file_that_could_not_be_read_is_listed_with_the_reason(signed_in, alice, two_days, tmp_path, demo_classic):
    sim, job, out = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, [DAY1, DAY2])
    (out / DAY2).write_bytes((out / DAY2).read_bytes()[:4000])
    indexing.outputs_index(job_id=job.id)
    page = text(signed_in.get(url("index", sim)))
    assert re.search(rf"{DAY2}</code><div class=\"small bad\">could not be read: [^<]*truncated", page)
    assert [o.split(" · ")[1] for o in options(page, "file")] == [DAY1]  # not offered to look at


def test_a_simulation_without_indexed_files_says_so(signed_in, alice, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    response = signed_in.get(url("index", sim))
    assert response.status_code == 200
    assert "No output files of this simulation are indexed yet" in text(response)


def test_an_unknown_collection_is_a_400_with_the_collections_there_are(signed_in, classic):
    response = signed_in.get(url("index", classic, collection="Nope"))
    assert response.status_code == 400
    assert "&#x27;Nope&#x27; is not a collection of this simulation&#x27;s outputs: SpeciesConc, StateMet, Restart" \
        in text(response)


def test_the_detail_page_links_to_the_results_once_files_are_indexed(signed_in, alice, two_days, classic):
    link = href("index", classic)
    assert link in text(signed_in.get(reverse("simulations:detail", args=[classic.id])))
    bare = services.simulation_create(owner=alice, raw_config=two_days)
    assert url("index", bare) not in text(signed_in.get(reverse("simulations:detail", args=[bare.id])))


# --- The views ------------------------------------------------------------------------------------------

def test_a_figure_is_embedded_so_that_nothing_in_its_text_can_end_or_change_the_script():
    item = json.dumps({"title": "O3 </script><script>alert(1)</script> <!-- a & b > c", "n": [1, 2]})
    embedded = views._figure(figures.Figure(item, {}))["figure_json"]
    assert not set("<>&") & set(embedded)
    assert json.loads(embedded) == json.loads(item)


def test_a_map_shows_its_figure_numbers_neighbours_and_exports(signed_in, classic):
    response = signed_in.get(url("map", classic, file=DAY1, variable="Rn222", time=0, level=1))
    assert response.status_code == 200
    page = text(response)
    item = embedded_item(page)
    assert "Rn222" in json.dumps(item)
    with readers.Reader(outputs(classic) / DAY1) as reader:
        values = reader.field("Rn222", level=1).values
    assert f"<dt>Maximum</dt><dd>{values.max():.4g}</dd>" in page
    assert f"<dt>Minimum</dt><dd>{values.min():.4g}</dd>" in page
    assert "<dt>Area-weighted mean</dt>" in page and "<dt>Grid</dt><dd>4x5 global</dd>" in page
    assert "<dt>Level</dt><dd>1 of 72 (≈ 1006 hPa)</dd>" in page
    assert "demo model, not GEOS-Chem" in page
    # the next time step is the next day's file; one level up; no level below the surface
    assert href("map", classic, file=DAY2, variable="Rn222", time=0, level=1) in page
    assert href("map", classic, file=DAY1, variable="Rn222", time=0, level=2) in page
    assert "next time step (2019-01-02 12:00) →" in page and "↑ level 2 (≈ 990 hPa)" in page
    assert "previous time step" not in page and "↓ level" not in page
    assert href("export_csv", classic, of="slice", file=DAY1, variable="Rn222", time=0, level=1) in page
    assert f'href="{reverse("simulations:file", args=[classic.id, DAY1])}"' in page


def test_the_next_time_step_within_a_file_stays_in_that_file(signed_in, classic):
    page = text(signed_in.get(url("map", classic, file=MET1, variable="Met_T", time=1, level=3)))
    assert href("map", classic, file=MET1, variable="Met_T", time=0, level=3) in page
    assert href("map", classic, file=MET1, variable="Met_T", time=2, level=3) in page
    assert href("map", classic, file=MET1, variable="Met_T", time=1, level=2) in page


def test_a_gchp_map_is_drawn_on_its_cube(signed_in, gchp):
    page = text(signed_in.get(url("map", gchp, file=DAY1, variable="Rn222", level=1)))
    embedded_item(page)
    assert "<dt>Grid</dt><dd>C24</dd>" in page and "reduced from" not in page


def test_a_large_grid_says_it_is_displayed_reduced(signed_in, alice, two_days, tmp_path):
    from benchmarks import synthetic_files as synthetic

    run = tmp_path / "fine"
    run.mkdir()
    synthetic.write_classic(run / "GEOSChem.SpeciesConc.20190701_0000z.nc4", resolution="0.25x0.3125", levels=2,
                            species=("O3",))
    sim = indexed_sim(alice, two_days, tmp_path, run, ["GEOSChem.SpeciesConc.20190701_0000z.nc4"])
    page = text(signed_in.get(url("map", sim, file="GEOSChem.SpeciesConc.20190701_0000z.nc4", variable="O3")))
    assert re.search(r"<dt>Displayed at</dt><dd>[^<]*reduced from 721 x 1152 for the screen</dd>", page)


def test_a_zonal_mean_renders_latitude_against_pressure(signed_in, classic):
    response = signed_in.get(url("zonal", classic, file=DAY2, variable="Pb210"))
    assert response.status_code == 200
    page = text(response)
    assert "Pb210, zonal mean" in page and "<dt>Where</dt><dd>all longitudes</dd>" in page
    assert json.dumps(embedded_item(page)).count("Quad") >= 1


def test_a_profile_at_a_point_names_the_cell_and_lists_its_values(signed_in, classic):
    page = text(signed_in.get(url("profile", classic, file=DAY1, variable="Rn222", region="point", lat=40, lon=-105)))
    embedded_item(page)
    assert "the cell containing 40N 105W (centred at 42N 105W)" in page
    assert "Every value (72)" in page


def test_a_profile_over_a_region_box(signed_in, gchp):
    page = text(signed_in.get(url("profile", gchp, file=DAY1, variable="Rn222", region="box", box="-130,-60,20,55")))
    embedded_item(page)
    assert "cells with centres in lon 130W to 60W, lat 20N to 55N" in page


def test_a_global_time_series_at_a_summarised_level_comes_from_the_index_without_opening_a_file(
        signed_in, classic, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a file was opened")

    monkeypatch.setattr(readers, "Reader", refuse)
    response = signed_in.get(url("timeseries", classic, collection="SpeciesConc", variable="Rn222", level=1))
    assert response.status_code == 200
    page = text(response)
    embedded_item(page)
    assert 'class="source summary"' in page
    assert "precomputed area-weighted means (2 SpeciesConc files, none opened)" in page
    assert "<dt>Time steps</dt><dd>2</dd>" in page and "Every value (2)" in page
    # the other summarised levels are offered as fast too
    assert len(re.findall(r"precomputed: level \d+ \(≈ \d+ hPa\)", page)) == 2


def test_a_time_series_at_a_point_or_an_unsummarised_level_reads_the_files(signed_in, classic, monkeypatch):
    opened = []
    real = readers.Reader
    monkeypatch.setattr(readers, "Reader", lambda path: opened.append(Path(path).name) or real(path))
    page = text(signed_in.get(url("timeseries", classic, collection="SpeciesConc", variable="Rn222", level=1,
                                  region="point", lat=40, lon=-105)))
    assert 'class="source files"' in page and "Read from the 2 SpeciesConc files now" in page
    assert "the index precomputes means over the globe only" in page
    assert opened == [DAY1, DAY2]
    page = text(signed_in.get(url("timeseries", classic, collection="SpeciesConc", variable="Rn222", level=5)))
    assert 'class="source files"' in page and "<dt>Level</dt><dd>5 ≈ 945 hPa</dd>" in page
    assert "the index has no precomputed means at level 5" in page


def test_the_two_paths_of_a_time_series_give_the_same_numbers(signed_in, classic):
    from results import selectors

    fast = selectors.summary_series(classic, "SpeciesConc", "Rn222", region="global", level=1)
    page = text(signed_in.get(url("timeseries", classic, collection="SpeciesConc", variable="Rn222", level=1,
                                  region="box", box="-180,180,-90,90")))
    assert 'class="source files"' in page
    shown = re.findall(r'<td class="num">([^<]+)</td>', page)
    assert shown == [f"{v:.4g}" for v in fast[1]]


def test_a_time_series_of_a_configured_region_is_summarised(signed_in, alice, two_days, tmp_path, demo_classic,
                                                            settings):
    settings.RESULTS_SUMMARY_REGIONS = ["NA"]
    sim = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1, DAY2])
    page = text(signed_in.get(url("timeseries", sim, collection="SpeciesConc", variable="Rn222", region="NA")))
    assert 'class="source summary"' in page and "North America (NA): lon 140W to 40W" in page
    settings.RESULTS_SUMMARY_REGIONS = []
    page = text(signed_in.get(url("timeseries", sim, collection="SpeciesConc", variable="Rn222", region="NA")))
    assert 'class="source files"' in page


def test_each_view_links_to_the_others_with_the_same_choice(signed_in, classic):
    page = text(signed_in.get(url("zonal", classic, file=DAY1, variable="Rn222", time=0, level=4)))
    assert href("map", classic, file=DAY1, variable="Rn222", time=0, level=4) in page
    assert href("timeseries", classic, collection="SpeciesConc", variable="Rn222", level=4) in page


# --- The comparison -------------------------------------------------------------------------------------

def test_two_simulations_compare_in_six_panels_with_statistics(signed_in, alice, two_days, tmp_path, demo_classic):
    ref = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1, DAY2], name="Ref run")
    dev = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1, DAY2], name="Dev run")
    response = signed_in.get(url("compare", ref=ref.id, dev=dev.id, variable="Rn222", time=1, level=1))
    assert response.status_code == 200
    page = text(response)
    item = embedded_item(page)
    assert json.dumps(item).count('"GridPlot"') == 1
    titles = panel_titles(item)
    assert {"Ref: Ref run", "Dev: Dev run", "Dev - Ref, dynamic range", "(Dev - Ref) / Ref, dynamic range"} <= titles
    assert sum("run" in t for t in titles) == 2  # the names once each, on the top two panels
    assert "<th scope=\"row\">Cells compared</th><td class=\"num\">3312</td>" in page
    assert "<th scope=\"row\">Mean bias (Dev − Ref)</th><td class=\"num\">0</td>" in page
    assert f"<code>{DAY2}</code> · 2019-01-02 12:00" in page  # time step 1 of each: the same stamp
    assert "Ref run ·" in " ".join(options(page, "ref")) and "Dev run ·" in " ".join(options(page, "dev"))


def panel_titles(item: dict) -> set[str]:
    """The texts of every Title in a json_item (decoded, so escapes read as their characters)."""
    return {m["attributes"]["text"] for m in plotting.defined_models(item).values()
            if m["name"] == "Title" and "text" in m.get("attributes", {})}


def test_long_names_are_cut_in_the_panels_and_twins_told_apart_by_id(signed_in, alice, two_days, tmp_path,
                                                                     demo_classic):
    name = "Full-chemistry benchmark, July 2019, with the new aerosol scheme"
    ref = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1], name=name)
    dev = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1], name=name)
    page = text(signed_in.get(url("compare", ref=ref.id, dev=dev.id, variable="Rn222")))
    titles = panel_titles(embedded_item(page))
    ref_title = next(t for t in titles if t.startswith("Ref: "))
    dev_title = next(t for t in titles if t.startswith("Dev: "))
    assert ref_title.endswith(f"… ({ref.short_id})") and dev_title.endswith(f"… ({dev.short_id})")
    assert len(ref_title) == len("Ref: ") + 40 and ref_title.startswith("Ref: Full-chemistry benchmark")
    assert f"<a href=\"{reverse('results:index', args=[ref.id])}\">{name}</a>" in page  # whole on the page


def test_the_comparison_picker_lists_only_visible_succeeded_simulations(signed_in, bob, two_days, tmp_path, classic):
    services.simulation_create(owner=bob, raw_config={**two_days, "name": "Bob's secret"})
    response = signed_in.get(url("compare", ref=classic.id))
    assert response.status_code == 200
    labels = options(text(response), "ref")
    assert labels[0] == "choose a simulation" and len(labels) == 2 and labels[1].startswith(classic.name)


def test_simulations_on_different_grids_are_refused_with_the_reason(signed_in, classic, gchp):
    response = signed_in.get(url("compare", ref=classic.id, dev=gchp.id, variable="Rn222"))
    assert response.status_code == 400
    assert "Ref is 4x5 global, Dev is C24: compare simulations on the same grid" in text(response)
    assert 'name="collection"' in text(response)  # the choices stay, to pick again


def test_a_time_one_simulation_lacks_is_refused_and_the_first_steps_compared_otherwise(
        signed_in, alice, two_days, tmp_path, demo_classic):
    ref = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1, DAY2], name="Two days")
    dev = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY2], name="Second day")
    response = signed_in.get(url("compare", ref=ref.id, dev=dev.id, time=0))
    assert response.status_code == 200
    assert "comparing the first time step of each (2019-01-01 12:00 and 2019-01-02 12:00)" in text(response)
    response = signed_in.get(url("compare", ref=dev.id, dev=ref.id, time=0))
    assert response.status_code == 200 and "first time step of each" not in text(response)
    response = signed_in.get(url("compare", ref=ref.id, dev=ref.id, time=5))
    assert response.status_code == 400 and "time step 5 is out of range" in text(response)


def test_comparing_with_an_invisible_or_malformed_simulation_is_refused(signed_in, bob, two_days, classic):
    secret = services.simulation_create(owner=bob, raw_config=two_days)
    assert signed_in.get(url("compare", ref=classic.id, dev=secret.id)).status_code == 404
    response = signed_in.get(url("compare", ref="nope", dev=classic.id))
    assert response.status_code == 400 and "ref must be a simulation id" in text(response)


# --- Bad input: a message and a 400 or 404, never a 500 ------------------------------------------------------

@pytest.mark.parametrize("params, status, message", [
    ({"variable": "Rn222"}, 400, "choose a file"),
    ({"file": DAY1, "variable": "O3"}, 400, f"{DAY1} has no variable &#x27;O3&#x27;; it has SpeciesConcVV_Rn222"),
    ({"file": DAY1}, 400, "choose a variable of"),
    ({"file": DAY1, "variable": "Rn222", "level": 73}, 400,
     "level 73 is out of range: SpeciesConcVV_Rn222 has levels 1 (surface) to 72"),
    ({"file": DAY1, "variable": "Rn222", "level": 0}, 400, "level 0 is out of range"),
    ({"file": DAY1, "variable": "Rn222", "time": 1}, 400,
     f"time step 1 is out of range: {DAY1} has 1 (0 to 0; 2019-01-01 12:00 to 2019-01-01 12:00)"),
    ({"file": DAY1, "variable": "Rn222", "time": "noon"}, 400, "time must be a whole number, not &#x27;noon&#x27;"),
    ({"file": DAY1, "variable": "Rn222", "level": "1.5"}, 400, "level must be a whole number"),
    ({"file": "../../etc/passwd.nc4", "variable": "Rn222"}, 404,
     "&#x27;../../etc/passwd.nc4&#x27; is not one of this simulation&#x27;s output files"),
    ({"file": "/etc/passwd", "variable": "Rn222"}, 404, "is not one of this simulation&#x27;s output files"),
    ({"file": "GEOSChem.Extra.20190101_0000z.nc4", "variable": "Rn222"}, 404,
     "&#x27;GEOSChem.Extra.20190101_0000z.nc4&#x27; is not an indexed output file of this simulation"),
])
def test_a_bad_map_request_gets_its_message(signed_in, classic, params, status, message):
    shutil.copy(outputs(classic) / DAY1, outputs(classic) / "GEOSChem.Extra.20190101_0000z.nc4")  # there, unindexed
    response = signed_in.get(url("map", classic, **params))
    assert response.status_code == status
    assert message in text(response)
    assert 'role="alert"' in text(response) and "figure-item" not in text(response)


@pytest.mark.parametrize("view, params, message", [
    ("profile", {"region": "point", "lat": 95, "lon": 0}, "a point needs a latitude in -90..90"),
    ("profile", {"region": "point", "lat": "north"}, "lat must be a number of degrees"),
    ("profile", {"region": "point", "lat": "nan", "lon": 3}, "lat must be a finite number"),
    ("profile", {"region": "box", "box": "1,2,3"}, "box must be four numbers, west,east,south,north"),
    ("profile", {"region": "box", "box": "-10,10,50,40"}, "a box needs -90 &lt;= south &lt; north &lt;= 90"),
    ("profile", {"region": "Mars"}, "unknown region &#x27;Mars&#x27;: globe, point"),
    ("timeseries", {"region": "box", "box": ""}, "give the box as west,east,south,north"),
    ("timeseries", {"region": "point", "lat": 10}, "give lon (degrees) for a point"),
])
def test_a_bad_region_gets_its_message(signed_in, classic, view, params, message):
    params = {"file": DAY1, "collection": "SpeciesConc", "variable": "Rn222", **params}
    response = signed_in.get(url(view, classic, **params))
    assert response.status_code == 400
    assert message in text(response)


def test_a_point_outside_a_nested_domain_is_refused_with_the_reason(signed_in, nested):
    response = signed_in.get(url("profile", nested, file=NESTED_FILES[0], variable="Rn222", lat=48, lon=2))
    assert response.status_code == 400
    assert ("lies outside the nested domain (0.5x0.625 nested, lon -140.312 to -39.6875, lat 9.75 to 70.25)"
            in text(response))


def test_a_file_indexed_as_unreadable_is_a_404_with_the_reason(signed_in, alice, two_days, tmp_path, demo_classic):
    sim, job, out = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, [DAY1])
    (out / DAY1).write_bytes((out / DAY1).read_bytes()[:4000])
    indexing.outputs_index(job_id=job.id)
    response = signed_in.get(url("map", sim, file=DAY1, variable="Rn222"))
    assert response.status_code == 404
    assert f"{DAY1} could not be read:" in text(response) and "truncated" in text(response)
    response = signed_in.get(url("timeseries", sim, collection="SpeciesConc", variable="Rn222"))
    assert response.status_code == 404 and "none of the 1 SpeciesConc files could be read" in text(response)


def test_a_file_truncated_after_indexing_is_a_400_with_the_reason(signed_in, classic):
    target = outputs(classic) / DAY2
    target.write_bytes(target.read_bytes()[:4000])
    response = signed_in.get(url("map", classic, file=DAY2, variable="Rn222"))
    assert response.status_code == 400
    assert "cannot be read as netCDF" in text(response) and "truncated" in text(response)


def test_a_file_with_unexpected_dimensions_is_listed_unreadable_and_refused(signed_in, alice, two_days, tmp_path):
    import netCDF4

    run = tmp_path / "odd"
    run.mkdir()
    with netCDF4.Dataset(run / "GEOSChem.Odd.20190101_0000z.nc4", "w") as ds:
        ds.createDimension("x", 3)
        ds.createDimension("y", 4)
        ds.createVariable("Foo", "f4", ("y", "x"))[:] = np.ones((4, 3))
    sim = indexed_sim(alice, two_days, tmp_path, run, ["GEOSChem.Odd.20190101_0000z.nc4"])
    page = text(signed_in.get(url("index", sim)))
    assert "could not be read: GEOSChem.Odd.20190101_0000z.nc4 has dimensions x, y: neither GEOS-Chem Classic" in page
    response = signed_in.get(url("map", sim, file="GEOSChem.Odd.20190101_0000z.nc4", variable="Foo"))
    assert response.status_code == 404 and "has dimensions x, y" in text(response)


def test_a_2d_variable_has_a_map_but_no_zonal_mean(signed_in, classic):
    params = {"file": MET1, "variable": "Met_PSC2WET", "time": 0}
    response = signed_in.get(url("map", classic, **params))
    assert response.status_code == 200 and "↑ level" not in text(response) and "<dt>Level</dt>" not in text(response)
    response = signed_in.get(url("zonal", classic, **params))
    assert response.status_code == 400
    assert "Met_PSC2WET is a 2-D field: a zonal mean needs levels; show it as a map" in text(response)


def test_an_unknown_collection_for_a_time_series_is_a_400(signed_in, classic):
    response = signed_in.get(url("timeseries", classic, collection="Nope", variable="Rn222"))
    assert response.status_code == 400
    assert "&#x27;Nope&#x27; is not a collection of this simulation&#x27;s outputs" in text(response)


# --- Exports --------------------------------------------------------------------------------------------

def test_a_slice_exports_as_csv_with_a_row_per_cell(signed_in, classic):
    response = signed_in.get(url("export_csv", classic, of="slice", file=DAY1, variable="Rn222", time=0, level=2))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="GEOSChem.SpeciesConc.20190101_0000z.Rn222.t0.L2.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(text(response))))
    assert rows[0][0] == "# SpeciesConcVV_Rn222 (mol mol-1 dry)" and "(demo model, not GEOS-Chem)" in rows[0][3]
    assert rows[1] == ["lat", "lon", "SpeciesConcVV_Rn222 (mol mol-1 dry)"] and len(rows) == 2 + 46 * 72
    with readers.Reader(outputs(classic) / DAY1) as reader:
        field = reader.field("Rn222", level=2)
    assert float(rows[2 + 10 * 72 + 5][2]) == pytest.approx(field.values[10, 5], rel=1e-5)


def test_a_time_series_exports_as_csv_in_the_files_units(signed_in, classic):
    response = signed_in.get(url("export_csv", classic, of="series", collection="SpeciesConc", variable="Rn222"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(text(response))))
    assert "SpeciesConc Rn222 at level 1 over the globe (demo model, not GEOS-Chem)" in rows[0][0]
    assert rows[1] == ["time", "Rn222 (mol mol-1 dry)"]
    assert [r[0] for r in rows[2:]] == ["2019-01-01T12:00:00", "2019-01-02T12:00:00"]
    from results import selectors

    expected = selectors.summary_series(classic, "SpeciesConc", "Rn222", region="global", level=1)[1]
    assert [float(r[1]) for r in rows[2:]] == pytest.approx(expected, rel=1e-5)


def test_a_netcdf_subset_holds_the_chosen_variables_times_and_box_and_leaves_no_file_behind(signed_in, classic,
                                                                                            tmp_path):
    before = set(Path(tempfile.gettempdir()).glob("gcr-subset-*"))
    response = signed_in.get(url("export_nc", classic, file=MET1, variable="Met_T,Met_AD", time=1) + "&time=3"
                             + "&box=-130,-60,20,55")
    assert response.status_code == 200
    assert 'filename="GEOSChem.StateMet.20190101_0000z.subset.nc"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    response.close()
    assert set(Path(tempfile.gettempdir()).glob("gcr-subset-*")) == before
    (tmp_path / "subset.nc").write_bytes(body)
    with xr.open_dataset(tmp_path / "subset.nc") as ds:
        assert {"Met_T", "Met_AD"} <= set(ds.data_vars) and "Met_PSC2WET" not in ds
        assert [str(t)[:16] for t in ds.time.values] == ["2019-01-01T12:00", "2019-01-02T00:00"]
        assert float(ds.lat.min()) >= 20 and float(ds.lat.max()) <= 55
        assert float(ds.lon.min()) >= -130 and float(ds.lon.max()) <= -60
        assert ds.attrs.get("demo_model") is not None


@pytest.mark.parametrize("params, message", [
    ({"file": DAY1}, "choose at least one variable of"),
    ({"file": DAY1, "variable": "Rn222,O3"}, "has no variable &#x27;O3&#x27;"),
    ({"file": DAY1, "variable": "Rn222", "time": "2"}, "time step 2 is out of range"),
    ({"file": DAY1, "variable": "Rn222", "box": "10,20,30"}, "box must be four numbers"),
    ({"file": DAY1, "variable": "Rn222", "box": "10,11,0,1"}, "holds no grid box of this file"),
])
def test_a_bad_netcdf_export_gets_its_message_and_leaves_no_file(signed_in, classic, params, message):
    before = set(Path(tempfile.gettempdir()).glob("gcr-subset-*"))
    response = signed_in.get(url("export_nc", classic, **params))
    assert response.status_code == 400 and message in text(response)
    assert set(Path(tempfile.gettempdir()).glob("gcr-subset-*")) == before


def test_a_box_cannot_cut_a_cube(signed_in, gchp):
    response = signed_in.get(url("export_nc", gchp, file=DAY1, variable="Rn222", box="-130,-60,20,55"))
    assert response.status_code == 400 and "a lon/lat box can only cut a lat-lon grid" in text(response)


def test_an_export_cannot_reach_outside_the_simulations_outputs(signed_in, classic, tmp_path):
    (tmp_path / "secret.nc4").write_bytes((outputs(classic) / DAY1).read_bytes())
    for name in ("export_nc", "export_csv"):
        for path in ("../secret.nc4", "../../secret.nc4", str(tmp_path / "secret.nc4")):
            response = signed_in.get(url(name, classic, file=path, variable="Rn222"))
            assert response.status_code == 404, (name, path)
            assert "is not one of this simulation&#x27;s output files" in text(response)


def test_an_unknown_csv_kind_is_a_400(signed_in, classic):
    response = signed_in.get(url("export_csv", classic, of="pdf", file=DAY1, variable="Rn222"))
    assert response.status_code == 400 and "of must be slice or series" in text(response)


# --- Access ------------------------------------------------------------------------------------------------

def test_another_users_simulation_is_a_404_on_every_results_page(client, bob, classic):
    client.force_login(bob)
    choice = {"file": DAY1, "variable": "Rn222", "time": 0, "level": 1}
    for name, params in [("index", {}), ("map", choice), ("zonal", choice), ("profile", choice),
                         ("timeseries", {"collection": "SpeciesConc", "variable": "Rn222"}),
                         ("export_csv", choice), ("export_nc", choice)]:
        response = client.get(url(name, classic, **params))
        assert response.status_code == 404, name
        assert b"SpeciesConc" not in response.content
    assert client.get(url("compare", ref=classic.id, dev=classic.id)).status_code == 404
    assert client.get(url("compare", ref=classic.id)).status_code == 404


def test_a_group_member_sees_the_groups_results(client, bob, classic):
    from accounts.models import Membership, ResearchGroup

    group = ResearchGroup.objects.create(name="Lab", slug="lab")
    Membership.objects.create(user=bob, group=group)
    Simulation.objects.filter(pk=classic.pk).update(group=group)
    client.force_login(bob)
    assert client.get(url("map", classic, file=DAY1, variable="Rn222")).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, classic):
    response = client.get(url("map", classic, file=DAY1, variable="Rn222"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
