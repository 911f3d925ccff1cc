"""Reading damaged transaction logs back with ``unframe``.

A killed process leaves a log cut at an arbitrary byte; a bad disk leaves a
flipped byte. Either way the reader must return every record it can prove
intact (the CRC says so) and report the rest, never raise. The expected
records are derived here from where the framer put each chunk, not from
the reader under test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# The format, as transaction-log.md states it.
FILE_HEADER = b":W&B\xe1\xbe\x00"
BLOCK_SIZE = 32 * 1024
CHUNK_HEADER_SIZE = 7
RECORD_COUNT = 50
# Records whose frames end this many bytes before a block boundary: 0 ends
# on it; 1 to 6 leave a zero-filled trailer; 7 leaves room for one header.
BOUNDARY_GAPS = (0, 3, 6, 7)
CUT_STRIDE = 29
CORRUPT_STRIDE = 211


@dataclass(frozen=True)
class Chunk:
    record: int
    start: int  # file offset of the chunk header
    end: int  # file offset just past the payload

    @property
    def block(self) -> int:
        return self.start // BLOCK_SIZE


@dataclass(frozen=True)
class Log:
    data: bytes
    payloads: list[bytes]
    ends: list[int]  # file offset just past each record's last chunk
    chunks: list[Chunk]


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _chunks_of(frame: bytes, offset: int, record: int) -> list[Chunk]:
    """Where a frame's chunks lie, checked against the format as we go."""
    chunks = []
    position = 0
    while position < len(frame):
        room = BLOCK_SIZE - (offset + position) % BLOCK_SIZE
        if room < CHUNK_HEADER_SIZE:
            assert frame[position : position + room] == bytes(room)
            position += room
            continue
        length = int.from_bytes(frame[position + 4 : position + 6], "little")
        assert length <= room - CHUNK_HEADER_SIZE
        end = position + CHUNK_HEADER_SIZE + length
        chunks.append(Chunk(record, offset + position, offset + end))
        position = end
    return chunks


