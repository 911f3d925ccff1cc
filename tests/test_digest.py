"""File and buffer digests: both twins against hashlib and each other.

hashlib is the reference for every digest; the compiled twin's own MD5 is
tested on random buffers and files whose sizes sit around MD5's 64-byte
blocks (the padding moves to a second block at 56 bytes) and around the
read size. Changes while a file is read are simulated by a ``fstat`` that
reports a new modification time the second time it is asked.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pickle
import stat
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.twins import compiled_twin, pure_twin, twin

CHUNK_SIZE = pure_twin("digest").CHUNK_SIZE
BLOCK_SIZES = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129]
CHUNK_SIZES = [CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE + 57]


@pytest.fixture(scope="module", params=["python", "cython"])
def digest(request: pytest.FixtureRequest) -> ModuleType:
    """Each digest twin in turn: the pure reference, then the compiled one."""
    return twin("digest", request.param)


def reference_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def reference_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------------------
# Buffers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", BLOCK_SIZES + CHUNK_SIZES)
def test_buffer_digests_match_hashlib_around_block_sizes(
    digest: ModuleType, size: int
) -> None:
    data = os.urandom(size)

    assert digest.md5_b64(data) == reference_md5(data)
    assert digest.sha256_hex(data) == reference_sha256(data)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=5000))
def test_both_twins_hash_random_buffers_as_hashlib(data: bytes) -> None:
    pure, compiled = pure_twin("digest"), compiled_twin("digest")

    assert compiled.md5_b64(data) == pure.md5_b64(data) == reference_md5(data)
    assert compiled.sha256_hex(data) == pure.sha256_hex(data)


def test_any_contiguous_buffer_is_hashed_as_its_bytes(digest: ModuleType) -> None:
    data = os.urandom(4000)
    views = [bytearray(data), memoryview(data), memoryview(data).cast("I")]

    for view in views:
        assert digest.md5_b64(view) == reference_md5(data)
        assert digest.sha256_hex(view) == reference_sha256(data)


def test_text_is_refused(digest: ModuleType) -> None:
    with pytest.raises(TypeError):
        digest.md5_b64("text")
    with pytest.raises(TypeError):
        digest.sha256_hex("text")


# ---------------------------------------------------------------------------
# One file
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", BLOCK_SIZES + CHUNK_SIZES)
def test_file_digests_match_hashlib(
    digest: ModuleType, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    path = write(tmp_path / "file.bin", data)

    both = digest.file_digest(path, sha256=True)
    md5_only = digest.file_digest(path)
    sha256_only = digest.file_digest(path, md5=False, sha256=True)

    expected = (reference_md5(data), reference_sha256(data), size)
    assert both[:3] == expected
    assert md5_only[:3] == (expected[0], None, size)
    assert sha256_only[:3] == (None, expected[1], size)
    assert both.mtime_ns == os.stat(path).st_mtime_ns


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=3 * 1024) | st.integers(0, 3 * CHUNK_SIZE))
def test_both_twins_hash_random_files_alike(tmp_path: Path, data: bytes | int) -> None:
    content = os.urandom(data) if isinstance(data, int) else data
    path = write(tmp_path / "random.bin", content)

    pure = pure_twin("digest").file_digest(path, sha256=True)
    compiled = compiled_twin("digest").file_digest(path, sha256=True)

    assert pure == compiled
    assert pure.md5 == reference_md5(content)
    assert pure.sha256 == reference_sha256(content)


def test_empty_file(digest: ModuleType, tmp_path: Path) -> None:
    path = write(tmp_path / "empty", b"")

    result = digest.file_digest(path, sha256=True)

    assert result[:3] == ("1B2M2Y8AsgTpgAmY7PhCfg==", reference_sha256(b""), 0)


def test_non_ascii_paths(digest: ModuleType, tmp_path: Path) -> None:
    path = write(tmp_path / "données-データ-😀.bin", b"caf\xc3\xa9")

    result = digest.file_digest(path)
    many = digest.hash_files([path, path], workers=2)

    assert result.md5 == reference_md5(b"caf\xc3\xa9")
    assert many == [result, result]


def test_a_missing_file_is_named(digest: ModuleType, tmp_path: Path) -> None:
    path = str(tmp_path / "missing.bin")

    with pytest.raises(FileNotFoundError) as raised:
        digest.file_digest(path)

    assert raised.value.filename == path
    assert path in str(raised.value)


def test_a_directory_is_refused_by_name(digest: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(OSError) as raised:
        digest.file_digest(str(tmp_path))

    assert raised.value.filename == str(tmp_path)
    if os.name != "nt":
        assert isinstance(raised.value, IsADirectoryError)


def test_twins_share_their_result_and_error_types() -> None:
    pure, compiled = pure_twin("digest"), compiled_twin("digest")

    assert compiled.FileDigest is pure.FileDigest
    assert compiled.FileChangedError is pure.FileChangedError
    assert issubclass(pure.FileChangedError, OSError)
    assert compiled.CHUNK_SIZE == pure.CHUNK_SIZE


def test_the_selector_exports_the_topic() -> None:
    from wandb_core._fast import digest

    assert digest.md5_b64(b"abc") == reference_md5(b"abc")


# ---------------------------------------------------------------------------
# Changes while reading
# ---------------------------------------------------------------------------


def stat_of(size: int, mtime_ns: int, mode: int = stat.S_IFREG | 0o644) -> Any:
    """An ``os.stat_result`` with the fields the change check reads."""
    fields = [mode, 0, 0, 1, 0, 0, size, 0, 0, 0]
    seconds = mtime_ns // 10**9
    # Fields 7 to 9 are the integer times; then float times, then *_ns.
    fields[8] = seconds
    extra = {"st_mtime": float(seconds), "st_mtime_ns": mtime_ns}
    return os.stat_result(fields, extra)


def test_the_change_check_accepts_a_file_that_stayed_put(
    digest: ModuleType,
) -> None:
    fifo = stat_of(0, 5, stat.S_IFIFO)

    digest.check_unchanged("a.bin", stat_of(10, 5), stat_of(10, 5), 10)
    digest.check_unchanged("fifo", fifo, fifo, 3)


@pytest.mark.parametrize(
    ("after", "size_read"),
    [((11, 5), 10), ((10, 6), 10), ((10, 5), 9)],
    ids=["size", "mtime", "bytes read"],
)
def test_the_change_check_names_the_file(
    digest: ModuleType, after: tuple[int, int], size_read: int
) -> None:
    with pytest.raises(digest.FileChangedError, match=r"'a\.bin' changed"):
        digest.check_unchanged("a.bin", stat_of(10, 5), stat_of(*after), size_read)


def test_changed_errors_pickle(digest: ModuleType) -> None:
    error = digest.FileChangedError("'a.bin' changed while it was read.")

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert str(copy) == str(error)


@pytest.fixture
def touched_while_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every second fstat of a descriptor report a newer mtime."""
    real_fstat = os.fstat
    calls: dict[int, int] = {}

    def fstat(fd: int) -> Any:
        status = real_fstat(fd)
        calls[fd] = calls.get(fd, 0) + 1
        if calls[fd] % 2:
            return status
        return stat_of(status.st_size, status.st_mtime_ns + 1, status.st_mode)

    monkeypatch.setattr(os, "fstat", fstat)


