"""Put an artifact's files in a folder, from the cache, and check them there.

``materialize`` writes every entry of a manifest under a root folder: a
stored file from the local cache (or from its staged snapshot when the
cache lost it), a ``file://`` reference from the referenced path, an
``http(s)://`` reference from the web. Every path is checked before the
first byte is written (``safe_target``): a manifest is data from elsewhere,
and no entry may land outside the root. Each file is written under a temp
name beside its target and moved into place, so a failure never leaves half
a file, and a file that was a hard link to the cache is replaced rather
than written through.

Files are copied from the cache by default: a hard link would let an
edit in the download folder change the cache and the staged snapshot of a
run not yet synced. ``link=True`` hard links instead, for readers that
promise not to write.

``verify`` checks a folder as the official ``Artifact.verify`` does (no
file that is not in the manifest; every stored file with its MD5) and
more: it reports every problem at once, checks sizes, and checks reference
files whose digest is an MD5.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlparse

from wandb_core.artifacts import remove_quietly
from wandb_core.artifacts.cache import (
    ArtifactCache,
    clone_file,
    default_cache,
    is_md5_digest,
)
from wandb_core.artifacts.manifest import Manifest, ManifestEntry
from wandb_core.errors import ArtifactNotFoundError

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

_DRIVE = re.compile(r"^[A-Za-z]:")
# Names Windows gives to devices, whatever their extension.
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"{kind}{number}" for kind in ("COM", "LPT") for number in range(1, 10)]
)
_TEMP_SUFFIX = ".wandb-core-tmp-"
_DOWNLOAD_TIMEOUT_S = 60.0
_DOWNLOAD_CHUNK = 1 << 20


def safe_target(root: str, entry_path: str) -> str:
    """The absolute path where the entry ``entry_path`` lands under ``root``.

    Raises:
        ValueError: the path is absolute, has a drive letter, a backslash, an
            empty, ``.`` or ``..`` part, or resolves outside ``root`` (also
            through a symbolic link already inside ``root``).
    """
    problem = path_problem(entry_path)
    if problem is None:
        root = os.path.abspath(root)
        target = os.path.join(root, *entry_path.split("/"))
        real_root = os.path.realpath(root)
        real_target = os.path.realpath(target)
        if os.path.commonpath([real_root, real_target]) != real_root:
            problem = f"it resolves to {real_target}, outside the folder"
        else:
            return target
    msg = f"Refusing artifact entry {entry_path!r} under {root}: {problem}."
    raise ValueError(msg)


def materialize(
    manifest: Manifest | Mapping[str, Any],
    root: str,
    *,
    cache: ArtifactCache | None = None,
    progress: Progress | None = None,
    link: bool = False,
) -> str:
    """Write the artifact's files under ``root``; ``root``.

    Files already there with the right size and MD5 are left alone.

    Args:
        manifest: Our ``Manifest``, or the official ``wandb_manifest.json``.
        root: The folder to fill; made if missing.
        cache: The cache to read from (default: ``default_cache()``).
        progress: Called as ``progress(files_done, files_total)`` after
            each file.
        link: Hard link files from the cache instead of copying them.

    Raises:
        ValueError: an entry's path is unsafe (nothing is written then), or
            a file's bytes do not have the entry's digest.
        ArtifactNotFoundError: a stored file is neither in the cache nor
            staged on this machine.
        ConnectionError: an ``http(s)`` reference could not be downloaded.
    """
    entries = list(_as_manifest(manifest))
    root = os.path.abspath(root)
    targets = [safe_target(root, entry.path) for entry in entries]
    _check_no_file_is_a_folder(entries)

    os.makedirs(root, exist_ok=True)
    for done, (entry, target) in enumerate(zip(entries, targets), start=1):
        if not _already_there(entry, target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if entry.ref is None:
                _write_stored(entry, target, cache or default_cache(), link)
            else:
                _write_reference(entry, target)
        if progress is not None:
            progress(done, len(entries))
    return root


def verify(manifest: Manifest | Mapping[str, Any], root: str) -> None:
    """Check that ``root`` holds the artifact's files and nothing else.

    Every entry must be present with its size; stored files (and references
    whose digest is an MD5) with their MD5.

    Raises:
        ValueError: listing every problem found.
    """
    from wandb_core._fast import digest

    entries = _as_manifest(manifest).entries
    root = os.path.abspath(root)
    problems = [
        f"{relative}: not a file of the artifact"
        for relative in _files_in(root)
        if relative not in entries
    ]

    to_hash: list[tuple[ManifestEntry, str]] = []
    for entry in entries.values():
        try:
            target = safe_target(root, entry.path)
        except ValueError as error:
            problems.append(f"{entry.path}: {error}")
            continue
        if not os.path.isfile(target):
            problems.append(f"{entry.path}: missing")
        elif entry.size is not None and os.path.getsize(target) != entry.size:
            size = os.path.getsize(target)
            problems.append(f"{entry.path}: {size} bytes, not {entry.size}")
        elif entry.ref is None or is_md5_digest(entry.digest):
            to_hash.append((entry, target))

    by_md5 = [(entry, target) for entry, target in to_hash if not _is_xxh128(entry)]
    found = digest.hash_files([target for _, target in by_md5], md5=True)
    for (entry, _), hashed in zip(by_md5, found):
        if hashed.md5 != entry.digest:
            problems.append(f"{entry.path}: MD5 {hashed.md5}, not {entry.digest}")
    for entry, target in to_hash:
        if _is_xxh128(entry) and (actual := xxh128_file_b64(target)) != entry.digest:
            problems.append(f"{entry.path}: XXH128 {actual}, not {entry.digest}")

    if problems:
        listing = "".join(f"\n  {problem}" for problem in sorted(problems))
        msg = f"The files in {root} do not match the artifact's manifest:{listing}"
        raise ValueError(msg)


# -- checks ---------------------------------------------------------------


def path_problem(entry_path: str) -> str | None:
    """What makes ``entry_path`` unsafe as a path inside a folder, or None."""
    if not entry_path:
        return "the path is empty"
    if "\0" in entry_path:
        return "the path holds a NUL character"
    if "\\" in entry_path and sys.platform == "win32":  # pragma: no cover
        return "the path holds a backslash, a folder separator on Windows"
    if entry_path.startswith("/"):
        return "the path is absolute"
    if _DRIVE.match(entry_path):
        return "the path starts with a drive letter"
    parts = entry_path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "the path has an empty, '.' or '..' part"
    if sys.platform == "win32" and any(  # pragma: no cover - Windows only
        ":" in part or part.split(".")[0].upper() in _WINDOWS_DEVICES for part in parts
    ):
        return "the path has a part Windows reserves"
    return None


def _check_no_file_is_a_folder(entries: list[ManifestEntry]) -> None:
    paths = {entry.path for entry in entries}
    for path in sorted(paths):
        parts = path.split("/")
        for end in range(1, len(parts)):
            folder = "/".join(parts[:end])
            if folder in paths:
                msg = f"Artifact entry {folder!r} is a file and the folder of {path!r}."
                raise ValueError(msg)


def _already_there(entry: ManifestEntry, target: str) -> bool:
    """Whether ``target`` holds the entry's bytes already (checked by digest)."""
    if not is_md5_digest(entry.digest):
        return False  # an ETag or a path: fetch it again
    try:
        if entry.size is not None and os.path.getsize(target) != entry.size:
            return False
        return _file_digest(entry, target) == entry.digest
    except OSError:
        return False


