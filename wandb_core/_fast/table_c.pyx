# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Table rows: type checks per column and JSON text, compiled twin.

Same public names, results, exceptions and bytes as ``table_py``, the
readable reference, whose docstring explains the two JSON styles. Rows are
written into one growable C buffer: None, booleans, ints, floats and
strings directly, lists and dicts recursively, anything else through the
caller's ``convert``. Floats get their shortest round-trip digits from the
Ryu algorithm (Adams, "Ryu: fast float-to-string conversion", PLDI 2018),
written out below in C: ``repr`` costs several times more, and the digits
are the same (the tests compare both on millions of doubles).
"""

import hashlib

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.math cimport INFINITY
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

from wandb_core.errors import ValueTypeError, ValueValueError

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL
    bint PyUnicode_IS_ASCII(object)
    void* PyUnicode_DATA(object)
    int PyUnicode_KIND(object)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    bint PyUnicode_Check(object)
    bint PyFloat_Check(object)
    bint PyLong_Check(object)
    bint PyBool_Check(object)
    double PyFloat_AS_DOUBLE(object)
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>

    #define WC_POW5_INV_BITCOUNT 125
    #define WC_POW5_BITCOUNT 125

    /* 5**i scaled to 125 bits, and 2**k / 5**i rounded up, as {low, high};
       filled from Python integers when the module loads. */
    static uint64_t wc_pow5_inv[342][2];
    static uint64_t wc_pow5[326][2];

    static inline uint32_t wc_pow5bits(int32_t e) {
        return (uint32_t)((((uint32_t)e) * 1217359u) >> 19) + 1u;
    }
    static inline uint32_t wc_log10_pow2(int32_t e) {
        return (((uint32_t)e) * 78913u) >> 18;
    }
    static inline uint32_t wc_log10_pow5(int32_t e) {
        return (((uint32_t)e) * 732923u) >> 20;
    }
    static inline uint32_t wc_pow5_factor(uint64_t value) {
        uint32_t count = 0;
        while (value % 5 == 0) {
            value /= 5;
            count++;
        }
        return count;
    }
    static inline uint64_t wc_umul128(uint64_t a, uint64_t b, uint64_t *high) {
    #if defined(__SIZEOF_INT128__)
        __uint128_t product = (__uint128_t)a * b;
        *high = (uint64_t)(product >> 64);
        return (uint64_t)product;
    #else
        uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
        uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
        uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo;
        uint64_t lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
        uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
        *high = hi_hi + (hi_lo >> 32) + (cross >> 32);
        return (cross << 32) | (uint32_t)lo_lo;
    #endif
    }
    /* (m * mul) >> shift for 64 <= shift < 128, mul as {low, high}. */
    static inline uint64_t wc_mul_shift(uint64_t m, const uint64_t *mul,
                                        int32_t shift) {
        uint64_t high0, high1, sum, low1;
        wc_umul128(m, mul[0], &high0);
        low1 = wc_umul128(m, mul[1], &high1);
        sum = high0 + low1;
        if (sum < high0) high1++;
        shift -= 64;
        if (shift == 0) return sum;
        return (high1 << (64 - shift)) | (sum >> shift);
    }

    /* The shortest digits that read back as the double: the value is
       *digits times ten to the returned power. */
    static int32_t wc_shortest(uint64_t ieee_mantissa, uint32_t ieee_exponent,
                               uint64_t *digits) {
        int32_t e2, e10, removed = 0;
        uint64_t m2, mv, vr, vp, vm, output;
        uint32_t mm_shift, q, last_removed = 0;
        int accept, vm_zeros = 0, vr_zeros = 0, round_up = 0;

        if (ieee_exponent == 0) {
            e2 = 1 - 1023 - 52 - 2;
            m2 = ieee_mantissa;
        } else {
            e2 = (int32_t)ieee_exponent - 1023 - 52 - 2;
            m2 = ((uint64_t)1 << 52) | ieee_mantissa;
        }
        /* Whole numbers below 2**53: their digits without trailing zeros. */
        if (ieee_exponent != 0 && e2 + 2 <= 0 && e2 + 2 >= -52) {
            uint64_t mask = ((uint64_t)1 << -(e2 + 2)) - 1;
            if ((m2 & mask) == 0) {
                output = m2 >> -(e2 + 2);
                e10 = 0;
                while (output % 10 == 0) {
                    output /= 10;
                    e10++;
                }
                *digits = output;
                return e10;
            }
        }
        /* The interval of decimals that round to the double, times four;
           its bounds belong to it when the mantissa is even. */
        accept = (m2 & 1) == 0;
        mv = 4 * m2;
        mm_shift = ieee_mantissa != 0 || ieee_exponent <= 1;
        if (e2 >= 0) {
            int32_t k, i;
            q = wc_log10_pow2(e2) - (e2 > 3);
            e10 = (int32_t)q;
            k = WC_POW5_INV_BITCOUNT + (int32_t)wc_pow5bits((int32_t)q) - 1;
            i = -e2 + (int32_t)q + k;
            vr = wc_mul_shift(mv, wc_pow5_inv[q], i);
            vp = wc_mul_shift(mv + 2, wc_pow5_inv[q], i);
            vm = wc_mul_shift(mv - 1 - mm_shift, wc_pow5_inv[q], i);
            if (q <= 21) {
                if (mv % 5 == 0) {
                    vr_zeros = wc_pow5_factor(mv) >= q;
                } else if (accept) {
                    vm_zeros = wc_pow5_factor(mv - 1 - mm_shift) >= q;
                } else {
                    vp -= wc_pow5_factor(mv + 2) >= q;
                }
            }
        } else {
            int32_t k, i, j;
            q = wc_log10_pow5(-e2) - (-e2 > 1);
            e10 = (int32_t)q + e2;
            i = -e2 - (int32_t)q;
            k = (int32_t)wc_pow5bits(i) - WC_POW5_BITCOUNT;
            j = (int32_t)q - k;
            vr = wc_mul_shift(mv, wc_pow5[i], j);
            vp = wc_mul_shift(mv + 2, wc_pow5[i], j);
            vm = wc_mul_shift(mv - 1 - mm_shift, wc_pow5[i], j);
            if (q <= 1) {
                vr_zeros = 1;
                if (accept) {
                    vm_zeros = mm_shift == 1;
                } else {
                    vp--;
                }
            } else if (q < 63) {
                vr_zeros = (mv & (((uint64_t)1 << q) - 1)) == 0;
            }
        }
        /* Drop digits while the interval still holds a shorter decimal. */
        if (vm_zeros || vr_zeros) {
            while (vp / 10 > vm / 10) {
                vm_zeros &= vm % 10 == 0;
                vr_zeros &= last_removed == 0;
                last_removed = (uint32_t)(vr % 10);
                vr /= 10;
                vp /= 10;
                vm /= 10;
                removed++;
            }
            if (vm_zeros) {
                while (vm % 10 == 0) {
                    vr_zeros &= last_removed == 0;
                    last_removed = (uint32_t)(vr % 10);
                    vr /= 10;
                    vp /= 10;
                    vm /= 10;
                    removed++;
                }
            }
            if (vr_zeros && last_removed == 5 && vr % 2 == 0) {
                last_removed = 4; /* an exact tie rounds to even */
            }
            output = vr + ((vr == vm && (!accept || !vm_zeros))
                           || last_removed >= 5);
        } else {
            if (vp / 100 > vm / 100) {
                round_up = vr % 100 >= 50;
                vr /= 100;
                vp /= 100;
                vm /= 100;
                removed += 2;
            }
            while (vp / 10 > vm / 10) {
                round_up = vr % 10 >= 5;
                vr /= 10;
                vp /= 10;
                vm /= 10;
                removed++;
            }
            output = vr + (vr == vm || round_up);
        }
        *digits = output;
        return e10 + removed;
    }

    /* A finite double as repr writes it (python_style), or as
       pydantic-core does: the same digits, fixed notation from decimal
       exponent -5 (not -4), negative exponents without zero padding.
       At most 25 characters. */
    static Py_ssize_t wc_format_double(double value, char *out,
                                       int python_style) {
        uint64_t bits, digits;
        char text[24];
        int length = 0, i, point, exponent, pos = 0, low;
        memcpy(&bits, &value, sizeof bits);
        if (bits >> 63) out[pos++] = '-';
        bits &= ~((uint64_t)1 << 63);
        if (bits == 0) {
            memcpy(out + pos, "0.0", 3);
            return pos + 3;
        }
        point = wc_shortest(bits & (((uint64_t)1 << 52) - 1),
                            (uint32_t)(bits >> 52), &digits);
        while (digits) {
            text[length++] = (char)('0' + digits % 10);
            digits /= 10;
        }
        for (i = 0; i < length / 2; i++) {
            char swap = text[i];
            text[i] = text[length - 1 - i];
            text[length - 1 - i] = swap;
        }
        point += length; /* the value is 0.d1d2... times 10**point */
        exponent = point - 1;
        low = python_style ? -4 : -5;
        if (exponent >= low && exponent < 16) {
            if (point <= 0) {
                out[pos++] = '0';
                out[pos++] = '.';
                for (i = 0; i < -point; i++) out[pos++] = '0';
                memcpy(out + pos, text, length);
                pos += length;
            } else if (point >= length) {
                memcpy(out + pos, text, length);
                pos += length;
                for (i = length; i < point; i++) out[pos++] = '0';
                out[pos++] = '.';
                out[pos++] = '0';
            } else {
                memcpy(out + pos, text, point);
                pos += point;
                out[pos++] = '.';
                memcpy(out + pos, text + point, length - point);
                pos += length - point;
            }
            return pos;
        }
        out[pos++] = text[0];
        if (length > 1) {
            out[pos++] = '.';
            memcpy(out + pos, text + 1, length - 1);
            pos += length - 1;
        }
        out[pos++] = 'e';
        out[pos++] = exponent < 0 ? '-' : '+';
        if (exponent < 0) exponent = -exponent;
        if (exponent >= 100) {
            out[pos++] = (char)('0' + exponent / 100);
            out[pos++] = (char)('0' + exponent / 10 % 10);
        } else if (exponent >= 10 || python_style) {
            out[pos++] = (char)('0' + exponent / 10);
        }
        out[pos++] = (char)('0' + exponent % 10);
        return pos;
    }
    """
    uint64_t wc_pow5_inv[342][2]
    uint64_t wc_pow5[326][2]
    Py_ssize_t wc_format_double(double value, char* out, int python_style) nogil

