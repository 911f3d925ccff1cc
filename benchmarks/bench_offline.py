"""Offline benchmark of wandb_core against the official wandb client.

Every measurement runs in a fresh subprocess (this module's worker mode) with
its own temporary ``WANDB_DIR``; the official client and ours alternate
(official, ours, official, ours...) so both see the same machine noise. The
table gives the median over the repetitions of each and the ratio
``ours / official``: lower is better, and a target such as ``<= 1/5`` is met
when the ratio is at most that.

The parent makes itself a child subreaper (Linux), so the official client's
service and monitor processes, which outlive the worker, are reparented to it
and reaped; the CPU time of a whole process tree is then exact, from
``getrusage(RUSAGE_CHILDREN)``. Memory is sampled from a thread every 10 ms
over the whole tree.

Workers must time ``import`` from a bare interpreter, so this module imports
only ``os``, ``sys`` and ``time`` at the top (all loaded at interpreter start
or built in); everything else is imported inside the functions that use it.

Usage::

    python benchmarks/bench_offline.py [--repeat N] [--steps N] [--only NAME]
        [--quick] [--out DIR] [--profile]

Timings never fail the script: it exits 0 unless a worker crashed.
"""

from __future__ import annotations

import os
import sys
import time
from types import ModuleType

# typing is not loaded at interpreter start; mypy and ruff honour this name.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Callable, Sequence
    from typing import Any

    Normalizer = Callable[[tuple[str, ...], object], object]
    Results = dict[str, dict[str, list["Measurement"]]]
    Pick = Callable[["Measurement"], float]

WORKLOADS = ("empty", "memory", "log", "size", "twins")
LOG_KEYS = (1, 10, 100)
SIZE_KEYS = 10
TWIN_KEYS = (1, 10, 100)
SDKS = ("wandb", "wandb_core")
PROJECT = "bench-offline"
IMPORT_LIMIT_S = 0.050
SAMPLE_INTERVAL_S = 0.010
WORKER_TIMEOUT_S = 300.0
ORPHAN_TIMEOUT_S = 20.0
PR_SET_CHILD_SUBREAPER = 36
HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(HERE, "results")
# Workers import this module rather than run it as a script, so it loads from
# cached bytecode instead of being compiled in every measured process.
WORKER_BOOT = (
    f"import sys; sys.path.insert(0, {HERE!r}); import bench_offline; "
    "bench_offline.worker_main(sys.argv[2:])"
)


# ---------------------------------------------------------------------------
# Worker mode: one measurement in a fresh interpreter
# ---------------------------------------------------------------------------


def worker_main(argv: list[str]) -> None:
    """Run one workload and write its figures as JSON to ``--result``."""
    name = argv[0]
    options = dict(zip(argv[1::2], argv[2::2]))
    sdk = options.get("--sdk", "wandb_core")
    if name == "empty":
        result = _work_empty(sdk)
    elif name == "log":
        result = _work_log(
            sdk,
            int(options["--keys"]),
            int(options["--steps"]),
            options.get("--profile"),
        )
    elif name == "twins":
        result = _work_twins(int(options["--iterations"]), int(options["--batches"]))
    else:
        msg = f"Unknown worker {name!r}; expected empty, log or twins."
        raise SystemExit(msg)

    import json
    import resource

    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fast = sys.modules.get("wandb_core._fast")
    if fast is not None:
        result["implementation"] = fast.implementation
    with open(options["--result"], "w") as stream:
        json.dump(result, stream)


def _work_empty(sdk_name: str) -> dict[str, Any]:
    clock = time.perf_counter
    start = clock()
    sdk = __import__(sdk_name)
    imported = clock()
    run = sdk.init(project=PROJECT)
    initialized = clock()
    run.finish()
    finished = clock()
    return {
        "import_s": imported - start,
        "init_s": initialized - imported,
        "finish_s": finished - initialized,
    }


def _work_log(
    sdk_name: str, key_count: int, steps: int, profile_path: str | None
) -> dict[str, Any]:
    sdk = __import__(sdk_name)
    run = sdk.init(project=PROJECT)
    keys = [f"f_{i}" for i in range(key_count)]
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    durations = _log_loop(run.log, keys, steps)

    if profiler is not None and profile_path:
        profiler.disable()
        profiler.dump_stats(profile_path)
    clock = time.perf_counter
    start = clock()
    run.finish()
    finish_s = clock() - start
    durations.sort()
    return {
        "median_s": _percentile(durations, 0.50) / 1e9,
        "p90_s": _percentile(durations, 0.90) / 1e9,
        "p99_s": _percentile(durations, 0.99) / 1e9,
        "drain_s": finish_s,
    }


