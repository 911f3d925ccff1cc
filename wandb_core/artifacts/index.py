"""The local index of the artifact versions that runs on this machine logged.

Before a run is synced there is no server to number an artifact's
versions or to resolve ``use_artifact("name:best")``; this index does it
the way the server will: versions ``v0, v1, ...`` per ``(entity, project,
name)`` in logging order, content already logged (the same digest) reuses
its version, ``latest`` follows the newest logged, and a user alias moves
from the version that held it.

It is an SQLite database beside the cache
(``<cache dir>/wandb-core/artifact-index.sqlite3``). SQLite because several
processes (parallel training scripts, ``wandb-core`` commands) log at once:
its transactions number versions without gaps or duplicates across
processes, with no lock files of our own to clean up after a crash, and
readers never see half an update. Each call opens its own connection, so an
index is safe to share between threads and across ``fork``. SQLite's
locking is unreliable on network file systems; point ``WANDB_CACHE_DIR`` at
a local disk there.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from wandb_core.artifacts.cache import cache_dir
from wandb_core.errors import ArtifactNotFoundError

LATEST = "latest"
# Seconds a process waits for another's transaction before giving up.
BUSY_TIMEOUT_S = 60.0
SCHEMA_VERSION = 1
_VERSION_ALIAS = re.compile(r"v(\d+)")
# The official client refuses these in aliases: they separate name parts.
_ALIAS_FORBIDDEN = frozenset("/:")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    entity TEXT NOT NULL,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    digest TEXT NOT NULL,
    manifest TEXT NOT NULL,
    run_id TEXT NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (entity, project, name, version)
);
CREATE TABLE IF NOT EXISTS aliases (
    entity TEXT NOT NULL,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (entity, project, name, alias)
);
"""
_VERSION_COLUMNS = (
    "entity, project, name, type, version, digest, manifest, run_id, "
    "description, metadata, created_at"
)


@dataclass(frozen=True)
class LoggedVersion:
    """One version of an artifact that a run on this machine logged.

    Attributes:
        entity: The entity the run logged to ("" when not known yet).
        project: The run's project.
        name: The artifact's name.
        type: The artifact's type (``dataset``, ``model``, ...).
        version: The version number: this is ``v<version>``.
        digest: The artifact's digest (hex), from its manifest.
        aliases: The aliases this version holds, ``latest`` included.
        manifest: The manifest as ``Manifest.to_manifest_json`` gives it.
        run_id: The run that logged it first.
        description: The artifact's description.
        metadata: The artifact's metadata.
        created_at: When it was first logged (seconds since the epoch).
    """

    entity: str
    project: str
    name: str
    type: str
    version: int
    digest: str
    aliases: tuple[str, ...]
    manifest: dict[str, Any]
    run_id: str
    description: str | None
    metadata: dict[str, Any]
    created_at: float

    @property
    def qualified_name(self) -> str:
        """``name:v<version>``."""
        return f"{self.name}:v{self.version}"


