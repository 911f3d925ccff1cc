"""Tables: the row twins, the official type checks, and logged tables.

References that share no code with ``wandb_core``: ``repr`` and
``json.dumps(sort_keys=True)`` (the artifact's table file), pydantic-core
(which writes the official client's media file), the official client's
``wandb.Table`` and artifact manifest in process, and whole runs of the
official client in child processes, whose media files, reference objects
and run-table artifact records ours must equal.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import os
import random
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.twins import compiled_twin, pure_twin, twin
from wandb_core import artifacts
from wandb_core.artifacts.manifest import Manifest, ManifestEntry
from wandb_core.backend import records
from wandb_core.backend.reader import read_records
from wandb_core.data_types import table as table_module
from wandb_core.data_types.table import Table
from wandb_core.errors import ValueTypeError, ValueValueError

Twins = tuple[ModuleType, ModuleType]
MEDIA, ARTIFACT = 0, 1


@pytest.fixture(scope="session", params=["python", "cython"])
def table_twin(request: pytest.FixtureRequest) -> ModuleType:
    """Each table twin in turn: the pure reference, then the compiled one."""
    return twin("table", request.param)


@pytest.fixture(scope="session")
def table_twins() -> Twins:
    """The pure and the compiled table twin, to compare their outputs."""
    return pure_twin("table"), compiled_twin("table")


def identity(value: Any) -> Any:
    return value


def to_pydantic(value: Any) -> bytes:
    """The media style's reference: pydantic-core, as the official client."""
    pydantic_core = pytest.importorskip("pydantic_core")
    encoded: bytes = pydantic_core.to_json(value, inf_nan_mode="constants")
    return encoded


