"""Input staging: copy the input files a segment needs from ``io.input_source`` (the
``s3://geos-chem`` bucket) into ``io.input_root`` (the local ExtData) before the model starts.

Which files:
- Classic: the model's own dry run (``gcclassic --dryrun``, GEOSCHEM.md section 5). Lines with
  ": OPENING" or ": READING" name files found on disk, lines with "FILE NOT FOUND" files that
  are missing; the path is the line's last word, as ``download_data.py`` reads it. HEMCO
  prints ``HEMCO: Opening <path>``, ``HEMCO: REQUIRED FILE NOT FOUND <path>`` and
  ``HEMCO: OPTIONAL FILE NOT FOUND <path>`` (hcoio_read_std_mod.F90); optional files may be
  absent from the bucket too.
- GCHP: the run directory's ``ExtData.rc`` (MAPL ExtData): each entry's file template, with
  ``%y4 %m2 %d2 %h2 %n2`` expanded for every hour (templates with an hour or minute token) or
  day of the segment; ``/dev/null`` entries are unused imports. The climatology column (Y)
  and refresh templates such as ``F%y4-01-01T00:00:00`` need no special case: a climatology
  file's name has no date tokens, or fixed ones, so expanding gives one file, and yearly or
  monthly files come out once each after de-duplication. Plus the initial restart when
  createRunDir.sh linked it from ExtData.

How: every file is looked up in the source (HEAD) first, in parallel; files that exist
neither locally nor in the source fail the segment before anything is downloaded. Then the
files not already present with the same size are downloaded in parallel, each through a
temporary name. Only files under ``io.input_root`` are staged (restarts in the run directory
are the runner's business).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Callable

from .transport import TransportError, path_from_uri, scheme_of

DEFAULT_WORKERS = 16
MISSING_SHOWN = 5  # how many missing files the failure reason names


class StagingError(Exception):
    """The inputs cannot be staged; the message is the segment's failure reason."""


class StagingInterrupted(Exception):
    """A stop was requested (SIGTERM) while staging."""


# ---------------------------------------------------------------------------------------------
# Which files (pure)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DryRunFiles:
    found: list[str]
    required_missing: list[str]
    optional_missing: list[str]

    @property
    def all(self) -> list[str]:
        return sorted(set(self.found) | set(self.required_missing) | set(self.optional_missing))


def parse_dryrun_log(lines) -> DryRunFiles:
    """The files a Classic dry run reported, by kind, each listed once."""
    found, required, optional = set(), set(), set()
    for line in lines:
        upper = line.upper()
        words = line.split()
        if not words:
            continue
        if ": OPENING" in upper or ": READING" in upper:
            found.add(words[-1])
        elif "OPTIONAL FILE NOT FOUND" in upper:
            optional.add(words[-1])
        elif "FILE NOT FOUND" in upper:
            required.add(words[-1])
    return DryRunFiles(sorted(found), sorted(required - found), sorted(optional - found - required))


_TOKENS = {"%y4": "%Y", "%m2": "%m", "%d2": "%d", "%h2": "%H", "%n2": "%M"}


def expand_template(template: str, start: datetime, end: datetime) -> list[str]:
    """The file names a MAPL template takes from ``start`` to ``end`` (both included), in
    order, each once. Hourly steps when the template has an hour or minute token, else daily."""
    if not any(token in template for token in _TOKENS):
        return [template]
    hourly = "%h2" in template or "%n2" in template
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    when = start.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        when = when.replace(hour=0)
    pattern = template.replace("%", "%%")
    for token, code in _TOKENS.items():
        pattern = pattern.replace("%" + token, code)
    names: list[str] = []
    while when <= end:
        name = when.strftime(pattern)
        if name not in names:
            names.append(name)
        when += step
    return names


def extdata_templates(text: str) -> list[str]:
    """The file templates of an ExtData.rc: the 9th column of each primary export, without
    ``/dev/null``. Only the ``PrimaryExports%%`` section is read when the file has one (the
    derived exports have expressions, not files)."""
    templates = []
    in_primary = "PrimaryExports%%" not in text
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("PrimaryExports%%"):
            in_primary = True
            continue
        if line == "%%" or line.endswith("Exports%%"):
            in_primary = False
            continue
        if not in_primary or not line or line.startswith("#"):
            continue
        words = line.split()
        if len(words) >= 9 and words[8] not in ("/dev/null", "none") and words[8] not in templates:
            templates.append(words[8])
    return templates