class LocalIndex:
    """The artifact versions logged on this machine, shared by its processes."""

    def __init__(self, path: str | None = None) -> None:
        """Open the index at ``path`` (default beside the cache); made on first use."""
        self.path = os.path.abspath(path or default_index_path())
        self._schema_ready = False

    def add_version(
        self,
        *,
        entity: str,
        project: str,
        name: str,
        type: str,
        digest: str,
        manifest: dict[str, Any],
        aliases: Sequence[str],
        run_id: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> LoggedVersion:
        """Record a logged artifact and give it its version, as the server would.

        Content equal to a logged version's (the same digest) reuses that
        version. The version gets ``aliases`` and ``latest``, each taken
        from the version that held it.

        Raises:
            ValueError: an alias is empty, looks like a version (``v3``) or
                holds ``/`` or ``:``; or ``name`` was logged with another type.
        """
        wanted = _checked_aliases(aliases)
        key = (entity, project, name)
        with self._transaction() as db:
            _refuse_another_type(db, key, type)
            version = self._version_of_digest(db, key, digest)
            if version is None:
                version = self._insert_version(
                    db, key, type, digest, manifest, run_id, description, metadata
                )
            db.executemany(
                "INSERT OR REPLACE INTO aliases VALUES (?, ?, ?, ?, ?)",
                [(*key, alias, version) for alias in wanted],
            )
            return self._read_version(db, key, version)

    def check_type(self, *, entity: str, project: str, name: str, type: str) -> None:
        """Refuse, before anything is logged, a name logged with another type.

        Raises:
            ValueError: ``name`` was logged as another type in this project.
        """
        with self._connect() as db:
            _refuse_another_type(db, (entity, project, name), type)

    def resolve(
        self, name: str, *, entity: str = "", project: str = ""
    ) -> LoggedVersion:
        """The version that ``name`` means.

        Args:
            name: ``name``, ``name:latest``, ``name:v2``, ``name:<alias>``,
                ``project/name:<alias>`` or ``entity/project/name:<alias>``.
            entity: The entity to look in when ``name`` names none; "" for any.
            project: The project to look in when ``name`` names none; "" for any.

        Raises:
            ArtifactNotFoundError: no such artifact or version was logged
                here, or the name fits artifacts of several projects.
            ValueError: ``name`` has more than three ``/``-separated parts.
        """
        entity, project, bare_name, alias = _parse_name(name, entity, project)
        with self._connect() as db:
            key = self._one_sequence(db, name, entity, project, bare_name)
            match = _VERSION_ALIAS.fullmatch(alias)
            if match:
                version: int | None = int(match.group(1))
                exists = db.execute(
                    "SELECT 1 FROM versions WHERE entity=? AND project=? AND name=?"
                    " AND version=?",
                    (*key, version),
                ).fetchone()
                if exists is None:
                    version = None
            else:
                row = db.execute(
                    "SELECT version FROM aliases WHERE entity=? AND project=? AND"
                    " name=? AND alias=?",
                    (*key, alias),
                ).fetchone()
                version = None if row is None else row[0]
            if version is None:
                listing = ", ".join(
                    _describe(found) for found in self._versions(db, key)
                )
                msg = (
                    f"Artifact {name!r} has no version {alias!r} logged on this "
                    f"machine in {_scope(key[0], key[1])}; logged: {listing}."
                )
                raise ArtifactNotFoundError(msg)
            return self._read_version(db, key, version)

    def versions(
        self, name: str, *, entity: str = "", project: str = ""
    ) -> list[LoggedVersion]:
        """Every logged version of ``name`` (one project's), oldest first.

        Raises:
            ArtifactNotFoundError: as ``resolve``.
        """
        entity, project, bare_name, _ = _parse_name(name, entity, project)
        with self._connect() as db:
            key = self._one_sequence(db, name, entity, project, bare_name)
            return self._versions(db, key)

    # -- private ----------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._schema_ready:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # isolation_level=None: we open transactions ourselves, IMMEDIATE
        # ones for writes, so two writers queue instead of deadlocking.
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            if not self._schema_ready:
                self._create_schema(db)
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _create_schema(self, db: sqlite3.Connection) -> None:
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            msg = (
                f"The artifact index {self.path} was written by a newer "
                f"wandb-core (schema {found}; this one reads {SCHEMA_VERSION})."
            )
            raise ValueError(msg)
        # One transaction, so that two processes making the file both see
        # the whole schema.
        db.executescript(
            f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;"
        )
        self._schema_ready = True

    def _version_of_digest(
        self, db: sqlite3.Connection, key: tuple[str, str, str], digest: str
    ) -> int | None:
        row = db.execute(
            "SELECT version FROM versions WHERE entity=? AND project=? AND name=?"
            " AND digest=? ORDER BY version LIMIT 1",
            (*key, digest),
        ).fetchone()
        return None if row is None else int(row[0])

    def _insert_version(
        self,
        db: sqlite3.Connection,
        key: tuple[str, str, str],
        type: str,
        digest: str,
        manifest: dict[str, Any],
        run_id: str,
        description: str | None,
        metadata: dict[str, Any] | None,
    ) -> int:
        row = db.execute(
            "SELECT COALESCE(MAX(version) + 1, 0) FROM versions"
            " WHERE entity=? AND project=? AND name=?",
            key,
        ).fetchone()
        version = int(row[0])
        db.execute(
            f"INSERT INTO versions ({_VERSION_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *key,
                type,
                version,
                digest,
                json.dumps(manifest, sort_keys=True),
                run_id,
                description,
                json.dumps(metadata or {}, sort_keys=True),
                time.time(),
            ),
        )
        return version

    def _one_sequence(
        self,
        db: sqlite3.Connection,
        asked: str,
        entity: str,
        project: str,
        name: str,
    ) -> tuple[str, str, str]:
        """The one ``(entity, project, name)`` that fits; "" matches any."""
        rows = db.execute(
            "SELECT DISTINCT entity, project FROM versions WHERE name=?"
            " AND (?='' OR entity=?) AND (?='' OR project=?)"
            " ORDER BY entity, project",
            (name, entity, entity, project, project),
        ).fetchall()
        if not rows:
            msg = (
                f"No artifact {asked!r} was logged on this machine in "
                f"{_scope(entity, project)}."
            )
            raise ArtifactNotFoundError(msg)
        if len(rows) > 1:
            places = ", ".join(_scope(*row) for row in rows)
            msg = (
                f"Artifact {asked!r} was logged in several projects ({places}); "
                "name the project, as 'project/name:alias'."
            )
            raise ArtifactNotFoundError(msg)
        return (rows[0][0], rows[0][1], name)

    def _versions(
        self, db: sqlite3.Connection, key: tuple[str, str, str]
    ) -> list[LoggedVersion]:
        numbers = db.execute(
            "SELECT version FROM versions WHERE entity=? AND project=? AND name=?"
            " ORDER BY version",
            key,
        ).fetchall()
        return [self._read_version(db, key, number) for (number,) in numbers]

    def _read_version(
        self, db: sqlite3.Connection, key: tuple[str, str, str], version: int
    ) -> LoggedVersion:
        row = db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions"
            " WHERE entity=? AND project=? AND name=? AND version=?",
            (*key, version),
        ).fetchone()
        aliases = db.execute(
            "SELECT alias FROM aliases WHERE entity=? AND project=? AND name=?"
            " AND version=? ORDER BY alias != 'latest', alias",
            (*key, version),
        ).fetchall()
        return LoggedVersion(
            entity=row[0],
            project=row[1],
            name=row[2],
            type=row[3],
            version=row[4],
            digest=row[5],
            aliases=tuple(alias for (alias,) in aliases),
            manifest=json.loads(row[6]),
            run_id=row[7],
            description=row[8],
            metadata=json.loads(row[9]),
            created_at=row[10],
        )


