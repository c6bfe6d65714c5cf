"""What the results pages compute from model output (pure: numpy only, no Django, no ORM).

Everything here takes the arrays and dataclasses of `results.readers` (a `Field`, a column of
shape (levels, *horizontal) surface first, a series of shape (times, *horizontal), a `Geometry`)
and returns small dataclasses, and works alike on lat-lon grids (global and nested) and on
GCHP's cubed sphere, whose horizontal shape is (6, N, N):

- `Region` and `region_cells`: the globe, the cell holding a point, or the cells of a box;
- `display_units`: mol mol-1 as ppmv, ppbv or pptv, chosen from the values' magnitude;
- `horizontal_slice`, `area_mean`, `zonal_mean`, `profile`, `time_series`: the views' numbers,
  in display units;
- `difference` and `statistics`: Ref against Dev on one grid (GCPy's six-panel comparison,
  shared/GEOSCHEM.md section 9);
- `for_display`: a field reduced to what a screen can show, before it is sent to the browser;
- `value_range`: colour-scale limits, dynamic or restricted like GCPy's.

Missing values are NaN throughout and are left out of every mean (never counted as zero).
Every refusal is an `AnalysisError`, a subclass of `readers.ReaderError`, so a view that already
turns reader errors into a message shows these too.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from results.cubesphere import unit_vectors
from results.readers import Field, Geometry, GridInfo, ReaderError


class AnalysisError(ReaderError):
    """A request the data cannot answer (a point outside a nested domain, two grids compared...);
    the message says why and what would work."""


# --- Regions ----------------------------------------------------------------------------------------

_EPS = 1e-9  # degrees: a cell centre on a box's edge counts as inside despite rounding


def _lat_text(lat: float) -> str:
    return f"{abs(lat):.6g}{'N' if lat >= 0 else 'S'}"


def _lon_text(lon: float) -> str:
    lon = (lon + 180.0) % 360.0 - 180.0
    return f"{abs(lon):.6g}{'E' if lon >= 0 or lon == -180 else 'W'}"


@dataclass(frozen=True)
class Region:
    """Where to average: the globe (or the whole of a nested domain), a point, or a box.

    A point is the one cell that contains it (lat-lon) or whose centre is nearest by great-circle
    distance (cubed sphere). A box holds the cells whose centres fall inside it, edges included;
    longitudes run east from `west` to `east`, so west > east crosses the date line
    (west=170, east=-170 is 20 degrees wide) and west=-180, east=180 is the whole circle.
    Build one with `Region.globe()`, `Region.point(lat, lon)` or `Region.box(west=, east=, south=,
    north=)`."""

    kind: str = "globe"  # "globe" | "point" | "box"
    lat: float | None = None
    lon: float | None = None
    west: float | None = None
    east: float | None = None
    south: float | None = None
    north: float | None = None

    def __post_init__(self):
        if self.kind == "globe":
            return
        if self.kind == "point":
            if self.lat is None or self.lon is None or not -90 <= self.lat <= 90 or not math.isfinite(self.lon):
                raise AnalysisError(f"a point needs a latitude in -90..90 and a longitude, not {self.lat}, {self.lon}")
            return
        if self.kind == "box":
            if None in (self.west, self.east, self.south, self.north) or not (
                    math.isfinite(self.west) and math.isfinite(self.east)):
                raise AnalysisError("a box needs west, east, south and north")
            if not -90 <= self.south < self.north <= 90:
                raise AnalysisError(f"a box needs -90 <= south < north <= 90, not south {self.south:g}, "
                                    f"north {self.north:g}")
            if self.width == 0:
                raise AnalysisError(f"a box from lon {self.west:g} to {self.east:g} has no width")
            return
        raise AnalysisError(f"unknown region kind {self.kind!r}: globe, point or box")

    @classmethod
    def globe(cls) -> "Region":
        return cls("globe")

    @classmethod
    def point(cls, lat: float, lon: float) -> "Region":
        return cls("point", lat=float(lat), lon=float(lon))

    @classmethod
    def box(cls, *, west: float, east: float, south: float, north: float) -> "Region":
        return cls("box", west=float(west), east=float(east), south=float(south), north=float(north))

    @property
    def width(self) -> float:
        """A box's extent in longitude (degrees, east from `west`); 360 for the whole circle."""
        width = (self.east - self.west) % 360.0
        return 360.0 if width == 0 and self.east != self.west else width

    @property
    def label(self) -> str:
        if self.kind == "globe":
            return "the globe"
        if self.kind == "point":
            return f"{_lat_text(self.lat)} {_lon_text(self.lon)}"
        crossing = " (across the date line)" if self.width < 360 and self._crosses_date_line() else ""
        lon = "all longitudes" if self.width == 360 else f"lon {_lon_text(self.west)} to {_lon_text(self.east)}"
        return f"{lon}{crossing}, lat {_lat_text(self.south)} to {_lat_text(self.north)}"

    def _crosses_date_line(self) -> bool:
        west = (self.west + 180.0) % 360.0 - 180.0
        return west + self.width > 180.0

    def contains_lon(self, lon: np.ndarray) -> np.ndarray:
        """Whether longitudes (any convention) lie east of `west` by no more than the box's width."""
        return ((np.asarray(lon) - self.west + _EPS) % 360.0) <= self.width + 2 * _EPS


