"""Record serialization, pure-Python twin (the readable reference).

Turns logged rows into the protobuf bytes of ``wandb_internal.Record``
messages and frames records into the LevelDB-style log, without the
``protobuf`` package. ``records_c.pyx`` mirrors this module function by
function and must produce the same bytes.

The hot path is split in two so that errors surface in the ``log()`` call
that caused them: ``flatten_row`` validates, normalizes and JSON-encodes a
logged dict into leaves at once; ``encode_history`` later turns the leaves
of a committed row into record bytes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from wandb_core._fast import _wire
from wandb_core._fast._json import container_json, string_json
from wandb_core.errors import ValueTypeError, ValueValueError

Path = tuple[str, ...]
Leaf = tuple[Path, Any, str]
Normalizer = Callable[[Path, Any], Any]

_SCALAR_TYPES = (str, int, float, bool, type(None))
# Ints beyond int64 are written as the nearest double, as the official
# client writes them (its backend has no bigger integer).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Whole floats below this are written without ".0"; every such float is
# exact as an int (2**53 > 1e15).
INTEGRAL_LIMIT = 1e15

# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def float_json(value: float) -> str:
    """JSON text of a float, W&B tokens for non-finite values.

    Whole numbers below ``INTEGRAL_LIMIT`` lose their ``.0``, as in the
    official client's logs (it saves two bytes a value); others keep
    ``repr``'s shortest round-trip digits. -0.0 keeps its sign.
    """
    value = float(value)  # ints (times given as ints) format as floats do
    if math.isfinite(value):
        if value.is_integer() and -INTEGRAL_LIMIT < value < INTEGRAL_LIMIT:
            if value or math.copysign(1.0, value) > 0:
                return str(int(value))
        return repr(value)
    if math.isnan(value):
        return _wire.NAN_TOKEN
    return _wire.POS_INF_TOKEN if value > 0 else _wire.NEG_INF_TOKEN


def _big_int_value(value: int) -> float:
    """Ints beyond int64 become the nearest double, as in the official logs."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _big_int_json(value: int) -> str:
    try:
        return float_json(float(value))
    except OverflowError:
        return _wire.POS_INF_TOKEN if value > 0 else _wire.NEG_INF_TOKEN


def _scalar_json(value: Any) -> str:
    cls = type(value)
    if cls is float:
        return float_json(value)
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        if INT64_MIN <= value <= INT64_MAX:
            return str(value)
        return _big_int_json(value)
    if value is None:
        return "null"
    return string_json(value)


def _check_key(key: Any, path: Path) -> str:
    if type(key) is not str:
        if isinstance(key, str):
            return _check_key(str(key), path)
        where = ".".join(path) or "the logged dict"
        msg = (
            f"Key {key!r} in {where} is a {type(key).__name__}; "
            "logged keys must be strings."
        )
        raise ValueTypeError(msg)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"Key {key!r} is not valid Unicode text (it holds a lone surrogate)."
        raise ValueValueError(msg) from None
    return key


def deep_value(value: Any, path: Path, normalize: Normalizer) -> Any:
    """Copy a value into plain JSON-ready types, normalizing what is not."""
    cls = type(value)
    if cls is int and not INT64_MIN <= value <= INT64_MAX:
        return _big_int_value(value)
    if cls in _SCALAR_TYPES:
        return value
    if cls is list or cls is tuple:
        return [deep_value(item, path, normalize) for item in value]
    if cls is dict:
        return {
            _check_key(key, path): deep_value(item, path + (key,), normalize)
            for key, item in value.items()
        }
    return deep_value(normalize(path, value), path, normalize)


def value_json(value: Any) -> str:
    """JSON text of a JSON-ready value (as ``deep_value`` returns)."""
    if type(value) in _SCALAR_TYPES:
        return _scalar_json(value)
    return container_json(value)


def flatten_row(data: dict[str, Any], normalize: Normalizer) -> list[Leaf]:
    """Validate and encode a logged dict as ``(path, value, json)`` leaves.

    Nested dicts become one leaf per value, their keys in ``path``; empty
    dicts leave nothing. ``normalize(path, value)`` is called for every value
    that is not a plain JSON type and returns one (or raises TypeError).
    """
    leaves: list[Leaf] = []
    _flatten_into(leaves, (), data, normalize)
    return leaves


def _logs_as_sequence(first: Any) -> bool:
    """Whether a list of such values logs as one object (media galleries)."""
    return hasattr(type(first), "_wandb_core_log_sequence")


