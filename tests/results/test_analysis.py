"""Analysis on Classic (global and nested) and GCHP fields: regions, units, means, zonal means,
profiles, time series, Ref-vs-Dev differences and statistics, display reduction and colour ranges.

Numbers are checked against hand computations or against the known values of the synthetic files
(benchmarks/synthetic_files.py): mixing ratio = (20 + 10 s) 1e-9 (0.3 + g(lat) (1 + 0.05 t)
(1 + 0.3 cos((2 + s) lon))) (p / 1013.25)^0.7 with g(lat) = exp(-((lat - 40) / 35)^2).
"""

import dataclasses
import math
from datetime import datetime

import numpy as np
import pytest

from benchmarks import synthetic_files as synthetic
from results import analysis, readers, vertical
from results.analysis import AnalysisError, Region
from results.readers import Field, Geometry, GridInfo, ReaderError, VariableInfo


def _out(run_dir, name):
    return next(p for p in run_dir.rglob(name))


def _synthetic_surface(lat, lon, species=0, t=0, pressure=None):
    """The synthetic files' value (mol mol-1) at the surface level's pressure (or `pressure`)."""
    p = vertical.mid_pressures(72)[0] if pressure is None else pressure
    shape = np.exp(-((lat - 40.0) / 35.0) ** 2) * (1 + 0.3 * np.cos(np.deg2rad(lon) * (2 + species)))
    return (20 + 10 * species) * 1e-9 * (0.3 + shape * (1 + 0.05 * t)) * (p / 1013.25) ** 0.7


@pytest.fixture
def classic_file(tmp_path):
    return synthetic.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", times=4)


@pytest.fixture
def gchp_file(tmp_path):
    return synthetic.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", cs=24)


