"""Budget services: admission at submit, threshold alerts, stopping at the limit, and the audit trail.

What is left of a budget in a month = the limit - what was spent (job costs and storage charged
to that month) - what admitted runs still hold (their reservation less what they have cost since).
Admission locks the budget rows (`select_for_update`, in id order so two budgets cannot deadlock)
before reading what is left and writing its reservation, in the caller's transaction: two
concurrent submissions are serialised on the lock, and the second sees the first's reservation.
(SQLite has no row locks; there the IMMEDIATE transactions of settings.py serialise writers.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts import notifications
from accounts.models import BUDGET_THRESHOLD, Membership
from costs import webhooks
from costs.models import (Budget, BudgetAlert, BudgetEvent, BudgetReservation, JobCost, StorageCharge, month_of)
from costs.selectors import UpperCost
from costs.services import running_cost_so_far
from simulations.models import Job, Simulation

log = logging.getLogger(__name__)
ZERO = Decimal(0)
_MONEY = DecimalField(max_digits=14, decimal_places=6)


def budgets_for(sim: Simulation) -> Q:
    """The budgets a simulation spends from: its owner's and its group's."""
    q = Q(user_id=sim.owner_id)
    if sim.group_id:
        q |= Q(group_id=sim.group_id)
    return q


def _scope(budget: Budget, prefix: str = "") -> Q:
    """The rows a budget counts: its group's simulations, or everything its user owns."""
    if budget.group_id:
        return Q(**{f"{prefix}group_id": budget.group_id})
    return Q(**{f"{prefix}owner_id": budget.user_id})


# --- What is spent and held, as annotations on budgets -------------------------------------------
# One definition serves the services below (one query per budget), the budget admin's list and
# the budgets page (one query for all of them).

_NOTHING = Value(ZERO, output_field=_MONEY)


def _month_total(model, scope: str, month):
    """The sum of `model.usd` charged to `month` for the outer budget's user (scope "owner") or group."""
    outer = "user" if scope == "owner" else "group"
    rows = (model.objects.filter(**{scope: OuterRef(outer)}, month=month).order_by().values(scope)
            .annotate(total=Sum("usd")).values("total"))
    return Coalesce(Subquery(rows, output_field=_MONEY), _NOTHING)


def spent_annotation(month):
    """Job costs and storage charged to `month`: a group budget counts its group's simulations,
    a user budget everything the user owns."""
    return Case(
        When(group__isnull=False,
             then=_month_total(JobCost, "group", month) + _month_total(StorageCharge, "group", month)),
        default=_month_total(JobCost, "owner", month) + _month_total(StorageCharge, "owner", month),
        output_field=_MONEY)


def held_annotation(month):
    """What admitted runs that are still going hold: each of the month's reservations of an active
    run (a resumed run's newest only: the earlier one was for the earlier attempt), less what
    that run has cost since (never below zero), summed per budget."""
    cost_since = (JobCost.objects.filter(simulation_id=OuterRef("simulation_id"),
                                         job__created_at__gte=OuterRef("created_at"))
                  .order_by().values("simulation_id").annotate(total=Sum("usd")).values("total"))
    newer = BudgetReservation.objects.filter(budget_id=OuterRef("budget_id"), simulation_id=OuterRef("simulation_id"),
                                             id__gt=OuterRef("id"))
    still_held = Greatest(F("usd") - Coalesce(Subquery(cost_since, output_field=_MONEY), _NOTHING), _NOTHING,
                          output_field=_MONEY)
    rows = (BudgetReservation.objects.filter(budget=OuterRef("pk"), month=month,
                                             simulation__status__in=Simulation.ACTIVE_STATUSES)
            .exclude(Exists(newer))
            .order_by().values("budget").annotate(total=Sum(still_held)).values("total"))
    return Coalesce(Subquery(rows, output_field=_MONEY), _NOTHING)


def with_standing(queryset, month):
    """Budgets annotated with `spent_usd` and `held_usd` for `month`."""
    return queryset.annotate(spent_usd=spent_annotation(month), held_usd=held_annotation(month))