def nan_to_none(value: Any) -> Any:
    """The artifact file's values: the official client writes NaN as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return [nan_to_none(item) for item in value]
    if isinstance(value, dict):
        return {key: nan_to_none(item) for key, item in value.items()}
    return value


def comparable(value: Any) -> Any:
    """NaN as a marker and tuples as lists, to compare decoded JSON."""
    if isinstance(value, float) and math.isnan(value):
        return "<NaN>"
    if isinstance(value, (list, tuple)):
        return [comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


# Text without lone surrogates (pydantic-core refuses them; see below).
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=6)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(TEXT, inner, max_size=3),
    ),
    max_leaves=8,
)
ROWS = st.integers(min_value=1, max_value=4).flatmap(
    lambda width: st.lists(st.lists(VALUES, min_size=width, max_size=width), max_size=6)
)


# ---------------------------------------------------------------------------
# Float text
# ---------------------------------------------------------------------------


def random_doubles(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    values = []
    while len(values) < count:
        bits = rng.getrandbits(64)
        value = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
        if math.isfinite(value):
            values.append(value)
        values.append(rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30))
    return values


def edge_doubles() -> list[float]:
    values = [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3]
    for exponent in range(-1074, 1024, 7):
        for mantissa in (1, 3, (1 << 52) - 1, 1 << 52):
            try:
                values.append(math.ldexp(mantissa, exponent))
            except OverflowError:
                continue
    for power in range(-325, 309):
        value = float(f"1e{power}")
        if math.isfinite(value) and value:
            values += [value, math.nextafter(value, 0), math.nextafter(value, math.inf)]
    values += [float(2**53), 2.0**53 + 2, 9007199254740991.0, 123.0, 1e15, 1e16]
    return values + [-value for value in values]


def test_float_json_artifact_style_is_repr_on_many_doubles(
    table_twin: ModuleType,
) -> None:
    count = 20_000 if table_twin.__name__.endswith("_py") else 300_000
    values = random_doubles(count, seed=3) + edge_doubles()

    wrong = [v for v in values if table_twin.float_json(v, ARTIFACT) != repr(v)]

    assert wrong == []


def test_float_json_media_style_is_pydantic_core(table_twin: ModuleType) -> None:
    values = random_doubles(20_000, seed=4) + edge_doubles()

    wrong = [
        v for v in values if table_twin.float_json(v, MEDIA).encode() != to_pydantic(v)
    ]

    assert wrong == []


@pytest.mark.parametrize(
    ("value", "media", "artifact"),
    [
        (1e-5, "0.00001", "1e-05"),
        (-1.5e-5, "-0.000015", "-1.5e-05"),
        (1.5e-7, "1.5e-7", "1.5e-07"),
        (1e16, "1e+16", "1e+16"),
        (1e15, "1000000000000000.0", "1000000000000000.0"),
        (-0.0, "-0.0", "-0.0"),
        (5e-324, "5e-324", "5e-324"),
        (float("nan"), "NaN", "null"),
        (float("inf"), "Infinity", "Infinity"),
        (float("-inf"), "-Infinity", "-Infinity"),
    ],
)
def test_float_json_hand_cases(
    table_twin: ModuleType, value: float, media: str, artifact: str
) -> None:
    assert table_twin.float_json(value, MEDIA) == media
    assert table_twin.float_json(value, ARTIFACT) == artifact


# ---------------------------------------------------------------------------
# Rows to JSON: both twins, against json and pydantic-core
# ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(rows=ROWS)
def test_twins_write_the_same_bytes(table_twins: Twins, rows: list[list[Any]]) -> None:
    pure, compiled = table_twins

    for style in (MEDIA, ARTIFACT):
        expected = pure.encode_rows(rows, len(rows), style, identity)
        assert compiled.encode_rows(rows, len(rows), style, identity) == expected
    columns = [f"c{i}" for i in range(len(rows[0]) if rows else 0)]
    assert compiled.table_file(columns, rows, len(rows), identity) == pure.table_file(
        columns, rows, len(rows), identity
    )


@settings(max_examples=300, deadline=None)
@given(rows=ROWS)
def test_media_style_is_pydantic_core(table_twin: ModuleType, rows: list[Any]) -> None:
    encoded = table_twin.encode_rows(rows, len(rows), MEDIA, identity)

    assert encoded == to_pydantic(rows)
    assert comparable(json.loads(encoded)) == comparable(rows)


@settings(max_examples=300, deadline=None)
@given(rows=ROWS)
def test_artifact_style_is_json_dumps_sorted(
    table_twin: ModuleType, rows: list[Any]
) -> None:
    expected = json.dumps(nan_to_none(rows), sort_keys=True).encode()

    assert table_twin.encode_rows(rows, len(rows), ARTIFACT, identity) == expected


def test_table_file_holds_columns_rows_and_their_sha256(table_twin: ModuleType) -> None:
    rows = [[1, 2.5, "é", None], [True, float("nan"), "x\n", [1, {"k": (2, 3)}]]]

    data, sha256 = table_twin.table_file(["a", "b", "c", "d"], rows, 1, identity)

    assert data == b'{"columns":["a","b","c","d"],"data":[[1,2.5,"\xc3\xa9",null]]}'
    assert sha256 == hashlib.sha256(data).hexdigest()


def test_strings_are_escaped_as_each_style_wants(table_twin: ModuleType) -> None:
    rows = [['q"b\\s\n\t\x01\x7f\u2028/é😀']]

    media = table_twin.encode_rows(rows, 1, MEDIA, identity)
    artifact = table_twin.encode_rows(rows, 1, ARTIFACT, identity)

    assert media == '[["q\\"b\\\\s\\n\\t\\u0001\x7f\u2028/é😀"]]'.encode()
    assert (
        artifact == b'[["q\\"b\\\\s\\n\\t\\u0001\\u007f\\u2028/\\u00e9\\ud83d\\ude00"]]'
    )


def test_lone_surrogates_fail_the_media_style_only(table_twin: ModuleType) -> None:
    rows = [["a\ud800b"]]

    with pytest.raises(UnicodeEncodeError):
        table_twin.encode_rows(rows, 1, MEDIA, identity)
    assert table_twin.encode_rows(rows, 1, ARTIFACT, identity) == b'[["a\\ud800b"]]'


def test_other_values_go_through_convert(table_twin: ModuleType) -> None:
    rows = [[np.float32(1.1), np.int64(7), np.bool_(True), {3: np.float64("nan")}]]

    encoded = table_twin.encode_rows(rows, 1, MEDIA, table_module._plain_value)

    assert encoded == b'[[1.100000023841858,7,true,{"3":NaN}]]'


def test_convert_that_changes_nothing_is_an_error(table_twin: ModuleType) -> None:
    with pytest.raises(ValueTypeError, match="cannot be written"):
        table_twin.encode_rows([[object()]], 1, MEDIA, identity)


def test_deep_nesting_is_refused(table_twin: ModuleType) -> None:
    value: Any = 1
    for _ in range(table_twin.MAX_DEPTH + 1):
        value = [value]

    with pytest.raises(ValueValueError, match="nested more than 100"):
        table_twin.encode_rows([[value]], 1, ARTIFACT, identity)


# ---------------------------------------------------------------------------
# Column kinds: the fast path of the type checks
# ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    kinds=st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=4),
    data=st.data(),
)
def test_twins_send_the_same_cells_to_the_slow_path(
    table_twins: Twins, kinds: list[int], data: st.DataObject
) -> None:
    floats = st.floats()
    plain = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        floats,
        TEXT,
        st.lists(st.none()),
        floats.map(np.float64),
        st.floats(width=32).map(np.float32),
        st.integers(-(2**31), 2**31 - 1).map(np.int32),
        st.booleans().map(np.bool_),
    )
    rows = data.draw(
        st.lists(st.lists(plain, min_size=len(kinds), max_size=len(kinds)))
    )
    calls: list[list[tuple[int, int]]] = [[], []]

    for twin_module, seen in zip(table_twins, calls):

        def slow(row: int, column: int, value: Any, seen: Any = seen) -> int:
            seen.append((row, column))
            return int(kinds[column])

        twin_module.check_rows(list(kinds), rows, 0, slow, SCALAR_KINDS)

    expected = [
        (row, column)
        for row in range(len(rows))
        for column in range(len(kinds))
        if not pure_fits(kinds[column], rows[row][column])
    ]
    assert calls[0] == calls[1] == expected


# Further scalar classes the checks take as numbers (4) or booleans (6);
# np.float32 is left out, so that its values always take the slow path.
SCALAR_KINDS = {np.float64: 4, np.int32: 4, np.bool_: 6}


def pure_fits(kind: int, value: Any) -> bool:
    """The kinds as table_py documents them, written out once more."""
    cls = type(value)
    is_nan = cls is float and math.isnan(value)
    number = (cls in (int, float) and not is_nan) or SCALAR_KINDS.get(cls) == 4
    boolean = cls is bool or SCALAR_KINDS.get(cls) == 6
    return {
        0: False,
        1: value is None or is_nan or number,
        2: value is None or is_nan or cls is str,
        3: value is None or is_nan or boolean,
        4: number,
        5: cls is str,
        6: boolean,
        7: value is None or cls in (int, float, str, bool) or cls in SCALAR_KINDS,
    }[kind]


def test_rows_of_the_wrong_length_go_to_the_slow_path(table_twin: ModuleType) -> None:
    seen = []

    def slow(row: int, column: int, value: Any) -> int:
        seen.append((row, column, value))
        raise ValueValueError("wrong length")

    with pytest.raises(ValueValueError):
        table_twin.check_rows([1, 1], [[1, 2], [3]], 0, slow, {})
    assert seen == [(1, -1, [3])]


# ---------------------------------------------------------------------------
# The official type checks, in process
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The official client, its data folder under a temporary directory."""
    data_dir = tmp_path_factory.mktemp("official-data")
    saved = os.environ.get("WANDB_DATA_DIR")
    os.environ["WANDB_DATA_DIR"] = str(data_dir)
    wandb = pytest.importorskip("wandb")
    yield wandb
    if saved is None:
        os.environ.pop("WANDB_DATA_DIR", None)
    else:
        os.environ["WANDB_DATA_DIR"] = saved


