"""Reading transaction logs, ours and the official client's.

``read_records`` splits a log into records and tells which body each one
holds; ``read_run`` replays them into what a person wants to see: the run's
identity, config, summary, history rows and exit code. Logs cut short by a
crash give every complete record before the cut; a damaged block is
skipped (see ``_fast.unframe``).
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import json
import re
from typing import Any

from wandb_core._fast import encode_varint, parse_fields, unframe
from wandb_core._fast._wire import FILE_HEADER
from wandb_core._paths import pop_nested, set_nested
from wandb_core.errors import LogFormatError

# Record body field -> name, as in wandb_internal.proto.
RECORD_KINDS = {
    2: "history",
    3: "summary",
    4: "output",
    5: "config",
    6: "files",
    7: "stats",
    8: "artifact",
    9: "tbrecord",
    10: "alert",
    11: "telemetry",
    12: "metric",
    13: "output_raw",
    17: "run",
    18: "exit",
    20: "final",
    21: "header",
    22: "footer",
    23: "preempting",
    25: "use_artifact",
    26: "environment",
    27: "output_logger",
    100: "request",
}


@dataclasses.dataclass
class Record:
    """One record: its number, the name of its body and the body's bytes."""

    num: int
    kind: str | None
    body: bytes


@dataclasses.dataclass
class RunLog:
    """A run as replayed from its log."""

    run_id: str = ""
    entity: str = ""
    project: str = ""
    display_name: str = ""
    start_time: float | None = None
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    exit_code: int | None = None
    producer: str = ""
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def state(self) -> str:
        """``finished``, ``failed`` (non-zero exit) or ``running``/``crashed``."""
        if self.exit_code is None:
            return "running or crashed"
        return "finished" if self.exit_code == 0 else "failed"


def read_records(path: str) -> tuple[list[Record], list[str]]:
    """Every complete record of the log at ``path``, and the problems met."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[: len(FILE_HEADER)] != FILE_HEADER:
        msg = f"{path!r} does not start with the W&B transaction log header."
        raise LogFormatError(msg)
    payloads, problems = unframe(data, len(FILE_HEADER))
    records = []
    for payload in payloads:
        try:
            records.append(_record(payload))
        except ValueError as error:
            problems.append(f"undecodable record: {error}")
    return records, problems


def _record(payload: bytes) -> Record:
    num = 0
    for field, _wire_type, value in parse_fields(payload):
        if field == 1:
            num = _signed64(value)
        elif field in RECORD_KINDS:
            return Record(num, RECORD_KINDS[field], value)
    return Record(num, None, b"")


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def fields_of(body: bytes) -> dict[int, list[Any]]:
    """A message's fields as field number -> list of values."""
    grouped: dict[int, list[Any]] = {}
    for field, _wire_type, value in parse_fields(body):
        grouped.setdefault(field, []).append(value)
    return grouped


def _text(fields: dict[int, list[Any]], number: int) -> str:
    values = fields.get(number)
    return values[-1].decode("utf-8", "replace") if values else ""


def items(body: bytes, number: int = 1) -> list[tuple[tuple[str, ...], str]]:
    """``(path, value_json)`` of the repeated items in field ``number``."""
    found = []
    for raw in fields_of(body).get(number, []):
        item = fields_of(raw)
        nested = [key.decode("utf-8", "replace") for key in item.get(2, [])]
        path = tuple(nested) if nested else (_text(item, 1),)
        found.append((path, _text(item, 16)))
    return found


def loads_value(text: str) -> Any:
    """Decode ``value_json``, including the NaN/Infinity tokens."""
    if not text:
        return None
    return json.loads(text)


def _apply_items(target: dict[str, Any], body: bytes) -> None:
    for path, text in items(body, 1):
        set_nested(target, path, loads_value(text))
    for path, _text_value in items(body, 2):
        pop_nested(target, path)


def read_run(path: str, with_history: bool = True) -> RunLog:
    """Replay the log at ``path`` into a ``RunLog``."""
    records, problems = read_records(path)
    run = RunLog(problems=problems)
    for record in records:
        if record.kind == "history" and with_history:
            row: dict[str, Any] = {}
            for item_path, text in items(record.body, 1):
                set_nested(row, item_path, loads_value(text))
            run.history.append(row)
        elif record.kind == "summary":
            _apply_items(run.summary, record.body)
        elif record.kind == "config":
            _apply_items(run.config, record.body)
        elif record.kind == "run":
            _apply_run(run, record.body)
        elif record.kind == "exit":
            code = fields_of(record.body).get(1, [0])[-1]
            run.exit_code = code - (1 << 64) if code >= 1 << 63 else code
        elif record.kind == "header":
            version = fields_of(record.body).get(1)
            if version:
                run.producer = _text(fields_of(version[-1]), 1)
    return run


