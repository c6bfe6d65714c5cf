"""Maps and plots of GEOS-Chem output: demo-model runs and synthetic files read through readers.Reader,
and the shipped coastlines."""

import importlib.util
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from bokeh.embed import json_item
from bokeh.models import (ColorBar, DatetimeAxis, GlyphRenderer, HoverTool, Image, LinearColorMapper, LogAxis,
                          Patches, Quad)

from benchmarks import synthetic_files as synthetic
from results import coastlines, cubesphere, plots, readers
from results.plotting import display_values


def _out(run_dir, pattern):
    return next(p for p in run_dir.rglob(pattern))


def _field(path, name, **kw):
    with readers.Reader(path) as reader:
        return reader.field(name, **kw)


@pytest.fixture(scope="module")
def classic_field(demo_classic):
    return _field(_out(demo_classic, "GEOSChem.SpeciesConc.20190102_0000z.nc4"), "Rn222", level=1)


@pytest.fixture(scope="module")
def gchp_field(demo_gchp):
    return _field(_out(demo_gchp, "GEOSChem.SpeciesConc.*.nc4"), "Rn222", level=1)


def _glyphs(fig, kind):
    return [r for r in fig.select(type=GlyphRenderer) if isinstance(r.glyph, kind)]


def _subtitles(fig):
    return [t.text for t in fig.above]


def _tooltips(fig):
    return dict(fig.select_one(HoverTool).tooltips)


def _patch_polygons(fig):
    """(cells drawn, xs, ys) of every patches renderer: the values' count and the flat corner arrays."""
    out = []
    for renderer in _glyphs(fig, Patches):
        x_args, y_args = renderer.glyph.xs.expr.args, renderer.glyph.ys.expr.args
        k = x_args["k"]
        out.append((renderer.data_source.data["value"], x_args["flat"].reshape(-1, k), y_args["flat"].reshape(-1, k)))
    return out


def _serialises(model) -> int:
    return len(json.dumps(json_item(model)))


# --- coastlines -------------------------------------------------------------------------------------

def test_the_shipped_coastlines_load_and_cover_both_hemispheres():
    lon, lat = coastlines.coastlines()
    finite = np.isfinite(lon)
    assert finite.sum() > 4000 and (~finite).sum() > 100  # the 110m land outlines, NaN between lines
    assert lon.dtype == np.float32 and np.array_equal(finite, np.isfinite(lat))
    assert np.nanmin(lat) < -80 and np.nanmax(lat) > 80  # Antarctica and the Arctic islands
    assert np.nanmin(lon) == -180 and np.nanmax(lon) == 180
    # Both halves of the globe have coast: the Americas, and Eurasia with Africa and Australia.
    assert ((lon < -30) & (lat > 0)).sum() > 500 and ((lon > 60) & (lat < 0)).sum() > 100


def test_no_coastline_jumps_across_the_map():
    lon, _ = coastlines.coastlines()
    steps = np.abs(np.diff(lon))
    assert np.nanmax(steps) < 20  # a line crossing the date line would jump by ~360 degrees


def test_coastlines_are_clipped_exactly_to_a_box():
    box = (-140.0, -40.0, 10.0, 70.0)
    lon, lat = coastlines.coastlines(box)
    finite = np.isfinite(lon)
    assert finite.sum() > 300
    assert np.all((lon[finite] >= box[0] - 1e-4) & (lon[finite] <= box[1] + 1e-4))
    assert np.all((lat[finite] >= box[2] - 1e-4) & (lat[finite] <= box[3] + 1e-4))
    # A coast leaving the box ends on its edge, not at the last point inside.
    assert np.isclose(lon[finite], box[0], atol=1e-3).any() and np.isclose(lat[finite], box[3], atol=1e-3).any()


def test_a_box_across_the_date_line_gets_coastlines_in_its_own_longitudes():
    lon, lat = coastlines.coastlines((170.0, 200.0, 50.0, 75.0))  # the Bering Strait, in 0-360 longitudes
    finite = lon[np.isfinite(lon)]
    assert (finite < 180).any() and (finite > 185).any()  # Chukotka at ~175 E and Alaska at ~190 E (-170)
    assert finite.min() >= 170 - 1e-4 and finite.max() <= 200 + 1e-4
    assert np.nanmax(np.abs(np.diff(lon))) < 20


