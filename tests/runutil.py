"""Helpers for tests that start runs: where they land and what they hold."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import textwrap
from typing import Any

from wandb_core.backend.reader import RunLog, read_run

USER_KEYS_IGNORED = ("_runtime", "_timestamp")

# W&B's per-user folders, which conftest points at a private folder for the
# whole test session: tests keep them when they clear WANDB_* variables.
USER_FOLDER_VARS = frozenset({"WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"})


def is_inherited(name: str) -> bool:
    """Whether a test's runs keep the environment variable ``name``."""
    return (
        not name.startswith("WANDB_")
        or name.startswith("WANDB_CORE_")
        or name in USER_FOLDER_VARS
    )


def offline_env(root: os.PathLike[str] | str, **extra: str) -> dict[str, str]:
    """Environment for a child process that logs offline under ``root``."""
    env = {name: value for name, value in os.environ.items() if is_inherited(name)}
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=str(root),
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def run_dirs(root: os.PathLike[str] | str) -> list[str]:
    """Run directories under ``root/wandb``, oldest first."""
    return sorted(glob.glob(os.path.join(str(root), "wandb", "offline-run-*")))


def only_run_dir(root: os.PathLike[str] | str) -> str:
    """The one run directory under ``root``."""
    found = run_dirs(root)
    assert len(found) == 1, found
    return found[0]


def log_file(run_dir: str) -> str:
    """The transaction log of a run directory."""
    found = glob.glob(os.path.join(run_dir, "*.wandb"))
    assert len(found) == 1, found
    return found[0]


def read(root: os.PathLike[str] | str) -> RunLog:
    """Replay the one run under ``root``."""
    return read_run(log_file(only_run_dir(root)))


def user_rows(run: RunLog) -> list[dict[str, Any]]:
    """History rows without ``_runtime`` and ``_timestamp``."""
    return [
        {k: v for k, v in row.items() if k not in USER_KEYS_IGNORED}
        for row in run.history
    ]


def run_script(
    root: os.PathLike[str] | str, body: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a Python script (``import wandb_core as wandb`` done) in a child."""
    path = os.path.join(str(root), "script.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("import wandb_core as wandb\n" + textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, path],
        cwd=str(root),
        env=offline_env(root, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
