"""Human-readable output of ``mlops lint`` and ``mlops extract``."""

from __future__ import annotations

import textwrap
from typing import Any, TextIO

from . import format as fmt

WIDTH = 96
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _indented(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.strip().splitlines():
        wrapped = textwrap.wrap(paragraph, WIDTH - len(indent)) or [""]
        lines.extend(indent + line for line in wrapped)
    return lines


def lint_report(report: dict[str, Any]) -> str:
    """Findings grouped by cell (numbered as JupyterLab shows them), each with its
    severity, message and lesson, then the readiness checklist and score."""
    lines = [f"lint: {report['notebook']}"]
    findings = report["findings"]
    by_cell: dict[int | None, list[dict[str, Any]]] = {}
    for finding in findings:
        by_cell.setdefault(finding.get("cell"), []).append(finding)
    for cell in sorted(by_cell, key=lambda c: (c is None, c or 0)):
        lines.append("")
        lines.append("notebook:" if cell is None else f"cell {cell + 1}:")
        group = sorted(
            by_cell[cell], key=lambda f: (SEVERITY_ORDER.get(f["severity"], 3), f.get("line") or 0)
        )
        for f in group:
            where = f" (line {f['line']})" if f.get("line") else ""
            lines.append(f"  {f['severity']:<8} {f['message']}{where}  [{f['id']}]")
            if f.get("lesson"):
                lines.extend(_indented(f["lesson"], " " * 11))
    if not findings:
        lines += ["", "no findings"]
    readiness = report["readiness"]
    lines += ["", f"readiness: {readiness['score']}/100"]
    for item in readiness["checklist"]:
        mark = "x" if item["passed"] else " "
        detail = f": {item['detail']}" if item.get("detail") else ""
        lines.append(f"  [{mark}] {item['label']}{detail}")
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITY_ORDER}
    lines += [
        "",
        ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items()),
    ]
    return "\n".join(lines)


def extraction_result(result: dict[str, Any], run_hint: str) -> str:
    version = result.get("version")
    state = "new" if result.get("changed") else "unchanged"
    metrics = result.get("metrics") or {}
    lines = [
        f"extracted {result['module_path']} from {result['notebook']}",
        f"  module:   {result['module']} ({result['module_path']})",
        f"  tests:    {result['test_path']} ({result['tests_passed']} passed)",
        f"  version:  {version if version is not None else '-'} ({state})",
        f"  git:      {result.get('git_sha') or '-'}",
        "  metrics:  "
        + (", ".join(f"{k}={fmt.number(v)}" for k, v in metrics.items()) if metrics else "-"),
        "",
        "train it next:",
        f"  {run_hint}",
    ]
    return "\n".join(lines)


def job_failure(error: dict[str, Any]) -> str:
    lines = [f"mlops: extraction failed: {error['message']}"]
    if error.get("cell") is not None:
        lines.append(f"  in cell {error['cell'] + 1}")
    if error.get("lesson"):
        lines.append("  lesson:")
        lines.extend(_indented(error["lesson"], "    "))
    if error.get("output"):
        lines.append("  output:")
        lines.extend("    " + line for line in error["output"].rstrip().splitlines()[-30:])
    return "\n".join(lines)


class ProgressLine:
    """Shows a job's progress: one line rewritten in place on a terminal, else a
    plain line each time it changes."""

    def __init__(self, stream: TextIO, tty: bool, width: int = 100) -> None:
        self.stream = stream
        self.tty = tty
        self.width = max(20, width - 1)
        self.last = ""
        self.shown = 0

    def show(self, state: str, progress: dict[str, Any] | None) -> None:
        if progress is None:
            text = f"extraction {state}…"
        else:
            count = f" {progress['done']}/{progress['total']}" if progress["total"] else ""
            text = f"{progress['stage']}{count}: {progress['message']}".rstrip(": ")
        if text == self.last:
            return
        self.last = text
        if self.tty:
            text = text[: self.width]
            self.stream.write("\r" + text.ljust(self.shown))
            self.shown = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0
