"""Prices, throughput, what runs cost, and the budgets that limit it.

Money is Decimal (USD); rates and hours are floats. Every rule that can be a constraint is one.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

# --- The instance catalog ------------------------------------------------------------------------


class Architecture(models.TextChoices):
    ARM64 = "arm64", "arm64 (Graviton)"
    X86_64 = "x86_64", "x86_64 (Intel, AMD)"


class InstanceType(models.Model):
    """An EC2 instance type the platform can run GEOS-Chem on, and its hardware."""

    name = models.CharField(max_length=40, unique=True)
    family = models.CharField(max_length=20)
    architecture = models.CharField(max_length=10, choices=Architecture.choices)
    cpu = models.CharField(max_length=30, help_text="Processor generation (the estimator's per-core speed key).")
    vcpus = models.PositiveIntegerField()
    physical_cores = models.PositiveIntegerField(help_text="GEOS-Chem runs one process or thread per physical core.")
    memory_gib = models.FloatField()
    network_gbps = models.FloatField()
    efa = models.BooleanField(default=False, help_text="Elastic Fabric Adapter, for multi-node GCHP.")
    typical_spot_discount = models.FloatField(
        null=True, blank=True,
        help_text="Fraction off on-demand used when there is no Spot price history; empty: no Spot capacity.")
    source = models.TextField(help_text="Where the hardware facts and the first prices came from.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(architecture__in=Architecture.values), name="instancetype_arch_valid"),
            models.CheckConstraint(condition=Q(physical_cores__lte=models.F("vcpus")), name="instancetype_cores_le_vcpus"),
            models.CheckConstraint(
                condition=Q(typical_spot_discount__isnull=True)
                | Q(typical_spot_discount__gte=0, typical_spot_discount__lt=1),
                name="instancetype_spot_discount_fraction"),
        ]

    def __str__(self) -> str:
        return self.name


class InstancePrice(models.Model):
    """The on-demand Linux price of an instance type in a region (no row: not offered there)."""

    instance_type = models.ForeignKey(InstanceType, on_delete=models.CASCADE, related_name="prices")
    region = models.CharField(max_length=30)
    usd_per_hour = models.DecimalField(max_digits=12, decimal_places=6)
    source = models.TextField()
    retrieved_at = models.DateTimeField()

    class Meta:
        ordering = ["instance_type", "region"]
        constraints = [
            models.UniqueConstraint(fields=["instance_type", "region"], name="instanceprice_unique_region"),
            models.CheckConstraint(condition=Q(usd_per_hour__gt=0), name="instanceprice_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.instance_type_id} {self.region} ${self.usd_per_hour}/h"


class SpotPrice(models.Model):
    """One point of EC2's Spot price history: the price from `at` until the next point in that zone."""

    instance_type = models.ForeignKey(InstanceType, on_delete=models.CASCADE, related_name="spot_prices")
    region = models.CharField(max_length=30)
    availability_zone = models.CharField(max_length=40)
    usd_per_hour = models.DecimalField(max_digits=12, decimal_places=6)
    at = models.DateTimeField()

    class Meta:
        ordering = ["instance_type", "region", "-at"]
        constraints = [
            models.UniqueConstraint(fields=["instance_type", "availability_zone", "at"], name="spotprice_unique_point"),
            models.CheckConstraint(condition=Q(usd_per_hour__gt=0), name="spotprice_positive"),
        ]
        indexes = [
            # The price paid for a job (the point in effect at its start) and the recent mean
            # the estimator uses: one instance type in one region, newest first.
            models.Index(fields=["instance_type", "region", "-at"], name="spotprice_type_region_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.instance_type_id} {self.availability_zone} {self.at:%Y-%m-%d %H:%M} ${self.usd_per_hour}/h"


# --- Throughput ----------------------------------------------------------------------------------


class Confidence(models.TextChoices):
    PLATFORM = "platform-measured", "measured on this platform"
    OFFICIAL = "measured-official", "measured by the GEOS-Chem team"
    REPORTED = "reported", "reported by users"
    THIRD_PARTY = "third-party-unreviewed", "third party, unreviewed"
    DEMO = "demo-model", "demo model (not GEOS-Chem)"


class ThroughputSampleQuerySet(models.QuerySet):
    def for_geoschem(self) -> "ThroughputSampleQuerySet":
        """Samples that may calibrate GEOS-Chem estimates: never the demo model's."""
        return self.filter(is_demo=False)


class ThroughputSample(models.Model):
    """How fast a configuration ran: simulated days per wall-clock day on given hardware."""

    model = models.CharField(max_length=10)
    simulation_type = models.CharField(max_length=40)
    resolution = models.CharField(max_length=20, help_text="The grid: 4x5, 0.5x0.625, C90, ...")
    levels = models.PositiveIntegerField()
    instance_type = models.CharField(max_length=40, blank=True, help_text="Empty: the platform was not stated.")
    cores = models.PositiveIntegerField(help_text="Physical cores used, all nodes together.")
    nodes = models.PositiveIntegerField(default=1)
    days_per_day = models.FloatField()
    peak_memory_gib = models.FloatField(null=True, blank=True)
    advected_species = models.PositiveIntegerField(null=True, blank=True,
                                                   help_text="Empty: the simulation's usual count.")
    source = models.TextField()
    confidence = models.CharField(max_length=30, choices=Confidence.choices)
    measured_on = models.DateField()
    notes = models.TextField(blank=True)
    is_demo = models.BooleanField(default=False, help_text="Measured with the demo model: never used for GEOS-Chem.")
    published_key = models.CharField(max_length=120, null=True, blank=True, unique=True,
                                     help_text="Identifies a shipped published figure, so loading is idempotent.")
    job = models.OneToOneField("simulations.Job", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="throughput_sample", help_text="The platform run it was measured on.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ThroughputSampleQuerySet.as_manager()

    class Meta:
        ordering = ["model", "simulation_type", "resolution", "instance_type"]
        constraints = [
            models.CheckConstraint(condition=Q(confidence__in=Confidence.values), name="sample_confidence_valid"),
            models.CheckConstraint(condition=Q(days_per_day__gt=0), name="sample_days_per_day_positive"),
            models.CheckConstraint(condition=Q(cores__gte=1, nodes__gte=1), name="sample_cores_nodes_positive"),
            # A demo-model figure is labelled as one, whatever else it says.
            models.CheckConstraint(condition=Q(is_demo=False) | Q(confidence="demo-model"), name="sample_demo_labelled"),
        ]

    def __str__(self) -> str:
        where = self.instance_type or "unstated platform"
        return f"{self.model} {self.simulation_type} {self.resolution} on {where}: {self.days_per_day:g} days/day"


# --- What runs cost ------------------------------------------------------------------------------


def month_of(when) -> date:
    """The first day of `when`'s month (UTC): the unit budgets and the dashboard count in."""
    return date(when.year, when.month, 1)


class JobCost(models.Model):
    """What one job (a segment attempt) cost: its run time x nodes x the price paid."""

    job = models.OneToOneField("simulations.Job", on_delete=models.CASCADE, related_name="cost")
    simulation = models.ForeignKey("simulations.Simulation", on_delete=models.CASCADE, related_name="job_costs")
    # Copied from the simulation so per-user and per-group sums need no join.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="job_costs")
    group = models.ForeignKey("accounts.ResearchGroup", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="job_costs")
    month = models.DateField(help_text="The month the job stopped in.")
    instance_type = models.CharField(max_length=40, blank=True)
    capacity = models.CharField(max_length=10)
    nodes = models.PositiveIntegerField()
    region = models.CharField(max_length=30)
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField()
    hours = models.FloatField()
    usd_per_hour = models.DecimalField(max_digits=12, decimal_places=6, help_text="Per node.")
    usd = models.DecimalField(max_digits=14, decimal_places=6)
    price_source = models.TextField(help_text="Which price was used, and why.")
    priced = models.BooleanField(default=True, help_text="False: no price was known, so usd is 0 and price_source says why.")
    notional = models.BooleanField(default=False, help_text="Ran on the local backend: priced as if on AWS, not billed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-stopped_at"]
        indexes = [
            # Budgets and the dashboard: one owner's, or one group's, spend in a month.
            models.Index(fields=["owner", "month"], name="jobcost_owner_month_idx"),
            models.Index(fields=["group", "month"], name="jobcost_group_month_idx"),
            models.Index(fields=["month"], name="jobcost_month_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(usd__gte=0, hours__gte=0), name="jobcost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: ${self.usd:.2f}"


class StorageCharge(models.Model):
    """A simulation's outputs kept on storage for one month."""

    simulation = models.ForeignKey("simulations.Simulation", on_delete=models.CASCADE, related_name="storage_charges")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="storage_charges")
    group = models.ForeignKey("accounts.ResearchGroup", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="storage_charges")
    month = models.DateField()
    gb = models.FloatField()
    usd_per_gb_month = models.DecimalField(max_digits=10, decimal_places=6)
    usd = models.DecimalField(max_digits=14, decimal_places=6)
    notional = models.BooleanField(default=False, help_text="Local files: priced as if on S3, not billed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["simulation", "month"], name="storagecharge_unique_month"),
            models.CheckConstraint(condition=Q(usd__gte=0, gb__gte=0), name="storagecharge_not_negative"),
        ]
        indexes = [
            # Budgets and the dashboard, as for JobCost.
            models.Index(fields=["owner", "month"], name="storage_owner_month_idx"),
            models.Index(fields=["group", "month"], name="storage_group_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.simulation_id} {self.month:%Y-%m}: {self.gb:.1f} GB ${self.usd:.2f}"


class CostReconciliation(models.Model):
    """The platform's figure for a simulation's month beside AWS Cost Explorer's (by cost-allocation tag)."""

    simulation = models.ForeignKey("simulations.Simulation", on_delete=models.CASCADE, related_name="reconciliations")
    month = models.DateField()
    platform_usd = models.DecimalField(max_digits=14, decimal_places=6)
    aws_usd = models.DecimalField(max_digits=14, decimal_places=6)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["simulation", "month"], name="reconciliation_unique_month"),
        ]

    def __str__(self) -> str:
        return f"{self.simulation_id} {self.month:%Y-%m}: platform ${self.platform_usd:.2f}, AWS ${self.aws_usd:.2f}"


class RunEstimate(models.Model):
    """What the estimator said a simulation would cost when it was first submitted (estimate vs actual)."""

    simulation = models.OneToOneField("simulations.Simulation", on_delete=models.CASCADE, related_name="estimate")
    instance_type = models.CharField(max_length=40, blank=True, help_text="Empty: no instance type was chosen.")
    capacity = models.CharField(max_length=10)
    region = models.CharField(max_length=30)
    hours_low = models.FloatField(null=True, blank=True)
    hours_expected = models.FloatField(null=True, blank=True)
    hours_high = models.FloatField(null=True, blank=True)
    usd_low = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    usd_expected = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    usd_high = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True,
                                   help_text="What admission held against budgets.")
    basis = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.simulation_id}: ${self.usd_expected or 0:.2f} expected"


# --- Budgets ---------------------------------------------------------------------------------------

DEFAULT_THRESHOLDS = [50, 80, 100]


def default_thresholds() -> list[int]:
    return list(DEFAULT_THRESHOLDS)


class Budget(models.Model):
    """A monthly spending limit for one user or one research group."""

    class OverLimit(models.TextChoices):
        REFUSE = "refuse", "refuse the run"
        APPROVAL = "approval", "ask an operator to approve it"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="budget")
    group = models.OneToOneField("accounts.ResearchGroup", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="budget")
    monthly_limit_usd = models.DecimalField(max_digits=12, decimal_places=2)
    thresholds = models.JSONField(default=default_thresholds,
                                  help_text="Percentages of the limit that send an alert, e.g. [50, 80, 100].")
    over_limit = models.CharField(
        max_length=10, choices=OverLimit.choices, default=OverLimit.REFUSE,
        help_text="What happens to a run whose upper estimate exceeds what is left this month.")
    stop_at_limit = models.BooleanField(
        default=True, help_text="At 100 %, running jobs stop after their current segment's restart is saved.")
    notify_email = models.BooleanField(default=True, help_text="Email the user (or the group's admins) at each threshold.")
    webhook_url = models.URLField(blank=True, help_text="Also post each alert here (Slack-compatible JSON).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=(Q(user__isnull=False) & Q(group__isnull=True))
                                   | (Q(user__isnull=True) & Q(group__isnull=False)), name="budget_user_xor_group"),
            models.CheckConstraint(condition=Q(monthly_limit_usd__gte=0), name="budget_limit_not_negative"),
            models.CheckConstraint(condition=Q(over_limit__in=["refuse", "approval"]), name="budget_over_limit_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label}: ${self.monthly_limit_usd}/month"

    @property
    def scope_label(self) -> str:
        return f"group {self.group.name}" if self.group_id else f"user {self.user.email}"

    @property
    def limit(self) -> Decimal:
        return Decimal(self.monthly_limit_usd)


class BudgetReservation(models.Model):
    """The upper estimate of a run, held against a budget from admission until the run ends."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="reservations")
    simulation = models.ForeignKey("simulations.Simulation", on_delete=models.CASCADE, related_name="reservations")
    month = models.DateField()
    usd = models.DecimalField(max_digits=14, decimal_places=6)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text="An operator who let it exceed the budget.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Admission: a budget's reservations this month.
            models.Index(fields=["budget", "month"], name="reservation_budget_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.simulation_id} holds ${self.usd:.2f} of budget {self.budget_id}"


class BudgetAlert(models.Model):
    """A threshold crossed in a month; sent once (the unique constraint and the sent_at claims)."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    month = models.DateField()
    threshold = models.PositiveIntegerField()
    spent_usd = models.DecimalField(max_digits=14, decimal_places=6)
    limit_usd = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_recipients = models.TextField(blank=True)
    webhook_sent_at = models.DateTimeField(null=True, blank=True)
    webhook_result = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "month", "threshold"], name="alert_once_per_threshold"),
        ]

    def __str__(self) -> str:
        return f"{self.budget} reached {self.threshold} % in {self.month:%Y-%m}"


