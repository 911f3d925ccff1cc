"""Histograms: both summarization twins against numpy, the Histogram type's
inputs, logging, and the official client's logs of the same histograms.

numpy is the reference for counts and edges: every case compares both twins
with ``numpy.histogram`` on the finite values, and with each other. Torch
tensors are tested with a stand-in that offers the interface we use, and
with torch itself where it is installed.
"""

from __future__ import annotations

import array
import ctypes
import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wandb_core as wandb
from tests.runutil import is_inherited, only_run_dir, read, user_rows
from tests.twins import compiled_twin, pure_twin, twin
from wandb_core.backend.reader import read_run
from wandb_core.data_types import histogram as histogram_module
from wandb_core.errors import ValueTypeError, ValueValueError

FORMAT_OF = {
    "float64": "d",
    "float32": "f",
    "float16": "e",
    "int64": "q",
    "uint64": "Q",
    "int32": "i",
    "uint32": "I",
    "int16": "h",
    "uint16": "H",
    "int8": "b",
    "uint8": "B",
}
DTYPES = tuple(FORMAT_OF)


@pytest.fixture(scope="module", params=["python", "cython"])
def hist(request: pytest.FixtureRequest) -> ModuleType:
    """Each histogram twin in turn: the pure reference, then the compiled one."""
    return twin("histogram", request.param)


def numpy_reference(values: np.ndarray, num_bins: int) -> Any:
    """numpy's counts and edges of the finite values, or None if it refuses."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            counts, edges = np.histogram(finite, bins=num_bins)
        except (ValueError, IndexError):  # IndexError: numpy's own bug, n=1
            return None
    return counts.tolist(), edges.tolist()


def summarize(module: ModuleType, values: np.ndarray, num_bins: int) -> Any:
    """A twin's counts and edges, or the ValueError it raised."""
    values = np.ascontiguousarray(values)
    try:
        counts, edges, left_out = module.summarize(
            memoryview(values), FORMAT_OF[str(values.dtype)], num_bins
        )
    except ValueError as error:
        return error
    if values.dtype.kind == "f":
        assert left_out == int(np.count_nonzero(~np.isfinite(values)))
    else:
        assert left_out == 0
    assert all(type(count) is int for count in counts)
    assert all(type(edge) is float for edge in edges)
    return counts, edges


def assert_twins_match_numpy(values: np.ndarray, num_bins: int) -> None:
    """Both twins give numpy's result, or both refuse where numpy does."""
    expected = numpy_reference(values, num_bins)
    pure = summarize(pure_twin("histogram"), values, num_bins)
    compiled = summarize(compiled_twin("histogram"), values, num_bins)

    if expected is None:
        assert isinstance(pure, ValueError), (values, num_bins, pure)
        assert isinstance(compiled, ValueError), (values, num_bins, compiled)
        assert str(pure) == str(compiled)
    else:
        assert pure == expected, (values, num_bins)
        assert compiled == expected, (values, num_bins)


# ---------------------------------------------------------------------------
# Hand-computed cases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fmt", "num_bins", "counts", "edges"),
    [
        # (5.5 - 1) / 4 = 1.125 per bin; the last bin holds its right edge.
        ([1.0, 2.0, 3.0, 4.0, 5.5], "d", 4, [2, 1, 1, 1], [1, 2.125, 3.25, 4.375, 5.5]),
        # One value: the range becomes [value - 0.5, value + 0.5].
        ([3.0], "d", 4, [0, 0, 1, 0], [2.5, 2.75, 3.0, 3.25, 3.5]),
        ([7, 7, 7], "q", 2, [0, 3], [6.5, 7.0, 7.5]),
        ([-3, -1, -2], "q", 2, [1, 2], [-3.0, -2.0, -1.0]),
        ([0, 255], "B", 1, [2], [0.0, 255.0]),
        ([-0.5, 0.25], "f", 3, [1, 0, 1], [-0.5, -0.25, 0.0, 0.25]),
    ],
)
def test_hand_computed_histograms(
    hist: ModuleType,
    values: list[float],
    fmt: str,
    num_bins: int,
    counts: list[int],
    edges: list[float],
) -> None:
    data = array.array(fmt, values)

    result = hist.summarize(memoryview(data), fmt, num_bins)

    assert result == (counts, edges, 0)


