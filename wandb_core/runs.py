"""The Run: step rules, config, summary and metric definitions.

Everything a ``log()`` call needs happens on the caller's thread and is
cheap: the ``_fast`` twin validates and encodes the row, the run applies
the official step rules, updates the summary in memory and hands the
encoded history record to the writer thread. The summary reaches the log
as a summary record when it changed, at most once per flush interval, and
complete at ``finish()``.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from wandb_core import _term
from wandb_core._fast import (
    deep_value,
    encode_history,
    encode_summary,
    flatten_row,
    value_json,
)
from wandb_core._paths import get_nested, pop_nested, set_nested
from wandb_core.backend import records
from wandb_core.errors import UsageError, ValueTypeError, ValueValueError
from wandb_core.values import (
    is_normalized_number,
    normalize,
    normalize_config,
    summary_statistics,
)

if TYPE_CHECKING:
    from wandb_core.backend.writer import LogWriter

logger = logging.getLogger(__name__)

Path = tuple[str, ...]

SUMMARY_KINDS = ("min", "max", "mean", "first", "last", "best", "copy", "none")
_GOALS = {
    "minimize": records.GOAL_MINIMIZE,
    "min": records.GOAL_MINIMIZE,
    "maximize": records.GOAL_MAXIMIZE,
    "max": records.GOAL_MAXIMIZE,
}


# ---------------------------------------------------------------------------
# Metric definitions
# ---------------------------------------------------------------------------


class Metric:
    """What ``define_metric`` declared about one metric name or glob."""

    def __init__(
        self,
        name: str,
        step_metric: str | None,
        step_sync: bool,
        hidden: bool,
        summary: tuple[str, ...],
        goal: str | None,
    ) -> None:
        self.name = name
        self.step_metric = step_metric
        self.step_sync = step_sync
        self.hidden = hidden
        self.summary = summary
        self.goal = goal

    @property
    def is_glob(self) -> bool:
        """Whether the name is a glob pattern such as ``val/*``."""
        return "*" in self.name or "?" in self.name

    def __repr__(self) -> str:
        return f"<Metric {self.name!r} summary={','.join(self.summary) or None}>"


class _Aggregate:
    """Running min, max, mean, first and last of one metric's values."""

    __slots__ = ("count", "total", "minimum", "maximum", "first", "last")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.minimum: Any = None
        self.maximum: Any = None
        self.first: Any = None
        self.last: Any = None

    def add(self, value: Any) -> None:
        if self.count == 0 and self.first is None:
            self.first = value
        self.last = value
        if not is_normalized_number(value):
            return
        if value != value:  # NaN neither moves min/max nor the mean
            return
        self.count += 1
        self.total += value
        if self.minimum is None or value < self.minimum:
            self.minimum = value
        if self.maximum is None or value > self.maximum:
            self.maximum = value

    def view(self, metric: Metric) -> dict[str, Any]:
        """The summary object for the kinds the metric asked for."""
        shown: dict[str, Any] = {}
        for kind in metric.summary:
            if kind in ("last", "copy"):
                shown["last"] = self.last
            elif kind == "first":
                shown["first"] = self.first
            elif kind == "min" and self.minimum is not None:
                shown["min"] = self.minimum
            elif kind == "max" and self.maximum is not None:
                shown["max"] = self.maximum
            elif kind == "mean" and self.count:
                shown["mean"] = self.total / self.count
            elif kind == "best" and metric.goal is not None:
                best = self.minimum if metric.goal == "minimize" else self.maximum
                if best is not None:
                    shown["best"] = best
        return shown


def parse_summary(summary: str | None) -> tuple[str, ...]:
    """``"min,max"`` as ``("min", "max")``; refuses unknown kinds."""
    if not summary:
        return ()
    kinds = tuple(part.strip().lower() for part in summary.split(",") if part.strip())
    for kind in kinds:
        if kind not in SUMMARY_KINDS:
            msg = (
                f"Summary kind {kind!r} in {summary!r} is not one of "
                f"{', '.join(SUMMARY_KINDS)}."
            )
            raise ValueValueError(msg)
    return kinds


# ---------------------------------------------------------------------------
# Config and summary views
# ---------------------------------------------------------------------------


class Config:
    """The run's hyperparameters: a dict that also allows attribute access."""

    def __init__(self, run: Run | None = None) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_items", {})

    def _set_many(self, values: Mapping[str, Any]) -> None:
        plain = plain_mapping("Config", (), values, normalize_config)
        texts = [(key, value_json(value)) for key, value in plain.items()]
        self._items.update(plain)
        if self._run is not None and texts:
            self._run._config_changed(texts, ())

    def update(
        self, values: Any = None, allow_val_change: bool | None = None, **more: Any
    ) -> None:
        """Add or change keys from a dict, an ``argparse.Namespace`` or kwargs."""
        merged = dict(as_config_dict(values)) if values is not None else {}
        merged.update(more)
        self._set_many(merged)

    def setdefaults(self, values: Mapping[str, Any]) -> None:
        """Add the keys that are not set yet."""
        self._set_many({k: v for k, v in values.items() if k not in self._items})

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        return self._items.get(key, default)

    def keys(self) -> Any:
        """The config keys."""
        return self._items.keys()

    def items(self) -> Any:
        """The config items."""
        return self._items.items()

    def values(self) -> Any:
        """The config values."""
        return self._items.values()

    def as_dict(self) -> dict[str, Any]:
        """A shallow copy of the config as a plain dict."""
        return dict(self._items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._set_many({key: value})

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        if self._run is not None:
            self._run._config_changed((), (key,))

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):  # copy and pickle probe for special methods
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            msg = f"The config has no key {key!r}."
            raise AttributeError(msg) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self._set_many({key: value})

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Config({self._items!r})"


def plain_mapping(
    kind: str,
    path: Path,
    values: Mapping[str, Any],
    normalizer: Callable[[Path, Any], Any] = normalize,
) -> dict[str, Any]:
    """Validate and normalize values set by hand in the config or summary."""
    plain = {}
    for key, value in values.items():
        if not isinstance(key, str):
            msg = f"{kind} key {key!r} is a {type(key).__name__}; keys must be strings."
            raise ValueTypeError(msg)
        plain[key] = deep_value(value, path + (key,), normalizer)
    return plain


def as_config_dict(values: Any) -> Mapping[str, Any]:
    """A config mapping from a dict, a Namespace or an object with ``__dict__``."""
    if isinstance(values, Mapping):
        return values
    if isinstance(values, str):
        return _load_yaml_config(values)
    if hasattr(values, "__dict__"):
        return {k: v for k, v in vars(values).items() if not k.startswith("_")}
    msg = (
        f"Config of type {type(values).__name__} is not supported; pass a dict, "
        "an argparse.Namespace or the path of a YAML file."
    )
    raise ValueTypeError(msg)


def _load_yaml_config(path: str) -> dict[str, Any]:
    import yaml

    with open(path, encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle) or {}
    if not isinstance(loaded, dict):
        msg = f"Config file {path!r} does not hold a mapping."
        raise ValueValueError(msg)
    return {
        key: value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in loaded.items()
        if key not in ("wandb_version", "_wandb")
    }


class _SummaryView(MutableMapping[str, Any]):
    """A dict-like view of (part of) the summary that records every change.

    Nested dicts come back as views too, so ``del summary["a"]["b"]``
    reaches the log as a removal, as ``del summary["a"]`` does.
    """

    def __init__(self, run: Run, path: Path) -> None:
        self._run = run
        self._path = path

    def _target(self) -> dict[str, Any]:
        target = self._run._summary_values
        for key in self._path:
            child = target.get(key)
            if not isinstance(child, dict):
                return {}
            target = child
        return target

    def __getitem__(self, key: str) -> Any:
        value = self._target()[key]
        if isinstance(value, dict):
            return _SummaryView(self._run, self._path + (key,))
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._run._summary_set(self._path, {key: value})

    def __delitem__(self, key: str) -> None:
        if key not in self._target():
            raise KeyError(key)
        self._run._summary_delete(self._path + (key,))

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._target()))

    def __len__(self) -> int:
        return len(self._target())

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            msg = f"The summary has no key {'.'.join(self._path + (key,))!r}."
            raise AttributeError(msg) from None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _SummaryView):
            other = other._target()
        return self._target() == other

    __hash__ = None  # type: ignore[assignment]

    def as_dict(self) -> dict[str, Any]:
        """A deep copy as plain dicts."""
        copied: dict[str, Any] = _deep_copy(self._target())
        return copied

    def update(self, values: Any = None, /, **more: Any) -> None:
        """Set several keys at once."""
        merged = dict(values or {})
        merged.update(more)
        self._run._summary_set(self._path, merged)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._target()!r})"


class Summary(_SummaryView):
    """The run's summary: the last value of each metric, unless set by hand."""

    def __init__(self, run: Run) -> None:
        super().__init__(run, ())


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


class Run:
    """One run: what ``wandb_core.init`` returns."""

    def __init__(
        self,
        *,
        run_id: str,
        name: str | None,
        project: str | None,
        entity: str | None,
        group: str | None,
        job_type: str | None,
        notes: str | None,
        tags: tuple[str, ...],
        mode: str,
        run_dir: str | None,
        log_path: str | None,
        start_time: float,
        writer: LogWriter | None,
    ) -> None:
        self.id = run_id
        self._name = name
        self.project = project or "uncategorized"
        self.entity = entity or ""
        self.group = group
        self.job_type = job_type
        self.notes = notes
        self.tags = tags
        self.mode = mode
        self.run_dir = run_dir or ""
        # As in the official client, ``dir`` is where run files are saved.
        self.dir = os.path.join(run_dir, "files") if run_dir else ""
        self.log_path = log_path
        self.start_time = start_time
        self._start_monotonic = time.monotonic()
        self._writer = writer
        self._disabled = writer is None
        self._owner_pid = os.getpid()
        self._lock = threading.RLock()
        self._finished = False
        self._step = 0
        self._pending: dict[Path, tuple[Any, str]] = {}
        self._summary_values: dict[str, Any] = {}
        self._summary_dirty: set[str] = set()
        self._summary_file_dirty = False
        self._config_file_dirty = False
        self._metrics: dict[str, Metric] = {}
        self._metric_cache: dict[Path, Metric | None] = {}
        self._aggregates: dict[Path, _Aggregate] = {}
        self._step_values: dict[str, Any] = {}
        self._errors: list[BaseException] = []
        self._forwarder: Any = None
        self._media_step: int | str = 0
        self._media_files: list[str] = []
        self._finish_hooks: list[Any] = []
        self.config = Config(self)
        self.summary = Summary(self)

    # -- identity ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The display name; offline runs without one are named by their id."""
        return self._name or self.id

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def path(self) -> str:
        """``entity/project/id``."""
        return "/".join(part for part in (self.entity, self.project, self.id) if part)

    @property
    def step(self) -> int:
        """The step the next committed row gets."""
        return self._step

    @property
    def offline(self) -> bool:
        """Whether the run is logged offline."""
        return self.mode == "offline"

    @property
    def disabled(self) -> bool:
        """Whether the run is a no-op (``mode="disabled"``)."""
        return self._disabled

    def __repr__(self) -> str:
        return f"<Run {self.path} ({self.mode})>"

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    # -- logging -----------------------------------------------------------------------

    def log(
        self,
        data: Mapping[str, Any],
        step: int | None = None,
        commit: bool | None = None,
    ) -> None:
        """Log a row of metrics, as the official client's ``Run.log``.

        Without ``step`` each call commits a row and advances ``_step``;
        ``commit=False`` merges into the pending row instead. A ``step``
        above the current one commits the pending row first; one below it
        is refused with a warning and dropped.
        """
        if self._disabled:
            return
        if self._finished:
            msg = f"Run {self.id} is finished; log() cannot add data to it."
            raise UsageError(msg)
        if not isinstance(data, Mapping):
            msg = f"log() takes a dict of metrics, not a {type(data).__name__}."
            raise ValueTypeError(msg)
        if os.getpid() != self._owner_pid:
            self._forward(data, step, commit)
            return
        row = data if type(data) is dict else dict(data)
        if step is not None:
            step = _check_step(step)
        with self._lock:
            # Media files are named by the step before the call, as the
            # official client names them, even when step= moves it on.
            self._media_step = self._step
            try:
                leaves = flatten_row(row, self._normalize)
            finally:
                media_files, self._media_files = self._media_files, []
            if media_files:
                self._announce_files(media_files)
            self._log_leaves(leaves, step, commit)

    def _log_leaves(
        self, leaves: list[Any], step: int | None, commit: bool | None
    ) -> None:
        if self._finished:  # finish() ran in another thread meanwhile
            msg = f"Run {self.id} is finished; log() cannot add data to it."
            raise UsageError(msg)
        if step is not None:
            if step < self._step:
                _term.warn(
                    f"Step {step} is lower than the current step {self._step}; "
                    "steps must increase, so this row is dropped."
                )
                return
            if step > self._step:
                if self._pending:
                    self._commit()
                self._step = step
        pending = self._pending
        for path, value, text in leaves:
            pending[path] = (value, text)
        if commit is None:
            commit = step is None
        if commit:
            self._commit()

    def _commit(self) -> None:
        row = self._pending
        self._pending = {}
        if self._metrics:
            self._sync_step_metrics(row)
        now = time.time()
        # Microseconds are plenty, and 11 fewer digits a row.
        runtime = round(time.monotonic() - self._start_monotonic, 6)
        items = [(path, entry[1]) for path, entry in row.items()]
        assert self._writer is not None
        self._writer.submit(encode_history(items, self._step, runtime, now))
        self._update_summary(row)
        summary = self._summary_values
        summary["_step"] = self._step
        summary["_runtime"] = runtime
        summary["_timestamp"] = now
        self._summary_dirty.update(("_step", "_runtime", "_timestamp"))
        self._step += 1

    def _update_summary(self, row: dict[Path, tuple[Any, str]]) -> None:
        summary = self._summary_values
        dirty = self._summary_dirty
        metrics = self._metrics
        for path, (value, _text) in row.items():
            if metrics:
                metric = self._metric_for(path)
                if metric is not None and metric.summary:
                    value = self._aggregate(path, value, metric)
                    if value is None:
                        continue
            if value is None:
                continue
            if len(path) == 1:
                summary[path[0]] = value
            else:
                set_nested(summary, path, value)
            dirty.add(path[0])
        self._summary_file_dirty = True

    def _aggregate(self, path: Path, value: Any, metric: Metric) -> Any:
        if "none" in metric.summary:
            pop_nested(self._summary_values, path)
            return None
        aggregate = self._aggregates.get(path)
        if aggregate is None:
            aggregate = self._aggregates[path] = _Aggregate()
        aggregate.add(value)
        return aggregate.view(metric)

    def _sync_step_metrics(self, row: dict[Path, tuple[Any, str]]) -> None:
        for name in {m.step_metric for m in self._metrics.values() if m.step_metric}:
            step_path = (name,)
            if step_path in row:
                self._step_values[name] = row[step_path]
        for path in list(row):
            metric = self._metric_for(path)
            if metric is None or not metric.step_metric or not metric.step_sync:
                continue
            step_path = (metric.step_metric,)
            if step_path not in row and metric.step_metric in self._step_values:
                row[step_path] = self._step_values[metric.step_metric]

    def _metric_for(self, path: Path) -> Metric | None:
        cache = self._metric_cache
        if path in cache:
            return cache[path]
        name = ".".join(path)
        metric = self._metrics.get(name)
        if metric is None:
            for candidate in self._metrics.values():
                if candidate.is_glob and fnmatch.fnmatchcase(name, candidate.name):
                    metric = candidate
                    break
        cache[path] = metric
        return metric

    def _normalize(self, path: Path, value: Any) -> Any:
        """Normalize a value; media objects write their files through the run.

        A value whose type has ``_wandb_core_log_value(run, path, step)``
        (Histogram, Table, Image) returns its JSON reference object from it;
        a list of such values whose type has ``_wandb_core_log_sequence``
        logs as one object (an image gallery). Files they write go through
        ``add_media_file`` and are announced only if the whole row is valid.
        ``step`` is the step before the call, or ``"summary"``.
        """
        to_log = getattr(type(value), "_wandb_core_log_value", None)
        if to_log is not None:
            return to_log(value, self, path, self._media_step)
        if type(value) in (list, tuple) and value:
            kind = type(value[0])
            log_sequence = getattr(kind, "_wandb_core_log_sequence", None)
            if log_sequence is not None and all(type(v) is kind for v in value):
                return log_sequence(value, self, path, self._media_step)
        return normalize(path, value)

    def _normalize_summary(self, path: Path, value: Any) -> Any:
        """As ``_normalize``; big arrays become statistics, not histograms."""
        statistics = summary_statistics(value)
        if statistics is not None:
            return statistics
        return self._normalize(path, value)

    def add_media_file(self, relative_path: str) -> None:
        """Record a file written under ``files/`` for the row being logged."""
        self._media_files.append(relative_path)

    def write_record(self, body: bytes) -> None:
        """Queue a record body built elsewhere in the package (media, artifacts).

        Bodies come from ``backend.records`` builders, without ``num``. In a
        process forked after ``init`` they go to the parent, which writes them.
        """
        if self._writer is None:
            return
        if os.getpid() == self._owner_pid:
            self._writer.submit(body)
        else:
            from wandb_core import _fork

            _fork.forward_record(self, body)

    def _record_from_child(self, body: bytes) -> None:
        """A record a forked child built whole (an artifact it logged)."""
        with self._lock:
            if not self._finished and self._writer is not None:
                self._writer.submit(body)

    def _announce_files(self, relative_paths: list[str]) -> None:
        if self._writer is not None and os.getpid() == self._owner_pid:
            self._writer.submit(records.files(relative_paths, records.FILE_TYPE_MEDIA))

    def _forward(
        self, data: Mapping[str, Any], step: int | None, commit: bool | None
    ) -> None:
        from wandb_core import _fork

        _fork.forward_row(self, data, step, commit)

    def _log_from_child(self, leaves: list[Any], commit: bool | None) -> None:
        """Rows from forked children: each gets the next step of the run."""
        with self._lock:
            if self._finished:
                return
            if self._pending:
                self._commit()
            self._log_leaves(leaves, None, True if commit is None else commit)

    # -- define_metric -----------------------------------------------------------------

    def define_metric(
        self,
        name: str,
        step_metric: str | Metric | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
    ) -> Metric:
        """Declare how a metric (or a glob of metrics) is stepped and summarized."""
        if not isinstance(name, str) or not name:
            msg = f"define_metric() needs a non-empty metric name, not {name!r}."
            raise ValueValueError(msg)
        if isinstance(step_metric, Metric):
            step_metric = step_metric.name
        kinds = parse_summary(summary)
        goal_code = 0
        if goal is not None:
            goal_code = _GOALS.get(goal.lower(), 0)
            if not goal_code:
                msg = (
                    f"Goal {goal!r} for metric {name!r} is not "
                    "'minimize' or 'maximize'."
                )
                raise ValueValueError(msg)
        goal_name = (
            None
            if not goal_code
            else ("minimize" if goal_code == records.GOAL_MINIMIZE else "maximize")
        )
        sync = bool(step_metric) if step_sync is None else step_sync
        metric = Metric(name, step_metric, sync, bool(hidden), kinds, goal_name)
        if self._disabled:
            return metric
        with self._lock:
            self._metrics[name] = metric
            self._metric_cache.clear()
            if self._writer is not None and os.getpid() == self._owner_pid:
                self._writer.submit(
                    records.metric(
                        name=None if metric.is_glob else name,
                        glob_name=name if metric.is_glob else None,
                        step_metric=step_metric,
                        step_sync=sync,
                        hidden=bool(hidden),
                        summary=kinds,
                        goal=goal_code,
                        overwrite=bool(overwrite),
                        run_id=self.id,
                    )
                )
        return metric

    # -- config and summary plumbing ---------------------------------------------------

    def _config_changed(self, updates: Any, removes: Any) -> None:
        if self._disabled or self._writer is None or os.getpid() != self._owner_pid:
            return
        with self._lock:
            self._writer.submit(records.config(updates, removes, self.id))
            self._config_file_dirty = True

    def _summary_set(self, path: Path, values: Mapping[str, Any]) -> None:
        with self._lock:
            self._media_step = "summary"  # media set by hand: <key>_summary_<hash>
            try:
                plain = plain_mapping("Summary", path, values, self._normalize_summary)
            finally:
                media_files, self._media_files = self._media_files, []
            if media_files:
                self._announce_files(media_files)
            for key, value in plain.items():
                full_path = path + (key,)
                if isinstance(get_nested(self._summary_values, full_path), dict):
                    # A replaced dict must not leave its old leaves behind.
                    self._remove_from_log(full_path)
                set_nested(self._summary_values, full_path, value)
            if path:
                self._summary_dirty.add(path[0])
            else:
                self._summary_dirty.update(plain)
            self._summary_file_dirty = True

    def _summary_delete(self, path: Path) -> None:
        with self._lock:
            pop_nested(self._summary_values, path)
            if len(path) == 1:
                self._summary_dirty.discard(path[0])
            self._summary_file_dirty = True
            self._aggregates = {
                known: aggregate
                for known, aggregate in self._aggregates.items()
                if known[: len(path)] != path
            }
            self._remove_from_log(path)

    def _remove_from_log(self, path: Path) -> None:
        """Write a summary removal now, after the updates still pending.

        Removals go out at once, so that no later update of the same key
        can be ordered before them.
        """
        if self._writer is None or os.getpid() != self._owner_pid:
            return
        pending = self._take_summary_updates(complete=False)
        if pending:
            self._writer.submit(encode_summary(pending, []))
        self._writer.submit(encode_summary([], [path]))

    def _take_summary_updates(self, complete: bool) -> list[tuple[Path, str]]:
        """Leaves of the summary keys changed since the last record (or all).

        Nested dicts are written leaf by leaf, as the official client writes
        them, so that a later removal of a nested path finds its leaves.
        """
        keys = list(self._summary_values) if complete else list(self._summary_dirty)
        self._summary_dirty.clear()
        values = self._summary_values
        updates: list[tuple[Path, str]] = []
        for key in keys:
            if key in values:
                _append_leaves(updates, (key,), values[key])
        return updates

    def summary_record(self) -> bytes | None:
        """A summary record of what changed since the last one, or None.

        Called by the writer thread on each flush.
        """
        with self._lock:
            if not self._summary_dirty:
                return None
            updates = self._take_summary_updates(complete=False)
        return encode_summary(updates, []) if updates else None

    def snapshot_files(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Copies of summary and config when their readable files are stale."""
        with self._lock:
            summary = None
            config = None
            if self._summary_file_dirty:
                summary = _deep_copy(self._summary_values)
                self._summary_file_dirty = False
            if self._config_file_dirty:
                config = _deep_copy(self.config._items)
                self._config_file_dirty = False
            return summary, config

    # -- artifacts ---------------------------------------------------------------------

    def log_artifact(
        self,
        artifact_or_path: Any,
        name: str | None = None,
        type: str | None = None,  # noqa: A002 - the official client's parameter
        aliases: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
    ) -> Any:
        """Log an artifact (or a file, folder or URI) as an output of this run.

        A path becomes an artifact named ``run-<id>-<base name>`` of type
        ``name``/``type`` or ``unspecified``. Aliases get ``latest``.

        Raises:
            TypeError: ``artifact_or_path`` is neither an Artifact nor a path.
            ValueError: a path names nothing, or an alias or tag is invalid.
            UsageError: the run is finished.
        """
        from wandb_core.artifacts.artifact import Artifact

        artifact = _as_artifact(self, artifact_or_path, name, type)
        if not isinstance(artifact, Artifact):
            msg = (
                "log_artifact() takes a wandb_core.Artifact or a path, not "
                f"{type_name(artifact_or_path)}."
            )
            raise TypeError(msg)
        if self._disabled:
            return artifact
        self._check_not_finished("log_artifact")
        with self._lock:
            artifact._log(self, aliases, tags)
        return artifact

    def use_artifact(
        self,
        artifact_or_name: Any,
        type: str | None = None,  # noqa: A002 - the official client's parameter
        aliases: Sequence[str] | None = None,
        use_as: str | None = None,
    ) -> Any:
        """An artifact this run uses: ``"name:alias"`` or an ``Artifact``.

        Offline, names resolve to versions logged by runs on this machine
        (``v0``, ``v1``, ... per name, in logging order). An artifact not
        logged yet is logged first, as used by this run. A disabled run
        answers None to a name, as the official client's does.

        Raises:
            ArtifactNotFoundError: no such artifact or version was logged here.
            ValueError: it has another type than ``type``.
        """
        from wandb_core.artifacts.artifact import Artifact
        from wandb_core.artifacts.index import check_type, default_index

        if isinstance(artifact_or_name, Artifact):
            if artifact_or_name.is_draft() and not self._disabled:
                self._check_not_finished("use_artifact")
                with self._lock:
                    artifact_or_name._log(
                        self, aliases, None, user_created=True, use_after_commit=True
                    )
            return artifact_or_name
        if not isinstance(artifact_or_name, str):
            msg = (
                "use_artifact() takes an artifact name or a wandb_core.Artifact, "
                f"not {type_name(artifact_or_name)}."
            )
            raise TypeError(msg)
        if self._disabled:
            return None  # as the official client's disabled runs answer
        found = default_index().resolve(
            artifact_or_name, entity=self.entity, project=self.project
        )
        return Artifact._from_logged(check_type(found, type))

    def _check_not_finished(self, call: str) -> None:
        if self._finished:
            msg = f"Run {self.id} is finished; {call}() cannot add to it."
            raise UsageError(msg)

    # -- finishing ---------------------------------------------------------------------

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Finish the run; returns once everything logged is on disk.

        Calling it again does nothing.
        """
        if self._finished:
            return
        if self._disabled:
            self._finished = True
            _detach(self)
            return
        if os.getpid() != self._owner_pid:
            from wandb_core import _fork

            self._finished = True
            _fork.close_child_channel(self)
            return
        for hook in list(self._finish_hooks):
            hook()
        code = 0 if exit_code is None else int(exit_code)
        writer = self._writer
        assert writer is not None
        with self._lock:  # no log() from another thread slips in after exit
            if self._finished:
                return
            self._finished = True
            if self._pending:
                self._commit()
            runtime = time.monotonic() - self._start_monotonic
            self._summary_values["_runtime"] = round(runtime, 6)
            writer.submit(encode_summary(self._take_summary_updates(True), []))
            self._summary_file_dirty = True
            writer.call_soon(self._write_readable_files)
            writer.submit(records.exit_record(code, int(runtime), self.id))
        closed = writer.close()
        _detach(self)
        self._report_finish(code, closed)

    def _write_readable_files(self) -> None:
        from wandb_core import _files

        _files.write_readable_files(self)

    def _report_finish(self, code: int, closed: bool) -> None:
        writer = self._writer
        assert writer is not None
        if not closed:
            _term.alert(
                f"run {self.id}: the log writer did not finish in time; the end "
                f"of {self.log_path} may be missing."
            )
        elif writer.error is not None:
            _term.alert(
                f"run {self.id}: {writer.lost_records} records could not be written "
                f"to {self.log_path} ({writer.error})."
            )
        state = "finished" if code == 0 else f"failed (exit code {code})"
        _term.info(
            f"run {self.id} {state}; {self.run_dir} holds it. Upload it with "
            f"`wandb sync {self.run_dir}`."
        )
        logger.info("run %s finished with exit code %s", self.id, code)

    def _background_error(self, error: BaseException) -> None:
        """Called by the writer thread; the user hears of it once."""
        self._errors.append(error)
        _term.alert_once(
            f"writer-{self.id}",
            f"run {self.id}: writing the run's files failed ({error}); training "
            "goes on, and logging continues as far as the disk allows. Details "
            "are in logs/debug.log.",
        )


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        if isinstance(step, float) and step.is_integer():
            return int(step)
        msg = f"step must be an integer, not {step!r} ({type(step).__name__})."
        raise ValueTypeError(msg)
    value = int(step.__index__())
    if value < 0:
        msg = f"step must not be negative, not {value}."
        raise ValueValueError(msg)
    return value


def _append_leaves(updates: list[tuple[Path, str]], path: Path, value: Any) -> None:
    if type(value) is not dict:
        updates.append((path, value_json(value)))
        return
    for key, item in value.items():
        _append_leaves(updates, path + (key,), item)


def _deep_copy(value: Any) -> Any:
    if type(value) is dict:
        return {key: _deep_copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_deep_copy(item) for item in value]
    return value


def _detach(run: Run) -> None:
    from wandb_core import _session

    _session.forget(run)


def type_name(value: Any) -> str:
    """A value's type, as error messages name it."""
    return type(value).__name__


def _as_artifact(run: Run, value: Any, name: str | None, kind: str | None) -> Any:
    """``log_artifact``'s argument as an Artifact: a path becomes one."""
    from wandb_core.artifacts.artifact import Artifact

    if not isinstance(value, (str, os.PathLike)):
        return value
    path = os.fspath(value)
    artifact = Artifact(
        name or f"run-{run.id}-{os.path.basename(path.rstrip('/'))}",
        kind or "unspecified",
    )
    if os.path.isfile(path):
        artifact.add_file(path)
    elif os.path.isdir(path):
        artifact.add_dir(path)
    elif "://" in path:
        artifact.add_reference(path)
    else:
        msg = (
            f"log_artifact({path!r}): no such file or folder, and not a URI "
            "such as file:///data or https://host/file."
        )
        raise ValueError(msg)
    return artifact
