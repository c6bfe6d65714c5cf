"""Budgets: standing computed in the list, changes through costs.budgets (audited), approvals as actions;
alerts and the audit trail read-only."""

import re
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.db.models import (Case, CharField, Count, F, FloatField, OuterRef, Q, Subquery, Value, When)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from costs import budgets
from costs.admin.common import MONEY, MonthFilter, ReadOnlyConsole, link_to_simulation, usd_text
from costs.models import Budget, BudgetAlert, BudgetEvent, default_thresholds, month_of
from simulations import services as simulation_services
from simulations.models import Simulation


AWAITING_APPROVAL = Simulation.Status.AWAITING_APPROVAL
EVENTS_SHOWN = 50  # on a budget's page; the Budget events list has them all
WAITING_SHOWN = 50



def _waiting():
    """How many runs in the budget's scope wait for an operator's approval."""
    def count(field, outer):
        rows = (Simulation.objects.filter(**{field: OuterRef(outer)}, status=AWAITING_APPROVAL).order_by()
                .values(field).annotate(n=Count("pk")).values("n"))
        return Coalesce(Subquery(rows), Value(0))
    return Case(When(group__isnull=False, then=count("group", "group")), default=count("owner", "user"))


def _percent_used():
    """Standing.percent: spent over the limit; a zero limit is 100 % used once anything is spent."""
    return Case(
        When(monthly_limit_usd=0, spent_usd__gt=0, then=Value(100.0)),
        When(monthly_limit_usd=0, then=Value(0.0)),
        default=Cast("spent_usd", FloatField()) * Value(100.0) / Cast("monthly_limit_usd", FloatField()),
        output_field=FloatField())


def _runs_under(scopes) -> Q:
    """The simulations of budgets given as (user_id, group_id) pairs: a group budget's are its
    group's simulations, a user budget's everything the user owns (as costs.budgets counts them)."""
    return (Q(owner_id__in=[user for user, _ in scopes if user])
            | Q(group_id__in=[group for _, group in scopes if group]))


class ScopeFilter(admin.SimpleListFilter):
    title = "budget of"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("user", "a user"), ("group", "a research group")]

    def queryset(self, request, queryset):
        if self.value() == "user":
            return queryset.filter(user__isnull=False)
        if self.value() == "group":
            return queryset.filter(group__isnull=False)
        return queryset


class UsedThisMonthFilter(admin.SimpleListFilter):
    title = "used this month"
    parameter_name = "used"

    def lookups(self, request, model_admin):
        return [("80", "80 % or more"), ("100", "100 % or more")]

    def queryset(self, request, queryset):
        if self.value() in ("80", "100"):
            return queryset.filter(percent_used__gte=int(self.value()))
        return queryset


class ThresholdsField(forms.CharField):
    """Alert thresholds typed as "50, 80, 100": whole percentages of the limit from 1 to 1000,
    cleaned to a sorted list without repeats."""

    def prepare_value(self, value):
        return ", ".join(str(t) for t in value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value):
        text = super().to_python(value).strip().strip("[]")
        parts = [part for part in re.split(r"[\s,]+", text) if part]
        if not parts:
            raise forms.ValidationError("Give at least one threshold, e.g. 50, 80, 100.", code="required")
        bad = [part for part in parts if not re.fullmatch(r"[0-9]+", part) or not 1 <= int(part) <= 1000]
        if bad:
            raise forms.ValidationError(
                "Thresholds are whole percentages of the monthly limit from 1 to 1000, separated by commas "
                "(e.g. 50, 80, 100); these are not: %(bad)s.", params={"bad": ", ".join(bad)}, code="invalid")
        return sorted({int(part) for part in parts})


