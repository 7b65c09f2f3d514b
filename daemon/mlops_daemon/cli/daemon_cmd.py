"""`mlops daemon start|stop|status`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time

import psutil

from ..client import Client, find_daemon
from ..config import DaemonConfig
from ..errors import DaemonUnavailable, MlopsError
from ..home import ensure_home


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    daemon = sub.add_parser("daemon", help="start, stop or inspect the background daemon")
    dsub = daemon.add_subparsers(dest="daemon_command", required=True)
    start = dsub.add_parser("start", help="start the daemon (in the background by default)")
    start.add_argument("--port", type=int, default=None, help="port (default 8765; 0 = any free)")
    start.add_argument("--foreground", action="store_true", help="stay attached; log to stderr")
    start.add_argument("--concurrency", type=int, default=None, help="runs at once (default: CPUs)")
    start.set_defaults(func=cmd_start)
    stop = dsub.add_parser("stop", help="stop the daemon (runs keep going and are reattached)")
    stop.set_defaults(func=cmd_stop)
    status = dsub.add_parser("status", help="is the daemon running, where, and how busy")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def running_client(config: DaemonConfig) -> Client | None:
    """A client for the live daemon of this home, or None if none answers."""
    try:
        address = find_daemon(config.paths)
    except DaemonUnavailable:
        return None
    if address.pid is not None and not pid_alive(address.pid):
        return None
    client = Client(address, timeout=5)
    try:
        client.request("GET", "/health")
    except MlopsError:
        return None
    return client


def cmd_start(args: argparse.Namespace, config: DaemonConfig) -> int:
    config = DaemonConfig.from_env(port=args.port, concurrency=args.concurrency)
    if args.foreground:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        asyncio.run(_serve(config))
        return 0
    client = running_client(config)
    if client is not None:
        print(f"mlops daemon already running at http://{client.host}:{client.port}")
        return 0
    return 0 if start_background(config) else 1


async def _serve(config: DaemonConfig) -> None:
    from ..server.app import serve  # imported here: only the daemon process needs tornado

    await serve(config)


def start_background(config: DaemonConfig, quiet: bool = False) -> bool:
    """Start a detached daemon and wait until it answers (bounded)."""
    paths = config.paths
    ensure_home(paths)
    argv = [sys.executable, "-m", "mlops_daemon", "daemon", "start", "--foreground"]
    argv += ["--port", str(config.port)]
    if config.concurrency:
        argv += ["--concurrency", str(config.concurrency)]
    env = dict(os.environ, MLOPS_HOME=str(config.home))
    if config.database_url:
        env["MLOPS_DATABASE_URL"] = config.database_url
    log_start = paths.log.stat().st_size if paths.log.exists() else 0
    with open(paths.log, "ab") as log_fh:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"the daemon exited at start (code {proc.returncode}):", file=sys.stderr)
            print(_log_tail(config, log_start), file=sys.stderr)
            if "Address already in use" in _log_tail(config, log_start):
                print(
                    f"port {config.port} is taken: try `mlops daemon start --port 0`",
                    file=sys.stderr,
                )
            return False
        client = running_client(config)
        if client is not None and find_daemon(paths).pid == proc.pid:
            if not quiet:
                print(
                    f"mlops daemon started (pid {proc.pid}) at http://{client.host}:{client.port}"
                )
            return True
        time.sleep(0.1)
    print(f"the daemon did not answer within 60 s; see {paths.log}", file=sys.stderr)
    return False


def _log_tail(config: DaemonConfig, start: int) -> str:
    try:
        with open(config.paths.log, "rb") as fh:
            fh.seek(start)
            return fh.read().decode("utf-8", "replace")[-3000:]
    except FileNotFoundError:
        return ""


def cmd_stop(args: argparse.Namespace, config: DaemonConfig) -> int:
    try:
        address = find_daemon(config.paths)
    except DaemonUnavailable:
        print("mlops daemon is not running")
        return 0
    pid = address.pid
    if pid is None or not pid_alive(pid):
        print("mlops daemon is not running (removing its stale files)")
        for path in (config.paths.info, config.paths.pid):
            path.unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            print(f"mlops daemon stopped (pid {pid}); running runs go on and will be reattached")
            return 0
        time.sleep(0.1)
    print(f"the daemon (pid {pid}) did not stop within 30 s", file=sys.stderr)
    return 1


def cmd_status(args: argparse.Namespace, config: DaemonConfig) -> int:
    client = running_client(config)
    if client is None:
        if args.json:
            print(json.dumps({"running": False, "home": str(config.home)}))
        else:
            print(f"mlops daemon is not running (home {config.home}); start: mlops daemon start")
        return 3
    info = client.request("GET", "/api/info")
    address = find_daemon(config.paths)
    data = {"running": True, "pid": address.pid, "url": address.url, **info}
    if args.json:
        print(json.dumps(data))
    else:
        print(f"mlops daemon {info['version']} running (pid {address.pid}) at {address.url}")
        print(f"  home:        {info['home']}")
        print(f"  database:    {info['database']}")
        print(f"  executors:   {', '.join(info['executors'])}")
        print(f"  concurrency: {info['concurrency']}")
        print(f"  runs:        {info['runs_active']} active, {info['runs_queued']} queued")
    return 0
