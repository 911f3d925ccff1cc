"""wandb-core against the official ``wandb`` client, run by run.

The scripts in ``reference_scripts.py`` run in child processes, offline, once
with ``import wandb`` and once with ``import wandb_core as wandb``. Both
transaction logs are decoded with the official client's generated protobuf
module (the framing split by the acceptance cases' own reader) and compared
as decoded values: history rows, final config, final summary, metric
definitions and exit code. The official reader, ``wandb leet inspect
--summary --json``, must tell the same story about our run directories as
about the official ones.

A run costs the official client one to two seconds, so each script runs once
per SDK and session: the first pytest-xdist worker that needs a run starts
it, and the others wait for its result in a directory that all workers see.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from wandb.proto import wandb_internal_pb2

from tests import reference_scripts as scripts
from wandb_core.backend import reader

pytestmark = pytest.mark.reference

SCRIPTS = {
    "values": scripts.VALUES,
    "metrics": scripts.METRICS,
    "exit_3": scripts.EXIT_3,
    "uncaught": scripts.UNCAUGHT,
    "with_block": scripts.WITH_BLOCK,
}
SDKS = ("wandb", "wandb_core")
# Where the acceptance cases (and their log reader) live: beside the
# checkout on a workstation, inside it on a build machine.
CASES_DIRS = (
    Path(__file__).resolve().parents[2] / "shared" / "cases",
    Path(__file__).resolve().parents[1] / "shared" / "cases",
)
CHILD_TIMEOUT_S = 120
RESULT_WAIT_S = 2 * CHILD_TIMEOUT_S
# Values that differ from run to run by nature.
TIME_KEYS = frozenset({"_runtime", "_timestamp"})
SUMMARY_IGNORED = TIME_KEYS | {"_wandb"}
# Report fields of `leet inspect --summary` that name or date the run, and
# the console tail, which we do not capture (yet).
LEET_IGNORED = frozenset(
    {"file", "last_write", "start_time", "run_id", "console", "console_lines"}
)
# Record kinds whose count depends on timing: summaries go out at most once
# per flush interval, system metrics now and then.
TIMED_KINDS = frozenset({"summary", "stats"})
# Our child says which records twin it ran, for the twin test.
IMPLEMENTATION_TRAILER = (
    "\nimport wandb_core._fast\n"
    'print("implementation:", wandb_core._fast.implementation)\n'
)
NO_EXTENSIONS = "WANDB_CORE_NO_EXTENSIONS"
# The one WANDB_ variable of the calling environment that reaches the
# children; the others are dropped so that each run is isolated.
INHERITED_WANDB_VARS = frozenset({"WANDB_CORE_REQUIRE_EXTENSIONS"})

KeyPath = tuple[str, ...]
Leaf = tuple[KeyPath, Any]


# ---------------------------------------------------------------------------
# What the scripts logged, as the official reader shows it
# ---------------------------------------------------------------------------

VALUES_STEPS = [0, 1, 2, 3, 4, 5, 6, 20, 25, 26]
VALUES_CONFIG = {
    "batch": 64,
    "count": 7,
    "extra": {"a": [1, {"b": 2}]},
    "flag": True,
    "grid": [[0, 1, 2], [3, 4, 5]],
    "late": "set by item",
    "layers": [64, 32],
    "lr": 0.01,
    "name": "net",
    "nothing": None,
    "optimizer": {"betas": [0.9, 0.999], "eps": 1e-08, "name": "adam"},
    "scale": 0.10000000149011612,  # float(np.float32(0.1))
    "weights": [1.5, 2.5, -3.0],
    "ünïcode ключ": "värde 🎉",
}
# A selection: every kind of value, hand-set keys and overridden ones.
VALUES_SUMMARY = {
    "_step": 26,
    "int": "overridden",
    "float": 2,
    "big": 1e16,
    "small": 1.5e-07,
    "ratio": 0.5,
    "nan": "NaN",
    "inf": "Infinity",
    "ninf": "-Infinity",
    "emoji": "🎉🚀",
    "ключ": "значение",
    "📈 loss": 0.5,
    "yes": True,
    "no": False,
    "list": [1, 2.5, "x", None, True, [1, [2]]],
    "u8": 200,
    "f32": 0.10000000149011612,
    "np_bool": True,
    "zero_d": 3.25,
    "zero_d_int": 9,
    "arr_i": [list(range(row * 8, row * 8 + 8)) for row in range(4)],
    "np_nested": {"x": 0.25, "y": [1, 2]},
    "partial_a": 3,
    "partial_b": "two",
    "jump": 3,
    "after_jump": 1,
    "manual": 42,
    "manual_nested": {"x": 1, "y": {"z": [2, 3]}},
    "upd": "yes",
    "np_sum": 1.25,
}
VALUES_SUMMARY_ABSENT = ("str", "nested", "dropped", "none")
METRICS_SUMMARY = {
    "_step": 13,
    "epoch": 2,
    "m_all": {"max": 0.7, "mean": 0.31, "min": 0.1},
    "m_first": {"first": 0.3},
    "m_last": {"last": 0.25},
    "m_max": {"max": 0.7},
    "m_mean": {"mean": 0.31},
    "m_min": {"min": 0.1},
    "plain": 0.25,
    "train/loss": 0.5,
    "val/acc": {"max": 0.75},
    "val/late": {"max": 9.5},
    "val/loss": {"max": 0.7},
}
METRICS_CONFIG = {"dropout": 0.5, "epochs": 3, "tag": "metrics"}


# ---------------------------------------------------------------------------
# Decoded values
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Token:
    """A JSON value that Python equality would confuse (NaN, true, false)."""

    text: str

    def __repr__(self) -> str:
        return self.text


def canonical(value: Any) -> Any:
    """``value`` with NaN equal to NaN and booleans unequal to 0 and 1."""
    if isinstance(value, bool):
        return Token("true" if value else "false")
    if isinstance(value, float) and math.isnan(value):
        return Token("NaN")
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def leaves(tree: Mapping[str, Any], prefix: KeyPath = ()) -> Iterator[Leaf]:
    """``(path, value)`` for each non-dict value of a nested dict."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def flat(tree: Mapping[str, Any], ignored: frozenset[str]) -> dict[KeyPath, Any]:
    """A nested dict as path -> canonical leaf, minus the ignored top keys."""
    return {
        path: canonical(value) for path, value in leaves(tree) if path[0] not in ignored
    }


