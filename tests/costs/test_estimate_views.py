"""The estimate page (GET/POST /costs/estimate/) and the estimate API (POST /api/v1/estimates)."""

import json
import re
from pathlib import Path

import bokeh
import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from costs import charts
from costs.models import InstancePrice, InstanceType
from costs.selectors import estimate_configuration
from costs.views import _number
from simulations import services
from simulations.config import ConfigInvalid, parse_config
from tests.conftest import TWO_DAYS

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
GCHP_C24 = yaml.safe_load((ROOT / "examples" / "demo-gchp-c24.yml").read_text())
INVALID_YAML = (ROOT / "examples" / "invalid.yml").read_text()
PAGE = reverse("costs:estimate")
API = reverse("api-estimates")


def _config(base, **compute):
    return {**base, "compute": {**base.get("compute", {}), **compute}}


def _post(client, config, region="us-east-1"):
    text = config if isinstance(config, str) else yaml.safe_dump(config)
    return client.post(PAGE, {"config": text, "region": region})


def _table_rows(content: bytes) -> list[str]:
    table = re.search(r'<table class="estimates">(.*?)</table>', content.decode(), re.S).group(1)
    return re.findall(r"<tr[ >].*?</tr>", table.split("<tbody>")[1], re.S)


def _expected_errors(raw) -> list:
    with pytest.raises(ConfigInvalid) as exc:
        parse_config(raw)
    return exc.value.errors


# --- the page ----------------------------------------------------------------------------------


def test_it_starts_from_the_demo_example_and_estimates_it(client, alice):
    client.force_login(alice)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert b"TransportTracers 4x5, two days" in response.content  # the example, in the textarea
    assert len(_table_rows(response.content)) == len(response.context["report"].estimates) > 10
    assert b"Runs here use the demo model" in response.content


def test_it_shows_every_option_of_a_classic_4x5_run_cheapest_first(client, alice):
    client.force_login(alice)
    response = _post(client, TWO_DAYS)
    report = estimate_configuration(parse_config(TWO_DAYS), region="us-east-1", demo=True)
    rows = _table_rows(response.content)
    assert [re.search(r"<strong>(.*?)</strong>", row).group(1) for row in rows] == [
        e.instance_type for e in report.estimates]
    costs = [e.cheapest_cost()[1].expected for e in report.estimates]
    assert costs == sorted(costs)
    first = report.estimates[0]
    assert f"{first.cores} × 1" in rows[0] and first.architecture in rows[0]
    assert f"in {_number(first.input_gb)} GB" in rows[0] and f"out {_number(first.output_gb)} GB" in rows[0]
    assert "staged in" in rows[0] and "/month" in rows[0]
    assert escape(first.basis) in rows[0]  # inside the row's details
    assert b"<h2>Recommendations</h2>" in response.content
    for recommendation in report.recommendations:
        assert escape(recommendation.reason).encode() in response.content


def test_it_marks_the_instance_type_the_configuration_chose(client, alice):
    client.force_login(alice)
    response = _post(client, _config(TWO_DAYS, instance_type="c7i.16xlarge"))
    chosen = [row for row in _table_rows(response.content) if 'class="chosen"' in row]
    assert len(chosen) == 1 and "<strong>c7i.16xlarge</strong>" in chosen[0] and "your choice" in chosen[0]
    assert b"Your choice, c7i.16xlarge, is marked." in response.content


def test_a_configuration_without_a_choice_has_no_row_marked(client, alice):
    client.force_login(alice)
    response = _post(client, TWO_DAYS)
    assert not [row for row in _table_rows(response.content) if 'class="chosen"' in row]
    assert b"names no instance type" in response.content


def test_it_estimates_a_gchp_c24_run_and_marks_the_chosen_node_count(client, alice):
    client.force_login(alice)
    response = _post(client, _config(GCHP_C24, instance_type="c7i.24xlarge"))
    rows = _table_rows(response.content)
    assert len(rows) == len(response.context["report"].estimates) > 5
    chosen = [row for row in rows if 'class="chosen"' in row]
    assert len(chosen) == 1 and "c7i.24xlarge" in chosen[0] and "48 × 1" in chosen[0]
    text = response.content.decode()
    assert "GCHP at C24 needs 32 GB per node; c4.4xlarge has 30 GiB" in text
    assert "the platform&#x27;s GCHP images are built for x86_64 only; c7g.16xlarge is arm64" in text


def test_it_lists_the_instance_types_that_cannot_run_it_with_the_reason(client, alice):
    client.force_login(alice)
    response = _post(client, _config(TWO_DAYS, instance_type="hpc7a.96xlarge"))
    refused = re.search(r'<table class="refused">(.*?)</table>', response.content.decode(), re.S).group(1)
    assert "hpc7a.96xlarge is not offered in us-east-1 (the price snapshot lists us-east-2)" in refused
    assert re.search(r'<tr class="chosen"><td>hpc7a.96xlarge <span class="badge">your choice', refused)
    assert b"Your choice, hpc7a.96xlarge, cannot run this configuration" in response.content
    assert "hpc7a" not in "".join(_table_rows(response.content))


