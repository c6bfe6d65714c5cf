"""The AWS Batch compute backend (docs/aws.md): one Batch job per segment attempt.

The spec goes to S3 next to the run's outputs; the job's container runs the runner on it, and the
runner writes runner.log (also to CloudWatch Logs, through the container's output), progress.json
and metrics.json under the spec's `report_uri`. The Batch jobId is the backend id.

Where a job's reports are: the job carries `GCR_SPEC_URI=<output_uri>specs/<job name>.json` in its
environment, which DescribeJobs and the state-change events both show. The report prefix is
`<output_uri>reports/sNNN-aN/`, and job names end in `-sNNN-aN` (spec.job_name), so it is derived
with no extra call. When the environment is not shown (a multi-node job's describe output may omit
it) the spec URI is rebuilt from the `gcr:simulation` tag, the job name and OUTPUT_ROOT_URI; a job
name of another form falls back to reading the spec's `io.report_uri` once (cached).
"""

import copy
import json
import logging
import re
from datetime import datetime, timezone

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from simulations import aws, catalog, s3
from simulations.aws_names import AwsNames, architecture_of
from simulations.backends.base import BackendError, BackendTransientError, JobState, LogChunk, SubmitResult
from simulations.backends.base import parse_utc
from simulations.config import FieldError

log = logging.getLogger(__name__)

FINAL_STATES = ("SUCCEEDED", "FAILED")
QUEUED_STATES = ("SUBMITTED", "PENDING", "RUNNABLE")  # cancel_job stops these
STARTED_STATES = ("STARTING", "RUNNING")  # only terminate_job stops these
STATES = QUEUED_STATES + STARTED_STATES + FINAL_STATES
DESCRIBE_BATCH = 100  # DescribeJobs takes at most 100 ids a call
SPOT_RECLAIM_PREFIX = "Host EC2"  # "Host EC2 (instance i-0abc) terminated."
TIMEOUT_REASON = "Job attempt duration exceeded timeout"
# Stops the platform asked for carry this mark in Batch's statusReason, so a runner that reports
# "interrupted" after our own SIGTERM is not mistaken for a Spot reclaim and resumed.
CANCEL_MARK = "[gcr] "
UNKNOWN_JOB_REASON = ("AWS Batch does not know this job: it was never submitted, or it ended more than "
                      "7 days ago and Batch has forgotten it")
DEFAULT_CLASSIC_MEMORY_GB = 16  # no catalog figure (nested grids): enough for a regional run
LOG_TAIL_LINES = 20
LOG_LINE_BYTES = 80  # CloudWatch pages by events: a byte limit becomes limit // 80 lines
_REPORT_SUFFIX = re.compile(r"-(s\d{3,}-a\d+)$")
REPORT_URI_CACHE_SIZE = 4096
_report_uri_cache: dict[str, str] = {}  # spec URI -> report URI; a spec never changes


def _names() -> AwsNames:
    return AwsNames.from_prefix(settings.AWS_PREFIX)


def _when(epoch_ms) -> datetime | None:
    """An aware datetime from Batch's epoch milliseconds (absent or 0: None)."""
    if not epoch_ms:
        return None
    return datetime.fromtimestamp(int(epoch_ms) / 1000, tz=timezone.utc)


def _main_container(job: dict) -> dict:
    """The container details that decide the job: its own, or the last attempt's (multi-node:
    Batch fills the parent's exit information from the main node)."""
    container = dict(job.get("container") or {})
    attempts = job.get("attempts") or []
    last = (attempts[-1].get("container") or {}) if attempts else {}
    for key in ("exitCode", "logStreamName"):
        if container.get(key) is None and last.get(key) is not None:
            container[key] = last[key]
    return container


def _spec_uri(job: dict) -> str | None:
    environments = [(job.get("container") or {}).get("environment") or []]
    for node_range in (job.get("nodeProperties") or {}).get("nodeRangeProperties") or []:
        environments.append((node_range.get("container") or {}).get("environment") or [])
    for environment in environments:
        for item in environment:
            if item.get("name") == "GCR_SPEC_URI" and item.get("value"):
                return item["value"]
    simulation = (job.get("tags") or {}).get("gcr:simulation")
    root = settings.OUTPUT_ROOT_URI
    if simulation and job.get("jobName") and root.startswith("s3://"):
        return f"{root}{simulation}/specs/{job['jobName']}.json"
    return None


