"""Benchmarks of wandb-core tables, side by side with their baselines.

Two workloads:

``encode``
    A table of ``--rows`` rows (100,000) by 10 mixed columns (ints, floats,
    strings with and without non-ASCII text, booleans, None) turned into the
    text of its ``.table.json`` media file and that text's SHA-256, by the
    compiled and by the pure twin, against ``json.dumps`` of the same rows.
    In process; both twins are imported directly, past the selector. Also
    shown: the column type checks with the column types settled (what
    ``Table(...)`` pays per cell), and the artifact's text of the table.

``profile``
    The official client's own table profile: 20 tables a step, each one
    row of 4 columns, for 10 steps, made and logged with ``run.log``.
    Each measurement runs in a fresh interpreter with its own offline
    folders, the official client and ours alternating; the figures are the
    milliseconds per step of the loop (tables made and logged) and the
    whole script's wall time (import, init, loop, finish).

Every figure is the median over ``--repeat`` repetitions; ratios say how
many times faster ours (or the compiled twin) is. Timings never fail the
script; it exits 1 only when a worker crashed.

Usage::

    python benchmarks/bench_tables.py [--repeat N] [--rows N]
        [--only encode|profile] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
COLUMNS = [
    "id",
    "score",
    "noise",
    "name",
    "flag",
    "missing",
    "count",
    "rate",
    "label",
    "x",
]
PROFILE_STEPS = 10
PROFILE_TABLES = 20
ENCODE_TARGET = 3.0
PROFILE_TARGET = 5.0
WORKER_TIMEOUT_S = 300


# ---------------------------------------------------------------------------
# encode: the twins against json.dumps
# ---------------------------------------------------------------------------


def mixed_rows(count: int, seed: int = 0) -> list[list[Any]]:
    """Rows of the 10 mixed columns, the same for every run."""
    rng = random.Random(seed)
    return [
        [
            index,
            rng.random(),
            rng.gauss(0, 100),
            f"name-{index}",
            index % 3 == 0,
            None if index % 2 else index,
            rng.randint(-(10**6), 10**6),
            round(rng.random(), 3),
            f"ünï-{index % 97}",
            float(index),
        ]
        for index in range(count)
    ]


def median_seconds(call: Callable[[], object], repeat: int) -> float:
    call()  # warm up
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def twins() -> dict[str, ModuleType]:
    found = {"pure": importlib.import_module("wandb_core._fast.table_py")}
    try:
        found["compiled"] = importlib.import_module("wandb_core._fast.table_c")
    except ImportError as error:
        print(f"(the compiled twin is not built: {error})", file=sys.stderr)
    return found


def bench_encode(rows_count: int, repeat: int) -> list[list[str]]:
    from wandb_core.data_types.table import Table

    rows = mixed_rows(rows_count)
    # The column kinds once the first rows settled the column types.
    kinds = list(Table(columns=COLUMNS, data=rows[:10])._kinds)
    baseline = median_seconds(lambda: json.dumps(rows), repeat)
    report = [["json.dumps(rows)", ms(baseline), "", ""]]

    for name, module in twins().items():
        encode = median_seconds(
            lambda m=module: m.table_file(COLUMNS, rows, len(rows), _no_convert),
            repeat,
        )
        check = median_seconds(
            lambda m=module: m.check_rows(list(kinds), rows, 0, _no_slow, {}),
            repeat,
        )
        artifact = median_seconds(
            lambda m=module: m.encode_rows(rows, len(rows), m.ARTIFACT, _no_convert),
            repeat,
        )
        report += [
            [
                f"{name} twin: media file + SHA-256",
                ms(encode),
                times(baseline / encode),
                target(baseline / encode, ENCODE_TARGET) if name == "compiled" else "",
            ],
            [
                f"{name} twin: type checks + media file",
                ms(check + encode),
                times(baseline / (check + encode)),
                "",
            ],
            [
                f"{name} twin: artifact file rows",
                ms(artifact),
                times(baseline / artifact),
                "",
            ],
        ]
    return report


def _no_convert(value: Any) -> Any:
    raise AssertionError(f"no cell of this benchmark needs converting: {value!r}")


def _no_slow(row: int, column: int, value: Any) -> int:
    raise AssertionError(f"row {row}, column {column} left the fast path: {value!r}")


# ---------------------------------------------------------------------------
# profile: 20 tables a step, the official client and ours
# ---------------------------------------------------------------------------

PROFILE_SCRIPT = """
import json, sys, time
start = time.perf_counter()
if sys.argv[1] == "wandb":
    import wandb