class BudgetEvent(models.Model):
    """The audit trail of budgets: changes, refusals, approvals, alerts and stops."""

    class Kind(models.TextChoices):
        CREATED = "created"
        CHANGED = "changed"
        DELETED = "deleted"
        REFUSED = "refused", "run refused"
        APPROVAL_REQUESTED = "approval_requested", "approval requested"
        APPROVED = "approved", "run approved"
        REJECTED = "rejected", "run rejected"
        ALERT = "alert", "threshold alert"
        STOPPED = "stopped", "runs stopped at the limit"

    budget = models.ForeignKey(Budget, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    simulation = models.ForeignKey("simulations.Simulation", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="budget_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The budget page's history, newest first.
            models.Index(fields=["budget", "-created_at"], name="budgetevent_budget_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["created", "changed", "deleted", "refused",
                                                         "approval_requested", "approved", "rejected", "alert",
                                                         "stopped"]),
                                   name="budgetevent_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


# --- Benchmark campaigns -------------------------------------------------------------------------


class BenchmarkCampaign(models.Model):
    """Configurations x instance types the platform runs to measure itself."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    definition = models.JSONField(help_text="The campaign file as read.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class BenchmarkRun(models.Model):
    """Marks a simulation as one of a campaign's benchmark runs."""

    campaign = models.ForeignKey(BenchmarkCampaign, on_delete=models.CASCADE, related_name="runs")
    simulation = models.OneToOneField("simulations.Simulation", on_delete=models.CASCADE, related_name="benchmark")
    label = models.CharField(max_length=200, help_text="The configuration's label in the campaign file.")
    instance_type = models.CharField(max_length=40)

    class Meta:
        ordering = ["campaign", "label", "instance_type"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label", "instance_type"], name="benchmarkrun_unique_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.label} on {self.instance_type}"
