"""``Artifact``: a versioned set of files, built, logged and used as in ``wandb``.

Files are snapshotted when they are added, not when the run is synced: each
file is copied once into W&B's staging folder (read-only, as the official
client stages them) while it is hashed, so what a later ``wandb sync``
uploads is exactly what was hashed, whatever the user does to the original
afterwards. Where the file system can clone, the snapshot is a
copy-on-write clone and costs no bytes. Many files are snapshotted on a
pool of threads; the digest twins release the GIL while they read and hash.

``Run.log_artifact`` writes the ``artifact`` record to the transaction log,
hard links the snapshots into the shared cache (no second copy; the
staging name keeps them safe from any cache cleanup until the run is
synced) and gives the artifact its version in the local index, so that
``Run.use_artifact("name:alias")`` finds it offline.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import posixpath
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from wandb_core import _env, _term, artifacts
from wandb_core.artifacts.manifest import Manifest, ManifestEntry
from wandb_core.errors import (
    ArtifactFinalizedError,
    UsageError,
)

if TYPE_CHECKING:
    from wandb_core._fast.digest_py import FileDigest
    from wandb_core.artifacts.index import LoggedVersion
    from wandb_core.runs import Run

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[a-zA-Z0-9_\-.]+")
NAME_MAX_LENGTH = 128
MAX_METADATA_KEYS = 100
# Names and aliases may not hold the characters that separate name parts.
SEPARATORS = frozenset("/:")
TAG_PATTERN = re.compile(r"[-\w]+( +[-\w]+)*")
# W&B keeps types starting with this for its own artifacts (run history...).
RESERVED_TYPE_PREFIX = "wandb-"
DIGEST_ALGORITHMS = {"MD5": "MANIFEST_MD5", "XXH128": "MANIFEST_XXH128"}
# Entries of a non-MD5 artifact say which hash their digest is.
ALGORITHM_EXTRA_KEY = "alg"
POLICIES = ("mutable", "immutable")
# Artifacts at least this big (or with this many files) show progress.
PROGRESS_BYTES = 100 * 1024 * 1024
PROGRESS_FILES = 1000
# Manifests with more entries go to a file beside the log record, as the
# official client does, since one record that big is slow to decode.
MANIFEST_FILE_THRESHOLD = 100_000


class Artifact:
    """A set of files (and references) that a run logs or uses, by version.

    Drop-in for ``wandb.Artifact``: build it with ``add_file``, ``add_dir``,
    ``add_reference``, ``new_file`` and ``add``, then ``run.log_artifact``
    it; ``run.use_artifact("name:alias")`` gives a logged one back, whose
    ``download()`` puts its files in a folder.
    """

    def __init__(
        self,
        name: str,
        type: str,  # noqa: A002 - the official client's parameter name
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
        storage_region: str | None = None,
        digest_algorithm: str = "MD5",
    ) -> None:
        """Start an artifact; see the class docstring.

        Raises:
            ValueError: the name, type, metadata or digest algorithm is not
                one W&B accepts; the message says which and why.
        """
        self._name = _checked_name(name)
        self._type = _checked_type(type)
        self._description = description
        self._metadata = _checked_metadata(metadata)
        if digest_algorithm not in DIGEST_ALGORITHMS:
            msg = (
                f"Artifact {name!r}: digest_algorithm {digest_algorithm!r} is not "
                f"one of {', '.join(DIGEST_ALGORITHMS)}."
            )
            raise ValueError(msg)
        self._digest_algorithm = digest_algorithm
        self.incremental = incremental
        self.use_as = use_as
        self.storage_region = storage_region
        self._manifest = Manifest()
        self._client_id = artifacts.new_client_id()
        self._sequence_client_id = artifacts.new_client_id()
        self._added_objects: dict[int, tuple[Any, ManifestEntry]] = {}
        self._lock = threading.RLock()
        self._tmp_dir: str | None = None
        # Set once the artifact is logged or was found by use_artifact.
        self._logged: LoggedVersion | None = None
        self._aliases: list[str] = []
        self._tags: list[str] = []
        self._finalized = False
        # A version found by use_artifact is named name:v<N>, as online.
        self._from_index = False

    # -- what it is ------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The name; ``name:v<N>`` for a version found by ``use_artifact``."""
        if self._logged is not None and self._from_index:
            return self._logged.qualified_name
        return self._name

    @property
    def type(self) -> str:
        """The artifact's type (``dataset``, ``model``, ...)."""
        return self._type

    @property
    def description(self) -> str | None:
        """A free-form description."""
        return self._description

    @description.setter
    def description(self, value: str | None) -> None:
        self._ensure_draft("description")
        self._description = value

    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata, to read or change in place until the artifact is logged.

        Values are checked and converted when it is set and when it is logged.
        """
        return self._metadata

    @metadata.setter
    def metadata(self, value: dict[str, Any] | None) -> None:
        self._ensure_draft("metadata")
        self._metadata = _checked_metadata(value)

    @property
    def digest_algorithm(self) -> str:
        """``MANIFEST_MD5`` or ``MANIFEST_XXH128``, as the transaction log names it."""
        return DIGEST_ALGORITHMS[self._digest_algorithm]

    @property
    def manifest(self) -> Manifest:
        """The entries, by path; ``manifest.to_manifest_json()`` is the JSON."""
        return self._manifest

    @property
    def digest(self) -> str:
        """The artifact's digest (hex), the same as the official client's."""
        return self._manifest.digest(self._digest_algorithm)

    @property
    def size(self) -> int:
        """The bytes of every entry, references included."""
        return self._manifest.size()

    @property
    def version(self) -> str | None:
        """``v<N>`` once logged on this machine, else None."""
        return None if self._logged is None else f"v{self._logged.version}"

    @property
    def aliases(self) -> list[str]:
        """The aliases of the logged version (``latest`` included)."""
        return list(self._aliases)

    @aliases.setter
    def aliases(self, value: Sequence[str]) -> None:
        self._aliases = checked_aliases(value)

    @property
    def tags(self) -> list[str]:
        """The tags given to ``log_artifact``."""
        return list(self._tags)

    @property
    def entity(self) -> str:
        """The entity of the run that logged it ("" offline, before sync)."""
        return "" if self._logged is None else self._logged.entity

    @property
    def project(self) -> str | None:
        """The project of the run that logged it."""
        return None if self._logged is None else self._logged.project

    @property
    def qualified_name(self) -> str:
        """``entity/project/name:v<N>``, or the bare name of a draft."""
        if self._logged is None:
            return self._name
        found = self._logged
        return "/".join(
            part for part in (found.entity, found.project, found.qualified_name) if part
        )

    @property
    def state(self) -> str:
        """``PENDING`` while it can change, ``COMMITTED`` once logged."""
        return "COMMITTED" if self._finalized or self._logged else "PENDING"

    def is_draft(self) -> bool:
        """Whether files can still be added (it was neither logged nor used)."""
        return not self._finalized and self._logged is None

    def files(self, names: Sequence[str] | None = None) -> list[ManifestEntry]:
        """The entries, all or those named, in path order."""
        wanted = None if names is None else set(names)
        return [
            self._manifest.entries[path]
            for path in sorted(self._manifest.entries)
            if wanted is None or path in wanted
        ]

    def __repr__(self) -> str:
        files = len(self._manifest)
        return f"<Artifact {self.qualified_name} ({self._type}, {files} files)>"

    # -- adding files ----------------------------------------------------------------

    def add_file(
        self,
        local_path: str,
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        overwrite: bool = False,
    ) -> ManifestEntry:
        """Add one file, named ``name`` in the artifact (default: its base name).

        With ``policy="mutable"`` (the default) a snapshot is taken now;
        ``"immutable"`` trusts the file to stay as it is until synced.
        ``is_tmp`` names the file by its digest. A name already in the
        artifact with other content needs ``overwrite=True``.

        Raises:
            ValueError: ``local_path`` is missing or a folder, the name is
                not a valid artifact path, or taken and ``overwrite`` is off.
            ArtifactFinalizedError: the artifact was logged already.
            OSError: the snapshot could not be written (disk full); nothing
                is left behind.
        """
        self._ensure_draft("add_file")
        local_path = os.fspath(local_path)
        _check_is_file(local_path)
        policy = _checked_policy(policy)
        entry_path = checked_entry_path(name or os.path.basename(local_path))
        with self._lock:
            (entry,) = self._snapshot(
                [(entry_path, local_path)], policy, bool(skip_cache), "add_file"
            )
            if is_tmp:
                entry.path = _digest_named(entry.path, entry.digest)
            self._add_entries([entry], overwrite)
        return entry

    def add_dir(
        self,
        local_path: str,
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        merge: bool = False,
    ) -> None:
        """Add every file under a folder, under ``name/`` in the artifact.

        Symbolic links are followed only where they point inside the folder;
        links out of it are left out, and a warning names them. A file
        already in the artifact with other content needs ``merge=True``.

        Raises:
            ValueError: ``local_path`` is not a folder, or a file clashes
                with one already added (nothing of the folder is added then).
            ArtifactFinalizedError: the artifact was logged already.
            FileChangedError: a file changed while it was read.
            OSError: a snapshot could not be written; none is left behind.
        """
        self._ensure_draft("add_dir")
        local_path = os.fspath(local_path)
        if not os.path.isdir(local_path):
            problem = "is a file" if os.path.exists(local_path) else "does not exist"
            msg = f"Cannot add folder {local_path!r} to an artifact: it {problem}."
            raise ValueError(msg)
        policy = _checked_policy(policy)
        prefix = checked_entry_path(name) + "/" if name else ""
        found, outside = _walk_files(local_path)
        if outside:
            shown = ", ".join(outside[:5]) + (" ..." if len(outside) > 5 else "")
            _term.warn(
                f"add_dir({local_path!r}) left out {len(outside)} symbolic "
                f"link(s) pointing outside the folder: {shown}"
            )
        pairs = [(prefix + relative, physical) for relative, physical in found]
        with self._lock:
            entries = self._snapshot(pairs, policy, bool(skip_cache), "add_dir")
            self._add_entries(entries, merge)

    def add_reference(
        self,
        uri: str | ManifestEntry,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> list[ManifestEntry]:
        """Add files by URI, without storing their bytes (``file://``, ``http(s)://``).

        Raises:
            ValueError: ``uri`` is not a URI or names nothing (see
                ``references.reference_entries``), or a path is taken.
            ArtifactFinalizedError: the artifact was logged already.
        """
        from wandb_core.artifacts.references import reference_entries

        self._ensure_draft("add_reference")
        if isinstance(uri, ManifestEntry):
            if uri.ref is None:
                msg = f"Entry {uri.path!r} is a stored file, not a reference."
                raise ValueError(msg)
            uri = uri.ref
        entry_name = None if name is None else checked_entry_path(os.fspath(name))
        entries = reference_entries(os.fspath(uri), entry_name, checksum, max_objects)
        for entry in entries:
            checked_entry_path(entry.path)
        with self._lock:
            self._add_entries(entries, overwrite=False)
        return entries

    @contextlib.contextmanager
    def new_file(
        self,
        name: str,
        mode: str = "x",
        encoding: str | None = None,
        policy: str = "mutable",
    ) -> Iterator[IO[Any]]:
        """Write a new file of the artifact: ``with artifact.new_file("a.txt") as f``.

        The file is added when the block ends without an exception.

        Raises:
            ValueError: ``name`` is taken and ``mode`` has ``x``.
        """
        self._ensure_draft("new_file")
        entry_path = checked_entry_path(name)
        overwrite = "x" not in mode
        if not overwrite and entry_path in self._manifest:
            msg = f"Artifact {self._name!r} already has a file {entry_path!r}."
            raise ValueError(msg)
        # An immutable file is uploaded from where it was written: keep it.
        folder = (
            tempfile.mkdtemp(prefix="wandb-core-new-file-")
            if policy == "mutable"
            else os.path.join(self._temp_dir(), "new-files")
        )
        local = os.path.join(folder, *entry_path.split("/"))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        try:
            with open(local, mode, encoding=encoding) as stream:
                yield stream
            self.add_file(
                local,
                name=entry_path,
                skip_cache=True,
                policy=policy,
                overwrite=overwrite,
            )
        finally:
            if policy == "mutable":
                shutil.rmtree(folder, ignore_errors=True)

    def add(self, obj: Any, name: str, overwrite: bool = False) -> ManifestEntry:
        """Add a ``Table`` or an ``Image`` as the official client stores them.

        A table becomes ``<name>.table.json`` (and the files of its
        images); an image its PNG and ``<name>.image-file.json``.

        Raises:
            TypeError: ``obj`` is neither a Table nor an Image.
        """
        from wandb_core.data_types import table as table_module
        from wandb_core.data_types.image import Image

        self._ensure_draft("add")
        known = self._added_objects.get(id(obj))
        if known is not None and known[0] is obj:
            return known[1]
        if isinstance(obj, table_module.Table):
            entry_path = checked_entry_path(_with_suffix(name, "table.json"))
            data, cell_files = table_module.artifact_files(obj, self, entry_path)
        elif isinstance(obj, Image):
            entry_path = checked_entry_path(_with_suffix(name, "image-file.json"))
            cell, cell_files = obj._wandb_core_table_cell(self, entry_path)
            data = json.dumps(cell, sort_keys=True).encode("utf-8")
        else:
            msg = (
                f"Artifact.add takes a Table or an Image, not "
                f"{type(obj).__name__} (for {name!r}); add files with add_file."
            )
            raise TypeError(msg)
        if entry_path in self._manifest and not overwrite:
            return self._manifest.entries[entry_path]
        files = [(entry_path, data)]
        files += [
            (path, blob) for path, blob in cell_files if path not in self._manifest
        ]
        with self._lock:
            # The bytes are at hand: each is staged (written once) and hashed.
            entries = [self._staged_entry(path, blob) for path, blob in files]
            self._add_entries(entries, overwrite=True)
        self._added_objects[id(obj)] = (obj, entries[0])
        return entries[0]

    def _staged_entry(self, path: str, data: bytes) -> ManifestEntry:
        """The entry of bytes in memory, staged read-only for sync."""
        import base64

        extra: dict[str, Any] | None = None
        if self._digest_algorithm == "XXH128":
            import xxhash

            digest = base64.b64encode(xxhash.xxh128(data).digest()).decode("ascii")
            extra = {ALGORITHM_EXTRA_KEY: "XXH128"}
        else:
            digest = artifacts.md5_b64(data)
        return ManifestEntry(
            path=path,
            digest=digest,
            size=len(data),
            local_path=artifacts.stage_bytes(data),
            extra=extra,
        )

    def remove(self, item: str | ManifestEntry) -> None:
        """Remove an entry, or every entry under a folder.

        Raises:
            FileNotFoundError: nothing of that name is in the artifact.
        """
        self._ensure_draft("remove")
        if isinstance(item, ManifestEntry):
            path = item.path
        else:
            path = str(item).rstrip("/")
            while path.startswith("./"):
                path = path[2:]
        with self._lock:
            entries = self._manifest.entries
            if path in entries:
                del entries[path]
                return
            inside = [key for key in entries if key.startswith(path + "/")]
            if not inside:
                msg = f"Artifact {self._name!r} has no file or folder {path!r}."
                raise FileNotFoundError(msg)
            for key in inside:
                del entries[key]

    # -- using a logged artifact ---------------------------------------------------

    def get_entry(self, name: str) -> ArtifactEntry:
        """The entry at ``name``, with a ``download()`` of its own.

        Raises:
            KeyError: the artifact has no such entry.
        """
        entry = self._manifest.entries.get(str(name))
        if entry is None:
            msg = f"Artifact {self.name!r} has no file {name!r}."
            raise KeyError(msg)
        return ArtifactEntry(entry, self)

    get_path = get_entry

    def download(
        self,
        root: str | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
    ) -> str:
        """Put the artifact's files under ``root``; its path.

        The default root is ``$WANDB_ARTIFACT_DIR/<name>:v<N>`` (else
        ``./artifacts/...``). Files come from the cache, or from the staged
        snapshot of a run not yet synced, and are checked against their
        digest.

        Raises:
            UsageError: the artifact was never logged.
            ArtifactNotFoundError: a file is neither cached nor staged here.
            ValueError: a file's bytes do not match its digest, or an entry
                path would land outside ``root``.
        """
        from wandb_core.artifacts.download import materialize

        root = root or self._default_root("download")
        if os.path.exists(root) and not os.path.isdir(root):
            msg = f"Cannot download artifact {self.name!r} into {root}: it is a file."
            raise ValueError(msg)
        manifest = self._manifest
        if path_prefix:
            manifest = Manifest(
                entry for entry in manifest if entry.path.startswith(path_prefix)
            )
        if allow_missing_references:
            manifest = Manifest(entry for entry in manifest if _is_available(entry))
        with _Progress(
            f"Downloading artifact {self.name!r}", len(manifest), manifest.size()
        ) as progress:
            return materialize(manifest, root, progress=progress.files)

    def verify(self, root: str | None = None) -> None:
        """Check that ``root`` holds exactly the artifact's files.

        Raises:
            ValueError: what is missing, extra or different, all at once.
        """
        from wandb_core.artifacts.download import verify

        verify(self._manifest, root or self._default_root("verify"))

    def wait(self, timeout: int | None = None) -> Artifact:
        """Nothing to wait for offline: logging completes before it returns."""
        return self

    def finalize(self) -> None:
        """Nothing may be added any more (``log_artifact`` calls it)."""
        self._ensure_tmp_removed()

    def save(self) -> None:
        """Log the artifact to the current run (``wandb.init`` first)."""
        import wandb_core

        run = wandb_core.run
        if run is None:
            msg = "Artifact.save() needs a run: call wandb_core.init() first."
            raise UsageError(msg)
        run.log_artifact(self)

    # -- logging (called by Run) ----------------------------------------------------

    def _log(
        self,
        run: Run,
        aliases: Sequence[str] | None,
        tags: Sequence[str] | None,
        *,
        user_created: bool = False,
        use_after_commit: bool = False,
    ) -> None:
        from wandb_core.backend import records

        # Everything is checked before anything is written.
        wanted_aliases = resolve_aliases(aliases)
        wanted_tags = checked_tags(tags or ())
        self._metadata = _checked_metadata(self._metadata)
        self._check_type_in_index(run)
        with self._lock:
            self.finalize()
            manifest_file = None
            if len(self._manifest) > MANIFEST_FILE_THRESHOLD:
                manifest_file = write_manifest_file(self._manifest)
            run.write_record(
                records.artifact(
                    run_id=run.id,
                    project=run.project,
                    entity=run.entity,
                    artifact_type=self._type,
                    name=self._name,
                    digest=self.digest,
                    client_id=self._client_id,
                    sequence_client_id=self._sequence_client_id,
                    manifest_entries=self._manifest.record_entries(),
                    storage_policy=self._manifest.storage_policy,
                    storage_policy_config=self._manifest.storage_policy_items(),
                    aliases=wanted_aliases,
                    description=self._description or None,
                    metadata_json=_metadata_json(self._metadata),
                    user_created=user_created,
                    use_after_commit=use_after_commit,
                    tags=wanted_tags,
                    digest_algorithm=self.digest_algorithm,
                    manifest_file_path=manifest_file,
                )
            )
            self._tags = wanted_tags
            self._share_with_cache()
            self._add_to_index(run, wanted_aliases)

    def _share_with_cache(self) -> None:
        """Hard link the snapshots into the shared cache, by MD5."""
        if self._digest_algorithm != "MD5":
            return  # the cache is keyed by MD5
        from wandb_core.artifacts.cache import default_cache

        shared = [
            (entry.local_path, entry.digest, entry.size or 0)
            for entry in self._manifest
            if entry.ref is None and entry.local_path and not entry.skip_cache
        ]
        try:
            default_cache().link_in_many(shared)
        except (OSError, ValueError) as error:
            # The snapshots stay staged for sync; only the cache misses them.
            logger.warning("artifact %s not cached: %s", self._name, error)
            _term.alert_once(
                "artifact-cache",
                f"Could not add artifact files to the cache ({error}); they stay "
                "staged for sync, and download() reads them from there.",
            )

    def _check_type_in_index(self, run: Run) -> None:
        """Refuse a name this project logged with another type (a user error)."""
        import sqlite3

        from wandb_core.artifacts.index import default_index

        try:
            default_index().check_type(
                entity=run.entity, project=run.project, name=self._name, type=self._type
            )
        except (OSError, sqlite3.Error) as error:
            logger.warning("artifact index not readable: %s", error)

    def _add_to_index(self, run: Run, aliases: list[str]) -> None:
        import sqlite3

        from wandb_core.artifacts.index import default_index

        try:
            self._logged = default_index().add_version(
                entity=run.entity,
                project=run.project,
                name=self._name,
                type=self._type,
                digest=self.digest,
                manifest=index_manifest(self._manifest),
                aliases=aliases,
                run_id=run.id,
                description=self._description,
                metadata=self._metadata,
            )
        except (OSError, sqlite3.Error) as error:
            logger.warning("artifact %s not indexed: %s", self._name, error)
            _term.alert_once(
                "artifact-index",
                f"Could not record artifact {self._name!r} in the local index "
                f"({error}); it is in the run's log, but use_artifact on this "
                "machine will not find it.",
            )
            return
        self._aliases = list(self._logged.aliases)

    @classmethod
    def _from_logged(cls, found: LoggedVersion) -> Artifact:
        """The artifact of a version in the local index (``use_artifact``)."""
        artifact = cls(
            found.name,
            found.type,
            description=found.description,
            metadata=found.metadata,
            digest_algorithm=_algorithm_of(found.manifest),
        )
        artifact._manifest = manifest_from_index(found.manifest)
        artifact._logged = found
        artifact._aliases = list(found.aliases)
        artifact._from_index = True
        return artifact

    # -- private ----------------------------------------------------------------------

    def _ensure_draft(self, action: str) -> None:
        if self._logged is not None or self._finalized:
            msg = (
                f"Artifact {self.name!r} is logged and cannot change ({action}); "
                "make a new Artifact for a new version."
            )
            raise ArtifactFinalizedError(msg)

    def _ensure_tmp_removed(self) -> None:
        self._finalized = True
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None

    def _temp_dir(self) -> str:
        if self._tmp_dir is None:
            self._tmp_dir = tempfile.mkdtemp(prefix="wandb-core-artifact-")
        return self._tmp_dir

    def _default_root(self, action: str) -> str:
        if self._logged is None:
            msg = (
                f"Artifact {self._name!r} was never logged; log_artifact it "
                f"(or get it with use_artifact) before {action}()."
            )
            raise UsageError(msg)
        folder = self._logged.qualified_name
        if sys.platform == "win32":  # pragma: no cover - Windows only
            folder = folder.replace(":", "-")
        base = _env.get_str(_env.ARTIFACT_DIR) or os.path.join(".", "artifacts")
        return os.path.join(base, folder)

    def _add_entries(self, entries: list[ManifestEntry], overwrite: bool) -> None:
        """Add entries, all or none: a clash leaves the artifact unchanged."""
        current = self._manifest.entries
        if not overwrite:
            for entry in entries:
                old = current.get(entry.path)
                if old is not None and old.digest != entry.digest:
                    _remove_staged(entries)
                    msg = (
                        f"Artifact {self._name!r} already has a different file "
                        f"{entry.path!r}; pass overwrite=True (merge=True for "
                        "add_dir) to replace it."
                    )
                    raise ValueError(msg)
        for entry in entries:
            self._manifest.add(entry)

    def _snapshot(
        self,
        pairs: list[tuple[str, str]],
        policy: str,
        skip_cache: bool,
        action: str,
    ) -> list[ManifestEntry]:
        """Entries for ``(entry path, local file)`` pairs, snapshotting if mutable."""
        sources = [local for _, local in pairs]
        sizes = _sizes(sources)
        label = f"{action} for artifact {self._name!r}"
        with _Progress(label, len(sources), sum(sizes)) as progress:
            if policy == "mutable":
                staged, digests = snapshot_files(sources, progress.bytes)
            else:
                staged = [os.path.abspath(path) for path in sources]
                digests = _hash_in_place(sources, progress.bytes)
        if self._digest_algorithm == "XXH128":
            from wandb_core.artifacts.download import xxh128_file_b64

            hashes = [xxh128_file_b64(path) for path in staged]
            extra: dict[str, Any] | None = {ALGORITHM_EXTRA_KEY: "XXH128"}
        else:
            hashes = [found.md5 or "" for found in digests]
            extra = None
        return [
            ManifestEntry(
                path=entry_path,
                digest=file_hash,
                size=found.size,
                local_path=local,
                skip_cache=skip_cache,
                extra=extra,
            )
            for (entry_path, _), found, local, file_hash in zip(
                pairs, digests, staged, hashes
            )
        ]


class ArtifactEntry:
    """An entry of an artifact, which can download itself (``get_entry``)."""

    def __init__(self, entry: ManifestEntry, artifact: Artifact) -> None:
        self._entry = entry
        self._artifact = artifact

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entry, name)

    def __repr__(self) -> str:
        return repr(self._entry)

    def ref_url(self) -> str:
        """The ``wandb-client-artifact://`` URL of this entry."""
        client_id = self._artifact._client_id
        return f"wandb-client-artifact://{client_id}/{self._entry.path}"

    def download(self, root: str | None = None, skip_cache: bool | None = None) -> str:
        """Write this entry's file under ``root``; the file's path."""
        from wandb_core.artifacts.download import materialize, safe_target

        root = root or self._artifact._default_root("download")
        materialize(Manifest([self._entry]), root)
        return safe_target(root, self._entry.path)


# ---------------------------------------------------------------------------
# Aliases, names, metadata
# ---------------------------------------------------------------------------


def checked_aliases(aliases: str | Sequence[str]) -> list[str]:
    """The aliases as a list, each checked.

    Raises:
        ValueError: an alias is not a string, is empty or holds ``/`` or ``:``.
    """
    listed = [aliases] if isinstance(aliases, str) else list(aliases)
    for alias in listed:
        if not isinstance(alias, str) or not alias or SEPARATORS & set(alias):
            msg = (
                f"Artifact alias {alias!r} is not valid: use a non-empty string "
                "without '/' or ':'."
            )
            raise ValueError(msg)
    return listed


def resolve_aliases(aliases: str | Sequence[str] | None) -> list[str]:
    """The given aliases, each once, then ``latest`` if it was not among them.

    An alias that reads as a version (``v3``) is kept for the server, as
    the official client keeps it, with a warning: on this machine
    ``name:v3`` means version 3.
    """
    from wandb_core.artifacts.index import is_version_alias

    listed = checked_aliases(aliases or [])
    unique = list(dict.fromkeys(listed))
    for alias in unique:
        if is_version_alias(alias):
            _term.warn(
                f"Artifact alias {alias!r} reads as a version number; offline, "
                f"use_artifact('<name>:{alias}') means version {alias[1:]}."
            )
    if "latest" not in unique:
        unique.append("latest")
    return unique


def checked_tags(tags: Sequence[str]) -> list[str]:
    """Artifact tags, checked as W&B checks them.

    Raises:
        ValueError: a tag is not words (letters, digits, ``_``, ``-``)
            separated by single spaces.
    """
    listed = [tags] if isinstance(tags, str) else list(tags)
    for tag in listed:
        if not isinstance(tag, str) or not TAG_PATTERN.fullmatch(tag):
            msg = (
                f"Artifact tag {tag!r} is not valid: use letters, digits, '_' "
                "and '-', words separated by single spaces."
            )
            raise ValueError(msg)
    return list(dict.fromkeys(listed))


def checked_entry_path(path: str) -> str:
    """An entry path as the manifest keys it (``/``-separated, relative).

    Raises:
        ValueError: the path is empty, absolute, has a drive, a ``..`` part
            or would otherwise land outside a download folder.
    """
    from wandb_core.artifacts.download import path_problem

    if not isinstance(path, str):
        msg = f"Artifact file name {path!r} must be a string."
        raise TypeError(msg)
    normalized = path.replace(os.sep, "/") if os.sep != "/" else path
    while normalized.startswith("./"):
        normalized = normalized[2:]
    if normalized in ("", "."):
        problem: str | None = "it is empty"
    else:
        problem = path_problem(normalized)
    if problem is not None:
        msg = f"Artifact file name {path!r} is not valid: {problem}."
        raise ValueError(msg)
    return normalized


def _checked_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        msg = (
            f"Artifact name {name!r} is not valid: use only letters, digits, "
            "'-', '_' and '.'."
        )
        raise ValueError(msg)
    if len(name) > NAME_MAX_LENGTH:
        msg = (
            f"Artifact name {name[:20]!r}... has {len(name)} characters; W&B "
            f"allows {NAME_MAX_LENGTH}."
        )
        raise ValueError(msg)
    return name


def _checked_type(artifact_type: Any) -> str:
    if (
        not isinstance(artifact_type, str)
        or not artifact_type
        or SEPARATORS & set(artifact_type)
        or len(artifact_type) > NAME_MAX_LENGTH
    ):
        msg = (
            f"Artifact type {artifact_type!r} is not valid: use a non-empty "
            f"string of at most {NAME_MAX_LENGTH} characters without '/' or ':'."
        )
        raise ValueError(msg)
    if artifact_type.startswith(RESERVED_TYPE_PREFIX):
        msg = (
            f"Artifact type {artifact_type!r} is reserved for W&B's own "
            f"artifacts (types starting with {RESERVED_TYPE_PREFIX!r})."
        )
        raise ValueError(msg)
    return artifact_type


def _checked_metadata(metadata: Any) -> dict[str, Any]:
    """Metadata as JSON-ready values, converted as the official client does.

    NaN becomes None, bytes are decoded, dates and times become ISO text,
    sets and tuples lists, enums their names, numpy values Python ones,
    dataclasses dicts, keys that are numbers text; infinities are refused,
    and so is an object whose text would only be its address.
    """
    if metadata is None:
        return {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata) if metadata else {}
    if not isinstance(metadata, dict):
        msg = f"Artifact metadata must be a dict, not {type(metadata).__name__}."
        raise TypeError(msg)
    if len(metadata) > MAX_METADATA_KEYS:
        msg = (
            f"Artifact metadata has {len(metadata)} keys; W&B allows "
            f"{MAX_METADATA_KEYS}."
        )
        raise ValueError(msg)
    checked: dict[str, Any] = _json_ready(metadata, "")
    return checked


def _metadata_key(key: Any, where: str) -> str:
    """A key as JSON text has it: numbers, booleans and None become text."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    msg = f"Artifact metadata key {where}{key!r} is a {type(key).__name__}, not a str."
    raise TypeError(msg)


def _json_ready(value: Any, where: str) -> Any:
    import dataclasses
    import datetime
    import enum

    if value is None or type(value) in (str, bool, int):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int):  # subclasses of int and str, as builtins
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            msg = f"Artifact metadata {where!r} is {value}; W&B stores no infinities."
            raise ValueError(msg)
        return float(value)
    if isinstance(value, dict):
        prefix = f"{where}." if where else ""
        return {
            _metadata_key(key, prefix): _json_ready(item, f"{prefix}{key}")
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [
            _json_ready(item, f"{where}[{index}]") for index, item in enumerate(value)
        ]
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as error:
            msg = f"Artifact metadata {where!r} holds bytes that are not UTF-8."
            raise ValueError(msg) from error
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_ready(dataclasses.asdict(value), where)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return _json_ready(tolist(), where)
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    if getattr(type(value), "__str__", None) is not object.__str__:
        # Path, Decimal, UUID... as their text, as the official client does.
        return str(value)
    msg = (
        f"Artifact metadata {where!r} is a {type(value).__name__}; use JSON "
        "values (numbers, strings, booleans, None, lists, dicts)."
    )
    raise TypeError(msg)


def _metadata_json(metadata: dict[str, Any]) -> str | None:
    """Metadata as the transaction log holds it: compact JSON, or nothing."""
    if not metadata:
        return None
    return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)


def _checked_policy(policy: str | None) -> str:
    policy = policy or "mutable"
    if policy not in POLICIES:
        msg = f"Artifact file policy {policy!r} is not 'mutable' or 'immutable'."
        raise ValueError(msg)
    return policy


def _check_is_file(path: str) -> None:
    if os.path.isfile(path):
        return
    if os.path.isdir(path):
        problem = "it is a folder (use add_dir)"
    elif os.path.lexists(path):
        problem = "it is not a regular file"
    else:
        problem = "it does not exist"
    msg = f"Cannot add {path!r} to an artifact: {problem}."
    raise ValueError(msg)


def _with_suffix(name: str, suffix: str) -> str:
    return name if name.endswith("." + suffix) else f"{name}.{suffix}"


def _digest_named(entry_path: str, md5_b64: str) -> str:
    """``is_tmp`` naming: the first part of the base name becomes the digest."""
    import base64

    folder, base = posixpath.split(entry_path)
    parts = base.split(".")
    parts[0] = base64.b64decode(md5_b64).hex()[:20]
    return posixpath.join(folder, ".".join(parts))


def _is_available(entry: ManifestEntry) -> bool:
    if entry.ref is None:
        return True
    from wandb_core.artifacts.references import local_path_of

    return not entry.ref.startswith("file://") or os.path.exists(
        local_path_of(entry.ref)
    )


# ---------------------------------------------------------------------------
# The index's copy of a manifest: the official JSON plus where snapshots lie
# ---------------------------------------------------------------------------

_LOCAL_PATHS_KEY = "wandbCoreLocalPaths"


def index_manifest(manifest: Manifest) -> dict[str, Any]:
    """The manifest JSON the local index keeps: snapshots' paths included."""
    data = manifest.to_manifest_json()
    data[_LOCAL_PATHS_KEY] = {
        entry.path: entry.local_path
        for entry in manifest
        if entry.local_path and entry.ref is None
    }
    return data


def manifest_from_index(data: dict[str, Any]) -> Manifest:
    """The manifest back from ``index_manifest``'s JSON."""
    plain = {key: value for key, value in data.items() if key != _LOCAL_PATHS_KEY}
    manifest = Manifest.from_manifest_json(plain)
    for path, local in data.get(_LOCAL_PATHS_KEY, {}).items():
        if path in manifest.entries:
            manifest.entries[path].local_path = local
    return manifest


def _algorithm_of(manifest_json: dict[str, Any]) -> str:
    for fields in manifest_json.get("contents", {}).values():
        algorithm = (fields.get("extra") or {}).get(ALGORITHM_EXTRA_KEY)
        return str(algorithm) if algorithm in DIGEST_ALGORITHMS else "MD5"
    return "MD5"


def write_manifest_file(manifest: Manifest) -> str:
    """Write a large manifest's entries for the ``artifact`` record; the path.

    The official client's format: gzip'ed JSON lines, one entry each, in
    the order they were added, under ``<staging>/artifact_manifests/``.
    """
    import gzip
    import secrets

    folder = os.path.join(artifacts.staging_dir(), "artifact_manifests")
    os.makedirs(folder, exist_ok=True)
    name = f"{time.time()}_{secrets.token_hex(8)}.manifest_contents.jl.gz"
    path = os.path.join(folder, name)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as stream:
        for entry in manifest:
            stream.write(json.dumps(_entry_line(entry)) + "\n")
    return path


def _entry_line(entry: ManifestEntry) -> dict[str, Any]:
    line: dict[str, Any] = {"path": entry.path, "digest": entry.digest}
    if entry.ref is not None:
        line["ref"] = entry.ref
    if entry.birth_artifact_id is not None:
        line["birthArtifactID"] = entry.birth_artifact_id
    if entry.size is not None:
        line["size"] = entry.size
    line["extra"] = dict(entry.extra)
    if entry.local_path is not None:
        line["local_path"] = entry.local_path
    line["skip_cache"] = entry.skip_cache
    return line


# ---------------------------------------------------------------------------
# Snapshots: one copy of each file, hashed as it is written
# ---------------------------------------------------------------------------


def snapshot_files(
    sources: list[str], progress: Any = None
) -> tuple[list[str], list[FileDigest]]:
    """Copy each file into the staging folder, read-only, hashing it on the way.

    Many files go to a pool of threads. Returns the staged paths and the
    digests of the bytes copied, in the order of ``sources``.

    Raises:
        FileChangedError: a file changed while it was copied.
        OSError: a file could not be read or its snapshot written (disk
            full); no snapshot of this call is left behind then.
    """
    from wandb_core._fast import digest

    artifacts.staging_dir()  # made once here; the names come fresh per file
    staged: list[str | None] = [None] * len(sources)
    results: list[FileDigest | None] = [None] * len(sources)
    stop = threading.Event()
    clone = _CloneProbe()

    def copy_batch(batch: list[int]) -> int:
        copied = 0
        for index in batch:
            if stop.is_set():
                break
            target, found = _snapshot_one(sources[index], clone)
            staged[index], results[index] = target, found
            copied += found.size
        return copied

    try:
        digest.run_batches(
            digest.plan_batches(_sizes(sources)), copy_batch, stop, None, progress
        )
    except BaseException:
        for path in staged:
            if path is not None:
                artifacts.remove_quietly(path)
        raise
    return [path or "" for path in staged], [found for found in results if found]


def _snapshot_one(source: str, clone: _CloneProbe) -> tuple[str, FileDigest]:
    """A read-only snapshot of ``source`` under a fresh staging name."""
    for _ in range(artifacts.STAGED_ATTEMPTS):
        target = artifacts.new_staged_path()
        try:
            return target, _copy_to_new_file(source, target, clone)
        except FileExistsError:
            continue  # someone else's file: leave it, take another name
    msg = f"Cannot create a new file in the staging folder {artifacts.staging_path()}."
    raise FileExistsError(msg)


def _copy_to_new_file(source: str, target: str, clone: _CloneProbe) -> FileDigest:
    from wandb_core._fast import digest
    from wandb_core.artifacts.cache import clone_file

    try:
        if clone.worth_trying and clone.note(clone_file(source, target)):
            found: FileDigest = digest.file_digest(target, md5=True)
            os.chmod(target, stat.S_IRUSR)
        else:
            found = digest.copy_file_digest(source, target, md5=True, mode=stat.S_IRUSR)
    except FileExistsError:
        raise  # the exclusive create refused: the file is not ours
    except BaseException:
        artifacts.remove_quietly(target)
        raise
    return found


class _CloneProbe:
    """Tries copy-on-write clones until the file system first refuses one."""

    def __init__(self) -> None:
        self.worth_trying = True

    def note(self, cloned: bool) -> bool:
        if not cloned:
            self.worth_trying = False
        return cloned


def _hash_in_place(sources: list[str], progress: Any) -> list[FileDigest]:
    from wandb_core._fast import digest

    found: list[FileDigest] = digest.hash_files(sources, md5=True, progress=progress)
    return found


def _sizes(paths: list[str]) -> list[int]:
    from wandb_core._fast import digest

    sizes: list[int] = digest.file_sizes(paths)
    return sizes


def _remove_staged(entries: list[ManifestEntry]) -> None:
    staging = artifacts.staging_dir()
    for entry in entries:
        if entry.local_path and os.path.dirname(entry.local_path) == staging:
            artifacts.remove_quietly(entry.local_path)


def _walk_files(root: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``(relative path, path)`` of each file under ``root``, and links left out.

    Links are followed where they point inside ``root`` (each folder once);
    the others are returned apart.
    """
    real_root = os.path.realpath(root)
    found: list[tuple[str, str]] = []
    outside: list[str] = []
    visited = {real_root}
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as listing:
            for item in listing:
                relative = prefix + item.name
                if item.is_symlink():
                    target = os.path.realpath(item.path)
                    if os.path.commonpath([real_root, target]) != real_root:
                        outside.append(item.path)
                    elif os.path.isdir(target):
                        if target not in visited:
                            visited.add(target)
                            pending.append((item.path, relative + "/"))
                    elif os.path.isfile(target):
                        found.append((relative, item.path))
                elif item.is_dir(follow_symlinks=False):
                    visited.add(os.path.realpath(item.path))
                    pending.append((item.path, relative + "/"))
                elif item.is_file(follow_symlinks=False):
                    found.append((relative, item.path))
    found.sort()
    return found, outside


class _Progress:
    """Progress of hashing or copying a big artifact, on stderr.

    Shown for at least ``PROGRESS_BYTES`` or ``PROGRESS_FILES``: a bar that
    redraws in place on a terminal, a start and an end line elsewhere.
    """

    def __init__(self, label: str, files: int, total_bytes: int) -> None:
        self._label = label
        self._files = files
        self._total = total_bytes
        self._shown = (
            files >= PROGRESS_FILES or total_bytes >= PROGRESS_BYTES
        ) and not _env.silent()
        self._tty = self._shown and _isatty()
        self._start = time.monotonic()

    def __enter__(self) -> _Progress:
        if self._shown and not self._tty:
            _term.info(f"{self._label}: {self._files} files, {_mib(self._total)}...")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._shown:
            return
        seconds = time.monotonic() - self._start
        if self._tty:
            sys.stderr.write("\n")
        if exc_info[0] is None:
            _term.info(f"{self._label}: done in {seconds:.1f} s.")

    def bytes(self, bytes_done: int, files_done: int) -> None:
        """``progress`` callback of the digest twins."""
        if self._tty:
            fraction = bytes_done / self._total if self._total else 1.0
            detail = f"{files_done}/{self._files} files, {_mib(bytes_done)}"
            self._draw(fraction, detail)

    def files(self, files_done: int, files_total: int) -> None:
        """``progress`` callback of ``materialize``."""
        if self._tty:
            fraction = files_done / files_total if files_total else 1.0
            self._draw(fraction, f"{files_done}/{files_total} files")

    def _draw(self, fraction: float, detail: str) -> None:
        width = 30
        filled = int(width * min(1.0, fraction))
        bar = "#" * filled + "-" * (width - filled)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"\r{_term.PREFIX}{self._label} [{bar}] {detail}")
            sys.stderr.flush()


def _isatty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _mib(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB"
