"""``wandb-core show`` and ``wandb-core runs``, and the column-wise reader.

One script logs known values (a series 0..7, NaN and infinities, a
histogram with known counts, a table file, an image file) once with our
SDK and once with the official client, each in a child process; the tests
read what ``show`` prints about both, as text and as JSON. Crashes are
made by cutting the logs short at several points; a run whose ``files/``
folder is gone, failed runs and broken paths cover the rest.

``read_run_columns`` (the reader behind both commands) is checked against
``read_run`` on logs of random rows, written with every item layout a
protobuf writer may use, so that its fast path never reads anything
``read_run`` would not.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.runutil import offline_env, run_script
from wandb_core import cli
from wandb_core._fast import Framer, encode_varint
from wandb_core._fast._wire import FILE_HEADER
from wandb_core._paths import set_nested
from wandb_core.backend import reader

CHILD_TIMEOUT_S = 120

# The same body runs with either SDK (the import line is prepended).
SCRIPT = """
import json
import os

run = wandb.init(
    project="cli-proj",
    name="cli-run",
    config={"lr": 0.5, "arch": {"depth": 3, "act": "relu"}},
)
for i in range(8):
    run.log({"loss": float(i), "acc": {"train": i / 10}})
for value in (float("nan"), 1.0, float("inf"), 2.0, float("-inf"), 3.0):
    run.log({"bad": value})
run.log({"h": {"_type": "histogram", "values": [1, 2, 4], "bins": [0, 1, 2, 3]}})
table_dir = os.path.join(run.dir, "media", "table")
os.makedirs(table_dir, exist_ok=True)
rows = [[1, "cat", 0.25], [2, "dog", 0.5], [3, "bird", 0.75], [4, "fish", 1.0]]
with open(os.path.join(table_dir, "preds_15_abc.table.json"), "w") as handle:
    json.dump({"columns": ["id", "label", "score"], "data": rows}, handle)
run.log({"preds": {
    "_type": "table-file",
    "path": "media/table/preds_15_abc.table.json",
    "nrows": 4,
    "ncols": 3,
}})
image_dir = os.path.join(run.dir, "media", "images")
os.makedirs(image_dir, exist_ok=True)
with open(os.path.join(image_dir, "sample_16_def.png"), "wb") as handle:
    handle.write(b"\\x89PNG" + bytes(96))
run.log({"sample": {
    "_type": "image-file",
    "path": "media/images/sample_16_def.png",
    "width": 4,
    "height": 2,
    "format": "png",
    "size": 100,
}})
run.log({"phase": "done"})
run.summary["note"] = "hand-set"
run.finish()
"""
ROWS = 18  # 8 + 6 + histogram + table + image + phase
FAILED_SCRIPT = """
run = wandb.init(project="cli-proj", name="failing")
run.log({"x": 1})
run.finish(exit_code=3)
"""
EXPECTED_METRICS = {
    # name: (count, last, min, max, nan, inf, -inf)
    "acc.train": (8, 0.7, 0.0, 0.7, 0, 0, 0),
    "bad": (6, 3, 1.0, 3.0, 1, 1, 1),
    "loss": (8, 7, 0.0, 7.0, 0, 0, 0),
}
TABLE_ROWS = [[1, "cat", 0.25], [2, "dog", 0.5], [3, "bird", 0.75], [4, "fish", 1.0]]
LOG_SUFFIX = ".wandb"


# ---------------------------------------------------------------------------
# Runs made by both SDKs
# ---------------------------------------------------------------------------


def _run_official(root: Path, body: str) -> Path:
    """Run ``body`` with the official client, offline under ``root``."""
    folders = {}
    for name in ("cache", "config", "data", "artifacts"):
        (root / name).mkdir(parents=True, exist_ok=True)
        folders[f"WANDB_{name.upper()}_DIR"] = str(root / name)
    env = offline_env(
        root,
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
        # Anything that still tries the network fails at once, locally.
        WANDB_BASE_URL="http://127.0.0.1:9",
        WANDB_API_KEY="x" * 40,
        **folders,
    )
    script = root / "script.py"
    script.write_text("import wandb\n" + textwrap.dedent(body), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return _only_run(root)


def _run_ours(root: Path, body: str) -> Path:
    done = run_script(root, body, timeout=CHILD_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return _only_run(root)


def _only_run(root: Path) -> Path:
    found = sorted((root / "wandb").glob("offline-run-*"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def our_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of ``SCRIPT`` logged with wandb-core."""
    return _run_ours(tmp_path_factory.mktemp("ours"), SCRIPT)


@pytest.fixture(scope="module")
def official_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of ``SCRIPT`` logged with the official client."""
    return _run_official(tmp_path_factory.mktemp("official"), SCRIPT)


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wandb-core run finished with exit code 3."""
    return _run_ours(tmp_path_factory.mktemp("failed"), FAILED_SCRIPT)