def official_files(
    wandb: ModuleType, columns: list[Any], rows: list[Any], mixed: bool
) -> Any:
    """What the official client accepts and the two files it writes."""
    from wandb import util
    from wandb.sdk.data_types.base_types.media import _numpy_arrays_to_lists
    from wandb.sdk.lib import json_util

    try:
        table = wandb.Table(columns=columns, data=rows, allow_mixed_types=mixed)
    except (TypeError, ValueError):
        return "refused"
    plain = _numpy_arrays_to_lists({"columns": table.columns, "data": table.data})
    media = json_util.dumps(plain, cls=util.WandBJSONEncoder).encode("utf-8")
    artifact_json = table.to_json(wandb.Artifact("reference", "run_table"))
    return media, json.dumps(artifact_json, sort_keys=True).encode()


def our_files(columns: list[Any], rows: list[Any], mixed: bool) -> Any:
    try:
        table = Table(columns=columns, data=rows, allow_mixed_types=mixed)
    except (TypeError, ValueError):
        return "refused"
    cells = table_module._Cells(None, "key")  # type: ignore[arg-type]
    media, _ = table_module._media_file(table, len(rows), cells.media)
    return media, table_module._artifact_file(table, len(rows), cells.artifact)


NAN = float("nan")
TYPE_CASES: list[tuple[list[Any], list[list[Any]]]] = [
    (["a"], [[1], ["x"]]),
    (["a"], [["x"], [1]]),
    (["a"], [[1], [2.5], [None], [NAN]]),
    (["a"], [[None], [NAN]]),
    (["a"], [[True], [1]]),
    (["a"], [[1], [True]]),
    (["a"], [[np.float64("nan")], [None]]),
    (["a"], [[np.int64(3)], [2.5], [np.float32(1.1)], [np.uint8(7)]]),
    (["a"], [[np.bool_(True)], [False]]),
    (["a"], [[np.str_("s")], ["t"]]),
    (["a"], [[[1, 2]], [[3]]]),
    (["a"], [[[1, "x"]], [None]]),
    (["a"], [[[1, "x"]], [[1]]]),
    (["a"], [[[]], ["abc"]]),
    (["a"], [[["a"]], ["abc"]]),
    (["a"], [[{"x": 1}], [{"x": 2.5}], [{}]]),
    (["a"], [[{"x": 1}], [{"y": 2}]]),
    (["a"], [[{"x": 1, "y": None}], [{"x": 2}]]),
    (["a"], [[{"x": [1, {"z": None}]}], [{"x": [2.5, {"z": "s"}]}]]),
    (["a"], [[[None, 1]], [[2, None]]]),
    (["a"], [[[1.0, NAN]]]),
    (["a", "b"], [[1, "s"], [None, None], [2, "t"]]),
    (["a"], [[np.array([1.0, 2.0])], [np.array([3.0, 4.5])]]),
    (["a"], [[np.array([1.0, 2.0])], [[3.0, 4.5]]]),
    (["a"], [[np.array([1.0, 2.0])], [None]]),
    (["a"], [[np.array([1, 2])], [np.array([1, 2, 3])]]),
    (["a"], [[[[1, 2], [3, 4]]], [[[5, 6]]]]),
    (["a"], [["\ud800x"], ["é😀\x7f\n"]]),
    (["é", "3"], [[1e-5, -0.0], [1e16, 2**70]]),
    ([1, 2], [[1, "a"]]),
    (["a"], [[[{"b": 1}, {"b": None}]]]),
    (["a"], [[[{"b": 1}, {"c": 2}]]]),
    (["a"], [[(1, 2)], [[3, 4]]]),
    (["a"], [[{1: "x", 2: "y"}]]),
    (["a"], [[float("inf")], [-float("inf")]]),
    ([], []),
    (["a"], []),
    (["a", "b"], [[None, None]]),
]


@pytest.mark.reference
@pytest.mark.parametrize("case", range(len(TYPE_CASES)))
def test_official_cases(official: ModuleType, case: int) -> None:
    columns, rows = TYPE_CASES[case]

    expected = official_files(official, columns, copy.deepcopy(rows), False)

    assert our_files(columns, copy.deepcopy(rows), False) == expected


