"""Input staging: which files (dry-run log, ExtData.rc), and copying them from the source
(a file:// folder, and S3 through moto) into the local ExtData before the model starts."""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner import s3  # noqa: E402
from runner.staging import (  # noqa: E402
    Stager, StagingError, StagingInterrupted, expand_template, extdata_templates, gchp_input_files,
    missing_reason, parse_dryrun_log, resolve_run_path, run_dryrun, source_uri, under,
)

from .test_runner_createrundir import make_source_tree  # noqa: E402
from .test_runner_job import make_model, make_spec, read_json, reports, runner_argv, with_fake_mpirun  # noqa: E402

# ---------------------------------------------------------------------------------------------
# The dry-run log
# ---------------------------------------------------------------------------------------------

# Line formats from the GEOS-Chem and HEMCO sources: hcoio_read_std_mod.F90 ("HEMCO: Opening",
# "HEMCO: REQUIRED FILE NOT FOUND", "HEMCO: OPTIONAL FILE NOT FOUND"), drydep_mod.F90
# ("READ_DRYDEP_INPUTS: Opening"), cldj_interface_mod.F90 ("PHOTOLYSIS (dry-run): ...").
DRYRUN_LOG = """\
*************   S T A R T I N G   G E O S - C H E M   *************
===> Mode of operation         : GEOS-Chem "Classic"
!!! Start Date       : 20190101 000000
!!! End Date         : 20190102 000000
READ_DRYDEP_INPUTS: Opening /scratch/ExtData/CHEM_INPUTS/Olson_Land_Map_201203/Olson_Drydep_Inputs.nc
PHOTOLYSIS (dry-run): REQUIRED FILE NOT FOUND /scratch/ExtData/CHEM_INPUTS/CLOUD_J/v2024-09/FJX_spec.dat
HEMCO: Opening ./Restarts/GEOSChem.Restart.20190101_0000z.nc4
HEMCO: REQUIRED FILE NOT FOUND /scratch/ExtData/GEOS_4x5/MERRA2/2019/01/MERRA2.20190101.A1.4x5.nc4
HEMCO: REQUIRED FILE NOT FOUND /scratch/ExtData/GEOS_4x5/MERRA2/2019/01/MERRA2.20190101.A1.4x5.nc4
HEMCO: OPTIONAL FILE NOT FOUND /scratch/ExtData/HEMCO/GFED4/v2023-03/2019/GFED4_gen.025x025.201901.nc
HEMCO (METEMIS): Opening /scratch/ExtData/HEMCO/MEGAN/v2021-07/MEGAN2.1_EF.geos.025x03125.nc
 ---> DATE: 2019/01/01  UTC: 00:00  X-HRS:      0.000

**************   E N D   O F   G E O S - C H E M   **************
"""


def test_the_dryrun_log_gives_found_required_and_optional_files_once_each():
    files = parse_dryrun_log(DRYRUN_LOG.splitlines())
    assert files.found == [
        "./Restarts/GEOSChem.Restart.20190101_0000z.nc4",
        "/scratch/ExtData/CHEM_INPUTS/Olson_Land_Map_201203/Olson_Drydep_Inputs.nc",
        "/scratch/ExtData/HEMCO/MEGAN/v2021-07/MEGAN2.1_EF.geos.025x03125.nc",
    ]
    assert files.required_missing == [
        "/scratch/ExtData/CHEM_INPUTS/CLOUD_J/v2024-09/FJX_spec.dat",
        "/scratch/ExtData/GEOS_4x5/MERRA2/2019/01/MERRA2.20190101.A1.4x5.nc4",
    ]
    assert files.optional_missing == ["/scratch/ExtData/HEMCO/GFED4/v2023-03/2019/GFED4_gen.025x025.201901.nc"]
    assert len(files.all) == 6


def test_a_log_without_file_lines_lists_nothing():
    assert parse_dryrun_log(["", "---> DATE: 2019/01/01  UTC: 00:00  X-HRS: 0.000"]).all == []


