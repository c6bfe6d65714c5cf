"""The API's cost endpoints. POST /api/v1/estimates: a configuration's estimates on every instance type.
GET /api/v1/costs: what the caller may see was spent in a month. GET /api/v1/budgets: the
caller's budgets and where they stand this month.

Money that was spent (costs, budgets) is a decimal string of US dollars, exactly as recorded
("0.012345"); estimates are floats, as the estimator makes them.
"""

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from costs import spending
from costs.models import month_of
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


def _usd(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=6, **kwargs)


class MonthSpendSerializer(serializers.Serializer):
    month = serializers.DateField(format="%Y-%m")
    compute_usd = _usd(source="compute")
    storage_usd = _usd(source="storage")
    total_usd = _usd(source="total")


class CostsApi(APIView):
    """Query: `month` (YYYY-MM, default this month, UTC). 200: the month's totals (notional: priced
    as if on AWS, not billed; unpriced jobs count as 0, with the reasons), the 12 months ending
    with it, and every simulation the caller may see with a cost in the month, most expensive
    first. 400: errors. A constant number of queries whatever the number of simulations."""

    class OutputSerializer(serializers.Serializer):
        class TotalsSerializer(serializers.Serializer):
            class UnpricedSerializer(serializers.Serializer):
                reason = serializers.CharField()
                jobs = serializers.IntegerField()

            compute_usd = _usd(source="compute")
            storage_usd = _usd(source="storage")
            total_usd = _usd(source="total")
            notional_usd = _usd(source="notional", help_text="priced as if on AWS (local runs), not billed")
            unpriced_jobs = serializers.IntegerField()
            unpriced = UnpricedSerializer(many=True)

        class SimulationSerializer(serializers.Serializer):
            id = serializers.UUIDField()
            name = serializers.CharField()
            status = serializers.CharField()
            owner = serializers.EmailField(source="owner_email")
            group = serializers.CharField(source="group_name", allow_null=True)
            compute_usd = _usd()
            storage_usd = _usd()
            total_usd = _usd()
            estimate_expected_usd = _usd(allow_null=True, help_text="at first submission, for the whole run")
            estimate_high_usd = _usd(allow_null=True)
            notional = serializers.BooleanField()
            unpriced = serializers.BooleanField(help_text="a job of the month could not be priced")

        month = serializers.DateField(format="%Y-%m")
        totals = TotalsSerializer()
        months = MonthSpendSerializer(many=True)
        simulations = SimulationSerializer(many=True)

    def get(self, request):
        text = request.query_params.get("month", "")
        try:
            month = spending.month_from_text(text) if text else month_of(timezone.now())
        except spending.MonthInvalid as exc:
            return error_response([FieldError("month", str(exc))])
        user = request.user
        data = {"month": month, "totals": spending.month_totals(user, month),
                "months": spending.monthly_spend(user, until=month),
                "simulations": spending.simulation_spend(user, month)}
        return Response(self.OutputSerializer(data).data)


class BudgetsApi(APIView):
    """200: the budgets the caller may see (their own, their groups'; operators all) with where
    each stands this month (UTC) and this month's alerts. Three queries per budget for the
    standing (a user has a handful), then a constant number whatever the number of simulations."""

    class OutputSerializer(serializers.Serializer):
        class BudgetSerializer(serializers.Serializer):
            class AlertSerializer(serializers.Serializer):
                threshold = serializers.IntegerField()
                spent_usd = _usd()
                limit_usd = serializers.DecimalField(max_digits=12, decimal_places=2)
                created_at = serializers.DateTimeField()
                email_sent_at = serializers.DateTimeField(allow_null=True)
                email_result = serializers.CharField(source="email_recipients",
                                                     help_text="the recipients, or why sending failed")
                webhook_sent_at = serializers.DateTimeField(allow_null=True)
                webhook_result = serializers.CharField()

            id = serializers.IntegerField(source="budget.id")
            scope = serializers.SerializerMethodField()
            user = serializers.EmailField(source="budget.user.email", allow_null=True, default=None)
            group = serializers.CharField(source="budget.group.slug", allow_null=True, default=None)
            monthly_limit_usd = serializers.DecimalField(source="budget.monthly_limit_usd", max_digits=12,
                                                         decimal_places=2)
            spent_usd = _usd(source="standing.spent")
            held_usd = _usd(source="standing.held", help_text="what admitted, still-active runs hold")
            left_usd = _usd(source="standing.left")
            percent = serializers.FloatField(source="standing.percent", help_text="spent, of the limit")
            thresholds = serializers.ListField(source="budget.thresholds", child=serializers.IntegerField())
            over_limit = serializers.CharField(source="budget.over_limit")
            stop_at_limit = serializers.BooleanField(source="budget.stop_at_limit")
            alerts = AlertSerializer(source="current_alerts", many=True, help_text="this month's")

            def get_scope(self, summary) -> str:
                return "group" if summary.budget.group_id else "user"

        month = serializers.DateField(format="%Y-%m")
        budgets = BudgetSerializer(many=True)

    def get(self, request):
        month = month_of(timezone.now())
        summaries = spending.budget_summaries(list(spending.visible_budgets(request.user)), user=request.user,
                                              month=month)
        return Response(self.OutputSerializer({"month": month, "budgets": summaries}).data)
