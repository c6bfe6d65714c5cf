"""The operator console for users, research groups, API tokens, the audit trail and the
notification log.

Role changes made here go through accounts.services, so each leaves a role_changed event.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts import services
from accounts.adapters import client_ip
from accounts.models import (ApiToken, AuditEvent, GroupNotificationSettings, Membership, Notification,
                             NotificationPreference, ResearchGroup, User)
from accounts.notifications import GROUP_FIELDS


class MembershipFormsetMixin:
    """Saves membership inlines so that every role change, addition and removal is audited."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        ip = client_ip(request)
        role_changes = []
        for inline_form in formset.initial_forms:
            if inline_form in formset.deleted_forms or "role" not in inline_form.changed_data:
                continue
            # The service makes the change (compare-and-swap, with its event); the form keeps the old role.
            role_changes.append((inline_form.instance.pk, inline_form.cleaned_data["role"]))
            inline_form.instance.role = inline_form.initial["role"]
        formset.save()
        for membership_id, role in role_changes:
            services.membership_set_role(membership_id=membership_id, role=role, by=request.user, ip=ip)
        for membership in formset.new_objects:
            services.membership_record_change(membership=membership, old_role=None, new_role=membership.role,
                                              by=request.user, ip=ip)
        for membership in formset.deleted_objects:
            services.membership_record_change(membership=membership, old_role=membership.role, new_role=None,
                                              by=request.user, ip=ip)


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ["group", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["group"]
    verbose_name = "research group membership"


class GroupMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "group"
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    verbose_name = "member"


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    can_delete = False
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False  # tokens are made on the profile page or by create_api_token, which show the key


def _switches(row, names: list[str]):
    """A settings row's fields as "label: value" lines."""
    return format_html_join(mark_safe("<br>"), "{}: {}", (
        (row._meta.get_field(name).verbose_name, _plain(getattr(row, name))) for name in names))


def _plain(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    return value if value not in (None, "") else "-"


EMAIL_LABELS = [("email_succeeded", "succeeded"), ("email_failed", "failed"),
                ("email_awaiting_approval", "approval"), ("email_cancelled", "cancelled"),
                ("email_budget_threshold", "budget")]


@admin.register(User)
class UserAdmin(MembershipFormsetMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "research_group_names", "simulations_link",
                    "emails_off", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "research_groups"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login", "simulations_link", "notification_summary"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "simulations_link", "notification_summary"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [UserMembershipInline, ApiTokenInline]

    def get_queryset(self, request):
        return (super().get_queryset(request).annotate(simulation_count=Count("simulations", distinct=True))
                .select_related("notification_preference").prefetch_related("research_groups"))

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(description="research groups")
    def research_group_names(self, obj):
        return ", ".join(group.name for group in obj.research_groups.all()) or "-"

    @admin.display(description="emails off")
    def emails_off(self, obj):
        """Which emails the user turned off, and whether they have a webhook (joined, no query)."""
        try:
            preference = obj.notification_preference
        except NotificationPreference.DoesNotExist:
            return "-"
        off = [label for name, label in EMAIL_LABELS if not getattr(preference, name)]
        return ", ".join(off or ["-"]) + (" · webhook" if preference.webhook_url else "")

    @admin.display(description="notification preferences")
    def notification_summary(self, obj):
        """Shown, not edited: users set them on their profile, whose service checks the webhook URL."""
        try:
            preference = obj.notification_preference
        except NotificationPreference.DoesNotExist:
            return "the defaults: every email on, no webhook"
        return _switches(preference, [name for name, _ in EMAIL_LABELS] + [
            "webhook_url", "webhook_succeeded", "webhook_failed", "webhook_awaiting_approval", "webhook_cancelled"])

    @admin.display(description="simulations", ordering="simulation_count")
    def simulations_link(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        count = getattr(obj, "simulation_count", None)
        if count is None:
            count = obj.simulations.count()
        url = reverse("admin:simulations_simulation_changelist") + f"?owner__id__exact={obj.pk}"
        return format_html('<a href="{}">{} simulation{}</a>', url, count, "" if count == 1 else "s")


@admin.register(ResearchGroup)
class ResearchGroupAdmin(MembershipFormsetMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "admin_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "notification_summary"]
    inlines = [GroupMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            member_total=Count("memberships", distinct=True),
            admin_total=Count("memberships", filter=Q(memberships__role=Membership.Role.ADMIN), distinct=True),
        )

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj):
        return obj.member_total

    @admin.display(description="group admins", ordering="admin_total")
    def admin_count(self, obj):
        return obj.admin_total

    @admin.display(description="notification settings")
    def notification_summary(self, obj):
        """Shown, not edited: the group's admins set them on their profile (the URL is checked there)."""
        row = GroupNotificationSettings.objects.filter(group_id=obj.pk).first() if obj and obj.pk else None
        if row is None or not row.webhook_url:
            return "no webhook"
        return _switches(row, ["webhook_url", *GROUP_FIELDS, "updated_by", "updated_at"])


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_start", "created_at", "last_used_at", "revoked_at"]
    list_filter = [RevokedFilter, "created_at"]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(description="key", ordering="prefix")
    def key_start(self, obj):
        return f"gcr_{obj.prefix}…"

    @admin.action(description="Revoke the selected API tokens")
    def revoke_selected(self, request, queryset):
        ip = client_ip(request)
        total = queryset.count()
        done = sum(services.api_token_revoke(token_id=token_id, by=request.user, ip=ip)
                   for token_id in queryset.values_list("id", flat=True))
        self.message_user(request, f"Revoked {done} of {total} token(s); the rest were already revoked.",
                          messages.SUCCESS if done else messages.WARNING)

    def has_add_permission(self, request):
        return False  # the key is shown once where a token is made: the profile page or create_api_token

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the audit trail keeps pointing at the token


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "user", "actor", "ip", "detail"]
    list_filter = ["kind", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["user__email", "actor__email", "ip"]
    list_select_related = ["user", "actor"]
    fields = ["created_at", "kind", "user", "actor", "ip", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The log of every notification sent (or that failed), read-only."""

    list_display = ["created_at", "kind", "channel", "target", "address", "outcome", "detail", "simulation_link"]
    list_filter = ["kind", "channel", "outcome", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["address", "recipient__email", "group__name", "simulation__name", "subject"]
    list_select_related = ["recipient", "group", "simulation"]
    fields = ["created_at", "kind", "channel", "recipient", "group", "address", "subject", "simulation", "event",
              "outcome", "detail", "sent_at"]
    readonly_fields = fields

    @admin.display(description="for")
    def target(self, obj):
        return obj.recipient or obj.group

    @admin.display(description="simulation")
    def simulation_link(self, obj):
        if obj.simulation is None:
            return "-"
        url = reverse("admin:simulations_simulation_change", args=[obj.simulation_id])
        return format_html('<a href="{}">{}</a>', url, obj.simulation.name)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
