"""What a generated pipeline module imports, so that the module itself stays short.

A generated module looks like::

    @dataclass
    class Params:
        seed: int = 42
        lr: float = 0.01

    def run(params: Params) -> dict[str, object]: ...   # the steps, chained

    def main(argv: Sequence[str] | None = None, **overrides: object) -> dict[str, float]:
        return run_pipeline(run, parse_params(Params, argv, overrides))

``python -m pkg.name --lr 0.1`` and ``mlops_kernel.launch`` (which passes the
run's parameters as keyword arguments) both end up in :func:`run_pipeline`.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import random
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any, TypeVar

from mlops_kernel import tracking
from mlops_kernel.fingerprint import metric_value
from mlops_kernel.printed_metrics import PrintedMetrics

__all__ = ["parse_params", "run_pipeline", "seed_everything"]

T = TypeVar("T")

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_NONE = frozenset({"none", "null"})
_MAX_SEED = 2**32 - 1


def seed_everything(seed: int, *, torch: bool = False) -> None:
    """Seed Python's ``random``, numpy's global generator and, when wanted, torch.

    torch is seeded when ``torch=True`` or when it is already imported. The
    notebook capture run calls this same function before the first cell, so a
    run of the extracted module and the captured notebook run draw the same
    random numbers, and the characterisation tests can compare their results.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be an int from 0 to {_MAX_SEED}, got {seed!r}")
    random.seed(seed)
    numpy = importlib.import_module("numpy")
    numpy.random.seed(seed)
    if torch or "torch" in sys.modules:
        importlib.import_module("torch").manual_seed(seed)


class _UsageError(Exception):
    """A parameter given on the command line, in a file or as an override is wrong."""


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    default: object
    target: Any  # the type values are converted to; None: JSON, else text
    optional: bool  # None is a valid value

    @property
    def type_name(self) -> str:
        if self.target is bool:
            return "bool (true/false/yes/no/1/0)"
        if self.target is None:
            return "JSON value or text"
        if typing.get_origin(self.target) is typing.Literal:
            return "one of " + ", ".join(str(c) for c in typing.get_args(self.target))
        if isinstance(self.target, type) and issubclass(self.target, enum.Enum):
            return "one of " + ", ".join(member.name for member in self.target)
        name = getattr(typing.get_origin(self.target) or self.target, "__name__", None)
        text = name or str(self.target)
        return f"{text} or none" if self.optional else text

    @property
    def metavar(self) -> str:
        """How the usage line shows the value: INT, BOOL, {mse,mae}, JSON."""
        if self.type_name.startswith("one of "):
            return "{" + self.type_name.removeprefix("one of ").replace(", ", ",") + "}"
        return "JSON" if self.target is None else self.type_name.split()[0].upper()


def _target(hint: Any, default: object) -> tuple[Any, bool]:
    """The type to convert to, and whether None is allowed, from a hint or the default."""
    if hint is None or hint is Any or hint is object or isinstance(hint, str):
        return (None, True) if default is None else (type(default), False)
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        return (args[0] if len(args) == 1 else None), optional or default is None
    return hint, default is None


def _fields(cls: type[Any]) -> dict[str, _Field]:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"parse_params needs a dataclass, got {cls!r}")
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a hint naming something not importable here: use the defaults
        hints = {}
    found: dict[str, _Field] = {}
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        if field.default is not dataclasses.MISSING:
            default: object = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            raise TypeError(f"{cls.__qualname__}.{field.name} needs a default value")
        target, optional = _target(hints.get(field.name, field.type), default)
        found[field.name] = _Field(field.name, default, target, optional)
    return found


def _parses_text(target: Any) -> bool:
    """Whether values of ``target`` are written as plain text (not JSON)."""
    if target in (bool, int, float) or typing.get_origin(target) is typing.Literal:
        return True
    return isinstance(target, type) and issubclass(target, PurePath | enum.Enum)


def _parse_text(target: Any, text: str) -> object:
    """Plain text as ``target``; ValueError when it is not one."""
    if target is bool:
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError(text)
    if target in (int, float):
        return target(text)
    choices: Any = (
        typing.get_args(target) if typing.get_origin(target) is typing.Literal else target
    )
    if isinstance(choices, type) and issubclass(choices, PurePath):
        return choices(text)
    for choice in choices:
        if text in (str(choice), getattr(choice, "name", None), str(getattr(choice, "value", ""))):
            return choice
    raise ValueError(text)


def _from_text(field: _Field, text: str, where: str) -> object:
    """A command-line string as the field's type."""
    if field.optional and text.strip().lower() in _NONE:
        return None
    target = field.target
    if target is str:
        return text
    if target is None:  # no usable annotation and a None default: JSON, else the text
        try:
            return json.loads(text)
        except ValueError:
            return text
    try:
        if _parses_text(target):
            return _parse_text(target, text.strip())
        value = json.loads(text)
    except ValueError:
        raise _UsageError(f"{where}: expected {field.type_name}, got {text!r}") from None
    return _from_object(field, value, where)


def _from_object(field: _Field, value: object, where: str) -> object:
    """A value from the JSON file or an override, checked (and converted) like text."""
    target = field.target
    if value is None and (field.optional or target is None):
        return None
    if target is None:
        return value
    if isinstance(value, str) and target is not str:  # "0.1", "yes", "[8, 4]" from params.json
        return _from_text(field, value, where)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    origin = typing.get_origin(target) or target
    if target is bool and (isinstance(value, bool) or value in (0, 1)):
        return bool(value)
    if target is int and isinstance(value, int | float) and number and float(value).is_integer():
        return int(value)
    if target is float and isinstance(value, int | float) and number:
        return float(value)
    if target is str and (number or isinstance(value, bool | str)):
        return str(value)
    if origin is typing.Literal and value in typing.get_args(target):
        return value
    if origin in (list, tuple) and isinstance(value, list | tuple):
        return origin(value)
    if isinstance(origin, type) and isinstance(value, origin):
        return value
    raise _UsageError(f"{where}: expected {field.type_name}, got {value!r}")