# ---------------------------------------------------------------------------------------------
# ExtData.rc
# ---------------------------------------------------------------------------------------------

EXTDATA_RC = """\
Ext_AllowExtrap: .true.
#
PrimaryExports%%
#--------|-------|------|------------|---------------|--------|-------|----------|----------|
# Name   | Units | Clim |Conservative| Time Template | Offset | Scale | Variable | Template |
PS1 Pa N Y 0 none none PS ./MetDir/%y4/%m2/MERRA2.%y4%m2%d2.I3.05x0625.nc4
SPHU1 kg_kg-1 N Y 0 none none QV ./MetDir/%y4/%m2/MERRA2.%y4%m2%d2.I3.05x0625.nc4
FLASH_DENS 1 N N - none none LDENS /dev/null
OLSON00 1 N F;0  - none none OLSON ./ChemDir/Olson_Land_Map_201203/Olson_2001_Land_Map.025x025.generic.nc
XLAIMULTI cm2_cm-2 N Y %y4-%m2-%d2T00:00:00 none none XLAIMULTI ./HcoDir/Yuan_XLAI/v2021-06/Condensed_Yuan_proc_MODIS_XLAI.025x025.%y4.nc
#CEDS_CO_25_AGR kg/m2/s N Y F%y4-%m2-01T00:00:00 none none CO_agr ./HcoDir/CEDS/v2021-06/%y4/CO-em-anthro_CMIP_CEDS_%y4.nc
CEDS01_CO_25_AGR kg/m2/s N Y F%y4-%m2-01T00:00:00 none none CO_agr ./HcoDir/CEDS/v2023-04/%y4/CEDS_CO2_0.1x0.1_%y4.nc
TIMEZONES count Y V 2017-%m2-01T00:00:00 none none UTC_OFFSET ./HcoDir/TIMEZONES/v2024-02/timezones_vohra_2017_0.1x0.1.nc
A1HOUR 1 N Y 0 none none T ./MetDir/%y4/%m2/MERRA2.%y4%m2%d2_%h2.A1.nc4
%%
DerivedExports%%
PEDGE_TEST PS1+1 0
%%
"""

LINKS = {"MetDir": "/scratch/ExtData/GEOS_0.5x0.625/MERRA2", "ChemDir": "/scratch/ExtData/CHEM_INPUTS",
         "HcoDir": "/scratch/ExtData/HEMCO"}


def test_extdata_templates_are_the_primary_exports_file_column_without_dev_null():
    assert extdata_templates(EXTDATA_RC) == [
        "./MetDir/%y4/%m2/MERRA2.%y4%m2%d2.I3.05x0625.nc4",
        "./ChemDir/Olson_Land_Map_201203/Olson_2001_Land_Map.025x025.generic.nc",
        "./HcoDir/Yuan_XLAI/v2021-06/Condensed_Yuan_proc_MODIS_XLAI.025x025.%y4.nc",
        "./HcoDir/CEDS/v2023-04/%y4/CEDS_CO2_0.1x0.1_%y4.nc",
        "./HcoDir/TIMEZONES/v2024-02/timezones_vohra_2017_0.1x0.1.nc",
        "./MetDir/%y4/%m2/MERRA2.%y4%m2%d2_%h2.A1.nc4",
    ]


