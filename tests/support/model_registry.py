"""Registry test helpers: manifests, gate checks, and runs that logged a model and were
gated, made through the store directly (no training needed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from mlops_daemon.store.repository import Store
from mlops_kernel.model_schemas import CheckStatus, GateCheck, ModelVersionOut
from mlops_kernel.models.manifest import ModelManifest, ModelSignature, TensorSpec
from mlops_kernel.schemas import RunSpec

ModelRun = Callable[..., ModelVersionOut]
"""``model_run(run_id, name="iris", gate="passed"|"failed"|"pending"|None)``"""


def manifest(name: str = "iris", sha: str = "ab" * 32) -> ModelManifest:
    """A manifest as log_model writes it (the registry reads nothing else)."""
    return ModelManifest(
        name=name,
        flavor="sklearn",
        task="classification",
        onnx_sha256=sha,
        opset=17,
        native_file="native.pkl",
        signature=ModelSignature(
            inputs=[TensorSpec(name="X", dtype="float32", shape=[None, 4])],
            outputs=[TensorSpec(name="label", dtype="int64", shape=[None])],
        ),
        prediction_output="label",
        raw_input_width=4,
        sample_input=[[5.1, 3.5, 1.4, 0.2]],
        sample_output=[0],
        created_at=datetime.now(UTC),
    )


def check(name: str, status: CheckStatus, required: bool = True) -> GateCheck:
    kind = name.split(":")[0]
    return GateCheck(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        status=status,
        required=required,
        lesson="a lesson",
    )


def make_model_run(
    store: Store, run_id: str, name: str = "iris", gate: str | None = "passed"
) -> ModelVersionOut:
    """A run (``run_id``) that logged model ``name``, registered, with a gate report in
    state ``gate`` (None: never gated). A failed report fails ``metric:accuracy``."""
    if not store.run_exists(run_id):
        store.create_run(
            run_id,
            RunSpec(project="/srv/project", entry_point="train.py"),
            "local",
            Path(f"/tmp/runs/{run_id}"),
        )
    version = store.register_model_version(
        run_id, Path(f"/tmp/runs/{run_id}/models/{name}"), manifest(name)
    )
    if gate is not None:
        report = store.create_gate_report(run_id, None)
        if gate != "pending":
            status = CheckStatus.passed if gate == "passed" else CheckStatus.failed
            store.finish_gate_report(
                report.id,
                [check("tests", CheckStatus.passed), check("metric:accuracy", status)],
            )
    return store.model_version(name, version.version)
