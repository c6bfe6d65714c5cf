"""costs.aws_pricing against botocore's Stubber (the Price List API: moto does not implement it)
and moto in-process (EC2's Spot price history and instance types)."""

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from costs import aws_pricing
from simulations import aws
from simulations.backends.base import BackendError, BackendTransientError

SINCE = datetime(2026, 1, 8, tzinfo=timezone.utc)


def price_document(instance_type: str, usd: str, *, region: str = "us-east-1") -> str:
    """One PriceList entry as the Price List API sends it: a JSON string, Reserved terms included."""
    sku = "SKU" + instance_type.replace(".", "").upper()
    return json.dumps({
        "product": {
            "productFamily": "Compute Instance",
            "attributes": {
                "instanceType": instance_type, "regionCode": region, "location": "US East (N. Virginia)",
                "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
                "capacitystatus": "Used", "licenseModel": "No License required", "operation": "RunInstances",
                "usagetype": f"BoxUsage:{instance_type}", "servicecode": "AmazonEC2", "vcpu": "64",
                "memory": "128 GiB", "networkPerformance": "30 Gigabit",
            },
            "sku": sku,
        },
        "serviceCode": "AmazonEC2",
        "terms": {
            "Reserved": {f"{sku}.4NA7Y494T4": {"priceDimensions": {f"{sku}.4NA7Y494T4.6YS6EN2CT7": {
                "unit": "Hrs", "pricePerUnit": {"USD": "0.9000000000"}, "description": "1yr reserved"}}}},
            "OnDemand": {f"{sku}.JRTCKXETXF": {
                "offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-01-01T00:00:00Z",
                "termAttributes": {},
                "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                    "unit": "Hrs", "beginRange": "0", "endRange": "Inf", "appliesTo": [],
                    "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                    "description": f"${usd} per On Demand Linux {instance_type} Instance Hour",
                    "pricePerUnit": {"USD": usd}}}}},
        },
        "version": "20260110000000", "publicationDate": "2026-01-10T00:00:00Z",
    })


def products_request(region: str, names: list[str], token: str | None = None) -> dict:
    request = {
        "ServiceCode": "AmazonEC2", "FormatVersion": "aws_v1", "MaxResults": 100,
        "Filters": [
            {"Type": "ANY_OF", "Field": "instanceType", "Value": ",".join(names)},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
            {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
            {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
            {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
        ],
    }
    return {**request, "NextToken": token} if token else request


@pytest.fixture
def fresh_clients(aws_credentials):
    aws.reset_clients()
    yield
    aws.reset_clients()


@pytest.fixture
def pricing(fresh_clients):
    """A Stubber on the Price List client; every stubbed response must have been asked for."""
    with Stubber(aws.client("pricing", region="us-east-1")) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def moto_ec2(fresh_clients):
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


# --- On-demand prices ----------------------------------------------------------------------------


def test_it_reads_the_on_demand_price_not_the_reserved_one_from_each_price_list_document(pricing):
    names = ["c7g.16xlarge", "c7i.48xlarge"]
    pricing.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        price_document("c7g.16xlarge", "2.3123000000"), price_document("c7i.48xlarge", "8.5680000000")]},
        products_request("us-east-1", names))

    prices = aws_pricing.on_demand_prices(region="us-east-1", instance_types=names)

    assert prices == {
        "c7g.16xlarge": aws_pricing.OnDemandPrice("c7g.16xlarge", "us-east-1", Decimal("2.3123")),
        "c7i.48xlarge": aws_pricing.OnDemandPrice("c7i.48xlarge", "us-east-1", Decimal("8.568")),
    }


def test_it_asks_for_every_page_of_products(pricing):
    names = ["c7g.8xlarge", "c7g.16xlarge", "m7g.16xlarge"]
    pricing.add_response("get_products", {"PriceList": [price_document("c7g.8xlarge", "1.1568000000")],
                                          "NextToken": "page-2"}, products_request("us-west-2", names))
    pricing.add_response("get_products", {"PriceList": [price_document("c7g.16xlarge", "2.3136000000"),
                                                        price_document("m7g.16xlarge", "2.6112000000")]},
                         products_request("us-west-2", names, token="page-2"))

    prices = aws_pricing.on_demand_prices(region="us-west-2", instance_types=names)

    assert {name: p.usd_per_hour for name, p in prices.items()} == {
        "c7g.8xlarge": Decimal("1.1568"), "c7g.16xlarge": Decimal("2.3136"), "m7g.16xlarge": Decimal("2.6112")}
    assert {p.region for p in prices.values()} == {"us-west-2"}


def test_an_instance_type_without_a_product_in_the_region_is_absent(pricing):
    names = ["hpc7g.16xlarge", "c7g.16xlarge"]
    pricing.add_response("get_products", {"PriceList": [price_document("c7g.16xlarge", "2.3136000000")]},
                         products_request("us-west-2", names))

    prices = aws_pricing.on_demand_prices(region="us-west-2", instance_types=names)

    assert list(prices) == ["c7g.16xlarge"]


def test_names_longer_than_one_filter_value_are_asked_for_in_several_calls(pricing):
    names = [f"x{i:02d}.verylongname.48xlarge" for i in range(50)]  # 25 characters each
    # 39 names and their commas are 1,013 characters, 40 would be 1,039: over the 1,024 limit.
    first, second = names[:39], names[39:]
    pricing.add_response("get_products", {"PriceList": [price_document(names[0], "1.0")]},
                         products_request("us-east-1", first))
    pricing.add_response("get_products", {"PriceList": [price_document(names[-1], "2.0")]},
                         products_request("us-east-1", second))

    prices = aws_pricing.on_demand_prices(region="us-east-1", instance_types=names)

    assert list(prices) == [names[0], names[-1]]