@pytest.mark.parametrize(("template", "start", "end", "expected"), [
    ("a.nc", datetime(2019, 1, 1), datetime(2019, 2, 1), ["a.nc"]),
    ("%y4/%m2/M.%y4%m2%d2.nc4", datetime(2019, 1, 30, 6), datetime(2019, 2, 1),
     ["2019/01/M.20190130.nc4", "2019/01/M.20190131.nc4", "2019/02/M.20190201.nc4"]),
    ("E_%y4.nc", datetime(2019, 12, 30), datetime(2020, 1, 2), ["E_2019.nc", "E_2020.nc"]),
    ("H_%y4%m2%d2_%h2%n2.nc", datetime(2019, 1, 1, 22), datetime(2019, 1, 2, 0),
     ["H_20190101_2200.nc", "H_20190101_2300.nc", "H_20190102_0000.nc"]),
    ("100%_%y4.nc", datetime(2019, 1, 1), datetime(2019, 1, 1), ["100%_2019.nc"]),
])
def test_templates_expand_over_every_day_or_hour_of_the_segment(template, start, end, expected):
    assert expand_template(template, start, end) == expected


def test_run_directory_paths_go_through_its_links():
    assert resolve_run_path("./HcoDir/x/y.nc", "/run", LINKS) == "/scratch/ExtData/HEMCO/x/y.nc"
    assert resolve_run_path("ChemDir/../CHEM_INPUTS/z.nc", "/run", LINKS) == "/scratch/ExtData/CHEM_INPUTS/z.nc"
    assert resolve_run_path("./Restarts/r.nc4", "/run", LINKS) == "/run/Restarts/r.nc4"
    assert resolve_run_path("/abs/file.nc", "/run", LINKS) == "/abs/file.nc"
    assert resolve_run_path("./Rel/f.nc", "/run", {"Rel": "../data"}) == "/data/f.nc"


def test_gchp_input_files_for_a_two_day_segment():
    files = gchp_input_files(EXTDATA_RC, datetime(2019, 1, 1), datetime(2019, 1, 2), run_root="/run", links=LINKS)
    met = "/scratch/ExtData/GEOS_0.5x0.625/MERRA2/2019/01/"
    assert files[:2] == [met + "MERRA2.20190101.I3.05x0625.nc4", met + "MERRA2.20190102.I3.05x0625.nc4"]
    assert "/scratch/ExtData/HEMCO/CEDS/v2023-04/2019/CEDS_CO2_0.1x0.1_2019.nc" in files
    assert "/scratch/ExtData/HEMCO/TIMEZONES/v2024-02/timezones_vohra_2017_0.1x0.1.nc" in files
    hourly = [f for f in files if f.endswith(".A1.nc4")]
    assert len(hourly) == 25 and hourly[-1] == met + "MERRA2.20190102_00.A1.nc4"
    assert len(files) == len(set(files)) == 2 + 1 + 1 + 1 + 1 + 25


def test_keys_and_source_locations():
    assert under("/scratch/ExtData/GEOS_4x5/MERRA2/2019/01/M.nc4", "/scratch/ExtData") == "GEOS_4x5/MERRA2/2019/01/M.nc4"
    assert under("./Restarts/r.nc4", "/scratch/ExtData") is None
    assert under("/scratch/ExtDataX/a.nc", "/scratch/ExtData") is None
    assert source_uri("GEOS_4x5/MERRA2/2019/01/M.nc4", "s3://geos-chem/") == "s3://geos-chem/GEOS_4x5/MERRA2/2019/01/M.nc4"


def test_the_missing_reason_names_how_many_and_the_first_five():
    reason = missing_reason([f"/x/f{i}.nc" for i in range(7)], "/x", "s3://geos-chem")
    assert reason == ("7 input file(s) exist neither in /x nor in s3://geos-chem: "
                      "/x/f0.nc, /x/f1.nc, /x/f2.nc, /x/f3.nc, /x/f4.nc and 2 more")


# ---------------------------------------------------------------------------------------------
# Staging from a folder
# ---------------------------------------------------------------------------------------------

def source_folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "bucket"
    for key, body in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
    return root


