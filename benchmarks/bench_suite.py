"""The whole benchmark suite, official wandb client vs wandb_core, in one table.

One command runs every profile with both clients side by side, offline,
and prints one table (written as ``suite.csv`` and ``suite.md`` under
``--out``). It reuses the other scripts of this folder: their workers,
their process-tree measurement and their twin timings.

Profiles (``--only``), each a fresh process tree with its own offline
folders, the official client and ours alternating over ``--repeat``
repetitions after one untimed empty run of each (bytecode, disk caches):

* ``empty``: import, init and finish of an empty run, the whole process
  (``bench_offline.py``). Targets: import + init + finish at most 1/10 of
  the official client's, ``import wandb_core`` under 50 ms.
* ``scalars``: 10 processes at once, each ``init``, 100 steps of
  ``run.log`` with 100 float keys ``f_i = float(step + i)``, ``finish``.
  Wall time of the whole group. Target: at most 1/3.
* ``tables``: 20 one-row tables of 4 columns a step, 10 steps, made and
  logged (``bench_tables.py``); the time is the loop's, a step. Target:
  at most 1/5.
* ``images``: 10 processes x 50 steps x ten 16x16 RGB images
  (``bench_images.py``). Wall time of the group. Target: at most 1/2.
* ``histograms``: construct + log of a ``Histogram`` of 10,000 values, a
  call, against ``numpy.histogram`` of the same values in the same process
  (``bench_histogram.py``), and of 1,000,000 values. Target: ours at most
  1.5 times numpy.
* ``artifacts``: ``Artifact`` + ``add_dir`` + ``log_artifact`` + ``finish``
  of one 256 MiB file (target at most 1/2.5) and of 2,000 files of 4 KiB
  (target at most 1/10), after an untimed ``init`` (``bench_artifacts.py``).

Every profile also gives the wall time, the CPU time and the peak memory
of all its processes: the official client's service and monitor processes
included, which this script reaps as a child subreaper (Linux), so
``getrusage(RUSAGE_CHILDREN)`` counts them. Peak memory is the peak of the
summed RSS of every descendant, sampled every 10 ms (artifacts: 50 ms).
Target: at most 1/2 of the official client's in every profile.

``micro`` times each ``_fast`` twin, compiled against pure, in process (the
records twins in a fresh worker, as ``bench_offline.py`` does), and against
the reference each script compares with: ``numpy.histogram``,
``json.dumps``, ``hashlib``. Targets: those of the scripts.

Cells give the median and, in parentheses, the min-max over the
repetitions; ratio = ours / official of the medians (micro: compiled /
baseline, medians of repeated calls). ``--quick`` is a CI smoke run: two
repetitions and smaller workloads (4 processes, fewer steps, smaller
files). Timings never fail the script: it exits 1 only when a worker
crashed or wrote the wrong number of files.

Usage::

    python benchmarks/bench_suite.py [--quick] [--only PROFILE[,PROFILE]]
        [--repeat N] [--out DIR]
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

    from bench_offline import Row

    Pick = Callable[[Any], float]
    ByClient = dict[str, list[Any]]

PROFILES = ("empty", "scalars", "tables", "images", "histograms", "artifacts")
SECTIONS = (*PROFILES, "micro")
SDKS = ("wandb", "wandb_core")
PROJECT = "bench-suite"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(HERE, "results")
MIB = 1024 * 1024
HEADER = ["profile", "measure", "official", "ours", "ratio", "target", "met"]
MICRO_HEADER = ["twin", "measure", "baseline", "compiled", "ratio", "target", "met"]
# Workers import this module rather than run it as a script, so it loads from
# cached bytecode instead of being compiled in every measured process.
WORKER_BOOT = (
    f"import sys; sys.path.insert(0, {HERE!r}); import bench_suite; "
    "bench_suite.worker_main(sys.argv[1:])"
)


class Sizes:
    """The workloads' sizes: the profiles of the brief, or a quick smoke run."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.processes = 4 if quick else 10
        self.scalar_steps = 50 if quick else 100
        self.scalar_keys = 100
        self.image_steps = 10 if quick else 50
        self.images = 10
        self.image_size = 16
        self.table_steps = 10
        self.tables = 20
        # (values, timed calls, warm-up calls) of the histogram worker.
        self.histograms = (
            ((10_000, 100, 10), (1_000_000, 5, 1))
            if quick
            else ((10_000, 300, 20), (1_000_000, 20, 2))
        )
        self.record_iterations, self.record_batches = (300, 3) if quick else (2_000, 7)
        self.twin_values = 100_000 if quick else 1_000_000
        self.table_rows = 10_000 if quick else 100_000
        self.micro_repeat = 1 if quick else 3
        # Digests: one big file; small files plus one mixed-in bigger file.
        self.digest_big = (32 if quick else 256) * MIB
        self.digest_mixed_big = (16 if quick else 256) * MIB
        self.digest_small = 1_000 if quick else 10_000

    def describe(self) -> str:
        return (
            f"scalars {self.processes} x {self.scalar_steps} steps x "
            f"{self.scalar_keys} floats; images {self.processes} x "
            f"{self.image_steps} steps x {self.images} of "
            f"{self.image_size}x{self.image_size}"
        )


