"""File and buffer digests, pure-Python twin (the readable reference).

Artifact manifests name each file by the base64 of its MD5; media
references by the hex of its SHA-256. Every file is read once, in
``CHUNK_SIZE`` reads into one reusable buffer, feeding each digest asked
for, so asking for both costs one read of the file.

A file that changes while it is read would get a digest of bytes that never
existed together. We take ``fstat`` of the open file before the first read
and after the last, and raise ``FileChangedError`` when its size or
modification time moved, or when we read a different number of bytes than
it holds. ``copy_file_digest`` hashes the bytes as it copies them, so the
copy holds exactly the bytes its digest describes.

``hash_files`` hashes many files on a thread pool, largest first so that a
big file never starts last; small files go to the workers in batches, so a
pool of threads is not woken once per file. ``digest_c.pyx`` mirrors this
module and must return the same results.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, NamedTuple

# Measured: reading in chunks that stay in the CPU's cache hashes faster than
# reading 4 MiB at a time, and barely slower than hashing bytes in memory.
CHUNK_SIZE = 256 * 1024

# Files under this size are hashed in batches of up to BATCH_FILES files
# (or BATCH_BYTES bytes), one pool task a batch.
SMALL_FILE_SIZE = CHUNK_SIZE
BATCH_FILES = 256
BATCH_BYTES = 16 * CHUNK_SIZE
# Seconds between two progress reports from hash_files.
PROGRESS_INTERVAL_S = 0.1

# os.O_BINARY exists on Windows only, where it stops newline translation.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)

Progress = Callable[[int, int], None]


class FileChangedError(OSError):
    """A file's size or modification time moved while it was read."""


class FileDigest(NamedTuple):
    """The digests of one file, and what it was when they were taken.

    Attributes:
        md5: the base64 of the MD5 digest (standard alphabet, padded), or
            ``None`` when it was not asked for.
        sha256: the hex SHA-256 digest, or ``None`` when not asked for.
        size: how many bytes were read.
        mtime_ns: the file's ``st_mtime_ns`` before the first read.
    """

    md5: str | None
    sha256: str | None
    size: int
    mtime_ns: int


