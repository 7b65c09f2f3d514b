"""The one state machine that owns a run's status.

queued → preparing → running → succeeded | failed | cancelled | lost

Executors report; only the run service calls ``check_transition`` and writes
the new status, so every status change passes through here.
"""

from __future__ import annotations

from mlops_kernel.schemas import RunStatus

from .errors import IllegalTransition

S = RunStatus

ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    S.queued: frozenset({S.preparing, S.cancelled, S.lost}),
    S.preparing: frozenset({S.running, S.failed, S.cancelled, S.lost}),
    S.running: frozenset({S.succeeded, S.failed, S.cancelled, S.lost}),
    S.succeeded: frozenset(),
    S.failed: frozenset(),
    S.cancelled: frozenset(),
    S.lost: frozenset(),
}


def can_transition(current: RunStatus, new: RunStatus) -> bool:
    return new in ALLOWED[current]


def check_transition(run_id: str, current: RunStatus, new: RunStatus) -> None:
    """Raise IllegalTransition (HTTP 409) unless ``current → new`` is allowed."""
    if not can_transition(current, new):
        if current.terminal:
            raise IllegalTransition(
                f"run {run_id} has already ended ({current.value}); it cannot become {new.value}"
            )
        raise IllegalTransition(f"run {run_id} cannot go from {current.value} to {new.value}")