# Styles of JSON text.
MEDIA = 0
ARTIFACT = 1

# Column kinds: the plain cells a column takes without a change of type.
KIND_GENERIC = 0
KIND_NUMBER_OPTIONAL = 1
KIND_STRING_OPTIONAL = 2
KIND_BOOLEAN_OPTIONAL = 3
KIND_NUMBER = 4
KIND_STRING = 5
KIND_BOOLEAN = 6
KIND_ANY = 7

MAX_DEPTH = 100

cdef enum:
    C_MEDIA = 0
    C_ARTIFACT = 1
    C_NUMBER_OPTIONAL = 1
    C_STRING_OPTIONAL = 2
    C_BOOLEAN_OPTIONAL = 3
    C_NUMBER = 4
    C_STRING = 5
    C_BOOLEAN = 6
    C_ANY = 7
    C_MAX_DEPTH = 100
    FLOAT_TEXT_MAX = 32

cdef const char* HEX_DIGITS = b"0123456789abcdef"


cdef int _fill_tables() except -1:
    cdef int index
    mask = (1 << 64) - 1
    power = 1
    for index in range(342):
        if index:
            power *= 5
        inverse = (1 << (power.bit_length() - 1 + 125)) // power + 1
        wc_pow5_inv[index][0] = inverse & mask
        wc_pow5_inv[index][1] = inverse >> 64
    power = 1
    for index in range(326):
        if index:
            power *= 5
        shift = power.bit_length() - 125
        top = power >> shift if shift > 0 else power << -shift
        wc_pow5[index][0] = top & mask
        wc_pow5[index][1] = top >> 64
    return 0