@dataclass
class RegionCells:
    """The cells of a region on one grid: a boolean mask of the horizontal shape, how many, and
    a sentence saying where they are (for a chart's title)."""

    mask: np.ndarray
    count: int
    where: str


def region_cells(geometry: Geometry, region: Region) -> RegionCells:
    """The cells of `region` on `geometry`'s grid; an AnalysisError if there are none (a point or
    box outside a nested domain, or a box narrower than a cell that holds no cell centre)."""
    grid = geometry.grid
    if region.kind == "globe":
        mask = np.ones(geometry.area.shape, dtype=bool)
        where = f"the whole nested domain ({grid.label})" if grid.nested else "the globe"
        return RegionCells(mask, int(mask.sum()), where)
    if region.kind == "point":
        return _point_cell(geometry, region)
    lat, lon = geometry.centres()
    mask = (lat >= region.south - _EPS) & (lat <= region.north + _EPS) & region.contains_lon(lon)
    count = int(mask.sum())
    if count == 0:
        if grid.nested and not _box_meets_domain(region, grid):
            raise AnalysisError(f"the box {region.label} lies outside the nested domain ({grid.label}): "
                                "choose a box inside it")
        raise AnalysisError(f"the box {region.label} holds no cell centre of the {grid.label} grid: it is "
                            "smaller than a cell there; widen it or choose a point")
    return RegionCells(mask, count, f"{count} cell{'s' if count != 1 else ''} with centres in {region.label}")


def _box_meets_domain(region: Region, grid: GridInfo) -> bool:
    (south, north), (west, east) = grid.lat_range, grid.lon_range
    if region.south > north or region.north < south:
        return False
    # Two arcs of the circle overlap when either starts inside the other.
    return bool(region.contains_lon(west)) or ((region.west - west) % 360.0) <= (east - west)


def _interval(edges: np.ndarray, x: float) -> int | None:
    """The index of the interval of `edges` (ascending or descending) holding x, or None."""
    if edges[0] > edges[-1]:
        index = _interval(edges[::-1], x)
        return None if index is None else edges.size - 2 - index
    if not edges[0] <= x <= edges[-1]:
        return None
    return min(int(np.searchsorted(edges, x, side="right")) - 1, edges.size - 2)


