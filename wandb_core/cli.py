"""The ``wandb-core`` command: look at local runs without a server.

``wandb-core show [RUN_DIR]`` prints one run (the latest by default): its
state, identity, config and summary, a sparkline of each metric's history
with its last, min and max, histograms as small bar charts, the first rows
of tables and the files of images. ``wandb-core runs [DIR]`` lists the runs
under a directory. Both read the transaction log (ours or the official
client's, finished or cut short by a crash) and, for tables and images, the
run's ``files/`` folder where it exists. ``--json`` prints the same facts
as JSON for programs; non-finite numbers there are the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``, as in ``wandb leet inspect --json``.

Reports are built as plain dicts first (what ``--json`` prints); the text
views only lay them out, within the terminal's width, in block characters
or in plain ASCII where the output's encoding has no block characters.

Exit status: 0 when the run could be read, 2 for usage errors and for
paths that hold no run, 1 when a file could not be read (permissions).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import math
import os
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from wandb_core import _env
from wandb_core.__version__ import __version__
from wandb_core._paths import set_nested
from wandb_core.backend import reader
from wandb_core.backend.rundir import LATEST_RUN_LINK
from wandb_core.errors import LogFormatError, UsageError

EXIT_OK = 0
EXIT_READ_ERROR = 1
EXIT_USAGE = 2

RUN_FOLDER_PREFIXES = ("offline-run-", "run-")
LOG_SUFFIX = ".wandb"
# Keys the SDKs add to every history row; shown as steps and runtime.
STEP_KEY = "_step"
RUNTIME_KEY = "_runtime"
INTERNAL_PREFIX = "_"
TYPE_KEY = "_type"

DEFAULT_TABLE_ROWS = 5
# Layout limits, in terminal columns.
FALLBACK_WIDTH = 80
MIN_LAYOUT_WIDTH = 40
MAX_SPARKLINE = 60
MIN_SPARKLINE = 8
MAX_NAME = 32
MAX_BAR = 40
MAX_CELL = 24
# A histogram with more bins is drawn with neighbouring bins merged.
MAX_HISTOGRAM_ROWS = 12
SIGNIFICANT_DIGITS = 6


@dataclasses.dataclass(frozen=True)
class Glyphs:
    """The characters the text views draw with."""

    levels: str  # eight, from low to high
    nan: str
    pos_inf: str
    neg_inf: str
    bar: str
    cut: str  # ends a line cut to the terminal's width


UNICODE_GLYPHS = Glyphs("▁▂▃▄▅▆▇█", "×", "↑", "↓", "█", "…")
ASCII_GLYPHS = Glyphs("_.-:=+*#", "?", "^", "v", "#", "...")


def glyphs_for(stream: TextIO) -> Glyphs:
    """Block characters where ``stream``'s encoding has them, else ASCII."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    sample = "".join(dataclasses.astuple(UNICODE_GLYPHS))
    try:
        sample.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_GLYPHS
    return UNICODE_GLYPHS


# ---------------------------------------------------------------------------
# Finding runs
# ---------------------------------------------------------------------------


def default_root() -> str:
    """Where runs are looked for: ``$WANDB_DIR`` like the SDKs, else here."""
    return os.path.expanduser(_env.get_str(_env.DIR) or os.getcwd())


def runs_home(root: str) -> str:
    """The folder of runs under ``root``, as the official SDK picks it.

    ``root/.wandb`` when it exists, else ``root/wandb``.
    """
    hidden = os.path.join(root, ".wandb")
    return hidden if os.path.isdir(hidden) else os.path.join(root, "wandb")