def test_a_box_of_open_ocean_has_no_coastline():
    lon, lat = coastlines.coastlines((-30.0, -20.0, -30.0, -20.0))  # the South Atlantic
    assert lon.size == 0 and lat.size == 0


def _make_coastlines_script():
    path = Path(coastlines.__file__).parent / "data" / "make_coastlines.py"
    spec = importlib.util.spec_from_file_location("make_coastlines", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_make_script_decodes_delta_encoded_arcs_and_cuts_rings_at_the_date_line():
    make = _make_coastlines_script()
    # lon = 0.5 qx - 180, lat = 0.25 qy - 90. An island from 178 E to 178 W, in two arcs (the second
    # used reversed, ~1), and an island cut by Natural Earth along the date line.
    topology = {"type": "Topology", "transform": {"scale": [0.5, 0.25], "translate": [-180, -90]},
                "arcs": [[[716, 360], [-712, 0], [0, 8]], [[716, 360], [0, 8], [-712, 0]],
                         [[720, 400], [0, 8], [-4, 0], [0, -8], [4, 0]]],
                "objects": {"land": {"type": "GeometryCollection", "geometries": [
                    {"type": "MultiPolygon", "arcs": [[[0, ~1]], [[2]]]}]}}}
    arcs = make.decode_arcs(topology)
    assert arcs[0] == [(178.0, 0.0), (-178.0, 0.0), (-178.0, 2.0)]
    island, fiji = make.rings(topology, arcs)
    assert island == [(178.0, 0.0), (-178.0, 0.0), (-178.0, 2.0), (178.0, 2.0), (178.0, 0.0)]
    pieces = [make.rounded(line) for line in make.coast_lines(island)]
    assert pieces == [[[178.0, 0.0], [180.0, 0.0]], [[-180.0, 0.0], [-178.0, 0.0], [-178.0, 2.0], [-180.0, 2.0]],
                      [[180.0, 2.0], [178.0, 2.0], [178.0, 0.0]]]
    lines = [line for line in make.coast_lines(fiji) if len(line) > 1]
    assert lines == [[(180.0, 12.0), (178.0, 12.0), (178.0, 10.0), (180.0, 10.0)]]  # not the cut along 180


def test_a_box_must_have_its_edges_in_order():
    with pytest.raises(ValueError, match="west < east"):
        coastlines.coastlines((10.0, -10.0, 0.0, 5.0))


# --- lat-lon maps -----------------------------------------------------------------------------------

def test_a_global_4x5_map_is_drawn_from_minus_180_to_180_with_half_size_polar_rows(classic_field):
    fig = plots.map_figure(classic_field)
    assert (fig.x_range.start, fig.x_range.end, fig.y_range.start, fig.y_range.end) == (-180, 180, -90, 90)
    assert fig.frame_width == 2 * fig.frame_height  # equal aspect: 360 by 180 degrees
    assert "longitude" in fig.xaxis[0].axis_label and "latitude" in fig.yaxis[0].axis_label
    (image,) = _glyphs(fig, Image)
    data = image.data_source.data
    # Three images: the south polar row (2 degrees), the interior (4-degree rows), the north polar row.
    assert data["y"] == [-90.0, -88.0, 88.0] and data["dh"] == [2.0, 176.0, 2.0]
    assert [a.shape[0] for a in data["image"]] == [1, 44, 1]
    assert all(a.dtype == np.float32 for a in data["image"])
    # GEOS-Chem's first box is centred on -180 (-182.5 to -177.5): repeated at the east edge.
    assert data["x"][0] == -182.5 and data["dw"][0] == 365.0
    interior = data["image"][1]
    assert interior.shape[1] == 73 and np.array_equal(interior[:, 0], interior[:, -1], equal_nan=True)
    # Values travel as maps show them (11 significant bits): exactly plotting.display_values.
    assert np.array_equal(interior[:, :72], display_values(classic_field.values[1:-1]), equal_nan=True)


def test_a_map_has_a_colour_bar_in_its_units_hover_and_the_demo_label(classic_field):
    fig = plots.map_figure(classic_field)
    assert fig.select_one(ColorBar).title == "mol mol-1 dry"
    tips = _tooltips(fig)
    assert set(tips) == {"lon", "lat", "value"} and tips["value"].startswith("@image") and "mol mol-1 dry" in tips["value"]
    assert plots.DEMO_SUBTITLE in _subtitles(fig)
    assert fig.title.text.startswith("Rn222, level 1") and "2019-01-02 12:00" in fig.title.text
    low, high = np.nanmin(classic_field.values), np.nanmax(classic_field.values)
    mapper = fig.select_one(LinearColorMapper)
    assert (mapper.low, mapper.high) == pytest.approx((low, high))
    assert _serialises(fig) < 120_000


def test_geos_chem_output_is_not_labelled_as_demo(tmp_path):
    path = synthetic.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", resolution="4x5", levels=72)
    fig = plots.map_figure(_field(path, "O3"))
    assert plots.DEMO_SUBTITLE not in _subtitles(fig)


def test_missing_values_are_grey_and_not_a_colour_of_either_scale(classic_field):
    values = classic_field.values.copy()
    values[10:20, 30:40] = np.nan
    g = classic_field.geometry
    fig = plots.latlon_map(values, g.lat_edges, g.lon_edges, units="ppb")
    mapper = fig.select_one(LinearColorMapper)
    assert mapper.nan_color == plots.NAN_COLOUR
    assert plots.NAN_COLOUR not in plots.VALUE_PALETTE and plots.NAN_COLOUR not in plots.DIFFERENCE_PALETTE
    assert np.isnan(_glyphs(fig, Image)[0].data_source.data["image"][1]).sum() == 100
    assert (mapper.low, mapper.high) == pytest.approx((np.nanmin(values), np.nanmax(values)))


def test_a_nested_map_shows_its_own_box(demo_nested):
    field = _field(_out(demo_nested, "GEOSChem.SpeciesConc.20190101_0000z.nc4"), "Rn222", level=1)
    grid = field.geometry.grid
    fig = plots.map_figure(field)
    assert (fig.x_range.start, fig.x_range.end) == grid.lon_range
    assert (fig.y_range.start, fig.y_range.end) == grid.lat_range
    width, height = grid.lon_range[1] - grid.lon_range[0], grid.lat_range[1] - grid.lat_range[0]
    assert fig.frame_width / fig.frame_height == pytest.approx(width / height, rel=0.01)
    coast = [r for r in fig.renderers if r.data_source.data.keys() == {"x", "y"}][0].data_source.data
    x = coast["x"][np.isfinite(coast["x"])]
    assert x.size > 300 and x.min() >= grid.lon_range[0] - 1e-3 and x.max() <= grid.lon_range[1] + 1e-3
    assert "nested" not in fig.title.text and plots.DEMO_SUBTITLE in _subtitles(fig)
    _serialises(fig)


def test_a_map_can_be_shown_at_a_chosen_extent(classic_field):
    g = classic_field.geometry
    fig = plots.latlon_map(classic_field.values, g.lat_edges, g.lon_edges, title="Europe", units="ppb",
                           nested_extent=(-30.0, 50.0, 30.0, 75.0))
    assert (fig.x_range.start, fig.x_range.end, fig.y_range.start, fig.y_range.end) == (-30, 50, 30, 75)
    assert fig.frame_width / fig.frame_height == pytest.approx(80 / 45, rel=0.01)
    assert fig.x_range.bounds == (-30, 50)


def test_a_grid_in_0_to_360_longitudes_is_shown_from_minus_180(tmp_path):
    lat_edges = np.linspace(-90, 90, 19)
    lon_edges = np.linspace(0, 360, 37)
    values = np.tile(np.arange(36, dtype=float), (18, 1))  # the column's index
    fig = plots.latlon_map(values, lat_edges, lon_edges, units="1")
    (image,) = _glyphs(fig, Image)
    assert image.data_source.data["x"] == [-180.0] and image.data_source.data["dw"] == [360.0]
    # The column from -180 to -170 is the file's 180 to 190, its 19th.
    assert image.data_source.data["image"][0][0, :3].tolist() == [18.0, 19.0, 20.0]


def test_a_grid_with_uneven_longitudes_is_drawn_as_one_quad_per_cell():
    lat_edges = np.linspace(-90, 90, 7)
    lon_edges = np.array([-180.0, -100.0, -20.0, 0.0, 90.0, 180.0])
    fig = plots.latlon_map(np.arange(30.0).reshape(6, 5), lat_edges, lon_edges, units="ppb")
    (quads,) = _glyphs(fig, Quad)
    assert len(quads.data_source.data["value"]) == 30 and not _glyphs(fig, Image)
    assert quads.data_source.data["left"][:5].tolist() == [-180, -100, -20, 0, 90]
    assert _tooltips(fig)["value"].startswith("@value")


def test_values_that_do_not_fit_the_edges_are_refused():
    with pytest.raises(ValueError, match="do not fit"):
        plots.latlon_map(np.zeros((4, 5)), np.linspace(-90, 90, 6), np.linspace(-180, 180, 5))


# --- cubed-sphere maps ------------------------------------------------------------------------------

def _crosses_date_line(corner_lons, corner_lats):
    """Per cell: its corners off the poles spread over more than 180 degrees of longitude."""
    lon = (np.asarray(corner_lons) + 180) % 360 - 180
    lat = np.asarray(corner_lats)
    cells = []
    for a in (lon, lat):
        cells.append(np.stack([a[:, :-1, :-1], a[:, :-1, 1:], a[:, 1:, 1:], a[:, 1:, :-1]], -1).reshape(-1, 4))
    lon4 = np.where(np.abs(cells[1]) > 89.9999, np.nan, cells[0])
    return np.nanmax(lon4, axis=1) - np.nanmin(lon4, axis=1) > 180


def test_a_c24_map_draws_every_cell_once_and_the_date_line_cells_twice(gchp_field):
    g = gchp_field.geometry
    fig = plots.map_figure(gchp_field)
    polygons = _patch_polygons(fig)
    drawn = sum(len(values) for values, _, _ in polygons)
    across = _crosses_date_line(g.corner_lons, g.corner_lats)
    assert 0 < across.sum() < 100
    assert drawn == 6 * 24 * 24 + across.sum()
    # The values are the field's, each cell's value with each copy of it.
    all_values = np.concatenate([values for values, _, _ in polygons])
    assert all_values.dtype == np.float32
    assert np.sort(np.unique(all_values)).size == np.unique(display_values(gchp_field.values)).size
    for _, xs, _ in polygons:
        span = xs.max(axis=1) - xs.min(axis=1)
        assert span.max() < 180  # nothing smears across the map
        assert (xs.max(axis=1) > -180).all() and (xs.min(axis=1) < 180).all()  # every copy shows
    assert (fig.x_range.start, fig.x_range.end, fig.y_range.start, fig.y_range.end) == (-180, 180, -90, 90)


def test_the_cells_at_a_pole_reach_it_along_their_neighbours_meridians(gchp_field):
    g = gchp_field.geometry
    groups = plots.cube_polygons(g.corner_lons, g.corner_lats)
    (polar,) = [p for p in groups if p.xs.shape[1] == 5]
    # C24 has a corner on each pole: four cells meet there, one of them across the date line.
    assert polar.cells.size == 4 + 4 + 2
    north = polar.ys[:, 0] > 0
    assert np.all(polar.ys[:, [0, 4]] == np.where(north, 90.0, -90.0)[:, None])
    assert np.all(polar.xs[:, 0] == polar.xs[:, 1]) and np.all(polar.xs[:, 3] == polar.xs[:, 4])
    # Along the pole's latitude the four cells tile all 360 degrees.
    first = ~np.isin(np.arange(polar.cells.size), np.arange(8, 10))
    widths = (polar.xs[:, 4] - polar.xs[:, 0])[first & north]
    assert np.abs(widths).sum() == pytest.approx(360.0)


def test_an_odd_cube_covers_each_pole_with_the_cell_around_it(tmp_path):
    path = synthetic.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", cs=25)
    field = _field(path, "O3")
    groups = plots.cube_polygons(field.geometry.corner_lons, field.geometry.corner_lats)
    (around,) = [p for p in groups if p.xs.shape[1] == 7]
    assert around.cells.size == 4 and np.unique(around.cells).size == 2  # one per pole, each drawn twice
    spans = around.xs.max(axis=1) - around.xs.min(axis=1)
    assert np.allclose(spans, 360.0)
    assert sorted(np.unique(around.ys[:, 5]).tolist()) == [-90.0, 90.0]
    fig = plots.map_figure(field)
    # The two cells around the poles spread over all longitudes: they are among the cells drawn twice.
    across = _crosses_date_line(field.geometry.corner_lons, field.geometry.corner_lats)
    assert across[np.unique(around.cells)].all()
    assert sum(len(v) for v, _, _ in _patch_polygons(fig)) == 6 * 25 * 25 + across.sum()
    assert plots.DEMO_SUBTITLE not in _subtitles(fig)  # synthetic, not demo output
    _serialises(fig)


def test_a_cube_map_has_a_colour_bar_in_its_units_hover_and_the_demo_label(gchp_field):
    fig = plots.map_figure(gchp_field)
    assert fig.select_one(ColorBar).title == gchp_field.units
    assert _tooltips(fig)["value"] == "@value{%.4g} mol mol-1 dry"
    hover = fig.select_one(HoverTool)
    assert set(hover.renderers) == set(_glyphs(fig, Patches))
    assert plots.DEMO_SUBTITLE in _subtitles(fig)
    assert _serialises(fig) < 150_000


def test_a_gchp_checkpoint_is_drawn_from_its_computed_corners(tmp_path):
    path = synthetic.write_gchp_restart(tmp_path / "GEOSChem.Restart.20190701_0000z.c12.nc4", cs=12)
    field = _field(path, "O3")
    fig = plots.map_figure(field)
    assert sum(len(v) for v, _, _ in _patch_polygons(fig)) >= 6 * 12 * 12
    _serialises(fig)


def test_cube_values_must_fit_the_corners():
    lons, lats = cubesphere.corners(4)
    with pytest.raises(ValueError, match="C4"):
        plots.cubed_sphere_map(np.zeros((6, 5, 5)), lons, lats)


# --- zonal means, profiles, time series -------------------------------------------------------------

@pytest.fixture(scope="module")
def classic_column(demo_classic):
    with readers.Reader(_out(demo_classic, "GEOSChem.SpeciesConc.20190102_0000z.nc4")) as reader:
        return reader.column("Rn222"), reader.pressure_mid(72), reader.geometry


def test_a_zonal_mean_has_pressure_decreasing_upward_on_a_log_axis(classic_column):
    column, pressure, geometry = classic_column
    zonal = np.nanmean(column, axis=2)
    fig = plots.zonal_mean_plot(geometry.lat_edges, pressure, zonal, units="mol mol-1 dry", title="Rn222", demo=True)
    assert isinstance(fig.yaxis[0], LogAxis) and fig.yaxis[0].axis_label == "pressure (hPa)"
    assert fig.y_range.start > 1000 > fig.y_range.end > 0  # the surface at the bottom
    assert (fig.x_range.start, fig.x_range.end) == (-90, 90)
    (quads,) = _glyphs(fig, Quad)
    data = quads.data_source.data
    assert len(data["value"]) == 72 * 46
    assert np.all(data["bottom"] > data["top"])  # each layer spans from its higher to its lower pressure
    assert fig.select_one(ColorBar).title == "mol mol-1 dry"
    assert set(_tooltips(fig)) == {"lat", "pressure", "value"}
    assert plots.DEMO_SUBTITLE in _subtitles(fig)
    _serialises(fig)


def test_a_zonal_mean_can_show_the_troposphere_on_a_linear_axis(classic_column):
    column, pressure, geometry = classic_column
    zonal = np.nanmean(column, axis=2)
    fig = plots.zonal_mean_plot(geometry.lat, pressure, zonal, units="ppb", log_pressure=False,
                                pressure_range=(1000, 100))
    assert not isinstance(fig.yaxis[0], LogAxis)
    assert (fig.y_range.start, fig.y_range.end) == (1000, 100)
    shown = ((pressure >= 100) & (pressure <= 1000)).sum()
    assert len(_glyphs(fig, Quad)[0].data_source.data["value"]) == shown * 46
    mapper = fig.select_one(LinearColorMapper)
    assert mapper.high == pytest.approx(np.nanmax(zonal[(pressure >= 100) & (pressure <= 1000)]))


def test_a_profile_compares_series_with_pressure_decreasing_upward(classic_column):
    column, pressure, _ = classic_column
    mean = np.nanmean(column, axis=(1, 2))
    fig = plots.profile_plot(pressure, {"Ref": mean, "Dev": mean * 1.1}, units="mol mol-1 dry", title="Rn222",
                             where="global mean", demo=True)
    assert fig.y_range.start > fig.y_range.end and isinstance(fig.yaxis[0], LogAxis)
    assert fig.xaxis[0].axis_label == "mol mol-1 dry" and fig.title.text == "Rn222 (global mean)"
    assert [item.label.value for item in fig.legend[0].items] == ["Ref", "Dev"]
    assert {"series", "pressure", "value"} <= set(_tooltips(fig))
    assert plots.DEMO_SUBTITLE in _subtitles(fig)
    _serialises(fig)


def test_a_profile_needs_one_value_per_level():
    with pytest.raises(ValueError, match="3 pressures"):
        plots.profile_plot([1000, 500, 100], [1.0, 2.0])


def test_a_time_series_has_a_datetime_axis_a_legend_and_hover():
    times = [datetime(2019, 7, 1) + timedelta(hours=6 * i) for i in range(8)]
    fig = plots.time_series_plot(times, {"Ref": np.arange(8.0), "Dev": np.arange(8.0) + 1}, units="ppb",
                                 title="O3", where="global", weighting="mass-weighted")
    assert isinstance(fig.xaxis[0], DatetimeAxis) and fig.yaxis[0].axis_label == "ppb"
    assert [item.label.value for item in fig.legend[0].items] == ["Ref", "Dev"]
    hover = fig.select_one(HoverTool)
    assert dict(hover.tooltips)["time"] == "@time{%F %H:%M}" and hover.formatters["@time"] == "datetime"
    assert fig.title.text == "O3 (global, mass-weighted)" and plots.DEMO_SUBTITLE not in _subtitles(fig)
    line = [r for r in fig.renderers if "time" in r.data_source.data][0]
    assert line.data_source.data["time"][0] == np.datetime64("2019-07-01T00:00", "ms")
    _serialises(fig)


def test_a_single_time_series_has_no_legend_and_says_it_is_demo_output():
    times = [datetime(2019, 7, 1), datetime(2019, 7, 2)]
    fig = plots.time_series_plot(times, [1.0, 2.0], units="ppb", demo=True)
    assert not fig.legend and plots.DEMO_SUBTITLE in _subtitles(fig)


# --- Ref vs Dev ------------------------------------------------------------------------------------

def _panels(grid):
    return [child for child, _, _ in sorted(grid.children, key=lambda c: (c[1], c[2]))]


def test_a_comparison_has_six_panels_with_a_shared_range_and_centred_differences(demo_classic):
    ref = _field(_out(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4"), "Rn222", level=1)
    dev = _field(_out(demo_classic, "GEOSChem.SpeciesConc.20190102_0000z.nc4"), "Rn222", level=1)
    absolute = dev.values - ref.values
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = 100 * absolute / ref.values
    grid = plots.comparison_panels(ref, dev, absolute, percent, ref_label="day 1", dev_label="day 2",
                                   title="Rn222 surface")
    panels = _panels(grid)
    assert len(panels) == 6
    titles = [p.title.text for p in panels]
    assert titles[:2] == ["Rn222 surface"] * 2
    assert "Ref: day 1" in _subtitles(panels[0]) and "Dev: day 2" in _subtitles(panels[1])
    assert titles[2:] == ["Dev - Ref, dynamic range", "Dev - Ref, restricted (5th to 95th percentile)",
                          "(Dev - Ref) / Ref, dynamic range", "(Dev - Ref) / Ref, restricted (5th to 95th percentile)"]
    assert not any("day" in t for p in panels[2:] for t in [p.title.text, *_subtitles(p)])  # names only on top
    mappers = [p.select_one(LinearColorMapper) for p in panels]
    both = np.concatenate([ref.values.ravel(), dev.values.ravel()])
    for m in mappers[:2]:
        assert (m.low, m.high) == pytest.approx((np.nanmin(both), np.nanmax(both)))
        assert tuple(m.palette) == plots.VALUE_PALETTE
    for m in mappers[2:]:
        assert m.low == -m.high and tuple(m.palette) == plots.DIFFERENCE_PALETTE
    assert mappers[2].high == pytest.approx(np.nanmax(np.abs(absolute)))
    assert mappers[3].high < mappers[2].high  # restricted to the 5th-95th percentiles
    assert mappers[3].high == pytest.approx(np.abs(np.nanpercentile(absolute, [5, 95])).max())
    assert [p.select_one(ColorBar).title for p in panels] == ["mol mol-1 dry"] * 4 + ["%", "%"]
    assert all(p.x_range is panels[0].x_range and p.y_range is panels[0].y_range for p in panels)
    assert all(plots.DEMO_SUBTITLE in _subtitles(p) for p in panels)
    assert _serialises(grid) < 300_000


def test_a_cubed_sphere_comparison_shares_one_set_of_corners_between_its_panels(gchp_field, demo_gchp):
    dev = _field(_out(demo_gchp, "GEOSChem.SpeciesConc.*.nc4"), "Rn222", level=2)
    absolute = dev.values - gchp_field.values
    grid = plots.comparison_panels(gchp_field, dev, absolute, 100 * absolute / gchp_field.values)
    panels = _panels(grid)
    corner_models = {id(r.glyph.xs.expr) for p in panels for r in _glyphs(p, Patches)}
    assert len(corner_models) == len(_glyphs(panels[0], Patches))  # drawn six times, sent once
    assert all(sum(len(v) for v, _, _ in _patch_polygons(p)) >= 6 * 24 * 24 for p in panels)
    assert (panels[0].title.text, panels[1].title.text) == ("Ref", "Dev")  # no labels given
    assert plots.DEMO_SUBTITLE in _subtitles(panels[5])
    assert _serialises(grid) < 2.5 * _serialises(plots.map_figure(gchp_field))


def test_a_comparison_of_zonal_means_has_six_panels_on_one_pressure_axis(classic_column):
    column, pressure, geometry = classic_column
    ref = np.nanmean(column, axis=2)
    dev = ref * 1.05
    grid = plots.comparison_panels(ref, dev, dev - ref, np.full(ref.shape, 5.0), lat_edges=geometry.lat_edges,
                                   pressure_hpa=pressure, units="mol mol-1 dry", demo=True)
    panels = _panels(grid)
    assert len(panels) == 6 and all(len(_glyphs(p, Quad)) == 1 for p in panels)
    assert all(p.y_range is panels[0].y_range for p in panels) and panels[0].y_range.start > 1000
    assert panels[4].select_one(LinearColorMapper).high == pytest.approx(5.0)
    _serialises(grid)


def test_a_zonal_comparison_needs_its_coordinates():
    with pytest.raises(ValueError, match="lat_edges and pressure_hpa"):
        plots.comparison_panels(np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)))


def test_ranges_are_centred_on_zero_and_survive_empty_or_flat_data():
    assert plots.symmetric_range([-1.0, 3.0]) == (-3.0, 3.0)
    assert plots.symmetric_range([np.nan, np.inf]) == (-1.0, 1.0)
    assert plots.data_range([2.0, 2.0]) == (1.9, 2.1)
    assert plots.data_range([np.nan]) == (0.0, 1.0)
    low, high = plots.symmetric_range(np.arange(-100.0, 101.0), (5, 95))
    assert high == pytest.approx(90.0) and low == -high