def without(tree: Mapping[str, Any], ignored: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in tree.items() if key not in ignored}


def set_path(tree: dict[str, Any], path: KeyPath, value: Any) -> None:
    for key in path[:-1]:
        child = tree.get(key)
        if not isinstance(child, dict):
            child = tree[key] = {}
        tree = child
    tree[path[-1]] = value


def remove_path(tree: dict[str, Any], path: KeyPath) -> None:
    for key in path[:-1]:
        child = tree.get(key)
        if not isinstance(child, dict):
            return
        tree = child
    tree.pop(path[-1], None)


def differences(got: Mapping[Any, Any], want: Mapping[Any, Any]) -> list[str]:
    """One line per key that ``got`` lacks, adds or holds another value for."""
    lines = []
    for key in want:
        if key not in got:
            lines.append(f"missing {key}: want {want[key]!r}")
        elif got[key] != want[key]:
            lines.append(f"{key}: got {got[key]!r}, want {want[key]!r}")
    lines.extend(f"extra {key}: got {got[key]!r}" for key in got if key not in want)
    return lines


def row_differences(
    got: list[dict[KeyPath, Any]], want: list[dict[KeyPath, Any]]
) -> list[str]:
    """``differences`` of history rows, row by row."""
    lines = []
    if len(got) != len(want):
        lines.append(f"got {len(got)} rows, want {len(want)}")
    for index, (got_row, want_row) in enumerate(zip(got, want)):
        step = want_row.get(("_step",), index)
        lines.extend(
            f"row _step={step}: {line}" for line in differences(got_row, want_row)
        )
    return lines