def test_an_option_without_spot_says_why(client, alice):
    client.force_login(alice)
    response = _post(client, TWO_DAYS)
    hpc7g = next(row for row in _table_rows(response.content) if "<strong>hpc7g.16xlarge</strong>" in row)
    assert "not offered" in hpc7g and "hpc7g is sold on-demand only" in hpc7g


def test_the_region_changes_what_is_offered(client, alice):
    client.force_login(alice)
    response = _post(client, TWO_DAYS, region="us-east-2")
    assert response.context["report"].region == "us-east-2"
    assert any("<strong>hpc7a.96xlarge</strong>" in row for row in _table_rows(response.content))


def test_invalid_yaml_is_an_error_on_the_page_not_a_500(client, alice):
    client.force_login(alice)
    response = _post(client, "model: classic\nstart: [2019-01-01\n")
    assert response.status_code == 200
    assert b"this is not valid YAML" in response.content
    assert b'<table class="estimates">' not in response.content
    assert b"model: classic\nstart: [2019-01-01" in response.content  # kept for fixing


def test_every_configuration_error_is_shown_beside_its_field(client, alice):
    client.force_login(alice)
    response = _post(client, INVALID_YAML)
    assert response.status_code == 200
    errors = _expected_errors(yaml.safe_load(INVALID_YAML))
    assert len(errors) >= 6
    for error in errors:
        assert f"<li><code>{escape(error.field)}</code>: {escape(error.message)}</li>" in response.content.decode()
    assert b'<table class="estimates">' not in response.content


def test_a_list_instead_of_a_mapping_is_an_error_on_the_page(client, alice):
    client.force_login(alice)
    response = _post(client, "- model: classic\n")
    assert response.status_code == 200
    assert b"the configuration must be a mapping of keys to values" in response.content


def test_a_region_without_prices_is_an_error_beside_the_region(client, alice):
    client.force_login(alice)
    response = _post(client, TWO_DAYS, region="mars-north-1")
    assert response.status_code == 200
    assert re.search(r'<span id="region-errors" class="field-error"><code>region</code>: there are no prices for '
                     r"&#x27;mars-north-1&#x27;; choose one of us-east-1, us-east-2, us-west-2", response.content.decode())
    assert b'<table class="estimates">' not in response.content


def test_it_starts_from_a_simulation_i_can_see(client, alice, two_days):
    two_days["name"] = "Alice's January run"
    two_days["compute"] = {"instance_type": "c7g.8xlarge"}
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    client.force_login(alice)
    response = client.get(PAGE, {"simulation": str(sim.id)})
    assert response.status_code == 200
    assert yaml.safe_load(response.context["text"]) == sim.config
    assert escape("Alice's January run").encode() in response.content
    chosen = [row for row in _table_rows(response.content) if 'class="chosen"' in row]
    assert len(chosen) == 1 and "c7g.8xlarge" in chosen[0]


