"""The demo model (containers/demo_model): GEOS-Chem-shaped files and logs, physics that
conserves mass and decays at the right rates, restarts that chain, and clear refusals.

Most runs happen in-process (``demo_model.run_spec``) so they are fast and measured by
coverage; the command line, exit codes and SIGTERM are checked in a subprocess.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

DEMO_DIR = Path(__file__).resolve().parents[2] / "containers" / "demo_model"
DEMO = DEMO_DIR / "demo_model.py"
sys.path.insert(0, str(DEMO_DIR))

import demo_model  # noqa: E402
import grids  # noqa: E402
import history  # noqa: E402
import landmask  # noqa: E402
import physics  # noqa: E402
import runconfig  # noqa: E402

# The runner's parsers (containers/runner/logparse.py, docs/run-spec.md).
CLASSIC_DATE = re.compile(r"^---> DATE: \d{4}/\d{2}/\d{2}  UTC: \d{2}:\d{2}  X-HRS: [ \d]{7}\.\d{3}$")
MAPL_LINE = re.compile(r"^ AGCM Date: \d{4}/\d{2}/\d{2}  Time: \d{2}:\d{2}:\d{2}  Throughput\(days/day\)\[Avg Tot Run\]:"
                       r"\s+[\d.]+\s+[\d.]+\s+[\d.]+  TimeRemaining\(Est\) \d{3}:\d{2}:\d{2}\s+[\d.]+% :\s+[\d.]+% Mem Comm:Used$")
TIMER = re.compile(r"^\s+(?P<name>\S.*?)\s*:\s+\d+-\d\d:\d\d:\d\d\.\d{3}\s+(?P<seconds>[\d.]+)\s*$")
END_LINE = "**************   E N D   O F   G E O S -- C H E M   **************"

BASE_SPEC = {
    "spec_version": 1,
    "model": {"name": "classic", "geoschem_version": "14.7.0", "executable": "demo"},
    "simulation": {"type": "TransportTracers", "options": []},
    "grid": {"kind": "latlon", "resolution": "4x5", "levels": 72, "domain": "global",
             "lon_range": [-180.0, 180.0], "lat_range": [-90.0, 90.0], "nested": False,
             "buffer_zone_NSEW": [0, 0, 0, 0], "cs_res": None, "stretch": None},
    "timesteps": {"transport_s": 600, "chemistry_s": 1200},
    "period": {"start": "2019-01-01T00:00:00", "end": "2019-01-03T00:00:00"},
    "run": {"start": "2019-01-01T00:00:00", "end": "2019-01-03T00:00:00"},
    "history": {"collections": [
        {"name": "SpeciesConc", "frequency": "00000001 000000", "duration": "00000001 000000",
         "mode": "time-averaged", "fields": ["SpeciesConcVV_?ALL?"]},
        {"name": "StateMet", "frequency": "00000000 060000", "duration": "00000001 000000",
         "mode": "instantaneous", "fields": ["Met_AD", "Met_FRLAND", "Met_PSC2WET", "Met_T", "Met_U", "Met_NOPE"]},
        {"name": "Budget", "frequency": "00000001 000000", "duration": "00000001 000000",
         "mode": "time-averaged", "fields": []},
    ]},
}


def make_spec(**changes) -> dict:
    """BASE_SPEC with dotted keys replaced, e.g. ``make_spec(**{"grid.resolution": "2x2.5"})``."""
    spec = copy.deepcopy(BASE_SPEC)
    for dotted, value in changes.items():
        node = spec
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return spec


def gchp_spec(**changes) -> dict:
    base = {"model.name": "gchp", "grid.kind": "cubed_sphere", "grid.resolution": "C24", "grid.cs_res": 24,
            "period.end": "2019-01-02T00:00:00", "run.end": "2019-01-02T00:00:00"}
    base.update(changes)
    return make_spec(**base)


def run_in(run_dir: Path, spec: dict, capsys) -> tuple[int, list]:
    """Run the demo model in-process in ``run_dir``; exit code and log lines."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "runspec.json").write_text(json.dumps(spec))
    capsys.readouterr()
    code = demo_model.run_spec(run_dir / "runspec.json", run_dir)
    return code, capsys.readouterr().out.splitlines()


