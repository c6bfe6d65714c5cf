"""Indexing a simulation's output files: what each holds, and cheap per-time-step summaries.

`outputs_index` describes every output file a job reported (metadata only: collection, kind,
grid, times, variables with units and dims, size) and, for diagnostics, computes area-weighted
means of each species over the globe (and GCR_RESULTS_SUMMARY_REGIONS) at the surface and near
500 and 200 hPa for every time step, so a time series needs no full reads later. Safe to run
again: rows are keyed by (simulation, path) and replaced. A file that cannot be read is recorded
with the reason, not skipped silently.
"""

from __future__ import annotations

import logging
from datetime import timezone as dt_timezone

import numpy as np
from django.conf import settings
from django.db import transaction

from results import analysis, readers
from results.files import OutputMissing, local_path
from results.models import ResultFile, SeriesSummary
from simulations import catalog
from simulations.models import Job, Simulation

log = logging.getLogger(__name__)
SUMMARY_PRESSURES_HPA = (500.0, 200.0)  # besides the surface


def _aware(when):
    return when.replace(tzinfo=dt_timezone.utc) if when else None


def _summary_levels(pressure: np.ndarray) -> list[int]:
    """The surface, then the levels nearest each of SUMMARY_PRESSURES_HPA (1-based, from the surface)."""
    levels = [1]
    for target in SUMMARY_PRESSURES_HPA:
        level = int(np.argmin(np.abs(pressure - target))) + 1
        if level not in levels:
            levels.append(level)
    return levels


def summary_regions() -> dict[str, analysis.Region]:
    """The globe and the configured region codes (their catalog boxes)."""
    regions = {"global": analysis.Region.globe()}
    for code in settings.RESULTS_SUMMARY_REGIONS:
        box = catalog.region_any_box(code)
        if box is None:
            log.warning("GCR_RESULTS_SUMMARY_REGIONS names %s, which has no box in the catalog; skipped", code)
            continue
        west, east, south, north = box
        regions[code] = analysis.Region.box(west=west, east=east, south=south, north=north)
    return regions


def _masks(geometry: readers.Geometry, regions: dict) -> dict[str, np.ndarray | None]:
    """Each region's cells in this file; a region the file's (nested) domain does not reach is left out."""
    masks = {}
    for code, region in regions.items():
        if region.kind == "globe":
            masks[code] = None
            continue
        try:
            masks[code] = analysis.region_cells(geometry, region).mask
        except analysis.AnalysisError:
            continue
    return masks


def _means(series: np.ndarray, area: np.ndarray, mask) -> list[float | None]:
    """Area-weighted mean of each time step (NaN-aware); None where nothing is valid."""
    means = np.atleast_1d(analysis.area_mean(series, area, mask))
    return [None if np.isnan(m) else float(m) for m in means]


def _summaries(reader: readers.Reader, row: ResultFile) -> list[SeriesSummary]:
    info = reader.info
    if info.kind not in ("diagnostic", "hemco") or not info.times:
        return []
    masks = _masks(reader.geometry, summary_regions())
    area = reader.geometry.area
    rows = []
    for var in info.variables:
        if var.species is None or not var.dims or var.dims[0] != "time":
            continue
        levels = _summary_levels(reader.pressure_mid(var.levels)) if var.levels else [None]
        for level in levels:
            series = reader.level_series(var.name, level=level)
            pressure = float(reader.pressure_mid(var.levels)[level - 1]) if level else None
            for code, mask in masks.items():
                rows.append(SeriesSummary(file=row, variable=var.name, region=code, level=level or 0,
                                          pressure_hpa=pressure, units=var.units, values=_means(series, area, mask)))
    return rows


def file_index(*, sim: Simulation, path: str, job: Job | None = None) -> ResultFile:
    """Describe one output file (and summarise it); record the reason if it cannot be read."""
    fields = {"job": job, "error": ""}
    summaries = []
    try:
        local = local_path(sim, path)
        with readers.Reader(local) as reader:
            info = reader.info
            fields.update(
                collection=info.collection, kind=info.kind, model=info.model, grid=info.grid.as_dict(),
                grid_label=info.grid.label, times=[t.isoformat() for t in info.times],
                time_start=_aware(info.times[0]) if info.times else None,
                time_end=_aware(info.times[-1]) if info.times else None, levels=info.levels,
                top_first=info.top_first, variables=[v.as_dict() for v in info.variables],
                size_bytes=info.size_bytes, demo=info.demo)
            row = ResultFile(simulation=sim, path=path, **fields)
            summaries = _summaries(reader, row)
    except (readers.ReaderError, OutputMissing) as exc:
        collection, kind = readers.name_kind(path.rsplit("/", 1)[-1])
        fields.update(collection=collection, kind=kind, error=str(exc))
    with transaction.atomic():
        row, _ = ResultFile.objects.update_or_create(simulation=sim, path=path, defaults=fields)
        row.summaries.all().delete()
        for summary in summaries:
            summary.file = row
        SeriesSummary.objects.bulk_create(summaries)
    return row


def outputs_index(*, job_id: int) -> list[ResultFile]:
    """Index every output file a job reported in its metrics.json."""
    job = Job.objects.select_related("simulation").filter(id=job_id).first()
    if job is None:
        return []
    paths = [p for p in (job.metrics or {}).get("outputs") or [] if p.endswith((".nc", ".nc4"))]
    return [file_index(sim=job.simulation, path=path, job=job) for path in paths]
