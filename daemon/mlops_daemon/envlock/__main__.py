"""Debugging aid: ``python -m mlops_daemon.envlock PROJECT ENTRY [--wheelhouse DIR]``.

Prints the environment lock as JSON (with wheels and hashes when a wheelhouse
is given); a problem goes to stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .model import EnvLockError
from .resolve import resolve_lock
from .wheels import gather_wheels


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_daemon.envlock", description="Print a run's environment lock."
    )
    parser.add_argument("project", type=Path, help="the project directory")
    parser.add_argument("entry", help="a script path relative to it, or 'package.module:func'")
    parser.add_argument("--wheelhouse", type=Path, help="also gather wheels into this directory")
    parser.add_argument("--ca-bundle", type=Path, help="CA bundle for pip (with --wheelhouse)")
    parser.add_argument("--index-url", help="package index for pip (with --wheelhouse)")
    args = parser.parse_args(argv)
    try:
        lock = resolve_lock(args.project.resolve(), args.entry)
        if args.wheelhouse is not None:
            lock = gather_wheels(
                lock,
                args.wheelhouse,
                ca_bundle=args.ca_bundle,
                index_url=args.index_url,
                progress=lambda line: print(line, file=sys.stderr),
            )
    except EnvLockError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps(lock.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
