"""What was spent, as a user may see it: reads for the cost dashboard, the budgets page and the API.

The access rule is `Simulation.objects.visible_to(user)`: a user sees the costs of the
simulations they can see (their own and their groups'; operators all), and nothing else, so
every cost query here is filtered by that queryset (a subquery, not a list of ids). Budgets:
a user sees their own user budget and the budgets of the groups they belong to; operators all.

Every function runs a constant number of queries whatever the number of rows: sums are made in
the database (`values().annotate(Sum(...))`), never a query per row.

Months are `date`s on the first of the month (`costs.models.month_of`), as the cost rows store them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone as dt_timezone
from decimal import Decimal

from django.db.models import (BooleanField, Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q,
                              QuerySet, Subquery, Sum, Value, Window)
from django.db.models.functions import Coalesce, RowNumber

from accounts.models import Membership
from costs.budgets import Standing, with_standing
from costs.models import (Budget, BudgetAlert, BudgetEvent, CostReconciliation, InstanceType, JobCost, RunEstimate,
                          StorageCharge)
from simulations.models import Simulation

ZERO = Decimal(0)
_MONEY = DecimalField(max_digits=14, decimal_places=6)
NO_GROUP = "(no group)"
UNKNOWN_INSTANCE = "(no instance type)"
EVENTS_SHOWN = 20  # the newest events of each budget on its page; the count says how many there are
MOST_RUNS_PLOTTED = 500  # estimate vs actual: the newest finished runs, at most


# --- months (plain date arithmetic) ----------------------------------------------------------------

class MonthInvalid(ValueError):
    """A month that is not YYYY-MM; the message says what was expected."""


MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})")


def month_from_text(text: str) -> date:
    """'2026-03' -> date(2026, 3, 1); anything else raises MonthInvalid with a readable message."""
    match = MONTH_PATTERN.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise MonthInvalid(f"{text[:20]!r} is not a month: use YYYY-MM, for example 2026-03")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_shift(month: date, by: int) -> date:
    """The first of the month `by` months after (negative: before) `month`."""
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


def months_until(month: date, count: int) -> list[date]:
    """The `count` months ending with `month`, oldest first."""
    return [month_shift(month, -back) for back in range(count - 1, -1, -1)]


def _start_of(month: date) -> datetime:
    return datetime.combine(month, time.min, tzinfo=dt_timezone.utc)


# --- what the user may see -----------------------------------------------------------------------

def _visible_costs(model, user) -> QuerySet:
    """`model`'s rows (JobCost, StorageCharge, CostReconciliation) of the simulations `user` may see."""
    return model.objects.filter(simulation__in=Simulation.objects.visible_to(user).values("pk")).order_by()


def visible_budgets(user) -> QuerySet:
    """The budgets `user` may see: their own and their groups' (any role); operators see every budget."""
    if not user or not user.is_authenticated:
        return Budget.objects.none()
    budgets = Budget.objects.select_related("user", "group")
    if user.is_staff:
        return budgets
    return budgets.filter(Q(user=user) | Q(group_id__in=Membership.objects.filter(user=user).values("group_id")))


# --- totals and breakdowns -------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthSpend:
    month: date
    compute: Decimal
    storage: Decimal

    @property
    def total(self) -> Decimal:
        return self.compute + self.storage


def monthly_spend(user, *, until: date, months: int = 12) -> list[MonthSpend]:
    """Compute (JobCost) and storage (StorageCharge) per month for the `months` months ending with
    `until`, oldest first; a month with nothing is zeros. Two queries."""
    window = months_until(until, months)
    spent = {}
    for model in (JobCost, StorageCharge):
        rows = (_visible_costs(model, user).filter(month__gte=window[0], month__lte=window[-1])
                .values("month").annotate(spent=Sum("usd")).values_list("month", "spent"))
        spent[model] = dict(rows)
    return [MonthSpend(m, spent[JobCost].get(m, ZERO), spent[StorageCharge].get(m, ZERO)) for m in window]


@dataclass(frozen=True)
class UnpricedReason:
    reason: str
    jobs: int