def budget_spent(budget: Budget, month) -> Decimal:
    """Job costs and storage charged to `month` in the budget's scope (one query)."""
    return Budget.objects.filter(pk=budget.pk).annotate(spent_usd=spent_annotation(month)) \
        .values_list("spent_usd", flat=True).get()


def budget_held(budget: Budget, month) -> Decimal:
    """What admitted runs that are still going hold against the budget in `month` (one query)."""
    return Budget.objects.filter(pk=budget.pk).annotate(held_usd=held_annotation(month)) \
        .values_list("held_usd", flat=True).get()


@dataclass
class Standing:
    budget: Budget
    month: object
    spent: Decimal
    held: Decimal

    @property
    def left(self) -> Decimal:
        return self.budget.limit - self.spent - self.held

    @property
    def percent(self) -> float:
        if self.budget.limit == 0:
            return 100.0 if self.spent > 0 else 0.0
        return float(self.spent / self.budget.limit * 100)


def budget_standing(budget: Budget, month=None) -> Standing:
    """Spent and held this month (or `month`), in one query."""
    month = month or month_of(timezone.now())
    spent, held = with_standing(Budget.objects.filter(pk=budget.pk), month) \
        .values_list("spent_usd", "held_usd").get()
    return Standing(budget, month, spent, held)


# --- Admission -------------------------------------------------------------------------------------

@dataclass
class Admission:
    decision: str  # "admit" | "approval" | "refuse"
    message: str
    budgets: list[Budget] = field(default_factory=list)


def budget_admit(*, sim: Simulation, upper: UpperCost, actor=None, force: bool = False) -> Admission:
    """Decide whether `sim` may start, and hold its upper estimate against its budgets if so.

    Must run inside the caller's transaction (the one that moves the simulation), which keeps the
    budget rows locked until it commits. `force` (an operator's approval) holds the estimate even
    over the limit."""
    month = month_of(timezone.now())
    # of=self: the joined user and group rows are read, not locked (PostgreSQL refuses to lock
    # the nullable side of an outer join).
    budgets = list(Budget.objects.select_for_update(of=("self",)).filter(budgets_for(sim))
                   .select_related("user", "group").order_by("id"))
    if not budgets:
        return Admission("admit", "no budget applies")
    over = []
    for budget in budgets:
        standing = budget_standing(budget, month)
        if upper.usd is None or upper.usd > standing.left:
            over.append((budget, standing))
    if over and not force:
        refuse = any(b.over_limit == Budget.OverLimit.REFUSE for b, _ in over)
        return Admission("refuse" if refuse else "approval", _over_message(upper, over, refuse), budgets)
    for budget in budgets:
        BudgetReservation.objects.create(budget=budget, simulation=sim, month=month, usd=upper.usd or ZERO,
                                         approved_by=actor if (force and over) else None)
    held = f"${upper.usd:.2f}" if upper.usd is not None else "nothing (no estimate)"
    return Admission("admit", f"{held} held against " + ", ".join(b.scope_label for b in budgets)
                     + f" ({upper.basis})", budgets)


def _over_message(upper: UpperCost, over, refuse: bool) -> str:
    parts = []
    for budget, standing in over:
        parts.append(f"{budget.scope_label}'s budget has ${max(standing.left, ZERO):.2f} left of "
                     f"${budget.limit:.2f} this month (spent ${standing.spent:.2f}, held by running runs "
                     f"${standing.held:.2f})")
    need = (f"its upper estimate is ${upper.usd:.2f} ({upper.basis})" if upper.usd is not None
            else f"no cost estimate can be made ({upper.basis})")
    action = "refused" if refuse else "sent to an operator for approval"
    return f"The run was {action}: {need}, but " + "; ".join(parts) + "."


def admission_record(*, sim: Simulation, admission: Admission, actor=None) -> None:
    """The budget audit events of a refusal or an approval request."""
    kind = {"refuse": BudgetEvent.Kind.REFUSED, "approval": BudgetEvent.Kind.APPROVAL_REQUESTED}.get(admission.decision)
    if kind is None:
        return
    for budget in admission.budgets:
        BudgetEvent.objects.create(budget=budget, simulation=sim, actor=actor, kind=kind, message=admission.message)


