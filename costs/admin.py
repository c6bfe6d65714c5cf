"""The operator console for costs: the instance and price catalog, and the throughput samples.

Every list computes its columns in its queryset (annotations, select_related): no query per row.
"""

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from costs.models import InstancePrice, InstanceType, SpotPrice, ThroughputSample
from costs.selectors import SPOT_WINDOW


def _short(text: str, words: int = 8) -> str:
    return Truncator(text).words(words)


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
        return _short(obj.source)


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
        return _short(obj.source)
