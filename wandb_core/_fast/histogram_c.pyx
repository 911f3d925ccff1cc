# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Histogram summarization, compiled twin of ``histogram_py``.

Same public names, results and exceptions as the pure twin, which explains
the arithmetic. Two passes over typed memoryviews, without the GIL for
large inputs: one for the range (and whether any value is NaN or
infinite), one to bin. float64 and integer data are binned in double
precision, float32 data in C ``float``, float16 data (read as its bits)
with each operation rounded to float16, as numpy does.
"""

from libc.math cimport (
    INFINITY,
    NAN,
    copysign,
    fabs,
    frexp,
    isfinite,
    ldexp,
    nearbyint,
)
from libc.stdint cimport (
    int8_t,
    int16_t,
    int32_t,
    int64_t,
    uint8_t,
    uint16_t,
    uint32_t,
    uint64_t,
)

# Float32 binning must round every operation to float32, and the edges'
# ``i * step + start`` must not become one fused multiply-add: the product
# goes through a volatile variable.
cdef extern from *:
    """
    #include <float.h>
    #if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD > 0
    #error "histogram_c needs float arithmetic evaluated in its own type"
    #endif
    static double wandb_core_hist_product(double a, double b) {
        volatile double product = a * b;
        return product;
    }
    """
    double wandb_core_hist_product(double a, double b) noexcept nogil

cdef enum:
    BIN_LIMIT = 512
    # Values whose bin estimates are computed together.
    BLOCK = 256
    # Independent accumulators in the range pass.
    LANES = 8

MAX_BINS = BIN_LIMIT
FORMATS = "dfeqQiIhHbB"
FLOAT_FORMATS = "dfe"

# Below this many values, releasing the GIL costs more than it gives.
cdef Py_ssize_t NOGIL_MIN_VALUES = 16384

# Rounding of edge arithmetic: to double (none), float32 or float16.
cdef enum Precision:
    DOUBLE = 0
    SINGLE = 1
    HALF = 2

ctypedef fused int_t:
    int64_t
    uint64_t
    int32_t
    uint32_t
    int16_t
    uint16_t
    int8_t
    uint8_t

ctypedef fused real_t:
    double
    float


def summarize(values, fmt, num_bins):
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
    cdef Py_ssize_t bins = num_bins
    raw = memoryview(values).cast("B")
    if fmt == "d":
        return _summarize_real[double](raw.cast("d"), bins)
    if fmt == "f":
        return _summarize_real[float](raw.cast("f"), bins)
    if fmt == "e":
        return _summarize_half(raw.cast("H"), bins)
    if fmt == "q":
        return _summarize_int[int64_t](raw.cast("q"), bins)
    if fmt == "Q":
        return _summarize_int[uint64_t](raw.cast("Q"), bins)
    if fmt == "i":
        return _summarize_int[int32_t](raw.cast("i"), bins)
    if fmt == "I":
        return _summarize_int[uint32_t](raw.cast("I"), bins)
    if fmt == "h":
        return _summarize_int[int16_t](raw.cast("h"), bins)
    if fmt == "H":
        return _summarize_int[uint16_t](raw.cast("H"), bins)
    if fmt == "b":
        return _summarize_int[int8_t](raw.cast("b"), bins)
    return _summarize_int[uint8_t](raw.cast("B"), bins)


def check_arguments(fmt, num_bins):
    """Refuse an element format or a bin count that summarize cannot use."""
    if len(fmt) != 1 or fmt not in FORMATS:
        msg = (
            f"Histogram elements of format {fmt!r} cannot be read; the formats "
            f"read are {', '.join(FORMATS)}."
        )
        raise TypeError(msg)
    if not 1 <= num_bins <= MAX_BINS:
        msg = (
            f"num_bins is {num_bins}; a histogram has from 1 to {MAX_BINS} bins."
        )
        raise ValueError(msg)


# ---------------------------------------------------------------------------
# Rounding to float32 and float16
# ---------------------------------------------------------------------------


cdef inline double _round_to_format(
    double value, int digits, int min_exponent
) noexcept nogil:
    cdef int max_exponent = 1 - min_exponent
    cdef int exponent
    cdef int quantum
    cdef double rounded
    if value == 0 or not isfinite(value):
        return value
    frexp(value, &exponent)
    exponent -= 1
    if exponent > max_exponent:
        return copysign(INFINITY, value)
    quantum = (exponent if exponent > min_exponent else min_exponent) - (digits - 1)
    # nearbyint rounds ties to even in the default rounding mode.
    rounded = ldexp(nearbyint(ldexp(value, -quantum)), quantum)
    if fabs(rounded) >= ldexp(1.0, max_exponent + 1):
        return copysign(INFINITY, value)
    return copysign(rounded, value)


cpdef double round_float32(double value) noexcept:
    """``value`` rounded to the nearest float32."""
    return _round_to_format(value, 24, -126)


cpdef double round_float16(double value) noexcept:
    """``value`` rounded to the nearest float16."""
    return _round_to_format(value, 11, -14)


cdef inline double _rounded(double value, Precision precision) noexcept nogil:
    if precision == SINGLE:
        return <double><float>value
    if precision == HALF:
        return _round_to_format(value, 11, -14)
    return value


cdef inline double _half_value(uint16_t bits) noexcept nogil:
    cdef int exponent = (bits >> 10) & 0x1F
    cdef int fraction = bits & 0x3FF
    cdef double magnitude
    if exponent == 0x1F:
        magnitude = NAN if fraction else INFINITY
    elif exponent == 0:
        magnitude = ldexp(<double>fraction, -24)
    else:
        magnitude = ldexp(<double>(fraction | 0x400), exponent - 25)
    return -magnitude if bits & 0x8000 else magnitude


# ---------------------------------------------------------------------------
# Edges, as in the pure twin
# ---------------------------------------------------------------------------


cdef void _linspace(
    double start, double stop, Py_ssize_t num_bins, Precision precision,
    double* edges
) noexcept nogil:
    cdef double delta = _rounded(stop - start, precision)
    cdef double step = _rounded(delta / num_bins, precision)
    cdef double fraction
    cdef Py_ssize_t i
    if step == 0:
        for i in range(num_bins):
            fraction = _rounded(<double>i / <double>num_bins, precision)
            edges[i] = _rounded(
                _rounded(wandb_core_hist_product(fraction, delta), precision)
                + start,
                precision,
            )
    else:
        for i in range(num_bins):
            edges[i] = _rounded(
                _rounded(wandb_core_hist_product(<double>i, step), precision)
                + start,
                precision,
            )
    edges[num_bins] = stop


cdef object _finish(
    double* edges, int64_t* counts, Py_ssize_t num_bins, Py_ssize_t left_out
):
    return (
        [counts[i] for i in range(num_bins)],
        [edges[i] for i in range(num_bins + 1)],
        left_out,
    )


cdef object _empty(Py_ssize_t num_bins, Precision precision, Py_ssize_t left_out):
    # numpy bins an empty array over [0, 1] in float64, then casts the edges.
    cdef double edges[BIN_LIMIT + 1]
    cdef int64_t counts[BIN_LIMIT]
    cdef Py_ssize_t i
    _linspace(0.0, 1.0, num_bins, DOUBLE, edges)
    for i in range(num_bins + 1):
        edges[i] = _rounded(edges[i], precision)
    for i in range(num_bins):
        counts[i] = 0
    return _finish(edges, counts, num_bins, left_out)


cdef int _check_range(
    double first, double last, low, high, Py_ssize_t num_bins,
    Precision precision, double* edges
) except -1:
    cdef Py_ssize_t i
    if not isfinite(_rounded(last - first, precision)):
        msg = (
            f"Histogram values range from {low!r} to {high!r}, too wide a range to "
            f"split into {num_bins} bins of finite width."
        )
        raise ValueError(msg)
    _linspace(first, last, num_bins, precision, edges)
    for i in range(num_bins):
        if edges[i] >= edges[i + 1]:
            msg = (
                f"Histogram values range from {low!r} to {high!r}, too narrow a range "
                f"to split into {num_bins} bins with distinct edges; use fewer "
                "bins."
            )
            raise ValueError(msg)
    return 0


# ---------------------------------------------------------------------------
# float64 and float32
# ---------------------------------------------------------------------------


cdef Py_ssize_t _real_range(
    const real_t[::1] values, real_t* low, real_t* high
) noexcept nogil:
    """Smallest and largest finite value; returns how many are not finite.

    Ties keep the first value found, as Python's min and max do (it only
    shows in the sign of a zero).
    """
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t i, j
    cdef Py_ssize_t left_out = 0
    cdef bint seen = False
    cdef real_t x
    cdef real_t probe[LANES]
    cdef real_t lows[LANES]
    cdef real_t highs[LANES]
    # Independent lanes, written so that the compiler turns each step into
    # vector min, max and add; x - x is NaN exactly when x is NaN or
    # infinite, and a NaN sticks in the sum.
    for j in range(LANES):
        probe[j] = 0
        lows[j] = values[0]
        highs[j] = values[0]
    for i in range(0, n - 7, 8):  # 8 == LANES; Cython needs a literal step
        for j in range(LANES):
            x = values[i + j]
            probe[j] = probe[j] + (x - x)
            lows[j] = x if x < lows[j] else lows[j]
            highs[j] = x if x > highs[j] else highs[j]
    for i in range(n - n % LANES, n):
        x = values[i]
        probe[0] = probe[0] + (x - x)
        lows[0] = x if x < lows[0] else lows[0]
        highs[0] = x if x > highs[0] else highs[0]
    for j in range(1, LANES):
        probe[0] += probe[j]
        lows[0] = lows[j] if lows[j] < lows[0] else lows[0]
        highs[0] = highs[j] if highs[j] > highs[0] else highs[0]
    if probe[0] == 0:
        low[0] = _first_equal(values, lows[0]) if lows[0] == 0 else lows[0]
        high[0] = _first_equal(values, highs[0]) if highs[0] == 0 else highs[0]
        return 0

    # Some values are NaN or infinite: count them and look again.
    for i in range(n):
        x = values[i]
        if not isfinite(x):
            left_out += 1
            continue
        if not seen or x < low[0]:
            low[0] = x
        if not seen or x > high[0]:
            high[0] = x
        seen = True
    return left_out


cdef real_t _first_equal(const real_t[::1] values, real_t value) noexcept nogil:
    # Zeros compare equal whatever their sign: take the first one's.
    cdef Py_ssize_t i
    for i in range(values.shape[0]):
        if values[i] == value:
            return values[i]
    return value


cdef object _summarize_real(const real_t[::1] values, Py_ssize_t num_bins):
    cdef Py_ssize_t n = values.shape[0]
    cdef Precision precision = DOUBLE if real_t is double else SINGLE
    cdef real_t low = 0, high = 0
    cdef Py_ssize_t left_out = 0
    cdef double first, last, denominator
    cdef double edges[BIN_LIMIT + 1]
    cdef int64_t counts[BIN_LIMIT]
    if n == 0:
        return _empty(num_bins, precision, 0)
    if n >= NOGIL_MIN_VALUES:
        with nogil:
            left_out = _real_range(values, &low, &high)
    else:
        left_out = _real_range(values, &low, &high)
    if left_out == n:
        return _empty(num_bins, precision, left_out)

    first = low
    last = high
    if low == high:
        first = _rounded(first - 0.5, precision)
        last = _rounded(last + 0.5, precision)
    denominator = _rounded(last - first, precision)
    _check_range(first, last, low, high, num_bins, precision, edges)
    if n >= NOGIL_MIN_VALUES:
        with nogil:
            _count_real(
                values, <real_t>first, <real_t>denominator, edges, num_bins,
                left_out != 0, counts,
            )
    else:
        _count_real(
            values, <real_t>first, <real_t>denominator, edges, num_bins,
            left_out != 0, counts,
        )
    return _finish(edges, counts, num_bins, left_out)


cdef void _count_real(
    const real_t[::1] values, real_t first, real_t denominator, double* edges,
    Py_ssize_t num_bins, bint skip_nonfinite, int64_t* counts
) noexcept nogil:
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t last_bin = num_bins - 1
    cdef Py_ssize_t i, k, size, index
    cdef real_t x
    cdef real_t bins = <real_t>num_bins
    cdef const real_t* block
    cdef int estimates[BLOCK]
    # lower[j] and upper[j] bound bin j; the last bin is closed on the
    # right, so its upper bound never moves a value up.
    cdef real_t lower[BIN_LIMIT]
    cdef real_t upper[BIN_LIMIT]
    # One spare count before the first, so that an impossible index -1
    # cannot write outside the array.
    cdef int64_t tallies[BIN_LIMIT + 1]
    cdef int64_t* tally = &tallies[1]
    for i in range(num_bins):
        lower[i] = <real_t>edges[i]
        upper[i] = <real_t>edges[i + 1]
        tallies[i + 1] = 0
    upper[last_bin] = INFINITY
    i = 0
    while i < n:
        size = BLOCK if n - i > BLOCK else n - i
        block = &values[i]
        # The estimates alone, in a loop the compiler vectorizes; each
        # operation in real_t, as numpy computes it.
        for k in range(size):
            estimates[k] = <int>((block[k] - first) / denominator * bins)
        for k in range(size):
            x = block[k]
            if skip_nonfinite and not isfinite(x):
                continue
            index = estimates[k]
            if index > last_bin:
                index = last_bin
            elif index < 0:  # Defensive: only if another thread changes values
                index = 0
            # The estimate can be one bin off near an edge: the edges decide.
            if x < lower[index]:
                index -= 1
            elif x >= upper[index]:
                index += 1
            tally[index] += 1
        i += size
    for i in range(num_bins):
        counts[i] = tally[i]


# ---------------------------------------------------------------------------
# float16, read as its bits
# ---------------------------------------------------------------------------


cdef object _summarize_half(const uint16_t[::1] values, Py_ssize_t num_bins):
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t left_out = 0
    cdef double low = 0, high = 0
    cdef double first, last, denominator
    cdef double edges[BIN_LIMIT + 1]
    cdef int64_t counts[BIN_LIMIT]
    left_out = _half_range(values, &low, &high)
    if left_out == n:
        return _empty(num_bins, HALF, left_out)

    first = low
    last = high
    if low == high:
        first = _rounded(first - 0.5, HALF)
        last = _rounded(last + 0.5, HALF)
    denominator = _rounded(last - first, HALF)
    _check_range(first, last, low, high, num_bins, HALF, edges)
    _count_half(values, first, denominator, edges, num_bins, counts)
    return _finish(edges, counts, num_bins, left_out)


cdef Py_ssize_t _half_range(
    const uint16_t[::1] values, double* low, double* high
) noexcept:
    # float16 data is rare and small: no GIL release, no unrolling.
    cdef Py_ssize_t i
    cdef Py_ssize_t left_out = 0
    cdef bint seen = False
    cdef double x
    for i in range(values.shape[0]):
        x = _half_value(values[i])
        if not isfinite(x):
            left_out += 1
            continue
        if not seen or x < low[0]:
            low[0] = x
        if not seen or x > high[0]:
            high[0] = x
        seen = True
    return left_out


cdef void _count_half(
    const uint16_t[::1] values, double first, double denominator,
    double* edges, Py_ssize_t num_bins, int64_t* counts
) noexcept nogil:
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t last_bin = num_bins - 1
    cdef Py_ssize_t i, index
    cdef double x
    for i in range(num_bins):
        counts[i] = 0
    for i in range(n):
        x = _half_value(values[i])
        if not isfinite(x):
            continue
        index = <Py_ssize_t>_rounded(
            _rounded(_rounded(x - first, HALF) / denominator, HALF) * num_bins,
            HALF,
        )
        if index >= num_bins:
            index = last_bin
        elif index < 0:  # Defensive: only if another thread changes values
            index = 0
        if x < edges[index]:
            index -= 1
        elif index != last_bin and x >= edges[index + 1]:
            index += 1
        if index < 0:  # Defensive: x >= edges[0] always holds
            index = 0
        counts[index] += 1


# ---------------------------------------------------------------------------
# Integers: binned in double precision, with the exact integer width
# ---------------------------------------------------------------------------


cdef object _summarize_int(const int_t[::1] values, Py_ssize_t num_bins):
    cdef Py_ssize_t n = values.shape[0]
    cdef int_t low, high
    cdef double first, last, denominator
    cdef double edges[BIN_LIMIT + 1]
    cdef int64_t counts[BIN_LIMIT]
    if n == 0:
        return _empty(num_bins, DOUBLE, 0)
    low = values[0]
    high = values[0]
    if n >= NOGIL_MIN_VALUES:
        with nogil:
            _int_range(values, &low, &high)
    else:
        _int_range(values, &low, &high)

    if low == high:
        first = <double>low - 0.5
        last = <double>high + 0.5
        denominator = last - first
    else:
        first = <double>low
        last = <double>high
        # numpy subtracts the ends as unsigned integers, exactly.
        denominator = <double>(<uint64_t>high - <uint64_t>low)
    _check_range(first, last, low, high, num_bins, DOUBLE, edges)
    if n >= NOGIL_MIN_VALUES:
        with nogil:
            _count_int(values, first, denominator, edges, num_bins, counts)
    else:
        _count_int(values, first, denominator, edges, num_bins, counts)
    return _finish(edges, counts, num_bins, 0)


cdef void _int_range(const int_t[::1] values, int_t* low, int_t* high) noexcept nogil:
    cdef Py_ssize_t i
    cdef int_t x
    for i in range(values.shape[0]):
        x = values[i]
        if x < low[0]:
            low[0] = x
        if x > high[0]:
            high[0] = x


cdef void _count_int(
    const int_t[::1] values, double first, double denominator, double* edges,
    Py_ssize_t num_bins, int64_t* counts
) noexcept nogil:
    # As _count_real, with each value converted to double first.
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t last_bin = num_bins - 1
    cdef Py_ssize_t i, k, size, index
    cdef double x
    cdef double bins = <double>num_bins
    cdef const int_t* block
    cdef int estimates[BLOCK]
    cdef double lower[BIN_LIMIT]
    cdef double upper[BIN_LIMIT]
    cdef int64_t tallies[BIN_LIMIT + 1]
    cdef int64_t* tally = &tallies[1]
    for i in range(num_bins):
        lower[i] = edges[i]
        upper[i] = edges[i + 1]
        tallies[i + 1] = 0
    upper[last_bin] = INFINITY
    i = 0
    while i < n:
        size = BLOCK if n - i > BLOCK else n - i
        block = &values[i]
        for k in range(size):
            estimates[k] = <int>((<double>block[k] - first) / denominator * bins)
        for k in range(size):
            x = <double>block[k]
            index = estimates[k]
            if index > last_bin:
                index = last_bin
            elif index < 0:  # Defensive: only if another thread changes values
                index = 0
            if x < lower[index]:
                index -= 1
            elif x >= upper[index]:
                index += 1
            tally[index] += 1
        i += size
    for i in range(num_bins):
        counts[i] = tally[i]