def _report_uri(job: dict) -> str | None:
    """The job's report prefix ("s3://.../reports/s001-a1/"), or None when it cannot be found."""
    spec_uri = _spec_uri(job)
    if not spec_uri or "/specs/" not in spec_uri:
        return None
    output_uri, _, spec_file = spec_uri.rpartition("specs/")
    match = _REPORT_SUFFIX.search(spec_file.removesuffix(".json"))
    if match:
        return f"{output_uri}reports/{match.group(1)}/"
    if spec_uri not in _report_uri_cache:
        report = ((_read_report(spec_uri) or {}).get("io") or {}).get("report_uri")
        if not report:
            return None
        if len(_report_uri_cache) >= REPORT_URI_CACHE_SIZE:
            _report_uri_cache.clear()
        _report_uri_cache[spec_uri] = report
    return _report_uri_cache[spec_uri]


def _read_report(uri: str) -> dict | None:
    """A report document; a refusal is logged and read as "none yet" so one job cannot stop a sync
    (a busy S3 still raises BackendTransientError, and the sync tries again later)."""
    try:
        return s3.get_json(uri)
    except BackendTransientError:
        raise
    except BackendError as exc:
        log.warning("could not read %s: %s", uri, exc)
        return None


def job_state(job: dict, *, reports_for: tuple[str, ...] = ("RUNNING",) + FINAL_STATES) -> JobState:
    """A JobState from a job as DescribeJobs (or an event's `detail`) shows it.

    For jobs in `reports_for`, progress.json is read; for final jobs metrics.json too. A FAILED
    job is `interrupted` when Batch says its host went away (a Spot reclaim) or the runner says it
    was interrupted, unless the platform itself stopped it or its time ran out.
    """
    status = job.get("status", "")
    batch_reason = job.get("statusReason") or ""
    stopped_by_us = batch_reason.startswith(CANCEL_MARK)
    batch_reason = batch_reason.removeprefix(CANCEL_MARK)
    host_lost = status == "FAILED" and batch_reason.startswith(SPOT_RECLAIM_PREFIX)
    progress = metrics = None
    report = _report_uri(job) if status in reports_for else None
    if report:
        progress = _read_report(report + "progress.json")
        if status in FINAL_STATES:
            metrics = _read_report(report + "metrics.json")
    interrupted = host_lost
    reason = batch_reason
    if metrics and status == "FAILED":
        # Out of time: resuming would only run out of time again, so it is a failure.
        stopped_on_purpose = stopped_by_us or batch_reason == TIMEOUT_REASON
        interrupted = host_lost or (metrics.get("status") == "interrupted" and not stopped_on_purpose)
        if not (host_lost or stopped_on_purpose):
            # Batch's own words ("Essential container in task exited") say less than the runner's.
            reason = metrics.get("reason") or batch_reason
        tail = (metrics.get("log_tail") or [])[-LOG_TAIL_LINES:]
        if tail:
            reason = (reason + ". Last log lines:\n" if reason else "Last log lines:\n") + "\n".join(tail)
    if status == "SUCCEEDED" and report and not metrics:
        # Batch saw the container exit 0, but the runner always reports; without its report there
        # are no outputs or restart to go on from, so this is not a success.
        status = "FAILED"
        reason = f"Batch reports success but the runner left no metrics.json under {report}"
    exit_code = _main_container(job).get("exitCode")
    if exit_code is None and metrics:
        exit_code = metrics.get("exit_code")
    started_at = _when(job.get("startedAt")) or (parse_utc(progress.get("started_at")) if progress else None)
    return JobState(
        backend_id=job["jobId"], state=status, reason=reason, exit_code=exit_code, started_at=started_at,
        stopped_at=_when(job.get("stoppedAt")) if status in FINAL_STATES else None,
        heartbeat_at=parse_utc(progress.get("updated_at")) if progress else None,
        progress=progress, metrics=metrics, interrupted=interrupted,
    )


# The images (containers/README.md) keep GEOS-Chem's source here, for createRunDir.sh, and build
# one executable per chemistry mechanism: carbon and Hg need their own CMake options.
IMAGE_SOURCE_DIR = "/opt/geos-chem/src"
MECHANISM_EXECUTABLES = {"carbon": "-carbon", "Hg": "-Hg"}


def image_executable(executable: str, simulation: str) -> str:
    """The image's executable built for `simulation` (gcclassic-carbon for carbon, ...)."""
    if executable.startswith("/opt/geos-chem/bin/") and simulation in MECHANISM_EXECUTABLES:
        return executable + MECHANISM_EXECUTABLES[simulation]
    return executable


def job_memory_mib(spec: dict) -> int:
    """Memory to reserve: the catalog's figure for the grid (per node for GCHP).

    Deliberately simple: no per-vCPU minimum; a Classic grid without a figure gets 16 GiB.
    """
    if spec["model"]["name"] == "gchp":
        gigabytes = catalog.gchp_memory(spec["grid"]["cs_res"])["gb_per_node"]
    else:
        gigabytes = catalog.classic_memory_gb(spec["grid"]["resolution"]) or DEFAULT_CLASSIC_MEMORY_GB
    return int(gigabytes * 1024)


