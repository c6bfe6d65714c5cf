from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    """Users are known by their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A researcher, an API user or (is_staff) an operator."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Operators can use the admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class ResearchGroup(models.Model):
    """A research group: its members see each other's simulations; its admins manage them."""

    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="research_groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member"
        ADMIN = "admin", "group admin"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(ResearchGroup, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="membership_unique_user_group"),
            models.CheckConstraint(condition=models.Q(role__in=["member", "admin"]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"


class ApiToken(models.Model):
    """A key for the API. Only its sha256 is kept; the full key is shown once, when it is made."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell keys apart.")
    # The unique index on key_hash serves the lookup on every API request.
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="Updated at most once a minute.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The profile page and the user admin list one user's tokens, newest first.
            models.Index(fields=["user", "-created_at"], name="apitoken_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (gcr_{self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AuditEvent(models.Model):
    """Something that happened to an account: who it concerned (user), who did it (actor), from where."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "signed in"
        SIGN_IN_FAILED = "sign_in_failed", "sign-in failed"
        SIGN_OUT = "sign_out", "signed out"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        ROLE_CHANGED = "role_changed", "group role changed"

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The audit admin: newest first, filtered by kind and by date.
            models.Index(fields=["kind", "-created_at"], name="audit_kind_created_idx"),
            # One user's history (the audit admin searched by user, the user admin).
            models.Index(fields=["user", "-created_at"], name="audit_user_created_idx"),
            models.Index(fields=["-created_at"], name="audit_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["sign_in", "sign_in_failed", "sign_out", "token_created",
                                             "token_revoked", "role_changed"]),
                name="auditevent_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user or '-'} · {self.created_at:%Y-%m-%d %H:%M}"


# --- Notifications ---------------------------------------------------------------------------------
# A run reaching one of these statuses notifies people (accounts/notifications.py decides who).
RUN_EVENTS = ("succeeded", "failed", "awaiting_approval", "cancelled")
BUDGET_THRESHOLD = "budget_threshold"


class NotificationPreference(models.Model):
    """What one user wants to hear about, by email and on their own webhook.

    No row means the defaults below: every email on. A run's success is on too, because GEOS-Chem
    runs take hours to weeks and their end is what a researcher waits for; it is one email per
    run, not per segment. Budget thresholds go by email only (the budget's own webhook, set by
    operators, posts them)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preference")
    email_succeeded = models.BooleanField("email when a run succeeds", default=True)
    email_failed = models.BooleanField("email when a run fails", default=True)
    email_awaiting_approval = models.BooleanField(
        "email when a run needs approval", default=True,
        help_text="One's own runs waiting for an operator; for operators also everyone's, so someone approves.")
    email_cancelled = models.BooleanField(
        "email when a run is cancelled", default=True,
        help_text="Not when one cancelled it oneself: a rejection, a stop at a budget's limit or an operator's cancel.")
    email_budget_threshold = models.BooleanField("email when a budget crosses a threshold", default=True)
    webhook_url = models.URLField(max_length=500, blank=True,
                                  help_text="Slack-compatible: a JSON POST of {\"text\": ...}.")
    webhook_succeeded = models.BooleanField("post when a run succeeds", default=True)
    webhook_failed = models.BooleanField("post when a run fails", default=True)
    webhook_awaiting_approval = models.BooleanField("post when a run needs approval", default=True)
    webhook_cancelled = models.BooleanField("post when a run is cancelled", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"

    def emails(self, kind: str) -> bool:
        """Whether an email of `kind` (a RUN_EVENTS status or BUDGET_THRESHOLD) is wanted."""
        return getattr(self, f"email_{kind}")

    def posts(self, kind: str) -> bool:
        """Whether the user's webhook should get `kind` (a RUN_EVENTS status); False with no URL."""
        return bool(self.webhook_url) and getattr(self, f"webhook_{kind}")


class GroupNotificationSettings(models.Model):
    """A research group's webhook and which of its simulations' events go to it; set by the
    group's admins and operators."""

    group = models.OneToOneField(ResearchGroup, on_delete=models.CASCADE, related_name="notification_settings")
    webhook_url = models.URLField(max_length=500, blank=True,
                                  help_text="Slack-compatible: a JSON POST of {\"text\": ...}.")
    on_succeeded = models.BooleanField("post when a run succeeds", default=True)
    on_failed = models.BooleanField("post when a run fails", default=True)
    on_awaiting_approval = models.BooleanField("post when a run needs approval", default=True)
    on_cancelled = models.BooleanField("post when a run is cancelled", default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "group notification settings"
        verbose_name_plural = "group notification settings"

    def __str__(self) -> str:
        return f"notification settings of {self.group_id}"

    def posts(self, kind: str) -> bool:
        return bool(self.webhook_url) and getattr(self, f"on_{kind}")


class Notification(models.Model):
    """One message to one recipient (an email, or a user's webhook) or one group's webhook about
    one event. The row is written before the message goes out and the unique constraints allow
    one per (event, channel, recipient or group): a retried task, or two workers, send it once."""

    class Kind(models.TextChoices):
        SUCCEEDED = "succeeded", "run succeeded"
        FAILED = "failed", "run failed"
        AWAITING_APPROVAL = "awaiting_approval", "run needs approval"
        CANCELLED = "cancelled", "run cancelled"
        TEST = "test", "test message"

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    class Outcome(models.TextChoices):
        PENDING = "pending", "claimed, not yet sent"
        DELIVERED = "delivered"
        FAILED = "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # The status change it tells of (null for a test message, or once its simulation is deleted).
    event = models.ForeignKey("simulations.SimulationEvent", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="notifications")
    simulation = models.ForeignKey("simulations.Simulation", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="notifications")
    recipient = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
                                  help_text="Who it was for: an email's addressee, or the owner of the webhook.")
    group = models.ForeignKey(ResearchGroup, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="notifications", help_text="For a group's webhook.")
    address = models.CharField(max_length=500, help_text="The email address or webhook URL it went to.")
    subject = models.CharField(max_length=300)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    detail = models.TextField(blank=True, help_text="The webhook's answer (HTTP 200) or why it failed.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "channel", "recipient"], name="notification_once_per_recipient",
                                    condition=models.Q(event__isnull=False, recipient__isnull=False)),
            models.UniqueConstraint(fields=["event", "channel", "group"], name="notification_once_per_group",
                                    condition=models.Q(event__isnull=False, group__isnull=False)),
            models.CheckConstraint(condition=models.Q(recipient__isnull=False, group__isnull=True)
                                   | models.Q(recipient__isnull=True, group__isnull=False),
                                   name="notification_one_target"),
            models.CheckConstraint(condition=models.Q(channel="webhook") | models.Q(recipient__isnull=False),
                                   name="notification_email_has_recipient"),
            models.CheckConstraint(condition=models.Q(kind__in=["succeeded", "failed", "awaiting_approval",
                                                                "cancelled", "test"]),
                                   name="notification_kind_valid"),
            models.CheckConstraint(condition=models.Q(channel__in=["email", "webhook"]),
                                   name="notification_channel_valid"),
            models.CheckConstraint(condition=models.Q(outcome__in=["pending", "delivered", "failed"]),
                                   name="notification_outcome_valid"),
        ]
        indexes = [
            # The profile page: one user's recent notifications, newest first.
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            # The group settings page: one group's recent webhook posts.
            models.Index(fields=["group", "-created_at"], name="notification_group_idx"),
            # The admin log: newest first, filtered by kind, channel or outcome.
            models.Index(fields=["-created_at"], name="notification_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.channel} · {self.address} · {self.outcome}"
