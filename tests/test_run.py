"""The Run API in process: step rules, values, config, summary, metrics."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import wandb_core as wandb
from tests.runutil import log_file, only_run_dir, read, user_rows
from wandb_core.errors import UnsupportedModeError, UsageError

# -- step rules ------------------------------------------------------------------------


def test_each_log_commits_a_row_with_the_next_step(root: Path) -> None:
    run = wandb.init(project="steps")

    for value in (0.5, 0.25, 0.125):
        run.log({"loss": value})
    run.finish()

    assert user_rows(read(root)) == [
        {"loss": 0.5, "_step": 0},
        {"loss": 0.25, "_step": 1},
        {"loss": 0.125, "_step": 2},
    ]


def test_commit_false_merges_into_the_pending_row(root: Path) -> None:
    run = wandb.init()

    run.log({"a": 1}, commit=False)
    run.log({"b": 2}, commit=False)
    run.log({"c": 3})
    run.log({"a": 4}, commit=False)
    run.finish()

    assert user_rows(read(root)) == [
        {"a": 1, "b": 2, "c": 3, "_step": 0},
        {"a": 4, "_step": 1},
    ]


def test_explicit_steps_commit_when_the_step_moves_on(root: Path) -> None:
    run = wandb.init()

    run.log({"a": 1}, step=0)
    run.log({"b": 2}, step=0)
    run.log({"a": 3}, step=5)
    run.log({"c": 4})
    run.log({"a": 5}, step=9)
    run.finish()

    assert user_rows(read(root)) == [
        {"a": 1, "b": 2, "_step": 0},
        {"a": 3, "c": 4, "_step": 5},
        {"a": 5, "_step": 9},
    ]
    assert run.step == 10


def test_a_lower_step_is_dropped_with_a_warning(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_SILENT", "false")
    run = wandb.init()

    run.log({"a": 1}, step=3)
    run.log({"a": 2}, step=1)
    run.log({"a": 3}, step=4)
    run.finish()

    assert user_rows(read(root)) == [{"a": 1, "_step": 3}, {"a": 3, "_step": 4}]
    assert "Step 1 is lower than the current step 3" in capsys.readouterr().err


def test_runtime_and_timestamp_are_added(root: Path) -> None:
    run = wandb.init()

    run.log({"a": 1})
    run.finish()

    row = read(root).history[0]
    assert 0 <= row["_runtime"] < 60
    assert abs(row["_timestamp"] - run.start_time) < 60


def test_step_must_be_an_integer(root: Path) -> None:
    run = wandb.init()

    with pytest.raises(TypeError, match="step must be an integer"):
        run.log({"a": 1}, step="3")  # type: ignore[arg-type]
    run.log({"a": 1}, step=np.int64(2))  # type: ignore[arg-type]
    run.finish()

    assert user_rows(read(root)) == [{"a": 1, "_step": 2}]


# -- values ----------------------------------------------------------------------------


def test_values_decode_as_logged(root: Path) -> None:
    run = wandb.init()
    row: dict[str, Any] = {
        "int": 3,
        "float": 0.1,
        "whole": 2.0,
        "neg_zero": -0.0,
        "big": 2**64 + 1,
        "int64_max": 2**63 - 1,
        "string": 'héllo "quoted" \n',
        "bool": True,
        "none": None,
        "list": [1, 2.5, "x", None, [True]],
        "nested": {"a": {"b": 1.5}, "empty": {}},
        "np_float32": np.float32(1.5),
        "np_int": np.int16(-7),
        "np_bool": np.bool_(False),
        "np_0d": np.array(4.25),
        "np_small": np.arange(3, dtype=np.int32),
        "longdouble": np.longdouble(0.25),
        "𝔼(X)": 1,
    }

    run.log(row)
    run.finish()

    logged = user_rows(read(root))[0]
    assert logged == {
        "int": 3,
        "float": 0.1,
        "whole": 2,
        "neg_zero": 0.0,
        "big": 1.8446744073709552e19,  # past int64: the nearest double
        "int64_max": 2**63 - 1,
        "string": 'héllo "quoted" \n',
        "bool": True,
        "none": None,
        "list": [1, 2.5, "x", None, [True]],
        "nested": {"a": {"b": 1.5}},
        "np_float32": 1.5,
        "np_int": -7,
        "np_bool": False,
        "np_0d": 4.25,
        "np_small": [0, 1, 2],
        "longdouble": 0.25,
        "𝔼(X)": 1,
        "_step": 0,
    }
    assert math.copysign(1.0, logged["neg_zero"]) == -1.0
    assert type(logged["int64_max"]) is int
    assert type(logged["np_int"]) is int and type(logged["np_bool"]) is bool


def test_non_finite_floats_use_the_official_tokens(root: Path) -> None:
    run = wandb.init()

    run.log({"nan": math.nan, "inf": math.inf, "ninf": -math.inf})
    run.finish()

    row = read(root).history[0]
    assert math.isnan(row["nan"]) and row["inf"] == math.inf
    assert row["ninf"] == -math.inf


def test_a_bad_key_is_refused_and_nothing_of_the_call_is_logged(root: Path) -> None:
    run = wandb.init()
    run.log({"ok": 1})

    with pytest.raises(TypeError, match=r"Key 3 in the logged dict is a int"):
        run.log({"good": 1, 3: 2})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"Key \(1, 2\) in outer is a tuple"):
        run.log({"outer": {(1, 2): 1}})
    run.log({"ok": 2})
    run.finish()

    assert user_rows(read(root)) == [{"ok": 1, "_step": 0}, {"ok": 2, "_step": 1}]


def test_an_unserializable_value_names_its_key_and_type(root: Path) -> None:
    run = wandb.init()

    with pytest.raises(TypeError, match=r"'model.weights' has type builtins.object"):
        run.log({"loss": 1.0, "model": {"weights": object()}})
    with pytest.raises(TypeError, match=r"'z' is the complex number"):
        run.log({"z": 1 + 2j})
    run.log({"loss": 2.0})
    run.finish()

    assert user_rows(read(root)) == [{"loss": 2.0, "_step": 0}]
    assert run.summary["loss"] == 2.0


def test_a_key_with_a_lone_surrogate_is_refused(root: Path) -> None:
    run = wandb.init()

    with pytest.raises(ValueError, match="lone surrogate"):
        run.log({"bad\ud800": 1})


def test_log_takes_a_dict(root: Path) -> None:
    run = wandb.init()

    with pytest.raises(TypeError, match="log\\(\\) takes a dict"):
        run.log([1, 2])  # type: ignore[arg-type]


def test_log_after_finish_is_an_error_and_finish_is_idempotent(root: Path) -> None:
    run = wandb.init()
    run.log({"a": 1})
    run.finish()
    run.finish()

    with pytest.raises(UsageError, match="is finished"):
        run.log({"a": 2})
    assert len(read(root).history) == 1


# -- config ----------------------------------------------------------------------------


def test_config_access_update_and_later_changes(root: Path) -> None:
    namespace = argparse.Namespace(lr=0.01, layers=[64, 32])
    run = wandb.init(config=namespace)

    run.config.batch = 32
    run.config["optimizer"] = {"name": "adam", "betas": [0.9, 0.999]}
    run.config.update({"lr": 0.02, "vec": np.array([1, 2, 3])})
    assert run.config.lr == 0.02 and run.config["batch"] == 32
    assert run.config.vec == [1, 2, 3] and "optimizer" in run.config
    run.finish()

    expected = {
        "lr": 0.02,
        "layers": [64, 32],
        "batch": 32,
        "optimizer": {"name": "adam", "betas": [0.9, 0.999]},
        "vec": [1, 2, 3],
    }
    assert read(root).config == expected
    config_file = Path(run.dir) / "config.yaml"
    loaded = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    assert loaded == {key: {"value": value} for key, value in expected.items()}


def test_config_refuses_what_cannot_be_stored(root: Path) -> None:
    run = wandb.init(config={"a": 1})

    with pytest.raises(TypeError, match="'b' has type builtins.object"):
        run.config.update({"b": object()})
    assert "b" not in run.config
    run.finish()

    assert read(root).config == {"a": 1}


# -- summary ---------------------------------------------------------------------------


def test_summary_holds_last_values_and_what_the_user_set(root: Path) -> None:
    run = wandb.init()

    run.log({"loss": 1.0, "train": {"acc": 0.5}})
    run.log({"loss": 0.5, "train": {"acc": 0.75, "f1": 0.6}})
    run.summary["best"] = 0.9
    run.summary.update({"note": "ok"})
    assert run.summary["loss"] == 0.5 and run.summary["train"]["acc"] == 0.75
    run.finish()

    summary = read(root).summary
    user = {k: v for k, v in summary.items() if not k.startswith("_")}
    assert user == {
        "loss": 0.5,
        "train": {"acc": 0.75, "f1": 0.6},
        "best": 0.9,
        "note": "ok",
    }
    assert summary["_step"] == 1
    written = json.loads((Path(run.dir) / "wandb-summary.json").read_text())
    assert {k: v for k, v in written.items() if not k.startswith("_")} == user


def test_summary_del_removes_nested_values(root: Path) -> None:
    run = wandb.init()

    run.log({"a": {"b": 1}, "c": 2})
    del run.summary["a"]
    run.log({"c": 3})
    run.finish()

    summary = read(root).summary
    assert "a" not in summary and summary["c"] == 3
    assert "a" not in json.loads((Path(run.dir) / "wandb-summary.json").read_text())


def test_summary_leaves_out_none(root: Path) -> None:
    run = wandb.init()

    run.log({"a": 1.0})
    run.log({"a": None})
    run.finish()

    assert read(root).summary["a"] == 1.0


def test_summary_reaches_the_log_without_finish(root: Path) -> None:
    run = wandb.init()

    run.log({"a": 1.0})
    deadline = 3.0
    import time

    start = time.monotonic()
    summary: dict[str, Any] = {}
    while time.monotonic() - start < deadline:
        summary = read(root).summary
        if summary.get("a") == 1.0:
            break
        time.sleep(0.1)
    assert summary.get("a") == 1.0
    assert read(root).history[0]["a"] == 1.0


# -- define_metric ---------------------------------------------------------------------


def test_define_metric_summaries(root: Path) -> None:
    run = wandb.init()
    run.define_metric("loss", summary="min,max,mean")
    run.define_metric("acc", summary="max")
    run.define_metric("lr", summary="first,last")
    run.define_metric("noise", summary="none")

    for loss, acc, lr in ((0.9, 0.1, 1.0), (0.3, 0.7, 0.5), (0.6, 0.4, 0.25)):
        run.log({"loss": loss, "acc": acc, "lr": lr, "noise": loss * 2})
    run.finish()

    summary = read(root).summary
    assert summary["loss"] == {"min": 0.3, "max": 0.9, "mean": pytest.approx(0.6)}
    assert summary["acc"] == {"max": 0.7}
    assert summary["lr"] == {"first": 1.0, "last": 0.25}
    assert "noise" not in summary


def test_define_metric_globs_and_step_metrics(root: Path) -> None:
    run = wandb.init()
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch", summary="min")

    run.log({"train/loss": 1.0})
    run.log({"epoch": 1, "val/loss": 0.8})
    run.log({"val/loss": 0.9})
    run.finish()

    replay = read(root)
    assert user_rows(replay) == [
        {"train/loss": 1.0, "_step": 0},
        {"epoch": 1, "val/loss": 0.8, "_step": 1},
        {"epoch": 1, "val/loss": 0.9, "_step": 2},
    ]
    assert replay.summary["val/loss"] == {"min": 0.8}
    assert replay.summary["train/loss"] == 1.0


def test_define_metric_refuses_unknown_summaries(root: Path) -> None:
    run = wandb.init()

    with pytest.raises(ValueError, match="'median'"):
        run.define_metric("loss", summary="min,median")


# -- the run directory -----------------------------------------------------------------


def test_run_directory_layout(root: Path) -> None:
    run = wandb.init(project="layout", id="abc123", name="first try", tags=["x"])
    run.log({"a": 1})
    run.finish()

    run_dir = only_run_dir(root)
    name = os.path.basename(run_dir)
    assert name.startswith("offline-run-") and name.endswith("-abc123")
    assert len(name.split("-")[2]) == len("YYYYMMDD_HHMMSS")
    assert os.path.basename(log_file(run_dir)) == "run-abc123.wandb"
    files = Path(run_dir) / "files"
    assert "pytest==" in (files / "requirements.txt").read_text()
    metadata = json.loads((files / "wandb-metadata.json").read_text())
    assert metadata["executable"] and metadata["cpu_count"] >= 1
    assert (Path(run_dir) / "logs" / "debug.log").read_text()
    latest = root / "wandb" / "latest-run"
    assert latest.is_symlink() and latest.resolve() == Path(run_dir).resolve()
    assert run.dir == str(files)
    assert (run.id, run.name, run.project) == ("abc123", "first try", "layout")
    assert run.path == "layout/abc123"


def test_the_header_names_our_package(root: Path) -> None:
    run = wandb.init()
    run.finish()

    assert read(root).producer == f"wandb-core-py {wandb.__version__}"


def test_environment_variables_are_honoured(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "from-env")
    monkeypatch.setenv("WANDB_RUN_ID", "envrun01")
    monkeypatch.setenv("WANDB_NAME", "env name")
    monkeypatch.setenv("WANDB_TAGS", "a, b")

    run = wandb.init()
    run.finish()

    replay = read(root)
    assert (replay.project, replay.run_id, replay.display_name) == (
        "from-env",
        "envrun01",
        "env name",
    )
    assert run.tags == ("a", "b")


def test_arguments_beat_environment_variables(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "from-env")

    run = wandb.init(project="from-argument")
    run.finish()

    assert read(root).project == "from-argument"


def test_silent_hides_terminal_lines(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wandb.init().finish()
    assert capsys.readouterr().err == ""

    monkeypatch.setenv("WANDB_SILENT", "false")
    wandb.init().finish()
    assert "wandb-core: offline run" in capsys.readouterr().err


# -- modes and the module-level API ----------------------------------------------------


def test_disabled_mode_writes_nothing(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")

    run = wandb.init(config={"a": 1})
    run.log({"x": 1})
    run.summary["y"] = 2
    run.config.b = 3
    run.define_metric("x", summary="min")
    run.finish()

    assert not (root / "wandb").exists()
    assert run.config.a == 1 and run.summary["y"] == 2


def test_online_mode_is_a_clear_error(root: Path) -> None:
    with pytest.raises(UnsupportedModeError, match="Online mode is not available"):
        wandb.init(mode="online")


def test_module_level_functions_use_the_current_run(root: Path) -> None:
    assert wandb.run is None

    run = wandb.init(config={"lr": 1})
    assert wandb.run is run and wandb.config.lr == 1
    wandb.log({"a": 1})
    wandb.summary["b"] = 2
    wandb.define_metric("a", summary="max")
    wandb.log({"a": 3})
    wandb.finish()

    assert wandb.run is None
    replay = read(root)
    assert [row["a"] for row in replay.history] == [1, 3]
    assert replay.summary["b"] == 2 and replay.summary["a"] == {"max": 3}


def test_a_second_init_returns_the_active_run(root: Path) -> None:
    first = wandb.init()

    assert wandb.init() is first
    second = wandb.init(reinit="finish_previous")
    assert second is not first and first._finished
    second.finish()


def test_context_manager_marks_a_failure(root: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), wandb.init() as run:
        run.log({"a": 1})
        raise RuntimeError("boom")

    replay = read(root)
    assert replay.exit_code == 1 and replay.state == "failed"


def test_summary_file_and_log_agree_on_every_value(root: Path) -> None:
    run = wandb.init()
    row = {
        "whole": 2.0,
        "zero": 0.0,
        "big": 2**64 + 1,
        "nan": math.nan,
        "text": '𝔼(X) "q"',
        "nested": {"a": {"b": 3.0}, "list": [1.0, 2]},
        "flag": True,
    }

    run.log(row)
    run.finish()

    from_log = {k: v for k, v in read(root).summary.items() if not k.startswith("_")}
    text = (Path(run.dir) / "wandb-summary.json").read_text(encoding="utf-8")
    from_file = {k: v for k, v in json.loads(text).items() if not k.startswith("_")}
    canonical = json.dumps(from_log, sort_keys=True)
    assert json.dumps(from_file, sort_keys=True) == canonical
    assert type(from_file["whole"]) is type(from_log["whole"]) is int


def test_a_bad_config_at_init_leaves_no_run_directory(root: Path) -> None:
    with pytest.raises(TypeError, match="'model' has type builtins.object"):
        wandb.init(config={"lr": 0.1, "model": object()})

    assert not (root / "wandb").exists()


def test_the_final_summary_holds_the_whole_runtime(root: Path) -> None:
    run = wandb.init()
    run.log({"a": 1})

    import time

    time.sleep(0.3)
    run.finish()

    assert read(root).summary["_runtime"] >= 0.3


def test_a_config_without_a_run_can_be_copied(root: Path) -> None:
    import copy

    config = wandb.config
    config.update({"a": [1, 2]})

    duplicate = copy.deepcopy(config)
    assert duplicate.as_dict() == {"a": [1, 2]}


def test_an_unwritable_directory_degrades_to_a_run_that_does_nothing(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = root / "not-a-folder"
    blocker.write_text("a file where the run folder should go")

    run = wandb.init(dir=str(blocker), config={"lr": 0.1})
    run.log({"loss": 1.0})
    run.finish()

    assert run.disabled and run.config.lr == 0.1
    err = capsys.readouterr().err
    assert "this run is NOT logged" in err and str(blocker) in err


def test_arrays_by_size_in_history_summary_and_config(root: Path) -> None:
    run = wandb.init(config={"grid": np.arange(40), "lr": np.array([2.0])})
    run.config.scalar = np.array(3)

    run.log({"one": np.array([5.0]), "one_int": np.array([[3]]), "two": np.ones(2)})
    run.summary["weights"] = np.arange(40.0)
    run.finish()

    replay = read(root)
    assert user_rows(replay) == [
        {"one": 5.0, "one_int": 3, "two": [1.0, 1.0], "_step": 0}
    ]
    # The official client's statistics object for a big array set by hand;
    # np.percentile(np.arange(40.0), 10) is 3.9 up to rounding.
    assert replay.summary["weights"] == {
        "_type": "numpy.ndarray",
        "var": 133.25,
        "mean": 19.5,
        "min": 0,
        "max": 39,
        "10%": pytest.approx(3.9),
        "25%": 9.75,
        "75%": 29.25,
        "90%": pytest.approx(35.1),
        "size": 40,
    }
    assert replay.config["grid"] == list(range(40))
    # One-element arrays stay lists in config (the official client writes
    # the string "2.0"); 0-d arrays are scalars.
    assert replay.config["lr"] == [2.0]
    assert replay.config["scalar"] == 3