class BudgetForm(forms.ModelForm):
    thresholds = ThresholdsField(
        initial=default_thresholds,
        help_text="Percentages of the monthly limit that send an alert, separated by commas: 50, 80, 100.")
    # A webhook typed without a scheme is https (Django 6's default, chosen now).
    webhook_url = Budget._meta.get_field("webhook_url").formfield(assume_scheme="https",
                                                                  widget=AdminURLFieldWidget)

    class Meta:
        model = Budget
        fields = ["user", "group", "monthly_limit_usd", "thresholds", "over_limit", "stop_at_limit", "notify_email",
                  "webhook_url"]

    def clean_monthly_limit_usd(self):
        limit = self.cleaned_data["monthly_limit_usd"]
        if limit < 0:
            raise forms.ValidationError("The monthly limit cannot be negative.")
        # Kept to the cent, so that typing "100" over "100.00" is no change in the audit trail.
        return limit.quantize(Decimal("0.01"))

    def clean(self):
        cleaned = super().clean()
        # The scope is on the form only when a budget is created (it is read-only afterwards).
        if {"user", "group"} <= set(self.fields) and not (self.has_error("user") or self.has_error("group")):
            if cleaned.get("user") and cleaned.get("group"):
                self.add_error("group", "A budget is for one user or one research group, not both: clear one of them.")
            elif not cleaned.get("user") and not cleaned.get("group"):
                self.add_error("user", "Choose the user or the research group this budget is for.")
        return cleaned


