"""Checks on the text and string literals of cells: secrets and absolute paths.

Secrets are searched in every cell (markdown too) and in saved text outputs,
because a key leaks wherever it is written. A finding never repeats the
secret: messages say what kind of secret and where, and :func:`excerpt` masks
anything secret-looking before other checks echo a line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from mlops_kernel.notebook.analysis import CellAnalysis, NotebookAnalysis
from mlops_kernel.notebook.lint_lessons import finding, where
from mlops_kernel.notebook.schemas import Finding
from mlops_kernel.notebook.source import Cell

TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})")),
    ("an API secret key (sk-...)", re.compile(r"(?<![\w-])sk-(?:[A-Za-z0-9_]+-)*[A-Za-z0-9]{20,}")),
    ("a Slack token", re.compile(r"\bxox[bpoas]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
)
"""(what it is, pattern) for credentials recognisable by their shape alone."""

_SECRET_SUFFIXES = (
    "password", "passwd", "secret", "api_key", "apikey", "access_key", "secret_key",
    "private_key", "client_secret", "access_token", "auth_token", "api_token",
)  # fmt: skip
_SECRET_EXACT = re.compile(
    r"^(?:pwd|token)$|(?:^|_)(?:pwd|(?:hf|gh|github|gitlab|slack|bot|bearer|openai|wandb"
    r"|refresh|session)_?token)$"
)
_PLACEHOLDER = re.compile(
    r"^(?:|\W*|x+|\*+|\.+|<.*>|\{.*\}|\$\{?\w+\}?|[A-Z][A-Z0-9_]*|(?i:.*your.*|todo|none|null"
    r"|changeme|change_me|secret|password|example|dummy|test|xxx.*))$"
)
"""Values that are not a real secret: empty, a placeholder, an environment variable name."""


_PLACEHOLDER_RUN = re.compile(r"(.)\1{5}")
"""Six equal characters in a row: 'sk-xxxxxxxx...' is a placeholder, real keys are random."""


def find_token(text: str) -> str | None:
    """What kind of credential ``text`` holds (e.g. 'a GitHub token'), if any."""
    for what, pattern in TOKEN_PATTERNS:
        for match in pattern.finditer(text):
            if what == "a private key" or not _PLACEHOLDER_RUN.search(match.group()):
                return what
    return None


def mask_secrets(text: str) -> str:
    """``text`` with every token-shaped secret replaced by '***'."""
    for _, pattern in TOKEN_PATTERNS:
        text = pattern.sub("***", text)
    return text


_CREDENTIALS_IN_URL = re.compile(r"(\w+://)[^/\s:@]+:[^/\s@]+@")


def excerpt(text: str, limit: int = 60) -> str:
    """``text`` safe to echo: secrets and URL credentials masked, shortened to ``limit``."""
    text = mask_secrets(_CREDENTIALS_IN_URL.sub(r"\1***@", text.strip()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(_SECRET_SUFFIXES) or bool(_SECRET_EXACT.search(lowered))


def _is_secret_value(node: ast.expr | None) -> bool:
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    return not _PLACEHOLDER.match(node.value.strip())


def _key_name(target: ast.expr) -> str | None:
    """The name a value is stored under: ``x``, ``obj.x`` or ``d["x"]``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def _assigned_secrets(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, name) for every non-empty string literal stored under a secret-sounding name."""
    for node in ast.walk(tree):
        pairs: list[tuple[str | None, ast.expr | None]] = []
        if isinstance(node, ast.Assign):
            pairs = [(_key_name(target), node.value) for target in node.targets]
        elif isinstance(node, ast.AnnAssign):
            pairs = [(_key_name(node.target), node.value)]
        elif isinstance(node, ast.Call):
            pairs = [(kw.arg, kw.value) for kw in node.keywords]
        elif isinstance(node, ast.Dict):
            pairs = [
                (key.value, value)
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            ]
        for name, value in pairs:
            if name and _is_secret_name(name) and _is_secret_value(value):
                yield getattr(value, "lineno", getattr(node, "lineno", 1)), name


def _output_texts(cell: Cell) -> Iterator[str]:
    for output in cell.outputs:
        texts: list[object] = [output.get("text"), output.get("evalue")]
        data = output.get("data")
        if isinstance(data, dict):
            texts.append(data.get("text/plain"))
        for text in texts:
            if isinstance(text, list):
                yield "".join(str(part) for part in text)
            elif isinstance(text, str):
                yield text


def check_secrets(analysis: NotebookAnalysis) -> Iterator[Finding]:
    """secret-in-code: credentials in sources (any cell kind), assignments and outputs."""
    infos = {info.index: info for info in analysis.cells}
    for cell in analysis.notebook.cells:
        seen: set[tuple[int | None, str]] = set()
        for number, text in enumerate(cell.source.splitlines(), start=1):
            what = find_token(text)
            if what is not None:
                seen.add((number, what))
                message = f"{where(cell, number)} holds what looks like {what}"
                yield finding("secret-in-code", cell, message, number)
        info = infos.get(cell.index)
        if info is not None and info.tree is not None:
            for number, name in _assigned_secrets(info.tree):
                if not any(line == number for line, _ in seen):
                    seen.add((number, name))
                    message = f"{where(cell, number)} writes a secret into '{name}' as plain text"
                    yield finding("secret-in-code", cell, message, number)
        for text in _output_texts(cell):
            what = find_token(text)
            if what is not None and (None, what) not in seen:
                seen.add((None, what))
                message = f"the saved output of {where(cell)} shows what looks like {what}"
                yield finding("secret-in-code", cell, message)


_USER_HOME = re.compile(r"^(?:/home/|/Users/|/root/|/mnt/[a-z]/Users/|~[\w.-]*[/\\])")
_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[\w.-]+\\)")
_POSIX_ABSOLUTE = re.compile(r"^/[\w.@+-]+/[\w.@+ /-]*$")
_SYSTEM = (
    "/dev/", "/proc/", "/sys/", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/lib/",
    "/etc/", "/System/",
)  # fmt: skip
"""Operating-system locations: absolute, but not one machine's data."""
_FILE_WITH_SPACES = re.compile(r"^[^\s].*[\\/][^\\/]*\.[A-Za-z0-9]{1,6}$")


