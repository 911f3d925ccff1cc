"""Table rows: type checks per column and JSON text, pure-Python twin.

A logged table is written twice, as the official client writes it: the
run's media file (``files/media/table/*.table.json``, encoded by
pydantic-core there: compact, ``NaN`` tokens, UTF-8 text) and the run-table
artifact's file (``json.dump(..., sort_keys=True)`` there: ``", "``
separators, ASCII escapes, NaN as ``null``). ``MEDIA`` and ``ARTIFACT``
name the two styles. Both share the shortest round-trip digits of a float;
they differ only in where they switch to exponents and how they write them.

``check_rows`` validates cells column by column. A column's *kind* says
which plain cells it takes as they are (say, numbers or None); every other
cell goes to ``slow(row, column, value)``, the full type algebra in
``wandb_core.data_types.table``, which updates the column's type, returns
its new kind, or raises. This module is the readable reference of the
compiled twin ``table_c``: same names, same results, same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from wandb_core.errors import ValueTypeError, ValueValueError

# Styles of JSON text.
MEDIA = 0
ARTIFACT = 1

# Column kinds: the plain cells a column takes without a change of type.
KIND_GENERIC = 0  # every cell goes to the slow path
KIND_NUMBER_OPTIONAL = 1  # None, NaN, int, float
KIND_STRING_OPTIONAL = 2  # None, NaN, str
KIND_BOOLEAN_OPTIONAL = 3  # None, NaN, bool
KIND_NUMBER = 4  # int, float but NaN (a NaN counts as None)
KIND_STRING = 5  # str
KIND_BOOLEAN = 6  # bool
KIND_ANY = 7  # any plain scalar (allow_mixed_types)

# Deeper nesting is refused, so that no encoder recurses without bound.
MAX_DEPTH = 100

Convert = Callable[[Any], Any]
Slow = Callable[[int, int, Any], int]

_ANY_SCALARS = (int, float, str, bool)


def check_rows(
    kinds: list[int],
    rows: Sequence[Any],
    first: int,
    slow: Slow,
    scalar_types: Mapping[type, int],
) -> None:
    """Check ``rows[first:]`` against the column kinds, updating them.

    ``scalar_types`` maps further classes (numpy's) to ``KIND_NUMBER`` or
    ``KIND_BOOLEAN``: their values count as numbers or booleans (never as
    None, even when NaN). A row whose length is not the number of columns
    goes to ``slow(row, -1, row)``, which raises.
    """
    width = len(kinds)
    for index in range(first, len(rows)):
        row = rows[index]
        if len(row) != width:
            slow(index, -1, row)
        for column in range(width):
            value = row[column]
            if not _fits(kinds[column], value, scalar_types):
                kinds[column] = slow(index, column, value)


def _fits(kind: int, value: Any, scalar_types: Mapping[type, int]) -> bool:
    cls = type(value)
    if kind == KIND_NUMBER_OPTIONAL:
        return (
            value is None
            or cls is float
            or cls is int
            or scalar_types.get(cls) == KIND_NUMBER
        )
    if kind == KIND_STRING_OPTIONAL:
        return value is None or cls is str or (cls is float and value != value)
    if kind == KIND_BOOLEAN_OPTIONAL:
        return (
            value is None
            or cls is bool
            or (cls is float and value != value)
            or scalar_types.get(cls) == KIND_BOOLEAN
        )
    if kind == KIND_NUMBER:
        return (
            cls is int
            or (cls is float and value == value)
            or scalar_types.get(cls) == KIND_NUMBER
        )
    if kind == KIND_STRING:
        return cls is str
    if kind == KIND_BOOLEAN:
        return cls is bool or scalar_types.get(cls) == KIND_BOOLEAN
    if kind == KIND_ANY:
        return value is None or cls in _ANY_SCALARS or cls in scalar_types
    return False


# ---------------------------------------------------------------------------
# JSON text
# ---------------------------------------------------------------------------


def float_json(value: float, style: int) -> str:
    """JSON text of a float in the given style.

    Both styles use ``repr``'s digits. ``MEDIA`` writes decimal exponents
    from -5 up to 15 in fixed notation (``repr`` starts at -4) and negative
    exponents without zero padding (``1e-7``), as pydantic-core does.
    """
    if value != value:
        return "NaN" if style == MEDIA else "null"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    text = float.__repr__(value)
    if style != MEDIA or "e-" not in text:
        return text
    mantissa, _, exponent = text.partition("e-")
    if exponent == "05":
        sign = "-" if mantissa[0] == "-" else ""
        return sign + "0.0000" + mantissa.lstrip("-").replace(".", "")
    return mantissa + "e-" + exponent.lstrip("0")


_INFINITY = float("inf")


def encode_rows(
    rows: Sequence[Sequence[Any]], count: int, style: int, convert: Convert
) -> bytes:
    """JSON text (UTF-8) of the array of the first ``count`` rows.

    ``convert(value)`` turns a value that is not None, a bool, int, float,
    str, list, tuple or dict into one that is (numpy scalars, table cells).

    Raises:
        UnicodeEncodeError: a ``MEDIA`` string holds a lone surrogate (the
            official client then falls back to ``json.dumps``).
    """
    parts: list[str] = []
    write_row = _write_row
    separator = "," if style == MEDIA else ", "
    for index in range(count):
        if index:
            parts.append(separator)
        write_row(parts, rows[index], style, convert)
    return ("[" + "".join(parts) + "]").encode("utf-8")


def table_file(
    columns: Sequence[Any], rows: Sequence[Sequence[Any]], count: int, convert: Convert
) -> tuple[bytes, str]:
    """The run's media file of a table and its SHA-256 (hex).

    ``{"columns":[...],"data":[...]}`` in the ``MEDIA`` style, holding the
    first ``count`` rows.
    """
    parts: list[str] = []
    _write(parts, list(columns), MEDIA, convert, 0)
    text = b'{"columns":' + "".join(parts).encode("utf-8") + b',"data":'
    data = text + encode_rows(rows, count, MEDIA, convert) + b"}"
    return data, hashlib.sha256(data).hexdigest()


def _write_row(
    parts: list[str], row: Sequence[Any], style: int, convert: Convert
) -> None:
    separator = "," if style == MEDIA else ", "
    string = encode_basestring if style == MEDIA else encode_basestring_ascii
    parts.append("[")
    first = True
    for value in row:
        if first:
            first = False
        else:
            parts.append(separator)
        cls = type(value)
        if cls is float:
            parts.append(float_json(value, style))
        elif cls is int:
            parts.append(int.__repr__(value))
        elif cls is str:
            parts.append(string(value))
        elif value is None:
            parts.append("null")
        elif cls is bool:
            parts.append("true" if value else "false")
        else:
            _write(parts, value, style, convert, 0)
    parts.append("]")


def _write(
    parts: list[str], value: Any, style: int, convert: Convert, depth: int
) -> None:
    cls = type(value)
    if cls is str:
        string = encode_basestring if style == MEDIA else encode_basestring_ascii
        parts.append(string(value))
    elif cls is float:
        parts.append(float_json(value, style))
    elif cls is int:
        parts.append(int.__repr__(value))
    elif value is None:
        parts.append("null")
    elif cls is bool:
        parts.append("true" if value else "false")
    elif cls is list or cls is tuple:
        _write_list(parts, value, style, convert, depth + 1)
    elif cls is dict:
        _write_dict(parts, value, style, convert, depth + 1)
    elif isinstance(value, float):
        parts.append(float_json(float(value), style))
    elif isinstance(value, int) and not isinstance(value, bool):
        parts.append(int.__repr__(value))
    elif isinstance(value, str):
        _write(parts, str(value), style, convert, depth)
    else:
        converted = convert(value)
        if type(converted) is cls:
            msg = f"A table cell of type {cls.__name__} cannot be written as JSON."
            raise ValueTypeError(msg)
        _write(parts, converted, style, convert, depth)


def _write_list(
    parts: list[str], items: Sequence[Any], style: int, convert: Convert, depth: int
) -> None:
    _check_depth(depth)
    separator = "," if style == MEDIA else ", "
    parts.append("[")
    for index, item in enumerate(items):
        if index:
            parts.append(separator)
        _write(parts, item, style, convert, depth)
    parts.append("]")


def _write_dict(
    parts: list[str], mapping: dict[Any, Any], style: int, convert: Convert, depth: int
) -> None:
    _check_depth(depth)
    if style == MEDIA:
        keys: list[Any] = list(mapping)
        separator, colon = ",", ":"
    else:
        keys = sorted(mapping)  # json.dump(sort_keys=True) does the same
        separator, colon = ", ", ": "
    parts.append("{")
    for index, key in enumerate(keys):
        if index:
            parts.append(separator)
        parts.append(_key_json(key, style))
        parts.append(colon)
        _write(parts, mapping[key], style, convert, depth)
    parts.append("}")


def _key_json(key: Any, style: int) -> str:
    cls = type(key)
    if cls is str:
        return (
            encode_basestring(key) if style == MEDIA else encode_basestring_ascii(key)
        )
    if cls is int:
        return '"' + int.__repr__(key) + '"'
    msg = (
        f"Dict key {key!r} in a table cell is a {cls.__name__}; "
        "keys must be str or int."
    )
    raise ValueTypeError(msg)


def _check_depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        msg = f"A table cell is nested more than {MAX_DEPTH} levels deep."
        raise ValueValueError(msg)