def test_float32_edges_are_computed_in_float32(hist: ModuleType) -> None:
    values = np.array([0.1, 0.7, 3.3], dtype=np.float32)
    float64_edges = np.linspace(float(values.min()), float(values.max()), 8)

    counts, edges, _ = hist.summarize(memoryview(values), "f", 7)

    assert edges == np.histogram(values, bins=7)[1].tolist()
    assert all(float(np.float32(edge)) == edge for edge in edges)
    assert edges != float64_edges.tolist()
    assert counts == [1, 1, 0, 0, 0, 0, 1]


def test_float16_edges_are_computed_in_float16(hist: ModuleType) -> None:
    values = np.array([3.1, 3.7, 3.3], dtype=np.float16)

    counts, edges, _ = hist.summarize(memoryview(values).cast("B"), "e", 7)

    expected_counts, expected_edges = np.histogram(values, bins=7)
    assert edges == expected_edges.tolist()
    assert counts == expected_counts.tolist()
    assert edges[1] == 3.185546875  # a float16 value, not 3.1 + 0.6 / 7


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_value_and_all_equal_values_match_numpy(dtype: str) -> None:
    for values in ([5], [5, 5, 5, 5], [0], [1, 1]):
        assert_twins_match_numpy(np.array(values, dtype=dtype), 64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_integer_and_float_extremes_match_numpy(dtype: str) -> None:
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.finfo(dtype)
    low, high = info.min, info.max
    for values in ([low, high], [low, low], [high, 0], [low, 0, high]):
        for num_bins in (1, 2, 7, 64, 512):
            assert_twins_match_numpy(np.array(values, dtype=dtype), num_bins)


def test_negative_ranges_and_uneven_data_match_numpy() -> None:
    rng = np.random.default_rng(7)
    for dtype in ("float64", "float32", "float16"):
        values = (rng.normal(size=1000) * 40 - 100).astype(dtype)
        for num_bins in (1, 3, 32, 64, 500):
            assert_twins_match_numpy(values, num_bins)


def test_large_inputs_match_numpy() -> None:
    # Above the size at which the compiled twin releases the GIL.
    rng = np.random.default_rng(3)
    values = rng.standard_cauchy(size=70_000)
    values[::997] = np.nan
    values[5] = np.inf
    ints = rng.integers(-(2**40), 2**40, size=70_000)
    tiny = (1.0 + rng.integers(0, 3, size=70_000) * 2.0**-52).astype(np.float64)

    for data in (values, values.astype(np.float32), ints, tiny):
        assert_twins_match_numpy(data, 64)


# ---------------------------------------------------------------------------
# What numpy refuses, and what we do instead of raising
# ---------------------------------------------------------------------------


def test_nan_and_infinity_are_left_out_and_counted(hist: ModuleType) -> None:
    values = np.array([1.0, np.nan, 2.0, np.inf, 3.0, -np.inf, 4.0])

    counts, edges, left_out = hist.summarize(memoryview(values), "d", 3)

    assert left_out == 3
    assert counts == [1, 1, 2]  # [1, 2), [2, 3), [3, 4]
    assert edges == np.histogram([1.0, 2.0, 3.0, 4.0], bins=3)[1].tolist()


@pytest.mark.parametrize(("fmt", "dtype"), [("d", "float64"), ("f", "float32")])
def test_only_non_finite_values_give_numpys_empty_histogram(
    hist: ModuleType, fmt: str, dtype: str
) -> None:
    values = np.array([np.nan, np.inf], dtype=dtype)

    counts, edges, left_out = hist.summarize(memoryview(values), fmt, 5)

    expected_counts, expected_edges = np.histogram(np.array([], dtype=dtype), bins=5)
    assert (counts, edges, left_out) == (
        expected_counts.tolist(),
        expected_edges.tolist(),
        2,
    )


def test_empty_input_gives_numpys_empty_histogram(hist: ModuleType) -> None:
    counts, edges, left_out = hist.summarize(memoryview(b""), "d", 4)

    assert (counts, edges, left_out) == ([0, 0, 0, 0], [0.0, 0.25, 0.5, 0.75, 1.0], 0)


def test_a_range_too_wide_is_a_clear_value_error(hist: ModuleType) -> None:
    values = array.array("d", [-1e308, 1e308])

    with pytest.raises(ValueError, match=r"too wide a range to split into 4 bins"):
        hist.summarize(memoryview(values), "d", 4)
    with pytest.raises(ValueError, match=r"from -1e\+308 to 1e\+308"):
        hist.summarize(memoryview(values), "d", 1)


def test_a_range_too_narrow_for_the_bins_is_a_clear_value_error(
    hist: ModuleType,
) -> None:
    values = array.array("d", [1.0, 1.0 + 2.0**-52])

    with pytest.raises(ValueError, match=r"too narrow a range to split into 4 bins"):
        hist.summarize(memoryview(values), "d", 4)
    assert hist.summarize(memoryview(values), "d", 1)[0] == [2]


@pytest.mark.parametrize("num_bins", [0, -1, 513, 2**70])
def test_bin_counts_beyond_the_limits_are_refused(
    hist: ModuleType, num_bins: int
) -> None:
    with pytest.raises(ValueError, match=r"from 1 to 512 bins"):
        hist.summarize(memoryview(array.array("d", [1.0])), "d", num_bins)


def test_unknown_element_formats_are_refused(hist: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"format 'Z'"):
        hist.summarize(memoryview(b"ab"), "Z", 4)


# ---------------------------------------------------------------------------
# Property tests: both twins and numpy agree
# ---------------------------------------------------------------------------


@st.composite
def float_arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(["float64", "float32", "float16"])))
    size = draw(st.integers(1, 60))
    style = draw(st.sampled_from(["any", "tiny", "huge", "plain"]))
    width = dtype.itemsize * 8
    if style == "tiny":
        # A few ulps around one value: edges hit the limits of precision.
        base = draw(st.floats(width=width, allow_nan=False, allow_infinity=False))
        steps = draw(st.lists(st.integers(0, 64), min_size=size, max_size=size))
        values = np.array([base] * size, dtype=dtype)
        with np.errstate(all="ignore"):
            values = values + np.spacing(values) * np.array(steps, dtype=dtype)
    else:
        finite = style != "any"
        largest = float(np.finfo(dtype).max)
        bound = largest if style == "huge" else min(largest, 1e6)
        if style == "any":
            elements = st.floats(width=width)
        else:
            elements = st.floats(
                -bound, bound, width=width, allow_nan=not finite, allow_infinity=False
            )
        values = np.array(
            draw(st.lists(elements, min_size=size, max_size=size)), dtype=dtype
        )
    return values


