"""Run a training function as a managed run: ``python -m mlops_kernel.launch pkg.mod:func``.

The daemon starts function entry points this way, with the project directory on
``PYTHONPATH`` and a fresh work directory as cwd. The launcher

1. imports ``pkg.mod`` and looks up ``func`` (exit code 2, with a clear message,
   when the entry point is malformed, the module or function does not exist, or
   the target is not callable),
2. calls it with the run's parameters (:func:`mlops_kernel.get_params`) as
   keyword arguments -- only those its signature accepts, or all of them when it
   takes ``**kwargs``; the others stay available through ``get_params()``,
3. logs a returned ``{"name": number}`` mapping as metrics, so a plain
   ``def main(lr: float = 0.1) -> dict[str, float]`` needs no tracking calls,
4. exits 0 on success, 1 (traceback on stderr) when the function raises,
   and flushes the tracked metrics in every case.

Extra command-line arguments after the entry point are passed on in ``sys.argv``.
"""

from __future__ import annotations

import importlib
import inspect
import keyword
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mlops_kernel import tracking

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "main", "parse_entry_point"]

EXIT_FAILED = 1
EXIT_USAGE = 2

_SYNTAX = "expected 'package.module:function', e.g. 'train.model:main'"
_PROG = "mlops_kernel.launch"


class LaunchError(Exception):
    """The entry point cannot be started; the message says why (exit code 2)."""


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def parse_entry_point(text: str) -> tuple[str, str]:
    """Split ``'a.b.c:func'`` into ``('a.b.c', 'func')``, or raise ValueError.

    The module is one or more dotted identifiers; the function is one identifier.
    """
    module, sep, func = text.partition(":")
    if not sep or not module or not func:
        raise ValueError(f"invalid entry point {text!r}: {_SYNTAX}")
    if not all(_is_name(part) for part in module.split(".")):
        raise ValueError(f"invalid module name {module!r} in entry point {text!r}: {_SYNTAX}")
    if not _is_name(func):
        raise ValueError(f"invalid function name {func!r} in entry point {text!r}: {_SYNTAX}")
    return module, func


def _import_module(module: str) -> Any:
    """Import ``module``; only *its own* absence is a usage error.

    A module that exists but fails to import (a missing dependency, a syntax
    error in the code) raises through, to be reported as a failure of the run.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module == missing or module.startswith(missing + ".")):
            raise LaunchError(
                f"cannot import module {module!r}: no module named {missing!r} "
                f"(is the project directory on PYTHONPATH?)"
            ) from exc
        raise


def resolve(module: str, func: str) -> Callable[..., Any]:
    """The callable named by an entry point; raises LaunchError if there is none."""
    mod = _import_module(module)
    try:
        target = getattr(mod, func)
    except AttributeError:
        raise LaunchError(f"module {module!r} has no attribute {func!r}") from None
    if not callable(target):
        kind = type(target).__name__
        raise LaunchError(f"{module}:{func} is not callable (it is a {kind})")
    return target  # type: ignore[no-any-return]


def select_kwargs(func: Callable[..., Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The params ``func`` accepts as keyword arguments.

    All of them when it takes ``**kwargs`` (or has no inspectable signature);
    otherwise those it names. A required parameter with no value is a LaunchError,
    so the run fails before any training starts, with a message that says which.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return dict(params)
    accepted = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    kwargs: dict[str, Any] = {}
    missing: list[str] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return dict(params)
        if parameter.kind not in accepted:
            continue
        if name in params:
            kwargs[name] = params[name]
        elif parameter.default is inspect.Parameter.empty:
            missing.append(name)
    if missing:
        names = ", ".join(repr(name) for name in missing)
        known = ", ".join(sorted(params)) or "none"
        raise LaunchError(
            f"the run has no value for required parameter(s) {names} (params: {known})"
        )
    return kwargs


def _is_number(value: object) -> bool:
    """What log_metric accepts: a real number, not a str or a bool (nor an array)."""
    if isinstance(value, str | bytes | bool) or tracking.is_bool_like(value):
        return False
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def log_result(result: object) -> None:
    """Log a returned ``{name: number}`` mapping as metrics; other results are ignored."""
    if not isinstance(result, Mapping):
        return
    metrics = {k: v for k, v in result.items() if isinstance(k, str) and _is_number(v)}
    skipped = [repr(k) for k in result if k not in metrics]
    if skipped:
        print(
            f"{_PROG}: not logged as metrics (not numbers): {', '.join(skipped)}", file=sys.stderr
        )
    tracking.log_metrics(metrics)


def run(entry_point: str) -> int:
    """Start ``entry_point`` with the run's params; returns the process exit code."""
    try:
        try:
            module, func = parse_entry_point(entry_point)
        except ValueError as exc:
            raise LaunchError(str(exc)) from exc
        target = resolve(module, func)  # other errors: the module raised while importing
        kwargs = select_kwargs(target, tracking.get_params())
    except LaunchError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        traceback.print_exc()
        return EXIT_FAILED
    try:
        log_result(target(**kwargs))
    except Exception:
        traceback.print_exc()
        return EXIT_FAILED
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``python -m mlops_kernel.launch ENTRY_POINT [ARGS...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: python -m {_PROG} package.module:function [args...]", file=sys.stderr)
        return 0 if args else EXIT_USAGE
    sys.argv = args  # the user's code sees its entry point and any extra arguments
    try:
        return run(args[0])
    finally:
        try:
            tracking.flush()
        except Exception as exc:
            print(f"{_PROG}: could not write metrics: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
