"""Write the characterisation tests of an extracted module: ``tests/test_<name>.py``.

One test per step: it restores the random generators and the inputs the step saw in
the notebook (captured by :mod:`mlops_kernel.notebook.capture`), calls the step and
compares its outputs' fingerprints with the notebook's. Steps whose inputs were not
stored share one module-scoped replay of the whole pipeline.

The file must pass ``ruff check`` and ``ruff format --check`` with ruff's defaults
(88 columns) and with wider limits, without ruff being installed when it is written,
so every statement is laid out here the way the formatter would: on one line when
it fits in 88 columns, otherwise one element per line with a trailing comma (which
the formatter keeps as it is at any line length).
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_kernel.notebook.capture import CaptureResult, StepCapture, StepSpec

__all__ = ["write_tests"]

LINE = 88
_RESERVED = frozenset(
    {
        "Path",
        "pytest",
        "MODULE",
        "FIXTURES",
        "SEED",
        "SEED_TORCH",
        "STEPS",
        "as_outputs",
        "assert_fingerprints",
        "assert_outputs",
        "expected_outputs",
        "load_inputs",
        "replay",
        "restore_rng",
        "replayed",
        "restore_files",
        "scratch_workdir",
        "NOTEBOOK_DIR",
    }
)


@dataclass(frozen=True)
class _Call:
    func: str
    args: tuple[_Node, ...]


@dataclass(frozen=True)
class _List:
    items: tuple[_Node, ...]
    brackets: str = "[]"


@dataclass(frozen=True)
class _Keyword:
    name: str
    value: _Node


_Node = str | _Call | _List | _Keyword


def _flat(node: _Node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, _Keyword):
        return f"{node.name}={_flat(node.value)}"
    if isinstance(node, _Call):
        return f"{node.func}({', '.join(_flat(arg) for arg in node.args)})"
    return f"{node.brackets[0]}{', '.join(_flat(item) for item in node.items)}{node.brackets[1]}"


def _render(node: _Node, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines of ``prefix + node + suffix`` at ``indent``, split as ruff format would."""
    pad = " " * indent
    line = pad + prefix + _flat(node) + suffix
    if isinstance(node, _Keyword):
        return _render(node.value, indent, f"{prefix}{node.name}=", suffix)
    if len(line) <= LINE or isinstance(node, str):
        return [line]
    if isinstance(node, _Call):
        head, children, close = node.func + "(", node.args, ")"
    else:
        head, children, close = node.brackets[0], node.items, node.brackets[1]
    if not children:
        return [line]
    if len(pad + prefix + head) > LINE and prefix.endswith(("= ", "return ")):
        return [pad + prefix + "(", *_render(node, indent + 4), pad + ")" + suffix]
    lines = [pad + prefix + head]
    for child in children:
        lines += _render(child, indent + 4, "", ",")
    lines.append(pad + close + suffix)
    return lines


