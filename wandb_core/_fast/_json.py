"""JSON text for logged values, shared by both record twins.

``value_json`` fields are JSON with three extra tokens for non-finite floats
(``NaN``, ``Infinity``, ``-Infinity``), which ujson writes. Both twins call
these helpers for strings that need escaping and for containers, so their
output bytes stay identical.
"""

from __future__ import annotations

import json
from typing import Any

import ujson


def string_json(text: str) -> str:
    """JSON text of a string, non-ASCII characters kept as they are."""
    try:
        return ujson.dumps(text, ensure_ascii=False, escape_forward_slashes=False)
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8; \uXXXX escapes keep them readable.
        return json.dumps(text, ensure_ascii=True)


def container_json(value: Any) -> str:
    """JSON text of a list or dict that holds only JSON-ready values."""
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, allow_nan=True)
