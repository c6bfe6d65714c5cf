"""Reducing fields to screen size: block means that keep the area-weighted mean, on both grids."""

import dataclasses
import math
from datetime import datetime

import numpy as np
import pytest

from results import analysis, cubesphere, display, readers
from results.readers import Field, Geometry, GridInfo, VariableInfo
from results.analysis import AnalysisError
from tests.results.test_analysis import _out, _synthetic_surface


VAR = VariableInfo("SpeciesConcVV_O3", "Dry mixing ratio of species O3", "mol mol-1 dry",
                   ("time", "lev", "lat", "lon"), (1, 72, 721, 1152), "O3", 72)


def _quarter_degree_field(nan_cells=()):
    """A global 0.25x0.3125 field in memory: GEOS-Chem's edges (half-size polar rows), smooth values
    with noise, so that block means differ from subsampling."""
    lat_edges = np.concatenate([[-90.0], np.arange(-89.875, 89.9, 0.25), [90.0]])
    lon_edges = -180.15625 + 0.3125 * np.arange(1153)
    lat, lon = 0.5 * (lat_edges[:-1] + lat_edges[1:]), -180.0 + 0.3125 * np.arange(1152)
    grid = GridInfo("latlon", "0.25x0.3125", (721, 1152), lat_range=(-90.0, 90.0),
                    lon_range=(float(lon_edges[0]), float(lon_edges[-1])))
    geometry = Geometry(grid, readers.latlon_area(lat_edges, lon_edges), lat=lat, lon=lon, lat_edges=lat_edges,
                        lon_edges=lon_edges)
    lon2, lat2 = np.meshgrid(lon, lat)
    values = _synthetic_surface(lat2, lon2) * (1 + 0.1 * np.random.default_rng(1).standard_normal(lat2.shape))
    for cell in nan_cells:
        values[cell] = np.nan
    return Field(values, geometry, VAR, datetime(2019, 7, 1), 1, 1000.0)


def _cube_field(n):
    corner_lons, corner_lats = cubesphere.corners(n)
    lons, lats = cubesphere.centres(n)
    geometry = Geometry(GridInfo("cubed-sphere", f"C{n}", (6, n, n), cs_res=n),
                        cubesphere.cell_areas(corner_lons, corner_lats), lats=lats, lons=lons,
                        corner_lats=corner_lats, corner_lons=corner_lons)
    values = _synthetic_surface(lats, lons) * (1 + 0.1 * np.random.default_rng(2).standard_normal(lats.shape))
    return Field(values, geometry, VAR, datetime(2019, 7, 1), 1, 1000.0)


def _global_mean(field):
    return analysis.area_mean(field.values, field.geometry.area)


def test_a_quarter_degree_field_is_reduced_within_the_limits_keeping_its_mean():
    field = _quarter_degree_field()
    shown = display.for_display(field)
    geometry = shown.geometry
    # k = 2: 721 rows become 360 pairs and the north polar row alone; 1152 columns 576 pairs.
    assert shown.values.shape == (361, 576) == geometry.area.shape
    assert shown.values.shape[0] <= 361 and shown.values.shape[1] <= 720
    assert _global_mean(shown) == pytest.approx(_global_mean(field), rel=1e-6)
    assert geometry.area.sum() == pytest.approx(field.geometry.area.sum(), rel=1e-12)
    assert np.array_equal(geometry.lat_edges, np.append(field.geometry.lat_edges[::2], 90.0))
    assert np.array_equal(geometry.lon_edges, field.geometry.lon_edges[::2])
    assert np.allclose(geometry.lat, 0.5 * (geometry.lat_edges[:-1] + geometry.lat_edges[1:]))
    # The ragged last block is the polar row itself, averaged in pairs of columns.
    assert np.allclose(shown.values[-1], 0.5 * (field.values[-1, 0::2] + field.values[-1, 1::2]), rtol=1e-12)
    # A full block by hand: rows 0-1 (areas differ), columns 0-1.
    area, values = field.geometry.area[:2, :2], field.values[:2, :2]
    assert shown.values[0, 0] == pytest.approx((area * values).sum() / area.sum(), rel=1e-12)
    assert geometry.grid.resolution == "0.25x0.3125 in 2x2 blocks" and geometry.grid.shape == (361, 576)
    assert (shown.time, shown.level, shown.variable) == (field.time, field.level, field.variable)


def test_tighter_limits_choose_larger_blocks():
    shown = display.for_display(_quarter_degree_field(), max_latlon=(100, 100))
    # The smallest k with ceil(721/k) <= 100 and ceil(1152/k) <= 100 is 12: 61 x 96.
    assert shown.values.shape == (61, 96)


def test_missing_values_are_left_out_of_display_blocks():
    field = _quarter_degree_field(nan_cells=[(10, 20), (100, 200), (100, 201), (101, 200), (101, 201)])
    shown = display.for_display(field)
    area, values = field.geometry.area[10:12, 20:22], field.values[10:12, 20:22]
    present = ~np.isnan(values)
    assert shown.values[5, 10] == pytest.approx((area * values)[present].sum() / area[present].sum(), rel=1e-12)
    assert math.isnan(shown.values[50, 100])  # all four cells missing
    assert np.isnan(shown.values).sum() == 1


