"""The operator console for simulations, jobs and presets."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from simulations import services
from simulations.config import config_to_dict
from simulations.models import Job, Preset, Simulation, SimulationEvent


class JobInline(admin.TabularInline):
    model = Job
    extra = 0
    can_delete = False
    fields = ["name", "segment", "attempt", "state", "backend_id", "exit_code", "period_start", "period_end",
              "started_at", "stopped_at", "last_seen_at", "status_reason"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = SimulationEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "source", "actor", "from_status", "to_status", "message"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class ActiveFilter(admin.SimpleListFilter):
    title = "activity"
    parameter_name = "activity"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("approval", "waiting for approval"), ("final", "finished"),
                ("demo", "demo model")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(status__in=Simulation.ACTIVE_STATUSES)
        if self.value() == "approval":
            return queryset.filter(status=Simulation.Status.AWAITING_APPROVAL)
        if self.value() == "final":
            return queryset.filter(status__in=Simulation.FINAL_STATUSES)
        if self.value() == "demo":
            return queryset.filter(executable="demo")
        return queryset


@admin.register(Simulation)
class SimulationAdmin(admin.ModelAdmin):
    list_display = ["name", "status_badge", "owner", "model", "simulation_type", "resolution", "progress",
                    "segments", "age"]
    list_filter = [ActiveFilter, "status", "model", "simulation_type", "resolution"]
    search_fields = ["name", "owner__email", "=id"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "owner", "model", "simulation_type", "resolution", "executable", "status",
                       "status_reason", "segments_total", "segments_done", "progress_percent", "simulated_until",
                       "output_uri", "created_at", "updated_at", "submitted_at", "started_at", "finished_at",
                       "last_seen_at", "cancel_requested_by", "stop_after_segment", "config"]
    fields = ["id", "name"] + readonly_fields[1:]
    inlines = [JobInline, EventInline]
    actions = ["cancel_selected", "retry_selected", "approve_selected", "reject_selected"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span title="{}">{}</span>', obj.status_reason[:300], obj.get_status_display())

    @admin.display(description="progress", ordering="progress_percent")
    def progress(self, obj):
        return f"{obj.progress_percent:.0f} %"

    @admin.display(description="segments")
    def segments(self, obj):
        return f"{obj.segments_done}/{obj.segments_total}"

    @admin.display(description="age", ordering="created_at")
    def age(self, obj):
        hours = (timezone.now() - obj.created_at).total_seconds() / 3600
        return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} d"

    def _for_each(self, request, queryset, service, report: str, **options) -> None:
        """Run a status service on each selected simulation and report how many it moved."""
        done = sum(bool(service(simulation_id=sim_id, actor=request.user, source="admin", **options))
                   for sim_id in queryset.values_list("id", flat=True))
        self.message_user(request, report.format(done=done, total=queryset.count()),
                          messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Cancel the selected simulations")
    def cancel_selected(self, request, queryset):
        self._for_each(request, queryset, services.simulation_cancel,
                       "Cancel requested for {done} of {total} simulation(s).")

    @admin.action(description="Retry (resume from the last restart) the selected failed or cancelled simulations")
    def retry_selected(self, request, queryset):
        done, refused = 0, []
        for sim_id in queryset.values_list("id", flat=True):
            try:
                done += bool(services.simulation_retry(simulation_id=sim_id, actor=request.user, source="admin"))
            except services.SubmitRefused as exc:
                refused.append(exc.message)
        self.message_user(request, f"Queued {done} of {queryset.count()} simulation(s) again.",
                          messages.SUCCESS if done else messages.WARNING)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Approve the selected runs waiting for approval (over budget)")
    def approve_selected(self, request, queryset):
        self._for_each(request, queryset, services.simulation_approve, "Approved {done} of {total} simulation(s).")

    @admin.action(description="Reject the selected runs waiting for approval")
    def reject_selected(self, request, queryset):
        self._for_each(request, queryset, services.simulation_reject, "Rejected {done} of {total} simulation(s).",
                       reason="over budget; rejected by an operator")

    def has_add_permission(self, request):
        return False  # simulations are created through the form, the CLI or the API, which validate


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["name", "simulation", "segment", "attempt", "state", "backend", "exit_code", "started_at",
                    "stopped_at", "last_seen_at"]
    list_filter = ["state", "backend"]
    search_fields = ["name", "backend_id", "simulation__name", "=simulation__id"]
    list_select_related = ["simulation"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request):
        return False


class PresetForm(forms.ModelForm):
    class Meta:
        model = Preset
        fields = ["name", "description", "owner", "config"]

    def clean_config(self):
        """A preset must be a configuration the platform would accept; store its normal form."""
        cfg, errors = services.config_check(self.cleaned_data["config"])
        if errors:
            raise forms.ValidationError([f"{e.field or 'configuration'}: {e.message}" for e in errors])
        return config_to_dict(cfg)


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    form = PresetForm
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "description"]
    list_select_related = ["owner"]
    readonly_fields = ["created_at"]
