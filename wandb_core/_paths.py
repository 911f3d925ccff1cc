"""Paths into nested dicts: how flattened keys map onto summaries and rows.

A path is a tuple of keys, ``("train", "loss")`` for ``{"train": {"loss":
...}}``. The run's in-memory summary and the log reader share these.
"""

from __future__ import annotations

from typing import Any

Path = tuple[str, ...]


def set_nested(target: dict[str, Any], path: Path, value: Any) -> None:
    """Set ``value`` at ``path``, replacing whatever is not a dict on the way."""
    for key in path[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    target[path[-1]] = value


def pop_nested(target: dict[str, Any], path: Path) -> None:
    """Remove what is at ``path``, if anything is."""
    for key in path[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            return
        target = child
    target.pop(path[-1], None)


def get_nested(target: dict[str, Any], path: Path) -> Any:
    """What is at ``path``, or None."""
    found: Any = target
    for key in path:
        if not isinstance(found, dict) or key not in found:
            return None
        found = found[key]
    return found