@pytest.fixture(params=["ours", "official"])
def any_run(request: pytest.FixtureRequest) -> Path:
    """Each SDK's run of ``SCRIPT`` in turn."""
    fixture = "our_run" if request.param == "ours" else "official_run"
    run_dir: Path = request.getfixturevalue(fixture)
    return run_dir


def _copy_run(source: Path, target: Path) -> None:
    # Links stay links: the official client links its core's log file.
    shutil.copytree(source, target, symlinks=True)


def _log_of(run_dir: Path) -> Path:
    logs = sorted(run_dir.glob("*" + LOG_SUFFIX))
    assert len(logs) == 1, logs
    return logs[0]


# ---------------------------------------------------------------------------
# Calling the command
# ---------------------------------------------------------------------------


def _call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _show_text(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    width: int = 100,
) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(width))
    status, out, err = _call(capsys, "show", *argv)
    assert status == 0, err
    return out.splitlines()


def _show_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    status, out, err = _call(capsys, "show", "--json", *argv)
    assert status == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def _line_starting(lines: list[str], prefix: str) -> str:
    found = [line for line in lines if line.startswith(prefix)]
    assert len(found) == 1, (prefix, lines)
    return found[0]


def _identity(lines: list[str]) -> dict[str, str]:
    """The label/value lines under the run folder's name."""
    end = lines.index("")
    return {line.split()[0]: line.split(None, 1)[1] for line in lines[1:end]}