def _is_xxh128(entry: ManifestEntry) -> bool:
    """Whether the entry's digest is an XXH128 (``digest_algorithm="XXH128"``)."""
    return entry.extra.get("alg") == "XXH128"


def _file_digest(entry: ManifestEntry, path: str) -> str:
    """The digest of the file at ``path`` by the entry's algorithm."""
    from wandb_core._fast import digest

    if _is_xxh128(entry):
        return xxh128_file_b64(path)
    found: str = digest.file_digest(path, md5=True).md5
    return found


def xxh128_file_b64(path: str) -> str:
    """The base64 XXH128 of a file, as XXH128 artifacts name their files.

    Raises:
        ImportError: the ``xxhash`` package is missing, with how to add it.
    """
    try:
        import xxhash
    except ImportError as error:
        msg = (
            "digest_algorithm='XXH128' needs the xxhash package: "
            "pip install 'wandb-core-py[xxhash]'."
        )
        raise ImportError(msg) from error
    hasher = xxhash.xxh128()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(chunk)
    return base64.b64encode(hasher.digest()).decode("ascii")


# -- writing --------------------------------------------------------------


def _write_stored(
    entry: ManifestEntry, target: str, cache: ArtifactCache, link: bool
) -> None:
    # The cache is keyed by MD5: an XXH128 entry is never in it.
    source = None if _is_xxh128(entry) else cache.lookup(entry.digest, entry.size)
    from_cache = source is not None
    if source is None and entry.local_path and os.path.isfile(entry.local_path):
        source = entry.local_path  # the staged snapshot of a run not synced
    if source is None:
        msg = (
            f"Artifact file {entry.path!r} (MD5 {entry.digest}) is neither in "
            f"the artifact cache {cache.root} nor staged on this machine."
        )
        raise ArtifactNotFoundError(msg)

    temp = _temp_beside(target)
    try:
        if link and from_cache and _hard_link(source, temp):
            os.replace(temp, target)  # a cache file's name is its MD5
            return
        _copy_verified(source, temp, entry, from_cache=from_cache)
        os.replace(temp, target)
    except BaseException:
        remove_quietly(temp)
        raise


