"""Compute backends, chosen by name (GCR_COMPUTE_BACKEND); see base.py for the protocol."""

from django.conf import settings

from simulations.backends.base import ComputeBackend

_overrides: dict[str, ComputeBackend] = {}


def get_backend(name: str | None = None) -> ComputeBackend:
    name = name or settings.COMPUTE_BACKEND
    if name in _overrides:
        return _overrides[name]
    if name == "local":
        from simulations.backends.local import LocalBackend

        return LocalBackend(settings.LOCAL_JOBS_DIR)
    if name == "batch":
        from simulations.backends.batch import BatchBackend

        return BatchBackend()
    raise ValueError(f"unknown compute backend {name!r}")


def override_backend(name: str, backend: ComputeBackend | None) -> None:
    """Tests put an in-memory backend in place under a name (None removes it)."""
    if backend is None:
        _overrides.pop(name, None)
    else:
        _overrides[name] = backend