class BatchBackend:
    name = "batch"

    # --- before submitting --------------------------------------------------------------------
    def config_problems(self, cfg) -> list:
        """GCHP only on x86 images; the demo model's limits when it is the model.

        Multi-node GCHP on Spot is already refused by config validation (parse_config)."""
        problems = []
        if cfg.model == "gchp" and architecture_of(cfg.compute.instance_type) == "arm64":
            problems.append(FieldError("compute.instance_type", (
                "GCHP images are built for x86_64 only; choose an x86 instance type (e.g. c7i, c7a, hpc7a)")))
        executable = settings.GCHP_EXECUTABLE if cfg.model == "gchp" else settings.GCCLASSIC_EXECUTABLE
        if executable == "demo":
            problems.extend(catalog.demo_problems(cfg))
        return problems

    def prepare_spec(self, spec: dict) -> dict:
        """A copy with what Batch and the container need: architecture, vCPUs, memory, timeout,
        where the spec itself lives, and input data read from the container's own root."""
        spec = copy.deepcopy(spec)
        compute, io = spec["compute"], spec["io"]
        compute["architecture"] = architecture_of(compute.get("instance_type"))
        compute["vcpus"] = compute["cores_per_node"]
        compute["memory_mib"] = job_memory_mib(spec)
        compute["timeout_s"] = settings.BATCH_TIMEOUT_HOURS * 3600
        io["spec_uri"] = f"{io['output_uri']}specs/{spec['job_name']}.json"
        io["input_source"] = settings.INPUT_SOURCE or None
        io["input_root"] = settings.CONTAINER_INPUT_ROOT
        spec["geoschem_config"]["simulation"]["root_data_dir"] = settings.CONTAINER_INPUT_ROOT
        spec["model"]["executable"] = image_executable(spec["model"]["executable"], spec["simulation"]["type"])
        spec["model"].setdefault("source_dir", IMAGE_SOURCE_DIR)
        return spec

    # --- submitting ---------------------------------------------------------------------------
    def submit(self, *, job_name: str, spec: dict) -> SubmitResult:
        """Write the spec to S3 and submit; a job of the same name in the queue is returned instead."""
        names = _names()
        compute = spec["compute"]
        model = spec["model"]["name"]
        architecture = compute.get("architecture") or architecture_of(compute.get("instance_type"))
        multinode = model == "gchp" and int(compute.get("nodes", 1)) > 1
        queue = names.queue(architecture=architecture, capacity=compute.get("capacity", "on-demand"),
                            multinode=multinode)
        batch = aws.client("batch")
        with aws.translated("AWS Batch could not look for an earlier submission"):
            pages = batch.get_paginator("list_jobs").paginate(
                jobQueue=queue, filters=[{"name": "JOB_NAME", "values": [job_name]}])
            earlier = [item for page in pages for item in page.get("jobSummaryList", [])
                       if item.get("jobName") == job_name]
        if earlier:
            return SubmitResult(backend_id=earlier[0]["jobId"], already_existed=True)
        s3.put_json(spec["io"]["spec_uri"], spec)
        request = self._submit_request(job_name, spec, names, queue, architecture, multinode)
        with aws.translated("AWS Batch refused the job"):
            answer = batch.submit_job(**request)
        return SubmitResult(backend_id=answer["jobId"])

    def _submit_request(self, job_name, spec, names, queue, architecture, multinode) -> dict:
        compute = spec["compute"]
        overrides = {
            "resourceRequirements": [{"type": "VCPU", "value": str(compute["vcpus"])},
                                     {"type": "MEMORY", "value": str(compute["memory_mib"])}],
            "environment": [{"name": "GCR_SPEC_URI", "value": spec["io"]["spec_uri"]},
                            {"name": "OMP_NUM_THREADS", "value": str(compute.get("threads", 1))}],
        }
        request = {
            "jobName": job_name,
            "jobQueue": queue,
            "jobDefinition": names.job_definition(model=spec["model"]["name"], architecture=architecture,
                                                  multinode=multinode),
            "timeout": {"attemptDurationSeconds": max(60, int(compute["timeout_s"]))},  # Batch's minimum
            "tags": {"gcr:simulation": str(spec["simulation_id"]), "gcr:job": job_name,
                     "gcr:segment": str(spec["segment"]["index"])},
            "propagateTags": True,
        }
        if multinode:
            request["nodeOverrides"] = {"numNodes": int(compute["nodes"]), "nodePropertyOverrides": [
                {"targetNodes": "0:", "containerOverrides": overrides}]}
        else:
            request["containerOverrides"] = overrides
        return request

    # --- following ----------------------------------------------------------------------------
    def _describe_raw(self, backend_ids: list[str]) -> dict[str, dict]:
        found = {}
        batch = aws.client("batch")
        with aws.translated("AWS Batch could not describe jobs"):
            for start in range(0, len(backend_ids), DESCRIBE_BATCH):
                for job in batch.describe_jobs(jobs=backend_ids[start:start + DESCRIBE_BATCH]).get("jobs", []):
                    found[job["jobId"]] = job
        return found

    def describe(self, backend_ids: list[str]) -> dict[str, JobState]:
        """Every id's state, in calls of at most 100 ids; ids Batch does not know come back FAILED."""
        ids = list(dict.fromkeys(backend_ids))
        found = self._describe_raw(ids)
        return {backend_id: job_state(found[backend_id]) if backend_id in found
                else JobState(backend_id, "FAILED", reason=UNKNOWN_JOB_REASON) for backend_id in ids}

    def cancel(self, backend_id: str, *, reason: str) -> None:
        """Cancel while queued, terminate once started; nothing for a finished or unknown job."""
        job = self._describe_raw([backend_id]).get(backend_id)
        if job is None:
            return
        marked = (CANCEL_MARK + (reason or "cancelled"))[:1000]
        batch = aws.client("batch")
        with aws.translated("AWS Batch refused to stop the job"):
            if job["status"] in QUEUED_STATES:
                batch.cancel_job(jobId=backend_id, reason=marked)
            elif job["status"] in STARTED_STATES:
                batch.terminate_job(jobId=backend_id, reason=marked)

    def _log_stream(self, job: dict) -> str | None:
        stream = _main_container(job).get("logStreamName")
        main_node = (job.get("nodeProperties") or {}).get("mainNode")
        if not stream and main_node is not None:
            # Multi-node: the main node is a job of its own, "<jobId>#<node index>".
            node_id = f"{job['jobId']}#{main_node}"
            node = self._describe_raw([node_id]).get(node_id)
            stream = _main_container(node).get("logStreamName") if node else None
        return stream

    def read_log(self, backend_id: str, *, position: str = "", limit: int = 65536) -> LogChunk:
        """Log lines from CloudWatch after `position` (a CloudWatch forward token; "" = the start)."""
        job = self._describe_raw([backend_id]).get(backend_id)
        if job is None:
            return LogChunk("", position, complete=True)
        final = job.get("status") in FINAL_STATES
        stream = self._log_stream(job)
        if not stream:
            return LogChunk("", position, complete=final)
        request = {"logGroupName": _names().log_group, "logStreamName": stream, "startFromHead": True,
                   "limit": max(1, min(10000, limit // LOG_LINE_BYTES))}
        if position:
            request["nextToken"] = position
        try:
            answer = aws.client("logs").get_log_events(**request)
        except ClientError as exc:
            if aws.error_code(exc) == "ResourceNotFoundException":  # the stream is not there yet
                return LogChunk("", position, complete=final)
            raise aws.translate(exc, action="CloudWatch Logs refused to hand out the log") from exc
        except BotoCoreError as exc:
            raise aws.translate(exc, action="CloudWatch Logs refused to hand out the log") from exc
        events = answer.get("events", [])
        # Each line ends in a newline, so chunks read one after another join into the whole log.
        text = "".join(event.get("message", "") + "\n" for event in events)
        return LogChunk(text, answer.get("nextForwardToken") or position, complete=final and not events)

    def read_progress(self, backend_id: str) -> dict | None:
        job = self._describe_raw([backend_id]).get(backend_id)
        report = _report_uri(job) if job else None
        return _read_report(report + "progress.json") if report else None

    # --- events -------------------------------------------------------------------------------
    def state_from_event(self, body: str) -> tuple[str, JobState] | None:
        """(jobId, JobState) from an SQS message body holding a "Batch Job State Change" event.

        Mapped as describe() maps DescribeJobs, reading the runner's reports only for final
        states. None (logged) for a malformed message or any other event.
        """
        try:
            event = json.loads(body)
        except (TypeError, ValueError):
            log.warning("ignored an event message that is not JSON: %.200r", body)
            return None
        if not isinstance(event, dict) or event.get("source") != "aws.batch" or \
                event.get("detail-type") != "Batch Job State Change":
            log.warning("ignored an event that is not a Batch job state change: %.200r", body)
            return None
        detail = event.get("detail")
        if not isinstance(detail, dict) or not isinstance(detail.get("jobId"), str) or \
                detail.get("status") not in STATES:
            log.warning("ignored a Batch event without a job id or a known status: %.200r", body)
            return None
        return detail["jobId"], job_state(detail, reports_for=FINAL_STATES)
