"""Notebook lint: every check fires on a planted problem and stays quiet on clean code.

Notebooks are built with ``support.notebooks`` (``build_notebook`` says the cell forms),
written to a temporary .ipynb file and read back through ``load_notebook``, so the
tests cover the real path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.notebooks import NotebookCell, analysed_notebook, notebook_params
from support.notebooks import code_cell as code
from support.notebooks import markdown_cell as markdown

from mlops_kernel.notebook.analysis import analyse
from mlops_kernel.notebook.lint import CHECK_IDS, lint
from mlops_kernel.notebook.lint_lessons import CHECKS
from mlops_kernel.notebook.schemas import Finding, Severity
from mlops_kernel.notebook.source import load_notebook


def run(folder: Path, *cells: NotebookCell, **options: Any) -> list[Finding]:
    return lint(analysed_notebook(folder, *cells), **options)


def of(findings: list[Finding], check_id: str) -> list[Finding]:
    return [item for item in findings if item.id == check_id]


PARAMS = code("data_path = 'data/train.csv'\nseed = 0", tags=("parameters",))

CLEAN: tuple[NotebookCell, ...] = (
    markdown("# Train a model\nData comes from `data/train.csv`."),
    PARAMS,
    "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression"
    "\nfrom sklearn.model_selection import train_test_split",
    "np.random.seed(seed)\nrng = np.random.default_rng(seed)\n"
    "frame = pd.DataFrame({'x': rng.normal(size=40), 'y': [0, 1] * 20})\n"
    "frame['x2'] = frame['x'] ** 2\nframe = frame.dropna()",
    "def split(data):\n"
    "    return train_test_split(data[['x', 'x2']], data['y'], random_state=seed)",
    "X_train, X_test, y_train, y_test = split(frame)\n"
    "model = LogisticRegression(random_state=seed).fit(X_train, y_train)",
    "score = model.score(X_test, y_test)\nprint(f'accuracy: {score:.2f}')",
)


def test_every_id_has_a_lesson_and_a_severity() -> None:
    assert set(CHECK_IDS) >= {
        "hidden-state", "use-before-define", "unused-result", "absolute-path",
        "unseeded-random", "pip-install", "dataframe-mutated-elsewhere", "oversized-cell",
        "no-parameters-cell", "secret-in-code", "star-import", "syntax-error",
        "ipython-syntax", "shell-escape",
    }  # fmt: skip
    for check in CHECKS.values():
        sentences = [s for s in check.lesson.split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 4, check.id
        assert isinstance(check.severity, Severity)


def test_clean_notebook_has_no_findings(tmp_path: Path) -> None:
    counted: list[NotebookCell] = [
        code(c, n) if isinstance(c, str) else c for n, c in enumerate(CLEAN)
    ]
    assert run(tmp_path, *counted) == []


# -- each check fires on a planted problem ----------------------------------------------------

FIRES: list[tuple[str, tuple[NotebookCell, ...], int | None, int | None, str]] = [
    # (check id, cells, expected cell index, expected line, text in the message)
    ("hidden-state", (code("a = 1", 1), code("b = a", 3), code("print(b)", 2)), 2, None, "[2]"),
    ("use-before-define", ("print(total)", "total = 1"), 0, 1, "'total'"),
    ("use-before-define", ("def f():\n    return K", "f()", "K = 1"), 1, 1, "reads 'K'"),
    ("undefined-name", ("print(ghost)",), 0, 1, "'ghost'"),
    ("unused-result", ("import numpy as np", "scratch = np.arange(3) * 2", "print(1)"), 1, None,
     "'scratch'"),
    ("unused-result", ("x = 1\nprint(x)", "x = 2", "print(1)"), 1, None, "'x'"),
    ("absolute-path", ("import pandas as pd\ndf = pd.read_csv('/home/alice/d.csv')",), 0, 2,
     "'/home/alice/d.csv'"),
    ("absolute-path", ("p = '/Users/bob/data/x.csv'",), 0, 1, "home folder"),
    ("absolute-path", ("p = r'C:\\Users\\bob\\x.csv'",), 0, 1, "C:\\Users"),
    ("absolute-path", ("p = '~/data/x.csv'",), 0, 1, "'~/data/x.csv'"),
    ("absolute-path", ("p = '/data/raw/train.csv'",), 0, 1, "an absolute path"),
    ("absolute-path", ("p = '/Users/Jane Doe/My Data/x.csv'",), 0, 1, "Jane Doe"),
    ("absolute-path", ("name = 'x'\np = f'/home/alice/{name}.csv'",), 0, 2, "/home/alice/"),
    ("unseeded-random", ("import numpy as np\nx = np.random.rand(3)",), 0, 2, "np.random.rand"),
    ("unseeded-random", ("import random\nitems = [1, 2]\nrandom.shuffle(items)",), 0, 3,
     "random.seed"),
    ("unseeded-random", ("import numpy as np\nx = np.random.rand(3)", "np.random.seed(0)"), 0, 2,
     "np.random.seed"),
    ("unseeded-random", ("import numpy as np\nrng = np.random.default_rng()",), 0, 2, "no seed"),
    ("unseeded-random", ("from sklearn.model_selection import train_test_split\n"
                         "a, b = train_test_split([1, 2, 3, 4])",), 0, 2, "train_test_split"),
    ("unseeded-random", ("from sklearn.model_selection import KFold\n"
                         "cv = KFold(n_splits=2, shuffle=True)",), 0, 2, "KFold"),
    ("unseeded-random", ("from sklearn.ensemble import RandomForestClassifier as RF\n"
                         "clf = RF(n_estimators=10)",), 0, 2, "RF(...)"),
    ("unseeded-random", ("from sklearn.decomposition import TruncatedSVD\n"
                         "svd = TruncatedSVD(2, random_state=None)",), 0, 2, "TruncatedSVD"),
    ("unseeded-random", ("from sklearn import ensemble\nparams = {'n_estimators': 5}",
                         "reg = ensemble.GradientBoostingRegressor(**params)"), 1, 1,
     "GradientBoostingRegressor"),
    ("unseeded-random", ("from sklearn import ensemble\nparams = {'max_depth': 3}\n"
                         "reg = ensemble.RandomForestRegressor(**params)",), 0, 3,
     "RandomForestRegressor"),
    ("unseeded-random", ("from sklearn.cluster import KMeans\n"
                         "def fit(data):\n    return KMeans(3).fit(data)",), 0, 3, "KMeans"),
    ("unseeded-random", ("import torch\nx = torch.randn(3)",), 0, 2, "torch.manual_seed"),
    ("unseeded-random", ("from torch import nn\nlayer = nn.Linear(2, 1)",), 0, 2, "nn.Linear"),
    ("unseeded-random", ("from torch.utils.data import DataLoader\n"
                         "loader = DataLoader([1, 2], shuffle=True)",), 0, 2, "DataLoader"),
    ("unseeded-random", ("from torch import nn\nclass Net(nn.Module):\n"
                         "    def __init__(self):\n        super().__init__()\n"
                         "        self.fc = nn.Linear(2, 1)", "model = Net()"), 1, 1, "Net(...)"),
    ("pip-install", ("!pip install pandas",), 0, 1, "!pip install pandas"),
    ("pip-install", ("%pip install -q torch",), 0, 1, "%pip install"),
    ("pip-install", ("import os\n!conda install -y numpy",), 0, 2, "conda install"),
    ("shell-escape", ("!ls -l data",), 0, 1, "'!ls -l data'"),
    ("shell-escape", ("files = !ls",), 0, 1, "'!ls'"),
    ("shell-escape", ("%%bash\necho hi",), 0, 1, "%%bash"),
    ("ipython-syntax", ("%matplotlib inline\nimport os",), 0, 1, "'%matplotlib inline'"),
    ("ipython-syntax", ("import os\n%%time\n",), 0, 2, "%%time"),
    ("ipython-syntax", ("%%time\nx = 1",), 0, 1, "'%%time'"),
    ("ipython-syntax", ("len?",), 0, 1, "'len?'"),
    ("dataframe-mutated-elsewhere", ("import pandas as pd\ndf = pd.read_csv('d.csv')",
                                     "df['y'] = df['x'] * 2"), 1, 1,
     "'df' is loaded in cell 1 and changed in place in cell 2"),
    ("dataframe-mutated-elsewhere", ("import pandas as pd\ndf = pd.read_csv('d.csv').dropna()",
                                     "x = 1", "df.drop(columns=['a'], inplace=True)"), 2, 1,
     "'df'"),
    ("dataframe-mutated-elsewhere", ("import pandas as pd\nt = pd.DataFrame({'a': [1]})",
                                     "t.loc[0, 'a'] = 2"), 1, 1, "'t'"),
    ("dataframe-mutated-elsewhere", ("from pandas import read_parquet\ndf = read_parquet('d')",
                                     "for c in ['a']:\n    del df[c]"), 1, 2, "'df'"),
    ("oversized-cell", ("\n".join(f"x{i} = {i}" for i in range(61)),), 0, None, "61"),
    ("no-parameters-cell", ("x = 1",), None, None, "'parameters'"),
    ("star-import", ("from math import *\nprint(pi)",), 0, 1, "'from math import *'"),
    ("syntax-error", ("x = = 1", "y = 2\nprint(y)"), 0, 1, "not valid Python"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check_id", "cells", "cell", "line", "text"),
    FIRES,
    ids=[f"{case[0]}-{n}" for n, case in enumerate(FIRES)],
)
def test_check_fires_on_planted_problem(
    tmp_path: Path,
    check_id: str,
    cells: tuple[NotebookCell, ...],
    cell: int | None,
    line: int | None,
    text: str,
) -> None:
    found = of(run(tmp_path, *cells), check_id)
    assert len(found) == 1, found
    item = found[0]
    assert (item.cell, item.line) == (cell, line)
    assert text in item.message
    assert item.severity == CHECKS[check_id].severity
    assert item.lesson == CHECKS[check_id].lesson


# -- ... and stays quiet on the near misses ---------------------------------------------------

QUIET: list[tuple[str, tuple[NotebookCell, ...]]] = [
    ("hidden-state", (code("a = 1", 1), code("b = 2"), code("print(a)", 2))),
    ("hidden-state", (code("a = 1", 2), code("b = 2", 5), code("print(a)", 9))),
    ("use-before-define", ("def f():\n    return LIMIT", "LIMIT = 3", "print(f())")),
    ("use-before-define", ("import os\nprint(os.sep, len([1]))", "xs = [i for i in range(3)]")),
    ("use-before-define", ("x = 1", "print(x)", "x = 2")),
    ("use-before-define", ("def f():\n    return helper(x)\ndef helper(v):\n    return v\n"
                           "x = [x for x in range(3)]\nprint(f())", "helper = None\nx = 0")),
    ("undefined-name", ("from math import *", "print(pi)")),
    ("undefined-name", ("files = !ls", "print(files)")),
    ("undefined-name", ("x = = 1", "print(x)")),
    ("unused-result", ("a = 1", "print(a b)", "print(2)")),
    ("unused-result", ("a = 1", "print(a)")),
    ("unused-result", ("print(a)", "a = 1", "print(2)")),
    ("unused-result", ("print(1)", "a = 1")),
    ("unused-result", ("a = 1\nprint(a)", "print(2)")),
    ("unused-result", ("a = 1\na", "print(2)")),
    ("unused-result", ("import matplotlib.pyplot as plt", "fig, ax = plt.subplots()", "print(1)")),
    ("unused-result", ("import pandas as pd", "df = pd.DataFrame({'a': [1]})\ndf.to_csv('o.csv')",
                       "print(1)")),
    ("unused-result", ("import os\ndef f():\n    return 1", "print(1)")),
    ("unused-result", ("def f():\n    return LIMIT", "LIMIT = 3", "print(f())")),
    ("unused-result", ("LIMIT = 1", "def f():\n    return LIMIT", "LIMIT = 5", "print(f())")),
    ("unused-result", ("items = []", "items.append(1)", "print(1)")),
    ("unused-result", ("def save(x):\n    return x", "r = save(1)", "print(2)")),
    ("unused-result", ("import requests", "r = requests.post('https://x.org')", "print(2)")),
    ("unused-result", ("y = 1\nassert y == 1", "print(2)")),
    ("unused-result", ("import numpy as np\nnp.random.seed(0)\nx = 1", "print(2)")),
    ("unused-result", ("import numpy as np\nnoise = np.random.rand(2)", "print(2)")),
    ("unused-result", ("import torch\nt = torch.set_num_threads(2)", "print(2)")),
    ("absolute-path", ("import pandas as pd\ndf = pd.read_csv('data/train.csv')",)),
    ("absolute-path", ("u = 'https://example.com/home/alice/x.csv'\nv = 'file:///home/a/b'",)),
    ("absolute-path", ("a = '/'\nb = 'a/b'\nc = '/dev/null'\nd = 'r-+'\ne = '1/2'",)),
    ("absolute-path", ("def f():\n    '''Reads /home/alice/x.csv by default.'''",)),
    ("absolute-path", ("a = '/home/alice/notes\\nmore'\nb = '/home/alice is my folder'\n"
                       "c = '/usr/bin/install -c -m 644'",)),
    ("absolute-path", ("sep = '~'\nroot = 'data'\np = f'{root}/home/x.csv'",)),
    ("unseeded-random", ("import numpy as np\nnp.random.seed(0)\nx = np.random.rand(3)",)),
    ("unseeded-random", ("import numpy as np\nrng = np.random.default_rng(42)\n"
                         "x = rng.normal(size=3)",)),
    ("unseeded-random", ("import numpy as np\nrng = np.random.RandomState(0)\n"
                         "x = rng.permutation(3)",)),
    ("unseeded-random", ("import random\nrandom.seed(1)", "random.shuffle([1, 2])")),
    ("unseeded-random", ("from sklearn.model_selection import train_test_split\n"
                         "a, b = train_test_split([1, 2, 3, 4], random_state=0)\n"
                         "c, d = train_test_split([1, 2, 3, 4], shuffle=False)",)),
    ("unseeded-random", ("from sklearn.model_selection import KFold, cross_val_score\n"
                         "cv = KFold(n_splits=3)",)),
    ("unseeded-random", ("from sklearn.linear_model import LinearRegression, Lasso\n"
                         "m = LinearRegression()\nn = Lasso(alpha=0.1)",)),
    ("unseeded-random", ("from sklearn import ensemble\nparams = {'random_state': 0}",
                         "reg = ensemble.GradientBoostingRegressor(**params)")),
    ("unseeded-random", ("from sklearn.neural_network import MLPClassifier\n"
                         "def fit(p):\n    return MLPClassifier(random_state=0, **p)",)),
    ("unseeded-random", ("from mylib import RandomForestClassifier\n"
                         "clf = RandomForestClassifier()",)),
    ("unseeded-random", ("def train_test_split(x):\n    return x, x\n"
                         "a, b = train_test_split([1])",)),
    ("unseeded-random", ("import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
                         "layer = nn.Linear(2, 1)\nx = torch.randn(3)",)),
    ("unseeded-random", ("import torch\nfrom torch import nn\nclass Net(nn.Module):\n"
                         "    def __init__(self):\n        super().__init__()\n"
                         "        self.w = nn.Parameter(torch.randn(1))",
                         "torch.manual_seed(42)\nmodel = Net()", "other = Net()")),
    ("unseeded-random", ("import numpy as np\ndef set_seed(s):\n    np.random.seed(s)\n"
                         "set_seed(0)\nx = np.random.rand(2)",)),
    ("unseeded-random", ("from lightning import seed_everything\nimport torch\n"
                         "seed_everything(0)\nx = torch.randn(2)",)),
    ("unseeded-random", ("import numpy as np\ndef noise():\n    return np.random.rand(2)",)),
    ("unseeded-random", ("import random\nimport numpy as np\n"
                         "random = np.random.default_rng(0)\nx = random.normal()",)),
    ("unseeded-random", ("from sklearn import ensemble\nparams = {'max_depth': 3}\n"
                         "params['random_state'] = 0\n"
                         "reg = ensemble.RandomForestRegressor(**params)",)),
    ("pip-install", ("!pip list",)),
    ("pip-install", ("print('pip install x')",)),
    ("shell-escape", ("%matplotlib inline",)),
    ("ipython-syntax", ("!ls",)),
    ("ipython-syntax", ("import os\nprint(os.sep)",)),
    ("dataframe-mutated-elsewhere", ("import pandas as pd\ndf = pd.read_csv('d.csv')\n"
                                     "df['y'] = 1",)),
    ("dataframe-mutated-elsewhere", ("import pandas as pd\ndf = pd.read_csv('d.csv')",
                                     "df = df.drop(columns=['x'])", "df['y'] = 1")),
    ("dataframe-mutated-elsewhere", ("d = {}", "d['x'] = 1")),
    ("dataframe-mutated-elsewhere", ("import mylib as pd\ndf = pd.read_csv('d.csv')",
                                     "df['y'] = 1")),
    ("dataframe-mutated-elsewhere", ("import pandas as pd\ndf = pd.read_csv('d.csv')",
                                     "df2 = df.assign(y=1)\ndf2['z'] = 2")),
    ("oversized-cell", ("\n\n".join(f"x{i} = {i}" for i in range(60)),)),
    ("no-parameters-cell", (code("x = 1", tags=("parameters",)),)),
    ("star-import", ("from math import pi\nprint(pi)",)),
    ("secret-in-code", ("key = 'sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxx'\nt = 'ghp_" + "X" * 36 + "'",)),
    ("secret-in-code", ("import os\npassword = os.environ['DB_PASSWORD']\napi_key = ''\n"
                        "token = '<your token here>'\ntokenizer = 'bert-base-uncased'\n"
                        "pad_token = '[PAD]'\nAPI_KEY = 'OPENAI_API_KEY'",)),
    ("syntax-error", ("x = 1",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check_id", "cells"), QUIET, ids=[f"{case[0]}-{n}" for n, case in enumerate(QUIET)]
)
def test_check_is_quiet_on_clean_code(
    tmp_path: Path, check_id: str, cells: tuple[NotebookCell, ...]
) -> None:
    assert of(run(tmp_path, *cells), check_id) == []


# -- details ------------------------------------------------------------------------------------

SECRETS = [
    ("key = 'AKIAIOSFODNN7EXAMPLE'", "AKIAIOSFODNN7EXAMPLE", "AWS"),
    ("t = 'ghp_" + "a1B2" * 9 + "'", "ghp_" + "a1B2" * 9, "GitHub"),
    ("k = 'sk-proj-" + "Zx9" * 10 + "'", "Zx9" * 10, "sk-"),
    ("s = 'xoxb-1234567890-abcdefghij'", "xoxb-1234567890-abcdefghij", "Slack"),
    ("pem = '-----BEGIN RSA PRIVATE KEY-----'", "BEGIN RSA", "private key"),
    ("password = 'hunter2'", "hunter2", "'password'"),
    ("db = connect(db_password='s3cr3t-value')", "s3cr3t-value", "'db_password'"),
    ("config = {'api_key': 'abcd1234efgh'}", "abcd1234efgh", "'api_key'"),
]


@pytest.mark.parametrize(("source", "secret", "what"), SECRETS)
def test_secret_is_found_and_never_echoed(
    tmp_path: Path, source: str, secret: str, what: str
) -> None:
    found = of(run(tmp_path, "connect = dict", source), "secret-in-code")
    assert [(item.cell, item.line) for item in found] == [(1, 1)]
    assert what in found[0].message
    assert secret not in found[0].message + found[0].lesson


def test_secret_in_markdown_and_outputs_is_found(tmp_path: Path) -> None:
    token = "ghp_" + "Qw3rTy7u" * 5
    output = {"output_type": "stream", "name": "stdout", "text": f"using {token}\n"}
    cells = (markdown(f"My token: {token}"), code("print(1)", 1, outputs=(output,)))
    found = of(run(tmp_path, *cells), "secret-in-code")
    assert [(item.cell, item.line) for item in found] == [(0, 1), (1, None)]
    assert "output" in found[1].message
    assert all(token not in item.message for item in found)


def test_shell_escape_message_masks_credentials(tmp_path: Path) -> None:
    key = "sk-" + "aB3dE5gH7" * 3
    findings = run(tmp_path, f"!curl -H 'Authorization: {key}' https://user:pw@host/x")
    shell = of(findings, "shell-escape")
    assert len(shell) == 1
    assert key not in shell[0].message and "user:pw" not in shell[0].message
    assert len(of(findings, "secret-in-code")) == 1


def test_max_cell_lines_is_respected(tmp_path: Path) -> None:
    cells = ("a = 1\nb = 2\nc = 3\nprint(a, b, c)", "print(1)")
    assert of(run(tmp_path, *cells, max_cell_lines=3), "oversized-cell")[0].cell == 0
    assert of(run(tmp_path, *cells, max_cell_lines=4), "oversized-cell") == []


def test_syntax_error_does_not_stop_the_other_checks(tmp_path: Path) -> None:
    findings = run(tmp_path, "x = = 1", "from math import *", "!ls")
    assert {item.id for item in findings} >= {"syntax-error", "star-import", "shell-escape"}


def test_one_hidden_state_finding_names_the_first_out_of_order_cell(tmp_path: Path) -> None:
    cells = [code("a = 1", 5), code("b = a", 2), code("c = b", 1), code("print(c)", 6)]
    found = of(run(tmp_path, *cells), "hidden-state")
    assert [item.cell for item in found] == [1]
    assert "cell 1" in found[0].message and "cell 2" in found[0].message


def test_first_unseeded_use_per_library_is_reported_once(tmp_path: Path) -> None:
    cells = ("import numpy as np\nimport torch", "a = np.random.rand(2)", "b = np.random.randn(2)",
             "c = torch.rand(2)")  # fmt: skip
    found = of(run(tmp_path, *cells), "unseeded-random")
    assert [item.cell for item in found] == [1, 3]


def test_absolute_path_inside_project_suggests_relative_path(tmp_path: Path) -> None:
    target = tmp_path / "data" / "x.csv"
    findings = run(tmp_path, f"p = '{target}'", project=tmp_path)
    assert "use 'data/x.csv'" in of(findings, "absolute-path")[0].message


def test_findings_are_sorted_by_cell_then_severity(tmp_path: Path) -> None:
    findings = run(
        tmp_path,
        "from math import *\n%matplotlib inline\npassword = 'hunter2'\nprint(ghost)",
        "!pip install x",
    )
    ranks = {Severity.error: 0, Severity.warning: 1, Severity.info: 2}
    keys = [(-1 if f.cell is None else f.cell, ranks[f.severity]) for f in findings]
    assert keys == sorted(keys)
    assert [f.id for f in findings][:3] == ["no-parameters-cell", "secret-in-code", "star-import"]


# -- the real notebooks -------------------------------------------------------------------------

EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    # notebook: (ids that must be found, ids that must not be)
    "scipy2018-04.Training_and_Testing_Data": ({"ipython-syntax"}, {"unseeded-random"}),
    "scipy2018-13.Cross_Validation": ({"ipython-syntax", "unseeded-random"}, set()),
    "mrdbourke-01_pytorch_workflow": ({"shell-escape", "unused-result"}, {"unseeded-random"}),
    "sklearn-plot_gradient_boosting_regression": ({"unseeded-random"}, set()),
    "sklearn-plot_mlp_training_curves": ({"oversized-cell"}, {"unseeded-random"}),
    "handson-ml3-04_training_linear_models": (set(), {"unseeded-random", "shell-escape"}),
}
NEVER_IN_REAL = {"syntax-error", "use-before-define", "undefined-name", "secret-in-code",
                 "pip-install", "absolute-path", "hidden-state"}  # fmt: skip


@pytest.mark.parametrize("path", notebook_params())
def test_real_notebooks_lint(path: Path) -> None:
    analysis = analyse(load_notebook(path))
    findings = lint(analysis)
    code_cells = {cell.index for cell in analysis.notebook.code_cells}
    assert all(item.id in CHECK_IDS for item in findings)
    assert all(item.cell is None or item.cell in code_cells for item in findings)
    ids = {item.id for item in findings}
    assert "no-parameters-cell" in ids
    assert not ids & NEVER_IN_REAL, [f.message for f in findings if f.id in NEVER_IN_REAL]
    must, must_not = EXPECTED.get(path.stem, (set(), set()))
    assert must <= ids
    assert not must_not & ids


def test_real_notebook_facts() -> None:
    from support.notebooks import require_shared_notebooks

    paths = {path.stem: path for path in require_shared_notebooks()}

    def findings(stem: str, check_id: str) -> list[Finding]:
        return of(lint(analyse(load_notebook(paths[stem]))), check_id)

    boosting = findings("sklearn-plot_gradient_boosting_regression", "unseeded-random")
    assert [(f.cell, f.line) for f in boosting] == [(7, 1)]
    assert "GradientBoostingRegressor" in boosting[0].message
    shuffles = findings("scipy2018-13.Cross_Validation", "unseeded-random")
    assert {f.cell for f in shuffles} == {33, 35, 37}
    assert all("ShuffleSplit" in f.message for f in shuffles)
    shell = findings("mrdbourke-01_pytorch_workflow", "shell-escape")
    assert [(f.cell, f.line) for f in shell] == [(53, 2)]
    unused = findings("mrdbourke-01_pytorch_workflow", "unused-result")
    assert [f.cell for f in unused] == [4] and "'what_were_covering'" in unused[0].message
    magics = findings("scipy2018-04.Training_and_Testing_Data", "ipython-syntax")
    assert [(f.cell, f.line) for f in magics] == [(0, 1)]