def test_staging_downloads_what_is_missing_and_skips_what_is_cached(tmp_path):
    source = source_folder(tmp_path, {"GEOS_4x5/a.nc4": b"aaaa", "HEMCO/b.nc": b"bb", "HEMCO/c.nc": b"new-c"})
    extdata = tmp_path / "ExtData"
    (extdata / "HEMCO").mkdir(parents=True)
    (extdata / "HEMCO" / "b.nc").write_bytes(b"bb")  # same size: cached
    (extdata / "HEMCO" / "c.nc").write_bytes(b"old")  # other size: replaced
    said = []
    stager = Stager(input_root=str(extdata), input_source=source.as_uri(), workers=4, say=said.append)

    report = stager.stage([str(extdata / k) for k in ("GEOS_4x5/a.nc4", "HEMCO/b.nc", "HEMCO/c.nc")]
                          + ["./Restarts/r.nc4"])

    assert (report.files, report.downloaded, report.cached, report.bytes_downloaded) == (3, 2, 1, 9)
    assert (extdata / "GEOS_4x5" / "a.nc4").read_bytes() == b"aaaa"
    assert (extdata / "HEMCO" / "c.nc").read_bytes() == b"new-c"
    assert said[-2] == "staged 2/2 files, 0.0 MB of 0.0 MB"
    assert said[-1] == "inputs ready: 2 downloaded (0.0 MB), 1 already present"
    assert not list(extdata.rglob(".*.part"))


def test_staging_fails_early_naming_files_found_nowhere_and_downloads_nothing(tmp_path):
    source = source_folder(tmp_path, {"GEOS_4x5/a.nc4": b"aaaa"})
    extdata = tmp_path / "ExtData"
    (extdata / "HEMCO").mkdir(parents=True)
    (extdata / "HEMCO" / "local-only.nc").write_bytes(b"mine")
    stager = Stager(input_root=str(extdata), input_source=source.as_uri())
    paths = [str(extdata / k) for k in ("GEOS_4x5/a.nc4", "HEMCO/local-only.nc", "HEMCO/gone.nc", "HEMCO/opt.nc")]

    with pytest.raises(StagingError) as error:
        stager.stage(paths, optional={str(extdata / "HEMCO" / "opt.nc")})

    assert str(error.value) == (f"1 input file(s) exist neither in {extdata} nor in {source.as_uri()}: "
                                f"{extdata}/HEMCO/gone.nc")
    assert not (extdata / "GEOS_4x5").exists()


def test_optional_files_found_nowhere_are_skipped_with_a_note(tmp_path):
    source = source_folder(tmp_path, {"a.nc": b"a"})
    said = []
    report = Stager(input_root=str(tmp_path / "ExtData"), input_source=source.as_uri(), say=said.append).stage(
        [str(tmp_path / "ExtData" / "a.nc"), str(tmp_path / "ExtData" / "opt.nc")],
        optional={str(tmp_path / "ExtData" / "opt.nc")})
    assert report.optional_absent == [str(tmp_path / "ExtData" / "opt.nc")]
    assert any(line.startswith("1 optional input file(s) exist nowhere") for line in said)


def test_a_stop_request_interrupts_staging(tmp_path):
    source = source_folder(tmp_path, {f"f{i}.nc": b"x" for i in range(5)})
    stager = Stager(input_root=str(tmp_path / "ExtData"), input_source=source.as_uri(), stop_requested=lambda: True)
    with pytest.raises(StagingInterrupted):
        stager.stage([str(tmp_path / "ExtData" / f"f{i}.nc") for i in range(5)])


# ---------------------------------------------------------------------------------------------
# Staging from S3 (moto)
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def geos_chem_bucket(aws_credentials):
    s3.reset_client()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="geos-chem")
        yield client
    s3.reset_client()