@pytest.mark.reference
def test_mixed_types_are_accepted_as_by_the_official(official: ModuleType) -> None:
    rows = [[1, True], ["x", 1.5], [None, "s"], [[1, "x"], {"k": 1}]]

    expected = official_files(official, ["a", "b"], copy.deepcopy(rows), True)

    assert expected != "refused"
    assert our_files(["a", "b"], copy.deepcopy(rows), True) == expected


CELLS = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-3, max_value=3),
        st.sampled_from([0.5, NAN, 1e-5, float("inf")]),
        st.sampled_from(["a", "é", "x\n"]),
        st.sampled_from([np.int64(2), np.float32(0.25), np.bool_(False)]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("xyz"), inner)
    ),
    max_leaves=5,
)


@pytest.mark.reference
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), mixed=st.booleans())
def test_random_tables_as_the_official(
    official: ModuleType, data: st.DataObject, mixed: bool
) -> None:
    width = data.draw(st.integers(min_value=1, max_value=3))
    # Columns of one kind of value, now and then another, as real tables.
    seeds = [data.draw(CELLS) for _ in range(width)]
    cell = st.one_of(st.sampled_from(seeds), CELLS)
    rows = data.draw(
        st.lists(st.lists(cell, min_size=width, max_size=width), max_size=5)
    )
    columns = [f"c{index}" for index in range(width)]

    expected = official_files(official, columns, copy.deepcopy(rows), mixed)

    assert our_files(columns, copy.deepcopy(rows), mixed) == expected


# ---------------------------------------------------------------------------
# The Table API
# ---------------------------------------------------------------------------


def test_columns_data_and_get_column() -> None:
    table = Table(columns=["a", "b"], data=[[1, "x"], (2, "y")])
    table.add_data(3, None)

    assert table.columns == ["a", "b"]
    assert table.data == [[1, "x"], [2, "y"], [3, None]]
    assert table.get_column("b") == ["x", "y", None]
    assert table.get_column("a", convert_to="numpy").tolist() == [1, 2, 3]


def test_default_columns_are_the_official_ones() -> None:
    assert Table().columns == ["Input", "Output", "Expected"]


def test_a_string_in_a_number_column_names_row_column_and_types() -> None:
    table = Table(columns=["loss", "name"], data=[[0.5, "a"]])

    with pytest.raises(ValueTypeError) as caught:
        table.add_data("high", "b")

    message = str(caught.value)
    assert "Row 1" in message
    assert "'loss'" in message
    assert "String" in message and "None or Number" in message
    assert "allow_mixed_types=True" in message
    assert table.data == [[0.5, "a"]]  # the failed row left no trace
    table.add_data(0.25, "c")
    assert table.data[-1] == [0.25, "c"]


def test_constructor_refuses_a_mixed_column_with_the_row_index() -> None:
    with pytest.raises(ValueTypeError, match=r"Row 2 does not fit column 'a'"):
        Table(columns=["a"], data=[[1], [2], ["x"]])


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(ValueTypeError, match="Boolean"):
        Table(columns=["a"], data=[[1], [True]])


def test_nan_and_none_fit_any_column() -> None:
    table = Table(columns=["a", "b"], data=[[None, NAN], ["x", True], [NAN, None]])

    assert len(table.data) == 3


def test_allow_mixed_types_takes_anything() -> None:
    table = Table(
        columns=["a"],
        data=[[1], ["x"], [[1, "y"]], [{"k": None}]],
        allow_mixed_types=True,
    )

    assert len(table.data) == 4


def test_wrong_row_length_is_a_value_error() -> None:
    table = Table(columns=["a", "b"])

    with pytest.raises(
        ValueValueError, match="has 3 values, but the table has 2 columns"
    ):
        table.add_data(1, 2, 3)
    assert table.data == []


def test_add_column_refuses_none_unless_optional() -> None:
    table = Table(columns=["a"], data=[[1], [2]])

    with pytest.raises(ValueTypeError, match="column 'b'"):
        table.add_column("b", [1.5, None])
    assert table.columns == ["a"] and table.data == [[1], [2]]
    table.add_column("b", [1.5, None], optional=True)
    assert table.data == [[1, 1.5], [2, None]]
    with pytest.raises(ValueValueError, match="has 1 values"):
        table.add_column("c", ["x"])
    with pytest.raises(ValueValueError, match="not a new string"):
        table.add_column("a", ["x", "y"])


def test_add_column_to_an_empty_table_makes_the_rows() -> None:
    table = Table(columns=[])
    table.add_column("a", np.array([1, 2]))

    assert table.data == [[1], [2]]
    assert table.get_column("a") == [1, 2]


def test_unsupported_cells_are_refused_with_what_fits() -> None:
    import datetime

    with pytest.raises(ValueTypeError, match="cells hold numbers, strings"):
        Table(columns=["a"], data=[[datetime.date(2020, 1, 1)]])
    with pytest.raises(ValueTypeError, match="1-d arrays of at most 150"):
        Table(columns=["a"], data=[[np.zeros((2, 2))]])
    with pytest.raises(ValueTypeError, match="keys must be all strings or all ints"):
        Table(columns=["a"], data=[[{"a": 1, 2: 3}]])


