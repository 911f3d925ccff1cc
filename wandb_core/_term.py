"""What the user sees on the terminal: short lines on stderr.

Logs go to the run's ``logs/debug.log``; this module is for the few lines a
person should read. ``WANDB_SILENT=true`` hides everything but the alerts
that say data may be lost.
"""

from __future__ import annotations

import sys
import threading

from wandb_core import _env

PREFIX = "wandb-core: "
_said_once: set[str] = set()
_lock = threading.Lock()


def info(message: str) -> None:
    """An informational line, hidden by ``WANDB_SILENT``."""
    if not _env.silent():
        _write(message)


def warn(message: str) -> None:
    """A warning about the user's input, hidden by ``WANDB_SILENT``."""
    if not _env.silent():
        _write("WARNING " + message)


def alert(message: str) -> None:
    """A warning that data may be lost: shown even when silent."""
    _write("WARNING " + message)


def alert_once(key: str, message: str) -> None:
    """An ``alert`` shown at most once per process for ``key``."""
    with _lock:
        if key in _said_once:
            return
        _said_once.add(key)
    alert(message)


def _write(message: str) -> None:
    try:
        sys.stderr.write(PREFIX + message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # Defensive: stderr closed or broken
        pass
