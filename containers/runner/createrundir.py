"""Making the run directory with GEOS-Chem's own ``createRunDir.sh``.

The production path does not hand-write a run directory: it runs the official script from the
GEOS-Chem source in the image and answers its prompts on standard input, so that every file
the model reads (HEMCO_Config.rc, ExtData.rc, species database, ...) is the one GEOS-Chem
ships. The runner then writes the spec's own values over it (``overlay.py``).

Where the script is (checked against ``.gitmodules`` of geoschem/GCClassic and geoschem/GCHP,
which mount geoschem/geos-chem at ``src/GEOS-Chem`` and at
``src/GCHP_GridComp/GEOSChem_GridComp/geos-chem``; the script ``cd``s to ``../..`` for the
science code and to the wrapper above it, so it must run from its own folder):

- Classic: ``<source>/GCClassic/src/GEOS-Chem/run/GCClassic/createRunDir.sh``
- GCHP: ``<source>/GCHP/src/GCHP_GridComp/GEOSChem_GridComp/geos-chem/run/GCHP/createRunDir.sh``

The prompt order implemented here was read from the stored copies of geoschem/geos-chem:

- ``run/GCHP/createRunDir.sh`` at commit 0249d7942834deb07d0f0646b5207bc92668a1ba, the 14.7.0
  script (its initial restarts come from GEOSCHEM_RESTARTS/GC_14.7.0 and its simulation menu
  is fullchem, TransportTracers, carbon, tagO3);
- ``run/GCClassic/createRunDir.sh`` at commit 000205c86ade5f906f17a628856d8620736111b9, the
  newest Classic copy the index holds (pre-14.7: it still lists CH4, CO2 and tagCO as 9-11
  after the eight 14.7 simulations, and has no 0.125x0.15625 grid and no SA/AF/ME/OC/RU
  domains). A 14.7.0 Classic copy could not be read, so ``rundir_vars_problems`` checks what
  the script actually made and a changed menu fails loudly instead of running the wrong
  simulation.

Prompts the runner never lets the script ask: first-time user registration
(``GC_USER_REGISTERED`` is set in its environment), and the ExtData path is asked first
because the script runs with a private, empty ``$HOME`` and without ``GC_DATA_ROOT``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

from .transport import path_from_uri

SCRIPT_VERSION = {
    "classic": "geoschem/geos-chem run/GCClassic/createRunDir.sh @ 000205c8 (newest stored; pre-14.7)",
    "gchp": "geoschem/geos-chem run/GCHP/createRunDir.sh @ 0249d794 (14.7.0)",
}

_SCRIPT_PATHS = {
    "classic": ("GCClassic", "src", "GEOS-Chem", "run", "GCClassic", "createRunDir.sh"),
    "gchp": ("GCHP", "src", "GCHP_GridComp", "GEOSChem_GridComp", "geos-chem", "run", "GCHP",
             "createRunDir.sh"),
}

# --- Menus, as the scripts number them ------------------------------------------------------
CLASSIC_SIMULATIONS = {"fullchem": "1", "aerosol": "2", "carbon": "3", "Hg": "4", "POPs": "5",
                       "tagO3": "6", "TransportTracers": "7", "metals": "8"}
GCHP_SIMULATIONS = {"fullchem": "1", "TransportTracers": "2", "carbon": "3", "tagO3": "4"}
# "Choose additional simulation option" (fullchem, both models); Complex SOA and TOMAS open a
# second menu.
FULLCHEM_OPTIONS = {None: ["1"], "benchmark": ["2"], "complexSOA": ["3", "1"],
                    "complexSOA_SVPOA": ["3", "2"], "marinePOA": ["4"], "aciduptake": ["5"],
                    "TOMAS15": ["6", "1"], "TOMAS40": ["6", "2"], "APM": ["7"], "RRTMG": ["8"]}
CARBON_OPTIONS = {None: "1", "CH4": "2", "CO2": "3", "CO": "4", "OCS": "5"}
POPS_OPTIONS = {"BaP": "1", "PHE": "2", "PYR": "3"}
CLASSIC_MET = {"MERRA2": "1", "GEOSFP": "2", "GEOSIT": "3", "ModelE2.1": "4"}
# GCHP asks more about GEOS-FP and GEOS-IT files; the runner takes the script's recommended
# answers: GEOS-FP = acknowledge the June 2020 convection warning ("y"), processed 0.25x0.3125
# files (1), 3-hourly winds for advection (1); GEOS-IT = processed C180 files (1), C180
# 3-hourly winds (1). Processed files never trigger the "NASA discover cluster?" question.
GCHP_MET = {"MERRA2": ["1"], "GEOSFP": ["2", "y", "1", "1"], "GEOSIT": ["3", "1", "1"]}
SCENARIOS = {"HIST": "1", "HIST-nudged": "2", "SSP119": "3", "SSP126": "4", "SSP434": "5",
             "SSP245": "6", "SSP460": "7", "SSP370": "8", "SSP585": "9"}
RESOLUTIONS = {"4x5": "1", "2x2.5": "2", "0.5x0.625": "3", "0.25x0.3125": "4"}
NESTED_RESOLUTIONS = ("0.5x0.625", "0.25x0.3125")
# The domain menu of the stored script. Regions it does not list are made as "Custom" and
# get their box from geoschem_config (written over the script's placeholders by overlay.py).
DOMAINS = {"global": "1", "AS": "2", "EU": "3", "NA": "4", "custom": "5"}
LEVELS = {72: "1", 47: "2"}
MODELE_LEVELS = {40: "1"}
NO_OPTION_WORDS = ("", "none", "standard", "all")


class CreateRunDirError(Exception):
    """createRunDir.sh is missing, failed, or made something other than the spec asked for."""


def script_path(model: str, source_dir: str | Path) -> Path:
    """Where createRunDir.sh is in the GEOS-Chem source tree for ``model``."""
    return Path(source_dir).joinpath(*_SCRIPT_PATHS[model])


def _option(spec: dict) -> str | None:
    options = [o for o in (spec.get("simulation") or {}).get("options") or []
               if str(o).strip().lower() not in NO_OPTION_WORDS]
    if len(options) > 1:
        raise ValueError(f"createRunDir.sh takes one simulation option, not {', '.join(options)}")
    return options[0] if options else None


def _pick(table: dict, value, what: str, model: str):
    if value not in table:
        choices = ", ".join(str(k) for k in table if k is not None)
        raise ValueError(f"createRunDir.sh ({model}) offers no {what} {value!r} (choices: {choices})")
    return table[value]


def _extra_answers(sim: str, option: str | None, model: str) -> list[str]:
    if sim == "fullchem":
        return list(_pick(FULLCHEM_OPTIONS, option, "fullchem option", model))
    if sim == "carbon":
        return [_pick(CARBON_OPTIONS, option, "carbon species", model)]
    if sim == "POPs":
        return [_pick(POPS_OPTIONS, option, "POPs species", model)]
    if option is not None:
        raise ValueError(f"the {sim} simulation takes no option (got {option!r})")
    return []


def _classic_grid_answers(spec: dict, sim: str) -> list[str]:
    met = spec["met"]["name"]
    grid = spec["grid"]
    resolution = grid["resolution"]
    answers = []
    if met == "ModelE2.1":
        answers.append(_pick(SCENARIOS, spec["met"].get("scenario"), "GCAP 2.0 scenario", "classic"))
    answer = _pick(RESOLUTIONS, resolution, "resolution", "classic")
    # The script would loop on these (it re-asks until it gets a resolution it offers).
    if resolution == "0.25x0.3125" and met not in ("GEOSFP", "ModelE2.1"):
        raise ValueError(f"createRunDir.sh offers 0.25x0.3125 with GEOS-FP or ModelE2.1 only, not {met}")
    if met == "GEOSIT" and resolution == "0.5x0.625" and sim != "TransportTracers":
        raise ValueError("createRunDir.sh offers GEOS-IT at 0.5x0.625 for TransportTracers only")
    answers.append(answer)
    if met != "GEOSIT" and resolution in NESTED_RESOLUTIONS:
        domain = grid.get("domain") or "global"
        answers.append(DOMAINS.get(domain, DOMAINS["custom"]))
    levels = grid.get("levels")
    answers.append(_pick(MODELE_LEVELS if met == "ModelE2.1" else LEVELS, levels, "number of levels", "classic"))
    return answers


def createrundir_answers(spec: dict, *, rundir_parent: str, rundir_name: str) -> list[str]:
    """The lines to type into createRunDir.sh for ``spec``, in the script's prompt order.

    Classic: ExtData path, simulation, option(s), met, [scenario], resolution, [domain],
    levels, parent folder, run directory name, git (n).
    GCHP: ExtData path, simulation, option(s), met (+ its file questions), parent folder,
    run directory name, git (n), [KPP standalone (n), fullchem only].

    ``io.input_root`` is the ExtData path. Raises ValueError for a choice the script does not
    offer (it would re-ask forever).
    """
    model = spec["model"]["name"]
    sim = spec["simulation"]["type"]
    option = _option(spec)
    extdata = str(path_from_uri(spec["io"]["input_root"]))
    if model == "gchp":
        answers = [extdata, _pick(GCHP_SIMULATIONS, sim, "simulation", model)]
        answers += _extra_answers(sim, option, model)
        answers += _pick(GCHP_MET, spec["met"]["name"], "meteorology", model)
        answers += [rundir_parent, rundir_name, "n"]
        if sim == "fullchem":
            answers.append("n")  # "Do you want to build the KPP-Standalone Box Model?"
        return answers
    answers = [extdata, _pick(CLASSIC_SIMULATIONS, sim, "simulation", model)]
    answers += _extra_answers(sim, option, model)
    answers.append(_pick(CLASSIC_MET, spec["met"]["name"], "meteorology", model))
    answers += _classic_grid_answers(spec, sim)
    answers += [rundir_parent, rundir_name, "n"]
    return answers


# --- What the script says it made -------------------------------------------------------------

def expected_rundir_vars(spec: dict) -> dict[str, str]:
    """The ``CreateRunDirLogs/rundir_vars.txt`` entries that must match the spec."""
    option = _option(spec)
    expected = {"RUNDIR_SIM_NAME": spec["simulation"]["type"],
                "RUNDIR_SIM_EXTRA_OPTION": option or "none"}
    if spec["model"]["name"] == "classic":
        grid = spec["grid"]
        expected["RUNDIR_GRID_NLEV"] = str(grid.get("levels"))
        if spec["met"]["name"] != "GEOSIT" and grid["resolution"] in NESTED_RESOLUTIONS:
            domain = grid.get("domain") or "global"
            if domain != "global":
                expected["RUNDIR_GRID_DOMAIN_NAME"] = domain if domain in DOMAINS else "custom"
        if spec["met"]["name"] == "ModelE2.1":
            expected["RUNDIR_GCAP2_SCENARIO"] = str(spec["met"].get("scenario")).replace("-nudged", "")
    return expected


def parse_rundir_vars(text: str) -> dict[str, str]:
    """``KEY=value`` lines of rundir_vars.txt, quotes and padding removed (the script writes
    values such as ``'true '`` and ``'72'``)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().startswith("RUNDIR_") and not key.lstrip().startswith("#"):
            values[key.strip()] = value.strip().strip("'\"").strip()
    return values


