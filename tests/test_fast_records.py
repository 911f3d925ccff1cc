"""The record twins: values to JSON, rows to protobuf, records to log chunks.

Every test runs on both twins (the ``records`` fixture) or compares them
(``both_twins``). What the bytes must mean is checked against references
that share no code with ``wandb_core``: the official client's generated
protobuf module, the independent log reader of the acceptance cases, and
the format as ``transaction-log.md`` states it.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import struct
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wandb_core import errors

# The format, as transaction-log.md states it.
FILE_HEADER = b":W&B\xe1\xbe\x00"
BLOCK_SIZE = 32 * 1024
CHUNK_HEADER_SIZE = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
# float_json writes whole floats below this without ".0", as the official
# client's logs do (see the twins' docstrings); others keep repr's digits.
INTEGRAL_LIMIT = 1e15
# Ints beyond int64 are written as the nearest double, as the official
# client writes them (see the twins).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Where the acceptance cases (and their independent log reader) live.
CASES_DIRS = [
    Path(__file__).resolve().parents[1] / "shared" / "cases",
    Path(__file__).resolve().parents[2] / "shared" / "cases",
]

KeyPath = tuple[str, ...]
Twins = tuple[ModuleType, ModuleType]

# ---------------------------------------------------------------------------
# References and helpers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pb() -> ModuleType:
    """The official client's generated ``wandb_internal_pb2`` module."""
    return pytest.importorskip(
        "wandb.proto.wandb_internal_pb2",
        reason="the official wandb client (a test-only dependency) is missing",
    )


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    """``_harness.py`` of the acceptance cases, for ``read_txlog_raw``."""
    found = [d for d in CASES_DIRS if (d / "_harness.py").is_file()]
    if not found:
        pytest.skip(
            "the independent log reader shared/cases/_harness.py is missing "
            f"(looked in {', '.join(map(str, CASES_DIRS))})"
        )
    if str(found[0]) not in sys.path:
        sys.path.insert(0, str(found[0]))
    return importlib.import_module("_harness")


def _no_normalize(path: KeyPath, value: Any) -> Any:
    raise AssertionError(f"normalize called for {path} with {value!r}")


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _payload(num: int, body: bytes) -> bytes:
    """A record as the framer stores it: ``num`` (field 1) before the body."""
    return b"\x08" + _varint(num) + body


def _plain(value: Any) -> Any:
    """What a value is stored as: tuples become lists, and ints beyond
    int64 the nearest double (infinity past the float range), as in the
    official client's logs."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value


def _same(decoded: Any, expected: Any, *, loose: bool = False) -> bool:
    """Equal values of equal types; NaN equals NaN, -0.0 differs from 0.0.

    ``loose`` compares decoded JSON with the logged value, allowing for the
    two ways the official client changes numbers: a whole float may come
    back as an int (``1`` for ``1.0``), an int beyond int64 as the nearest
    double.
    """
    if loose and type(decoded) is int and type(expected) is float:
        negative_zero = expected == 0 and math.copysign(1.0, expected) < 0
        whole = math.isfinite(expected) and expected.is_integer()
        return whole and not negative_zero and int(expected) == decoded
    if loose and type(decoded) is float and type(expected) is int:
        if INT64_MIN <= expected <= INT64_MAX:
            return False
        try:
            return decoded == float(expected)
        except OverflowError:
            return decoded == (math.inf if expected > 0 else -math.inf)
    if type(decoded) is not type(expected):
        return False
    if isinstance(decoded, float):
        if math.isnan(decoded) or math.isnan(expected):
            return math.isnan(decoded) and math.isnan(expected)
        same_sign = math.copysign(1, decoded) == math.copysign(1, expected)
        return decoded == expected and same_sign
    if isinstance(decoded, list):
        return len(decoded) == len(expected) and all(
            _same(one, other, loose=loose) for one, other in zip(decoded, expected)
        )
    if isinstance(decoded, dict):
        return decoded.keys() == expected.keys() and all(
            _same(item, expected[key], loose=loose) for key, item in decoded.items()
        )
    return bool(decoded == expected)


def _decodes_to(text: str, value: Any) -> bool:
    """Whether JSON text (with the NaN and Infinity tokens) means ``value``."""
    return _same(json.loads(text), _plain(value), loose=True)


def _expected_leaves(mapping: dict[str, Any], prefix: KeyPath = ()) -> Iterator[Any]:
    """``(path, value)`` per leaf: nested dicts are walked, the rest kept."""
    for key, value in mapping.items():
        path = prefix + (key,)
        if type(value) is dict:
            yield from _expected_leaves(value, path)
        else:
            yield path, _plain(value)


def _items(leaves: list[tuple[KeyPath, Any, str]]) -> list[tuple[KeyPath, str]]:
    return [(path, text) for path, _, text in leaves]


def _chunk(chunk_type: int, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(bytes([chunk_type])))
    return (
        crc.to_bytes(4, "little")
        + len(payload).to_bytes(2, "little")
        + bytes([chunk_type])
        + payload
    )


def _reference_frame(offset: int, payload: bytes) -> bytes:
    """The chunks of one record written at ``offset``, by the format's rules."""
    out = b""
    rest = payload
    first = True
    while True:
        room = BLOCK_SIZE - (offset + len(out)) % BLOCK_SIZE
        if room < CHUNK_HEADER_SIZE:
            out += bytes(room)
            continue
        piece, rest = rest[: room - CHUNK_HEADER_SIZE], rest[room - CHUNK_HEADER_SIZE :]
        if first:
            out += _chunk(FIRST if rest else FULL, piece)
        else:
            out += _chunk(MIDDLE if rest else LAST, piece)
        first = False
        if not rest:
            return out