def _copy_verified(
    source: str, temp: str, entry: ManifestEntry, *, from_cache: bool
) -> None:
    """Copy (or clone) ``source`` to ``temp`` and check its digest."""
    from wandb_core._fast import digest

    if clone_file(source, temp):
        found = _file_digest(entry, temp)
    elif _is_xxh128(entry):
        shutil.copyfile(source, temp)
        found = _file_digest(entry, temp)
    else:
        found = digest.copy_file_digest(source, temp, md5=True).md5
    if found == entry.digest:
        return
    if from_cache:
        # A damaged cache entry: drop it, so that the next store repairs it.
        remove_quietly(source)
    algorithm = "XXH128" if _is_xxh128(entry) else "MD5"
    msg = (
        f"Artifact file {entry.path!r} should have {algorithm} {entry.digest}, "
        f"but its copy from {source} has {found}."
    )
    raise ValueError(msg)


def _write_reference(entry: ManifestEntry, target: str) -> None:
    assert entry.ref is not None
    scheme = urlparse(entry.ref).scheme
    temp = _temp_beside(target)
    try:
        if scheme == "file":
            found = _copy_file_reference(entry, temp)
        elif scheme in ("http", "https"):
            found = _download(entry, temp)
        else:
            # TODO: s3://, gs:// and Azure references need their clients.
            msg = (
                f"Artifact file {entry.path!r} refers to {entry.ref}; "
                f"{scheme}:// references cannot be downloaded yet."
            )
            raise ValueError(msg)
        if entry.size is not None and found[1] != entry.size:
            msg = (
                f"Artifact file {entry.path!r} from {entry.ref} has {found[1]} "
                f"bytes, not {entry.size}."
            )
            raise ValueError(msg)
        if is_md5_digest(entry.digest) and found[0] != entry.digest:
            msg = (
                f"Artifact file {entry.path!r} from {entry.ref} has MD5 "
                f"{found[0]}, not {entry.digest}; it changed since it was logged."
            )
            raise ValueError(msg)
        os.replace(temp, target)
    except BaseException:
        remove_quietly(temp)
        raise


def _copy_file_reference(entry: ManifestEntry, temp: str) -> tuple[str, int]:
    from wandb_core._fast import digest

    assert entry.ref is not None
    parsed = urlparse(entry.ref)
    source = unquote(parsed.path)
    if sys.platform == "win32":  # pragma: no cover - Windows only
        from urllib.request import url2pathname

        source = url2pathname(parsed.path)
    copied = digest.copy_file_digest(source, temp, md5=True)
    return copied.md5, copied.size


def _download(entry: ManifestEntry, temp: str) -> tuple[str, int]:
    """Fetch an ``http(s)`` reference into ``temp``; its MD5 and size.

    A different ETag now than when the entry was logged means different
    content.
    """
    import urllib3  # lazily: it costs tens of milliseconds to import

    assert entry.ref is not None
    pool = urllib3.PoolManager(retries=urllib3.Retry(3, backoff_factor=0.5))
    try:
        response = pool.request(
            "GET", entry.ref, preload_content=False, timeout=_DOWNLOAD_TIMEOUT_S
        )
    except urllib3.exceptions.HTTPError as error:
        msg = f"Cannot download artifact file {entry.path!r} from {entry.ref}: {error}"
        raise ConnectionError(msg) from error
    try:
        if response.status != 200:
            msg = (
                f"Cannot download artifact file {entry.path!r} from {entry.ref}: "
                f"HTTP {response.status}."
            )
            raise ConnectionError(msg)
        # The official client's digest: the ETag without its quotes, or the
        # URL itself when the server sent none.
        etag = (response.headers.get("ETag") or entry.ref).strip('"')
        if not is_md5_digest(entry.digest) and etag != entry.digest:
            msg = (
                f"Artifact file {entry.path!r} at {entry.ref} has ETag {etag}, "
                f"not {entry.digest}; it changed since it was logged."
            )
            raise ValueError(msg)
        hasher = hashlib.md5(usedforsecurity=False)
        size = 0
        with open(temp, "xb") as stream:
            for chunk in response.stream(_DOWNLOAD_CHUNK):
                hasher.update(chunk)
                stream.write(chunk)
                size += len(chunk)
    finally:
        response.release_conn()
    return base64.b64encode(hasher.digest()).decode("ascii"), size


# -- helpers --------------------------------------------------------------


def _as_manifest(manifest: Manifest | Mapping[str, Any]) -> Manifest:
    if isinstance(manifest, Manifest):
        return manifest
    return Manifest.from_manifest_json(manifest)


def _files_in(root: str) -> list[str]:
    """The files under ``root``, as ``/``-separated paths relative to it."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), root)
            found.append(relative.replace(os.sep, "/"))
    return found


def _temp_beside(target: str) -> str:
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}{_TEMP_SUFFIX}{os.urandom(4).hex()}")


def _hard_link(source: str, target: str) -> bool:
    try:
        os.link(source, target)
    except OSError as error:
        logger.debug("Cannot hard link %s, copying it: %s", source, error)
        return False
    return True
