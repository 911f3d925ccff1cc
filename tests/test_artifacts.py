"""Artifacts end to end: building, logging, using and downloading, offline.

Expected digests are computed here by hand with ``hashlib`` (base64 MD5 of
each file, and the manifest digest: MD5 of ``wandb-artifact-manifest-v1``
then one ``path:digest`` line per entry in path order). The tests marked
``reference`` run the same script with the official client and compare the
artifact records both wrote.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import errno
import hashlib
import http.server
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wandb_core
from tests.runutil import log_file, offline_env, only_run_dir
from wandb_core import artifacts
from wandb_core.artifacts.cache import default_cache
from wandb_core.backend.reader import fields_of, read_records
from wandb_core.errors import (
    ArtifactFinalizedError,
    ArtifactNotFoundError,
    UsageError,
)


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def manifest_digest(entries: dict[str, str]) -> str:
    hasher = hashlib.md5(b"wandb-artifact-manifest-v1\n")
    for path in sorted(entries):
        hasher.update(f"{path}:{entries[path]}\n".encode())
    return hasher.hexdigest()


# -- decoding artifact records with our own reader ---------------------------------


def _text(fields: dict[int, list[Any]], number: int) -> str | None:
    values = fields.get(number)
    return values[-1].decode("utf-8") if values else None


def decode_artifact(body: bytes) -> dict[str, Any]:
    """An ``ArtifactRecord`` body as a dict (the fields we write)."""
    fields = fields_of(body)
    manifest = fields_of(fields[12][0])
    contents = {}
    for raw in manifest.get(4, []):
        entry = fields_of(raw)
        path = _text(entry, 1)
        contents[path] = {
            "digest": _text(entry, 2),
            "ref": _text(entry, 3),
            "size": entry.get(4, [0])[-1],
            "local_path": _text(entry, 6),
            "skip_cache": bool(entry.get(8, [0])[-1]),
            "extra": {
                _text(fields_of(item), 1): json.loads(_text(fields_of(item), 2) or "")
                for item in entry.get(16, [])
            },
        }
    return {
        "type": _text(fields, 4),
        "name": _text(fields, 5),
        "digest": _text(fields, 6),
        "description": _text(fields, 7),
        "metadata": _text(fields, 8),
        "user_created": bool(fields.get(9, [0])[-1]),
        "use_after_commit": bool(fields.get(10, [0])[-1]),
        "aliases": [alias.decode() for alias in fields.get(11, [])],
        "finalize": bool(fields.get(14, [0])[-1]),
        "client_id": _text(fields, 15),
        "tags": [tag.decode() for tag in fields.get(19, [])],
        "digest_algorithm": _text(fields, 20),
        "contents": contents,
        "manifest_file": _text(manifest, 5),
        "policy_config": manifest.get(3, []),
    }


def artifact_records(root: Path) -> list[dict[str, Any]]:
    found, problems = read_records(log_file(only_run_dir(root)))
    assert problems == []
    return [
        decode_artifact(record.body) for record in found if record.kind == "artifact"
    ]


@pytest.fixture
def files(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of a few files, the current folder of the test."""
    monkeypatch.chdir(root)
    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "a.txt").write_bytes(b"hello\n")
    (root / "data" / "sub" / "b.txt").write_bytes(b"world\n")
    (root / "one.bin").write_bytes(b"x")
    return root


def staging() -> str:
    return artifacts.staging_dir()


def staged_names() -> set[str]:
    return set(os.listdir(staging()))


# -- building --------------------------------------------------------------------


def test_manifest_and_digest_are_computed_as_by_hand(files: Path) -> None:
    art = wandb_core.Artifact("my-data", type="dataset")
    art.add_dir("data")
    art.add_file("one.bin", name="x/one.bin")
    with art.new_file("made.txt") as stream:
        stream.write("made")

    expected = {
        "a.txt": b64md5(b"hello\n"),
        "sub/b.txt": b64md5(b"world\n"),
        "x/one.bin": b64md5(b"x"),
        "made.txt": b64md5(b"made"),
    }
    contents = art.manifest.to_manifest_json()["contents"]
    assert {path: entry["digest"] for path, entry in contents.items()} == expected
    assert contents["a.txt"] == {"digest": b64md5(b"hello\n"), "size": 6}
    assert art.digest == manifest_digest(expected)
    assert art.size == 6 + 6 + 1 + 4
    assert art.manifest.to_manifest_json()["storagePolicyConfig"] == {
        "storageLayout": "V2"
    }


