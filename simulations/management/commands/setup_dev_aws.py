"""Create, on a local AWS emulator (a moto server), everything the batch backend names.

Never for real AWS: production resources come from the CDK app in infra/. The command refuses
unless AWS_ENDPOINT_URL points at this machine. Everything is looked up before it is made, so a
second run creates nothing. `create_dev_resources` does the work and can be called in-process
(tests run it inside moto's mock).

What moto lacks is left out: there is no cluster placement group for the multi-node environment
(moto has no placement groups), and roles carry trust policies but no AWS managed policies.
"""

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from simulations import aws
from simulations.aws_names import AwsNames

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
INSTANCE_FAMILIES = {"arm64": ["c7g", "c8g", "m7g"], "x86": ["c7i", "c7a", "m7i"], "multinode": ["c7i", "hpc7a"]}
MAX_VCPUS = 1024
# Batch retries a job itself when its Spot host is reclaimed; any other failure ends the attempt.
RETRY_STRATEGY = {"attempts": 3, "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"},
                                                    {"onReason": "*", "action": "EXIT"}]}
# The runner is the entry point; the shell expands the spec location Batch passes in the environment.
RUNNER_COMMAND = ["sh", "-c", 'exec runner --spec "$GCR_SPEC_URI" --workdir /scratch/run']
EVENT_PATTERN = {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"]}
DLQ_AFTER_RECEIVES = 5


@dataclass(frozen=True)
class Outcome:
    kind: str
    name: str
    created: bool

    def __str__(self) -> str:
        return f"{'created' if self.created else 'found  '} {self.kind} {self.name}"


def endpoint_is_local(url: str | None) -> bool:
    """Whether `url` points at this machine (the only place this command may create things)."""
    if not url:
        return False
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def _missing(exc: ClientError, *codes: str) -> bool:
    return aws.error_code(exc) in codes or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def _role(iam, name: str, service: str, done: list) -> str:
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        done.append(Outcome("IAM role", name, False))
    except ClientError as exc:
        if not _missing(exc, "NoSuchEntity"):
            raise
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(service))["Role"]["Arn"]
        done.append(Outcome("IAM role", name, True))
    return arn


def _instance_profile(iam, name: str, done: list) -> str:
    try:
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        done.append(Outcome("instance profile", name, False))
    except ClientError as exc:
        if not _missing(exc, "NoSuchEntity"):
            raise
        profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        done.append(Outcome("instance profile", name, True))
    return profile["Arn"]


