"""Run settings from ``init`` arguments, the environment and defaults.

Precedence is the official client's: an explicit ``init`` argument wins,
then a ``settings=`` value, then the ``WANDB_*`` environment variable, then
the default.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import string
from collections.abc import Mapping, Sequence
from typing import Any

from wandb_core import _env
from wandb_core.errors import UnsupportedModeError, UsageError

MODES = ("offline", "online", "disabled")
_MODE_ALIASES = {"dryrun": "offline", "run": "online", "shared": "online"}
_RUN_ID_ALPHABET = string.ascii_lowercase + string.digits
_RUN_ID_FORBIDDEN = set("/\\#?%:")


@dataclasses.dataclass
class Settings:
    """What a run needs to know before it starts.

    Accepted by ``init(settings=...)`` as this class or a plain dict of the
    same field names.
    """

    mode: str | None = None
    project: str | None = None
    entity: str | None = None
    run_id: str | None = None
    run_name: str | None = None
    run_notes: str | None = None
    run_tags: tuple[str, ...] | None = None
    run_group: str | None = None
    run_job_type: str | None = None
    root_dir: str | None = None
    silent: bool | None = None
    program: str | None = None
    resume: Any = None

    @classmethod
    def from_value(cls, value: Settings | Mapping[str, Any] | None) -> Settings:
        """Settings from ``init``'s ``settings=`` argument."""
        if value is None:
            return cls()
        if isinstance(value, Settings):
            return dataclasses.replace(value)
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            msg = (
                f"Unknown setting(s) {', '.join(map(repr, unknown))}; "
                f"known settings are {', '.join(sorted(known))}."
            )
            raise UsageError(msg)
        return cls(**dict(value))


def resolve_mode(mode: str | None, settings: Settings) -> str:
    """The run mode; offline unless asked otherwise."""
    chosen = mode or settings.mode or _env.get_str(_env.MODE)
    if _env.get_bool(_env.DISABLED) and chosen is None:
        chosen = "disabled"
    chosen = (chosen or "offline").strip().lower()
    chosen = _MODE_ALIASES.get(chosen, chosen)
    if chosen not in MODES:
        msg = f"Mode {chosen!r} is not one of {', '.join(MODES)}."
        raise UsageError(msg)
    if chosen == "online":
        # TODO(#online mode issue): speak the W&B HTTP protocol.
        msg = (
            "Online mode is not available in this version of wandb-core; "
            "use mode='offline' (the default) and upload later with `wandb sync`."
        )
        raise UnsupportedModeError(msg)
    return chosen


def new_run_id() -> str:
    """Eight random lower-case letters and digits, as the official client."""
    return "".join(secrets.choice(_RUN_ID_ALPHABET) for _ in range(8))


def check_run_id(run_id: str) -> str:
    """Refuse run ids that cannot name a run directory."""
    if not run_id or set(run_id) & _RUN_ID_FORBIDDEN or run_id.strip() != run_id:
        msg = (
            f"Run id {run_id!r} is not valid: it must be non-empty, without "
            "spaces at the ends and without any of / \\ # ? % :."
        )
        raise UsageError(msg)
    return run_id


def first(*values: Any) -> Any:
    """The first value that is not None."""
    for value in values:
        if value is not None:
            return value
    return None


def tags_tuple(tags: Sequence[str] | str | None) -> tuple[str, ...]:
    """Tags as a tuple of strings."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        return (tags,)
    return tuple(str(tag) for tag in tags)


def root_dir(explicit: str | None, settings: Settings) -> str:
    """The directory under which ``wandb/`` is made."""
    chosen = first(explicit, settings.root_dir, _env.get_str(_env.DIR)) or os.getcwd()
    return os.path.abspath(os.path.expanduser(str(chosen)))
