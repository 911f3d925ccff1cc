"""Every environment variable wandb-core reads, parsed in one place.

The ``WANDB_*`` names mean what they mean to the official client; the
``WANDB_CORE_*`` names are ours. Values are read when asked for, not at
import, so a script may set them before calling ``init``.
"""

from __future__ import annotations

import os
import re

NO_EXTENSIONS = "WANDB_CORE_NO_EXTENSIONS"
REQUIRE_EXTENSIONS = "WANDB_CORE_REQUIRE_EXTENSIONS"

MODE = "WANDB_MODE"
PROJECT = "WANDB_PROJECT"
ENTITY = "WANDB_ENTITY"
DIR = "WANDB_DIR"
RUN_ID = "WANDB_RUN_ID"
NAME = "WANDB_NAME"
NOTES = "WANDB_NOTES"
TAGS = "WANDB_TAGS"
RUN_GROUP = "WANDB_RUN_GROUP"
JOB_TYPE = "WANDB_JOB_TYPE"
RESUME = "WANDB_RESUME"
SILENT = "WANDB_SILENT"
QUIET = "WANDB_QUIET"
DISABLED = "WANDB_DISABLED"
CONSOLE = "WANDB_CONSOLE"
PROGRAM = "WANDB_PROGRAM"
USERNAME = "WANDB_USERNAME"
DISABLE_GIT = "WANDB_DISABLE_GIT"
DATA_DIR = "WANDB_DATA_DIR"
CACHE_DIR = "WANDB_CACHE_DIR"
# Where Artifact.download() puts files by default: <dir>/<name>:v<N>.
ARTIFACT_DIR = "WANDB_ARTIFACT_DIR"
# The official client sets no size limit on its artifact cache; ours does.
ARTIFACT_CACHE_MAX_BYTES = "WANDB_CORE_ARTIFACT_CACHE_MAX_BYTES"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def get_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no variable: ``1/true/yes/on`` or ``0/false/no/off``.

    Anything else keeps the default, so a typo never flips a switch.
    """
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return default


def get_str(name: str) -> str | None:
    """Read a text variable; unset and empty both mean ``None``."""
    value = os.environ.get(name)
    return value if value else None


def get_tags() -> tuple[str, ...] | None:
    """``WANDB_TAGS`` holds comma-separated tags."""
    raw = get_str(TAGS)
    if raw is None:
        return None
    return tuple(tag.strip() for tag in raw.split(",") if tag.strip())


_BYTE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_BYTE_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([a-z]*)\s*")


def get_byte_size(name: str) -> int | None:
    """Read a size in bytes: ``1000000``, ``500MB``, ``10GB`` or ``2GiB``.

    Unset and empty both mean ``None``.

    Raises:
        ValueError: the value is not a number with one of those units.
    """
    raw = get_str(name)
    if raw is None:
        return None
    match = _BYTE_SIZE.fullmatch(raw.lower())
    if match is None or match.group(2) not in _BYTE_UNITS:
        msg = (
            f"{name}={raw!r} is not a size in bytes; write a number with an "
            "optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 10GB."
        )
        raise ValueError(msg)
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2)])


def no_extensions() -> bool:
    """Whether the user asked for the pure-Python twins."""
    return get_bool(NO_EXTENSIONS)


def require_extensions() -> bool:
    """Whether a missing compiled twin must be an error (CI and wheels)."""
    return get_bool(REQUIRE_EXTENSIONS)


def silent() -> bool:
    """Whether terminal messages are suppressed."""
    return get_bool(SILENT) or get_bool(QUIET)
