"""``wandb_core.Histogram``: the official client's ``wandb.Histogram``, faster.

The counts and edges are those of ``numpy.histogram(values, bins=num_bins)``
for the same data; the histogram twin of ``wandb_core._fast`` computes them
without numpy. This module only brings every kind of input to that twin as
one C-contiguous buffer and the struct format of its elements: numpy arrays
and other buffers as they are (copied only when strided or byte-swapped),
lists and tuples through ``array.array``, torch tensors through their CPU
memory. Neither numpy nor torch is imported here; their objects are
recognised by their type's module.

Unlike numpy (and the official client, which raises), NaN and infinite
values are left out of the bins and counted; the first histogram that
leaves any out says so once on the terminal and in the debug log.
"""

from __future__ import annotations

import array
import logging
import operator
import struct
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from wandb_core import _term
from wandb_core.errors import ValueTypeError, ValueValueError

logger = logging.getLogger(__name__)

Path = tuple[str, ...]

MAX_LENGTH = 512
DEFAULT_BINS = 64
_LOG_TYPE = "histogram"

# Element format that the twin reads, by numpy dtype kind and item size.
_FORMAT_BY_KIND = {
    ("f", 8): "d",
    ("f", 4): "f",
    ("f", 2): "e",
    ("i", 8): "q",
    ("i", 4): "i",
    ("i", 2): "h",
    ("i", 1): "b",
    ("u", 8): "Q",
    ("u", 4): "I",
    ("u", 2): "H",
    ("u", 1): "B",
    # numpy bins booleans as uint8.
    ("b", 1): "B",
}
# Kind of each struct format code a buffer may declare.
_KIND_BY_CODE = {
    "d": "f",
    "f": "f",
    "e": "f",
    "q": "i",
    "l": "i",
    "n": "i",
    "i": "i",
    "h": "i",
    "b": "i",
    "Q": "u",
    "L": "u",
    "N": "u",
    "I": "u",
    "H": "u",
    "B": "u",
    "?": "b",
}
_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"
# Element format of each torch dtype, by its name; bfloat16 is widened to
# float32 first (exactly), as numpy has no bfloat16.
_TORCH_FORMATS = {
    "torch.float64": "d",
    "torch.float32": "f",
    "torch.float16": "e",
    "torch.int64": "q",
    "torch.int32": "i",
    "torch.int16": "h",
    "torch.int8": "b",
    "torch.uint64": "Q",
    "torch.uint32": "I",
    "torch.uint16": "H",
    "torch.uint8": "B",
    "torch.bool": "B",
}

_nonfinite_reported = False
_report_lock = threading.Lock()


