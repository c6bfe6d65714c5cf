"""The admin's catalog pages: instance types, prices, Spot history and throughput samples."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from costs.models import InstancePrice, InstanceType, SpotPrice, ThroughputSample

pytestmark = pytest.mark.django_db


def _instance_type(name, **fields):
    defaults = {"family": name.split(".")[0], "architecture": "x86_64", "cpu": "zen4", "vcpus": 32,
                "physical_cores": 16, "memory_gib": 64, "network_gbps": 25, "typical_spot_discount": 0.5,
                "source": "test"}
    return InstanceType.objects.create(name=name, **{**defaults, **fields})


def _grow(n, start=0):
    """n more instance types, each priced in two regions, with Spot points and a throughput sample."""
    now = timezone.now()
    for i in range(start, start + n):
        it = _instance_type(f"t9z.{i}xlarge")
        for region in ("us-east-1", "us-west-2"):
            InstancePrice.objects.create(instance_type=it, region=region, usd_per_hour="1.5", source="test",
                                         retrieved_at=now)
        for hours in (1, 2):
            SpotPrice.objects.create(instance_type=it, region="us-east-1", availability_zone="us-east-1a",
                                     usd_per_hour="0.7", at=now - timedelta(hours=hours))
        ThroughputSample.objects.create(model="classic", simulation_type="fullchem", resolution="4x5", levels=72,
                                        instance_type=it.name, cores=16, days_per_day=100 + i, source="test",
                                        confidence="reported", measured_on=date(2025, 1, 1))


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


LISTS = ["costs_instancetype", "costs_instanceprice", "costs_spotprice", "costs_throughputsample"]


@pytest.mark.parametrize("model", LISTS)
def test_each_catalog_list_answers_an_operator_in_constant_queries(client, operator, model):
    _grow(3)
    client.force_login(operator)
    url = reverse(f"admin:{model}_changelist")
    few = _queries(client, url)
    _grow(12, start=3)
    assert _queries(client, url) == few  # no query per row


def _change_urls():
    it = InstanceType.objects.get(name="t9z.0xlarge")
    return {
        "costs_instancetype": reverse("admin:costs_instancetype_change", args=[it.pk]),
        "costs_instanceprice": reverse("admin:costs_instanceprice_change", args=[it.prices.first().pk]),
        "costs_spotprice": reverse("admin:costs_spotprice_change", args=[it.spot_prices.first().pk]),
        "costs_throughputsample": reverse("admin:costs_throughputsample_change",
                                          args=[ThroughputSample.objects.get(instance_type=it.name).pk]),
    }


@pytest.mark.parametrize("model", LISTS)
def test_each_catalog_change_page_answers_an_operator_in_constant_queries(client, operator, model):
    _grow(3)
    client.force_login(operator)
    url = _change_urls()[model]
    client.get(url)  # the content types are cached on the first visit
    few = _queries(client, url)
    _grow(12, start=3)
    it = InstanceType.objects.get(name="t9z.0xlarge")
    InstancePrice.objects.create(instance_type=it, region="us-east-2", usd_per_hour="1.6", source="test",
                                 retrieved_at=timezone.now())
    assert _queries(client, url) == few


def test_the_instance_type_list_shows_the_price_here_and_the_spot_points_of_the_last_week(client, operator, settings):
    settings.AWS_REGION = "us-east-1"
    now = timezone.now()
    it = _instance_type("t9z.large")
    InstancePrice.objects.create(instance_type=it, region="us-east-1", usd_per_hour="1.2345", source="test",
                                 retrieved_at=now)
    InstancePrice.objects.create(instance_type=it, region="us-west-2", usd_per_hour="9.99", source="test",
                                 retrieved_at=now)
    for days in (1, 2, 6, 8, 30):  # the last two are older than the estimator's window
        SpotPrice.objects.create(instance_type=it, region="us-east-1", availability_zone="us-east-1a",
                                 usd_per_hour="0.5", at=now - timedelta(days=days))
    unpriced = _instance_type("t9y.large")
    client.force_login(operator)
    response = client.get(reverse("admin:costs_instancetype_changelist"), {"q": "large"})
    rows = {obj.name: obj for obj in response.context["cl"].result_list}
    assert (rows["t9z.large"].on_demand_usd, rows["t9z.large"].spot_points) == (Decimal("1.2345"), 3)
    assert (rows[unpriced.name].on_demand_usd, rows[unpriced.name].spot_points) == (None, 0)
    content = response.content.decode()
    assert "1.2345" in content and "9.99" not in content and "not offered" in content
    assert f'?instance_type__id__exact={it.pk}">3</a>' in content


def test_the_instance_type_list_filters_by_efa(client, operator):
    _instance_type("t9z.metal", efa=True)
    _instance_type("t9z.large", efa=False)
    client.force_login(operator)
    response = client.get(reverse("admin:costs_instancetype_changelist"), {"efa__exact": "1", "q": "t9z"})
    assert [obj.name for obj in response.context["cl"].result_list] == ["t9z.metal"]


def test_an_instance_types_prices_are_edited_on_its_page(client, operator):
    it = _instance_type("t9z.large")
    client.force_login(operator)
    url = reverse("admin:costs_instancetype_change", args=[it.pk])
    form = {name: getattr(it, name) for name in ("name", "family", "architecture", "cpu", "vcpus", "physical_cores",
                                                 "memory_gib", "network_gbps", "typical_spot_discount", "source")}
    response = client.post(url, {
        **form, "efa": "", "prices-TOTAL_FORMS": "1", "prices-INITIAL_FORMS": "0",
        "prices-0-region": "eu-west-1", "prices-0-usd_per_hour": "2.5", "prices-0-source": "operator",
        "prices-0-retrieved_at_0": "2026-01-15", "prices-0-retrieved_at_1": "00:00:00"})
    assert response.status_code == 302, response.context and response.context["errors"]
    assert list(it.prices.values_list("region", "usd_per_hour")) == [("eu-west-1", Decimal("2.5"))]


def test_spot_history_is_read_only(client, operator):
    _grow(1)
    point = SpotPrice.objects.first()
    client.force_login(operator)
    assert client.get(reverse("admin:costs_spotprice_add")).status_code == 403
    url = reverse("admin:costs_spotprice_change", args=[point.pk])
    assert b'name="_save"' not in client.get(url).content
    assert client.post(url, {"usd_per_hour": "99"}).status_code == 403
    point.refresh_from_db()
    assert point.usd_per_hour == Decimal("0.7")


def test_the_spot_history_filters_by_instance_type_and_region(client, operator):
    _grow(2)
    first = InstanceType.objects.get(name="t9z.0xlarge")
    client.force_login(operator)
    response = client.get(reverse("admin:costs_spotprice_changelist"),
                          {"instance_type__id__exact": first.pk, "region": "us-east-1"})
    assert {p.instance_type_id for p in response.context["cl"].result_list} == {first.pk}
    assert response.context["cl"].result_count == 2


def test_the_sample_list_filters_demo_figures_and_keeps_the_job_read_only(client, operator):
    _grow(1)
    demo = ThroughputSample.objects.create(model="classic", simulation_type="TransportTracers", resolution="4x5",
                                           levels=72, instance_type="local", cores=4, days_per_day=5000,
                                           source="demo run", confidence="demo-model", is_demo=True,
                                           measured_on=date(2026, 1, 1))
    client.force_login(operator)
    response = client.get(reverse("admin:costs_throughputsample_changelist"), {"is_demo__exact": "1"})
    assert [s.pk for s in response.context["cl"].result_list] == [demo.pk]
    page = client.get(reverse("admin:costs_throughputsample_change", args=[demo.pk]))
    assert page.status_code == 200
    assert b'name="job"' not in page.content and b'name="published_key"' not in page.content
    assert b'name="days_per_day"' in page.content
