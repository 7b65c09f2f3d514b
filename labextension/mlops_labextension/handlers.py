"""The extension's routes: ``mlops/status``, ``mlops/daemon/start`` and ``mlops/api/*``."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from .base import LabError, MlopsHandler
from .launcher import StartFailed
from .proxy import ProxyHandler
from .status import probe_daemon


class StatusHandler(MlopsHandler):
    """``GET mlops/status``: the daemon's state, as the panel's status line shows it."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        probe = await probe_daemon(self.lab.config.home, self.explicit_daemon_url())
        self.send_json(self.status_body(probe))


class StartHandler(MlopsHandler):
    """``POST mlops/daemon/start``: start the daemon unless one answers; its status after."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        config = self.lab.config
        if not config.allow_start:
            raise LabError(
                403,
                "start_not_allowed",
                "this Jupyter server may not start the mlops daemon "
                "(c.MlopsLab.allow_start = False); start it with `mlops daemon start`",
            )
        url = self.explicit_daemon_url()
        try:
            probe = await self.lab.launcher.start(config.home, url, config.start_timeout)
        except StartFailed as exc:
            raise LabError(500, "daemon_start_failed", exc.message) from None
        self.send_json(self.status_body(probe))


def route_table(base_url: str) -> list[tuple[str, type[MlopsHandler]]]:
    """The URL patterns under the server's ``base_url``."""
    return [
        (url_path_join(base_url, "mlops/status"), StatusHandler),
        (url_path_join(base_url, "mlops/daemon/start"), StartHandler),
        (url_path_join(base_url, "mlops/api/(.*)"), ProxyHandler),
    ]