def _section(lines: list[str], title: str) -> list[str]:
    """The lines after the line that starts with ``title``, to a blank."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    return lines[start + 1 : end]


# ---------------------------------------------------------------------------
# Sparklines, statistics, bars and tables
# ---------------------------------------------------------------------------


def test_sparkline_of_a_rising_series_climbs_every_level() -> None:
    assert cli.sparkline([0, 1, 2, 3, 4, 5, 6, 7], 60) == "▁▂▃▄▅▆▇█"
    assert cli.sparkline([7, 6, 5, 4, 3, 2, 1, 0], 60) == "█▇▆▅▄▃▂▁"
    assert cli.sparkline([0, 1, 2, 3, 4, 5, 6, 7], 60, cli.ASCII_GLYPHS) == "_.-:=+*#"


def test_sparkline_marks_nan_and_infinities_apart_from_the_levels() -> None:
    values = [math.nan, 1.0, math.inf, 2.0, -math.inf, 3.0]

    # 1 is the lowest finite value, 3 the highest, 2 lies at 3.5 of 7 levels.
    assert cli.sparkline(values, 60) == "×▁↑▅↓█"
    assert cli.sparkline(values, 60, cli.ASCII_GLYPHS) == "?_^=v#"
    assert cli.sparkline([5.0, 5.0, 5.0], 60) == "▁▁▁"
    assert cli.sparkline([], 60) == ""


def test_long_series_resample_to_bucket_means_and_keep_a_nan_visible() -> None:
    values = [float(i) for i in range(100)]
    assert cli.resample(values, 10) == [4.5 + 10 * i for i in range(10)]
    assert cli.sparkline(values, 10) == "▁▂▃▃▄▅▆▆▇█"
    values[55] = math.nan
    line = cli.sparkline(values, 10)
    assert len(line) == 10 and line[5] == "×" and line[:5] == "▁▂▃▃▄"


def test_series_stats_count_non_finite_values_and_range_over_the_rest() -> None:
    stats = cli.series_stats([math.nan, 1.0, math.inf, -2.5, -math.inf, math.nan])
    assert stats == cli.SeriesStats(6, -2.5, 1.0, nan=2, pos_inf=1, neg_inf=1)
    assert cli.series_stats([3.0, -1.0]) == cli.SeriesStats(2, -1.0, 3.0)
    assert cli.series_stats([math.nan]) == cli.SeriesStats(1, None, None, nan=1)


def test_histogram_bars_are_proportional_to_known_counts() -> None:
    rows = cli.histogram_rows([1, 2, 4], [0, 1, 2, 3])
    assert rows == [(0, 1, 1), (1, 2, 2), (2, 3, 4)]
    assert [len(bar) for bar in cli.histogram_bars(rows, 40, "█")] == [10, 20, 40]
    # A count too small for one character still shows; zero shows nothing.
    tiny = cli.histogram_bars([(0, 1, 1), (1, 2, 0), (2, 3, 1000)], 40, "#")
    assert tiny == ["#", "", "#" * 40]


def test_many_bins_merge_into_a_few_rows_that_keep_every_count() -> None:
    counts = list(range(64))
    bins = [i / 2 for i in range(65)]

    rows = cli.histogram_rows(counts, bins)

    assert len(rows) == 11  # 64 bins in groups of 6
    assert rows[0] == (0.0, 3.0, 0 + 1 + 2 + 3 + 4 + 5)
    assert rows[-1] == (30.0, 32.0, 60 + 61 + 62 + 63)
    assert sum(count for _lo, _hi, count in rows) == sum(counts)


def test_table_lines_align_cells_and_drop_columns_that_do_not_fit() -> None:
    image = {"_type": "image-file", "width": 28, "height": 28, "path": "x.png"}
    lines = cli.table_lines(
        ["n", "label", "img"], [[1, "cat", image], [10, None, image]], 80
    )
    assert lines == [
        "  n   label  img",
        "  --  -----  -------------",
        "   1  cat    <image 28x28>",
        "  10         <image 28x28>",
    ]
    narrow = cli.table_lines(["a" * 20, "b" * 20, "c" * 20], [], 50)
    assert narrow[0] == "  " + "a" * 20 + "  " + "b" * 20 + "  (+1 more column)"


def test_numbers_print_short_and_whole_floats_without_a_point() -> None:
    assert [cli.format_number(v) for v in (7.0, 0.1 + 0.2, 1e-9, 2**70)] == [
        "7",
        "0.3",
        "1e-09",
        "1.18059e+21",
    ]
    assert [cli.format_number(v) for v in (math.nan, math.inf, -math.inf)] == [
        "NaN",
        "inf",
        "-inf",
    ]


def test_lines_are_cut_to_the_width_counting_wide_characters_twice() -> None:
    assert cli.fit("abcdef", 4) == "abc…"
    assert cli.fit("abcdef", 4, "...") == "a..."
    assert cli.text_width("損失") == 4
    assert cli.fit("損失損失", 5) == "損失…"


# ---------------------------------------------------------------------------
# show: what it prints about runs of both SDKs
# ---------------------------------------------------------------------------


def test_show_prints_identity_config_and_summary(
    any_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _show_text(capsys, monkeypatch, str(any_run), width=300)

    assert lines[0] == any_run.name
    identity = _identity(lines)
    assert identity.pop("started").startswith(any_run.name[12:16] + "-")
    assert float(identity.pop("runtime").rstrip("s")) < 60
    assert identity == {
        "state": "finished",
        "id": any_run.name.rpartition("-")[2],
        "name": "cli-run",
        "project": "cli-proj",
        "steps": f"{ROWS} history rows, last step {ROWS - 1}",
        "log": str(_log_of(any_run)),
    }
    assert [line.split() for line in _section(lines, "config")] == [
        ["lr", "0.5"],
        ["arch.depth", "3"],
        ["arch.act", "relu"],
    ]
    summary = {
        line.split()[0]: line.split(None, 1)[1] for line in _section(lines, "summary")
    }
    assert summary == {
        "acc.train": "0.7",
        "bad": "3",
        "h": "histogram, 3 bins",
        "loss": "7",
        "note": "hand-set",
        "phase": "done",
        "preds": "table, 4 rows x 3 columns: media/table/preds_15_abc.table.json",
        "sample": "image 4x2 png: media/images/sample_16_def.png",
    }


def test_show_draws_each_metric_with_last_min_and_max(
    any_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _show_text(capsys, monkeypatch, str(any_run))

    metrics = _section(lines, "metrics")
    assert metrics[0].split() == ["name", "history", "last", "min", "max"]
    assert [line.split() for line in metrics[1:]] == [
        ["acc.train", "▁▂▃▄▅▆▇█", "0.7", "0", "0.7"],
        ["bad", "×▁↑▅↓█", "3", "1", "3"],
        ["loss", "▁▂▃▄▅▆▇█", "7", "0", "7"],
    ]
    assert [line.split() for line in _section(lines, "other history values")] == [
        ["phase", "done", "(1", "logged)"]
    ]


def test_show_draws_the_histogram_and_the_first_table_rows(
    any_run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _show_text(capsys, monkeypatch, str(any_run), "--rows", "3")

    assert _line_starting(lines, "histogram h") == "histogram h at step 14  (3 bins)"
    assert _section(lines, "histogram h") == [
        "  0 .. 1  " + "█" * 10 + " " * 30 + "  1",
        "  1 .. 2  " + "█" * 20 + " " * 20 + "  2",
        "  2 .. 3  " + "█" * 40 + "  4",
    ]
    title = "table preds at step 15: media/table/preds_15_abc.table.json"
    assert _line_starting(lines, "table preds") == title + " (4 rows x 3 columns)"
    assert _section(lines, "table preds") == [
        "  id  label  score",
        "  --  -----  -----",
        "   1  cat     0.25",
        "   2  dog      0.5",
        "   3  bird    0.75",
        "  ... 1 more row",
    ]
    assert _line_starting(lines, "image sample") == (
        "image sample at step 16: 4x2 png, 100 B"
    )
    assert _section(lines, "image sample") == ["  media/images/sample_16_def.png"]


def test_show_json_holds_the_same_facts(
    any_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _show_json(capsys, str(any_run / _log_of(any_run).name))

    assert (report["state"], report["exit_code"]) == ("finished", 0)
    assert (report["steps"], report["last_step"]) == (ROWS, ROWS - 1)
    assert report["config"]["arch"] == {"depth": 3, "act": "relu"}
    assert report["summary"]["bad"] == 3 and report["summary"]["note"] == "hand-set"
    metrics = {
        m["name"]: (m["count"], m["last"], m["min"], m["max"], m["nan"], m["inf"])
        + (m["-inf"],)
        for m in report["metrics"]
    }
    assert metrics == EXPECTED_METRICS
    [histogram] = report["histograms"]
    assert (histogram["name"], histogram["step"]) == ("h", 14)
    assert (histogram["values"], histogram["bins"]) == ([1, 2, 4], [0, 1, 2, 3])
    [table] = report["tables"]
    assert (table["columns"], table["rows"], table["error"]) == (
        ["id", "label", "score"],
        TABLE_ROWS,
        None,
    )
    [image] = report["images"]
    assert image["files"] == ["media/images/sample_16_def.png"]
    assert (image["width"], image["height"], image["size"], image["missing"]) == (
        4,
        2,
        100,
        [],
    )


def test_show_tells_the_same_about_the_official_run_as_about_ours(
    our_run: Path, official_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def comparable(report: dict[str, Any]) -> dict[str, Any]:
        for key in ("run_dir", "log", "id", "start_time", "start_timestamp"):
            report.pop(key)
        report.pop("runtime")
        report.pop("producer")
        for name in ("config", "summary"):
            report[name] = {
                k: v for k, v in report[name].items() if not k.startswith("_")
            }
        return report

    ours = comparable(_show_json(capsys, str(our_run)))
    official = comparable(_show_json(capsys, str(official_run)))

    assert ours == official


def test_show_json_writes_non_finite_numbers_as_strings(
    our_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _status, out, _err = _call(capsys, "show", "--json", str(our_run))
    # Strict JSON: no bare NaN or Infinity tokens.
    report = json.loads(out, parse_constant=lambda token: pytest.fail(token))
    assert report["summary"]["bad"] == 3
    loss = next(m for m in report["metrics"] if m["name"] == "bad")
    assert (loss["nan"], loss["inf"], loss["-inf"]) == (1, 1, 1)
    assert cli.plain([math.nan, {"a": -math.inf}]) == ["NaN", {"a": "-Infinity"}]


def test_show_says_a_run_failed_and_with_which_exit_code(
    failed_run: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = _show_text(capsys, monkeypatch, str(failed_run))
    report = _show_json(capsys, str(failed_run))

    assert _identity(lines)["state"] == "failed (exit code 3)"
    assert (report["state"], report["exit_code"]) == ("failed", 3)


@pytest.mark.parametrize("width", [40, 64, 100, 160])
def test_show_keeps_every_line_within_the_terminal_width(
    width: int,
    our_run: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))

    status, out, _err = _call(capsys, "show", str(our_run))

    assert status == 0
    assert max(cli.text_width(line) for line in out.splitlines()) <= width
    assert any(line.startswith("  loss ") for line in out.splitlines())


def test_show_falls_back_to_ascii_where_the_output_cannot_encode_blocks(
    our_run: Path,
) -> None:
    env = dict(os.environ, PYTHONIOENCODING="ascii", COLUMNS="100")

    done = subprocess.run(
        [sys.executable, "-m", "wandb_core", "show", str(our_run)],
        capture_output=True,
        env=env,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode("ascii").splitlines()
    metrics = [line.split() for line in _section(lines, "metrics")]
    assert metrics[1:] == [
        ["acc.train", "_.-:=+*#", "0.7", "0", "0.7"],
        ["bad", "?_^=v#", "3", "1", "3"],
        ["loss", "_.-:=+*#", "7", "0", "7"],
    ]
    assert "#" * 40 in _section(lines, "histogram h")[2]


# ---------------------------------------------------------------------------
# Crashed runs, missing files, the default run, errors
# ---------------------------------------------------------------------------


def _cut_points(size: int, records_end: int) -> list[int]:
    """Offsets inside the header, in the first block, mid-log and near the end."""
    return sorted({0, 3, 7, 40, size // 3, size // 2, records_end - 1, size - 1})


@pytest.mark.parametrize("sdk", ["ours", "official"])
def test_show_reads_a_log_cut_short_at_any_point_and_says_so(
    sdk: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_dir: Path = request.getfixturevalue(
        "our_run" if sdk == "ours" else "official_run"
    )
    data = _log_of(run_dir).read_bytes()
    full = reader.read_run_columns(str(_log_of(run_dir)))
    monkeypatch.setenv("COLUMNS", "100")

    for cut in _cut_points(len(data), len(data)):
        crashed = tmp_path / f"offline-run-20240101_000000-cut{cut}"
        _copy_run(run_dir, crashed)
        _log_of(crashed).write_bytes(data[:cut])

        status, out, err = _call(capsys, "show", str(crashed))
        report = _show_json(capsys, str(crashed))

        assert status == 0, (cut, err)
        state = _identity(out.splitlines())["state"]
        assert state.endswith("(no exit record: the run did not finish cleanly)")
        assert (report["state"], report["exit_code"]) == ("running or crashed", None)
        assert report["steps"] <= ROWS
        if cut < 7 or report["steps"] == 0:
            continue
        # What survived is the start of what the whole log holds.
        loss = next((m for m in report["metrics"] if m["name"] == "loss"), None)
        if loss is not None:
            kept = full.columns[("loss",)].numbers()
            assert kept is not None
            assert loss["max"] == max(kept[: loss["count"]])
    assert report["steps"] == ROWS  # the last cut loses only the exit record


def test_show_reports_a_damaged_log_as_a_problem(
    our_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crashed = tmp_path / "offline-run-20240101_000000-cut"
    _copy_run(our_run, crashed)
    data = _log_of(crashed).read_bytes()
    _log_of(crashed).write_bytes(data[: len(data) - 5])

    lines = _show_text(capsys, monkeypatch, str(crashed))

    assert _identity(lines)["problem"].startswith("chunk cut off at offset ")


def test_show_works_when_the_files_folder_is_gone(
    any_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bare = tmp_path / any_run.name
    _copy_run(any_run, bare)
    shutil.rmtree(bare / "files")

    lines = _show_text(capsys, monkeypatch, str(bare), width=500)
    report = _show_json(capsys, str(bare))

    [table] = report["tables"]
    assert table["error"].startswith("file missing: ")
    assert table["rows"] == [] and table["nrows"] == 4  # as the log declares it
    [image] = report["images"]
    assert image["missing"] == ["media/images/sample_16_def.png"]
    assert image["size"] == 100  # as the log declares it
    table_file = bare / "files" / "media" / "table" / "preds_15_abc.table.json"
    assert _line_starting(lines, "table preds").endswith(
        f"(file missing: {table_file})"
    )
    assert _section(lines, "image sample") == [
        "  media/images/sample_16_def.png (file missing)"
    ]
    assert [line.split()[0] for line in _section(lines, "metrics")[1:]] == [
        "acc.train",
        "bad",
        "loss",
    ]


def _project_with(tmp_path: Path, folder: str, *runs: Path) -> Path:
    """A project folder whose ``folder`` (wandb, .wandb) holds copies of runs."""
    home = tmp_path / folder
    home.mkdir(parents=True)
    for run_dir in runs:
        _copy_run(run_dir, home / run_dir.name)
    newest = max(runs, key=lambda run: run.name.split("-")[2])
    os.symlink(newest.name, home / "latest-run")
    return tmp_path


def test_show_defaults_to_the_latest_run_under_wandb_dir(
    our_run: Path,
    failed_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _project_with(tmp_path / "project", "wandb", our_run, failed_run)
    latest = os.path.realpath(root / "wandb" / "latest-run")
    monkeypatch.setenv("WANDB_DIR", str(root))
    monkeypatch.chdir(tmp_path)

    assert _show_json(capsys)["run_dir"] == latest
    # A folder above the runs, or the wandb folder, means its latest run too.
    monkeypatch.delenv("WANDB_DIR")
    assert _show_json(capsys, str(root))["run_dir"] == latest
    assert _show_json(capsys, str(root / "wandb"))["run_dir"] == latest
    monkeypatch.chdir(root)
    assert _show_json(capsys)["run_dir"] == latest


def test_show_prefers_a_dot_wandb_folder_as_the_official_sdk_does(
    our_run: Path,
    failed_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _project_with(tmp_path / "project", ".wandb", failed_run)
    _project_with(tmp_path / "project", "wandb", our_run)
    monkeypatch.setenv("WANDB_DIR", str(root))

    assert _show_json(capsys)["name"] == "failing"


def test_show_without_a_latest_run_link_takes_the_newest_folder(
    our_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "wandb"
    home.mkdir()
    for stamp in ("20240101_000000", "20250101_000000", "20230101_000000"):
        _copy_run(our_run, home / f"offline-run-{stamp}-run{stamp[:4]}")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))

    assert _show_json(capsys)["run_dir"].endswith("offline-run-20250101_000000-run2025")


def test_errors_name_the_path_and_exit_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere"
    empty = tmp_path / "empty"
    empty.mkdir()
    not_a_log = tmp_path / "notes.txt"
    not_a_log.write_text("hello, not a W&B log\n")
    monkeypatch.setenv("WANDB_DIR", str(empty))

    cases = [
        (["show", str(missing)], f"{missing} does not exist."),
        (["show", str(empty)], f"{empty} holds no run:"),
        (["show", str(not_a_log)], f"{not_a_log} holds no run:"),
        (["show"], f"No run found: {empty / 'wandb'} has no latest-run"),
        (["runs", str(missing)], f"{missing} is not a directory."),
        (["runs", str(empty)], f"{empty} holds no run:"),
        (["runs"], f"{empty} holds no run:"),
    ]
    for argv, message in cases:
        status, out, err = _call(capsys, *argv)
        assert (status, out) == (2, ""), argv
        assert err.startswith(f"wandb-core: error: {message}"), (argv, err)
        assert err.count("\n") == 1


def test_usage_errors_exit_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "show" in capsys.readouterr().err
    for argv in (["show", "--rows", "-1"], ["frobnicate"], ["show", "--bogus"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2, argv
        assert capsys.readouterr().err


def _history_log(path: Path, rows: list[dict[tuple[str, ...], Any]]) -> None:
    """A log of history rows, each item written as the official client does."""
    records = []
    for step, row in enumerate(rows):
        row = {("_step",): step, **row}
        items = [
            _item(key, json.dumps(value), "canonical") for key, value in row.items()
        ]
        records.append((2, b"".join(_field(1, item) for item in items)))
    _write_log(path, records)


def test_show_lists_image_lists_and_other_media_from_flattened_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "offline-run-20240101_000000-media"
    (run_dir / "files" / "media" / "images").mkdir(parents=True)
    (run_dir / "files" / "media" / "images" / "a.png").write_bytes(bytes(10))
    names = ["media/images/a.png", "media/images/b.png"]
    images = {"_type": "images/separated", "width": 8, "height": 6, "format": "png"}
    images |= {"count": 2, "filenames": names}
    histogram = {"_type": "histogram", "values": list(range(64))}
    histogram["bins"] = [index / 4 for index in range(65)]
    rows = [
        {("imgs", key): value for key, value in images.items()},
        {("aud", "_type"): "audio-file", ("aud", "path"): "media/audio/x.wav"},
        {("h", key): value for key, value in histogram.items()},
    ]
    _history_log(run_dir / "run-media.wandb", rows)

    report = _show_json(capsys, str(run_dir))
    lines = _show_text(capsys, monkeypatch, str(run_dir))

    [image] = report["images"]
    assert (image["name"], image["step"], image["files"]) == ("imgs", 0, names)
    assert (image["count"], image["missing"], image["size"]) == (2, names[1:], None)
    assert report["media"] == [
        {
            "name": "aud",
            "path": ["aud"],
            "step": 1,
            "type": "audio-file",
            "file": "media/audio/x.wav",
        }
    ]
    assert report["metrics"] == [] and report["values"] == []
    assert _section(lines, "images imgs at step 0: 2 images, 8x6 png") == [
        "  media/images/a.png",
        "  media/images/b.png (file missing)",
    ]
    assert _section(lines, "other media") == [
        "  aud at step 1: audio-file media/audio/x.wav"
    ]
    bars = _section(lines, "histogram h at step 2  (64 bins)")
    assert len(bars) == 11
    assert bars[-1].split()[0::2] == ["15", "16", "246"]  # bins 60..63 merged


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


def test_runs_lists_every_run_oldest_first(
    our_run: Path,
    official_run: Path,
    failed_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _project_with(tmp_path, "wandb", our_run, official_run, failed_run)
    crashed = root / "wandb" / "offline-run-20990101_000000-crashed"
    _copy_run(our_run, crashed)
    data = _log_of(crashed).read_bytes()
    _log_of(crashed).write_bytes(data[: len(data) // 2])
    (root / "wandb" / "not-a-run").mkdir()
    monkeypatch.setenv("COLUMNS", "200")

    status, out, err = _call(capsys, "runs", "--json", str(root))
    text_status, text, _ = _call(capsys, "runs", str(root))

    assert (status, text_status) == (0, 0), err
    entries = json.loads(out)
    starts = [entry["start_timestamp"] for entry in entries]
    assert starts == sorted(starts) and len(entries) == 4
    by_folder = {os.path.basename(entry["run_dir"]): entry for entry in entries}
    for run_dir in (our_run, official_run):
        entry = by_folder[run_dir.name]
        assert (entry["name"], entry["state"], entry["steps"]) == (
            "cli-run",
            "finished",
            ROWS,
        )
        assert entry["last_step"] == ROWS - 1
        copy = root / "wandb" / run_dir.name
        files = [path for path in copy.rglob("*") if not path.is_dir()]
        assert entry["size"] == sum(path.lstat().st_size for path in files) > 0
    failed = by_folder[failed_run.name]
    assert (failed["state"], failed["exit_code"], failed["steps"]) == ("failed", 3, 1)
    cut = by_folder[crashed.name]
    assert (cut["state"], cut["exit_code"]) == ("running or crashed", None)
    assert 0 < cut["steps"] < ROWS

    lines = text.splitlines()
    assert lines[0].split() == [
        "id",
        "name",
        "state",
        "steps",
        "started",
        "size",
        "folder",
    ]
    rows = {line.split()[-1]: line for line in lines[1:]}
    assert rows.keys() == by_folder.keys()
    assert "failed (3)" in rows[failed_run.name]
    assert "running or crashed" in rows[crashed.name]
    assert rows[our_run.name].split()[:4] == [
        by_folder[our_run.name]["id"],
        "cli-run",
        "finished",
        str(ROWS),
    ]


def test_runs_size_is_the_bytes_under_the_run_folder(tmp_path: Path) -> None:
    run_dir = tmp_path / "offline-run-20240101_000000-abc"
    (run_dir / "files" / "media").mkdir(parents=True)
    (run_dir / "run-abc.wandb").write_bytes(FILE_HEADER)
    (run_dir / "files" / "media" / "a.bin").write_bytes(bytes(1000))
    os.symlink("/etc/hostname", run_dir / "files" / "link")

    assert cli.disk_size(str(run_dir)) == 7 + 1000 + len("/etc/hostname")
    assert [cli.format_size(n) for n in (512, 1536, 37 * 1024**2)] == [
        "512 B",
        "1.5 KiB",
        "37.0 MiB",
    ]


# ---------------------------------------------------------------------------
# The column-wise reader against read_run
# ---------------------------------------------------------------------------


def _field(number: int, payload: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def _item(path: tuple[str, ...], text: str, layout: str) -> bytes:
    """One item in one of the layouts a protobuf writer may produce."""
    keys = b"".join(_field(2, key.encode()) for key in path)
    value = _field(16, text.encode())
    if layout == "key" and len(path) == 1:
        return _field(1, path[0].encode()) + value
    if layout == "value first":
        return value + keys
    if layout == "no value":
        return keys
    if layout == "trailing key":  # ignored: nested_key wins over key
        return keys + value + _field(1, b"ignored")
    return keys + value


def _write_log(path: Path, records: list[tuple[int, bytes]]) -> None:
    framer = Framer()
    data = bytearray(FILE_HEADER)
    for num, (field, body) in enumerate(records, 1):
        data += framer.frame(num, _field(field, body))
    path.write_bytes(bytes(data))


def _rows_of(columns: reader.RunColumns) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{} for _ in range(columns.rows)]
    for path, column in columns.columns.items():
        for row, value in zip(column.rows, column.values()):
            set_nested(rows[row], path, value)
    return rows


def _same(left: Any, right: Any) -> bool:
    # NaN-safe, and blind to key order.
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


HISTORY_PATHS = [("loss",), ("acc",), ("m", "x"), ("m", "y"), ("損失",), ("_step",)]
SUMMARY_PATHS = HISTORY_PATHS + [("m",)]  # overlaps m.x and m.y across records
VALUE_TEXTS = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(json.dumps),
    st.text(max_size=8).map(json.dumps),
    st.text(min_size=130, max_size=300).map(json.dumps),  # lengths over a byte
    st.lists(st.integers(0, 9), max_size=4).map(json.dumps),
    st.sampled_from(["true", "false", "null", '{"a":[1,{"b":null}]}']),
)
LAYOUTS = st.sampled_from(
    ["canonical"] * 6 + ["key", "value first", "no value", "trailing key"]
)


@st.composite
def _logs(draw: st.DrawFn) -> list[tuple[int, bytes]]:
    """Records of history rows (a few shapes, repeated) and summary updates."""
    shapes = draw(
        st.lists(
            st.lists(st.sampled_from(HISTORY_PATHS), min_size=0, max_size=6),
            min_size=1,
            max_size=3,
        )
    )
    records = []
    for _ in range(draw(st.integers(1, 25))):
        paths = list(draw(st.sampled_from(shapes)))
        if draw(st.booleans()):
            paths = draw(st.permutations(paths))
        items = [_item(p, draw(VALUE_TEXTS), draw(LAYOUTS)) for p in paths]
        step = _field(2, b"\x08" + encode_varint(len(records)))
        records.append((2, b"".join(_field(1, item) for item in items) + step))
        if draw(st.integers(0, 3)) == 0:
            records.append((3, draw(_summary_body())))
    return records


@st.composite
def _summary_body(draw: st.DrawFn) -> bytes:
    # Paths within one record never overlap (m next to m.x); across records
    # they may.
    paths = draw(st.lists(st.sampled_from(SUMMARY_PATHS), max_size=4, unique=True))
    if ("m",) in paths:
        paths = [p for p in paths if p[0] != "m" or p == ("m",)]
    updates = b"".join(
        _field(1, _item(p, draw(VALUE_TEXTS), draw(LAYOUTS))) for p in paths
    )
    removed = draw(st.lists(st.sampled_from(SUMMARY_PATHS), max_size=2))
    removals = b"".join(_field(2, _item(p, "", "no value")) for p in removed)
    return updates + removals


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=_logs())
def test_columns_hold_what_read_run_reads(
    records: list[tuple[int, bytes]], tmp_path: Path
) -> None:
    path = tmp_path / "run-prop.wandb"
    _write_log(path, records)

    expected = reader.read_run(str(path))
    columns = reader.read_run_columns(str(path))

    assert columns.rows == len(expected.history)
    assert _same(_rows_of(columns), expected.history)
    assert _same(columns.run.summary, expected.summary)


def test_columns_of_real_logs_match_read_run(our_run: Path, official_run: Path) -> None:
    for run_dir in (our_run, official_run):
        expected = reader.read_run(str(_log_of(run_dir)))
        columns = reader.read_run_columns(str(_log_of(run_dir)))

        assert _same(_rows_of(columns), expected.history)
        assert _same(columns.run.summary, expected.summary)
        assert columns.run.config == expected.config
        assert (columns.run.run_id, columns.run.exit_code) == (
            expected.run_id,
            expected.exit_code,
        )


@pytest.mark.parametrize("shuffled", [False, True])
def test_repeated_rows_skip_the_item_parser_after_the_second(
    shuffled: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    names = [f"metric_{index}" for index in range(10)]
    records = []
    for row in range(2000):
        order = rng.sample(names, len(names)) if shuffled else names
        items = [
            _item((name,), repr(row + names.index(name) / 10), "canonical")
            for name in order
        ]
        records.append((2, b"".join(_field(1, item) for item in items)))
    path = tmp_path / "run-long.wandb"
    _write_log(path, records)
    parsed = []
    parse_item = reader._parse_item

    def counting(item: bytes) -> Any:
        parsed.append(item)
        return parse_item(item)

    monkeypatch.setattr(reader, "_parse_item", counting)

    columns = reader.read_run_columns(str(path))

    assert 0 < len(parsed) <= 2 * len(names)  # the first two rows at most
    assert columns.rows == 2000
    assert columns.columns[("metric_3",)].numbers() == [
        row + 0.3 for row in range(2000)
    ]


def test_a_log_cut_inside_its_header_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "run-cut.wandb"
    for size in range(len(FILE_HEADER)):
        path.write_bytes(FILE_HEADER[:size])

        columns = reader.read_run_columns(str(path))

        assert (columns.rows, columns.run.exit_code) == (0, None)
        assert columns.run.problems == [
            f"the log ends after {size} bytes, inside its header"
        ]


def test_overview_counts_rows_and_keeps_the_last(our_run: Path) -> None:
    columns = reader.read_run_columns(str(_log_of(our_run)), overview=True)

    assert columns.rows == ROWS
    assert columns.columns[("_step",)].rows == [ROWS - 1]
    assert columns.columns[("phase",)].values() == ["done"]
    assert columns.run.summary == {}
    assert columns.run.display_name == "cli-run"


# ---------------------------------------------------------------------------
# Artifacts
# ---------------------------------------------------------------------------

ARTIFACT_SCRIPT = """
import os

