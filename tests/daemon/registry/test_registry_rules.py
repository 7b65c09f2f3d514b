"""The registry service's rules: promotion gates, overrides, roll-back, cut-out, restore."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import TypeVar

import pytest
from support.model_registry import ModelRun

from mlops_daemon.errors import Conflict, InvalidInput, NotFound
from mlops_daemon.model_registry import RegistryService, previous_version
from mlops_daemon.store.async_store import AsyncStore
from mlops_daemon.store.repository import Store
from mlops_kernel.model_schemas import (
    CutoutRequest,
    ModelDetail,
    ModelEventOut,
    PromoteRequest,
    RestoreRequest,
    RollbackRequest,
)

T = TypeVar("T")


class Registry:
    """The service over a real store, driven synchronously, noting every on_change."""

    def __init__(self, store: Store) -> None:
        self.changed: list[str] = []
        self.db = AsyncStore(store, workers=1)
        self.service = RegistryService(self.db, on_change=self.changed.append)

    def run(self, coro: Awaitable[T]) -> T:
        async def main() -> T:
            return await coro

        return asyncio.run(main())

    def promote(
        self,
        version: int,
        alias: str = "production",
        override: bool = False,
        reason: str | None = None,
    ) -> ModelDetail:
        req = PromoteRequest(version=version, alias=alias, override=override, reason=reason)
        return self.run(self.service.promote("iris", req, "ann"))

    def rollback(self, alias: str = "production") -> ModelDetail:
        req = RollbackRequest(alias=alias, reason="bad")
        return self.run(self.service.rollback("iris", req, "bob"))

    def cutout(self, alias: str | None = None) -> ModelDetail:
        return self.run(self.service.cutout("iris", CutoutRequest(alias=alias, reason="x"), "c"))

    def restore(self, alias: str | None = None) -> ModelDetail:
        return self.run(self.service.restore("iris", RestoreRequest(alias=alias), "d"))


@pytest.fixture
def registry(store: Store) -> Iterator[Registry]:
    r = Registry(store)
    yield r
    r.db._pool.shutdown(wait=True)


def names(detail: ModelDetail) -> dict[str, int]:
    return {a.alias: a.version for a in detail.aliases}


def test_promote_a_passed_version_records_who_and_why(
    registry: Registry, model_run: ModelRun
) -> None:
    v1 = model_run("r1")
    detail = registry.promote(1, reason="first")
    assert names(detail) == {"production": 1}
    event = detail.events[0]
    assert (event.action, event.alias, event.version, event.previous_version) == (
        "promote",
        "production",
        1,
        None,
    )
    assert (event.actor, event.reason, event.override) == ("ann", "first", False)
    assert v1.gate is not None and event.gate_report_id == v1.gate.id
    assert registry.changed == ["iris"]


def test_promoting_the_current_version_again_is_refused(
    registry: Registry, model_run: ModelRun
) -> None:
    model_run("r1")
    registry.promote(1)
    with pytest.raises(Conflict, match="already names version 1"):
        registry.promote(1)
    assert registry.changed == ["iris"]


def test_pending_gates_are_refused_even_with_an_override(
    registry: Registry, model_run: ModelRun
) -> None:
    model_run("r1", gate="pending")
    for override in (False, True):
        with pytest.raises(Conflict, match=r"still running.*mlops gate r1"):
            registry.promote(1, override=override, reason="hurry")


def test_failed_gates_name_the_checks_and_the_way_out(
    registry: Registry, model_run: ModelRun
) -> None:
    model_run("r1", gate="failed")
    with pytest.raises(Conflict) as refused:
        registry.promote(1)
    assert "metric:accuracy" in refused.value.message
    assert "tests" not in refused.value.message.split("checks:")[1].split("(")[0]
    assert "--override --reason" in refused.value.message
    with pytest.raises(InvalidInput, match="needs a reason"):
        registry.promote(1, override=True)
    detail = registry.promote(1, override=True, reason="accuracy is fine for a demo")
    event = detail.events[0]
    assert event.override and event.reason == "accuracy is fine for a demo"
    assert event.gate_report_id is not None


def test_a_version_never_gated_needs_an_override(registry: Registry, model_run: ModelRun) -> None:
    model_run("r1", gate=None)
    with pytest.raises(Conflict, match=r"no gate report.*mlops gate r1"):
        registry.promote(1)
    event = registry.promote(1, override=True, reason="legacy model").events[0]
    assert event.override and event.gate_report_id is None


def test_unknown_model_or_version_is_not_found(registry: Registry, model_run: ModelRun) -> None:
    with pytest.raises(NotFound):
        registry.promote(1)
    model_run("r1")
    with pytest.raises(NotFound, match="no version 7"):
        registry.promote(7)
    with pytest.raises(NotFound):
        registry.promote(2**62)


def test_rollback_steps_back_through_the_promotions(
    registry: Registry, model_run: ModelRun
) -> None:
    for run in ("r1", "r2", "r3"):
        model_run(run)
    with pytest.raises(NotFound, match="no alias 'production'"):
        registry.rollback()
    registry.promote(1)
    with pytest.raises(Conflict, match="no earlier version"):
        registry.rollback()
    registry.promote(2)
    registry.promote(3)
    registry.promote(1, alias="staging")
    detail = registry.rollback()
    assert names(detail) == {"production": 2, "staging": 1}
    event = detail.events[0]
    assert (event.action, event.version, event.previous_version, event.actor) == (
        "rollback",
        2,
        3,
        "bob",
    )
    assert names(registry.rollback()) == {"production": 1, "staging": 1}
    with pytest.raises(Conflict, match="no earlier version"):
        registry.rollback()
    assert registry.changed.count("iris") == 6


def test_cutout_and_restore_every_alias_or_one(registry: Registry, model_run: ModelRun) -> None:
    model_run("r1")
    model_run("r2")
    with pytest.raises(Conflict, match="no aliases"):
        registry.cutout()
    registry.promote(1)
    registry.promote(2, alias="staging")
    detail = registry.cutout()
    assert all(a.cut_out and a.cut_out_reason == "x" for a in detail.aliases)
    # one event per alias, in one transaction (aliases in name order; newest first here)
    assert [(e.action, e.alias) for e in detail.events[:2]] == [
        ("cutout", "staging"),
        ("cutout", "production"),
    ]
    with pytest.raises(Conflict, match="every alias is cut out already"):
        registry.cutout()
    with pytest.raises(Conflict, match="already cut out"):
        registry.cutout("staging")
    detail = registry.restore("staging")
    assert {a.alias: a.cut_out for a in detail.aliases} == {"production": True, "staging": False}
    detail = registry.restore()
    assert not any(a.cut_out for a in detail.aliases)
    assert detail.events[0].alias == "production"  # only the one still cut out
    with pytest.raises(Conflict, match="no alias is cut out"):
        registry.restore()
    with pytest.raises(NotFound, match="no alias 'dev'"):
        registry.cutout("dev")


def test_a_cut_out_stays_cut_out_through_a_promotion(
    registry: Registry, model_run: ModelRun
) -> None:
    model_run("r1")
    model_run("r2")
    registry.promote(1)
    registry.cutout("production")
    detail = registry.promote(2)
    assert [(a.version, a.cut_out) for a in detail.aliases] == [(2, True)]


def test_a_failing_listener_does_not_undo_the_change(store: Store, model_run: ModelRun) -> None:
    model_run("r1")

    def broken(model: str) -> None:
        raise RuntimeError("cache is on fire")

    db = AsyncStore(store, workers=1)
    service = RegistryService(db, on_change=broken)
    req = PromoteRequest(version=1, alias="production")
    detail = asyncio.run(service.promote("iris", req, "ann"))
    db._pool.shutdown(wait=True)
    assert names(detail) == {"production": 1}


def event(action: str, version: int) -> ModelEventOut:
    return ModelEventOut.model_validate(
        {
            "id": 1,
            "model": "m",
            "alias": "a",
            "action": action,
            "version": version,
            "actor": "x",
            "at": "2026-01-01T00:00:00Z",
        }
    )


@pytest.mark.parametrize(
    ("history", "current", "expected"),
    [
        ([], 1, None),
        ([("promote", 1)], 1, None),
        ([("promote", 1), ("promote", 2)], 2, 1),
        ([("promote", 1), ("promote", 2), ("promote", 1)], 1, 2),
        ([("promote", 1), ("promote", 2), ("promote", 3), ("rollback", 2)], 2, 1),
        ([("promote", 1), ("promote", 2), ("rollback", 1), ("promote", 3)], 3, 1),
        ([("promote", 2), ("promote", 1), ("promote", 1)], 1, 2),  # entries equal to current
        ([("promote", 1), ("cutout", 1), ("promote", 2)], 2, 1),
    ],
)
def test_previous_version_replays_the_history_as_a_stack(
    history: list[tuple[str, int]], current: int, expected: int | None
) -> None:
    assert previous_version([event(a, v) for a, v in history], current) == expected
