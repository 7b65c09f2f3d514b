"""Making generated code ruff-clean: sort and prune imports, format, flag what remains.

ruff is a dependency, so the generated module looks like the rest of a modern
project. Rules are the defaults (pyflakes and the pycodestyle errors) plus
import sorting, applied in isolation from the user's configuration so the
result does not depend on where it is written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RULES = "E4,E7,E9,F,I"


def ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


def _ruff(args: list[str], source: str, filename: str) -> subprocess.CompletedProcess[str]:
    binary = ruff_binary()
    if binary is None:
        raise FileNotFoundError("ruff")
    command = [binary, *args, "--isolated", "--stdin-filename", filename, "-"]
    return subprocess.run(command, input=source, capture_output=True, text=True, timeout=60)


def tidy(source: str, filename: str = "module.py") -> tuple[str, list[str]]:
    """(formatted source, remaining problems). Unused imports go; unused values keep their call.

    Without ruff (not installed) the source comes back unchanged with a note.
    """
    try:
        fixed = _ruff(
            ["check", "--select", "F401,F841,I001", "--fix", "--unsafe-fixes", "--exit-zero",
             "--quiet", "--target-version", "py311"],
            source, filename,
        )  # fmt: skip
        if fixed.returncode == 0 and fixed.stdout:
            source = fixed.stdout
        formatted = _ruff(["format", "--quiet", "--target-version", "py311"], source, filename)
        if formatted.returncode == 0 and formatted.stdout:
            source = formatted.stdout
        report = _ruff(
            ["check", "--select", RULES, "--output-format", "concise", "--quiet",
             "--target-version", "py311"],
            source, filename,
        )  # fmt: skip
    except FileNotFoundError:
        return source, ["ruff is not installed: the module was not formatted"]
    except subprocess.TimeoutExpired:
        return source, ["ruff took too long: the module was not formatted"]
    problems = [
        line.split(":", 1)[-1].strip() for line in report.stdout.splitlines() if line.strip()
    ]
    return source, [p for p in problems if p and not p.startswith("Found")]


def main() -> None:  # pragma: no cover - a debugging aid: python -m ...formatting FILE
    path = Path(sys.argv[1])
    text, problems = tidy(path.read_text(), path.name)
    sys.stdout.write(text)
    for problem in problems:
        print(problem, file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    main()