def test_staging_from_s3_heads_and_downloads_in_parallel(tmp_path, geos_chem_bucket):
    keys = [f"GEOS_4x5/MERRA2/2019/01/MERRA2.201901{day:02d}.A1.4x5.nc4" for day in range(1, 11)]
    for key in keys:
        geos_chem_bucket.put_object(Bucket="geos-chem", Key=key, Body=key.encode())
    extdata = tmp_path / "ExtData"
    report = Stager(input_root=str(extdata), input_source="s3://geos-chem", workers=8).stage(
        [str(extdata / key) for key in keys])
    assert report.downloaded == 10
    assert (extdata / keys[3]).read_bytes() == keys[3].encode()

    with pytest.raises(StagingError, match=r"1 input file\(s\) exist neither .* nor in s3://geos-chem: .*/HEMCO/nope.nc"):
        Stager(input_root=str(extdata), input_source="s3://geos-chem").stage([str(extdata / "HEMCO" / "nope.nc")])


# ---------------------------------------------------------------------------------------------
# The dry run and whole runs
# ---------------------------------------------------------------------------------------------

# A fake gcclassic: "--dryrun" prints the files it would read (under io.input_root), a normal
# run checks they are there, prints progress and writes the end restart.
FAKE_GCCLASSIC = r'''#!{python}
import json, os, sys
from datetime import datetime, timedelta
spec = json.load(open("runspec.json"))
root = spec["io"]["input_root"]
start = datetime.fromisoformat(spec["period"]["start"])
end = datetime.fromisoformat(spec["period"]["end"])
inputs = {inputs!r}
if "--dryrun" in sys.argv:
    print("!!! Start Date       : " + start.strftime("%Y%m%d %H%M%S"))
    for name in inputs:
        path = os.path.join(root, name)
        print(("HEMCO: Opening " if os.path.exists(path) else "HEMCO: REQUIRED FILE NOT FOUND ") + path)
    print("HEMCO: OPTIONAL FILE NOT FOUND " + os.path.join(root, "HEMCO/optional/never.nc"))
    print("HEMCO: Opening ./Restarts/GEOSChem.Restart." + start.strftime("%Y%m%d_%H%M") + "z.nc4")
    sys.exit({dryrun_exit})
missing = [n for n in inputs if not os.path.isfile(os.path.join(root, n))]
if missing:
    print("GEOS-Chem ERROR: missing " + missing[0], flush=True)
    sys.exit(1)
print("fake gcclassic: all %d inputs present" % len(inputs), flush=True)
now = start
while now < end:
    print(f"---> DATE: {{now:%Y/%m/%d}}  UTC: {{now:%H:%M}}  X-HRS: {{0:11.3f}}", flush=True)
    now += timedelta(hours=6)
open(f"Restarts/GEOSChem.Restart.{{end:%Y%m%d_%H%M}}z.nc4", "wb").write(b"restart")
'''

INPUTS = ["GEOS_4x5/MERRA2/2019/01/MERRA2.20190101.A1.4x5.nc4",
          "GEOS_4x5/MERRA2/2019/01/MERRA2.20190101.I3.4x5.nc4",
          "HEMCO/CEDS/v2023-04/2019/CEDS_CO2_0.1x0.1_2019.nc"]


def fake_gcclassic(tmp_path: Path, inputs=INPUTS, dryrun_exit: int = 0) -> Path:
    path = tmp_path / "gcclassic"
    path.write_text(FAKE_GCCLASSIC.format(python=sys.executable, inputs=inputs, dryrun_exit=dryrun_exit))
    path.chmod(0o755)
    return path


def staging_spec(tmp_path: Path, executable: Path, source: Path, **changes) -> Path:
    path = make_spec(tmp_path, str(executable), days=1, **changes)
    spec = json.loads(path.read_text())
    spec["io"]["input_source"] = source.as_uri()
    path.write_text(json.dumps(spec))
    return path


def test_run_dryrun_returns_the_lines_and_keeps_the_log(tmp_path):
    exe = tmp_path / "dry"
    exe.write_text(f"#!{sys.executable}\nprint('HEMCO: Opening /x/a.nc')\nprint('done')\n")
    exe.chmod(0o755)
    code, lines = run_dryrun([str(exe), "--dryrun"], cwd=tmp_path, env={}, log_path=tmp_path / "log.dryrun",
                             timeout=30)
    assert code == 0 and lines == ["HEMCO: Opening /x/a.nc", "done"]
    assert (tmp_path / "log.dryrun").read_text() == "HEMCO: Opening /x/a.nc\ndone\n"


