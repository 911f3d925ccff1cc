"""Histogram benchmark: the summarization twins, numpy, and the official client.

Two parts, printed as one table of medians with their ratios:

* ``twins``: counting 1,000,000 float64 and float32 values into 64 bins with
  ``numpy.histogram``, the Cython twin and the pure twin, in this process.
  Targets: the Cython twin at least 2 times faster than numpy and at least
  20 times faster than the pure twin.
* ``log``: constructing and logging a histogram of 10,000 values
  (``run.log({"h": wandb.Histogram(values)})``) against ``numpy.histogram``
  of the same values, in a fresh worker process per SDK with its own offline
  run; the official client and ours alternate. Target: ours at most 1.5
  times numpy (the official client: about 5.5 times).

Usage::

    python benchmarks/bench_histogram.py [--repeat N] [--only twins,log]

Timings never fail the script; it exits 1 only when a worker crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench_offline import median_time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
TWIN_VALUES = 1_000_000
LOG_VALUES = 10_000
BINS = 64
LOG_CALLS = 300
WARMUP_CALLS = 20
SDKS = ("wandb", "wandb_core")
WORKER_TIMEOUT_S = 300.0


# ---------------------------------------------------------------------------
# Twins, in process
# ---------------------------------------------------------------------------


def time_twins(repeat: int, count: int = TWIN_VALUES) -> list[dict[str, Any]]:
    """Median seconds of numpy, the Cython and the pure twin, per dtype."""
    import numpy as np

    sys.path.insert(0, REPO_ROOT)
    from tests.twins import compiled_twin, pure_twin

    compiled, pure = compiled_twin("histogram"), pure_twin("histogram")
    timings = []
    for dtype, fmt in (("float64", "d"), ("float32", "f")):
        values = np.random.default_rng(0).normal(size=count).astype(dtype)
        buffer = memoryview(values)
        assert compiled.summarize(buffer, fmt, BINS)[0] == (
            np.histogram(values, bins=BINS)[0].tolist()
        )
        timings.append(
            {
                "dtype": dtype,
                "numpy_s": median_time(repeat * 5, np.histogram, values, BINS),
                "cython_s": median_time(
                    repeat * 5, compiled.summarize, buffer, fmt, BINS
                ),
                "pure_s": median_time(repeat, pure.summarize, buffer, fmt, BINS),
            }
        )
    return timings


def bench_twins(repeat: int) -> list[tuple[str, str, str, str, str]]:
    """Rows ``(case, numpy, cython, pure, ratios)`` for float64 and float32."""
    rows = []
    for timing in time_twins(repeat):
        numpy_s, cython_s, pure_s = (
            timing["numpy_s"],
            timing["cython_s"],
            timing["pure_s"],
        )
        rows.append(
            (
                f"1M {timing['dtype']}, {BINS} bins",
                f"{numpy_s * 1e3:.2f} ms",
                f"{cython_s * 1e3:.2f} ms",
                f"{pure_s * 1e3:.0f} ms",
                f"numpy/cython {numpy_s / cython_s:.2f} (>= 2); "
                f"pure/cython {pure_s / cython_s:.0f} (>= 20)",
            )
        )
    return rows


# ---------------------------------------------------------------------------
# Construct and log, one worker process per measurement
# ---------------------------------------------------------------------------


def worker_main(sdk: str) -> None:
    """Time histogram construction and logging in a run of ``sdk``; print JSON."""
    import importlib

    wandb: Any = importlib.import_module(sdk)
    run = wandb.init(project="bench-histogram")
    result = time_log(wandb, run, LOG_VALUES, LOG_CALLS, WARMUP_CALLS)
    run.finish()
    print(json.dumps(result))


def time_log(
    wandb: Any, run: Any, count: int, calls: int, warmup: int
) -> dict[str, float]:
    """Median seconds of ``numpy.histogram`` and of construct+log, ``count`` values.

    Also used by ``bench_suite.py``.
    """
    import numpy as np

    values = np.random.default_rng(1).normal(size=count)
    for _ in range(warmup):
        run.log({"h": wandb.Histogram(values)})
        np.histogram(values, bins=BINS)

    numpy_times, log_times = [], []
    for _ in range(calls):
        start = time.perf_counter()
        np.histogram(values, bins=BINS)
        middle = time.perf_counter()
        run.log({"h": wandb.Histogram(values)})
        log_times.append(time.perf_counter() - middle)
        numpy_times.append(middle - start)
    return {
        "numpy_s": statistics.median(numpy_times),
        "log_s": statistics.median(log_times),
    }


def run_worker(sdk: str) -> dict[str, float]:
    """One worker in a fresh interpreter and a fresh offline ``WANDB_DIR``."""
    with tempfile.TemporaryDirectory() as root:
        env = dict(os.environ)
        for name in list(env):
            if name.startswith("WANDB_") and not name.startswith("WANDB_CORE_"):
                del env[name]
        env.update(
            WANDB_MODE="offline",
            WANDB_SILENT="true",
            WANDB_DIR=root,
            WANDB_CACHE_DIR=os.path.join(root, "cache"),
            WANDB_CONFIG_DIR=os.path.join(root, "config"),
            WANDB_DATA_DIR=os.path.join(root, "data"),
            WANDB_ARTIFACT_DIR=os.path.join(root, "artifacts"),
            WANDB_DISABLE_GIT="true",
            WANDB_DISABLE_CODE="true",
            WANDB_BASE_URL="http://127.0.0.1:9",
            WANDB_API_KEY="x" * 40,
            PYTHONPATH=REPO_ROOT,
        )
        done = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--worker", sdk],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{sdk} worker failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_log(repeat: int) -> list[tuple[str, str, str, str, str]]:
    """Rows for constructing and logging a histogram of 10,000 values."""
    results: dict[str, list[dict[str, float]]] = {sdk: [] for sdk in SDKS}
    for _ in range(repeat):
        for sdk in SDKS:
            results[sdk].append(run_worker(sdk))
    rows = []
    for sdk in SDKS:
        numpy_s = statistics.median(r["numpy_s"] for r in results[sdk])
        log_s = statistics.median(r["log_s"] for r in results[sdk])
        target = "<= 1.5" if sdk == "wandb_core" else "about 5.5"
        rows.append(
            (
                f"10k values, construct+log, {sdk}",
                f"{numpy_s * 1e6:.0f} us",
                f"{log_s * 1e6:.0f} us",
                "",
                f"log/numpy {log_s / numpy_s:.2f} ({target})",
            )
        )
    return rows


def print_table(rows: list[tuple[str, str, str, str, str]]) -> None:
    header = ("case", "numpy.histogram", "ours (cython)", "pure twin", "ratios")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="twins,log")
    parser.add_argument("--worker", choices=SDKS, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        worker_main(options.worker)
        return 0

    parts = set(options.only.split(","))
    rows = []
    try:
        if "twins" in parts:
            rows += bench_twins(options.repeat)
        if "log" in parts:
            rows += bench_log(options.repeat)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