def test_a_c180_cube_becomes_c45_with_the_c45_geometry():
    field = _cube_field(180)
    shown = display.for_display(field)
    geometry = shown.geometry
    assert shown.values.shape == (6, 45, 45) and geometry.grid.cs_res == 45
    assert _global_mean(shown) == pytest.approx(_global_mean(field), rel=1e-6)
    assert geometry.area.sum() == pytest.approx(field.geometry.area.sum(), rel=1e-12)
    # Every 4th corner of the equal-edge C180 cube is a corner of the C45 cube.
    corner_lons, corner_lats = cubesphere.corners(45)
    lons, lats = cubesphere.centres(45)
    assert np.allclose(geometry.corner_lats, corner_lats, atol=1e-9)
    assert np.allclose((geometry.corner_lons - corner_lons + 180) % 360 - 180, 0, atol=1e-9)
    assert np.allclose(geometry.lats, lats, atol=1e-9)
    assert np.allclose((geometry.lons - lons + 180) % 360 - 180, 0, atol=1e-9)
    assert np.allclose(geometry.area, cubesphere.cell_areas(corner_lons, corner_lats), rtol=1e-9)
    # One block by hand.
    area, values = field.geometry.area[3, 8:12, 4:8], field.values[3, 8:12, 4:8]
    assert shown.values[3, 2, 1] == pytest.approx((area * values).sum() / area.sum(), rel=1e-12)
    assert geometry.grid.resolution == "C180 in 4x4 blocks" and geometry.grid.label == "C45"


def test_fields_on_one_grid_share_its_reduced_geometry():
    field = _cube_field(48)
    other = dataclasses.replace(field, values=2 * field.values)
    first, second = display.for_display(field, max_cs=24), display.for_display(other, max_cs=24)
    assert second.geometry is first.geometry and np.allclose(second.values, 2 * first.values)
    # Another file on the same grid (another Geometry object) reuses it: it is keyed by the grid.
    copy = dataclasses.replace(field.geometry)
    third = display.for_display(dataclasses.replace(field, geometry=copy), max_cs=24)
    assert third.geometry is first.geometry
    assert display.for_display(field, max_cs=16).values.shape == (6, 16, 16)  # another k, another geometry


def test_a_reduced_grid_is_not_the_model_grid_of_that_size():
    reduced = display.for_display(_cube_field(24), max_cs=12).geometry.grid
    native = GridInfo("cubed-sphere", "C12", (6, 12, 12), cs_res=12)
    assert reduced.shape == native.shape and not reduced.same_grid(native)


def test_a_reduced_field_and_a_model_field_of_its_size_are_not_differenced():
    reduced, native = display.for_display(_cube_field(24), max_cs=12), _cube_field(12)
    with pytest.raises(AnalysisError, match=r"^Ref is C12 \(C24 in 2x2 blocks\), Dev is C12 \(C12\)"):
        analysis.difference(reduced, native)


def test_a_cube_no_divisor_fits_keeps_a_smaller_last_block():
    field = _cube_field(97)  # prime: ceil(97/3) = 33 cells a face, the last block one cell wide
    shown = display.for_display(field)
    assert shown.values.shape == (6, 33, 33)
    assert _global_mean(shown) == pytest.approx(_global_mean(field), rel=1e-6)
    assert shown.geometry.area.sum() == pytest.approx(field.geometry.area.sum(), rel=1e-12)
    assert np.array_equal(shown.geometry.corner_lats[:, -1, -1], field.geometry.corner_lats[:, -1, -1])
    assert shown.values[0, -1, -1] == field.values[0, -1, -1]  # a block of one cell


def test_fields_already_small_enough_are_returned_as_they_are(demo_classic, demo_nested, demo_gchp):
    for run in (demo_classic, demo_nested, demo_gchp):
        with readers.Reader(_out(run, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
            field = reader.field("Rn222")
        assert display.for_display(field) is field


def test_demo_fields_reduce_on_every_grid(demo_nested, demo_gchp):
    with readers.Reader(_out(demo_nested, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        nested = reader.field("Rn222")
    shown = display.for_display(nested, max_latlon=(50, 50))
    # k = 4: 121 x 161 becomes 31 x 41, the nested box unchanged.
    assert shown.values.shape == (31, 41) and shown.geometry.grid.nested
    assert shown.geometry.lat_edges[[0, -1]].tolist() == nested.geometry.lat_edges[[0, -1]].tolist()
    assert _global_mean(shown) == pytest.approx(_global_mean(nested), rel=1e-6)
    with readers.Reader(_out(demo_gchp, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        cube = reader.field("Rn222")
    small = display.for_display(cube, max_cs=12)
    assert small.values.shape == (6, 12, 12)
    assert _global_mean(small) == pytest.approx(_global_mean(cube), rel=1e-6)
    assert np.allclose(small.geometry.lats, cubesphere.centres(12)[1], atol=1e-9)


