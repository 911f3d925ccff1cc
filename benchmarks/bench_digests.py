"""Digest benchmark: the twins of ``wandb_core._fast.digest`` against hashlib.

Three workloads, with the page cache warm, printed as one table of medians
with their ratios next to the targets of the digest issue:

* ``big``: the MD5 of one 1 GiB file. Reference: ``hashlib.md5`` over the
  same bytes already in memory, on one thread. Target: the compiled twin's
  throughput at least 90% of it.
* ``mixed``: ``hash_files`` over 10,000 files of 4 KiB plus one of 256 MiB,
  on the default pool. Reference: a single-thread loop that opens, reads
  (1 MiB at a time), hashes with ``hashlib.md5`` and closes each file.
  Target: the compiled twin at least 1.6 times faster.
* ``small``: ``hash_files`` over the 10,000 small files alone, against the
  same loop (no target; shows the per-file cost).

Every workload also runs the pure twin: target, the compiled twin faster
on all of them. The files are written to a temporary folder (``--dir``,
by default the system's) and removed at the end.

Usage::

    python benchmarks/bench_digests.py [--repeat N] [--quick] [--dir PATH]

Timings never fail the script.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from typing import Any

from bench_offline import median_time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
MIB = 1024 * 1024
SMALL_FILES = 10_000
SMALL_FILE_SIZE = 4096
LOOP_READ_SIZE = MIB


def write_random(path: str, size: int) -> None:
    block = os.urandom(min(size, 16 * MIB))
    with open(path, "wb") as file:
        remaining = size
        while remaining:
            file.write(block[:remaining])
            remaining -= min(remaining, len(block))


def write_files(
    folder: str, big_size: int, mixed_big_size: int, small_count: int
) -> tuple[str, list[str], list[str]]:
    """The files of the workloads under ``folder``: ``(big, mixed, small)``.

    Also used by ``bench_suite.py``.
    """
    big = os.path.join(folder, "big.bin")
    write_random(big, big_size)
    mixed_big = os.path.join(folder, "mixed-big.bin")
    write_random(mixed_big, mixed_big_size)
    small = []
    for index in range(small_count):
        small.append(os.path.join(folder, f"small-{index:05d}.bin"))
        with open(small[-1], "wb") as file:
            file.write(os.urandom(SMALL_FILE_SIZE))
    return big, small + [mixed_big], small


def hashlib_loop(paths: list[str]) -> list[bytes]:
    """What a plain Python program does: one file after the other."""
    digests = []
    for path in paths:
        md5 = hashlib.md5()
        with open(path, "rb") as file:
            while chunk := file.read(LOOP_READ_SIZE):
                md5.update(chunk)
        digests.append(md5.digest())
    return digests


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="64 MiB, 1,000 files")
    parser.add_argument("--dir", default=None, help="where to write the files")
    args = parser.parse_args()

    sys.path.insert(0, REPO_ROOT)
    from tests.twins import compiled_twin, pure_twin

    compiled, pure = compiled_twin("digest"), pure_twin("digest")
    big_size = (64 if args.quick else 1024) * MIB
    mixed_big_size = (32 if args.quick else 256) * MIB
    small_count = 1_000 if args.quick else SMALL_FILES

    folder = tempfile.mkdtemp(prefix="bench-digests-", dir=args.dir)
    try:
        big, mixed, small = write_files(folder, big_size, mixed_big_size, small_count)
        rows = run(args.repeat, compiled, pure, big, mixed, small)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print_table(rows, big_size, mixed_big_size, small_count)
    return 0


def run(
    repeat: int, compiled: Any, pure: Any, big: str, mixed: list[str], small: list[str]
) -> list[tuple[str, float, float, float, str]]:
    """Rows ``(workload, reference, compiled, pure, target)`` in seconds."""
    with open(big, "rb") as file:
        in_memory = file.read()
    expected = compiled.md5_b64(in_memory)
    assert compiled.file_digest(big).md5 == pure.file_digest(big).md5 == expected
    assert compiled.hash_files(mixed) == pure.hash_files(mixed)

    reference = median_time(repeat, hashlib.md5, in_memory)
    del in_memory  # a GiB the other workloads should not compete with
    rows = [
        (
            "big",
            reference,
            median_time(repeat, compiled.file_digest, big),
            median_time(repeat, pure.file_digest, big),
            "compiled >= 90% of in-memory hashlib throughput",
        )
    ]
    for name, paths, target in (
        ("mixed", mixed, "compiled >= 1.6x the hashlib loop"),
        ("small", small, "none"),
    ):
        rows.append(
            (
                name,
                median_time(repeat + 2, hashlib_loop, paths),
                median_time(repeat + 2, compiled.hash_files, paths),
                median_time(repeat + 2, pure.hash_files, paths),
                target,
            )
        )
    return rows


def print_table(
    rows: list[tuple[str, float, float, float, str]],
    big_size: int,
    mixed_big_size: int,
    small_count: int,
) -> None:
    print(
        f"big: one {big_size // MIB} MiB file; mixed: {small_count} files of "
        f"{SMALL_FILE_SIZE // 1024} KiB and one of {mixed_big_size // MIB} MiB; "
        f"small: the {small_count} small files. {os.cpu_count()} CPUs.\n"
        "Reference: hashlib.md5 in memory (big), a one-thread hashlib loop "
        "(mixed, small).\n"
    )
    print(
        "| workload | reference | compiled | pure | reference / compiled "
        "| pure / compiled | target |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, reference, compiled, pure, target in rows:
        print(
            f"| {name} | {seconds(reference)} | {seconds(compiled)} "
            f"| {seconds(pure)} | {reference / compiled:.2f} "
            f"| {pure / compiled:.2f} | {target} |"
        )
    big_rate = big_size / MIB / rows[0][2]
    print(f"\nbig, compiled twin: {big_rate:.0f} MiB/s")


if __name__ == "__main__":
    sys.exit(main())