@dataclass(frozen=True)
class MonthTotals:
    """One month's figures. `notional` is the part priced as if on AWS but not billed (local runs)."""

    month: date
    compute: Decimal
    storage: Decimal
    notional: Decimal
    unpriced: list[UnpricedReason] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.compute + self.storage

    @property
    def billed(self) -> Decimal:
        return self.total - self.notional

    @property
    def unpriced_jobs(self) -> int:
        return sum(r.jobs for r in self.unpriced)


def month_totals(user, month: date) -> MonthTotals:
    """The month's compute, storage and notional sums, and the jobs that could not be priced,
    counted per reason (their price_source). Three queries."""
    sums = {}
    for model in (JobCost, StorageCharge):
        sums[model] = _visible_costs(model, user).filter(month=month).aggregate(
            spent=Coalesce(Sum("usd"), Value(ZERO, output_field=_MONEY)),
            notional_spent=Coalesce(Sum("usd", filter=Q(notional=True)), Value(ZERO, output_field=_MONEY)))
    unpriced = (_visible_costs(JobCost, user).filter(month=month, priced=False).values("price_source")
                .annotate(jobs=Count("id")).order_by("-jobs", "price_source"))
    return MonthTotals(month, sums[JobCost]["spent"], sums[StorageCharge]["spent"],
                       sums[JobCost]["notional_spent"] + sums[StorageCharge]["notional_spent"],
                       [UnpricedReason(r["price_source"], r["jobs"]) for r in unpriced])


@dataclass(frozen=True)
class Share:
    """One owner's, group's or instance family's part of a month's spend."""

    label: str
    compute: Decimal
    storage: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.compute + self.storage


def _shares(user, month: date, key: str, *, blank: str) -> list[Share]:
    sums: dict[type, dict[str, Decimal]] = {}
    for model in (JobCost, StorageCharge):
        rows = _visible_costs(model, user).filter(month=month).values(key).annotate(spent=Sum("usd"))
        sums[model] = {r[key] or blank: r["spent"] for r in rows}
    labels = sums[JobCost].keys() | sums[StorageCharge].keys()
    shares = [Share(label, sums[JobCost].get(label, ZERO), sums[StorageCharge].get(label, ZERO)) for label in labels]
    return sorted(shares, key=lambda s: (-s.total, s.label))


def spend_by_owner(user, month: date) -> list[Share]:
    """Compute and storage per owner (by email) in `month`, largest first. Two queries."""
    return _shares(user, month, "owner__email", blank="")


def spend_by_group(user, month: date) -> list[Share]:
    """Compute and storage per research group in `month` (simulations of no group under
    NO_GROUP), largest first. Two queries."""
    return _shares(user, month, "group__name", blank=NO_GROUP)


def instance_family(name: str, families: dict[str, str]) -> str:
    """The catalog's family of an instance type, or the part of its name before the dot."""
    if not name:
        return UNKNOWN_INSTANCE
    return families.get(name) or name.split(".", 1)[0]


def spend_by_family(user, month: date) -> list[Share]:
    """Compute per instance family in `month` (storage has no instance type), largest first.
    Two queries: the sums per instance type, then the catalog's families of those types."""
    per_type = dict(_visible_costs(JobCost, user).filter(month=month).values("instance_type")
                    .annotate(spent=Sum("usd")).values_list("instance_type", "spent"))
    families = dict(InstanceType.objects.filter(name__in=[n for n in per_type if n])
                    .values_list("name", "family")) if per_type else {}
    totals: dict[str, Decimal] = {}
    for name, usd in per_type.items():
        family = instance_family(name, families)
        totals[family] = totals.get(family, ZERO) + usd
    return sorted((Share(label, usd) for label, usd in totals.items()), key=lambda s: (-s.total, s.label))


# --- per simulation ----------------------------------------------------------------------------------

def _sum_of(model, month: date | None = None) -> Coalesce:
    """A simulation's sum of `model`.usd (in `month`, or ever), as a subquery for Simulation rows."""
    rows = model.objects.filter(simulation=OuterRef("pk"))
    if month is not None:
        rows = rows.filter(month=month)
    total = rows.order_by().values("simulation").annotate(total=Sum("usd")).values("total")
    return Coalesce(Subquery(total, output_field=_MONEY), Value(ZERO, output_field=_MONEY))