def path_kind(text: str) -> str | None:
    """'user' (a home folder), 'absolute' (another absolute path) or None (not a path, a URL)."""
    text = text.strip()
    if "\n" in text or len(text) > 400:  # URLs never match: they start with a scheme
        return None
    if re.search(r"\s", text) and (" -" in text or not _FILE_WITH_SPACES.match(text)):
        return None  # a sentence or a command line, not a path (unless it names a file)
    if _USER_HOME.match(text):
        return "user"
    if _WINDOWS.match(text):
        return "absolute"
    if _POSIX_ABSOLUTE.match(text) and not text.startswith(_SYSTEM):
        return "absolute"
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of string constants used as bare statements (docstrings, notes)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def _path_literals(tree: ast.Module) -> Iterator[tuple[int, str]]:
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr):
            continue
        text: str | None = None
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                text = first.value
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            text = node.value
        if text is not None:
            yield node.lineno, text


def _relative_hint(text: str, project: Path | None) -> str:
    if project is None:
        return ""
    try:
        relative = Path(text).expanduser().resolve().relative_to(project.resolve())
    except (ValueError, OSError, RuntimeError):
        return ""
    return f" (it is inside the project: use '{relative.as_posix()}')"


def check_paths(info: CellAnalysis, project: Path | None) -> Iterator[Finding]:
    """absolute-path: string literals naming one machine's or one user's files."""
    if info.tree is None:
        return
    seen: set[str] = set()
    for line, text in sorted(_path_literals(info.tree)):
        kind = path_kind(text)
        if kind is None or text in seen:
            continue
        seen.add(text)
        what = "a path in one user's home folder" if kind == "user" else "an absolute path"
        hint = _relative_hint(text, project)
        message = f"'{excerpt(text)}' in {where(info.cell, line)} is {what}{hint}"
        yield finding("absolute-path", info.cell, message, line)
