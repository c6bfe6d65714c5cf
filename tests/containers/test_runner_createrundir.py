"""Making the run directory with createRunDir.sh: the answers, the script run, the overlay.

No GEOS-Chem source is needed: ``make_source_tree`` writes a FAKE createRunDir.sh (a Python
script) where the real one lives. It asks the same questions in the same order as the real
scripts (Classic and GCHP menus as read in createrundir.py), records the answers, and makes
a small run directory with GEOS-Chem-like files, including CreateRunDirLogs/rundir_vars.txt.
Other test modules import ``make_source_tree`` and ``FAKE_CREATERUNDIR``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # only to check that merged YAML reads back; the runner never imports it

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner.createrundir import (  # noqa: E402
    CreateRunDirError, create_run_directory, createrundir_answers, expected_rundir_vars, merge_tree,
    parse_rundir_vars, rundir_vars_problems, run_script, script_path,
)
from runner.overlay import merge_yaml, set_shell_assignments  # noqa: E402

from .test_runner_job import make_model, make_spec, read_json, reports, runner_argv  # noqa: E402

# ---------------------------------------------------------------------------------------------
# The fake createRunDir.sh
# ---------------------------------------------------------------------------------------------

FAKE_CREATERUNDIR = r'''#!{python}
import os, sys
model = {model!r}
mode = {mode!r}
answers = []

def ask():
    line = sys.stdin.readline()
    if not line:
        if mode == "loop":          # the real script re-asks forever after end-of-file
            while True:
                print("Invalid option. Try again.", flush=True)
        print("ran out of answers", flush=True)
        sys.exit(5)
    answers.append(line.rstrip("\n"))
    return answers[-1]

print("GEOS-CHEM RUN DIRECTORY CREATION", flush=True)
extdata = ask()
if not os.path.isdir(extdata):
    sys.exit(6)
if model == "classic":
    sims = ["fullchem", "aerosol", "carbon", "Hg", "POPs", "tagO3", "TransportTracers", "metals"]
else:
    sims = ["fullchem", "TransportTracers", "carbon", "tagO3"]
sim = sims[int(ask()) - 1]
option = "none"
if sim == "fullchem":
    pick = ask()
    option = {{"1": "none", "2": "benchmark", "4": "marinePOA", "5": "aciduptake", "7": "APM", "8": "RRTMG"}}.get(pick)
    if pick == "3":
        option = ["complexSOA", "complexSOA_SVPOA"][int(ask()) - 1]
    elif pick == "6":
        option = ["TOMAS15", "TOMAS40"][int(ask()) - 1]
elif sim == "carbon":
    option = ["none", "CH4", "CO2", "CO", "OCS"][int(ask()) - 1]
elif sim == "POPs":
    option = ["BaP", "PHE", "PYR"][int(ask()) - 1]
met = ask()
vars_ = {{"RUNDIR_SIM_NAME": sim, "RUNDIR_SIM_EXTRA_OPTION": option}}
if model == "classic":
    if met == "4":
        vars_["RUNDIR_GCAP2_SCENARIO"] = ["HIST", "HIST", "SSP119", "SSP126", "SSP434", "SSP245",
                                          "SSP460", "SSP370", "SSP585"][int(ask()) - 1]
    res = ask()
    if met != "3" and res in ("3", "4"):
        vars_["RUNDIR_GRID_DOMAIN_NAME"] = ["global", "AS", "EU", "NA", "custom"][int(ask()) - 1]
    vars_["RUNDIR_GRID_NLEV"] = {{"1": "40"}}[ask()] if met == "4" else {{"1": "72", "2": "47"}}[ask()]
else:
    if met == "2":
        ask(); ask(); ask()
    elif met == "3":
        ask(); ask()
path = ask()
name = ask()
ask()  # git
if model == "gchp" and sim == "fullchem":
    ask()  # KPP standalone
if mode == "wrong":
    vars_["RUNDIR_SIM_NAME"] = "CH4"
if mode == "fail":
    print("ERROR: something broke", flush=True)
    sys.exit(3)
rundir = os.path.join(path, name)
os.makedirs(os.path.join(rundir, "CreateRunDirLogs"))
os.makedirs(os.path.join(rundir, "Restarts"))
with open(os.path.join(rundir, "CreateRunDirLogs", "rundir_vars.txt"), "w") as f:
    f.write("# This run directory was created with a fake createRunDir.sh\n")
    f.write("RUNDIR_DATA_ROOT=" + extdata + "\n")
    for key, value in vars_.items():
        f.write(f"{{key}}='{{value}}'\n")
with open(os.path.join(rundir, "answers.json"), "w") as f:
    import json
    json.dump({{"answers": answers, "cwd": os.getcwd(), "home": os.environ["HOME"],
               "registered": os.environ.get("GC_USER_REGISTERED")}}, f)
with open(os.path.join(rundir, "geoschem_config.yml"), "w") as f:
    f.write("""---