def test_a_classic_run_stages_its_dryrun_inputs_before_the_model_starts(tmp_path):
    source = source_folder(tmp_path, {key: key.encode() for key in INPUTS})
    spec = staging_spec(tmp_path, fake_gcclassic(tmp_path), source, model__source_dir=None)
    done = subprocess.run(runner_argv(spec, tmp_path / "run", "--stage-workers", "2"), capture_output=True,
                          text=True, timeout=120)

    assert done.returncode == 0, done.stdout[-3000:]
    extdata = tmp_path / "ExtData"
    assert (extdata / INPUTS[0]).read_bytes() == INPUTS[0].encode()
    log = (reports(tmp_path) / "runner.log").read_text()
    # The restart line counts as found; it is in the run directory, so it is not staged.
    assert "[runner] dry run lists 1 file(s) found, 3 missing, 1 optional missing" in log
    assert "[runner] 1 listed file(s) are outside " in log
    assert "[runner] staging 4 input file(s) from " in log and "(2 at a time)" in log
    assert "[runner] 1 optional input file(s) exist nowhere and are skipped: " in log
    assert "[runner] inputs ready: 3 downloaded" in log
    assert "fake gcclassic: all 3 inputs present" in log
    assert (tmp_path / "run" / "log.dryrun").is_file()
    assert read_json(reports(tmp_path) / "metrics.json")["status"] == "succeeded"


def test_a_classic_run_with_inputs_found_nowhere_fails_before_the_model_runs(tmp_path):
    source = source_folder(tmp_path, {INPUTS[0]: b"a"})
    spec = staging_spec(tmp_path, fake_gcclassic(tmp_path), source, model__source_dir=None)
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True, timeout=120)

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "failed"
    assert metrics["reason"].startswith("2 input file(s) exist neither in ")
    assert INPUTS[1] in metrics["reason"] and INPUTS[2] in metrics["reason"]
    assert metrics["model_wall_seconds"] is None  # the model never started
    assert not (tmp_path / "ExtData" / INPUTS[0]).exists()  # nothing downloaded before the check


def test_a_failing_dry_run_fails_the_segment_with_its_last_line(tmp_path):
    source = source_folder(tmp_path, {})
    spec = staging_spec(tmp_path, fake_gcclassic(tmp_path, dryrun_exit=3), source, model__source_dir=None)
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True, timeout=120)

    assert done.returncode == 1
    reason = read_json(reports(tmp_path) / "metrics.json")["reason"]
    assert reason.startswith(f"the dry run ({tmp_path / 'gcclassic'} --dryrun) exited with code 3; last line: HEMCO: ")


def test_a_gchp_run_stages_what_extdata_rc_lists_and_its_initial_restart(tmp_path):
    met = "GEOS_0.5x0.625/MERRA2/2019/01/"
    files = {met + "MERRA2.20190101.I3.05x0625.nc4": b"d1", met + "MERRA2.20190102.I3.05x0625.nc4": b"d2",
             "CHEM_INPUTS/Olson_Land_Map_201203/Olson_2001_Land_Map.025x025.generic.nc": b"olson",
             "GEOSCHEM_RESTARTS/GC_14.7.0/GEOSChem.Restart.TransportTracers.20190101_0000z.c24.nc4": b"sample"}
    source = source_folder(tmp_path, files)
    tree = make_source_tree(tmp_path / "src", model="gchp")
    spec = staging_spec(tmp_path, make_model(tmp_path), source, model="gchp", model__source_dir=str(tree))
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True,
                          env=with_fake_mpirun(tmp_path), timeout=120)

    assert done.returncode == 0, done.stdout[-3000:]
    for key, body in files.items():
        assert (tmp_path / "ExtData" / key).read_bytes() == body
    assert (tmp_path / "run" / "gchp_restart.nc4").read_bytes() == b"sample"  # through the staged link
    log = (reports(tmp_path) / "runner.log").read_text()
    assert "[runner] ExtData.rc lists 4 file(s) for 2019-01-01 to 2019-01-02" in log
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert "Restarts/GEOSChem.Restart.20190101_0000z.c24.nc4" not in metrics["outputs"]


