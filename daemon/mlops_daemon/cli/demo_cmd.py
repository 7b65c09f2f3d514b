"""`mlops demo`: the main job on the embedded defaults, end to end."""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import resources

from ..client import Client, find_daemon
from ..config import DaemonConfig
from ..home import ensure_home
from . import format as fmt
from .daemon_cmd import running_client, start_background
from .runs_cmd import follow


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="train the bundled example through the daemon")
    demo.add_argument("--epochs", type=int, default=15)
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace, config: DaemonConfig) -> int:
    client = running_client(config)
    if client is None:
        print("starting the mlops daemon…", file=sys.stderr)
        if not start_background(config):
            return 1
        client = Client(find_daemon(config.paths))
    ensure_home(config.paths)
    project = config.home / "demo-project"
    project.mkdir(exist_ok=True)
    source = resources.files("mlops_daemon.demo").joinpath("train.py")
    with resources.as_file(source) as path:
        shutil.copyfile(path, project / "train.py")
    spec = {
        "project": str(project),
        "entry_point": "train.py",
        "params": {"epochs": args.epochs},
        "name": "demo",
    }
    run = client.request("POST", "/api/runs", body=spec)
    print(f"run {run['id']}: training a digit classifier in {project}\n", file=sys.stderr)
    final = follow(client, run["id"])
    print()
    if final["status"] != "succeeded":
        print(f"the demo run {final['status']}: {final.get('status_reason')}", file=sys.stderr)
        print(f"its output: mlops runs logs {run['id']}", file=sys.stderr)
        return fmt.EXIT_BY_STATUS.get(final["status"], 1)
    print(f"run {final['id']} succeeded in {fmt.duration(final['duration_s'])}. Final metrics:")
    for key, value in final["metrics"].items():
        print(f"  {key:12s} {fmt.number(value)}")
    print(
        "\nWhat to try next:\n"
        f"  mlops runs show {final['id']}            everything recorded about this run\n"
        f"  mlops runs list --sort metrics.accuracy   compare runs by a metric\n"
        f"  mlops run train.py --project {project} --param alpha=0.01 --follow\n"
        "                                            train again with another parameter\n"
        "  mlops daemon status                       the daemon, its store and its load"
    )
    return 0
