"""Preparing a segment's run directory, from an empty folder to ready-to-launch.

One entry point, ``prepare``, used by every node of a job:

1. a real model (not "demo") with ``model.source_dir``: GEOS-Chem's createRunDir.sh makes
   the run directory (``createrundir.py``);
2. the spec's values are written into it (``rundir.prepare_run_dir``; merged over
   GEOS-Chem's files when step 1 ran), and the restart of the segment start is copied in;
3. a real model with ``io.input_source``: the inputs are staged (``staging.py``);
4. GCHP after step 1: GCHP's own ``setCommonRunSettings.sh`` (which carries the spec's
   settings into GCHP.rc, CAP.rc, ExtData.rc, ...) and ``setRestartLink.sh`` are run, as
   GCHP's run scripts do before ``mpirun``.

Errors: ValueError/KeyError for a spec the run directory cannot be made from (the runner
reports a bad spec), PreparationFailed with the failure reason, Interrupted on a stop request.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .createrundir import SCRIPT_VERSION, CreateRunDirError, create_run_directory
from .rundir import RESTART_DIR, RunDir, prepare_run_dir, restart_filename
from .spec import Segment
from .staging import (
    DEFAULT_WORKERS, Stager, StagingError, StagingInterrupted, gchp_input_files, parse_dryrun_log,
    run_dir_links, run_dryrun, under,
)
from .transport import TransportError, path_from_uri

GCHP_SETUP_SCRIPTS = ("setCommonRunSettings.sh", "setRestartLink.sh")


class PreparationFailed(Exception):
    """The run directory could not be made ready; the message is the failure reason."""


class Interrupted(Exception):
    """A stop (SIGTERM) was requested while preparing."""


@dataclass(frozen=True)
class PrepSettings:
    stage_workers: int = DEFAULT_WORKERS
    createrundir_timeout: float = 900.0
    dryrun_timeout: float = 3600.0
    setup_timeout: float = 600.0


def uses_createrundir(segment: Segment) -> bool:
    return not segment.is_demo and bool(segment.source_dir)


def prepare(raw: dict, segment: Segment, workdir: Path, *, settings: PrepSettings, env: dict,
            say: Callable[[str], None], stop_requested: Callable[[], bool]) -> RunDir:
    """Make ``workdir`` ready to run ``segment`` (see the module docstring)."""

    def check_stop() -> None:
        if stop_requested():
            raise Interrupted()

    merge = uses_createrundir(segment)
    if merge:
        say(f"creating the run directory with {segment.source_dir}/.../createRunDir.sh "
            f"(prompts as in {SCRIPT_VERSION[segment.model]})")
        try:
            notes = create_run_directory(
                raw, model=segment.model, source_dir=segment.source_dir, workdir=workdir,
                on_line=lambda line: say(f"createRunDir.sh| {line}"),
                timeout=settings.createrundir_timeout, stop_requested=stop_requested)
        except CreateRunDirError as exc:
            check_stop()
            raise PreparationFailed(f"could not create the run directory: {exc}") from exc
        except OSError as exc:
            raise PreparationFailed(f"could not create the run directory: {exc}") from exc
        for note in notes:
            say(f"createRunDir.sh {note}")
    check_stop()
    notes: list[str] = []
    try:
        run_dir = prepare_run_dir(raw, segment, workdir, merge=merge, notes=notes)
    except (TransportError, OSError) as exc:
        raise PreparationFailed(f"could not prepare the run directory: {exc}") from exc
    for note in notes:
        say(note)
    check_stop()
    if not segment.is_demo and segment.input_source:
        _stage(segment, run_dir, settings=settings, env=env, say=say, stop_requested=stop_requested)
    if merge and segment.model == "gchp":
        _run_gchp_setup(run_dir.root, timeout=settings.setup_timeout, say=say, stop_requested=stop_requested)
    check_stop()
    return run_dir


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def _dryrun_env(segment: Segment, env: dict) -> dict:
    out = dict(env)
    out["OMP_NUM_THREADS"] = str(segment.threads)
    return out


def input_files(segment: Segment, run_root: Path, *, settings: PrepSettings, env: dict,
                say: Callable[[str], None], stop_requested: Callable[[], bool]) -> tuple[list[str], set[str]]:
    """(the files the segment reads, the optional ones among them)."""
    if segment.model == "classic":
        say(f"dry run: {segment.executable} --dryrun (output in log.dryrun)")
        code, lines = run_dryrun([segment.executable, "--dryrun"], cwd=run_root,
                                 env=_dryrun_env(segment, env), log_path=run_root / "log.dryrun",
                                 timeout=settings.dryrun_timeout, stop_requested=stop_requested)
        if code != 0:
            last = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
            raise StagingError(f"the dry run ({segment.executable} --dryrun) exited with code {code}; "
                               f"last line: {last}")
        files = parse_dryrun_log(lines)
        say(f"dry run lists {len(files.found)} file(s) found, {len(files.required_missing)} missing, "
            f"{len(files.optional_missing)} optional missing")
        return files.all, set(files.optional_missing)
    extdata = run_root / "ExtData.rc"
    if not extdata.is_file():
        raise StagingError("the run directory has no ExtData.rc to list GCHP's inputs from")
    links = run_dir_links(run_root)
    paths = gchp_input_files(extdata.read_text(errors="replace"), segment.start, segment.end,
                             run_root=str(run_root), links=links)
    # createRunDir.sh links the sample restarts from ExtData/GEOSCHEM_RESTARTS into Restarts/.
    restart = run_root / RESTART_DIR / restart_filename(segment.start, segment.cs_res)
    if restart.is_symlink():
        target = os.readlink(restart)
        paths.append(target if os.path.isabs(target) else str(restart.parent / target))
    say(f"ExtData.rc lists {len(paths)} file(s) for {segment.start:%Y-%m-%d} to {segment.end:%Y-%m-%d}")
    return paths, set()


def _stage(segment: Segment, run_dir: RunDir, *, settings: PrepSettings, env: dict,
           say: Callable[[str], None], stop_requested: Callable[[], bool]) -> None:
    try:
        paths, optional = input_files(segment, run_dir.root, settings=settings, env=env, say=say,
                                      stop_requested=stop_requested)
        root = str(path_from_uri(segment.input_root))
        outside = [p for p in paths if under(p, root) is None]
        if outside:
            say(f"{len(outside)} listed file(s) are outside {root} and are not staged "
                f"(e.g. {outside[0]})")
        Stager(input_root=segment.input_root, input_source=segment.input_source,
               workers=settings.stage_workers, say=say, stop_requested=stop_requested,
               ).stage(paths, optional=optional)
    except StagingInterrupted as exc:
        raise Interrupted() from exc
    except StagingError as exc:
        raise PreparationFailed(str(exc)) from exc


# ---------------------------------------------------------------------------------------------
# GCHP's own setup scripts
# ---------------------------------------------------------------------------------------------

def _run_gchp_setup(run_root: Path, *, timeout: float, say: Callable[[str], None],
                    stop_requested: Callable[[], bool]) -> None:
    for name in GCHP_SETUP_SCRIPTS:
        script = run_root / name
        if not script.is_file():
            say(f"{name} is not in the run directory; skipped")
            continue
        say(f"running ./{name}")
        argv = ["bash", f"./{name}"] + (["--verbose"] if name == "setCommonRunSettings.sh" else [])
        output = run_root / f".{name}.out"  # a file, not a pipe: nothing blocks on a full pipe
        try:
            with open(output, "wb") as out:
                proc = subprocess.Popen(argv, cwd=run_root, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT)
        except OSError as exc:
            raise PreparationFailed(f"could not run {name}: {exc}") from exc
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline and not stop_requested():
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            if stop_requested():
                raise Interrupted()
            raise PreparationFailed(f"{name} did not finish within {timeout:g} s")
        lines = output.read_text(errors="replace").splitlines()
        output.unlink()
        for line in lines:
            say(f"{name}| {line}")
        if proc.returncode != 0:
            last = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
            raise PreparationFailed(f"{name} exited with code {proc.returncode}: {last}")
