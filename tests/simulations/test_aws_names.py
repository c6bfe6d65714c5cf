import pytest

from simulations.aws_names import AwsNames, architecture_of


@pytest.mark.parametrize("instance_type, arch", [
    ("c7g.16xlarge", "arm64"), ("c8g.24xlarge", "arm64"), ("hpc7g.16xlarge", "arm64"), ("c7gn.8xlarge", "arm64"),
    ("m6gd.large", "arm64"), ("c7i.48xlarge", "x86_64"), ("c7a.48xlarge", "x86_64"), ("hpc6a.48xlarge", "x86_64"),
    ("c5.24xlarge", "x86_64"), ("m5dn.large", "x86_64"), (None, "x86_64"),
])
def test_it_tells_graviton_from_x86_by_the_family(instance_type, arch):
    assert architecture_of(instance_type) == arch


def test_queues_and_job_definitions_follow_architecture_capacity_and_nodes():
    names = AwsNames.from_prefix("gcr-dev")
    assert names.queue(architecture="arm64", capacity="spot") == "gcr-dev-spot-arm64"
    assert names.queue(architecture="x86_64", capacity="on-demand") == "gcr-dev-ondemand-x86"
    assert names.queue(architecture="x86_64", capacity="spot", multinode=True) == "gcr-dev-multinode"
    assert names.job_definition(model="classic", architecture="arm64") == "gcr-dev-gcclassic-arm64"
    assert names.job_definition(model="classic", architecture="x86_64") == "gcr-dev-gcclassic-amd64"
    assert names.job_definition(model="gchp", architecture="x86_64", multinode=True) == "gcr-dev-gchp-multinode"
    assert names.compute_environment("gcr-dev-spot-arm64") == "gcr-dev-ce-spot-arm64"
    assert len(names.queues) == 5 and len(names.job_definitions) == 4


@pytest.mark.parametrize("prefix", ["", "1abc", "has space", "x" * 60, None])
def test_it_refuses_prefixes_aws_would_refuse(prefix):
    with pytest.raises(ValueError):
        AwsNames.from_prefix(prefix)
