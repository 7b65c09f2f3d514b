"""Parse the CLI's KEY=VALUE options into typed values."""

from __future__ import annotations

import json
import re

from mlops_kernel.schemas import ParamValue

from ..errors import InvalidInput

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_param(text: str, option: str = "--param") -> tuple[str, ParamValue]:
    """``lr=0.1`` → ("lr", 0.1). Numbers, true/false/null and JSON strings are typed."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InvalidInput(f"{option} expects KEY=VALUE (e.g. {option} lr=0.01), got {text!r}")
    return key, typed_value(raw)


def typed_value(raw: str) -> ParamValue:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return raw  # lists and objects stay text: params are scalars


def parse_env(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise InvalidInput(f"--env expects NAME=VALUE (e.g. --env SEED=1), got {text!r}")
    return key, value


def parse_memory_mb(text: str) -> int:
    """'512M', '2G', '1.5g' or a plain number of MiB → MiB."""
    match = _SIZE.match(text)
    if not match:
        raise InvalidInput(f"--memory expects a size like 512M or 2G, got {text!r}")
    number, unit = float(match.group(1)), match.group(2).lower()
    factor = {"": 1, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}[unit]
    return max(1, int(number * factor))