@st.composite
def integer_arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(DTYPES[3:])))
    info = np.iinfo(dtype)
    low = draw(st.integers(int(info.min), int(info.max)))
    high = draw(st.integers(low, int(info.max)))
    values = draw(st.lists(st.integers(low, high), min_size=1, max_size=60))
    return np.array(values, dtype=dtype)


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(values=float_arrays(), num_bins=st.integers(1, 512))
def test_float_histograms_agree_with_numpy(values: np.ndarray, num_bins: int) -> None:
    assert_twins_match_numpy(values, num_bins)


@PROPERTY_SETTINGS
@given(values=integer_arrays(), num_bins=st.integers(1, 512))
def test_integer_histograms_agree_with_numpy(values: np.ndarray, num_bins: int) -> None:
    assert_twins_match_numpy(values, num_bins)


@settings(max_examples=500, deadline=None)
@given(value=st.floats(allow_nan=False))
def test_rounding_to_float32_and_float16_matches_numpy(value: float) -> None:
    with np.errstate(all="ignore"):
        single = float(np.float32(value))
        half = float(np.float16(value))

    for module in (pure_twin("histogram"), compiled_twin("histogram")):
        assert module.round_float32(value) == single
        assert module.round_float16(value) == half
        assert math.copysign(1, module.round_float16(value)) == math.copysign(1, half)


# ---------------------------------------------------------------------------
# The Histogram type: inputs
# ---------------------------------------------------------------------------


def expected_of(values: Any, num_bins: int = 64) -> tuple[list[Any], list[Any]]:
    counts, edges = np.histogram(np.asarray(values), bins=num_bins)
    return counts.tolist(), edges.tolist()


