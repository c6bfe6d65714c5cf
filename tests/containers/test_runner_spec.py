"""Reading and checking the run spec, and the file:// transport."""

import copy
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner.spec import SpecError, check_spec, load_spec, report_uri_of  # noqa: E402
from runner.transport import (  # noqa: E402
    FileStore, TransportError, fetch, open_store, path_from_uri, read_bytes, scheme_of,
)

GOOD = {
    "spec_version": 1,
    "job_name": "gcr-6f1c0a52-s001-a1",
    "model": {"name": "classic", "geoschem_version": "14.7.0", "executable": "demo"},
    "grid": {"kind": "latlon", "resolution": "4x5", "cs_res": None},
    "period": {"start": "2019-01-01T00:00:00", "end": "2019-01-03T00:00:00"},
    "restart": {"uri": None},
    "geoschem_config": {"simulation": {"name": "TransportTracers"}},
    "history": {"collections": [{"name": "SpeciesConc"}]},
    "gchp": None,
    "compute": {"backend": "local", "instance_type": None, "nodes": 1, "cores_per_node": 4, "threads": 4},
    "io": {"input_root": "/data", "output_uri": "file:///tmp/out/", "report_uri": "file:///tmp/out/reports/"},
}


def changed(**changes) -> dict:
    spec = copy.deepcopy(GOOD)
    for dotted, value in changes.items():
        node = spec
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return spec


def test_a_good_classic_spec_gives_the_segment():
    segment = check_spec(GOOD)
    assert segment.job_name == "gcr-6f1c0a52-s001-a1"
    assert segment.model == "classic" and segment.executable == "demo"
    assert segment.start == datetime(2019, 1, 1) and segment.end == datetime(2019, 1, 3)
    assert segment.days == 2.0
    assert segment.threads == 4 and segment.total_cores == 4
    assert segment.cs_res is None and segment.restart_uri is None and segment.instance_type is None


def test_a_gchp_spec_takes_its_core_count_from_set_common_run_settings():
    spec = changed(model__name="gchp", grid__cs_res=24, compute__nodes=2, compute__cores_per_node=48,
                   gchp={"setCommonRunSettings": {"TOTAL_CORES": "96", "CS_RES": 24}})
    segment = check_spec(spec)
    assert segment.cs_res == 24 and segment.total_cores == 96


@pytest.mark.parametrize(("changes", "message"), [
    ({"period__end": KeyError}, "run spec is missing 'period.end'"),
    ({"io": KeyError}, "run spec is missing 'io.output_uri'"),
    ({"restart": KeyError}, "run spec is missing 'restart.uri'"),
    ({"spec_version": 2}, "spec_version 2 is not supported (this runner reads 1)"),
    ({"model__name": "wrf"}, "'model.name' must be one of classic, gchp, not 'wrf'"),
    ({"model__executable": ""}, "'model.executable' must be a non-empty string"),
    ({"period__start": "yesterday"}, "'period.start' is not an ISO date-time: 'yesterday'"),
    ({"period__end": "2019-01-01T00:00:00"}, "period ends (2019-01-01T00:00:00) before it starts"),
    ({"period__start": "2019-01-01T00:00:00+00:00"}, "'period.start' must not carry a time zone"),
    ({"compute__threads": 0}, "'compute.threads' must be a positive integer, not 0"),
    ({"compute__threads": True}, "'compute.threads' must be a positive integer, not True"),
    ({"compute__nodes": None}, "'compute.nodes' must not be null"),
    ({"history__collections": [{"frequency": "x"}]}, "'history.collections[0]' needs a 'name'"),
    ({"geoschem_config": []}, "'geoschem_config' must be an object"),
    ({"model": "classic"}, "'model' must be an object"),
    ({"model__name": "gchp"}, "'grid.cs_res' must not be null"),
    ({"model__name": "gchp", "grid__cs_res": 24}, "run spec field 'gchp' must be an object"),
    ({"model__name": "gchp", "grid__cs_res": 24, "gchp": {}}, "run spec is missing 'gchp.setCommonRunSettings'"),
])
def test_a_bad_spec_is_refused_with_the_field_named(changes, message):
    with pytest.raises(SpecError) as error:
        check_spec(changed(**changes))
    assert message in str(error.value)