def simulation_spend(user, month: date) -> QuerySet:
    """The simulations `user` may see that have a cost row in `month`, most expensive first, as
    dicts: id, name, status, owner_email, group_name, compute_usd, storage_usd, total_usd,
    estimate_expected_usd and estimate_high_usd (None without an estimate), notional (some of
    its cost is notional) and unpriced (a job of the month could not be priced). One query
    (a lazy QuerySet: slice or paginate it)."""
    def month_rows(model, **extra):
        return model.objects.filter(simulation=OuterRef("pk"), month=month, **extra)

    return (Simulation.objects.visible_to(user)
            .filter(Exists(month_rows(JobCost)) | Exists(month_rows(StorageCharge)))
            .annotate(compute_usd=_sum_of(JobCost, month), storage_usd=_sum_of(StorageCharge, month),
                      notional=ExpressionWrapper(Exists(month_rows(JobCost, notional=True))
                                                 | Exists(month_rows(StorageCharge, notional=True)),
                                                 output_field=BooleanField()),
                      unpriced=Exists(month_rows(JobCost, priced=False)))
            .annotate(total_usd=ExpressionWrapper(F("compute_usd") + F("storage_usd"), output_field=_MONEY))
            .order_by("-total_usd", "name", "id")
            .values("id", "name", "status", "compute_usd", "storage_usd", "total_usd", "notional", "unpriced",
                    owner_email=F("owner__email"), group_name=F("group__name"),
                    estimate_expected_usd=F("estimate__usd_expected"), estimate_high_usd=F("estimate__usd_high")))


@dataclass(frozen=True)
class EstimateVsActual:
    """A finished run's estimate at submission beside what its jobs cost."""

    id: object
    name: str
    expected: Decimal
    low: Decimal | None
    high: Decimal | None
    actual: Decimal
    notional: bool
    unpriced: bool


def estimate_vs_actual(user, *, until: date, months: int = 12) -> list[EstimateVsActual]:
    """Runs that succeeded in the `months` months ending with `until` and have an expected
    estimate: its low, expected and high beside the sum of its JobCosts (all its jobs, every
    month), newest first, at most MOST_RUNS_PLOTTED. Failed and cancelled runs are left out: they
    did not do the work the estimate was for. The estimate includes a month of output storage;
    the actual is compute only (storage is charged month by month). One query."""
    start, end = _start_of(months_until(until, months)[0]), _start_of(month_shift(until, 1))
    rows = (Simulation.objects.visible_to(user)
            .filter(status=Simulation.Status.SUCCEEDED, finished_at__gte=start, finished_at__lt=end,
                    estimate__usd_expected__isnull=False)
            .annotate(actual=_sum_of(JobCost),
                      any_notional=Exists(JobCost.objects.filter(simulation=OuterRef("pk"), notional=True)),
                      any_unpriced=Exists(JobCost.objects.filter(simulation=OuterRef("pk"), priced=False)))
            .order_by("-finished_at", "id")
            .values_list("id", "name", "estimate__usd_expected", "estimate__usd_low", "estimate__usd_high", "actual",
                         "any_notional", "any_unpriced")[:MOST_RUNS_PLOTTED])
    return [EstimateVsActual(*row) for row in rows]


@dataclass(frozen=True)
class SimulationCost:
    """The detail page's cost section: the estimate at submission and what the run cost so far."""

    estimate: RunEstimate | None
    compute: Decimal
    storage: Decimal
    jobs: int
    notional: bool
    unpriced_jobs: int

    @property
    def total(self) -> Decimal:
        return self.compute + self.storage


def simulation_cost(sim: Simulation) -> SimulationCost:
    """`sim`'s RunEstimate (None before its first submission) and the sums of its JobCosts and
    StorageCharges. The caller has already checked that the user may see `sim`. Three queries."""
    jobs = sim.job_costs.order_by().aggregate(
        spent=Coalesce(Sum("usd"), Value(ZERO, output_field=_MONEY)), count=Count("id"),
        notional_count=Count("id", filter=Q(notional=True)), unpriced_count=Count("id", filter=Q(priced=False)))
    storage = sim.storage_charges.order_by().aggregate(
        spent=Coalesce(Sum("usd"), Value(ZERO, output_field=_MONEY)),
        notional_count=Count("id", filter=Q(notional=True)))
    return SimulationCost(RunEstimate.objects.filter(simulation=sim).first(), jobs["spent"], storage["spent"],
                          jobs["count"], bool(jobs["notional_count"] or storage["notional_count"]),
                          jobs["unpriced_count"])