def _tagged(kind: str, name: str) -> list:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def _network(ec2, prefix: str, done: list) -> tuple[str, str]:
    """(subnet id, security group id): the VPC pieces a managed compute environment needs."""
    by_name = [{"Name": "tag:Name", "Values": [f"{prefix}-vpc"]}]
    vpcs = ec2.describe_vpcs(Filters=by_name)["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16",
                                TagSpecifications=_tagged("vpc", f"{prefix}-vpc"))["Vpc"]["VpcId"]
    done.append(Outcome("VPC", f"{prefix}-vpc ({vpc_id})", not vpcs))
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": [f"{prefix}-subnet"]}])["Subnets"]
    if subnets:
        subnet_id = subnets[0]["SubnetId"]
    else:
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.42.0.0/20",
                                      TagSpecifications=_tagged("subnet", f"{prefix}-subnet"))["Subnet"]["SubnetId"]
    done.append(Outcome("subnet", f"{prefix}-subnet ({subnet_id})", not subnets))
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{prefix}-batch"]},
                                                   {"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    if groups:
        group_id = groups[0]["GroupId"]
    else:
        group_id = ec2.create_security_group(GroupName=f"{prefix}-batch", VpcId=vpc_id,
                                             Description="GEOS-Chem Cloud Runner Batch instances")["GroupId"]
    done.append(Outcome("security group", f"{prefix}-batch ({group_id})", not groups))
    return subnet_id, group_id


def _compute_environments(batch, names: AwsNames, *, service_role: str, instance_profile: str, subnet: str,
                          group: str, done: list) -> None:
    for queue in names.queues:
        ce_name = names.compute_environment(queue)
        if batch.describe_compute_environments(computeEnvironments=[ce_name])["computeEnvironments"]:
            done.append(Outcome("compute environment", ce_name, False))
            continue
        kind = queue[len(names.prefix) + 1:]  # spot-arm64, ondemand-x86, multinode
        spot = kind.startswith("spot")
        resources = {
            "type": "SPOT" if spot else "EC2",
            "allocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED" if spot else "BEST_FIT_PROGRESSIVE",
            "minvCpus": 0, "maxvCpus": MAX_VCPUS,
            "instanceTypes": INSTANCE_FAMILIES["multinode" if kind == "multinode" else kind.split("-")[1]],
            "subnets": [subnet], "securityGroupIds": [group], "instanceRole": instance_profile,
        }
        batch.create_compute_environment(computeEnvironmentName=ce_name, type="MANAGED", state="ENABLED",
                                         computeResources=resources, serviceRole=service_role)
        done.append(Outcome("compute environment", ce_name, True))


def _job_queues(batch, names: AwsNames, done: list) -> None:
    for queue in names.queues:
        if batch.describe_job_queues(jobQueues=[queue])["jobQueues"]:
            done.append(Outcome("job queue", queue, False))
            continue
        batch.create_job_queue(jobQueueName=queue, state="ENABLED", priority=1, computeEnvironmentOrder=[
            {"order": 1, "computeEnvironment": names.compute_environment(queue)}])
        done.append(Outcome("job queue", queue, True))


def _container(image: str, job_role: str) -> dict:
    return {
        "image": image, "command": RUNNER_COMMAND, "jobRoleArn": job_role,
        # Defaults only: every submission overrides vCPUs and memory from its spec.
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
        "logConfiguration": {"logDriver": "awslogs"},  # Batch's default group, /aws/batch/job
    }


def _job_definitions(batch, names: AwsNames, *, account: str, region: str, job_role: str, done: list) -> None:
    registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
    common = {"retryStrategy": RETRY_STRATEGY, "propagateTags": True, "platformCapabilities": ["EC2"],
              "timeout": {"attemptDurationSeconds": settings.BATCH_TIMEOUT_HOURS * 3600}}
    wanted = {
        names.job_definition(model="classic", architecture="arm64"):
            {"type": "container", "containerProperties": _container(f"{registry}/gcr-gcclassic:arm64", job_role)},
        names.job_definition(model="classic", architecture="x86_64"):
            {"type": "container", "containerProperties": _container(f"{registry}/gcr-gcclassic:amd64", job_role)},
        names.job_definition(model="gchp", architecture="x86_64"):
            {"type": "container", "containerProperties": _container(f"{registry}/gcr-gchp:amd64", job_role)},
        names.job_definition(model="gchp", architecture="x86_64", multinode=True):
            {"type": "multinode", "nodeProperties": {"numNodes": 2, "mainNode": 0, "nodeRangeProperties": [
                {"targetNodes": "0:", "container": _container(f"{registry}/gcr-gchp:amd64", job_role)}]}},
    }
    for name, properties in wanted.items():
        if batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE")["jobDefinitions"]:
            done.append(Outcome("job definition", name, False))
            continue
        batch.register_job_definition(jobDefinitionName=name, **common, **properties)
        done.append(Outcome("job definition", name, True))


def _bucket(s3, bucket: str, region: str, done: list) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        done.append(Outcome("S3 bucket", bucket, False))
        return
    except ClientError as exc:
        if not _missing(exc, "404", "NoSuchBucket", "NotFound"):
            raise
    extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **extra)
    done.append(Outcome("S3 bucket", bucket, True))


