"""django-q2 tasks for accounts: thin edges that take ids, call a service, and are safe to run twice."""

from accounts import notifications


def notify_simulation(simulation_id: str, kind: str) -> dict:
    """A simulation reached `kind` (succeeded, failed, awaiting_approval, cancelled): tell whoever
    wants to know. A second run sends nothing more (the messages are claimed before they go)."""
    return notifications.notify_simulation(simulation_id=simulation_id, kind=kind)
