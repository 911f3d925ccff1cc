"""Artifact manifests: the files of an artifact and the artifact's digest.

A manifest maps each path inside an artifact to an entry: the file's
digest (base64 MD5 of its bytes, or a reference's URI or ETag), its size
and, while the file waits for upload, where it lies on this machine
(``local_path``). The artifact's digest is the hex MD5 of the line
``wandb-artifact-manifest-v1`` followed by one ``path:digest`` line per
entry in path order, as the official client computes it
(``digest_algorithm`` ``MANIFEST_MD5``), so equal contents give equal
digests whichever client made them.

``Manifest.to_manifest_json`` gives the JSON that the official client
stores as ``wandb_manifest.json``; ``Manifest.record_entries`` the entries
of the ``artifact`` record of the transaction log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

MANIFEST_VERSION = 1
STORAGE_POLICY = "wandb-storage-policy-v1"
# The official client always stores files in the V2 layout.
STORAGE_POLICY_CONFIG: Mapping[str, Any] = {"storageLayout": "V2"}
DIGEST_ALGORITHM = "MANIFEST_MD5"
DIGEST_HEADER = b"wandb-artifact-manifest-v1\n"

_READ_CHUNK = 1 << 20


def md5_b64(data: bytes) -> str:
    """Base64 MD5 of ``data``: the digest of a file entry."""
    digest = hashlib.md5(data, usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


def md5_file_b64(path: str) -> str:
    """Base64 MD5 of the file at ``path``, read in chunks."""
    hasher = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_READ_CHUNK), b""):
            hasher.update(chunk)
    return base64.b64encode(hasher.digest()).decode("ascii")


class ManifestEntry:
    """One file (or reference) of an artifact.

    Attributes:
        path: The file's path inside the artifact (``/``-separated).
        digest: Base64 MD5 of the file, or the reference's checksum.
        size: The file's size in bytes, if known.
        ref: The URI of a reference entry; None for a stored file.
        local_path: Where the file waits for upload on this machine.
        birth_artifact_id: The artifact that first stored the file.
        skip_cache: Whether the file stays out of the local cache.
        extra: Further JSON-ready fields that travel with the entry.
    """

    __slots__ = (
        "path",
        "digest",
        "size",
        "ref",
        "local_path",
        "birth_artifact_id",
        "skip_cache",
        "extra",
    )

    def __init__(
        self,
        path: str,
        digest: str,
        size: int | None = None,
        ref: str | None = None,
        local_path: str | None = None,
        birth_artifact_id: str | None = None,
        skip_cache: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.digest = digest
        self.size = size
        self.ref = ref
        self.local_path = local_path
        self.birth_artifact_id = birth_artifact_id
        self.skip_cache = skip_cache
        self.extra: Mapping[str, Any] = dict(extra or {})

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ManifestEntry):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ManifestEntry({self.path!r}, digest={self.digest!r}, size={self.size!r})"
        )

    @classmethod
    def from_bytes(
        cls, path: str, data: bytes, local_path: str | None
    ) -> ManifestEntry:
        """The entry of a file whose bytes are at hand."""
        return cls(
            path=path, digest=md5_b64(data), size=len(data), local_path=local_path
        )

    @classmethod
    def from_file(cls, path: str, local_path: str) -> ManifestEntry:
        """The entry of the file at ``local_path``, stored under ``path``."""
        return cls(
            path=path,
            digest=md5_file_b64(local_path),
            size=os.path.getsize(local_path),
            local_path=local_path,
        )

    def to_manifest_json(self) -> dict[str, Any]:
        """The entry in ``wandb_manifest.json``: fields that differ from defaults.

        The path is the key of the entry there, and where the file lies
        locally is nobody else's business, so neither is included.
        """
        entry: dict[str, Any] = {"digest": self.digest}
        if self.ref is not None:
            entry["ref"] = self.ref
        if self.birth_artifact_id is not None:
            entry["birthArtifactID"] = self.birth_artifact_id
        if self.size is not None:
            entry["size"] = self.size
        if self.extra:
            entry["extra"] = dict(self.extra)
        return entry

    def record_fields(self) -> dict[str, Any]:
        """The entry's fields in an ``artifact`` record (``backend.records``)."""
        return {
            "path": self.path,
            "digest": self.digest,
            "ref": self.ref,
            "size": self.size,
            "local_path": self.local_path,
            "birth_artifact_id": self.birth_artifact_id,
            "skip_cache": self.skip_cache,
            "extra": [(key, json.dumps(value)) for key, value in self.extra.items()],
        }