### geoschem_config.yml: fake template
simulation:
  name: TransportTracers
  start_date: [20190101, 000000]
  end_date: [20190201, 000000]
  root_data_dir: """ + extdata + """
  chem_inputs_dir: """ + extdata + """/CHEM_INPUTS/
  met_field: MERRA2
  verbose:
    activate: false
    on_cores: root       # Allowed values: root all
  use_gcclassic_timers: false

operations:
  transport:
    gcclassic_tpcore:                 # GEOS-Chem Classic only
      activate: true
    transported_species:
      - Rn222
      - Pb210
      - Be7
""")
open(os.path.join(rundir, "HISTORY.rc"), "w").write("COLLECTIONS: 'Everything',\n::\n")
open(os.path.join(rundir, "HEMCO_Config.rc"), "w").write("ROOT: " + extdata + "/HEMCO\n")
open(os.path.join(rundir, "Restarts", "GEOSChem.Restart.20190101_0000z.nc4"), "w").write("sample")
os.symlink(os.path.dirname(os.path.abspath(__file__)), os.path.join(rundir, "CodeDir"))
if model == "gchp":
    for link, sub in (("ChemDir", "CHEM_INPUTS"), ("HcoDir", "HEMCO"), ("MetDir", "GEOS_0.5x0.625/MERRA2")):
        os.symlink(os.path.join(extdata, sub), os.path.join(rundir, link))
    os.symlink(os.path.join(extdata, "GEOSCHEM_RESTARTS/GC_14.7.0/GEOSChem.Restart.TransportTracers.20190101_0000z.c24.nc4"),
               os.path.join(rundir, "Restarts", "GEOSChem.Restart.20190101_0000z.c24.nc4"))
    open(os.path.join(rundir, "cap_restart"), "w").write("20190101 000000\n")
    open(os.path.join(rundir, "ExtData.rc"), "w").write("""Ext_AllowExtrap: .true.
PrimaryExports%%
# Name Units Clim Conservative Refresh Offset Scale Variable Template
PS1 Pa N Y 0 none none PS ./MetDir/%y4/%m2/MERRA2.%y4%m2%d2.I3.05x0625.nc4
FLASH_DENS 1 N N - none none LDENS /dev/null
OLSON00 1 N F;0 - none none OLSON ./ChemDir/Olson_Land_Map_201203/Olson_2001_Land_Map.025x025.generic.nc
%%
DerivedExports%%
PEDGE PS1+1 0
%%
""")
    with open(os.path.join(rundir, "setCommonRunSettings.sh"), "w") as f:
        f.write("""#!/bin/bash
