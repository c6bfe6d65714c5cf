"""Map templates (results/mapplots.py): a grid's frame serialised once and filled with a field's
values gives the map that drawing the field directly gives, and never another grid's or field's."""

import base64
import dataclasses
import gzip
import json

import netCDF4
import numpy as np
import pytest
from bokeh.embed import json_item

from benchmarks import synthetic_files as synthetic
from results import analysis, display, figures, mapplots, plots, plotting, readers
from results.plotting import display_values


def _field(path, name="Rn222", **kw):
    with readers.Reader(path) as reader:
        return reader.field(name, **kw)


def _species_file(run_dir):
    return sorted(run_dir.rglob("GEOSChem.SpeciesConc.*.nc4"))[0]


def _decoded(rep: dict) -> np.ndarray:
    data = rep["array"]["data"]
    raw = gzip.decompress(base64.b64decode(data))
    return np.frombuffer(raw, dtype=rep["dtype"]).reshape(rep["shape"])


def _canonical(item: dict):
    """The document with model ids numbered in order of appearance and every ndarray decoded: two
    documents that BokehJS would render alike compare equal."""
    ids = {}

    def walk(node, key=None):
        if isinstance(node, dict):
            if node.get("type") == "ndarray" and isinstance(node.get("array"), dict):
                return ("ndarray", node["dtype"], tuple(node["shape"]), node["order"], _decoded(node))
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if key in ("id", "root_id") and isinstance(node, str):
            return ids.setdefault(node, f"m{len(ids)}")
        return node

    return walk(item)


def _same(a, b, where="item"):
    if isinstance(a, tuple) and a and a[0] == "ndarray":
        assert isinstance(b, tuple) and a[:4] == b[:4], where
        assert np.array_equal(a[4], b[4], equal_nan=True), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: {sorted(a)} != {sorted(b)}"
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _assert_filled_equals_drawn(field):
    filled = json.loads(plots.map_json(field))
    drawn = json.loads(json.dumps(json_item(plots.map_figure(field))))
    _same(_canonical(filled), _canonical(drawn))
    return filled


def _turned(field, degrees: float):
    """The same cube turned `degrees` east (the values go with their cells)."""
    g = field.geometry
    turned = dataclasses.replace(g, corner_lons=(g.corner_lons + degrees) % 360.0, lons=(g.lons + degrees) % 360.0)
    return dataclasses.replace(field, geometry=turned)


def _date_line_cube(field):
    """C25 turned 50 degrees east: the date line runs near the polar faces' diagonals, through more
    cells than on GCHP's own cube (73 drawn twice against 57), beside the two cells around the poles."""
    return _turned(field, 50.0)


def _drawn_twice(field) -> int:
    g = field.geometry
    return sum(group.cells.size for group in plots.cube_polygons(g.corner_lons, g.corner_lats)) - field.values.size


@pytest.fixture(scope="module")
def c25(tmp_path_factory):
    path = synthetic.write_gchp(tmp_path_factory.mktemp("c25") / "GEOSChem.SpeciesConc.20190701_0000z.nc4", cs=25,
                                levels=47, species=("O3", "CO"))
    return path


@pytest.mark.parametrize("fixture", ["demo_classic", "demo_nested", "demo_gchp"])
def test_a_filled_template_is_the_map_drawn_directly(fixture, request):
    field = _field(_species_file(request.getfixturevalue(fixture)), level=1)
    filled = _assert_filled_equals_drawn(field)
    assert "@@gcr-slot" not in json.dumps(filled)


def test_a_filled_template_is_the_map_drawn_directly_on_a_cube_full_of_date_line_cells(c25):
    field = _field(c25, "O3")
    heavy = _date_line_cube(field)
    assert _drawn_twice(heavy) > _drawn_twice(field)
    _assert_filled_equals_drawn(heavy)


def test_a_filled_template_is_the_map_drawn_directly_on_a_cube_with_its_face_edges_on_the_date_line(demo_gchp):
    field = _turned(_field(_species_file(demo_gchp), level=1), 10.0)  # corners at exactly 180 degrees east
    assert np.isclose(field.geometry.corner_lons, 180.0).any()
    _assert_filled_equals_drawn(field)


def test_a_template_fills_titles_and_units_as_json_strings(demo_classic):
    field = _field(_species_file(demo_classic), level=1)
    title = 'Rn "222" </script> ≈ 1 \\ test'
    units = 'pptv <b>'
    filled = json.loads(plots.map_json(dataclasses.replace(
        field, variable=dataclasses.replace(field.variable, units=units)), title=title))
    texts = json.dumps(filled)
    assert json.dumps(title)[1:-1] in texts and "@@gcr-slot" not in texts
    models = {i: m.get("attributes", {}) for i, m in plotting.defined_models(filled).items()}
    assert any(m.get("text") == title for m in models.values())
    assert any(m.get("title") == units for m in models.values())  # the colour bar's
    assert any(m.get("tooltips", [[None, None]])[-1][1] == "@image{%.4g} pptv <b>" for m in models.values())


def _columns(item: dict) -> list[np.ndarray]:
    """Every decoded data column holding map values (images or the patches' values)."""
    out = []
    for model in plotting.defined_models(item).values():
        for name, value in model.get("attributes", {}).get("data", {}).get("entries", []):
            if name in ("image", "value"):
                out += [_decoded(rep) for rep in (value if isinstance(value, list) else [value])]
    return out


