"""Exports: NetCDF subsets that keep GEOS-Chem's layout, and CSV of slices and series."""

import csv
import io
from datetime import datetime

import numpy as np
import pytest
import xarray as xr

from benchmarks import synthetic_files as synthetic
from results import exports, readers
from results.readers import ReaderError


@pytest.fixture
def classic(tmp_path):
    return synthetic.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", times=3, levels=47,
                                   species=("O3", "CO", "NO"))


def test_a_subset_keeps_the_chosen_variables_times_and_box(classic, tmp_path):
    out = exports.netcdf_subset(classic, tmp_path / "subset.nc4", variables=["O3", "SpeciesConcVV_CO"], times=[0, 2],
                                box=(-130, -60, 20, 50))
    with xr.open_dataset(out) as ds, xr.open_dataset(classic) as original:
        assert set(ds.data_vars) >= {"SpeciesConcVV_O3", "SpeciesConcVV_CO", "hyam", "hybm", "AREA"}
        assert "SpeciesConcVV_NO" not in ds
        assert ds.sizes["time"] == 2 and ds.sizes["lev"] == 47
        assert float(ds.lat.min()) >= 20 and float(ds.lat.max()) <= 50
        assert float(ds.lon.min()) >= -130 and float(ds.lon.max()) <= -60
        expected = original.SpeciesConcVV_O3.isel(time=[0, 2]).sel(lat=ds.lat, lon=ds.lon)
        assert np.allclose(ds.SpeciesConcVV_O3.values, expected.values)
        assert ds.SpeciesConcVV_O3.attrs["units"] == "mol mol-1 dry"
        assert "subset by GEOS-Chem Cloud Runner" in ds.attrs["history"]
    assert readers.inspect(out).grid.nested  # our own reader reads it back as a nested box


def test_a_box_across_the_date_line_is_cut(classic, tmp_path):
    out = exports.netcdf_subset(classic, tmp_path / "pacific.nc4", variables=["O3"], box=(170, -170, -10, 10))
    with xr.open_dataset(out) as ds:
        assert set(np.round(ds.lon.values)) == {-180, -175, -170, 170, 175}


def test_a_cube_subset_keeps_every_cell_and_refuses_a_box(tmp_path):
    cube = synthetic.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", times=2)
    out = exports.netcdf_subset(cube, tmp_path / "cube.nc4", variables=["O3"], times=[1])
    info = readers.inspect(out)
    assert info.grid.cs_res == 24 and len(info.times) == 1
    with pytest.raises(ReaderError, match="can only cut a lat-lon grid"):
        exports.netcdf_subset(cube, tmp_path / "x.nc4", variables=["O3"], box=(0, 10, 0, 10))


@pytest.mark.parametrize("kwargs, message", [
    ({"variables": []}, "choose at least one variable"),
    ({"variables": ["NO2"]}, "has no variable 'NO2'"),
    ({"variables": ["O3"], "times": [5]}, r"time steps \[5\] are out of range"),
    ({"variables": ["O3"], "box": (0, 1, 89.9, 90)}, "holds no grid box"),
])
def test_a_bad_subset_request_says_what_is_wrong(classic, tmp_path, kwargs, message):
    with pytest.raises(ReaderError, match=message):
        exports.netcdf_subset(classic, tmp_path / "bad.nc4", **kwargs)


def test_a_slice_csv_has_a_row_per_cell(classic):
    with readers.Reader(classic) as reader:
        field = reader.field("O3", time=1, level=1)
    rows = list(csv.reader(io.StringIO(exports.slice_csv(field))))
    assert rows[0][0] == "# SpeciesConcVV_O3 (mol mol-1 dry)" and rows[0][1] == "time 2019-07-02T00:00:00"
    assert rows[1] == ["lat", "lon", "SpeciesConcVV_O3 (mol mol-1 dry)"]
    assert len(rows) == 2 + 46 * 72
    assert float(rows[2][2]) == pytest.approx(field.values[0, 0], rel=1e-5)


def test_a_cube_slice_csv_names_face_and_cell(tmp_path):
    cube = synthetic.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4")
    with readers.Reader(cube) as reader:
        rows = list(csv.reader(io.StringIO(exports.slice_csv(reader.field("O3")))))
    assert rows[1][:3] == ["face", "j", "i"] and len(rows) == 2 + 6 * 24 * 24


def test_a_series_csv_leaves_missing_steps_empty():
    text = exports.series_csv([datetime(2019, 7, 1), datetime(2019, 7, 2)], [1.5e-8, None], label="O3 (ppbv)",
                              where="global mean at the surface")
    assert text.splitlines() == ["# global mean at the surface", "time,O3 (ppbv)", "2019-07-01T00:00:00,1.5e-08",
                                 "2019-07-02T00:00:00,"]
