"""The preview of an extraction: what Productionise will write, before anything runs.

Steps, inputs and outputs, lint, the module's code, the shape of its generated tests
and the parameters' defaults (for a form). Nothing is written to the project.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlops_kernel.notebook.analysis import analyse
from mlops_kernel.notebook.codegen import module_source
from mlops_kernel.notebook.extract import (
    capture_plan_for,
    lint_analysis,
    plan_request,
    tests_notebook_dir,
)
from mlops_kernel.notebook.formatting import tidy
from mlops_kernel.notebook.naming import Layout
from mlops_kernel.notebook.planner import ModulePlan
from mlops_kernel.notebook.report import extraction_findings, step_plans
from mlops_kernel.notebook.schemas import ExtractionPlan, ExtractionRequest

__all__ = ["plan_extraction"]


def plan_extraction(request: ExtractionRequest) -> ExtractionPlan:
    """The preview: steps, inputs and outputs, lint and the module's code; nothing written."""
    notebook, layout, plan = plan_request(request)
    source, _problems = tidy(module_source(plan, module=layout.module), layout.module_path.name)
    analysis = plan.analysis if plan.notebook is notebook else analyse(notebook)
    report = lint_analysis(analysis, layout.project)
    inputs, outputs = analysis.selection_io(plan.selected)
    return ExtractionPlan(
        notebook=str(notebook.path),
        project=str(layout.project),
        package=layout.package,
        name=layout.name,
        module_path=str(layout.module_path),
        test_path=str(layout.test_path),
        steps=step_plans(plan),
        inputs=inputs,
        outputs=outputs,
        params={f.name: f.type for f in plan.params},
        param_defaults=_scalar_defaults(plan),
        module_source=source,
        test_source=_preview_tests(plan, layout, request),
        findings=[*report.findings, *extraction_findings(plan)],
        readiness=report.readiness,
        cells=report.cells,
    )


def _scalar_defaults(plan: ModulePlan) -> dict[str, str | int | float | bool | None]:
    """The parameters' defaults a form can show: scalars written as Python literals."""
    import ast

    out: dict[str, str | int | float | bool | None] = {}
    for field in plan.params:
        if field.factory is not None:
            continue
        try:
            value = ast.literal_eval(field.default)
        except (ValueError, SyntaxError):
            continue
        if value is None or isinstance(value, str | int | float | bool):
            out[field.name] = value
    return out


def _preview_tests(plan: ModulePlan, layout: Layout, request: ExtractionRequest) -> str:
    """The generated tests as they will read if every step's inputs can be stored.

    The values they compare come from the notebook's own run at extraction, so the
    preview has the tests' shape and names, not their fixtures.
    """
    from mlops_kernel.notebook.capture import CaptureResult, StepCapture
    from mlops_kernel.notebook.testgen import write_tests

    capture_plan = capture_plan_for(plan, request)
    steps = capture_plan.steps  # type: ignore[attr-defined]
    stored = [
        StepCapture(s.name, f"{s.name}.inputs", "preview", None, None, outputs={}) for s in steps
    ]
    capture = CaptureResult(steps=stored, printed={}, final_values={}, cell_seconds={})
    assert plan.notebook.path is not None
    tests_dir, tests_subdir = tests_notebook_dir(layout, plan.notebook.path)
    with tempfile.TemporaryDirectory(prefix="mlops-preview-") as tmp:
        return write_tests(
            Path(tmp) / layout.test_path.name,
            module=layout.module,
            steps=steps,
            capture=capture,
            fixtures_rel=str(layout.fixtures_path.relative_to("tests")),
            seed=capture_plan.seed,  # type: ignore[attr-defined]
            seed_torch=plan.seed_torch,
            notebook=plan.notebook.path.name,
            notebook_dir_rel=tests_dir,
            workdir_subdir=tests_subdir,
            module_names=plan.module_names,
        )