def _run_captured(run_dir: Path, spec: dict):
    """For module-scoped fixtures (capsys is per test): run in-process, capturing stdout."""
    (run_dir / "runspec.json").write_text(json.dumps(spec))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = demo_model.run_spec(run_dir / "runspec.json", run_dir)
    return run_dir, code, out.getvalue().splitlines()


def open_ds(path) -> xr.Dataset:
    with warnings.catch_warnings():
        # MAPL's anchor(nf, ncontact, ncontact) repeats a dimension name; xarray warns.
        warnings.simplefilter("ignore", UserWarning)
        return xr.open_dataset(path)


@pytest.fixture(scope="module")
def classic_two_days(tmp_path_factory):
    """One 2-day 4x5 run shared by the Classic file and log tests."""
    return _run_captured(tmp_path_factory.mktemp("classic"), make_spec())


# ---------------------------------------------------------------------------------------------
# Classic files and log
# ---------------------------------------------------------------------------------------------
def test_it_writes_classic_files_with_geoschem_names(classic_two_days):
    run_dir, code, _ = classic_two_days
    assert code == 0
    assert sorted(p.name for p in (run_dir / "OutputDir").iterdir()) == [
        "GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.SpeciesConc.20190102_0000z.nc4",
        "GEOSChem.StateMet.20190101_0000z.nc4", "GEOSChem.StateMet.20190102_0000z.nc4"]
    assert [p.name for p in (run_dir / "Restarts").iterdir()] == ["GEOSChem.Restart.20190103_0000z.nc4"]


def test_classic_species_file_has_geoschem_layout_and_demo_label(classic_two_days):
    run_dir, _, _ = classic_two_days
    ds = open_ds(run_dir / "OutputDir" / "GEOSChem.SpeciesConc.20190102_0000z.nc4")
    rn = ds["SpeciesConcVV_Rn222"]
    assert rn.dims == ("time", "lev", "lat", "lon")
    assert rn.shape == (1, 72, 46, 72)
    assert rn.dtype == np.float32
    assert rn.attrs["units"] == "mol mol-1 dry"
    assert rn.attrs["long_name"] == "Dry mixing ratio of species Rn222"
    assert ds.sizes["ilev"] == 73
    assert ds["lev"].attrs["formula_terms"] == "a: hyam b: hybm p0: P0 ps: PS"
    assert ds["lev"].attrs["standard_name"] == "atmosphere_hybrid_sigma_pressure_coordinate"
    assert ds["lev"].attrs["positive"] == "up"
    np.testing.assert_allclose(ds["lat"].values[[0, 1, -2, -1]], [-89.0, -86.0, 86.0, 89.0])
    np.testing.assert_allclose(ds["lon"].values[[0, -1]], [-180.0, 175.0])
    assert ds["AREA"].attrs["units"] == "m2"
    assert ds.attrs["demo_model"].startswith("GEOS-Chem Cloud Runner demo model")
    assert "NOT GEOS-Chem" in ds.attrs["demo_model"] and "DEMO" in ds.attrs["title"]
    assert ds.attrs["conventions"] == "COARDS"
    assert ds.attrs["simulation"] == "TransportTracers"
    # Time-averaged: stamped with the period start, time value at the period middle.
    assert str(ds["time"].values[0])[:19] == "2019-01-02T12:00:00"
    with netCDF4.Dataset(run_dir / "OutputDir" / "GEOSChem.SpeciesConc.20190102_0000z.nc4") as raw:
        assert raw["time"].units == "minutes since 2019-01-02 00:00:00"
        assert raw["time"].calendar == "gregorian" and raw["time"].axis == "T"
        assert raw.dimensions["time"].isunlimited()
        np.testing.assert_allclose(raw["hyai"][:], grids.AP72)
        np.testing.assert_allclose(raw["hybi"][:], grids.BP72)
        assert float(raw["P0"][...]) == 1000.0


def test_hybrid_coefficients_are_geoschems(classic_two_days):
    # Spot values from GeosUtil/pressure_mod.F90 (Ap in hPa).
    assert grids.AP72[1] == pytest.approx(4.804826e-02)
    assert grids.BP72[31] == pytest.approx(8.175413e-09)
    assert grids.AP72[-1] == pytest.approx(1.0e-02)
    assert grids.AP47[37] == pytest.approx(5.638791e+01) and grids.AP47[-2] == pytest.approx(6.600001e-02)
    assert len(grids.AP47) == 48 and len(grids.BP47) == 48