run = wandb.init(project="cli-art")
with open("weights.bin", "wb") as handle:
    handle.write(b"w" * 1000)
art = wandb.Artifact("model", type="model")
art.add_file("weights.bin")
art.add_reference("file://" + os.path.abspath("weights.bin"), name="ref.bin")
run.log_artifact(art, aliases=["best"])
run.finish()
"""


@pytest.mark.parametrize("sdk", ["ours", "official"])
def test_show_lists_the_logged_artifacts(
    sdk: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64
    import hashlib

    log_run = _run_ours if sdk == "ours" else _run_official
    run_dir = log_run(tmp_path, ARTIFACT_SCRIPT)
    md5 = base64.b64encode(hashlib.md5(b"w" * 1000).digest()).decode()
    digest = hashlib.md5(
        f"wandb-artifact-manifest-v1\nref.bin:{md5}\nweights.bin:{md5}\n".encode()
    ).hexdigest()

    (artifact,) = _show_json(capsys, str(run_dir))["artifacts"]
    assert sorted(artifact.pop("aliases")) == ["best", "latest"]
    assert artifact == {
        "name": "model",
        "type": "model",
        "digest": digest,
        "files": 2,
        "size": 2000,
        "references": 1,
        "manifest_file": None,
    }
    lines = _section(
        _show_text(capsys, monkeypatch, str(run_dir), width=200), "artifacts"
    )
    (line,) = lines
    assert line.startswith("  model (model) ")
    assert line.endswith(f": 2 files, 2.0 KiB (1 by reference), digest {digest}")
