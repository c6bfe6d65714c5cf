"""costs.prices.prices_refresh and `manage.py refresh_prices`, with costs.aws_pricing replaced by an
in-memory fake; one end-to-end run of the command against moto (EC2) and a stubbed Price List API."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from moto import mock_aws

from costs import aws_pricing
from costs.aws_pricing import Hardware, OnDemandPrice, SpotPoint
from costs.models import InstancePrice, InstanceType, SpotPrice
from costs.prices import prices_refresh
from simulations import aws
from simulations.backends.base import BackendError, BackendTransientError
from tests.costs.test_aws_pricing import price_document, products_request

pytestmark = pytest.mark.django_db

C7G = "c7g.16xlarge"
BUSY = "EC2 refused the Spot price history of us-west-2: AWS is busy, try again later (RequestLimitExceeded)"


class FakeAws:
    """Stands in for costs.aws_pricing: answers what a test set per region, records each call."""

    def __init__(self):
        self.prices: dict[str, dict[str, str]] = {}
        self.spot: dict[str, list[SpotPoint]] = {}
        self.hardware: dict[str, dict[str, Hardware]] = {}
        self.failures: dict[tuple[str, str], BackendError] = {}
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    def _called(self, call: str, region: str, names: list[str]) -> None:
        self.calls.append((call, region, tuple(names)))
        if (call, region) in self.failures:
            raise self.failures[(call, region)]

    def on_demand_prices(self, *, region, instance_types):
        self._called("prices", region, instance_types)
        return {name: OnDemandPrice(name, region, Decimal(usd))
                for name, usd in self.prices.get(region, {}).items() if name in instance_types}

    def spot_price_history(self, *, region, instance_types, since):
        self._called("spot", region, instance_types)
        return [p for p in self.spot.get(region, []) if p.instance_type in instance_types and p.at >= since]

    def describe(self, *, region, instance_types):
        self._called("hardware", region, instance_types)
        return {name: h for name, h in self.hardware.get(region, {}).items() if name in instance_types}

    def regions_called(self, call: str) -> list[str]:
        return [region for name, region, _ in self.calls if name == call]


@pytest.fixture
def fake_aws(monkeypatch):
    fake = FakeAws()
    monkeypatch.setattr("costs.prices.aws_pricing.on_demand_prices", fake.on_demand_prices)
    monkeypatch.setattr("costs.prices.aws_pricing.spot_price_history", fake.spot_price_history)
    monkeypatch.setattr("costs.prices.aws_pricing.hardware", fake.describe)
    return fake


def spot_points(name: str, zone: str, count: int, *, hours_ago: int = 48) -> list[SpotPoint]:
    """`count` hourly points in one zone, the first `hours_ago` hours ago (whole seconds, as AWS gives)."""
    start = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago)
    return [SpotPoint(name, zone, Decimal("1.0") + Decimal(i) / 100, start + timedelta(hours=i)) for i in range(count)]


def c7i_48xlarge(**changes) -> Hardware:
    facts = dict(instance_type="c7i.48xlarge", vcpus=192, physical_cores=96, memory_gib=384.0, network_gbps=50.0,
                 efa=True, architecture="x86_64")
    return Hardware(**{**facts, **changes})


def price(name: str, region: str) -> InstancePrice:
    return InstancePrice.objects.get(instance_type__name=name, region=region)


# --- On-demand prices ----------------------------------------------------------------------------


def test_it_updates_changed_prices_and_stamps_every_confirmed_one_with_the_price_list_and_now(fake_aws):
    before = timezone.now()
    fake_aws.prices["us-east-1"] = {C7G: "2.4000000000", "c7g.8xlarge": "1.1568000000"}  # the second as shipped

    report = prices_refresh(regions=["us-east-1"], instance_types=[C7G, "c7g.8xlarge"], hardware=False)

    assert report["regions"]["us-east-1"] == {
        "prices_updated": 1, "prices_unchanged": 1, "not_offered": [], "spot_points_added": 0, "hardware_updated": 0}
    assert report["failed"] == {}
    assert price(C7G, "us-east-1").usd_per_hour == Decimal("2.4")
    for name in (C7G, "c7g.8xlarge"):
        row = price(name, "us-east-1")
        assert row.source.startswith("AWS Price List API, us-east-1, retrieved ")
        assert row.retrieved_at >= before
    # The other region's price was not asked for and stays as shipped.
    assert price(C7G, "us-west-2").source.endswith("(snapshot; refresh)")


def test_it_adds_the_price_of_a_region_the_catalog_had_none_for(fake_aws):
    fake_aws.prices["eu-west-1"] = {C7G: "2.5344000000"}

    report = prices_refresh(regions=["eu-west-1"], instance_types=[C7G], hardware=False)

    assert price(C7G, "eu-west-1").usd_per_hour == Decimal("2.5344")
    assert report["regions"]["eu-west-1"]["prices_updated"] == 1


def test_a_type_aws_does_not_sell_in_the_region_is_reported_and_its_row_left_alone(fake_aws):
    fake_aws.prices["us-west-2"] = {C7G: "2.3136"}

    report = prices_refresh(regions=["us-west-2"], instance_types=[C7G, "hpc7g.16xlarge", "c7i.48xlarge"],
                            hardware=False)

    assert report["regions"]["us-west-2"]["not_offered"] == ["c7i.48xlarge", "hpc7g.16xlarge"]
    assert not InstancePrice.objects.filter(instance_type__name="hpc7g.16xlarge", region="us-west-2").exists()
    assert price("c7i.48xlarge", "us-west-2").source.endswith("(snapshot; refresh)")


def test_it_asks_for_every_instance_type_in_the_catalog_by_default(fake_aws):
    prices_refresh(regions=["us-east-1"], hardware=False)

    [(_, _, names)] = [call for call in fake_aws.calls if call[0] == "prices"]
    assert sorted(names) == sorted(InstanceType.objects.values_list("name", flat=True))
    assert len(names) == 23


def test_an_instance_type_not_in_the_catalog_is_refused_before_aws_is_asked(fake_aws):
    with pytest.raises(ValueError, match="not in the instance catalog: c99.huge"):
        prices_refresh(regions=["us-east-1"], instance_types=[C7G, "c99.huge"])
    assert fake_aws.calls == []


# --- Spot price history --------------------------------------------------------------------------


def test_spot_points_are_stored_with_their_zone_and_region(fake_aws):
    fake_aws.spot["us-east-1"] = spot_points(C7G, "us-east-1a", 2) + spot_points(C7G, "us-east-1b", 1)

    report = prices_refresh(regions=["us-east-1"], instance_types=[C7G], hardware=False)

    assert report["regions"]["us-east-1"]["spot_points_added"] == 3
    rows = SpotPrice.objects.filter(instance_type__name=C7G).order_by("availability_zone", "at")
    assert [(r.region, r.availability_zone, r.usd_per_hour) for r in rows] == [
        ("us-east-1", "us-east-1a", Decimal("1.00")), ("us-east-1", "us-east-1a", Decimal("1.01")),
        ("us-east-1", "us-east-1b", Decimal("1.00"))]


def test_running_twice_adds_only_the_spot_points_that_are_new(fake_aws):
    fake_aws.spot["us-east-1"] = spot_points(C7G, "us-east-1a", 5)
    prices_refresh(regions=["us-east-1"], instance_types=[C7G], hardware=False)
    fake_aws.spot["us-east-1"] = spot_points(C7G, "us-east-1a", 6)  # the same five and one more

    report = prices_refresh(regions=["us-east-1"], instance_types=[C7G], hardware=False)

    assert report["regions"]["us-east-1"]["spot_points_added"] == 1
    assert SpotPrice.objects.filter(instance_type__name=C7G, availability_zone="us-east-1a").count() == 6


def test_spot_history_is_asked_from_spot_days_ago_and_not_at_all_for_zero(fake_aws):
    fake_aws.spot["us-east-1"] = spot_points(C7G, "us-east-1a", 1, hours_ago=3 * 24 + 1) + spot_points(
        C7G, "us-east-1a", 1, hours_ago=24)

    assert prices_refresh(regions=["us-east-1"], instance_types=[C7G], spot_days=3,
                          hardware=False)["regions"]["us-east-1"]["spot_points_added"] == 1
    prices_refresh(regions=["us-east-1"], instance_types=[C7G], spot_days=0, hardware=False)
    assert fake_aws.regions_called("spot") == ["us-east-1"]


def test_storing_30_spot_points_takes_as_many_queries_as_storing_3(fake_aws):
    fake_aws.prices["us-east-1"] = {C7G: "2.4"}
    fake_aws.spot["us-east-1"] = spot_points(C7G, "us-east-1a", 3)
    with CaptureQueriesContext(connection) as three:
        prices_refresh(regions=["us-east-1"], hardware=False)
    fake_aws.spot["us-east-1"] = spot_points(C7G, "us-east-1b", 30)
    with CaptureQueriesContext(connection) as thirty:
        report = prices_refresh(regions=["us-east-1"], hardware=False)

    assert report["regions"]["us-east-1"]["spot_points_added"] == 30
    assert len(thirty) == len(three) <= 10


# --- Hardware ------------------------------------------------------------------------------------


def test_hardware_facts_come_from_aws_and_the_estimators_own_fields_stay(fake_aws):
    InstanceType.objects.filter(name="c7i.48xlarge").update(physical_cores=8, memory_gib=1)
    fake_aws.hardware["us-east-1"] = {"c7i.48xlarge": c7i_48xlarge(network_gbps=75.0),
                                      "c4.4xlarge": Hardware("c4.4xlarge", 16, 8, 30.0, None, False, "x86_64")}
    before = timezone.now()

    report = prices_refresh(regions=["us-east-1"], instance_types=["c7i.48xlarge", "c4.4xlarge"])

    assert report["regions"]["us-east-1"]["hardware_updated"] == 1
    row = InstanceType.objects.get(name="c7i.48xlarge")
    assert (row.vcpus, row.physical_cores, row.memory_gib, row.network_gbps, row.efa, row.architecture) == (
        192, 96, 384.0, 75.0, True, "x86_64")
    assert (row.family, row.cpu, row.typical_spot_discount) == ("c7i", "sapphire-rapids", 0.55)
    assert row.source.startswith("EC2 DescribeInstanceTypes in us-east-1")
    assert row.updated_at >= before
    # AWS gives c4's network in words only ("High"): the stored figure stays, nothing else differed.
    c4 = InstanceType.objects.get(name="c4.4xlarge")
    assert (c4.network_gbps, c4.updated_at < before) == (2.0, True)


def test_hardware_is_asked_once_and_again_only_for_types_the_first_region_does_not_offer(fake_aws):
    hpc6a = Hardware("hpc6a.48xlarge", 96, 96, 384.0, 100.0, True, "x86_64")
    fake_aws.hardware = {"us-west-2": {"c7i.48xlarge": c7i_48xlarge()},
                         "us-east-2": {"c7i.48xlarge": c7i_48xlarge(), "hpc6a.48xlarge": hpc6a}}

    prices_refresh(regions=["us-west-2", "us-east-2", "us-east-1"], instance_types=["c7i.48xlarge", "hpc6a.48xlarge"])

    assert [call for call in fake_aws.calls if call[0] == "hardware"] == [
        ("hardware", "us-west-2", ("c7i.48xlarge", "hpc6a.48xlarge")), ("hardware", "us-east-2", ("hpc6a.48xlarge",))]


def test_no_hardware_leaves_the_hardware_alone_and_does_not_ask(fake_aws):
    InstanceType.objects.filter(name="c7i.48xlarge").update(physical_cores=8)
    fake_aws.hardware["us-east-1"] = {"c7i.48xlarge": c7i_48xlarge()}

    prices_refresh(regions=["us-east-1"], instance_types=["c7i.48xlarge"], hardware=False)

    assert fake_aws.regions_called("hardware") == []
    assert InstanceType.objects.get(name="c7i.48xlarge").physical_cores == 8


# --- A region AWS refuses ------------------------------------------------------------------------


@pytest.mark.parametrize("regions", [["us-east-1", "us-west-2"], ["us-west-2", "us-east-1"]])
def test_a_region_aws_refuses_is_reported_and_keeps_nothing_while_the_other_keeps_its_results(fake_aws, regions):
    fake_aws.prices = {"us-east-1": {C7G: "2.5"}, "us-west-2": {C7G: "2.6"}}
    fake_aws.spot = {"us-east-1": spot_points(C7G, "us-east-1a", 2), "us-west-2": spot_points(C7G, "us-west-2a", 2)}
    fake_aws.failures[("spot", "us-west-2")] = BackendTransientError(BUSY)

    report = prices_refresh(regions=regions, instance_types=[C7G])

    assert report["failed"] == {"us-west-2": BUSY}
    assert list(report["regions"]) == ["us-east-1"]
    assert price(C7G, "us-east-1").usd_per_hour == Decimal("2.5")
    assert SpotPrice.objects.filter(region="us-east-1").count() == 2
    # us-west-2's price had been fetched before its Spot history failed; none of it was written.
    assert price(C7G, "us-west-2").usd_per_hour == Decimal("2.3136")
    assert not SpotPrice.objects.filter(region="us-west-2").exists()


# --- The command ---------------------------------------------------------------------------------


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("refresh_prices", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_a_summary_per_region_and_exits_0(fake_aws):
    fake_aws.prices["us-east-1"] = {C7G: "2.4", "c7g.8xlarge": "1.1568"}
    fake_aws.spot["us-east-1"] = spot_points(C7G, "us-east-1a", 4)

    out, err = run("--region", "us-east-1", "--instance-type", C7G, "--instance-type", "c7g.8xlarge",
                   "--instance-type", "hpc6a.48xlarge")

    assert out.splitlines() == [
        "us-east-1: 1 prices updated, 1 unchanged, 4 Spot price points added, 0 instance types' hardware updated",
        "  not offered in us-east-1: hpc6a.48xlarge"]
    assert err == ""


def test_the_command_exits_1_and_says_why_when_a_region_fails(fake_aws):
    fake_aws.prices["us-east-1"] = {C7G: "2.4"}
    fake_aws.failures[("spot", "us-west-2")] = BackendTransientError(BUSY)
    out, err = StringIO(), StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("refresh_prices", "--region", "us-east-1", "--region", "us-west-2", "--instance-type", C7G,
                     stdout=out, stderr=err)

    assert exited.value.code == 1
    assert err.getvalue() == f"us-west-2 failed: {BUSY}\n"
    assert out.getvalue().startswith("us-east-1: 1 prices updated")
    assert price(C7G, "us-east-1").usd_per_hour == Decimal("2.4")


def test_the_command_defaults_to_the_configured_region_and_every_region_already_priced(fake_aws, settings):
    settings.AWS_REGION = "eu-west-1"

    run("--no-hardware")

    assert fake_aws.regions_called("prices") == ["eu-west-1", "us-east-1", "us-east-2", "us-west-2"]


def test_the_command_prints_json_and_passes_its_flags_on(fake_aws):
    fake_aws.prices["us-east-1"] = {C7G: "2.4"}

    out, _ = run("--region", "us-east-1", "--instance-type", C7G, "--spot-days", "0", "--no-hardware", "--json")

    assert json.loads(out) == {"regions": {"us-east-1": {
        "prices_updated": 1, "prices_unchanged": 0, "not_offered": [], "spot_points_added": 0,
        "hardware_updated": 0}}, "failed": {}}
    assert fake_aws.calls == [("prices", "us-east-1", (C7G,))]


def test_the_command_refuses_an_instance_type_not_in_the_catalog(fake_aws):
    with pytest.raises(CommandError, match="not in the instance catalog: c99.huge"):
        run("--instance-type", "c99.huge")
    assert fake_aws.calls == []


def test_the_command_end_to_end_against_moto_for_ec2_and_a_stubbed_price_list(aws_credentials):
    InstanceType.objects.filter(name=C7G).update(network_gbps=1, memory_gib=1)
    names = [C7G, "hpc6a.48xlarge"]
    with mock_aws():
        aws.reset_clients()
        try:
            with Stubber(aws.client("pricing", region=aws_pricing.PRICING_REGION)) as pricing:
                pricing.add_response("get_products", {"FormatVersion": "aws_v1",
                                                      "PriceList": [price_document(C7G, "2.4000000000")]},
                                     products_request("us-east-1", names))
                out, err = run("--region", "us-east-1", "--instance-type", C7G, "--instance-type", "hpc6a.48xlarge",
                               "--json")
                pricing.assert_no_pending_responses()
        finally:
            aws.reset_clients()

    report = json.loads(out)["regions"]["us-east-1"]
    assert report["not_offered"] == ["hpc6a.48xlarge"]
    assert price(C7G, "us-east-1").usd_per_hour == Decimal("2.4")
    # moto's Spot history: one point per zone it offers c7g.16xlarge in, none for hpc6a in us-east-1.
    zones = sorted(SpotPrice.objects.filter(instance_type__name=C7G).values_list("availability_zone", flat=True))
    assert zones == [f"us-east-1{z}" for z in "abcdf"]
    assert report["spot_points_added"] == 5
    assert not SpotPrice.objects.filter(instance_type__name="hpc6a.48xlarge").exists()
    c7g = InstanceType.objects.get(name=C7G)
    assert (c7g.network_gbps, c7g.memory_gib) == (30.0, 128.0)
    assert err == ""