def _point_cell(geometry: Geometry, region: Region) -> RegionCells:
    grid = geometry.grid
    mask = np.zeros(geometry.area.shape, dtype=bool)
    if grid.kind == "latlon":
        lon_edges = geometry.lon_edges
        # Put the longitude into the grid's own 360 degrees (4x5 runs from -182.5, nested boxes anywhere).
        start = min(lon_edges[0], lon_edges[-1])
        lon = start + (region.lon - start) % 360.0
        j, i = _interval(geometry.lat_edges, region.lat), _interval(lon_edges, lon)
        if j is None or i is None:
            domain = "nested domain" if grid.nested else "grid"
            raise AnalysisError(f"the point {region.label} lies outside the {domain} ({grid.label}): "
                                "choose a point inside it")
        mask[j, i] = True
        centre = f"{_lat_text(round(float(geometry.lat[j]), 4))} {_lon_text(round(float(geometry.lon[i]), 4))}"
        return RegionCells(mask, 1, f"the cell containing {region.label} (centred at {centre})")
    # The cube is global: every point has a nearest centre. The largest dot product of unit
    # vectors is the smallest great-circle distance.
    lat, lon = geometry.lats, geometry.lons
    target = unit_vectors(np.array(region.lon), np.array(region.lat))
    index = np.unravel_index(int(np.argmax(unit_vectors(lon, lat) @ target)), lat.shape)
    mask[index] = True
    centre = f"{_lat_text(round(float(lat[index]), 2))} {_lon_text(round(float(lon[index]), 2))}"
    return RegionCells(mask, 1, f"the cell nearest {region.label} (centred at {centre}, face {index[0] + 1})")


# --- Units ------------------------------------------------------------------------------------------

_MIXING_RATIO = re.compile(r"^\s*(mol\s*mol-1|mol\s*/\s*mol|v\s*/\s*v|vol\s*/\s*vol)(\s+dry(\s+air)?)?\s*$", re.I)
# (smallest typical magnitude, factor, label), largest unit first. ppmv only from 10 ppmv, so
# that methane (about 1.9e-6) stays in ppbv as researchers quote it and CO2 and water vapour go to
# ppmv; ppbv from 0.1 ppbv (ozone, CO, NOx over land); pptv down to 0.001 pptv (OH, BrO).
_MIXING_RATIO_UNITS = ((1e-5, 1e6, "ppmv"), (1e-10, 1e9, "ppbv"), (1e-15, 1e12, "pptv"))


def display_units(units: str, values) -> tuple[float, str]:
    """(factor, label) to show `values` given in `units`: multiply by the factor to get the label's
    units.

    Dry (or unqualified) mole fractions, "mol mol-1 dry" as GEOS-Chem writes them, become ppmv,
    ppbv or pptv by the median of the finite, non-zero absolute values (zeros, such as radon over
    the oceans, say nothing about the magnitude): ppmv from 1e-5, ppbv from 1e-10, pptv from
    1e-15. Smaller magnitudes (radon-222 is about 1e-21) keep the file's units, since no named unit
    makes them readable. Without any finite non-zero value, ppbv (GCPy's default). Every other
    unit is returned unchanged with factor 1."""
    if not _MIXING_RATIO.match(units or ""):
        return 1.0, units
    magnitudes = np.abs(np.asarray(values, dtype=float))
    magnitudes = magnitudes[np.isfinite(magnitudes) & (magnitudes > 0)]
    if magnitudes.size == 0:
        return 1e9, "ppbv"
    typical = float(np.median(magnitudes))
    for smallest, factor, label in _MIXING_RATIO_UNITS:
        if typical >= smallest:
            return factor, label
    return 1.0, units


def _converted(field: Field, factor: float, label: str) -> Field:
    return dataclasses.replace(field, values=field.values * factor,
                               variable=dataclasses.replace(field.variable, units=label))


# --- Maps and means ---------------------------------------------------------------------------------

