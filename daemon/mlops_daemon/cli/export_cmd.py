"""`mlops export-service MODEL@ALIAS DIR`: the version an alias names, as a standalone
prediction service (a folder with the model, a small HTTP app, its test and a Dockerfile)."""

from __future__ import annotations

import argparse
import http.client
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..client import Client
from ..config import DaemonConfig
from ..errors import Conflict, InvalidInput, NotFound
from ..export_service import ExportedModel, WheelSource, image_name, write_service


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export-service",
        help="write a standalone prediction service (app, Dockerfile, test) for MODEL@ALIAS",
    )
    p.add_argument("target", metavar="MODEL@ALIAS", help="e.g. churn@production")
    p.add_argument("dir", type=Path, help="the folder to write (new, or empty)")
    p.add_argument(
        "--wheels",
        action="store_true",
        help="also put the packages' wheels in the folder, so that its image builds "
        "without a package index (pinned with hashes in requirements.lock.txt)",
    )
    p.set_defaults(func=cmd_export_service, needs_daemon=True)


def parse_target(text: str) -> tuple[str, str]:
    model, sep, alias = text.partition("@")
    if not sep or not model or not alias:
        raise InvalidInput(
            f"name the model and alias as MODEL@ALIAS (e.g. churn@production), not {text!r}"
        )
    return model, alias


def cmd_export_service(args: argparse.Namespace, client: Client) -> int:
    model, alias = parse_target(args.target)
    detail: dict[str, Any] = client.request("GET", f"/api/models/{quote(model, safe='')}")
    named = {a["alias"]: a for a in detail["aliases"]}
    if alias not in named:
        have = ", ".join(sorted(named)) or "none yet"
        raise NotFound(f"model {model!r} has no alias {alias!r} (its aliases: {have})")
    entry = named[alias]
    if entry["cut_out"]:
        raise Conflict(
            f"{model}@{alias} is cut out ({entry['cut_out_reason'] or 'no reason given'}); "
            f"restore it first (`mlops restore {model} {alias}`) to export it"
        )
    version = int(entry["version"])
    base = f"/api/models/{quote(model, safe='')}/versions/{version}/files"
    manifest = download(client, f"{base}/model.json")
    onnx = download(client, f"{base}/model.onnx")
    has_preprocess = any(
        v["version"] == version and v.get("preprocess") for v in detail["versions"]
    )
    preprocess = download(client, f"{base}/preprocess.py") if has_preprocess else None
    exported = ExportedModel(model, alias, version, manifest, onnx, preprocess)
    wheels = None
    if args.wheels:
        config = DaemonConfig.from_env()
        wheels = WheelSource(
            wheelhouse=config.home / "wheelhouse",
            ca_bundle=config.docker.ca_bundle,
            progress=lambda message: print(f"  wheels: {message}", file=sys.stderr, flush=True),
        )
    written = write_service(args.dir, exported, wheels)
    print(f"wrote {model}@{alias} (version {version}) as a service in {args.dir}:")
    for path in written:
        print(f"  {path.name}")
    if args.wheels:
        count = sum(1 for _ in (args.dir / "wheels").glob("*.whl"))
        print(f"  wheels/ ({count} wheels: the image builds without a package index)")
    print(
        f"check it: python -m pytest {args.dir} -q\n"
        f"run it:   python {args.dir / 'app.py'} --port 8080\n"
        f"image:    docker build -t {image_name(model, version)} {args.dir}",
        file=sys.stderr,
    )
    return 0


def download(client: Client, path: str) -> bytes:
    """A file's bytes from the daemon (its JSON errors raised as the matching MlopsError)."""
    conn = http.client.HTTPConnection(client.host, client.port, timeout=client.timeout)
    try:
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {client.token}"})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise client._unreachable(exc) from exc
    finally:
        conn.close()
    if response.status >= 400:
        client._decode(response.status, data)  # raises
    return data