def approval_record(*, sim: Simulation, actor, approved: bool, reason: str = "") -> None:
    kind = BudgetEvent.Kind.APPROVED if approved else BudgetEvent.Kind.REJECTED
    who = actor.email if actor else "an operator"
    message = f"{sim.name} ({sim.short_id}) {'approved' if approved else 'rejected'} by {who}" + (
        f": {reason}" if reason else "")
    budgets = list(Budget.objects.filter(budgets_for(sim))) or [None]
    for budget in budgets:
        BudgetEvent.objects.create(budget=budget, simulation=sim, actor=actor, kind=kind, message=message)


# --- Changes -------------------------------------------------------------------------------------

AUDITED_FIELDS = ("monthly_limit_usd", "thresholds", "over_limit", "stop_at_limit", "notify_email", "webhook_url")


def budget_save(*, budget: Budget, actor, previous: dict | None) -> Budget:
    """Save a budget (created or changed) and leave an audit event naming what changed."""
    with transaction.atomic():
        budget.thresholds = sorted({int(t) for t in budget.thresholds})
        budget.save()
        if previous is None:
            BudgetEvent.objects.create(budget=budget, actor=actor, kind=BudgetEvent.Kind.CREATED,
                                       message=f"{budget.scope_label}: ${budget.limit:.2f} a month",
                                       detail={name: _plain(getattr(budget, name)) for name in AUDITED_FIELDS})
            return budget
        changes = {name: [_plain(previous[name]), _plain(getattr(budget, name))] for name in AUDITED_FIELDS
                   if _plain(previous[name]) != _plain(getattr(budget, name))}
        if changes:
            text = ", ".join(f"{name} {old} -> {new}" for name, (old, new) in changes.items())
            BudgetEvent.objects.create(budget=budget, actor=actor, kind=BudgetEvent.Kind.CHANGED,
                                       message=f"{budget.scope_label}: {text}", detail=changes)
    return budget


def budget_delete(*, budget: Budget, actor) -> None:
    with transaction.atomic():
        BudgetEvent.objects.create(budget=None, actor=actor, kind=BudgetEvent.Kind.DELETED,
                                   message=f"{budget.scope_label}: budget of ${budget.limit:.2f} a month deleted")
        budget.delete()


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


# --- Thresholds and the limit ---------------------------------------------------------------------

def budget_check(*, budget_id: int, now=None) -> dict:
    """Alert once per crossed threshold this month; at 100 % mark the budget's runs to stop
    after their current segment (when the budget says so). Spent includes what running jobs
    have cost so far, so a long segment is caught before it ends."""
    now = now or timezone.now()
    budget = Budget.objects.select_related("user", "group").filter(id=budget_id).first()
    if budget is None:
        return {}
    month = month_of(now)
    running = list(Job.objects.filter(_scope(budget, "simulation__"),
                                      state__in=[Job.State.STARTING, Job.State.RUNNING]))
    spent = budget_spent(budget, month) + running_cost_so_far(running, now=now)
    percent = float(spent / budget.limit * 100) if budget.limit else (100.0 if spent else 0.0)
    new_alerts = [t for t in sorted(budget.thresholds) if percent >= t and _alert_create(budget, month, t, spent)]
    stopped = _stop_runs(budget, spent) if percent >= 100 and budget.stop_at_limit else 0
    return {"percent": round(percent, 1), "alerts": new_alerts, "stopped": stopped}


def _alert_create(budget: Budget, month, threshold: int, spent: Decimal) -> bool:
    """Create the month's alert for `threshold` unless it exists; True if this call created it."""
    try:
        with transaction.atomic():
            alert = BudgetAlert.objects.create(budget=budget, month=month, threshold=threshold, spent_usd=spent,
                                               limit_usd=budget.monthly_limit_usd)
            BudgetEvent.objects.create(budget=budget, kind=BudgetEvent.Kind.ALERT,
                                       message=f"{budget.scope_label} reached {threshold} % of ${budget.limit:.2f} "
                                               f"in {month:%B %Y} (${spent:.2f} spent)")
    except IntegrityError:
        return False
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("costs.tasks.send_budget_alert", alert.id))
    return True


