"""The results endpoints: the pages' answers as JSON (the numbers, not the Bokeh document), the same
downloads, and errors as {"errors": [...]} with 400, 404 or 401."""

import csv
import io

import pytest
import xarray as xr
from django.urls import reverse

from accounts.services import api_token_create
from results import figures
from results.analysis import Region
from simulations import services
from tests.results.test_views import DAY1, DAY2, MET1, classic, gchp, indexed_sim, outputs  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, alice):
    client.force_login(alice)
    return client


def endpoint(name, sim=None, **params):
    base = reverse(f"api-results-{name}", args=[sim.id] if sim is not None else [])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_the_files_endpoint_lists_every_indexed_file_with_its_metadata(api, classic):
    response = api.get(endpoint("files", classic))
    assert response.status_code == 200
    body = response.json()
    assert body["simulation"] == str(classic.id)
    paths = [f["path"] for f in body["files"]]
    assert paths == [DAY1, DAY2, MET1, "GEOSChem.StateMet.20190102_0000z.nc4",
                     "Restarts/GEOSChem.Restart.20190103_0000z.nc4"]
    first = body["files"][0]
    assert (first["collection"], first["kind"], first["model"], first["demo"], first["error"]) == (
        "SpeciesConc", "diagnostic", "classic", True, "")
    assert first["grid"]["label"] == "4x5 global" and first["times"] == ["2019-01-01T12:00:00"]
    assert first["levels"] == 72 and first["size_bytes"] > 0
    rn = next(v for v in first["variables"] if v["species"] == "Rn222")
    assert rn == {"name": "SpeciesConcVV_Rn222", "long_name": "Dry mixing ratio of species Rn222",
                  "units": "mol mol-1 dry", "dims": ["time", "lev", "lat", "lon"], "shape": [1, 72, 46, 72],
                  "species": "Rn222", "levels": 72}
    assert first["download"] == "http://testserver" + reverse("simulations:file", args=[classic.id, DAY1])


def test_the_map_endpoint_returns_the_figures_numbers(api, classic):
    response = api.get(endpoint("map", classic, file=DAY1, variable="Rn222", time=0, level=3))
    assert response.status_code == 200
    body = response.json()
    expected = figures.map_figure(outputs(classic) / DAY1, "SpeciesConcVV_Rn222", time=0, level=3).data
    assert body["mean"] == pytest.approx(expected["mean"]) and body["max"] == pytest.approx(expected["max"])
    assert (body["file"], body["time_index"], body["level"], body["variable"], body["species"]) == (
        DAY1, 0, 3, "SpeciesConcVV_Rn222", "Rn222")
    assert body["grid"]["label"] == "4x5 global" and body["displayed_shape"] == [46, 72] and body["demo"] is True
    assert "doc" not in body and "item" not in body  # the numbers, not the Bokeh document


def test_the_zonal_endpoint_returns_values_by_level_and_latitude(api, gchp):
    body = api.get(endpoint("zonal", gchp, file=DAY1, variable="Pb210")).json()
    assert len(body["pressure_hpa"]) == 72 and len(body["values"]) == 72
    assert len(body["values"][0]) == len(body["lat"]) and body["pressure_hpa"][0] > body["pressure_hpa"][-1]


def test_the_profile_endpoint_takes_a_point_without_naming_the_kind(api, classic):
    body = api.get(endpoint("profile", classic, file=DAY1, variable="Rn222", lat=40, lon=-105)).json()
    assert body["where"] == "the cell containing 40N 105W (centred at 42N 105W)"
    assert len(body["values"]) == len(body["pressure_hpa"]) == 72


def test_the_timeseries_endpoint_says_where_its_numbers_came_from(api, classic):
    fast = api.get(endpoint("timeseries", classic, collection="SpeciesConc", variable="Rn222", level=1)).json()
    assert (fast["source"], fast["files"], fast["where"]) == ("summary", 2, "the globe")
    assert fast["times"] == ["2019-01-01T12:00:00", "2019-01-02T12:00:00"]
    slow = api.get(endpoint("timeseries", classic, file=DAY1, variable="Rn222", level=1, region="box",
                            box="-180,180,-90,90")).json()
    assert slow["source"] == "files" and slow["collection"] == "SpeciesConc"
    assert slow["values"] == pytest.approx(fast["values"])
    times, means, *_ = figures.series_values([outputs(classic) / DAY1, outputs(classic) / DAY2], "Rn222", level=1,
                                             region=Region.globe())
    assert fast["values"] == pytest.approx(list(means))


def test_the_compare_endpoint_returns_the_files_compared_and_the_statistics(api, alice, two_days, tmp_path,
                                                                            demo_classic):
    ref = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1, DAY2], name="Ref")
    dev = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY2], name="Dev")
    body = api.get(endpoint("compare", ref=ref.id, dev=dev.id, variable="Pb210", time=1, level=2)).json()
    assert body["ref"] == {"simulation": str(ref.id), "name": "Ref", "file": DAY2, "time_index": 0,
                           "time": "2019-01-02T12:00:00"}
    assert body["dev"]["file"] == DAY2 and body["collection"] == "SpeciesConc" and body["level"] == 2
    stats = body["statistics"]
    assert stats["n"] == 46 * 72 and stats["mean_bias"] == 0 and stats["correlation"] == pytest.approx(1)
    assert body["note"] == "" and body["grid"]["label"] == "4x5 global"


