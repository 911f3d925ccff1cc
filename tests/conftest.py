"""Shared pytest fixtures for the wandb-core test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.runutil import USER_FOLDER_VARS, is_inherited
from tests.twins import compiled_twin, pure_twin, twin
from wandb_core import _session

# W&B's per-user folders (artifact staging, the artifact cache): a fresh one
# per test session, also for the official client's processes, so that tests
# leave nothing in the home folder and never see each other's files.


@pytest.fixture(scope="session", autouse=True)
def private_wandb_folders(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    root = tmp_path_factory.mktemp("wandb-user")
    saved = {name: os.environ.get(name) for name in USER_FOLDER_VARS}
    for name in USER_FOLDER_VARS:
        os.environ[name] = str(root / name.lower())
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder that runs log into, offline and silent."""
    for name in list(os.environ):
        if not is_inherited(name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    yield tmp_path
    for run in list(_session._runs):
        run.finish()


# ---------------------------------------------------------------------------
# Record twins: run a test on the pure and on the compiled records module.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session", params=["python", "cython"])
def records(request: pytest.FixtureRequest) -> ModuleType:
    """Each records twin in turn: the pure reference, then the compiled one."""
    return twin("records", request.param)


@pytest.fixture(scope="session")
def both_twins() -> tuple[ModuleType, ModuleType]:
    """The pure and the compiled records twin, to compare their outputs."""
    return pure_twin("records"), compiled_twin("records")


# ---------------------------------------------------------------------------
# End of the record-twin fixtures.
# ---------------------------------------------------------------------------