def _log_loop(
    log: Callable[[dict[str, float]], None], keys: list[str], steps: int
) -> list[int]:
    """Call ``log`` once a step; return each call's duration in nanoseconds."""
    clock = time.perf_counter_ns
    durations = [0] * steps
    for step in range(steps):
        row = {key: float(step + i) for i, key in enumerate(keys)}
        start = clock()
        log(row)
        durations[step] = clock() - start
    return durations


def _percentile(ordered: list[int], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    import math

    rank = min(max(1, math.ceil(fraction * len(ordered))), len(ordered))
    return float(ordered[rank - 1])


def _work_twins(iterations: int, batches: int) -> dict[str, Any]:
    """Time flatten_row + encode_history + Framer.frame with each twin.

    Both twins are imported directly, past the selector, to compare them.
    """
    import importlib

    from wandb_core._fast import records_py
    from wandb_core.values import normalize

    twins = {"python": records_py}
    result: dict[str, Any] = {}
    try:
        twins["cython"] = importlib.import_module("wandb_core._fast.records_c")
    except ImportError as error:
        result["cython_missing"] = str(error)

    for key_count in TWIN_KEYS:
        rows = [
            {f"f_{i}": float(step + i) for i in range(key_count)}
            for step in range(iterations)
        ]
        outputs = {
            name: _twin_pipeline(module, normalize, rows[:3])
            for name, module in twins.items()
        }
        result[f"same_bytes_{key_count}"] = len(set(outputs.values())) == 1
        timings: dict[str, list[float]] = {name: [] for name in twins}
        for _batch in range(batches):
            for name, module in twins.items():
                timings[name].append(_time_twin(module, normalize, rows))
        for name, values in timings.items():
            values.sort()
            result[f"{name}_{key_count}_s"] = values[len(values) // 2]
    return result


def _twin_pipeline(
    module: ModuleType, normalize: Normalizer, rows: list[dict[str, float]]
) -> bytes:
    framer = module.Framer()
    out = []
    for num, row in enumerate(rows, 1):
        leaves = module.flatten_row(row, normalize)
        items = [(path, text) for path, _value, text in leaves]
        body = module.encode_history(items, num, 1.5 + num, 1.7e9 + num)
        out.append(framer.frame(num, body))
    return b"".join(out)


def _time_twin(
    module: ModuleType, normalize: Normalizer, rows: list[dict[str, float]]
) -> float:
    """Seconds per row of the whole record path, one batch."""
    flatten_row = module.flatten_row
    encode_history = module.encode_history
    frame = module.Framer().frame
    clock = time.perf_counter_ns
    start = clock()
    for num, row in enumerate(rows, 1):
        leaves = flatten_row(row, normalize)
        items = [(path, text) for path, _value, text in leaves]
        body = encode_history(items, num, 1.5 + num, 1.7e9 + num)
        frame(num, body)
    return (clock() - start) / len(rows) / 1e9


# ---------------------------------------------------------------------------
# Parent: running workers in fresh process trees
# ---------------------------------------------------------------------------


class Measurement:
    """What one worker process tree did: its result and whole-tree figures."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {}
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self.peak_rss = 0
        self.hwm_by_name: dict[str, int] = {}
        self.max_processes = 0
        self.wandb_bytes = 0
        self.error: str | None = None


class TreeSampler:
    """Samples the RSS of every descendant of this process every 10 ms.

    Keeps the peak of the summed RSS and, per process, the last ``VmHWM``
    read from ``/proc/<pid>/status`` (a process's own peak RSS).
    """

    def __init__(self) -> None:
        import threading

        import psutil

        self._psutil = psutil
        self._me = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_rss = 0
        self.hwm: dict[int, tuple[str, int]] = {}
        self.max_processes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(SAMPLE_INTERVAL_S):
                return

    def sample(self) -> None:
        psutil = self._psutil
        try:
            children = self._me.children(recursive=True)
        except psutil.Error:
            return
        total = 0
        for child in children:
            try:
                total += child.memory_info().rss
                name = child.name()
            except psutil.Error:
                continue
            hwm = _read_vm_hwm(child.pid)
            if hwm:
                self.hwm[child.pid] = (name, hwm)
        self.peak_rss = max(self.peak_rss, total)
        self.max_processes = max(self.max_processes, len(children))


def _read_vm_hwm(pid: int) -> int:
    """Peak RSS in bytes of a live process, 0 where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/status") as stream:
            for line in stream:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def become_subreaper() -> bool:
    """Have orphaned descendants reparented to us, so we reap and count them."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _reap_orphans(timeout_s: float) -> None:
    """Wait for the processes that outlived the worker; kill them past timeout."""
    import psutil

    me = psutil.Process()
    deadline = time.monotonic() + timeout_s
    while True:
        children = me.children()
        if not children:
            return
        if time.monotonic() > deadline:
            for child in children:
                try:
                    child.kill()
                except psutil.Error:
                    pass
        for child in children:
            try:
                os.waitpid(child.pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.005)


def _worker_env(tmp: str) -> dict[str, str]:
    """The environment of a worker: offline, silent, everything under ``tmp``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("WANDB_") or key.startswith("WANDB_CORE_")
    }
    # Users' interpreters cache bytecode; without it every worker would pay
    # for compiling whichever modules changed since their cache was written.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    dirs = {
        "WANDB_CACHE_DIR": "cache",
        "WANDB_CONFIG_DIR": "config",
        "WANDB_DATA_DIR": "data",
        "TMPDIR": "tmp",
    }
    for key, name in dirs.items():
        env[key] = os.path.join(tmp, name)
        os.makedirs(env[key])
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=tmp,
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
    )
    paths = [REPO_ROOT, env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    return env


def measure(worker: str, sdk: str, args: list[str], sample: bool) -> Measurement:
    """Run one worker in a fresh process tree and a fresh ``WANDB_DIR``."""
    import json
    import resource
    import shutil
    import subprocess
    import tempfile

    tmp = tempfile.mkdtemp(prefix="bench-offline-")
    out = Measurement()
    result_path = os.path.join(tmp, "result.json")
    log_path = os.path.join(tmp, "worker.log")
    command = [sys.executable, "-c", WORKER_BOOT, "--worker", worker]
    command += ["--sdk", sdk, "--result", result_path, *args]
    env = _worker_env(tmp)
    sampler = TreeSampler() if sample else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    with open(log_path, "wb") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=tmp)
        if sampler is not None:
            sampler.start()
        returncode, out.wall_s, out.error = wait_with_watchdog(
            process, start, WORKER_TIMEOUT_S
        )
    _reap_orphans(ORPHAN_TIMEOUT_S)
    if sampler is not None:
        sampler.stop()

    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    out.wandb_bytes = _log_bytes(tmp)
    if returncode != 0 or not os.path.exists(result_path):
        with open(log_path, "rb") as stream:
            tail = stream.read().decode("utf-8", "replace")[-2000:]
        out.error = out.error or f"exit status {returncode}:\n{tail}"
    else:
        with open(result_path) as stream:
            out.result = json.load(stream)
    if sampler is not None:
        _collect_memory(out, sampler, process.pid)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def _log_bytes(root: str) -> int:
    """Size of the ``.wandb`` files under ``root``.

    ``os.walk`` does not follow the ``latest-run`` link, which would count
    the run twice.
    """
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith(".wandb") and not os.path.islink(path):
                total += os.path.getsize(path)
    return total


