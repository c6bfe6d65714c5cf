"""Files to read: demo-model runs (Classic 4x5, nested 0.5x0.625 NA, GCHP C24), made once per
session in-process, and the synthetic writers of benchmarks/synthetic_files.py."""

import contextlib
import copy
import io
import json
import sys
from pathlib import Path

import pytest

DEMO_DIR = Path(__file__).resolve().parents[2] / "containers" / "demo_model"

SPEC = {
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
         "mode": "instantaneous", "fields": ["Met_AD", "Met_PSC2WET", "Met_T", "Met_DELPDRY"]},
    ]},
}


def run_demo(run_dir: Path, **changes) -> Path:
    """Run the demo model in-process in `run_dir` with SPEC's dotted keys replaced; its OutputDir."""
    if str(DEMO_DIR) not in sys.path:
        sys.path.insert(0, str(DEMO_DIR))
    import demo_model

    spec = copy.deepcopy(SPEC)
    for dotted, value in changes.items():
        node = spec
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    run_dir.mkdir(parents=True, exist_ok=True)
    if spec["model"]["name"] == "gchp":
        (run_dir / "cap_restart").write_text(spec["period"]["start"][:10].replace("-", "") + " 000000\n")
    (run_dir / "runspec.json").write_text(json.dumps(spec))
    with contextlib.redirect_stdout(io.StringIO()):
        code = demo_model.run_spec(run_dir / "runspec.json", run_dir)
    assert code == 0, f"the demo model failed with {code}"
    return run_dir


@pytest.fixture(scope="session")
def demo_classic(tmp_path_factory) -> Path:
    """A 2-day Classic 4x5 run: daily SpeciesConc, 6-hourly StateMet, a restart."""
    return run_demo(tmp_path_factory.mktemp("classic"))


@pytest.fixture(scope="session")
def demo_nested(tmp_path_factory) -> Path:
    """A 6-hour nested 0.5x0.625 North America run on 47 levels."""
    return run_demo(tmp_path_factory.mktemp("nested"), **{
        "grid.resolution": "0.5x0.625", "grid.domain": "NA", "grid.nested": True, "grid.levels": 47,
        "grid.lon_range": [-140.0, -40.0], "grid.lat_range": [10.0, 70.0], "grid.buffer_zone_NSEW": [3, 3, 3, 3],
        "timesteps.transport_s": 300, "timesteps.chemistry_s": 600,
        "period.end": "2019-01-01T06:00:00", "run.end": "2019-01-01T06:00:00",
        "history.collections": [{"name": "SpeciesConc", "frequency": "00000000 030000",
                                 "duration": "00000000 030000", "mode": "time-averaged",
                                 "fields": ["SpeciesConcVV_?ALL?"]}]})


@pytest.fixture(scope="session")
def demo_gchp(tmp_path_factory) -> Path:
    """A 1-day GCHP C24 run: SpeciesConc and StateMet, a checkpoint (level 1 at the top)."""
    return run_demo(tmp_path_factory.mktemp("gchp"), **{
        "model.name": "gchp", "grid.kind": "cubed_sphere", "grid.resolution": "C24", "grid.cs_res": 24,
        "period.end": "2019-01-02T00:00:00", "run.end": "2019-01-02T00:00:00"})
