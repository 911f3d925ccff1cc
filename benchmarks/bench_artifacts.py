"""Artifact benchmark: logging a folder, official wandb client vs wandb_core.

Each measurement is a fresh subprocess (this module's worker mode), offline
and silent, with its own temporary ``WANDB_DIR``, ``WANDB_DATA_DIR`` and
``WANDB_CACHE_DIR``; the official client and ours alternate (official, ours,
official, ours...) so both see the same machine noise. The worker imports
``wandb`` or ``wandb_core as wandb`` and calls ``wandb.init`` untimed, then
times with ``time.perf_counter`` only::

    art = wandb.Artifact("data", type="dataset")
    art.add_dir(folder)
    run.log_artifact(art)
    run.finish()

and prints the elapsed seconds as JSON on stdout. Workloads, whose files are
written once per invocation to a temporary folder (``--dir``, by default the
system's; page cache warm) and removed at the end:

* ``big``: one file of 256 MiB of random bytes. Target of the artifact issue:
  ratio ours / official at most 1/2.5 (official ~1.26 s, 212 MB/s).
* ``small``: 2,000 files of 4 KiB. Target: at most 1/10 (official ~1.26 s,
  0.6 ms a file).
* ``many``: 10,000 files of 4 KiB (reported, no target).

The table gives, for each workload, the median time and throughput (MB =
10^6 bytes), the time a file, the peak RSS of the worker (its ``VmHWM``) and
the sum of the peak RSS of every process of the run (for the official
client: the worker and the service and monitor processes it starts), and
the CPU time of the whole process tree over the whole worker (import and
init included). As in ``bench_offline.py``, whose helpers this module
imports, the parent is a child subreaper (Linux) so the official client's
service processes are reparented to it and reaped, and a thread reads every
descendant's ``VmHWM`` every 50 ms (a peak, so the sampling misses at most
what a process grows in its last 50 ms; the worker's own figure is exact).
Without a subreaper only the worker's own processes are counted.

One untimed run of ``small`` with each client comes first (bytecode, disk
caches), and ``os.sync()`` runs after the files are written and after each
run's folders are removed, untimed, so that no run pays for the writeback
of another (the files stay in the page cache). ``--profile`` also runs our
worker once on ``small`` under cProfile and prints the top entries by
cumulative time (of the main thread only: the snapshot copies run on a
pool, whose work shows as waits on a lock). The notes under the table give
the floors of this machine: creating as many new files in a bare loop, and
``hashlib.md5`` of the big file's bytes in memory.

Usage::

    python benchmarks/bench_artifacts.py [--repeat N] [--quick] [--dir PATH]
        [--out FILE] [--profile]

Timings never fail the script: it exits 1 only when a worker crashed or an
artifact holds the wrong number of files.
"""

from __future__ import annotations

import os
import sys
import time

# typing is not loaded at interpreter start; mypy and ruff honour this name.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Callable
    from typing import Any

    from bench_offline import Measurement, Row

    Results = dict[str, dict[str, list[Measurement]]]

SDKS = ("wandb", "wandb_core")
PROJECT = "bench"
MIB = 1024 * 1024
SMALL_FILE_SIZE = 4096
SAMPLE_INTERVAL_S = 0.050
WORKER_TIMEOUT_S = 600.0
ORPHAN_TIMEOUT_S = 20.0
PROFILE_TOP = 15
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "artifacts.md")
# Workers import this module rather than run it as a script, so it loads from
# cached bytecode instead of being compiled in every measured process.
WORKER_BOOT = (
    f"import sys; sys.path.insert(0, {HERE!r}); import bench_artifacts; "
    "bench_artifacts.worker_main(sys.argv[1:])"
)


