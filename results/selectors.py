"""Reads for the results views: a simulation's indexed files, and time series from summaries.

The caller has already found the simulation through `Simulation.objects.visible_to(user)`; these
functions only ever look inside that one simulation's files.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from results.files import OutputMissing, local_path
from results.models import ResultFile, SeriesSummary
from simulations.models import Simulation


def collections(sim: Simulation) -> "OrderedDict[str, list[ResultFile]]":
    """The simulation's indexed files by collection (diagnostics first, then restarts), in time order."""
    rows = ResultFile.objects.filter(simulation=sim).order_by("kind", "collection", "time_start", "path")
    grouped: OrderedDict[str, list[ResultFile]] = OrderedDict()
    for row in sorted(rows, key=lambda r: (r.kind != "diagnostic", r.kind, r.collection)):
        grouped.setdefault(row.collection, []).append(row)
    return grouped


def result_file(sim: Simulation, path: str) -> ResultFile:
    """An indexed, readable file of this simulation; OutputMissing (with the reason) otherwise."""
    row = ResultFile.objects.filter(simulation=sim, path=path).first()
    if row is None:
        raise OutputMissing(f"{path!r} is not an indexed output file of this simulation")
    if row.error:
        raise OutputMissing(f"{row.name} could not be read: {row.error}")
    return row


def file_path(sim: Simulation, row: ResultFile):
    """The local path to read `row` from (a cached copy when the outputs are on S3)."""
    return local_path(sim, row.path)


def collection_files(sim: Simulation, collection: str) -> list[ResultFile]:
    """A collection's readable files in time order: what a time series runs across."""
    return list(ResultFile.objects.readable().filter(simulation=sim, collection=collection)
                .order_by("time_start", "path"))


def summary_series(sim: Simulation, collection: str, variable: str, *, region: str,
                   level: int) -> tuple[list[datetime], list[float | None], str] | None:
    """(times, means, units) of a precomputed summary across a collection's files, or None when the
    index has no summary for that variable, region and level (the caller then reads the files).
    Two queries whatever the number of files."""
    files = collection_files(sim, collection)
    if not files:
        return None
    names = {var["name"] for f in files for var in f.variables if var["name"] == variable or var.get("species") == variable}
    summaries = {s.file_id: s for s in SeriesSummary.objects.filter(file__in=files, variable__in=names, region=region,
                                                                     level=level)}
    if len(summaries) != len(files):
        return None
    times, values = [], []
    for f in files:
        times.extend(datetime.fromisoformat(t) for t in f.times)
        values.extend(summaries[f.id].values)
    return times, values, next(iter(summaries.values())).units