# ---------------------------------------------------------------------------
# Decoding a log with the official protobuf module
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class DecodedLog:
    """What a log says, as comparable values."""

    kinds: list[str] = dataclasses.field(default_factory=list)
    history: list[dict[KeyPath, Any]] = dataclasses.field(default_factory=list)
    steps: list[int] = dataclasses.field(default_factory=list)
    summary: dict[KeyPath, Any] = dataclasses.field(default_factory=dict)
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    metrics: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    exit_code: int | None = None
    project: str = ""

    def untimed(self) -> DecodedLog:
        """This log without the records whose number depends on timing."""
        kinds = [kind for kind in self.kinds if kind not in TIMED_KINDS]
        return dataclasses.replace(self, kinds=kinds)


def item_path(item: Any) -> KeyPath:
    return tuple(item.nested_key) if item.nested_key else (item.key,)


def apply_items(tree: dict[str, Any], message: Any) -> None:
    """Apply a summary or config message: its updates, then its removes."""
    for item in message.update:
        set_path(tree, item_path(item), json.loads(item.value_json))
    for item in message.remove:
        remove_path(tree, item_path(item))


def decode_log(split: Callable[..., Any], path: str) -> DecodedLog:
    """Decode the log at ``path`` with ``wandb_internal_pb2``."""
    payloads, problems = split(path)
    assert problems == [], f"{path} is not a clean log: {problems}"

    decoded = DecodedLog()
    summary: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for payload in payloads:
        record = wandb_internal_pb2.Record.FromString(payload)
        kind = record.WhichOneof("record_type")
        decoded.kinds.append(kind)
        if kind == "history":
            decoded.history.append(
                {
                    item_path(item): canonical(json.loads(item.value_json))
                    for item in record.history.item
                    if item_path(item)[0] not in TIME_KEYS
                }
            )
            decoded.steps.append(record.history.step.num)
        elif kind == "summary":
            apply_items(summary, record.summary)
        elif kind == "config":
            apply_items(config, record.config)
        elif kind == "run":
            decoded.project = record.run.project
            apply_items(config, record.run.config)
            apply_items(summary, record.run.summary)
        elif kind == "metric":
            decoded.metrics.append(MessageToDict(record.metric))
        elif kind == "exit":
            decoded.exit_code = record.exit.exit_code

    decoded.summary = flat(summary, SUMMARY_IGNORED)
    decoded.config = canonical(without(config, frozenset({"_wandb"})))
    return decoded


# ---------------------------------------------------------------------------
# Running scripts, once per session
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ScriptRun:
    """A finished child process, the run directory it left and its report."""

    sdk: str
    returncode: int
    stdout: str
    stderr: str
    run_dir: str
    log_path: str
    leet: dict[str, Any] | None

    def describe(self) -> str:
        return (
            f"{self.sdk} exited {self.returncode}\n--- stdout\n{self.stdout}"
            f"\n--- stderr\n{self.stderr[-4000:]}"
        )


def wandb_cli() -> str:
    beside = Path(sys.executable).parent / "wandb"
    if beside.exists():
        return str(beside)
    found = shutil.which("wandb")
    assert found, "the official `wandb` CLI is not installed"
    return found