def as_pair(histogram: wandb.Histogram) -> tuple[list[Any], list[Any]]:
    return histogram.histogram, histogram.bins


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, 3, 50],
        (0.5, -2.0, 8.25),
        [1, 2.5, True],
        [[1, 2], [3, 4]],
        np.arange(100.0),
        np.arange(100, dtype=np.int8),
        np.array([True, False, True, True]),
        np.linspace(-3, 3, 50, dtype=np.float16),
        np.arange(24.0).reshape(2, 3, 4),
        np.arange(100.0)[::3],
        np.arange(50.0).reshape(5, 10).T,
        np.arange(40.0).astype(">f8"),
        np.arange(40, dtype=np.uint64) * 2**58,
        [np.float32(0.1), np.float32(0.7), np.float32(3.3)],
        np.float64(4.0),
        7,
    ],
    ids=lambda values: type(values).__name__,
)
def test_inputs_match_numpy(values: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy converts bools
        expected = expected_of(values, 16)

    assert as_pair(wandb.Histogram(values, num_bins=16)) == expected


def test_buffers_of_every_numeric_format_match_numpy() -> None:
    for code in "bBhHiIlLqQfd":
        data = array.array(code, [3, 1, 4, 1, 5, 9, 2, 6])
        expected = expected_of(np.frombuffer(data, dtype=code), 5)

        assert as_pair(wandb.Histogram(data, num_bins=5)) == expected
        assert as_pair(wandb.Histogram(memoryview(data), num_bins=5)) == expected
    strided = memoryview(array.array("d", range(20)))[::2]
    assert as_pair(wandb.Histogram(strided, num_bins=4)) == expected_of(
        np.arange(0.0, 20.0, 2.0), 4
    )
    doubles = (ctypes.c_double * 3)(1.0, 2.0, 4.0)  # format '<d'
    assert as_pair(wandb.Histogram(doubles, num_bins=3)) == expected_of(
        [1.0, 2.0, 4.0], 3
    )
    assert as_pair(wandb.Histogram(b"\x00\x01\xff", num_bins=2)) == expected_of(
        np.array([0, 1, 255], dtype=np.uint8), 2
    )


def test_lists_of_integers_beyond_int64_are_binned_as_uint64() -> None:
    values = [1, 2**63 + 5, 2**64 - 1]

    histogram = wandb.Histogram(values, num_bins=3)

    assert as_pair(histogram) == expected_of(np.array(values, dtype=np.uint64), 3)
    with pytest.raises(ValueValueError, match=r"integers beyond 64 bits"):
        wandb.Histogram([-1, 2**64])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["a", "b"], r"must be numbers, not str"),
        ("abc", r"must be numbers, not a str"),
        ([1.0, None], r"must be numbers, not NoneType"),
        (np.array([1 + 2j] * 3), r"real numbers, not numpy complex128"),
        (np.array(["x"]), r"real numbers, not numpy <U1"),
        (object(), r"sequence of numbers, not object"),
    ],
)
def test_values_that_are_not_numbers_are_refused(values: Any, message: str) -> None:
    with pytest.raises(ValueTypeError, match=message):
        wandb.Histogram(values)


def test_bin_count_limits() -> None:
    with pytest.raises(ValueValueError, match=r"num_bins is 513; it must be from 1"):
        wandb.Histogram([1, 2], num_bins=513)
    with pytest.raises(ValueTypeError, match=r"num_bins must be an integer"):
        wandb.Histogram([1, 2], num_bins="auto")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"too wide a range"):
        wandb.Histogram([-1e308, 1e308])
    assert len(wandb.Histogram([1, 2], num_bins=np.int64(512)).histogram) == 512
    with pytest.raises(ValueTypeError, match=r"needs a sequence"):
        wandb.Histogram()


def test_np_histogram_pairs_are_taken_as_they_are() -> None:
    counts, edges = np.histogram([1, 2, 2, 3], bins=3)

    histogram = wandb.Histogram(np_histogram=(counts, edges))
    from_lists = wandb.Histogram(np_histogram=([1, 2], [0.0, 0.5, 1.0]))

    assert as_pair(histogram) == (counts.tolist(), edges.tolist())
    assert as_pair(from_lists) == ([1, 2], [0.0, 0.5, 1.0])
    assert histogram.to_json() == {
        "_type": "histogram",
        "values": [1, 2, 1],
        "bins": edges.tolist(),
    }


def test_malformed_np_histogram_pairs_are_refused() -> None:
    with pytest.raises(ValueValueError, match=r"has 2 values and 2 bin edges"):
        wandb.Histogram(np_histogram=([1, 2], [0, 1]))
    with pytest.raises(ValueValueError, match=r"has 513 values; .* at most 512"):
        wandb.Histogram(np_histogram=([1] * 513, list(range(514))))
    with pytest.raises(ValueTypeError, match=r"must be a pair"):
        wandb.Histogram(np_histogram=([1, 2, 3],))


