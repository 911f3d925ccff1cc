"""Shared pytest fixtures for the wandb-core test suite."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

import pytest

from wandb_core import _env
from wandb_core.errors import ExtensionFallbackWarning

# ---------------------------------------------------------------------------
# Record twins: run a test on the pure and on the compiled records module.
# ---------------------------------------------------------------------------

PURE_TWIN = "wandb_core._fast.records_py"
COMPILED_TWIN = "wandb_core._fast.records_c"


def _import_twin(name: str) -> ModuleType:
    # Importing a twin runs the selector in wandb_core._fast first. When the
    # compiled twin is missing it warns (an error under our filterwarnings);
    # that warning is the selector tests' concern, not these fixtures'.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtensionFallbackWarning)
        return importlib.import_module(name)


def _import_compiled_twin() -> ModuleType:
    """The compiled twin; a skip when it is not built, a failure in CI.

    CI and wheel builds set ``WANDB_CORE_REQUIRE_EXTENSIONS=1``, where a
    missing compiled twin must fail the run instead of quietly testing only
    the pure one.
    """
    try:
        return _import_twin(COMPILED_TWIN)
    except ImportError as error:
        if _env.require_extensions():
            pytest.fail(
                f"{COMPILED_TWIN} cannot be imported although "
                f"{_env.REQUIRE_EXTENSIONS} is set: {error}",
                pytrace=False,
            )
        pytest.skip(
            f"{COMPILED_TWIN} is not built ({error}); build it with "
            "`python setup.py build_ext --inplace` to test the compiled twin"
        )


@pytest.fixture(scope="session", params=["python", "cython"])
def records(request: pytest.FixtureRequest) -> ModuleType:
    """Each records twin in turn: the pure reference, then the compiled one."""
    if request.param == "python":
        return _import_twin(PURE_TWIN)
    return _import_compiled_twin()


@pytest.fixture(scope="session")
def both_twins() -> tuple[ModuleType, ModuleType]:
    """The pure and the compiled records twin, to compare their outputs."""
    return _import_twin(PURE_TWIN), _import_compiled_twin()


# ---------------------------------------------------------------------------
# End of the record-twin fixtures.
# ---------------------------------------------------------------------------