def rundir_vars_problems(text: str, expected: dict[str, str]) -> list[str]:
    """Where rundir_vars.txt disagrees with ``expected``, in words (empty when it agrees)."""
    found = parse_rundir_vars(text)
    return [f"{key} is {found.get(key, 'missing')!r}, not {value!r}"
            for key, value in expected.items() if found.get(key) != value]


# --- Running the script ------------------------------------------------------------------------

MAX_OUTPUT_LINES = 20000  # a prompt re-asked forever (e.g. after EOF) prints without end


def run_script(script: Path, answers: list[str], *, home: Path, on_line: Callable[[str], None],
               timeout: float, stop_requested: Callable[[], bool] = lambda: False) -> int:
    """Run ``script`` from its own folder with ``answers`` on stdin; returns its exit code.

    Raises CreateRunDirError when it runs longer than ``timeout`` seconds, prints more than
    MAX_OUTPUT_LINES lines (a menu re-asked without end) or a stop is requested.
    """
    env = dict(os.environ, HOME=str(home), GC_USER_REGISTERED="true")
    env.pop("GC_DATA_ROOT", None)  # or the script skips the ExtData question we answer first
    argv = [str(script)] if os.access(script, os.X_OK) else ["bash", str(script)]
    proc = subprocess.Popen(argv, cwd=script.parent, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0)
    reason: list[str] = []

    def read() -> None:
        count = 0
        for raw in proc.stdout:
            count += 1
            if count <= MAX_OUTPUT_LINES:
                on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            elif not reason:
                reason.append(f"printed more than {MAX_OUTPUT_LINES} lines (a prompt it kept re-asking?)")
                _kill_group(proc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.stdin.write(("\n".join(answers) + "\n").encode())
        proc.stdin.close()  # then a question beyond the answers reads end-of-file
    except BrokenPipeError:
        pass
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline or stop_requested():
            reason.append("was stopped" if stop_requested() else f"did not finish within {timeout:g} s")
            _kill_group(proc)
            break
        time.sleep(0.05)
    proc.wait()
    reader.join(5)
    if reason:
        raise CreateRunDirError(f"createRunDir.sh {reason[0]}")
    return proc.returncode


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def merge_tree(source: Path, target: Path) -> None:
    """Move everything under ``source`` into ``target`` (folders merged, files replaced), then
    remove ``source``. Symbolic links are moved as links."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        dest = target / entry.name
        if entry.is_dir() and not entry.is_symlink() and dest.is_dir() and not dest.is_symlink():
            merge_tree(entry, dest)
            continue
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        elif dest.exists() or dest.is_symlink():
            dest.unlink()
        os.replace(entry, dest)
    source.rmdir()


def create_run_directory(spec: dict, *, model: str, source_dir: str, workdir: Path,
                         on_line: Callable[[str], None], timeout: float,
                         stop_requested: Callable[[], bool] = lambda: False) -> list[str]:
    """Make ``workdir`` a GEOS-Chem run directory with createRunDir.sh; returns notes for the
    log. ``workdir`` may exist already (the runner's log may be in it): the script works in a
    fresh sibling folder, because it refuses an existing name, and its result is moved in.
    """
    script = script_path(model, source_dir)
    if not script.is_file():
        raise CreateRunDirError(f"createRunDir.sh is not at {script} (is model.source_dir right?)")
    extdata = path_from_uri(spec["io"]["input_root"])
    extdata.mkdir(parents=True, exist_ok=True)  # the script re-asks until the path exists
    scratch = workdir.parent / f".{workdir.name}.createrundir-{os.getpid()}"
    if scratch.exists():
        shutil.rmtree(scratch)
    (scratch / "home").mkdir(parents=True)
    answers = createrundir_answers(spec, rundir_parent=str(scratch), rundir_name=workdir.name)
    try:
        code = run_script(script, answers, home=scratch / "home", on_line=on_line, timeout=timeout,
                          stop_requested=stop_requested)
        made = scratch / workdir.name
        if code != 0 or not made.is_dir():
            raise CreateRunDirError(f"createRunDir.sh exited with code {code}"
                                    + ("" if made.is_dir() else " without making the run directory"))
        notes = [f"answers: {' | '.join(answers)}"]
        vars_file = made / "CreateRunDirLogs" / "rundir_vars.txt"
        if vars_file.is_file():
            problems = rundir_vars_problems(vars_file.read_text(errors="replace"), expected_rundir_vars(spec))
            if problems:
                raise CreateRunDirError(
                    "createRunDir.sh made a different run directory than the spec asks for ("
                    + "; ".join(problems) + f"); its menus differ from {SCRIPT_VERSION[model]}")
        else:
            notes.append("no CreateRunDirLogs/rundir_vars.txt to check the choices against")
        merge_tree(made, workdir)
        return notes
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
