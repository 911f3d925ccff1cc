"""The artifact cache, the local artifact index, and materializing artifacts."""

from __future__ import annotations

import errno
import hashlib
import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wandb_core import _env
from wandb_core.artifacts import stage_bytes
from wandb_core.artifacts.cache import (
    STALE_TEMP_SECONDS,
    ArtifactCache,
    cache_dir,
    default_cache,
)
from wandb_core.artifacts.download import materialize, safe_target, verify
from wandb_core.artifacts.index import LocalIndex, LoggedVersion, check_type
from wandb_core.artifacts.manifest import Manifest, ManifestEntry
from wandb_core.errors import ArtifactNotFoundError

REPO = Path(__file__).resolve().parent.parent


def md5_of(data: bytes) -> str:
    return b64encode(hashlib.md5(data).digest()).decode()


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


@pytest.fixture
def cache(tmp_path: Path) -> ArtifactCache:
    return ArtifactCache(str(tmp_path / "cache" / "artifacts"), max_bytes=0)


# ---------------------------------------------------------------------------
# Layout and folders, compared with the official client
# ---------------------------------------------------------------------------


@pytest.mark.reference
@pytest.mark.parametrize("data", [b"", b"hello", bytes(range(256))])
def test_obj_path_is_the_official_clients(tmp_path: Path, data: bytes) -> None:
    from wandb.sdk.artifacts.artifact_file_cache import ArtifactFileCache

    official = ArtifactFileCache(tmp_path / "artifacts")
    ours = ArtifactCache(str(tmp_path / "artifacts"))

    official_path, _, _ = official.check_digest_obj_path(md5_of(data), len(data))

    assert ours.obj_path(md5_of(data)) == str(official_path)


@pytest.mark.reference
def test_official_client_finds_what_we_stored(cache: ArtifactCache) -> None:
    from wandb.sdk.artifacts.artifact_file_cache import ArtifactFileCache

    data = b"shared between clients"
    cache.store_bytes(data)

    path, hit, _ = ArtifactFileCache(cache.root).check_digest_obj_path(
        md5_of(data), len(data)
    )

    assert hit
    assert Path(path).read_bytes() == data


@pytest.mark.reference
def test_cache_dir_is_the_official_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wandb import env as official_env

    monkeypatch.delenv("WANDB_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default, official_default = cache_dir(), str(official_env.get_cache_dir())
    monkeypatch.setenv("WANDB_CACHE_DIR", f"{tmp_path}/./configured/../cache/")

    assert default == official_default == str(tmp_path / "xdg" / "wandb")
    assert cache_dir() == str(official_env.get_cache_dir())
    assert default_cache().root == str(tmp_path / "cache" / "artifacts")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("123", 123), ("10GB", 10 * 1000**3), ("2 GiB", 2 * 1024**3), ("1.5kb", 1500)],
)
def test_cache_limit_from_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: int
) -> None:
    monkeypatch.setenv(_env.ARTIFACT_CACHE_MAX_BYTES, raw)

    assert ArtifactCache("unused").max_bytes == expected


def test_bad_cache_limit_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_env.ARTIFACT_CACHE_MAX_BYTES, "ten gigs")

    with pytest.raises(ValueError, match=_env.ARTIFACT_CACHE_MAX_BYTES):
        _env.get_byte_size(_env.ARTIFACT_CACHE_MAX_BYTES)


# ---------------------------------------------------------------------------
# Storing, linking and looking up
# ---------------------------------------------------------------------------


def test_store_and_lookup(cache: ArtifactCache, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"w" * 1000)

    stored = cache.store(str(source), md5_of(b"w" * 1000))

    assert stored == cache.obj_path(md5_of(b"w" * 1000))
    assert Path(stored).read_bytes() == b"w" * 1000
    assert cache.lookup(md5_of(b"w" * 1000), 1000) == stored
    assert cache.lookup(md5_of(b"w" * 1000), 999) is None
    assert cache.lookup(md5_of(b"other")) is None
    assert cache.size() == 1000


def test_store_refuses_a_wrong_digest(cache: ArtifactCache, tmp_path: Path) -> None:
    source = tmp_path / "data.txt"
    source.write_bytes(b"actual")

    with pytest.raises(ValueError, match="data.txt has MD5"):
        cache.store(str(source), md5_of(b"expected"))

    assert files_under(Path(cache.root)) == []


