"""``python -m wandb_core``: the ``wandb-core`` command (see ``wandb_core.cli``)."""

from __future__ import annotations

import sys

from wandb_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