def _collect_memory(out: Measurement, sampler: TreeSampler, worker_pid: int) -> None:
    out.peak_rss = sampler.peak_rss
    out.max_processes = sampler.max_processes
    # The worker reports its own peak at exit, which may follow the last sample.
    worker_hwm = int(out.result.get("maxrss_kb", 0)) * 1024
    for pid, (name, hwm) in sampler.hwm.items():
        if pid == worker_pid:
            name, hwm = "worker", max(hwm, worker_hwm)
        out.hwm_by_name[name] = out.hwm_by_name.get(name, 0) + hwm


# ---------------------------------------------------------------------------
# Parent: the plan, the table and the files
# ---------------------------------------------------------------------------


class Job:
    """One workload measured with each client in every repetition."""

    def __init__(self, key: str, worker: str, args: list[str], sample: bool) -> None:
        self.key = key
        self.worker = worker
        self.args = args
        self.sample = sample


class Row:
    """A line of the table: both clients' values (display units) and a target."""

    def __init__(
        self,
        label: str,
        unit: str,
        official: list[float],
        ours: list[float],
        target: str = "(reported)",
        max_ratio: float | None = None,
        ours_below: float | None = None,
    ) -> None:
        import statistics

        self.label = label
        self.unit = unit
        self.official_values = official
        self.ours_values = ours
        self.official = statistics.median(official) if official else None
        self.ours = statistics.median(ours) if ours else None
        self.target = target
        self.ratio = None
        if self.official and self.ours is not None:
            self.ratio = self.ours / self.official
        self.met = "-"
        if max_ratio is not None:
            self.met = _met(self.ratio, lambda ratio: ratio <= max_ratio)
        if ours_below is not None:
            self.met = _met(self.ours, lambda ours: ours < ours_below)

    def cells(self) -> list[str]:
        return [
            self.label,
            _format_value(self.official, self.unit),
            _format_value(self.ours, self.unit),
            _format_ratio(self.ratio),
            self.target,
            self.met,
        ]


