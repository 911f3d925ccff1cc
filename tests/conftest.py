"""Shared pytest fixtures for the wandb-core test suite."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.twins import compiled_twin, pure_twin, twin

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