# setCommonRunSettings.sh: fake
TOTAL_CORES=96
NUM_NODES=2
NUM_CORES_PER_NODE=48
CS_RES=90
Run_Duration="00000100 000000"
Diag_Collections=(SpeciesConc    \\
                  AerosolMass    \\
)
NX=
echo "TOTAL_CORES=$TOTAL_CORES CS_RES=$CS_RES Run_Duration=$Run_Duration Diags=${{Diag_Collections[@]}}" > settings_applied.txt
""")
    with open(os.path.join(rundir, "setRestartLink.sh"), "w") as f:
        f.write("#!/bin/bash\nln -sf Restarts/GEOSChem.Restart.$(cut -c1-8 cap_restart)_0000z.c24.nc4 gchp_restart.nc4\n")
print("Created " + rundir, flush=True)
'''


def make_source_tree(root: Path, model: str = "classic", mode: str = "ok") -> Path:
    """A GEOS-Chem source folder with only a fake createRunDir.sh, where the real one is."""
    script = script_path(model, root)
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(FAKE_CREATERUNDIR.format(python=sys.executable, model=model, mode=mode))
    script.chmod(0o755)
    return root


def spec_for(**overrides) -> dict:
    """A run spec with the fields createRunDir.sh answers come from."""
    spec = {
        "model": {"name": "classic", "executable": "/opt/geos-chem/bin/gcclassic"},
        "simulation": {"type": "TransportTracers", "options": []},
        "met": {"name": "MERRA2", "scenario": None},
        "grid": {"kind": "latlon", "resolution": "4x5", "levels": 72, "domain": "global", "cs_res": None},
        "io": {"input_root": "/scratch/ExtData"},
    }
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        spec[section][key] = value
    return spec


# ---------------------------------------------------------------------------------------------
# The answers
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "spec", "expected"), [
    ("Classic 4x5 TransportTracers", spec_for(),
     ["/scratch/ExtData", "7", "1", "1", "1", "/scratch", "run", "n"]),
    ("Classic fullchem 0.5x0.625 NA 47L with complex SOA",
     spec_for(simulation__type="fullchem", simulation__options=["complexSOA"],
              grid__resolution="0.5x0.625", grid__domain="NA", grid__levels=47),
     ["/scratch/ExtData", "1", "3", "1", "1", "3", "4", "2", "/scratch", "run", "n"]),
    ("Classic fullchem TOMAS40 GEOS-FP 0.25 global",
     spec_for(simulation__type="fullchem", simulation__options=["TOMAS40"], met__name="GEOSFP",
              grid__resolution="0.25x0.3125"),
     ["/scratch/ExtData", "1", "6", "2", "2", "4", "1", "1", "/scratch", "run", "n"]),
    ("Classic standard fullchem", spec_for(simulation__type="fullchem", simulation__options=["Standard"]),
     ["/scratch/ExtData", "1", "1", "1", "1", "1", "/scratch", "run", "n"]),
    ("Classic carbon CH4 only", spec_for(simulation__type="carbon", simulation__options=["CH4"]),
     ["/scratch/ExtData", "3", "2", "1", "1", "1", "/scratch", "run", "n"]),
    ("Classic POPs PHE on GEOS-IT 2x2.5",
     spec_for(simulation__type="POPs", simulation__options=["PHE"], met__name="GEOSIT", grid__resolution="2x2.5"),
     ["/scratch/ExtData", "5", "2", "3", "2", "1", "/scratch", "run", "n"]),
    ("Classic GCAP 2.0 SSP2-4.5 40L",
     spec_for(met__name="ModelE2.1", met__scenario="SSP245", grid__levels=40),
     ["/scratch/ExtData", "7", "4", "6", "1", "1", "/scratch", "run", "n"]),
    ("Classic nested South America is made as Custom",
     spec_for(met__name="GEOSFP", grid__resolution="0.25x0.3125", grid__domain="SA"),
     ["/scratch/ExtData", "7", "2", "4", "5", "1", "/scratch", "run", "n"]),
    ("GCHP TransportTracers",
     spec_for(model__name="gchp", grid__kind="cubed_sphere", grid__resolution="C24", grid__cs_res=24),
     ["/scratch/ExtData", "2", "1", "/scratch", "run", "n"]),
    ("GCHP fullchem benchmark on GEOS-FP",
     spec_for(model__name="gchp", simulation__type="fullchem", simulation__options=["benchmark"],
              met__name="GEOSFP"),
     ["/scratch/ExtData", "1", "2", "2", "y", "1", "1", "/scratch", "run", "n", "n"]),
    ("GCHP carbon on GEOS-IT", spec_for(model__name="gchp", simulation__type="carbon", met__name="GEOSIT"),
     ["/scratch/ExtData", "3", "1", "3", "1", "1", "/scratch", "run", "n"]),
])
def test_the_answers_follow_the_scripts_prompt_order(case, spec, expected):
    assert createrundir_answers(spec, rundir_parent="/scratch", rundir_name="run") == expected, case


def test_a_file_uri_input_root_is_answered_as_a_path():
    spec = spec_for(io__input_root="file:///data/Ext%20Data")
    assert createrundir_answers(spec, rundir_parent="/p", rundir_name="r")[0] == "/data/Ext Data"


@pytest.mark.parametrize(("spec", "message"), [
    (spec_for(grid__resolution="0.25x0.3125"), "0.25x0.3125 with GEOS-FP or ModelE2.1 only"),
    (spec_for(grid__resolution="0.125x0.15625", met__name="GEOSFP"), "offers no resolution '0.125x0.15625'"),
    (spec_for(met__name="GEOSIT", grid__resolution="0.5x0.625", simulation__type="fullchem"),
     "GEOS-IT at 0.5x0.625 for TransportTracers only"),
    (spec_for(simulation__type="fullchem", simulation__options=["RRTMG", "APM"]), "takes one simulation option"),
    (spec_for(simulation__options=["CH4"]), "the TransportTracers simulation takes no option"),
    (spec_for(simulation__type="CH4"), "offers no simulation 'CH4'"),
    (spec_for(model__name="gchp", simulation__type="Hg"), "createRunDir.sh (gchp) offers no simulation 'Hg'"),
    (spec_for(model__name="gchp", met__name="ModelE2.1"), "offers no meteorology 'ModelE2.1'"),
    (spec_for(grid__levels=40), "offers no number of levels 40"),
    (spec_for(simulation__type="POPs"), "offers no POPs species None"),
])
def test_choices_the_script_does_not_offer_are_refused_before_it_runs(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        createrundir_answers(spec, rundir_parent="/p", rundir_name="r")


def test_the_script_paths_are_those_of_the_official_source_trees():
    assert script_path("classic", "/opt/geos-chem/src") == Path(
        "/opt/geos-chem/src/GCClassic/src/GEOS-Chem/run/GCClassic/createRunDir.sh")
    assert script_path("gchp", "/opt/geos-chem/src") == Path(
        "/opt/geos-chem/src/GCHP/src/GCHP_GridComp/GEOSChem_GridComp/geos-chem/run/GCHP/createRunDir.sh")


# ---------------------------------------------------------------------------------------------
# rundir_vars.txt
# ---------------------------------------------------------------------------------------------

RUNDIR_VARS = """# This run directory was created with createRunDir.sh.
RUNDIR_GC_MODE='GCClassic'
RUNDIR_SIM_NAME=fullchem
RUNDIR_SIM_EXTRA_OPTION=complexSOA
RUNDIR_COMPLEX_SOA='true '
RUNDIR_GRID_DOMAIN_NAME='NA'
RUNDIR_GRID_NLEV='47'
"""


def test_rundir_vars_are_read_without_quotes_and_padding():
    values = parse_rundir_vars(RUNDIR_VARS)
    assert values["RUNDIR_COMPLEX_SOA"] == "true"
    assert values["RUNDIR_GRID_NLEV"] == "47"
    assert "# This run directory was created with createRunDir.sh." not in values


def test_rundir_vars_that_match_the_spec_raise_no_problem():
    spec = spec_for(simulation__type="fullchem", simulation__options=["complexSOA"],
                    grid__resolution="0.5x0.625", grid__domain="NA", grid__levels=47)
    assert expected_rundir_vars(spec) == {"RUNDIR_SIM_NAME": "fullchem", "RUNDIR_SIM_EXTRA_OPTION": "complexSOA",
                                          "RUNDIR_GRID_NLEV": "47", "RUNDIR_GRID_DOMAIN_NAME": "NA"}
    assert rundir_vars_problems(RUNDIR_VARS, expected_rundir_vars(spec)) == []


def test_rundir_vars_of_another_simulation_are_named_as_problems():
    problems = rundir_vars_problems(RUNDIR_VARS, expected_rundir_vars(spec_for()))
    assert problems == ["RUNDIR_SIM_NAME is 'fullchem', not 'TransportTracers'",
                        "RUNDIR_SIM_EXTRA_OPTION is 'complexSOA', not 'none'",
                        "RUNDIR_GRID_NLEV is '47', not '72'"]


# ---------------------------------------------------------------------------------------------
# Running the (fake) script
# ---------------------------------------------------------------------------------------------

def test_create_run_directory_answers_the_script_and_moves_its_result_into_the_workdir(tmp_path):
    source = make_source_tree(tmp_path / "src")
    workdir = tmp_path / "scratch" / "run"
    workdir.mkdir(parents=True)
    (workdir / "runner.log").write_text("already here\n")  # the runner's log may be in it
    spec = spec_for(io__input_root=str(tmp_path / "ExtData"))
    lines = []

    notes = create_run_directory(spec, model="classic", source_dir=str(source), workdir=workdir,
                                 on_line=lines.append, timeout=60)

    recorded = json.loads((workdir / "answers.json").read_text())
    assert recorded["answers"] == [str(tmp_path / "ExtData"), "7", "1", "1", "1",
                                   recorded["answers"][5], "run", "n"]
    assert recorded["cwd"] == str(script_path("classic", source).parent)  # it must run from its folder
    assert recorded["registered"] == "true"
    assert not recorded["home"].startswith(os.environ.get("HOME", "/nonexistent"))
    assert (workdir / "runner.log").read_text() == "already here\n"
    assert (workdir / "CodeDir").is_symlink()
    assert (tmp_path / "ExtData").is_dir()
    assert [p.name for p in (tmp_path / "scratch").iterdir()] == ["run"]  # its scratch folder is gone
    assert any(line.startswith("Created ") for line in lines)
    assert notes[0].startswith("answers: ")


def test_a_script_that_made_another_simulation_fails_with_the_difference(tmp_path):
    source = make_source_tree(tmp_path / "src", mode="wrong")
    spec = spec_for(io__input_root=str(tmp_path / "ExtData"))
    with pytest.raises(CreateRunDirError, match="RUNDIR_SIM_NAME is 'CH4', not 'TransportTracers'.*menus differ"):
        create_run_directory(spec, model="classic", source_dir=str(source), workdir=tmp_path / "run",
                             on_line=lambda line: None, timeout=60)
    assert not (tmp_path / "run").exists()


def test_a_failing_script_reports_its_exit_code(tmp_path):
    source = make_source_tree(tmp_path / "src", mode="fail")
    spec = spec_for(io__input_root=str(tmp_path / "ExtData"))
    with pytest.raises(CreateRunDirError, match="exited with code 3 without making the run directory"):
        create_run_directory(spec, model="classic", source_dir=str(source), workdir=tmp_path / "run",
                             on_line=lambda line: None, timeout=60)


def test_a_script_that_asks_forever_is_stopped(tmp_path):
    source = make_source_tree(tmp_path / "src", mode="loop")
    script = script_path("classic", source)
    with pytest.raises(CreateRunDirError, match="printed more than"):
        run_script(script, [str(tmp_path)], home=tmp_path, on_line=lambda line: None, timeout=60)


def test_a_script_that_hangs_is_stopped_after_the_timeout(tmp_path):
    script = tmp_path / "createRunDir.sh"
    script.write_text("#!/bin/sh\nsleep 30\n")
    script.chmod(0o755)
    with pytest.raises(CreateRunDirError, match="did not finish within 0.5 s"):
        run_script(script, [], home=tmp_path, on_line=lambda line: None, timeout=0.5)


def test_a_missing_script_names_where_it_was_looked_for(tmp_path):
    with pytest.raises(CreateRunDirError, match="createRunDir.sh is not at .*GCClassic/createRunDir.sh"):
        create_run_directory(spec_for(), model="classic", source_dir=str(tmp_path), workdir=tmp_path / "run",
                             on_line=lambda line: None, timeout=5)


def test_merge_tree_merges_folders_and_replaces_files_and_links(tmp_path):
    (tmp_path / "a" / "Restarts").mkdir(parents=True)
    (tmp_path / "a" / "Restarts" / "new.nc4").write_text("new")
    (tmp_path / "a" / "geoschem_config.yml").write_text("fresh")
    (tmp_path / "a" / "CodeDir").symlink_to("/opt")
    (tmp_path / "b" / "Restarts").mkdir(parents=True)
    (tmp_path / "b" / "Restarts" / "old.nc4").write_text("old")
    (tmp_path / "b" / "geoschem_config.yml").write_text("stale")
    (tmp_path / "b" / "CodeDir").symlink_to("/elsewhere")

    merge_tree(tmp_path / "a", tmp_path / "b")

    assert sorted(p.name for p in (tmp_path / "b" / "Restarts").iterdir()) == ["new.nc4", "old.nc4"]
    assert (tmp_path / "b" / "geoschem_config.yml").read_text() == "fresh"
    assert os.readlink(tmp_path / "b" / "CodeDir") == "/opt"
    assert not (tmp_path / "a").exists()


# ---------------------------------------------------------------------------------------------
# The overlay
# ---------------------------------------------------------------------------------------------

TEMPLATE = """---
# comment
simulation:
  name: TransportTracers
  start_date: [20190101, 000000]
  verbose:
    activate: false
  use_gcclassic_timers: false   # keep me