class Workload:
    """A folder of ``count`` files of ``size`` bytes, and the issue's target."""

    def __init__(
        self, name: str, count: int, size: int, max_ratio: float | None, target: str
    ) -> None:
        self.name = name
        self.count = count
        self.size = size
        self.max_ratio = max_ratio
        self.target = target
        self.folder = ""

    @property
    def total_bytes(self) -> int:
        return self.count * self.size

    def describe(self) -> str:
        noun = "file" if self.count == 1 else "files"
        if self.size >= MIB:
            return f"{self.count:,} {noun} of {self.size // MIB} MiB"
        return f"{self.count:,} {noun} of {self.size // 1024} KiB"


def plan_workloads(quick: bool) -> list[Workload]:
    big_mib, small, many = (32, 200, 1_000) if quick else (256, 2_000, 10_000)
    return [
        Workload("big", 1, big_mib * MIB, 1 / 2.5, "<= 1/2.5"),
        Workload("small", small, SMALL_FILE_SIZE, 1 / 10, "<= 1/10"),
        Workload("many", many, SMALL_FILE_SIZE, None, "(reported)"),
    ]


# ---------------------------------------------------------------------------
# Worker mode: one artifact logged in a fresh interpreter
# ---------------------------------------------------------------------------


def worker_main(argv: list[str]) -> None:
    """Log ``--folder`` as an artifact; print the timed seconds as JSON."""
    import json
    import resource

    options = dict(zip(argv[::2], argv[1::2]))
    sdk: Any = __import__(options["--sdk"])
    profile_path = options.get("--profile")
    run = sdk.init(project=PROJECT)
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    clock = time.perf_counter
    start = clock()
    art = sdk.Artifact("data", type="dataset")
    art.add_dir(options["--folder"])
    run.log_artifact(art)
    run.finish()
    elapsed = clock() - start

    if profiler is not None and profile_path:
        profiler.disable()
        profiler.dump_stats(profile_path)
    manifest = art.manifest
    result = {
        "elapsed_s": elapsed,
        "files": len(getattr(manifest, "entries", manifest)),
        # Linux gives KiB: the process's VmHWM.
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    fast = sys.modules.get("wandb_core._fast")
    if fast is not None:
        result["implementation"] = fast.implementation
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------
# Parent: the files, and running workers in fresh process trees
# ---------------------------------------------------------------------------


def write_files(root: str, workloads: list[Workload]) -> None:
    """Random files under ``root/<workload>/``, written once (page cache warm)."""
    for workload in workloads:
        workload.folder = os.path.join(root, workload.name)
        os.makedirs(workload.folder)
        for index in range(workload.count):
            path = os.path.join(workload.folder, f"file-{index:05d}.bin")
            with open(path, "wb") as stream:
                remaining = workload.size
                while remaining:
                    chunk = min(remaining, 16 * MIB)
                    stream.write(os.urandom(chunk))
                    remaining -= chunk


def _sampler() -> Any:
    """bench_offline's tree sampler, sampling every ``SAMPLE_INTERVAL_S``."""
    import bench_offline

    class Sampler(bench_offline.TreeSampler):
        def _run(self) -> None:
            while True:
                self.sample()
                if self._stop.wait(SAMPLE_INTERVAL_S):
                    return

    return Sampler()


def measure(
    sdk: str,
    workload: Workload,
    base: str | None,
    profile: str | None = None,
    leftovers: list[str] | None = None,
) -> Measurement:
    """Run one worker in a fresh process tree and fresh wandb folders.

    The run's folders are removed afterwards, or, with ``leftovers``, added
    to it for the caller to remove once every run is measured: on a disk
    mounted with ``discard`` deleting thousands of files slows down the file
    creation of the next minute or so, which would fall on the next run.
    (A single big file is better removed at once, before it is written back.)
    """
    import resource
    import shutil
    import subprocess
    import tempfile

    import bench_offline

    tmp = tempfile.mkdtemp(prefix="bench-artifacts-run-", dir=base)
    out = bench_offline.Measurement()
    stdout_path = os.path.join(tmp, "worker.out")
    stderr_path = os.path.join(tmp, "worker.err")
    command = [sys.executable, "-c", WORKER_BOOT, "--sdk", sdk]
    command += ["--folder", workload.folder]
    if profile:
        command += ["--profile", profile]
    env = bench_offline._worker_env(tmp)
    sampler = _sampler()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=stdout, stderr=stderr, cwd=tmp
        )
        sampler.start()
        returncode, out.wall_s, out.error = bench_offline.wait_with_watchdog(
            process, start, WORKER_TIMEOUT_S
        )
    bench_offline._reap_orphans(ORPHAN_TIMEOUT_S)
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    result = _last_json(stdout_path)
    if returncode != 0 or result is None:
        with open(stderr_path, "rb") as stream:
            tail = stream.read().decode("utf-8", "replace")[-2000:]
        out.error = out.error or f"exit status {returncode}:\n{tail}"
    else:
        out.result = result
        if result.get("files") != workload.count:
            out.error = f"{result.get('files')} files, not {workload.count}"
        bench_offline._collect_memory(out, sampler, process.pid)
    if leftovers is None:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        leftovers.append(tmp)
    _settle()
    return out


