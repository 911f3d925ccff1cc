"""The hot paths of wandb-core, each a compiled twin and a pure-Python twin.

This module is the one place that chooses between them. The compiled
(Cython) twins are used when they load; ``WANDB_CORE_NO_EXTENSIONS=1``
forces the pure twins without a word. When the compiled twins were wanted
but cannot be loaded, the pure twins are used and one
``ExtensionFallbackWarning`` says so; ``WANDB_CORE_REQUIRE_EXTENSIONS=1``
makes that an ImportError instead (CI and wheel builds set it).

``implementation`` records the choice (``"cython"``, or ``"python"`` as soon
as any pure twin is in use) and
``fallback_reason`` why the pure twins were used (``None`` when they were
not, or when the user asked for them). Nothing else imports a twin module
directly; everything goes through the names exported here.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

from wandb_core import _env
from wandb_core.errors import ExtensionFallbackWarning

# Every hot path: a compiled ``<topic>_c.pyx`` and a pure ``<topic>_py.py``.
# ``records`` loads with this module; the others on first use, as
# attributes of this module (``from wandb_core._fast import histogram``).
TOPICS = ("records", "histogram", "table", "digest")

implementation = "cython"
fallback_reason: str | None = None


def load(topic: str) -> ModuleType:
    """The chosen twin module of ``topic``."""
    global implementation, fallback_reason

    pure_name = f"wandb_core._fast.{topic}_py"
    if _env.no_extensions():
        implementation = "python"
        return importlib.import_module(pure_name)
    try:
        return importlib.import_module(f"wandb_core._fast.{topic}_c")
    except ImportError as error:
        if _env.require_extensions():
            msg = (
                "The compiled wandb-core extensions are required "
                f"({_env.REQUIRE_EXTENSIONS} is set) but cannot be loaded: {error}"
            )
            raise ImportError(msg) from error
        implementation = "python"
        if fallback_reason is None:
            fallback_reason = str(error)
            _warn_fallback(error)
        return importlib.import_module(pure_name)


def __getattr__(name: str) -> ModuleType:
    if name in TOPICS:
        module = load(name)
        globals()[name] = module
        return module
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def _warn_fallback(error: ImportError) -> None:
    import platform

    msg = (
        "wandb-core could not load its compiled hot paths on "
        f"{platform.system()} {platform.machine()} with "
        f"{platform.python_implementation()} {platform.python_version()} "
        f"({error}); it runs the pure-Python twins, which encode each logged "
        "row about 10 times slower (histograms and tables 10 to 100 times). "
        "Install a wandb-core-py wheel for this platform or a C compiler to "
        f"get them, or set {_env.NO_EXTENSIONS}=1 to silence this warning."
    )
    warnings.warn(msg, ExtensionFallbackWarning, stacklevel=4)


if TYPE_CHECKING:
    from wandb_core._fast.records_py import (
        Framer,
        deep_value,
        encode_history,
        encode_summary,
        encode_varint,
        flatten_row,
        float_json,
        parse_fields,
        unframe,
        value_json,
    )
else:
    _records = records = load("records")
    Framer = _records.Framer
    deep_value = _records.deep_value
    encode_history = _records.encode_history
    encode_summary = _records.encode_summary
    encode_varint = _records.encode_varint
    flatten_row = _records.flatten_row
    float_json = _records.float_json
    parse_fields = _records.parse_fields
    unframe = _records.unframe
    value_json = _records.value_json

__all__ = [
    "Framer",
    "deep_value",
    "encode_history",
    "encode_summary",
    "encode_varint",
    "fallback_reason",
    "flatten_row",
    "float_json",
    "implementation",
    "load",
    "parse_fields",
    "unframe",
    "value_json",
]
