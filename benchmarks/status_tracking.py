"""Status tracking at scale: one sync cycle over N active Batch jobs (moto in-process).

    .venv/bin/python benchmarks/status_tracking.py [--jobs 1000] [--json]

Reports, for one `tracking.jobs_sync()` cycle: DescribeJobs calls (the bound is ceil(N/100)),
database queries (constant in N), and seconds; and, as the baseline measured in the same run,
describing the same jobs one DescribeJobs call each. The figure is the ratio of the two times.
Times are from moto on this machine, so only the ratio and the counts carry over to AWS.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _django(tmp: Path) -> None:
    os.environ.update({"DJANGO_SETTINGS_MODULE": "geoschem_runner.settings", "GCR_DATA_DIR": str(tmp),
                       "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "GCR_LOG_LEVEL": "WARNING"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate_running_jobs(n: int, names, bucket: str) -> list[str]:
    """N simulations, each with one RUNNING job submitted to (moto's) Batch and a progress report in S3."""
    from accounts.models import User
    from simulations import aws, s3
    from simulations.models import Job, Simulation

    batch = aws.client("batch")
    queue = names.queue(architecture="x86_64", capacity="on-demand")
    definition = names.job_definition(model="classic", architecture="x86_64")
    owner, _ = User.objects.get_or_create(email="bench@example.org")
    config = {"name": "bench", "model": "classic", "simulation": "TransportTracers", "resolution": "4x5"}
    start = Simulation.objects.count()
    sims, jobs = [], []
    for i in range(start, start + n):
        name, output = f"gcr-b{i:05d}-s001-a1", f"s3://{bucket}/runs/{i:05d}/"
        job_id = batch.submit_job(jobName=name, jobQueue=queue, jobDefinition=definition, containerOverrides={
            "environment": [{"name": "GCR_SPEC_URI", "value": f"{output}specs/{name}.json"}]})["jobId"]
        s3.put_json(f"{output}reports/s001-a1/progress.json", {
            "state": "running", "percent": 42.0, "simulated_time": "2019-01-02T00:00:00",
            "updated_at": "2026-11-28T12:00:00Z"})
        sim = Simulation(owner=owner, name=f"bench {i}", model="classic", simulation_type="TransportTracers",
                         resolution="4x5", config=config, executable="demo", status="running", segments_total=1,
                         output_uri=output)
        sims.append(sim)
        jobs.append(Job(simulation=sim, segment=1, attempt=1, name=name, backend="batch", backend_id=job_id,
                        state="RUNNING", period_start="2019-01-01T00:00Z", period_end="2019-01-03T00:00Z", spec={}))
    Simulation.objects.bulk_create(sims)
    Job.objects.bulk_create(jobs)
    return [job.backend_id for job in jobs]


def keep_jobs_running(batch_client) -> None:
    """moto's Docker-less Batch finishes a job the moment it is submitted; show them as RUNNING."""

    def running(parsed, **_):
        for job in parsed.get("jobs", []):
            job["status"] = "RUNNING"

    batch_client.meta.events.register("after-call.batch.DescribeJobs", running)


def count_calls(batch_client) -> dict:
    calls = {"DescribeJobs": 0}

    def count(**_):
        calls["DescribeJobs"] += 1

    batch_client.meta.events.register("before-call.batch.DescribeJobs", count)
    return calls


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="gcr-bench-"))
    _django(tmp)
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from moto import mock_aws

    from simulations import aws, tracking
    from simulations.aws_names import AwsNames
    from simulations.backends.batch import BatchBackend
    from simulations.management.commands.setup_dev_aws import create_dev_resources

    with mock_aws(config={"batch": {"use_docker": False}}):
        aws.reset_clients()
        names = AwsNames.from_prefix("gcr-bench")
        settings.AWS_REGION, settings.AWS_PREFIX, settings.S3_BUCKET = "us-east-1", names.prefix, "bench-results"
        settings.COMPUTE_BACKEND, settings.BATCH = "batch", True
        create_dev_resources(names=names, bucket="bench-results", region="us-east-1")
        ids = populate_running_jobs(args.jobs, names, "bench-results")
        keep_jobs_running(aws.client("batch"))
        calls = count_calls(aws.client("batch"))
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            tracking.jobs_sync()
            ours_s = time.perf_counter() - start
        describe_calls = calls["DescribeJobs"]
        backend = BatchBackend()
        start = time.perf_counter()
        for backend_id in ids:
            backend.describe([backend_id])  # the naive baseline: one call per job
        naive_s = time.perf_counter() - start
    result = {
        "jobs": args.jobs,
        "describe_calls": describe_calls,
        "describe_calls_bound": math.ceil(args.jobs / 100),
        "queries": len(queries),
        "sync_s": round(ours_s, 3),
        "one_call_per_job_s": round(naive_s, 3),
        "naive_over_ours": round(naive_s / ours_s, 2) if ours_s else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return result


if __name__ == "__main__":
    main()