def horizontal_slice(field: Field) -> Field:
    """The field (one level, one time) in display units: a new Field whose `units` is the label."""
    factor, label = display_units(field.units, field.values)
    return _converted(field, factor, label)


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted means along the last axis, leaving out NaN values and non-positive weights; NaN
    where nothing is left."""
    weights = np.broadcast_to(weights, values.shape)
    good = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    weights = np.where(good, weights, 0.0)
    total = weights.sum(axis=-1)
    weighted = np.where(good, values * weights, 0.0).sum(axis=-1)
    return np.divide(weighted, total, out=np.full(np.shape(total), np.nan), where=total > 0)


def area_mean(values, area, mask=None):
    """The area-weighted mean of `values` over the horizontal: values (..., *horizontal) with area
    (*horizontal) in m2 gives shape (...), a float for a single field. NaN values are left out
    (the mean is over the cells that have a value); `mask` (boolean, horizontal shape) keeps only
    its cells. NaN where no cell with a value is left."""
    values, area = np.asarray(values, dtype=float), np.asarray(area, dtype=float)
    if values.shape[values.ndim - area.ndim:] != area.shape:
        raise AnalysisError(f"values of shape {values.shape} do not end with the grid's shape {area.shape}")
    flat = values.reshape(values.shape[:values.ndim - area.ndim] + (-1,))
    weights = area.reshape(-1)
    if mask is not None:
        keep = np.asarray(mask, dtype=bool).reshape(-1)
        flat, weights = flat[..., keep], weights[keep]
    result = _weighted_mean(flat, weights)
    return float(result) if result.ndim == 0 else result


@dataclass
class ZonalMean:
    """Means over longitude: `values` (levels, bands) in `units` at `pressure` (hPa, surface first)
    for latitude bands between `lat_edges` (bands + 1, south to north) centred at `lat`."""

    lat_edges: np.ndarray
    lat: np.ndarray
    pressure: np.ndarray
    values: np.ndarray
    units: str
    where: str


def zonal_mean(column, geometry: Geometry, pressure_hpa, units: str, bins=None) -> ZonalMean:
    """The zonal mean of a column (levels, *horizontal), area-weighted and NaN-aware, in display units.

    Lat-lon grids with `bins=None` average each row of cells along longitude: one band per row.
    On the cubed sphere there are no rows, so cells are binned by the latitude of their centres;
    by default into bands 90/N degrees wide (2N bands from pole to pole), the cube's mean spacing
    (4N cells round the equator), so the zonal mean has about the model's own resolution: C24 gives
    48 bands of 3.75 degrees, close to a 4x5 grid's 46 rows, and every band holds at least four
    centres (no empty bands from C24 to C180). `bins` may also be a number of equal bands or an
    array of band edges (degrees, ascending), for either kind of grid; a band holding no cell with
    a value is NaN. On a nested grid the mean is over the domain's longitudes only (see `where`)."""
    column = np.asarray(column, dtype=float)
    pressure = np.asarray(pressure_hpa, dtype=float)
    grid, horizontal = geometry.grid, geometry.area.shape
    if column.shape[1:] != horizontal or pressure.shape != column.shape[:1]:
        raise AnalysisError(f"a zonal mean needs a column (levels, {', '.join(map(str, horizontal))}) and one "
                            f"pressure per level, not {column.shape} and {pressure.shape}")
    if grid.nested:
        where = f"lon {_lon_text(grid.lon_range[0])} to {_lon_text(grid.lon_range[1])} (the nested domain)"
    else:
        where = "all longitudes"
    if grid.kind == "latlon" and bins is None:
        edges, centres = np.asarray(geometry.lat_edges, float), np.asarray(geometry.lat, float)
        values = _weighted_mean(column, geometry.area)  # along the last axis: longitude
    else:
        edges = _band_edges(grid, bins)
        centres = 0.5 * (edges[:-1] + edges[1:])
        lat, _ = geometry.centres()
        values = _binned_means(column.reshape(column.shape[0], -1), geometry.area.reshape(-1), lat.reshape(-1), edges)
    factor, label = display_units(units, values)
    return ZonalMean(edges, centres, pressure, values * factor, label, where)


def _band_edges(grid: GridInfo, bins) -> np.ndarray:
    if bins is None:  # the cube's default (a lat-lon grid keeps its rows)
        return np.linspace(-90.0, 90.0, 2 * grid.cs_res + 1)
    if np.ndim(bins) == 0:
        if int(bins) < 1:
            raise AnalysisError(f"a zonal mean needs at least one latitude band, not {bins}")
        return np.linspace(-90.0, 90.0, int(bins) + 1)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise AnalysisError("latitude band edges must be at least two increasing numbers")
    return edges