def child_env(root: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """An offline environment whose every wandb folder is under ``root``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WANDB_") or name in INHERITED_WANDB_VARS
    }
    folders = {
        "WANDB_DIR": root / "out",
        "WANDB_CACHE_DIR": root / "cache",
        "WANDB_CONFIG_DIR": root / "config",
        "WANDB_DATA_DIR": root / "data",
        "WANDB_ARTIFACT_DIR": root / "artifacts",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env.update(
        {
            "WANDB_MODE": "offline",
            "WANDB_SILENT": "true",
            "WANDB_DISABLE_GIT": "true",
            "WANDB_DISABLE_CODE": "true",
            # Anything that still tries the network fails at once, locally.
            "WANDB_BASE_URL": "http://127.0.0.1:9",
            "WANDB_API_KEY": "x" * 40,
            "PYTHONIOENCODING": "utf-8",
        }
    )
    env.update(extra)
    return env


def read_leet(run_dir: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """``wandb leet inspect --summary --json`` of a run directory."""
    command = [wandb_cli(), "leet", "inspect", "--summary", "--json", str(run_dir)]
    done = subprocess.run(
        command, env=dict(env), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"{command} failed: {done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def run_script(
    root: Path, sdk: str, body: str, extra_env: Mapping[str, str], with_leet: bool
) -> ScriptRun:
    """Run ``body`` with ``sdk`` in the fresh directory ``root``."""
    script = scripts.IMPORT_LINES[sdk] + body
    if sdk == "wandb_core":
        script += IMPLEMENTATION_TRAILER
    # The script lives apart from the wandb/ folder the run creates, which
    # would otherwise shadow the package of the same name.
    path = root / "script.py"
    path.write_text(script, encoding="utf-8")
    env = child_env(root, extra_env)

    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    run_dirs = sorted((root / "out" / "wandb").glob("offline-run-*"))
    assert len(run_dirs) == 1, f"{len(run_dirs)} run directories: {done.stderr}"
    logs = sorted(run_dirs[0].glob("run-*.wandb"))
    assert len(logs) == 1, f"expected one log in {run_dirs[0]}, found {logs}"
    leet = read_leet(run_dirs[0], env) if with_leet else None
    return ScriptRun(
        sdk=sdk,
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        run_dir=str(run_dirs[0]),
        log_path=str(logs[0]),
        leet=leet,
    )


def shared_root(factory: pytest.TempPathFactory) -> Path:
    """A folder that every xdist worker of this session sees."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / "reference-runs"


def run_once(
    factory: pytest.TempPathFactory,
    name: str,
    sdk: str,
    extra_env: Mapping[str, str] | None = None,
    with_leet: bool = True,
) -> ScriptRun:
    """The run of script ``name`` with ``sdk``, started once per session."""
    extra_env = extra_env or {}
    settings = [f"{key}={value}" for key, value in extra_env.items()]
    label = "-".join([name, sdk, *settings])
    root = shared_root(factory) / label
    result = root / "result.json"
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        root.mkdir()
    except FileExistsError:
        return wait_for_result(result)

    try:
        run = run_script(root, sdk, SCRIPTS[name], extra_env, with_leet)
    except BaseException as error:
        publish(result, {"error": f"{type(error).__name__}: {error}"})
        raise
    publish(result, {"run": dataclasses.asdict(run)})
    return run


def publish(result: Path, outcome: Mapping[str, Any]) -> None:
    """Write ``result`` whole, for the workers that wait on it."""
    partial = result.with_suffix(".partial")
    partial.write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(partial, result)


def wait_for_result(result: Path) -> ScriptRun:
    deadline = time.monotonic() + RESULT_WAIT_S
    while not result.exists():
        assert time.monotonic() < deadline, f"no {result} after {RESULT_WAIT_S} s"
        time.sleep(0.05)
    outcome = json.loads(result.read_text(encoding="utf-8"))
    assert "run" in outcome, f"another worker failed at this run: {outcome}"
    return ScriptRun(**outcome["run"])


@dataclasses.dataclass(frozen=True)
class Pair:
    """One script run by both SDKs, and both logs decoded."""

    name: str
    official: ScriptRun
    ours: ScriptRun
    official_log: DecodedLog
    our_log: DecodedLog


@pytest.fixture(scope="module")
def split_log() -> Callable[..., Any]:
    """A framing reader: the acceptance cases' independent ``read_txlog_raw``.

    Where the shared cases are not beside the checkout, our pure twin's
    ``unframe`` stands in; ``test_fast_records`` checks it against the
    independent reader and the format's rules wherever both are present.
    """
    for cases in CASES_DIRS:
        if (cases / "_harness.py").is_file():
            sys.path.insert(0, str(cases))
            harness = importlib.import_module("_harness")
            split: Callable[..., Any] = harness.read_txlog_raw
            return split
    from wandb_core._fast import records_py

    def split_with_pure_twin(path: str, strict: bool = True) -> Any:
        data = Path(path).read_bytes()
        payloads, problems = records_py.unframe(data)
        if strict and problems:
            raise AssertionError(f"{path}: {problems}")
        return payloads, problems

    return split_with_pure_twin


@pytest.fixture(scope="module", params=list(SCRIPTS))
def pair(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    split_log: Callable[..., Any],
) -> Pair:
    """Script ``request.param`` run by the official client and by us."""
    official = run_once(tmp_path_factory, request.param, "wandb")
    ours = run_once(tmp_path_factory, request.param, "wandb_core")
    return Pair(
        name=request.param,
        official=official,
        ours=ours,
        official_log=decode_log(split_log, official.log_path),
        our_log=decode_log(split_log, ours.log_path),
    )


def only(*names: str) -> pytest.MarkDecorator:
    """Run a test on the pairs of the named scripts only."""
    return pytest.mark.parametrize("pair", names, indirect=True)


def leet_of(run: ScriptRun) -> dict[str, Any]:
    assert run.leet is not None, f"no leet report for {run.run_dir}"
    return run.leet


# ---------------------------------------------------------------------------
# 1. Differential: the same script, both SDKs, decoded logs
# ---------------------------------------------------------------------------


def test_history_matches_official(pair: Pair) -> None:
    mismatches = row_differences(pair.our_log.history, pair.official_log.history)

    assert not mismatches, "\n".join(mismatches)
    assert pair.our_log.steps == pair.official_log.steps


def test_config_matches_official(pair: Pair) -> None:
    mismatches = differences(pair.our_log.config, pair.official_log.config)

    assert not mismatches, "\n".join(mismatches)


def test_summary_matches_official(pair: Pair) -> None:
    mismatches = differences(pair.our_log.summary, pair.official_log.summary)

    assert not mismatches, "\n".join(mismatches)


def test_metric_definitions_match_official(pair: Pair) -> None:
    assert pair.our_log.metrics == pair.official_log.metrics


def test_exit_code_matches_official(pair: Pair) -> None:
    assert pair.official_log.exit_code is not None, pair.official.describe()

    assert pair.our_log.exit_code == pair.official_log.exit_code
    assert pair.ours.returncode == pair.official.returncode, pair.ours.describe()
    assert pair.our_log.project == pair.official_log.project


@only("values", "metrics")
def test_silent_mode_prints_nothing(pair: Pair) -> None:
    assert pair.official.stderr == "", pair.official.describe()

    assert pair.ours.stderr == "", pair.ours.describe()


@only("values")
@pytest.mark.parametrize("sdk", SDKS)
def test_values_rows_are_as_logged(pair: Pair, sdk: str) -> None:
    log = pair.official_log if sdk == "wandb" else pair.our_log
    by_step = {row[("_step",)]: row for row in log.history}

    assert log.steps == VALUES_STEPS
    assert [row[("_step",)] for row in log.history] == VALUES_STEPS
    assert not [row for row in log.history if ("dropped",) in row]
    assert by_step[0][("negzero",)] == 0
    assert by_step[2] == {
        ("nan",): Token("NaN"),
        ("inf",): math.inf,
        ("ninf",): -math.inf,
        ("_step",): 2,
    }
    assert by_step[6] == {
        ("partial_a",): 3,
        ("partial_b",): "two",
        ("partial_c",): [3],
        ("_step",): 6,
    }
    assert by_step[20] == {("jump",): 2, ("same_step",): Token("true"), ("_step",): 20}
    assert by_step[25] == {("jump",): 3, ("after_jump",): 1, ("_step",): 25}


@pytest.mark.parametrize("sdk", SDKS)
def test_our_reader_reads_both_logs(pair: Pair, sdk: str) -> None:
    path = pair.official.log_path if sdk == "wandb" else pair.ours.log_path
    decoded = pair.official_log if sdk == "wandb" else pair.our_log

    run = reader.read_run(path)

    assert run.problems == []
    history = [flat(row, TIME_KEYS) for row in run.history]
    mismatches = row_differences(history, decoded.history)
    mismatches += differences(flat(run.summary, SUMMARY_IGNORED), decoded.summary)
    config = canonical(without(run.config, frozenset({"_wandb"})))
    mismatches += differences(config, decoded.config)
    assert not mismatches, "\n".join(mismatches)
    assert run.exit_code == decoded.exit_code
    assert run.project == decoded.project
    assert run.state == ("finished" if decoded.exit_code == 0 else "failed")


# ---------------------------------------------------------------------------
# 2. The official reader on our run directories
# ---------------------------------------------------------------------------


def test_leet_report_matches_official(pair: Pair) -> None:
    ours = canonical(without(leet_of(pair.ours), LEET_IGNORED))
    official = canonical(without(leet_of(pair.official), LEET_IGNORED))

    our_summary = without(ours.pop("summary"), SUMMARY_IGNORED)
    official_summary = without(official.pop("summary"), SUMMARY_IGNORED)
    mismatches = differences(ours, official)
    mismatches += [
        f"summary {line}" for line in differences(our_summary, official_summary)
    ]
    assert not mismatches, "\n".join(mismatches)


@only("values")
def test_leet_reads_our_values_run(pair: Pair) -> None:
    report = leet_of(pair.ours)
    summary = report["summary"]

    outcome = (report["state"], report["exit_code"], report["step"])
    assert outcome == ("finished", 0, VALUES_STEPS[-1])
    assert report["project"] == "reference-values"
    assert canonical(report["config"]) == canonical(VALUES_CONFIG)
    selected = {key: summary.get(key, "<missing>") for key in VALUES_SUMMARY}
    assert canonical(selected) == canonical(VALUES_SUMMARY)
    assert [key for key in VALUES_SUMMARY_ABSENT if key in summary] == []


@only("metrics")
def test_leet_reads_our_metrics_run(pair: Pair) -> None:
    report = leet_of(pair.ours)

    assert (report["state"], report["exit_code"], report["step"]) == ("finished", 0, 13)
    assert canonical(report["config"]) == canonical(METRICS_CONFIG)
    assert without(report["summary"], SUMMARY_IGNORED) == METRICS_SUMMARY


@only("exit_3")
def test_leet_sys_exit_without_finish_is_failed(pair: Pair) -> None:
    report = leet_of(pair.ours)

    assert pair.ours.returncode == 3, pair.ours.describe()
    assert (report["state"], report["exit_code"], report["step"]) == ("failed", 3, 1)
    assert report["config"] == {"kind": "exit3"}
    assert without(report["summary"], SUMMARY_IGNORED) == {"_step": 1, "x": 2, "y": 2.5}


@only("uncaught")
def test_leet_uncaught_exception_exits_1(pair: Pair) -> None:
    report = leet_of(pair.ours)

    assert pair.ours.returncode == 1, pair.ours.describe()
    assert "RuntimeError: uncaught in the training loop" in pair.ours.stderr
    assert (report["state"], report["exit_code"], report["step"]) == ("failed", 1, 0)
    assert without(report["summary"], SUMMARY_IGNORED) == {"_step": 0, "x": 1}


@only("with_block")
def test_leet_exception_in_with_block_fails_run_and_propagates(pair: Pair) -> None:
    report = leet_of(pair.ours)

    assert pair.ours.returncode == 0, pair.ours.describe()
    assert "propagated: raised inside the with block" in pair.ours.stdout
    assert (report["state"], report["exit_code"], report["step"]) == ("failed", 1, 1)
    assert report["config"] == {"kind": "with"}
    assert without(report["summary"], SUMMARY_IGNORED) == {"_step": 1, "x": 2}


# ---------------------------------------------------------------------------
# 3. Both records twins write the same log
# ---------------------------------------------------------------------------


def compiled_twin_built() -> bool:
    try:
        importlib.import_module("wandb_core._fast.records_c")
    except ImportError:
        return False
    return True


@only("values")
def test_both_twins_write_the_same_log(
    pair: Pair,
    tmp_path_factory: pytest.TempPathFactory,
    split_log: Callable[..., Any],
) -> None:
    pure = run_once(
        tmp_path_factory, "values", "wandb_core", {NO_EXTENSIONS: "1"}, False
    )
    default = "cython" if compiled_twin_built() else "python"

    assert pure.returncode == 0, pure.describe()
    assert "implementation: python" in pure.stdout.splitlines()
    assert f"implementation: {default}" in pair.ours.stdout.splitlines()
    pure_log = decode_log(split_log, pure.log_path).untimed()
    assert pure_log == pair.our_log.untimed()