def test_numpy_2d_array_rows() -> None:
    table = Table(columns=["x", "y"], data=np.array([[1.5, 2.0], [3.0, 4.0]]))

    assert table.get_column("y") == [2.0, 4.0]


class DataFrame:
    """Enough of a pandas DataFrame (not installed here) for the table."""

    __module__ = "pandas.core.frame"

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self._columns = columns
        self.columns = list(columns)

    def __getitem__(self, name: str) -> Any:
        return type("Series", (), {"values": self._columns[name]})()

    def __len__(self) -> int:
        return len(next(iter(self._columns.values())))


def test_dataframe_columns_and_rows() -> None:
    frame = DataFrame({"n": np.array([1, 2]), "s": np.array(["a", None], dtype=object)})

    table = Table(dataframe=frame)
    from_data = Table(columns=["ignored"], data=frame)

    assert table.columns == ["n", "s"] == from_data.columns
    assert table.data == [[1, "a"], [2, None]]
    assert type(table.data[0][0]) is np.int64


def test_dataframe_must_be_a_dataframe() -> None:
    with pytest.raises(ValueTypeError, match="pandas DataFrame"):
        Table(dataframe=[[1]])


# ---------------------------------------------------------------------------
# Manifests and artifact records
# ---------------------------------------------------------------------------


@pytest.mark.reference
def test_manifest_digest_and_json_as_the_official(
    official: ModuleType, tmp_path: Path
) -> None:
    paths = {"b/data.bin": b"\x00\x01" * 300, "a.txt": b"hello", "a/z.json": b"{}"}
    reference = official.Artifact("x", "dataset")
    manifest = Manifest()
    for name, content in paths.items():
        local = tmp_path / name.replace("/", "_")
        local.write_bytes(content)
        reference.add_file(str(local), name)
        manifest.add(ManifestEntry.from_file(name, str(local)))

    assert manifest.digest() == reference.manifest.digest()
    assert manifest.to_manifest_json() == reference.manifest.to_manifest_json()
    assert Manifest.from_manifest_json(manifest.to_manifest_json()).digest() == (
        manifest.digest()
    )


@pytest.mark.reference
@pytest.mark.parametrize(
    "name", ["run-ab12-tab", "run-ab12-my tab/x.y", "run-x-ключ", "run-x-a..b", "é"]
)
def test_artifact_names_as_the_official(official: ModuleType, name: str) -> None:
    from wandb.sdk.artifacts._internal_artifact import sanitize_artifact_name

    assert artifacts.sanitize_name(name) == sanitize_artifact_name(name)


def test_md5_b64_is_base64_of_md5() -> None:
    assert artifacts.md5_b64(b"hello") == "XUFAKrxLKna5cZ2REBfFkg=="


def test_staged_files_are_read_only_copies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path))
    source = tmp_path / "source.bin"
    source.write_bytes(b"abc")

    from wandb_core.artifacts.artifact import snapshot_files

    (snapshot,), _digests = snapshot_files([str(source)])
    staged = [artifacts.stage_bytes(b"xyz"), snapshot]

    for path, content in zip(staged, (b"xyz", b"abc")):
        assert os.path.dirname(path) == str(tmp_path / "artifacts" / "staging")
        assert Path(path).read_bytes() == content
        assert not os.access(path, os.W_OK) or os.geteuid() == 0
        assert os.stat(path).st_mode & 0o777 == 0o400


def test_client_ids_are_128_base36_characters() -> None:
    ids = {artifacts.new_client_id() for _ in range(50)}

    assert len(ids) == 50
    assert all(
        len(i) == 128 and set(i) <= set("0123456789abcdefghijklmnopqrstuvwxyz")
        for i in ids
    )


@pytest.mark.reference
def test_artifact_record_decodes_with_the_official_protobuf() -> None:
    pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")
    entry = ManifestEntry(
        "t.table.json",
        "njXNc/LBDn6IMBKWOAEnIw==",
        635,
        local_path="/s/t",
        extra={"k": [1]},
    )

    body = records.artifact(
        run_id="r1",
        project="p",
        entity="e",
        artifact_type="run_table",
        name="run-r1-t",
        digest="ab",
        client_id="c" * 128,
        sequence_client_id="s" * 128,
        manifest_entries=[entry.record_fields()],
        storage_policy="wandb-storage-policy-v1",
        storage_policy_config=[("storageLayout", '"V2"')],
        ttl_duration_seconds=-2,
        description="d",
        metadata_json='{"a": 1}',
        tags=["x"],
    )
    record = pb.Record()
    record.ParseFromString(body)

    art = record.artifact
    assert record.WhichOneof("record_type") == "artifact"
    assert (art.run_id, art.project, art.entity, art.type, art.name) == (
        "r1",
        "p",
        "e",
        "run_table",
        "run-r1-t",
    )
    assert (art.digest, art.client_id, art.sequence_client_id) == (
        "ab",
        "c" * 128,
        "s" * 128,
    )
    assert list(art.aliases) == ["latest"] and art.finalize and not art.user_created
    assert (
        art.ttl_duration_seconds,
        art.description,
        art.metadata,
        list(art.tags),
    ) == (-2, "d", '{"a": 1}', ["x"])
    assert art.digest_algorithm == "MANIFEST_MD5"
    assert art.manifest.version == 1
    assert art.manifest.storage_policy == "wandb-storage-policy-v1"
    assert [(c.key, c.value_json) for c in art.manifest.storage_policy_config] == [
        ("storageLayout", '"V2"')
    ]
    (content,) = art.manifest.contents
    assert (content.path, content.digest, content.size, content.local_path) == (
        "t.table.json",
        "njXNc/LBDn6IMBKWOAEnIw==",
        635,
        "/s/t",
    )
    assert [(x.key, x.value_json) for x in content.extra] == [("k", "[1]")]
    assert record._info.stream_id == "r1"