_fill_tables()


# ---------------------------------------------------------------------------
# Type checks
# ---------------------------------------------------------------------------


cpdef check_rows(list kinds, object rows, Py_ssize_t first, object slow,
                 dict scalar_types):
    """Check ``rows[first:]`` against the column kinds, updating them.

    ``scalar_types`` maps further classes (numpy's) to ``KIND_NUMBER`` or
    ``KIND_BOOLEAN``: their values count as numbers or booleans (never as
    None, even when NaN). A row whose length is not the number of columns
    goes to ``slow(row, -1, row)``, which raises.
    """
    cdef Py_ssize_t width = len(kinds)
    cdef Py_ssize_t count = len(rows)
    cdef Py_ssize_t index, column
    cdef object row
    for index in range(first, count):
        row = rows[index]
        if len(row) != width:
            slow(index, -1, row)
        for column in range(width):
            value = row[column]
            if not _fits(<int>kinds[column], value, scalar_types):
                kinds[column] = slow(index, column, value)


cdef inline bint _is_nan(object value):
    cdef double number = PyFloat_AS_DOUBLE(value)
    return number != number


cdef bint _fits(int kind, object value, dict scalar_types) except -1:
    cdef type cls = type(value)
    if kind == C_NUMBER_OPTIONAL:
        return (value is None or cls is float or cls is int
                or _scalar_kind(scalar_types, cls) == C_NUMBER)
    if kind == C_STRING_OPTIONAL:
        return value is None or cls is str or (cls is float and _is_nan(value))
    if kind == C_BOOLEAN_OPTIONAL:
        return (value is None or cls is bool or (cls is float and _is_nan(value))
                or _scalar_kind(scalar_types, cls) == C_BOOLEAN)
    if kind == C_NUMBER:
        return (cls is int or (cls is float and not _is_nan(value))
                or _scalar_kind(scalar_types, cls) == C_NUMBER)
    if kind == C_STRING:
        return cls is str
    if kind == C_BOOLEAN:
        return cls is bool or _scalar_kind(scalar_types, cls) == C_BOOLEAN
    if kind == C_ANY:
        return (value is None or cls is float or cls is int or cls is str
                or cls is bool or cls in scalar_types)
    return False


