"""Protobuf bodies of the records that are written once or rarely.

History and summary records are the hot path and live in ``_fast``; the
header, run, environment, files, config, metric and exit records are built
here with a small message builder. Each function returns the record body
without its ``num`` field, which the writer adds in write order.

Field numbers follow ``wandb_internal.proto`` of the official client.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from wandb_core._fast import encode_varint

# Record body fields.
_HISTORY = 2
_CONFIG = 5
_FILES = 6
_ARTIFACT = 8
_METRIC = 12
_RUN = 17
_EXIT = 18
_HEADER = 21
_ENVIRONMENT = 26
_INFO = 200

# FilesItem.type and policy values.
FILE_TYPE_OTHER = 0
FILE_TYPE_WANDB = 1
FILE_TYPE_MEDIA = 2
FILE_POLICY_NOW = 0
FILE_POLICY_END = 1

# MetricRecord.goal values.
GOAL_MINIMIZE = 1
GOAL_MAXIMIZE = 2

# The oldest official reader that understands our logs, as it writes it.
MIN_CONSUMER_VERSION = "0.70.0"


class Message:
    """Builds one protobuf message field by field, in the order added."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def varint(self, field: int, value: int) -> Message:
        """Add an int field; zero is proto3's default and is left out."""
        if value:
            self._parts.append(encode_varint(field << 3) + encode_varint(value))
        return self

    def boolean(self, field: int, value: bool) -> Message:
        """Add a bool field; false is left out."""
        return self.varint(field, 1 if value else 0)

    def raw(self, field: int, payload: bytes, keep_empty: bool = False) -> Message:
        """Add a length-delimited field (bytes or an encoded message)."""
        if payload or keep_empty:
            tag = encode_varint((field << 3) | 2)
            self._parts.append(tag + encode_varint(len(payload)) + payload)
        return self

    def text(self, field: int, value: str | None) -> Message:
        """Add a string field; empty and None are left out."""
        if value:
            self.raw(field, value.encode("utf-8"))
        return self

    def texts(self, field: int, values: Iterable[str]) -> Message:
        """Add a repeated string field."""
        for value in values:
            self.raw(field, value.encode("utf-8"), keep_empty=True)
        return self

    def message(self, field: int, child: Message, keep_empty: bool = False) -> Message:
        """Add a nested message."""
        return self.raw(field, child.to_bytes(), keep_empty=keep_empty)

    def to_bytes(self) -> bytes:
        """The encoded message."""
        return b"".join(self._parts)


def _timestamp(seconds: float) -> Message:
    whole = int(seconds)
    return Message().varint(1, whole).varint(2, int((seconds - whole) * 1e9))


def _record(field: int, body: Message, stream_id: str | None = None) -> bytes:
    record = Message().message(field, body, keep_empty=True)
    if stream_id:
        record.message(_INFO, Message().text(1, stream_id))
    return record.to_bytes()


def _config_items(items: Iterable[tuple[str, str]]) -> Message:
    config = Message()
    for key, text in items:
        config.message(1, Message().text(1, key).text(16, text))
    return config


def header(producer: str) -> bytes:
    """The first record: who wrote the log and who can read it."""
    version_info = Message().text(1, producer).text(2, MIN_CONSUMER_VERSION)
    return _record(_HEADER, Message().message(1, version_info))


def run(
    *,
    run_id: str,
    entity: str | None,
    project: str | None,
    config_items: Sequence[tuple[str, str]],
    group: str | None,
    job_type: str | None,
    display_name: str | None,
    notes: str | None,
    tags: Sequence[str],
    host: str | None,
    start_time: float,
) -> bytes:
    """The run record, with the initial config (``(key, json)`` pairs)."""
    body = (
        Message()
        .text(1, run_id)
        .text(2, entity)
        .text(3, project)
        .message(4, _config_items(config_items))
        .text(6, group)
        .text(7, job_type)
        .text(8, display_name)
        .text(9, notes)
        .texts(10, tags)
        .text(13, host)
        .message(17, _timestamp(start_time))
    )
    return _record(_RUN, body, run_id)


def environment(fields: dict[str, Any], run_id: str) -> bytes:
    """The environment record from the metadata dict (see ``rundir``)."""
    body = (
        Message()
        .text(1, fields.get("os"))
        .text(2, fields.get("python"))
        .message(3, _timestamp(fields["started_at_seconds"]))
        .texts(5, fields.get("args", ()))
        .text(6, fields.get("program"))
        .text(7, fields.get("codePath"))
        .text(11, fields.get("root"))
        .text(12, fields.get("host"))
        .text(13, fields.get("username"))
        .text(14, fields.get("executable"))
        .varint(16, fields.get("cpu_count") or 0)
        .varint(17, fields.get("cpu_count_logical") or 0)
        .text(199, fields.get("writerId"))
    )
    return _record(_ENVIRONMENT, body, run_id)


