"""The API's cost endpoints. POST /api/v1/estimates: a configuration's estimates on every instance type."""

from django.conf import settings
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from costs.selectors import estimate_request, priced_regions
from simulations.config import FieldError


class ErrorsSerializer(serializers.Serializer):
    """Every problem with a request, each under the configuration key it is about ("" for the whole)."""

    class ErrorSerializer(serializers.Serializer):
        field = serializers.CharField(allow_blank=True)
        message = serializers.CharField()

    errors = ErrorSerializer(many=True)


def error_response(errors: list[FieldError]) -> Response:
    return Response(ErrorsSerializer({"errors": errors}).data, status=status.HTTP_400_BAD_REQUEST)


class RangeSerializer(serializers.Serializer):
    low = serializers.FloatField()
    expected = serializers.FloatField()
    high = serializers.FloatField()


class EstimateApi(APIView):
    """Body: a configuration as JSON (the keys `manage.py estimate` takes); query: `region`
    (default the platform's). 200: the report `manage.py estimate --json` prints; 400: errors."""

    parser_classes = [JSONParser]

    class OutputSerializer(serializers.Serializer):
        class EstimateSerializer(serializers.Serializer):
            class CostSerializer(serializers.Serializer):
                on_demand = RangeSerializer()
                spot = RangeSerializer(allow_null=True, help_text="null: no Spot capacity (the warnings say why)")

            instance_type = serializers.CharField()
            architecture = serializers.CharField()
            cores = serializers.IntegerField()
            nodes = serializers.IntegerField()
            hours = RangeSerializer()
            days_per_day = serializers.FloatField()
            cost_usd = CostSerializer()
            input_gb = serializers.FloatField()
            staging_hours = serializers.FloatField()
            output_gb = serializers.FloatField()
            output_breakdown_gb = serializers.DictField(child=serializers.FloatField())
            output_storage_usd_per_month = serializers.FloatField()
            basis = serializers.CharField()
            warnings = serializers.ListField(child=serializers.CharField())

        class UnrunnableSerializer(serializers.Serializer):
            instance_type = serializers.CharField()
            reason = serializers.CharField()

        class RecommendationSerializer(serializers.Serializer):
            kind = serializers.CharField()
            instance_type = serializers.CharField()
            capacity = serializers.CharField()
            reason = serializers.CharField()

        region = serializers.CharField()
        prices_as_of = serializers.CharField(allow_null=True)
        estimates = EstimateSerializer(many=True)
        unrunnable = UnrunnableSerializer(many=True)
        recommendations = RecommendationSerializer(many=True)
        notes = serializers.ListField(child=serializers.CharField())

    def post(self, request):
        try:
            raw = request.data
        except (ParseError, UnsupportedMediaType) as exc:
            return error_response([FieldError(
                "", f"the body must be a JSON object (Content-Type: application/json): {exc.detail}")])
        region = request.query_params.get("region") or settings.AWS_REGION
        _, report, errors = estimate_request(raw, region=region, regions=priced_regions())
        if errors:
            return error_response(errors)
        return Response(self.OutputSerializer(report.as_dict()).data)
