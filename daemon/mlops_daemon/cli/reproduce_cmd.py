"""`mlops reproduce RUN`: run a run's identity again and judge every metric."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..client import Client
from ..reproduce import Verdict, compare_runs
from .runs_cmd import follow


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "reproduce",
        help="re-run a run (same code, params, datasets, environment) and compare its metrics",
    )
    p.add_argument("id", help="the run to reproduce")
    p.add_argument(
        "--rtol",
        type=float,
        default=0.0,
        help="relative tolerance per metric point (default 0: bit-identical)",
    )
    p.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (default 0)")
    p.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="do not stream the run's output")
    p.set_defaults(func=cmd_reproduce, needs_daemon=True)


def cmd_reproduce(args: argparse.Namespace, client: Client) -> int:
    original = client.request("GET", f"/api/runs/{args.id}")
    again = client.request("POST", f"/api/runs/{args.id}/reproduce")
    if not args.json:
        print(f"reproducing run {original['id']} as run {again['id']}", file=sys.stderr)
    quiet = args.quiet or args.json
    final = follow(client, again["id"], out=_Discard() if quiet else sys.stderr)
    verdict = compare_runs(
        original,
        final,
        _series(client, original["id"]),
        _series(client, final["id"]),
        rtol=args.rtol,
        atol=args.atol,
    )
    if args.json:
        print(json.dumps(verdict.to_json()))
    else:
        print(render(verdict))
    return 0 if verdict.verdict == "reproduced" else 1


def _series(client: Client, run_id: str) -> list[dict[str, Any]]:
    data: dict[str, Any] = client.request("GET", f"/api/runs/{run_id}/metrics")
    return list(data["series"])


def render(verdict: Verdict) -> str:
    tolerance = (
        "exact"
        if verdict.rtol == 0 and verdict.atol == 0
        else f"rtol={verdict.rtol:g} atol={verdict.atol:g}"
    )
    lines = [
        f"verdict: {verdict.verdict} (run {verdict.reproduction} vs {verdict.original}, "
        f"{tolerance})"
    ]
    if not verdict.same_identity:
        lines.append(
            "note: the identity differs (code, environment or data changed since the original)"
        )
    if verdict.status != "succeeded":
        lines.append(f"the reproduction {verdict.status}")
    for m in verdict.metrics:
        mark = "=" if m.equal else "≠"
        detail = m.note or (
            f"max |diff| {m.max_abs_diff:.3g}" if m.max_abs_diff else f"{m.points} points"
        )
        lines.append(f"  {mark} {m.key}: {m.original} vs {m.again} ({detail})")
    return "\n".join(lines)


class _Discard:
    def write(self, _: str) -> int:
        return 0

    def flush(self) -> None:
        return None
