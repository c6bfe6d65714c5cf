"""Check that every AWS resource the batch backend names exists and is usable.

One line per check, "ok" or "MISSING ..." (or "skipped" for what cannot be checked here), and
exit status 1 if anything is missing. Permissions are simulated with IAM's policy simulator
when settings name the principal the app runs as (AWS_PRINCIPAL_ARN, from GCR_AWS_PRINCIPAL_ARN);
otherwise they are reported as not checked. Only reads: it never creates or changes anything.
"""

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from simulations import aws
from simulations.aws_names import AwsNames

# What the app itself calls (the job role's rights are the CDK app's business).
BATCH_ACTIONS = ("batch:SubmitJob", "batch:ListJobs", "batch:DescribeJobs", "batch:CancelJob", "batch:TerminateJob")
OBJECT_ACTIONS = ("s3:PutObject", "s3:GetObject")
# Prices, Spot history and the bill (costs/aws_pricing.py, costs/cost_explorer.py): none of these
# actions takes a resource narrower than "*".
COST_ACTIONS = ("pricing:GetProducts", "ec2:DescribeSpotPriceHistory", "ec2:DescribeInstanceTypes",
                "ce:GetCostAndUsage")


@dataclass(frozen=True)
class Check:
    outcome: str  # "ok" | "MISSING" | "skipped"
    what: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.outcome:<8}{self.what}" + (f": {self.detail}" if self.detail else "")


def _why(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '')} {error.get('Message', '')}".strip()
    return str(exc)


def _bucket(bucket: str) -> Check:
    if not bucket:
        return Check("MISSING", "S3 bucket", "GCR_S3_BUCKET is not set")
    try:
        aws.client("s3").head_bucket(Bucket=bucket)
    except (ClientError, BotoCoreError) as exc:
        return Check("MISSING", f"S3 bucket {bucket}", _why(exc))
    return Check("ok", f"S3 bucket {bucket}")


def _batch_items(names: AwsNames) -> list[Check]:
    batch = aws.client("batch")
    checks = []
    environments = [names.compute_environment(queue) for queue in names.queues]
    found = {item["computeEnvironmentName"]: item for item in
             batch.describe_compute_environments(computeEnvironments=environments)["computeEnvironments"]}
    for name in environments:
        checks.append(_usable("compute environment", name, found.get(name)))
    found = {item["jobQueueName"]: item for item in batch.describe_job_queues(jobQueues=names.queues)["jobQueues"]}
    for name in names.queues:
        checks.append(_usable("job queue", name, found.get(name)))
    for name in names.job_definitions:
        active = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE")["jobDefinitions"]
        checks.append(Check("ok", f"job definition {name}") if active
                      else Check("MISSING", f"job definition {name}", "no ACTIVE revision"))
    return checks


def _usable(kind: str, name: str, item: dict | None) -> Check:
    if item is None:
        return Check("MISSING", f"{kind} {name}", "not found")
    if item.get("state") != "ENABLED" or item.get("status") != "VALID":
        return Check("MISSING", f"{kind} {name}",
                     f"state {item.get('state')}, status {item.get('status')} (want ENABLED, VALID)")
    return Check("ok", f"{kind} {name}")


def _queue(queue_url: str) -> tuple[Check, str]:
    """The events queue's check, and its ARN ("" when missing)."""
    if not queue_url:
        return Check("MISSING", "SQS queue", "GCR_SQS_QUEUE_URL is not set"), ""
    try:
        attributes = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url,
                                                            AttributeNames=["All"])["Attributes"]
    except (ClientError, BotoCoreError) as exc:
        return Check("MISSING", f"SQS queue {queue_url}", _why(exc)), ""
    if "RedrivePolicy" not in attributes:
        return Check("MISSING", f"SQS queue {queue_url}", "no dead-letter queue (RedrivePolicy)"), attributes["QueueArn"]
    return Check("ok", f"SQS queue {queue_url}"), attributes["QueueArn"]


def _rule(names: AwsNames, queue_arn: str) -> Check:
    what = f"EventBridge rule {names.events_rule}"
    events = aws.client("events")
    try:
        rule = events.describe_rule(Name=names.events_rule)
        targets = events.list_targets_by_rule(Rule=names.events_rule)["Targets"]
    except (ClientError, BotoCoreError) as exc:
        return Check("MISSING", what, _why(exc))
    if rule.get("State") != "ENABLED":
        return Check("MISSING", what, f"state {rule.get('State')}")
    if queue_arn and not any(target["Arn"] == queue_arn for target in targets):
        return Check("MISSING", what, "does not send to the events queue")
    return Check("ok", what)


def _permissions(principal: str, bucket: str, queue_arn: str) -> list[Check]:
    if not principal:
        return [Check("skipped", "permissions", "not checked (set GCR_AWS_PRINCIPAL_ARN to the app's role to check)")]
    # Each group against the resource it acts on: a policy scoped to the bucket or the queue
    # would look denied if simulated against "*".
    groups = [(BATCH_ACTIONS, "*"), (OBJECT_ACTIONS, f"arn:aws:s3:::{bucket}/runs/*"),
              (("s3:ListBucket",), f"arn:aws:s3:::{bucket}"), (("logs:GetLogEvents",), "*"),
              (("sqs:ReceiveMessage", "sqs:DeleteMessage"), queue_arn or "*"), (COST_ACTIONS, "*")]
    denied = []
    try:
        for actions, resource in groups:
            answer = aws.client("iam").simulate_principal_policy(
                PolicySourceArn=principal, ActionNames=list(actions), ResourceArns=[resource])
            denied += [result["EvalActionName"] for result in answer["EvaluationResults"]
                       if result["EvalDecision"] != "allowed"]
    except (ClientError, BotoCoreError) as exc:
        return [Check("skipped", "permissions", f"not checked: the policy simulator refused ({_why(exc)})")]
    if denied:
        return [Check("MISSING", f"permissions of {principal}", "denied " + ", ".join(denied))]
    return [Check("ok", f"permissions of {principal}")]


def run_checks(*, names: AwsNames, bucket: str, queue_url: str, principal: str = "") -> list[Check]:
    """Every check, in order; the caller prints them."""
    checks = [_bucket(bucket)]
    try:
        checks += _batch_items(names)
    except (ClientError, BotoCoreError) as exc:
        checks.append(Check("MISSING", "AWS Batch", f"could not be asked: {_why(exc)}"))
    queue_check, queue_arn = _queue(queue_url)
    checks += [queue_check, _rule(names, queue_arn)]
    checks += _permissions(principal, bucket, queue_arn)
    return checks


class Command(BaseCommand):
    help = "Check the AWS resources and permissions the batch backend needs; exit 1 if any is missing."

    def handle(self, *args, **options):
        names = AwsNames.from_prefix(settings.AWS_PREFIX)
        checks = run_checks(names=names, bucket=settings.S3_BUCKET, queue_url=settings.SQS_QUEUE_URL,
                            principal=getattr(settings, "AWS_PRINCIPAL_ARN", ""))
        for check in checks:
            self.stdout.write(str(check))
        missing = [check for check in checks if check.outcome == "MISSING"]
        if missing:
            raise CommandError(f"{len(missing)} of {len(checks)} checks found something missing")
        self.stdout.write(f"all {len(checks)} checks passed")
