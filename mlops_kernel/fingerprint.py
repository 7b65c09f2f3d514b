"""Deterministic, JSON-able summaries ("fingerprints") of Python values.

A generated characterisation test stores the fingerprint of what a notebook step
produced and checks that the extracted step produces an equal one. So a
fingerprint must be the same in any process for equal values: no ``id()``, no
memory addresses, no ``repr`` of arbitrary objects, no unordered iteration
(sets and dicts are sorted). Big things are summarised (a sha256 of the bytes
plus readable statistics) so the stored JSON stays small.

numpy, pandas and torch are never imported here: a value can only be one of
their objects when its library is already in ``sys.modules``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
import functools
import hashlib
import json
import math
import numbers
import pathlib
import sys
import types
import uuid
from collections.abc import Mapping
from typing import Any

from mlops_kernel._fingerprint_diff import differences

__all__ = ["Fingerprint", "canonical_json", "differences", "fingerprint", "metric_value"]

Fingerprint = dict[str, Any]

LONG_STR = 200  # longer strings are stored as length + sha256
SMALL_ARRAY = 20  # arrays with at most this many elements also list their values
_TEXT_TYPES = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
    fractions.Fraction,
    pathlib.PurePath,
    uuid.UUID,
    range,
)
_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
    staticmethod,
    classmethod,
)


def canonical_json(value: object) -> str:
    """The one JSON text of a fingerprint (sorted keys, no spaces): what digests hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def fingerprint(value: object, *, max_items: int = 50, depth: int = 4) -> Fingerprint:
    """A JSON-serialisable summary of ``value``, equal for equal values in any process.

    Containers are followed ``depth`` levels deep; a container with more than
    ``max_items`` items keeps only its length and one digest of all its items.
    """
    return _Printer(max_items).fp(value, depth)


def metric_value(value: object) -> float | None:
    """The float of a numeric scalar (int, float, numpy scalar, 0-d array,
    one-element tensor); None for bools and everything else."""
    if isinstance(value, bool):
        return None
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray | np.generic):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
    elif not isinstance(value, numbers.Real):
        torch = sys.modules.get("torch")
        if torch is None or not isinstance(value, torch.Tensor) or value.numel() != 1:
            return None
        if value.dtype.is_complex or value.dtype == torch.bool:
            return None
        value = value.detach().cpu().item()
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _qualname(cls: object) -> str:
    """The qualified name without the ``f.<locals>.`` part: a class or function defined in a
    notebook cell and the same one defined inside a generated step function compare equal."""
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?")
    return str(name).rpartition("<locals>.")[2]


def _has_method(value: object, name: str) -> bool:
    try:
        return callable(getattr(value, name, None))
    except Exception:  # a property or __getattr__ that raises
        return False


def _sha256(data: Any) -> str:
    return hashlib.sha256(data).hexdigest()


def _num(x: object) -> float | str:
    """A statistic as JSON: finite floats rounded to 12 digits, others as 'nan'/'inf'."""
    f = float(x)  # type: ignore[arg-type]
    return float(f"{f:.12g}") if math.isfinite(f) else str(f)


def _exact(x: object) -> object:
    """A listed element as JSON, exactly: ints and bools as is, non-finite floats as str."""
    if isinstance(x, float):
        return x if math.isfinite(x) else str(x)
    if isinstance(x, complex):
        return [_exact(x.real), _exact(x.imag)]
    if x is None or isinstance(x, bool | int | str):
        return x
    return str(x)


def _stats(np: Any, values: Any) -> dict[str, object]:
    """min/max/mean/std over the non-nan float64 values, and how many were nan."""
    flat = values.reshape(-1)
    if flat.size == 0:
        return {}
    with np.errstate(all="ignore"):
        present = flat[~np.isnan(flat)]
        if present.size == 0:
            return {"nan_count": int(flat.size)}
        return {
            "min": _num(present.min()),
            "max": _num(present.max()),
            "mean": _num(present.mean()),
            "std": _num(present.std()),
            "nan_count": int(flat.size - present.size),
        }


OPAQUE_MODULES = frozenset(
    {"matplotlib", "seaborn", "plotly", "bokeh", "altair", "IPython", "ipywidgets", "weakref",
     "threading", "socket", "io", "_io", "logging", "tkinter"}
)  # fmt: skip
"""Objects from these libraries (figures, widgets, handles) are compared by class only:
their state is about display or the process, not about what a step computed."""


