"""Indexing a finished job's output files: metadata, summaries, unreadable files, S3 copies."""

import shutil
from datetime import datetime, timezone as dt_timezone

import numpy as np
import pytest
from django.core.management import call_command

from results import files, indexing, readers
from results.models import ResultFile, SeriesSummary
from simulations import services
from simulations.backends.base import JobState
from simulations.models import Job

pytestmark = pytest.mark.django_db
UTC = dt_timezone.utc


def _sim_with_outputs(alice, two_days, tmp_path, run_dir, names):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    out = tmp_path / "outputs" / str(sim.id)
    (out / "Restarts").mkdir(parents=True)
    paths = []
    for name in names:
        source = next(run_dir.rglob(name))
        relative = f"Restarts/{name}" if "Restart" in name else name
        shutil.copy(source, out / relative)
        paths.append(relative)
    when = datetime(2019, 1, 1, tzinfo=UTC)
    job = Job.objects.create(simulation=sim, segment=1, attempt=1, name=f"j-{sim.short_id}", backend="local",
                             backend_id="x", state="SUCCEEDED", spec={}, period_start=when, period_end=when,
                             metrics={"outputs": paths + ["runner-notes.txt"]})
    return sim, job, out


def test_a_jobs_files_are_indexed_from_their_metadata(alice, two_days, tmp_path, demo_classic):
    sim, job, _ = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, [
        "GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.StateMet.20190101_0000z.nc4",
        "GEOSChem.Restart.20190103_0000z.nc4"])
    rows = indexing.outputs_index(job_id=job.id)
    assert [r.path for r in rows] == ["GEOSChem.SpeciesConc.20190101_0000z.nc4",
                                      "GEOSChem.StateMet.20190101_0000z.nc4",
                                      "Restarts/GEOSChem.Restart.20190103_0000z.nc4"]  # not the .txt
    species = ResultFile.objects.get(path="GEOSChem.SpeciesConc.20190101_0000z.nc4")
    assert (species.collection, species.kind, species.model, species.demo, species.error) == (
        "SpeciesConc", "diagnostic", "classic", True, "")
    assert species.grid["resolution"] == "4x5" and species.grid_label == "4x5 global" and species.levels == 72
    assert species.time_start == datetime(2019, 1, 1, 12, tzinfo=UTC) and species.times == ["2019-01-01T12:00:00"]
    assert species.variable("Rn222")["units"] == "mol mol-1 dry"
    assert species.size_bytes > 0 and species.job == job
    met = ResultFile.objects.get(collection="StateMet")
    assert len(met.times) == 4 and met.time_end == datetime(2019, 1, 2, tzinfo=UTC)  # instantaneous, 6-hourly
    restart = ResultFile.objects.get(kind="restart")
    assert not restart.summaries.exists()  # restarts are described, not summarised


def test_summaries_hold_area_weighted_means_at_the_surface_and_two_levels(alice, two_days, tmp_path, demo_classic):
    sim, job, out = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, ["GEOSChem.SpeciesConc.20190102_0000z.nc4"])
    indexing.outputs_index(job_id=job.id)
    rows = SeriesSummary.objects.filter(variable="SpeciesConcVV_Rn222", region="global").order_by("level")
    levels = [r.level for r in rows]
    assert levels[0] == 1 and len(levels) == 3
    assert rows[1].pressure_hpa == pytest.approx(500, abs=30) and rows[2].pressure_hpa == pytest.approx(200, abs=20)
    with readers.Reader(out / "GEOSChem.SpeciesConc.20190102_0000z.nc4") as reader:
        surface = reader.field("Rn222", level=1).values
        area = reader.geometry.area
    assert rows[0].values == [pytest.approx(float((surface * area).sum() / area.sum()), rel=1e-12)]
    assert rows[0].units == "mol mol-1 dry"


def test_regional_summaries_are_made_where_asked(alice, two_days, tmp_path, demo_classic, settings):
    settings.RESULTS_SUMMARY_REGIONS = ["NA", "XX"]
    sim, job, _ = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, ["GEOSChem.SpeciesConc.20190101_0000z.nc4"])
    indexing.outputs_index(job_id=job.id)
    regions = set(SeriesSummary.objects.values_list("region", flat=True))
    assert regions == {"global", "NA"}  # XX has no box: skipped with a warning


