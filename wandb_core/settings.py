"""Run settings from ``init`` arguments, the environment and defaults.

Precedence is the official client's: an explicit ``init`` argument wins,
then a ``settings=`` value, then the ``WANDB_*`` environment variable, then
the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from wandb_core import _env
from wandb_core.errors import UnsupportedModeError, UsageError

MODES = ("offline", "online", "disabled")
_MODE_ALIASES = {"dryrun": "offline", "run": "online", "shared": "online"}
_RUN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_RUN_ID_FORBIDDEN = set("/\\#?%:")


class Settings:
    """What a run needs to know before it starts.

    Accepted by ``init(settings=...)`` as this class or a plain dict of the
    same field names.
    """

    FIELDS = (
        "mode",
        "project",
        "entity",
        "run_id",
        "run_name",
        "run_notes",
        "run_tags",
        "run_group",
        "run_job_type",
        "root_dir",
        "silent",
        "program",
        "resume",
    )

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(self.FIELDS))
        if unknown:
            msg = (
                f"Unknown setting(s) {', '.join(map(repr, unknown))}; "
                f"known settings are {', '.join(self.FIELDS)}."
            )
            raise UsageError(msg)
        self.mode: str | None = values.get("mode")
        self.project: str | None = values.get("project")
        self.entity: str | None = values.get("entity")
        self.run_id: str | None = values.get("run_id")
        self.run_name: str | None = values.get("run_name")
        self.run_notes: str | None = values.get("run_notes")
        self.run_tags: Sequence[str] | None = values.get("run_tags")
        self.run_group: str | None = values.get("run_group")
        self.run_job_type: str | None = values.get("run_job_type")
        self.root_dir: str | None = values.get("root_dir")
        self.silent: bool | None = values.get("silent")
        self.program: str | None = values.get("program")
        self.resume: Any = values.get("resume")

    @classmethod
    def from_value(cls, value: Settings | Mapping[str, Any] | None) -> Settings:
        """Settings from ``init``'s ``settings=`` argument."""
        if value is None:
            return cls()
        if isinstance(value, Settings):
            return cls(**{name: getattr(value, name) for name in cls.FIELDS})
        return cls(**dict(value))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.FIELDS
            if getattr(self, name) is not None
        )
        return f"Settings({shown})"


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
        # TODO: online mode (the W&B HTTP protocol) comes with a later issue.
        msg = (
            "Online mode is not available in this version of wandb-core; "
            "use mode='offline' (the default) and upload later with `wandb sync`."
        )
        raise UnsupportedModeError(msg)
    return chosen


def new_run_id() -> str:
    """Eight random lower-case letters and digits, as the official client."""
    # 40 random bits; os.urandom avoids importing secrets (and hashlib).
    number = int.from_bytes(os.urandom(8), "little")
    letters = []
    for _ in range(8):
        number, index = divmod(number, len(_RUN_ID_ALPHABET))
        letters.append(_RUN_ID_ALPHABET[index])
    return "".join(letters)


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