def test_throttling_becomes_the_transient_project_error(pricing):
    pricing.add_client_error("get_products", service_error_code="ThrottlingException",
                             service_message="Rate exceeded", http_status_code=400)

    with pytest.raises(BackendTransientError, match="Rate exceeded"):
        aws_pricing.on_demand_prices(region="us-east-1", instance_types=["c7g.16xlarge"])


def test_access_denied_becomes_a_lasting_project_error_with_aws_message(pricing):
    pricing.add_client_error("get_products", service_error_code="AccessDeniedException",
                             service_message="not authorized to perform: pricing:GetProducts", http_status_code=400)

    with pytest.raises(BackendError, match="pricing:GetProducts") as refused:
        aws_pricing.on_demand_prices(region="us-east-1", instance_types=["c7g.16xlarge"])
    assert not isinstance(refused.value, BackendTransientError)


def test_a_document_with_no_positive_on_demand_price_gives_none():
    assert aws_pricing.price_from_document(price_document("c7g.16xlarge", "0.0000000000")) is None
    assert aws_pricing.price_from_document(price_document("c7g.16xlarge", "2.3136")) == (
        "c7g.16xlarge", Decimal("2.3136"))


# --- Spot price history --------------------------------------------------------------------------


def test_spot_history_lists_each_zones_points_of_the_types_asked_for(moto_ec2):
    points = aws_pricing.spot_price_history(region="us-east-1", instance_types=["c7g.16xlarge", "hpc6a.48xlarge"],
                                            since=SINCE)

    # moto offers c7g.16xlarge in five us-east-1 zones and hpc6a.48xlarge in none.
    assert {p.instance_type for p in points} == {"c7g.16xlarge"}
    assert sorted(p.availability_zone for p in points) == [f"us-east-1{z}" for z in "abcdf"]
    assert all(p.usd_per_hour == Decimal("0.00001") and p.at.tzinfo is not None for p in points)


def test_spot_history_asks_for_linux_from_the_start_time_and_follows_pages(fresh_clients):
    ec2 = aws.client("ec2", region="eu-west-1")
    request = {"InstanceTypes": ["c7g.16xlarge"], "ProductDescriptions": ["Linux/UNIX"], "StartTime": SINCE,
               "MaxResults": 1000}
    point = {"InstanceType": "c7g.16xlarge", "ProductDescription": "Linux/UNIX", "SpotPrice": "1.012300"}
    with Stubber(ec2) as stub:
        stub.add_response("describe_spot_price_history", {"NextToken": "more", "SpotPriceHistory": [
            {**point, "AvailabilityZone": "eu-west-1a", "Timestamp": datetime(2026, 1, 9, tzinfo=timezone.utc)}]},
            request)
        stub.add_response("describe_spot_price_history", {"NextToken": "", "SpotPriceHistory": [
            {**point, "AvailabilityZone": "eu-west-1b", "Timestamp": datetime(2026, 1, 10, tzinfo=timezone.utc)}]},
            {**request, "NextToken": "more"})

        points = aws_pricing.spot_price_history(region="eu-west-1", instance_types=["c7g.16xlarge"], since=SINCE)

        stub.assert_no_pending_responses()
    assert points == [
        aws_pricing.SpotPoint("c7g.16xlarge", "eu-west-1a", Decimal("1.0123"), datetime(2026, 1, 9, tzinfo=timezone.utc)),
        aws_pricing.SpotPoint("c7g.16xlarge", "eu-west-1b", Decimal("1.0123"), datetime(2026, 1, 10, tzinfo=timezone.utc)),
    ]


def test_spot_history_throttling_becomes_the_transient_project_error(fresh_clients):
    with Stubber(aws.client("ec2", region="us-east-1")) as stub:
        stub.add_client_error("describe_spot_price_history", service_error_code="RequestLimitExceeded",
                              service_message="Request limit exceeded.", http_status_code=503)
        with pytest.raises(BackendTransientError, match="Spot price history of us-east-1"):
            aws_pricing.spot_price_history(region="us-east-1", instance_types=["c7g.16xlarge"], since=SINCE)


# --- Hardware ------------------------------------------------------------------------------------


def test_hardware_reads_cores_memory_network_efa_and_architecture(moto_ec2):
    facts = aws_pricing.hardware(region="us-east-1", instance_types=["c7g.16xlarge", "c7i.48xlarge"])

    assert facts["c7g.16xlarge"] == aws_pricing.Hardware(
        instance_type="c7g.16xlarge", vcpus=64, physical_cores=64, memory_gib=128.0, network_gbps=30.0, efa=True,
        architecture="arm64")
    # Intel with two threads a core: the physical cores are half the vCPUs.
    assert (facts["c7i.48xlarge"].vcpus, facts["c7i.48xlarge"].physical_cores) == (192, 96)
    assert facts["c7i.48xlarge"].architecture == "x86_64"
    assert set(facts) == {"c7g.16xlarge", "c7i.48xlarge"}


@pytest.mark.parametrize("text, gbps", [
    ("Up to 12.5 Gigabit", 12.5), ("200 Gigabit", 200.0), ("30 Gigabit", 30.0), ("4x 100 Gigabit", 400.0),
    ("16x 200 Gigabit", 3200.0), ("High", None), ("Low to Moderate", None), ("", None),
])
def test_network_performance_text_becomes_gigabits_per_second(text, gbps):
    assert aws_pricing.network_gbps(text) == gbps