def _flatten_into(
    leaves: list[Leaf], prefix: Path, mapping: dict[Any, Any], normalize: Normalizer
) -> None:
    for raw_key, value in mapping.items():
        path = prefix + (_check_key(raw_key, prefix),)
        cls = type(value)
        if cls is int and not INT64_MIN <= value <= INT64_MAX:
            value = _big_int_value(value)
            cls = float
        if cls in _SCALAR_TYPES:
            leaves.append((path, value, _scalar_json(value)))
            continue
        if cls is not dict and cls is not list and cls is not tuple:
            value = normalize(path, value)
        elif cls is not dict and value and _logs_as_sequence(value[0]):
            value = normalize(path, value)  # e.g. a list of images
        if type(value) is dict:
            _flatten_into(leaves, path, value, normalize)
            continue
        plain = deep_value(value, path, normalize)
        leaves.append((path, plain, value_json(plain)))


# ---------------------------------------------------------------------------
# Protobuf wire encoding
# ---------------------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    """Protobuf varint of a non-negative int (negative ints as 64-bit)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(field: int, wire_type: int) -> bytes:
    return encode_varint((field << 3) | wire_type)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _tag(field, _wire.WIRE_BYTES) + encode_varint(len(payload)) + payload


def _item(path: Sequence[str], text: str) -> bytes:
    parts = [_length_delimited(_wire.ITEM_NESTED_KEY, key.encode()) for key in path]
    parts.append(_length_delimited(_wire.ITEM_VALUE_JSON, text.encode()))
    return b"".join(parts)


def encode_history(
    items: Iterable[tuple[Path, str]], step: int, runtime: float, timestamp: float
) -> bytes:
    """Record body (without ``num``) of one history row.

    ``items`` are ``(path, json)`` pairs; ``_timestamp``, ``_runtime`` and
    ``_step`` are appended as the official client writes them.
    """
    parts = [_length_delimited(_wire.ITEMS_UPDATE, _item(p, t)) for p, t in items]
    parts.append(
        _length_delimited(
            _wire.ITEMS_UPDATE, _item(("_timestamp",), float_json(timestamp))
        )
    )
    parts.append(
        _length_delimited(_wire.ITEMS_UPDATE, _item(("_runtime",), float_json(runtime)))
    )
    parts.append(_length_delimited(_wire.ITEMS_UPDATE, _item(("_step",), str(step))))
    step_body = (
        _tag(_wire.STEP_NUM, _wire.WIRE_VARINT) + encode_varint(step) if step else b""
    )
    parts.append(_length_delimited(_wire.HISTORY_STEP, step_body))
    return _length_delimited(_wire.RECORD_HISTORY, b"".join(parts))


def encode_summary(
    updates: Iterable[tuple[Path, str]], removes: Iterable[Path]
) -> bytes:
    """Record body (without ``num``) of a summary record."""
    parts = [_length_delimited(_wire.ITEMS_UPDATE, _item(p, t)) for p, t in updates]
    for path in removes:
        keys = b"".join(
            _length_delimited(_wire.ITEM_NESTED_KEY, key.encode()) for key in path
        )
        parts.append(_length_delimited(_wire.ITEMS_REMOVE, keys))
    return _length_delimited(_wire.RECORD_SUMMARY, b"".join(parts))


# ---------------------------------------------------------------------------
# Log framing
# ---------------------------------------------------------------------------


def _chunk(chunk_type: int, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(bytes((chunk_type,))))
    header = crc.to_bytes(4, "little") + len(payload).to_bytes(2, "little")
    return header + bytes((chunk_type,)) + payload


class Framer:
    """Cuts records into chunks that never cross a 32 KiB block boundary.

    ``offset`` is the file offset where the next byte will be written; a new
    file starts after the 7-byte file header.
    """

    def __init__(self, offset: int = len(_wire.FILE_HEADER)) -> None:
        self.offset = offset

    def frame(self, num: int, body: bytes) -> bytes:
        """Chunks of the record ``num`` + ``body``, ready to append."""
        payload = _tag(_wire.RECORD_NUM, _wire.WIRE_VARINT) + encode_varint(num) + body
        out = bytearray()
        offset = self.offset
        start = 0
        first = True
        while True:
            room = _wire.BLOCK_SIZE - offset % _wire.BLOCK_SIZE
            if room < _wire.CHUNK_HEADER_SIZE:
                out += b"\x00" * room
                offset += room
                continue
            take = min(room - _wire.CHUNK_HEADER_SIZE, len(payload) - start)
            last = start + take == len(payload)
            if first:
                chunk_type = _wire.CHUNK_FULL if last else _wire.CHUNK_FIRST
            else:
                chunk_type = _wire.CHUNK_LAST if last else _wire.CHUNK_MIDDLE
            out += _chunk(chunk_type, payload[start : start + take])
            offset += _wire.CHUNK_HEADER_SIZE + take
            start += take
            first = False
            if last:
                break
        self.offset = offset
        return bytes(out)


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------