def test_radon_is_positive_over_land_and_higher_than_over_ocean(classic_two_days):
    run_dir, _, _ = classic_two_days
    ds = open_ds(run_dir / "OutputDir" / "GEOSChem.SpeciesConc.20190102_0000z.nc4")
    met = open_ds(run_dir / "OutputDir" / "GEOSChem.StateMet.20190102_0000z.nc4")
    surface = ds["SpeciesConcVV_Rn222"].isel(time=0, lev=0).values
    land = met["Met_FRLAND"].isel(time=0).values
    tropics = np.abs(ds["lat"].values)[:, None] < 55.0
    over_land = surface[(land > 0.9) & tropics]
    over_ocean = surface[(land < 0.05) & tropics]
    assert over_land.min() > 0.0
    assert over_land.mean() > 5.0 * over_ocean.mean()
    assert 1e-21 < over_land.mean() < 1e-18   # the magnitude of observed continental radon
    assert ds["SpeciesConcVV_Pb210"].isel(time=0, lev=0).values.max() > 0.0


def test_instantaneous_state_met_files_hold_the_snapshots(classic_two_days):
    run_dir, _, log = classic_two_days
    met = open_ds(run_dir / "OutputDir" / "GEOSChem.StateMet.20190101_0000z.nc4")
    times = [str(t)[:16] for t in met["time"].values]
    assert times == ["2019-01-01T06:00", "2019-01-01T12:00", "2019-01-01T18:00", "2019-01-02T00:00"]
    assert set(met.data_vars) >= {"Met_AD", "Met_FRLAND", "Met_PSC2WET", "Met_T", "Met_U"}
    assert "Met_NOPE" not in met.data_vars
    assert met["Met_AD"].attrs["units"] == "kg" and met["Met_AD"].dims == ("time", "lev", "lat", "lon")
    assert met["Met_PSC2WET"].dims == ("time", "lat", "lon")
    assert met["Met_AD"].attrs["averaging_method"] == "instantaneous"
    assert any("Met_NOPE" in line and "not available" in line for line in log)


def test_classic_restart_has_speciesrst_variables_in_double_precision(classic_two_days):
    run_dir, _, _ = classic_two_days
    with netCDF4.Dataset(run_dir / "Restarts" / "GEOSChem.Restart.20190103_0000z.nc4") as ds:
        var = ds["SpeciesRst_Rn222"]
        assert var.dimensions == ("time", "lev", "lat", "lon")
        assert var.dtype == np.float64 and var.units == "mol mol-1 dry"
        assert ds["time"].units == "minutes since 2019-01-03 00:00:00"
        assert "SpeciesRst_Pb210" in ds.variables and "Met_DELPDRY" in ds.variables


def test_classic_log_has_geoschem_lines_the_runner_parses(classic_two_days):
    _, _, log = classic_two_days
    assert "DEMO MODEL" in log[1] and "NOT GEOS-Chem" in log[1]
    dates = [line for line in log if line.startswith("---> DATE:")]
    assert len(dates) == 2 * 24 * 6            # one per 600 s transport step
    assert all(CLASSIC_DATE.match(line) for line in dates)
    assert dates[0] == "---> DATE: 2019/01/01  UTC: 00:00  X-HRS:       0.000"
    assert dates[6] == "---> DATE: 2019/01/01  UTC: 01:00  X-HRS:       1.000"
    assert "     - Creating file for SpeciesConc; reference = 20190101 000000" in log
    assert "        with filename = ./OutputDir/GEOSChem.SpeciesConc.20190101_0000z.nc4" in log
    assert "     - Creating file for Restart; reference = 20190103 000000" in log
    assert any("collection Budget is not produced by the demo model" in line for line in log)
    assert any("no restart file ./Restarts/GEOSChem.Restart.20190101_0000z.nc4" in line for line in log)
    header = next(i for i, line in enumerate(log) if "Timer name" in line and "Total Seconds" in line)
    timers = {m["name"]: float(m["seconds"]) for m in map(TIMER.match, log[header + 1:]) if m}
    assert {"GEOS-Chem", "Transport", "Boundary layer mixing", "All chemistry"} <= set(timers)
    assert timers["GEOS-Chem"] >= timers["Transport"] > 0.0
    assert log[-1] == END_LINE