def test_it_hides_another_users_simulation_with_404(client, alice, bob, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    client.force_login(bob)
    assert client.get(PAGE, {"simulation": str(sim.id)}).status_code == 404
    assert client.get(PAGE, {"simulation": "not-a-uuid"}).status_code == 404


def test_the_page_loads_bokeh_from_the_projects_static_files_not_a_cdn(client, alice):
    client.force_login(alice)
    content = client.get(PAGE).content.decode()
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', content)
    assert sources and not [s for s in sources if re.match(r"(https?:)?//", s)]
    bokeh_js = [s for s in sources if s.endswith("bokeh.min.js")]
    assert len(bokeh_js) == 1 and bokeh_js[0].startswith(django_settings.STATIC_URL)
    path = finders.find(bokeh_js[0].removeprefix(django_settings.STATIC_URL))
    assert path and Path(path).is_file()
    assert f'"{bokeh.__version__}"' in Path(path).read_text()  # the JS matches the Python package
    assert "Bokeh.embed.embed_items" in content and "data-root-id" in content  # the chart itself


def test_collectstatic_takes_bokehs_minified_bundles_and_nothing_else_of_bokeh(settings, tmp_path):
    """The hashed-name storage `make run` collects with takes BokehJS's bundles (the finder's)."""
    from geoschem_runner import settings as project_settings

    settings.STORAGES = project_settings.STORAGES
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    assert (tmp_path / "static" / manifest["bokeh/js/bokeh.min.js"]).is_file()
    assert "css/app.css" in manifest
    bokeh_files = sorted(name for name in manifest if name.startswith("bokeh/"))
    assert "bokeh/js/bokeh-widgets.min.js" in bokeh_files
    assert all(name.endswith(".min.js") for name in bokeh_files) and len(bokeh_files) == 6


def test_the_chart_plots_hours_against_cost_per_architecture_with_ranges():
    report = estimate_configuration(parse_config(TWO_DAYS), region="us-east-1")
    fig = charts.time_cost_figure(report.estimates, chosen=report.estimates[0])
    assert fig.xaxis[0].axis_label == "expected wall time (hours)"
    assert fig.yaxis[0].axis_label == "expected cost, cheaper capacity (USD)"
    sources = {r.data_source.data["label"][0]: r.data_source.data for r in fig.renderers
               if "label" in r.data_source.data}
    assert sum(len(data["label"]) for data in sources.values()) == len(report.estimates)
    assert {item.label.value for item in fig.legend[0].items} == {"arm64", "x86_64", "your choice"}
    assert len(fig.select(type=charts.Whisker)) == 4  # hours and cost ranges, for each architecture
    first = report.estimates[0]
    data = next(d for d in sources.values() if first.instance_type in d["label"])
    i = data["label"].index(first.instance_type)
    assert (data["hours_low"][i], data["hours"][i], data["hours_high"][i]) == (
        first.hours.low, first.hours.expected, first.hours.high)
    assert data["cost"][i] == first.cheapest_cost()[1].expected


# --- the API -----------------------------------------------------------------------------------


def _api(client, body, query=""):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(API + query, data=data, content_type="application/json")


def test_the_api_answers_the_report_the_command_prints(client, alice):
    client.force_login(alice)
    response = _api(client, TWO_DAYS)
    assert response.status_code == 200
    body = response.json()
    report = estimate_configuration(parse_config(TWO_DAYS), region="us-east-1", demo=True)
    assert body == json.loads(json.dumps(report.as_dict()))
    first = body["estimates"][0]
    assert first["instance_type"] == report.estimates[0].instance_type
    assert set(first["hours"]) == {"low", "expected", "high"}
    assert first["hours"]["low"] <= first["hours"]["expected"] <= first["hours"]["high"]
    assert set(first["cost_usd"]) == {"on_demand", "spot"}
    assert set(first["cost_usd"]["on_demand"]) == {"low", "expected", "high"}
    hpc7g = next(e for e in body["estimates"] if e["instance_type"] == "hpc7g.16xlarge")
    assert hpc7g["cost_usd"]["spot"] is None
    assert {"instance_type": "hpc7a.96xlarge", "reason": report.unrunnable[-1][1]} in body["unrunnable"]


def test_the_api_takes_the_region_from_the_query(client, alice):
    client.force_login(alice)
    body = _api(client, TWO_DAYS, "?region=us-east-2").json()
    assert body["region"] == "us-east-2"
    assert "hpc7a.96xlarge" in {e["instance_type"] for e in body["estimates"]}


def test_the_api_names_every_configuration_error_as_the_page_does(client, alice):
    client.force_login(alice)
    raw = yaml.safe_load(INVALID_YAML)
    response = _api(client, json.loads(json.dumps(raw, default=str)))
    assert response.status_code == 400
    expected = _expected_errors(json.loads(json.dumps(raw, default=str)))
    assert response.json() == {"errors": [{"field": e.field, "message": e.message} for e in expected]}


def test_the_api_refuses_a_region_without_prices(client, alice):
    client.force_login(alice)
    response = _api(client, TWO_DAYS, "?region=mars-north-1")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["region"]


@pytest.mark.parametrize("body, content_type, says", [
    ("[1, 2]", "application/json", "the configuration must be a mapping of keys to values"),
    ('"classic"', "application/json", "the configuration must be a mapping of keys to values"),
    ("{not json", "application/json", "the body must be a JSON object"),
    ("model=classic", "application/x-www-form-urlencoded", "the body must be a JSON object"),
])
def test_a_body_that_is_not_a_json_object_is_a_400_in_the_same_format(client, alice, body, content_type, says):
    client.force_login(alice)
    response = client.post(API, data=body, content_type=content_type)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["field"] == "" and errors[0]["message"].startswith(says)


def test_the_api_asks_anonymous_callers_to_authenticate(client):
    response = _api(client, TWO_DAYS)
    assert response.status_code == 401
    assert "errors" not in response.json()


def _more_instance_types(n):
    now = timezone.now()
    for i in range(n):
        it = InstanceType.objects.create(name=f"t9z.{i}xlarge", family="t9z", architecture="x86_64", cpu="zen4",
                                         vcpus=32, physical_cores=16, memory_gib=64, network_gbps=25,
                                         typical_spot_discount=0.5, source="test")
        InstancePrice.objects.create(instance_type=it, region="us-east-1", usd_per_hour="1.5", source="test",
                                     retrieved_at=now)


def test_the_api_runs_the_same_number_of_queries_whatever_the_catalog_size(client, alice):
    client.force_login(alice)
    _api(client, TWO_DAYS)  # the first call fits the serial fraction and caches it
    with CaptureQueriesContext(connection) as before:
        small = _api(client, TWO_DAYS)
    _more_instance_types(20)
    with CaptureQueriesContext(connection) as after:
        large = _api(client, TWO_DAYS)
    assert len(large.json()["estimates"]) == len(small.json()["estimates"]) + 20
    # The session and its user, the priced regions, and the selector's five (see costs/selectors.py).
    assert len(after) == len(before) <= 8, [q["sql"] for q in after]