def _known(fields: Mapping[str, _Field]) -> str:
    return ", ".join(fields) or "none"


def _read_file(path: str, fields: Mapping[str, _Field]) -> dict[str, object]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _UsageError(f"cannot read --params file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise _UsageError(f"--params file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _UsageError(f"--params file {path} must hold a JSON object")
    return _from_mapping(data, fields, f"in {path}")


def _from_mapping(
    data: Mapping[Any, object], fields: Mapping[str, _Field], where: str
) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in fields:
            raise _UsageError(f"unknown parameter {key!r} {where} (known: {_known(fields)})")
        values[name] = _from_object(fields[name], value, f"parameter {name!r} {where}")
    return values


def _from_argv(
    args: Sequence[str], fields: Mapping[str, _Field]
) -> tuple[list[str], dict[str, object]]:
    """(--params files, values) from ``--name value`` / ``--name=value`` arguments."""
    files: list[str] = []
    values: dict[str, object] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("--") or arg == "--":
            raise _UsageError(f"unexpected argument {arg!r} (give parameters as --name value)")
        flag, has_value, text = arg[2:].partition("=")
        name = flag.replace("-", "_")
        field = fields.get(name)
        if name != "params" and field is None:
            raise _UsageError(f"unknown parameter --{flag} (known: {_known(fields)})")
        if not has_value:
            if i < len(args) and not args[i].startswith("--"):
                text, i = args[i], i + 1
            elif field is not None and field.target is bool:
                text = "true"  # a bare --flag switches a bool on
            else:
                expected = field.type_name if field else "a JSON file"
                raise _UsageError(f"argument --{flag}: expected one value ({expected})")
        if field is None:
            files.append(text)
        else:
            values[name] = _from_text(field, text, f"argument --{flag}")
    return files, values


def _usage(prog: str, fields: Mapping[str, _Field]) -> str:
    options = " ".join(f"[--{name} {field.metavar}]" for name, field in fields.items())
    return f"usage: {prog} [--params FILE.json] {options}".rstrip()


def parse_params(
    cls: type[T],
    argv: Sequence[str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> T:
    """An instance of the dataclass ``cls`` (every field has a default) for this run.

    Precedence, lowest to highest: the defaults, a ``--params FILE.json`` file,
    ``overrides`` (keyword arguments, e.g. from ``mlops_kernel.launch``), and
    ``--name value`` / ``--name=value`` on the command line (``argv``, default
    ``sys.argv[1:]``; ``-`` in names stands for ``_``). Values are converted by the
    field's annotation (or its default's type). An unknown name or a badly typed
    value prints a usage line and a one-line error, then raises ``SystemExit(2)``.
    """
    fields = _fields(cls)
    args = list(sys.argv[1:] if argv is None else argv)
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else cls.__module__
    if "-h" in args or "--help" in args:
        print(_usage(prog, fields))
        for name, field in fields.items():
            print(f"  --{name}  {field.type_name} (default: {field.default!r})")
        raise SystemExit(0)
    try:
        files, from_argv = _from_argv(args, fields)
        values: dict[str, object] = {}
        for path in files:
            values.update(_read_file(path, fields))
        values.update(_from_mapping(overrides or {}, fields, "in the keyword arguments"))
        values.update(from_argv)
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:  # the dataclass's own checks (__post_init__)
            raise _UsageError(f"invalid parameters: {exc}") from None
    except _UsageError as exc:
        print(_usage(prog, fields), file=sys.stderr)
        print(f"{prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _loggable(value: object) -> object:
    """A param as params.json keeps it, so that it parses back: JSON for containers."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, list | tuple | dict):
        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            return str(value)
    return value


def run_pipeline(run: Callable[[T], Mapping[str, object] | None], params: T) -> dict[str, float]:
    """Run ``run(params)`` as a tracked run; returns the metrics it printed and returned.

    Logs the params, seeds everything with ``params.seed`` when there is such a
    field, collects printed metrics (:class:`PrintedMetrics`) and logs every
    number in the mapping ``run`` returns. Returned values win over printed
    ones of the same name. Everything goes through :mod:`mlops_kernel.tracking`.
    """
    if not dataclasses.is_dataclass(params) or isinstance(params, type):
        raise TypeError(f"run_pipeline needs a dataclass instance, got {params!r}")
    tracking.log_params({k: _loggable(v) for k, v in dataclasses.asdict(params).items()})
    seed = getattr(params, "seed", None)
    if any(f.name == "seed" for f in dataclasses.fields(params)) and seed is not None:
        seed_everything(seed)
    try:
        with PrintedMetrics() as printed:
            result = run(params)
        returned: dict[str, float] = {}
        if isinstance(result, Mapping):
            for key, value in result.items():
                number = metric_value(value)
                valid_key = isinstance(key, str) and 0 < len(key) <= tracking.MAX_KEY_LENGTH
                if number is not None and valid_key:
                    returned[key] = number
        tracking.log_metrics(returned)
    finally:
        tracking.flush()
    return {**printed.latest, **returned}
