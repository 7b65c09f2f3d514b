"""The `mlops` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..client import Client, find_daemon
from ..config import DaemonConfig
from ..errors import DaemonUnavailable, InvalidInput, MlopsError
from . import (
    daemon_cmd,
    data_cmd,
    demo_cmd,
    export_cmd,
    gate_cmd,
    models_cmd,
    notebook_cmd,
    reproduce_cmd,
    runs_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops",
        description="jupyter-mlops: train, track and compare models through a local daemon.",
    )
    parser.add_argument("--version", action="version", version=f"mlops {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    daemon_cmd.add_parser(sub)
    runs_cmd.add_parsers(sub)
    notebook_cmd.add_parsers(sub)
    data_cmd.add_parsers(sub)
    models_cmd.add_parsers(sub)
    export_cmd.add_parser(sub)
    reproduce_cmd.add_parser(sub)
    gate_cmd.add_parser(sub)
    demo_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = DaemonConfig.from_env()
    try:
        if getattr(args, "needs_daemon", False):
            client = Client(find_daemon(config.paths))
            return int(args.func(args, client))
        return int(args.func(args, config))
    except InvalidInput as exc:
        print(f"mlops: {exc.message}", file=sys.stderr)
        return 2
    except DaemonUnavailable as exc:
        print(f"mlops: {exc.message}", file=sys.stderr)
        return 1
    except MlopsError as exc:
        print(f"mlops: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nmlops: interrupted (runs keep going in the daemon)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