def _settle() -> None:
    """Flush dirty pages, so one run's writeback does not land in the next's."""
    if hasattr(os, "sync"):
        os.sync()


def _last_json(path: str) -> dict[str, Any] | None:
    """The last line of the worker's stdout that is a JSON object."""
    import json

    with open(path, encoding="utf-8", errors="replace") as stream:
        lines = stream.read().splitlines()
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                found = json.loads(line)
            except ValueError:
                continue
            if isinstance(found, dict):
                return found
    return None


def run_all(
    workloads: list[Workload],
    sdks: tuple[str, ...],
    repeat: int,
    base: str | None,
    failures: list[str],
) -> Results:
    """Each repetition runs every workload with each client in turn.

    The runs' folders are all removed at the end (see ``measure``).
    """
    results: Results = {w.name: {sdk: [] for sdk in sdks} for w in workloads}
    leftovers: list[str] = []
    try:
        _run_repetitions(workloads, sdks, repeat, base, failures, results, leftovers)
    finally:
        remove_folders(leftovers)
    return results


def remove_folders(folders: list[str]) -> None:
    """Remove measured runs' folders, then let the disk settle."""
    import shutil

    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    _settle()


def _run_repetitions(
    workloads: list[Workload],
    sdks: tuple[str, ...],
    repeat: int,
    base: str | None,
    failures: list[str],
    results: Results,
    leftovers: list[str],
) -> None:
    warm_up = next(w for w in workloads if w.name == "small")
    for sdk in sdks:  # untimed: bytecode, the service binary, disk caches
        measurement = measure(sdk, warm_up, base, leftovers=leftovers)
        if measurement.error:
            failures.append(f"warm-up with {sdk}: {measurement.error}")
    for rep in range(1, repeat + 1):
        for workload in workloads:
            for sdk in sdks:
                # A big file's run goes at once (unlinking it before its
                # writeback saves writing it); many files' runs wait.
                keep = leftovers if workload.count > 1 else None
                measurement = measure(sdk, workload, base, leftovers=keep)
                if measurement.error:
                    status = "FAILED"
                    failures.append(f"{workload.name} with {sdk}: {measurement.error}")
                else:
                    status = f"{measurement.result['elapsed_s']:.3f} s timed"
                    results[workload.name][sdk].append(measurement)
                _progress(f"[{rep}/{repeat}] {workload.name:<5} {sdk:<10} {status}")


