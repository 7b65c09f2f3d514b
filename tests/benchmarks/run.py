"""Run every benchmark and report: ``python tests/benchmarks/run.py [--quick]``.

Prints one table (each measure with its same-run baseline, the ratio, the
target and PASS/MISS) and writes it as JSON and Markdown to
``tests/benchmarks/results/`` (gitignored). A MISS is a result, not a failure:
the exit code is 1 only when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
import traceback
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from benchlib import BenchResult, markdown_table  # noqa: E402

BENCHMARKS = ("overhead", "ingest", "listing", "analysis", "panel", "datasets", "docker", "serving")


def environment() -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    )
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "jupyter-mlops": version("jupyter-mlops"),
        "sqlalchemy": version("sqlalchemy"),
        "tornado": version("tornado"),
        "mlflow": version("mlflow"),
        "commit": commit.stdout.strip() or None,
    }


def run_one(name: str, quick: bool) -> BenchResult:
    load = os.getloadavg()[0]
    print(f"== {name} (load average {load:.2f}) ...", flush=True)
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"bench_{name}")
        result: BenchResult = module.run(quick)
    except Exception:
        result = BenchResult(name, error=traceback.format_exc())
        print(result.error, file=sys.stderr)
    result.seconds = time.perf_counter() - start
    result.details["load_average_before"] = load
    print(f"   {name}: {result.seconds:.1f} s", flush=True)
    return result


def report(results: list[BenchResult], env: dict[str, Any], quick: bool, total: float) -> str:
    mode = "quick (smaller sizes: a smoke check, not a measurement)" if quick else "full"
    lines = [
        f"# jupyter-mlops benchmarks, {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Mode: {mode}. Total {total:.0f} s. "
        + ", ".join(f"{k} {v}" for k, v in env.items() if v is not None),
        "",
        markdown_table(results),
        "",
    ]
    for res in results:
        lines.append(f"**{res.name}** ({res.seconds:.1f} s)")
        lines.extend(f"- {note}" for note in res.notes)
        if res.error:
            lines.append(f"- CRASHED:\n\n```\n{res.error}```")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a fast smoke check")
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run only these")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where reports go")
    args = parser.parse_args(argv)

    env = environment()
    start = time.perf_counter()
    results = [run_one(name, args.quick) for name in args.only or BENCHMARKS]
    total = time.perf_counter() - start
    text = report(results, env, args.quick, total)

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench-{datetime.now():%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}"
    data = {
        "quick": args.quick,
        "total_s": total,
        "environment": env,
        "results": [r.to_json() for r in results],
    }
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(text)
    print()
    print(text)
    print(f"written: {args.out / stem}.json and .md")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