operations:
  transport:
    gcclassic_tpcore:
      activate: true
    transported_species:
      - Rn222
      - Pb210
      - Be7

  wet_deposition:
    activate: true
"""


def test_merge_yaml_writes_the_spec_values_and_keeps_the_rest():
    values = {"simulation": {"start_date": [20190105, 0], "use_gcclassic_timers": True, "verbose": False},
              "operations": {"transport": {"transported_species": ["Rn222", "Pb210"]}}}
    text, notes = merge_yaml(TEMPLATE, values)
    data = yaml.safe_load(text)

    assert data["simulation"] == {"name": "TransportTracers", "start_date": [20190105, 0],
                                  "verbose": {"activate": False}, "use_gcclassic_timers": True}
    assert data["operations"]["transport"] == {"gcclassic_tpcore": {"activate": True},
                                               "transported_species": ["Rn222", "Pb210"]}
    assert data["operations"]["wet_deposition"] == {"activate": True}
    assert "  use_gcclassic_timers: true   # keep me" in text
    assert "  start_date: [20190105, 000000]" in text
    assert notes == ["kept GEOS-Chem's simulation.verbose (a section there, False in the spec)"]


def test_merge_yaml_adds_keys_under_their_deepest_existing_section():
    text, notes = merge_yaml(TEMPLATE, {"operations": {"photolysis": {"activate": False}},
                                        "timesteps": {"radiation_timestep_in_s": 10800}})
    data = yaml.safe_load(text)
    assert data["operations"]["photolysis"] == {"activate": False}
    assert data["operations"]["wet_deposition"] == {"activate": True}
    assert data["timesteps"] == {"radiation_timestep_in_s": 10800}
    assert notes == ["added operations.photolysis.activate (not in GEOS-Chem's file)",
                     "added timesteps.radiation_timestep_in_s (not in GEOS-Chem's file)"]


SETTINGS_SCRIPT = """#!/bin/bash
# Settings
TOTAL_CORES=96
CS_RES=90
STRETCH_FACTOR=2.0
Run_Duration="00000100 000000"
Diag_Collections=(SpeciesConc    \\
                  AerosolMass    \\
)
NX=
if [[ ${CS_RES} -lt 180 ]]; then
    TOTAL_CORES=0