def _binned_means(values: np.ndarray, area: np.ndarray, lat: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Area-weighted means (levels, bands) of values (levels, cells) binned by cell latitude."""
    bands = edges.size - 1
    band = np.searchsorted(edges, lat, side="right") - 1
    band[lat == edges[-1]] = bands - 1  # the last band includes its northern edge (the pole)
    inside = (band >= 0) & (band < bands)
    values, area, band = values[:, inside], area[inside], band[inside]
    good = np.isfinite(values) & np.isfinite(area) & (area > 0)
    weights = np.where(good, area, 0.0)
    # One bincount over (level, band) pairs: vectorised over levels and cells alike.
    index = (np.arange(values.shape[0])[:, None] * bands + band[None, :]).ravel()
    size = values.shape[0] * bands
    total = np.bincount(index, weights=weights.ravel(), minlength=size).reshape(-1, bands)
    weighted = np.bincount(index, weights=np.where(good, values * weights, 0.0).ravel(), minlength=size)
    return np.divide(weighted.reshape(-1, bands), total, out=np.full(total.shape, np.nan), where=total > 0)


@dataclass
class Profile:
    """A vertical profile: `values` (levels) in `units` at `pressure` (hPa), surface first."""

    pressure: np.ndarray
    values: np.ndarray
    units: str
    where: str


def profile(column, geometry: Geometry, pressure_hpa, region: Region, units: str) -> Profile:
    """The area-weighted mean over `region` at each level of a column (levels, *horizontal), in
    display units; NaN cells are left out, and a level with no value in the region is NaN."""
    cells = region_cells(geometry, region)
    values = np.atleast_1d(area_mean(column, geometry.area, cells.mask))
    pressure = np.asarray(pressure_hpa, dtype=float)
    if pressure.shape != values.shape:
        raise AnalysisError(f"{values.size} levels but {pressure.size} pressures")
    factor, label = display_units(units, values)
    return Profile(pressure, values * factor, label, cells.where)


@dataclass
class TimeSeries:
    """`values` (one per time) in `units`: the mean over `where`, weighted by cell area or air mass."""

    times: tuple[datetime, ...]
    values: np.ndarray
    units: str
    where: str
    weighting: str  # "area" | "mass"


def time_series(series, times, geometry: Geometry, region: Region, units: str, mass=None) -> TimeSeries:
    """The mean over `region` of each time step of `series` (times, *horizontal), in display units.

    Area-weighted, or mass-weighted when `mass` is given (e.g. Met_AD, the air mass in kg, at the
    same level): of the series' shape (the mass at each time) or the horizontal shape (one mass
    for all times). Mass weights make the mean of a mixing ratio the mixing ratio of the region's
    air as a whole. NaN cells are left out of each time's mean."""
    series = np.asarray(series, dtype=float)
    times = tuple(times)
    horizontal = geometry.area.shape
    if series.shape[1:] != horizontal or series.shape[0] != len(times):
        raise AnalysisError(f"a time series needs ({len(times)}, {', '.join(map(str, horizontal))}) values, "
                            f"not {series.shape}")
    cells = region_cells(geometry, region)
    keep = cells.mask.reshape(-1)
    flat = series.reshape(series.shape[0], -1)[:, keep]
    if mass is None:
        weights, weighting = geometry.area.reshape(-1)[keep], "area"
    else:
        mass = np.asarray(mass, dtype=float)
        if mass.shape == series.shape:
            weights = mass.reshape(series.shape[0], -1)[:, keep]
        elif mass.shape == horizontal:
            weights = mass.reshape(-1)[keep]
        else:
            raise AnalysisError(f"air mass of shape {mass.shape} fits neither the series {series.shape} nor the "
                                f"grid {horizontal}: read it at the same times and level")
        weighting = "mass"
    values = _weighted_mean(flat, weights)
    factor, label = display_units(units, values)
    return TimeSeries(times, values * factor, label, cells.where, weighting)


# --- Ref against Dev --------------------------------------------------------------------------------

@dataclass
class Statistics:
    """Dev against Ref over the `n` cells where both have a value (weights w, usually area):

    ref_mean = sum(w r) / sum(w), dev_mean likewise;
    mean_bias = sum(w (d - r)) / sum(w) = dev_mean - ref_mean;
    normalized_mean_bias = sum(w (d - r)) / sum(w r), a fraction (x100 for percent);
    rmse = sqrt(sum(w (d - r)^2) / sum(w));
    correlation = the weighted Pearson r, cov(r, d) / (sd(r) sd(d)), NaN if either is constant."""

    ref_mean: float
    dev_mean: float
    mean_bias: float
    normalized_mean_bias: float
    rmse: float
    correlation: float
    n: int


