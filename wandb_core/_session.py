"""``init``, the process's active runs, and finishing them at exit.

A run the script forgot to finish is finished at interpreter exit with the
exit code the script leaves with. ``atexit`` alone cannot know that code,
so the first ``init`` also wraps ``sys.excepthook`` (an uncaught exception
means 1, or 130 for KeyboardInterrupt) and ``sys.exit`` (its argument).
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from typing import Any

from wandb_core import _env, _term
from wandb_core import settings as settings_module
from wandb_core.__version__ import __version__
from wandb_core._fast import value_json
from wandb_core.backend import records, rundir
from wandb_core.backend.writer import LogWriter
from wandb_core.runs import Config, Run, as_config_dict
from wandb_core.settings import Settings, first

logger = logging.getLogger("wandb_core")
logger.addHandler(logging.NullHandler())
logger.propagate = False

_runs: list[Run] = []
_runs_lock = threading.Lock()
_hooks_installed = False
_exit_code: int | None = None

PRODUCER = f"wandb-core-py {__version__}"


def current() -> Run | None:
    """The newest unfinished run of this process."""
    with _runs_lock:
        return _runs[-1] if _runs else None


def forget(run: Run) -> None:
    """Drop a finished run from the active runs."""
    with _runs_lock:
        if run in _runs:
            _runs.remove(run)
    handler = getattr(run, "_debug_handler", None)
    if handler is not None:
        logger.removeHandler(handler)
        handler.close()


def init(
    project: str | None = None,
    entity: str | None = None,
    name: str | None = None,
    id: str | None = None,  # noqa: A002 - the official client's parameter name
    config: Any = None,
    mode: str | None = None,
    dir: str | None = None,  # noqa: A002 - the official client's parameter name
    tags: Any = None,
    notes: str | None = None,
    group: str | None = None,
    job_type: str | None = None,
    resume: Any = None,
    settings: Settings | dict[str, Any] | None = None,
    reinit: bool | str | None = None,
    config_exclude_keys: list[str] | None = None,
    config_include_keys: list[str] | None = None,
    allow_val_change: bool | None = None,
    **ignored: Any,
) -> Run:
    """Start a run, as the official client's ``wandb.init``.

    Offline is the default mode; ``mode="disabled"`` returns a run whose
    calls do nothing. A second ``init`` in the same process returns the
    active run unless ``reinit`` asks for a new one.
    """
    chosen = Settings.from_value(settings)
    run_mode = settings_module.resolve_mode(mode, chosen)
    previous = _previous_run(reinit)
    if previous is not None:
        return previous
    if ignored:
        logger.debug("init() arguments without effect here: %s", sorted(ignored))
    config_values = dict(as_config_dict(config)) if config is not None else {}
    if config_include_keys:
        config_values = {
            k: v for k, v in config_values.items() if k in config_include_keys
        }
    for key in config_exclude_keys or ():
        config_values.pop(key, None)
    run_id = settings_module.check_run_id(
        first(id, chosen.run_id, _env.get_str(_env.RUN_ID))
        or settings_module.new_run_id()
    )
    identity = {
        "run_id": run_id,
        "name": first(name, chosen.run_name, _env.get_str(_env.NAME)),
        "project": first(project, chosen.project, _env.get_str(_env.PROJECT)),
        "entity": first(entity, chosen.entity, _env.get_str(_env.ENTITY)),
        "group": first(group, chosen.run_group, _env.get_str(_env.RUN_GROUP)),
        "job_type": first(job_type, chosen.run_job_type, _env.get_str(_env.JOB_TYPE)),
        "notes": first(notes, chosen.run_notes, _env.get_str(_env.NOTES)),
        "tags": settings_module.tags_tuple(
            first(tags, chosen.run_tags, _env.get_tags())
        ),
    }
    if run_mode == "disabled":
        run = _disabled_run(identity, config_values)
    else:
        root = settings_module.root_dir(dir, chosen)
        try:
            run = _start_offline_run(identity, config_values, root, chosen)
        except OSError as error:
            # Training matters more than its log: say so once, loudly, and
            # let every call of the run do nothing.
            _term.alert(
                f"cannot write run files under {root} ({error}); this run is "
                "NOT logged. Set WANDB_DIR or dir= to a writable folder."
            )
            run = _disabled_run(identity, config_values)
    with _runs_lock:
        _runs.append(run)
    _install_exit_hooks()
    return run


def _previous_run(reinit: bool | str | None) -> Run | None:
    active = [run for run in _runs if run._owner_pid == os.getpid()]
    if not active:
        return None
    if reinit in (True, "finish_previous"):
        for run in active:
            run.finish()
        return None
    if reinit == "create_new":
        return None
    return active[-1]


def _disabled_run(identity: dict[str, Any], config_values: dict[str, Any]) -> Run:
    run = Run(
        **identity,
        mode="disabled",
        run_dir=None,
        log_path=None,
        start_time=records.now(),
        writer=None,
    )
    run.config.update(config_values)
    return run


def _start_offline_run(
    identity: dict[str, Any], config_values: dict[str, Any], root: str, chosen: Settings
) -> Run:
    # Validate and encode the config before anything is written.
    scratch = Config()
    scratch.update(config_values)
    config_items = [(key, value_json(value)) for key, value in scratch.items()]
    start_time = records.now()
    paths = rundir.RunDirectory(root, identity["run_id"], start_time, offline=True)
    paths.create()

    fd = os.open(
        paths.log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY, 0o644
    )
    os.write(fd, _file_header())
    holder: list[Run] = []
    writer = LogWriter(
        fd,
        offset=len(_file_header()),
        first_num=1,
        on_error=lambda error: holder[0]._background_error(error) if holder else None,
    )
    run = Run(
        **identity,
        mode="offline",
        run_dir=paths.path,
        log_path=paths.log_file,
        start_time=start_time,
        writer=writer,
    )
    holder.append(run)
    run.config._items.update(dict(scratch.items()))
    run._config_file_dirty = True
    _attach_debug_log(run, paths.debug_log)

    writer.write_now(records.header(PRODUCER))
    writer.write_now(
        records.run(
            run_id=run.id,
            entity=identity["entity"],
            project=run.project,
            config_items=config_items,
            group=run.group,
            job_type=run.job_type,
            display_name=identity["name"],
            notes=run.notes,
            tags=run.tags,
            host=rundir.hostname(),
            start_time=start_time,
        )
    )
    writer.add_tick_hook(run.summary_record)
    writer.add_tick_hook(run._write_readable_files)
    writer.call_soon(lambda: _start_files(run, chosen.program, root))
    writer.start()
    logger.info("run %s started in %s", run.id, paths.path)
    _term.info(f"offline run {run.id} logging to {paths.path}")
    return run


def _start_files(run: Run, program: str | None, root: str) -> list[bytes]:
    from wandb_core import _files

    return _files.write_start_files(run, program or _env.get_str(_env.PROGRAM), root)


def _file_header() -> bytes:
    from wandb_core._fast._wire import FILE_HEADER

    return FILE_HEADER


_O_BINARY = getattr(os, "O_BINARY", 0)


def _attach_debug_log(run: Run, path: str) -> None:
    handler = _QuietFileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
        )
    )
    handler.setLevel(logging.DEBUG)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    run._debug_handler = handler  # type: ignore[attr-defined]


class _QuietFileHandler(logging.FileHandler):
    """A debug log handler that goes quiet when its disk fails.

    The default handler prints a traceback to stderr for each failed
    record; a full disk must not flood the training script's output.
    """

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        self.setLevel(logging.CRITICAL + 1)


# ---------------------------------------------------------------------------
# Exit hooks
# ---------------------------------------------------------------------------


def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    original_excepthook = sys.excepthook
    original_exit = sys.exit

    def excepthook(exc_type: Any, exc: Any, traceback: Any) -> None:
        global _exit_code
        _exit_code = 130 if issubclass(exc_type, KeyboardInterrupt) else 1
        original_excepthook(exc_type, exc, traceback)

    # TODO: a bare `raise SystemExit(n)` (not via sys.exit) and SIGTERM reach
    # no hook; such runs are finished with exit code 0, or left without an
    # exit record, until a portable way to see them is found.
    def exit_with_code(code: Any = None) -> None:
        global _exit_code
        _exit_code = _code_of(code)
        original_exit(code)

    sys.excepthook = excepthook
    sys.exit = exit_with_code  # type: ignore[assignment]
    atexit.register(_finish_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork)


def _before_fork() -> None:
    if not any(run._owner_pid == os.getpid() for run in _runs):
        return
    from wandb_core import _fork  # sockets and pickle only for forking scripts

    _fork.open_channels_before_fork()


def _code_of(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


def _finish_at_exit() -> None:
    for run in list(_runs):
        try:
            run.finish(exit_code=_exit_code or 0)
        except Exception:  # Defensive: exit must go on
            logger.exception("finishing run %s at exit failed", run.id)