def test_snapshot_keeps_the_bytes_that_were_hashed(files: Path) -> None:
    art = wandb_core.Artifact("snap", type="dataset")
    entry = art.add_file("one.bin")
    (files / "one.bin").write_bytes(b"changed later")

    assert entry.local_path is not None
    assert os.path.dirname(entry.local_path) == staging()
    with open(entry.local_path, "rb") as stream:
        assert stream.read() == b"x"
    assert stat.S_IMODE(os.stat(entry.local_path).st_mode) == stat.S_IRUSR
    assert entry.digest == b64md5(b"x")


def test_immutable_policy_points_at_the_original(files: Path) -> None:
    art = wandb_core.Artifact("imm", type="dataset")
    entry = art.add_file("one.bin", policy="immutable")
    assert entry.local_path == str(files / "one.bin")


def test_is_tmp_names_the_file_by_its_digest(files: Path) -> None:
    art = wandb_core.Artifact("tmp", type="dataset")
    entry = art.add_file("data/a.txt", name="dir/table.txt.gz", is_tmp=True)
    hex_id = hashlib.md5(b"hello\n").hexdigest()[:20]
    assert entry.path == f"dir/{hex_id}.txt.gz"


def test_same_name_needs_overwrite(files: Path) -> None:
    (files / "p1").write_text("first")
    (files / "p2").write_text("second!")
    art = wandb_core.Artifact("m", type="model")
    art.add_file("p1", name="model.bin")
    before = staged_names()
    with pytest.raises(ValueError, match="model.bin"):
        art.add_file("p2", name="model.bin")
    assert staged_names() == before  # the refused snapshot is gone
    art.add_file("p1", name="model.bin")  # same content: no clash
    entry = art.add_file("p2", name="model.bin", overwrite=True)
    assert art.manifest.entries["model.bin"].digest == b64md5(b"second!")
    assert entry.local_path is not None
    with open(entry.local_path, "rb") as stream:
        assert stream.read() == b"second!"


def test_add_dir_merge(files: Path) -> None:
    art = wandb_core.Artifact("merge", type="dataset")
    art.add_dir("data")
    (files / "data" / "a.txt").write_bytes(b"new content")
    (files / "data" / "c.txt").write_bytes(b"c")
    with pytest.raises(ValueError, match="a.txt"):
        art.add_dir("data")
    assert set(art.manifest.entries) == {"a.txt", "sub/b.txt"}  # all or nothing
    art.add_dir("data", merge=True)
    assert art.manifest.entries["a.txt"].digest == b64md5(b"new content")
    assert set(art.manifest.entries) == {"a.txt", "sub/b.txt", "c.txt"}


def test_add_dir_follows_links_inside_only(
    files: Path, tmp_path_factory: pytest.TempPathFactory, capsys: Any
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_bytes(b"secret")
    (files / "data" / "inside-link.txt").symlink_to(files / "data" / "a.txt")
    (files / "data" / "sub-link").symlink_to(files / "data" / "sub")
    (files / "data" / "loop").symlink_to(files / "data")
    (files / "data" / "out.txt").symlink_to(outside / "secret.txt")
    (files / "data" / "out-dir").symlink_to(outside)

    art = wandb_core.Artifact("links", type="dataset")
    os.environ.pop("WANDB_SILENT", None)
    try:
        art.add_dir("data", name="d")
    finally:
        os.environ["WANDB_SILENT"] = "true"
    assert set(art.manifest.entries) == {
        "d/a.txt",
        "d/inside-link.txt",
        "d/sub/b.txt",
        "d/sub-link/b.txt",
    }
    assert art.manifest.entries["d/inside-link.txt"].digest == b64md5(b"hello\n")
    warning = capsys.readouterr().err
    assert "2 symbolic link(s) pointing outside" in warning
    assert "out.txt" in warning


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda art: art.add_file("missing.bin"), "missing.bin.*does not exist"),
        (lambda art: art.add_file("data"), "data.*is a folder"),
        (lambda art: art.add_dir("one.bin"), "one.bin.*is a file"),
        (lambda art: art.add_dir("nowhere"), "nowhere.*does not exist"),
        (lambda art: art.add_file("one.bin", name="/abs.bin"), "absolute"),
        (lambda art: art.add_file("one.bin", name="a/../../b"), r"'\.\.'"),
        (lambda art: art.add_file("one.bin", policy="sometimes"), "sometimes"),
        (lambda art: art.add_reference("data/a.txt"), "not a URI"),
        (lambda art: art.add_reference("file:///no/such/thing"), "neither a file"),
        (lambda art: art.add_reference("s3://bucket/key"), "name="),
    ],
)
def test_bad_input_names_what_is_wrong(files: Path, call: Any, message: str) -> None:
    art = wandb_core.Artifact("bad", type="dataset")
    art.add_file("one.bin", name="kept.bin")
    before = staged_names()
    with pytest.raises(ValueError, match=message):
        call(art)
    assert set(art.manifest.entries) == {"kept.bin"}
    assert staged_names() == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "has space", "type": "dataset"}, "name 'has space'"),
        ({"name": "a/b", "type": "dataset"}, "name 'a/b'"),
        ({"name": "x" * 129, "type": "dataset"}, "129 characters"),
        ({"name": "ok", "type": "data:set"}, "type 'data:set'"),
        ({"name": "ok", "type": ""}, "type ''"),
        ({"name": "ok", "type": "t", "metadata": {"loss": float("inf")}}, "loss"),
        ({"name": "ok", "type": "t", "digest_algorithm": "SHA1"}, "SHA1"),
    ],
)
def test_bad_artifact_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wandb_core.Artifact(**kwargs)


