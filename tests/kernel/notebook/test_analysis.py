"""The def-use graph: what each cell defines and reads, and a selection's inputs and outputs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support.notebooks import build_notebook, notebook_params

from mlops_kernel.notebook.analysis import analyse, analyse_cell
from mlops_kernel.notebook.defuse import def_use
from mlops_kernel.notebook.source import Cell, load_notebook


def facts(code: str) -> tuple[set[str], set[str], set[str]]:
    result = def_use(ast.parse(code))
    return result.defines, result.reads, result.mutates


@pytest.mark.parametrize(
    ("code", "defines", "reads", "mutates"),
    [
        ("x = y + 1", {"x"}, {"y"}, set()),
        ("x += 1", {"x"}, {"x"}, {"x"}),
        ("df['a'] = df['b'] * k", {"df"}, {"df", "k"}, {"df"}),
        ("df.drop(columns=['a'], inplace=True)", {"df"}, {"df"}, {"df"}),
        ("items.append(v)", {"items"}, {"items", "v"}, {"items"}),
        ("clf.fit(X, y)", {"clf"}, {"clf", "X", "y"}, {"clf"}),
        ("model = clf.fit(X, y)", {"clf", "model"}, {"clf", "X", "y"}, {"clf"}),
        ("obj.attr = 3", {"obj"}, {"obj"}, {"obj"}),
        ("squares = [i * i for i in range(n)]", {"squares"}, {"n", "range"}, set()),
        ("total = {k: v for k, v in pairs if v > limit}", {"total"}, {"pairs", "limit"}, set()),
        ("def f(a, b=default):\n    return a + b + scale", {"f"}, {"default", "scale"}, set()),
        ("def g():\n    global counter\n    counter = 1", {"g", "counter"}, set(), set()),
        ("lam = lambda z: z * factor", {"lam"}, {"factor"}, set()),
        ("class M(Base):\n    size = 3\n    def f(self):\n        return helper(self)",
         {"M"}, {"Base", "helper"}, set()),
        ("import numpy as np\nfrom a.b import c as d", {"np", "d"}, set(), set()),
        ("del x", {"x"}, {"x"}, set()),
        ("for i, row in enumerate(rows):\n    acc = acc + row", {"i", "row", "acc"},
         {"enumerate", "rows", "acc"}, set()),
        ("with open(p) as fh:\n    text = fh.read()", {"fh", "text"}, {"open", "p"}, set()),
        ("try:\n    v = 1\nexcept ValueError as err:\n    v = str(err)", {"v", "err"},
         {"ValueError", "str"}, set()),
        ("if (n := len(data)) > 3:\n    print(n)", {"n"}, {"len", "data", "print"}, set()),
        ("x = 1\ny = x", {"x", "y"}, set(), set()),
    ],
)  # fmt: skip
def test_def_use(code: str, defines: set[str], reads: set[str], mutates: set[str]) -> None:
    got_defines, got_reads, got_mutates = facts(code)
    assert got_defines == defines
    assert got_reads == reads
    assert got_mutates == mutates


def test_imports_record_their_module() -> None:
    cell = Cell(
        0,
        None,
        "code",
        "import numpy as np\nfrom sklearn.svm import SVC\nimport os.path",
        None,
        (),
        (),
    )
    info = analyse_cell(cell)
    assert info.imports == {"np": "numpy", "SVC": "sklearn.svm", "os": "os"}


def test_syntax_error_is_recorded_and_the_rest_analysed(tmp_path: Path) -> None:
    path = build_notebook(tmp_path / "nb.ipynb", ["x = 1", "y = (", "z = x + 1"])
    analysis = analyse(load_notebook(path))
    assert analysis.by_index(1).syntax_error is not None
    assert analysis.by_index(1).syntax_error[0] == 1
    assert analysis.by_index(2).reads == {"x"}


def test_method_calls_on_modules_are_not_data_changes(tmp_path: Path) -> None:
    path = build_notebook(
        tmp_path / "nb.ipynb",
        ["import matplotlib.pyplot as plt\nimport numpy as np", "np.random.seed(0)\nplt.plot([1])"],
    )
    analysis = analyse(load_notebook(path))
    assert analysis.by_index(1).defines == frozenset()
    assert analysis.by_index(1).mutates == frozenset()


def test_producer_consumers_and_selection_io(tmp_path: Path) -> None:
    path = build_notebook(
        tmp_path / "nb.ipynb",
        [
            "md:# Data",
            "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})",  # 1
            "df['b'] = df['a'] * 2",  # 2: mutation = redefinition
            "total = df['b'].sum()\nunused = 3",  # 3
            "print(total)",  # 4
            "df = None",  # 5: a new definition ends the earlier one
            "print(df)",  # 6
        ],
    )
    analysis = analyse(load_notebook(path))
    assert analysis.producer(3, "df") == 2
    assert analysis.producer(2, "df") == 1
    assert analysis.consumers(2, "df") == [3]
    assert analysis.consumers(5, "df") == [6]
    inputs, outputs = analysis.selection_io([2, 3])
    assert inputs == ["df"]
    assert outputs == ["total"]
    assert analysis.selection_io([1]) == ([], ["df"])
    assert analysis.missing_inputs([4]) == {}


def test_missing_inputs_name_the_reader(tmp_path: Path) -> None:
    path = build_notebook(tmp_path / "nb.ipynb", ["y = x + 1", "x = 2"])
    analysis = analyse(load_notebook(path))
    assert analysis.missing_inputs([0, 1]) == {"x": 0}


@pytest.mark.parametrize("notebook", notebook_params())
def test_real_notebooks_analyse_without_errors(notebook: Path) -> None:
    analysis = analyse(load_notebook(notebook))
    assert analysis.cells
    assert all(info.syntax_error is None for info in analysis.cells)
    everything = [info.index for info in analysis.cells]
    assert analysis.missing_inputs(everything) == {}


def test_function_bodies_read_at_call_time() -> None:
    defines, reads, _ = facts("def scale(a):\n    return (a - MEAN) / STD\nMEAN = 1\nSTD = 2")
    assert reads == set() and defines == {"scale", "MEAN", "STD"}
    _, reads, _ = facts("class K:\n    def f(self):\n        return LATER\nLATER = 1")
    assert reads == set()
    _, reads, _ = facts("f = lambda: LIMIT * 2\nLIMIT = 3\nprint(f())")
    assert reads == {"print"}
    _, reads, _ = facts("def g():\n    return OUTSIDE\nprint(g())")
    assert reads == {"OUTSIDE", "print"}