cdef inline int _scalar_kind(dict scalar_types, type cls) except -2:
    if not scalar_types:
        return -1
    kind = scalar_types.get(cls)
    return -1 if kind is None else <int>kind


# ---------------------------------------------------------------------------
# JSON text
# ---------------------------------------------------------------------------


cdef class _Buffer:
    """A growable byte buffer in C memory."""

    cdef char* data
    cdef Py_ssize_t length
    cdef Py_ssize_t capacity

    def __cinit__(self, Py_ssize_t capacity=4096):
        self.data = <char*>PyMem_Malloc(capacity)
        if self.data == NULL:
            raise MemoryError()
        self.length = 0
        self.capacity = capacity

    def __dealloc__(self):
        PyMem_Free(self.data)

    cdef int reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t needed = self.length + extra
        cdef Py_ssize_t capacity = self.capacity
        cdef char* grown
        if needed <= capacity:
            return 0
        while capacity < needed:
            capacity *= 2
        grown = <char*>PyMem_Realloc(self.data, capacity)
        if grown == NULL:
            raise MemoryError()
        self.data = grown
        self.capacity = capacity
        return 0

    cdef inline int byte(self, char value) except -1:
        if self.length >= self.capacity:
            self.reserve(1)
        self.data[self.length] = value
        self.length += 1
        return 0

    cdef inline int raw(self, const char* source, Py_ssize_t size) except -1:
        self.reserve(size)
        memcpy(self.data + self.length, source, size)
        self.length += size
        return 0

    cdef bytes to_bytes(self):
        return PyBytes_FromStringAndSize(self.data, self.length)


cpdef str float_json(double value, int style):
    """JSON text of a float in the given style (see ``table_py``)."""
    cdef _Buffer out = _Buffer(FLOAT_TEXT_MAX)
    _write_float(out, value, style)
    return out.to_bytes().decode("ascii")


cpdef bytes encode_rows(object rows, Py_ssize_t count, int style, object convert):
    """JSON text (UTF-8) of the array of the first ``count`` rows.

    ``convert(value)`` turns a value that is not None, a bool, int, float,
    str, list, tuple or dict into one that is (numpy scalars, table cells).

    Raises:
        UnicodeEncodeError: a ``MEDIA`` string holds a lone surrogate (the
            official client then falls back to ``json.dumps``).
    """
    cdef _Buffer out = _Buffer(4096 if count < 64 else count * 64)
    _write_rows(out, rows, count, style, convert)
    return out.to_bytes()