HEADER = ["workload", "official", "ours", "ratio", "target", "met"]


def _met(value: float | None, check: Callable[[float], bool]) -> str:
    if value is None:
        return "n/a"
    return "yes" if check(value) else "no"


def _format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    if value >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


def _format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    if 0 < ratio < 1:
        return f"{ratio:.3f} = 1/{1 / ratio:.1f}"
    return f"{ratio:.3f}"


def plan_jobs(selected: set[str], steps: int) -> list[Job]:
    """The per-repetition jobs for the selected workloads."""
    jobs = []
    if "empty" in selected:
        jobs.append(Job("empty", "empty", [], sample=False))
    if "memory" in selected:
        jobs.append(Job("memory", "empty", [], sample=True))
    key_counts: tuple[int, ...] = LOG_KEYS if "log" in selected else ()
    if "size" in selected and SIZE_KEYS not in key_counts:
        key_counts = (SIZE_KEYS,)
    for keys in key_counts:
        args = ["--keys", str(keys), "--steps", str(steps)]
        jobs.append(Job(f"log-{keys}", "log", args, sample=False))
    return jobs


def run_jobs(
    jobs: list[Job], sdks: tuple[str, ...], repeat: int, failures: list[str]
) -> Results:
    """Each repetition runs every job with each client in turn."""
    results: Results = {job.key: {sdk: [] for sdk in sdks} for job in jobs}
    for sdk in sdks if jobs else ():  # untimed warm-up: disk caches, bytecode
        measure("empty", sdk, [], sample=False)
    for rep in range(1, repeat + 1):
        for job in jobs:
            for sdk in sdks:
                measurement = measure(job.worker, sdk, job.args, job.sample)
                status = f"{measurement.wall_s:.2f} s"
                if measurement.error:
                    status = "FAILED"
                    failures.append(f"{job.key} with {sdk}: {measurement.error}")
                else:
                    results[job.key][sdk].append(measurement)
                _progress(f"[{rep}/{repeat}] {job.key:<7} {sdk:<10} {status}")
    return results


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _values(results: Results, key: str, sdk: str, pick: Pick) -> list[float]:
    return [pick(m) for m in results.get(key, {}).get(sdk, [])]


def _pair(results: Results, key: str, pick: Pick) -> tuple[list[float], list[float]]:
    return _values(results, key, "wandb", pick), _values(
        results, key, "wandb_core", pick
    )


def build_rows(results: Results, twins: Measurement | None, steps: int) -> list[Row]:
    """The table, in the order of performance.md."""
    rows = []
    if "empty" in results:
        rows += _empty_rows(results)
    if "memory" in results:
        rows.append(
            Row(
                "memory, empty run, all processes (RSS)",
                "MB",
                *_pair(results, "memory", lambda m: m.peak_rss / 1e6),
                target="<= 1/2",
                max_ratio=1 / 2,
            )
        )
        rows.append(
            Row(
                "memory, empty run, sum of VmHWM",
                "MB",
                *_pair(results, "memory", lambda m: sum(m.hwm_by_name.values()) / 1e6),
            )
        )
    for keys in LOG_KEYS:
        if f"log-{keys}" in results:
            rows += _log_rows(results, keys, steps)
    if f"log-{SIZE_KEYS}" in results:
        rows.append(
            Row(
                f".wandb size, {steps:,} steps x {SIZE_KEYS} floats",
                "MB",
                *_pair(results, f"log-{SIZE_KEYS}", lambda m: m.wandb_bytes / 1e6),
                target="<= 1/2",
                max_ratio=1 / 2,
            )
        )
    if twins is not None:
        rows += _twin_rows(twins)
    return rows