# ---------------------------------------------------------------------------
# Worker mode: one process of a profile
# ---------------------------------------------------------------------------


def worker_main(argv: list[str]) -> None:
    """Run one process of the ``scalars`` or ``histograms`` profile.

    Prints its figures as one JSON object on stdout.
    """
    import json

    name = argv[0]
    options = dict(zip(argv[1::2], argv[2::2]))
    sdk: Any = __import__(options["--sdk"])
    if name == "scalars":
        import bench_offline

        run = sdk.init(project=PROJECT)
        keys = [f"f_{i}" for i in range(int(options["--keys"]))]
        durations = bench_offline._log_loop(run.log, keys, int(options["--steps"]))
        run.finish()
        durations.sort()
        result: dict[str, Any] = {
            "log_median_s": bench_offline._percentile(durations, 0.5) / 1e9
        }
    elif name == "histograms":
        import bench_histogram

        run = sdk.init(project=PROJECT)
        result = {}
        for spec in options["--sizes"].split(","):
            count, calls, warmup = (int(part) for part in spec.split(":"))
            result[str(count)] = bench_histogram.time_log(
                sdk, run, count, calls, warmup
            )
        run.finish()
    else:
        msg = f"Unknown worker {name!r}; expected scalars or histograms."
        raise SystemExit(msg)
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------
# Parent: the profiles
# ---------------------------------------------------------------------------


class SuiteRow:
    """A line of a table: its profile, a bench_offline ``Row`` and its spread."""

    def __init__(
        self, profile: str, row: Row, baseline: str = "wandb", ours: str = "wandb_core"
    ) -> None:
        self.profile = profile
        self.row = row
        self.baseline = baseline
        self.ours = ours

    def cells(self, profile: str) -> list[str]:
        from bench_offline import _format_ratio

        row = self.row
        return [
            profile,
            row.label,
            _cell(row.official, row.official_values, row.unit),
            _cell(row.ours, row.ours_values, row.unit),
            _format_ratio(row.ratio),
            row.target,
            row.met,
        ]


def _cell(median: float | None, values: list[float], unit: str) -> str:
    from bench_offline import _format_value

    text = _format_value(median, unit)
    if len(values) > 1:
        low, high = (_format_value(v, "").strip() for v in (min(values), max(values)))
        text += f" ({low}–{high})"
    return text


def make_row(
    profile: str,
    label: str,
    unit: str,
    values: tuple[list[float], list[float]],
    target: str = "(reported)",
    max_ratio: float | None = None,
    ours_at_most: float | None = None,
    ours_below: float | None = None,
) -> SuiteRow:
    """A row of both clients' values; the target on the ratio or on ours."""
    from bench_offline import Row, _met

    row = Row(label, unit, *values, target=target, max_ratio=max_ratio)
    if ours_at_most is not None:
        row.met = _met(row.ours, lambda ours: ours <= ours_at_most)
    if ours_below is not None:
        row.met = _met(row.ours, lambda ours: ours < ours_below)
    return SuiteRow(profile, row)


def pair(results: ByClient, pick: Pick) -> tuple[list[float], list[float]]:
    """Both clients' values of ``pick``, official first."""
    return (
        [pick(m) for m in results.get("wandb", [])],
        [pick(m) for m in results.get("wandb_core", [])],
    )