def test_a_gchp_file_is_indexed_as_a_cube(alice, two_days, tmp_path, demo_gchp):
    sim, job, _ = _sim_with_outputs(alice, two_days, tmp_path, demo_gchp, [
        "GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.Restart.20190102_0000z.c24.nc4"])
    indexing.outputs_index(job_id=job.id)
    species = ResultFile.objects.get(collection="SpeciesConc")
    assert (species.model, species.grid["kind"], species.grid["cs_res"]) == ("gchp", "cubed-sphere", 24)
    restart = ResultFile.objects.get(kind="restart")
    assert restart.top_first and restart.grid["label"] == "C24"
    assert SeriesSummary.objects.filter(file=species).count() == 2 * 3  # Rn222, Pb210 x three levels


def test_an_unreadable_file_is_recorded_with_the_reason(alice, two_days, tmp_path, demo_classic):
    sim, job, out = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, ["GEOSChem.SpeciesConc.20190101_0000z.nc4"])
    target = out / "GEOSChem.SpeciesConc.20190101_0000z.nc4"
    target.write_bytes(target.read_bytes()[:4000])
    job.metrics = {"outputs": ["GEOSChem.SpeciesConc.20190101_0000z.nc4", "GEOSChem.Missing.20190101_0000z.nc4",
                               "../../etc/passwd.nc4"]}
    job.save()
    rows = {r.path: r for r in indexing.outputs_index(job_id=job.id)}
    assert "truncated" in rows["GEOSChem.SpeciesConc.20190101_0000z.nc4"].error
    assert rows["GEOSChem.SpeciesConc.20190101_0000z.nc4"].collection == "SpeciesConc"
    assert "not among this simulation's outputs" in rows["GEOSChem.Missing.20190101_0000z.nc4"].error
    assert "is not one of this simulation's output files" in rows["../../etc/passwd.nc4"].error
    assert ResultFile.objects.readable().count() == 0


def test_indexing_again_replaces_rows_rather_than_adding(alice, two_days, tmp_path, demo_classic):
    sim, job, _ = _sim_with_outputs(alice, two_days, tmp_path, demo_classic, ["GEOSChem.SpeciesConc.20190101_0000z.nc4"])
    indexing.outputs_index(job_id=job.id)
    counts = (ResultFile.objects.count(), SeriesSummary.objects.count())
    call_command("index_results", str(sim.id))
    assert (ResultFile.objects.count(), SeriesSummary.objects.count()) == counts


def test_a_finished_job_is_indexed_by_the_lifecycle(alice, two_days, tmp_path, demo_classic, fake_backend,
                                                    django_capture_on_commit_callbacks):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulation_submit(simulation_id=sim.id, actor=alice)
    job = sim.jobs.get()
    out = tmp_path / "outputs" / str(sim.id)
    out.mkdir(parents=True)
    shutil.copy(next(demo_classic.rglob("GEOSChem.SpeciesConc.20190101_0000z.nc4")), out)
    state = JobState(job.name, "SUCCEEDED", exit_code=0, metrics={
        "status": "succeeded", "outputs": ["GEOSChem.SpeciesConc.20190101_0000z.nc4"], "restart": "r.nc4"})
    with django_capture_on_commit_callbacks(execute=True):
        services.job_apply_state(job_id=job.id, state=state)
    row = ResultFile.objects.get(simulation=sim)
    assert row.error == "" and row.job == job and row.summaries.count() == 6


def test_files_on_s3_are_read_from_a_local_copy(alice, two_days, tmp_path, demo_classic, settings, aws_credentials):
    import boto3
    from moto import mock_aws

    from simulations import aws

    settings.RESULTS_CACHE_DIR = tmp_path / "cache"
    source = next(demo_classic.rglob("GEOSChem.SpeciesConc.20190101_0000z.nc4"))
    with mock_aws():
        aws.reset_clients()
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="results")
        sim = services.simulation_create(owner=alice, raw_config=two_days)
        sim.output_uri = f"s3://results/runs/{sim.id}/"
        sim.save()
        boto3.client("s3", region_name="us-east-1").upload_file(
            str(source), "results", f"runs/{sim.id}/GEOSChem.SpeciesConc.20190101_0000z.nc4")
        local = files.local_path(sim, "GEOSChem.SpeciesConc.20190101_0000z.nc4")
        assert local.read_bytes() == source.read_bytes()
        assert local.is_relative_to(tmp_path / "cache" / str(sim.id))
        with pytest.raises(files.OutputMissing):
            files.local_path(sim, "GEOSChem.Gone.20190101_0000z.nc4")
        row = indexing.file_index(sim=sim, path="GEOSChem.SpeciesConc.20190101_0000z.nc4")
    aws.reset_clients()
    assert row.error == "" and row.grid["resolution"] == "4x5"
    assert np.isfinite(row.summaries.first().values[0])
