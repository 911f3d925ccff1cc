"""Files that logged values need (media, staged artifact files), written later.

``log()`` never waits for the disk: a Table or an Image has its bytes ready
on the caller's thread, and the files are created by the run's writer
thread, in order with the records that name them, so that a file is on
disk before the record that points at it. A file that cannot be written
(disk full, folder gone) never reaches the training script: it is reported
once, and the run goes on without that file.
"""

from __future__ import annotations

import logging
import os
import stat
from typing import Any

from wandb_core import _term
from wandb_core.artifacts import remove_quietly, write_new_file

logger = logging.getLogger(__name__)

_made_dirs: set[str] = set()


def write_soon(
    run: Any, path: str, data: bytes, *, read_only: bool = False, what: str
) -> None:
    """Write ``data`` to ``path`` on the run's writer thread.

    Args:
        run: The run whose writer thread writes (the current thread when
            the run has no writer).
        path: The file to write; its folder is made if missing.
        data: The bytes.
        read_only: Create a new, read-only file (a staged artifact file)
            rather than replacing whatever is at ``path``.
        what: What the file is, for the message when it cannot be written.
    """
    writer = getattr(run, "_writer", None)
    # Told once per run: each run's first lost file is news.
    key = f"media-files:{getattr(run, 'id', '')}"
    if writer is None or os.getpid() != getattr(run, "_owner_pid", None):
        write_now(path, data, read_only=read_only, what=what, alert_key=key)
        return
    writer.call_soon(
        lambda: write_now(path, data, read_only=read_only, what=what, alert_key=key)
    )


def write_now(
    path: str,
    data: bytes,
    *,
    read_only: bool = False,
    what: str,
    alert_key: str = "media-files",
) -> None:
    """Write ``data`` to ``path`` now; a failure is reported, never raised."""
    try:
        folder = os.path.dirname(path)
        if folder not in _made_dirs:
            os.makedirs(folder, exist_ok=True)
            _made_dirs.add(folder)
        if read_only:
            write_new_file(path, data, stat.S_IRUSR)
        else:
            with open(path, "wb", buffering=0) as stream:
                stream.write(data)
    except OSError as error:
        _made_dirs.discard(os.path.dirname(path))
        if not isinstance(error, FileExistsError):  # else the file is not ours
            remove_quietly(path)
        logger.warning("could not write %s %s: %s", what, path, error)
        _term.alert_once(
            alert_key,
            f"Could not write {what} to {path} ({error}); the run goes on, "
            "without this file and any other that cannot be written.",
        )
