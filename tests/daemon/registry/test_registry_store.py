"""The registry's store layer on SQLite: versions, gate reports, aliases and events."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from support.model_registry import ModelRun, check, manifest

from mlops_daemon.errors import Conflict, InvalidInput, NotFound
from mlops_daemon.store.model_registry import AliasChange
from mlops_daemon.store.repository import Store
from mlops_kernel.model_schemas import CheckStatus, GateStatus
from mlops_kernel.schemas import RunStatus

P, F, S, E = CheckStatus.passed, CheckStatus.failed, CheckStatus.skipped, CheckStatus.error


def promote(store: Store, version_id: str, previous: str | None, alias: str = "production") -> None:
    store.set_alias(
        AliasChange(
            model="iris",
            alias=alias,
            action="promote",
            version_id=version_id,
            previous_version_id=previous,
            actor="ann",
            reason="ship it",
            gate_report_id="g1",
        )
    )


def test_versions_are_numbered_per_model_and_registering_again_is_idempotent(
    store: Store, model_run: ModelRun
) -> None:
    v1 = model_run("r1", gate=None)
    again = store.register_model_version("r1", Path("/elsewhere"), manifest("iris"))
    assert (again.id, again.version) == (v1.id, 1)
    v2 = model_run("r2", gate=None)
    other = model_run("r1", name="wine", gate=None)
    assert (v2.version, other.version) == (2, 1)
    assert v2.signature.inputs[0].shape == [None, 4]
    assert v2.sample_input == [[5.1, 3.5, 1.4, 0.2]]
    assert [v.model for v in store.model_versions_of_run("r1")] == ["iris", "wine"]
    assert store.model_version("iris", 2).run_id == "r2"


def test_registration_refuses_unknown_runs_and_bad_names(store: Store, model_run: ModelRun) -> None:
    with pytest.raises(NotFound, match="no run"):
        store.register_model_version("nope", Path("/x"), manifest("iris"))
    model_run("r1", gate=None)
    with pytest.raises(InvalidInput, match="not valid"):
        store.register_model_version("r1", Path("/x"), manifest("bad name/with slash"))
    with pytest.raises(NotFound, match="no run"):
        store.model_versions_of_run("nope")


def test_unknown_models_and_versions_are_not_found(store: Store, model_run: ModelRun) -> None:
    with pytest.raises(NotFound, match="no model named 'iris'"):
        store.model_detail("iris")
    model_run("r1", gate=None)
    with pytest.raises(NotFound, match="has no version 5 \\(it has 1 to 1\\)"):
        store.model_version("iris", 5)
    for version in (0, 2**40):
        with pytest.raises(NotFound):
            store.model_version("iris", version)
    with pytest.raises(NotFound):
        store.model_version("bad\x00name", 1)


def test_gate_report_passes_when_no_required_check_failed(
    store: Store, model_run: ModelRun
) -> None:
    model_run("r1", gate=None)
    report = store.create_gate_report("r1", "/srv/project/mlops.toml")
    assert report.status == GateStatus.pending and not report.passed
    assert store.latest_gate_report("r1") == report
    done = store.finish_gate_report(
        report.id,
        [check("tests", P), check("no_regression:accuracy", S), check("fairness", F, False)],
    )
    assert done.status == GateStatus.passed and done.passed
    assert done.finished_at is not None and done.config_path == "/srv/project/mlops.toml"
    assert [c.status for c in done.checks] == [P, S, F]
    with pytest.raises(Conflict, match="already finished"):
        store.finish_gate_report(report.id, [])


@pytest.mark.parametrize("status", [F, E])
def test_gate_report_fails_on_a_failed_or_broken_required_check(
    store: Store, model_run: ModelRun, status: CheckStatus
) -> None:
    model_run("r1", gate=None)
    report = store.create_gate_report("r1", None)
    done = store.finish_gate_report(report.id, [check("tests", P), check("onnx_valid", status)])
    assert done.status == GateStatus.failed and not done.passed


def test_latest_gate_report_is_the_newest(store: Store, model_run: ModelRun) -> None:
    model_run("r1", gate="failed")
    first = store.latest_gate_report("r1")
    assert first is not None and first.status == GateStatus.failed
    second = store.create_gate_report("r1", None)
    assert store.latest_gate_report("r1") == second
    assert store.model_version("iris", 1).gate == second
    with pytest.raises(NotFound):
        store.latest_gate_report("nope")
    with pytest.raises(NotFound):
        store.create_gate_report("nope", None)
    with pytest.raises(NotFound):
        store.finish_gate_report("nope", [])


def test_set_alias_records_one_event_per_change(store: Store, model_run: ModelRun) -> None:
    v1, v2 = model_run("r1"), model_run("r2")
    promote(store, v1.id, None)
    promote(store, v2.id, v1.id)
    detail = store.model_detail("iris")
    assert [(a.alias, a.version) for a in detail.aliases] == [("production", 2)]
    assert [v.aliases for v in detail.versions] == [["production"], []]
    newest = detail.events[0]
    assert (newest.action, newest.version, newest.previous_version) == ("promote", 2, 1)
    assert (newest.actor, newest.reason, newest.gate_report_id) == ("ann", "ship it", "g1")
    assert newest.at.tzinfo is not None
    assert [e.version for e in store.alias_history("iris", "production")] == [1, 2]
    summary = store.list_models().models
    assert [(m.name, m.latest_version, m.versions) for m in summary] == [("iris", 2, 2)]
    assert summary[0].aliases[0].version == 2


def test_a_stale_change_is_refused_and_records_nothing(store: Store, model_run: ModelRun) -> None:
    v1, v2 = model_run("r1"), model_run("r2")
    promote(store, v1.id, None)
    with pytest.raises(Conflict, match="changed by someone else"):
        promote(store, v2.id, None)  # decided as if the alias were unset
    with pytest.raises(Conflict):
        promote(store, v2.id, v2.id)
    assert len(store.model_detail("iris").events) == 1
    assert store.resolve_alias("iris", "production").version == 1


def test_resolve_alias_and_cut_out(store: Store, model_run: ModelRun) -> None:
    v1 = model_run("r1")
    promote(store, v1.id, None)
    resolved = store.resolve_alias("iris", "production")
    assert (resolved.version, resolved.run_id, resolved.cut_out) == (1, "r1", False)
    assert resolved.model_dir == Path("/tmp/runs/r1/models/iris")
    assert resolved.manifest.prediction_output == "label"
    store.set_cut_out("iris", ["production"], True, "bob", "bad answers")
    cut = store.resolve_alias("iris", "production")
    assert cut.cut_out and cut.cut_out_reason == "bad answers"
    with pytest.raises(Conflict, match="already cut out"):
        store.set_cut_out("iris", ["production"], True, "bob", "again")
    store.set_cut_out("iris", ["production"], False, "bob", None)
    assert not store.resolve_alias("iris", "production").cut_out
    actions = [(e.action, e.actor, e.version) for e in store.model_detail("iris").events]
    assert actions == [("restore", "bob", 1), ("cutout", "bob", 1), ("promote", "ann", 1)]


def test_resolve_alias_says_what_exists(store: Store, model_run: ModelRun) -> None:
    with pytest.raises(NotFound, match="no model named"):
        store.resolve_alias("iris", "production")
    v1 = model_run("r1")
    promote(store, v1.id, None, alias="staging")
    with pytest.raises(NotFound, match="its aliases: staging"):
        store.resolve_alias("iris", "production")
    with pytest.raises(NotFound):
        store.resolve_alias("iris", "NOT-AN-ALIAS")
    with pytest.raises(NotFound):
        store.set_cut_out("iris", ["production"], True, "bob", "x")


def test_production_metric_reads_the_aliased_run(store: Store, model_run: ModelRun) -> None:
    v1 = model_run("r1")
    model_run("r2")
    store.ingest_metrics("r1", [("accuracy", 0.8, 0, 1), ("accuracy", 0.9, 1, 2)], 0, 100)
    store.ingest_metrics("r2", [("accuracy", 0.5, 0, 1), ("loss", math.nan, 0, 1)], 0, 100)
    assert store.production_metric("iris", "production", "accuracy") is None  # no alias yet
    promote(store, v1.id, None)
    assert store.production_metric("iris", "production", "accuracy") == 0.9
    assert store.production_metric("iris", "production", "f1") is None
    promote(store, store.model_version("iris", 2).id, v1.id)
    assert store.production_metric("iris", "production", "accuracy") == 0.5
    assert store.production_metric("iris", "production", "loss") is None  # NaN


def test_succeeded_runs_without_a_report_are_listed_for_recovery(
    store: Store, model_run: ModelRun
) -> None:
    model_run("gated", gate="passed")
    model_run("pending", gate="pending")
    model_run("ungated", gate=None)
    model_run("running", gate=None)
    for run_id in ("gated", "pending", "ungated", "running"):
        store.transition(run_id, RunStatus.preparing)
        store.transition(run_id, RunStatus.running)
    for run_id in ("gated", "pending", "ungated"):
        store.transition(run_id, RunStatus.succeeded)
    assert store.succeeded_runs_without_gate_report() == [("ungated", "/tmp/runs/ungated", None)]
