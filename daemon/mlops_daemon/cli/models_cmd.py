"""`mlops models|promote|rollback|cutout|restore`: the model registry and its aliases.

Every change is recorded with who made it (the login name, sent as ``X-Mlops-Actor``)
and why (``--reason``).
"""

from __future__ import annotations

import argparse
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mlops_kernel.model_schemas import (
    CutoutRequest,
    ModelDetail,
    PromoteRequest,
    RestoreRequest,
    RollbackRequest,
)

from .. import client_models as api
from ..client import Client
from ..errors import InvalidInput
from . import format as fmt

M = TypeVar("M", bound=BaseModel)
EVENTS_SHOWN = 20


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = sub.add_parser("models", help="registered models, or one model's versions")
    models.add_argument("name", nargs="?", metavar="NAME")
    models.add_argument("--json", action="store_true", help="print one JSON object")
    models.set_defaults(func=cmd_models, needs_daemon=True)

    promote = sub.add_parser("promote", help="point an alias at a version whose gates passed")
    promote.add_argument("model")
    promote.add_argument("version", type=int)
    promote.add_argument("alias", help="dev, staging, production, or your own")
    promote.add_argument(
        "--override", action="store_true", help="promote although required checks failed"
    )
    promote.add_argument("--reason", default=None, help="why (needed with --override)")
    promote.add_argument("--json", action="store_true")
    promote.set_defaults(func=cmd_promote, needs_daemon=True)

    rollback = sub.add_parser("rollback", help="point an alias back at its previous version")
    rollback.add_argument("model")
    rollback.add_argument("alias")
    rollback.add_argument("--reason", default=None)
    rollback.add_argument("--json", action="store_true")
    rollback.set_defaults(func=cmd_rollback, needs_daemon=True)

    cutout = sub.add_parser("cutout", help="stop serving an alias (default: every alias) now")
    cutout.add_argument("model")
    cutout.add_argument("alias", nargs="?", default=None)
    cutout.add_argument("--reason", required=True, help="why it must stop (recorded)")
    cutout.add_argument("--json", action="store_true")
    cutout.set_defaults(func=cmd_cutout, needs_daemon=True)

    restore = sub.add_parser("restore", help="serve a cut-out alias (default: all) again")
    restore.add_argument("model")
    restore.add_argument("alias", nargs="?", default=None)
    restore.add_argument("--reason", default=None)
    restore.add_argument("--json", action="store_true")
    restore.set_defaults(func=cmd_restore, needs_daemon=True)


def cmd_models(args: argparse.Namespace, client: Client) -> int:
    if args.name:
        detail = api.model_detail(client, args.name)
        print(detail.model_dump_json() if args.json else detail_text(detail))
        return 0
    listed = api.list_models(client)
    if args.json:
        print(listed.model_dump_json())
    elif not listed.models:
        print("no models yet: a run that calls log_model() registers one when it succeeds")
    else:
        rows = [
            [
                m.name,
                str(m.latest_version),
                str(m.versions),
                aliases_text([a.model_dump(mode="json") for a in m.aliases]),
                fmt.short_time(m.updated_at.isoformat()),
            ]
            for m in listed.models
        ]
        print(fmt.table(rows, ["NAME", "LATEST", "VERSIONS", "ALIASES", "UPDATED"]))
    return 0


def cmd_promote(args: argparse.Namespace, client: Client) -> int:
    req = request(
        PromoteRequest,
        version=args.version,
        alias=args.alias,
        override=args.override,
        reason=args.reason,
    )
    api.set_actor(client)
    detail = api.promote(client, args.model, req)
    return report(args, detail, args.alias)


def cmd_rollback(args: argparse.Namespace, client: Client) -> int:
    req = request(RollbackRequest, alias=args.alias, reason=args.reason)
    api.set_actor(client)
    return report(args, api.rollback(client, args.model, req), args.alias)


def cmd_cutout(args: argparse.Namespace, client: Client) -> int:
    req = request(CutoutRequest, alias=args.alias, reason=args.reason)
    api.set_actor(client)
    return report(args, api.cutout(client, args.model, req), args.alias)


def cmd_restore(args: argparse.Namespace, client: Client) -> int:
    req = request(RestoreRequest, alias=args.alias, reason=args.reason)
    api.set_actor(client)
    return report(args, api.restore(client, args.model, req), args.alias)


def request(model: type[M], **fields: Any) -> M:
    """Build a request body here, so a bad argument is one line, not a traceback."""
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'argument'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise InvalidInput(f"invalid arguments: {problems}") from None


def report(args: argparse.Namespace, detail: ModelDetail, alias: str | None) -> int:
    """What the change did: the aliases now, and the events it recorded."""
    if args.json:
        print(detail.model_dump_json())
        return 0
    shown = [a for a in detail.aliases if alias is None or a.alias == alias]
    for a in shown:
        state = f"  CUT OUT ({a.cut_out_reason})" if a.cut_out else ""
        print(f"{detail.name}@{a.alias} -> version {a.version}{state}")
    event = detail.events[0] if detail.events else None
    if event is not None and event.override:
        print(f"  recorded as an OVERRIDE of failed gate checks by {event.actor}: {event.reason}")
    if any(a.cut_out for a in shown) and event is not None and event.action != "cutout":
        print(f"  still cut out: serve it again with `mlops restore {detail.name} {alias or ''}`")
    return 0


def aliases_text(aliases: list[dict[str, Any]]) -> str:
    parts = [f"{a['alias']}=v{a['version']}{' (cut out)' if a['cut_out'] else ''}" for a in aliases]
    return ", ".join(parts) or "-"


def detail_text(detail: ModelDetail) -> str:
    lines = [f"model {detail.name}"]
    rows = [
        [
            str(v.version),
            v.run_id,
            f"{v.flavor}/{v.task}",
            v.gate.status.value if v.gate else "not gated",
            ", ".join(v.aliases) or "-",
            fmt.short_time(v.created_at.isoformat()),
        ]
        for v in detail.versions
    ]
    lines.append(fmt.table(rows, ["VERSION", "RUN", "KIND", "GATES", "ALIASES", "CREATED"]))
    if detail.aliases:
        lines.append("aliases:")
        for a in detail.aliases:
            cut = f"  CUT OUT: {a.cut_out_reason}" if a.cut_out else ""
            lines.append(f"  {a.alias:<12} version {a.version}{cut}")
    if detail.events:
        lines.append("history (newest first):")
        for e in detail.events[:EVENTS_SHOWN]:
            moved = f"v{e.previous_version} -> " if e.previous_version else ""
            target = f"{moved}v{e.version}" if e.version else ""
            flag = " OVERRIDE" if e.override else ""
            why = f": {e.reason}" if e.reason else ""
            when = fmt.short_time(e.at.isoformat())
            lines.append(
                f"  {when}  {e.action:<8} {e.alias or '*'} {target}{flag} by {e.actor}{why}"
            )
        if len(detail.events) > EVENTS_SHOWN:
            lines.append(f"  ... {len(detail.events) - EVENTS_SHOWN} earlier (see --json)")
    return "\n".join(lines)
