"""Notebook analysis speed on a synthetic 500-cell notebook.

Measures, each as the median of several repetitions: loading and analysing the
notebook (the def-use graph), linting it, and planning the whole-notebook
module (analysis + display detection + steps + code generation, without ruff).
Baseline in the same run: ``json.loads`` plus ``ast.parse`` of every cell --
the least any tool that reads Python cells must do. Target: analysis < 1 s.
"""

from __future__ import annotations

import ast
import json
import statistics
import time
from pathlib import Path

from benchlib import BenchResult, Row, standalone, temp_dir

TARGET_S = 1.0
CELLS = 500


def synthetic_cells(count: int) -> list[str]:
    """Cells in the shapes real notebooks have: imports, frames, loops, functions, plots."""
    cells = ["import numpy as np\nimport matplotlib.pyplot as plt\nfrom math import sqrt"]
    for i in range(1, count):
        kind = i % 6
        prev = f"v{i - 1}"
        if kind == 0:
            cells.append(f"md:## Section {i}")
        elif kind == 1:
            cells.append(f"v{i} = np.arange({i} % 50 + 10) * 0.5\nv{i}[:3]")
        elif kind == 2:
            cells.append(
                f"def f{i}(x, scale={i}):\n    total = 0\n    for k in range(len(x)):\n"
                f"        total += x[k] * scale\n"
                f"    return [t for t in (total, sqrt(abs(total)))]\n"
                f"v{i} = f{i}({prev})"
            )
        elif kind == 3:
            cells.append(
                f"v{i} = {{'a': {prev}, 'n': len({prev})}}\n"
                f"v{i}['b'] = v{i}['n'] + 1\nprint(v{i}['b'])"
            )
        elif kind == 4:
            cells.append(
                f"fig, ax = plt.subplots()\nax.plot({prev}['a'])\nplt.show()\nv{i} = {prev}"
            )
        else:
            cells.append(
                f"v{i} = sum(float(x) for x in {prev}['a'] if x > 0)\nprint(f'score: {{v{i}:.3f}}')"
            )
    return cells


def _median(action: object, repetitions: int) -> float:
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(quick: bool = False) -> BenchResult:
    from support.notebooks import build_notebook

    from mlops_kernel.notebook.analysis import analyse
    from mlops_kernel.notebook.codegen import module_source
    from mlops_kernel.notebook.planner import plan_module
    from mlops_kernel.notebook.source import load_notebook

    repetitions = 3 if quick else 9
    result = BenchResult("analysis")
    with temp_dir("analysis") as tmp:
        path = build_notebook(tmp / "synthetic.ipynb", synthetic_cells(CELLS))
        text = path.read_text()

        def baseline() -> None:
            for cell in json.loads(text)["cells"]:
                if cell["cell_type"] == "code":
                    ast.parse("".join(cell["source"]))

        def analysis() -> None:
            analyse(load_notebook(path))

        def lint() -> None:
            from mlops_kernel.notebook.lint import lint as run_lint

            run_lint(analyse(load_notebook(path)), project=Path(tmp))

        def plan() -> None:
            module_source(plan_module(load_notebook(path)), module="pkg.synthetic")

        base = _median(baseline, repetitions)
        timings = {
            "load + analyse": _median(analysis, repetitions),
            "load + analyse + lint": _median(lint, repetitions),
            "load + plan + generate module": _median(plan, repetitions),
        }
    for label, seconds in timings.items():
        is_target = label == "load + analyse"
        result.rows.append(
            Row(
                f"{label}, {CELLS} cells",
                seconds * 1e3,
                "ms",
                "json + ast.parse",
                base * 1e3,
                seconds / base,
                f"< {TARGET_S * 1e3:.0f} ms" if is_target else "",
                seconds < TARGET_S if is_target else None,
            )
        )
    result.details = {
        "cells": CELLS,
        "repetitions": repetitions,
        "seconds": timings,
        "baseline_s": base,
    }
    result.notes.append(f"median of {repetitions} repetitions; the notebook has {CELLS} cells")
    return result


if __name__ == "__main__":
    standalone(run)
