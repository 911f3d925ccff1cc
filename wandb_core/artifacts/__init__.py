"""W&B artifacts: manifests, artifact names and the staging area.

An artifact is a set of files, each named by its path inside the artifact;
its manifest (``manifest.py``) lists them and gives the artifact its
digest. Until they are uploaded, an artifact's files wait in the staging
area, the folder the official client uses (``$WANDB_DATA_DIR/artifacts/
staging``), as read-only copies whose paths the manifest records as
``local_path``: that is where ``wandb sync`` reads them from, whichever
client wrote the run.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
import zlib
from base64 import urlsafe_b64encode

from wandb_core import _env
from wandb_core.artifacts.manifest import (
    DIGEST_ALGORITHM,
    Manifest,
    ManifestEntry,
    md5_b64,
    md5_file_b64,
)

__all__ = [
    "DIGEST_ALGORITHM",
    "Manifest",
    "ManifestEntry",
    "data_dir",
    "md5_b64",
    "md5_file_b64",
    "new_client_id",
    "new_staged_path",
    "random_text",
    "sanitize_name",
    "remove_quietly",
    "stage_bytes",
    "write_new_file",
    "staging_dir",
    "staging_path",
]

logger = logging.getLogger(__name__)

CLIENT_ID_LENGTH = 128
_ID_ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyz"
# Random bytes to id characters. 256 is not a multiple of 36, so the first
# four characters are a little likelier (by 1/64): ids only need to be
# unique, and 128 characters of about 5.2 bits each are plenty.
_ID_BYTES = bytes(_ID_ALPHABET[index % len(_ID_ALPHABET)] for index in range(256))
# Staged files are created read-only: the mode applies from the next open.
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# How many fresh names to try for a staged file before giving up.
STAGED_ATTEMPTS = 100
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_\-.]+")
_made_dirs: set[str] = set()


def data_dir() -> str:
    """Where W&B keeps data on this machine: ``WANDB_DATA_DIR`` or the default.

    The default is the platform's user data folder for ``wandb``, the one
    the official client uses.
    """
    configured = _env.get_str(_env.DATA_DIR)
    if configured:
        return configured
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or os.path.expanduser(
            os.path.join("~", "AppData", "Local")
        )
        return os.path.join(local, "wandb", "wandb")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/wandb")
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return os.path.join(xdg or os.path.expanduser("~/.local/share"), "wandb")


def staging_path() -> str:
    """The staging folder of artifact files (absolute), not made here."""
    return os.path.abspath(
        os.path.expanduser(os.path.join(data_dir(), "artifacts", "staging"))
    )


def staging_dir() -> str:
    """The staging folder of artifact files (absolute), made if missing."""
    path = staging_path()
    if path not in _made_dirs:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as error:
            msg = (
                f"Cannot write artifact files to the staging folder {path} "
                f"({error}); set {_env.DATA_DIR} to a folder you can write to."
            )
            raise PermissionError(msg) from error
        _made_dirs.add(path)
    return path


def new_staged_path() -> str:
    """A fresh name in the staging folder, for a file created there.

    Named ``tmp`` and eight random characters, as the official client's
    staged files (made by ``tempfile``) are. The file is created with
    ``O_EXCL`` by whoever writes it, which reports the (vanishingly rare)
    clash as ``FileExistsError``: retry with a new name then, up to
    ``STAGED_ATTEMPTS`` times. The folder is not made here.
    """
    return os.path.join(staging_path(), "tmp" + random_text(8))


def stage_bytes(data: bytes) -> str:
    """Write ``data`` as a new read-only file in the staging folder; its path."""
    staging_dir()
    for _ in range(STAGED_ATTEMPTS):
        path = new_staged_path()
        try:
            write_new_file(path, data, stat.S_IRUSR)
        except FileExistsError:
            continue
        return path
    msg = f"Cannot create a new file in the staging folder {staging_path()}."
    raise FileExistsError(msg)


def write_new_file(path: str, data: bytes, mode: int = 0o666) -> None:
    """Create the file ``path`` (it must not exist) holding ``data``.

    ``mode`` applies from the next opening (``0o400``: read-only). A failure
    after the file was created removes it, so nothing half-written stays.

    Raises:
        FileExistsError: ``path`` exists already (it is left alone).
        OSError: the file cannot be created or written (disk full).
    """
    handle = os.open(path, _NEW_FILE_FLAGS, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    except BaseException:
        os.close(handle)
        remove_quietly(path)
        raise
    os.close(handle)


def remove_quietly(path: str) -> None:
    """Remove a file if it is there; a failure is logged, never raised.

    Read-only files (staged ones) are made writable first where removing
    them needs it (Windows).
    """
    try:
        os.remove(path)
        return
    except FileNotFoundError:
        return
    except PermissionError:
        pass
    except OSError as error:
        logger.warning("Cannot remove %s: %s", path, error)
        return
    try:
        os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
        os.remove(path)
    except OSError as error:
        logger.warning("Cannot remove %s: %s", path, error)


def new_client_id() -> str:
    """A random id that names an artifact (or its sequence) before upload."""
    return random_text(CLIENT_ID_LENGTH)


def random_text(length: int) -> str:
    """``length`` random characters of ``[0-9a-z]``."""
    return os.urandom(length).translate(_ID_BYTES).decode("ascii")


def sanitize_name(name: str) -> str:
    """An artifact name the server accepts, as the official client makes it.

    Characters other than letters, digits, ``_``, ``-`` and ``.`` are
    dropped; a name that lost some gets a 6-character suffix (the URL-safe
    base64 of its CRC-32), so that different names stay different.
    """
    sanitized = _NAME_UNSAFE.sub("", name)
    if sanitized == name:
        return name
    checksum = zlib.crc32(name.encode("utf-8")) & 0xFFFFFFFF
    suffix = urlsafe_b64encode(checksum.to_bytes(4, "big")).rstrip(b"=").decode()
    return f"{sanitized}-{suffix}"
