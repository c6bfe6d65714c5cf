"""The figures the results views show: maps, zonal means, profiles, time series, comparisons; cached."""

import json
import os
import shutil

import numpy as np
import pytest

from benchmarks import synthetic_files as synthetic
from results import analysis, figures, indexing, readers, selectors
from results.analysis import Region
from results.readers import ReaderError
from tests.results.test_indexing import _sim_with_outputs

SPECIES = "GEOSChem.SpeciesConc.20190101_0000z.nc4"


def _file(run_dir, name=SPECIES):
    return next(run_dir.rglob(name))


@pytest.mark.parametrize("fixture", ["demo_classic", "demo_nested", "demo_gchp"])
def test_a_map_is_a_bokeh_document_with_its_numbers(fixture, request):
    path = _file(request.getfixturevalue(fixture))
    figure = figures.map_figure(path, "Rn222", level=1, use_cache=False)
    assert json.loads(figure.item)["doc"]["roots"] and figure.payload_bytes == len(figure.item) > 1000
    with readers.Reader(path) as reader:
        field = reader.field("Rn222", level=1)
    shown = analysis.horizontal_slice(field)
    data = figure.data
    assert data["mean"] == pytest.approx(analysis.area_mean(shown.values, shown.geometry.area))
    assert data["units"] == shown.units and data["demo"] is True and data["level"] == 1
    assert data["grid"]["label"] == field.geometry.grid.label


def test_a_large_field_is_reduced_to_screen_size_before_it_is_drawn(tmp_path):
    path = synthetic.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", resolution="0.25x0.3125",
                                   levels=3, species=("O3",))
    figure = figures.map_figure(path, "O3", use_cache=False)
    rows, cols = figure.data["displayed_shape"]
    assert rows <= 361 and cols <= 720
    assert figure.data["grid"]["shape"] == [721, 1152]
    assert figure.payload_bytes < 1_500_000


def test_a_second_look_is_a_cache_read_and_a_changed_file_is_read_again(demo_classic, tmp_path, monkeypatch):
    path = tmp_path / SPECIES
    shutil.copy(_file(demo_classic), path)
    first = figures.map_figure(path, "Rn222")
    opened = []
    real = readers.Reader
    monkeypatch.setattr(readers, "Reader", lambda p: opened.append(p) or real(p))
    assert figures.map_figure(path, "Rn222").data == first.data and opened == []
    os.utime(path, ns=(1, 1))
    figures.map_figure(path, "Rn222")
    assert opened == [path]


def test_a_zonal_mean_and_a_profile_come_from_one_column(demo_gchp):
    path = _file(demo_gchp)
    zonal = figures.zonal_figure(path, "Rn222", use_cache=False)
    assert len(zonal.data["pressure_hpa"]) == 72 and len(zonal.data["lat"]) == 48
    assert zonal.data["values"][0][0] is not None
    profile = figures.profile_figure(path, "Rn222", region=Region.point(40, -100), use_cache=False)
    values = [v for v in profile.data["values"] if v is not None]
    assert len(values) == 72 and values[0] > values[-1]  # radon comes from the ground
    assert "40" in profile.data["where"]


def test_a_series_from_the_files_equals_the_summaries_made_at_indexing(alice, two_days, tmp_path, demo_classic, db):
    sim, job, out = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, [
        "GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190102_0000z.nc4"])
    indexing.outputs_index(job_id=job.id)
    times, values, units = selectors.summary_series(sim, "SpeciesConc", "Rn222", region="global", level=1)
    paths = [selectors.file_path(sim, row) for row in selectors.collection_files(sim, "SpeciesConc")]
    file_times, means, file_units, where, demo = figures.series_values(paths, "Rn222", level=1, region=Region.globe())
    assert file_times == times and file_units == units and demo
    assert np.allclose(means, values, rtol=1e-12)
    figure = figures.series_figure_of(times, values, units, variable="Rn222", where=where, level=1, demo=demo)
    assert len(figure.data["times"]) == 2
    assert selectors.summary_series(sim, "SpeciesConc", "Rn222", region="NA", level=1) is None  # not summarised


def test_two_runs_are_compared_with_statistics_of_the_full_fields(demo_classic):
    ref, dev = _file(demo_classic), _file(demo_classic, "GEOSChem.SpeciesConc.20190102_0000z.nc4")
    figure = figures.comparison_figure(ref, dev, "Rn222", ref_label="day 1", dev_label="day 2", use_cache=False)
    stats = figure.data["statistics"]
    assert stats["n"] == 46 * 72 and stats["mean_bias"] > 0 and -1 <= stats["correlation"] <= 1
    same = figures.comparison_figure(ref, ref, "Rn222", use_cache=False).data["statistics"]
    assert same["mean_bias"] == 0 and same["rmse"] == 0


def test_runs_on_different_grids_are_not_compared(demo_classic, demo_gchp):
    with pytest.raises(ReaderError, match="compare simulations on the same grid"):
        figures.comparison_figure(_file(demo_classic), _file(demo_gchp), "Rn222", use_cache=False)


def test_a_series_refuses_files_on_different_grids(demo_classic, demo_gchp):
    with pytest.raises(ReaderError, match="a time series needs one grid"):
        figures.series_values([_file(demo_classic), _file(demo_gchp)], "Rn222", region=Region.globe())
