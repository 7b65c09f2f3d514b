"""The lint checks' stable ids, severities and lessons, and the helpers that build findings.

A lesson is written for data scientists who know notebooks well and software
engineering less: two or three sentences on why the problem bites in
production and what to do instead. Messages say *what* was found and *where*;
lessons say *why* and *how*, and are the same for every finding of one id.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_kernel.notebook.schemas import Finding, Severity
from mlops_kernel.notebook.source import Cell


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    lesson: str


_CHECKS = (
    Check(
        "syntax-error",
        Severity.error,
        "This cell is not valid Python, so a fresh run stops here and the cell cannot become "
        "part of a module. Fix the line shown; the other cells were still checked.",
    ),
    Check(
        "use-before-define",
        Severity.error,
        "Run top to bottom, this cell comes before the cell that creates the name, so a fresh "
        "kernel (and the extracted module) stops here with a NameError; it only worked because "
        "the later cell had already run in your session. Move the defining cell above this one.",
    ),
    Check(
        "undefined-name",
        Severity.warning,
        "No cell creates or imports this name, so it lives only in your current session (a "
        "deleted or edited cell, a console command) and a fresh kernel fails with NameError. "
        "Add the cell that defines or imports it, or remove the use.",
    ),
    Check(
        "secret-in-code",
        Severity.error,
        "A secret written in a notebook ends up in git history, shared copies and saved outputs, "
        "where anyone can read it, and deleting it later does not remove it from history. Read "
        "it from an environment variable (os.environ['API_KEY']) or a secrets manager, and "
        "revoke and replace this one.",
    ),
    Check(
        "hidden-state",
        Severity.warning,
        "The cells ran out of order, so the saved results may depend on state the code above no "
        "longer creates; a fresh run, which is what production does, can give other results or "
        "fail. Restart the kernel and run all cells top to bottom (Kernel > Restart Kernel and "
        "Run All Cells) before trusting or sharing the results.",
    ),
    Check(
        "unseeded-random",
        Severity.warning,
        "Without a fixed seed every run draws other random numbers, so metrics move from run to "
        "run and you cannot tell a real improvement from noise or rebuild the same model. Pass "
        "random_state=<int> to scikit-learn, and call np.random.seed, random.seed or "
        "torch.manual_seed once near the top (or use np.random.default_rng(seed)).",
    ),
    Check(
        "absolute-path",
        Severity.warning,
        "A path into one machine's disk or one user's home folder does not exist on a "
        "colleague's laptop, in CI or in a container, so the pipeline fails there with "
        "FileNotFoundError. Use a path relative to the project, or make it a parameter (in the "
        "'parameters' cell) or an environment variable.",
    ),
    Check(
        "pip-install",
        Severity.warning,
        "Installing packages from the notebook changes the environment on every run and pins "
        "nothing, so production may get other versions, or have no network at all. List the "
        "packages with versions in requirements.txt or pyproject.toml and install them before "
        "the run; the extracted module leaves these lines out.",
    ),
    Check(
        "shell-escape",
        Severity.warning,
        "Shell commands run through IPython are removed from the extracted Python module, so "
        "whatever they do (download data, create folders, list files) will not happen in "
        "production. Do the work in Python (pathlib, shutil, subprocess.run) or in a setup step "
        "the pipeline runs first.",
    ),
    Check(
        "dataframe-mutated-elsewhere",
        Severity.warning,
        "The frame is loaded in one cell and changed in place in another, so its content "
        "depends on which cells ran and how often (running the changing cell twice changes it "
        "twice), and extracted steps can disagree with what you saw. Load and clean it in one "
        "place, e.g. a function that reads the file, applies the changes and returns the frame.",
    ),
    Check(
        "star-import",
        Severity.warning,
        "'from x import *' hides where names come from and can silently replace your own "
        "variables, so code breaks when the library adds a name and no tool can tell what the "
        "cell needs. Import the names you use (from x import a, b) or the module (import x).",
    ),
    Check(
        "unused-result",
        Severity.info,
        "Nothing later uses what this cell computes, yet it runs (and costs time) in every "
        "production run, and readers wonder what depends on it. Delete it, or use the result "
        "(print, plot, save or test it) if it matters.",
    ),
    Check(
        "oversized-cell",
        Severity.info,
        "A long cell does many things at once: it is hard to test, reuse and turn into clear "
        "pipeline steps, and an error in it tells you little. Split it into cells that each do "
        "one thing (load, clean, train, evaluate), or move the logic into functions.",
    ),
    Check(
        "no-parameters-cell",
        Severity.info,
        "Without a cell tagged 'parameters', values such as file paths, learning rates and seeds "
        "are buried in the code, so an automated run (papermill, the extracted module's main()) "
        "cannot change them. Put them in one cell near the top and give it the tag 'parameters' "
        "(JupyterLab: the property inspector, gear icon).",
    ),
    Check(
        "ipython-syntax",
        Severity.info,
        "IPython-only lines (%magics, %%cell magics, '?' help) are not Python, so they are "
        "blanked out of the extracted module. That is fine for display helpers such as "
        "%matplotlib inline; if a line matters for the results (%run, %env, %cd), rewrite it "
        "in plain Python.",
    ),
)

CHECKS: dict[str, Check] = {check.id: check for check in _CHECKS}
"""Every check by its stable id (the ids are part of the API)."""

SEVERITY_RANK = {Severity.error: 0, Severity.warning: 1, Severity.info: 2}


def finding(check_id: str, cell: Cell | None, message: str, line: int | None = None) -> Finding:
    """A Finding of check ``check_id`` at ``cell`` (None: the whole notebook)."""
    check = CHECKS[check_id]
    return Finding(
        id=check.id,
        severity=check.severity,
        cell=cell.index if cell is not None else None,
        cell_id=cell.cell_id if cell is not None else None,
        line=line,
        message=message,
        lesson=check.lesson,
    )


def where(cell: Cell | int, line: int | None = None) -> str:
    """'cell 4' or 'cell 4, line 2' for the cell at 0-based index 3.

    People count cells from 1 (as the other notebook messages do); the
    ``cell`` field of a Finding keeps the 0-based index.
    """
    number = (cell.index if isinstance(cell, Cell) else cell) + 1
    return f"cell {number}" if line is None else f"cell {number}, line {line}"


def names(items: list[str] | set[str] | frozenset[str], limit: int = 3) -> str:
    """ "'a', 'b' and 'c'" (sorted; 'and N more' past ``limit``)."""
    ordered = sorted(items)
    shown = [f"'{item}'" for item in ordered[:limit]]
    if len(ordered) > limit:
        return ", ".join(shown) + f" and {len(ordered) - limit} more"
    if len(shown) > 1:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return shown[0] if shown else ""