def test_a_file_changed_while_read_is_refused(
    digest: ModuleType, tmp_path: Path, touched_while_read: None
) -> None:
    path = write(tmp_path / "moving.bin", b"x" * 1000)

    with pytest.raises(digest.FileChangedError, match=r"moving\.bin' changed"):
        # open_to_read's own fstat counts as the first.
        digest.file_digest(path)


# ---------------------------------------------------------------------------
# Copies
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 100, CHUNK_SIZE + 1])
def test_copies_hold_the_hashed_bytes(
    digest: ModuleType, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    source = write(tmp_path / "source.bin", data)
    target = tmp_path / "copy.bin"

    result = digest.copy_file_digest(source, str(target), sha256=True)

    assert target.read_bytes() == data
    assert result == digest.file_digest(source, sha256=True)


def test_copies_refuse_an_existing_target(digest: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "source.bin", b"new")
    target = write(tmp_path / "copy.bin", b"old")

    with pytest.raises(FileExistsError):
        digest.copy_file_digest(source, target)

    assert Path(target).read_bytes() == b"old"


def test_a_failed_copy_leaves_no_target(
    digest: ModuleType, tmp_path: Path, touched_while_read: None
) -> None:
    source = write(tmp_path / "source.bin", b"y" * 5000)
    target = tmp_path / "copy.bin"

    with pytest.raises(digest.FileChangedError):
        digest.copy_file_digest(source, str(target))

    assert not target.exists()


def test_a_copy_of_a_missing_source_creates_nothing(
    digest: ModuleType, tmp_path: Path
) -> None:
    target = tmp_path / "copy.bin"

    with pytest.raises(FileNotFoundError):
        digest.copy_file_digest(str(tmp_path / "missing"), str(target))

    assert not target.exists()


# ---------------------------------------------------------------------------
# Many files
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """600 small files of varied sizes and two bigger than a read."""
    folder = tmp_path_factory.mktemp("many")
    paths = []
    for index in range(600):
        paths.append(write(folder / f"small-{index}.bin", os.urandom(index * 7)))
    for index, size in enumerate([3 * CHUNK_SIZE, 2 * CHUNK_SIZE + 3]):
        paths.insert(index * 300, write(folder / f"big-{index}.bin", os.urandom(size)))
    return paths


@pytest.mark.parametrize("workers", [1, 2, 8])
@pytest.mark.parametrize("sha256", [False, True])
def test_hash_files_keeps_the_order_of_paths(
    digest: ModuleType, many_files: list[str], workers: int, sha256: bool
) -> None:
    results = digest.hash_files(many_files, sha256=sha256, workers=workers)

    assert results == [
        pure_twin("digest").file_digest(path, sha256=sha256) for path in many_files
    ]


def test_hash_files_reports_progress_to_the_totals(
    digest: ModuleType, many_files: list[str]
) -> None:
    reports: list[tuple[int, int]] = []
    total_bytes = sum(os.path.getsize(path) for path in many_files)

    digest.hash_files(many_files, workers=2, progress=lambda *r: reports.append(r))

    assert reports[-1] == (total_bytes, len(many_files))
    assert reports == sorted(reports)
    assert len(reports) < len(many_files) // 10


def test_hash_files_of_nothing(digest: ModuleType) -> None:
    reports: list[tuple[int, int]] = []

    assert digest.hash_files([], progress=lambda *r: reports.append(r)) == []
    assert reports == [(0, 0)]


@pytest.mark.parametrize("workers", [1, 4])
def test_hash_files_raises_the_first_error(
    digest: ModuleType, many_files: list[str], tmp_path: Path, workers: int
) -> None:
    missing = str(tmp_path / "gone.bin")
    paths = [*many_files[:50], missing, *many_files[50:]]

    with pytest.raises(FileNotFoundError) as raised:
        digest.hash_files(paths, workers=workers)

    assert raised.value.filename == missing


def test_hash_files_needs_a_worker(digest: ModuleType, many_files: list[str]) -> None:
    with pytest.raises(ValueError, match=r"at least one worker"):
        digest.hash_files(many_files, workers=0)
