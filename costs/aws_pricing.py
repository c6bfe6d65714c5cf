"""The one wrapper for what AWS says instances cost and are: the Price List API, EC2's Spot price
history and EC2's instance-type descriptions.

Frozen dataclasses out; botocore's errors come out as the project's BackendError, or
BackendTransientError when worth retrying later (`simulations.aws.translated`).

AWS calls per region for n instance types: one GetProducts page per 100 products (the instance
types go into one ANY_OF filter, split only if their names pass its 1,024-character limit), one
DescribeSpotPriceHistory page per 1,000 points, one DescribeInstanceTypes page per 100 types.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from simulations import aws

# The Price List API answers in a few regions only; us-east-1 has the prices of every region.
PRICING_REGION = "us-east-1"
# The on-demand price GEOS-Chem pays: Linux, shared tenancy, no preinstalled software, and
# "Used" capacity (the other capacity statuses are reservation bookkeeping, not run prices).
LINUX_ON_DEMAND = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
                   "capacitystatus": "Used"}
# GetProducts' filter values are at most 1,024 characters, ANY_OF's comma-separated list included.
FILTER_VALUE_LIMIT = 1024
SPOT_PRODUCT = "Linux/UNIX"
GIGABITS = re.compile(r"(?:(\d+)x\s+)?(\d+(?:\.\d+)?)\s+Gigabit")


@dataclass(frozen=True)
class OnDemandPrice:
    instance_type: str
    region: str
    usd_per_hour: Decimal


@dataclass(frozen=True)
class SpotPoint:
    """One Spot price history point: the price in that zone from `at` until the next point."""

    instance_type: str
    availability_zone: str
    usd_per_hour: Decimal
    at: datetime


@dataclass(frozen=True)
class Hardware:
    instance_type: str
    vcpus: int
    physical_cores: int
    memory_gib: float
    network_gbps: float | None  # None: AWS states it in words only ("High", "Moderate")
    efa: bool
    architecture: str | None  # "arm64" or "x86_64"; None for neither


# --- On-demand prices: the Price List API ----------------------------------------------------------


def on_demand_prices(*, region: str, instance_types: list[str]) -> dict[str, OnDemandPrice]:
    """The on-demand Linux $/h of each instance type in `region`, by name.

    An instance type that has no product in that region is absent from the answer."""
    prices: dict[str, OnDemandPrice] = {}
    with aws.translated(f"the AWS Price List API refused the prices for {region}"):
        pages = aws.client("pricing", region=PRICING_REGION).get_paginator("get_products")
        for names in _name_lists(instance_types):
            for page in pages.paginate(ServiceCode="AmazonEC2", Filters=_product_filters(region, names),
                                       FormatVersion="aws_v1", PaginationConfig={"PageSize": 100}):
                for document in page.get("PriceList", []):
                    _add_price(prices, document, region)
    return prices


def _product_filters(region: str, names: list[str]) -> list[dict]:
    fixed = [{"Type": "TERM_MATCH", "Field": field, "Value": value}
             for field, value in {"regionCode": region, **LINUX_ON_DEMAND}.items()]
    return [{"Type": "ANY_OF", "Field": "instanceType", "Value": ",".join(names)}, *fixed]


def _name_lists(names: list[str]) -> list[list[str]]:
    """The names split into lists whose comma-joined text fits one filter value."""
    lists: list[list[str]] = [[]]
    for name in names:
        if lists[-1] and len(",".join([*lists[-1], name])) > FILTER_VALUE_LIMIT:
            lists.append([])
        lists[-1].append(name)
    return [names for names in lists if names]


def _add_price(prices: dict[str, OnDemandPrice], document: str, region: str) -> None:
    parsed = price_from_document(document)
    # The filters leave one product per instance type; should AWS ever send two, the first stands.
    if parsed and parsed[0] not in prices:
        prices[parsed[0]] = OnDemandPrice(instance_type=parsed[0], region=region, usd_per_hour=parsed[1])


def price_from_document(document: str) -> tuple[str, Decimal] | None:
    """(instance type, $/h) from one PriceList JSON document; None when it has no positive USD price."""
    product = json.loads(document)
    name = product.get("product", {}).get("attributes", {}).get("instanceType")
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = _decimal(dimension.get("pricePerUnit", {}).get("USD"))
            if name and usd and usd > 0:
                return name, usd
    return None


def _decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text is not None else None
    except InvalidOperation:
        return None


# --- Spot price history ----------------------------------------------------------------------------


def spot_price_history(*, region: str, instance_types: list[str], since: datetime) -> list[SpotPoint]:
    """Every Linux Spot price point of these instance types in `region`'s zones since `since`."""
    with aws.translated(f"EC2 refused the Spot price history of {region}"):
        pages = aws.client("ec2", region=region).get_paginator("describe_spot_price_history")
        return [_spot_point(item)
                for page in pages.paginate(InstanceTypes=instance_types, ProductDescriptions=[SPOT_PRODUCT],
                                           StartTime=since, PaginationConfig={"PageSize": 1000})
                for item in page.get("SpotPriceHistory", [])]


def _spot_point(item: dict) -> SpotPoint:
    return SpotPoint(instance_type=item["InstanceType"], availability_zone=item["AvailabilityZone"],
                     usd_per_hour=Decimal(item["SpotPrice"]), at=item["Timestamp"])


# --- Hardware facts ----------------------------------------------------------------------------------


def hardware(*, region: str, instance_types: list[str]) -> dict[str, Hardware]:
    """The hardware of each instance type offered in `region`, by name (others are absent)."""
    # A filter, not the InstanceTypes list: EC2 refuses the whole call when one listed type is
    # not offered in the region, and a filter simply leaves it out.
    with aws.translated(f"EC2 refused to describe instance types in {region}"):
        pages = aws.client("ec2", region=region).get_paginator("describe_instance_types")
        described = [_hardware(item)
                     for page in pages.paginate(Filters=[{"Name": "instance-type", "Values": instance_types}],
                                                PaginationConfig={"PageSize": 100})
                     for item in page.get("InstanceTypes", [])]
    return {h.instance_type: h for h in described}


def _hardware(item: dict) -> Hardware:
    cpu, network = item["VCpuInfo"], item.get("NetworkInfo", {})
    return Hardware(
        instance_type=item["InstanceType"], vcpus=cpu["DefaultVCpus"],
        physical_cores=cpu.get("DefaultCores", cpu["DefaultVCpus"]),
        memory_gib=item["MemoryInfo"]["SizeInMiB"] / 1024,
        network_gbps=network_gbps(network.get("NetworkPerformance", "")),
        efa=bool(network.get("EfaSupported")),
        architecture=_architecture(item.get("ProcessorInfo", {}).get("SupportedArchitectures", [])))


def _architecture(supported: list[str]) -> str | None:
    for name in ("arm64", "x86_64"):
        if name in supported:
            return name
    return None


def network_gbps(text: str) -> float | None:
    """Gbit/s from EC2's network performance text: "Up to 12.5 Gigabit" is 12.5 (the burst
    ceiling), "4x 100 Gigabit" is 400; None for words alone ("High", "Moderate")."""
    match = GIGABITS.search(text)
    if not match:
        return None
    return int(match.group(1) or 1) * float(match.group(2))