# ---------------------------------------------------------------------------
# Logged tables, in process
# ---------------------------------------------------------------------------


class FakeRun:
    """What a table needs of a run, recorded."""

    def __init__(self, root: Path) -> None:
        self.id = "run1"
        self.project = "p"
        self.entity = ""
        self.run_dir = str(root)
        self.dir = str(root / "files")
        self.media: list[str] = []
        self.records: list[bytes] = []

    def add_media_file(self, relative: str) -> None:
        self.media.append(relative)

    def write_record(self, body: bytes) -> None:
        self.records.append(body)


class Cell:
    """A table cell object of the shared protocol, with one file."""

    def __init__(self, local: Path, media: bool) -> None:
        self.local = local
        self.is_media = media
        self.calls = 0

    def _wandb_core_table_cell(self, run: Any, table_key: str) -> Any:
        self.calls += 1
        if not self.is_media:
            return {"_type": "histogram", "values": [1], "bins": [0.0, 1.0]}, []
        cell = {"_type": "thing-file", "path": "media/things/a.bin", "sha256": "00"}
        return cell, [("media/things/a.bin", self.local.read_bytes())]


def artifact_records(run: FakeRun) -> list[Any]:
    pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")
    decoded = []
    for body in run.records:
        record = pb.Record()
        record.ParseFromString(body)
        decoded.append(record.artifact)
    return decoded


def test_cell_objects_in_both_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "data"))
    blob = tmp_path / "a.bin"
    blob.write_bytes(b"\x00" * 10)
    thing, histogram = Cell(blob, media=True), Cell(blob, media=False)
    table = Table(columns=["t", "h"], data=[[thing, histogram], [thing, None]])
    run = FakeRun(tmp_path)

    reference = table._wandb_core_log_value(run, ("k",), 3)  # type: ignore[arg-type]

    media = (tmp_path / "files" / reference["path"]).read_bytes()
    assert media == (
        b'{"columns":["t","h"],"data":[["Cell",{"_type":"histogram","values":[1],'
        b'"bins":[0.0,1.0]}],["Cell",null]]}'
    )
    assert thing.calls == 1 and histogram.calls == 1
    (record,) = artifact_records(run)
    paths = [content.path for content in record.manifest.contents]
    assert paths == ["k.table.json", "media/things/a.bin"]
    staged = Path(record.manifest.contents[0].local_path).read_bytes()
    assert b'"data": [[{"_type": "thing-file", "path": "media/things/a.bin"' in staged
    assert b'{"params": {"class_name": "Cell"}, "wb_type": "pythonObject"}' in staged


def test_relogging_a_table_reuses_its_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WANDB_SILENT", raising=False)
    monkeypatch.delenv("WANDB_QUIET", raising=False)
    table = Table(columns=["a"], data=[[1]])
    run = FakeRun(tmp_path)

    first = table._wandb_core_log_value(run, ("k",), 0)  # type: ignore[arg-type]
    table.add_data(2)
    table.add_data(3)
    second = table._wandb_core_log_value(run, ("k",), 1)  # type: ignore[arg-type]

    assert len(run.records) == 1 and len(run.media) == 1
    assert {**first, "nrows": 3} == second
    assert capsys.readouterr().err.count("changed after it was logged") == 1


# ---------------------------------------------------------------------------
# Logged tables: the official client and ours, whole runs
# ---------------------------------------------------------------------------

SCRIPT = """
import numpy as np
run = wandb.init(project="tables")
nan = float("nan")
simple = wandb.Table(
    columns=["i", "f", "s", "b", "n"],
    data=[
        [1, 2.5, "x", True, None],
        [2, nan, "é😀", False, 3],
        [3, 1e-5, "", None, nan],
    ],
)
run.log({"simple": simple})
numbers = wandb.Table(columns=["np", "nested", "arr"])
first = {"k": [1, None, 2.5], "d": {"z": "é"}}
numbers.add_data(np.float32(1.1), first, np.array([1.0, 2.0]))
numbers.add_data(np.int64(7), {"k": [3], "d": {"z": "ü"}}, np.array([0.5, nan]))
numbers.add_column("big", [2**70, -1])
run.log({"train": {"my tab/x.y": numbers}, "loss": 0.5})
run.log({"simple": simple})
big = wandb.Table(columns=["a", "b"], data=[[i, i * 0.5] for i in range(10005)])
run.log({"big": big})
mixed = wandb.Table(
    columns=["m"], data=[[1], ["x"], [[1, "y"]]], allow_mixed_types=True
)
run.summary["mixed"] = mixed
run.finish()
"""

IMAGE_SCRIPT = """
import numpy as np
run = wandb.init(project="tables")
pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
image = wandb.Image(pixels, caption="c")
rows = [[image, 1], [None, 2], [image, 3]]
table = wandb.Table(columns=["image", "label"], data=rows)
run.log({"preds": table})
run.finish()
"""