cpdef tuple table_file(object columns, object rows, Py_ssize_t count,
                       object convert):
    """The run's media file of a table and its SHA-256 (hex).

    ``{"columns":[...],"data":[...]}`` in the ``MEDIA`` style, holding the
    first ``count`` rows.
    """
    cdef _Buffer out = _Buffer(4096 if count < 64 else count * 64)
    out.raw(b'{"columns":', 11)
    _write_list(out, list(columns), C_MEDIA, convert, 1)
    out.raw(b',"data":', 8)
    _write_rows(out, rows, count, C_MEDIA, convert)
    out.byte(b"}")
    data = out.to_bytes()
    return data, hashlib.sha256(data).hexdigest()


cdef int _write_rows(_Buffer out, object rows, Py_ssize_t count, int style,
                     object convert) except -1:
    cdef Py_ssize_t index
    cdef Py_ssize_t position
    cdef object row
    out.byte(b"[")
    for index in range(count):
        if index:
            _separator(out, style)
        row = rows[index]
        out.byte(b"[")
        position = 0
        for value in row:
            if position:
                _separator(out, style)
            position += 1
            _write_value(out, value, style, convert, 0)
        out.byte(b"]")
    out.byte(b"]")
    return 0


cdef inline int _separator(_Buffer out, int style) except -1:
    if style == C_MEDIA:
        out.byte(b",")
    else:
        out.raw(b", ", 2)
    return 0


cdef int _write_value(_Buffer out, object value, int style, object convert,
                      int depth) except -1:
    cdef type cls = type(value)
    if cls is float:
        return _write_float(out, PyFloat_AS_DOUBLE(value), style)
    if cls is int:
        return _write_int(out, value)
    if cls is str:
        return _write_string(out, value, style)
    if value is None:
        return out.raw(b"null", 4)
    if cls is bool:
        if value:
            return out.raw(b"true", 4)
        return out.raw(b"false", 5)
    if cls is list or cls is tuple:
        return _write_list(out, value, style, convert, depth + 1)
    if cls is dict:
        return _write_dict(out, value, style, convert, depth + 1)
    if PyFloat_Check(value):
        return _write_float(out, PyFloat_AS_DOUBLE(value), style)
    if PyLong_Check(value) and not PyBool_Check(value):
        return _write_int(out, value)
    if PyUnicode_Check(value):
        return _write_string(out, str(value), style)
    converted = convert(value)
    if type(converted) is cls:
        msg = f"A table cell of type {cls.__name__} cannot be written as JSON."
        raise ValueTypeError(msg)
    return _write_value(out, converted, style, convert, depth)


cdef int _write_float(_Buffer out, double value, int style) except -1:
    if value != value:
        if style == C_MEDIA:
            return out.raw(b"NaN", 3)
        return out.raw(b"null", 4)
    if value == INFINITY:
        return out.raw(b"Infinity", 8)
    if value == -INFINITY:
        return out.raw(b"-Infinity", 9)
    out.reserve(FLOAT_TEXT_MAX)
    out.length += wc_format_double(value, out.data + out.length,
                                   style == C_ARTIFACT)
    return 0


cdef int _write_int(_Buffer out, object value) except -1:
    cdef int overflow = 0
    cdef long long number = PyLong_AsLongLongAndOverflow(value, &overflow)
    cdef unsigned long long magnitude
    cdef char digits[24]
    cdef int position = 24
    cdef Py_ssize_t size
    cdef const char* text
    if overflow:
        big = int.__repr__(value)
        text = PyUnicode_AsUTF8AndSize(big, &size)
        return out.raw(text, size)
    if number < 0:
        magnitude = <unsigned long long>(-(number + 1)) + 1
    else:
        magnitude = <unsigned long long>number
    while True:
        position -= 1
        digits[position] = <char>(48 + magnitude % 10)
        magnitude //= 10
        if magnitude == 0:
            break
    if number < 0:
        position -= 1
        digits[position] = b"-"
    return out.raw(digits + position, 24 - position)


cdef int _write_escape(_Buffer out, unsigned int character) except -1:
    cdef char escape[6]
    if character == 0x22:
        return out.raw(b'\\"', 2)
    if character == 0x5C:
        return out.raw(b"\\\\", 2)
    if character == 0x0A:
        return out.raw(b"\\n", 2)
    if character == 0x0D:
        return out.raw(b"\\r", 2)
    if character == 0x09:
        return out.raw(b"\\t", 2)
    if character == 0x08:
        return out.raw(b"\\b", 2)
    if character == 0x0C:
        return out.raw(b"\\f", 2)
    escape[0] = b"\\"
    escape[1] = b"u"
    escape[2] = HEX_DIGITS[(character >> 12) & 0xF]
    escape[3] = HEX_DIGITS[(character >> 8) & 0xF]
    escape[4] = HEX_DIGITS[(character >> 4) & 0xF]
    escape[5] = HEX_DIGITS[character & 0xF]
    return out.raw(escape, 6)