def md5_b64(data: Any) -> str:
    """The base64 of the MD5 digest of a bytes-like object."""
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def sha256_hex(data: Any) -> str:
    """The hex SHA-256 digest of a bytes-like object."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path: str, *, md5: bool = True, sha256: bool = False) -> FileDigest:
    """Hash a file in one pass.

    Args:
        path: the file.
        md5: whether to compute the base64 MD5.
        sha256: whether to compute the hex SHA-256.

    Returns:
        The digests asked for, the size read and the modification time.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        IsADirectoryError: ``path`` is a directory.
        FileChangedError: the file changed while it was read.
        OSError: the file cannot be opened or read.
    """
    fd = open_to_read(path)
    try:
        return _hash_open_file(fd, path, md5, sha256, None)
    finally:
        os.close(fd)


def copy_file_digest(
    source: str,
    target: str,
    *,
    md5: bool = True,
    sha256: bool = False,
    mode: int = 0o666,
) -> FileDigest:
    """Copy a file to a new file and hash the bytes copied, in one read.

    Args:
        source: the file to copy.
        target: the new file; it must not exist yet.
        md5: whether to compute the base64 MD5.
        sha256: whether to compute the hex SHA-256.
        mode: the permissions of the new file (less the umask), which apply
            from its next opening: ``0o400`` makes a read-only snapshot
            without a ``chmod`` afterwards.

    Returns:
        The digests of the bytes copied, their count and the source's
        modification time.

    Raises:
        FileExistsError: ``target`` exists already.
        FileChangedError: the source changed while it was copied.
        OSError: either file cannot be opened, read or written. No partial
            target is left behind.
    """
    source_fd = open_to_read(path=source)
    try:
        target_fd = os.open(target, _CREATE_FLAGS, mode)
        try:
            copy_to = (target_fd, target)
            result = _hash_open_file(source_fd, source, md5, sha256, copy_to)
        except BaseException:
            os.close(target_fd)
            os.unlink(target)
            raise
        os.close(target_fd)
        return result
    finally:
        os.close(source_fd)


def hash_files(
    paths: Sequence[str],
    *,
    md5: bool = True,
    sha256: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[FileDigest]:
    """Hash many files on a pool of threads.

    Args:
        paths: the files.
        md5: whether to compute the base64 MD5 of each.
        sha256: whether to compute the hex SHA-256 of each.
        workers: how many threads; ``os.cpu_count()`` when ``None``.
        progress: called as ``progress(bytes_done, files_done)`` from the
            calling thread now and then, and once when all are done.

    Returns:
        One ``FileDigest`` per path, in the order of ``paths``.

    Raises:
        OSError: the first error met hashing a file; the files not started
            yet are left alone.
    """
    batches = plan_batches(file_sizes(paths))
    results: list[FileDigest | None] = [None] * len(paths)
    stop = threading.Event()

    def hash_batch(batch: list[int]) -> int:
        batch_bytes = 0
        for index in batch:
            if stop.is_set():
                break
            result = file_digest(paths[index], md5=md5, sha256=sha256)
            results[index] = result
            batch_bytes += result.size
        return batch_bytes

    run_batches(batches, hash_batch, stop, workers, progress)
    return [result for result in results if result is not None]


# ---------------------------------------------------------------------------
# Shared by both twins' hash_files (no speed needed here)
# ---------------------------------------------------------------------------


def file_sizes(paths: Sequence[str]) -> list[int]:
    """The size of each file; 0 for a path that cannot be stat'ed.

    Hashing such a path raises its error in its turn.
    """
    sizes = []
    for path in paths:
        try:
            sizes.append(os.stat(path).st_size)
        except (OSError, ValueError):
            sizes.append(0)
    return sizes


def plan_batches(sizes: Sequence[int]) -> list[list[int]]:
    """Group the indices of files of ``sizes`` into pool tasks, largest first.

    A file of ``SMALL_FILE_SIZE`` bytes or more is a task of its own; smaller
    ones are grouped, so that a batch of small files never waits behind a big
    one and both cores stay busy.
    """
    order = sorted(range(len(sizes)), key=sizes.__getitem__, reverse=True)

    batches: list[list[int]] = []
    batch: list[int] = []
    batch_bytes = 0
    for index in order:
        if sizes[index] >= SMALL_FILE_SIZE:
            batches.append([index])
            continue
        batch.append(index)
        batch_bytes += sizes[index]
        if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
            batches.append(batch)
            batch, batch_bytes = [], 0
    if batch:
        batches.append(batch)
    return batches


def run_batches(
    batches: list[list[int]],
    hash_batch: Callable[[list[int]], int],
    stop: threading.Event,
    workers: int | None,
    progress: Progress | None,
) -> None:
    """Run ``hash_batch`` over ``batches`` on a pool, reporting progress.

    ``hash_batch`` returns the bytes it hashed and stops early once ``stop``
    is set, which happens when any batch fails; that first error is raised.
    """
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 1:
        msg = f"hash_files needs at least one worker thread, not {workers}."
        raise ValueError(msg)
    bytes_done = files_done = 0
    if workers == 1 or len(batches) <= 1:
        # One thread: no pool; progress still comes from this thread.
        last_report = time.monotonic()
        for batch in batches:
            bytes_done += hash_batch(batch)
            files_done += len(batch)
            if progress is not None and (
                time.monotonic() - last_report >= PROGRESS_INTERVAL_S
            ):
                progress(bytes_done, files_done)
                last_report = time.monotonic()
        if progress is not None:
            progress(bytes_done, files_done)
        return

    with ThreadPoolExecutor(max_workers=min(workers, len(batches))) as pool:
        pending: set[Future[int]] = set()
        files_of: dict[Future[int], int] = {}
        for batch in batches:
            future = pool.submit(hash_batch, batch)
            pending.add(future)
            files_of[future] = len(batch)
        try:
            while pending:
                done, pending = wait(
                    pending, PROGRESS_INTERVAL_S, return_when=FIRST_EXCEPTION
                )
                for future in done:
                    bytes_done += future.result()  # raises the batch's error
                    files_done += files_of[future]
                if progress is not None:
                    progress(bytes_done, files_done)
        except BaseException:
            stop.set()
            for future in pending:
                future.cancel()
            raise


def check_unchanged(
    path: str, before: os.stat_result, after: os.stat_result, size_read: int
) -> None:
    """Raise ``FileChangedError`` if a file moved between two ``fstat`` calls.

    Args:
        path: the file, for the message.
        before: its status before the first read.
        after: its status after the last read.
        size_read: how many bytes were read in between.
    """
    if before.st_size == after.st_size and before.st_mtime_ns == after.st_mtime_ns:
        # Only regular files promise to hold st_size bytes.
        if size_read == after.st_size or not stat.S_ISREG(after.st_mode):
            return
    msg = (
        f"{path!r} changed while it was read: it held {before.st_size} bytes "
        f"modified at {before.st_mtime_ns} ns before, {after.st_size} bytes "
        f"modified at {after.st_mtime_ns} ns after, and {size_read} bytes were "
        "read; its digest would describe no version of the file."
    )
    raise FileChangedError(msg)


def open_to_read(path: str) -> int:
    """Open a file to read; refuse a directory with an error naming it."""
    fd = os.open(path, _READ_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
    except BaseException:
        os.close(fd)
        raise
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    return fd


# ---------------------------------------------------------------------------
# The read loop
# ---------------------------------------------------------------------------


def _hash_open_file(
    fd: int, path: str, md5: bool, sha256: bool, copy_to: tuple[int, str] | None
) -> FileDigest:
    md5_hash = hashlib.md5() if md5 else None
    sha256_hash = hashlib.sha256() if sha256 else None
    before = os.fstat(fd)
    buffer = bytearray(min(CHUNK_SIZE, max(before.st_size + 1, 1)))
    view = memoryview(buffer)
    size_read = 0

    # closefd=False: the caller owns the descriptor.
    with open(fd, "rb", buffering=0, closefd=False) as source:
        while True:
            count = _read_into(source, view, path)
            if not count:
                break
            chunk = view[:count]
            if md5_hash is not None:
                md5_hash.update(chunk)
            if sha256_hash is not None:
                sha256_hash.update(chunk)
            if copy_to is not None:
                _write_all(copy_to, chunk)
            size_read += count

    check_unchanged(path, before, os.fstat(fd), size_read)
    return FileDigest(
        base64.b64encode(md5_hash.digest()).decode("ascii") if md5_hash else None,
        sha256_hash.hexdigest() if sha256_hash else None,
        size_read,
        before.st_mtime_ns,
    )


def _read_into(source: io.FileIO, view: memoryview, path: str) -> int:
    try:
        return source.readinto(view) or 0
    except OSError as error:
        # The errors of reads on a descriptor name no file; ours do.
        error.filename = path
        raise


def _write_all(copy_to: tuple[int, str], data: memoryview) -> None:
    target_fd, target = copy_to
    while data:
        try:
            written = os.write(target_fd, data)
        except OSError as error:
            error.filename = target
            raise
        data = data[written:]