def _apply_run(run: RunLog, body: bytes) -> None:
    fields = fields_of(body)
    run.run_id = _text(fields, 1)
    run.entity = _text(fields, 2)
    run.project = _text(fields, 3)
    run.display_name = _text(fields, 8)
    if 4 in fields:
        _apply_items(run.config, fields[4][-1])
    if 5 in fields:
        _apply_items(run.summary, fields[5][-1])
    if 17 in fields:
        stamp = fields_of(fields[17][-1])
        run.start_time = stamp.get(1, [0])[-1] + stamp.get(2, [0])[-1] / 1e9


# ---------------------------------------------------------------------------
# Column-wise reading, for tools that look at a whole run (`wandb-core show`)
# ---------------------------------------------------------------------------
#
# ``read_run`` builds a dict per history row, which costs seconds for a long
# run. ``read_run_columns`` keeps each history key as a column of JSON texts
# instead, decoded only when asked for, and cuts the texts out of the rows
# without parsing each item in Python where it can:
#
# Rows of one run repeat the same keys. Each item of a row (a ``HistoryItem``
# or ``SummaryItem``) is written by every writer as its key fields, then the
# ``value_json`` field: a "prefix" that only depends on the key, the value's
# length as a varint, and the value. Once a row's prefixes have been seen
# twice, they become a regular expression over the row's items joined by NUL
# bytes (which JSON text never holds), and later rows with the same keys are
# split by one C call. Rows are tried in their own order, then sorted: the
# official client shuffles its items, and sorted items follow the order of
# their prefixes, whatever the values. A match is used only when every
# captured length varint equals its value's length, so a split row is
# exactly what a protobuf parser reads; anything else goes through the exact
# slow path.

# Field 16, wire type 2: the tag of every item's ``value_json``.
VALUE_TAG = b"\x82\x01"
ITEM_SEPARATOR = b"\x00"
# Rows with more items than this are always split the slow way: a regular
# expression with thousands of groups costs more than it saves.
MAX_SHAPE_ITEMS = 400
# Prefix lists (in a row's order, and sorted) seen once are remembered until
# a second sighting; forgotten in bulk beyond this many, so that rows that
# never repeat cost no memory.
MAX_PENDING_SHAPES = 4096
# Shapes tried on each row before the slow path looks the row's shape up.
RECENT_SHAPES = 4
# Compiled shapes kept per log: a log whose rows keep changing keys beyond
# this is read the slow way rather than compiling an expression per row.
MAX_SHAPES = 256
_LENGTH_VARINT = rb"([\x80-\xff]{0,9}[\x00-\x7f])"
_VALUE_TEXT = rb"([^\x00]*)"

# Summary bodies up to this size that repeat are recognized whole, up to
# this many distinct ones.
SMALL_BODY = 128
MAX_SMALL_BODIES = 1024

Pair = tuple[tuple[str, ...], bytes]


@dataclasses.dataclass
class Column:
    """One history key: the rows it was logged in and its values' JSON texts.

    ``rows`` are indexes of history records (0 for the first); ``texts``
    are the ``value_json`` bytes of the same rows. Decode with ``values``
    or ``numbers``.
    """

    path: tuple[str, ...]
    rows: list[int]
    texts: list[bytes]

    def values(self) -> list[Any]:
        """Every value, decoded from JSON (NaN and infinities included)."""
        try:
            decoded = json.loads(b"[" + b",".join(self.texts) + b"]")
        except ValueError:
            return [loads_value(text.decode("utf-8", "replace")) for text in self.texts]
        if len(decoded) != len(self.texts):  # Defensive: a text held a comma list
            return [loads_value(text.decode("utf-8", "replace")) for text in self.texts]
        return list(decoded)

    def numbers(self) -> list[float] | None:
        """Every value as a float, or None when any value is not a number.

        Booleans, strings, null and containers are not numbers here.
        """
        try:
            return list(map(float, self.texts))
        except (ValueError, TypeError):
            return None

    def value_at(self, row: int) -> Any:
        """The decoded value logged in history row ``row``, or None."""
        index = bisect.bisect_left(self.rows, row)
        if index == len(self.rows) or self.rows[index] != row:
            return None
        return loads_value(self.texts[index].decode("utf-8", "replace"))