def run_folders(directory: str) -> list[str]:
    """``offline-run-*`` and ``run-*`` folders right inside ``directory``."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found = []
    for name in names:
        path = os.path.join(directory, name)
        if name.startswith(RUN_FOLDER_PREFIXES) and not os.path.islink(path):
            if os.path.isdir(path):
                found.append(path)
    return found


def log_in(run_dir: str) -> str | None:
    """The transaction log of a run folder, or None.

    A folder normally holds one ``run-<id>.wandb``; when it holds several,
    the one named after the folder's id wins, then the largest.
    """
    try:
        logs = [name for name in os.listdir(run_dir) if name.endswith(LOG_SUFFIX)]
    except OSError:
        return None
    if not logs:
        return None
    run_id = os.path.basename(os.path.normpath(run_dir)).rpartition("-")[2]
    named = f"run-{run_id}{LOG_SUFFIX}"
    if named in logs:
        return os.path.join(run_dir, named)
    paths = [os.path.join(run_dir, name) for name in logs]
    return max(paths, key=_size_or_zero)


def _size_or_zero(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _newest_folder(folders: list[str]) -> str | None:
    # Folder names carry the start time (YYYYMMDD_HHMMSS) after the prefix.
    def stamp(path: str) -> str:
        name = os.path.basename(path)
        for prefix in RUN_FOLDER_PREFIXES:
            if name.startswith(prefix):
                return name[len(prefix) :]
        return name

    return max(folders, key=stamp) if folders else None


def latest_run(home: str) -> str | None:
    """``home/latest-run``, or the newest run folder where the link is missing."""
    link = os.path.join(home, LATEST_RUN_LINK)
    if os.path.isdir(link):
        return os.path.realpath(link)
    return _newest_folder(run_folders(home))


def find_run(path: str | None) -> tuple[str, str]:
    """``(run folder, log file)`` for what the user named.

    ``path`` may be a log file, a run folder, a ``wandb`` folder or the
    folder above it (then its latest run), or None for the latest run under
    ``$WANDB_DIR`` or the current directory.

    Raises:
        UsageError: nothing there holds a run.
    """
    if path is None:
        home = runs_home(default_root())
        run_dir = latest_run(home)
        if run_dir is None:
            msg = (
                f"No run found: {home} has no {LATEST_RUN_LINK} and no run "
                "folders; pass a run directory."
            )
            raise UsageError(msg)
        return _run_in(run_dir, run_dir)
    if not os.path.exists(path):
        raise UsageError(f"{path} does not exist.")
    if os.path.isfile(path):
        return os.path.dirname(os.path.abspath(path)), path
    if log_in(path) is not None:
        return _run_in(path, path)
    for home in (path, runs_home(path)):
        run_dir = latest_run(home)
        if run_dir is not None:
            return _run_in(run_dir, path)
    msg = (
        f"{path} holds no run: no {LOG_SUFFIX} log in it and no run folders "
        "in it or in its wandb folder."
    )
    raise UsageError(msg)


def _run_in(run_dir: str, named: str) -> tuple[str, str]:
    log = log_in(run_dir)
    if log is None:
        msg = f"{named} holds no run: the run folder {run_dir} has no {LOG_SUFFIX} log."
        raise UsageError(msg)
    return run_dir, log


def read_log(log: str, overview: bool = False) -> reader.RunColumns:
    """Read a log, turning a file that is no log into a usage error."""
    try:
        return reader.read_run_columns(log, overview=overview)
    except LogFormatError as error:
        raise UsageError(f"{log} holds no run: {error}") from None


# ---------------------------------------------------------------------------
# Numbers and the shape of series
# ---------------------------------------------------------------------------


def format_number(value: Any) -> str:
    """A number in a few characters: whole floats without ``.0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _one_line(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**15 else f"{value:.{SIGNIFICANT_DIGITS}g}"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{SIGNIFICANT_DIGITS}g}"


@dataclasses.dataclass
class SeriesStats:
    """Count, finite range and non-finite counts of a series."""

    count: int
    minimum: float | None
    maximum: float | None
    nan: int = 0
    pos_inf: int = 0
    neg_inf: int = 0


def series_stats(values: list[float]) -> SeriesStats:
    """``SeriesStats`` of ``values``; the range covers finite values only."""
    if math.isfinite(sum(values)):  # no NaN or infinity anywhere: the fast way
        if not values:
            return SeriesStats(0, None, None)
        return SeriesStats(len(values), min(values), max(values))
    finite = [value for value in values if math.isfinite(value)]
    nan = sum(1 for value in values if math.isnan(value))
    pos_inf = sum(1 for value in values if value == math.inf)
    return SeriesStats(
        len(values),
        min(finite) if finite else None,
        max(finite) if finite else None,
        nan,
        pos_inf,
        len(values) - len(finite) - nan - pos_inf,
    )


def _bucket_value(chunk: list[float]) -> float:
    """The mean of a chunk, or the non-finite value that stands for it.

    A NaN anywhere wins, then +inf, then -inf: a spike should show.
    """
    total = sum(chunk)
    if math.isfinite(total):
        return total / len(chunk)
    if any(math.isnan(value) for value in chunk):
        return math.nan
    if math.inf in chunk:
        return math.inf if -math.inf not in chunk else math.nan
    if -math.inf in chunk:
        return -math.inf
    return sum(value / len(chunk) for value in chunk)  # the sum overflowed


def resample(values: list[float], width: int) -> list[float]:
    """At most ``width`` points: one per value, or bucket means."""
    count = len(values)
    if count <= width:
        return list(values)
    bounds = [index * count // width for index in range(width + 1)]
    return [_bucket_value(values[lo:hi]) for lo, hi in zip(bounds, bounds[1:])]


def sparkline(values: list[float], width: int, glyphs: Glyphs = UNICODE_GLYPHS) -> str:
    """One character per point (resampled to ``width``), low to high.

    NaN and infinities get their own characters; the finite points span
    the eight levels between their minimum and maximum.
    """
    points = resample(values, width)
    finite = [point for point in points if math.isfinite(point)]
    low = min(finite) if finite else 0.0
    span = (max(finite) - low) if finite else 0.0
    top = len(glyphs.levels) - 1
    characters = []
    for point in points:
        if math.isnan(point):
            characters.append(glyphs.nan)
        elif math.isinf(point):
            characters.append(glyphs.pos_inf if point > 0 else glyphs.neg_inf)
        elif span > 0 and math.isfinite(span):
            level = int((point - low) / span * top + 0.5)
            characters.append(glyphs.levels[min(max(level, 0), top)])
        else:
            characters.append(glyphs.levels[0])
    return "".join(characters)


# ---------------------------------------------------------------------------
# Text that fits the terminal
# ---------------------------------------------------------------------------

_CONTROL = {code: f"\\x{code:02x}" for code in range(32)} | {
    ord("\n"): "\\n",
    ord("\t"): "\\t",
    ord("\r"): "\\r",
    0x7F: "\\x7f",
}


def _one_line(value: Any) -> str:
    """A value as one line of text: strings as they are, others as JSON."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float) or (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        text = format_number(value)
    else:
        text = json.dumps(plain(value), ensure_ascii=False, separators=(", ", ": "))
    return text.translate(_CONTROL)


def text_width(text: str) -> int:
    """Terminal columns taken by ``text`` (wide East Asian characters take 2)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(character) for character in text)