def test_metadata_values() -> None:
    np = pytest.importorskip("numpy")
    art = wandb_core.Artifact(
        "meta",
        type="t",
        metadata={"nan": float("nan"), "arr": np.arange(3), "n": {"f": np.float32(2)}},
    )
    assert art.metadata == {"nan": None, "arr": [0, 1, 2], "n": {"f": 2.0}}
    with pytest.raises(TypeError, match="'bad'.*object"):
        wandb_core.Artifact("meta", type="t", metadata={"bad": object()})


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Shape:
    width: int
    tags: tuple[str, ...]


def test_metadata_is_converted_as_the_official_client_converts_it() -> None:
    art = wandb_core.Artifact(
        "meta",
        type="t",
        metadata={
            "when": datetime.datetime(2020, 1, 2, 3, 4, 5),
            "day": datetime.date(2020, 1, 2),
            "raw": b"bytes",
            "set": {7},
            "numbers": {1: "one", 2.5: "x", None: "n"},
            "color": Color.RED,
            "path": Path("/data/train"),
            "shape": Shape(3, ("a", "b")),
        },
    )
    assert art.metadata == {
        "when": "2020-01-02T03:04:05",
        "day": "2020-01-02",
        "raw": "bytes",
        "set": [7],
        "numbers": {"1": "one", "2.5": "x", "null": "n"},
        "color": "RED",
        "path": "/data/train",
        "shape": {"width": 3, "tags": ["a", "b"]},
    }


def test_metadata_changed_in_place_is_logged(files: Path) -> None:
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("m1", type="dataset", metadata={"a": 1})
    art.metadata["b"] = 3
    art.metadata.update({"when": datetime.date(2021, 5, 6)})
    art.add_file("one.bin")
    run.log_artifact(art)
    run.finish()
    (record,) = artifact_records(files)
    assert record["metadata"] == '{"a":1,"b":3,"when":"2021-05-06"}'