def alternate(
    name: str,
    sdks: tuple[str, ...],
    repeat: int,
    run_one: Callable[[str], Any],
    failures: list[str],
) -> ByClient:
    """Each repetition measures the profile with each client in turn."""
    results: ByClient = {sdk: [] for sdk in sdks}
    for rep in range(1, repeat + 1):
        for sdk in sdks:
            measurement = run_one(sdk)
            if measurement.error:
                status = "FAILED"
                failures.append(f"{name} with {sdk}: {measurement.error}")
            else:
                status = (
                    f"wall {measurement.wall_s:.2f} s, CPU {measurement.cpu_s:.2f} s, "
                    f"peak {measurement.peak_rss / 1e6:.0f} MB"
                )
                results[sdk].append(measurement)
            _progress(f"[{rep}/{repeat}] {name:<10} {sdk:<10} {status}")
    return results


def batch(commands: list[list[str]], prefix: str, expected_images: int = 0) -> Any:
    """``bench_images.run_batch``, an error where a worker's result is missing."""
    import bench_images

    measured = bench_images.run_batch(commands, prefix=prefix)
    if measured.error:
        return measured
    if expected_images and measured.image_files != expected_images:
        measured.error = f"{measured.image_files} image files, not {expected_images}"
    elif not expected_images and None in measured.results:
        measured.error = "a worker printed no result"
    return measured


def common_rows(
    profile: str, results: ByClient, scale: float = 1.0, unit: str = "s"
) -> list[SuiteRow]:
    """CPU and peak memory of all processes, the rows every profile ends with."""
    return [
        make_row(
            profile,
            "CPU, all processes",
            unit,
            pair(results, lambda m: m.cpu_s * scale),
        ),
        make_row(
            profile,
            "peak memory, all processes (RSS)",
            "MB",
            pair(results, lambda m: m.peak_rss / 1e6),
            target="<= 1/2",
            max_ratio=1 / 2,
        ),
    ]


def profile_empty(
    sizes: Sizes, sdks: tuple[str, ...], repeat: int, failures: list[str]
) -> list[SuiteRow]:
    import bench_offline

    def run_one(sdk: str) -> Any:
        return bench_offline.measure("empty", sdk, [], sample=True)

    results = alternate("empty", sdks, repeat, run_one, failures)

    def phases(*names: str) -> Pick:
        return lambda m: sum(float(m.result[name]) for name in names) * 1e3

    limit_ms = bench_offline.IMPORT_LIMIT_S * 1e3
    return [
        make_row(
            "empty",
            "import (in process)",
            "ms",
            pair(results, phases("import_s")),
            target=f"ours < {limit_ms:.0f} ms",
            ours_below=limit_ms,
        ),
        make_row(
            "empty",
            "import + init + finish (in process)",
            "ms",
            pair(results, phases("import_s", "init_s", "finish_s")),
            target="<= 1/10",
            max_ratio=1 / 10,
        ),
        make_row(
            "empty",
            "wall, whole process",
            "ms",
            pair(results, lambda m: m.wall_s * 1e3),
        ),
        *common_rows("empty", results, scale=1e3, unit="ms"),
    ]


def profile_scalars(
    sizes: Sizes, sdks: tuple[str, ...], repeat: int, failures: list[str]
) -> list[SuiteRow]:
    import statistics

    def run_one(sdk: str) -> Any:
        command = [sys.executable, "-c", WORKER_BOOT, "scalars", "--sdk", sdk]
        command += ["--steps", str(sizes.scalar_steps)]
        command += ["--keys", str(sizes.scalar_keys)]
        return batch([command] * sizes.processes, "bench-suite-scalars-")

    results = alternate("scalars", sdks, repeat, run_one, failures)

    def log_us(m: Any) -> float:
        return statistics.median(r["log_median_s"] for r in m.results) * 1e6

    return [
        make_row(
            "scalars",
            f"wall, {sizes.processes} processes x {sizes.scalar_steps} steps x "
            f"{sizes.scalar_keys} floats",
            "s",
            pair(results, lambda m: m.wall_s),
            target="<= 1/3",
            max_ratio=1 / 3,
        ),
        *common_rows("scalars", results),
        make_row("scalars", "log, median a call", "µs", pair(results, log_us)),
    ]