def _char_width(character: str) -> int:
    if unicodedata.combining(character):
        return 0
    return 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1


def fit(text: str, width: int, cut: str = "…") -> str:
    """``text`` cut to at most ``width`` columns, ending in ``cut`` if cut."""
    if text_width(text) <= width:
        return text
    room = width - len(cut)
    if room <= 0:
        return cut[:width]
    kept = []
    used = 0
    for character in text:
        used += _char_width(character)
        if used > room:
            break
        kept.append(character)
    return "".join(kept) + cut


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` fitted and padded with spaces to exactly ``width`` columns."""
    text = fit(text, width)
    space = " " * (width - text_width(text))
    return space + text if right else text + space


class Screen:
    """Lines for the terminal: each fitted to its width, written at the end."""

    def __init__(self, stream: TextIO, width: int | None = None) -> None:
        self.stream = stream
        self.width = width or shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns
        self.glyphs = glyphs_for(stream)
        self.lines: list[str] = []

    @property
    def layout_width(self) -> int:
        """The width layouts plan for (a floor keeps tiny terminals legible)."""
        return max(self.width, MIN_LAYOUT_WIDTH)

    def line(self, text: str = "") -> None:
        """Add a line, cut to the terminal's width."""
        self.lines.append(fit(text.rstrip(), self.width, self.glyphs.cut))

    def flush(self) -> None:
        """Write every line, replacing what the stream cannot encode."""
        write_text(self.stream, "".join(line + "\n" for line in self.lines))
        self.lines = []


def write_text(stream: TextIO, text: str) -> None:
    """Write ``text``, replacing characters the stream cannot encode."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "replace").decode(encoding))
    stream.flush()


# ---------------------------------------------------------------------------
# Reports: plain dicts, printed as JSON or laid out as text
# ---------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """``value`` with non-finite floats as strings, ready for strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def iso_time(timestamp: float | None) -> str | None:
    """UTC ISO 8601 text of a Unix time, as the official reader prints it."""
    if timestamp is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def local_time(timestamp: float | None) -> str:
    """Local ``YYYY-MM-DD HH:MM:SS``, or ``-``."""
    if timestamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def format_duration(seconds: float | None) -> str:
    """``12.3s``, ``4m 05s``, ``2h 03m 04s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"


def format_size(size: int | None) -> str:
    """Bytes in binary units: ``512 B``, ``1.2 KiB``, ``35.3 MiB``."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # Defensive: the loop always returns


def disk_size(run_dir: str) -> int:
    """Bytes in the files under ``run_dir``, links not followed."""
    total = 0
    for folder, _dirs, files in os.walk(run_dir):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def state_of(columns: reader.RunColumns) -> str:
    """``finished``, ``failed`` or ``running or crashed`` (no exit record)."""
    return columns.run.state


def _last_number(column: reader.Column | None) -> float | None:
    if column is None or not column.texts:
        return None
    value = reader.loads_value(column.texts[-1].decode("utf-8", "replace"))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def runtime_of(columns: reader.RunColumns) -> float | None:
    """Seconds the run ran, from whichever record knows best.

    The exit record's runtime (whole seconds; the official client leaves it
    0 offline), the last ``_runtime`` in history and in the summary.
    """
    summary = columns.run.summary
    candidates = [
        columns.runtime or None,
        _last_number(columns.columns.get((RUNTIME_KEY,))),
        summary.get(RUNTIME_KEY),
    ]
    known = [
        float(value)
        for value in candidates
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
    finite = [value for value in known if math.isfinite(value)]
    return max(finite) if finite else None


def last_step(columns: reader.RunColumns) -> int | None:
    """The last history row's ``_step``."""
    value = _last_number(columns.columns.get((STEP_KEY,)))
    return int(value) if value is not None else None


def identity_report(
    run_dir: str, log: str, columns: reader.RunColumns
) -> dict[str, Any]:
    """What ``runs`` and ``show`` both tell about a run."""
    run = columns.run
    return {
        "run_dir": os.path.abspath(run_dir),
        "log": os.path.abspath(log),
        "id": run.run_id,
        "name": run.display_name,
        "project": run.project,
        "entity": run.entity,
        "state": state_of(columns),
        "exit_code": run.exit_code,
        "start_time": iso_time(run.start_time),
        "start_timestamp": run.start_time,
        "runtime": runtime_of(columns),
        "steps": columns.rows,
        "last_step": last_step(columns),
        "producer": run.producer,
        "problems": list(run.problems),
    }


def _is_internal(path: tuple[str, ...]) -> bool:
    return bool(path) and path[0].startswith(INTERNAL_PREFIX)


def _media_parents(
    columns: dict[tuple[str, ...], reader.Column],
) -> set[tuple[str, ...]]:
    """Paths of objects (``_type`` inside) that history holds flattened."""
    return {path[:-1] for path in columns if len(path) > 1 and path[-1] == TYPE_KEY}


def _under_any(path: tuple[str, ...], parents: set[tuple[str, ...]]) -> bool:
    return any(path[:length] in parents for length in range(1, len(path)))


def metric_report(column: reader.Column, numbers: list[float]) -> dict[str, Any]:
    """Count, last, min, max and non-finite counts of one numeric column."""
    stats = series_stats(numbers)
    return {
        "name": ".".join(column.path),
        "path": list(column.path),
        "count": stats.count,
        "last": reader.loads_value(column.texts[-1].decode("utf-8", "replace")),
        "min": stats.minimum,
        "max": stats.maximum,
        "nan": stats.nan,
        "inf": stats.pos_inf,
        "-inf": stats.neg_inf,
    }


def history_report(
    columns: reader.RunColumns,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[list[float]]]:
    """Metrics (numeric columns), other values, and each metric's series."""
    parents = _media_parents(columns.columns)
    metrics = []
    others = []
    series: list[list[float]] = []
    for path, column in sorted(columns.columns.items()):
        if _is_internal(path) or path in parents or _under_any(path, parents):
            continue
        numbers = column.numbers()
        if numbers is not None:
            report = metric_report(column, numbers)
            metrics.append(report)
            series.append(numbers)
            continue
        last = reader.loads_value(column.texts[-1].decode("utf-8", "replace"))
        if isinstance(last, dict) and isinstance(last.get(TYPE_KEY), str):
            continue  # a whole media object: shown with the media
        others.append(
            {
                "name": ".".join(path),
                "path": list(path),
                "count": len(column.rows),
                "last": last,
            }
        )
    return metrics, others, series


def _step_at(columns: reader.RunColumns, row: int) -> int | None:
    step_column = columns.columns.get((STEP_KEY,))
    value = step_column.value_at(row) if step_column is not None else None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return int(value)
    return None


def media_objects(
    columns: reader.RunColumns,
) -> list[tuple[tuple[str, ...], dict[str, Any], int | None]]:
    """``(path, object, step)`` of every media object: the latest of each.

    History holds objects flattened (``h._type``, ``h.values``...) or whole;
    the latest logged one of each key is rebuilt. Objects only in the
    summary come from there, with no step.
    """
    found: dict[tuple[str, ...], tuple[dict[str, Any], int | None]] = {}
    for parent in sorted(_media_parents(columns.columns)):
        row = columns.columns[parent + (TYPE_KEY,)].rows[-1]
        rebuilt: dict[str, Any] = {}
        for path, column in columns.columns.items():
            if len(path) > len(parent) and path[: len(parent)] == parent:
                value = column.value_at(row)
                if value is not None:
                    set_nested(rebuilt, path[len(parent) :], value)
        found[parent] = (rebuilt, _step_at(columns, row))
    for path, column in columns.columns.items():
        if path in found or not column.texts or not column.texts[-1].startswith(b"{"):
            continue
        value = reader.loads_value(column.texts[-1].decode("utf-8", "replace"))
        if isinstance(value, dict) and isinstance(value.get(TYPE_KEY), str):
            found[path] = (value, _step_at(columns, column.rows[-1]))
    for path, value in _summary_objects(columns.run.summary, ()):
        found.setdefault(path, (value, None))
    return [(path, value, step) for path, (value, step) in sorted(found.items())]


def _summary_objects(
    value: dict[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    for key, item in value.items():
        if not isinstance(item, dict):
            continue
        if isinstance(item.get(TYPE_KEY), str):
            yield path + (key,), item
        else:
            yield from _summary_objects(item, path + (key,))


def histogram_report(
    path: tuple[str, ...], value: dict[str, Any], step: int | None
) -> dict[str, Any]:
    """A histogram object's counts and bin edges, with what is wrong if any."""
    counts = value.get("values")
    bins = value.get("bins")
    error = None
    if not (isinstance(counts, list) and isinstance(bins, list)):
        error = "no values and bins lists"
    elif len(bins) != len(counts) + 1:
        error = (
            f"{len(counts)} values need {len(counts) + 1} bin edges, not {len(bins)}"
        )
    elif not all(_is_number(item) for item in counts + bins):
        error = "values and bins must be numbers"
    return {
        "name": ".".join(path),
        "path": list(path),
        "step": step,
        "values": counts,
        "bins": bins,
        "error": error,
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _files_path(run_dir: str, relative: Any) -> str | None:
    """``files/<relative>`` inside the run, or None for paths that leave it."""
    if not isinstance(relative, str) or not relative:
        return None
    files = os.path.abspath(os.path.join(run_dir, "files"))
    full = os.path.abspath(os.path.join(files, relative))
    return full if os.path.commonpath([full, files]) == files else None


def table_report(
    run_dir: str,
    path: tuple[str, ...],
    value: dict[str, Any],
    step: int | None,
    max_rows: int,
) -> dict[str, Any]:
    """A table's columns and first rows, read from its ``.table.json``."""
    report: dict[str, Any] = {
        "name": ".".join(path),
        "path": list(path),
        "step": step,
        "file": value.get("path"),
        "nrows": value.get("nrows"),
        "ncols": value.get("ncols"),
        "columns": None,
        "rows": [],
        "error": None,
    }
    full = _files_path(run_dir, value.get("path"))
    if full is None:
        report["error"] = "no path inside the run's files/ folder"
        return report
    try:
        with open(full, encoding="utf-8") as handle:
            content = json.load(handle)
    except FileNotFoundError:
        report["error"] = f"file missing: {full}"
        return report
    except (OSError, ValueError) as error:
        report["error"] = f"unreadable: {error}"
        return report
    columns = content.get("columns") if isinstance(content, dict) else None
    data = content.get("data") if isinstance(content, dict) else None
    if not isinstance(columns, list) or not isinstance(data, list):
        report["error"] = "the file has no columns and data lists"
        return report
    report.update(
        columns=columns, rows=data[:max_rows], nrows=len(data), ncols=len(columns)
    )
    return report


def image_report(
    run_dir: str, path: tuple[str, ...], value: dict[str, Any], step: int | None
) -> dict[str, Any]:
    """An image's file, shape, format and size (on disk where it is)."""
    if value.get(TYPE_KEY) == "images/separated":
        names = value.get("filenames")
        files = [name for name in names if isinstance(name, str)] if names else []
    else:
        files = [value["path"]] if isinstance(value.get("path"), str) else []
    sizes = []
    missing = []
    for name in files:
        full = _files_path(run_dir, name)
        size = _size_or_none(full) if full is not None else None
        if size is None:
            missing.append(name)
        sizes.append(size)
    declared = value.get("size")
    return {
        "name": ".".join(path),
        "path": list(path),
        "step": step,
        "type": value.get(TYPE_KEY),
        "files": files,
        "count": value.get("count", len(files)),
        "width": value.get("width"),
        "height": value.get("height"),
        "format": value.get("format"),
        "size": sum(size for size in sizes if size is not None)
        if files and not missing
        else declared,
        "missing": missing,
    }


def _size_or_none(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def show_report(
    run_dir: str, log: str, table_rows: int
) -> tuple[dict[str, Any], list[list[float]]]:
    """Everything ``show`` prints about a run, and each metric's series.

    The report's keys are always the same: ``identity_report``'s, then
    ``config`` and ``summary`` (as logged), ``metrics`` (numeric history
    keys: name, path, count, last, min, max and the NaN/inf counts),
    ``values`` (other history keys: count and last value), the latest
    ``histograms``, ``tables`` (first rows), ``images`` and other ``media``,
    and the ``artifacts`` the run logged (``reader.artifact_overview``).
    """
    columns = read_log(log)
    metrics, others, series = history_report(columns)
    report = identity_report(run_dir, log, columns)
    report.update(
        config=columns.run.config,
        summary=columns.run.summary,
        metrics=metrics,
        values=others,
        histograms=[],
        tables=[],
        images=[],
        media=[],
        artifacts=columns.artifacts,
    )
    _add_media(report, run_dir, columns, table_rows)
    return report, series


def _add_media(
    report: dict[str, Any], run_dir: str, columns: reader.RunColumns, table_rows: int
) -> None:
    for path, value, step in media_objects(columns):
        kind = value.get(TYPE_KEY)
        if kind == "histogram":
            report["histograms"].append(histogram_report(path, value, step))
        elif kind == "table-file":
            report["tables"].append(
                table_report(run_dir, path, value, step, table_rows)
            )
        elif kind in ("image-file", "images/separated"):
            report["images"].append(image_report(run_dir, path, value, step))
        else:
            report["media"].append(
                {
                    "name": ".".join(path),
                    "path": list(path),
                    "step": step,
                    "type": kind,
                    "file": value.get("path"),
                }
            )


# ---------------------------------------------------------------------------
# show: the text view
# ---------------------------------------------------------------------------


def state_text(report: dict[str, Any]) -> str:
    """The state as a person reads it, with the exit code."""
    if report["exit_code"] is None:
        return "running or crashed (no exit record: the run did not finish cleanly)"
    if report["exit_code"] == 0:
        return "finished"
    return f"failed (exit code {report['exit_code']})"


def render_show(
    report: dict[str, Any], screen: Screen, series: list[list[float]]
) -> None:
    """Lay out a ``show_report`` on ``screen``."""
    _render_identity(report, screen)
    _render_mapping("config", _flatten(report["config"], skip_internal=True), screen)
    _render_mapping("summary", _flatten(report["summary"], skip_internal=True), screen)
    _render_metrics(report, series, screen)
    _render_values(report["values"], screen)
    for histogram in report["histograms"]:
        _render_histogram(histogram, screen)
    for table in report["tables"]:
        _render_table(table, screen)
    _render_images(report["images"], screen)
    _render_other_media(report["media"], screen)
    _render_artifacts(report["artifacts"], screen)


def _render_identity(report: dict[str, Any], screen: Screen) -> None:
    screen.line(os.path.basename(report["run_dir"]) or report["run_dir"])
    rows = [
        ("state", state_text(report)),
        ("id", report["id"] or "-"),
        ("name", report["name"] or "-"),
        ("project", report["project"] or "-"),
        ("started", local_time(report["start_timestamp"])),
        ("runtime", format_duration(report["runtime"])),
        ("steps", _steps_text(report)),
        ("log", report["log"]),
    ]
    rows += [("problem", problem) for problem in report["problems"]]
    for label, text in rows:
        screen.line(f"  {label:<9} {_one_line(text)}")


def _steps_text(report: dict[str, Any]) -> str:
    rows = report["steps"]
    text = f"{rows} history row{'s' if rows != 1 else ''}"
    if report["last_step"] is not None:
        text += f", last step {report['last_step']}"
    return text


def _flatten(
    value: dict[str, Any], skip_internal: bool, prefix: str = ""
) -> list[tuple[str, str]]:
    """``(dotted key, text)`` of a nested dict; media objects described."""
    lines = []
    for key, item in value.items():
        if skip_internal and not prefix and str(key).startswith(INTERNAL_PREFIX):
            continue
        name = f"{prefix}{key}"
        if isinstance(item, dict) and isinstance(item.get(TYPE_KEY), str):
            lines.append((name, describe_media(item)))
        elif isinstance(item, dict) and item:
            lines.extend(_flatten(item, False, name + "."))
        else:
            lines.append((name, _one_line(item)))
    return lines


def describe_media(value: dict[str, Any]) -> str:
    """One line about a media object of the summary."""
    kind = value[TYPE_KEY]
    if kind == "histogram":
        counts = value.get("values")
        bins = f"{len(counts)} bins" if isinstance(counts, list) else "no bins"
        return f"histogram, {bins}"
    shape = f"{value.get('width')}x{value.get('height')}"
    if kind == "table-file":
        size = f"{value.get('nrows')} rows x {value.get('ncols')} columns"
        return f"table, {size}: {value.get('path')}"
    if kind == "image-file":
        return f"image {shape} {value.get('format')}: {value.get('path')}"
    if kind == "images/separated":
        return f"{value.get('count')} images {shape}"
    return f"{kind}: {value['path']}" if isinstance(value.get("path"), str) else kind


def _render_mapping(title: str, lines: list[tuple[str, str]], screen: Screen) -> None:
    screen.line()
    if not lines:
        screen.line(f"{title}: (empty)")
        return
    screen.line(title)
    name_width = min(max(text_width(name) for name, _ in lines), MAX_NAME)
    for name, text in sorted(lines) if title == "summary" else lines:
        screen.line(f"  {pad(name, name_width)}  {text}")


def _metric_layout(report: dict[str, Any], screen: Screen) -> tuple[int, int, int]:
    """Widths of the name, sparkline and number columns."""
    metrics = report["metrics"]
    numbers = [
        format_number(metric[key])
        for metric in metrics
        for key in ("last", "min", "max")
        if metric[key] is not None
    ]
    number_width = min(max([len(text) for text in numbers] + [4]), 12)
    names = max(text_width(metric["name"]) for metric in metrics)
    name_width = min(max(names, 4), MAX_NAME, screen.layout_width // 4)
    room = screen.layout_width - 2 - name_width - 2 - 3 * (number_width + 2)
    spark_width = min(max(room, MIN_SPARKLINE), MAX_SPARKLINE)
    return name_width, spark_width, number_width


def _render_metrics(
    report: dict[str, Any], series: list[list[float]], screen: Screen
) -> None:
    screen.line()
    if not report["metrics"]:
        screen.line("metrics: (none logged)")
        return
    name_width, spark_width, number_width = _metric_layout(report, screen)
    screen.line(
        f"metrics  (history; {screen.glyphs.nan} NaN, "
        f"{screen.glyphs.pos_inf} +inf, {screen.glyphs.neg_inf} -inf)"
    )
    header = "  " + pad("name", name_width) + "  " + pad("history", spark_width)
    for label in ("last", "min", "max"):
        header += "  " + pad(label, number_width, right=True)
    screen.line(header)
    for metric, values in zip(report["metrics"], series):
        line = "  " + pad(metric["name"], name_width) + "  "
        line += pad(sparkline(values, spark_width, screen.glyphs), spark_width)
        for key in ("last", "min", "max"):
            text = format_number(metric[key]) if metric[key] is not None else "-"
            line += "  " + pad(text, number_width, right=True)
        screen.line(line)


def _render_values(values: list[dict[str, Any]], screen: Screen) -> None:
    if not values:
        return
    screen.line()
    screen.line("other history values  (last logged)")
    name_width = min(max(text_width(value["name"]) for value in values), MAX_NAME)
    for value in values:
        count = f"({value['count']} logged)"
        screen.line(
            f"  {pad(value['name'], name_width)}  {_one_line(value['last'])}  {count}"
        )


def histogram_rows(
    counts: list[float], bins: list[float]
) -> list[tuple[float, float, float]]:
    """``(low edge, high edge, count)`` rows, neighbours merged to fit."""
    group = max(1, math.ceil(len(counts) / MAX_HISTOGRAM_ROWS))
    rows = []
    for start in range(0, len(counts), group):
        end = min(start + group, len(counts))
        rows.append((bins[start], bins[end], sum(counts[start:end])))
    return rows


def histogram_bars(
    rows: list[tuple[float, float, float]], width: int, bar: str
) -> list[str]:
    """Bars proportional to the counts; a non-zero count gets at least one."""
    largest = max((count for _lo, _hi, count in rows), default=0)
    bars = []
    for _lo, _hi, count in rows:
        length = round(count / largest * width) if largest > 0 else 0
        if count > 0:
            length = max(length, 1)
        bars.append(bar * length)
    return bars


def _render_histogram(histogram: dict[str, Any], screen: Screen) -> None:
    screen.line()
    where = f" at step {histogram['step']}" if histogram["step"] is not None else ""
    if histogram["error"] is not None:
        screen.line(f"histogram {histogram['name']}{where}: {histogram['error']}")
        return
    counts, bins = histogram["values"], histogram["bins"]
    screen.line(f"histogram {histogram['name']}{where}  ({len(counts)} bins)")
    if not counts:
        return
    rows = histogram_rows(counts, bins)
    labels = [f"{format_number(lo)} .. {format_number(hi)}" for lo, hi, _ in rows]
    label_width = max(text_width(label) for label in labels)
    count_texts = [format_number(count) for _lo, _hi, count in rows]
    count_width = max(len(text) for text in count_texts)
    room = screen.layout_width - 2 - label_width - 2 - 2 - count_width
    bars = histogram_bars(rows, min(max(room, 1), MAX_BAR), screen.glyphs.bar)
    bar_width = max(len(bar) for bar in bars)
    for label, bar, count in zip(labels, bars, count_texts):
        screen.line(
            f"  {pad(label, label_width, right=True)}  {pad(bar, bar_width)}  "
            f"{pad(count, count_width, right=True)}"
        )


def cell_text(cell: Any) -> str:
    """A table cell in a few characters: media cells by their kind."""
    if isinstance(cell, dict) and isinstance(cell.get(TYPE_KEY), str):
        kind = cell[TYPE_KEY]
        if kind == "image-file":
            return f"<image {cell.get('width')}x{cell.get('height')}>"
        if kind == "histogram" and isinstance(cell.get("values"), list):
            return f"<histogram {len(cell['values'])} bins>"
        return f"<{kind}>"
    if cell is None:
        return ""
    return _one_line(cell)


def table_lines(columns: list[Any], rows: list[Any], width: int) -> list[str]:
    """An aligned text table of ``rows``, as many columns as fit ``width``."""
    texts = [
        [cell_text(cell) for cell in row] if isinstance(row, list) else []
        for row in rows
    ]
    headers = [_one_line(column) for column in columns]
    widths: list[int] = []
    used = 2
    for index, header in enumerate(headers):
        cells = [row[index] for row in texts if index < len(row)]
        column_width = min(
            max([text_width(header)] + [text_width(c) for c in cells]), MAX_CELL
        )
        if used + column_width > width and widths:
            break
        widths.append(column_width)
        used += column_width + 2
    hidden = len(headers) - len(widths)
    lines = ["  " + "  ".join(pad(h, w) for h, w in zip(headers, widths))]
    lines.append("  " + "  ".join("-" * w for w in widths))
    for row in texts:
        cells = row + [""] * (len(widths) - len(row))
        lines.append("  " + "  ".join(_aligned(c, w) for c, w in zip(cells, widths)))
    lines = [line.rstrip() for line in lines]
    if hidden:
        lines[0] += f"  (+{hidden} more column{'s' if hidden != 1 else ''})"
    return lines


def _aligned(text: str, width: int) -> str:
    # Numbers line up on the right, as in a spreadsheet.
    try:
        float(text)
    except ValueError:
        return pad(text, width)
    return pad(text, width, right=True)


def _render_table(table: dict[str, Any], screen: Screen) -> None:
    screen.line()
    where = f" at step {table['step']}" if table["step"] is not None else ""
    title = f"table {table['name']}{where}: {table['file']}"
    if table["error"] is not None:
        screen.line(f"{title} ({table['error']})")
        return
    screen.line(f"{title} ({table['nrows']} rows x {table['ncols']} columns)")
    for line in table_lines(table["columns"], table["rows"], screen.layout_width):
        screen.line(line)
    more = table["nrows"] - len(table["rows"])
    if more > 0:
        screen.line(f"  ... {more} more row{'s' if more != 1 else ''}")


def _render_images(images: list[dict[str, Any]], screen: Screen) -> None:
    for image in images:
        screen.line()
        where = f" at step {image['step']}" if image["step"] is not None else ""
        shape = f"{image['width']}x{image['height']} {image['format'] or ''}".strip()
        size = (
            format_size(image["size"]) if image["size"] is not None else "size unknown"
        )
        if image["type"] == "images/separated":
            screen.line(
                f"images {image['name']}{where}: {image['count']} images, {shape}"
            )
        else:
            screen.line(f"image {image['name']}{where}: {shape}, {size}")
        for name in image["files"]:
            missing = " (file missing)" if name in image["missing"] else ""
            screen.line(f"  {name}{missing}")


def _render_other_media(media: list[dict[str, Any]], screen: Screen) -> None:
    if not media:
        return
    screen.line()
    screen.line("other media")
    for item in media:
        where = f" at step {item['step']}" if item["step"] is not None else ""
        screen.line(f"  {item['name']}{where}: {item['type']} {item['file'] or ''}")


def _render_artifacts(artifacts: list[dict[str, Any]], screen: Screen) -> None:
    if not artifacts:
        return
    screen.line()
    screen.line("artifacts")
    for artifact in artifacts:
        aliases = ", ".join(artifact["aliases"])
        if artifact["manifest_file"]:
            contents = f"manifest in {artifact['manifest_file']}"
        else:
            noun = "file" if artifact["files"] == 1 else "files"
            contents = f"{artifact['files']} {noun}, {format_size(artifact['size'])}"
            if artifact["references"]:
                contents += f" ({artifact['references']} by reference)"
        screen.line(
            f"  {artifact['name']} ({artifact['type']}) {aliases}: {contents}, "
            f"digest {artifact['digest']}"
        )


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


def runs_report(directory: str) -> list[dict[str, Any]]:
    """Every run under ``directory`` (or its wandb folder), oldest first.

    Raises:
        UsageError: ``directory`` does not exist or holds no run folders.
    """
    if not os.path.isdir(directory):
        raise UsageError(f"{directory} is not a directory.")
    folders = {
        os.path.realpath(folder): folder
        for home in (runs_home(directory), directory)
        for folder in run_folders(home)
    }
    if not folders:
        msg = (
            f"{directory} holds no run: no offline-run-* or run-* folders in it "
            "or in its wandb folder."
        )
        raise UsageError(msg)
    entries = [_run_entry(folder) for folder in folders.values()]
    entries.sort(key=_start_key)
    return entries


def _run_entry(run_dir: str) -> dict[str, Any]:
    log = log_in(run_dir)
    entry: dict[str, Any]
    if log is None:
        columns = reader.RunColumns(reader.RunLog(problems=["no .wandb log"]))
        entry = identity_report(run_dir, "", columns)
        entry.update(log=None, state="no log")
    else:
        try:
            columns = reader.read_run_columns(log, overview=True)
        except (LogFormatError, OSError) as error:
            columns = reader.RunColumns(reader.RunLog(problems=[str(error)]))
            entry = identity_report(run_dir, log, columns)
            entry["state"] = "unreadable"
        else:
            entry = identity_report(run_dir, log, columns)
    entry["size"] = disk_size(run_dir)
    return entry


def _start_key(entry: dict[str, Any]) -> tuple[float, str]:
    # Runs whose log lost its run record sort by their folder's time.
    start = entry["start_timestamp"]
    if start is None:
        try:
            start = os.path.getmtime(entry["run_dir"])
        except OSError:
            start = 0.0
    return float(start), entry["run_dir"]


def _state_cell(entry: dict[str, Any]) -> str:
    if entry["state"] == "failed":
        return f"failed ({entry['exit_code']})"
    return str(entry["state"])


def render_runs(entries: list[dict[str, Any]], screen: Screen) -> None:
    """Lay out a ``runs_report`` as a table."""
    headers = ("id", "name", "state", "steps", "started", "size", "folder")
    rows = [
        (
            entry["id"] or "-",
            entry["name"] or "-",
            _state_cell(entry),
            str(entry["steps"]),
            local_time(entry["start_timestamp"]),
            format_size(entry["size"]),
            os.path.basename(entry["run_dir"]),
        )
        for entry in entries
    ]
    widths = [
        max(text_width(_one_line(row[index])) for row in rows + [headers])
        for index in range(len(headers))
    ]
    widths[1] = min(widths[1], MAX_NAME)
    right = {3, 5}
    for row in [headers] + rows:
        cells = [
            pad(_one_line(cell), width, right=index in right)
            for index, (cell, width) in enumerate(zip(row, widths))
        ]
        screen.line("  ".join(cells))


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``wandb-core`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="wandb-core",
        description="Look at local W&B runs (ours or the official client's).",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    show = commands.add_parser(
        "show",
        help="print a run: state, config, summary, metric sparklines, media",
        description="Print a run (default: the latest run under $WANDB_DIR "
        "or the current directory).",
    )
    show.add_argument(
        "run_dir",
        nargs="?",
        metavar="RUN_DIR",
        help="a run folder, its .wandb log, or a folder whose latest run to show",
    )
    show.add_argument("--json", action="store_true", help="print JSON for programs")
    show.add_argument(
        "--rows",
        type=_row_count,
        default=DEFAULT_TABLE_ROWS,
        help=f"table rows to print (default {DEFAULT_TABLE_ROWS})",
    )
    show.set_defaults(handler=_show)
    runs = commands.add_parser(
        "runs",
        help="list local runs: id, name, state, steps, start time, size",
        description="List the runs under DIR/wandb and DIR (default: "
        "$WANDB_DIR or the current directory), oldest first.",
    )
    runs.add_argument("directory", nargs="?", metavar="DIR")
    runs.add_argument("--json", action="store_true", help="print JSON for programs")
    runs.set_defaults(handler=_runs)
    return parser