def _limit_reason(budget: Budget, spent: Decimal) -> str:
    return (f"{budget.scope_label}'s budget reached its limit (${spent:.2f} of ${budget.limit:.2f}); the run "
            "stops after its current segment's restart is saved and can be resumed when the budget allows")


def stop_reason(sim: Simulation) -> str:
    """Why `sim` must not start another segment ("" when it may): a budget of its that stops runs
    at the limit has reached it. Checked before each segment after the first."""
    month = month_of(timezone.now())
    for budget in Budget.objects.filter(budgets_for(sim), stop_at_limit=True).select_related("user", "group"):
        spent = budget_spent(budget, month)
        if spent >= budget.limit:
            return _limit_reason(budget, spent)
    return ""


def _stop_runs(budget: Budget, spent: Decimal) -> int:
    """Mark the budget's active runs to stop once their current segment's restart is saved."""
    from simulations.services import record_event

    reason = _limit_reason(budget, spent)
    ids = list(Simulation.objects.active().filter(_scope(budget), stop_after_segment="")
               .values_list("id", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        Simulation.objects.filter(id__in=ids, stop_after_segment="").update(stop_after_segment=reason)
        for sim_id in ids:
            record_event(sim_id, source="task", message=reason)
        BudgetEvent.objects.create(budget=budget, kind=BudgetEvent.Kind.STOPPED,
                                   message=f"{len(ids)} run(s) will stop after their current segment: {reason}",
                                   detail={"simulations": [str(i) for i in ids]})
    return len(ids)


# --- Delivering alerts -----------------------------------------------------------------------------

def _recipients(budget: Budget) -> list[str]:
    """The user, or the group's admins (its members when it has none), less whoever turned
    budget emails off on their profile."""
    if budget.user_id:
        users = [budget.user]
    else:
        members = Membership.objects.filter(group_id=budget.group_id).select_related("user")
        users = [m.user for m in members if m.role == Membership.Role.ADMIN] or [m.user for m in members]
    return [user.email for user in notifications.users_wanting_email(users, kind=BUDGET_THRESHOLD)]


def alert_text(alert: BudgetAlert) -> str:
    budget = alert.budget
    return (f"GEOS-Chem Cloud Runner: {budget.scope_label} has used {alert.threshold} % of its monthly budget "
            f"(${alert.spent_usd:.2f} of ${alert.limit_usd:.2f}, {alert.month:%B %Y})."
            + (" Runs of this budget stop after their current segment." if alert.threshold >= 100
               and budget.stop_at_limit else ""))


def alert_deliver(*, alert_id: int) -> dict:
    """Email and post an alert, each at most once: a claim (sent_at set where it was empty) comes
    first, so a retried task or a second worker sends nothing more."""
    alert = BudgetAlert.objects.select_related("budget__user", "budget__group").filter(id=alert_id).first()
    if alert is None:
        return {}
    budget, now, text, done = alert.budget, timezone.now(), alert_text(alert), {}
    if budget.notify_email and BudgetAlert.objects.filter(id=alert.id, email_sent_at=None).update(email_sent_at=now):
        to = _recipients(budget)
        try:
            if to:
                send_mail(f"Budget alert: {alert.threshold} % of {budget.scope_label}'s budget", text,
                          settings.DEFAULT_FROM_EMAIL, to)
            result = ", ".join(to) or "nobody: its recipients turned budget emails off"
        except Exception as exc:  # noqa: BLE001 - the outcome is recorded; the claim stays (at most once)
            log.warning("budget alert %s email failed: %s", alert.id, exc)
            result = f"failed: {exc}"
        BudgetAlert.objects.filter(id=alert.id).update(email_recipients=result)
        done["email"] = result
    if budget.webhook_url and BudgetAlert.objects.filter(id=alert.id, webhook_sent_at=None).update(webhook_sent_at=now):
        outcome = webhooks.post_json(budget.webhook_url, {"text": text})
        BudgetAlert.objects.filter(id=alert.id).update(webhook_result=outcome.summary)
        done["webhook"] = outcome.summary
    return done
