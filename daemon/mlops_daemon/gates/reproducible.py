"""The ``reproducible`` gate: run the identity a second time and compare every metric.

The second run goes through the run service like any other (same spec, pinned
dataset versions, executor; forced past the cache) under a name that marks it as
the gate's own, so that it is neither gated nor registered as a model version itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from mlops_kernel.gates import ReproducibleRule
from mlops_kernel.gates.lessons import LESSONS
from mlops_kernel.model_schemas import CheckStatus, GateCheck
from mlops_kernel.schemas import RunDetail

from ..reproduce import compare_runs

if TYPE_CHECKING:
    from ..service import RunService

REPRODUCTION_PREFIX = "gate reproduction of "
POLL_S = 0.5


async def reproducible_check(
    runs: RunService, original: RunDetail, rule: ReproducibleRule, required: bool
) -> GateCheck:
    threshold = (
        "every metric identical"
        if rule.rtol == 0 and rule.atol == 0
        else f"every metric within rtol {rule.rtol:g}, atol {rule.atol:g}"
    )

    def check(status: CheckStatus, measured: str, evidence: str) -> GateCheck:
        return GateCheck(
            name="reproducible",
            kind="reproducible",
            status=status,
            required=required,
            measured=measured,
            threshold=threshold,
            evidence=evidence,
            lesson=LESSONS["reproducible"],
        )

    again = await runs.reproduce(original.id, name=f"{REPRODUCTION_PREFIX}{original.id}")
    db, store = runs.db, runs.store
    while not again.status.terminal:
        await asyncio.sleep(POLL_S)
        again = await db.call(store.get_run, again.id)
    first = await db.call(store.metrics, original.id)
    second = await db.call(store.metrics, again.id)
    verdict = compare_runs(
        original.model_dump(mode="json"),
        again.model_dump(mode="json"),
        [s.model_dump(mode="json") for s in first.series],
        [s.model_dump(mode="json") for s in second.series],
        rtol=rule.rtol,
        atol=rule.atol,
    )
    lines = [f"second run {again.id}: {again.status.value}"]
    for m in verdict.metrics:
        mark = "same" if m.equal else "DIFFERS"
        diff = "" if m.max_abs_diff is None else f", max |diff| {m.max_abs_diff:.3g}"
        lines.append(f"{mark} {m.key}: {m.original} vs {m.again}{diff} {m.note}".rstrip())
    result = verdict.verdict
    status = CheckStatus.passed if result == "reproduced" else CheckStatus.failed
    if result == "no-metrics":
        lines.append("the run logged no metric, so there is nothing to compare")
    return check(status, f"{result} (run {again.id})", "\n".join(lines))