def _row_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        msg = f"--rows takes a whole number of rows, 0 or more, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _show(arguments: argparse.Namespace, stream: TextIO) -> int:
    run_dir, log = find_run(arguments.run_dir)
    report, series = show_report(run_dir, log, arguments.rows)
    if arguments.json:
        write_text(
            stream, json.dumps(plain(report), indent=2, ensure_ascii=False) + "\n"
        )
        return EXIT_OK
    screen = Screen(stream)
    render_show(report, screen, series)
    screen.flush()
    return EXIT_OK


def _runs(arguments: argparse.Namespace, stream: TextIO) -> int:
    entries = runs_report(arguments.directory or default_root())
    if arguments.json:
        write_text(
            stream, json.dumps(plain(entries), indent=2, ensure_ascii=False) + "\n"
        )
        return EXIT_OK
    screen = Screen(stream)
    render_runs(entries, screen)
    screen.flush()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wandb-core`` with ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 when done, 2 for usage errors and paths that
        hold no run, 1 when a file could not be read.
    """
    parser = build_parser()
    arguments = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace, TextIO], int] | None = getattr(
        arguments, "handler", None
    )
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # Reading a long log makes millions of small objects, none in a cycle;
    # the cycle collector's passes over them would cost a third of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return handler(arguments, sys.stdout)
    except UsageError as error:
        write_text(sys.stderr, f"wandb-core: error: {error}\n")
        return EXIT_USAGE
    except OSError as error:
        write_text(sys.stderr, f"wandb-core: error: {error}\n")
        return EXIT_READ_ERROR
    finally:
        if collecting:
            gc.enable()