def _empty_rows(results: Results) -> list[Row]:
    def phase(name: str) -> Pick:
        return lambda m: float(m.result[name]) * 1e3

    def startup(m: Measurement) -> float:
        phases = ("import_s", "init_s", "finish_s")
        return sum(float(m.result[phase]) for phase in phases) * 1e3

    return [
        Row(
            "import (in process)",
            "ms",
            *_pair(results, "empty", phase("import_s")),
            target=f"ours < {IMPORT_LIMIT_S * 1e3:.0f} ms",
            ours_below=IMPORT_LIMIT_S * 1e3,
        ),
        Row("init, empty run", "ms", *_pair(results, "empty", phase("init_s"))),
        Row("finish, empty run", "ms", *_pair(results, "empty", phase("finish_s"))),
        Row(
            "import + init + finish, empty run",
            "ms",
            *_pair(results, "empty", startup),
            target="<= 1/10",
            max_ratio=1 / 10,
        ),
        Row(
            "empty run, whole process, wall",
            "ms",
            *_pair(results, "empty", lambda m: m.wall_s * 1e3),
        ),
        Row(
            "empty run, all processes, CPU",
            "ms",
            *_pair(results, "empty", lambda m: m.cpu_s * 1e3),
        ),
    ]


def _log_rows(results: Results, keys: int, steps: int) -> list[Row]:
    def stat(name: str, scale: float) -> Pick:
        return lambda m: m.result[name] * scale

    key = f"log-{keys}"
    noun = "key" if keys == 1 else "keys"
    return [
        Row(
            f"log, {keys} {noun}, median a call",
            "µs",
            *_pair(results, key, stat("median_s", 1e6)),
            target="<= 1/5",
            max_ratio=1 / 5,
        ),
        Row(f"log, {keys} {noun}, p90", "µs", *_pair(results, key, stat("p90_s", 1e6))),
        Row(f"log, {keys} {noun}, p99", "µs", *_pair(results, key, stat("p99_s", 1e6))),
        Row(
            f"finish after {steps:,} logs of {keys} {noun}",
            "ms",
            *_pair(results, key, stat("drain_s", 1e3)),
        ),
    ]


def _twin_rows(twins: Measurement) -> list[Row]:
    """Pure twin in the official column, compiled twin in ours."""
    rows = []
    for keys in TWIN_KEYS:
        pure = twins.result.get(f"python_{keys}_s")
        compiled = twins.result.get(f"cython_{keys}_s")
        rows.append(
            Row(
                f"twins, {keys} {_floats(keys)}: pure -> cython",
                "µs",
                [pure * 1e6] if pure is not None else [],
                [compiled * 1e6] if compiled is not None else [],
                target="<= 1/3 (3x)",
                max_ratio=1 / 3,
            )
        )
    return rows


def build_notes(
    results: Results, twins: Measurement | None, steps: int, subreaper: bool
) -> list[str]:
    """Context for the table: breakdowns, implementation, caveats."""
    import statistics

    notes = implementation_note(results, "record twins")
    if not subreaper:
        notes.append("CPU counts only processes reaped by the worker (no subreaper).")
    for sdk in SDKS:
        measurements = results.get("memory", {}).get(sdk, [])
        if not measurements:
            continue
        names = sorted({name for m in measurements for name in m.hwm_by_name})
        parts = []
        for name in names:
            peaks = [m.hwm_by_name[name] for m in measurements if name in m.hwm_by_name]
            part = f"{name} {statistics.median(peaks) / 1e6:.1f}"
            if len(peaks) < len(measurements):
                part += f" (in {len(peaks)} of {len(measurements)} runs)"
            parts.append(part)
        count = max(m.max_processes for m in measurements)
        notes.append(
            f"{sdk} peak RSS (VmHWM) by process, MB: {', '.join(parts)} "
            f"({count} at most at once)"
        )
    for sdk in SDKS:
        sizes = [
            m.wandb_bytes for m in results.get(f"log-{SIZE_KEYS}", {}).get(sdk, [])
        ]
        if sizes:
            per_step = statistics.median(sizes) / steps
            notes.append(f"{sdk} .wandb: {per_step:.0f} B a step")
    if twins is not None:
        notes += _twin_notes(twins)
    return notes


