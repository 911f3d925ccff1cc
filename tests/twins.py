"""Importing the two twins of a ``_fast`` topic, for fixtures.

Every test of a hot path runs on both twins: the pure reference and the
compiled one. ``compiled_twin`` skips when the extension is not built, and
fails instead under ``WANDB_CORE_REQUIRE_EXTENSIONS=1`` (CI, wheels), so CI
cannot quietly test the pure twin twice.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

import pytest

from wandb_core import _env
from wandb_core.errors import ExtensionFallbackWarning


def _import(name: str) -> ModuleType:
    # Importing a twin runs the selector in wandb_core._fast first. When the
    # compiled twin is missing it warns (an error under our filterwarnings);
    # that warning is the selector tests' concern, not these fixtures'.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtensionFallbackWarning)
        return importlib.import_module(name)


def pure_twin(topic: str) -> ModuleType:
    """``wandb_core._fast.<topic>_py``."""
    return _import(f"wandb_core._fast.{topic}_py")


def compiled_twin(topic: str) -> ModuleType:
    """``wandb_core._fast.<topic>_c``; a skip when not built, a failure in CI."""
    name = f"wandb_core._fast.{topic}_c"
    try:
        return _import(name)
    except ImportError as error:
        if _env.require_extensions():
            pytest.fail(
                f"{name} cannot be imported although "
                f"{_env.REQUIRE_EXTENSIONS} is set: {error}",
                pytrace=False,
            )
        pytest.skip(
            f"{name} is not built ({error}); build it with "
            "`python setup.py build_ext --inplace` to test the compiled twin"
        )


def twin(topic: str, which: str) -> ModuleType:
    """The ``"python"`` or ``"cython"`` twin of ``topic``."""
    return pure_twin(topic) if which == "python" else compiled_twin(topic)