def _refuse_another_type(
    db: sqlite3.Connection, key: tuple[str, str, str], type: str
) -> None:
    """Raise ``ValueError`` if the name ``key`` was logged as another type."""
    row = db.execute(
        "SELECT type FROM versions WHERE entity=? AND project=? AND name=? LIMIT 1",
        key,
    ).fetchone()
    if row is not None and row[0] != type:
        entity, project, name = key
        msg = (
            f"Cannot log artifact {name!r} as type {type!r}: it was "
            f"logged as type {row[0]!r} in {_scope(entity, project)}."
        )
        raise ValueError(msg)


def check_type(found: LoggedVersion, expected: str | None) -> LoggedVersion:
    """``found``, if it has the type ``expected`` (None: any type).

    Raises:
        ValueError: it has another type, as the official ``use_artifact``
            says.
    """
    if expected is not None and found.type != expected:
        msg = (
            f"Artifact {found.qualified_name!r} has type {found.type!r}, not "
            f"{expected!r} as asked."
        )
        raise ValueError(msg)
    return found


def default_index_path() -> str:
    """Where the index lives: ``<cache dir>/wandb-core/artifact-index.sqlite3``."""
    return os.path.join(cache_dir(), "wandb-core", "artifact-index.sqlite3")


_indexes: dict[str, LocalIndex] = {}
_indexes_lock = threading.Lock()


def default_index() -> LocalIndex:
    """The index of the current cache folder, one instance per folder."""
    path = os.path.abspath(default_index_path())
    with _indexes_lock:
        index = _indexes.get(path)
        if index is None:
            index = _indexes[path] = LocalIndex(path)
        return index


def _checked_aliases(aliases: Sequence[str]) -> list[str]:
    """The aliases to give, ``latest`` added, each once, in order.

    An alias that looks like a version (``v3``) is not kept: ``name:v3``
    always means version 3 here.
    """
    if isinstance(aliases, str):
        aliases = [aliases]
    for alias in aliases:
        if not alias or _ALIAS_FORBIDDEN.intersection(alias):
            msg = f"Artifact alias {alias!r} must be non-empty, without '/' or ':'."
            raise ValueError(msg)
    kept = [alias for alias in aliases if not is_version_alias(alias)]
    return list(dict.fromkeys([*kept, LATEST]))


def is_version_alias(alias: str) -> bool:
    """Whether ``alias`` reads as a version number, ``v0``, ``v1``, ..."""
    return _VERSION_ALIAS.fullmatch(alias) is not None


def _parse_name(name: str, entity: str, project: str) -> tuple[str, str, str, str]:
    """``(entity, project, name, alias)`` from ``[[entity/]project/]name[:alias]``."""
    path, _, alias = name.partition(":")
    parts = path.split("/")
    if len(parts) > 3 or not all(parts):
        msg = (
            f"Artifact name {name!r} is not 'name', 'project/name' or "
            "'entity/project/name', with an optional ':version' or ':alias'."
        )
        raise ValueError(msg)
    if len(parts) == 3:
        entity, project = parts[0], parts[1]
    elif len(parts) == 2:
        project = parts[0]
    return entity, project, parts[-1], alias or LATEST


def _scope(entity: str, project: str) -> str:
    if not entity and not project:
        return "any project"
    return f"project {entity or '*'}/{project or '*'}"


def _describe(found: LoggedVersion) -> str:
    label = f"v{found.version}"
    return f"{label} ({', '.join(found.aliases)})" if found.aliases else label