def _walk_chunks(data: bytes, start: int = 0) -> list[tuple[int, int, int]]:
    """``(offset, type, length)`` of each chunk, checking the format's rules."""
    chunks = []
    position = start
    while position < len(data):
        room = BLOCK_SIZE - position % BLOCK_SIZE
        if room < CHUNK_HEADER_SIZE:
            assert data[position : position + room] == bytes(room), position
            position += room
            continue
        header = data[position : position + CHUNK_HEADER_SIZE]
        length = int.from_bytes(header[4:6], "little")
        end = position + CHUNK_HEADER_SIZE + length
        payload = data[position + CHUNK_HEADER_SIZE : end]
        assert length <= room - CHUNK_HEADER_SIZE, f"chunk at {position} crosses"
        assert len(payload) == length, f"chunk at {position} is cut off"
        assert _chunk(header[6], payload)[:4] == header[:4], f"CRC at {position}"
        chunks.append((position, header[6], length))
        position += CHUNK_HEADER_SIZE + length
    return chunks


def _harness_read(harness: ModuleType, data: bytes) -> list[bytes]:
    """Payloads of a whole log as the acceptance cases' reader sees them."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "run-test.wandb"
        path.write_bytes(data)
        payloads, problems = harness.read_txlog_raw(str(path), strict=True)
    assert problems == []
    return list(payloads)


def _random_bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


# ---------------------------------------------------------------------------
# Hypothesis strategies for logged rows
# ---------------------------------------------------------------------------

SPECIAL_KEYS = [
    "",
    '"',
    "\\",
    '"\\"',
    "\x00",
    "\x1f\x7f",
    "\n\t",
    "a.b/c",
    "ключ",
    "键",
    "🎉",
    "e\u0301",
    "\u2028\u2029",
    "\ufeff",
]
SPECIAL_FLOATS = [
    1.0,
    -7.0,
    999999999999999.0,
    1e15,
    -1e15,
    1e15 - 0.5,
    2.0**53,
    math.nan,
    -math.nan,
    math.inf,
    -math.inf,
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1e16,
    1e22,
    1e-7,
    0.1,
    1 / 3,
    123456789.0,
]
SPECIAL_INTS = [
    0,
    -1,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64 - 1,
    2**64,
    -(2**64),
    2**100,
    -(2**100),
    10**40,
    10**400,
    -(10**400),
]
SPECIAL_TEXTS = ["", '"', "\\", "\x00\x01\x1f", "\x7f", "</script>", "é🎉键", "\u2028"]

keys = st.one_of(
    st.sampled_from(SPECIAL_KEYS),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=10),
)
floats = st.one_of(st.sampled_from(SPECIAL_FLOATS), st.floats())
ints = st.one_of(
    st.sampled_from(SPECIAL_INTS),
    st.integers(),
    st.integers(min_value=-(2**130), max_value=2**130),
)
valid_texts = st.one_of(
    st.sampled_from(SPECIAL_TEXTS),
    st.text(st.characters(exclude_categories=["Cs"])),
)
surrogates = st.characters(categories=["Cs"])
texts_with_surrogates = st.builds(
    lambda head, lone, tail: head + lone + tail, valid_texts, surrogates, valid_texts
)


def _values(texts: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(floats, ints, st.booleans(), st.none(), texts)
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.lists(children, max_size=4).map(tuple),
            st.dictionaries(keys, children, max_size=4),
        ),
        max_leaves=12,
    )


values = _values(valid_texts)
any_values = _values(st.one_of(valid_texts, texts_with_surrogates))
rows = st.dictionaries(keys, values, max_size=6)
any_rows = st.dictionaries(keys, any_values, max_size=6)
bad_keys = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.binary(max_size=4),
    st.tuples(st.integers()),
)


# ---------------------------------------------------------------------------
# Shared constants
# ---------------------------------------------------------------------------


def test_wire_constants_match_the_documented_format(records: ModuleType) -> None:
    _wire = importlib.import_module("wandb_core._fast._wire")

    assert _wire.FILE_HEADER == FILE_HEADER
    assert _wire.BLOCK_SIZE == BLOCK_SIZE
    assert _wire.CHUNK_HEADER_SIZE == CHUNK_HEADER_SIZE
    chunk_types = (_wire.CHUNK_FULL, _wire.CHUNK_FIRST, _wire.CHUNK_MIDDLE)
    assert (*chunk_types, _wire.CHUNK_LAST) == (FULL, FIRST, MIDDLE, LAST)


# ---------------------------------------------------------------------------
# float_json
# ---------------------------------------------------------------------------


def _expected_float_json(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    negative_zero = value == 0 and math.copysign(1.0, value) < 0
    if value.is_integer() and abs(value) < INTEGRAL_LIMIT and not negative_zero:
        return str(int(value))
    return repr(value)


def test_integral_limit_is_the_one_the_pure_twin_uses(both_twins: Twins) -> None:
    assert both_twins[0].INTEGRAL_LIMIT == INTEGRAL_LIMIT


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "-0.0"),
        (1.0, "1"),
        (-7.0, "-7"),
        (123456789.0, "123456789"),
        (999999999999999.0, "999999999999999"),
        (1e15, "1000000000000000.0"),
        (-1e15, "-1000000000000000.0"),
        (1e16, "1e+16"),
        (2.0**53, "9007199254740992.0"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e-7, "1e-07"),
        (5e-324, "5e-324"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (math.nan, "NaN"),
        (-math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
    ],
)
def test_float_json_examples(records: ModuleType, value: float, text: str) -> None:
    assert records.float_json(value) == text


@settings(deadline=None)
@given(value=st.one_of(st.sampled_from(SPECIAL_FLOATS), st.floats()))
def test_float_json_is_repr_or_a_token_in_both_twins(
    both_twins: Twins, value: float
) -> None:
    pure, compiled = both_twins

    text = pure.float_json(value)

    assert compiled.float_json(value) == text
    assert text == _expected_float_json(value)
    assert _decodes_to(text, value)
    if text != repr(value):  # only the whole numbers and the non-finite
        assert text in ("NaN", "Infinity", "-Infinity") or text == str(int(value))


# ---------------------------------------------------------------------------
# flatten_row, deep_value and value_json
# ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(row=any_rows)
def test_flatten_row_twins_agree_and_leaves_decode(both_twins: Twins, row: Any) -> None:
    pure, compiled = both_twins
    expected = list(_expected_leaves(row))

    pure_leaves = pure.flatten_row(row, _no_normalize)
    compiled_leaves = compiled.flatten_row(row, _no_normalize)

    assert _items(compiled_leaves) == _items(pure_leaves)
    assert [path for path, _, _ in pure_leaves] == [path for path, _ in expected]
    for (path, value, text), (_, want) in zip(pure_leaves, expected):
        assert _same(value, want), path
        assert _decodes_to(text, want), (path, text)
    for (_, value, _), (_, want) in zip(compiled_leaves, expected):
        assert _same(value, want)


@settings(max_examples=200, deadline=None)
@given(value=any_values)
def test_value_json_twins_agree_and_decode(both_twins: Twins, value: Any) -> None:
    pure, compiled = both_twins

    plain = pure.deep_value(value, ("v",), _no_normalize)
    text = pure.value_json(plain)

    assert _same(compiled.deep_value(value, ("v",), _no_normalize), plain)
    assert compiled.value_json(plain) == text
    assert _same(plain, _plain(value))
    assert _decodes_to(text, value)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({}, []),
        ({"a": {}}, []),
        ({"a": {"b": {}}, "c": 1}, [(("c",), 1, "1")]),
        ({"a": [{}], "b": ()}, [(("a",), [{}], "[{}]"), (("b",), [], "[]")]),
        ({"a": {"b": {"c": None}}}, [(("a", "b", "c"), None, "null")]),
        ({"t": True, "f": False}, [(("t",), True, "true"), (("f",), False, "false")]),
        ({"s": 'a"b\\c\n'}, [(("s",), 'a"b\\c\n', '"a\\"b\\\\c\\n"')]),
    ],
)
def test_flatten_row_examples(
    records: ModuleType, row: dict[str, Any], expected: list[Any]
) -> None:
    assert records.flatten_row(row, _no_normalize) == expected


def test_flatten_row_normalizes_what_is_not_plain(records: ModuleType) -> None:
    class Opaque:
        def __init__(self, result: Any) -> None:
            self.result = result

    calls: list[KeyPath] = []

    def normalize(path: KeyPath, value: Any) -> Any:
        calls.append(path)
        return value.result

    row = {
        "hist": Opaque({"_type": "histogram", "bins": (0.0, 1.0), "values": [3]}),
        "deep": {"x": [1, Opaque(2.5)]},
        "arr": Opaque([Opaque(1), 2]),
    }

    leaves = records.flatten_row(row, normalize)

    assert [(path, value) for path, value, _ in leaves] == [
        (("hist", "_type"), "histogram"),
        (("hist", "bins"), [0.0, 1.0]),
        (("hist", "values"), [3]),
        (("deep", "x"), [1, 2.5]),
        (("arr",), [1, 2]),
    ]
    assert all(_decodes_to(text, value) for _, value, text in leaves)
    assert calls == [("hist",), ("deep", "x"), ("arr",), ("arr",)]


def test_flatten_row_lets_a_normalize_error_through(records: ModuleType) -> None:
    def normalize(path: KeyPath, value: Any) -> Any:
        raise errors.ValueTypeError(f"cannot log {value!r} at {path}")

    with pytest.raises(TypeError, match=r"cannot log .* at \('a', 'b'\)"):
        records.flatten_row({"a": {"b": object()}}, normalize)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2**63 - 1, "9223372036854775807"),
        (-(2**63), "-9223372036854775808"),
        (2**63, "9.223372036854776e+18"),
        (-(2**63) - 1, "-9.223372036854776e+18"),
        (2**70, "1.1805916207174113e+21"),
        (10**400, "Infinity"),
        (-(10**400), "-Infinity"),
    ],
)
def test_ints_beyond_int64_are_written_as_the_nearest_double(
    records: ModuleType, value: int, text: str
) -> None:
    leaves = records.flatten_row({"n": value}, _no_normalize)

    assert leaves == [(("n",), _plain(value), text)]
    assert records.value_json(value) == text


def test_str_subclass_keys_become_plain_str(records: ModuleType) -> None:
    class Key(str):
        pass

    leaves = records.flatten_row({Key("a"): {Key("b"): 1}}, _no_normalize)

    assert leaves == [(("a", "b"), 1, "1")]
    assert all(type(key) is str for key in leaves[0][0])


def _nest(prefix: list[str], inner: dict[Any, Any], in_list: bool) -> dict[Any, Any]:
    row: Any = [inner] if in_list else inner
    for key in reversed(prefix):
        row = {key: row}
    return row if isinstance(row, dict) else {"list": row}


@settings(deadline=None)
@given(
    prefix=st.lists(keys, max_size=3),
    bad_key=texts_with_surrogates,
    in_list=st.booleans(),
)
def test_keys_with_lone_surrogates_are_refused(
    both_twins: Twins, prefix: list[str], bad_key: str, in_list: bool
) -> None:
    row = _nest(prefix, {"fine": 1, bad_key: 2}, in_list)

    for twin in both_twins:
        with pytest.raises(errors.ValueValueError) as caught:
            twin.flatten_row(row, _no_normalize)
        assert isinstance(caught.value, ValueError)
        assert repr(bad_key) in str(caught.value)


@settings(deadline=None)
@given(prefix=st.lists(keys, max_size=3), bad_key=bad_keys, in_list=st.booleans())
def test_keys_that_are_not_str_are_refused(
    both_twins: Twins, prefix: list[str], bad_key: Any, in_list: bool
) -> None:
    row = _nest(prefix, {"fine": 1, bad_key: 2}, in_list)

    for twin in both_twins:
        with pytest.raises(errors.ValueTypeError) as caught:
            twin.flatten_row(row, _no_normalize)
        assert isinstance(caught.value, TypeError)
        assert repr(bad_key) in str(caught.value)


# ---------------------------------------------------------------------------
# Protobuf: our bytes read by the official client, its bytes read by us
# ---------------------------------------------------------------------------

ROW = {
    "loss": 0.25,
    "acc": {"top1": 0.5, "top5": 1},
    "": -3,
    "text": 'héllo "quoted" \\ \x01',
    "🎉 ключ": True,
    "nan": math.nan,
    "inf": -math.inf,
    "big": 2**70,
    "list": [1, 2.5, None, "x", {"k": [math.inf]}],
    "none": None,
}


def _decoded_items(items: Any) -> list[tuple[KeyPath, Any]]:
    assert all(item.key == "" for item in items)
    return [(tuple(item.nested_key), json.loads(item.value_json)) for item in items]


def _assert_items_equal(got: list[tuple[KeyPath, Any]], want: list[Any]) -> None:
    assert [path for path, _ in got] == [path for path, _ in want]
    for (path, value), (_, expected) in zip(got, want):
        assert _same(value, expected, loose=True), path


def _official_record(pb: ModuleType, payload: bytes) -> Any:
    record = pb.Record()
    record.ParseFromString(payload)
    # The official serializer writes fields in field-number order with
    # minimal varints; equal bytes mean nothing in ours is unknown or odd.
    assert record.SerializeToString() == payload
    return record


@pytest.mark.reference
def test_history_record_decodes_with_the_official_client(
    records: ModuleType, pb: ModuleType
) -> None:
    leaves = records.flatten_row(ROW, _no_normalize)
    body = records.encode_history(_items(leaves), 42, 12.5, 1_700_000_000.25)
    framer = records.Framer()

    payloads, problems = records.unframe(FILE_HEADER + framer.frame(7, body))
    record = _official_record(pb, payloads[0])

    assert problems == []
    assert record.num == 7
    assert record.WhichOneof("record_type") == "history"
    assert record.history.step.num == 42
    _assert_items_equal(
        _decoded_items(record.history.item),
        [
            *_expected_leaves(ROW),
            (("_timestamp",), 1_700_000_000.25),
            (("_runtime",), 12.5),
            (("_step",), 42),
        ],
    )


@pytest.mark.reference
@pytest.mark.parametrize("step", [0, 1, 127, 128, 2**31, 2**53 + 1, 2**63 - 1])
def test_history_step_decodes_with_the_official_client(
    records: ModuleType, pb: ModuleType, step: int
) -> None:
    body = records.encode_history([(("x",), "1")], step, 0.0, 0.0)

    record = _official_record(pb, _payload(2**40, body))

    assert record.num == 2**40
    assert record.history.HasField("step")
    assert record.history.step.num == step
    assert list(record.history.item[-1].nested_key) == ["_step"]
    assert json.loads(record.history.item[-1].value_json) == step


@pytest.mark.reference
def test_summary_record_decodes_with_the_official_client(
    records: ModuleType, pb: ModuleType
) -> None:
    leaves = records.flatten_row(ROW, _no_normalize)
    removes = [("old",), ("acc", "top3"), ("🎉", "", 'q"')]
    body = records.encode_summary(_items(leaves), removes)

    record = _official_record(pb, _payload(3, body))

    assert record.WhichOneof("record_type") == "summary"
    _assert_items_equal(
        _decoded_items(record.summary.update), list(_expected_leaves(ROW))
    )
    assert [tuple(item.nested_key) for item in record.summary.remove] == removes
    assert all(item.value_json == "" for item in record.summary.remove)


@pytest.mark.reference
def test_empty_summary_record_decodes_with_the_official_client(
    records: ModuleType, pb: ModuleType
) -> None:
    record = _official_record(pb, _payload(1, records.encode_summary([], [])))

    assert record.HasField("summary")
    assert len(record.summary.update) == len(record.summary.remove) == 0


@pytest.mark.reference
def test_our_history_bytes_equal_the_official_encoding(
    records: ModuleType, pb: ModuleType
) -> None:
    expected = pb.Record(num=9)
    expected.history.item.add(nested_key=["a", "b"], value_json="1.5")
    expected.history.item.add(nested_key=["_timestamp"], value_json="2.5")
    expected.history.item.add(nested_key=["_runtime"], value_json="0.5")
    expected.history.item.add(nested_key=["_step"], value_json="3")
    expected.history.step.num = 3

    body = records.encode_history([(("a", "b"), "1.5")], 3, 0.5, 2.5)

    assert _payload(9, body) == expected.SerializeToString()


@pytest.mark.reference
@settings(max_examples=100, deadline=None)
@given(row=rows, step=st.integers(0, 2**63 - 1), runtime=floats, timestamp=floats)
def test_random_rows_encode_identically_and_decode_officially(
    both_twins: Twins,
    pb: ModuleType,
    row: dict[str, Any],
    step: int,
    runtime: float,
    timestamp: float,
) -> None:
    pure, compiled = both_twins
    items = _items(pure.flatten_row(row, _no_normalize))
    removes = [path for path, _ in items]

    history = pure.encode_history(items, step, runtime, timestamp)
    summary = pure.encode_summary(items, removes)

    assert compiled.encode_history(items, step, runtime, timestamp) == history
    assert compiled.encode_summary(items, removes) == summary
    record = _official_record(pb, _payload(1, history))
    _assert_items_equal(
        _decoded_items(record.history.item)[:-3], list(_expected_leaves(row))
    )
    assert record.history.step.num == step
    times = [json.loads(item.value_json) for item in record.history.item[-3:-1]]
    assert _same(times, [timestamp, runtime], loose=True)
    record = _official_record(pb, _payload(2, summary))
    assert [tuple(item.nested_key) for item in record.summary.remove] == removes


@pytest.mark.reference
@pytest.mark.parametrize(
    "value",
    [
        # Not 0: proto3 leaves a zero field out.
        1,
        127,
        128,
        300,
        16_383,
        16_384,
        2**31 - 1,
        2**32,
        2**53,
        2**63 - 1,
        -1,
        -(2**63),
    ],
)
def test_encode_varint_matches_the_official_encoding(
    records: ModuleType, pb: ModuleType, value: int
) -> None:
    official = pb.HistoryStep(num=value).SerializeToString()

    assert b"\x08" + records.encode_varint(value) == official


@pytest.mark.parametrize("value", [0, 2**64 - 1, 2**63, 2**56, 2**49 - 1])
def test_encode_varint_of_large_unsigned_values(
    records: ModuleType, value: int
) -> None:
    assert records.encode_varint(value) == _varint(value)


@pytest.mark.reference
def test_official_record_parses_with_parse_fields(
    records: ModuleType, pb: ModuleType
) -> None:
    record = pb.Record(num=2**35)
    record.history.item.add(nested_key=["a", "é"], value_json='"x"')
    record.history.item.add(key="k", number=0.5)
    record.history.item.add(integer=-3)
    record.history.step.num = 5
    sample = pb.SystemMetricSample(value=1.5)

    top = records.parse_fields(record.SerializeToString())
    history = records.parse_fields(top[1][2])
    items = [records.parse_fields(value) for _, _, value in history[:3]]

    assert top == [(1, 0, 2**35), (2, 2, top[1][2])]
    assert [(field, wire) for field, wire, _ in history] == [(1, 2)] * 3 + [(2, 2)]
    assert records.parse_fields(history[3][2]) == [(1, 0, 5)]
    assert items == [
        [(2, 2, b"a"), (2, 2, "é".encode()), (16, 2, b'"x"')],
        [(1, 2, b"k"), (6, 1, struct.pack("<d", 0.5))],
        [(5, 0, 5)],  # sint64 -3, zigzag-encoded
    ]
    assert records.parse_fields(sample.SerializeToString()) == [
        (2, 5, bytes.fromhex("0000c03f"))
    ]


@pytest.mark.parametrize(
    "message",
    [
        b"\x08",  # varint cut off
        b"\x08\x80",  # varint cut off after a continuation byte
        b"\x0a\x05abc",  # length past the end
        b"\x09\x00\x00",  # fixed64 cut off
        b"\x0d\x00",  # fixed32 cut off
        b"\x0b",  # start group (wire type 3)
        b"\x0c",  # end group (wire type 4)
        b"\x0e",  # wire type 6
        b"\x0f",  # wire type 7
        b"\x08" + b"\xff" * 11 + b"\x01",  # varint longer than ten bytes
    ],
)
def test_parse_fields_refuses_malformed_messages(
    records: ModuleType, message: bytes
) -> None:
    with pytest.raises(ValueError):
        records.parse_fields(message)


def test_parse_fields_of_empty_message(records: ModuleType) -> None:
    assert records.parse_fields(b"") == []


# ---------------------------------------------------------------------------
# Framing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "kinds"),
    [(40_000, [FIRST, LAST]), (100_000, [FIRST, MIDDLE, MIDDLE, LAST])],
)
def test_record_larger_than_a_block_is_split(
    records: ModuleType, harness: ModuleType, size: int, kinds: list[int]
) -> None:
    body = _random_bytes(size)
    payload = _payload(1, body)
    framer = records.Framer()

    data = FILE_HEADER + framer.frame(1, body)

    chunks = _walk_chunks(data, len(FILE_HEADER))
    assert [kind for _, kind, _ in chunks] == kinds
    assert [offset for offset, _, _ in chunks] == [
        len(FILE_HEADER),
        *range(BLOCK_SIZE, len(kinds) * BLOCK_SIZE, BLOCK_SIZE),
    ]
    assert [length for _, _, length in chunks[:-1]] == [
        BLOCK_SIZE - len(FILE_HEADER) - CHUNK_HEADER_SIZE,
        *[BLOCK_SIZE - CHUNK_HEADER_SIZE] * (len(kinds) - 2),
    ]
    assert sum(length for _, _, length in chunks) == len(payload)
    assert framer.offset == len(data)
    assert records.unframe(data) == ([payload], [])
    assert _harness_read(harness, data) == [payload]


@pytest.mark.parametrize("gap", range(9))
def test_record_ending_just_before_a_block_boundary(
    records: ModuleType, harness: ModuleType, gap: int
) -> None:
    # Record 1 (two bytes of num field, then its body) ends `gap` bytes short.
    first_body = _random_bytes(BLOCK_SIZE - gap - 2 * CHUNK_HEADER_SIZE - 2, seed=1)
    second_body = _random_bytes(100, seed=2)
    first, second = _payload(1, first_body), _payload(2, second_body)
    framer = records.Framer()

    head = framer.frame(1, first_body)
    tail = framer.frame(2, second_body)

    data = FILE_HEADER + head + tail
    chunks = _walk_chunks(data, len(FILE_HEADER))
    assert chunks[0] == (len(FILE_HEADER), FULL, len(first))
    assert len(FILE_HEADER + head) == BLOCK_SIZE - gap
    if gap < CHUNK_HEADER_SIZE:  # too little room: zero-filled, next block
        assert tail[:gap] == bytes(gap)
        assert chunks[1:] == [(BLOCK_SIZE, FULL, len(second))]
    else:  # a header fits, with or without payload: first and last chunks
        room = gap - CHUNK_HEADER_SIZE
        assert chunks[1:] == [
            (BLOCK_SIZE - gap, FIRST, room),
            (BLOCK_SIZE, LAST, len(second) - room),
        ]
    assert framer.offset == len(data)
    assert records.unframe(data) == ([first, second], [])
    assert _harness_read(harness, data) == [first, second]


@pytest.mark.parametrize("offset", [0, 7, BLOCK_SIZE - 7, BLOCK_SIZE - 3, BLOCK_SIZE])
def test_framer_starts_at_the_offset_it_is_given(
    records: ModuleType, offset: int
) -> None:
    payload = _payload(5, b"body")
    framer = records.Framer(offset)

    frame = framer.frame(5, b"body")

    assert frame == _reference_frame(offset, payload)
    assert framer.offset == offset + len(frame)
    data = bytes(offset) + frame
    assert records.unframe(data, offset) == ([payload], [])


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(
        st.one_of(st.integers(0, 300), st.integers(32_000, 70_000)), max_size=8
    ),
    start=st.one_of(st.just(len(FILE_HEADER)), st.integers(0, 3 * BLOCK_SIZE)),
)
def test_twins_frame_identically_by_the_rules(
    both_twins: Twins, sizes: list[int], start: int
) -> None:
    pure, compiled = both_twins
    pure_framer, compiled_framer = pure.Framer(start), compiled.Framer(start)
    payloads = []
    expected = b""

    for num, size in enumerate(sizes, start=1):
        body = _random_bytes(size, seed=num)
        frame = pure_framer.frame(num, body)
        assert compiled_framer.frame(num, body) == frame
        payloads.append(_payload(num, body))
        expected += _reference_frame(start + len(expected), payloads[-1])
        assert frame == expected[-len(frame) :]

    assert pure_framer.offset == compiled_framer.offset == start + len(expected)
    data = bytes(start) + expected
    assert pure.unframe(data, start) == compiled.unframe(data, start)
    assert pure.unframe(data, start) == (payloads, [])


def test_framed_log_reads_back_with_the_independent_reader(
    records: ModuleType, harness: ModuleType
) -> None:
    rng = random.Random(5)
    bodies = [_random_bytes(rng.choice((0, 10, 5_000, 40_000)), n) for n in range(40)]
    framer = records.Framer()

    data = FILE_HEADER + b"".join(framer.frame(n, b) for n, b in enumerate(bodies))

    payloads = [_payload(n, body) for n, body in enumerate(bodies)]
    assert _harness_read(harness, data) == payloads
    assert records.unframe(data) == (payloads, [])


# ---------------------------------------------------------------------------
# Regressions: bugs found in the twins, fixed
# ---------------------------------------------------------------------------


def test_lone_surrogates_in_values_are_escaped(records: ModuleType) -> None:
    row = {"text": "a\ud800b", "list": ["\udfff"]}

    leaves = records.flatten_row(row, _no_normalize)

    for _, value, text in leaves:
        assert json.loads(text.encode("utf-8")) == value
    assert records.encode_history(_items(leaves), 1, 0.0, 0.0)


def test_str_subclass_keys_with_lone_surrogates_are_refused(
    records: ModuleType,
) -> None:
    class Key(str):
        pass

    with pytest.raises(errors.ValueValueError):
        records.flatten_row({Key("\ud800"): 1}, _no_normalize)


def test_parse_fields_refuses_a_length_beyond_any_message(
    records: ModuleType,
) -> None:
    # Field 1, length 2**64 - 1, then eight more bytes.
    message = b"\x0a" + _varint(2**64 - 1) + bytes(8)

    with pytest.raises(ValueError, match="runs past"):
        records.parse_fields(message)


def test_twins_encode_int_times_identically(both_twins: Twins) -> None:
    pure, compiled = both_twins

    history = pure.encode_history([], 1, 3, 1_700_000_000)

    assert compiled.encode_history([], 1, 3, 1_700_000_000) == history
