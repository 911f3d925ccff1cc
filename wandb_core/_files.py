"""The readable copies of a run's state under ``files/``.

The transaction log is the source of truth; ``config.yaml``,
``wandb-summary.json``, ``wandb-metadata.json`` and ``requirements.txt``
are derived from the run and written on the writer thread.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from wandb_core._fast import value_json
from wandb_core.backend import records, rundir

if TYPE_CHECKING:
    from wandb_core.runs import Run

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
SUMMARY_FILE = "wandb-summary.json"
METADATA_FILE = "wandb-metadata.json"
REQUIREMENTS_FILE = "requirements.txt"


def write_readable_files(run: Run) -> None:
    """Rewrite the summary and config files if they changed."""
    summary, config = run.snapshot_files()
    if summary is not None:
        rundir.write_text_atomic(_path(run, SUMMARY_FILE), summary_json(summary))
    if config is not None:
        rundir.write_text_atomic(_path(run, CONFIG_FILE), config_yaml(config))


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as indented JSON, each leaf encoded as in the log.

    Leaves go through the same ``value_json`` as the summary records, so
    the file and the log agree on every value (``2.0`` is ``2`` in both,
    integers beyond int64 are doubles in both).
    """
    return _json_tree(summary, "") + "\n"


def _json_tree(value: Any, indent: str) -> str:
    if type(value) is not dict:
        return value_json(value)
    if not value:
        return "{}"
    inner = indent + "  "
    members = [
        f"{inner}{json.dumps(key, ensure_ascii=False)}: {_json_tree(item, inner)}"
        for key, item in value.items()
    ]
    return "{\n" + ",\n".join(members) + "\n" + indent + "}"


def config_yaml(config: dict[str, Any]) -> str:
    """The config in the official format: each key maps to ``{value: ...}``."""
    if not config:
        return "{}\n"
    import yaml  # lazily: only the writer thread needs it

    document = {key: {"value": value} for key, value in config.items()}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def write_start_files(run: Run, program: str | None, root: str) -> list[bytes]:
    """Environment record, metadata and requirements: work ``init`` skips.

    Runs on the writer thread; returns the records to append.
    """
    fields = rundir.environment_fields(run.start_time, root, program)
    produced = [records.environment(fields, run.id)]
    rundir.write_json_atomic(_path(run, METADATA_FILE), rundir.metadata_json(fields))
    rundir.write_text_atomic(_path(run, REQUIREMENTS_FILE), rundir.requirements_text())
    produced.append(records.files([REQUIREMENTS_FILE, METADATA_FILE]))
    return produced


def _path(run: Run, name: str) -> str:
    return os.path.join(run.dir, name)
