"""The demo notebook: a digit classifier as a data scientist would first write it.

``mlops demo`` writes it into the demo project and extracts it, so it reads like
a real notebook -- headings, imports, a ``parameters`` cell, data, training that
prints its progress, a plot -- and runs in a few seconds. Cell ids are fixed so
the file is the same every time it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAME = "digits.ipynb"

# (cell id, kind, source, tags); kind is "markdown" or "code".
CELLS: list[tuple[str, str, str, tuple[str, ...]]] = [
    (
        "title",
        "markdown",
        "# Handwritten digits\n\n"
        "A linear classifier for scikit-learn's 8x8 digit images, trained one epoch at a "
        "time so we can watch the loss go down.",
        (),
    ),
    (
        "imports",
        "code",
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "from sklearn.datasets import load_digits\n"
        "from sklearn.linear_model import SGDClassifier\n"
        "from sklearn.metrics import accuracy_score, log_loss\n"
        "from sklearn.model_selection import train_test_split\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "\n"
        "from mlops_kernel import log_model",
        (),
    ),
    (
        "parameters",
        "code",
        "alpha = 0.0001  # L2 regularisation\nlearning_rate = 0.01\nepochs = 15\nseed = 42",
        ("parameters",),
    ),
    ("data-heading", "markdown", "## Data", ()),
    (
        "load",
        "code",
        "X, y = load_digits(return_X_y=True)\n"
        "X_train, X_test, y_train, y_test = train_test_split(\n"
        "    X, y, test_size=0.25, random_state=seed, stratify=y\n"
        ")\n"
        "X_train.shape, X_test.shape",
        (),
    ),
    (
        "scale",
        "code",
        "scaler = StandardScaler().fit(X_train)\n"
        "X_train = scaler.transform(X_train)\n"
        "X_test = scaler.transform(X_test)",
        (),
    ),
    ("train-heading", "markdown", "## Training", ()),
    (
        "train",
        "code",
        "model = SGDClassifier(\n"
        '    loss="log_loss", alpha=alpha, learning_rate="constant", eta0=learning_rate,\n'
        "    random_state=seed,\n"
        ")\n"
        "classes = np.unique(y)\n"
        "rng = np.random.default_rng(seed)\n"
        "history = []\n"
        "for epoch in range(1, epochs + 1):\n"
        "    order = rng.permutation(len(X_train))  # a new shuffle each epoch\n"
        "    model.partial_fit(X_train[order], y_train[order], classes=classes)\n"
        "    train_loss = log_loss(y_train, model.predict_proba(X_train), labels=classes)\n"
        "    accuracy = accuracy_score(y_test, model.predict(X_test))\n"
        "    history.append(accuracy)\n"
        '    print(f"epoch {epoch}: train_loss: {train_loss:.4f}, accuracy: {accuracy:.4f}")',
        (),
    ),
    (
        "plot",
        "code",
        "fig, ax = plt.subplots(figsize=(6, 3))\n"
        'ax.plot(range(1, epochs + 1), history, marker="o")\n'
        'ax.set_xlabel("epoch")\n'
        'ax.set_ylabel("test accuracy")\n'
        "plt.show()",
        (),
    ),
    ("result-heading", "markdown", "## Result", ()),
    (
        "register",
        "code",
        "# Saved with its ONNX export and the test split, so the gates can check it.\n"
        'log_model(model, X_test[:5], name="digits", evaluation=(X_test, y_test))',
        (),
    ),
    ("result", "code", 'print(f"accuracy: {accuracy:.6f}")', ()),
]


def write_notebook(path: Path) -> Path:
    """Write the demo notebook to ``path`` (nbformat 4, Python 3 kernel); returns it."""
    import nbformat as _nbformat

    nbformat: Any = _nbformat  # an untyped library
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for cell_id, kind, source, tags in CELLS:
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell.id = cell_id
        if tags:
            cell.metadata["tags"] = list(tags)
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    nbformat.write(notebook, str(tmp))
    tmp.replace(path)
    return path


def ensure_notebook(project: Path) -> tuple[Path, bool]:
    """The demo notebook in ``project``, written only when missing (users may edit it).

    Returns the path and whether it was written now.
    """
    path = project / NAME
    if path.exists():
        return path, False
    return write_notebook(path), True
