"""The in-job runner: run one segment of a GEOS-Chem simulation from a run spec.

    python containers/runner/runner.py --spec SPEC_URI --workdir DIR
        [--grace-seconds 20] [--progress-interval S] [--log-interval 30]
        [--stage-workers 16] [--rendezvous-timeout 3600]

SPEC_URI is a path, a file:// URI or an s3:// URI of the run spec (docs/run-spec.md);
``$GCR_SPEC_URI`` is the default, which is how AWS Batch passes it. DIR becomes the run
directory. Reports go to the spec's io.report_uri, outputs to io.output_uri (file:// or s3://).

Environment-only settings: GCR_CREATERUNDIR_TIMEOUT (900 s), GCR_DRYRUN_TIMEOUT (3600 s),
GCR_SSHD_COMMAND and GCR_NODE_IP (multi-node jobs, see multinode.py), GCR_DEMO_MODEL.

Exit codes: 0 succeeded, 1 failed, 2 bad run spec, 143 interrupted (SIGTERM or SIGINT); a
non-main node of a multi-node job exits 0 once the main node is done.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and not __package__:
    # Started as a script: import this folder as the package "runner" (from its parent
    # folder) so that the modules' relative imports work the same as under python -m.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from runner.runner import main as _main

    sys.exit(_main())

import argparse
import shlex
import signal
import time
import traceback
from datetime import datetime
from pathlib import Path

from . import launch, multinode, outcome, production
from .instance import detect_instance_type
from .logparse import LogWatcher, reason_line
from .outputs import OutputShipper
from .procstats import TreeSampler, children_peak_rss_mb, utc_stamp
from .reports import (
    LOG_KEY, MAX_SAMPLES, METRICS_KEY, PROGRESS_KEY, LogUploader, RunLog, metrics_document,
    progress_document, write_json,
)
from .rundir import CAP_RESTART, RESTART_DIR, RunDir, adopt_gchp_checkpoint, end_restart_path, read_cap_restart
from .spec import Segment, SpecError, check_spec, load_spec, report_uri_of
from .transport import TransportError, is_remote, open_store

EXIT_SUCCEEDED = 0
EXIT_FAILED = 1
EXIT_BAD_SPEC = 2
EXIT_INTERRUPTED = 143  # 128 + SIGTERM, what a shell reports for a terminated job

_EXIT_CODES = {
    outcome.SUCCEEDED: EXIT_SUCCEEDED,
    outcome.FAILED: EXIT_FAILED,
    outcome.INTERRUPTED: EXIT_INTERRUPTED,
}


LOCAL_PROGRESS_INTERVAL = 2.0
# Every progress.json on S3 is a PUT; one each 5 s is plenty for a person watching.
REMOTE_PROGRESS_INTERVAL = 5.0


def _env_number(name: str, default: float | None, kind=float):
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="runner", description=__doc__.split("\n\n")[0])
    spec_default = os.environ.get("GCR_SPEC_URI") or None
    parser.add_argument("--spec", default=spec_default, required=spec_default is None,
                        help="run spec: a path, a file:// or an s3:// URI (default $GCR_SPEC_URI)")
    parser.add_argument("--workdir", required=True, help="run directory to prepare and run in")
    parser.add_argument(
        "--grace-seconds", type=float, default=_env_number("GCR_GRACE_SECONDS", 20.0),
        help="after SIGTERM, how long the model may take to stop before SIGKILL "
             "(default 20, or $GCR_GRACE_SECONDS)")
    parser.add_argument(
        "--progress-interval", type=float, default=_env_number("GCR_PROGRESS_INTERVAL", None),
        help="seconds between progress.json updates, CPU/memory samples and output copies "
             f"(default {LOCAL_PROGRESS_INTERVAL:g}, or {REMOTE_PROGRESS_INTERVAL:g} when reports go to S3; "
             "$GCR_PROGRESS_INTERVAL)")
    parser.add_argument(
        "--log-interval", type=float, default=_env_number("GCR_LOG_UPLOAD_INTERVAL", 30.0),
        help="seconds between uploads of runner.log to a remote report location (default 30, "
             "or $GCR_LOG_UPLOAD_INTERVAL)")
    parser.add_argument(
        "--stage-workers", type=int, default=_env_number("GCR_STAGE_WORKERS", production.DEFAULT_WORKERS, int),
        help="input files downloaded at once (default 16, or $GCR_STAGE_WORKERS)")
    parser.add_argument(
        "--rendezvous-timeout", type=float, default=_env_number("GCR_RENDEZVOUS_TIMEOUT", 3600.0),
        help="multi-node jobs: how long the main node waits for the others to register "
             "(default 3600, or $GCR_RENDEZVOUS_TIMEOUT)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    job = Job(
        spec_uri=args.spec,
        workdir=Path(args.workdir).resolve(),
        grace_seconds=max(0.0, args.grace_seconds),
        interval=None if args.progress_interval is None else min(max(0.1, args.progress_interval), 60.0),
        log_interval=max(1.0, args.log_interval),
        rendezvous_timeout=max(1.0, args.rendezvous_timeout),
        prep=production.PrepSettings(
            stage_workers=max(1, args.stage_workers),
            createrundir_timeout=_env_number("GCR_CREATERUNDIR_TIMEOUT", 900.0),
            dryrun_timeout=_env_number("GCR_DRYRUN_TIMEOUT", 3600.0),
        ),
    )
    return job.run()


class Job:
    """One execution of the runner, from reading the spec to the last report."""

    def __init__(self, *, spec_uri: str, workdir: Path, grace_seconds: float, interval: float | None,
                 log_interval: float = 30.0, rendezvous_timeout: float = 3600.0,
                 prep: production.PrepSettings | None = None):
        self.spec_uri = spec_uri
        self.workdir = workdir
        self.grace_seconds = grace_seconds
        self.interval = interval  # None: chosen from the report location once it is known
        self.log_interval = log_interval
        self.rendezvous_timeout = rendezvous_timeout
        self.prep = prep or production.PrepSettings()
        self.started_at = utc_stamp()
        self.started = time.monotonic()
        self.signal: int | None = None
        self.segment: Segment | None = None
        self.reports = None  # FileStore or S3Store
        self.log: RunLog | None = None
        self.uploader: LogUploader | None = None
        self.shipper: OutputShipper | None = None
        self.process: launch.ModelProcess | None = None
        self.stopped_model = False  # the runner stopped the model because of a signal
        self.sampler: TreeSampler | None = None
        self.samples: list[dict] = []
        self.model_started: float | None = None
        self.model_ended: float | None = None

    # -- signals --------------------------------------------------------------------------

    def _on_signal(self, signum, _frame) -> None:
        # Only record it: the main loop notices within 0.1 s and does the stopping.
        if self.signal is None:
            self.signal = signum

    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _stop_requested(self) -> bool:
        return self.signal is not None

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> int:
        self._install_signal_handlers()
        raw = None
        try:
            raw = load_spec(self.spec_uri)
            self.segment = check_spec(raw)
            role = multinode.node_role(os.environ)
            self.reports = open_store(self.segment.report_uri)
            outputs = open_store(self.segment.output_uri)
        except (SpecError, TransportError, ValueError) as exc:
            return self._refuse(raw, str(exc))
        if self.interval is None:
            remote = is_remote(self.segment.report_uri)
            self.interval = REMOTE_PROGRESS_INTERVAL if remote else LOCAL_PROGRESS_INTERVAL
        if role is not None and not role.is_main:
            return self._serve_as_other_node(raw, role)

        self.log = RunLog(self._log_path(), LogWatcher(), echo=sys.stdout)
        self.uploader = LogUploader(self.reports, self.log, interval=self.log_interval)
        try:
            return self._run(raw, outputs, role)
        except Exception as exc:  # a runner bug must still leave a readable metrics.json
            self.log.runner_line("runner error: " + "".join(traceback.format_exception_only(exc)).strip())
            for line in traceback.format_exc().splitlines():
                self.log.runner_line(line)
            if self.process is not None and not self.process.exited.is_set():
                self.process.stop(0, self.log.runner_line)
            return self._finish(outcome.Outcome(outcome.FAILED, f"runner error: {exc}"), exit_code=None)
        finally:
            if role is not None:
                self._release_other_nodes()
            self.log.close()

    def _log_path(self) -> Path:
        # A remote report store (S3) has no local path: the log is then written in the run
        # directory and uploaded on an interval and at the end.
        path = self.reports.local_path(LOG_KEY)
        return path if path is not None else self.workdir / LOG_KEY

    def _prepare(self, raw: dict, say) -> RunDir:
        """production.prepare with this job's settings (raises as it does)."""
        return production.prepare(raw, self.segment, self.workdir, settings=self.prep, env=dict(os.environ),
                                  say=say, stop_requested=self._stop_requested)

    def _run(self, raw: dict, outputs, role: multinode.NodeRole | None) -> int:
        seg = self.segment
        say = self.log.runner_line
        say(f"GEOS-Chem Cloud Runner: job {seg.job_name}, {seg.model} model "
            f"({'demo' if seg.executable == launch.DEMO else seg.executable}), segment "
            f"{seg.start.isoformat()} to {seg.end.isoformat()} ({seg.days:g} days)"
            + (f", node {role.index} of {role.num_nodes} (main)" if role else ""))
        self._write_progress("starting")

        def say_and_upload(text: str) -> None:
            # Making the run directory and staging can take many minutes: the log keeps
            # reaching a remote report location meanwhile.
            say(text)
            self._upload_log()

        try:
            run_dir = self._prepare(raw, say_and_upload)
        except (KeyError, ValueError) as exc:
            return self._refuse(raw, f"cannot render the run directory from the spec: {exc}")
        except production.PreparationFailed as exc:
            return self._finish(outcome.Outcome(outcome.FAILED, str(exc)), exit_code=None)
        except production.Interrupted:
            return self._finish(outcome.interrupted(self.signal), exit_code=None)
        say(f"prepared the run directory {run_dir.root}"
            + (f" with restart {run_dir.staged_restart.name}" if run_dir.staged_restart else " (no restart file)"))
        self.shipper = OutputShipper(run_dir.root, outputs)
        if run_dir.staged_restart:
            self.shipper.ignore_unchanged(run_dir.staged_restart)
        if production.uses_createrundir(seg):
            self.shipper.ignore_present(RESTART_DIR)
        if self.signal is not None:
            return self._finish(outcome.interrupted(self.signal), exit_code=None, run_dir=run_dir)

        hostfile = None
        if role is not None:
            try:
                hostfile = self._meet_other_nodes(role, run_dir)
            except (multinode.RendezvousError, TransportError) as exc:
                if self.signal is not None:
                    return self._finish(outcome.interrupted(self.signal), exit_code=None, run_dir=run_dir)
                return self._finish(outcome.Outcome(outcome.FAILED, str(exc)), exit_code=None, run_dir=run_dir)

        demo_path = launch.find_demo_model(os.environ, __file__)
        if seg.executable == launch.DEMO and not demo_path.is_file():
            return self._finish(outcome.Outcome(outcome.FAILED, (
                f"the demo model is not at {demo_path} (set {launch.DEMO_ENV} to its path)")),
                exit_code=None, run_dir=run_dir)
        argv = launch.build_command(seg, demo_path=demo_path, python=sys.executable, hostfile=hostfile)
        env = launch.build_env(seg, dict(os.environ))
        say(f"running: {shlex.join(argv)} (in {run_dir.root}, OMP_NUM_THREADS={env['OMP_NUM_THREADS']})")
        try:
            self.model_started = time.monotonic()
            self.process = launch.ModelProcess(argv, cwd=run_dir.root, env=env, on_line=self.log.model_line)
        except OSError as exc:
            self.model_started = None
            return self._finish(outcome.Outcome(
                outcome.FAILED, f"could not start the model: {exc}"), exit_code=None, run_dir=run_dir)

        self._supervise()
        return self._conclude(run_dir)

    # -- multi-node ---------------------------------------------------------------------------

    def _meet_other_nodes(self, role: multinode.NodeRole, run_dir: RunDir) -> str:
        """Register this (main) node, wait for the others, write the hostfile; returns its name."""
        say = self.log.runner_line
        ip = multinode.own_ip(os.environ, role)
        multinode.register(self.reports, role, ip=ip, slots=self.segment.cores_per_node)
        say(f"registered as node {role.index} ({ip}); waiting for {role.num_nodes} node(s), "
            f"at most {self.rendezvous_timeout:g} s")
        nodes = multinode.wait_for_nodes(self.reports, role.num_nodes, timeout=self.rendezvous_timeout,
                                         stop_requested=self._stop_requested, say=say)
        failed = {index: node["error"] for index, node in nodes.items() if node.get("error")}
        if failed:
            raise multinode.RendezvousError("; ".join(f"node {index} could not prepare: {error}"
                                                      for index, error in sorted(failed.items())))
        text = multinode.hostfile_text(nodes)
        (run_dir.root / multinode.HOSTFILE).write_text(text)
        say("hostfile: " + ", ".join(text.splitlines()))
        return multinode.HOSTFILE

    def _release_other_nodes(self) -> None:
        try:
            multinode.mark_done(self.reports)
        except TransportError as exc:
            self.log.runner_line(f"could not write {multinode.DONE_KEY}: {exc}")

    def _serve_as_other_node(self, raw: dict, role: multinode.NodeRole) -> int:
        """A non-main node: prepare the same run directory, register, serve ssh until the main
        node is done. Writes no reports: its log is local (and on standard output)."""
        self.log = RunLog(self.workdir.parent / f"{self.workdir.name}.node{role.index}.log", LogWatcher(),
                          echo=sys.stdout)
        say = self.log.runner_line
        say(f"GEOS-Chem Cloud Runner: job {self.segment.job_name}, node {role.index} of {role.num_nodes} "
            f"(main node {role.main_index} at {role.main_ip or 'unknown address'})")
        error = None
        try:
            self._prepare(raw, say)
        except (KeyError, ValueError) as exc:
            error = f"cannot render the run directory from the spec: {exc}"
        except production.PreparationFailed as exc:
            error = str(exc)
        except production.Interrupted:
            say("stopped before the run directory was ready")
            self.log.close()
            return EXIT_SUCCEEDED
        try:
            ip = multinode.own_ip(os.environ, role)
            multinode.register(self.reports, role, ip=ip, slots=self.segment.cores_per_node, error=error)
            say(f"registered as node {role.index} ({ip}, {self.segment.cores_per_node} slots)"
                + (f" with error: {error}" if error else ""))
            if error:
                return EXIT_FAILED
            why = multinode.serve_until_done(self.reports, sshd=multinode.sshd_command(os.environ),
                                             stop_requested=self._stop_requested, say=say)
            say("the main node is done" if why == "done" else "received a signal: leaving")
            return EXIT_SUCCEEDED
        except TransportError as exc:
            say(f"could not reach the report location: {exc}")
            return EXIT_FAILED
        finally:
            self.log.close()

    def _supervise(self) -> None:
        """Report progress until the model ends or a signal asks the runner to stop."""
        self.sampler = TreeSampler(self.process.pid)
        self.sampler.sample()  # baseline for the first CPU figure
        next_report = time.monotonic()
        while self.signal is None and not self.process.exited.is_set():
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + self.interval
                self._take_sample()
                self._write_progress("running")
                self._ship(final=False)
                self._upload_log()
            launch.wait_either(self.process, lambda: self.signal is not None,
                               next_report - time.monotonic())
        if not self.process.exited.is_set():
            name = signal.Signals(self.signal).name
            self.log.runner_line(f"received {name}: stopping the model")
            self.stopped_model = True
            self.process.stop(self.grace_seconds, self.log.runner_line)
        self.model_ended = time.monotonic()
        self.process.finish_output()

    def _conclude(self, run_dir: RunDir) -> int:
        seg = self.segment
        returncode = self.process.returncode
        exit_code = outcome.exit_code_of(returncode)
        self.log.runner_line(
            f"the model {outcome.describe_exit(returncode)} after {self.model_ended - self.model_started:.1f} s")
        if self.stopped_model:
            result = outcome.interrupted(self.signal)
        else:
            if seg.model == "gchp" and adopt_gchp_checkpoint(run_dir, seg):
                self.log.runner_line("renamed Restarts/gcchem_internal_checkpoint to "
                                     + end_restart_path(run_dir, seg).name)
            restart = end_restart_path(run_dir, seg)
            result = outcome.judge(
                model=seg.model,
                returncode=returncode,
                end=seg.end,
                restart_written=restart.is_file() and restart.stat().st_size > 0,
                restart_name=f"{RESTART_DIR}/{restart.name}",
                cap_restart=read_cap_restart(run_dir.root / CAP_RESTART),
                last_line=reason_line(self.log.recent_model_lines()),
            )
        return self._finish(result, exit_code=exit_code, run_dir=run_dir)

    # -- reports --------------------------------------------------------------------------------

    def _take_sample(self) -> None:
        sample = self.sampler.sample() if self.sampler else None
        if sample is not None:
            self.samples.append(sample.as_dict())
            del self.samples[:-MAX_SAMPLES]

    def _model_wall(self) -> float:
        if self.model_started is None:
            return 0.0
        return (self.model_ended or time.monotonic()) - self.model_started

    def _write_progress(self, state: str, *, simulated: datetime | None = None, status: str | None = None) -> None:
        seg = self.segment
        if simulated is None:
            simulated, _ = self.log.snapshot()
        document = progress_document(
            job_name=seg.job_name, state=state, start=seg.start, end=seg.end,
            simulated=simulated or seg.start, wall_seconds=self._model_wall(),
            started_at=self.started_at, updated_at=utc_stamp(), samples=self.samples, status=status,
        )
        try:
            write_json(self.reports, PROGRESS_KEY, document)
        except TransportError as exc:  # a report that fails to write must not stop the model
            self.log.runner_line(f"could not write {PROGRESS_KEY}: {exc}")

    def _ship(self, *, final: bool) -> str | None:
        """Copy new outputs; returns the error in words if copying failed."""
        if self.shipper is None:
            return None
        try:
            copied = self.shipper.ship(final=final)
        except TransportError as exc:
            self.log.runner_line(f"copying outputs failed: {exc}")
            return str(exc)
        if copied:
            self.log.runner_line(f"copied {len(copied)} file(s) to {self.segment.output_uri}: {', '.join(copied)}")
        return None

    def _upload_log(self) -> None:
        """Copy runner.log to a remote report location if its interval has passed."""
        if self.uploader is not None:
            self.uploader.maybe_upload()

    def _upload_log_now(self) -> None:
        if self.uploader is not None:
            error = self.uploader.upload()
            if error:
                self.log.runner_line(f"could not upload {LOG_KEY}: {error}")

    def _finish(self, result: outcome.Outcome, *, exit_code: int | None, run_dir: RunDir | None = None) -> int:
        """Copy the outputs (all of them, whatever the outcome: after SIGTERM this saves the
        latest restart), upload runner.log, write the final progress.json and metrics.json,
        and return the runner's exit code."""
        seg = self.segment
        if run_dir is not None and self.shipper is not None:
            error = self._ship(final=True)
            if error and result.status == outcome.SUCCEEDED:
                result = outcome.Outcome(outcome.FAILED, f"the model finished but copying its outputs failed: {error}")
        simulated, timers = self.log.snapshot()
        if result.status == outcome.SUCCEEDED:
            simulated = seg.end  # the last progress line is printed before the last step
        simulated = min(max(simulated or seg.start, seg.start), seg.end)
        restart_key = None
        if run_dir is not None and self.shipper is not None:
            key = f"{RESTART_DIR}/{end_restart_path(run_dir, seg).name}"
            restart_key = key if key in self.shipper.copied else None

        self.log.runner_line(f"finished: {result.status}" + (f" ({result.reason})" if result.reason else ""))
        peak = max(self.sampler.peak_rss_mb if self.sampler else 0.0,
                   children_peak_rss_mb() if self.model_started else 0.0)
        document = metrics_document(
            job_name=seg.job_name, status=result.status, exit_code=exit_code, reason=result.reason,
            wall_seconds=time.monotonic() - self.started,
            model_wall_seconds=self._model_wall() if self.model_started else None,
            peak_rss_mb=peak or None, instance_type=detect_instance_type(seg.instance_type),
            simulated_days=(simulated - seg.start).total_seconds() / 86400.0,
            model_timers=timers, outputs=self.shipper.copied if self.shipper else [],
            restart=restart_key, log_tail=self.log.tail(),
            started_at=self.started_at, finished_at=utc_stamp(),
        )
        # An interrupted or failed segment may still have left a restart part-way (a daily
        # restart, a GCHP mid-run checkpoint): the platform can resume from it.
        document["latest_restart"] = self.shipper.latest_restart() if self.shipper else None
        self._upload_log_now()
        self._write_progress("finished", simulated=simulated, status=result.status)
        try:
            write_json(self.reports, METRICS_KEY, document)
        except TransportError as exc:
            self.log.runner_line(f"could not write {METRICS_KEY}: {exc}")
            self._upload_log_now()
            return EXIT_FAILED
        return _EXIT_CODES[result.status]

    def _refuse(self, raw, message: str) -> int:
        """A bad spec: say why on stderr and, if the spec says where, in metrics.json."""
        reason = f"bad run spec: {message}"
        print(f"[runner] {reason}", file=sys.stderr)
        uri = report_uri_of(raw)
        try:
            store = self.reports or (open_store(uri) if uri else None)
        except TransportError:
            store = None
        if store is not None:
            job_name = raw.get("job_name") if isinstance(raw, dict) else None
            if self.log is not None:
                self.log.runner_line(reason)
            document = metrics_document(
                job_name=job_name if isinstance(job_name, str) else None, status=outcome.FAILED,
                exit_code=None, reason=reason, wall_seconds=time.monotonic() - self.started,
                model_wall_seconds=None, peak_rss_mb=None, instance_type=None, simulated_days=0.0,
                model_timers={}, outputs=[], restart=None,
                log_tail=self.log.tail() if self.log else [f"[runner] {reason}"],
                started_at=self.started_at, finished_at=utc_stamp(),
            )
            if self.segment is not None and self.log is not None:
                # The spec passed its check but could not be rendered: progress.json already
                # says "starting" and must not stay that way.
                self._write_progress("finished", simulated=self.segment.start, status=outcome.FAILED)
                self._upload_log_now()
            try:
                write_json(store, METRICS_KEY, document)
            except TransportError as exc:
                print(f"[runner] could not write {METRICS_KEY}: {exc}", file=sys.stderr)
        return EXIT_BAD_SPEC


if __name__ == "__main__":
    sys.exit(main())
