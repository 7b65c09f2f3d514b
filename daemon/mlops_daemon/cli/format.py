"""Human-readable output for the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

EXIT_BY_STATUS = {"succeeded": 0, "failed": 1, "cancelled": 3, "lost": 4}


def short_time(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def run_table(runs: list[dict[str, Any]]) -> str:
    rows = []
    for r in runs:
        metrics = ", ".join(f"{k}={number(v)}" for k, v in list(r["metrics"].items())[:3])
        rows.append(
            [
                r["id"],
                r["status"],
                r["entry_point"][:40],
                r["executor"],
                short_time(r["created_at"]),
                duration(r["duration_s"]),
                metrics or "-",
            ]
        )
    return table(rows, ["ID", "STATUS", "ENTRY", "EXECUTOR", "CREATED", "DURATION", "METRICS"])


def module_version(ref: dict[str, Any] | None) -> str:
    """``pkg.name v3 (git 1a2b3c4)``: the extracted module version a run trained."""
    if not ref:
        return "-"
    sha = f" (git {ref['git_sha'][:7]})" if ref.get("git_sha") else ""
    return f"{ref['module']} v{ref['version']}{sha}"


def environment(env: dict[str, Any] | None) -> str:
    """One line: where the run ran (image and engine, or the local Python), and its GPUs."""
    if not env:
        return "-"
    if env.get("image"):
        image, engine = env["image"], env.get("engine") or {}
        where = f"image {image.get('tag')} on {engine.get('host', '?')}"
    else:
        where = f"Python {env.get('python', '?')} on {env.get('hostname', '?')}"
    lock = env.get("lock") or {}
    if lock.get("packages") is not None:
        where += f", {len(lock['packages'])} locked packages"
    gpus = env.get("gpus") or []
    if gpus:
        where += ", GPUs: " + ", ".join(f"{g.get('name')} ({g.get('memory_mb')} MiB)" for g in gpus)
    return where


def run_detail(r: dict[str, Any]) -> str:
    lines = [
        f"run {r['id']}" + (f"  ({r['name']})" if r.get("name") else ""),
        f"  status:      {r['status']}"
        + (f" — {r['status_reason']}" if r.get("status_reason") else ""),
        f"  project:     {r['project']}",
        f"  entry point: {r['entry_point']}",
        f"  module:      {module_version(r.get('module_version'))}",
        f"  executor:    {r['executor']}"
        + (f" (isolation: {r['isolation']})" if r.get("isolation") else ""),
        f"  environment: {environment(r.get('environment'))}",
        f"  datasets:    {', '.join(r.get('datasets') or []) or '-'}",
        f"  identity:    {r.get('identity') or '- (not cached: its environment is not pinned)'}",
        f"  created:     {short_time(r['created_at'])}",
        f"  started:     {short_time(r['started_at'])}",
        f"  ended:       {short_time(r['ended_at'])}",
        f"  duration:    {duration(r['duration_s'])}",
        f"  exit code:   {r['exit_code'] if r['exit_code'] is not None else '-'}",
        f"  run dir:     {r['run_dir']}",
    ]
    for title, mapping in (("params", r["params"]), ("metrics", r["metrics"]), ("tags", r["tags"])):
        lines.append(f"  {title}:" + ("" if mapping else " -"))
        for key, value in mapping.items():
            lines.append(f"    {key} = {number(value)}")
    if r["artifacts"]:
        lines.append("  artifacts:")
        for a in r["artifacts"]:
            lines.append(f"    {a['path']} ({a['size']} bytes)")
    return "\n".join(lines)
