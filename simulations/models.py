import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Membership


class SimulationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SimulationQuerySet":
        """What `user` may see: their own and their groups' simulations; operators see all.

        The one access rule: every view, endpoint, export, download and log read goes through here.
        """
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(Q(owner=user) | Q(group_id__in=Membership.objects.filter(user=user).values("group_id")))

    def manageable_by(self, user) -> "SimulationQuerySet":
        """What `user` may change (cancel, retry, delete): their own, their groups' as group admin."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        admin_of = Membership.objects.filter(user=user, role=Membership.Role.ADMIN).values("group_id")
        return self.filter(Q(owner=user) | Q(group_id__in=admin_of))

    def active(self) -> "SimulationQuerySet":
        return self.filter(status__in=Simulation.ACTIVE_STATUSES)


class SimulationStatus(models.TextChoices):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval", "awaiting approval"
    QUEUED = "queued"
    STARTING = "starting"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Simulation(models.Model):
    """What a researcher asked for: a validated configuration and where its run stands."""

    Status = SimulationStatus

    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    ACTIVE_STATUSES = (Status.QUEUED, Status.STARTING, Status.RUNNING, Status.CANCELLING)

    class Model(models.TextChoices):
        CLASSIC = "classic", "GEOS-Chem Classic"
        GCHP = "gchp", "GCHP"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="simulations")
    group = models.ForeignKey("accounts.ResearchGroup", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="simulations", help_text="Its members can see it; its admins manage it.")
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=10, choices=Model.choices)
    simulation_type = models.CharField(max_length=40)
    resolution = models.CharField(max_length=20)
    config = models.JSONField(help_text="The normalized configuration (the keys the CLI and API take).")
    executable = models.CharField(max_length=500, help_text='"demo" for the demo model, else a GEOS-Chem build.')
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.TextField(blank=True)
    segments_total = models.PositiveIntegerField()
    segments_done = models.PositiveIntegerField(default=0)
    progress_percent = models.FloatField(default=0.0)
    simulated_until = models.DateTimeField(null=True, blank=True)
    output_uri = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="Last heartbeat from the runner.")
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    capacity = models.CharField(
        max_length=10, default="on-demand",
        help_text="Capacity for the next segment: the configuration's, until Spot interruptions move it to on-demand.",
    )
    interruptions = models.PositiveIntegerField(default=0, help_text="Segments interrupted from outside (Spot).")
    stop_after_segment = models.TextField(
        blank=True, help_text="Why the run stops once its current segment's restart is saved (a budget at its limit).")

    objects = SimulationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The researcher's list: my simulations, newest first.
            models.Index(fields=["owner", "-created_at"], name="sim_owner_created_idx"),
            # The sync and stuck checks: active simulations.
            models.Index(fields=["status"], name="sim_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SimulationStatus.values), name="sim_status_valid"
            ),
            models.CheckConstraint(condition=Q(segments_done__lte=models.F("segments_total")), name="sim_segments_le_total"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def is_demo(self) -> bool:
        return self.executable == "demo"

    @property
    def short_id(self) -> str:
        return str(self.id)[:8]


class JobQuerySet(models.QuerySet):
    def active(self) -> "JobQuerySet":
        return self.exclude(state__in=Job.FINAL_STATES)


class Job(models.Model):
    """One attempt at one segment on a compute backend. States mirror AWS Batch's."""

    class State(models.TextChoices):
        SUBMITTED = "SUBMITTED"
        PENDING = "PENDING"
        RUNNABLE = "RUNNABLE"
        STARTING = "STARTING"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    FINAL_STATES = (State.SUCCEEDED, State.FAILED)

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="jobs")
    segment = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField()
    name = models.CharField(max_length=128, unique=True, help_text="Deterministic: simulation, segment, attempt.")
    backend = models.CharField(max_length=20)
    backend_id = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.SUBMITTED)
    status_reason = models.TextField(blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    spec = models.JSONField()
    progress_percent = models.FloatField(default=0.0)
    simulated_until = models.DateTimeField(null=True, blank=True)
    metrics = models.JSONField(null=True, blank=True)
    interrupted = models.BooleanField(default=False, help_text="Stopped from outside (Spot reclaim), not by the model.")
    created_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(null=True, blank=True, help_text="When the backend state last changed.")
    stuck_reported_at = models.DateTimeField(null=True, blank=True, help_text="When it was reported stuck in RUNNABLE.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["simulation", "segment", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["simulation", "segment", "attempt"], name="job_unique_attempt"),
        ]
        indexes = [
            # The sync: every job not yet in a final state.
            models.Index(fields=["state"], name="job_state_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class SimulationEvent(models.Model):
    """The audit trail: who or what changed a simulation, from what, to what, and why."""

    simulation = models.ForeignKey(Simulation, on_delete=models.CASCADE, related_name="events")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=20, help_text="web, admin, cli, api, task")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The monitor's timeline: one simulation's events in order.
            models.Index(fields=["simulation", "created_at"], name="event_sim_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status or '-'}: {self.message}"


class PresetQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PresetQuerySet":
        """The presets `user` may start from: everyone's, their own and their research groups'."""
        if not user or not user.is_authenticated:
            return self.none()
        groups = Membership.objects.filter(user=user).values("group_id")
        return self.filter(Q(owner__isnull=True, group__isnull=True) | Q(owner=user) | Q(group_id__in=groups))


class Preset(models.Model):
    """A named configuration that fills the new-simulation wizard: everyone's (no owner, no
    group), one user's (owner) or one research group's (group)."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="presets")
    group = models.ForeignKey("accounts.ResearchGroup", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="presets", help_text="Its members can start from it.")
    config = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PresetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(owner__isnull=True) | Q(group__isnull=True), name="preset_one_scope"),
            models.UniqueConstraint(fields=["owner", "name"], name="preset_unique_owner_name"),
            models.UniqueConstraint(fields=["group", "name"], name="preset_unique_group_name"),
            models.UniqueConstraint(fields=["name"], condition=Q(owner__isnull=True, group__isnull=True),
                                    name="preset_unique_global_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_label(self) -> str:
        if self.group_id:
            return f"group {self.group.name}"
        return "yours" if self.owner_id else "everyone's"
