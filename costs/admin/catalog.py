"""The instance and price catalog, throughput samples and benchmark campaigns."""


from django.conf import settings
from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from costs.admin.common import ReadOnlyConsole, link_to_simulation, shortened
from costs.models import (BenchmarkCampaign, BenchmarkRun, InstancePrice, InstanceType, SpotPrice,
                          ThroughputSample)
from costs.selectors import SPOT_WINDOW
from simulations.models import Simulation



# --- The instance and price catalog ----------------------------------------------------------------


class InstancePriceInline(admin.TabularInline):
    model = InstancePrice
    extra = 0
    fields = ["region", "usd_per_hour", "retrieved_at", "source"]


@admin.register(InstanceType)
class InstanceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "family", "arch", "vcpus", "physical_cores", "memory_gib", "efa", "on_demand_price",
                    "recent_spot_points"]
    list_filter = ["family", "architecture", "efa"]
    search_fields = ["name", "family", "cpu"]
    readonly_fields = ["updated_at"]
    inlines = [InstancePriceInline]

    def get_queryset(self, request):
        """Each row's on-demand price in the platform's region and its Spot points of the estimator's window."""
        price_here = InstancePrice.objects.filter(instance_type=OuterRef("pk"), region=settings.AWS_REGION)
        return super().get_queryset(request).annotate(
            on_demand_usd=Subquery(price_here.values("usd_per_hour")[:1]),
            spot_points=Count("spot_prices", filter=Q(spot_prices__at__gte=timezone.now() - SPOT_WINDOW)))

    @admin.display(description="architecture", ordering="architecture")
    def arch(self, obj):
        return obj.architecture  # the AWS spelling (x86_64), not the choice label

    @admin.display(description=f"$/h in {settings.AWS_REGION}", ordering="on_demand_usd")
    def on_demand_price(self, obj):
        return "not offered" if obj.on_demand_usd is None else f"{obj.on_demand_usd:.4f}"

    @admin.display(description=f"Spot points, {SPOT_WINDOW.days} d", ordering="spot_points")
    def recent_spot_points(self, obj):
        url = reverse("admin:costs_spotprice_changelist") + f"?instance_type__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.spot_points)


@admin.register(InstancePrice)
class InstancePriceAdmin(admin.ModelAdmin):
    list_display = ["instance_type", "region", "usd_per_hour", "retrieved_at", "source_short"]
    list_filter = ["region"]
    search_fields = ["instance_type__name", "region"]
    list_select_related = ["instance_type"]
    autocomplete_fields = ["instance_type"]

    @admin.display(description="source")
    def source_short(self, obj):
        return shortened(obj.source)


@admin.register(SpotPrice)
class SpotPriceAdmin(admin.ModelAdmin):
    """Spot price history as EC2 reported it (refresh_prices writes it): to read, not to edit."""

    list_display = ["instance_type", "region", "availability_zone", "usd_per_hour", "at"]
    list_filter = ["region", "instance_type"]
    search_fields = ["instance_type__name", "availability_zone"]
    list_select_related = ["instance_type"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Throughput ----------------------------------------------------------------------------------


@admin.register(ThroughputSample)
class ThroughputSampleAdmin(admin.ModelAdmin):
    list_display = ["model", "simulation_type", "resolution", "instance_type", "cores", "nodes", "days_per_day",
                    "confidence", "is_demo", "measured_on", "source_short"]
    list_filter = ["confidence", "model", "is_demo"]
    search_fields = ["simulation_type", "resolution", "instance_type", "source", "notes"]
    date_hierarchy = "measured_on"
    # published_key keeps loading the shipped figures idempotent; job is the run it was measured on.
    readonly_fields = ["job", "published_key", "created_at"]

    @admin.display(description="source")
    def source_short(self, obj):
        return shortened(obj.source)


# --- Benchmark campaigns ---------------------------------------------------------------------------


class BenchmarkRunInline(admin.TabularInline):
    model = BenchmarkRun
    extra = 0
    can_delete = False
    fields = ["label", "instance_type", "run", "run_status"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The campaign too: each row's title is str(run), which names it.
        return super().get_queryset(request).select_related("campaign", "simulation")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="simulation")
    def run(self, obj):
        return link_to_simulation(obj.simulation)

    @admin.display(description="status")
    def run_status(self, obj):
        return obj.simulation.get_status_display()


@admin.register(BenchmarkCampaign)
class BenchmarkCampaignAdmin(ReadOnlyConsole):
    """Campaigns as run_benchmark_campaign launched them; benchmark_report reads them, so they are
    not deleted here."""

    list_display = ["name", "created_by", "created_at", "run_count", "succeeded_count"]
    search_fields = ["name", "description"]
    list_select_related = ["created_by"]
    readonly_fields = ["created_at"]
    inlines = [BenchmarkRunInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            runs_total=Count("runs"),
            runs_succeeded=Count("runs", filter=Q(runs__simulation__status=Simulation.Status.SUCCEEDED)))

    @admin.display(description="runs", ordering="runs_total")
    def run_count(self, obj):
        return obj.runs_total

    @admin.display(description="succeeded", ordering="runs_succeeded")
    def succeeded_count(self, obj):
        return obj.runs_succeeded