def _floats(count: int) -> str:
    return "float" if count == 1 else "floats"


def _twin_notes(twins: Measurement) -> list[str]:
    if "cython_missing" in twins.result:
        return [f"compiled twin records_c missing: {twins.result['cython_missing']}"]
    notes = []
    for keys in TWIN_KEYS:
        pure = twins.result.get(f"python_{keys}_s")
        compiled = twins.result.get(f"cython_{keys}_s")
        if pure and compiled:
            speedup = pure / compiled
            notes.append(f"twins, {keys} {_floats(keys)}: cython {speedup:.1f}x faster")
        if not twins.result.get(f"same_bytes_{keys}", True):
            notes.append(f"twins, {keys} {_floats(keys)}: THE TWINS' BYTES DIFFER")
    return notes


def run_profiles(steps: int, failures: list[str]) -> str:
    """Profile our ``log`` loop with cProfile, top functions by own time."""
    import io
    import pstats
    import shutil
    import tempfile

    keep = tempfile.mkdtemp(prefix="bench-offline-profile-")
    report = io.StringIO()
    for keys in LOG_KEYS:
        path = os.path.join(keep, f"log-{keys}.prof")
        args = ["--keys", str(keys), "--steps", str(steps), "--profile", path]
        measurement = measure("log", "wandb_core", args, sample=False)
        if measurement.error:
            failures.append(f"profile of log-{keys}: {measurement.error}")
            continue
        title = f"wandb_core log() with {keys} float keys, {steps:,} calls"
        print(f"\nProfile of {title}, top functions by own time", file=report)
        stats = pstats.Stats(path, stream=report)
        stats.sort_stats("tottime").print_stats(12)
    shutil.rmtree(keep, ignore_errors=True)
    return report.getvalue()


def render_text(rows: list[Row]) -> str:
    table = [HEADER] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = []
    for number, line in enumerate(table):
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_markdown(
    rows: list[Row],
    context: list[str],
    notes: list[str],
    title: str = "Offline benchmark: official wandb client vs wandb_core",
) -> str:
    """The table as Markdown: a title, the context, the rows, the notes."""
    lines = [f"# {title}", ""]
    lines += [f"- {line}" for line in context]
    lines += ["", "| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write_csv(path: str, rows: list[Row]) -> None:
    import csv

    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            [
                "workload",
                "unit",
                "official_median",
                "ours_median",
                "ratio",
                "target",
                "met",
                "official_values",
                "ours_values",
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    row.label,
                    row.unit,
                    _number(row.official),
                    _number(row.ours),
                    _number(row.ratio),
                    row.target,
                    row.met,
                    ";".join(_number(v) for v in row.official_values),
                    ";".join(_number(v) for v in row.ours_values),
                ]
            )


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def describe_context(repeat: int, steps: int, sdks: tuple[str, ...]) -> list[str]:
    import platform
    from importlib import metadata

    versions = []
    for distribution in ("wandb", "wandb-core-py"):
        try:
            versions.append(f"{distribution} {metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{distribution} not installed")
    return [
        time.strftime("%Y-%m-%d %H:%M:%S"),
        f"Python {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        ", ".join(versions),
        f"{repeat} repetitions, {steps:,} log steps, clients: {', '.join(sdks)}",
        "values are medians; ratio = ours / official (twins: cython / pure)",
    ]


def wait_with_watchdog(
    process: Any, started: float, timeout: float
) -> tuple[int, float, str | None]:
    """Wait for a worker: its exit status, wall seconds since ``started``, error.

    ``wait(timeout)`` polls with sleeps of up to 50 ms, which would blur the
    wall time; a blocking wait with a watchdog that kills the worker after
    ``timeout`` seconds returns on the exit.
    """
    import threading

    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    returncode = process.wait()
    wall_s = time.perf_counter() - started
    error = None if watchdog.is_alive() else f"timed out after {timeout:.0f} s"
    watchdog.cancel()
    return returncode, wall_s, error