def _queue(sqs, name: str, attributes: dict, done: list) -> tuple[str, str]:
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        done.append(Outcome("SQS queue", name, False))
    except ClientError as exc:
        if not _missing(exc, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        done.append(Outcome("SQS queue", name, True))
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _events(events, sqs, names: AwsNames, *, account: str, region: str, done: list) -> str:
    """The dead-letter queue, the events queue and the rule feeding it; returns the queue's URL."""
    _, dlq_arn = _queue(sqs, names.events_dead_letter_queue, {}, done)
    rule_arn = f"arn:aws:events:{region}:{account}:rule/{names.events_rule}"
    queue_arn = f"arn:aws:sqs:{region}:{account}:{names.events_queue}"
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}
    url, queue_arn = _queue(sqs, names.events_queue, {
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(DLQ_AFTER_RECEIVES)}),
        "Policy": json.dumps(policy)}, done)
    try:
        events.describe_rule(Name=names.events_rule)
        done.append(Outcome("EventBridge rule", names.events_rule, False))
    except ClientError as exc:
        if not _missing(exc, "ResourceNotFoundException"):
            raise
        events.put_rule(Name=names.events_rule, EventPattern=json.dumps(EVENT_PATTERN), State="ENABLED",
                        Description="AWS Batch job state changes for GEOS-Chem Cloud Runner")
        done.append(Outcome("EventBridge rule", names.events_rule, True))
    targets = events.list_targets_by_rule(Rule=names.events_rule)["Targets"]
    present = any(target["Arn"] == queue_arn for target in targets)
    if not present:
        events.put_targets(Rule=names.events_rule, Targets=[{"Id": "batch-events-queue", "Arn": queue_arn}])
    done.append(Outcome("rule target", f"{names.events_rule} -> {names.events_queue}", not present))
    return url


def _log_group(logs, name: str, done: list) -> None:
    if any(group["logGroupName"] == name for group in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]):
        done.append(Outcome("log group", name, False))
        return
    logs.create_log_group(logGroupName=name)
    done.append(Outcome("log group", name, True))


def create_dev_resources(*, names: AwsNames, bucket: str, region: str) -> tuple[list[Outcome], str]:
    """Create what is missing; returns what was created or found, and the events queue's URL."""
    done: list[Outcome] = []
    iam = aws.client("iam")
    account = aws.client("sts").get_caller_identity()["Account"]
    service_role = _role(iam, f"{names.prefix}-batch-service", "batch.amazonaws.com", done)
    _role(iam, f"{names.prefix}-batch-instance", "ec2.amazonaws.com", done)
    instance_profile = _instance_profile(iam, f"{names.prefix}-batch-instance", done)
    job_role = _role(iam, f"{names.prefix}-batch-job", "ecs-tasks.amazonaws.com", done)
    subnet, group = _network(aws.client("ec2"), names.prefix, done)
    batch = aws.client("batch")
    _compute_environments(batch, names, service_role=service_role, instance_profile=instance_profile,
                          subnet=subnet, group=group, done=done)
    _job_queues(batch, names, done)
    _job_definitions(batch, names, account=account, region=region, job_role=job_role, done=done)
    _bucket(aws.client("s3"), bucket, region, done)
    queue_url = _events(aws.client("events"), aws.client("sqs"), names, account=account, region=region, done=done)
    _log_group(aws.client("logs"), names.log_group, done)
    return done, queue_url


class Command(BaseCommand):
    help = "Create the batch backend's AWS resources on a local emulator (moto server); never on real AWS."

    def handle(self, *args, **options):
        endpoint = aws.endpoint_url()
        if not endpoint_is_local(endpoint):
            raise CommandError(
                f"setup_dev_aws creates resources only on a local emulator, never on real AWS; "
                f"AWS_ENDPOINT_URL is {endpoint or 'not set'}. Start one (moto_server -p 5000) and set "
                f"AWS_ENDPOINT_URL=http://127.0.0.1:5000. Production resources come from the CDK app in infra/.")
        names = AwsNames.from_prefix(settings.AWS_PREFIX)
        bucket = settings.S3_BUCKET or f"{names.prefix}-results"
        with aws.translated("the local AWS emulator refused"):
            done, queue_url = create_dev_resources(names=names, bucket=bucket, region=settings.AWS_REGION)
        for outcome in done:
            self.stdout.write(str(outcome))
        created = sum(outcome.created for outcome in done)
        self.stdout.write(f"{created} created, {len(done) - created} already there. Settings to use:")
        self.stdout.write(f"  GCR_AWS_REGION={settings.AWS_REGION} GCR_AWS_PREFIX={names.prefix} "
                          f"GCR_S3_BUCKET={bucket} GCR_SQS_QUEUE_URL={queue_url}")
