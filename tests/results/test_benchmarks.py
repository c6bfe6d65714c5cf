"""The map and time-series latency benchmarks measure what they say, on small synthetic files.
No assertion on seconds: only that every figure is there, positive, and consistent."""

from datetime import datetime, timedelta

import pytest

from benchmarks import map_latency, synthetic_files, timeseries_latency

MAP_KEYS = {"floor_s", "naive_s", "ours_s", "ours_over_floor", "naive_over_ours", "payload_bytes", "file_bytes",
            "file_grid", "file_shape", "displayed_grid", "displayed_shape", "file_index", "stages", "code"}


@pytest.mark.parametrize("kind", ["classic", "gchp"])
def test_map_latency_reports_every_figure_with_ratios_from_its_times(tmp_path, kind):
    if kind == "classic":
        path = synthetic_files.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", resolution="4x5",
                                             species=("O3",))
        grid, shape = "4x5 global", [46, 72]
    else:
        path = synthetic_files.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", cs=24,
                                          species=("O3",))
        grid, shape = "C24", [6, 24, 24]
    result = map_latency.measure(path, "O3", repeat=1)
    assert MAP_KEYS <= result.keys()
    assert result["variable"] == "SpeciesConcVV_O3" and result["file_index"] == [0, 0]  # the surface, first time
    assert all(result[key] > 0 for key in ("floor_s", "naive_s", "ours_s", "payload_bytes", "file_bytes"))
    assert result["ours_over_floor"] == pytest.approx(result["ours_s"] / result["floor_s"])
    assert result["naive_over_ours"] == pytest.approx(result["naive_s"] / result["ours_s"])
    assert (result["file_grid"], result["file_shape"]) == (grid, shape)
    assert result["displayed_shape"] == shape  # small grids are shown as they are
    assert result["stages"]["profiled_total_s"] > 0 and len(result["stages"]) > 2


def test_map_latency_finds_the_surface_of_a_file_whose_first_level_is_the_top(tmp_path):
    path = synthetic_files.write_gchp(tmp_path / "GEOSChem.Emissions.20190701_0000z.nc4", cs=24, levels=72,
                                      species=("O3",), collection="Emissions")
    result = map_latency.measure(path, "SpeciesConcVV_O3", repeat=1, stages=False)
    assert result["file_index"] == [0, 71] and "stages" not in result


@pytest.mark.django_db
def test_timeseries_latency_compares_ours_xarray_and_the_index_on_the_same_means(tmp_path):
    paths = [synthetic_files.write_classic(tmp_path / f"GEOSChem.SpeciesConc.2019070{d + 1}_0000z.nc4",
                                           resolution="4x5", species=("O3",), times=2,
                                           start=datetime(2019, 7, 1) + timedelta(days=d)) for d in range(2)]
    result = timeseries_latency.measure(paths, "O3", repeat=1)
    assert (result["files"], result["time_steps"], result["level_index"]) == (2, 4, 0)
    assert all(result[key] > 0 for key in ("ours_s", "naive_s", "xarray_level_first_s", "indexing_per_file_s",
                                           "summary_series_s", "payload_bytes"))
    assert result["naive_over_ours"] == pytest.approx(result["naive_s"] / result["ours_s"])
    assert result["ours_over_summary_series"] == pytest.approx(result["ours_s"] / result["summary_series_s"])
    # the synthetic values drift by 5% per time step: agreeing to 1e-5 means the same numbers were averaged
    assert result["max_relative_difference"] < 1e-5 and result["summary_max_relative_difference"] < 1e-5
