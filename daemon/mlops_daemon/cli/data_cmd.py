"""`mlops data add|list|show`: record datasets and look at their versions.

``add`` hashes the files here first, showing progress, into the file-hash cache
the daemon shares (MLOPS_HOME/cache); the daemon then records the version and
finds every file already hashed, so nothing big is read twice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from mlops_kernel.dataset_cache import HashCache, cache_path
from mlops_kernel.dataset_manifest import DatasetError, build_manifest, scan

from ..client import Client
from ..config import default_home
from ..errors import InvalidInput
from . import format as fmt

ADD_TIMEOUT_S = 3600.0
"""The daemon hashes again whatever changed after the CLI did: allow big datasets."""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    data = sub.add_parser("data", help="record datasets (versioned by content) and list them")
    dsub = data.add_subparsers(dest="data_command", required=True)
    add = dsub.add_parser("add", help="record a file or folder as a dataset version")
    add.add_argument("path")
    add.add_argument("--name", default=None, help="default: the file's stem or folder's name")
    add.add_argument("--json", action="store_true", help="print one JSON object")
    add.set_defaults(func=cmd_add, needs_daemon=True)
    ls = dsub.add_parser("list", help="datasets with their latest version")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list, needs_daemon=True)
    show = dsub.add_parser("show", help="a dataset's versions, or one version (NAME@N)")
    show.add_argument("ref", metavar="NAME[@VERSION]")
    show.add_argument("--files", action="store_true", help="list every file and its hash")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show, needs_daemon=True)


def cmd_add(args: argparse.Namespace, client: Client) -> int:
    path = Path(args.path).expanduser().absolute()
    try:
        listing = scan(path)
    except DatasetError as exc:
        raise InvalidInput(str(exc)) from None
    err = sys.stderr
    print(
        f"hashing {len(listing.sources):,} files ({mb(listing.size_bytes)}) in {listing.root}…",
        file=err,
    )
    if listing.ignored:
        print(f"  ignored (never part of a dataset): {', '.join(listing.ignored)}", file=err)
    with HashCache(cache_path(default_home())) as cache:
        try:
            manifest = build_manifest(listing, cache, progress=Progress(err))
        except DatasetError as exc:
            raise InvalidInput(str(exc)) from None
    stats = manifest.stats
    print(
        f"  {stats.files_hashed:,} files read ({mb(stats.bytes_hashed)}), "
        f"{stats.files_cached:,} unchanged (cached)",
        file=err,
    )
    client.timeout = max(client.timeout, ADD_TIMEOUT_S)
    body: dict[str, Any] = {"path": str(listing.root)}
    if args.name:
        body["name"] = args.name
    added = client.request("POST", "/api/datasets", body=body)
    if args.json:
        print(json.dumps(added))
        return 0
    state = "recorded" if added["created"] else "already recorded (same content)"
    print(f"{added['ref']} {state}: {added['file_count']:,} files, {mb(added['size_bytes'])}")
    print(f"  manifest {added['manifest_hash']}")
    print(schema_text(added["schema"]), end="")
    return 0


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    page = client.request("GET", "/api/datasets")
    if args.json:
        print(json.dumps(page))
    elif not page["datasets"]:
        print("no datasets yet: record one with `mlops data add PATH`")
    else:
        rows = [
            [
                d["name"],
                str(d["latest"]["version"]),
                str(d["versions"]),
                f"{d['latest']['file_count']:,}",
                mb(d["latest"]["size_bytes"]),
                fmt.short_time(d["latest"]["created_at"]),
                d["latest"]["path"],
            ]
            for d in page["datasets"]
        ]
        print(fmt.table(rows, ["NAME", "LATEST", "VERSIONS", "FILES", "SIZE", "CREATED", "PATH"]))
    return 0


def cmd_show(args: argparse.Namespace, client: Client) -> int:
    name, _, version = args.ref.partition("@")
    name = quote(name, safe="")
    if not version:
        versions = client.request("GET", f"/api/datasets/{name}")
        if args.json:
            print(json.dumps(versions))
            return 0
        rows = [
            [
                v["ref"],
                f"{v['file_count']:,}",
                mb(v["size_bytes"]),
                v["manifest_hash"][:19],
                fmt.short_time(v["created_at"]),
                v["path"],
            ]
            for v in versions["versions"]
        ]
        print(fmt.table(rows, ["VERSION", "FILES", "SIZE", "MANIFEST", "CREATED", "PATH"]))
        version = "latest"
    one = client.request(
        "GET", f"/api/datasets/{name}/{quote(version, safe='')}", query={"files": bool(args.files)}
    )
    if args.json:
        print(json.dumps(one))
        return 0
    print(version_text(one))
    return 0


def version_text(v: dict[str, Any]) -> str:
    lines = [
        f"dataset {v['ref']}",
        f"  path:      {v['path']}",
        f"  manifest:  {v['manifest_hash']}",
        f"  files:     {v['file_count']:,} ({mb(v['size_bytes'])})",
        f"  created:   {fmt.short_time(v['created_at'])}",
    ]
    text = "\n".join(lines) + "\n" + schema_text(v["schema"])
    if v.get("files"):
        text += "  files:\n" + "".join(
            f"    {f['sha256'][:12]}  {f['size']:>12,}  {f['path']}\n" for f in v["files"]
        )
    return text.rstrip("\n")


def schema_text(schema: dict[str, Any]) -> str:
    out = ""
    for relpath, s in schema.items():
        rows = f"{s['rows']:,} rows" if s.get("rows") is not None else "rows unknown"
        out += f"  {relpath} ({s['format']}, {rows})\n"
        if s.get("columns"):
            out += "    " + ", ".join(f"{c['name']}: {c['dtype']}" for c in s["columns"]) + "\n"
        if s.get("error"):
            out += f"    note: {s['error']}\n"
    return out


def mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"


class Progress:
    """Hashing progress on one rewritten line of a terminal (nothing when piped)."""

    def __init__(self, out: TextIO, every_s: float = 0.2) -> None:
        self.out = out
        self.live = out.isatty()
        self.every_s = every_s
        self.last = 0.0

    def __call__(self, files: int, total_files: int, done: int, total: int) -> None:
        if not self.live:
            return
        now = time.monotonic()
        end = files == total_files
        if not end and now - self.last < self.every_s:
            return
        self.last = now
        self.out.write(f"\r  {files:,}/{total_files:,} files, {mb(done)} of {mb(total)}")
        self.out.write("\n" if end else "")
        self.out.flush()
