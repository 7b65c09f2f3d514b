"""Readable differences between two sets of fingerprints (see :mod:`mlops_kernel.fingerprint`).

A failing characterisation test should say *what* changed, e.g.
``clf.fitted.support_: sha256 differs (mean 0.1 -> 0.2, shape (10,) -> (10,))``,
not dump two JSON blobs. Paths join names with ``.`` (``[...]`` for indices and
keys that are not identifiers); each changed leaf gives one line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["differences"]

MAX_LINES_PER_CONTAINER = 20
_IDENTITY = ("type", "class")
_HASHES = ("sha256", "digest")
_SUMMARY_FIRST = ("shape", "length")
_NOT_SHOWN = frozenset({"hex", "values", "stats", "column_stats"})


def differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], path: str = ""
) -> list[str]:
    """One readable line per difference between two ``{name: fingerprint}`` mappings.

    Empty when they are equal.
    """
    out: list[str] = []
    _diff_mapping(expected, actual, path, out)
    return out


def _canon(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _is_node(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str)


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if text.isidentifier():
        return f"{path}.{text}" if path else text
    return f"{path}[{text!r}]"


def _show(value: object) -> str:
    if isinstance(value, float):
        return repr(value) if len(repr(value)) <= 10 else f"{value:.6g}"
    if isinstance(value, list) and all(isinstance(x, int) for x in value):
        return str(tuple(value))
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _brief(node: object) -> str:
    """A short description of a fingerprint: 'int 3', 'ndarray (10,) float64', 'estimator SVC'."""
    if not _is_node(node):
        return _show(node)
    assert isinstance(node, dict)
    parts = [str(node["type"])]
    for key in ("class", "name", "text"):
        if key in node:
            parts.append(str(node[key]))
    if "value" in node:
        parts.append(_show(node["value"]))
    if "shape" in node:
        parts.append(_show(node["shape"]))
    if "dtype" in node:
        parts.append(str(node["dtype"]))
    return " ".join(parts)


def _diff(a: object, b: object, path: str, out: list[str]) -> None:
    if a == b:
        return
    if _is_node(a) and _is_node(b):
        assert isinstance(a, dict) and isinstance(b, dict)
        _diff_node(a, b, path, out)
    elif isinstance(a, Mapping) and isinstance(b, Mapping) and not (_is_node(a) or _is_node(b)):
        _diff_mapping(a, b, path, out)
    else:
        out.append(f"{path or '<value>'}: {_brief(a)} -> {_brief(b)}")


def _diff_mapping(a: Mapping[str, Any], b: Mapping[str, Any], path: str, out: list[str]) -> None:
    for key in [*a, *(k for k in b if k not in a)]:
        where = _join(path, key)
        if key not in b:
            out.append(f"{where}: missing (expected {_brief(a[key])})")
        elif key not in a:
            out.append(f"{where}: unexpected ({_brief(b[key])})")
        else:
            _diff(a[key], b[key], where, out)


def _diff_node(a: dict[str, Any], b: dict[str, Any], path: str, out: list[str]) -> None:
    where = path or "<value>"
    if any(a.get(key) != b.get(key) for key in _IDENTITY):
        out.append(f"{where}: type differs ({_brief(a)} -> {_brief(b)})")
        return
    children = [k for k in a if k in b and (_is_node(a[k]) or k == "items")]
    scalars = [
        k
        for k in [*a, *(k for k in b if k not in a)]
        if k not in _IDENTITY and k not in _HASHES and k not in children
    ]
    if "items" in children:  # the items say more than a changed length
        scalars = [k for k in scalars if k != "length"]
    for hash_key in _HASHES:
        if a.get(hash_key) != b.get(hash_key):
            out.append(f"{where}: {hash_key} differs ({_details(a, b, scalars)})")
            break
    else:
        changed = [k for k in scalars if a.get(k) != b.get(k)]
        if changed == ["value"] or (changed and set(changed) <= {"value", "hex"}):
            out.append(f"{where}: {_show(a.get('value'))} -> {_show(b.get('value'))}")
            if a.get("value") == b.get("value"):  # 0.0 and -0.0: only the hex tells
                out[-1] = f"{where}: {a.get('hex')} -> {b.get('hex')}"
        elif changed:
            out.append(f"{where}: {_changes(a, b, changed)}")
    for key in children:
        if key == "items":
            _diff_items(a, b, path, out)
        else:
            _diff(a[key], b[key], _join(path, key), out)


def _changes(a: Mapping[str, Any], b: Mapping[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{key} {_show(a.get(key))} -> {_show(b.get(key))}" for key in keys)


def _details(a: Mapping[str, Any], b: Mapping[str, Any], scalars: list[str]) -> str:
    """What explains a changed hash: the mean, the shape, other changed fields, a value."""
    parts: list[str] = []
    stats_a, stats_b = a.get("stats") or {}, b.get("stats") or {}
    if "mean" in stats_a or "mean" in stats_b:
        parts.append(f"mean {_show(stats_a.get('mean'))} -> {_show(stats_b.get('mean'))}")
    cols_a, cols_b = a.get("column_stats") or {}, b.get("column_stats") or {}
    changed_cols = [c for c in [*cols_a, *cols_b] if cols_a.get(c) != cols_b.get(c)]
    for col in list(dict.fromkeys(changed_cols))[:3]:
        mean_a = (cols_a.get(col) or {}).get("mean")
        mean_b = (cols_b.get(col) or {}).get("mean")
        parts.append(f"column {col!r} mean {_show(mean_a)} -> {_show(mean_b)}")
    for key in _SUMMARY_FIRST:
        if key in a or key in b:
            parts.append(f"{key} {_show(a.get(key))} -> {_show(b.get(key))}")
            break
    others = [
        k
        for k in scalars
        if k not in _SUMMARY_FIRST and k not in _NOT_SHOWN and a.get(k) != b.get(k)
    ]
    if others:
        parts.append(_changes(a, b, others))
    values_a, values_b = a.get("values"), b.get("values")
    if isinstance(values_a, list) and isinstance(values_b, list):
        for i, (x, y) in enumerate(zip(values_a, values_b, strict=False)):
            if x != y:
                parts.append(f"first at flat index {i}: {_show(x)} -> {_show(y)}")
                break
    return ", ".join(parts) or "same summary"


def _diff_items(a: Mapping[str, Any], b: Mapping[str, Any], path: str, out: list[str]) -> None:
    items_a, items_b = a["items"], b["items"]
    start = len(out)
    if isinstance(items_a, dict) and isinstance(items_b, dict):
        _diff_mapping(items_a, items_b, path, out)
    elif not (isinstance(items_a, list) and isinstance(items_b, list)):
        _diff(items_a, items_b, _join(path, "items"), out)
    elif a["type"] in ("set", "frozenset"):
        _diff_set(items_a, items_b, path, out)
    elif a["type"] == "dict":
        _diff_keyed(items_a, items_b, path, out)
    else:
        for i in range(max(len(items_a), len(items_b))):
            where = _join(path, i)
            if i >= len(items_b):
                out.append(f"{where}: missing (expected {_brief(items_a[i])})")
            elif i >= len(items_a):
                out.append(f"{where}: unexpected ({_brief(items_b[i])})")
            else:
                _diff(items_a[i], items_b[i], where, out)
    if len(out) - start > MAX_LINES_PER_CONTAINER:
        more = len(out) - start - MAX_LINES_PER_CONTAINER
        del out[start + MAX_LINES_PER_CONTAINER :]
        out.append(f"{path or '<value>'}: ... and {more} more differences")


def _diff_set(items_a: list[Any], items_b: list[Any], path: str, out: list[str]) -> None:
    count_a, count_b = Counter(map(_canon, items_a)), Counter(map(_canon, items_b))
    only_a = [json.loads(x) for x in sorted((count_a - count_b).elements())]
    only_b = [json.loads(x) for x in sorted((count_b - count_a).elements())]
    where = path or "<value>"
    for item in only_a:
        out.append(f"{where}: missing item ({_brief(item)})")
    for item in only_b:
        out.append(f"{where}: unexpected item ({_brief(item)})")


def _diff_keyed(items_a: list[Any], items_b: list[Any], path: str, out: list[str]) -> None:
    """Dicts with keys that are not all strings: entries are matched by key."""
    by_key_a = {_canon(entry["key"]): entry for entry in items_a}
    by_key_b = {_canon(entry["key"]): entry for entry in items_b}
    for key in [*by_key_a, *(k for k in by_key_b if k not in by_key_a)]:
        entry = by_key_a.get(key) or by_key_b[key]
        label = entry["key"].get("value", entry["key"].get("text", _brief(entry["key"])))
        where = f"{path}[{label!r}]"
        if key not in by_key_b:
            out.append(f"{where}: missing (expected {_brief(by_key_a[key]['value'])})")
        elif key not in by_key_a:
            out.append(f"{where}: unexpected ({_brief(by_key_b[key]['value'])})")
        else:
            _diff(by_key_a[key]["value"], by_key_b[key]["value"], where, out)
