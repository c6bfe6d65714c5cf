"""What runs cost, read-only: job costs, storage, reconciliations with AWS, estimates at submission."""


from django.contrib import admin
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast, Coalesce

from costs.admin.common import MONEY, NOTHING, MonthFilter, ReadOnlyConsole, usd_text
from costs.models import CostReconciliation, JobCost, RunEstimate, StorageCharge



# --- What runs cost --------------------------------------------------------------------------------


@admin.register(JobCost)
class JobCostAdmin(ReadOnlyConsole):
    """What each job cost, as recorded when it ended; budgets and the dashboard sum these, so they are
    never edited or deleted here."""

    list_display = ["job", "simulation_link", "owner", "month_label", "instance_type", "capacity", "nodes",
                    "hours_label", "usd_label", "priced", "notional"]
    list_filter = [MonthFilter, "capacity", "priced", "notional", "instance_type"]
    search_fields = ["simulation__name", "=simulation__id", "owner__email"]
    date_hierarchy = "stopped_at"
    list_select_related = ["job", "simulation", "owner", "group"]
    readonly_fields = ["created_at"]

    @admin.display(description="hours", ordering="hours")
    def hours_label(self, obj):
        return f"{obj.hours:.2f}"


@admin.register(StorageCharge)
class StorageChargeAdmin(ReadOnlyConsole):
    """A month of storage of a run's outputs; counted by budgets, so never edited or deleted here."""

    list_display = ["simulation_link", "owner", "group", "month_label", "gb", "usd_per_gb_month", "usd_label",
                    "notional"]
    list_filter = [MonthFilter, "notional"]
    search_fields = ["simulation__name", "=simulation__id", "owner__email"]
    list_select_related = ["simulation", "owner", "group"]
    readonly_fields = ["created_at"]


class DifferenceFilter(admin.SimpleListFilter):
    title = "platform vs AWS"
    parameter_name = "difference"

    def lookups(self, request, model_admin):
        return [("platform", "platform above AWS"), ("aws", "AWS above platform"), ("equal", "equal")]

    def queryset(self, request, queryset):
        where = {"platform": Q(difference__gt=0), "aws": Q(difference__lt=0), "equal": Q(difference=0)}
        return queryset.filter(where[self.value()]) if self.value() in where else queryset


@admin.register(CostReconciliation)
class CostReconciliationAdmin(ReadOnlyConsole):
    """The platform's figure beside Cost Explorer's. Deleting is harmless: both sides keep their own
    figures (JobCost and StorageCharge here, Cost Explorer at AWS) and the daily task writes last
    month's and this month's rows again."""

    deletable = True
    list_display = ["simulation_link", "month_label", "platform", "aws", "difference_label", "fetched_at"]
    list_filter = [MonthFilter, DifferenceFilter]
    search_fields = ["simulation__name", "=simulation__id"]
    list_select_related = ["simulation"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(difference=Cast(F("platform_usd") - F("aws_usd"), MONEY))

    @admin.display(description="platform $", ordering="platform_usd")
    def platform(self, obj):
        return usd_text(obj.platform_usd)

    @admin.display(description="AWS $", ordering="aws_usd")
    def aws(self, obj):
        return usd_text(obj.aws_usd)

    @admin.display(description="platform - AWS", ordering="difference")
    def difference_label(self, obj):
        return usd_text(obj.difference)


@admin.register(RunEstimate)
class RunEstimateAdmin(ReadOnlyConsole):
    """What the estimator said at first submission, beside what the run's jobs have cost so far.
    Kept as first made (later submissions do not replace it), so never deleted here."""

    list_display = ["simulation_link", "owner", "instance_type", "capacity", "hours_expected_label", "usd_range",
                    "actual", "created_at"]
    list_filter = ["capacity", "instance_type", "region"]
    search_fields = ["simulation__name", "=simulation__id", "simulation__owner__email"]
    list_select_related = ["simulation__owner"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        costs = (JobCost.objects.filter(simulation=OuterRef("simulation")).order_by().values("simulation")
                 .annotate(total=Sum("usd")).values("total"))
        return super().get_queryset(request).annotate(actual_usd=Coalesce(Subquery(costs, output_field=MONEY),
                                                                          NOTHING))

    @admin.display(description="owner", ordering="simulation__owner__email")
    def owner(self, obj):
        return obj.simulation.owner.email

    @admin.display(description="hours expected", ordering="hours_expected")
    def hours_expected_label(self, obj):
        return "-" if obj.hours_expected is None else f"{obj.hours_expected:.2f}"

    @admin.display(description="$ low / expected / high", ordering="usd_expected")
    def usd_range(self, obj):
        if obj.usd_expected is None:
            return "no estimate"
        return " / ".join(usd_text(v) if v is not None else "-" for v in (obj.usd_low, obj.usd_expected, obj.usd_high))

    @admin.display(description="jobs' cost so far", ordering="actual_usd")
    def actual(self, obj):
        return usd_text(obj.actual_usd)
