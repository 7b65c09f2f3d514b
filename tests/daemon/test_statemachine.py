from __future__ import annotations

import itertools

import pytest

from mlops_daemon.errors import IllegalTransition
from mlops_daemon.statemachine import ALLOWED, can_transition, check_transition
from mlops_kernel.schemas import TERMINAL_STATUSES, RunStatus

S = RunStatus


def test_the_documented_path_is_allowed() -> None:
    path = [S.queued, S.preparing, S.running, S.succeeded]
    for a, b in itertools.pairwise(path):
        assert can_transition(a, b)


@pytest.mark.parametrize("end", [S.failed, S.cancelled, S.lost])
def test_running_can_end_any_way(end: RunStatus) -> None:
    assert can_transition(S.running, end)


def test_terminal_states_are_final() -> None:
    for status in TERMINAL_STATUSES:
        assert ALLOWED[status] == frozenset()
        with pytest.raises(IllegalTransition, match="already ended"):
            check_transition("r", status, S.running)


def test_no_skipping_or_going_back() -> None:
    assert not can_transition(S.queued, S.running)
    assert not can_transition(S.queued, S.succeeded)
    assert not can_transition(S.running, S.queued)
    assert not can_transition(S.preparing, S.succeeded)
    with pytest.raises(IllegalTransition, match="cannot go from queued to running"):
        check_transition("r", S.queued, S.running)


def test_every_status_has_a_rule() -> None:
    assert set(ALLOWED) == set(RunStatus)
