"""The "images" profile: the official wandb client against wandb_core, offline.

Ten processes run at once; each starts a run, logs 50 steps of ten 16x16
RGB images (``Image`` of a ``uint8`` array) and finishes. A measurement is
the whole batch of processes: wall time from the first start to the last
exit, CPU time of every process of the tree (the official client's service
and monitor processes included, reaped as a child subreaper on Linux) and
the peak of the summed RSS of all processes, sampled every 10 ms. The two
clients alternate over ``--repeat`` repetitions; the table gives medians
and the ratio ours / official (target of performance.md: at most 1/2).

Usage::

    python benchmarks/bench_images.py [--repeat N] [--processes N]
        [--steps N] [--images N] [--size N]

Timings never fail the script: it exits 1 only when a worker crashed or a
run holds the wrong number of image files.
"""

from __future__ import annotations

import os
import sys
import time

# typing is not loaded at interpreter start; mypy and ruff honour this name.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace
    from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SDKS = ("wandb", "wandb_core")
PROJECT = "bench-images"
WORKER_TIMEOUT_S = 300.0
ORPHAN_TIMEOUT_S = 20.0
TARGET_RATIO = 0.5
# Workers import this module rather than run it as a script, so it loads
# from cached bytecode instead of being compiled in every measured process.
WORKER_BOOT = (
    f"import sys; sys.path.insert(0, {HERE!r}); import bench_images; "
    "bench_images.worker_main(sys.argv[1:])"
)


# ---------------------------------------------------------------------------
# Worker: one process of the profile
# ---------------------------------------------------------------------------


def worker_main(argv: list[str]) -> None:
    """Log ``--steps`` steps of ``--images`` random images of ``--size``."""
    options = dict(zip(argv[::2], argv[1::2]))
    sdk = options["--sdk"]
    steps, images = int(options["--steps"]), int(options["--images"])
    size, seed = int(options["--size"]), int(options["--seed"])

    import numpy as np

    if sdk == "wandb":
        import wandb

        image_class: Any = wandb.Image
    else:
        import wandb_core as wandb

        image_class = getattr(wandb, "Image", None)
        if image_class is None:  # before the package exports it
            from wandb_core.data_types import image

            image_class = image.Image

    rng = np.random.default_rng(seed)
    run = wandb.init(project=PROJECT)
    for _step in range(steps):
        row = {}
        for index in range(images):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            row[f"img_{index}"] = image_class(pixels)
        run.log(row)
    run.finish()


# ---------------------------------------------------------------------------
# Parent: a batch of processes, measured as one
# ---------------------------------------------------------------------------


class Batch:
    """Wall, CPU and peak memory of one batch of worker processes."""

    def __init__(self) -> None:
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self.peak_rss = 0
        self.image_files = 0
        # The last JSON object each worker printed (None where it printed none).
        self.results: list[dict[str, Any] | None] = []
        self.error: str | None = None


def measure(sdk: str, args: Namespace) -> Batch:
    """Run ``args.processes`` workers at once in a fresh ``WANDB_DIR``."""
    commands = [
        _worker_command(sdk, args, seed=index) for index in range(args.processes)
    ]
    return run_batch(commands, prefix="bench-images-")