class Manifest:
    """The entries of an artifact, by path, and the artifact's digest."""

    def __init__(
        self,
        entries: Iterable[ManifestEntry] = (),
        storage_policy: str = STORAGE_POLICY,
        storage_policy_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.storage_policy = storage_policy
        self.storage_policy_config = dict(
            STORAGE_POLICY_CONFIG
            if storage_policy_config is None
            else storage_policy_config
        )
        self.entries: dict[str, ManifestEntry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: ManifestEntry) -> None:
        """Add an entry; a second entry for the same path replaces the first."""
        self.entries[entry.path] = entry

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[ManifestEntry]:
        return iter(self.entries.values())

    def __contains__(self, path: object) -> bool:
        return path in self.entries

    def digest(self, algorithm: str = "MD5") -> str:
        """The artifact's digest (hex), from the entries in path order.

        ``algorithm`` is ``MD5`` or, for artifacts made with
        ``digest_algorithm="XXH128"``, ``XXH128`` (needs ``xxhash``).
        """
        hasher: Any
        if algorithm == "XXH128":
            import xxhash

            hasher = xxhash.xxh128(DIGEST_HEADER)
        else:
            hasher = hashlib.md5(DIGEST_HEADER, usedforsecurity=False)
        for path in sorted(self.entries):
            hasher.update(f"{path}:{self.entries[path].digest}\n".encode())
        hex_digest: str = hasher.hexdigest()
        return hex_digest

    def size(self) -> int:
        """The total size of the entries whose size is known."""
        return sum(entry.size or 0 for entry in self.entries.values())

    def to_manifest_json(self) -> dict[str, Any]:
        """The manifest as the official client stores it (``wandb_manifest.json``)."""
        return {
            "version": MANIFEST_VERSION,
            "storagePolicy": self.storage_policy,
            "storagePolicyConfig": dict(self.storage_policy_config),
            "contents": {
                path: entry.to_manifest_json() for path, entry in self.entries.items()
            },
        }

    @classmethod
    def from_manifest_json(cls, data: Mapping[str, Any]) -> Manifest:
        """A manifest from the JSON of ``wandb_manifest.json``.

        Raises:
            ValueError: the version is not 1, the only one there is.
        """
        version = data.get("version")
        if version != MANIFEST_VERSION:
            msg = (
                f"Artifact manifest version {version!r} is not supported; "
                f"only version {MANIFEST_VERSION} is."
            )
            raise ValueError(msg)
        entries = [
            ManifestEntry(
                path=path,
                digest=fields["digest"],
                size=fields.get("size"),
                ref=fields.get("ref"),
                birth_artifact_id=fields.get("birthArtifactID"),
                extra=fields.get("extra") or {},
            )
            for path, fields in data.get("contents", {}).items()
        ]
        return cls(
            entries,
            storage_policy=data.get("storagePolicy", STORAGE_POLICY),
            storage_policy_config=data.get("storagePolicyConfig"),
        )

    def storage_policy_items(self) -> list[tuple[str, str]]:
        """The storage policy's settings as ``(key, JSON)`` record items."""
        return [
            (key, json.dumps(value))
            for key, value in self.storage_policy_config.items()
        ]

    def record_entries(self) -> list[dict[str, Any]]:
        """The entries' record fields in path order, as the official client has them."""
        return [self.entries[path].record_fields() for path in sorted(self.entries)]