RANDOM_ID_KEYS = frozenset({"artifact_path", "_latest_artifact_path"})


def child_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    if "WANDB_CORE_REQUIRE_EXTENSIONS" in os.environ:
        env["WANDB_CORE_REQUIRE_EXTENSIONS"] = os.environ[
            "WANDB_CORE_REQUIRE_EXTENSIONS"
        ]
    for name, folder in {
        "WANDB_DIR": "out",
        "WANDB_CACHE_DIR": "cache",
        "WANDB_CONFIG_DIR": "config",
        "WANDB_DATA_DIR": "data",
        "WANDB_ARTIFACT_DIR": "artifacts",
    }.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(root / folder)
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
        WANDB_BASE_URL="http://127.0.0.1:9",
        WANDB_API_KEY="x" * 40,
        PYTHONIOENCODING="utf-8",
    )
    return env


class LoggedRun:
    """A finished run: its folder, records, media files and staged files."""

    def __init__(self, root: Path, sdk: str, body: str) -> None:
        header = "import wandb\n" if sdk == "wandb" else "import wandb_core as wandb\n"
        root.mkdir(parents=True, exist_ok=True)
        script = root / "script.py"
        script.write_text(header + textwrap.dedent(body), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=root,
            env=child_env(root),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        (self.run_dir,) = sorted((root / "out" / "wandb").glob("offline-run-*"))
        (log,) = self.run_dir.glob("*.wandb")
        pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")
        self.records = []
        for raw in read_records(str(log))[0]:
            if raw.kind in ("artifact", "history", "summary"):
                record = pb.Record()
                getattr(record, raw.kind).ParseFromString(raw.body)
                self.records.append(record)
        self.staging = root / "data" / "artifacts" / "staging"

    def artifacts(self) -> list[Any]:
        return [
            r.artifact
            for r in self.records
            if r.WhichOneof("record_type") == "artifact"
        ]

    def media_files(self) -> dict[str, bytes]:
        folder = self.run_dir / "files" / "media" / "table"
        return {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*.json"))
        }

    def references(self) -> dict[str, list[dict[str, Any]]]:
        """Table reference objects by key, from history and the last summary."""
        found: dict[str, list[dict[str, Any]]] = {}
        for record in self.records:
            kind = record.WhichOneof("record_type")
            items = record.history.item if kind == "history" else record.summary.update
            objects: dict[str, dict[str, Any]] = {}
            for item in items:
                path = list(item.nested_key) or [item.key]
                value = json.loads(item.value_json)
                if isinstance(value, dict):  # a whole object under one key
                    objects["/".join(path)] = value
                elif len(path) >= 2 and path[0] != "_wandb":
                    objects.setdefault("/".join(path[:-1]), {})[path[-1]] = value
            for key, value in objects.items():
                if value.get("_type") == "table-file":
                    found.setdefault(f"{kind}:{key}", []).append(value)
        return found


@pytest.fixture(scope="module")
def table_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoggedRun]:
    return {
        sdk: LoggedRun(tmp_path_factory.mktemp(sdk), sdk, SCRIPT)
        for sdk in ("wandb", "wandb_core")
    }


def without_ids(reference: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in reference.items() if k not in RANDOM_ID_KEYS}


def assert_ids_are_well_formed(reference: dict[str, Any], artifact: Any) -> None:
    entry = reference["path"].rsplit("/", 1)[-1]
    assert reference["artifact_path"].startswith(
        f"wandb-client-artifact://{artifact.client_id}/"
    ), entry
    assert reference["_latest_artifact_path"].startswith(
        f"wandb-client-artifact://{artifact.sequence_client_id}:latest/"
    )


@pytest.mark.reference
def test_media_files_have_the_official_names_and_bytes(
    table_runs: dict[str, LoggedRun],
) -> None:
    official, ours = (
        table_runs["wandb"].media_files(),
        table_runs["wandb_core"].media_files(),
    )

    assert sorted(ours) == sorted(official)
    for name in official:
        assert ours[name] == official[name], name
    big = json.loads(ours[next(n for n in ours if n.startswith("big_"))])
    assert len(big["data"]) == Table.MAX_ROWS


@pytest.mark.reference
def test_reference_objects_equal_the_official_but_ids(
    table_runs: dict[str, LoggedRun],
) -> None:
    official = table_runs["wandb"].references()
    ours = table_runs["wandb_core"].references()
    last = {key: values[-1] for key, values in ours.items()}

    for key in ("history:simple", "history:train/my tab/x.y", "history:big"):
        assert [without_ids(v) for v in ours[key]] == [
            without_ids(v) for v in official[key]
        ], key
    for key in (
        "summary:simple",
        "summary:train/my tab/x.y",
        "summary:big",
        "summary:mixed",
    ):
        assert without_ids(last[key]) == without_ids(official[key][-1]), key
    assert last["summary:big"]["nrows"] == 10005
    assert set(last["summary:simple"]) == set(official["summary:simple"][-1])