def resolve_run_path(path: str, run_root: str, links: dict[str, str]) -> str:
    """An ExtData.rc path as an absolute path: ``./HcoDir/x.nc`` through the run directory's
    symbolic link ``HcoDir`` (``links`` maps link names to their targets)."""
    pure = PurePosixPath(path)
    if pure.is_absolute():
        return os.path.normpath(str(pure))
    parts = [part for part in pure.parts if part != "."]
    if parts and parts[0] in links:
        target = PurePosixPath(links[parts[0]])
        base = target if target.is_absolute() else PurePosixPath(run_root) / target
        return os.path.normpath(str(base.joinpath(*parts[1:])))
    return os.path.normpath(str(PurePosixPath(run_root).joinpath(*parts)))


def gchp_input_files(extdata_rc: str, start: datetime, end: datetime, *, run_root: str,
                     links: dict[str, str]) -> list[str]:
    """Every file the ExtData.rc entries name for the segment, as absolute paths."""
    files: list[str] = []
    for template in extdata_templates(extdata_rc):
        for name in expand_template(template, start, end):
            path = resolve_run_path(name, run_root, links)
            if path not in files:
                files.append(path)
    return files


def run_dir_links(run_root: Path) -> dict[str, str]:
    """The symbolic links directly in a run directory (ChemDir, HcoDir, MetDir, ...)."""
    links = {}
    for entry in run_root.iterdir():
        if entry.is_symlink():
            links[entry.name] = os.readlink(entry)
    return links