def run_profile(workload: Workload, base: str | None, failures: list[str]) -> str:
    """Our worker on ``workload`` under cProfile, top entries by cumulative time."""
    import io
    import pstats
    import shutil
    import tempfile

    keep = tempfile.mkdtemp(prefix="bench-artifacts-profile-", dir=base)
    path = os.path.join(keep, "worker.prof")
    report = io.StringIO()
    measurement = measure("wandb_core", workload, base, profile=path)
    if measurement.error:
        failures.append(f"profile of {workload.name}: {measurement.error}")
    else:
        print(
            f"Profile of wandb_core, {workload.name} ({workload.describe()}), "
            f"top {PROFILE_TOP} by cumulative time",
            file=report,
        )
        stats = pstats.Stats(path, stream=report)
        stats.sort_stats("cumulative").print_stats(PROFILE_TOP)
    shutil.rmtree(keep, ignore_errors=True)
    return report.getvalue()


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def build_rows(results: Results, workloads: list[Workload]) -> list[Row]:
    from bench_offline import Row

    def pair(name: str, pick: Callable[[Measurement], float]) -> list[list[float]]:
        by_sdk = results.get(name, {})
        return [[pick(m) for m in by_sdk.get(sdk, [])] for sdk in SDKS]

    def timed(m: Measurement) -> float:
        return float(m.result["elapsed_s"])

    rows = []
    for w in workloads:
        label = f"{w.name}: {w.describe()}"
        rows.append(
            Row(
                f"{label}, log + finish",
                "ms",
                *pair(w.name, lambda m: timed(m) * 1e3),
                target=w.target,
                max_ratio=w.max_ratio,
            )
        )
        rows.append(
            Row(
                f"{w.name}, throughput",
                "MB/s",
                *pair(w.name, lambda m, w=w: w.total_bytes / 1e6 / timed(m)),
            )
        )
        if w.count > 1:
            rows.append(
                Row(
                    f"{w.name}, a file",
                    "ms",
                    *pair(w.name, lambda m, w=w: timed(m) * 1e3 / w.count),
                )
            )
        rows.append(
            Row(
                f"{w.name}, peak RSS, worker (VmHWM)",
                "MB",
                *pair(w.name, lambda m: m.hwm_by_name.get("worker", 0) / 1e6),
            )
        )
        rows.append(
            Row(
                f"{w.name}, peak RSS, all processes (sum of VmHWM)",
                "MB",
                *pair(w.name, lambda m: sum(m.hwm_by_name.values()) / 1e6),
            )
        )
        rows.append(
            Row(
                f"{w.name}, CPU, all processes, whole worker",
                "ms",
                *pair(w.name, lambda m: m.cpu_s * 1e3),
            )
        )
    return rows


def measure_floors(
    workloads: list[Workload], base: str | None, repeat: int
) -> list[str]:
    """What the machine itself needs, whatever the client: notes for the table.

    Every added file gets a snapshot, so creating that many new files (a
    bare ``os.open`` + ``os.write`` + ``os.close`` loop) bounds ``small``
    and ``many`` from below; the MD5 of the big file's bytes, already in
    memory, bounds ``big``.
    """
    import hashlib
    import statistics
    import tempfile

    notes = []
    for w in workloads:
        if w.count > 1:
            payload = os.urandom(w.size)
            times = []
            folders = []
            for _ in range(repeat):
                folder = tempfile.mkdtemp(prefix="bench-floor-", dir=base)
                folders.append(folder)
                start = time.perf_counter()
                for index in range(w.count):
                    handle = os.open(
                        os.path.join(folder, str(index)),
                        os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                        0o400,
                    )
                    os.write(handle, payload)
                    os.close(handle)
                times.append(time.perf_counter() - start)
                _settle()
            remove_folders(folders)
            median_ms = statistics.median(times) * 1e3
            notes.append(
                f"floor, {w.name}: creating {w.count:,} new files of "
                f"{w.size // 1024} KiB in a bare loop takes {median_ms:,.0f} ms "
                f"here (median of {repeat}; {median_ms / w.count:.2f} ms a file)"
            )
        else:
            data = os.urandom(w.size)
            start = time.perf_counter()
            hashlib.md5(data).digest()
            elapsed_ms = (time.perf_counter() - start) * 1e3
            notes.append(
                f"floor, {w.name}: hashlib.md5 of its {w.size // MIB} MiB in "
                f"memory takes {elapsed_ms:,.0f} ms here "
                f"({w.size / 1e3 / elapsed_ms:,.0f} MB/s)"
            )
    return notes