@pytest.mark.reference
def test_run_table_artifacts_equal_the_official(
    table_runs: dict[str, LoggedRun],
) -> None:
    from wandb.sdk.artifacts._internal_artifact import sanitize_artifact_name

    official = table_runs["wandb"].artifacts()
    ours = table_runs["wandb_core"].artifacts()
    official_id = table_runs["wandb"].run_dir.name.rsplit("-", 1)[-1]
    our_id = table_runs["wandb_core"].run_dir.name.rsplit("-", 1)[-1]

    assert len(ours) == len(official) == 4
    keys = ["simple", "my tab/x.y", "big", "mixed"]
    for key, mine, theirs in zip(keys, ours, official):
        assert theirs.name == sanitize_artifact_name(f"run-{official_id}-{key}")
        assert mine.name == sanitize_artifact_name(f"run-{our_id}-{key}")
        assert (mine.type, mine.digest, list(mine.aliases)) == (
            theirs.type,
            theirs.digest,
            list(theirs.aliases),
        )
        assert (mine.finalize, mine.user_created, mine.use_after_commit) == (
            theirs.finalize,
            theirs.user_created,
            theirs.use_after_commit,
        )
        assert (mine.project, mine.entity, mine.digest_algorithm) == (
            theirs.project,
            theirs.entity,
            theirs.digest_algorithm,
        )
        assert (mine.metadata, mine.description, mine.ttl_duration_seconds) == (
            theirs.metadata,
            theirs.description,
            theirs.ttl_duration_seconds,
        )
        assert mine.manifest.version == theirs.manifest.version
        assert mine.manifest.storage_policy == theirs.manifest.storage_policy
        assert list(mine.manifest.storage_policy_config) == list(
            theirs.manifest.storage_policy_config
        )
        assert [(c.path, c.digest, c.size) for c in mine.manifest.contents] == [
            (c.path, c.digest, c.size) for c in theirs.manifest.contents
        ]
        for content in mine.manifest.contents:
            staged = Path(content.local_path)
            assert staged.parent == table_runs["wandb_core"].staging
            digest = base64.b64encode(
                hashlib.md5(staged.read_bytes()).digest()
            ).decode()
            assert digest == content.digest
        assert len(mine.client_id) == len(mine.sequence_client_id) == 128


@pytest.mark.reference
def test_reference_ids_name_the_artifact(table_runs: dict[str, LoggedRun]) -> None:
    run = table_runs["wandb_core"]
    by_name = {a.manifest.contents[0].path: a for a in run.artifacts()}

    for values in run.references().values():
        entry = values[-1]["artifact_path"].split("/", 3)[-1]
        assert_ids_are_well_formed(values[-1], by_name[entry])


@pytest.mark.reference
def test_tables_of_images_as_the_official(tmp_path: Path) -> None:
    runs = {
        sdk: LoggedRun(tmp_path / sdk, sdk, IMAGE_SCRIPT)
        for sdk in ("wandb", "wandb_core")
    }
    official, ours = runs["wandb"], runs["wandb_core"]

    assert ours.media_files() == official.media_files()
    (mine,), (theirs,) = ours.artifacts(), official.artifacts()
    assert mine.digest == theirs.digest
    assert [(c.path, c.digest, c.size) for c in mine.manifest.contents] == [
        (c.path, c.digest, c.size) for c in theirs.manifest.contents
    ]
    staged = {c.path: Path(c.local_path).read_bytes() for c in mine.manifest.contents}
    expected = {
        c.path: Path(c.local_path).read_bytes() for c in theirs.manifest.contents
    }
    assert staged == expected


HISTOGRAM_SCRIPT = """
import numpy as np
run = wandb.init(project="tables")
values = np.linspace(-1.0, 1.0, 101)
rows = [
    [wandb.Histogram(values, num_bins=8), "linear"],
    [wandb.Histogram(np_histogram=([1, 2, 3], [0.0, 0.5, 1.0, 1.5])), "given"],
    [None, "missing"],
]
table = wandb.Table(columns=["weights", "name"], data=rows)
run.log({"hists": table})
run.finish()
"""


@pytest.mark.reference
def test_tables_of_histograms_hold_the_official_histogram_objects(
    official: ModuleType, tmp_path: Path
) -> None:
    # The official client fails to log such a table (its artifact's JSON
    # encoder meets the Histogram object); we store each cell as the
    # official Histogram.to_json() gives it, in both files, with the
    # official column types.
    ours = LoggedRun(tmp_path / "ours", "wandb_core", HISTOGRAM_SCRIPT)
    values = np.linspace(-1.0, 1.0, 101)
    expected_cells = [
        official.Histogram(values, num_bins=8).to_json(),
        official.Histogram(np_histogram=([1, 2, 3], [0.0, 0.5, 1.0, 1.5])).to_json(),
        None,
    ]
    assert expected_cells[0]["values"] == [13, 12, 13, 12, 13, 12, 13, 13]

    (media,) = ours.media_files().values()
    assert json.loads(media) == {
        "columns": ["weights", "name"],
        "data": [
            [expected_cells[0], "linear"],
            [expected_cells[1], "given"],
            [None, "missing"],
        ],
    }
    (artifact,) = ours.artifacts()
    (entry,) = artifact.manifest.contents
    stored = json.loads(Path(entry.local_path).read_bytes())
    assert [row[0] for row in stored["data"]] == expected_cells
    reference_table = official.Table(
        columns=["weights", "name"],
        data=[
            [official.Histogram(values, num_bins=8), "linear"],
            [None, "missing"],
        ],
    )
    assert stored["column_types"] == reference_table._column_types.to_json()