def _mapper(item: dict) -> tuple[float, float]:
    (mapper,) = [m["attributes"] for m in plotting.defined_models(item).values() if m["name"] == "LinearColorMapper"]
    return mapper["low"], mapper["high"]


def test_two_fields_on_one_grid_share_the_frame_but_not_the_values(c25):
    mapplots.clear_map_templates()
    o3, co = _field(c25, "O3"), _field(c25, "CO")
    first, second = json.loads(plots.map_json(o3)), json.loads(plots.map_json(co))
    assert len(mapplots._TEMPLATES) == 1  # one grid, one frame
    a, b = _columns(first), _columns(second)
    assert len(a) == len(b) and not all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))
    assert _mapper(first) != _mapper(second)
    flat = np.concatenate(b)
    assert np.isin(display_values(co.values).ravel(), flat).all()  # CO's own values, not O3's
    assert set(np.unique(flat)) == set(np.unique(display_values(co.values)))


def test_different_grids_get_different_frames(demo_classic, demo_nested, c25):
    mapplots.clear_map_templates()
    fields = [_field(_species_file(demo_classic), level=1), _field(_species_file(demo_nested), level=1),
              _field(c25, "O3"), _date_line_cube(_field(c25, "O3"))]
    templates = [mapplots.cached_map_template(f.geometry, demo=f.demo) for f in fields]
    assert len({id(t) for t in templates}) == 4 and len(mapplots._TEMPLATES) == 4
    assert len({t.document.parts for t in templates}) == 4
    # The same grid coordinates with another demo flag (the subtitle) or width is another frame too.
    assert mapplots.cached_map_template(fields[0].geometry, demo=not fields[0].demo) is not templates[0]
    assert mapplots.cached_map_template(fields[0].geometry, demo=fields[0].demo, width=400) is not templates[0]
    assert mapplots.cached_map_template(fields[0].geometry, demo=fields[0].demo) is templates[0]


def test_a_grid_whose_coordinates_sum_alike_is_not_taken_for_the_other(demo_classic):
    """The per-grid caches' fingerprint sums the coordinates; a frame is keyed by their bytes too."""
    field = _field(_species_file(demo_classic), level=1)
    edges = field.geometry.lon_edges.copy()
    edges[10] += 1.0
    edges[20] -= 1.0  # the same sum, shape and resolution: another grid
    other = dataclasses.replace(field.geometry, lon_edges=edges)
    assert readers.geometry_fingerprint(other) == readers.geometry_fingerprint(field.geometry)
    assert mapplots.cached_map_template(other) is not mapplots.cached_map_template(field.geometry)
    assert mapplots.cached_map_template(other).document != mapplots.cached_map_template(field.geometry).document


def test_values_of_the_wrong_shape_are_refused(demo_classic):
    field = _field(_species_file(demo_classic), level=1)
    template = mapplots.cached_map_template(field.geometry, demo=field.demo)
    with pytest.raises(ValueError, match="do not fit"):
        template.fill(np.zeros((3, 4)), title="t", units="u")


# --- the map figure's numbers, converted after the reduction --------------------------------------------

def _old_numbers(field):
    """map_figure's numbers as they were computed before the templates: converted first, then reduced."""
    shown = analysis.horizontal_slice(field)
    reduced = display.for_display(shown)
    v = shown.values
    return {"units": shown.units, "mean": analysis.area_mean(v, shown.geometry.area),
            "min": float(np.nanmin(v)), "max": float(np.nanmax(v)), "displayed_shape": list(reduced.values.shape),
            "range": plots.data_range(reduced.values)}


def _check_numbers(path, name):
    field = _field(path, name)
    figure = figures.map_figure(path, name, use_cache=False)
    old, data = _old_numbers(field), figure.data
    assert data["units"] == old["units"] and data["displayed_shape"] == old["displayed_shape"]
    assert (data["min"], data["max"]) == (old["min"], old["max"])  # the same factor on the same extremes: exact
    assert data["mean"] == pytest.approx(old["mean"], rel=1e-12)
    low, high = _mapper(json.loads(figure.item))
    assert (low, high) == pytest.approx(old["range"], rel=1e-12)
    return field, data


def test_a_reduced_map_keeps_its_numbers(tmp_path):
    path = synthetic.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", cs=50, levels=47,
                                species=("O3",))
    field, data = _check_numbers(path, "O3")
    assert data["displayed_shape"] == [6, 25, 25] and data["units"] == "ppbv"


def test_a_reduced_map_with_missing_values_keeps_its_numbers(tmp_path):
    path = synthetic.write_gchp(tmp_path / "GEOSChem.SpeciesConc.20190701_0000z.nc4", cs=50, levels=47,
                                species=("O3",))
    with netCDF4.Dataset(path, "a") as ds:
        ds.variables["SpeciesConcVV_O3"][0, 0, 2, :30, :45] = np.ma.masked  # missing: the reduced mean would differ
    field, data = _check_numbers(path, "O3")
    assert np.isnan(field.values).sum() == 30 * 45


def test_a_small_map_keeps_its_numbers(demo_classic):
    _check_numbers(_species_file(demo_classic), "Rn222")
