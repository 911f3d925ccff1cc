# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Record serialization, compiled twin of ``records_py``.

Same public names, exceptions and output bytes as the pure twin, which is
the reference; this module follows its structure. Records are written into
one growable C buffer per call, so no Python object is made per byte.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.buffer cimport PyBUF_READ
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.memoryview cimport PyMemoryView_FromMemory
from libc.math cimport isfinite, isnan, signbit
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

from wandb_core._fast import _wire
from wandb_core._fast._json import container_json, string_json
from wandb_core.errors import ValueTypeError, ValueValueError

cdef extern from "Python.h":
    char* PyOS_double_to_string(double val, char format_code, int precision,
                                int flags, int *ptype) except NULL
    int Py_DTSF_ADD_DOT_0

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize_ "PyUnicode_AsUTF8AndSize" (
        object, Py_ssize_t*) except NULL

cdef int BLOCK_SIZE = _wire.BLOCK_SIZE
cdef int CHUNK_HEADER_SIZE = _wire.CHUNK_HEADER_SIZE
cdef uint8_t CHUNK_FULL = _wire.CHUNK_FULL
cdef uint8_t CHUNK_FIRST = _wire.CHUNK_FIRST
cdef uint8_t CHUNK_MIDDLE = _wire.CHUNK_MIDDLE
cdef uint8_t CHUNK_LAST = _wire.CHUNK_LAST
cdef int FILE_HEADER_SIZE = len(_wire.FILE_HEADER)

# Tags precomputed as (field << 3) | wire type.
cdef uint8_t TAG_NUM = (_wire.RECORD_NUM << 3) | _wire.WIRE_VARINT
cdef uint8_t TAG_HISTORY = (_wire.RECORD_HISTORY << 3) | _wire.WIRE_BYTES
cdef uint8_t TAG_SUMMARY = (_wire.RECORD_SUMMARY << 3) | _wire.WIRE_BYTES
cdef uint8_t TAG_UPDATE = (_wire.ITEMS_UPDATE << 3) | _wire.WIRE_BYTES
cdef uint8_t TAG_REMOVE = (_wire.ITEMS_REMOVE << 3) | _wire.WIRE_BYTES
cdef uint8_t TAG_STEP = (_wire.HISTORY_STEP << 3) | _wire.WIRE_BYTES
cdef uint8_t TAG_STEP_NUM = (_wire.STEP_NUM << 3) | _wire.WIRE_VARINT
cdef uint8_t TAG_NESTED_KEY = (_wire.ITEM_NESTED_KEY << 3) | _wire.WIRE_BYTES
# Field 16 needs a two-byte varint tag: 130, 1.
cdef uint8_t TAG_VALUE_JSON_0 = 0x82
cdef uint8_t TAG_VALUE_JSON_1 = 0x01

cdef str NAN_TOKEN = _wire.NAN_TOKEN
cdef str POS_INF_TOKEN = _wire.POS_INF_TOKEN
cdef str NEG_INF_TOKEN = _wire.NEG_INF_TOKEN

_SCALAR_TYPES = (str, int, float, bool, type(None))
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Whole floats below this are written without ".0" (see records_py).
cdef double INTEGRAL_LIMIT = 1e15


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