@dataclasses.dataclass
class RunColumns:
    """A run read column by column.

    ``run`` is what ``read_run(path, with_history=False)`` gives (identity,
    config, summary, exit code, problems); ``columns`` hold the history,
    one ``Column`` per flattened key, and ``rows`` counts history records.
    ``runtime`` is the exit record's runtime in seconds, when there is one.
    """

    run: RunLog
    rows: int = 0
    columns: dict[tuple[str, ...], Column] = dataclasses.field(default_factory=dict)
    runtime: int | None = None
    # The artifacts the run logged, in log order (``artifact_overview``).
    artifacts: list[dict[str, Any]] = dataclasses.field(default_factory=list)


class _Shape:
    """A list of item prefixes and the expression that splits rows by it."""

    __slots__ = ("paths", "regex")

    def __init__(self, prefixes: tuple[bytes, ...], paths: tuple[tuple[str, ...], ...]):
        self.paths = paths
        pattern = ITEM_SEPARATOR.join(
            re.escape(prefix) + _LENGTH_VARINT + _VALUE_TEXT for prefix in prefixes
        )
        self.regex = re.compile(pattern, re.DOTALL)


def _parse_item(item: bytes) -> tuple[tuple[str, ...], bytes, bytes | None]:
    """``(path, value_json, prefix)`` of one item; prefix None if not canonical.

    The prefix is the item up to its value's length varint; it is returned
    only when the item is exactly key fields, then one ``value_json`` field
    last, as every writer lays it out.
    """
    keys: list[bytes] = []
    nested: list[bytes] = []
    text = b""
    canonical = True
    fields = parse_fields(item)
    for position, (field, wire_type, value) in enumerate(fields):
        if wire_type != 2:
            canonical = False
        elif field == 1:
            keys.append(value)
        elif field == 2:
            nested.append(value)
        elif field == 16:
            text = value
            canonical = canonical and position == len(fields) - 1
        else:
            canonical = False
    if nested:
        path = tuple(key.decode("utf-8", "replace") for key in nested)
    else:
        path = (keys[-1].decode("utf-8", "replace") if keys else "",)
    tail = VALUE_TAG + encode_varint(len(text)) + text
    if not canonical or not fields or fields[-1][0] != 16 or not item.endswith(tail):
        return path, text, None
    return path, text, item[: len(item) - len(tail) + len(VALUE_TAG)]


class _ItemSplitter:
    """Splits lists of items into paths and value texts, fast for repeats."""

    def __init__(self) -> None:
        self._pending: set[tuple[bytes, ...]] = set()
        self._shapes: dict[tuple[bytes, ...], _Shape] = {}
        self._recent: list[_Shape] = []

    def split(self, items: list[bytes]) -> tuple[_Shape | None, Any]:
        """``(shape, texts)`` in the shape's path order, or ``(None, pairs)``.

        ``pairs`` are ``(path, value_json)`` in the items' own order. Rows
        in a writer's fixed order match as they are; shuffled rows (the
        official client's) match once sorted.
        """
        found = self._match(ITEM_SEPARATOR.join(items))
        if found is None:
            found = self._match(ITEM_SEPARATOR.join(sorted(items)))
        if found is not None:
            return found
        return None, self._split_slowly(items)

    def _match(self, joined: bytes) -> tuple[_Shape, tuple[bytes, ...]] | None:
        for shape in self._recent:
            match = shape.regex.fullmatch(joined)
            if match is None:
                continue
            groups = match.groups()
            texts = groups[1::2]
            try:
                exact = b"".join(groups[0::2]) == bytes(map(len, texts))
            except ValueError:  # a value of 256 bytes or more
                exact = False
            if not exact:
                return None
            if shape is not self._recent[0]:
                self._recent.remove(shape)
                self._recent.insert(0, shape)
            return shape, texts
        return None

    def _split_slowly(self, items: list[bytes]) -> list[Pair]:
        pairs: list[Pair] = []
        prefixes: list[bytes] = []
        for item in items:
            path, text, prefix = _parse_item(item)
            pairs.append((path, text))
            if prefix is not None:
                prefixes.append(prefix)
        canonical = len(prefixes) == len(items)
        if canonical and 0 < len(items) <= MAX_SHAPE_ITEMS:
            paths = [path for path, _text in pairs]
            # A path twice in a row (even under two prefixes): the last
            # wins, so its order among equals matters and sorting would lose it.
            if len(set(paths)) == len(paths):
                self._remember(tuple(prefixes), tuple(paths))
                order = sorted(range(len(prefixes)), key=prefixes.__getitem__)
                self._remember(
                    tuple(prefixes[index] for index in order),
                    tuple(paths[index] for index in order),
                )
        return pairs

    def _remember(
        self, prefixes: tuple[bytes, ...], paths: tuple[tuple[str, ...], ...]
    ) -> None:
        shape = self._shapes.get(prefixes)
        if shape is None:
            if prefixes not in self._pending:
                if len(self._pending) >= MAX_PENDING_SHAPES:
                    self._pending.clear()
                self._pending.add(prefixes)
                return
            if len(self._shapes) >= MAX_SHAPES:
                return
            self._pending.discard(prefixes)
            shape = self._shapes[prefixes] = _Shape(prefixes, paths)
        if shape in self._recent:
            self._recent.remove(shape)
        self._recent.insert(0, shape)
        del self._recent[RECENT_SHAPES:]