fi
echo "$TOTAL_CORES $CS_RES $STRETCH_FACTOR $Run_Duration ${Diag_Collections[@]} [$NX] $Midrun_Checkpoint"
"""


def test_set_shell_assignments_rewrites_the_settings_and_keeps_the_script(tmp_path):
    text, notes = set_shell_assignments(SETTINGS_SCRIPT, {
        "TOTAL_CORES": 6, "CS_RES": 180, "STRETCH_FACTOR": None, "Run_Duration": "00000002 000000",
        "Diag_Collections": ["SpeciesConc", "Restart"], "NX": 1, "Midrun_Checkpoint": "OFF"})
    script = tmp_path / "s.sh"
    script.write_text(text)
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True).stdout

    assert out == "6 180 2.0 00000002 000000 SpeciesConc Restart [1] OFF\n"
    assert "    TOTAL_CORES=0" in text  # the script's own logic is untouched
    assert notes == ["added to setCommonRunSettings.sh: Midrun_Checkpoint"]


def test_a_bad_variable_name_is_refused():
    with pytest.raises(ValueError, match="not a shell variable name"):
        set_shell_assignments(SETTINGS_SCRIPT, {"rm -rf": 1})


# ---------------------------------------------------------------------------------------------
# Whole runs with the fake createRunDir.sh
# ---------------------------------------------------------------------------------------------

def test_a_classic_run_gets_its_run_directory_from_createrundir(tmp_path):
    source = make_source_tree(tmp_path / "src")
    model = make_model(tmp_path)
    spec = make_spec(tmp_path, str(model), days=1, model__source_dir=str(source))
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stdout[-3000:]
    run = tmp_path / "run"
    config = yaml.safe_load((run / "geoschem_config.yml").read_text())
    assert config["simulation"]["start_date"] == [20190101, 0]
    assert config["simulation"]["end_date"] == [20190102, 0]
    assert config["simulation"]["chem_inputs_dir"] == str(tmp_path / "ExtData") + "/CHEM_INPUTS/"
    assert config["operations"]["transport"]["transported_species"] == ["Rn222", "Pb210"]
    assert config["operations"]["transport"]["gcclassic_tpcore"] == {"activate": True}
    assert "'SpeciesConc'," in (run / "HISTORY.rc").read_text()  # the runner's HISTORY.rc
    assert (run / "HEMCO_Config.rc").read_text().startswith("ROOT: ")  # GEOS-Chem's own file stays
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["status"] == "succeeded"
    # The sample restart createRunDir.sh put in Restarts/ is an input, not an output.
    assert "Restarts/GEOSChem.Restart.20190101_0000z.nc4" not in metrics["outputs"]
    log = (reports(tmp_path) / "runner.log").read_text()
    assert "[runner] createRunDir.sh| GEOS-CHEM RUN DIRECTORY CREATION" in log
    assert "[runner] createRunDir.sh answers: " in log


def test_a_gchp_run_gets_its_settings_into_gchps_own_script_and_runs_it(tmp_path):
    from .test_runner_job import with_fake_mpirun

    source = make_source_tree(tmp_path / "src", model="gchp")
    model = make_model(tmp_path)
    spec = make_spec(tmp_path, str(model), model="gchp", days=1, model__source_dir=str(source))
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True,
                          env=with_fake_mpirun(tmp_path), timeout=120)

    assert done.returncode == 0, done.stdout[-3000:]
    run = tmp_path / "run"
    settings = (run / "setCommonRunSettings.sh").read_text()
    assert "TOTAL_CORES=6\n" in settings and "CS_RES=24\n" in settings and "NUM_NODES=1\n" in settings
    assert 'echo "TOTAL_CORES=$TOTAL_CORES' in settings
    assert (run / "settings_applied.txt").read_text() == (
        "TOTAL_CORES=6 CS_RES=24 Run_Duration=00000001 000000 Diags=SpeciesConc AerosolMass\n")
    assert os.readlink(run / "gchp_restart.nc4") == "Restarts/GEOSChem.Restart.20190101_0000z.c24.nc4"
    assert (run / "cap_restart").read_text() == "20190102 000000\n"  # the fake model advanced it
    assert read_json(reports(tmp_path) / "metrics.json")["status"] == "succeeded"


def test_a_spec_the_script_cannot_answer_is_a_bad_spec(tmp_path):
    source = make_source_tree(tmp_path / "src")
    spec = make_spec(tmp_path, str(make_model(tmp_path)), model__source_dir=str(source),
                     grid__resolution="0.125x0.15625")
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True, timeout=120)

    assert done.returncode == 2
    assert "offers no resolution '0.125x0.15625'" in read_json(reports(tmp_path) / "metrics.json")["reason"]


def test_a_missing_source_tree_fails_before_the_model_starts(tmp_path):
    spec = make_spec(tmp_path, str(make_model(tmp_path)), model__source_dir=str(tmp_path / "nowhere"))
    done = subprocess.run(runner_argv(spec, tmp_path / "run"), capture_output=True, text=True, timeout=120)

    assert done.returncode == 1
    metrics = read_json(reports(tmp_path) / "metrics.json")
    assert metrics["reason"].startswith("could not create the run directory: createRunDir.sh is not at ")
    assert not (tmp_path / "run" / "model.pid").exists()
