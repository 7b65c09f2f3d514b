"""`mlops gate RUN`: print a run's gate report; exit 0 only when every required check passed.

Any CI system can gate on it: ``mlops gate $RUN || exit 1``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ..client import Client
from ..errors import NotFound

POLL_S = 0.5
EVIDENCE_LINES = 12
MARKS = {"passed": "✓", "failed": "✗", "skipped": "-", "error": "!"}
EXIT_PENDING = 3


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "gate",
        help="a run's gate report: tests, data, metrics, fairness, ONNX (exit 1 if it fails)",
    )
    p.add_argument("id", help="the run")
    p.add_argument(
        "--again", action="store_true", help="evaluate the gates again, even if already done"
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help=f"print the report as it is now (exit {EXIT_PENDING} while it is pending)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--verbose", "-v", action="store_true", help="evidence of passed checks too")
    p.set_defaults(func=cmd_gate, needs_daemon=True)


def cmd_gate(args: argparse.Namespace, client: Client) -> int:
    path = f"/api/runs/{args.id}/gate"
    report: dict[str, Any]
    if args.again:
        report = client.request("POST", path)
    else:
        try:
            report = client.request("GET", path)
        except NotFound:
            client.request("GET", f"/api/runs/{args.id}")  # an unknown run: its own 404
            report = client.request("POST", path)
    while report["status"] == "pending" and not args.no_wait:
        time.sleep(POLL_S)
        report = client.request("GET", path)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(render(report, verbose=args.verbose))
    if report["status"] == "pending":
        return EXIT_PENDING
    return 0 if report["passed"] else 1


def render(report: dict[str, Any], verbose: bool = False) -> str:
    checks: list[dict[str, Any]] = report["checks"]
    required = [c for c in checks if c["required"]]
    bad = [c for c in required if c["status"] in ("failed", "error")]
    if report["status"] == "pending":
        head = "PENDING (checks are still running)"
    elif report["passed"]:
        head = f"PASSED ({len(required)} required checks)"
    else:
        head = f"FAILED ({len(bad)} of {len(required)} required checks did not pass)"
    config = report.get("config_path") or "defaults (no mlops.toml)"
    lines = [f"gate for run {report['run_id']}: {head}", f"config: {config}"]
    width = max([len(c["name"]) for c in checks] + [10])
    for check in checks:
        mark = MARKS.get(check["status"], "?")
        advisory = "" if check["required"] else " (advisory)"
        measured = check.get("measured") or check["status"]
        threshold = check.get("threshold") or ""
        lines.append(f"  {mark} {check['name']:<{width}}  {measured}  [{threshold}]{advisory}")
        if check["status"] in ("failed", "error") or verbose:
            evidence = [x for x in (check.get("evidence") or "").splitlines() if x.strip()]
            for text in evidence[-EVIDENCE_LINES:]:
                lines.append(f"      | {text}")
            if check["status"] in ("failed", "error"):
                lines.append(f"      why it matters: {check['lesson']}")
    if not report["passed"] and report["status"] != "pending":
        lines.append(
            "promotion is refused until these pass (or: mlops promote ... --override --reason R)"
        )
    return "\n".join(lines)