class _HistoryColumns:
    """Collects history rows into columns."""

    def __init__(self) -> None:
        self.rows = 0
        self._splitter = _ItemSplitter()
        # Per shape: the rows it split and their value texts.
        self._fast: dict[_Shape, tuple[list[int], list[tuple[bytes, ...]]]] = {}
        self._slow: dict[tuple[str, ...], tuple[list[int], list[bytes]]] = {}

    def add(self, body: bytes) -> None:
        row = self.rows
        self.rows += 1
        items = [value for field, _wire, value in parse_fields(body) if field == 1]
        shape, found = self._splitter.split(items)
        if shape is not None:
            shape_rows, shape_texts = self._fast.setdefault(shape, ([], []))
            shape_rows.append(row)
            shape_texts.append(found)
            return
        for path, text in dict(found).items():  # a key twice: the last wins
            rows, texts = self._slow.setdefault(path, ([], []))
            rows.append(row)
            texts.append(text)

    def columns(self) -> dict[tuple[str, ...], Column]:
        parts: dict[tuple[str, ...], list[tuple[list[int], Any]]] = {}
        for shape, (rows, values) in self._fast.items():
            for path, texts in zip(shape.paths, zip(*values)):
                parts.setdefault(path, []).append((rows, texts))
        for path, piece in self._slow.items():
            parts.setdefault(path, []).append(piece)
        columns = {}
        for path, pieces in parts.items():
            if len(pieces) == 1:
                columns[path] = Column(path, list(pieces[0][0]), list(pieces[0][1]))
                continue
            columns[path] = _merged(path, pieces)
        return columns


def _merged(path: tuple[str, ...], pieces: list[tuple[list[int], Any]]) -> Column:
    """One column from pieces of it, each in row order."""
    pieces.sort(key=_first_row)
    if all(
        before[0][-1] < after[0][0] for before, after in zip(pieces, pieces[1:])
    ):  # rows that changed shape once, e.g. the first rows split slowly
        rows = list(itertools.chain.from_iterable(piece[0] for piece in pieces))
        texts = list(itertools.chain.from_iterable(piece[1] for piece in pieces))
        return Column(path, rows, texts)
    merged = sorted(
        itertools.chain.from_iterable(zip(*piece) for piece in pieces), key=_first
    )
    return Column(path, [row for row, _ in merged], [text for _, text in merged])


def _first_row(piece: tuple[list[int], Any]) -> int:
    return piece[0][0]


def _first(pair: tuple[int, bytes]) -> int:
    return pair[0]


class _SummaryOps:
    """The last set and the last removal of every summary path.

    Replaying every summary record costs seconds for the official client's
    logs (two per history row), so only what decides the final summary is
    kept: per path, the last set and any removal after it. Replayed in log
    order they give what a full replay gives. (Within one record, paths
    that overlap, ``m`` next to ``m.x``, apply in the order they were first
    seen; no writer puts both in one record.)
    """

    def __init__(self) -> None:
        self._splitter = _ItemSplitter()
        self._sets: dict[tuple[str, ...], tuple[int, bytes]] = {}
        self._removals: dict[tuple[str, ...], int] = {}
        # Small bodies seen before and their items: the official client
        # repeats one (its internal runtime) with every history row.
        self._small: dict[bytes, tuple[list[Pair], list[tuple[str, ...]]]] = {}

    def add(self, sequence: int, body: bytes) -> None:
        # Updates come before removals within one record, as ``_apply_items``.
        order = 2 * sequence
        known = self._small.get(body)
        if known is not None:
            for path, text in known[0]:
                self._sets[path] = (order, text)
            for path in known[1]:
                self._removals[path] = order + 1
            return
        fields = parse_fields(body)
        updates = [value for field, _wire, value in fields if field == 1]
        removals = [
            _parse_item(value)[0] for field, _wire, value in fields if field == 2
        ]
        shape, found = self._splitter.split(updates)
        if shape is not None:
            self._sets.update(zip(shape.paths, zip(itertools.repeat(order), found)))
        else:
            for path, text in found:
                self._sets[path] = (order, text)
            if len(body) <= SMALL_BODY and len(self._small) < MAX_SMALL_BODIES:
                self._small[body] = (found, removals)
        for path in removals:
            self._removals[path] = order + 1

    def apply(self, summary: dict[str, Any]) -> None:
        steps: list[tuple[int, tuple[str, ...], bytes | None]] = [
            (order, path, text) for path, (order, text) in self._sets.items()
        ]
        for path, order in self._removals.items():
            if order > self._sets.get(path, (-1, b""))[0]:
                steps.append((order, path, None))
        steps.sort(key=_first_of_step)
        for _order, path, text in steps:
            if text is None:
                pop_nested(summary, path)
            else:
                set_nested(summary, path, loads_value(text.decode("utf-8", "replace")))