class _Printer:
    """Computes fingerprints with one ``max_items`` setting."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items

    def fp(self, value: object, depth: int) -> Fingerprint:
        if value is None:
            return {"type": "none"}
        if isinstance(value, bool):
            return {"type": "bool", "value": value}
        if isinstance(value, enum.Enum):
            return {"type": "enum", "class": _qualname(type(value)), "name": value.name}
        special = self._library_value(value, depth)
        if special is not None:
            return special
        if isinstance(value, int):
            return self._int(value)
        if isinstance(value, float):
            return {"type": "float", "hex": value.hex(), "value": _exact(value)}
        if isinstance(value, complex):
            return {"type": "complex", "real": value.real.hex(), "imag": value.imag.hex()}
        if isinstance(value, str):
            return self._str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            return {"type": "bytes", "length": len(data), "sha256": _sha256(data)}
        if isinstance(value, _TEXT_TYPES):
            return {"type": _qualname(type(value)), "text": str(value)}
        return self._named_or_container(value, depth)

    def _named_or_container(self, value: object, depth: int) -> Fingerprint:
        if isinstance(value, type):
            return {"type": "class", "name": _qualname(value)}
        if isinstance(value, types.ModuleType):
            return {"type": "module", "name": value.__name__}
        if isinstance(value, _FUNCTION_TYPES):
            name = _qualname(value) if hasattr(value, "__qualname__") else _qualname(type(value))
            return {"type": "function", "name": str(name)}
        if isinstance(value, functools.partial):
            parts = [value.func, value.args, value.keywords]
            return {"type": "partial", "parts": self._sequence("list", parts, depth)}
        if isinstance(value, list | tuple):
            kind = "tuple" if isinstance(value, tuple) else "list"
            return self._with_class(self._sequence(kind, list(value), depth), value, kind)
        if isinstance(value, Mapping):
            return self._with_class(self._mapping(value, depth), value, "dict")
        if isinstance(value, set | frozenset):
            kind = "frozenset" if isinstance(value, frozenset) else "set"
            return self._with_class(self._sequence(kind, value, depth, False), value, kind)
        if _has_method(value, "get_params") and _has_method(value, "fit"):
            return self._estimator(value, depth)
        return self._object(value, depth)

    @staticmethod
    def _with_class(fp: Fingerprint, value: object, kind: str) -> Fingerprint:
        if type(value).__name__ != kind:  # OrderedDict, a namedtuple, ...
            fp["class"] = _qualname(type(value))
        return fp

    @staticmethod
    def _int(value: int) -> Fingerprint:
        if value.bit_length() <= 64:
            return {"type": "int", "value": value}
        size = (value.bit_length() + 8) // 8
        return {
            "type": "int",
            "bits": value.bit_length(),
            "sha256": _sha256(value.to_bytes(size, "little", signed=True)),
        }

    @staticmethod
    def _str(value: str) -> Fingerprint:
        if len(value) <= LONG_STR:
            return {"type": "str", "value": value}
        data = value.encode("utf-8", "surrogatepass")
        return {"type": "str", "length": len(value), "sha256": _sha256(data), "head": value[:40]}

    # ------------------------------------------------------------------ containers

    def _digest(self, fps: list[Any]) -> str:
        h = hashlib.sha256()
        for item in fps:
            h.update(canonical_json(item).encode("ascii"))
            h.update(b"\n")
        return h.hexdigest()

    def _sequence(self, kind: str, items: Any, depth: int, ordered: bool = True) -> Fingerprint:
        """A list or tuple (``ordered``) or a set: items sorted by their canonical JSON."""
        fp: Fingerprint = {"type": kind, "length": len(items)}
        if depth <= 0:
            fp["depth_limited"] = True
            return fp
        children = [self.fp(item, depth - 1) for item in items]
        if not ordered:
            children.sort(key=canonical_json)
        if len(children) > self.max_items:
            fp["digest"] = self._digest(children)
        else:
            fp["items"] = children
        return fp

    def _mapping(self, value: Mapping[Any, Any], depth: int) -> Fingerprint:
        fp: Fingerprint = {"type": "dict", "length": len(value)}
        if depth <= 0:
            fp["depth_limited"] = True
            return fp
        if all(isinstance(key, str) for key in value):
            pairs = sorted(value.items())
            entries = {key: self.fp(item, depth - 1) for key, item in pairs}
            if len(entries) > self.max_items:
                fp["digest"] = self._digest([[key, item] for key, item in entries.items()])
            else:
                fp["items"] = entries
            return fp
        keyed = [
            {"key": self.fp(key, depth - 1), "value": self.fp(item, depth - 1)}
            for key, item in value.items()
        ]
        keyed.sort(key=lambda entry: (canonical_json(entry["key"]), canonical_json(entry)))
        if len(keyed) > self.max_items:
            fp["digest"] = self._digest(keyed)
        else:
            fp["items"] = keyed
        return fp

    def _estimator(self, value: Any, depth: int) -> Fingerprint:
        fp: Fingerprint = {"type": "estimator", "class": _qualname(type(value))}
        if depth <= 0:
            return fp
        try:
            params = dict(value.get_params(deep=False))
        except Exception:  # a half-built estimator: its class still says something
            params = {}
        fitted = {
            name: item
            for name, item in getattr(value, "__dict__", {}).items()
            if isinstance(name, str) and name.endswith("_") and not name.startswith("_")
        }
        # params and fitted attributes are parts of the estimator, not a level deeper
        fp["params"] = self._mapping({str(k): v for k, v in params.items()}, depth)
        fp["fitted"] = self._mapping(fitted, depth)
        return fp

    def _object(self, value: object, depth: int) -> Fingerprint:
        """Class name and attributes: ``vars()``, or the pickled state of objects without
        a ``__dict__`` (``__slots__``, extension types such as a fitted sklearn tree)."""
        fp: Fingerprint = {"type": "object", "class": _qualname(type(value))}
        if depth <= 0 or type(value).__module__.partition(".")[0] in OPAQUE_MODULES:
            return fp
        attrs = getattr(value, "__dict__", None)
        if isinstance(attrs, dict):  # private state holds caches and object ids: public only
            attrs = {k: v for k, v in attrs.items() if not str(k).startswith("_")}
        if not isinstance(attrs, dict):
            try:
                attrs = value.__getstate__()  # (None, {slot: value}) for __slots__
            except Exception:
                attrs = None
            if isinstance(attrs, tuple) and len(attrs) == 2 and isinstance(attrs[1], dict):
                attrs = {**(attrs[0] or {}), **attrs[1]}
        if isinstance(attrs, dict):
            named = {k: v for k, v in attrs.items() if isinstance(k, str)}
            fp["attrs" if hasattr(value, "__dict__") else "state"] = self._mapping(named, depth)
        return fp

    # ------------------------------------------------------------------ libraries

    def _library_value(self, value: object, depth: int) -> Fingerprint | None:
        """numpy, torch and pandas objects; None for anything else."""
        module = type(value).__module__.partition(".")[0]
        if module == "numpy":
            return self._numpy(sys.modules["numpy"], value, depth)
        if module == "torch" and "torch" in sys.modules:
            return self._torch(sys.modules["torch"], value, depth)
        if module == "pandas" and "pandas" in sys.modules:
            from mlops_kernel._fingerprint_pandas import pandas_fingerprint

            return pandas_fingerprint(sys.modules["pandas"], value, self.max_items, self._digest)
        np = sys.modules.get("numpy")
        if np is not None and isinstance(value, np.ndarray | np.generic):  # subclasses
            return self._numpy(np, value, depth)
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor | torch.nn.Module):
            return self._torch(torch, value, depth)
        return None

    def _numpy(self, np: Any, value: Any, depth: int) -> Fingerprint | None:
        if isinstance(value, np.generic):
            kind = value.dtype.kind
            fp: Fingerprint = {"type": "numpy_scalar", "dtype": str(value.dtype)}
            if kind in "biu":
                fp["value"] = value.item()
            elif kind == "f":
                number = float(value)
                fp.update(value=_exact(number), hex=number.hex())
            else:
                fp["item"] = self.fp(value.item(), max(depth - 1, 0))
            return fp
        if isinstance(value, np.dtype):
            return {"type": "numpy.dtype", "text": str(value)}
        if not isinstance(value, np.ndarray):
            return None  # a Generator, a ufunc, ...: handled as plain objects
        fp = {"type": "ndarray", "shape": list(value.shape), "dtype": str(value.dtype)}
        if type(value) is not np.ndarray:
            fp["class"] = _qualname(type(value))
        if value.dtype.hasobject or value.dtype.kind == "T":  # elements are references
            fp["elements"] = self._sequence("list", list(value.reshape(-1)), max(depth, 1))
            return fp
        flat = np.ascontiguousarray(value).reshape(-1)
        raw = flat.view(np.uint8) if value.dtype.itemsize else b""
        fp["sha256"] = _sha256(raw)
        return self._array_extras(np, fp, flat, value.dtype.kind)

    @staticmethod
    def _array_extras(np: Any, fp: Fingerprint, flat: Any, kind: str) -> Fingerprint:
        if kind in "iuf":
            fp["stats"] = _stats(np, flat.astype(np.float64))
        if flat.size <= SMALL_ARRAY:
            fp["values"] = [_exact(x) for x in flat.tolist()]
        return fp

    def _torch(self, torch: Any, value: Any, depth: int) -> Fingerprint | None:
        if isinstance(value, torch.nn.Module):
            fp: Fingerprint = {"type": "torch_module", "class": _qualname(type(value))}
            fp["training"] = bool(value.training)
            if depth > 0:
                fp["state_dict"] = self._mapping(dict(value.state_dict()), depth)
            return fp
        if isinstance(value, torch.device | torch.dtype):
            return {"type": f"torch.{_qualname(type(value))}", "text": str(value)}
        if not isinstance(value, torch.Tensor):
            return None
        fp = {"type": "tensor", "shape": list(value.shape), "dtype": str(value.dtype)}
        fp["requires_grad"] = bool(value.requires_grad)
        try:
            data = value.detach()
            if data.layout != torch.strided:
                data = data.to_dense()
            data = data.cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
            raw = data.view(torch.uint8).numpy()
        except Exception as exc:  # meta or quantized tensors have no bytes to hash
            fp["unreadable"] = type(exc).__name__
            return fp
        fp["sha256"] = _sha256(raw)
        np = sys.modules["numpy"]  # torch imports numpy when it has it; .numpy() needs it
        if data.is_floating_point() or not (data.is_complex() or data.dtype == torch.bool):
            fp["stats"] = _stats(np, data.to(torch.float64).numpy())
        if data.numel() <= SMALL_ARRAY:
            fp["values"] = [_exact(x) for x in data.tolist()]
        return fp