class Histogram:
    """A histogram, logged as the official client logs ``wandb.Histogram``.

    Build it from data, as ``numpy.histogram(sequence, bins=num_bins)``
    would count it, or from counts and edges computed elsewhere::

        wandb.Histogram(weights)
        wandb.Histogram(np_histogram=numpy.histogram(weights, bins=20))

    Attributes:
        histogram: the count of each bin.
        bins: the bin edges, one more than the counts; the last bin holds
            values equal to its right edge.
        nonfinite: how many NaN or infinite values were left out of the bins.
    """

    MAX_LENGTH = MAX_LENGTH

    histogram: list[Any]
    bins: list[Any]
    nonfinite: int

    def __init__(
        self,
        sequence: Any = None,
        np_histogram: Any = None,
        num_bins: int = DEFAULT_BINS,
    ) -> None:
        """Count ``sequence`` into bins, or take a precomputed histogram.

        Args:
            sequence: numbers: a list or tuple (nested ones are flattened),
                a numpy array of any real dtype, a CPU or GPU torch tensor,
                or any buffer such as ``array.array`` or ``memoryview``.
            np_histogram: ``(values, bin_edges)`` as ``numpy.histogram``
                returns them; ``sequence`` is then ignored.
            num_bins: how many equal bins, from 1 to 512.

        Raises:
            ValueTypeError: the values are not numbers, or ``num_bins`` is
                not an integer.
            ValueValueError: ``num_bins`` is out of range, the range of the
                values cannot be split into that many bins (numpy refuses
                those too), or ``np_histogram`` is malformed.
        """
        self.nonfinite = 0
        if np_histogram is not None:
            self.histogram, self.bins = _precomputed(np_histogram)
            return
        if sequence is None:
            msg = (
                "Histogram needs a sequence of values or an np_histogram pair "
                "(values, bin_edges); both are None."
            )
            raise ValueTypeError(msg)

        bins = _bin_count(num_bins)
        # `owner` holds the memory `buffer` points into until we are done.
        buffer, fmt, owner = buffer_of(sequence)
        try:
            counts, edges, nonfinite = _summarize(buffer, fmt, bins)
        except ValueError as error:
            raise ValueValueError(str(error)) from None
        del owner
        self.histogram = counts
        self.bins = edges
        self.nonfinite = nonfinite
        if nonfinite:
            _report_nonfinite(nonfinite, len(buffer) // struct.calcsize(fmt))

    def to_json(self, run: Any = None) -> dict[str, Any]:
        """The histogram as it is stored in history, summary and tables."""
        return {
            "_type": _LOG_TYPE,
            "values": list(self.histogram),
            "bins": list(self.bins),
        }

    def _wandb_core_log_value(self, run: Any, path: Path, step: int) -> dict[str, Any]:
        return self.to_json(run)

    def _wandb_core_table_cell(
        self, run: Any, table_key: str
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return self.to_json(run), []

    def __repr__(self) -> str:
        low = self.bins[0] if self.bins else None
        high = self.bins[-1] if self.bins else None
        return f"<Histogram {len(self.histogram)} bins from {low!r} to {high!r}>"


def histogram_json(path: Path, value: Any, num_bins: int) -> dict[str, Any]:
    """The logged form of ``Histogram(value, num_bins=num_bins)`` under ``path``.

    Raises:
        ValueValueError: the values cannot be binned; the message names the key.
    """
    try:
        return Histogram(value, num_bins=num_bins).to_json()
    except ValueValueError as error:
        key = repr(".".join(path)) if path else "the value"
        msg = f"Value of {key} cannot be logged as a histogram: {error}"
        raise ValueValueError(msg) from None


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


def _summarize(buffer: memoryview, fmt: str, num_bins: int) -> Any:
    from wandb_core._fast import histogram

    return histogram.summarize(buffer, fmt, num_bins)


def _bin_count(num_bins: Any) -> int:
    try:
        bins = operator.index(num_bins)
    except TypeError:
        msg = (
            f"Histogram num_bins must be an integer, not "
            f"{type(num_bins).__name__} {num_bins!r}."
        )
        raise ValueTypeError(msg) from None
    if not 1 <= bins <= MAX_LENGTH:
        msg = f"Histogram num_bins is {bins}; it must be from 1 to {MAX_LENGTH}."
        raise ValueValueError(msg)
    return bins


def _precomputed(np_histogram: Any) -> tuple[list[Any], list[Any]]:
    try:
        values, edges = np_histogram
    except (TypeError, ValueError):
        msg = (
            "Histogram np_histogram must be a pair (values, bin_edges) as "
            f"numpy.histogram returns it, not {type(np_histogram).__name__}."
        )
        raise ValueTypeError(msg) from None
    counts, bins = _plain_list(values, "values"), _plain_list(edges, "bin_edges")
    if len(counts) > MAX_LENGTH:
        msg = (
            f"Histogram np_histogram has {len(counts)} values; a histogram has "
            f"at most {MAX_LENGTH} bins."
        )
        raise ValueValueError(msg)
    if len(bins) != len(counts) + 1:
        msg = (
            f"Histogram np_histogram has {len(counts)} values and {len(bins)} "
            "bin edges; there must be one more edge than values."
        )
        raise ValueValueError(msg)
    return counts, bins


def _plain_list(items: Any, name: str) -> list[Any]:
    if hasattr(items, "tolist"):  # numpy arrays and torch tensors
        items = items.tolist()
    try:
        return list(items)
    except TypeError:
        msg = (
            f"Histogram np_histogram {name} must be a sequence of numbers, not "
            f"{type(items).__name__}."
        )
        raise ValueTypeError(msg) from None


def _report_nonfinite(nonfinite: int, total: int) -> None:
    global _nonfinite_reported

    with _report_lock:
        first = not _nonfinite_reported
        _nonfinite_reported = True
    if not first:
        logger.debug("Histogram left out %d NaN or infinite values", nonfinite)
        return
    logger.warning(
        "Histogram left out %d NaN or infinite values of %d; later ones are "
        "left out without a warning",
        nonfinite,
        total,
    )
    _term.warn(
        f"A histogram left out {nonfinite} NaN or infinite values of {total}; "
        "histograms count finite values only (later ones are not reported)."
    )


# ---------------------------------------------------------------------------
# Inputs as buffers
# ---------------------------------------------------------------------------


def buffer_of(values: Any) -> tuple[memoryview, str, Any]:
    """``values`` as a C-contiguous buffer and the format of its elements.

    Returns:
        ``(buffer, fmt, owner)``: ``owner`` keeps alive the memory that
        ``buffer`` points into (a tensor's, for instance).

    Raises:
        ValueTypeError: the values are not real numbers.
        ValueValueError: integers too large for 64 bits.
    """
    module = type(values).__module__
    if module.startswith("torch") and hasattr(values, "data_ptr"):
        return _tensor_buffer(values)
    if module.startswith("numpy") and hasattr(values, "dtype"):
        return _numpy_buffer(values)
    if isinstance(values, str):
        msg = "Histogram values must be numbers, not a str."
        raise ValueTypeError(msg)
    try:
        view = memoryview(values)
    except TypeError:
        return _sequence_buffer(values)
    return _plain_buffer(view)


def _numpy_buffer(values: Any) -> tuple[memoryview, str, Any]:
    dtype = values.dtype
    kind = dtype.kind
    if kind == "O":
        return _number_buffer(values.ravel().tolist())
    if kind == "f" and dtype.itemsize > 8:
        # TODO: numpy bins long doubles in their own precision; we bin them
        # as float64, which can put a value next to an edge one bin over.
        values = values.astype("float64")
        dtype = values.dtype
    fmt = _FORMAT_BY_KIND.get((kind, dtype.itemsize))
    if fmt is None:
        msg = f"Histogram values must be real numbers, not numpy {dtype}."
        raise ValueTypeError(msg)
    if not dtype.isnative:
        values = values.astype(dtype.newbyteorder("="))
    if not values.flags.c_contiguous:
        values = values.copy(order="C")
    return memoryview(values).cast("B"), fmt, values


def _tensor_buffer(tensor: Any) -> tuple[memoryview, str, Any]:
    import ctypes

    if hasattr(tensor, "detach"):
        tensor = tensor.detach()
    tensor = tensor.cpu()
    name = str(tensor.dtype)
    if name == "torch.bfloat16":
        tensor = tensor.float()
        name = "torch.float32"
    fmt = _TORCH_FORMATS.get(name)
    if fmt is None:
        msg = f"Histogram values must be real numbers, not a tensor of {name}."
        raise ValueTypeError(msg)
    tensor = tensor.contiguous()
    size = tensor.numel() * tensor.element_size()
    if size == 0:
        return memoryview(b""), fmt, tensor
    # The tensor's own memory, without a copy; `tensor` keeps it alive.
    memory = (ctypes.c_ubyte * size).from_address(tensor.data_ptr())
    return memoryview(memory).cast("B"), fmt, (tensor, memory)


def _plain_buffer(view: memoryview) -> tuple[memoryview, str, Any]:
    spec = view.format
    order, code = (spec[0], spec[1:]) if spec[0] in "@=<>!" else ("@", spec)
    kind = _KIND_BY_CODE.get(code)
    fmt = _FORMAT_BY_KIND.get((kind, view.itemsize)) if kind else None
    if fmt is None:
        msg = f"Histogram values must be real numbers, not a buffer of {spec!r}."
        raise ValueTypeError(msg)
    if order in ("<", ">", "!") and order.replace("!", ">") != _NATIVE_ORDER:
        return _swapped_buffer(view, fmt)
    if view.ndim != 1 or not view.c_contiguous:
        data = view.tobytes()  # logical order, one dimension
        return memoryview(data), fmt, data
    return view.cast("B"), fmt, view


def _swapped_buffer(view: memoryview, fmt: str) -> tuple[memoryview, str, Any]:
    data = bytearray(view.tobytes())
    size = view.itemsize
    for start in range(0, len(data), size):
        data[start : start + size] = data[start : start + size][::-1]
    return memoryview(data), fmt, data


def _sequence_buffer(values: Any) -> tuple[memoryview, str, Any]:
    if isinstance(values, (int, float)):
        return _number_buffer([values])
    items = values if isinstance(values, (list, tuple)) else _as_list(values)
    if items and type(items[0]).__module__.startswith("numpy"):
        # numpy keeps the type of numpy scalars (float32 stays float32).
        import numpy

        return _numpy_buffer(numpy.asarray(items))
    return _number_buffer(items)


def _number_buffer(items: Sequence[Any]) -> tuple[memoryview, str, Any]:
    for code in ("q", "d"):  # as numpy: int64 unless a float is present
        try:
            data = array.array(code, items)
        except TypeError:
            continue
        except OverflowError:
            return _large_integers(items)
        return memoryview(data).cast("B"), data.typecode, data
    if any(isinstance(item, (list, tuple)) for item in items):
        return _number_buffer(list(_flatten(items)))
    kinds = sorted({type(item).__name__ for item in items if not _is_number(item)})
    msg = f"Histogram values must be numbers, not {', '.join(kinds)}."
    raise ValueTypeError(msg)


def _as_list(values: Any) -> list[Any]:
    try:
        return list(values)
    except TypeError:
        msg = (
            "Histogram values must be a sequence of numbers, not "
            f"{type(values).__name__}."
        )
        raise ValueTypeError(msg) from None


def _large_integers(items: Sequence[Any]) -> tuple[memoryview, str, Any]:
    # numpy makes uint64 of non-negative integers beyond int64.
    try:
        data = array.array("Q", items)
    except (OverflowError, TypeError):
        msg = (
            "Histogram values include integers beyond 64 bits (from -2**63 "
            "to 2**64 - 1); convert them to float first."
        )
        raise ValueValueError(msg) from None
    return memoryview(data).cast("B"), "Q", data


def _flatten(items: Iterable[Any]) -> Iterable[Any]:
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def _is_number(item: Any) -> bool:
    try:
        float(item)
    except (TypeError, ValueError):
        return False
    return not isinstance(item, (str, bytes))