def profile_tables(
    sizes: Sizes, sdks: tuple[str, ...], repeat: int, failures: list[str]
) -> list[SuiteRow]:
    import bench_tables

    script = bench_tables.PROFILE_SCRIPT.format(
        steps=sizes.table_steps, tables=sizes.tables
    )

    def run_one(sdk: str) -> Any:
        return batch([[sys.executable, "-c", script, sdk]], "bench-suite-tables-")

    results = alternate("tables", sdks, repeat, run_one, failures)
    return [
        make_row(
            "tables",
            f"{sizes.tables} one-row tables of 4 columns, a step "
            f"({sizes.table_steps} steps)",
            "ms",
            pair(results, lambda m: m.results[0]["step_s"] * 1e3),
            target="<= 1/5",
            max_ratio=1 / 5,
        ),
        make_row(
            "tables",
            "wall, whole process",
            "ms",
            pair(results, lambda m: m.wall_s * 1e3),
        ),
        *common_rows("tables", results, scale=1e3, unit="ms"),
    ]


def profile_images(
    sizes: Sizes, sdks: tuple[str, ...], repeat: int, failures: list[str]
) -> list[SuiteRow]:
    from argparse import Namespace

    import bench_images

    args = Namespace(
        steps=sizes.image_steps, images=sizes.images, size=sizes.image_size
    )
    expected = sizes.processes * sizes.image_steps * sizes.images

    def run_one(sdk: str) -> Any:
        commands = [
            bench_images._worker_command(sdk, args, seed=index)
            for index in range(sizes.processes)
        ]
        return batch(commands, "bench-suite-images-", expected_images=expected)

    results = alternate("images", sdks, repeat, run_one, failures)
    return [
        make_row(
            "images",
            f"wall, {sizes.processes} processes x {sizes.image_steps} steps x "
            f"{sizes.images} images {sizes.image_size}x{sizes.image_size}",
            "s",
            pair(results, lambda m: m.wall_s),
            target="<= 1/2",
            max_ratio=1 / 2,
        ),
        *common_rows("images", results),
    ]


def profile_histograms(
    sizes: Sizes, sdks: tuple[str, ...], repeat: int, failures: list[str]
) -> list[SuiteRow]:
    specs = ",".join(":".join(str(n) for n in spec) for spec in sizes.histograms)

    def run_one(sdk: str) -> Any:
        command = [sys.executable, "-c", WORKER_BOOT, "histograms", "--sdk", sdk]
        return batch([command + ["--sizes", specs]], "bench-suite-histograms-")

    results = alternate("histograms", sdks, repeat, run_one, failures)

    def field(count: int, name: str, scale: float) -> Pick:
        return lambda m: m.results[0][str(count)][name] * scale

    def over_numpy(count: int) -> Pick:
        return lambda m: (
            m.results[0][str(count)]["log_s"] / m.results[0][str(count)]["numpy_s"]
        )

    rows = []
    for (count, calls, _warmup), (unit, scale) in zip(
        sizes.histograms, (("µs", 1e6), ("ms", 1e3))
    ):
        targeted = count == sizes.histograms[0][0]  # the 10,000 values
        rows.append(
            make_row(
                "histograms",
                f"construct + log, {count:,} values, a call (median of {calls})",
                unit,
                pair(results, field(count, "log_s", scale)),
            )
        )
        rows.append(
            make_row(
                "histograms",
                f"numpy.histogram, {count:,} values, same process",
                unit,
                pair(results, field(count, "numpy_s", scale)),
            )
        )
        rows.append(
            make_row(
                "histograms",
                f"construct + log / numpy.histogram, {count:,} values",
                "x",
                pair(results, over_numpy(count)),
                target="ours <= 1.5" if targeted else "(reported)",
                ours_at_most=1.5 if targeted else None,
            )
        )
    rows.append(
        make_row(
            "histograms",
            "wall, whole process",
            "s",
            pair(results, lambda m: m.wall_s),
        )
    )
    return rows + common_rows("histograms", results)


def profile_artifacts(
    sizes: Sizes, sdks: tuple[str, ...], repeat: int, failures: list[str]
) -> list[SuiteRow]:
    import shutil
    import tempfile

    import bench_artifacts

    workloads = [
        w for w in bench_artifacts.plan_workloads(sizes.quick) if w.name != "many"
    ]
    root = tempfile.mkdtemp(prefix="bench-suite-artifacts-")
    try:
        bench_artifacts.write_files(root, workloads)
        bench_artifacts._settle()
        results = bench_artifacts.run_all(workloads, sdks, repeat, None, failures)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = []
    for w in workloads:
        by_sdk = results.get(w.name, {})
        rows.append(
            make_row(
                "artifacts",
                f"{w.name}: {w.describe()}, log + finish",
                "ms",
                pair(by_sdk, lambda m: float(m.result["elapsed_s"]) * 1e3),
                target=w.target,
                max_ratio=w.max_ratio,
            )
        )
        rows.append(
            make_row(
                "artifacts",
                f"{w.name}, wall, whole process",
                "ms",
                pair(by_sdk, lambda m: m.wall_s * 1e3),
            )
        )
        for row in common_rows("artifacts", by_sdk, scale=1e3, unit="ms"):
            row.row.label = f"{w.name}, {row.row.label}"
            rows.append(row)
    return rows


