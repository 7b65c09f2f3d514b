"""The jupyter-server side of the jupyter-mlops panel.

Routes (under the server's base_url): ``GET mlops/status``, ``POST
mlops/daemon/start`` and ``mlops/api/<path>``, forwarded to the daemon with its
token added here. Settings: ``c.MlopsLab.*`` (see ``config.MlopsLab``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "mlops_labextension"}]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    # Imported here: `jupyter labextension` reads the paths above without a server.
    from .base import SETTINGS_KEY, LabContext
    from .config import MlopsLab
    from .handlers import route_table
    from .launcher import Launcher

    config = MlopsLab(parent=serverapp)
    web_app = serverapp.web_app
    web_app.settings[SETTINGS_KEY] = LabContext(config=config, launcher=Launcher())
    handlers = route_table(web_app.settings["base_url"])
    web_app.add_handlers(".*$", handlers)  # type: ignore[no-untyped-call]  # jupyter_server's
    serverapp.log.info("jupyter-mlops: serving mlops/* (MLOPS_HOME %s)", config.home)
