"""The Jupyter server the UI tests start (``playwright.config.js`` runs it, twice).

Galata's test setup (no token, an in-memory workspace, its test helpers) with the
root, the MLOPS_HOME and whether the panel may start a daemon taken from the
environment ``workspace.py`` and the Playwright config give each server.
"""

import os

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # type: ignore[name-defined]  # noqa: F821 - given by traitlets when loaded

configure_jupyter_server(c)

c.ServerApp.allow_root = True  # CI runs as root
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.root_dir = os.environ["MLOPS_UI_ROOT"]
c.MlopsLab.mlops_home = os.environ["MLOPS_HOME"]
c.MlopsLab.allow_start = os.environ.get("MLOPS_UI_ALLOW_START", "1") == "1"