PROFILE_FUNCTIONS = {
    "empty": profile_empty,
    "scalars": profile_scalars,
    "tables": profile_tables,
    "images": profile_images,
    "histograms": profile_histograms,
    "artifacts": profile_artifacts,
}


# ---------------------------------------------------------------------------
# Micro-benchmarks: the _fast twins, compiled against pure
# ---------------------------------------------------------------------------


def micro_row(
    twin: str,
    label: str,
    unit: str,
    baseline: tuple[str, float | None],
    compiled: float | None,
    target: str = "(reported)",
    max_ratio: float | None = None,
) -> SuiteRow:
    from bench_offline import Row

    name, value = baseline
    row = Row(
        f"{label}: {name} -> compiled",
        unit,
        [] if value is None else [value],
        [] if compiled is None else [compiled],
        target=target,
        max_ratio=max_ratio,
    )
    return SuiteRow(twin, row, baseline=name, ours="compiled")


def micro_records(
    sizes: Sizes, failures: list[str], notes: list[str]
) -> list[SuiteRow]:
    import bench_offline

    args = ["--iterations", str(sizes.record_iterations)]
    args += ["--batches", str(sizes.record_batches)]
    measured = bench_offline.measure("twins", "wandb_core", args, sample=False)
    if measured.error:
        failures.append(f"records twins: {measured.error}")
        return []
    result = measured.result
    if "cython_missing" in result:
        notes.append(f"records: compiled twin missing: {result['cython_missing']}")
    rows = []
    for keys in bench_offline.TWIN_KEYS:
        if not result.get(f"same_bytes_{keys}", True):
            notes.append(f"records, {keys} floats: THE TWINS' BYTES DIFFER")
        pure = result.get(f"python_{keys}_s")
        compiled = result.get(f"cython_{keys}_s")
        rows.append(
            micro_row(
                "records",
                f"flatten + encode + frame a row of {keys} floats",
                "µs",
                ("pure", None if pure is None else pure * 1e6),
                None if compiled is None else compiled * 1e6,
                target="<= 1/3",
                max_ratio=1 / 3,
            )
        )
    return rows


def micro_histogram(sizes: Sizes) -> list[SuiteRow]:
    import bench_histogram

    rows = []
    for timing in bench_histogram.time_twins(sizes.micro_repeat, sizes.twin_values):
        label = (
            f"summarize {sizes.twin_values:,} {timing['dtype']}, "
            f"{bench_histogram.BINS} bins"
        )
        compiled = timing["cython_s"] * 1e3
        rows.append(
            micro_row(
                "histogram",
                label,
                "ms",
                ("pure", timing["pure_s"] * 1e3),
                compiled,
                target="<= 1/20",
                max_ratio=1 / 20,
            )
        )
        rows.append(
            micro_row(
                "histogram",
                label,
                "ms",
                ("numpy.histogram", timing["numpy_s"] * 1e3),
                compiled,
                target="<= 1/2",
                max_ratio=1 / 2,
            )
        )
    return rows


def micro_table(sizes: Sizes) -> list[SuiteRow]:
    import json

    import bench_tables

    rows_data = bench_tables.mixed_rows(sizes.table_rows)
    columns = bench_tables.COLUMNS
    timings = {
        name: bench_tables.median_seconds(
            lambda m=module: m.table_file(
                columns, rows_data, len(rows_data), bench_tables._no_convert
            ),
            sizes.micro_repeat,
        )
        * 1e3
        for name, module in bench_tables.twins().items()
    }
    reference = (
        bench_tables.median_seconds(lambda: json.dumps(rows_data), sizes.micro_repeat)
        * 1e3
    )
    label = f"media file + SHA-256, {sizes.table_rows:,} rows x 10 columns"
    compiled = timings.get("compiled")
    return [
        micro_row("table", label, "ms", ("pure", timings["pure"]), compiled),
        micro_row(
            "table",
            label,
            "ms",
            ("json.dumps", reference),
            compiled,
            target="<= 1/3",
            max_ratio=1 / 3,
        ),
    ]


