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
        encoded = ujson.dumps(text, ensure_ascii=False, escape_forward_slashes=False)
    except UnicodeEncodeError:  # older ujson refuses lone surrogates
        return json.dumps(text, ensure_ascii=True)
    return encoded if _is_utf8_safe(encoded) else json.dumps(text, ensure_ascii=True)


def container_json(value: Any) -> str:
    """JSON text of a list or dict that holds only JSON-ready values."""
    try:
        encoded = ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except UnicodeEncodeError:
        encoded = ""
    if encoded and _is_utf8_safe(encoded):
        return encoded
    return json.dumps(value, ensure_ascii=True, allow_nan=True)


def _is_utf8_safe(text: str) -> bool:
    """Whether the text encodes as UTF-8 (no lone surrogates).

    ujson 6 passes lone surrogates through, which would only fail later,
    when the record is encoded; ``\\uXXXX`` escapes keep them readable.
    """
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
