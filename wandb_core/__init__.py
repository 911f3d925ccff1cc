"""wandb-core: a fast, in-process backend for Weights & Biases tracking.

Use it as the official client::

    import wandb_core as wandb

    run = wandb.init(project="demo", config={"lr": 0.01})
    run.log({"loss": 0.5})
    run.finish()

Importing the package stays cheap: the run machinery loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wandb_core.__version__ import __version__

if TYPE_CHECKING:
    from wandb_core._session import init
    from wandb_core.artifacts.artifact import Artifact
    from wandb_core.data_types.histogram import Histogram
    from wandb_core.data_types.image import Image
    from wandb_core.data_types.table import Table
    from wandb_core.runs import Config, Run, Summary
    from wandb_core.settings import Settings

__all__ = [
    "Artifact",
    "Config",
    "Histogram",
    "Image",
    "Run",
    "Settings",
    "Summary",
    "Table",
    "__version__",
    "config",
    "define_metric",
    "finish",
    "init",
    "log",
    "log_artifact",
    "run",
    "summary",
    "use_artifact",
]

_LAZY = {
    "init": ("wandb_core._session", "init"),
    "Artifact": ("wandb_core.artifacts.artifact", "Artifact"),
    "Run": ("wandb_core.runs", "Run"),
    "Config": ("wandb_core.runs", "Config"),
    "Summary": ("wandb_core.runs", "Summary"),
    "Settings": ("wandb_core.settings", "Settings"),
    "Histogram": ("wandb_core.data_types.histogram", "Histogram"),
    "Image": ("wandb_core.data_types.image", "Image"),
    "Table": ("wandb_core.data_types.table", "Table"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    if name == "run":
        return _current_run()
    if name == "config":
        run = _current_run()
        return run.config if run is not None else _placeholder_config()
    if name == "summary":
        run = _current_run()
        return run.summary if run is not None else None
    msg = f"module 'wandb_core' has no attribute {name!r}"
    raise AttributeError(msg)


def _current_run() -> Any:
    import sys

    session = sys.modules.get("wandb_core._session")
    return session.current() if session is not None else None


def _placeholder_config() -> Any:
    from wandb_core.runs import Config

    return Config()


def _require_run(call: str) -> Any:
    from wandb_core.errors import UsageError

    run = _current_run()
    if run is None:
        msg = f"wandb_core.{call}() needs a run: call wandb_core.init() first."
        raise UsageError(msg)
    return run


def log(data: Any, step: int | None = None, commit: bool | None = None) -> None:
    """Log to the current run (see ``Run.log``)."""
    _require_run("log").log(data, step=step, commit=commit)


def define_metric(name: str, *args: Any, **kwargs: Any) -> Any:
    """Define a metric on the current run (see ``Run.define_metric``)."""
    return _require_run("define_metric").define_metric(name, *args, **kwargs)


def log_artifact(artifact_or_path: Any, *args: Any, **kwargs: Any) -> Any:
    """Log an artifact to the current run (see ``Run.log_artifact``)."""
    return _require_run("log_artifact").log_artifact(artifact_or_path, *args, **kwargs)


def use_artifact(artifact_or_name: Any, *args: Any, **kwargs: Any) -> Any:
    """Use an artifact in the current run (see ``Run.use_artifact``)."""
    return _require_run("use_artifact").use_artifact(artifact_or_name, *args, **kwargs)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run, if there is one."""
    run = _current_run()
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)