cdef int _write_bytes_escaped(_Buffer out, const unsigned char* text,
                              Py_ssize_t size, bint escape_delete) except -1:
    """A string from its UTF-8 (or ASCII) bytes: escapes, the rest as is."""
    cdef Py_ssize_t index
    cdef Py_ssize_t start = 0
    cdef unsigned char character
    out.reserve(size + 2)
    out.byte(b'"')
    for index in range(size):
        character = text[index]
        if (character >= 0x20 and character != 0x22 and character != 0x5C
                and not (escape_delete and character == 0x7F)):
            continue
        out.raw(<const char*>text + start, index - start)
        _write_escape(out, character)
        start = index + 1
    out.raw(<const char*>text + start, size - start)
    return out.byte(b'"')


cdef int _write_string(_Buffer out, str value, int style) except -1:
    cdef Py_ssize_t size
    cdef const char* text
    if PyUnicode_IS_ASCII(value):
        return _write_bytes_escaped(
            out, <const unsigned char*>PyUnicode_DATA(value),
            PyUnicode_GET_LENGTH(value), style == C_ARTIFACT)
    if style == C_MEDIA:
        text = PyUnicode_AsUTF8AndSize(value, &size)
        return _write_bytes_escaped(out, <const unsigned char*>text, size, False)
    return _write_ascii_escaped(out, value)


cdef int _write_ascii_escaped(_Buffer out, str value) except -1:
    """A string as ``json.dumps`` writes it with ``ensure_ascii``."""
    cdef int kind = PyUnicode_KIND(value)
    cdef void* data = PyUnicode_DATA(value)
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(value)
    cdef Py_ssize_t index
    cdef unsigned int character
    out.byte(b'"')
    for index in range(length):
        character = <unsigned int>PyUnicode_READ(kind, data, index)
        if 0x20 <= character < 0x7F and character != 0x22 and character != 0x5C:
            out.byte(<char>character)
        elif character > 0xFFFF:
            character -= 0x10000
            _write_escape(out, 0xD800 | (character >> 10))
            _write_escape(out, 0xDC00 | (character & 0x3FF))
        else:
            _write_escape(out, character)
    return out.byte(b'"')


cdef int _check_depth(int depth) except -1:
    if depth > C_MAX_DEPTH:
        msg = f"A table cell is nested more than {MAX_DEPTH} levels deep."
        raise ValueValueError(msg)
    return 0


cdef int _write_list(_Buffer out, object items, int style, object convert,
                     int depth) except -1:
    cdef Py_ssize_t position = 0
    _check_depth(depth)
    out.byte(b"[")
    for item in items:
        if position:
            _separator(out, style)
        position += 1
        _write_value(out, item, style, convert, depth)
    return out.byte(b"]")


cdef int _write_dict(_Buffer out, dict mapping, int style, object convert,
                     int depth) except -1:
    cdef Py_ssize_t position = 0
    cdef list keys
    _check_depth(depth)
    if style == C_MEDIA:
        keys = list(mapping)
    else:
        keys = sorted(mapping)  # json.dump(sort_keys=True) does the same
    out.byte(b"{")
    for key in keys:
        if position:
            _separator(out, style)
        position += 1
        _write_key(out, key, style)
        if style == C_MEDIA:
            out.byte(b":")
        else:
            out.raw(b": ", 2)
        _write_value(out, mapping[key], style, convert, depth)
    return out.byte(b"}")


cdef int _write_key(_Buffer out, object key, int style) except -1:
    cdef type cls = type(key)
    if cls is str:
        return _write_string(out, key, style)
    if cls is int:
        out.byte(b'"')
        _write_int(out, key)
        return out.byte(b'"')
    msg = (
        f"Dict key {key!r} in a table cell is a {cls.__name__}; "
        "keys must be str or int."
    )
    raise ValueTypeError(msg)
