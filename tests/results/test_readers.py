"""Reading Classic and GCHP files: demo-model runs and synthetic files, and every bad input."""

from datetime import datetime

import netCDF4
import numpy as np
import pytest

from benchmarks import synthetic_files as synthetic
from results import cubesphere, readers, vertical
from results.readers import ReaderError

SPHERE = 4 * np.pi * cubesphere.EARTH_RADIUS_M ** 2


def _out(run_dir, name):
    return next(p for p in run_dir.rglob(name))


def test_a_classic_species_file_is_described_from_its_metadata(demo_classic):
    info = readers.inspect(_out(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4"))
    assert (info.collection, info.kind, info.model, info.demo, info.top_first) == (
        "SpeciesConc", "diagnostic", "classic", True, False)
    assert info.grid.kind == "latlon" and info.grid.resolution == "4x5" and not info.grid.nested
    assert info.grid.shape == (46, 72) and info.grid.label == "4x5 global"
    # A time-averaged file is named after the start of its period; its time is the middle.
    assert info.levels == 72 and info.times == (datetime(2019, 1, 1, 12),)
    rn = info.variable("Rn222")
    assert (rn.name, rn.species, rn.units, rn.levels) == ("SpeciesConcVV_Rn222", "Rn222", "mol mol-1 dry", 72)
    assert rn.dims == ("time", "lev", "lat", "lon")
    assert info.size_bytes > 0


def test_a_classic_slice_is_read_with_its_geometry_and_pressure(demo_classic):
    with readers.Reader(_out(demo_classic, "GEOSChem.SpeciesConc.20190102_0000z.nc4")) as reader:
        surface = reader.field("Rn222", level=1)
        top = reader.field("SpeciesConcVV_Rn222", level=72)
        geometry = reader.geometry
    assert surface.values.shape == (46, 72) and surface.time == datetime(2019, 1, 2, 12)
    assert np.nanmean(surface.values) > 100 * np.nanmean(top.values) > 0  # radon is emitted at the surface
    assert surface.pressure_hpa > 990 and top.pressure_hpa < 0.1
    assert geometry.lat_edges[0] == -90 and geometry.lat_edges[-1] == 90 and geometry.lon.size == 72
    assert geometry.area.shape == (46, 72)
    assert geometry.area.sum() == pytest.approx(4 * np.pi * readers.GC_EARTH_RADIUS_M ** 2, rel=1e-4)


def test_a_nested_file_knows_its_box(demo_nested):
    info = readers.inspect(_out(demo_nested, "GEOSChem.SpeciesConc.20190101_0000z.nc4"))
    grid = info.grid
    assert grid.nested and grid.resolution == "0.5x0.625" and info.levels == 47
    assert -141 < grid.lon_range[0] < -139 and -41 < grid.lon_range[1] < -39
    assert 9 < grid.lat_range[0] < 11 and 69 < grid.lat_range[1] < 71
    assert "nested" in grid.label
    with readers.Reader(info.path) as reader:
        field = reader.field("Rn222", time=-1, level=47)
        assert field.pressure_hpa == pytest.approx(vertical.mid_pressures(47)[-1])
        assert field.values.shape == grid.shape


def test_a_gchp_diagnostic_is_a_cube_with_centres_corners_and_areas(demo_gchp):
    info = readers.inspect(_out(demo_gchp, "GEOSChem.SpeciesConc.20190101_0000z.nc4"))
    assert (info.model, info.grid.kind, info.grid.cs_res, info.grid.shape, info.top_first) == (
        "gchp", "cubed-sphere", 24, (6, 24, 24), False)
    assert info.variable("Rn222").dims == ("time", "lev", "nf", "Ydim", "Xdim")
    with readers.Reader(info.path) as reader:
        field = reader.field("Rn222")
        geometry = reader.geometry
        # GCHP files carry no hybrid coefficients: GEOS-Chem's 72-level grid gives the pressure.
        assert field.pressure_hpa == pytest.approx(vertical.mid_pressures(72)[0])
    assert field.values.shape == (6, 24, 24)
    assert geometry.corner_lons.shape == (6, 25, 25)
    assert geometry.area.sum() == pytest.approx(SPHERE, rel=1e-9)


def test_the_computed_cube_matches_the_demo_models_coordinates(demo_gchp):
    with netCDF4.Dataset(_out(demo_gchp, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as ds:
        corner_lons, corner_lats = ds["corner_lons"][:], ds["corner_lats"][:]
        lons, lats = ds["lons"][:], ds["lats"][:]
    mine_lons, mine_lats = cubesphere.corners(24)
    centre_lons, centre_lats = cubesphere.centres(24)
    assert np.allclose(mine_lats, corner_lats, atol=1e-9)
    assert np.allclose((mine_lons - corner_lons + 180) % 360 - 180, 0, atol=1e-9)
    assert np.allclose(centre_lats, lats, atol=1e-9)
    assert np.allclose((centre_lons - lons + 180) % 360 - 180, 0, atol=1e-9)


def test_a_gchp_checkpoint_is_unstacked_and_read_from_the_surface(demo_gchp):
    path = _out(demo_gchp, "GEOSChem.Restart.20190102_0000z.c24.nc4")
    info = readers.inspect(path)
    assert (info.kind, info.model, info.top_first, info.grid.stacked_faces, info.grid.cs_res) == (
        "restart", "gchp", True, True, 24)
    with readers.Reader(path) as reader:
        surface = reader.field("SPC_Rn222", level=1)
        top = reader.field("Rn222", level=72)
        column = reader.column("Rn222")
        assert reader.geometry.area.sum() == pytest.approx(SPHERE, rel=1e-9)
    assert surface.values.shape == (6, 24, 24)
    assert np.nanmean(surface.values) > 100 * np.nanmean(top.values)
    assert np.array_equal(column[0], surface.values) and np.array_equal(column[-1], top.values)


def test_the_emissions_collection_is_top_down_and_read_from_the_surface(tmp_path):
    path = synthetic.write_gchp(tmp_path / "GEOSChem.Emissions.20190701_0000z.nc4", collection="Emissions")
    plain = synthetic.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4")
    with readers.Reader(path) as emissions, readers.Reader(plain) as species:
        assert emissions.info.top_first and not species.info.top_first
        assert np.array_equal(emissions.field("O3", level=1).values, species.field("O3", level=1).values)


def test_the_older_species_naming_is_read_too(tmp_path):
    path = synthetic.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", naming="SpeciesConc_")
    with readers.Reader(path) as reader:
        assert reader.info.variable("O3").name == "SpeciesConc_O3"
        assert reader.field("O3").variable.species == "O3"


def test_time_series_and_columns_read_whole_axes(tmp_path):
    path = synthetic.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", times=4)
    with readers.Reader(path) as reader:
        series = reader.level_series("O3", level=1)
        column = reader.column("O3", time=datetime(2019, 7, 3))
        assert reader.time_index(-1) == 3
    assert series.shape == (4, 46, 72) and column.shape == (72, 46, 72)
    assert np.nanmean(series[3]) > np.nanmean(series[0])


def test_fill_values_become_nan(tmp_path):
    path = synthetic.write_classic(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4")
    with netCDF4.Dataset(path, "a") as ds:
        ds["SpeciesConcVV_O3"][0, 0, 0, :5] = 1.0e30
    with readers.Reader(path) as reader:
        values = reader.field("O3").values
    assert np.isnan(values[0, :5]).all() and not np.isnan(values[1:]).any()


@pytest.mark.parametrize("name, collection, kind", [
    ("GEOSChem.SpeciesConc.20190701_0000z.nc4", "SpeciesConc", "diagnostic"),
    ("GEOSChem.Restart.20190801_0000z.nc4", "Restart", "restart"),
    ("GEOSChem.Restart.20190801_0000z.c90.nc4", "Restart", "restart"),
    ("GCHP.SpeciesConc.20190701_0000z.nc4", "SpeciesConc", "diagnostic"),
    ("HEMCO_diagnostics.201907010000.nc", "HEMCO", "hemco"),
    ("gcchem_internal_checkpoint.20190801_0000z.nc4", "Restart", "restart"),
    ("notes.nc", "notes", "other"),
])
def test_file_names_give_the_collection_and_kind(name, collection, kind):
    assert readers.name_kind(name) == (collection, kind)


# --- Bad input ---------------------------------------------------------------------------------------

def test_a_truncated_file_says_so(demo_classic, tmp_path):
    whole = _out(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4").read_bytes()
    cut = tmp_path / "GEOSChem.SpeciesConc.20190101_0000z.nc4"
    cut.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ReaderError, match="truncated"):
        readers.inspect(cut)


def test_a_file_that_is_not_netcdf_says_so(tmp_path):
    junk = tmp_path / "GEOSChem.SpeciesConc.20190101_0000z.nc4"
    junk.write_text("not a netCDF file")
    with pytest.raises(ReaderError, match="cannot be read as netCDF"):
        readers.Reader(junk)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ReaderError, match="does not exist"):
        readers.inspect(tmp_path / "gone.nc4")


def test_a_file_with_unexpected_dimensions_says_which(tmp_path):
    path = tmp_path / "odd.nc4"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("station", 3)
        ds.createVariable("O3", "f4", ("station",))
    with pytest.raises(ReaderError, match="has dimensions station: neither"):
        readers.inspect(path)


def test_a_missing_variable_lists_what_there_is(demo_classic):
    with readers.Reader(_out(demo_classic, "GEOSChem.SpeciesConc.20190101_0000z.nc4")) as reader:
        with pytest.raises(ReaderError, match="has no variable 'NO2'; it has SpeciesConcVV_Rn222"):
            reader.field("NO2")


def test_levels_and_times_out_of_range_name_the_valid_range(demo_classic):
    with readers.Reader(_out(demo_classic, "GEOSChem.StateMet.20190101_0000z.nc4")) as reader:
        with pytest.raises(ReaderError, match=r"level 73 is out of range: Met_T has levels 1 \(surface\) to 72"):
            reader.field("Met_T", level=73)
        with pytest.raises(ReaderError, match="level 0 is out of range"):
            reader.field("Met_T", level=0)
        with pytest.raises(ReaderError, match=r"time step 4 is out of range: .* has 4 \(0 to 3"):
            reader.field("Met_T", time=4)
        with pytest.raises(ReaderError, match="has no time 2019-02-01 00:00"):
            reader.field("Met_T", time=datetime(2019, 2, 1))
        assert reader.field("Met_PSC2WET", level=5).level is None  # a 2-D field ignores the level
        with pytest.raises(ReaderError, match="is a 2-D field"):
            reader.column("Met_PSC2WET")


def test_grids_compare_by_shape_resolution_and_extent(tmp_path):
    a = readers.inspect(synthetic.write_classic(tmp_path / "a.nc4"))
    b = readers.inspect(synthetic.write_classic(tmp_path / "b.nc4", species=("NO",)))
    c = readers.inspect(synthetic.write_classic(tmp_path / "c.nc4", resolution="2x2.5"))
    assert a.grid.same_grid(b.grid) and not a.grid.same_grid(c.grid)
    assert a.grid.as_dict()["label"] == "4x5 global"
