"""The local artifact cache: files by content, shared with the official client.

Each file is stored once, named by its MD5 in the official client's layout:
``<cache dir>/artifacts/obj/md5/<2 hex>/<30 hex>``, the hex of the
base64-decoded digest. Both clients read and write the same folder, so a
file either of them cached is found by the other.

Entries appear atomically: a writer fills a temp file in
``<root>/tmp`` (the official client's temp folder, on the same file system
as ``obj``) and moves it into place with ``os.replace``, so a reader never
sees half a file and a failed write leaves nothing behind. A file whose
MD5 is already known (a staged artifact file) is hard linked in rather
than copied, which costs no disk space.

Cleanup removes the least recently used entries first, by access time
(``st_atime``), as the official client's cleanup does; ``lookup`` sets an
entry's access time to now and leaves its modification time alone, because
many file systems no longer update access times on reads. Cleanup only
unlinks names under ``<root>/obj``: a staged snapshot hard linked into the
cache keeps its own name in the staging folder and survives, which is what
keeps the files of runs not yet synced safe from any cleanup. It also
removes temp files nobody has written to for ``STALE_TEMP_SECONDS``, the
leftovers of writers that died.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Collection, Iterator

from wandb_core import _env, _term
from wandb_core.artifacts import remove_quietly, write_new_file

logger = logging.getLogger(__name__)

# The official client sets no limit; 10 GB keeps a busy laptop's disk sane.
DEFAULT_MAX_BYTES = 10 * 1000**3
# Automatic cleanup goes below the limit, so that the next stores do not
# each walk the cache again.
AUTO_CLEANUP_FRACTION = 0.8
# A writer refreshes its temp file's mtime with every write; one that has
# not written for an hour is dead.
STALE_TEMP_SECONDS = 60 * 60
# Our temp files, beside the official client's ``tmp*`` ones.
TEMP_PREFIX = "wandb-core-"

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# Linux's FICLONE ioctl: _IOW(0x94, 9, int), a copy-on-write clone.
_FICLONE = 0x40049409
_MD5_SIZE = 16


def cache_dir() -> str:
    """W&B's cache folder, the official client's: ``WANDB_CACHE_DIR`` or default.

    The default is ``platformdirs.user_cache_dir("wandb")``, as the official
    client computes it; like the official client we neither expand ``~``
    nor make the path absolute, so both clients agree on the folder. One
    difference: an empty ``WANDB_CACHE_DIR`` means unset here, where the
    official client would use the current folder.
    """
    configured = _env.get_str(_env.CACHE_DIR)
    if configured:
        from pathlib import PurePath

        # PurePath tidies the path as the official client's Path does (it
        # drops "." parts and trailing slashes but keeps ".." parts).
        return str(PurePath(configured))

    import platformdirs  # 15 ms to import: only when the default is needed

    return platformdirs.user_cache_dir("wandb")


def hex_digest(md5_b64: str) -> str:
    """The hex of a base64 MD5 digest.

    Raises:
        ValueError: ``md5_b64`` is not the base64 of 16 bytes.
    """
    try:
        raw = base64.b64decode(md5_b64, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _MD5_SIZE:
        msg = f"{md5_b64!r} is not a base64 MD5 digest (16 bytes in base64)."
        raise ValueError(msg)
    return raw.hex()


def is_md5_digest(digest: str) -> bool:
    """Whether ``digest`` is a base64 MD5 (references may carry ETags instead)."""
    try:
        hex_digest(digest)
    except ValueError:
        return False
    return True


class ArtifactCache:
    """Artifact files by MD5, shared with the official client and other processes.

    Attributes:
        root: The cache folder, ``<cache dir>/artifacts``.
        max_bytes: Size above which ``store`` and ``link_in`` clean up; 0
            means no limit.
    """

    def __init__(self, root: str | None = None, max_bytes: int | None = None) -> None:
        """Open the cache at ``root`` (default: ``<cache dir>/artifacts``).

        Args:
            root: The cache folder; made on first write.
            max_bytes: The size limit; default ``WANDB_CORE_ARTIFACT_CACHE_
                MAX_BYTES``, else ``DEFAULT_MAX_BYTES``. 0 turns it off.
        """
        self.root = os.path.abspath(root or os.path.join(cache_dir(), "artifacts"))
        self.max_bytes = _default_max_bytes() if max_bytes is None else max_bytes
        self._obj_dir = os.path.join(self.root, "obj")
        self._temp_dir = os.path.join(self.root, "tmp")
        self._lock = threading.Lock()
        # What the cache holds, walked once on the first write, then kept up
        # to date with what this process adds: other processes' writes go
        # unseen until the next cleanup walks the cache again.
        self._estimated_bytes: int | None = None

    def obj_path(self, md5_b64: str) -> str:
        """Where the file with this base64 MD5 lives in the cache."""
        hex_id = hex_digest(md5_b64)
        return os.path.join(self._obj_dir, "md5", hex_id[:2], hex_id[2:])

    def lookup(self, md5_b64: str, size: int | None = None) -> str | None:
        """The cached file with this MD5 (and size, when given), or None.

        A hit becomes the most recently used entry. Another process's
        cleanup may remove the file at any time: open it soon and treat
        ``FileNotFoundError`` as a miss.
        """
        path = self.obj_path(md5_b64)
        try:
            found = os.stat(path)
        except OSError:
            return None
        if not _is_regular(found.st_mode) or (
            size is not None and found.st_size != size
        ):
            return None
        _touch_atime(path, found.st_mtime_ns)
        return path

    def link_in(self, source: str, md5_b64: str) -> str:
        """Share ``source``, whose MD5 the caller knows, with the cache; its path.

        A hard link where the file system allows one, else a copy-on-write
        clone, else a copy (whose MD5 is checked on the way). An entry
        already there is kept.

        Raises:
            FileNotFoundError: ``source`` does not exist.
            ValueError: ``md5_b64`` is not an MD5, or a copy of ``source``
                does not have it.
        """
        target = self.obj_path(md5_b64)
        size = os.stat(source).st_size
        found = self.lookup(md5_b64, size)
        if found is not None:
            return found

        temp = self._new_temp_name()
        try:
            try:
                os.link(source, temp)
            except FileNotFoundError:
                raise
            except OSError as error:
                # Cross-device, no permission (protected_hardlinks), too many
                # links, FAT or a Windows share: a clone or copy will do.
                logger.debug("Cannot hard link %s into the cache: %s", source, error)
                if not clone_file(source, temp):
                    _copy_checked(source, temp, md5_b64)
            self._move_into_place(temp, target)
        except BaseException:
            remove_quietly(temp)
            raise
        _touch_atime(target, None)
        self._added(size, target)
        return target

    def link_in_many(self, files: list[tuple[str, str, int]]) -> None:
        """``link_in`` for many ``(source, md5_b64, size)`` files, faster.

        A hard link is made straight under the entry's name: the name then
        holds the whole file at once, so no temp name is needed, and an
        entry already there is kept (the link attempt fails). Files that
        cannot be hard linked go through ``link_in``.
        """
        made: set[str] = set()
        added = 0
        last = ""
        for source, md5_b64, size in files:
            target = self.obj_path(md5_b64)
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            try:
                os.link(source, target)
            except FileExistsError:
                continue
            except OSError:
                self.link_in(source, md5_b64)
                continue
            added += size
            last = target
        if added:
            self._added(added, last)

    def store(self, source: str, md5_b64: str | None = None) -> str:
        """Copy ``source`` into the cache, hashing it on the way; its cache path.

        Args:
            source: The file to copy.
            md5_b64: Its expected base64 MD5, or None to take what it has.

        Raises:
            ValueError: the copied bytes do not have the MD5 ``md5_b64``.
            OSError: ``source`` cannot be read or the cache written (disk
                full included); nothing is left in the cache then.
        """
        if md5_b64 is not None:
            found = self.lookup(md5_b64, os.stat(source).st_size)
            if found is not None:
                return found

        temp = self._new_temp_name()
        try:
            digest, size = _copy_checked(source, temp, md5_b64)
            target = self.obj_path(digest)
            self._move_into_place(temp, target)
        except BaseException:
            remove_quietly(temp)
            raise
        self._added(size, target)
        return target

    def store_bytes(self, data: bytes, md5_b64: str | None = None) -> str:
        """Write ``data`` into the cache; its cache path.

        Raises:
            ValueError: ``data`` does not have the MD5 ``md5_b64``.
            OSError: the cache cannot be written; nothing is left behind.
        """
        from wandb_core._fast import digest

        actual: str = digest.md5_b64(data)
        if md5_b64 is not None and actual != md5_b64:
            msg = f"The bytes to cache have MD5 {actual}, not {md5_b64} as expected."
            raise ValueError(msg)
        found = self.lookup(actual, len(data))
        if found is not None:
            return found

        temp = self._new_temp_name()
        try:
            write_new_file(temp, data)
            target = self.obj_path(actual)
            self._move_into_place(temp, target)
        except BaseException:
            remove_quietly(temp)
            raise
        self._added(len(data), target)
        return target

    def size(self) -> int:
        """The bytes the cache's entries hold now (temp files not counted)."""
        total = sum(
            entry.stat(follow_symlinks=False).st_size for entry in self._entries()
        )
        with self._lock:
            self._estimated_bytes = total
        return total

    def cleanup(
        self, target_bytes: int | None = None, *, keep: Collection[str] = ()
    ) -> int:
        """Remove least recently used entries until at most ``target_bytes`` remain.

        Only names under ``<root>/obj`` are removed, and temp files in
        ``<root>/tmp`` that nobody wrote to for ``STALE_TEMP_SECONDS``.

        Args:
            target_bytes: The size to get down to; default ``max_bytes``.
            keep: Cache paths not to remove (an entry just stored).

        Returns:
            The bytes of the files removed.
        """
        if target_bytes is None:
            target_bytes = self.max_bytes
        if target_bytes < 0:
            msg = (
                f"The cache size to clean up to must be 0 or more, not {target_bytes}."
            )
            raise ValueError(msg)

        freed = self._remove_stale_temps()
        entries = []
        for entry in self._entries():
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed by another process meanwhile
            entries.append((info.st_atime_ns, entry.path, info.st_size))
        total = sum(size for _, _, size in entries)

        kept = {os.path.abspath(path) for path in keep}
        for _, path, size in sorted(entries):
            if total <= target_bytes:
                break
            if path in kept:
                continue
            try:
                os.remove(path)
            except FileNotFoundError:
                total -= size  # another process's cleanup got there first
                continue
            except OSError as error:
                # TODO: on Windows, read-only entries (staged links) cannot be
                # removed without making the shared snapshot writable.
                logger.debug("Cannot remove %s from the cache: %s", path, error)
                continue
            total -= size
            freed += size

        with self._lock:
            self._estimated_bytes = total
        logger.info("Cache cleanup freed %d bytes; %d remain.", freed, total)
        return freed

    # -- private ----------------------------------------------------------

    def _entries(self) -> Iterator[os.DirEntry[str]]:
        yield from _files_under(self._obj_dir)

    def _new_temp_name(self) -> str:
        os.makedirs(self._temp_dir, exist_ok=True)
        name = TEMP_PREFIX + os.urandom(8).hex()
        return os.path.join(self._temp_dir, name)

    def _move_into_place(self, temp: str, target: str) -> None:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(temp, target)

    def _added(self, size: int, path: str) -> None:
        """Count a new entry; clean up when the cache grew past its limit."""
        if not self.max_bytes:
            return
        with self._lock:
            known = self._estimated_bytes
            if known is not None:
                self._estimated_bytes = known + size
        if known is None:
            # The first write walks the cache once; the new entry is in it.
            known = self.size() - size
        if known + size <= self.max_bytes:
            return
        self.cleanup(int(self.max_bytes * AUTO_CLEANUP_FRACTION), keep=(path,))

    def _remove_stale_temps(self) -> int:
        freed = 0
        deadline = time.time() - STALE_TEMP_SECONDS
        for entry in _files_under(self._temp_dir):
            try:
                info = entry.stat(follow_symlinks=False)
                if info.st_mtime >= deadline:
                    continue  # a writer may still be at work
                os.remove(entry.path)
            except OSError:
                continue
            freed += info.st_size
        return freed


