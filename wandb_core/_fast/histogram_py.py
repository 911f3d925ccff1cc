"""Histogram summarization, pure-Python twin (the readable reference).

``summarize`` turns a buffer of numbers into the counts and bin edges that
``numpy.histogram(values, bins=num_bins)`` returns for the same array,
without numpy. Matching numpy to the last bit means doing its arithmetic
in its precision: edges come from ``numpy.linspace`` in the data's float
type (float64 for integers, float32 for float32 data, float16 for float16
data), and each value's bin is first estimated as
``(x - first) / (last - first) * num_bins`` in that same type, then moved
by at most one bin after comparing the value with the edges; the last bin
is closed on the right. Every float32 and float16 operation is done here
in double precision and rounded to the narrower type after each step,
which gives the same result as computing in the narrower type (a double
holds more than twice their digits, so the second rounding is exact).

Where numpy raises ``ValueError`` for an autodetected range that is not
finite, we leave NaN and infinite values out and count them instead.
``histogram_c.pyx`` mirrors this module and must return the same results.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

MAX_BINS = 512
# Element formats summarize() reads: native floats (float64, float32,
# float16), then signed and unsigned integers of 8, 4, 2 and 1 bytes.
FORMATS = "dfeqQiIhHbB"
FLOAT_FORMATS = "dfe"

Summary = tuple[list[int], list[float], int]
Rounding = Callable[[float], float]


def summarize(values: memoryview, fmt: str, num_bins: int) -> Summary:
    """Count ``values`` into ``num_bins`` equal bins, as numpy.histogram does.

    Args:
        values: a C-contiguous buffer holding native elements of ``fmt``.
        fmt: the struct format of one element, one of ``FORMATS``.
        num_bins: how many bins, from 1 to ``MAX_BINS``.

    Returns:
        ``(counts, edges, left_out)``: ``num_bins`` counts, ``num_bins + 1``
        edges as floats, and how many NaN or infinite values were left out.

    Raises:
        TypeError: ``fmt`` is not one of ``FORMATS``.
        ValueError: ``num_bins`` is out of range, or the values' range cannot
            be split into ``num_bins`` bins (numpy refuses those too).
    """
    check_arguments(fmt, num_bins)
    items = _items(values, fmt)
    if fmt in FLOAT_FORMATS:
        finite = [x for x in items if math.isfinite(x)]
    else:
        finite = items
    left_out = len(items) - len(finite)
    rounding = _ROUNDING[fmt]

    if not finite:
        # numpy bins an empty array over [0, 1], with float64 arithmetic
        # whatever the data type, then casts the edges to that type.
        edges = _linspace(0.0, 1.0, num_bins, None)
        edges = [rounding(edge) for edge in edges] if rounding else edges
        return [0] * num_bins, edges, left_out

    low, high = min(finite), max(finite)
    first, last, denominator = _outer_edges(low, high, fmt)
    width = rounding(last - first) if rounding else last - first
    if not math.isfinite(width):
        msg = (
            f"Histogram values range from {low!r} to {high!r}, too wide a range to "
            f"split into {num_bins} bins of finite width."
        )
        raise ValueError(msg)
    edges = _linspace(first, last, num_bins, rounding)
    _check_edges(edges, low, high, num_bins)
    counts = _count(finite, fmt, first, denominator, edges)
    return counts, edges, left_out


def check_arguments(fmt: str, num_bins: int) -> None:
    """Refuse an element format or a bin count that summarize cannot use."""
    if len(fmt) != 1 or fmt not in FORMATS:
        msg = (
            f"Histogram elements of format {fmt!r} cannot be read; the formats "
            f"read are {', '.join(FORMATS)}."
        )
        raise TypeError(msg)
    if not 1 <= num_bins <= MAX_BINS:
        msg = f"num_bins is {num_bins}; a histogram has from 1 to {MAX_BINS} bins."
        raise ValueError(msg)


def _outer_edges(low: float, high: float, fmt: str) -> tuple[float, float, float]:
    """The first and last edge, and the width numpy divides by.

    One distinct value gets the range ``[value - 0.5, value + 0.5]``. For
    integers numpy subtracts the range ends exactly (as unsigned integers)
    before converting the width to float64.
    """
    rounding = _ROUNDING[fmt]
    if low == high:
        first = float(low) - 0.5
        last = float(high) + 0.5
        if rounding:
            first, last = rounding(first), rounding(last)
        width = last - first
        return first, last, rounding(width) if rounding else width
    if fmt not in FLOAT_FORMATS:
        return float(low), float(high), float(high - low)
    width = high - low
    return low, high, rounding(width) if rounding else width


def _linspace(
    start: float, stop: float, num_bins: int, rounding: Rounding | None
) -> list[float]:
    """``numpy.linspace(start, stop, num_bins + 1)`` in the rounded precision.

    numpy computes ``start + i * step`` with ``step = (stop - start) / n``,
    rounding each operation, and sets the last edge to ``stop``. When the
    step underflows to zero it computes ``start + (i / n) * delta`` instead.
    """
    r = rounding or _exact
    delta = r(stop - start)
    step = r(delta / num_bins)
    if step == 0:
        edges = [r(r(r(i / num_bins) * delta) + start) for i in range(num_bins)]
    else:
        edges = [r(r(i * step) + start) for i in range(num_bins)]
    edges.append(stop)
    return edges


def _check_edges(edges: list[float], low: float, high: float, num_bins: int) -> None:
    """Refuse edges that do not increase, as numpy does."""
    for left, right in zip(edges, edges[1:]):
        if left >= right:
            msg = (
                f"Histogram values range from {low!r} to {high!r}, too narrow a range "
                f"to split into {num_bins} bins with distinct edges; use fewer "
                "bins."
            )
            raise ValueError(msg)


def _count(
    finite: list[float],
    fmt: str,
    first: float,
    denominator: float,
    edges: list[float],
) -> list[int]:
    num_bins = len(edges) - 1
    last_bin = num_bins - 1
    counts = [0] * num_bins
    r = _ROUNDING[fmt] or _exact
    integers = fmt not in FLOAT_FORMATS
    for value in finite:
        # numpy casts the values to the edges' type before binning.
        x = float(value) if integers else value
        index = int(r(r(r(x - first) / denominator) * num_bins))
        if index >= num_bins:
            index = last_bin
        # The estimate can be one bin off near an edge: the edges decide.
        if x < edges[index]:
            index -= 1
        elif index != last_bin and x >= edges[index + 1]:
            index += 1
        if index < 0:  # Defensive: x >= edges[0] always holds
            index = 0
        counts[index] += 1
    return counts


def _items(values: memoryview, fmt: str) -> list[float]:
    # struct reads every format, float16 included (memoryview cannot).
    raw = memoryview(values).cast("B")
    return list(struct.unpack(f"{len(raw) // struct.calcsize(fmt)}{fmt}", raw))


# ---------------------------------------------------------------------------
# Rounding to float32 and float16
# ---------------------------------------------------------------------------


def _exact(value: float) -> float:
    return value


def _round_to_format(value: float, digits: int, min_exponent: int) -> float:
    """Round a double to a binary float with ``digits`` significand bits.

    Ties go to even, subnormals below ``2**min_exponent`` keep a fixed
    quantum, values beyond the largest finite one become infinite, and a
    value that rounds to zero keeps its sign.
    """
    if value == 0 or not math.isfinite(value):
        return value
    max_exponent = 1 - min_exponent
    exponent = math.frexp(value)[1] - 1
    if exponent > max_exponent:
        return math.copysign(math.inf, value)
    quantum = max(exponent, min_exponent) - (digits - 1)
    rounded = math.ldexp(float(round(math.ldexp(value, -quantum))), quantum)
    if abs(rounded) >= math.ldexp(1.0, max_exponent + 1):
        return math.copysign(math.inf, value)
    return math.copysign(rounded, value)


def round_float32(value: float) -> float:
    """``value`` rounded to the nearest float32."""
    return _round_to_format(value, 24, -126)


def round_float16(value: float) -> float:
    """``value`` rounded to the nearest float16."""
    return _round_to_format(value, 11, -14)


_ROUNDING: dict[str, Rounding | None] = {fmt: None for fmt in FORMATS}
_ROUNDING["f"] = round_float32
_ROUNDING["e"] = round_float16
