"""The run directory, laid out as the official client lays it out offline.

``<dir>/wandb/offline-run-YYYYMMDD_HHMMSS-<id>/`` holds ``run-<id>.wandb``,
``files/`` (requirements, metadata, readable config and summary) and
``logs/debug.log``; ``<dir>/wandb/latest-run`` points at the newest run.
Readable files are written atomically (temp file, then rename).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

logger = logging.getLogger(__name__)

LATEST_RUN_LINK = "latest-run"


class RunDirectory:
    """Paths of one run's directory; ``create`` makes it on disk."""

    def __init__(self, root: str, run_id: str, start_time: float, offline: bool):
        stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(start_time))
        prefix = "offline-run" if offline else "run"
        self.wandb_dir = os.path.join(root, "wandb")
        self.path = os.path.join(self.wandb_dir, f"{prefix}-{stamp}-{run_id}")
        self.files = os.path.join(self.path, "files")
        self.logs = os.path.join(self.path, "logs")
        self.log_file = os.path.join(self.path, f"run-{run_id}.wandb")
        self.debug_log = os.path.join(self.logs, "debug.log")

    def create(self) -> None:
        """Make the directories and point ``latest-run`` at this run."""
        os.makedirs(self.files, exist_ok=True)
        os.makedirs(self.logs, exist_ok=True)
        self._link_latest()

    def _link_latest(self) -> None:
        link = os.path.join(self.wandb_dir, LATEST_RUN_LINK)
        target = os.path.basename(self.path)
        temporary = f"{link}.{os.getpid()}.tmp"
        try:
            if os.path.lexists(temporary):
                os.remove(temporary)
            os.symlink(target, temporary)
            os.replace(temporary, link)
        except OSError as error:  # Defensive: e.g. no symlinks on Windows
            logger.debug("could not link %s to %s: %s", link, target, error)

    def file_path(self, name: str) -> str:
        """Path of a file under ``files/``."""
        return os.path.join(self.files, name)


def write_text_atomic(path: str, text: str) -> None:
    """Write a text file so that readers see the old or the new content."""
    import tempfile

    directory = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes files private to the owner
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise


def write_json_atomic(path: str, value: Any) -> None:
    """Write ``value`` as indented JSON, atomically."""
    write_text_atomic(path, json.dumps(value, indent=2, allow_nan=True) + "\n")


def requirements_text() -> str:
    """``name==version`` of every installed distribution, sorted.

    Read from the names of ``*.dist-info`` and ``*.egg-info`` folders on
    ``sys.path``: as exact as ``importlib.metadata`` for what pip installs,
    and a few hundred times faster, since no metadata file is opened.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            project, dash, version = stem.partition("-")
            version = version.partition("-py")[0]
            if dash and version:
                found.setdefault(project.lower().replace("_", "-"), version)
    lines = [f"{project}=={version}" for project, version in sorted(found.items())]
    return "\n".join(lines) + "\n"


def environment_fields(
    start_time: float, root: str, program: str | None
) -> dict[str, Any]:
    """The host and process facts of the environment record.

    Keys are those of the official ``wandb-metadata.json``; the
    ``started_at_seconds`` entry is for the record and is not written out.
    """
    import getpass
    import platform
    import uuid

    main = sys.modules.get("__main__")
    program = program or getattr(main, "__file__", None) or "<python with no main file>"
    program_path = program
    code_path = program
    if os.path.exists(program):
        program_path = os.path.abspath(program)
        try:
            code_path = os.path.relpath(program_path, root)
        except ValueError:  # Defensive: another drive on Windows
            code_path = program_path
    try:
        username = getpass.getuser()
    except Exception:  # Defensive: no user name in containers without passwd
        username = ""
    return {
        "os": _os_description(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "startedAt": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start_time))
        + f".{int(start_time % 1 * 1e6):06d}Z",
        "started_at_seconds": start_time,
        "args": list(sys.argv[1:]),
        "program": program_path,
        "codePath": code_path,
        "root": root,
        "host": hostname(),
        "username": username,
        "executable": sys.executable,
        "cpu_count": os.cpu_count() or 0,
        "cpu_count_logical": os.cpu_count() or 0,
        "writerId": str(uuid.uuid4()),
    }


def metadata_json(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as written to ``files/wandb-metadata.json``."""
    return {key: value for key, value in fields.items() if key != "started_at_seconds"}


def hostname() -> str:
    """The machine's name, without importing ``socket`` where possible."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # Defensive: Windows has no os.uname

    return socket.gethostname()


def _os_description() -> str:
    """``platform.platform()``'s text, without its slow C-library probe."""
    libc = ""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        pass
    if hasattr(os, "uname") and libc.startswith("glibc "):
        name = os.uname()
        return f"{name.sysname}-{name.release}-{name.machine}-with-glibc{libc[6:]}"
    import platform

    return platform.platform()