def statistics(ref_values, dev_values, weights=None) -> Statistics:
    """Statistics (see the dataclass for the formulas) of dev_values against ref_values, arrays of
    one shape; `weights` of that shape (areas for a map) or None for equal weights. Cells where
    either value or the weight is missing, or the weight is not positive, are left out; with no cell
    left every statistic is NaN and n is 0."""
    ref, dev = np.asarray(ref_values, dtype=float).ravel(), np.asarray(dev_values, dtype=float).ravel()
    if np.shape(ref_values) != np.shape(dev_values):
        raise AnalysisError(f"Ref {np.shape(ref_values)} and Dev {np.shape(dev_values)} have different shapes")
    w = np.ones_like(ref) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float),
                                                                   np.shape(ref_values)).ravel()
    good = np.isfinite(ref) & np.isfinite(dev) & np.isfinite(w) & (w > 0)
    ref, dev, w = ref[good], dev[good], w[good]
    n = int(good.sum())
    if n == 0:
        return Statistics(*([math.nan] * 6), n=0)
    total = w.sum()
    ref_mean, dev_mean = float((w * ref).sum() / total), float((w * dev).sum() / total)
    diff = dev - ref
    bias_sum = float((w * diff).sum())
    ref_sum = float((w * ref).sum())
    ref_var = float((w * (ref - ref_mean) ** 2).sum() / total)
    dev_var = float((w * (dev - dev_mean) ** 2).sum() / total)
    covariance = float((w * (ref - ref_mean) * (dev - dev_mean)).sum() / total)
    correlation = covariance / (math.sqrt(ref_var) * math.sqrt(dev_var)) if ref_var > 0 and dev_var > 0 else math.nan
    return Statistics(
        ref_mean=ref_mean, dev_mean=dev_mean, mean_bias=bias_sum / float(total),
        normalized_mean_bias=bias_sum / ref_sum if ref_sum != 0 else math.nan,
        rmse=math.sqrt(float((w * diff ** 2).sum() / total)),
        # Rounding can carry |r| a hair past 1 for identical fields.
        correlation=max(-1.0, min(1.0, correlation)) if math.isfinite(correlation) else math.nan, n=n)


@dataclass
class Difference:
    """Dev - Ref on one grid, in the display units both share: `ref` and `dev` converted,
    `absolute` = dev - ref (in `units`), `percent` = 100 (dev - ref) / ref (NaN where ref is 0 or
    either is missing), and the area-weighted `statistics`."""

    ref: Field
    dev: Field
    absolute: np.ndarray
    percent: np.ndarray
    units: str
    statistics: Statistics


def difference(ref: Field, dev: Field) -> Difference:
    """Ref against Dev, two fields on the same grid in the same units (an AnalysisError otherwise:
    differencing across grids needs regridding, which this viewer does not do). One display unit,
    chosen from both fields, so the panels and the difference read alike."""
    ref_grid, dev_grid = ref.geometry.grid, dev.geometry.grid
    if not ref_grid.same_grid(dev_grid):
        names = [ref_grid.label, dev_grid.label]
        if names[0] == names[1]:  # a cube's label is only its size: say which one was reduced for display
            names = [f"{grid.label} ({grid.resolution})" for grid in (ref_grid, dev_grid)]
        raise AnalysisError(f"Ref is {names[0]}, Dev is {names[1]}: compare simulations on the same grid")
    if ref.units.strip() != dev.units.strip():
        raise AnalysisError(f"Ref is in {ref.units!r}, Dev in {dev.units!r}: compare the same quantity")
    factor, label = display_units(ref.units, np.concatenate([ref.values.ravel(), dev.values.ravel()]))
    ref_shown, dev_shown = _converted(ref, factor, label), _converted(dev, factor, label)
    absolute = dev_shown.values - ref_shown.values
    nonzero = ref_shown.values != 0
    percent = np.divide(100.0 * absolute, ref_shown.values, out=np.full(absolute.shape, np.nan),
                        where=nonzero & np.isfinite(absolute))
    return Difference(ref_shown, dev_shown, absolute, percent, label,
                      statistics(ref_shown.values, dev_shown.values, ref.geometry.area))
