"""The registry service: the rules of promotion, roll-back, cut-out and restore.

Rules (each refusal is a ``Conflict`` whose message says what to do):

- ``promote`` needs the latest gate report of the version's run to have passed. A
  pending report, no report, or the version already under the alias is refused. A
  failed report is refused unless ``override`` is set, which needs a ``reason`` (400
  otherwise) and is recorded as an override with the report's id. (An override also
  lets a version whose run was never gated through; never a pending one: wait for it.)
- ``rollback`` points the alias back at the version it named before the current one,
  read from its event history. Each roll-back undoes one more promotion: promotions
  push onto the alias's history, roll-backs pop it.
- ``cutout`` marks an alias (or every alias of the model) so that serving refuses it;
  ``restore`` lifts that. Promotion and roll-back leave a cut-out in place: it is an
  emergency stop, lifted only by ``restore``.

Every change is one transaction (the alias and its event) in the store; after it
commits, ``on_change(model)`` is called (serving drops what it cached for the model).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from mlops_kernel.model_schemas import (
    CutoutRequest,
    GateStatus,
    ModelDetail,
    ModelEventOut,
    ModelList,
    ModelVersionOut,
    PromoteRequest,
    RestoreRequest,
    RollbackRequest,
)

from .errors import Conflict, InvalidInput, NotFound
from .store.async_store import AsyncStore
from .store.gate_reports import required_failures
from .store.model_registry import AliasChange

log = logging.getLogger(__name__)

DEFAULT_ACTOR = "unknown"
OVERRIDE = (
    "an override and a reason (the panel's Override checkbox, or "
    "--override --reason '...' on the command line)"
)


class RegistryService:
    def __init__(self, db: AsyncStore, on_change: Callable[[str], None]) -> None:
        self.db = db
        self.store = db.store
        self.on_change = on_change

    # -- reading ----------------------------------------------------------------------

    async def list_models(self) -> ModelList:
        return await self.db.call(self.store.list_models)

    async def detail(self, name: str) -> ModelDetail:
        return await self.db.call(self.store.model_detail, name)

    async def version(self, name: str, version: int) -> ModelVersionOut:
        return await self.db.call(self.store.model_version, name, version)

    # -- changes ----------------------------------------------------------------------

    async def promote(self, name: str, req: PromoteRequest, actor: str) -> ModelDetail:
        if req.override and not req.reason:
            raise InvalidInput(
                "an override needs a reason: say why the failed checks may be ignored"
            )
        version = await self.db.call(self.store.model_version, name, req.version)
        current = await self._current(name, req.alias)
        if current == version.id:
            raise Conflict(
                f"{name}@{req.alias} already names version {version.version}; nothing to do"
            )
        override = _check_gate(version, req.override)
        change = AliasChange(
            model=name,
            alias=req.alias,
            action="promote",
            version_id=version.id,
            previous_version_id=current,
            actor=actor,
            reason=req.reason,
            override=override,
            gate_report_id=version.gate.id if version.gate else None,
        )
        return await self._apply(name, change)

    async def rollback(self, name: str, req: RollbackRequest, actor: str) -> ModelDetail:
        detail = await self.detail(name)
        current = next((a for a in detail.aliases if a.alias == req.alias), None)
        if current is None:
            raise NotFound(f"model {name!r} has no alias {req.alias!r} to roll back")
        history = await self.db.call(self.store.alias_history, name, req.alias)
        target = previous_version(history, current.version)
        if target is None:
            raise Conflict(
                f"{name}@{req.alias} names version {current.version} and no earlier version "
                f"to roll back to; promote one with `mlops promote {name} VERSION {req.alias}`"
            )
        version = next(v for v in detail.versions if v.version == target)
        change = AliasChange(
            model=name,
            alias=req.alias,
            action="rollback",
            version_id=version.id,
            previous_version_id=current.version_id,
            actor=actor,
            reason=req.reason,
            gate_report_id=version.gate.id if version.gate else None,
        )
        return await self._apply(name, change)

    async def cutout(self, name: str, req: CutoutRequest, actor: str) -> ModelDetail:
        return await self._cut(name, req.alias, True, actor, req.reason)

    async def restore(self, name: str, req: RestoreRequest, actor: str) -> ModelDetail:
        return await self._cut(name, req.alias, False, actor, req.reason)

    # -- helpers ----------------------------------------------------------------------

    async def _current(self, name: str, alias: str) -> str | None:
        detail = await self.detail(name)
        return next((a.version_id for a in detail.aliases if a.alias == alias), None)

    async def _cut(
        self, name: str, alias: str | None, cut: bool, actor: str, reason: str | None
    ) -> ModelDetail:
        detail = await self.detail(name)
        verb = "cut out" if cut else "restore"
        if alias is not None:
            if all(a.alias != alias for a in detail.aliases):
                raise NotFound(f"model {name!r} has no alias {alias!r} to {verb}")
            targets = [alias]
        else:
            targets = [a.alias for a in detail.aliases if a.cut_out != cut]
            if not targets:
                state = "cut out already" if cut else "cut out"
                which = "every alias is" if cut else "no alias is"
                if not detail.aliases:
                    raise Conflict(f"{name} has no aliases to {verb}")
                raise Conflict(f"{which} {state} for {name}; nothing to do")
        await self.db.call(self.store.set_cut_out, name, targets, cut, actor, reason)
        return await self._changed(name)

    async def _apply(self, name: str, change: AliasChange) -> ModelDetail:
        await self.db.call(self.store.set_alias, change)
        return await self._changed(name)

    async def _changed(self, name: str) -> ModelDetail:
        try:
            self.on_change(name)
        except Exception:  # the change is committed; a listener's failure must not hide that
            log.exception("a registry change listener failed for model %s", name)
        return await self.detail(name)

    list = list_models


def _check_gate(version: ModelVersionOut, override: bool) -> bool:
    """Raise Conflict unless the version may be promoted; True when it is an override."""
    gate, run = version.gate, version.run_id
    if gate is not None and gate.status == GateStatus.passed:
        return False
    if gate is not None and gate.status == GateStatus.pending:
        raise Conflict(
            f"the gates of run {run} (version {version.version} of {version.model}) are still "
            f"running; wait for them (`mlops gate {run}`) and promote again"
        )
    if override:
        return True
    if gate is None:
        raise Conflict(
            f"version {version.version} of {version.model} has no gate report (run {run} was "
            f"never gated); run its gates with `mlops gate {run}`, or promote anyway with "
            f"{OVERRIDE}"
        )
    failed = ", ".join(c.name for c in required_failures(gate.checks)) or "none recorded"
    raise Conflict(
        f"version {version.version} of {version.model} failed required gate checks: {failed} "
        f"(`mlops gate {run}` shows why); fix them and train again, or promote anyway with "
        f"{OVERRIDE}"
    )


def previous_version(history: Sequence[ModelEventOut], current: int) -> int | None:
    """The version a roll-back returns to: replay the alias's history as a stack
    (promote pushes, rollback pops back to the version it named), then take the entry
    below the current version, skipping entries equal to it."""
    stack: list[int] = []
    for event in history:
        if event.version is None:
            continue
        if event.action == "promote":
            stack.append(event.version)
        elif event.action == "rollback":
            if stack:
                stack.pop()
            while stack and stack[-1] != event.version:
                stack.pop()
            if not stack:
                stack.append(event.version)
    while stack and stack[-1] == current:
        stack.pop()
    return stack[-1] if stack else None
