"""Reading transaction logs, ours and the official client's.

``read_records`` splits a log into records and tells which body each one
holds; ``read_run`` replays them into what a person wants to see: the run's
identity, config, summary, history rows and exit code. Logs cut short by a
crash give every complete record before the cut; a damaged block is
skipped (see ``_fast.unframe``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from wandb_core._fast import parse_fields, unframe
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