def test_disk_full_while_staging_leaves_nothing(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wandb_core._fast import digest

    for index in range(20):
        (files / "data" / f"f{index:02}.bin").write_bytes(bytes([index]) * 100)
    real_copy = digest.copy_file_digest
    calls = []

    def copy_until_full(source: str, target: str, **kwargs: Any) -> Any:
        calls.append(source)
        if len(calls) == 10:
            with open(target, "wb") as stream:
                stream.write(b"half")
            raise OSError(errno.ENOSPC, "No space left on device", target)
        return real_copy(source, target, **kwargs)

    monkeypatch.setattr(digest, "copy_file_digest", copy_until_full)
    art = wandb_core.Artifact("full", type="dataset")
    before = staged_names()
    with pytest.raises(OSError, match="No space left"):
        art.add_dir("data")
    assert staged_names() == before
    assert len(art.manifest) == 0


def test_a_staged_name_clash_takes_another_name_and_keeps_the_other_file(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = artifacts.stage_bytes(b"another run's snapshot")
    fresh = os.path.join(staging(), "tmp-fresh-name")
    names = iter([taken, fresh])
    monkeypatch.setattr(artifacts, "new_staged_path", lambda: next(names))
    entry = wandb_core.Artifact("clash", type="dataset").add_file("one.bin")
    assert entry.local_path == fresh
    assert Path(taken).read_bytes() == b"another run's snapshot"
    assert Path(fresh).read_bytes() == b"x"


def test_file_changing_while_copied_is_reported(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wandb_core._fast import digest

    original = digest.copy_file_digest

    def grow_then_copy(source: str, target: str, **kwargs: Any) -> Any:
        # The file grows between the two fstat calls of the copy.
        result = original(source, target, **kwargs)
        with open(source, "ab") as stream:
            stream.write(b"more")
        digest.check_unchanged(source, os.stat(target), os.stat(source), result.size)
        return result

    monkeypatch.setattr(digest, "copy_file_digest", grow_then_copy)
    art = wandb_core.Artifact("moving", type="dataset")
    before = staged_names()
    with pytest.raises(digest.FileChangedError, match="one.bin"):
        art.add_file("one.bin")
    assert staged_names() == before


# -- references ---------------------------------------------------------------------


def test_file_references(files: Path) -> None:
    base = str(files / "data")
    art = wandb_core.Artifact("refs", type="dataset")
    art.add_reference("file://" + base, name="refdir")
    art.add_reference("file://" + base + "/a.txt", name="plain", checksum=False)
    entries = art.manifest.entries
    assert set(entries) == {"refdir/a.txt", "refdir/sub/b.txt", "plain"}
    assert entries["refdir/a.txt"].ref == f"file://{base}/a.txt"
    assert entries["refdir/sub/b.txt"].ref == f"file://{base}/sub/b.txt"
    assert entries["refdir/sub/b.txt"].digest == b64md5(b"world\n")
    assert entries["refdir/a.txt"].size == 6
    uri = Path(base, "a.txt").resolve().as_uri()
    assert entries["plain"].digest == b64md5(uri.encode())
    assert entries["plain"].local_path is None
    with pytest.raises(ValueError, match="max_objects"):
        art.add_reference("file://" + base, name="few", max_objects=1)


class _Server(http.server.BaseHTTPRequestHandler):
    body = b"served bytes"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/moved.bin":
            self.send_response(302)
            self.send_header("Location", "/with-etag.bin")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        if self.path == "/with-etag.bin":
            self.send_header("ETag", '"abc123"')
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_references(http_url: str) -> None:
    art = wandb_core.Artifact("web", type="dataset")
    (tagged,) = art.add_reference(f"{http_url}/with-etag.bin")
    (untagged,) = art.add_reference(f"{http_url}/plain.bin", name="p.bin")
    (unchecked,) = art.add_reference(f"{http_url}/x.bin", checksum=False)
    assert (tagged.path, tagged.digest, tagged.size) == ("with-etag.bin", "abc123", 12)
    assert tagged.extra == {"etag": '"abc123"'}
    assert (untagged.path, untagged.digest) == ("p.bin", f"{http_url}/plain.bin")
    assert (unchecked.digest, unchecked.size) == (f"{http_url}/x.bin", None)
    (query,) = art.add_reference(f"{http_url}/q.bin?x=1&y=2", checksum=False)
    assert query.path == "q.bin?x=1&y=2"  # the official client's name
    (moved,) = art.add_reference(f"{http_url}/moved.bin", name="moved.bin")
    assert (moved.ref, moved.digest) == (f"{http_url}/with-etag.bin", "abc123")
    with pytest.raises(ValueError, match="ends with '/'"):
        art.add_reference(f"{http_url}/folder/")
    with pytest.raises(ConnectionError, match="127.0.0.1:1"):
        art.add_reference("http://127.0.0.1:1/refused.bin")


# -- logging, using, downloading ---------------------------------------------------


def test_log_artifact_writes_the_record(files: Path) -> None:
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact(
        "my-data", type="dataset", description="desc", metadata={"z": 1, "é": [1]}
    )
    art.add_dir("data")
    with art.new_file("made.txt") as stream:
        stream.write("made")
    run.log_artifact(art, aliases=["best"], tags=["clean data"])
    run.finish()

    (record,) = artifact_records(files)
    assert record["name"] == "my-data"
    assert record["type"] == "dataset"
    assert record["description"] == "desc"
    assert record["metadata"] == '{"z":1,"é":[1]}'
    assert record["aliases"] == ["best", "latest"]
    assert record["tags"] == ["clean data"]
    assert record["finalize"] is True
    assert record["digest_algorithm"] == "MANIFEST_MD5"
    assert record["digest"] == art.digest
    assert len(record["client_id"]) == 128
    assert list(record["contents"]) == ["a.txt", "made.txt", "sub/b.txt"]
    made = record["contents"]["made.txt"]
    assert made["skip_cache"] is True
    assert made["digest"] == b64md5(b"made")
    assert os.path.dirname(made["local_path"]) == staging()
    with pytest.raises(ArtifactFinalizedError):
        art.add_file("one.bin")


def test_log_artifact_of_a_path(files: Path) -> None:
    run = wandb_core.init(project="art")
    art = run.log_artifact("one.bin")
    folder = run.log_artifact(str(files / "data"), name="folder", type="dataset")
    run.finish()
    assert art.name == f"run-{run.id}-one.bin"
    assert art.type == "unspecified"
    assert set(folder.manifest.entries) == {"a.txt", "sub/b.txt"}
    with pytest.raises(UsageError, match="finished"):
        run.log_artifact(wandb_core.Artifact("late", type="t"))


def test_use_artifact_offline_and_download(files: Path) -> None:
    run = wandb_core.init(project="art")
    first = wandb_core.Artifact("data", type="dataset")
    first.add_dir("data")
    run.log_artifact(first, aliases=["best"])
    (files / "data" / "a.txt").write_bytes(b"second version\n")
    second = wandb_core.Artifact("data", type="dataset")
    second.add_dir("data")
    run.log_artifact(second)
    again = wandb_core.Artifact("data", type="dataset")
    again.add_dir("data")
    run.log_artifact(again)  # the same content: the same version

    assert (first.version, second.version, again.version) == ("v0", "v1", "v1")
    latest = run.use_artifact("data:latest")
    assert latest.name == "data:v1"
    best = run.use_artifact("data:best", type="dataset")
    assert best.version == "v0"
    assert best.aliases == ["best"]
    assert best.digest == first.digest

    target = best.download(str(files / "out"))
    assert Path(target, "a.txt").read_bytes() == b"hello\n"
    assert Path(target, "sub", "b.txt").read_bytes() == b"world\n"
    best.verify(target)
    Path(target, "a.txt").write_bytes(b"tampered")
    with pytest.raises(ValueError, match="a.txt"):
        best.verify(target)

    path = run.use_artifact("data:v1").get_entry("a.txt").download(str(files / "one"))
    assert Path(path).read_bytes() == b"second version\n"
    with pytest.raises(ArtifactNotFoundError, match="v7"):
        run.use_artifact("data:v7")
    with pytest.raises(ValueError, match="type"):
        run.use_artifact("data:v0", type="model")
    run.finish()


def test_default_download_folder(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_ARTIFACT_DIR", str(files / "arts"))
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("thing", type="dataset")
    art.add_file("one.bin")
    run.log_artifact(art)
    used = run.use_artifact("thing:latest")
    run.finish()
    assert used.download() == str(files / "arts" / "thing:v0")
    assert Path(files, "arts", "thing:v0", "one.bin").read_bytes() == b"x"
    with pytest.raises(UsageError, match="never logged"):
        wandb_core.Artifact("draft", type="t").download()


def test_cache_shares_the_snapshot_and_download_survives_its_loss(
    files: Path,
) -> None:
    import shutil

    unique = os.urandom(64)  # the cache is shared by the whole test session
    (files / "unique.bin").write_bytes(unique)
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("shared", type="dataset")
    entry = art.add_file("unique.bin")
    run.log_artifact(art)
    run.finish()

    cache = default_cache()
    cached = cache.lookup(entry.digest)
    assert cached is not None
    assert entry.local_path is not None
    assert os.stat(cached).st_ino == os.stat(entry.local_path).st_ino  # no copy

    shutil.rmtree(cache.root)
    used = wandb_core.init(project="art").use_artifact("shared:latest")
    target = used.download(str(files / "out"))
    assert Path(target, "unique.bin").read_bytes() == unique


def test_use_artifact_of_a_draft_logs_it_as_used(files: Path) -> None:
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("input", type="dataset")
    art.add_file("one.bin")
    assert run.use_artifact(art) is art
    run.finish()
    (record,) = artifact_records(files)
    assert record["user_created"] and record["use_after_commit"]


def test_bad_aliases_and_tags(files: Path) -> None:
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("a", type="t")
    art.add_file("one.bin")
    with pytest.raises(ValueError, match="alias 'a:b'"):
        run.log_artifact(art, aliases=["a:b"])
    with pytest.raises(ValueError, match="tag 'no/slash'"):
        run.log_artifact(art, tags=["no/slash"])
    run.log_artifact(art)  # still a draft after the refusals
    run.finish()
    assert len(artifact_records(files)) == 1


def test_disabled_mode_logs_nothing(files: Path) -> None:
    run = wandb_core.init(project="art", mode="disabled")
    art = wandb_core.Artifact("a", type="t")
    art.add_file("one.bin")
    assert run.log_artifact(art) is art
    run.finish()
    assert not (files / "wandb").exists()


def test_artifacts_logged_in_a_forked_child_reach_the_parents_log(
    files: Path,
) -> None:
    run = wandb_core.init(project="art")
    pid = os.fork()
    if pid == 0:  # the child
        try:
            child = wandb_core.Artifact("from-child", type="dataset")
            with child.new_file("c.txt") as stream:
                stream.write("x")
            run.log_artifact(child)
            run.finish()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    run.finish()
    (record,) = artifact_records(files)
    assert record["name"] == "from-child"
    assert record["contents"]["c.txt"]["digest"] == b64md5(b"x")


def test_xxh128_artifacts_download_and_verify(files: Path) -> None:
    pytest.importorskip("xxhash")
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("fast", type="dataset", digest_algorithm="XXH128")
    art.add_dir("data")
    run.log_artifact(art)
    used = run.use_artifact("fast:latest")
    run.finish()
    target = used.download(str(files / "out"))
    assert Path(target, "sub", "b.txt").read_bytes() == b"world\n"
    used.verify(target)
    Path(target, "a.txt").write_bytes(b"HELLO\n")
    with pytest.raises(ValueError, match="a.txt: XXH128"):
        used.verify(target)


@pytest.mark.skipif(sys.platform == "win32", reason="a folder separator there")
def test_a_backslash_in_a_file_name_round_trips(files: Path) -> None:
    (files / "data" / "back\\slash.txt").write_bytes(b"b")
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("odd", type="dataset")
    art.add_dir("data")
    run.log_artifact(art)
    target = run.use_artifact("odd:latest").download(str(files / "out"))
    run.finish()
    assert Path(target, "back\\slash.txt").read_bytes() == b"b"


def test_disabled_runs_answer_none_to_use_artifact(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_CACHE_DIR", str(files / "cache"))
    run = wandb_core.init(project="art", mode="disabled")
    assert run.use_artifact("anything:latest") is None
    assert wandb_core.use_artifact("anything:v0") is None
    run.finish()
    assert not (files / "cache").exists()  # no index was made


def test_log_artifact_checks_everything_before_writing(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = wandb_core.init(project="art")
    first = wandb_core.Artifact("same-name", type="dataset")
    first.add_file("one.bin")
    run.log_artifact(first, tags=["a", "a", "b"])
    other = wandb_core.Artifact("same-name", type="model")
    other.add_file("one.bin")
    with pytest.raises(ValueError, match="logged as type 'dataset'"):
        run.log_artifact(other)
    assert other.is_draft()
    os.environ.pop("WANDB_SILENT", None)
    try:
        versioned = wandb_core.Artifact("versioned", type="dataset")
        versioned.add_file("one.bin")
        run.log_artifact(versioned, aliases=["v3"])
    finally:
        os.environ["WANDB_SILENT"] = "true"
    assert "'v3' reads as a version number" in capsys.readouterr().err
    run.finish()
    records = artifact_records(files)
    assert [record["name"] for record in records] == ["same-name", "versioned"]
    assert records[0]["tags"] == ["a", "b"]
    assert records[1]["aliases"] == ["v3", "latest"]
    assert versioned.aliases == ["latest"]  # offline, v3 means version 3


def test_more_bad_input(files: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        wandb_core.Artifact("x", type="wandb-history")
    art = wandb_core.Artifact("rm", type="dataset")
    art.add_dir("data")
    art.remove("./a.txt")
    art.remove("sub/")
    assert len(art.manifest) == 0
    run = wandb_core.init(project="art")
    art.add_file("one.bin")
    run.log_artifact(art)
    run.finish()
    (files / "a-file").write_text("")
    with pytest.raises(ValueError, match="a-file: it is a file"):
        art.download(str(files / "a-file"))


def test_table_and_image_in_an_artifact(files: Path) -> None:
    from wandb_core.data_types import table as table_module

    table = wandb_core.Table(columns=["id", "label"], data=[[1, "cat"], [2, "dog"]])
    art = wandb_core.Artifact("preds", type="predictions")
    entry = art.add(table, "predictions")
    assert entry.path == "predictions.table.json"
    expected, _ = table_module.artifact_files(table, None, entry.path)
    assert entry.local_path is not None
    assert Path(entry.local_path).read_bytes() == expected
    assert art.add(table, "predictions") is entry  # added once
    with pytest.raises(TypeError, match="Table or an Image"):
        art.add({"not": "a table"}, "x")


def test_image_in_an_artifact(files: Path) -> None:
    np = pytest.importorskip("numpy")
    pytest.importorskip("PIL")
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    image = wandb_core.Image(pixels, caption="tiny")
    art = wandb_core.Artifact("pics", type="images")
    entry = art.add(image, "sample")
    assert entry.path == "sample.image-file.json"
    assert entry.local_path is not None
    cell = json.loads(Path(entry.local_path).read_bytes())
    assert cell["_type"] == "image-file"
    assert (cell["width"], cell["height"], cell["caption"]) == (4, 4, "tiny")
    png = art.manifest.entries[cell["path"]]
    assert png.local_path is not None
    png_bytes = Path(png.local_path).read_bytes()
    assert png_bytes.startswith(b"\x89PNG")
    assert cell["sha256"] == hashlib.sha256(png_bytes).hexdigest()
    assert png.digest == b64md5(png_bytes)


def test_progress_is_shown_for_many_files(
    files: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = files / "many"
    many.mkdir()
    for index in range(1000):
        (many / f"{index}.txt").write_text(str(index))
    monkeypatch.delenv("WANDB_SILENT")
    art = wandb_core.Artifact("many", type="dataset")
    art.add_dir("many")
    err = capsys.readouterr().err
    assert "add_dir for artifact 'many': 1000 files" in err
    assert "done in" in err
    art.add_file("one.bin")
    assert capsys.readouterr().err == ""


def test_xxh128_digests() -> None:
    xxhash = pytest.importorskip("xxhash")
    art = wandb_core.Artifact("fast", type="t", digest_algorithm="XXH128")
    with art.new_file("a.txt") as stream:
        stream.write("hello\n")
    entry = art.manifest.entries["a.txt"]
    assert entry.digest == base64.b64encode(xxhash.xxh128(b"hello\n").digest()).decode()
    assert entry.extra == {"alg": "XXH128"}
    hasher = xxhash.xxh128(b"wandb-artifact-manifest-v1\n")
    hasher.update(f"a.txt:{entry.digest}\n".encode())
    assert art.digest == hasher.hexdigest()
    assert art.digest_algorithm == "MANIFEST_XXH128"


def manifest_file_lines(path: str) -> list[dict[str, Any]]:
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


def test_a_huge_manifest_goes_to_a_file(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wandb_core.artifacts import artifact as artifact_module

    monkeypatch.setattr(artifact_module, "MANIFEST_FILE_THRESHOLD", 2)
    run = wandb_core.init(project="art")
    art = wandb_core.Artifact("huge", type="dataset")
    art.add_dir("data")
    art.add_file("one.bin")
    art.add_reference("https://example.com/x.bin", checksum=False)
    run.log_artifact(art)
    run.finish()

    (record,) = artifact_records(files)
    assert record["contents"] == {} and record["policy_config"] == []
    path = record["manifest_file"]
    assert path.startswith(os.path.join(staging(), "artifact_manifests", ""))
    assert path.endswith(".manifest_contents.jl.gz")
    lines = manifest_file_lines(path)
    assert [line["path"] for line in lines] == [
        "a.txt",
        "sub/b.txt",
        "one.bin",
        "x.bin",
    ]
    assert lines[0] == {
        "path": "a.txt",
        "digest": b64md5(b"hello\n"),
        "size": 6,
        "extra": {},
        "local_path": art.manifest.entries["a.txt"].local_path,
        "skip_cache": False,
    }
    assert lines[3] == {
        "path": "x.bin",
        "digest": "https://example.com/x.bin",
        "ref": "https://example.com/x.bin",
        "extra": {},
        "skip_cache": False,
    }


@pytest.mark.reference
def test_manifest_file_lines_are_the_official_entries(files: Path) -> None:
    from wandb.sdk.artifacts.artifact_manifest_entry import ArtifactManifestEntry

    from wandb_core.artifacts.artifact import write_manifest_file

    art = wandb_core.Artifact("lines", type="dataset")
    art.add_dir("data")
    art.add_reference("file://" + str(files / "one.bin"), name="ref.bin")
    art.manifest.entries["a.txt"].birth_artifact_id = "QXJ0aWZhY3Q6MQ=="
    for line in manifest_file_lines(write_manifest_file(art.manifest)):
        assert ArtifactManifestEntry.model_validate(line).to_json() == line


# -- the official client ----------------------------------------------------------

REFERENCE_SCRIPT = """
import os
run = wandb.init(project="art")
art = wandb.Artifact(
    "my-data", type="dataset", description="desc",
    metadata={"z": 1, "a": {"y": 2.5, "b": None}, "t": "é", "l": [1, "x"]},
)
import datetime
art.metadata["when"] = datetime.datetime(2020, 1, 2, 3, 4, 5)
art.metadata["raw"] = b"bytes"
art.metadata["set"] = {7}
art.metadata["keys"] = {1: "one"}
art.metadata["nan"] = float("nan")
art.add_dir("data")
art.add_dir("data", name="copy/of")
art.add_file("one.bin", name="x/one.bin")
art.add_file("data/a.txt", name="tmp/t.txt.gz", is_tmp=True)
with art.new_file("made.txt") as f:
    f.write("made")
art.add_reference("file://" + os.path.abspath("data"), name="refdir")
art.add_reference("file://" + os.path.abspath("one.bin"), checksum=False)
art.add(wandb.Table(columns=["a", "b"], data=[[1, "x"], [2.5, None]]), "tab")
run.log_artifact(art, aliases=["best", "v-one"])
fast = wandb.Artifact("fast", type="model", digest_algorithm="XXH128")
fast.add_file("one.bin")
run.log_artifact(fast)
print(art.digest, fast.digest)
run.finish()
"""


def _official_records(root: Path, sdk: str) -> tuple[list[dict[str, Any]], str]:
    from google.protobuf.json_format import MessageToDict
    from wandb.proto import wandb_internal_pb2

    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "a.txt").write_bytes(b"hello\n")
    (root / "data" / "sub" / "b.txt").write_bytes(b"world\n")
    (root / "one.bin").write_bytes(b"x")
    line = "import wandb\n" if sdk == "wandb" else "import wandb_core as wandb\n"
    (root / "script.py").write_text(line + textwrap.dedent(REFERENCE_SCRIPT))
    env = offline_env(
        root,
        WANDB_DATA_DIR=str(root / ".data"),
        WANDB_CACHE_DIR=str(root / ".cache"),
    )
    done = subprocess.run(
        [sys.executable, "script.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    from wandb_core.backend.reader import FILE_HEADER, unframe

    with open(log_file(only_run_dir(root)), "rb") as stream:
        payloads, _ = unframe(stream.read(), len(FILE_HEADER))
    found = []
    for payload in payloads:
        record = wandb_internal_pb2.Record.FromString(payload)
        if record.WhichOneof("record_type") != "artifact":
            continue
        fields = MessageToDict(record.artifact)
        for key in ("clientId", "sequenceClientId", "runId"):
            assert fields.pop(key)
        for entry in fields["manifest"]["contents"]:
            local = entry.pop("localPath", None)
            if local is not None:
                assert local.startswith(str(root / ".data" / "artifacts" / "staging"))
                entry["staged"] = Path(local).read_bytes()
            if "ref" in entry:
                entry["ref"] = entry["ref"].replace(str(root), "ROOT")
        fields["aliases"] = sorted(fields["aliases"])
        found.append(fields)
    return found, done.stdout


@pytest.mark.reference
def test_artifact_records_equal_the_official(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Both scripts run in the same folder: unchecked references hash the URI.
    base = tmp_path_factory.mktemp("reference-artifacts")
    official, official_out = _official_records(base / "run", "wandb")
    (base / "run").rename(base / "official")
    ours, our_out = _official_records(base / "run", "wandb_core")
    assert [record["name"] for record in official] == ["my-data", "fast"]
    assert ours == official
    assert our_out == official_out  # the digests, as the official computes them