def test_failed_replace_leaves_nothing(
    cache: ArtifactCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "data.txt"
    source.write_bytes(b"x" * 5000)

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        cache.store(str(source))
    with pytest.raises(OSError, match="No space"):
        cache.store_bytes(b"y" * 10)
    with pytest.raises(OSError, match="No space"):
        cache.link_in(str(source), md5_of(b"x" * 5000))

    assert files_under(Path(cache.root)) == []


def test_disk_full_midway_leaves_nothing(tmp_path: Path) -> None:
    # A file size limit makes the kernel refuse writes past 64 KiB, as a
    # full disk would, in a child so that the limit binds nobody else.
    root = tmp_path / "artifacts"
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(1 << 20))
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from wandb_core.artifacts.cache import ArtifactCache
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))
        cache = ArtifactCache({str(root)!r}, max_bytes=0)
        for store in (lambda: cache.store({str(source)!r}),
                      lambda: cache.store_bytes(open({str(source)!r}, "rb").read())):
            try:
                store()
            except OSError as error:
                print("failed", error.errno)
            else:
                sys.exit("stored a file past the size limit")
        """
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["failed", str(errno.EFBIG)] * 2
    assert files_under(root) == []


def test_link_in_shares_the_file(cache: ArtifactCache, tmp_path: Path) -> None:
    source = tmp_path / "staged"
    source.write_bytes(b"staged bytes")

    cached = cache.link_in(str(source), md5_of(b"staged bytes"))

    assert os.path.samefile(cached, source)


def test_link_in_copies_when_linking_fails(
    cache: ArtifactCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "staged"
    source.write_bytes(b"other device")

    def cross_device(*args: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    cached = cache.link_in(str(source), md5_of(b"other device"))

    assert not os.path.samefile(cached, source)
    assert Path(cached).read_bytes() == b"other device"
    assert files_under(Path(cache.root) / "tmp") == []


def test_link_in_keeps_an_existing_entry(cache: ArtifactCache, tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.write_bytes(b"same")
    second = tmp_path / "second"
    second.write_bytes(b"same")

    cached = cache.link_in(str(first), md5_of(b"same"))
    again = cache.link_in(str(second), md5_of(b"same"))

    assert again == cached
    assert os.path.samefile(cached, first)


def test_lookup_marks_use_by_access_time(cache: ArtifactCache) -> None:
    path = cache.store_bytes(b"entry")
    os.utime(path, ns=(1_000_000_000, 2_000_000_000))

    cache.lookup(md5_of(b"entry"))

    after = os.stat(path)
    assert after.st_atime > time.time() - 60
    assert after.st_mtime_ns == 2_000_000_000


# ---------------------------------------------------------------------------
# Cleanup
# ---------------------------------------------------------------------------


def test_cleanup_removes_least_recently_used_first(cache: ArtifactCache) -> None:
    paths = {}
    for age, name in [(300, b"oldest"), (200, b"middle"), (100, b"newest")]:
        paths[name] = cache.store_bytes(name.ljust(100, b"."))
        then = time.time() - age
        os.utime(paths[name], (then, then))
    cache.lookup(md5_of(b"oldest".ljust(100, b".")))  # now the most recent

    freed = cache.cleanup(150)

    assert freed == 200
    assert os.path.exists(paths[b"oldest"])
    assert not os.path.exists(paths[b"middle"])
    assert not os.path.exists(paths[b"newest"])
    assert cache.size() == 100


def test_cleanup_spares_young_temps_and_files_outside_obj(
    cache: ArtifactCache,
) -> None:
    cache.store_bytes(b"entry")
    temp = Path(cache.root) / "tmp"
    young, old = temp / "tmpyoung", temp / "tmpold"
    young.write_bytes(b"writing")
    old.write_bytes(b"abandoned")
    long_ago = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    beside = Path(cache.root) / "notes.txt"
    beside.write_bytes(b"not ours")

    freed = cache.cleanup(0)

    assert freed == len(b"entry") + len(b"abandoned")
    assert young.read_bytes() == b"writing"
    assert not old.exists()
    assert beside.read_bytes() == b"not ours"
    assert cache.size() == 0


def test_store_cleans_up_past_the_limit(tmp_path: Path) -> None:
    cache = ArtifactCache(str(tmp_path / "artifacts"), max_bytes=1000)
    first = cache.store_bytes(b"a" * 600)
    then = time.time() - 100
    os.utime(first, (then, then))

    second = cache.store_bytes(b"b" * 600)
    huge = cache.store_bytes(b"c" * 5000)

    assert not os.path.exists(first)
    assert not os.path.exists(second)
    assert os.path.exists(huge)  # the entry just stored is never removed


def test_staged_snapshot_survives_cleanup(cache: ArtifactCache) -> None:
    # Artifacts of runs not synced yet live on as staged hard links.
    staged = stage_bytes(b"snapshot of an unsynced run")
    cached = cache.link_in(staged, md5_of(b"snapshot of an unsynced run"))

    cache.cleanup(0)

    assert not os.path.exists(cached)
    assert Path(staged).read_bytes() == b"snapshot of an unsynced run"


@pytest.mark.reference
def test_staged_snapshot_survives_the_official_cleanup(cache: ArtifactCache) -> None:
    from wandb.sdk.artifacts.artifact_file_cache import ArtifactFileCache

    staged = stage_bytes(b"still waiting for sync")
    cached = cache.link_in(staged, md5_of(b"still waiting for sync"))

    ArtifactFileCache(cache.root).cleanup(target_size=0)

    assert not os.path.exists(cached)
    assert Path(staged).read_bytes() == b"still waiting for sync"


# ---------------------------------------------------------------------------
# The local index
# ---------------------------------------------------------------------------


def add(
    index: LocalIndex, digest: str, aliases: tuple[str, ...] = (), **fields: str
) -> LoggedVersion:
    values = {"entity": "me", "project": "proj", "name": "data", "type": "dataset"}
    values.update(fields)
    return index.add_version(
        digest=digest,
        manifest={"version": 1, "contents": {}},
        aliases=aliases,
        run_id="run1",
        **values,
    )


def test_versions_count_up_and_reuse_equal_content(tmp_path: Path) -> None:
    index = LocalIndex(str(tmp_path / "index.sqlite3"))

    first = add(index, "d0", ("best",))
    second = add(index, "d1")
    again = add(index, "d0", ("final",))

    assert (first.version, second.version, again.version) == (0, 1, 0)
    assert again.qualified_name == "data:v0"
    assert again.aliases == ("latest", "best", "final")
    assert index.resolve("data:v1").aliases == ()
    assert [found.digest for found in index.versions("data")] == ["d0", "d1"]


def test_aliases_move_to_the_newest_holder(tmp_path: Path) -> None:
    index = LocalIndex(str(tmp_path / "index.sqlite3"))
    add(index, "d0", ("best", "keep"))

    newest = add(index, "d1", ("best",))

    assert newest.aliases == ("latest", "best")
    assert index.resolve("data:v0").aliases == ("keep",)
    assert index.resolve("data").version == 1
    assert index.resolve("data:best").version == 1
    assert index.resolve("data:keep").version == 0


@pytest.mark.parametrize(
    "name",
    ["data", "data:latest", "data:v2", "proj/data:v2", "me/proj/data:newest"],
)
def test_resolve_forms(tmp_path: Path, name: str) -> None:
    index = LocalIndex(str(tmp_path / "index.sqlite3"))
    for number in range(3):
        add(index, f"d{number}", ("newest",))
    add(index, "elsewhere", project="other")

    found = index.resolve(name, entity="me", project="proj")

    assert (found.project, found.version, found.digest) == ("proj", 2, "d2")


def test_resolve_errors_name_what_was_asked(tmp_path: Path) -> None:
    index = LocalIndex(str(tmp_path / "index.sqlite3"))
    add(index, "d0", ("best",))
    add(index, "d1")

    with pytest.raises(ArtifactNotFoundError, match=r"'data:v7'.*v0 \(best\), v1"):
        index.resolve("data:v7")
    with pytest.raises(ArtifactNotFoundError, match="'data:worst'"):
        index.resolve("data:worst")
    with pytest.raises(LookupError, match="No artifact 'model'"):
        index.resolve("model")
    with pytest.raises(ValueError, match="is not 'name'"):
        index.resolve("a/b/c/d")


def test_resolve_refuses_to_guess_the_project(tmp_path: Path) -> None:
    index = LocalIndex(str(tmp_path / "index.sqlite3"))
    add(index, "d0", project="one")
    add(index, "d1", project="two")

    with pytest.raises(ArtifactNotFoundError, match="several projects"):
        index.resolve("data")
    assert index.resolve("data", project="two").digest == "d1"


def test_types_and_aliases_are_checked(tmp_path: Path) -> None:
    index = LocalIndex(str(tmp_path / "index.sqlite3"))
    logged = add(index, "d0")

    with pytest.raises(ValueError, match="logged as type 'dataset'"):
        add(index, "d1", type="model")
    with pytest.raises(ValueError, match="type 'dataset', not 'model'"):
        check_type(logged, "model")
    with pytest.raises(ValueError, match="logged as type 'dataset'"):
        index.check_type(entity="me", project="proj", name="data", type="model")
    index.check_type(entity="me", project="proj", name="data", type="dataset")
    version_like = add(index, "d1", ("v3", "best"))
    assert version_like.aliases == ("latest", "best")  # v3 means version 3
    with pytest.raises(ValueError, match="'a/b'"):
        add(index, "d1", ("a/b",))
    assert check_type(logged, "dataset") is logged
    assert len(index.versions("data")) == 2


def test_two_processes_number_versions_without_gaps(tmp_path: Path) -> None:
    path = str(tmp_path / "index.sqlite3")
    start = str(time.time() + 1.5)
    script = textwrap.dedent(
        """
        import sys, time
        from wandb_core.artifacts.index import LocalIndex
        index = LocalIndex(sys.argv[1])
        time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # start together
        for number in range(200):
            found = index.add_version(
                entity="e", project="p", name="shared", type="t",
                digest=f"{sys.argv[2]}-{number}", manifest={}, aliases=(),
                run_id=sys.argv[2],
            )
            print(found.version)
        """
    )

    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, path, tag, start],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for tag in ("a", "b")
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]

    assert all(child.returncode == 0 for child in children)
    versions = sorted(int(line) for out in outputs for line in out.split())
    assert versions == list(range(400))
    logged = LocalIndex(path).versions("shared", entity="e", project="p")
    assert [found.version for found in logged] == list(range(400))


# ---------------------------------------------------------------------------
# Safe paths, materializing and verifying
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry_path",
    ["/etc/passwd", "../x", "a/../../x", "C:\\x", "C:x", "a//b", "", "./a", "a\0b"],
)
def test_safe_target_refuses(tmp_path: Path, entry_path: str) -> None:
    with pytest.raises(ValueError, match="Refusing artifact entry"):
        safe_target(str(tmp_path), entry_path)


@pytest.mark.skipif(sys.platform == "win32", reason="a separator on Windows")
def test_a_backslash_is_part_of_a_file_name_on_posix(tmp_path: Path) -> None:
    # Files may hold backslashes in their names here; they cannot escape.
    target = safe_target(str(tmp_path), "a\\..\\x")
    assert target == os.path.join(str(tmp_path), "a\\..\\x")


def test_safe_target_refuses_links_out_of_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "inner").mkdir()
    (root / "escape").symlink_to(outside)
    (root / "alias").symlink_to(root / "inner")

    with pytest.raises(ValueError, match="outside the folder"):
        safe_target(str(root), "escape/x")
    assert safe_target(str(root), "alias/x") == str(root / "alias" / "x")
    assert safe_target(str(root), "a/b.txt") == str(root / "a" / "b.txt")


def test_materialize_writes_nothing_for_an_unsafe_manifest(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    cache.store_bytes(b"fine")
    (tmp_path / "root").mkdir()
    manifest = Manifest(
        [
            ManifestEntry("fine.txt", md5_of(b"fine"), 4),
            ManifestEntry("../escaped.txt", md5_of(b"fine"), 4),
        ]
    )

    with pytest.raises(ValueError, match="'../escaped.txt'"):
        materialize(manifest, str(tmp_path / "root"), cache=cache)

    assert files_under(tmp_path / "root") == []
    assert not (tmp_path / "escaped.txt").exists()


def official_manifest(files: dict[str, bytes]) -> dict[str, object]:
    return {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": {
            path: {"digest": md5_of(data), "size": len(data)}
            for path, data in files.items()
        },
    }


FILES = {"a.txt": b"alpha", "sub/b.bin": b"beta" * 100, "sub/deeper/c": b""}


def test_materialize_from_the_cache_and_verify(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    for data in FILES.values():
        cache.store_bytes(data)
    root = tmp_path / "root"
    seen: list[tuple[int, int]] = []

    materialize(
        official_manifest(FILES),
        str(root),
        cache=cache,
        progress=lambda done, total: seen.append((done, total)),
    )

    assert {str(p.relative_to(root)): p.read_bytes() for p in files_under(root)} == (
        FILES
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    verify(official_manifest(FILES), str(root))
    assert not os.path.samefile(root / "a.txt", cache.obj_path(md5_of(b"alpha")))


def test_verify_lists_every_problem_and_materialize_repairs(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    for data in FILES.values():
        cache.store_bytes(data)
    root = tmp_path / "root"
    materialize(official_manifest(FILES), str(root), cache=cache)
    (root / "a.txt").write_bytes(b"ALPHA")  # same size, other bytes
    (root / "sub" / "b.bin").unlink()
    (root / "extra.txt").write_bytes(b"?")

    with pytest.raises(ValueError) as raised:
        verify(official_manifest(FILES), str(root))
    message = str(raised.value)
    assert f"a.txt: MD5 {md5_of(b'ALPHA')}, not {md5_of(b'alpha')}" in message
    assert "sub/b.bin: missing" in message
    assert "extra.txt: not a file of the artifact" in message

    (root / "extra.txt").unlink()
    materialize(official_manifest(FILES), str(root), cache=cache)
    verify(official_manifest(FILES), str(root))
    assert (root / "a.txt").read_bytes() == b"alpha"


def test_materialize_leaves_good_files_alone(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    cache.store_bytes(b"alpha")
    root = tmp_path / "root"
    materialize(official_manifest({"a.txt": b"alpha"}), str(root), cache=cache)
    before = os.stat(root / "a.txt").st_ino

    materialize(official_manifest({"a.txt": b"alpha"}), str(root), cache=cache)

    assert os.stat(root / "a.txt").st_ino == before


def test_materialize_names_a_missing_cache_object(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactNotFoundError, match=r"'a.txt' \(MD5 .*\) is neither"):
        materialize(official_manifest({"a.txt": b"alpha"}), str(tmp_path), cache=cache)


def test_materialize_uses_the_staged_snapshot(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    staged = stage_bytes(b"only staged")
    manifest = Manifest(
        [ManifestEntry("s.txt", md5_of(b"only staged"), 11, local_path=staged)]
    )

    materialize(manifest, str(tmp_path / "root"), cache=cache)

    assert (tmp_path / "root" / "s.txt").read_bytes() == b"only staged"


def test_materialize_detects_a_damaged_cache_entry(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    damaged = Path(cache.store_bytes(b"alpha"))
    damaged.chmod(0o644)
    damaged.write_bytes(b"ALPHA")

    with pytest.raises(ValueError, match="should have MD5"):
        materialize(official_manifest({"a.txt": b"alpha"}), str(tmp_path), cache=cache)

    assert not damaged.exists()
    assert not (tmp_path / "a.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == []


def test_materialize_can_hard_link(cache: ArtifactCache, tmp_path: Path) -> None:
    cached = cache.store_bytes(b"linked")

    materialize(
        official_manifest({"l.txt": b"linked"}), str(tmp_path), cache=cache, link=True
    )

    assert os.path.samefile(tmp_path / "l.txt", cached)


def test_materialize_copies_file_references(
    cache: ArtifactCache, tmp_path: Path
) -> None:
    referenced = tmp_path / "elsewhere.csv"
    referenced.write_bytes(b"a,b\n1,2\n")
    manifest = json.loads(json.dumps(official_manifest({"t.csv": b"a,b\n1,2\n"})))
    manifest["contents"]["t.csv"]["ref"] = referenced.as_uri()
    root = tmp_path / "root"

    materialize(manifest, str(root), cache=cache)
    verify(manifest, str(root))
    referenced.write_bytes(b"a,b\n3,4\n")

    assert (root / "t.csv").read_bytes() == b"a,b\n1,2\n"
    with pytest.raises(ValueError, match="changed since it was logged"):
        materialize(manifest, str(tmp_path / "again"), cache=cache)
    assert files_under(tmp_path / "again") == []


@pytest.fixture
def web_file() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A local web server: its URL and the files (path -> bytes) it serves."""
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            data = served.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


def test_materialize_downloads_http_references(
    cache: ArtifactCache, tmp_path: Path, web_file: tuple[str, dict[str, bytes]]
) -> None:
    url, served = web_file
    served["/data.csv"] = b"x,y\n1,2\n"
    etag = hashlib.sha1(b"x,y\n1,2\n").hexdigest()
    manifest: dict[str, Any] = {
        "version": 1,
        "contents": {
            "data.csv": {"digest": etag, "ref": f"{url}/data.csv", "size": 8},
            "gone.csv": {"digest": "x", "ref": f"{url}/gone.csv", "size": 1},
        },
    }
    root = tmp_path / "root"

    with pytest.raises(ConnectionError, match="'gone.csv'.*HTTP 404"):
        materialize(manifest, str(root), cache=cache)
    del manifest["contents"]["gone.csv"]
    materialize(manifest, str(root), cache=cache)
    served["/data.csv"] = b"x,y\n3,4\n"

    assert (root / "data.csv").read_bytes() == b"x,y\n1,2\n"
    with pytest.raises(ValueError, match="has ETag"):
        materialize(manifest, str(tmp_path / "again"), cache=cache)
    assert files_under(tmp_path / "again") == []