def files(paths: Iterable[str], file_type: int = FILE_TYPE_WANDB) -> bytes:
    """A files record announcing run files (paths relative to ``files/``)."""
    body = Message()
    for path in paths:
        body.message(1, Message().text(1, path).varint(3, file_type))
    return _record(_FILES, body)


def config(
    updates: Iterable[tuple[str, str]], removes: Iterable[str], run_id: str
) -> bytes:
    """A config record: ``(key, json)`` updates and removed keys."""
    body = _config_items(updates)
    for key in removes:
        body.message(2, Message().text(1, key))
    return _record(_CONFIG, body, run_id)


def metric(
    *,
    name: str | None,
    glob_name: str | None,
    step_metric: str | None,
    step_sync: bool,
    hidden: bool,
    summary: Sequence[str],
    goal: int,
    overwrite: bool,
    run_id: str,
) -> bytes:
    """A metric record, as ``define_metric`` writes it."""
    options = Message().boolean(1, step_sync).boolean(2, hidden).boolean(3, True)
    summary_fields = {
        "min": 1,
        "max": 2,
        "mean": 3,
        "best": 4,
        "last": 5,
        "none": 6,
        "copy": 7,
        "first": 8,
    }
    summary_message = Message()
    for name_of_summary in summary:
        summary_message.boolean(summary_fields[name_of_summary], True)
    body = (
        Message()
        .text(1, name)
        .text(2, glob_name)
        .text(4, step_metric)
        .message(6, options)
        .message(7, summary_message)
        .varint(8, goal)
        .message(9, Message().boolean(1, overwrite))
    )
    return _record(_METRIC, body, run_id)


def _manifest_entry(fields: Mapping[str, Any]) -> Message:
    entry = (
        Message()
        .text(1, fields["path"])
        .text(2, fields["digest"])
        .text(3, fields.get("ref"))
        .varint(4, fields.get("size") or 0)
        .text(6, fields.get("local_path"))
        .text(7, fields.get("birth_artifact_id"))
        .boolean(8, bool(fields.get("skip_cache")))
    )
    for key, value_json in fields.get("extra", ()):
        entry.message(16, Message().text(1, key).text(2, value_json))
    return entry


def artifact(
    *,
    run_id: str,
    project: str | None,
    entity: str | None,
    artifact_type: str,
    name: str,
    digest: str,
    client_id: str,
    sequence_client_id: str,
    manifest_entries: Iterable[Mapping[str, Any]],
    storage_policy: str,
    storage_policy_config: Iterable[tuple[str, str]],
    manifest_version: int = 1,
    aliases: Sequence[str] = ("latest",),
    description: str | None = None,
    metadata_json: str | None = None,
    user_created: bool = False,
    use_after_commit: bool = False,
    finalize: bool = True,
    distributed_id: str | None = None,
    base_id: str | None = None,
    ttl_duration_seconds: int = 0,
    tags: Sequence[str] = (),
    digest_algorithm: str = "MANIFEST_MD5",
    incremental: bool = False,
    manifest_file_path: str | None = None,
) -> bytes:
    """An artifact record: an artifact the run logged, with its manifest.

    ``manifest_entries`` hold each entry's ``path``, ``digest`` and the
    optional ``ref``, ``size``, ``local_path``, ``birth_artifact_id``,
    ``skip_cache`` and ``extra`` (``(key, json)`` pairs), in the order to
    write (the official client writes them by path);
    ``storage_policy_config`` is ``(key, json)`` pairs. A very large manifest
    lives in a file instead (``manifest_file_path``), as the official client
    writes it: then neither entries nor the policy's settings are written.
    """
    manifest = Message().varint(1, manifest_version).text(2, storage_policy)
    if manifest_file_path is not None:
        manifest.text(5, manifest_file_path)
    else:
        for key, value_json in storage_policy_config:
            manifest.message(3, Message().text(1, key).text(2, value_json))
        for fields in manifest_entries:
            manifest.message(4, _manifest_entry(fields), keep_empty=True)
    body = (
        Message()
        .text(1, run_id)
        .text(2, project)
        .text(3, entity)
        .text(4, artifact_type)
        .text(5, name)
        .text(6, digest)
        .text(7, description)
        .text(8, metadata_json)
        .boolean(9, user_created)
        .boolean(10, use_after_commit)
        .texts(11, aliases)
        .message(12, manifest)
        .text(13, distributed_id)
        .boolean(14, finalize)
        .text(15, client_id)
        .text(16, sequence_client_id)
        .text(17, base_id)
        .varint(18, ttl_duration_seconds)
        .texts(19, tags)
        .text(20, digest_algorithm)
        .boolean(100, incremental)
    )
    return _record(_ARTIFACT, body, run_id)


def exit_record(exit_code: int, runtime_seconds: int, run_id: str) -> bytes:
    """The last record of a finished run."""
    # exit_code is an int32: negative codes are sign-extended to 64 bits.
    body = Message().varint(1, exit_code).varint(2, max(0, runtime_seconds))
    return _record(_EXIT, body, run_id)


def now() -> float:
    """Wall-clock seconds, the clock every record timestamp uses."""
    return time.time()