@dataclass(frozen=True)
class ReconciliationRow:
    simulation_id: object
    simulation_name: str
    platform_usd: Decimal
    aws_usd: Decimal
    fetched_at: datetime

    @property
    def difference(self) -> Decimal:
        return self.aws_usd - self.platform_usd

    @property
    def abs_difference(self) -> Decimal:
        return abs(self.difference)


def reconciliations(user, month: date) -> list[ReconciliationRow]:
    """The platform's and AWS Cost Explorer's figures for the visible simulations in `month`,
    largest difference first. One query."""
    rows = (_visible_costs(CostReconciliation, user).filter(month=month)
            .values_list("simulation_id", "simulation__name", "platform_usd", "aws_usd", "fetched_at"))
    return sorted((ReconciliationRow(*row) for row in rows),
                  key=lambda r: (-abs(r.difference), r.simulation_name))


# --- budgets -----------------------------------------------------------------------------------------

@dataclass
class BudgetSummary:
    """A budget as its page shows it: where it stands this month, this and last month's alerts,
    its newest events (of `event_count`), and the runs under it waiting for an operator."""

    budget: Budget
    standing: Standing
    alerts: list[BudgetAlert] = field(default_factory=list)
    events: list[BudgetEvent] = field(default_factory=list)
    event_count: int = 0
    waiting: list[dict] = field(default_factory=list)

    @property
    def current_alerts(self) -> list[BudgetAlert]:
        """The alerts of the standing's month (not the month before)."""
        return [a for a in self.alerts if a.month == self.standing.month]


def budget_summaries(budgets: list[Budget], *, user, month: date,
                     event_limit: int = EVENTS_SHOWN) -> list[BudgetSummary]:
    """Summaries of `budgets` (from `visible_budgets(user)`, a page of them) in five queries
    whatever their number: the standings (spent and held, as annotations), the alerts of `month`
    and the month before, each budget's newest `event_limit` events (a window function), the event
    counts, and the runs awaiting approval that `user` may see."""
    if not budgets:
        return []
    standing = {row["id"]: (row["spent_usd"], row["held_usd"]) for row in with_standing(
        Budget.objects.filter(id__in=[b.id for b in budgets]), month).values("id", "spent_usd", "held_usd")}
    summaries = {b.id: BudgetSummary(b, Standing(b, month, *standing[b.id])) for b in budgets}
    ids = list(summaries)
    for alert in BudgetAlert.objects.filter(budget_id__in=ids, month__in=[month, month_shift(month, -1)]) \
            .order_by("-month", "threshold"):
        summaries[alert.budget_id].alerts.append(alert)
    ranked = (BudgetEvent.objects.filter(budget_id__in=ids).select_related("actor", "simulation")
              .annotate(rank=Window(RowNumber(), partition_by=[F("budget_id")],
                                    order_by=[F("created_at").desc(), F("id").desc()]))
              .filter(rank__lte=event_limit).order_by("budget_id", "-created_at", "-id"))
    for event in ranked:
        summaries[event.budget_id].events.append(event)
    for row in BudgetEvent.objects.filter(budget_id__in=ids).order_by().values("budget_id").annotate(n=Count("id")):
        summaries[row["budget_id"]].event_count = row["n"]
    users = {b.user_id: b.id for b in budgets if b.user_id}
    groups = {b.group_id: b.id for b in budgets if b.group_id}
    waiting = (Simulation.objects.visible_to(user).filter(status=Simulation.Status.AWAITING_APPROVAL)
               .filter(Q(owner_id__in=users) | Q(group_id__in=groups))
               .order_by("submitted_at", "id")
               .values("id", "name", "owner_id", "group_id", "submitted_at", "owner__email",
                       estimate_high_usd=F("estimate__usd_high")))
    for sim in waiting:
        for budget_id in {users.get(sim["owner_id"]), groups.get(sim["group_id"])} - {None}:
            summaries[budget_id].waiting.append(sim)
    return list(summaries.values())