def unframe(
    data: bytes, start: int = len(_wire.FILE_HEADER)
) -> tuple[list[bytes], list[str]]:
    """Split a log (from ``start``) into record payloads.

    Returns the payloads of every complete record and a list of problems
    found. A bad checksum or impossible length skips to the next block and
    resumes at its next ``full`` or ``first`` chunk; a record cut off by the
    end of the data is reported, not returned.
    """
    records: list[bytes] = []
    problems: list[str] = []
    pending: list[bytes] | None = None
    position = start
    size = len(data)
    while position < size:
        room = _wire.BLOCK_SIZE - position % _wire.BLOCK_SIZE
        if room < _wire.CHUNK_HEADER_SIZE:
            position += room
            continue
        if position + _wire.CHUNK_HEADER_SIZE > size:
            problems.append(f"chunk header cut off at offset {position}")
            break
        header = data[position : position + _wire.CHUNK_HEADER_SIZE]
        crc = int.from_bytes(header[0:4], "little")
        length = int.from_bytes(header[4:6], "little")
        chunk_type = header[6]
        if crc == 0 and length == 0 and chunk_type == 0:
            position += room  # zero padding up to the end of the block
            continue
        end = position + _wire.CHUNK_HEADER_SIZE + length
        if (
            length > room - _wire.CHUNK_HEADER_SIZE
            or chunk_type == 0
            or chunk_type > _wire.CHUNK_LAST
        ):
            problems.append(f"impossible chunk at offset {position}")
            pending = None
            position += room
            continue
        if end > size:
            problems.append(f"chunk cut off at offset {position}")
            break
        payload = data[position + _wire.CHUNK_HEADER_SIZE : end]
        if zlib.crc32(payload, zlib.crc32(bytes((chunk_type,)))) != crc:
            problems.append(f"checksum mismatch at offset {position}")
            pending = None
            position += room
            continue
        position = end
        if chunk_type == _wire.CHUNK_FULL:
            if pending is not None:
                problems.append(f"record without its last chunk before {position}")
            records.append(payload)
            pending = None
        elif chunk_type == _wire.CHUNK_FIRST:
            if pending is not None:
                problems.append(f"record without its last chunk before {position}")
            pending = [payload]
        elif pending is None:
            problems.append(f"chunk without its first chunk at offset {position}")
        elif chunk_type == _wire.CHUNK_MIDDLE:
            pending.append(payload)
        else:
            pending.append(payload)
            records.append(b"".join(pending))
            pending = None
    if pending is not None:
        problems.append("the last record is cut off")
    return records, problems


def parse_fields(buffer: bytes) -> list[tuple[int, int, Any]]:
    """Protobuf fields of one message as ``(field, wire_type, value)``.

    Varints come back as ints, length-delimited fields as bytes and fixed
    fields as their raw bytes.
    """
    fields: list[tuple[int, int, Any]] = []
    position = 0
    size = len(buffer)
    while position < size:
        key, position = _read_varint(buffer, position)
        field, wire_type = key >> 3, key & 7
        value: Any
        if wire_type == _wire.WIRE_VARINT:
            value, position = _read_varint(buffer, position)
        elif wire_type == _wire.WIRE_BYTES:
            length, position = _read_varint(buffer, position)
            if position + length > size:
                raise ValueError("length-delimited field runs past the message")
            value = buffer[position : position + length]
            position += length
        elif wire_type == _wire.WIRE_FIXED64:
            value = buffer[position : position + 8]
            position += 8
        elif wire_type == _wire.WIRE_FIXED32:
            value = buffer[position : position + 4]
            position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        if position > size:
            raise ValueError("field runs past the end of the message")
        fields.append((field, wire_type, value))
    return fields


def _read_varint(buffer: bytes, position: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if position >= len(buffer) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, position  # as C's uint64 does
        shift += 7
