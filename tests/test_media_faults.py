"""Disk faults while logging media never reach the training script.

Tables and Images have their files written by the run's writer thread; a
file that cannot be written is reported once on stderr and the run goes on:
the rows are logged, ``finish()`` completes and the log stays readable.
Root may write anywhere, so the faults are made with files standing where
folders must go.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wandb_core as wandb
from tests.runutil import read, user_rows


def test_unwritable_media_folder(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("PIL")
    run = wandb.init(project="faults")
    Path(run.dir, "media").write_text("a file where the media folder goes")
    for step in range(3):
        run.log(
            {
                "loss": 1.0 / (step + 1),
                "table": wandb.Table(columns=["a"], data=[[step]]),
                "picture": wandb.Image(np.full((2, 2), step, np.uint8)),
            }
        )
    run.finish()

    err = capsys.readouterr().err
    assert err.count("Could not write") == 1  # told once
    assert "the run goes on" in err
    logged = read(root)
    assert logged.state == "finished"
    assert [row["loss"] for row in user_rows(logged)] == [1.0, 0.5, 1.0 / 3]
    assert user_rows(logged)[2]["table"]["_type"] == "table-file"


def test_unwritable_staging_folder(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = root / "data-is-a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("WANDB_DATA_DIR", str(blocked))
    run = wandb.init(project="faults")
    run.log({"table": wandb.Table(columns=["a"], data=[[1]]), "x": 1})
    run.log({"x": 2})
    run.finish()

    assert capsys.readouterr().err.count("Could not write") == 1
    logged = read(root)
    assert logged.state == "finished"
    assert [row["x"] for row in user_rows(logged)] == [1, 2]
    assert list(Path(run.dir, "media", "table").iterdir())  # the media file is there