def test_two_grids_cannot_be_compared(api, classic, gchp):
    response = api.get(endpoint("compare", ref=classic.id, dev=gchp.id))
    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "", "message": "Ref is 4x5 global, Dev is C24: compare "
                                                                   "simulations on the same grid"}]}


def test_the_csv_export_is_the_pages(api, client, classic):
    params = {"of": "slice", "file": DAY1, "variable": "Rn222", "time": 0, "level": 1}
    response = api.get(endpoint("export-csv", classic, **params))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    page = client.get(reverse("results:export_csv", args=[classic.id]), params)
    assert response.content == page.content and len(list(csv.reader(io.StringIO(response.content.decode())))) == 3314


def test_the_netcdf_export_downloads_a_subset(api, classic, tmp_path):
    response = api.get(endpoint("export-nc", classic, file=DAY2, variable="Pb210", box="0,40,-10,10"))
    assert response.status_code == 200 and response["Content-Type"] == "application/x-netcdf"
    (tmp_path / "subset.nc").write_bytes(b"".join(response.streaming_content))
    with xr.open_dataset(tmp_path / "subset.nc") as ds:
        assert list(ds.data_vars).count("SpeciesConcVV_Pb210") == 1 and "SpeciesConcVV_Rn222" not in ds
        assert float(ds.lon.min()) >= 0 and float(ds.lon.max()) <= 40 and ds.sizes["time"] == 1


@pytest.mark.parametrize("name, params, status, field, message", [
    ("map", {"variable": "Rn222"}, 400, "file", "choose a file"),
    ("map", {"file": DAY1, "variable": "NO2"}, 400, "variable", f"{DAY1} has no variable 'NO2'"),
    ("map", {"file": DAY1, "variable": "Rn222", "level": 99}, 400, "level", "level 99 is out of range"),
    ("zonal", {"file": DAY1, "variable": "Rn222", "time": 3}, 400, "time", "time step 3 is out of range"),
    ("profile", {"file": DAY1, "variable": "Rn222", "box": "a,b,c,d"}, 400, "box", "box must be four numbers"),
    ("timeseries", {"collection": "Nope", "variable": "Rn222"}, 400, "collection", "'Nope' is not a collection"),
    ("map", {"file": "../../etc/passwd", "variable": "Rn222"}, 404, "file", "is not one of this simulation's"),
    ("map", {"file": "GEOSChem.Other.20190101_0000z.nc4", "variable": "Rn222"}, 404, "file",
     "is not an indexed output file of this simulation"),
    ("export-nc", {"file": DAY1}, 400, "variable", "choose at least one variable"),
    ("export-csv", {"of": "series", "collection": "SpeciesConc", "variable": "Rn222", "level": 0}, 400, "level",
     "level 0 is out of range"),
])
def test_a_bad_request_gets_errors_with_the_field_and_message(api, classic, name, params, status, field, message):
    response = api.get(endpoint(name, classic, **params))
    assert response.status_code == status
    [error] = response.json()["errors"]
    assert error["field"] == field and message in error["message"]


def test_a_malformed_comparison_id_is_a_400_and_an_invisible_one_a_404(api, bob, two_days, classic):
    secret = services.simulation_create(owner=bob, raw_config=two_days)
    response = api.get(endpoint("compare", ref="x", dev=classic.id))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "ref"
    response = api.get(endpoint("compare", ref=classic.id, dev=secret.id))
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "dev"


def test_another_users_simulation_is_a_404_on_every_endpoint(client, bob, classic):
    client.force_login(bob)
    choice = {"file": DAY1, "variable": "Rn222"}
    for name in ("files", "map", "zonal", "profile", "timeseries", "export-csv", "export-nc"):
        response = client.get(endpoint(name, classic, **choice))
        assert response.status_code == 404, name
        assert response.json() == {"errors": [{"field": "", "message": "no such simulation"}]}
    assert client.get(endpoint("compare", ref=classic.id, dev=classic.id)).status_code == 404


def test_anonymous_callers_get_401_and_token_holders_the_answer(client, alice, classic):
    for name in ("files", "map", "timeseries"):
        assert client.get(endpoint(name, classic, file=DAY1, variable="Rn222")).status_code == 401
    assert client.get(endpoint("compare", ref=classic.id, dev=classic.id)).status_code == 401
    _, secret = api_token_create(user=alice, name="script", actor=alice, ip="127.0.0.1", source="test")
    response = client.get(endpoint("map", classic, file=DAY1, variable="Rn222"), HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200 and response.json()["species"] == "Rn222"


def test_the_files_endpoint_makes_the_same_queries_for_one_file_as_for_many(api, alice, two_days, tmp_path,
                                                                            demo_classic, django_assert_num_queries):
    one = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1])
    many = indexed_sim(alice, two_days, tmp_path, demo_classic, [DAY1, DAY2, MET1])
    for sim, count in ((one, 1), (many, 3)):
        with django_assert_num_queries(4):  # session, user, the simulation, its files
            response = api.get(endpoint("files", sim))
        assert len(response.json()["files"]) == count
