"""Notebook analysis, lint lessons and extraction into tested, versioned modules.

Entry points live in :mod:`mlops_kernel.notebook.extract`: ``lint_notebook``,
``plan_extraction`` and ``extract``. Submodules are imported on demand, so this
package stays cheap to import (nbformat and papermill load only when used).
"""
