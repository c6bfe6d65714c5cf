"""The operator console for costs: the instance and price catalog, throughput samples, budgets,
and what runs cost.

Every list computes its columns in its queryset (annotations, select_related): no query per row.
Budgets change only through costs.budgets (each change leaves a BudgetEvent naming the operator);
what the platform records (job costs, storage, reconciliations, estimates, alerts, the audit
trail, campaigns) is read-only here, and only reconciliations, which the daily task fetches
again, may be deleted.
"""

from costs.admin import budget_console, catalog, cost_console  # noqa: F401 - they register the consoles