def _first_of_step(step: tuple[int, tuple[str, ...], bytes | None]) -> int:
    return step[0]


def read_run_columns(path: str, overview: bool = False) -> RunColumns:
    """Read the log at ``path`` once into a ``RunColumns``.

    A log cut short anywhere, even inside its 7-byte header, reads as far
    as it goes, with what was lost in ``run.problems``.

    Args:
        path: the ``.wandb`` transaction log.
        overview: count the history rows but keep only the last one, and
            skip the summary (to list many runs quickly).

    Raises:
        LogFormatError: the file is not a W&B transaction log.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    run = RunLog()
    if data[: len(FILE_HEADER)] != FILE_HEADER:
        if not FILE_HEADER.startswith(data):
            msg = f"{path!r} does not start with the W&B transaction log header."
            raise LogFormatError(msg)
        run.problems.append(f"the log ends after {len(data)} bytes, inside its header")
        return RunColumns(run)
    payloads, run.problems = unframe(data, len(FILE_HEADER))
    result = RunColumns(run)
    history = _HistoryColumns()
    summary = _SummaryOps()
    last_row = b""
    for sequence, payload in enumerate(payloads):
        try:
            for field, _wire, body in parse_fields(payload):
                # Dispatch on the body's field number; the hot kinds first.
                if field == 2:
                    if overview:
                        history.rows += 1
                        last_row = body
                    else:
                        history.add(body)
                elif field == 3:
                    if not overview:
                        summary.add(sequence, body)
                elif field in RECORD_KINDS:
                    _read_into(result, RECORD_KINDS[field], body)
                else:
                    continue
                break
        except (ValueError, TypeError, AttributeError) as error:
            run.problems.append(f"undecodable record: {error}")
    if overview and history.rows:
        history.rows -= 1
        try:
            history.add(last_row)
        except (ValueError, TypeError, AttributeError) as error:
            run.problems.append(f"undecodable record: {error}")
    summary.apply(run.summary)
    result.rows = history.rows
    result.columns = history.columns()
    return result


def artifact_overview(body: bytes) -> dict[str, Any]:
    """An ``artifact`` record's name, type, aliases, digest and contents.

    ``files`` and ``size`` count the manifest's entries and their bytes;
    a manifest kept in a separate file (a very large artifact) has
    ``manifest_file`` instead and no counts.
    """
    fields = fields_of(body)
    manifest = fields_of(fields.get(12, [b""])[-1])
    entries = [fields_of(raw) for raw in manifest.get(4, [])]
    return {
        "name": _text(fields, 5),
        "type": _text(fields, 4),
        "aliases": [alias.decode("utf-8", "replace") for alias in fields.get(11, [])],
        "digest": _text(fields, 6),
        "files": len(entries),
        "size": sum(entry.get(4, [0])[-1] for entry in entries),
        "references": sum(1 for entry in entries if entry.get(3)),
        "manifest_file": _text(manifest, 5) or None,
    }


def _read_into(result: RunColumns, kind: str, body: bytes) -> None:
    run = result.run
    if kind == "artifact":
        result.artifacts.append(artifact_overview(body))
    elif kind == "config":
        _apply_items(run.config, body)
    elif kind == "run":
        _apply_run(run, body)
    elif kind == "exit":
        fields = fields_of(body)
        code = fields.get(1, [0])[-1]
        run.exit_code = code - (1 << 64) if code >= 1 << 63 else code
        result.runtime = fields.get(2, [0])[-1]
    elif kind == "header":
        version = fields_of(body).get(1)
        if version:
            run.producer = _text(fields_of(version[-1]), 1)