# ---------------------------------------------------------------------------------------------
# production.prepare in-process (so that coverage sees it)
# ---------------------------------------------------------------------------------------------

def prepare(spec_path: Path, workdir: Path, said: list, stop=lambda: False):
    from runner import production
    from runner.spec import check_spec

    raw = json.loads(spec_path.read_text())
    return production.prepare(raw, check_spec(raw), workdir, settings=production.PrepSettings(stage_workers=2),
                              env=dict(os.environ), say=said.append, stop_requested=stop)


def test_prepare_makes_a_classic_run_directory_and_stages_its_inputs(tmp_path):
    source = source_folder(tmp_path, {key: key.encode() for key in INPUTS})
    tree = make_source_tree(tmp_path / "src")
    said = []
    run_dir = prepare(staging_spec(tmp_path, fake_gcclassic(tmp_path), source, model__source_dir=str(tree)),
                      tmp_path / "run", said)

    assert run_dir.root == tmp_path / "run"
    assert (tmp_path / "run" / "CreateRunDirLogs" / "rundir_vars.txt").is_file()
    assert all((tmp_path / "ExtData" / key).is_file() for key in INPUTS)
    assert any(line.startswith("createRunDir.sh| Created ") for line in said)
    assert "geoschem_config.yml: added operations.transport.activate (not in GEOS-Chem's file)" in said


def test_prepare_fails_with_the_staging_reason_and_stops_on_request(tmp_path):
    from runner import production

    spec = staging_spec(tmp_path, fake_gcclassic(tmp_path), source_folder(tmp_path, {}), model__source_dir=None)
    with pytest.raises(production.PreparationFailed, match=r"^3 input file\(s\) exist neither"):
        prepare(spec, tmp_path / "run", [])
    with pytest.raises(production.Interrupted):
        prepare(spec, tmp_path / "run2", [], stop=lambda: True)


def test_prepare_runs_gchps_setup_scripts_and_reports_their_failure(tmp_path):
    from runner import production

    files = {"GEOS_0.5x0.625/MERRA2/2019/01/MERRA2.20190101.I3.05x0625.nc4": b"1",
             "GEOS_0.5x0.625/MERRA2/2019/01/MERRA2.20190102.I3.05x0625.nc4": b"2",
             "CHEM_INPUTS/Olson_Land_Map_201203/Olson_2001_Land_Map.025x025.generic.nc": b"o",
             "GEOSCHEM_RESTARTS/GC_14.7.0/GEOSChem.Restart.TransportTracers.20190101_0000z.c24.nc4": b"r"}
    tree = make_source_tree(tmp_path / "src", model="gchp")
    spec = staging_spec(tmp_path, make_model(tmp_path), source_folder(tmp_path, files), model="gchp",
                        model__source_dir=str(tree))
    said = []
    prepare(spec, tmp_path / "run", said)
    assert "running ./setCommonRunSettings.sh" in said and "running ./setRestartLink.sh" in said
    assert (tmp_path / "run" / "settings_applied.txt").is_file()

    script = script_path_in(tree)
    script.write_text(script.read_text().replace('echo "TOTAL_CORES=', 'echo "ERROR: bad cores"; exit 1; echo "'))
    with pytest.raises(production.PreparationFailed, match="setCommonRunSettings.sh exited with code 1: ERROR: bad cores"):
        prepare(spec, tmp_path / "run3", [])


def script_path_in(tree: Path) -> Path:
    from runner.createrundir import script_path

    return script_path("gchp", tree)
