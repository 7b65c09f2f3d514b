"""The ``tests`` gate's choice of tests and reading of pytest's results (real pytest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_daemon.gates.pytest_check import chosen_tests, run_tests, summary_line
from mlops_kernel.gates import TestsRule


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_generated_test_file_is_preferred_then_the_tests_folder(tmp_path: Path) -> None:
    rule = TestsRule()
    write(tmp_path, {"tests/test_other.py": "", "pkg/digits.py": ""})
    assert chosen_tests(tmp_path, "pkg.digits:main", rule) == ("tests",)
    write(tmp_path, {"tests/test_digits.py": ""})
    assert chosen_tests(tmp_path, "pkg.digits:main", rule) == ("tests/test_digits.py",)
    assert chosen_tests(tmp_path, "digits.py", rule) == ("tests/test_digits.py",)
    named = TestsRule(paths=("tests/test_other.py", "missing"))
    assert chosen_tests(tmp_path, "pkg.digits:main", named) == ("tests/test_other.py",)


def test_no_tests_is_a_failure_not_a_pass(tmp_path: Path) -> None:
    outcome = run_tests(tmp_path, "train.py", TestsRule())
    assert not outcome.ran and not outcome.passed
    assert outcome.summary == "no tests found"


@pytest.mark.slow
def test_results_are_counted_and_the_output_kept(tmp_path: Path) -> None:
    tests = "def test_ok():\n    pass\n\ndef test_bad():\n    assert 1 == 2, 'one is not two'\n"
    write(tmp_path, {"tests/test_train.py": tests, "train.py": ""})
    outcome = run_tests(tmp_path, "train.py", TestsRule())
    assert outcome.ran and not outcome.passed
    assert outcome.summary == "1 failed, 1 passed"
    assert "one is not two" in outcome.output
    assert not (tmp_path / ".pytest_cache").exists()


def test_the_summary_line_of_pytest_output() -> None:
    assert summary_line("...\n=== 2 failed, 10 passed, 1 skipped in 0.5s ===\n") == (
        "2 failed, 10 passed, 1 skipped"
    )
    assert summary_line("1 passed in 0.01s") == "1 passed"
    assert summary_line("no tests ran in 0.01s") == "no tests collected"
    assert summary_line("ImportError: boom") is None