def test_load_spec_reads_a_path_and_a_file_uri(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(GOOD))
    assert load_spec(str(path)) == GOOD
    assert load_spec(path.as_uri()) == GOOD


@pytest.mark.parametrize(("content", "message"), [
    ("{oops", "is not valid JSON"),
    ("[1, 2]", "is not a JSON object"),
    (b"\xff\xfe", "is not valid JSON"),
])
def test_load_spec_refuses_what_is_not_a_json_object(tmp_path, content, message):
    path = tmp_path / "spec.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SpecError, match=message):
        load_spec(str(path))


def test_load_spec_says_when_the_file_is_missing(tmp_path):
    with pytest.raises(SpecError, match="cannot read the run spec"):
        load_spec(str(tmp_path / "missing.json"))


def test_the_report_uri_of_a_broken_spec_is_found_if_present():
    assert report_uri_of(GOOD) == "file:///tmp/out/reports/"
    assert report_uri_of({"io": {"report_uri": ""}}) is None
    assert report_uri_of({"io": "x"}) is None
    assert report_uri_of(None) is None


@pytest.mark.parametrize(("uri", "path"), [
    ("file:///data/out/", Path("/data/out")),
    ("file://localhost/data/out", Path("/data/out")),
    ("file:///data/with%20space/x.nc4", Path("/data/with space/x.nc4")),
    ("/plain/path", Path("/plain/path")),
    ("relative/path", Path("relative/path")),
])
def test_file_uris_and_plain_paths_become_paths(uri, path):
    assert path_from_uri(uri) == path


def test_a_file_uri_on_another_host_is_refused():
    with pytest.raises(TransportError, match="another host"):
        path_from_uri("file://server/data")


def test_schemes_are_told_apart():
    assert scheme_of("s3://bucket/key") == "s3"
    assert scheme_of("FILE:///x") == "file"
    assert scheme_of("/x") == "file"


def test_an_unknown_scheme_is_refused_clearly():
    for call in (lambda: open_store("gs://b/out/"), lambda: read_bytes("gs://b/spec.json"),
                 lambda: fetch("gs://b/r.nc4", Path("/tmp/x"))):
        with pytest.raises(TransportError, match="unsupported location scheme gs://"):
            call()


def test_a_file_store_puts_files_and_documents_under_keys(tmp_path):
    store = open_store((tmp_path / "out").as_uri() + "/")
    assert isinstance(store, FileStore)
    source = tmp_path / "a.nc4"
    source.write_bytes(b"data")
    store.put(source, "Restarts/GEOSChem.Restart.20190103_0000z.nc4")
    store.put_bytes(b'{"x": 1}', "reports/progress.json")

    assert (tmp_path / "out" / "Restarts" / "GEOSChem.Restart.20190103_0000z.nc4").read_bytes() == b"data"
    assert (tmp_path / "out" / "reports" / "progress.json").read_bytes() == b'{"x": 1}'
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")) == []
    assert store.uri_of("reports/progress.json").startswith("file:///")


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../outside", "a/../../b"])
def test_a_file_store_refuses_keys_that_escape_it(tmp_path, key):
    with pytest.raises(TransportError, match="bad key"):
        FileStore(tmp_path).put_bytes(b"x", key)


def test_a_failed_put_leaves_no_temporary_file(tmp_path):
    store = FileStore(tmp_path / "out")
    with pytest.raises(TransportError):
        store.put(tmp_path / "does-not-exist", "x.nc4")
    assert list((tmp_path / "out").iterdir()) == []


def test_fetch_copies_a_file_and_reports_a_missing_one(tmp_path):
    source = tmp_path / "r.nc4"
    source.write_bytes(b"r")
    fetch(source.as_uri(), tmp_path / "run" / "Restarts" / "x.nc4")
    assert (tmp_path / "run" / "Restarts" / "x.nc4").read_bytes() == b"r"
    with pytest.raises(TransportError, match="file not found"):
        fetch((tmp_path / "nope").as_uri(), tmp_path / "y")
