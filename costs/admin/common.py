"""Pieces the cost consoles share: money columns, links, a month filter, the read-only console."""

from datetime import date
from decimal import Decimal

from django.contrib import admin
from django.db.models import DecimalField, Value
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator


def shortened(text: str, words: int = 8) -> str:
    return Truncator(text).words(words)


MONEY = DecimalField(max_digits=14, decimal_places=6)
NOTHING = Value(Decimal(0), output_field=MONEY)


def usd_text(value) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def link_to_simulation(sim):
    if sim is None:
        return "-"
    url = reverse("admin:simulations_simulation_change", args=[sim.pk])
    return format_html('<a href="{}">{} ({})</a>', url, sim.name, sim.short_id)


class MonthFilter(admin.SimpleListFilter):
    """The calendar months that have rows, newest first (one query)."""

    title = "month"
    parameter_name = "month"

    def lookups(self, request, model_admin):
        return [(m.isoformat(), f"{m:%B %Y}") for m in model_admin.model.objects.dates("month", "month", order="DESC")]

    def queryset(self, request, queryset):
        try:
            month = date.fromisoformat(self.value() or "")
        except ValueError:
            return queryset
        return queryset.filter(month=month)


class ReadOnlyConsole(admin.ModelAdmin):
    """Rows the platform's tasks and services write: to read here, not to add or edit. The change
    page reads the list's related rows in its one query. `deletable` only where deleting is harmless."""

    deletable = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.list_select_related) if self.list_select_related else queryset

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.deletable and super().has_delete_permission(request, obj)

    @admin.display(description="month", ordering="month")
    def month_label(self, obj):
        return f"{obj.month:%Y-%m}"

    @admin.display(description="$", ordering="usd")
    def usd_label(self, obj):
        return usd_text(obj.usd)

    @admin.display(description="simulation", ordering="simulation__name")
    def simulation_link(self, obj):
        return link_to_simulation(obj.simulation)
