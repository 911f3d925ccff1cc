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
    "stage_bytes",
    "stage_file",
    "staging_dir",
    "staging_path",
]

CLIENT_ID_LENGTH = 128
_ID_ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyz"
# Random bytes to id characters. 256 is not a multiple of 36, so the first
# four characters are a little likelier (by 1/64): ids only need to be
# unique, and 128 characters of about 5.2 bits each are plenty.
_ID_BYTES = bytes(_ID_ALPHABET[index % len(_ID_ALPHABET)] for index in range(256))
# Staged files are created read-only: the mode applies from the next open.
_STAGED_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_STAGED_MODE = stat.S_IRUSR
_STAGED_ATTEMPTS = 100
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


def _new_staged_file() -> tuple[int, str]:
    """A new, read-only file in the staging folder, open for writing.

    Named ``tmp`` and eight random characters, as the official client's
    staged files (made by ``tempfile``) are.
    """
    folder = staging_dir()
    for _ in range(_STAGED_ATTEMPTS):
        name = "tmp" + random_text(8)
        path = os.path.join(folder, name)
        try:
            return os.open(path, _STAGED_FLAGS, _STAGED_MODE), path
        except FileExistsError:
            continue
    msg = f"Cannot create a new file in the staging folder {folder}."
    raise FileExistsError(msg)


def new_staged_path() -> str:
    """A fresh name in the staging folder, for a file written later.

    Named as ``_new_staged_file`` names them; eight random characters make
    a clash (which the later exclusive create would report) vanishingly rare.
    The folder is made by whoever writes the file.
    """
    return os.path.join(staging_path(), "tmp" + random_text(8))


def stage_bytes(data: bytes) -> str:
    """Write ``data`` as a new read-only file in the staging folder; its path."""
    handle, path = _new_staged_file()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    except BaseException:
        os.close(handle)
        os.unlink(path)
        raise
    os.close(handle)
    return path


def stage_file(source: str) -> str:
    """Copy the file at ``source`` into the staging folder, read-only; its path."""
    import shutil

    handle, path = _new_staged_file()
    try:
        with os.fdopen(handle, "wb") as target, open(source, "rb") as origin:
            shutil.copyfileobj(origin, target)
    except BaseException:
        os.unlink(path)
        raise
    return path


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
