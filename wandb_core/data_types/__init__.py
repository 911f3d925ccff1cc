"""Rich values to log: histograms, tables and images.

Each type loads with its first use, so ``import wandb_core`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wandb_core.data_types.histogram import Histogram
    from wandb_core.data_types.table import Table

__all__ = ["Histogram", "Table"]

# Public name -> module that defines it.
_LAZY = {
    "Histogram": "wandb_core.data_types.histogram",
    "Table": "wandb_core.data_types.table",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
