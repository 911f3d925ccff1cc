"""Manifest entries of references: files an artifact names but does not store.

A reference entry keeps its URI in ``ref``; its digest says which content
it meant, as the official client computes it:

* ``file://`` a file or a folder (each file under it becomes an entry): the
  base64 MD5 of the file's bytes; with ``checksum=False`` the base64 MD5 of
  the file's absolute ``file://`` URI, so that the digest changes only when
  the URI does. Sizes are always recorded.
* ``http://`` and ``https://``: the response's ``ETag`` (without quotes,
  and with quotes under ``extra["etag"]``), else the URL itself; the size
  from ``Content-Length``. With ``checksum=False`` the URL, and no request.
* any other scheme (``s3://``, ``gs://``, ...): its clients are not part of
  wandb-core yet, so the entry is tracked by its URI alone, as the official
  client tracks schemes it does not know; a name must be given.
"""

from __future__ import annotations

import os
import posixpath
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from wandb_core import _term
from wandb_core.artifacts.manifest import ManifestEntry

# The official client's limit on the files of one folder reference.
DEFAULT_MAX_OBJECTS = 10_000_000
_HTTP_TIMEOUT_S = 30.0


def reference_entries(
    uri: str, name: str | None, checksum: bool, max_objects: int | None
) -> list[ManifestEntry]:
    """The entries that ``Artifact.add_reference(uri, ...)`` adds.

    Raises:
        ValueError: ``uri`` has no scheme, names no file or folder
            (``file://``), holds more than ``max_objects`` files, or has an
            unknown scheme and no ``name``.
        ConnectionError: an ``http(s)`` server could not be reached.
    """
    scheme = urlparse(uri).scheme
    if not scheme:
        msg = (
            f"Artifact reference {uri!r} is not a URI; to refer to a local "
            "file, write file:///absolute/path."
        )
        raise ValueError(msg)
    if scheme == "file":
        return _file_entries(uri, name, checksum, max_objects or DEFAULT_MAX_OBJECTS)
    if scheme in ("http", "https"):
        return [_http_entry(uri, name, checksum)]
    if name is None:
        msg = (
            f"Artifact reference {uri!r}: pass name='<path in the artifact>' for "
            f"{scheme}:// references, which are tracked by their URI only."
        )
        raise ValueError(msg)
    _term.warn(f"{scheme}:// references are tracked by their URI only: {uri}")
    return [ManifestEntry(path=name, digest=uri, ref=uri)]


def local_path_of(uri: str) -> str:
    """The local path a ``file://`` URI names."""
    parsed = urlparse(uri)
    if sys.platform == "win32":  # pragma: no cover - Windows only
        from urllib.request import url2pathname

        return url2pathname(parsed.path)
    return unquote(parsed.path)


def _file_entries(
    uri: str, name: str | None, checksum: bool, max_objects: int
) -> list[ManifestEntry]:
    from wandb_core._fast import digest

    local = local_path_of(uri)
    if os.path.isfile(local):
        found = [(name or os.path.basename(local), uri, local)]
    elif os.path.isdir(local):
        found = []
        base_uri = uri.rstrip("/")
        for folder, _, files in os.walk(local):
            for file_name in files:
                physical = os.path.join(folder, file_name)
                relative = os.path.relpath(physical, local).replace(os.sep, "/")
                if len(found) >= max_objects:
                    msg = (
                        f"Artifact reference {uri!r} holds more than "
                        f"{max_objects} files; pass a larger max_objects."
                    )
                    raise ValueError(msg)
                path = posixpath.join(name, relative) if name else relative
                found.append((path, f"{base_uri}/{relative}", physical))
    else:
        msg = f"Artifact reference {uri!r}: {local} is neither a file nor a folder."
        raise ValueError(msg)

    if checksum:
        digests = digest.hash_files([physical for _, _, physical in found])
        return [
            ManifestEntry(path=path, digest=result.md5, size=result.size, ref=ref)
            for (path, ref, _), result in zip(found, digests)
        ]
    return [
        ManifestEntry(
            path=path,
            digest=digest.md5_b64(Path(physical).resolve().as_uri().encode()),
            size=os.path.getsize(physical),
            ref=ref,
        )
        for path, ref, physical in found
    ]


def _http_entry(uri: str, name: str | None, checksum: bool) -> ManifestEntry:
    # As the official client: the last part of the URL, query included.
    path = name or posixpath.basename(uri)
    if not path:
        msg = (
            f"Artifact reference {uri!r} ends with '/'; pass name='<path in the "
            "artifact>' for it."
        )
        raise ValueError(msg)
    if not checksum:
        return ManifestEntry(path=path, digest=uri, ref=uri)

    import urllib3  # lazily: it costs tens of milliseconds to import

    pool = urllib3.PoolManager(retries=urllib3.Retry(3, backoff_factor=0.5))
    try:
        # Only the headers are read: the body is never fetched here.
        response = pool.request(
            "GET", uri, preload_content=False, timeout=_HTTP_TIMEOUT_S
        )
    except urllib3.exceptions.HTTPError as error:
        msg = f"Cannot reach artifact reference {uri}: {error}"
        raise ConnectionError(msg) from error
    try:
        if response.status >= 400:
            msg = f"Artifact reference {uri} answered HTTP {response.status}."
            raise ConnectionError(msg)
        etag = response.headers.get("ETag")
        length = response.headers.get("Content-Length")
        # After redirects the reference is where the content was found.
        final = urljoin(uri, response.geturl() or uri)
    finally:
        response.close()
    return ManifestEntry(
        path=path,
        digest=etag.strip('"') if etag else final,
        size=int(length) if length and length.isdigit() else None,
        ref=final,
        extra={"etag": etag} if etag else None,
    )
