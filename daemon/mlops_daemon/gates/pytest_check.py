"""The ``tests`` gate: the module's tests, run with pytest in a fresh process.

Which tests: the paths ``[gates.tests] paths`` names, else the entry module's
generated test file (``tests/test_<module>.py``, what Productionise writes), else the
project's ``tests/`` folder. No tests at all is a failure: nothing then shows that
the module still does what the notebook did (``tests = false`` opts out, on purpose).

The process gets a clean environment (like a local run's), the project on
``PYTHONPATH`` (then the daemon's own import paths, as a local run has them) and a
throwaway ``MLOPS_HOME``, so tests that log metrics leave nothing behind. pytest's
JUnit XML gives the counts; its output is the evidence.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlops_daemon.executors.local import daemon_import_paths
from mlops_kernel.gates import TestsRule
from mlops_kernel.launch import parse_entry_point

EVIDENCE_CHARS = 6000
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
PYTEST_ARGS = ("-m", "pytest", "-q", "-p", "no:cacheprovider")

Runner = Callable[[list[str], float], tuple[int, str]]
"""Runs ``python`` argv somewhere else (the run's container): (exit code, output)."""


@dataclass(frozen=True)
class TestOutcome:
    ran: bool
    passed: bool
    summary: str
    """e.g. "12 passed", "1 failed, 11 passed", "no tests found"."""
    output: str
    paths: tuple[str, ...]


def chosen_tests(project: Path, entry_point: str, rule: TestsRule) -> tuple[str, ...]:
    """The test paths to run, relative to the project (empty when there are none)."""
    if rule.paths is not None:
        return tuple(p for p in rule.paths if (project / p).exists())
    entry = entry_point.strip()
    if ":" in entry:
        try:
            name = parse_entry_point(entry)[0].rsplit(".", 1)[-1]
        except ValueError:
            name = ""
    else:
        name = Path(entry).stem
    generated = Path("tests") / f"test_{name}.py"
    if name and (project / generated).is_file():
        return (generated.as_posix(),)
    if (project / "tests").is_dir():
        return ("tests",)
    return ()


def run_tests(
    project: Path, entry_point: str, rule: TestsRule, runner: Runner | None = None
) -> TestOutcome:
    """Run the module's tests (blocking: call it in a thread): with ``runner`` in the
    run's own environment elsewhere, else in a process of the daemon's Python."""
    paths = chosen_tests(project, entry_point, rule)
    if not paths:
        wanted = ", ".join(rule.paths) if rule.paths is not None else "tests/test_<module>.py"
        return TestOutcome(False, False, "no tests found", f"looked for {wanted}", ())
    if runner is not None:
        code, output = runner(["python", *PYTEST_ARGS, *paths], rule.timeout_s)
        summary = summary_line(output) or f"pytest exited with {code}"
        return TestOutcome(True, code == 0, summary, _tail(output), paths)
    with tempfile.TemporaryDirectory(prefix="mlops-gate-tests-") as tmp:
        report = Path(tmp) / "junit.xml"
        env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
        env.update(
            PYTHONPATH=os.pathsep.join([str(project), *daemon_import_paths()]),
            MLOPS_HOME=str(Path(tmp) / "home"),
            HOME=tmp,
            PYTHONDONTWRITEBYTECODE="1",
        )
        argv = [sys.executable, *PYTEST_ARGS, f"--junitxml={report}", *paths]
        try:
            done = subprocess.run(
                argv,
                cwd=project,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=rule.timeout_s,
            )
        except subprocess.TimeoutExpired as exc:
            out = _text(exc.stdout) + _text(exc.stderr)
            return TestOutcome(
                True, False, f"timed out after {rule.timeout_s:g} s", _tail(out), paths
            )
        output = _tail(done.stdout + done.stderr)
        summary = _summary(report) or f"pytest exited with {done.returncode}"
        return TestOutcome(True, done.returncode == 0, summary, output, paths)


def _summary(report: Path) -> str | None:
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, "0") or 0)
    failed = counts["failures"] + counts["errors"]
    passed = counts["tests"] - failed - counts["skipped"]
    parts = [f"{failed} failed"] if failed else []
    parts.append(f"{passed} passed")
    if counts["skipped"]:
        parts.append(f"{counts['skipped']} skipped")
    if counts["tests"] == 0:
        return "no tests collected"
    return ", ".join(parts)


_COUNT = re.compile(r"(\d+) (failed|passed|skipped|errors?|xfailed|xpassed)\b")


def summary_line(output: str) -> str | None:
    """The counts of pytest's last summary line ("1 failed, 11 passed"), if it has one."""
    for line in reversed(output.splitlines()):
        found = _COUNT.findall(line)
        if found:
            return ", ".join(f"{n} {word}" for n, word in found)
        if line.strip().startswith("no tests ran"):
            return "no tests collected"
    return None


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _tail(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else "...\n" + text[-EVIDENCE_CHARS:]