class BudgetAlertInline(admin.TabularInline):
    model = BudgetAlert
    extra = 0
    can_delete = False
    fields = ["month", "threshold", "spent_usd", "limit_usd", "created_at", "email_sent_at", "email_recipients",
              "webhook_sent_at", "webhook_result"]
    readonly_fields = fields
    ordering = ["-month", "-threshold"]

    def get_queryset(self, request):
        # Each row's title is str(alert), which names the budget's user or group.
        return super().get_queryset(request).select_related("budget__user", "budget__group")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BudgetEventInline(admin.TabularInline):
    model = BudgetEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "simulation", "message"]
    readonly_fields = fields
    verbose_name_plural = f"latest {EVENTS_SHOWN} budget events (all of them: Costs > Budget events)"

    def get_queryset(self, request):
        # The formset filters by budget afterwards, so the limit is a subquery, not a slice.
        latest = (BudgetEvent.objects.filter(budget=OuterRef("budget")).order_by("-created_at", "-id")
                  .values("pk")[:EVENTS_SHOWN])
        return (super().get_queryset(request).filter(pk__in=Subquery(latest)).select_related("actor", "simulation")
                .order_by("-created_at", "-id"))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """Budgets and where they stand this month. Saving and deleting go through costs.budgets, so each
    leaves a BudgetEvent with the operator as actor."""

    form = BudgetForm
    list_display = ["scope", "monthly_limit", "spent", "held", "left", "percent", "waiting", "over_limit",
                    "stop_at_limit"]
    list_filter = [ScopeFilter, "over_limit", "stop_at_limit", UsedThisMonthFilter]
    search_fields = ["user__email", "group__name"]
    list_select_related = ["user", "group"]
    autocomplete_fields = ["user", "group"]
    fields = ["user", "group", "monthly_limit_usd", "thresholds", "over_limit", "stop_at_limit", "notify_email",
              "webhook_url", "this_month", "waiting_for_approval", "history", "created_at", "updated_at"]
    readonly_fields = ["this_month", "waiting_for_approval", "history", "created_at", "updated_at"]
    inlines = [BudgetAlertInline, BudgetEventInline]
    actions = ["approve_waiting", "reject_waiting", "check_now"]

    def get_queryset(self, request):
        """Spent and held this month per row; left and the share used are aliases (computed in SQL
        only to filter or sort on them), as the columns work them out from spent and held."""
        month = month_of(timezone.now())
        left = F("monthly_limit_usd") - F("spent_usd") - F("held_usd")
        return (super().get_queryset(request).select_related("user", "group")
                .annotate(spent_usd=budgets.spent_annotation(month), held_usd=budgets.held_annotation(month),
                          waiting_runs=_waiting(),
                          scope_name=Coalesce("group__name", "user__email", output_field=CharField()))
                .alias(left_usd=Cast(left, MONEY), percent_used=_percent_used()))

    @staticmethod
    def _standing(obj) -> budgets.Standing:
        return budgets.Standing(obj, month_of(timezone.now()), obj.spent_usd, obj.held_usd)

    def get_fields(self, request, obj=None):
        return self.fields if obj else self.fields[:8]

    def get_readonly_fields(self, request, obj=None):
        # The scope is fixed once made: the audit trail records changes of a budget, not moves.
        return ["user", "group", *self.readonly_fields] if obj else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(description="budget of", ordering="scope_name")
    def scope(self, obj):
        return obj.scope_label

    @admin.display(description="limit a month", ordering="monthly_limit_usd")
    def monthly_limit(self, obj):
        return usd_text(obj.monthly_limit_usd)

    @admin.display(description="spent this month", ordering="spent_usd")
    def spent(self, obj):
        return usd_text(obj.spent_usd)

    @admin.display(description="held by running runs", ordering="held_usd")
    def held(self, obj):
        return usd_text(obj.held_usd)

    @admin.display(description="left", ordering="left_usd")
    def left(self, obj):
        return usd_text(self._standing(obj).left)

    @admin.display(description="% used", ordering="percent_used")
    def percent(self, obj):
        return f"{self._standing(obj).percent:.0f} %"

    @admin.display(description="waiting for approval", ordering="waiting_runs")
    def waiting(self, obj):
        if not obj.waiting_runs:
            return "0"
        scope = f"group__id__exact={obj.group_id}" if obj.group_id else f"owner__id__exact={obj.user_id}"
        url = reverse("admin:simulations_simulation_changelist") + f"?activity=approval&{scope}"
        return format_html('<a href="{}">{}</a>', url, obj.waiting_runs)

    @admin.display(description="this month")
    def this_month(self, obj):
        standing = budgets.budget_standing(obj)
        return (f"{standing.month:%B %Y}: spent {usd_text(standing.spent)}, held by running runs {usd_text(standing.held)}, "
                f"left {usd_text(standing.left)} of {usd_text(obj.limit)} ({standing.percent:.0f} % used)")

    @admin.display(description="runs waiting for approval")
    def waiting_for_approval(self, obj):
        sims = list(Simulation.objects.filter(_runs_under([(obj.user_id, obj.group_id)]), status=AWAITING_APPROVAL)
                    .select_related("owner").order_by("submitted_at", "id")[:WAITING_SHOWN + 1])
        if not sims:
            return "none"
        rows = format_html_join("", "<li>{} by {}, submitted {}</li>", (
            (link_to_simulation(sim), sim.owner.email, f"{sim.submitted_at:%Y-%m-%d %H:%M}" if sim.submitted_at else "-")
            for sim in sims[:WAITING_SHOWN]))
        more = f"and more: the first {WAITING_SHOWN} are shown" if len(sims) > WAITING_SHOWN else ""
        return format_html("<ul>{}</ul>{}", rows, more)

    @admin.display(description="audit trail")
    def history(self, obj):
        url = reverse("admin:costs_budgetevent_changelist") + f"?budget={obj.pk}"
        return format_html('<a href="{}">all of this budget\'s events</a>', url)

    def save_model(self, request, obj, form, change):
        previous = Budget.objects.filter(pk=obj.pk).values(*budgets.AUDITED_FIELDS).first() if change else None
        budgets.budget_save(budget=obj, actor=request.user, previous=previous)

    def delete_model(self, request, obj):
        budgets.budget_delete(budget=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for budget in queryset.select_related("user", "group"):
            budgets.budget_delete(budget=budget, actor=request.user)

    def _waiting_under(self, queryset) -> tuple[list, int]:
        scopes = list(queryset.values_list("user_id", "group_id"))
        ids = list(Simulation.objects.filter(_runs_under(scopes), status=AWAITING_APPROVAL)
                   .order_by("submitted_at", "id").values_list("id", flat=True))
        return ids, len(scopes)

    @admin.action(description="Approve the runs waiting for approval under the selected budgets")
    def approve_waiting(self, request, queryset):
        ids, budget_count = self._waiting_under(queryset)
        done = sum(simulation_services.simulation_approve(simulation_id=sim_id, actor=request.user, source="admin")
                   for sim_id in ids)
        self.message_user(request, f"Approved {done} of {len(ids)} run(s) waiting for approval under "
                                   f"{budget_count} budget(s).", messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Reject the runs waiting for approval under the selected budgets")
    def reject_waiting(self, request, queryset):
        ids, budget_count = self._waiting_under(queryset)
        done = sum(simulation_services.simulation_reject(simulation_id=sim_id, actor=request.user, source="admin",
                                                         reason="over budget; rejected by an operator")
                   for sim_id in ids)
        self.message_user(request, f"Rejected {done} of {len(ids)} run(s) waiting for approval under "
                                   f"{budget_count} budget(s).", messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Check thresholds now (alerts, and stops at the limit)")
    def check_now(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        alerts = stopped = 0
        for budget_id in ids:
            result = budgets.budget_check(budget_id=budget_id)
            alerts += len(result.get("alerts", ()))
            stopped += result.get("stopped", 0)
        self.message_user(request, f"Checked {len(ids)} budget(s): {alerts} new alert(s), {stopped} run(s) marked "
                                   "to stop after their current segment.", messages.SUCCESS)


class DeliveryFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"
    SENT = Q(email_sent_at__isnull=False) | Q(webhook_sent_at__isnull=False)
    FAILED = Q(email_recipients__startswith="failed:") | Q(webhook_result__startswith="failed:")

    def lookups(self, request, model_admin):
        return [("sent", "sent"), ("failed", "failed"), ("unsent", "not sent")]

    def queryset(self, request, queryset):
        if self.value() == "sent":
            return queryset.filter(self.SENT).exclude(self.FAILED)
        if self.value() == "failed":
            return queryset.filter(self.FAILED)
        if self.value() == "unsent":
            return queryset.filter(email_sent_at__isnull=True, webhook_sent_at__isnull=True)
        return queryset


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnlyConsole):
    """Deleting an alert would let its threshold alert again this month: not offered."""

    list_display = ["budget_of", "month_label", "threshold", "spent_usd", "limit_usd", "created_at", "email_sent_at",
                    "email_recipients", "webhook_sent_at", "webhook_result"]
    list_filter = [MonthFilter, "threshold", DeliveryFilter]
    search_fields = ["budget__user__email", "budget__group__name"]
    list_select_related = ["budget__user", "budget__group"]

    @admin.display(description="budget of")
    def budget_of(self, obj):
        return obj.budget.scope_label


class BudgetFilter(admin.SimpleListFilter):
    """Every budget by its scope (one query), and the events of none (deleted, or none applied)."""

    title = "budget"
    parameter_name = "budget"

    def lookups(self, request, model_admin):
        return ([(str(b.pk), b.scope_label) for b in Budget.objects.select_related("user", "group")]
                + [("none", "no budget (deleted, or none applied)")])

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(budget__isnull=True)
        if (self.value() or "").isdigit():
            return queryset.filter(budget_id=int(self.value()))
        return queryset


@admin.register(BudgetEvent)
class BudgetEventAdmin(ReadOnlyConsole):
    """The budgets' audit trail: never edited or deleted."""

    list_display = ["created_at", "kind", "budget_of", "simulation_link", "actor", "message"]
    list_filter = ["kind", BudgetFilter]
    search_fields = ["message"]
    list_select_related = ["budget__user", "budget__group", "simulation", "actor"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]

    @admin.display(description="budget of")
    def budget_of(self, obj):
        return obj.budget.scope_label if obj.budget_id else "-"
