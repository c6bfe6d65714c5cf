"""The names of every AWS resource the platform uses, from one prefix (docs/aws.md).

Pure: the batch backend, `setup_dev_aws`, `check_aws` and the CDK app all take names from here,
so what infrastructure creates and what the code calls cannot drift apart.
"""

import re
from dataclasses import dataclass

LOG_GROUP = "/aws/batch/job"  # where Batch sends container logs unless told otherwise
_GRAVITON_FAMILY = re.compile(r"^[a-z]+\d+g[a-z]*$")  # c7g, c8g, m7g, r7g, hpc7g, c7gn, m6gd


def architecture_of(instance_type: str | None) -> str:
    """"arm64" for Graviton families, "x86_64" for the rest (and when no type is given)."""
    if not instance_type:
        return "x86_64"
    family = instance_type.split(".", 1)[0].lower()
    return "arm64" if _GRAVITON_FAMILY.match(family) else "x86_64"


@dataclass(frozen=True)
class AwsNames:
    prefix: str

    @classmethod
    def from_prefix(cls, prefix: str) -> "AwsNames":
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,40}", prefix or ""):
            raise ValueError(f"an AWS name prefix is letters, digits and hyphens, starting with a letter: {prefix!r}")
        return cls(prefix)

    def queue(self, *, architecture: str, capacity: str, multinode: bool = False) -> str:
        if multinode:
            return f"{self.prefix}-multinode"
        arch = "arm64" if architecture == "arm64" else "x86"
        kind = "spot" if capacity == "spot" else "ondemand"
        return f"{self.prefix}-{kind}-{arch}"

    def compute_environment(self, queue_name: str) -> str:
        return f"{self.prefix}-ce-{queue_name[len(self.prefix) + 1:]}"

    def job_definition(self, *, model: str, architecture: str, multinode: bool = False) -> str:
        if model == "gchp":
            return f"{self.prefix}-gchp-multinode" if multinode else f"{self.prefix}-gchp"
        return f"{self.prefix}-gcclassic-{'arm64' if architecture == 'arm64' else 'amd64'}"

    @property
    def queues(self) -> list[str]:
        return [f"{self.prefix}-{kind}-{arch}" for kind in ("spot", "ondemand") for arch in ("arm64", "x86")] + [
            f"{self.prefix}-multinode"]

    @property
    def job_definitions(self) -> list[str]:
        return [f"{self.prefix}-gcclassic-arm64", f"{self.prefix}-gcclassic-amd64", f"{self.prefix}-gchp",
                f"{self.prefix}-gchp-multinode"]

    @property
    def events_rule(self) -> str:
        return f"{self.prefix}-batch-state-change"

    @property
    def events_queue(self) -> str:
        return f"{self.prefix}-batch-events"

    @property
    def events_dead_letter_queue(self) -> str:
        return f"{self.prefix}-batch-events-dlq"

    @property
    def log_group(self) -> str:
        return LOG_GROUP