def run_batch(commands: list[list[str]], prefix: str = "bench-batch-") -> Batch:
    """Run ``commands`` at once in a fresh ``WANDB_DIR``, measured as one.

    Also used by ``bench_suite.py`` for its other multi-process profiles.
    """
    import resource
    import shutil
    import subprocess
    import tempfile

    import bench_artifacts
    import bench_offline

    tmp = tempfile.mkdtemp(prefix=prefix)
    env = bench_offline._worker_env(tmp)
    env["WANDB_BASE_URL"] = "http://127.0.0.1:9"
    env["WANDB_API_KEY"] = "x" * 40
    out = Batch()
    sampler = bench_offline.TreeSampler()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    paths = [os.path.join(tmp, f"worker-{i}.log") for i in range(len(commands))]
    logs = [open(path, "wb") for path in paths]

    start = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=tmp)
        for command, log in zip(commands, logs)
    ]
    sampler.start()
    deadline = start + WORKER_TIMEOUT_S
    codes = [_wait(process, deadline) for process in processes]
    out.wall_s = time.perf_counter() - start
    bench_offline._reap_orphans(ORPHAN_TIMEOUT_S)
    sampler.stop()

    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    out.peak_rss = sampler.peak_rss
    out.image_files = _count_images(tmp)
    for log in logs:
        log.close()
    out.results = [bench_artifacts._last_json(path) for path in paths]
    failed = [index for index, code in enumerate(codes) if code != 0]
    if failed:
        with open(paths[failed[0]], "rb") as stream:
            tail = stream.read().decode("utf-8", "replace")[-2000:]
        out.error = f"{len(failed)} workers failed; the first said:\n{tail}"
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def _worker_command(sdk: str, args: Namespace, seed: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        WORKER_BOOT,
        "--sdk",
        sdk,
        "--steps",
        str(args.steps),
        "--images",
        str(args.images),
        "--size",
        str(args.size),
        "--seed",
        str(seed),
    ]


def _wait(process: Any, deadline: float) -> int:
    import subprocess

    try:
        return int(process.wait(timeout=max(0.0, deadline - time.perf_counter())))
    except subprocess.TimeoutExpired:
        process.kill()
        return -9


def _count_images(root: str) -> int:
    """PNG files under the runs' ``files/media/images`` folders."""
    total = 0
    for folder, _dirs, files in os.walk(root):
        if os.sep + os.path.join("files", "media", "images") in folder:
            total += sum(name.endswith(".png") for name in files)
    return total


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def render(results: dict[str, list[Batch]], args: Namespace) -> str:
    """Medians side by side, with the ratio ours / official."""
    rows = [("wall", "s", 1.0), ("CPU", "s", 1.0), ("peak RSS", "MB", 1e-6)]
    picks = {
        "wall": lambda b: b.wall_s,
        "CPU": lambda b: b.cpu_s,
        "peak RSS": lambda b: float(b.peak_rss),
    }
    lines = [
        f"images profile: {args.processes} processes x {args.steps} steps x "
        f"{args.images} images of {args.size}x{args.size} RGB, "
        f"median of {args.repeat}",
        "",
        "| measure | official | ours | ours / official | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, unit, scale in rows:
        official = _median([picks[label](b) * scale for b in results.get("wandb", [])])
        ours = _median([picks[label](b) * scale for b in results["wandb_core"]])
        ratio = ours / official if official == official and official else float("nan")
        target = f"<= {TARGET_RATIO}" if label != "CPU" else "(reported)"
        lines.append(
            f"| {label} | {official:.2f} {unit} | {ours:.2f} {unit} | "
            f"{ratio:.3f} | {target} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> Namespace:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--size", type=int, default=16)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure both clients; 0 unless a worker failed or files are missing."""

    sys.path.insert(0, HERE)
    import bench_offline

    args = parse_args(argv)
    sdks = bench_offline.available_sdks()
    bench_offline.become_subreaper()
    expected_files = args.processes * args.steps * args.images
    results: dict[str, list[Batch]] = {sdk: [] for sdk in sdks}
    failures = []
    for repetition in range(args.repeat):
        for sdk in sdks:
            batch = measure(sdk, args)
            print(
                f"{repetition + 1}/{args.repeat} {sdk:10} wall {batch.wall_s:.2f} s "
                f"CPU {batch.cpu_s:.2f} s peak {batch.peak_rss / 1e6:.0f} MB "
                f"files {batch.image_files}",
                file=sys.stderr,
            )
            if batch.error:
                failures.append(f"{sdk}: {batch.error}")
            elif batch.image_files != expected_files:
                failures.append(
                    f"{sdk}: {batch.image_files} image files, not {expected_files}"
                )
            results[sdk].append(batch)
    print(render(results, args))
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