else:
    import wandb_core as wandb
run = wandb.init(project="bench-tables")
steps = []
for step in range({steps}):
    began = time.perf_counter()
    row = {{}}
    for k in range({tables}):
        row[f"table_{{k}}"] = wandb.Table(
            columns=["a", "b", "c", "d"], data=[[step, k * 0.5, f"s{{k}}", k % 2 == 0]]
        )
    run.log(row)
    steps.append(time.perf_counter() - began)
run.finish()
total = time.perf_counter() - start
print(json.dumps({{"step_s": sum(steps) / len(steps), "total_s": total}}))
"""


def worker_env(root: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    for name in ("WANDB_CORE_NO_EXTENSIONS", "WANDB_CORE_REQUIRE_EXTENSIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    for name, folder in {
        "WANDB_DIR": "out",
        "WANDB_CACHE_DIR": "cache",
        "WANDB_CONFIG_DIR": "config",
        "WANDB_DATA_DIR": "data",
        "WANDB_ARTIFACT_DIR": "artifacts",
    }.items():
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        env[name] = os.path.join(root, folder)
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
        WANDB_BASE_URL="http://127.0.0.1:9",
        WANDB_API_KEY="x" * 40,
        PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' interpreters cache bytecode
    return env


def profile_once(sdk: str) -> dict[str, float] | None:
    import shutil

    root = tempfile.mkdtemp(prefix="bench-tables-")
    try:
        script = os.path.join(root, "profile.py")
        with open(script, "w", encoding="utf-8") as stream:
            stream.write(
                PROFILE_SCRIPT.format(steps=PROFILE_STEPS, tables=PROFILE_TABLES)
            )
        done = subprocess.run(
            [sys.executable, script, sdk],
            cwd=root,
            env=worker_env(root),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            print(f"{sdk} worker failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            return None
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench_profile(repeat: int) -> tuple[list[list[str]], bool]:
    results: dict[str, list[dict[str, float]]] = {"wandb": [], "wandb_core": []}
    crashed = False
    for _ in range(repeat):
        for sdk in results:  # alternate, so both see the same machine noise
            measured = profile_once(sdk)
            if measured is None:
                crashed = True
            else:
                results[sdk].append(measured)
    if not all(results.values()):
        return [["profile", "a worker crashed", "", ""]], True

    def median(sdk: str, field: str) -> float:
        return statistics.median(r[field] for r in results[sdk])

    rows = []
    for field, label in (("step_s", "ms per step"), ("total_s", "whole script")):
        official, ours = median("wandb", field), median("wandb_core", field)
        rows += [
            [f"official client: {label}", ms(official), "", ""],
            [
                f"wandb-core: {label}",
                ms(ours),
                times(official / ours),
                target(official / ours, PROFILE_TARGET) if field == "step_s" else "",
            ],
        ]
    return rows, crashed


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def times(ratio: float) -> str:
    return f"{ratio:.2f}x"


def target(ratio: float, wanted: float) -> str:
    return f">= {wanted:g}x: {'met' if ratio >= wanted else 'NOT met'}"


def table_markdown(title: str, rows: list[list[str]]) -> str:
    header = ["what", "median", "faster than baseline", "target"]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=("encode", "profile"))
    parser.add_argument("--out", help="also write the report (Markdown) here")
    options = parser.parse_args(argv)

    sys.path.insert(0, REPO_ROOT)
    parts = []
    crashed = False
    if options.only in (None, "encode"):
        rows = bench_encode(options.rows, options.repeat)
        title = (
            f"encode: {options.rows:,} rows x 10 mixed columns (baseline json.dumps)"
        )
        parts.append(table_markdown(title, rows))
    if options.only in (None, "profile"):
        rows, crashed = bench_profile(options.repeat)
        title = (
            f"profile: {PROFILE_TABLES} one-row tables of 4 columns a step, "
            f"{PROFILE_STEPS} steps (baseline: the official client)"
        )
        parts.append(table_markdown(title, rows))
    report = "\n".join(parts)
    print(report)
    if options.out:
        with open(options.out, "w", encoding="utf-8") as stream:
            stream.write(report)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
