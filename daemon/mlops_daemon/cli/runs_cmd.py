"""`mlops run` and `mlops runs list|show|cancel|logs`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..client import Client
from . import format as fmt
from .params import parse_env, parse_memory_mb, parse_param


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="train: submit a run to the daemon")
    run.add_argument("entry", help="a script path in the project, or package.module:function")
    run.add_argument("--project", default=".", help="project directory (default: here)")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument(
        "--executor",
        default="auto",
        choices=["auto", "local", "docker"],
        help="auto (default): Docker when an engine answers, else a local process",
    )
    run.add_argument(
        "--network", action="store_true", help="let a containerised run reach the network"
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="run even when a run with the same identity already succeeded",
    )
    run.add_argument("--cpus", type=float, default=None)
    run.add_argument("--memory", default=None, help="memory limit, e.g. 512M or 2G")
    run.add_argument("--gpus", type=int, default=0)
    run.add_argument("--timeout", type=float, default=None, help="wall-clock limit in seconds")
    run.add_argument("--name", default=None)
    run.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="NAME[@N]",
        help="a recorded dataset the run reads with dataset_path(NAME) (repeatable); "
        "NAME is its latest content, NAME@N pins version N",
    )
    run.add_argument(
        "--follow", "-f", action="store_true", help="stream logs; exit with the outcome"
    )
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.set_defaults(func=cmd_run, needs_daemon=True)

    runs = sub.add_parser("runs", help="list, show, cancel runs or read their logs")
    rsub = runs.add_subparsers(dest="runs_command", required=True)
    ls = rsub.add_parser("list", help="recent runs")
    ls.add_argument("--status", default=None, help="comma-separated statuses")
    ls.add_argument("--project", default=None)
    ls.add_argument("--sort", default="created_at", help="e.g. metrics.accuracy or params.lr")
    ls.add_argument("--asc", action="store_true", help="ascending (default descending)")
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list, needs_daemon=True)
    show = rsub.add_parser("show", help="one run in full")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show, needs_daemon=True)
    cancel = rsub.add_parser("cancel", help="stop a queued or running run")
    cancel.add_argument("id")
    cancel.set_defaults(func=cmd_cancel, needs_daemon=True)
    logs = rsub.add_parser("logs", help="a run's output")
    logs.add_argument("id")
    logs.add_argument("--follow", "-f", action="store_true")
    logs.set_defaults(func=cmd_logs, needs_daemon=True)


def build_spec(args: argparse.Namespace) -> dict[str, Any]:
    project = Path(args.project).expanduser().resolve()
    resources: dict[str, Any] = {"gpus": args.gpus}
    if args.cpus is not None:
        resources["cpus"] = args.cpus
    if args.memory is not None:
        resources["memory_mb"] = parse_memory_mb(args.memory)
    if args.timeout is not None:
        resources["timeout_s"] = args.timeout
    spec: dict[str, Any] = {
        "project": str(project),
        "entry_point": args.entry,
        "params": dict(parse_param(p) for p in args.param),
        "env": dict(parse_env(e) for e in args.env),
        "resources": resources,
        "executor": args.executor,
    }
    if args.name:
        spec["name"] = args.name
    if args.dataset:
        spec["datasets"] = list(args.dataset)
    if args.network:
        spec["network"] = True
    if args.force:
        spec["force"] = True
    return spec


def cmd_run(args: argparse.Namespace, client: Client) -> int:
    run = client.request("POST", "/api/runs", body=build_spec(args))
    if run["status"] == "succeeded":  # a new run is always queued: this is a cache hit
        print(
            f"run {run['id']} already succeeded with the same identity (code, params, data, "
            "environment); showing it. Use --force to train again.",
            file=sys.stderr,
        )
    if not args.follow:
        print(json.dumps({"id": run["id"], "status": run["status"]}) if args.json else run["id"])
        return 0
    if not args.json:
        print(
            f"run {run['id']} queued; following its output (Ctrl-C stops following)",
            file=sys.stderr,
        )
    final = follow(client, run["id"], out=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(
            json.dumps(
                {
                    k: final[k]
                    for k in (
                        "id",
                        "status",
                        "status_reason",
                        "metrics",
                        "params",
                        "exit_code",
                        "duration_s",
                    )
                }
            )
        )
    else:
        print(_ending(final), file=sys.stderr)
    return fmt.EXIT_BY_STATUS.get(final["status"], 1)


def follow(client: Client, run_id: str, out: Any = sys.stdout) -> dict[str, Any]:
    """Stream a run's log to ``out`` until it ends; return the final run."""
    for event, data in client.events(f"/api/runs/{run_id}/logs", {"follow": True}):
        if event == "log":
            out.write(json.loads(data)["text"])
            out.flush()
        elif event == "end":
            break
    result: dict[str, Any] = client.request("GET", f"/api/runs/{run_id}")
    return result


def _ending(run: dict[str, Any]) -> str:
    text = f"run {run['id']} {run['status']}"
    if run.get("status_reason"):
        text += f": {run['status_reason']}"
    if run["metrics"]:
        text += "\n  " + ", ".join(f"{k}={fmt.number(v)}" for k, v in run["metrics"].items())
    return text


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    project = str(Path(args.project).expanduser().resolve()) if args.project else None
    query = {
        "status": args.status,
        "project": project,
        "sort": args.sort,
        "order": "asc" if args.asc else "desc",
        "per_page": max(1, min(args.limit, 500)),
    }
    page = client.request("GET", "/api/runs", query=query)
    if args.json:
        print(json.dumps(page))
    elif not page["runs"]:
        print("no runs yet: try `mlops demo`, or `mlops run train.py`")
    else:
        print(fmt.run_table(page["runs"]))
        if page["total"] > len(page["runs"]):
            print(f"({len(page['runs'])} of {page['total']}; --limit shows more)")
    return 0


def cmd_show(args: argparse.Namespace, client: Client) -> int:
    run = client.request("GET", f"/api/runs/{args.id}")
    print(json.dumps(run) if args.json else fmt.run_detail(run))
    return 0


def cmd_cancel(args: argparse.Namespace, client: Client) -> int:
    run = client.request("POST", f"/api/runs/{args.id}/cancel")
    state = run["status"] if run["status"] == "cancelled" else "cancelling"
    print(f"run {run['id']}: {state}")
    return 0


def cmd_logs(args: argparse.Namespace, client: Client) -> int:
    if args.follow:
        final = follow(client, args.id)
        print(_ending(final), file=sys.stderr)
        return 0
    offset = 0
    while True:
        chunk = client.request("GET", f"/api/runs/{args.id}/logs", query={"offset": offset})
        sys.stdout.write(chunk["text"])
        if chunk["next_offset"] == offset or not chunk["text"]:
            return 0
        offset = chunk["next_offset"]