_caches: dict[str, ArtifactCache] = {}
_caches_lock = threading.Lock()


def default_cache() -> ArtifactCache:
    """The cache of the current cache folder, one instance per folder."""
    root = os.path.abspath(os.path.join(cache_dir(), "artifacts"))
    with _caches_lock:
        cache = _caches.get(root)
        if cache is None:
            cache = _caches[root] = ArtifactCache(root)
        return cache


def clone_file(source: str, target: str) -> bool:
    """Make ``target`` a copy-on-write clone of ``source``; whether it worked.

    Linux (Btrfs, XFS) and macOS (APFS) only; ``target`` must not exist and
    is left absent when cloning fails.
    """
    if sys.platform.startswith("linux"):
        return _clone_linux(source, target)
    if sys.platform == "darwin":  # pragma: no cover - not run in our CI
        return _clone_macos(source, target)
    return False  # pragma: no cover - Windows has no simple clone call


def _clone_linux(source: str, target: str) -> bool:
    import fcntl

    source_fd = os.open(source, os.O_RDONLY)
    try:
        target_fd = os.open(target, _CREATE_FLAGS, 0o666)
        try:
            fcntl.ioctl(target_fd, _FICLONE, source_fd)
        except OSError:
            os.close(target_fd)
            os.unlink(target)
            return False
        os.close(target_fd)
        return True
    finally:
        os.close(source_fd)