def _str(text: str) -> str:
    """A double-quoted string literal (what ruff format prefers)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _names(names: Sequence[str]) -> _List:
    return _List(tuple(_str(name) for name in names))


def _wrap(text: str, width: int) -> list[str]:
    """Words of ``text`` in lines of at most ``width``; quotes and backslashes made harmless."""
    clean = re.sub(r"[\\\"]", "'", " ".join(text.split()))
    return textwrap.wrap(clean, width, break_long_words=False, break_on_hyphens=False) or [""]


def _doc(text: str, indent: int) -> list[str]:
    """A docstring at ``indent``: one line when it fits, else wrapped."""
    pad = " " * indent
    one = _wrap(text, 10_000)[0]
    if len(pad) + len(one) + 6 <= LINE:
        return [f'{pad}"""{one}"""']
    body = _wrap(text, LINE - indent - 3)
    return [f'{pad}"""{body[0]}', *(f"{pad}{line}" for line in body[1:]), f'{pad}"""']


def _cells(cells: Sequence[int]) -> str:
    shown = [str(index + 1) for index in cells]
    if not shown:
        return "no cells"
    if len(shown) == 1:
        return f"cell {shown[0]}"
    if len(shown) == 2:
        return f"cells {shown[0]} and {shown[1]}"
    if [int(s) for s in shown] == list(range(cells[0] + 1, cells[-1] + 2)):
        return f"cells {shown[0]} to {shown[-1]}"
    return f"cells {', '.join(shown)}"


def write_tests(
    test_path: Path,
    *,
    module: str,
    steps: Sequence[StepSpec],
    capture: CaptureResult,
    fixtures_rel: str,
    params_class: str = "Params",
    seed: int,
    seed_torch: bool,
    notebook: str | None = None,
    notebook_dir_rel: str | None = None,
    module_names: Collection[str] | None = None,
    workdir_subdir: str | None = None,
) -> str:
    """Write the test module for ``module`` (a dotted name) to ``test_path``; return it.

    ``fixtures_rel`` is the fixtures folder relative to the test file's folder, as a
    POSIX path; ``notebook`` names the notebook in the docstring (default: the file
    name the capture ran). ``workdir_subdir`` (with ``notebook_dir_rel`` naming the project
    folder) runs each test in that subfolder of the scratch copy, as the capture ran the
    notebook (``../data`` then resolves). With ``notebook_dir_rel`` (the notebook's folder relative
    to the test file's, e.g. ``".."``) each test runs in a scratch copy of that folder
    made of links, as the capture did, so relative reads of data files work; without
    it, in an empty temporary folder. ``module_names`` (the names the module defines at
    its top level, when known) sends a step whose stored inputs need a notebook-defined
    name the module lacks (:attr:`StepCapture.main_names`) to the replay instead.
    """
    by_name = {step.name: step for step in capture.steps}
    missing = [step.name for step in steps if step.name not in by_name]
    if missing:
        raise ValueError(f"no capture for steps {missing}")
    package, _, leaf = module.rpartition(".")
    alias = leaf if leaf not in _RESERVED and not leaf.startswith("test_") else f"{leaf}_module"
    captures = {step.name: by_name[step.name] for step in steps}
    if module_names is not None:
        captures = {name: _unless_missing(c, set(module_names)) for name, c in captures.items()}
    writer = _Writer(alias, captures, notebook_dir_rel, workdir_subdir)
    source = "".join(
        [
            _header(module, notebook or capture.notebook or "the notebook", fixtures_rel),
            writer.imports(package, leaf, steps),
            writer.constants(module, fixtures_rel, seed, seed_torch, steps),
            writer.test_import(),
            writer.replay_fixture(params_class) if writer.replayed(steps) else "",
            *(writer.test_step(step) for step in steps),
        ]
    )
    source = source.rstrip("\n") + "\n"
    test_path = Path(test_path)
    test_path.parent.mkdir(parents=True, exist_ok=True)
    test_path.write_text(source, encoding="utf-8")
    return source


def _unless_missing(capture: StepCapture, defined: set[str]) -> StepCapture:
    """The capture as the tests use it: not stored when its inputs cannot load."""
    lacking = [name for name in capture.main_names if name not in defined]
    if not lacking or capture.inputs_file is None:
        return capture
    note = (
        f"its stored inputs need {', '.join(lacking)}, defined in the notebook but not "
        "at the top level of the module"
    )
    return dataclasses.replace(capture, inputs_file=None, inputs_sha256=None, note=note)


def _header(module: str, notebook: str, fixtures_rel: str) -> str:
    summary = f"Characterisation tests of {module}, generated from {notebook}."
    body = (
        "Each test gives one step of the module what that step saw when the notebook ran "
        "top to bottom in a fresh kernel (its inputs and the random generators' states, "
        f"stored in {fixtures_rel}) and checks that it computes what the notebook computed. "
        "Steps whose inputs could not be stored are checked by replaying the whole "
        "pipeline. Do not edit: after changing the notebook, extract it again "
        "(mlops extract) to regenerate these tests and their fixtures."
    )
    lines = _wrap(summary, LINE - 3)
    lines[0] = '"""' + lines[0]
    lines += ["", *_wrap(body, LINE), '"""']
    return "\n".join(lines) + "\n\n"


@dataclass(frozen=True)
class _Writer:
    """The parts of one test module, for one extracted module and its capture."""

    alias: str  # the name the test module imports the extracted module under
    captures: dict[str, StepCapture]
    notebook_dir_rel: str | None
    workdir_subdir: str | None = None

    def stored(self, step: StepSpec) -> bool:
        capture = self.captures[step.name]
        return capture.inputs_file is not None and capture.inputs_sha256 is not None

    def replayed(self, steps: Sequence[StepSpec]) -> bool:
        return not all(self.stored(step) for step in steps)

    def imports(self, package: str, leaf: str, steps: Sequence[StepSpec]) -> str:
        used = {"expected_outputs"}
        if self.replayed(steps):
            used |= {"replay", "assert_fingerprints"}
        stored = [step for step in steps if self.stored(step)]
        if stored:
            used |= {"as_outputs", "assert_outputs"}
        if any(step.inputs for step in stored):
            used.add("load_inputs")
        if any(self.captures[step.name].rng_sha256 for step in stored):
            used.add("restore_rng")
        if any(self.captures[step.name].files for step in stored):
            used.add("restore_files")
        if self.notebook_dir_rel is not None:
            used.add("scratch_workdir")
        helpers = [f"from mlops_kernel.testing import {', '.join(sorted(used))}"]
        if len(helpers[0]) > LINE:
            names = [f"    {name}," for name in sorted(used)]
            helpers = ["from mlops_kernel.testing import (", *names, ")"]
        target = f"from {package} import {leaf}" if package else f"import {leaf}"
        if self.alias != leaf:
            target += f" as {self.alias}"
        third_party = ["import pytest", *helpers] if self.replayed(steps) else helpers
        lines = ["from pathlib import Path", "", *third_party, "", target]
        return "\n".join(lines) + "\n\n"

    def constants(
        self, module: str, fixtures_rel: str, seed: int, seed_torch: bool, steps: Sequence[StepSpec]
    ) -> str:
        lines = [f"MODULE = {_str(module)}"]
        here = "Path(__file__).parent.joinpath"
        lines += _render(_Call(here, (_str(fixtures_rel),)), 0, "FIXTURES = ")
        if self.notebook_dir_rel is not None:
            lines += _render(_Call(here, (_str(self.notebook_dir_rel),)), 0, "NOTEBOOK_DIR = ")
        if self.replayed(steps):
            lines += [f"SEED = {seed!r}", f"SEED_TORCH = {seed_torch!r}"]
            rows = (_List((_str(s.name), _names(s.inputs), _names(s.outputs)), "()") for s in steps)
            lines += _render(_List(tuple(rows)), 0, "STEPS = ")
        return "\n".join(lines) + "\n\n\n"

    def test_import(self) -> str:
        return (
            "def test_import():\n"
            '    """The module imports and has its entry points."""\n'
            f"    assert callable({self.alias}.run)\n"
            f"    assert callable({self.alias}.main)\n\n\n"
        )

    def workdir(self, folder: str) -> str:
        """The folder a test runs in: ``folder``, or a scratch copy of the notebook's."""
        if self.notebook_dir_rel is None:
            return folder
        if self.workdir_subdir:
            return f"scratch_workdir(NOTEBOOK_DIR, {folder}).joinpath({_str(self.workdir_subdir)})"
        return f"scratch_workdir(NOTEBOOK_DIR, {folder})"

    def replay_fixture(self, params_class: str) -> str:
        call = _Call(
            "replay",
            (
                self.alias,
                "STEPS",
                f"{self.alias}.{params_class}()",
                _Keyword("seed", "SEED"),
                _Keyword("seed_torch", "SEED_TORCH"),
            ),
        )
        fresh = 'tmp_path_factory.mktemp("replay")'
        lines = [
            '@pytest.fixture(scope="module")',
            "def replayed(tmp_path_factory):",
            *_doc("Every step's output fingerprints from one run of the whole pipeline.", 4),
            "    with pytest.MonkeyPatch.context() as patch:",
            f"        patch.chdir({self.workdir(fresh)})",
            *_render(call, 8, "return "),
        ]
        return "\n".join(lines) + "\n\n\n"

    def test_step(self, step: StepSpec) -> str:
        capture = self.captures[step.name]
        name = _str(step.name)
        expected = _Call("expected_outputs", ("FIXTURES", name))
        about = f"{step.name}: {_cells(step.cells)} of the notebook."
        if not self.stored(step):
            reason = capture.note or "its inputs were not stored"
            lines = [
                *_render(_Call(f"test_{step.name}", ("replayed",)), 0, "def ", ":"),
                *_doc(f"{about} Checked by replaying the pipeline ({reason}).", 4),
                *_render(_Call("assert_fingerprints", (expected, f"replayed[{name}]")), 4),
            ]
            return "\n".join(lines) + "\n\n\n"
        signature = _Call(f"test_{step.name}", ("tmp_path", "monkeypatch"))
        lines = [*_render(signature, 0, "def ", ":"), *_doc(about, 4)]
        if step.inputs:
            lines.append(f"    inputs_sha256 = {_str(capture.inputs_sha256 or '')}")
        if capture.rng_sha256:
            lines.append(f"    rng_sha256 = {_str(capture.rng_sha256)}")
        lines.append(f"    monkeypatch.chdir({self.workdir('tmp_path')})")
        if capture.files:
            lines += _render(_Call("restore_files", ("FIXTURES", name, "tmp_path")), 4)
        if capture.rng_sha256:
            lines += _render(_Call("restore_rng", ("FIXTURES", name, "rng_sha256")), 4)
        call = f"{self.alias}.{step.name}"
        if step.inputs:
            module = _Keyword("module", "MODULE")
            load = _Call("load_inputs", ("FIXTURES", name, "inputs_sha256", module))
            lines += _render(load, 4, "inputs = ")
            lines += _render(_Call(call, ("**inputs",)), 4, "result = ")
        else:
            lines.append(f"    result = {call}()")
        lines += _render(_Call("as_outputs", ("result", _names(step.outputs))), 4, "actual = ")
        lines += _render(_Call("assert_outputs", (expected, "actual")), 4)
        return "\n".join(lines) + "\n\n\n"
