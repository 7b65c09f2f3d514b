"""Build the tornado application and serve it: the daemon process itself."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from datetime import UTC, datetime

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application

from .. import __version__
from ..config import HOST, DaemonConfig
from ..executors.registry import make_executors
from ..extraction import ExtractionService
from ..gates import GateRunner
from ..home import HomeLock, ensure_home, ensure_token
from ..model_registry import RegistryService
from ..service import RunService
from ..serving import ServingService
from ..store.async_store import AsyncStore
from ..store.repository import Store
from .base import NotFoundHandler
from .openapi import build_openapi
from .routes import ROUTES

log = logging.getLogger("mlops_daemon")


def make_app(service: RunService, token: str, extractions: ExtractionService) -> Application:
    """The application and the services behind it, wired together: a succeeded run
    goes to the gate runner; every alias change drops the serving cache of its model."""
    serving = ServingService(service.db)
    registry = RegistryService(service.db, on_change=serving.invalidate)
    gates = GateRunner(service.db, service)
    service.on_success(gates.after_success)
    return Application(
        [(route.pattern, route.handler) for route in ROUTES],
        default_handler_class=NotFoundHandler,
        mlops_service=service,
        mlops_extractions=extractions,
        mlops_registry=registry,
        mlops_serving=serving,
        mlops_gates=gates,
        mlops_token=token,
        mlops_openapi=json.dumps(build_openapi()),
        xsrf_cookies=False,
    )


async def serve(config: DaemonConfig, ready: asyncio.Event | None = None) -> None:
    """Run the daemon until SIGTERM or SIGINT, then shut down cleanly.

    Runs still going keep going: their processes are not children of the
    event loop, and the next daemon reattaches to them.
    """
    paths = config.paths
    ensure_home(paths)
    token = ensure_token(paths)
    with HomeLock(paths):
        store = Store(config.effective_database_url)
        db = AsyncStore(store)
        service = RunService(config, db, make_executors(config))
        extractions = ExtractionService(db)
        sockets = bind_sockets(config.port, address=HOST, family=socket.AF_INET)
        port = sockets[0].getsockname()[1]
        app = make_app(service, token, extractions)
        server = HTTPServer(app)
        server.add_sockets(sockets)
        await service.start()
        await app.settings["mlops_gates"].recover()
        _write_presence(config, port)
        log.info(
            "mlops daemon %s listening on http://%s:%d (home %s)",
            __version__,
            HOST,
            port,
            config.home,
        )
        print(f"mlops daemon listening on http://{HOST}:{port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if ready is not None:
            ready.set()
        try:
            await stop.wait()
        finally:
            log.info("shutting down: no new requests; runs keep going and will be reattached")
            server.stop()
            await app.settings["mlops_gates"].stop()
            await service.stop()
            await extractions.stop()
            app.settings["mlops_serving"].close()
            await server.close_all_connections()
            db.close()
            _remove_presence(config)
            log.info("stopped")


def _write_presence(config: DaemonConfig, port: int) -> None:
    paths = config.paths
    paths.pid.write_text(f"{os.getpid()}\n")
    info = {
        "pid": os.getpid(),
        "port": port,
        "url": f"http://{HOST}:{port}",
        "version": __version__,
        "started_at": datetime.now(UTC).isoformat(),
        "database": config.effective_database_url.split("://", 1)[0],
    }
    tmp = paths.info.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, paths.info)


def _remove_presence(config: DaemonConfig) -> None:
    for path in (config.paths.pid, config.paths.info):
        try:
            if path == config.paths.pid and path.read_text().strip() != str(os.getpid()):
                continue
            path.unlink()
        except FileNotFoundError:
            pass
