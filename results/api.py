"""The API's results endpoints: the same answers as the results pages, as JSON (the numbers beside
each figure, not its Bokeh document), and the same downloads.

GET /api/v1/simulations/<id>/results/files: the indexed output files and what they hold.
GET .../results/map?file=&variable=&time=&level=, .../zonal?file=&variable=&time=,
    .../profile?file=&variable=&time=&region=globe|point|box|<code>[&lat=&lon=|&box=W,E,S,N],
    .../timeseries?collection=&variable=&level=&region=...: the view's numbers.
GET /api/v1/results/compare?ref=&dev=&collection=&variable=&time=&level=: Ref against Dev.
GET .../results/export.csv?of=slice|series&... and .../results/export.nc?file=&variable=&time=&box=:
    the downloads.

The parameters are the pages'; results/answers.py parses them and answers (one code path). Errors are
`{"errors": [{"field", "message"}]}`: 400 for a parameter or what the data cannot answer, 404 for a
simulation the caller cannot see or a file that is not an indexed, readable output of it.
"""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from costs.api import ErrorsSerializer
from results import answers, selectors, views
from simulations.config import FieldError
from simulations.models import Simulation


def problem_response(exc: Exception) -> Response:
    status, field, message = answers.problem(exc)
    return Response(ErrorsSerializer({"errors": [FieldError(field, message)]}).data, status=status)


class _SimulationApi(APIView):
    """An endpoint about one simulation the caller can see (404 otherwise, before any parameter)."""

    def simulation(self, pk) -> Simulation:
        return get_object_or_404(Simulation.objects.visible_to(self.request.user), pk=pk)

    def handle_exception(self, exc):
        if isinstance(exc, answers.ANSWERABLE):
            return problem_response(exc)
        response = super().handle_exception(exc)
        if response.status_code == 404 and isinstance(response.data, dict) and "detail" in response.data:
            response.data = ErrorsSerializer({"errors": [FieldError("", "no such simulation")]}).data
        return response


def _floats(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.FloatField(allow_null=True), **kwargs)


class GridSerializer(serializers.Serializer):
    kind = serializers.CharField()
    resolution = serializers.CharField()
    shape = serializers.ListField(child=serializers.IntegerField())
    nested = serializers.BooleanField()
    lat_range = _floats(allow_null=True)
    lon_range = _floats(allow_null=True)
    cs_res = serializers.IntegerField(allow_null=True)
    stretch = serializers.DictField(allow_null=True)
    label = serializers.CharField()


class ResultFilesApi(_SimulationApi):
    """200: every indexed output file (readable or not, with the reason) in collection and time order."""

    class OutputSerializer(serializers.Serializer):
        class FileSerializer(serializers.Serializer):
            class VariableSerializer(serializers.Serializer):
                name = serializers.CharField()
                long_name = serializers.CharField(allow_blank=True)
                units = serializers.CharField(allow_blank=True)
                dims = serializers.ListField(child=serializers.CharField())
                shape = serializers.ListField(child=serializers.IntegerField())
                species = serializers.CharField(allow_null=True)
                levels = serializers.IntegerField(allow_null=True)

            path = serializers.CharField()
            name = serializers.CharField()
            collection = serializers.CharField()
            kind = serializers.CharField()
            model = serializers.CharField(allow_blank=True)
            grid = serializers.DictField(help_text="kind, resolution, shape, nested, lat_range, lon_range, cs_res, "
                                                   "stretch, label ({} when the file could not be read)")
            times = serializers.ListField(child=serializers.CharField())
            time_start = serializers.DateTimeField(allow_null=True)
            time_end = serializers.DateTimeField(allow_null=True)
            levels = serializers.IntegerField(allow_null=True)
            top_first = serializers.BooleanField()
            variables = VariableSerializer(many=True)
            size_bytes = serializers.IntegerField()
            demo = serializers.BooleanField(help_text="written by the demo model, not GEOS-Chem")
            error = serializers.CharField(allow_blank=True, help_text="why it could not be read (empty: it was)")
            download = serializers.SerializerMethodField(help_text="the whole file")

            def get_download(self, row) -> str:
                request, sim = self.context["request"], self.context["simulation"]
                return request.build_absolute_uri(reverse("simulations:file", args=[sim.id, row.path]))

        simulation = serializers.UUIDField()
        files = FileSerializer(many=True)

    def get(self, request, pk):
        sim = self.simulation(pk)
        rows = [row for rows in selectors.collections(sim).values() for row in rows]
        context = {"request": request, "simulation": sim}
        return Response(self.OutputSerializer({"simulation": sim.id, "files": rows}, context=context).data)


class FieldBaseSerializer(serializers.Serializer):
    file = serializers.CharField(source="row.path")
    time_index = serializers.IntegerField(source="time")
    variable = serializers.CharField(source="figure.data.variable")
    units = serializers.CharField(source="figure.data.units", allow_blank=True)
    time = serializers.CharField(source="figure.data.time", allow_null=True)
    demo = serializers.BooleanField(source="figure.data.demo")


class MapApi(_SimulationApi):
    """200: the map's numbers: area-weighted mean, min and max in display units, the grid and the
    resolution it is displayed at (reduced to screen size for large grids)."""

    class OutputSerializer(FieldBaseSerializer):
        species = serializers.CharField(source="figure.data.species", allow_null=True)
        long_name = serializers.CharField(source="figure.data.long_name", allow_blank=True)
        file_units = serializers.CharField(source="figure.data.file_units", allow_blank=True)
        level = serializers.IntegerField(source="figure.data.level", allow_null=True)
        pressure_hpa = serializers.FloatField(source="figure.data.pressure_hpa", allow_null=True)
        grid = GridSerializer(source="figure.data.grid")
        displayed_grid = serializers.CharField(source="figure.data.displayed_grid")
        displayed_shape = serializers.ListField(source="figure.data.displayed_shape",
                                                child=serializers.IntegerField())
        mean = serializers.FloatField(source="figure.data.mean", allow_null=True)
        min = serializers.FloatField(source="figure.data.min", allow_null=True)
        max = serializers.FloatField(source="figure.data.max", allow_null=True)

    def get(self, request, pk):
        answer = answers.field_answer(self.simulation(pk), "map", request.query_params)
        return Response(self.OutputSerializer(answer).data)