def _clone_macos(source: str, target: str) -> bool:  # pragma: no cover - macOS
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    clonefile = getattr(libc, "clonefile", None)
    if clonefile is None:
        return False
    return bool(clonefile(os.fsencode(source), os.fsencode(target), 0) == 0)


def _copy_checked(source: str, target: str, md5_b64: str | None) -> tuple[str, int]:
    """Copy ``source`` to the new file ``target`` while hashing; MD5 and size.

    Raises:
        ValueError: the bytes copied do not have the MD5 ``md5_b64``; the
            copy is removed.
    """
    from wandb_core._fast import digest

    copied = digest.copy_file_digest(source, target, md5=True)
    actual: str = copied.md5
    if md5_b64 is not None and actual != md5_b64:
        os.unlink(target)
        msg = (
            f"The file {source} has MD5 {actual}, not {md5_b64} as expected; "
            "it changed after it was hashed, or the digest is wrong."
        )
        raise ValueError(msg)
    return actual, int(copied.size)


def _files_under(folder: str) -> Iterator[os.DirEntry[str]]:
    """Every file under ``folder``, not following links to folders."""
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return  # missing, or removed meanwhile
    for entry in listing:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            yield from _files_under(entry.path)
        else:
            yield entry


def _touch_atime(path: str, mtime_ns: int | None) -> None:
    """Mark ``path`` used now: access time now, modification time kept."""
    try:
        if mtime_ns is None:
            mtime_ns = os.stat(path).st_mtime_ns
        os.utime(path, ns=(time.time_ns(), mtime_ns))
    except OSError as error:
        # Not our file (another user's cache entry): it keeps its old time.
        logger.debug("Cannot mark %s as used: %s", path, error)


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _default_max_bytes() -> int:
    try:
        configured = _env.get_byte_size(_env.ARTIFACT_CACHE_MAX_BYTES)
    except ValueError as error:
        _term.warn(f"{error} The artifact cache keeps its default limit, 10GB.")
        return DEFAULT_MAX_BYTES
    return DEFAULT_MAX_BYTES if configured is None else configured