@pytest.fixture
def classic_geometry(demo_classic):
    with readers.Reader(_out(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        return reader.geometry


@pytest.fixture
def nested_geometry(demo_nested):
    with readers.Reader(_out(demo_nested, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        return reader.geometry


@pytest.fixture
def cube_geometry(demo_gchp):
    with readers.Reader(_out(demo_gchp, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        return reader.geometry


def _cell(geometry, mask):
    """(lat, lon) of the one cell a mask selects."""
    lat, lon = geometry.centres()
    assert mask.sum() == 1
    return float(lat[mask][0]), float(lon[mask][0])


# --- Regions ----------------------------------------------------------------------------------------

def test_an_analysis_error_is_a_reader_error():
    assert issubclass(AnalysisError, ReaderError)


def test_a_point_selects_the_latlon_cell_that_contains_it(classic_geometry):
    # 4x5: rows between edges 40 and 44 are centred at 42; columns from -107.5 to -102.5 at -105.
    cells = analysis.region_cells(classic_geometry, Region.point(41.0, -104.0))
    assert cells.count == 1 and _cell(classic_geometry, cells.mask) == (42.0, -105.0)
    assert cells.where == "the cell containing 41N 104W (centred at 42N 105W)"


@pytest.mark.parametrize("lon", [179.0, -181.0, 181.0 - 360.0, 180.0, -180.0, 539.0])
def test_a_point_near_the_date_line_wraps_into_the_grid(classic_geometry, lon):
    # The 4x5 grid starts at -182.5: the first column, centred at -180, spans 177.5E to 177.5W.
    cells = analysis.region_cells(classic_geometry, Region.point(0.5, lon))
    assert _cell(classic_geometry, cells.mask) == (2.0, -180.0)


def test_the_poles_fall_in_the_polar_half_boxes(classic_geometry):
    assert _cell(classic_geometry, analysis.region_cells(classic_geometry, Region.point(90, 0)).mask) == (89.0, 0.0)
    assert _cell(classic_geometry, analysis.region_cells(classic_geometry, Region.point(-90, 0)).mask) == (-89.0, 0.0)


@pytest.mark.parametrize("lat, lon", [(41.0, -104.0), (89.9, 10.0), (-45.0, 179.9), (0.5, -10.3), (35.26, 45.0)])
def test_a_point_on_the_cube_is_the_nearest_centre_by_great_circle_distance(cube_geometry, lat, lon):
    cells = analysis.region_cells(cube_geometry, Region.point(lat, lon))
    lats, lons = np.deg2rad(cube_geometry.lats), np.deg2rad(cube_geometry.lons)
    # Haversine distances to every centre, computed independently of the module.
    a = (np.sin((lats - math.radians(lat)) / 2) ** 2
         + np.cos(lats) * math.cos(math.radians(lat)) * np.sin((lons - math.radians(lon)) / 2) ** 2)
    nearest = np.unravel_index(np.argmin(a), a.shape)
    assert cells.count == 1 and cells.mask[nearest]
    assert cells.where.startswith("the cell nearest ") and cells.where.endswith(f"face {nearest[0] + 1})")


def test_a_point_inside_a_nested_domain_selects_its_cell(nested_geometry):
    cells = analysis.region_cells(nested_geometry, Region.point(40.1, -105.1))
    assert _cell(nested_geometry, cells.mask) == (40.0, -105.0)


def test_a_point_outside_a_nested_domain_is_refused(nested_geometry):
    with pytest.raises(AnalysisError, match=r"the point 40N 10E lies outside the nested domain \(0.5x0.625 nested"):
        analysis.region_cells(nested_geometry, Region.point(40.0, 10.0))
    with pytest.raises(AnalysisError, match="lies outside the nested domain"):
        analysis.region_cells(nested_geometry, Region.point(80.0, -100.0))


def test_a_box_holds_the_cells_whose_centres_fall_inside_it(classic_geometry):
    cells = analysis.region_cells(classic_geometry, Region.box(west=0, east=10, south=0, north=10))
    lat, lon = classic_geometry.centres()
    # Centres at lat 2, 6, 10 and lon 0, 5, 10: nine cells, the edges included.
    assert cells.count == 9
    assert sorted(set(lat[cells.mask])) == [2.0, 6.0, 10.0] and sorted(set(lon[cells.mask])) == [0.0, 5.0, 10.0]
    assert cells.where == "9 cells with centres in lon 0E to 10E, lat 0N to 10N"


def test_a_box_across_the_date_line_on_a_latlon_grid(classic_geometry):
    region = Region.box(west=170, east=-170, south=-10, north=10)
    cells = analysis.region_cells(classic_geometry, region)
    lat, lon = classic_geometry.centres()
    assert sorted(set(lon[cells.mask])) == [-180.0, -175.0, -170.0, 170.0, 175.0]
    assert sorted(set(lat[cells.mask])) == [-10.0, -6.0, -2.0, 2.0, 6.0, 10.0]
    assert cells.count == 30 and region.width == 20
    assert "across the date line" in cells.where


def test_a_box_across_the_date_line_on_the_cube(cube_geometry):
    cells = analysis.region_cells(cube_geometry, Region.box(west=160, east=-165, south=-30, north=30))
    lat, lon = cube_geometry.centres()
    expected = ((lon >= 160) | (lon <= -165)) & (np.abs(lat) <= 30)
    assert cells.count > 0 and np.array_equal(cells.mask, expected)


def test_a_box_from_minus_180_to_180_is_a_whole_latitude_band(classic_geometry, cube_geometry):
    region = Region.box(west=-180, east=180, south=30, north=60)
    assert region.width == 360 and "all longitudes" in region.label
    assert analysis.region_cells(classic_geometry, region).count == 8 * 72  # rows at 30, 34, ..., 58
    lat, _ = cube_geometry.centres()
    assert analysis.region_cells(cube_geometry, region).count == int(((lat >= 30) & (lat <= 60)).sum())


def test_a_box_straddling_a_nested_domain_keeps_the_cells_inside(nested_geometry):
    cells = analysis.region_cells(nested_geometry, Region.box(west=-150, east=-135, south=20, north=21))
    _, lon = nested_geometry.centres()
    assert cells.count == 3 * int(((nested_geometry.lon >= -150) & (nested_geometry.lon <= -135)).sum())
    assert lon[cells.mask].min() == -140.0


def test_a_box_outside_a_nested_domain_is_refused(nested_geometry):
    with pytest.raises(AnalysisError, match="the box lon 0E to 20E, lat 0N to 20N lies outside the nested domain"):
        analysis.region_cells(nested_geometry, Region.box(west=0, east=20, south=0, north=20))


def test_a_box_smaller_than_a_cell_holds_no_cell(classic_geometry, cube_geometry):
    for geometry in (classic_geometry, cube_geometry):
        with pytest.raises(AnalysisError, match="holds no cell centre .* widen it or choose a point"):
            analysis.region_cells(geometry, Region.box(west=1.0, east=1.5, south=0.5, north=0.7))


def test_the_globe_is_every_cell_and_a_nested_domain_says_so(classic_geometry, nested_geometry, cube_geometry):
    assert analysis.region_cells(classic_geometry, Region.globe()).count == 46 * 72
    assert analysis.region_cells(cube_geometry, Region.globe()).count == 6 * 24 * 24
    nested = analysis.region_cells(nested_geometry, Region.globe())
    assert nested.count == 121 * 161 and nested.where.startswith("the whole nested domain (0.5x0.625 nested")


@pytest.mark.parametrize("make, message", [
    (lambda: Region.point(95, 0), "latitude in -90..90"),
    (lambda: Region.box(west=0, east=10, south=20, north=10), "south < north"),
    (lambda: Region.box(west=10, east=10, south=0, north=10), "has no width"),
    (lambda: Region("ocean"), "unknown region kind"),
])
def test_regions_that_mean_nothing_are_refused(make, message):
    with pytest.raises(AnalysisError, match=message):
        make()


# --- Units ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("units, typical, factor, label", [
    ("mol mol-1 dry", 3e-8, 1e9, "ppbv"),      # ozone
    ("mol mol-1 dry", 1.9e-6, 1e9, "ppbv"),    # methane, quoted in ppbv
    ("mol mol-1 dry", 4.1e-4, 1e6, "ppmv"),    # CO2
    ("mol mol-1 dry", 5e-11, 1e12, "pptv"),    # NO at night
    ("mol mol-1", 1e-13, 1e12, "pptv"),        # OH
    ("mol/mol", 2e-8, 1e9, "ppbv"),
    ("v/v", 2e-8, 1e9, "ppbv"),
    ("mol mol-1 dry", 2e-21, 1.0, "mol mol-1 dry"),  # radon: no named unit helps
    ("K", 250.0, 1.0, "K"),
    ("kg m-2 s-1", 1e-12, 1.0, "kg m-2 s-1"),
    ("ppbv", 30.0, 1.0, "ppbv"),
])
def test_display_units_follow_the_magnitude_of_mixing_ratios(units, typical, factor, label):
    values = typical * np.array([0.5, 1.0, 1.5, np.nan])
    assert analysis.display_units(units, values) == (factor, label)


def test_zeros_and_missing_values_do_not_decide_the_unit():
    values = np.concatenate([np.zeros(100), np.full(5, np.nan), np.full(3, 3e-8)])
    assert analysis.display_units("mol mol-1 dry", values) == (1e9, "ppbv")


def test_the_median_decides_not_a_few_large_values():
    values = np.concatenate([np.full(10, 5e-12), [1e-6]])
    assert analysis.display_units("mol mol-1 dry", values) == (1e12, "pptv")


def test_a_field_without_values_is_shown_in_ppbv():
    assert analysis.display_units("mol mol-1 dry", np.full(4, np.nan)) == (1e9, "ppbv")


# --- Slices and area means --------------------------------------------------------------------------

def test_a_horizontal_slice_is_in_display_units(classic_file):
    with readers.Reader(classic_file) as reader:
        field = reader.field("O3")
    shown = analysis.horizontal_slice(field)
    lat, lon = field.geometry.centres()
    assert shown.units == "ppbv" and field.units == "mol mol-1 dry"  # the input is left alone
    assert np.allclose(shown.values, 1e9 * _synthetic_surface(lat, lon), rtol=1e-6)
    assert (shown.time, shown.level, shown.geometry) == (field.time, field.level, field.geometry)


def test_slices_of_the_demo_runs_keep_radon_in_the_files_units(demo_classic, demo_nested, demo_gchp):
    for run in (demo_classic, demo_nested, demo_gchp):
        with readers.Reader(_out(run, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
            field = reader.field("Rn222")
        shown = analysis.horizontal_slice(field)
        assert shown.units == "mol mol-1 dry" and np.array_equal(shown.values, field.values)
        assert shown.values.shape == field.geometry.area.shape


def test_an_area_mean_weights_by_area_and_leaves_out_missing_values():
    values = np.array([[1.0, 3.0], [np.nan, 5.0]])
    area = np.array([[1.0, 1.0], [2.0, 4.0]])
    assert analysis.area_mean(values, area) == pytest.approx((1 + 3 + 20) / 6)
    assert analysis.area_mean(values, area, mask=np.array([[True, False], [True, True]])) == pytest.approx(21 / 5)
    assert math.isnan(analysis.area_mean(values, area, mask=np.array([[False, False], [True, False]])))
    stacked = analysis.area_mean(np.stack([values, 2 * values]), area)
    assert stacked.shape == (2,) and stacked == pytest.approx([4.0, 8.0])


def test_an_area_mean_of_the_wrong_shape_is_refused():
    with pytest.raises(AnalysisError, match="do not end with the grid's shape"):
        analysis.area_mean(np.ones((3, 4)), np.ones((4, 3)))


def test_area_means_weight_by_true_area_on_every_grid(classic_geometry, nested_geometry, cube_geometry):
    # The area mean of sin^2(lat) over a sphere is 1/3; counting cells alike would give about 1/2
    # on a lat-lon grid, whose cells crowd towards the poles.
    for geometry in (classic_geometry, cube_geometry):
        lat, _ = geometry.centres()
        assert analysis.area_mean(np.sin(np.deg2rad(lat)) ** 2, geometry.area) == pytest.approx(1 / 3, abs=2e-3)
    # Over the nested box, cos(lat) weights: the mean latitude lies south of the box's middle (40).
    lat, _ = nested_geometry.centres()
    expected = np.sum(lat * np.cos(np.deg2rad(lat))) / np.sum(np.cos(np.deg2rad(lat)))
    assert analysis.area_mean(lat, nested_geometry.area) == pytest.approx(expected, rel=1e-4)
    assert expected < 39


# --- Zonal means ------------------------------------------------------------------------------------

def test_a_latlon_zonal_mean_averages_each_row(classic_file):
    with readers.Reader(classic_file) as reader:
        column, geometry, pressure = reader.column("O3"), reader.geometry, reader.pressure_mid(72)
    zonal = analysis.zonal_mean(column, geometry, pressure, "mol mol-1 dry")
    # The zonal wave cos(2 lon) sums to zero over the 72 columns: what is left is g(lat).
    expected = 1e9 * _synthetic_surface(geometry.lat[None, :], 90.0 / 2, pressure=pressure[:, None])
    assert zonal.values.shape == (72, 46) and zonal.units == "ppbv" and zonal.where == "all longitudes"
    assert np.allclose(zonal.values, expected, rtol=1e-6)
    assert np.array_equal(zonal.lat, geometry.lat) and np.array_equal(zonal.lat_edges, geometry.lat_edges)
    assert np.array_equal(zonal.pressure, pressure)


def test_a_zonal_mean_leaves_out_missing_values():
    lat_edges, lon_edges = np.array([-90.0, 0.0, 90.0]), np.array([0.0, 120.0, 240.0, 360.0])
    grid = GridInfo("latlon", "90x120", (2, 3), lat_range=(-90.0, 90.0), lon_range=(0.0, 360.0))
    geometry = Geometry(grid, readers.latlon_area(lat_edges, lon_edges), lat=np.array([-45.0, 45.0]),
                        lon=np.array([60.0, 180.0, 300.0]), lat_edges=lat_edges, lon_edges=lon_edges)
    column = np.array([[[1.0, 2.0, np.nan], [np.nan, np.nan, np.nan]]])
    zonal = analysis.zonal_mean(column, geometry, [1000.0], "K")
    assert zonal.values[0, 0] == pytest.approx(1.5) and math.isnan(zonal.values[0, 1]) and zonal.units == "K"


def test_a_cube_zonal_mean_bins_cells_by_the_latitude_of_their_centres(cube_geometry):
    lat, _ = cube_geometry.centres()
    column = np.stack([lat, (lat > 0).astype(float)])
    zonal = analysis.zonal_mean(column, cube_geometry, [1000.0, 500.0], "degrees_north")
    # 2N bands of 90/N degrees from pole to pole, none of them empty.
    assert zonal.values.shape == (2, 48) and np.allclose(np.diff(zonal.lat_edges), 3.75)
    assert zonal.lat_edges[0] == -90 and zonal.lat_edges[-1] == 90 and not np.isnan(zonal.values).any()
    # Each band's mean latitude lies within the band, and a hemisphere's indicator is 0 or 1.
    assert np.all((zonal.values[0] >= zonal.lat_edges[:-1]) & (zonal.values[0] <= zonal.lat_edges[1:]))
    assert np.array_equal(zonal.values[1], (zonal.lat > 0).astype(float))
    # One band by hand: the area-weighted mean of the centres between 30 and 33.75.
    band = (lat >= 30) & (lat < 33.75)
    by_hand = np.sum(lat[band] * cube_geometry.area[band]) / np.sum(cube_geometry.area[band])
    assert zonal.values[0, 32] == pytest.approx(by_hand, rel=1e-12)


def test_a_cube_zonal_mean_of_the_synthetic_file_follows_its_latitude_profile(gchp_file):
    with readers.Reader(gchp_file) as reader:
        column, geometry, pressure = reader.column("O3"), reader.geometry, reader.pressure_mid(72)
    zonal = analysis.zonal_mean(column, geometry, pressure, "mol mol-1 dry")
    expected = 1e9 * _synthetic_surface(zonal.lat[None, :], 45.0, pressure=pressure[:, None])
    # Cell centres are spread across each 3.75-degree band, hence the few percent.
    assert zonal.units == "ppbv" and np.allclose(zonal.values, expected, rtol=0.04)


def test_zonal_means_of_the_demo_runs(demo_classic, demo_nested, demo_gchp):
    shapes = {}
    for name, run in (("classic", demo_classic), ("nested", demo_nested), ("gchp", demo_gchp)):
        with readers.Reader(_out(run, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
            var = reader.info.variable("Rn222")
            zonal = analysis.zonal_mean(reader.column("Rn222"), reader.geometry, reader.pressure_mid(var.levels),
                                        var.units)
        shapes[name] = zonal.values.shape
        # Radon is emitted at the surface: the lowest level holds more than the top.
        assert np.nanmean(zonal.values[0]) > 100 * np.nanmean(zonal.values[-1])
        if name == "nested":
            assert zonal.where == "lon 140.312W to 39.6875W (the nested domain)"
    assert shapes == {"classic": (72, 46), "nested": (47, 121), "gchp": (72, 48)}


def test_zonal_bands_can_be_chosen(classic_geometry, cube_geometry):
    lat, _ = classic_geometry.centres()
    six = analysis.zonal_mean(lat[None], classic_geometry, [1000.0], "degrees_north", bins=6)
    assert six.values.shape == (1, 6) and np.allclose(six.lat_edges, np.linspace(-90, 90, 7))
    cube = analysis.zonal_mean(np.ones((1, 6, 24, 24)), cube_geometry, [1000.0], "1", bins=[-90, 0, 90])
    assert np.array_equal(cube.values, [[1.0, 1.0]]) and np.array_equal(cube.lat, [-45.0, 45.0])
    with pytest.raises(AnalysisError, match="increasing"):
        analysis.zonal_mean(np.ones((1, 6, 24, 24)), cube_geometry, [1000.0], "1", bins=[0, -90])


# --- Profiles ---------------------------------------------------------------------------------------

def test_a_profile_at_a_point_is_that_cells_column(classic_file):
    with readers.Reader(classic_file) as reader:
        column, geometry, pressure = reader.column("O3"), reader.geometry, reader.pressure_mid(72)
    result = analysis.profile(column, geometry, pressure, Region.point(41.0, -104.0), "mol mol-1 dry")
    expected = 1e9 * _synthetic_surface(42.0, -105.0, pressure=pressure)
    assert result.units == "ppbv" and np.allclose(result.values, expected, rtol=1e-6)
    assert np.array_equal(result.pressure, pressure) and result.where.startswith("the cell containing 41N 104W")


def test_a_profile_over_a_box_is_its_area_weighted_mean(classic_file):
    with readers.Reader(classic_file) as reader:
        column, geometry, pressure = reader.column("O3"), reader.geometry, reader.pressure_mid(72)
    result = analysis.profile(column, geometry, pressure, Region.box(west=0, east=10, south=0, north=10),
                              "mol mol-1 dry")
    rows, cols = np.flatnonzero(np.isin(geometry.lat, [2, 6, 10])), np.flatnonzero(np.isin(geometry.lon, [0, 5, 10]))
    block, area = column[:, rows][:, :, cols], geometry.area[np.ix_(rows, cols)]
    by_hand = 1e9 * (block * area).sum(axis=(1, 2)) / area.sum()
    assert np.allclose(result.values, by_hand, rtol=1e-12) and result.where.startswith("9 cells")


def test_profiles_of_the_demo_runs_at_a_point(demo_classic, demo_nested, demo_gchp):
    for run in (demo_classic, demo_nested, demo_gchp):
        with readers.Reader(_out(run, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
            var = reader.info.variable("Rn222")
            column, geometry = reader.column("Rn222"), reader.geometry
            result = analysis.profile(column, geometry, reader.pressure_mid(var.levels), Region.point(40.0, -100.0),
                                      var.units)
        cell = analysis.region_cells(geometry, Region.point(40.0, -100.0)).mask
        assert np.allclose(result.values, column[:, cell][:, 0], rtol=1e-12)
        assert result.pressure[0] > 990 and result.values.shape == (var.levels,)


def test_a_profile_with_a_missing_level_is_nan_there(classic_geometry):
    column = np.ones((3, 46, 72))
    column[1] = np.nan
    column[2, 0, 0] = np.nan
    result = analysis.profile(column, classic_geometry, [900.0, 500.0, 100.0], Region.globe(), "K")
    assert result.values[0] == 1 and math.isnan(result.values[1]) and result.values[2] == pytest.approx(1.0)


# --- Time series ------------------------------------------------------------------------------------

def test_a_global_time_series_follows_the_known_drift(classic_file):
    with readers.Reader(classic_file) as reader:
        series, geometry, times = reader.level_series("O3"), reader.geometry, reader.info.times
    result = analysis.time_series(series, times, geometry, Region.globe(), "mol mol-1 dry")
    lat, lon = geometry.centres()
    # The synthetic drift is linear in time; each step adds 0.05 of the g(lat) part.
    expected = [1e9 * np.sum(_synthetic_surface(lat, lon, t=t) * geometry.area) / geometry.area.sum() for t in range(4)]
    assert result.units == "ppbv" and result.weighting == "area" and result.where == "the globe"
    assert np.allclose(result.values, expected, rtol=1e-6)
    assert np.allclose(np.diff(result.values, 2), 0, atol=1e-5)
    assert result.times == tuple(datetime(2019, 7, d) for d in (1, 2, 3, 4))


def test_a_mass_weighted_series_weights_by_air_mass(demo_classic):
    with readers.Reader(_out(demo_classic, "GEOSChem.StateMet.20190101_0000z.nc4")) as reader:
        temperature, mass = reader.level_series("Met_T", level=1), reader.level_series("Met_AD", level=1)
        geometry, times = reader.geometry, reader.info.times
    by_mass = analysis.time_series(temperature, times, geometry, Region.globe(), "K", mass=mass)
    by_area = analysis.time_series(temperature, times, geometry, Region.globe(), "K")
    by_hand = (temperature * mass).sum(axis=(1, 2)) / mass.sum(axis=(1, 2))
    assert by_mass.weighting == "mass" and by_mass.units == "K" and len(by_mass.values) == 4
    assert np.allclose(by_mass.values, by_hand, rtol=1e-12) and by_area.weighting == "area"


def test_mass_weights_count_heavier_air_for_more():
    grid = GridInfo("latlon", "90x180", (2, 2), lat_range=(-90.0, 90.0), lon_range=(-180.0, 180.0))
    geometry = Geometry(grid, np.ones((2, 2)), lat=np.array([-45.0, 45.0]), lon=np.array([-90.0, 90.0]),
                        lat_edges=np.array([-90.0, 0.0, 90.0]), lon_edges=np.array([-180.0, 0.0, 180.0]))
    series = np.array([[[200.0, 200.0], [300.0, 300.0]]])
    mass = np.array([[1.0, 1.0], [3.0, 3.0]])  # three times the air over the northern cells
    by_mass = analysis.time_series(series, [0], geometry, Region.globe(), "K", mass=mass)
    by_area = analysis.time_series(series, [0], geometry, Region.globe(), "K")
    assert by_mass.values == pytest.approx([275.0]) and by_area.values == pytest.approx([250.0])


def test_one_mass_can_weight_every_time_step(demo_gchp):
    with readers.Reader(_out(demo_gchp, "GEOSChem.StateMet.20190101_0000z.nc4")) as reader:
        temperature, times = reader.level_series("Met_T", level=1), reader.info.times
        mass, geometry = reader.field("Met_AD", time=0, level=1).values, reader.geometry
    region = Region.box(west=-130, east=-60, south=20, north=55)
    result = analysis.time_series(temperature, times, geometry, region, "K", mass=mass)
    cells = analysis.region_cells(geometry, region).mask
    by_hand = (temperature[:, cells] * mass[cells]).sum(axis=1) / mass[cells].sum()
    assert np.allclose(result.values, by_hand, rtol=1e-12) and result.where.startswith(f"{cells.sum()} cells")


def test_time_series_at_a_point_on_every_grid(demo_classic, demo_nested, demo_gchp):
    for run, name in ((demo_classic, "GEOSChem.StateMet.20190101_0000z.nc4"),
                      (demo_nested, "GEOSChem.SpeciesConc.20190101_0000z.nc4"),
                      (demo_gchp, "GEOSChem.StateMet.20190101_0000z.nc4")):
        with readers.Reader(_out(run, name)) as reader:
            variable = "Met_T" if "StateMet" in name else "Rn222"
            series, geometry, times = reader.level_series(variable), reader.geometry, reader.info.times
            units = reader.info.variable(variable).units
        region = Region.point(35.0, -90.0)
        result = analysis.time_series(series, times, geometry, region, units)
        cell = analysis.region_cells(geometry, region).mask
        factor, _ = analysis.display_units(units, series[:, cell])
        assert np.allclose(result.values, factor * series[:, cell][:, 0], rtol=1e-12)


def test_a_time_series_leaves_out_missing_cells():
    grid = GridInfo("latlon", "90x180", (2, 2), lat_range=(-90.0, 90.0), lon_range=(-180.0, 180.0))
    lat_edges, lon_edges = np.array([-90.0, 0.0, 90.0]), np.array([-180.0, 0.0, 180.0])
    geometry = Geometry(grid, np.array([[1.0, 1.0], [3.0, 3.0]]), lat=np.array([-45.0, 45.0]),
                        lon=np.array([-90.0, 90.0]), lat_edges=lat_edges, lon_edges=lon_edges)
    series = np.array([[[1.0, 1.0], [2.0, 2.0]], [[1.0, np.nan], [np.nan, np.nan]]])
    result = analysis.time_series(series, [0, 1], geometry, Region.globe(), "K")
    assert result.values == pytest.approx([7 / 4, 1.0])


def test_mass_of_another_shape_is_refused(classic_geometry):
    with pytest.raises(AnalysisError, match="air mass of shape .* read it at the same times and level"):
        analysis.time_series(np.ones((2, 46, 72)), [0, 1], classic_geometry, Region.globe(), "K",
                             mass=np.ones((3, 46, 72)))
    with pytest.raises(AnalysisError, match=r"a time series needs \(3, 46, 72\)"):
        analysis.time_series(np.ones((2, 46, 72)), [0, 1, 2], classic_geometry, Region.globe(), "K")


# --- Ref against Dev --------------------------------------------------------------------------------

def test_identical_fields_differ_by_nothing(classic_file):
    with readers.Reader(classic_file) as reader:
        field = reader.field("O3")
    result = analysis.difference(field, field)
    stats = result.statistics
    assert result.units == "ppbv" and not result.absolute.any() and not result.percent.any()
    assert (stats.mean_bias, stats.normalized_mean_bias, stats.rmse) == (0.0, 0.0, 0.0)
    assert stats.correlation == pytest.approx(1.0, abs=1e-12) and stats.n == 46 * 72
    mean = analysis.area_mean(1e9 * field.values, field.geometry.area)
    assert stats.ref_mean == stats.dev_mean == pytest.approx(mean)


def test_a_known_offset_gives_the_known_bias(classic_file):
    with readers.Reader(classic_file) as reader:
        ref = reader.field("O3")
    dev = dataclasses.replace(ref, values=ref.values + 2e-9)  # +2 ppbv everywhere
    stats = analysis.difference(ref, dev).statistics
    ref_mean = analysis.area_mean(1e9 * ref.values, ref.geometry.area)
    assert stats.mean_bias == pytest.approx(2.0, rel=1e-9) and stats.rmse == pytest.approx(2.0, rel=1e-9)
    assert stats.normalized_mean_bias == pytest.approx(2.0 / ref_mean, rel=1e-9)
    assert stats.dev_mean == pytest.approx(ref_mean + 2.0, rel=1e-9)
    assert stats.correlation == pytest.approx(1.0, abs=1e-9)


def test_a_doubled_field_is_100_percent_higher(gchp_file):
    with readers.Reader(gchp_file) as reader:
        ref = reader.field("CO")
    result = analysis.difference(ref, dataclasses.replace(ref, values=2 * ref.values))
    assert np.allclose(result.percent, 100.0) and np.allclose(result.absolute, result.ref.values)
    assert result.statistics.normalized_mean_bias == pytest.approx(1.0)


def test_percent_is_nan_where_ref_is_zero(classic_geometry):
    var = VariableInfo("Met_T", "Temperature", "K", ("lat", "lon"), (46, 72), None, None)
    ref_values = np.full((46, 72), 250.0)
    ref_values[0, :3] = [0.0, np.nan, 250.0]
    ref = Field(ref_values, classic_geometry, var, None, None, None)
    result = analysis.difference(ref, dataclasses.replace(ref, values=np.full((46, 72), 275.0)))
    assert math.isnan(result.percent[0, 0]) and math.isnan(result.percent[0, 1])
    assert result.percent[0, 2] == pytest.approx(10.0) and result.absolute[0, 0] == 275.0
    assert result.statistics.n == 46 * 72 - 1  # the missing Ref cell is left out


def test_differences_between_demo_days_and_levels(demo_classic, demo_nested, demo_gchp):
    pairs = [(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190102_0000z.nc4"),
             (demo_nested, "GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190101_0300z.nc4"),
             (demo_gchp, "GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190101_0000z.nc4")]
    for run, first, second in pairs:
        with readers.Reader(_out(run, first)) as a, readers.Reader(_out(run, second)) as b:
            ref, dev = a.field("Pb210", level=1), b.field("Pb210", level=2 if first == second else 1)
        result = analysis.difference(ref, dev)
        assert np.allclose(result.absolute, dev.values - ref.values, rtol=1e-12, atol=0)
        assert result.statistics.n == ref.values.size
        assert result.statistics.mean_bias == pytest.approx(
            analysis.area_mean(dev.values, ref.geometry.area) - analysis.area_mean(ref.values, ref.geometry.area))


def test_fields_on_different_grids_are_refused(demo_classic, demo_gchp, tmp_path):
    with readers.Reader(_out(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        classic = reader.field("Rn222")
    with readers.Reader(_out(demo_gchp, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        cube = reader.field("Rn222")
    with readers.Reader(synthetic.write_classic(tmp_path / "b.nc4", resolution="2x2.5", species=("Rn222",))) as reader:
        finer = reader.field("Rn222")
    message = "^Ref is 4x5 global, Dev is 2x2.5 global: compare simulations on the same grid$"
    with pytest.raises(AnalysisError, match=message):
        analysis.difference(classic, finer)
    with pytest.raises(AnalysisError, match="^Ref is C24, Dev is 4x5 global"):
        analysis.difference(cube, classic)


def test_fields_in_different_units_are_refused(demo_classic):
    with readers.Reader(_out(demo_classic, "GEOSChem.StateMet.20190101_0000z.nc4")) as met, \
            readers.Reader(_out(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as species:
        temperature, radon = met.field("Met_T"), species.field("Rn222")
    with pytest.raises(AnalysisError, match="Ref is in 'K', Dev in 'mol mol-1 dry'"):
        analysis.difference(temperature, radon)


def test_statistics_by_hand():
    ref = np.array([1.0, 2.0, 3.0, np.nan])
    dev = np.array([2.0, 2.0, 5.0, 7.0])
    weights = np.array([1.0, 2.0, 1.0, 1.0])
    stats = analysis.statistics(ref, dev, weights)
    # Over the first three cells (W = 4): means 8/4 and 11/4, bias (1 + 0 + 2)/4, NMB 3/8,
    # RMSE sqrt((1 + 0 + 4)/4); r from cov = (0.75 + 0 + 2.25)/4 and variances 2/4 and 6.75/4.
    assert stats.n == 3
    assert (stats.ref_mean, stats.dev_mean, stats.mean_bias) == pytest.approx((2.0, 2.75, 0.75))
    assert stats.normalized_mean_bias == pytest.approx(3 / 8) and stats.rmse == pytest.approx(math.sqrt(5 / 4))
    assert stats.correlation == pytest.approx(0.75 / math.sqrt(0.5 * 1.6875))


def test_statistics_without_weights_count_cells_alike():
    stats = analysis.statistics(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    assert stats.correlation == pytest.approx(-1.0) and stats.mean_bias == 0 and stats.n == 3
    assert stats.rmse == pytest.approx(math.sqrt(8 / 3))


def test_statistics_of_nothing_are_nan():
    stats = analysis.statistics(np.full(3, np.nan), np.ones(3))
    assert stats.n == 0 and math.isnan(stats.mean_bias) and math.isnan(stats.correlation)
    constant = analysis.statistics(np.ones(3), np.array([1.0, 2.0, 3.0]))
    assert math.isnan(constant.correlation) and constant.mean_bias == pytest.approx(1.0)
    with pytest.raises(AnalysisError, match="different shapes"):
        analysis.statistics(np.ones(3), np.ones(4))