# ---------------------------------------------------------------------------------------------
# Restarts, determinism
# ---------------------------------------------------------------------------------------------
def test_two_one_day_segments_chained_by_restart_equal_one_two_day_run(classic_two_days, tmp_path, capsys):
    reference_dir = classic_two_days[0]
    day1 = make_spec(**{"period.end": "2019-01-02T00:00:00"})
    day2 = make_spec(**{"period.start": "2019-01-02T00:00:00"})
    code1, _ = run_in(tmp_path, day1, capsys)
    code2, log2 = run_in(tmp_path, day2, capsys)
    assert code1 == code2 == 0
    assert any("initial conditions read from ./Restarts/GEOSChem.Restart.20190102_0000z.nc4" in line for line in log2)
    for name in ("Restarts/GEOSChem.Restart.20190103_0000z.nc4", "OutputDir/GEOSChem.SpeciesConc.20190102_0000z.nc4"):
        with netCDF4.Dataset(tmp_path / name) as chained, netCDF4.Dataset(reference_dir / name) as single:
            for var in ("Rn222", "Pb210"):
                # Restarts are float64 (differences ~1e-15), diagnostics float32.
                key, rtol = (f"SpeciesRst_{var}", 1e-12) if "Restart" in name else (f"SpeciesConcVV_{var}", 1e-6)
                np.testing.assert_allclose(chained[key][:], single[key][:], rtol=rtol, atol=1e-30)


def test_the_same_spec_gives_identical_data(tmp_path, capsys):
    spec = make_spec(**{"period.end": "2019-01-01T12:00:00", "history.collections": [
        {"name": "SpeciesConc", "frequency": "00000000 060000", "duration": "00000000 120000",
         "mode": "time-averaged", "fields": []}]})
    for name in ("a", "b"):
        assert run_in(tmp_path / name, spec, capsys)[0] == 0
    for rel in ("OutputDir/GEOSChem.SpeciesConc.20190101_0000z.nc4", "Restarts/GEOSChem.Restart.20190101_1200z.nc4"):
        with netCDF4.Dataset(tmp_path / "a" / rel) as a, netCDF4.Dataset(tmp_path / "b" / rel) as b:
            assert a.variables.keys() == b.variables.keys()
            for key in a.variables:
                assert np.asarray(a[key][:]).tobytes() == np.asarray(b[key][:]).tobytes(), key


def test_a_47_level_nested_run_crops_a_box_and_writes_47_levels(tmp_path, capsys):
    spec = make_spec(**{"grid.resolution": "0.5x0.625", "grid.levels": 47, "grid.domain": "custom",
                        "grid.nested": True, "grid.lon_range": [-100.0, -90.0], "grid.lat_range": [30.0, 40.0],
                        "timesteps.transport_s": 300, "period.end": "2019-01-01T06:00:00",
                        "history.collections": [{"name": "SpeciesConc", "frequency": "End", "duration": "End",
                                                 "mode": "time-averaged", "fields": ["SpeciesConcVV_Rn222"]}]})
    code, log = run_in(tmp_path, spec, capsys)
    assert code == 0
    ds = open_ds(tmp_path / "OutputDir" / "GEOSChem.SpeciesConc.20190101_0000z.nc4")
    assert dict(ds["SpeciesConcVV_Rn222"].sizes) == {"time": 1, "lev": 47, "lat": 21, "lon": 17}
    assert list(ds.data_vars).count("SpeciesConcVV_Pb210") == 0
    np.testing.assert_allclose(ds["lat"].values[[0, -1]], [30.0, 40.0])
    np.testing.assert_allclose(ds["lon"].values[[0, -1]], [-100.0, -90.0])
    assert ds["SpeciesConcVV_Rn222"].values.max() > 0.0      # over land (Texas / Oklahoma)
    assert any("zero-gradient boundary" in line for line in log)