def micro_digest(sizes: Sizes) -> list[SuiteRow]:
    import shutil
    import tempfile

    import bench_digests

    from tests.twins import compiled_twin, pure_twin

    compiled, pure = compiled_twin("digest"), pure_twin("digest")
    folder = tempfile.mkdtemp(prefix="bench-suite-digests-")
    try:
        big, mixed, small = bench_digests.write_files(
            folder, sizes.digest_big, sizes.digest_mixed_big, sizes.digest_small
        )
        timings = bench_digests.run(
            sizes.micro_repeat, compiled, pure, big, mixed, small
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    small_kib = bench_digests.SMALL_FILE_SIZE // 1024
    labels = {
        "big": f"MD5 of one {sizes.digest_big // MIB} MiB file",
        "mixed": f"hash_files, {sizes.digest_small:,} x {small_kib} KiB + "
        f"{sizes.digest_mixed_big // MIB} MiB",
        "small": f"hash_files, {sizes.digest_small:,} x {small_kib} KiB",
    }
    references = {
        "big": ("hashlib.md5 in memory", "<= 1/0.9", 1 / 0.9),
        "mixed": ("hashlib loop", "<= 1/1.6", 1 / 1.6),
        "small": ("hashlib loop", "(reported)", None),
    }
    rows = []
    for name, reference_s, compiled_s, pure_s, _target in timings:
        rows.append(
            micro_row(
                "digest",
                labels[name],
                "ms",
                ("pure", pure_s * 1e3),
                compiled_s * 1e3,
                target="< 1",
                max_ratio=1.0,
            )
        )
        reference, target, max_ratio = references[name]
        rows.append(
            micro_row(
                "digest",
                labels[name],
                "ms",
                (reference, reference_s * 1e3),
                compiled_s * 1e3,
                target=target,
                max_ratio=max_ratio,
            )
        )
    return rows


def run_micro(sizes: Sizes, failures: list[str], notes: list[str]) -> list[SuiteRow]:
    """Every twin's rows; a crash of one is a failure, the others still run."""
    sys.path.insert(0, REPO_ROOT)
    rows = micro_records(sizes, failures, notes)
    for name, function in (
        ("histogram", micro_histogram),
        ("table", micro_table),
        ("digest", micro_digest),
    ):
        started = time.perf_counter()
        try:
            rows += function(sizes)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # pytest's skip of a missing twin, too
            failures.append(f"{name} twins: {type(error).__name__}: {error}")
        _progress(f"micro      {name:<10} {time.perf_counter() - started:.2f} s")
    return rows


# ---------------------------------------------------------------------------
# The table and the files
# ---------------------------------------------------------------------------


def render_text(header: list[str], rows: list[SuiteRow]) -> str:
    table = [header] + _grouped_cells(rows)
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for number, line in enumerate(table):
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _grouped_cells(rows: list[SuiteRow]) -> list[list[str]]:
    """Cells of each row, the profile named on the first row of its group."""
    out = []
    previous = None
    for row in rows:
        out.append(row.cells("" if row.profile == previous else row.profile))
        previous = row.profile
    return out


def _markdown_table(header: list[str], rows: list[SuiteRow]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(cells) + " |" for cells in _grouped_cells(rows)]


def render_markdown(
    rows: list[SuiteRow], micro: list[SuiteRow], context: list[str], notes: list[str]
) -> str:
    lines = ["# Benchmark suite: official wandb client vs wandb_core", ""]
    lines += [f"- {line}" for line in context]
    if rows:
        lines += ["", "## Profiles", ""] + _markdown_table(HEADER, rows)
    if micro:
        lines += ["", "## Micro-benchmarks: the _fast twins", ""]
        lines += _markdown_table(MICRO_HEADER, micro)
    if notes:
        lines += [""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write_csv(path: str, sections: list[tuple[str, list[SuiteRow]]]) -> None:
    import csv

    from bench_offline import _number

    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            [
                "section",
                "profile",
                "measure",
                "unit",
                "baseline",
                "baseline_median",
                "baseline_min",
                "baseline_max",
                "ours",
                "ours_median",
                "ours_min",
                "ours_max",
                "ratio",
                "target",
                "met",
                "baseline_values",
                "ours_values",
            ]
        )
        for section, rows in sections:
            for suite_row in rows:
                row = suite_row.row
                writer.writerow(
                    [
                        section,
                        suite_row.profile,
                        row.label,
                        row.unit,
                        suite_row.baseline,
                        _number(row.official),
                        *_bounds(row.official_values),
                        suite_row.ours,
                        _number(row.ours),
                        *_bounds(row.ours_values),
                        _number(row.ratio),
                        row.target,
                        row.met,
                        ";".join(_number(v) for v in row.official_values),
                        ";".join(_number(v) for v in row.ours_values),
                    ]
                )


def _bounds(values: list[float]) -> list[str]:
    from bench_offline import _number

    return [_number(min(values)), _number(max(values))] if values else ["", ""]


def describe_context(args: Namespace, sdks: tuple[str, ...]) -> list[str]:
    import platform
    from importlib import metadata

    versions = []
    for distribution in ("wandb", "wandb-core-py"):
        try:
            versions.append(f"{distribution} {metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{distribution} not installed")
    mode = "quick (CI smoke)" if args.quick else "full"
    return [
        time.strftime("%Y-%m-%d %H:%M:%S"),
        f"Python {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        ", ".join(versions),
        f"{mode}: {args.repeat} repetitions, clients: {', '.join(sdks)}; "
        f"{args.sizes.describe()}",
        "cells: median (min–max) over the repetitions; ratio = ours / official "
        "of the medians (micro: compiled / baseline, medians of repeated calls)",
        "memory: peak of the summed RSS of all the profile's processes (the "
        "official client's service processes included)",
    ]


def build_notes(sdks: tuple[str, ...], subreaper: bool) -> list[str]:
    notes = []
    if "wandb" not in sdks:
        notes.append("the official client is not installed: ours only")
    if not subreaper:
        notes.append("no subreaper: CPU and memory count only the reaped tree")
    fast = sys.modules.get("wandb_core._fast")
    if fast is not None:
        notes.append(f"wandb_core _fast twins in use: {fast.implementation}")
    return notes


def parse_args(argv: list[str] | None) -> Namespace:
    import argparse

    import bench_offline  # main() put this folder on sys.path

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (CI), a few minutes"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="PROFILE",
        help="run only these, repeatable or comma-separated: " + ", ".join(SECTIONS),
    )
    parser.add_argument("--repeat", type=int, help="repetitions (default 5, quick 2)")
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help="folder for suite.csv and suite.md"
    )
    args = parser.parse_args(argv)
    args.only = bench_offline.selected_names(parser, args.only, SECTIONS, "profile")
    args.repeat = args.repeat or (2 if args.quick else 5)
    args.sizes = Sizes(args.quick)
    return args


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; 0 when every worker ran, 1 when one crashed."""

    started = time.perf_counter()
    sys.path.insert(0, HERE)
    import bench_offline

    args = parse_args(argv)
    sdks = bench_offline.available_sdks()
    subreaper = bench_offline.become_subreaper()
    failures: list[str] = []
    notes: list[str] = []
    rows: list[SuiteRow] = []
    profiles = [name for name in PROFILES if name in args.only]
    for sdk in sdks if profiles else ():  # untimed warm-up: disk caches, bytecode
        bench_offline.measure("empty", sdk, [], sample=False)
    for name in profiles:
        rows += PROFILE_FUNCTIONS[name](args.sizes, sdks, args.repeat, failures)
    micro = run_micro(args.sizes, failures, notes) if "micro" in args.only else []

    notes = build_notes(sdks, subreaper) + notes
    notes.append(f"the suite took {time.perf_counter() - started:.0f} s")
    context = describe_context(args, sdks)
    print("\n".join(context))
    if rows:
        print()
        print(render_text(HEADER, rows))
    if micro:
        print()
        print(render_text(MICRO_HEADER, micro))
    print()
    print("\n".join(notes))
    os.makedirs(args.out, exist_ok=True)
    write_csv(
        os.path.join(args.out, "suite.csv"), [("profile", rows), ("micro", micro)]
    )
    markdown = os.path.join(args.out, "suite.md")
    with open(markdown, "w") as stream:
        stream.write(render_markdown(rows, micro, context, notes))
    _progress(f"Results written to {os.path.join(args.out, 'suite')}.csv/.md")
    for failure in failures:
        _progress(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