def under(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` as a POSIX key, or None when it is not under it."""
    relative = os.path.relpath(os.path.normpath(path), os.path.normpath(root))
    if relative == "." or relative.startswith(".."):
        return None
    return PurePosixPath(*Path(relative).parts).as_posix()


def source_uri(key: str, input_source: str) -> str:
    """The location of ExtData key ``GEOS_4x5/MERRA2/...`` in ``input_source``."""
    return input_source.rstrip("/") + "/" + key


def missing_reason(missing: list[str], input_root: str, input_source: str) -> str:
    """The failure reason for inputs found nowhere: how many, and the first few."""
    shown = ", ".join(missing[:MISSING_SHOWN])
    more = f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
    return (f"{len(missing)} input file(s) exist neither in {input_root} nor in {input_source}: "
            f"{shown}{more}")


def human_bytes(count: int) -> str:
    return f"{count / 1e9:.1f} GB" if count >= 1e8 else f"{count / 1e6:.1f} MB"


# ---------------------------------------------------------------------------------------------
# Where the files come from
# ---------------------------------------------------------------------------------------------

def _source_size(uri: str) -> int | None:
    if scheme_of(uri) == "s3":
        from . import s3

        return s3.head_size(uri)
    try:
        return path_from_uri(uri).stat().st_size
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TransportError(f"cannot look at {uri}: {exc}") from exc


def _source_download(uri: str, dest: Path) -> None:
    if scheme_of(uri) == "s3":
        from . import s3

        s3.download(uri, dest)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(handle)
    try:
        shutil.copyfile(path_from_uri(uri), tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        os.unlink(tmp)
        raise TransportError(f"could not copy {uri} to {dest}: {exc}") from exc


def _local_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# Staging
# ---------------------------------------------------------------------------------------------

@dataclass
class StageReport:
    files: int = 0  # files under the input root the run needs
    downloaded: int = 0
    cached: int = 0  # already present with the source's size (or only present locally)
    bytes_downloaded: int = 0
    optional_absent: list[str] = field(default_factory=list)


class Stager:
    """Copies the files a run needs from ``input_source`` into ``input_root``.

    ``say`` gets progress lines; ``stop_requested`` is polled so that a SIGTERM ends staging
    within a second (downloads under way finish, no new ones start).
    """

    def __init__(self, *, input_root: str, input_source: str, workers: int = DEFAULT_WORKERS,
                 say: Callable[[str], None] = lambda text: None,
                 stop_requested: Callable[[], bool] = lambda: False, progress_every: float = 10.0):
        self.input_root = str(path_from_uri(input_root))
        self.input_source = input_source
        self.workers = max(1, workers)
        self.say = say
        self.stop_requested = stop_requested
        self.progress_every = progress_every

    def _run_all(self, function, items: list, on_result: Callable[[list], None] = lambda results: None) -> list:
        """``function`` over ``items`` in the thread pool; results in order. ``on_result``
        sees the results so far (None where not done yet) after each one."""
        results: list = [None] * len(items)
        if not items:
            return results
        executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="stage")
        try:
            pending = {executor.submit(function, item): index for index, item in enumerate(items)}
            while pending:
                if self.stop_requested():
                    raise StagingInterrupted()
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    results[pending.pop(future)] = future.result()
                    on_result(results)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        return results

    def stage(self, paths: list[str], *, optional: frozenset[str] | set[str] = frozenset()) -> StageReport:
        """Make every path under the input root present locally, or raise StagingError naming
        the files that exist neither locally nor in the source."""
        report = StageReport()
        keys = []
        for path in paths:
            key = under(path, self.input_root)
            if key is not None and key not in keys:
                keys.append(key)
        report.files = len(keys)
        self.say(f"staging {len(keys)} input file(s) from {self.input_source} into {self.input_root} "
                 f"({self.workers} at a time)")

        def look(key: str) -> tuple[str, int | None, int | None]:
            return key, _source_size(source_uri(key, self.input_source)), _local_size(Path(self.input_root, key))

        try:
            looked = self._run_all(look, keys)
        except TransportError as exc:
            raise StagingError(f"could not look up the inputs in {self.input_source}: {exc}") from exc
        missing, fetch = [], []
        for key, remote, local in looked:
            path = str(Path(self.input_root, key))
            if remote is None:
                if local is not None:
                    report.cached += 1
                elif path in optional:
                    report.optional_absent.append(path)
                else:
                    missing.append(path)
            elif local == remote:
                report.cached += 1
            else:
                fetch.append((key, remote))
        if missing:
            raise StagingError(missing_reason(missing, self.input_root, self.input_source))
        if report.optional_absent:
            self.say(f"{len(report.optional_absent)} optional input file(s) exist nowhere and are "
                     f"skipped: {', '.join(report.optional_absent[:MISSING_SHOWN])}")

        total_bytes = sum(size for _, size in fetch)
        last_said = [time.monotonic()]

        def get(item: tuple[str, int]) -> int:
            key, size = item
            _source_download(source_uri(key, self.input_source), Path(self.input_root, key))
            return size

        def tick(results: list) -> None:
            done = [size for size in results if size is not None]
            now = time.monotonic()
            if len(done) == len(results) or now - last_said[0] >= self.progress_every:
                last_said[0] = now
                self.say(f"staged {len(done)}/{len(results)} files, {human_bytes(sum(done))} "
                         f"of {human_bytes(total_bytes)}")

        try:
            sizes = self._run_all(get, fetch, tick)
        except TransportError as exc:
            raise StagingError(f"could not stage the inputs: {exc}") from exc
        report.downloaded = len(sizes)
        report.bytes_downloaded = sum(sizes)
        self.say(f"inputs ready: {report.downloaded} downloaded ({human_bytes(report.bytes_downloaded)}), "
                 f"{report.cached} already present")
        return report


# ---------------------------------------------------------------------------------------------
# The Classic dry run
# ---------------------------------------------------------------------------------------------

def run_dryrun(argv: list[str], *, cwd: Path, env: dict, log_path: Path, timeout: float,
               stop_requested: Callable[[], bool] = lambda: False) -> tuple[int, list[str]]:
    """Run ``argv`` (``gcclassic --dryrun``) in ``cwd``; its output goes to ``log_path`` and is
    returned as lines with the exit code. Raises StagingInterrupted on a stop request and
    StagingError when it outlives ``timeout`` seconds or cannot start."""
    try:
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, process_group=0)
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                if stop_requested() or time.monotonic() > deadline:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait()
                    if stop_requested():
                        raise StagingInterrupted()
                    raise StagingError(f"the dry run did not finish within {timeout:g} s")
                time.sleep(0.1)
    except OSError as exc:
        raise StagingError(f"could not start the dry run ({' '.join(argv)}): {exc}") from exc
    return proc.returncode, log_path.read_text(errors="replace").splitlines()