def median_time(repeat: int, function: Callable[..., Any], *args: Any) -> float:
    """Median wall time of ``function(*args)`` over ``repeat`` calls.

    One warm-up call comes first (it also warms caches, the page cache too).
    """
    import statistics

    function(*args)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def available_sdks() -> tuple[str, ...]:
    """Both clients, or ours alone (said on stderr) without the official one."""
    import importlib.util

    if importlib.util.find_spec("wandb"):
        return SDKS
    sys.stderr.write(
        "The official client (wandb) is not installed; measuring ours only.\n"
    )
    return ("wandb_core",)


def selected_names(
    parser: Any, values: list[str] | None, choices: Sequence[str], kind: str
) -> set[str]:
    """The names given to ``--only`` (comma-separated, repeatable); all if none.

    An unknown name is a usage error naming the choices.
    """
    selected: set[str] = set()
    for value in values or [",".join(choices)]:
        selected.update(name.strip() for name in value.split(",") if name.strip())
    unknown = selected - set(choices)
    if unknown:
        parser.error(f"unknown {kind}(s) {sorted(unknown)}; choose from {choices}")
    return selected


def implementation_note(results: Any, what: str) -> list[str]:
    """The note naming which twins wandb_core's workers ran, if they said."""
    implementations = {
        str(m.result.get("implementation"))
        for by_sdk in results.values()
        for m in by_sdk.get("wandb_core", [])
    }
    if not implementations:
        return []
    return [f"wandb_core {what} in use: {', '.join(sorted(implementations))}"]


def parse_args(argv: list[str] | None) -> Namespace:
    import argparse

    parser = argparse.ArgumentParser(
        description="Benchmark wandb_core against the official client, offline."
    )
    parser.add_argument("--repeat", type=int, help="repetitions (default 5, quick 2)")
    parser.add_argument(
        "--steps", type=int, help="log calls a workload (default 10,000, quick 1,000)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these workloads, repeatable or comma-separated: "
        f"{', '.join(WORKLOADS)}",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help="folder for CSV and Markdown"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile our log() with cProfile"
    )
    args = parser.parse_args(argv)
    args.only = selected_names(parser, args.only, WORKLOADS, "workload")
    args.repeat = args.repeat or (2 if args.quick else 5)
    args.steps = args.steps or (1_000 if args.quick else 10_000)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every worker ran, 1 when one crashed."""

    args = parse_args(argv)
    failures: list[str] = []
    sdks = available_sdks()
    subreaper = become_subreaper()

    results = run_jobs(plan_jobs(args.only, args.steps), sdks, args.repeat, failures)
    twins = None
    if "twins" in args.only:
        iterations, batches = (300, 3) if args.quick else (2_000, 7)
        twin_args = ["--iterations", str(iterations), "--batches", str(batches)]
        twins = measure("twins", "wandb_core", twin_args, sample=False)
        _progress(f"twins      wandb_core {twins.wall_s:.2f} s")
        if twins.error:
            failures.append(f"twins: {twins.error}")
            twins = None
    profile = run_profiles(args.steps, failures) if args.profile else ""

    rows = build_rows(results, twins, args.steps)
    context = describe_context(args.repeat, args.steps, sdks)
    notes = build_notes(results, twins, args.steps, subreaper)
    print("\n".join(context))
    print()
    print(render_text(rows))
    print()
    print("\n".join(notes))
    if profile:
        print(profile)
    _write_files(args.out, rows, context, notes)
    for failure in failures:
        _progress(f"FAILED: {failure}")
    return 1 if failures else 0


def _write_files(
    out: str, rows: list[Row], context: list[str], notes: list[str]
) -> None:
    os.makedirs(out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    markdown = render_markdown(rows, context, notes)
    for name in (f"bench_offline-{stamp}", "latest"):
        write_csv(os.path.join(out, f"{name}.csv"), rows)
        with open(os.path.join(out, f"{name}.md"), "w") as stream:
            stream.write(markdown)
    _progress(
        f"Results written to {os.path.join(out, f'bench_offline-{stamp}')}.csv/.md"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker_main(sys.argv[2:])
    else:
        sys.exit(main())