# ---------------------------------------------------------------------------------------------
# GCHP
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gchp_one_day(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("gchp")
    (run_dir / "cap_restart").write_text("20190101 000000\n")
    return _run_captured(run_dir, gchp_spec())


def test_gchp_writes_cubed_sphere_files_with_mapl_coordinates(gchp_one_day):
    run_dir, code, _ = gchp_one_day
    assert code == 0
    ds = open_ds(run_dir / "OutputDir" / "GEOSChem.SpeciesConc.20190101_0000z.nc4")
    assert ds["SpeciesConcVV_Rn222"].dims == ("time", "lev", "nf", "Ydim", "Xdim")
    assert ds["SpeciesConcVV_Rn222"].shape == (1, 72, 6, 24, 24)
    assert ds["lons"].dims == ("nf", "Ydim", "Xdim") and ds["lats"].shape == (6, 24, 24)
    assert ds["corner_lons"].dims == ("nf", "YCdim", "XCdim") and ds["corner_lats"].shape == (6, 25, 25)
    assert list(ds["nf"].values) == [1, 2, 3, 4, 5, 6]
    assert ds["Xdim"].attrs["long_name"] == "Fake Longitude for GrADS Compatibility"
    assert "DEMO" in ds.attrs["Title"] and "NOT GEOS-Chem" in ds.attrs["demo_model"]
    # Face 1 is centred near 350E on the equator, face 3 on the north pole, face 6 the south.
    lats, lons = ds["lats"].values, ds["lons"].values
    assert abs(lats[0].mean()) < 1.0 and 345.0 < lons[0, 11:13, 11:13].mean() < 355.0
    assert lats[2].min() > 35.0 and lats[5].max() < -35.0
    assert 75.0 < lons[1, 11:13, 11:13].mean() < 85.0


def test_gchp_restart_is_stacked_faces_with_the_top_level_first(gchp_one_day):
    run_dir, _, _ = gchp_one_day
    assert (run_dir / "cap_restart").read_text() == "20190102 000000\n"
    with netCDF4.Dataset(run_dir / "Restarts" / "GEOSChem.Restart.20190102_0000z.c24.nc4") as ds:
        rn = ds["SPC_Rn222"]
        assert rn.dimensions == ("time", "lev", "lat", "lon") and rn.shape == (1, 72, 144, 24)
        values = rn[0]
        assert values[-1].max() > 100.0 * values[0].max()   # radon sits at the surface = last level
        assert ds["DELP_DRY"][0, 0, 0, 0] < ds["DELP_DRY"][0, -1, 0, 0]


def test_gchp_log_has_mapl_heartbeats(gchp_one_day):
    _, _, log = gchp_one_day
    beats = [line for line in log if "AGCM Date:" in line]
    assert len(beats) == 24 * 6
    assert all(MAPL_LINE.match(line) for line in beats)
    assert beats[-1].startswith(" AGCM Date: 2019/01/02  Time: 00:00:00")
    assert any(line.startswith(" Writing: ") and "GEOSChem.SpeciesConc.20190101_0000z.nc4" in line for line in log)
    assert not any(line.startswith("---> DATE") for line in log)


def test_a_gchp_segment_starts_from_the_previous_checkpoint(gchp_one_day, tmp_path, capsys):
    run_dir = gchp_one_day[0]
    (tmp_path / "Restarts").mkdir()
    shutil.copy(run_dir / "Restarts" / "GEOSChem.Restart.20190102_0000z.c24.nc4", tmp_path / "Restarts")
    spec = gchp_spec(**{"period.start": "2019-01-02T00:00:00", "period.end": "2019-01-02T02:00:00",
                        "history.collections": []})
    code, log = run_in(tmp_path, spec, capsys)
    assert code == 0
    assert any("initial conditions read from ./Restarts/GEOSChem.Restart.20190102_0000z.c24.nc4" in l for l in log)
    with netCDF4.Dataset(run_dir / "Restarts" / "GEOSChem.Restart.20190102_0000z.c24.nc4") as before, \
            netCDF4.Dataset(tmp_path / "Restarts" / "GEOSChem.Restart.20190102_0200z.c24.nc4") as after:
        b, a = before["SPC_Pb210"][0], after["SPC_Pb210"][0]
        assert np.corrcoef(b.ravel(), a.ravel())[0, 1] > 0.9   # continued, not restarted from zero


# ---------------------------------------------------------------------------------------------
# Command line: exit codes, messages, SIGTERM
# ---------------------------------------------------------------------------------------------
def _cli(run_dir: Path, spec: dict, **kwargs):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "runspec.json").write_text(json.dumps(spec))
    return subprocess.run([sys.executable, str(DEMO)], cwd=run_dir, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.mark.parametrize("changes, message", [
    ({"grid.resolution": "1x1.25"}, "unsupported resolution '1x1.25'"),
    ({"grid.levels": 40}, "72 or 47 levels"),
    ({"model.name": "gchp", "grid.resolution": "C90", "grid.cs_res": 90}, "unsupported GCHP resolution 'C90'"),
    ({"model.name": "gchp", "grid.resolution": "C24", "grid.cs_res": 24,
      "grid.stretch": {"factor": 2.0, "target_lat": 40.0, "target_lon": -100.0}}, "stretched"),
    ({"grid.resolution": "0.25x0.3125", "grid.domain": "NA", "grid.nested": True}, "nested"),
    ({"history.collections": [{"name": "SpeciesConc", "frequency": "daily"}]}, "YYYYMMDD hhmmss"),
])
def test_it_refuses_what_it_cannot_run_with_one_clear_line(tmp_path, changes, message):
    result = _cli(tmp_path, make_spec(**changes))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("DEMO MODEL ERROR:") and message in lines[0]
    assert not (tmp_path / "OutputDir").exists()


def test_it_reports_a_missing_spec(tmp_path):
    result = subprocess.run([sys.executable, str(DEMO), "--spec", "nowhere.json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "run spec not found: nowhere.json" in result.stderr


def test_it_stops_promptly_on_sigterm(tmp_path):
    (tmp_path / "runspec.json").write_text(json.dumps(make_spec(**{"period.end": "2019-03-01T00:00:00"})))
    proc = subprocess.Popen([sys.executable, str(DEMO)], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("---> DATE: 2019/01/01  UTC: 04:00"):
                break
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        rest = proc.stdout.read()
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
    assert code == 128 + signal.SIGTERM
    assert time.monotonic() - sent < 10.0
    assert "received SIGTERM" in rest
    assert not list((tmp_path / "Restarts").glob("*.nc4"))


# ---------------------------------------------------------------------------------------------
# Physics and grids, directly
# ---------------------------------------------------------------------------------------------
def test_radon_decays_with_its_half_life_and_feeds_lead():
    t = 3.8235 * 86400.0
    rn, pb = physics.decay(np.array([1.0]), np.array([0.0]), t)
    assert rn[0] == pytest.approx(0.5, rel=1e-12)
    l1, l2 = math.log(2) / t, math.log(2) / (22.2 * 365.25 * 86400.0)
    assert pb[0] == pytest.approx(l1 / (l2 - l1) * (math.exp(-l1 * t) - math.exp(-l2 * t)), rel=1e-12)
    assert pb[0] == pytest.approx(0.5, rel=1e-3)            # nearly all decayed radon is now lead
    rn, pb = physics.decay(np.array([0.0]), np.array([1.0]), 22.2 * 365.25 * 86400.0)
    assert pb[0] == pytest.approx(0.5, rel=1e-12)
    # Many short steps equal one long one (the solution is exact, not a time-stepping scheme).
    r, p = np.array([1.0]), np.array([0.0])
    for _ in range(24):
        r, p = physics.decay(r, p, 3600.0)
    r1, p1 = physics.decay(np.array([1.0]), np.array([0.0]), 86400.0)
    assert r[0] == pytest.approx(r1[0], rel=1e-12) and p[0] == pytest.approx(p1[0], rel=1e-12)


@pytest.mark.parametrize("make_grid", [lambda: grids.latlon_grid("4x5"), lambda: grids.cubed_sphere_grid(24)],
                         ids=["4x5", "C24"])
def test_transport_and_mixing_conserve_tracer_mass(make_grid):
    grid = make_grid()
    land = landmask.land_fraction(grid.sample_lon, grid.sample_lat)
    ops = physics.Operations(emissions=False, chemistry=False, deposition=False)
    model = physics.TracerModel(grid, grids.vertical_grid(47), land, ops)
    model.q[:] = np.random.default_rng(1).random(model.q.shape) * 1e-20
    before = model.tracer_mass()
    for k in range(6):
        model.step(6.3e8 + k * 7200.0, 7200.0)
    assert model.substeps_taken >= 6
    np.testing.assert_allclose(model.tracer_mass(), before, rtol=1e-12)
    assert model.q.min() >= 0.0


def test_the_wind_is_non_divergent_on_every_grid():
    for grid in (grids.latlon_grid("2x2.5"), grids.cubed_sphere_grid(24),
                 grids.latlon_grid("0.5x0.625", (-20.0, 10.0), (40.0, 60.0), nested=True)):
        model = physics.TracerModel(grid, grids.vertical_grid(47), np.zeros(grid.ncell), physics.Operations())
        model.q[:] = 1.0
        psi = model.winds.psi(grid.vertex_lon, grid.vertex_lat, 1.0e8)
        model.advection.step(model.q, model.advection.face_fluxes(psi), 7200.0)
        assert np.abs(model.q - 1.0).max() < 1e-12, grid.label


def test_fast_transport_faces_are_exactly_the_grid_faces():
    for grid in (grids.latlon_grid("4x5"), grids.cubed_sphere_grid(6)):
        nb, ny, nx = grid.blocks
        cell = np.arange(grid.ncell).reshape(nb, ny, nx)
        cv = grid.corner_vertex
        faces = set(zip(cell[..., :-1].ravel(), cell[..., 1:].ravel(), cv[:, :-1, 1:-1].ravel(), cv[:, 1:, 1:-1].ravel()))
        faces |= set(zip(cell[:, :-1].ravel(), cell[:, 1:].ravel(), cv[:, 1:-1, 1:].ravel(), cv[:, 1:-1, :-1].ravel()))
        faces |= set(zip(grid.link_left, grid.link_right, grid.link_va, grid.link_vb))
        listed = set(zip(grid.edge_left, grid.edge_right, grid.edge_va, grid.edge_vb))
        assert faces == listed, grid.label


def test_cubed_sphere_areas_cover_the_sphere_and_faces_match_gchp():
    grid = grids.cubed_sphere_grid(24)
    assert grid.area.sum() == pytest.approx(4.0 * math.pi * grid.radius ** 2, rel=1e-12)
    assert grid.area.min() / grid.area.max() > 0.4
    corners = grid.extra["corner_lons"]
    # The cube is rotated 10 degrees west: face 1's south-west corner sits at 305E, 35.26S.
    assert corners[0, 0, 0] == pytest.approx(305.0, abs=1e-9)
    assert grid.extra["corner_lats"][0, 0, 0] == pytest.approx(-math.degrees(math.asin(1 / math.sqrt(3))), abs=1e-9)
    assert grid.edge_left.size == 2 * grid.ncell             # every cell has 4 faces, each shared


def test_latlon_areas_are_geoschems():
    grid = grids.latlon_grid("2x2.5")
    assert grid.shape == (91, 144)
    assert grid.area.sum() == pytest.approx(4.0 * math.pi * 6.375e6 ** 2, rel=1e-12)
    assert grid.extra["lat"][0] == -89.5 and grid.extra["lat"][1] == -88.0


def test_the_approximate_land_mask_knows_the_continents():
    points = {(10, 20): True, (-60, -5): True, (100, 60): True, (135, -25): True, (-100, 40): True,
              (-30, 30): False, (-150, 0): False, (18, 35): False, (34, 43.5): False, (51, 42): False,
              (-85, 60): False, (75, -10): False, (-90, 25): False, (170, -60): False}
    lon = np.array([p[0] for p in points], dtype=float)
    lat = np.array([p[1] for p in points], dtype=float)
    assert list(landmask.is_land(lon, lat)) == list(points.values())
    grid = grids.latlon_grid("4x5")
    fraction = (landmask.land_fraction(grid.sample_lon, grid.sample_lat) * grid.area).sum() / grid.area.sum()
    assert 0.24 < fraction < 0.36                            # Earth: about 29 % land


def test_history_intervals_and_field_wildcards():
    interval = runconfig.parse_interval("00000100 000000", "x")
    assert interval.add_to(datetime(2019, 1, 31)) == datetime(2019, 2, 28)
    assert runconfig.parse_interval("End", "x") is runconfig.END
    assert runconfig.parse_interval("00000000 013000", "x").add_to(datetime(2019, 1, 1)) == datetime(2019, 1, 1, 1, 30)
    chosen, missing = history.select_fields("SpeciesConc", ["SpeciesConc_?ALL?"])
    assert chosen == ["SpeciesConcVV_Rn222", "SpeciesConcVV_Pb210"] and missing == []
    chosen, missing = history.select_fields("StateMet", ["Met_AD", "Met_SPHU"])
    assert chosen == ["Met_AD"] and missing == ["Met_SPHU"]