def build_notes(results: Results, subreaper: bool) -> list[str]:
    import statistics

    from bench_offline import implementation_note

    notes = implementation_note(results, "_fast twins")
    if not subreaper:
        notes.append("no subreaper: memory and CPU count only the worker's reaped tree")
    for name, by_sdk in results.items():
        for sdk in SDKS:
            measurements = by_sdk.get(sdk, [])
            if not measurements:
                continue
            names = sorted({n for m in measurements for n in m.hwm_by_name})
            parts = []
            for process in names:
                peaks = [
                    m.hwm_by_name[process]
                    for m in measurements
                    if process in m.hwm_by_name
                ]
                part = f"{process} {statistics.median(peaks) / 1e6:.1f}"
                if len(peaks) < len(measurements):
                    part += f" (in {len(peaks)} of {len(measurements)} runs)"
                parts.append(part)
            notes.append(f"{name}, {sdk}: peak RSS by process, MB: {', '.join(parts)}")
    return notes


def describe_context(
    args: Namespace, workloads: list[Workload], sdks: tuple[str, ...]
) -> list[str]:
    import platform
    from importlib import metadata

    versions = []
    for distribution in ("wandb", "wandb-core-py"):
        try:
            versions.append(f"{distribution} {metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{distribution} not installed")
    sizes = "; ".join(f"{w.name}: {w.describe()}" for w in workloads)
    return [
        time.strftime("%Y-%m-%d %H:%M:%S"),
        f"Python {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        ", ".join(versions),
        f"{args.repeat} repetitions, clients: {', '.join(sdks)}; {sizes}",
        "timed: Artifact + add_dir + log_artifact + finish, offline, after init",
        "values are medians; ratio = ours / official (MB = 10^6 bytes)",
    ]


def parse_args(argv: list[str] | None) -> Namespace:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, help="repetitions (default 5, quick 1)")
    parser.add_argument(
        "--quick", action="store_true", help="32 MiB, 200 and 1,000 files (CI smoke)"
    )
    parser.add_argument("--dir", default=None, help="where to write the files")
    parser.add_argument("--out", default=DEFAULT_OUT, help="the Markdown file")
    parser.add_argument(
        "--profile", action="store_true", help="also profile our small run"
    )
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (1 if args.quick else 5)
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure both clients; 0 unless a worker failed or files are missing."""
    import shutil
    import tempfile

    sys.path.insert(0, HERE)
    import bench_offline

    args = parse_args(argv)
    sdks = bench_offline.available_sdks()
    subreaper = bench_offline.become_subreaper()
    workloads = plan_workloads(args.quick)
    failures: list[str] = []
    root = tempfile.mkdtemp(prefix="bench-artifacts-", dir=args.dir)
    try:
        write_files(root, workloads)
        _settle()
        results = run_all(workloads, sdks, args.repeat, args.dir, failures)
        floors = measure_floors(workloads, args.dir, args.repeat)
        small = next(w for w in workloads if w.name == "small")
        profile = run_profile(small, args.dir, failures) if args.profile else ""
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rows = build_rows(results, workloads)
    context = describe_context(args, workloads, sdks)
    notes = build_notes(results, subreaper) + floors
    print("\n".join(context))
    print()
    print(bench_offline.render_text(rows))
    print()
    print("\n".join(notes))
    if profile:
        print()
        print(profile)
    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    with open(args.out, "w") as stream:
        stream.write(
            bench_offline.render_markdown(
                rows,
                context,
                notes,
                "Artifact benchmark: official wandb client vs wandb_core",
            )
        )
    _progress(f"Results written to {args.out}")
    for failure in failures:
        _progress(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker_main(sys.argv[2:])
    else:
        sys.exit(main())