class ZonalApi(_SimulationApi):
    """200: the zonal mean, `values[level][latitude]` (surface first) at `lat` and `pressure_hpa`."""

    class OutputSerializer(FieldBaseSerializer):
        where = serializers.CharField(source="figure.data.where")
        lat = _floats(source="figure.data.lat")
        pressure_hpa = _floats(source="figure.data.pressure_hpa")
        values = serializers.ListField(source="figure.data.values", child=_floats())

    def get(self, request, pk):
        answer = answers.field_answer(self.simulation(pk), "zonal", request.query_params)
        return Response(self.OutputSerializer(answer).data)


class ProfileApi(_SimulationApi):
    """200: the vertical profile over the region, `values` at `pressure_hpa` (surface first)."""

    class OutputSerializer(FieldBaseSerializer):
        where = serializers.CharField(source="figure.data.where")
        pressure_hpa = _floats(source="figure.data.pressure_hpa")
        values = _floats(source="figure.data.values")

    def get(self, request, pk):
        answer = answers.field_answer(self.simulation(pk), "profile", request.query_params)
        return Response(self.OutputSerializer(answer).data)


class TimeSeriesApi(_SimulationApi):
    """200: one mean per time step across the collection's files; `source` says whether they came from
    the index's precomputed summaries ("summary") or were read from the files ("files")."""

    class OutputSerializer(serializers.Serializer):
        collection = serializers.CharField(source="request.collection")
        files = serializers.SerializerMethodField(help_text="how many files the series runs across")
        source = serializers.CharField()
        variable = serializers.CharField(source="figure.data.variable")
        units = serializers.CharField(source="figure.data.units", allow_blank=True)
        file_units = serializers.CharField(source="figure.data.file_units", allow_blank=True)
        where = serializers.CharField(source="figure.data.where")
        level = serializers.IntegerField(source="figure.data.level", allow_null=True)
        weighting = serializers.CharField(source="figure.data.weighting")
        times = serializers.ListField(source="figure.data.times", child=serializers.CharField())
        values = _floats(source="figure.data.values")
        demo = serializers.BooleanField(source="figure.data.demo")

        def get_files(self, answer) -> int:
            return len(answer.request.files)

    def get(self, request, pk):
        answer = answers.series_answer(self.simulation(pk), request.query_params)
        return Response(self.OutputSerializer(answer).data)


class CompareApi(APIView):
    """200: Ref against Dev (both simulations the caller can see, on the same grid): the files and time
    steps compared and the statistics of the full-resolution fields."""

    class OutputSerializer(serializers.Serializer):
        class SideSerializer(serializers.Serializer):
            simulation = serializers.UUIDField(source="sim.id")
            name = serializers.CharField(source="sim.name")
            file = serializers.CharField(source="step.file.path")
            time_index = serializers.IntegerField(source="step.index")
            time = serializers.CharField(source="step.time", allow_null=True)

        class StatisticsSerializer(serializers.Serializer):
            ref_mean = serializers.FloatField(allow_null=True)
            dev_mean = serializers.FloatField(allow_null=True)
            mean_bias = serializers.FloatField(allow_null=True)
            normalized_mean_bias = serializers.FloatField(allow_null=True)
            rmse = serializers.FloatField(allow_null=True)
            correlation = serializers.FloatField(allow_null=True)
            n = serializers.IntegerField()

        ref = SideSerializer()
        dev = SideSerializer()
        collection = serializers.CharField()
        variable = serializers.CharField(source="figure.data.variable")
        units = serializers.CharField(source="figure.data.units", allow_blank=True)
        time = serializers.IntegerField(help_text="Ref's time step, counted across its collection's files")
        level = serializers.IntegerField(allow_null=True)
        grid = GridSerializer(source="figure.data.grid")
        statistics = StatisticsSerializer(source="figure.data.statistics")
        note = serializers.CharField(allow_blank=True)
        demo = serializers.BooleanField(source="figure.data.demo")

    def handle_exception(self, exc):
        if isinstance(exc, answers.ANSWERABLE):
            return problem_response(exc)
        return super().handle_exception(exc)

    def get(self, request):
        answer = answers.comparison_answer(request.user, request.query_params)
        data = {"ref": {"sim": answer.ref, "step": answer.ref_step},
                "dev": {"sim": answer.dev, "step": answer.dev_step}, "collection": answer.collection,
                "figure": answer.figure, "time": answer.time, "level": answer.level, "note": answer.note}
        return Response(self.OutputSerializer(data).data)


class ExportCsvApi(_SimulationApi):
    """200 text/csv: `of=slice` (file, variable, time, level) or `of=series` (the time series' parameters)."""

    def get(self, request, pk):
        name, text = answers.csv_answer(self.simulation(pk), request.query_params)
        return views.csv_response(name, text)


class ExportNetcdfApi(_SimulationApi):
    """200 application/x-netcdf: a subset of `file`: `variable` (repeated or comma-separated), `time`
    indices (none: all) and an optional `box` W,E,S,N (lat-lon grids)."""

    def get(self, request, pk):
        return views.netcdf_response(self.simulation(pk), request.query_params)