cpdef str float_json(double value):
    """JSON text of a float, W&B tokens for non-finite values.

    Whole numbers below ``INTEGRAL_LIMIT`` lose their ``.0``, as in the
    official client's logs (it saves two bytes a value); others keep
    ``repr``'s shortest round-trip digits. -0.0 keeps its sign.
    """
    cdef char* text
    if isfinite(value):
        if (-INTEGRAL_LIMIT < value < INTEGRAL_LIMIT
                and value == <double>(<long long>value)
                and (value != 0 or not signbit(value))):
            return str(<long long>value)
        text = PyOS_double_to_string(value, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
        try:
            return text.decode("ascii")
        finally:
            PyMem_Free(text)
    if isnan(value):
        return NAN_TOKEN
    return POS_INF_TOKEN if value > 0 else NEG_INF_TOKEN


cdef inline bint _is_plain_ascii(str text):
    """Whether the text needs no JSON escaping and is pure ASCII."""
    cdef Py_UCS4 ch
    for ch in text:
        if ch < 0x20 or ch > 0x7E or ch == 0x22 or ch == 0x5C:
            return False
    return True


cdef str _string_json(str text):
    if _is_plain_ascii(text):
        return '"' + text + '"'
    return string_json(text)


cdef object _big_int_value(object value):
    """Ints beyond int64 become the nearest double, as in the official logs."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


cdef str _big_int_json(object value):
    """Ints beyond int64 as the nearest double, as the official client."""
    try:
        return float_json(float(value))
    except OverflowError:
        return POS_INF_TOKEN if value > 0 else NEG_INF_TOKEN


cdef str _scalar_json(object value):
    cdef type cls = type(value)
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
    return _string_json(value)


cdef str _check_key(object key, tuple path):
    cdef Py_ssize_t size
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
        PyUnicode_AsUTF8AndSize_(key, &size)
    except UnicodeEncodeError:
        msg = f"Key {key!r} is not valid Unicode text (it holds a lone surrogate)."
        raise ValueValueError(msg) from None
    return key


cdef inline bint _is_scalar(type cls):
    return cls is float or cls is int or cls is str or cls is bool or cls is type(None)


cpdef object deep_value(object value, tuple path, object normalize):
    """Copy a value into plain JSON-ready types, normalizing what is not."""
    cdef type cls = type(value)
    if cls is int and not INT64_MIN <= value <= INT64_MAX:
        return _big_int_value(value)
    if _is_scalar(cls):
        return value
    if cls is list or cls is tuple:
        return [deep_value(item, path, normalize) for item in value]
    if cls is dict:
        return {
            _check_key(key, path): deep_value(item, path + (key,), normalize)
            for key, item in (<dict>value).items()
        }
    return deep_value(normalize(path, value), path, normalize)


cpdef str value_json(object value):
    """JSON text of a JSON-ready value (as ``deep_value`` returns)."""
    if _is_scalar(type(value)):
        return _scalar_json(value)
    return container_json(value)


cpdef list flatten_row(dict data, object normalize):
    """Validate and encode a logged dict as ``(path, value, json)`` leaves.

    Nested dicts become one leaf per value, their keys in ``path``; empty
    dicts leave nothing. ``normalize(path, value)`` is called for every value
    that is not a plain JSON type and returns one (or raises TypeError).
    """
    cdef list leaves = []
    _flatten_into(leaves, (), data, normalize)
    return leaves


cdef inline bint _logs_as_sequence(object first):
    """Whether a list of such values logs as one object (media galleries)."""
    return hasattr(type(first), "_wandb_core_log_sequence")


cdef void _flatten_into(list leaves, tuple prefix, dict mapping,
                        object normalize) except *:
    cdef tuple path
    cdef type cls
    for raw_key, value in mapping.items():
        path = prefix + (_check_key(raw_key, prefix),)
        cls = type(value)
        if cls is int and not INT64_MIN <= value <= INT64_MAX:
            value = _big_int_value(value)
            cls = float
        if _is_scalar(cls):
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


cdef class _Buffer:
    """A growable byte buffer in C memory."""

    cdef char* data
    cdef Py_ssize_t length
    cdef Py_ssize_t capacity

    def __cinit__(self, Py_ssize_t capacity=256):
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

    cdef inline int byte(self, uint8_t value) except -1:
        self.reserve(1)
        self.data[self.length] = <char>value
        self.length += 1
        return 0

    cdef inline int raw(self, const char* source, Py_ssize_t size) except -1:
        self.reserve(size)
        memcpy(self.data + self.length, source, size)
        self.length += size
        return 0

    cdef inline int varint(self, uint64_t value) except -1:
        self.reserve(10)
        while value > 0x7F:
            self.data[self.length] = <char>((value & 0x7F) | 0x80)
            self.length += 1
            value >>= 7
        self.data[self.length] = <char>value
        self.length += 1
        return 0

    cdef inline int text_field(self, uint8_t tag, str text) except -1:
        cdef Py_ssize_t size
        cdef const char* utf8 = PyUnicode_AsUTF8AndSize_(text, &size)
        self.byte(tag)
        self.varint(size)
        self.raw(utf8, size)
        return 0

    cdef bytes to_bytes(self):
        return PyBytes_FromStringAndSize(self.data, self.length)


cdef inline int _varint_size(uint64_t value):
    cdef int size = 1
    while value > 0x7F:
        value >>= 7
        size += 1
    return size


cpdef bytes encode_varint(object value):
    """Protobuf varint of a non-negative int (negative ints as 64-bit)."""
    cdef _Buffer out = _Buffer(16)
    if value < 0:
        value += 1 << 64
    out.varint(<uint64_t>value)
    return out.to_bytes()


cdef int _item(_Buffer out, uint8_t tag, object path, str text) except -1:
    """Append one length-delimited item: nested keys, then value_json."""
    cdef Py_ssize_t size = 0
    cdef Py_ssize_t key_size
    cdef Py_ssize_t text_size
    cdef const char* utf8
    for key in path:
        PyUnicode_AsUTF8AndSize_(key, &key_size)
        size += 1 + _varint_size(key_size) + key_size
    utf8 = PyUnicode_AsUTF8AndSize_(text, &text_size)
    size += 2 + _varint_size(text_size) + text_size

    out.byte(tag)
    out.varint(size)
    for key in path:
        out.text_field(TAG_NESTED_KEY, key)
    out.byte(TAG_VALUE_JSON_0)
    out.byte(TAG_VALUE_JSON_1)
    out.varint(text_size)
    out.raw(utf8, text_size)
    return 0


cdef bytes _wrap(uint8_t tag, _Buffer body):
    cdef _Buffer out = _Buffer(body.length + 8)
    out.byte(tag)
    out.varint(body.length)
    out.raw(body.data, body.length)
    return out.to_bytes()


cpdef bytes encode_history(object items, object step, double runtime,
                           double timestamp):
    """Record body (without ``num``) of one history row.

    ``items`` are ``(path, json)`` pairs; ``_timestamp``, ``_runtime`` and
    ``_step`` are appended as the official client writes them.
    """
    cdef _Buffer body = _Buffer(1024)
    cdef uint64_t step_value = step
    for path, text in items:
        _item(body, TAG_UPDATE, path, text)
    _item(body, TAG_UPDATE, ("_timestamp",), float_json(timestamp))
    _item(body, TAG_UPDATE, ("_runtime",), float_json(runtime))
    _item(body, TAG_UPDATE, ("_step",), str(step))
    body.byte(TAG_STEP)
    if step_value:
        body.varint(1 + _varint_size(step_value))
        body.byte(TAG_STEP_NUM)
        body.varint(step_value)
    else:
        body.byte(0)
    return _wrap(TAG_HISTORY, body)


cpdef bytes encode_summary(object updates, object removes):
    """Record body (without ``num``) of a summary record."""
    cdef _Buffer body = _Buffer(1024)
    cdef _Buffer keys
    for path, text in updates:
        _item(body, TAG_UPDATE, path, text)
    for path in removes:
        keys = _Buffer(64)
        for key in path:
            keys.text_field(TAG_NESTED_KEY, key)
        body.byte(TAG_REMOVE)
        body.varint(keys.length)
        body.raw(keys.data, keys.length)
    return _wrap(TAG_SUMMARY, body)


# ---------------------------------------------------------------------------
# Log framing
# ---------------------------------------------------------------------------


from zlib import crc32 as zlib_crc32

# Payloads from this size on are checksummed by zlib (see _crc).
cdef Py_ssize_t ZLIB_CRC_THRESHOLD = 256
cdef uint32_t CRC_TABLE[256]


cdef void _fill_crc_table():
    cdef uint32_t value
    cdef int index, shifts
    for index in range(256):
        value = index
        shifts = 8  # one per bit of the byte
        while shifts:
            value = (value >> 1) ^ 0xEDB88320 if value & 1 else value >> 1
            shifts -= 1
        CRC_TABLE[index] = value


_fill_crc_table()


cdef inline uint32_t _crc_update(uint32_t crc, const unsigned char* data,
                                 Py_ssize_t size) noexcept nogil:
    cdef Py_ssize_t index
    crc = ~crc
    for index in range(size):
        crc = CRC_TABLE[(crc ^ data[index]) & 0xFF] ^ (crc >> 8)
    return ~crc


cdef uint32_t _crc(uint8_t chunk_type, const char* data,
                   Py_ssize_t size) except? 0:
    """CRC-32 (IEEE, as ``zlib.crc32``) of the type byte, then the payload.

    The table loop wins for the short records that make up most logs;
    zlib's vectorized CRC wins once a payload is a few hundred bytes.
    """
    cdef uint32_t crc = _crc_update(0, &chunk_type, 1)
    if size < ZLIB_CRC_THRESHOLD:
        return _crc_update(crc, <const unsigned char*>data, size)
    view = PyMemoryView_FromMemory(<char*>data, size, PyBUF_READ)
    return zlib_crc32(view, crc)


cdef class Framer:
    """Cuts records into chunks that never cross a 32 KiB block boundary.

    ``offset`` is the file offset where the next byte will be written; a new
    file starts after the 7-byte file header.
    """

    cdef public object offset

    def __init__(self, offset=FILE_HEADER_SIZE):
        self.offset = offset

    def frame(self, object num, bytes body):
        """Chunks of the record ``num`` + ``body``, ready to append."""
        cdef _Buffer payload = _Buffer(len(body) + 12)
        cdef _Buffer out
        cdef long long offset = self.offset
        cdef Py_ssize_t start = 0
        cdef Py_ssize_t take
        cdef Py_ssize_t room
        cdef bint first = True
        cdef bint last
        cdef uint8_t chunk_type
        cdef uint32_t crc
        cdef unsigned char header[7]

        payload.byte(TAG_NUM)
        payload.varint(<uint64_t>num)
        payload.raw(PyBytes_AS_STRING(body), len(body))
        out = _Buffer(payload.length + 64)
        while True:
            room = BLOCK_SIZE - offset % BLOCK_SIZE
            if room < CHUNK_HEADER_SIZE:
                out.reserve(room)
                memset(out.data + out.length, 0, room)
                out.length += room
                offset += room
                continue
            take = min(room - CHUNK_HEADER_SIZE, payload.length - start)
            last = start + take == payload.length
            if first:
                chunk_type = CHUNK_FULL if last else CHUNK_FIRST
            else:
                chunk_type = CHUNK_LAST if last else CHUNK_MIDDLE
            crc = _crc(chunk_type, payload.data + start, take)
            header[0] = crc & 0xFF
            header[1] = (crc >> 8) & 0xFF
            header[2] = (crc >> 16) & 0xFF
            header[3] = (crc >> 24) & 0xFF
            header[4] = take & 0xFF
            header[5] = (take >> 8) & 0xFF
            header[6] = chunk_type
            out.raw(<const char*>header, 7)
            out.raw(payload.data + start, take)
            offset += CHUNK_HEADER_SIZE + take
            start += take
            first = False
            if last:
                break
        self.offset = offset
        return out.to_bytes()


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------


def unframe(bytes data, Py_ssize_t start=FILE_HEADER_SIZE):
    """Split a log (from ``start``) into record payloads.

    Returns the payloads of every complete record and a list of problems
    found. A bad checksum or impossible length skips to the next block and
    resumes at its next ``full`` or ``first`` chunk; a record cut off by the
    end of the data is reported, not returned.
    """
    cdef list records = []
    cdef list problems = []
    cdef list pending = None
    cdef Py_ssize_t position = start
    cdef Py_ssize_t size = len(data)
    cdef Py_ssize_t room
    cdef Py_ssize_t end
    cdef const unsigned char* raw = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef uint32_t crc
    cdef Py_ssize_t length
    cdef uint8_t chunk_type
    cdef bytes payload
    while position < size:
        room = BLOCK_SIZE - position % BLOCK_SIZE
        if room < CHUNK_HEADER_SIZE:
            position += room
            continue
        if position + CHUNK_HEADER_SIZE > size:
            problems.append(f"chunk header cut off at offset {position}")
            break
        crc = (raw[position] | (<uint32_t>raw[position + 1] << 8)
               | (<uint32_t>raw[position + 2] << 16)
               | (<uint32_t>raw[position + 3] << 24))
        length = raw[position + 4] | (raw[position + 5] << 8)
        chunk_type = raw[position + 6]
        if crc == 0 and length == 0 and chunk_type == 0:
            position += room
            continue
        end = position + CHUNK_HEADER_SIZE + length
        if (length > room - CHUNK_HEADER_SIZE or chunk_type == 0
                or chunk_type > CHUNK_LAST):
            problems.append(f"impossible chunk at offset {position}")
            pending = None
            position += room
            continue
        if end > size:
            problems.append(f"chunk cut off at offset {position}")
            break
        payload = data[position + CHUNK_HEADER_SIZE:end]
        if _crc(chunk_type, <const char*>raw + position + CHUNK_HEADER_SIZE,
                length) != crc:
            problems.append(f"checksum mismatch at offset {position}")
            pending = None
            position += room
            continue
        position = end
        if chunk_type == CHUNK_FULL:
            if pending is not None:
                problems.append(f"record without its last chunk before {position}")
            records.append(payload)
            pending = None
        elif chunk_type == CHUNK_FIRST:
            if pending is not None:
                problems.append(f"record without its last chunk before {position}")
            pending = [payload]
        elif pending is None:
            problems.append(f"chunk without its first chunk at offset {position}")
        elif chunk_type == CHUNK_MIDDLE:
            pending.append(payload)
        else:
            pending.append(payload)
            records.append(b"".join(pending))
            pending = None
    if pending is not None:
        problems.append("the last record is cut off")
    return records, problems


def parse_fields(bytes buffer):
    """Protobuf fields of one message as ``(field, wire_type, value)``.

    Varints come back as ints, length-delimited fields as bytes and fixed
    fields as their raw bytes.
    """
    cdef list fields = []
    cdef Py_ssize_t position = 0
    cdef Py_ssize_t size = len(buffer)
    cdef const unsigned char* raw = <const unsigned char*>PyBytes_AS_STRING(buffer)
    cdef uint64_t key
    cdef uint64_t number
    cdef int wire_type
    while position < size:
        key = _read_varint(raw, size, &position)
        wire_type = key & 7
        if wire_type == 0:
            number = _read_varint(raw, size, &position)
            value = number
        elif wire_type == 2:
            number = _read_varint(raw, size, &position)
            if number > <uint64_t>(size - position):
                raise ValueError("length-delimited field runs past the message")
            value = buffer[position:position + <Py_ssize_t>number]
            position += <Py_ssize_t>number
        elif wire_type == 1:
            value = buffer[position:position + 8]
            position += 8
        elif wire_type == 5:
            value = buffer[position:position + 4]
            position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        if position > size:
            raise ValueError("field runs past the end of the message")
        fields.append((key >> 3, wire_type, value))
    return fields


cdef uint64_t _read_varint(const unsigned char* raw, Py_ssize_t size,
                           Py_ssize_t* position) except? 0xFFFFFFFFFFFFFFFF:
    cdef uint64_t result = 0
    cdef int shift = 0
    cdef unsigned char byte
    while True:
        if position[0] >= size or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = raw[position[0]]
        position[0] += 1
        result |= (<uint64_t>(byte & 0x7F)) << shift
        if not byte & 0x80:
            return result
        shift += 7
