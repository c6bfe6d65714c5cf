"""Two submissions at once can never both spend the last of a budget (PostgreSQL row locks).

Runs against PostgreSQL only: SQLite has no row locks (its IMMEDIATE transactions serialise
writers instead, and its in-memory test database is not shared between threads). `.ci/run`
runs the whole suite again on PostgreSQL, so CI always runs this test.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections

from costs import budgets, services as cost_services
from costs.models import Budget, BudgetReservation
from simulations import services
from simulations.models import Simulation

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it there)"),
]
CONFIG = {"model": "classic", "simulation": "TransportTracers", "resolution": "4x5", "start": "2019-01-01",
          "end": "2019-02-01", "compute": {"instance_type": "c7g.16xlarge", "capacity": "on-demand"}}


def _race(alice, fake_backend, monkeypatch, runs: int):
    sims = [services.simulation_create(owner=alice, raw_config=dict(CONFIG, name=f"run {i}")) for i in range(runs)]
    upper = cost_services.simulation_estimate(sims[0])[1].usd
    # Room for exactly one of them.
    budget = Budget.objects.create(user=alice, monthly_limit_usd=(upper * Decimal("1.5")).quantize(Decimal("0.01")))
    # Widen the window between reading what is left and holding it, so that without the lock
    # every thread would read the same standing and all would be admitted.
    standing = budgets.budget_standing

    def slow_standing(*args, **kwargs):
        result = standing(*args, **kwargs)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(budgets, "budget_standing", slow_standing)
    start = threading.Barrier(runs)
    outcomes = {}

    def submit(sim):
        try:
            start.wait()
            outcomes[sim.id] = services.simulation_submit(simulation_id=sim.id, actor=alice)
        except services.SubmitRefused as exc:
            outcomes[sim.id] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(sim,)) for sim in sims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return budget, sims, outcomes


def test_two_concurrent_submissions_cannot_both_spend_the_last_of_a_budget(alice, fake_backend, monkeypatch):
    budget, sims, outcomes = _race(alice, fake_backend, monkeypatch, runs=2)
    admitted = [sim_id for sim_id, outcome in outcomes.items() if outcome == "queued"]
    refused = [outcome for outcome in outcomes.values() if isinstance(outcome, services.SubmitRefused)]
    assert len(admitted) == 1 and len(refused) == 1
    assert BudgetReservation.objects.filter(budget=budget).count() == 1
    assert Simulation.objects.filter(status=Simulation.Status.DRAFT).count() == 1
    assert "left of" in refused[0].message


def test_five_concurrent_submissions_admit_only_what_fits(alice, fake_backend, monkeypatch):
    budget, sims, outcomes = _race(alice, fake_backend, monkeypatch, runs=5)
    assert len(outcomes) == 5
    assert sum(outcome == "queued" for outcome in outcomes.values()) == 1
    held = sum(r.usd for r in BudgetReservation.objects.filter(budget=budget))
    assert held <= budget.monthly_limit_usd