def test_non_finite_values_are_reported_once(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(histogram_module, "_nonfinite_reported", False)
    monkeypatch.delenv("WANDB_SILENT", raising=False)

    first = wandb.Histogram([1.0, float("nan"), 2.0, float("inf")])
    second = wandb.Histogram([float("-inf"), 3.0])

    assert (first.nonfinite, second.nonfinite) == (2, 1)
    assert first.histogram == expected_of([1.0, 2.0])[0]
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "wandb-core: WARNING A histogram left out 2 NaN or infinite values of 4; "
        "histograms count finite values only (later ones are not reported)."
    ]
    warnings_logged = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings_logged) == 1
    assert "left out 2 NaN or infinite values of 4" in warnings_logged[0].getMessage()


def test_table_cells_are_the_json_object_without_files() -> None:
    histogram = wandb.Histogram([1, 2, 3], num_bins=2)

    cell = histogram._wandb_core_table_cell(None, "table")

    assert cell == (
        {"_type": "histogram", "values": [1, 2], "bins": [1.0, 2.0, 3.0]},
        [],
    )


# ---------------------------------------------------------------------------
# Torch tensors
# ---------------------------------------------------------------------------


class FakeTensor:
    """The tensor interface Histogram and values.py use, over array.array."""

    # Our code recognises tensors by their type's module, as it does torch's.
    __module__ = "torch.fake"

    def __init__(self, data: array.array[Any], dtype: str, moved: bool = False):
        self.data = data
        self.dtype = dtype
        self.moved = moved

    def detach(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return FakeTensor(self.data, self.dtype, moved=True)

    def contiguous(self) -> FakeTensor:
        assert self.moved, "contiguous() before cpu()"
        return self

    def float(self) -> FakeTensor:
        return FakeTensor(array.array("f", self.data), "torch.float32", self.moved)

    def is_complex(self) -> bool:
        return False

    def dim(self) -> int:
        return 1

    def numel(self) -> int:
        return len(self.data)

    def element_size(self) -> int:
        return self.data.itemsize

    def data_ptr(self) -> int:
        address: int = self.data.buffer_info()[0]
        return address

    def tolist(self) -> list[Any]:
        return self.data.tolist()


@pytest.mark.parametrize(
    ("code", "dtype"),
    [("f", "torch.float32"), ("d", "torch.float64"), ("q", "torch.int64")],
)
def test_tensor_interface_inputs_match_numpy(code: str, dtype: str) -> None:
    data = array.array(code, [5, -1, 3, 3, 8, 0, 2])
    tensor = FakeTensor(data, dtype)

    histogram = wandb.Histogram(tensor, num_bins=4)

    assert as_pair(histogram) == expected_of(np.frombuffer(data, dtype=code), 4)


def test_tensors_of_unknown_dtypes_are_refused() -> None:
    tensor = FakeTensor(array.array("f", [1.0]), "torch.complex64")

    with pytest.raises(ValueTypeError, match=r"not a tensor of torch.complex64"):
        wandb.Histogram(tensor)


def test_real_torch_tensors_match_numpy() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    weights = rng.normal(size=(64, 32)).astype(np.float32)
    tensor = torch.tensor(weights, requires_grad=True)

    cases = [
        (tensor, weights),
        (tensor.T, weights.T),
        (tensor[::3], weights[::3]),
        (tensor.half(), weights.astype(np.float16)),
        (tensor.double(), weights.astype(np.float64)),
        (torch.arange(-50, 50), np.arange(-50, 50)),
        (torch.tensor([True, False, True]), np.array([1, 0, 1], dtype=np.uint8)),
        (tensor.bfloat16(), tensor.bfloat16().float().detach().numpy()),
    ]

    for given_tensor, expected in cases:
        assert as_pair(wandb.Histogram(given_tensor, num_bins=20)) == expected_of(
            expected, 20
        )


# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------


def histogram_json(values: Any, num_bins: int) -> dict[str, Any]:
    counts, edges = expected_of(values, num_bins)
    return {"_type": "histogram", "values": counts, "bins": edges}


def test_logged_histograms_and_large_arrays(root: Path) -> None:
    small = np.arange(32.0)
    large = np.linspace(-1, 1, 33)
    tensor = FakeTensor(array.array("f", range(40)), "torch.float32")
    run = wandb.init(project="histograms")

    run.log({"h": wandb.Histogram([1, 2, 3, 7], num_bins=3)})
    run.log({"train": {"w": large}, "small": small, "t": tensor})
    run.finish()

    logged = read(root)
    rows = user_rows(logged)
    assert rows[0]["h"] == histogram_json([1, 2, 3, 7], 3)
    assert rows[1]["train"] == {"w": histogram_json(large, 32)}
    assert rows[1]["small"] == small.tolist()
    assert rows[1]["t"] == histogram_json(np.arange(40, dtype=np.float32), 32)
    assert logged.summary["h"] == histogram_json([1, 2, 3, 7], 3)
    assert logged.summary["train"]["w"] == histogram_json(large, 32)


def test_an_array_that_cannot_be_binned_names_its_key(root: Path) -> None:
    run = wandb.init(project="histograms")
    values = np.array([-1e308, 1e308] * 20)

    with pytest.raises(ValueValueError, match=r"Value of 'train.w' cannot be logged"):
        run.log({"train": {"w": values}})


def test_logging_non_finite_arrays_never_raises(root: Path) -> None:
    values = np.arange(40.0)
    values[3] = np.nan
    run = wandb.init(project="histograms")

    run.log({"w": values})
    run.finish()

    assert user_rows(read(root))[0]["w"] == histogram_json(np.delete(values, 3), 32)


# ---------------------------------------------------------------------------
# Differential: the official client logs the same histograms
# ---------------------------------------------------------------------------

DIFFERENTIAL_SCRIPT = """
import numpy as np

run = wandb.init(project="histograms")
rng = np.random.default_rng(11)
weights = rng.normal(size=500)
run.log({
    "from_list": wandb.Histogram([1, 2, 2, 3, 5.5, -4], num_bins=5),
    "precomputed": wandb.Histogram(np_histogram=np.histogram(weights, bins=12)),
    "array40": np.linspace(-2.0, 3.0, 40),
    "layers": {"fc": {"w": wandb.Histogram(weights)}, "ints": np.arange(50)},
})
run.log({
    "array40": rng.normal(size=40).astype(np.float32),
    "one_value": wandb.Histogram([7.0] * 10, num_bins=8),
    "small": np.arange(10),
})
run.finish()
"""
IGNORED_KEYS = frozenset({"_runtime", "_timestamp", "_wandb"})


def run_with(sdk: str, root: Path) -> Path:
    """Run the differential script with ``sdk``; its run directory."""
    root.mkdir()
    script = root / "script.py"
    script.write_text(f"import {sdk} as wandb\n" + DIFFERENTIAL_SCRIPT)
    env = {name: value for name, value in os.environ.items() if is_inherited(name)}
    out = root / "out"
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=str(out),
        WANDB_CACHE_DIR=str(out / "cache"),
        WANDB_CONFIG_DIR=str(out / "config"),
        WANDB_DATA_DIR=str(out / "data"),
        WANDB_ARTIFACT_DIR=str(out / "artifacts"),
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
        WANDB_BASE_URL="http://127.0.0.1:9",
        WANDB_API_KEY="x" * 40,
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return Path(only_run_dir(out))


def leet_summary(run_dir: Path) -> dict[str, Any]:
    cli = Path(sys.executable).with_name("wandb")
    done = subprocess.run(
        [str(cli), "leet", "inspect", "--summary", "--json", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    summary: dict[str, Any] = json.loads(done.stdout)["summary"]
    return summary


def without_times(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in IGNORED_KEYS}


@pytest.mark.reference
def test_histograms_match_the_official_client(tmp_path: Path) -> None:
    ours = run_with("wandb_core", tmp_path / "ours")
    official = run_with("wandb", tmp_path / "official")

    our_log = read_run(next(ours.glob("*.wandb")))
    official_log = read_run(next(official.glob("*.wandb")))

    assert [without_times(row) for row in our_log.history] == [
        without_times(row) for row in official_log.history
    ]
    assert without_times(our_log.summary) == without_times(official_log.summary)
    assert our_log.history[0]["array40"]["_type"] == "histogram"
    assert without_times(leet_summary(ours)) == without_times(leet_summary(official))