def _history_body(rng: random.Random, records: ModuleType, size: int) -> bytes:
    row = {
        "loss": rng.random(),
        "epoch": rng.randrange(1000),
        "notes": {"text": "é" * (size // 2) + "x" * (size % 2)},
    }
    leaves = records.flatten_row(row, None)
    items = [(path, text) for path, _, text in leaves]
    return records.encode_history(items, rng.randrange(10**6), 1.5, 1.7e9)


def _body_ending_at(records: ModuleType, offset: int, num: int, target: int) -> bytes:
    """A body whose framed record, written at ``offset``, ends at ``target``."""
    size = target - offset - CHUNK_HEADER_SIZE - 1 - len(_varint(num))
    for _ in range(10):
        body = b"\x7a" * size  # arbitrary bytes: framing ignores the contents
        end = offset + len(records.Framer(offset).frame(num, body))
        if end == target:
            return body
        size -= end - target
    raise AssertionError(f"cannot make a record end at {target}")


def _build_log(records: ModuleType) -> Log:
    """About 50 records of varied sizes, some multi-block, some at boundaries."""
    rng = random.Random(20240611)
    sizes = [rng.choice((10, 60, 300, 1_000)) for _ in range(RECORD_COUNT)]
    sizes[5], sizes[30] = 70_000, 40_000
    gap_at = dict(zip((12, 24, 36, 48), BOUNDARY_GAPS))

    framer = records.Framer(len(FILE_HEADER))
    data = bytearray(FILE_HEADER)
    payloads, ends, chunks = [], [], []
    for index, size in enumerate(sizes):
        num = index + 1
        if index in gap_at:
            target = (len(data) // BLOCK_SIZE + 1) * BLOCK_SIZE - gap_at[index]
            body = _body_ending_at(records, len(data), num, target)
        else:
            body = _history_body(rng, records, size)
        start = len(data)
        data += framer.frame(num, body)
        payloads.append(b"\x08" + _varint(num) + body)
        ends.append(len(data))
        chunks += _chunks_of(bytes(data[start:]), start, index)
    return Log(bytes(data), payloads, ends, chunks)


@pytest.fixture(scope="module")
def log(records: ModuleType) -> Log:
    return _build_log(records)


def _clean_cuts(log: Log) -> set[int]:
    """Cuts that leave no partial record: at a record's end or in its trailer."""
    clean = {len(FILE_HEADER)}
    for end in log.ends:
        room = BLOCK_SIZE - end % BLOCK_SIZE
        clean.add(end)
        if room < CHUNK_HEADER_SIZE:
            clean.update(range(end, end + room + 1))
    return clean


def _cut_offsets(log: Log) -> list[int]:
    """Cut points: all near chunk edges and block boundaries, a stride elsewhere.

    The reader's decisions change only within a chunk header of a chunk's
    start or end, so every offset there is taken. Cutting at each of the
    ~230,000 offsets would take about a minute with the compiled twin, whose
    CRC is much slower than zlib's on long inputs.
    """
    reach = 2 * CHUNK_HEADER_SIZE
    offsets = set(range(len(FILE_HEADER), len(log.data) + 1, CUT_STRIDE))
    edges = [chunk.start for chunk in log.chunks] + [c.end for c in log.chunks]
    edges += range(0, len(log.data) + BLOCK_SIZE, BLOCK_SIZE)
    for edge in edges:
        offsets.update(range(edge - reach, edge + reach + 1))
    return sorted(o for o in offsets if len(FILE_HEADER) <= o <= len(log.data))


# ---------------------------------------------------------------------------
# The log itself
# ---------------------------------------------------------------------------


def test_log_covers_the_cases_it_is_meant_to(log: Log) -> None:
    blocks_of: dict[int, set[int]] = {}
    for chunk in log.chunks:
        blocks_of.setdefault(chunk.record, set()).add(chunk.block)
    gaps = {-end % BLOCK_SIZE for end in log.ends}

    assert len(log.payloads) == RECORD_COUNT
    assert len(log.data) > 6 * BLOCK_SIZE
    assert len(blocks_of[5]) == 3  # first, middle and last chunks
    assert len(blocks_of[30]) == 2
    assert set(BOUNDARY_GAPS) <= gaps


def test_intact_log_reads_back_whole(records: ModuleType, log: Log) -> None:
    payloads, problems = records.unframe(log.data)

    assert payloads == log.payloads
    assert problems == []


# ---------------------------------------------------------------------------
# A log cut short (a killed process)
# ---------------------------------------------------------------------------


def test_cut_log_yields_the_complete_records_before_the_cut(
    records: ModuleType, log: Log
) -> None:
    clean = _clean_cuts(log)
    offsets = _cut_offsets(log)
    complete = 0

    for cut in offsets:
        while complete < len(log.ends) and log.ends[complete] <= cut:
            complete += 1
        payloads, problems = records.unframe(log.data[:cut])
        assert payloads == log.payloads[:complete], f"cut at {cut}"
        assert (problems == []) == (cut in clean), f"cut at {cut}: {problems}"
    assert len(offsets) > len(log.data) // CUT_STRIDE


# ---------------------------------------------------------------------------
# A corrupted byte (a bad disk)
# ---------------------------------------------------------------------------


def _corruptions(log: Log) -> list[tuple[int, Chunk]]:
    """Every chunk-header byte, the last payload byte and a stride of others."""
    targets = []
    for chunk in log.chunks:
        payload = range(chunk.start + CHUNK_HEADER_SIZE, chunk.end)
        offsets = {*range(chunk.start, payload.start), *payload[::CORRUPT_STRIDE]}
        offsets.update(payload[-1:])
        targets += [(offset, chunk) for offset in sorted(offsets)]
    return targets


def _survivors(log: Log, corrupted: Chunk) -> list[bytes]:
    """The records that have no chunk in the bad block from the bad chunk on.

    The reader drops the rest of that block and, in the next one, the
    chunks of a record whose first chunk it dropped.
    """
    lost = {
        chunk.record
        for chunk in log.chunks
        if chunk.block == corrupted.block and chunk.start >= corrupted.start
    }
    return [p for record, p in enumerate(log.payloads) if record not in lost]


def test_corrupt_byte_loses_only_the_rest_of_its_block(
    records: ModuleType, log: Log
) -> None:
    corruptions = _corruptions(log)

    for offset, chunk in corruptions:
        damaged = bytearray(log.data)
        damaged[offset] ^= offset % 255 + 1
        payloads, problems = records.unframe(bytes(damaged))
        assert payloads == _survivors(log, chunk), f"byte {offset} changed"
        assert problems, f"byte {offset} changed"
        assert str(chunk.start) in problems[0], problems
    assert len(corruptions) > 7 * len(log.chunks)


def test_corrupt_block_spares_the_records_of_other_blocks(
    records: ModuleType, log: Log
) -> None:
    damaged = bytearray(log.data)
    damaged[BLOCK_SIZE * 3 : BLOCK_SIZE * 4] = random.Random(3).randbytes(BLOCK_SIZE)
    first_chunk = next(chunk for chunk in log.chunks if chunk.block == 3)

    payloads, problems = records.unframe(bytes(damaged))

    assert payloads == _survivors(log, first_chunk)
    assert len(payloads) < len(log.payloads)
    assert problems


@pytest.mark.parametrize("zeros", [1, 6, 7, 100, BLOCK_SIZE + 10])
def test_zero_filled_tail_adds_no_records(
    records: ModuleType, log: Log, zeros: int
) -> None:
    payloads, _ = records.unframe(log.data + bytes(zeros))

    assert payloads == log.payloads


# ---------------------------------------------------------------------------
# Arbitrary damage: the twins agree and never invent a record
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_log(both_twins: tuple[ModuleType, ModuleType]) -> Log:
    return _build_log(both_twins[0])


def test_twins_write_the_same_log(both_twins: tuple[ModuleType, ModuleType]) -> None:
    pure, compiled = both_twins

    assert _build_log(pure) == _build_log(compiled)


def _is_subsequence(part: list[bytes], whole: list[bytes]) -> bool:
    remaining = iter(whole)
    return all(any(item == other for other in remaining) for item in part)


@settings(max_examples=150, deadline=None)
@given(
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=4),
    cut=st.floats(0, 1),
)
def test_damaged_log_reads_the_same_in_both_twins(
    both_twins: tuple[ModuleType, ModuleType],
    reference_log: Log,
    flips: list[tuple[float, int]],
    cut: float,
) -> None:
    pure, compiled = both_twins
    damaged = bytearray(reference_log.data)
    for where, mask in flips:
        damaged[int(where * (len(damaged) - 1))] ^= mask
    data = bytes(damaged[: len(FILE_HEADER) + int(cut * len(damaged))])

    pure_result = pure.unframe(data)
    compiled_result = compiled.unframe(data)

    assert compiled_result == pure_result
    assert _is_subsequence(pure_result[0], reference_log.payloads)
