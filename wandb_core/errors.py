"""Exceptions and warnings raised by wandb-core.

Each error class also inherits the builtin that fits, so callers may catch
either ``wandb_core.errors.Error`` or the builtin.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every wandb-core error."""


class UsageError(Error, RuntimeError):
    """The API was called in a way or at a time that cannot work."""


class ValueTypeError(Error, TypeError):
    """A logged key or value has a type that cannot be stored."""


class ValueValueError(Error, ValueError):
    """A logged key or value has the right type but a value we refuse."""


class UnsupportedModeError(Error, ValueError):
    """A run mode that this version does not support yet."""


class LogFormatError(Error, ValueError):
    """A transaction log is not in the format we can read."""


class ArtifactNotFoundError(Error, LookupError):
    """An artifact, version or artifact file asked for is not on this machine."""


class ArtifactFinalizedError(Error, ValueError):
    """An artifact already logged cannot change: log a new version instead."""


class WandbCoreWarning(UserWarning):
    """Base class of wandb-core warnings."""


class ExtensionFallbackWarning(WandbCoreWarning):
    """The compiled hot paths could not be loaded; pure Python is used."""
