"""Reading notebooks: bad input is a clear NotebookFormatError; IPython syntax is set apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.notebooks import build_notebook

from mlops_kernel.notebook.errors import NotebookFormatError
from mlops_kernel.notebook.source import load_notebook, parse_notebook, strip_ipython


def test_loads_cells_tags_and_counts(tmp_path: Path) -> None:
    path = build_notebook(
        tmp_path / "a.ipynb",
        ["md:# Title", ("x = 1", ["parameters"]), "print(x)"],
        execution_counts=[1, 2],
    )
    notebook = load_notebook(path)
    assert [c.kind for c in notebook.cells] == ["markdown", "code", "code"]
    assert notebook.cells[1].tags == ("parameters",)
    assert [c.execution_count for c in notebook.code_cells] == [1, 2]
    assert notebook.cells[2].index == 2 and notebook.cells[2].source == "print(x)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON (line 1"),
        ("[1, 2]", "the JSON is not an object"),
        (json.dumps({"nbformat": 3, "worksheets": []}), "nbformat 3 is too old"),
        (json.dumps({"cells": []}), "no 'nbformat' version"),
        (json.dumps({"nbformat": 4, "cells": [], "metadata": {}}), "no code to extract"),
        (
            json.dumps({"nbformat": 4, "metadata": {}, "cells": [
                {"cell_type": "code", "source": "   ", "metadata": {}, "outputs": []}]}),
            "no code to extract",
        ),
        (
            json.dumps({"nbformat": 4, "cells": [], "metadata": {
                "kernelspec": {"name": "ir", "language": "R"}}}),
            "kernel is 'R'",
        ),
        (json.dumps({"nbformat": 4, "cells": [{"cell_type": "weird"}]}), "unknown type"),
    ],
)  # fmt: skip
def test_bad_notebooks_say_why(text: str, expected: str) -> None:
    with pytest.raises(NotebookFormatError) as caught:
        parse_notebook(text, Path("nb.ipynb"))
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(NotebookFormatError, match="no such notebook"):
        load_notebook(tmp_path / "absent.ipynb")
    binary = tmp_path / "b.ipynb"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(NotebookFormatError, match="not UTF-8"):
        load_notebook(binary)


def test_huge_outputs_are_still_read(tmp_path: Path) -> None:
    path = build_notebook(tmp_path / "big.ipynb", ["print('x' * 10)"])
    data = json.loads(path.read_text())
    data["cells"][0]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": "y" * 5_000_000}
    ]
    path.write_text(json.dumps(data))
    notebook = load_notebook(path)
    assert notebook.code_cells[0].outputs[0]["output_type"] == "stream"


def test_strip_ipython_keeps_line_numbers_and_reports_magics() -> None:
    source = (
        "%matplotlib inline\nimport os\n!ls -l\nfiles = !ls\nos?\n"
        "if True:\n    !pip install x\nx = 1"
    )
    code, magics = strip_ipython(source)
    lines = code.splitlines()
    assert len(lines) == len(source.splitlines())
    assert lines[1] == "import os" and lines[6] == "    pass" and lines[7] == "x = 1"
    assert [(m.line, m.kind) for m in magics] == [
        (1, "line-magic"), (3, "shell"), (4, "shell"), (5, "help"), (7, "shell"),
    ]  # fmt: skip
    compile(code, "cell", "exec")


def test_cell_magics() -> None:
    code, magics = strip_ipython("%%time\nx = sum(range(10))")
    assert code.splitlines() == ["", "x = sum(range(10))"]
    assert magics[0].kind == "cell-magic"
    code, magics = strip_ipython("%%bash\necho hi\nls")
    assert code.strip() == "" and magics[0].text == "%%bash"


def test_not_equal_and_modulo_are_python() -> None:
    code, magics = strip_ipython("a = 5 % 3\nb = a != 2\nc = 'what?'")
    assert magics == [] and code == "a = 5 % 3\nb = a != 2\nc = 'what?'"


def test_magic_like_lines_inside_brackets_and_strings_are_python() -> None:
    source = (
        'message = ("value: %d"\n    % 3)\n'
        'doc = """\n!not a shell line\n%not a magic\n"""\n'
        "total = 1 + \\\n    2\n"
        "!echo real"
    )
    code, magics = strip_ipython(source)
    assert [m.text for m in magics] == ["!echo real"]
    compile(code, "cell", "exec")
    assert "%not a magic" in code and "    % 3)" in code
