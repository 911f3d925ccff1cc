"""Turning user values into JSON-ready values.

The record twins handle plain Python values themselves and call
``normalize`` for everything else: numpy and torch scalars and arrays,
other mappings and sequences, dates. numpy and torch are never imported;
their objects are recognised by their type's module and duck-typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wandb_core.errors import ValueTypeError, ValueValueError

Path = tuple[str, ...]


def _describe(path: Path) -> str:
    return repr(".".join(path)) if path else "the value"


def normalize(path: Path, value: Any) -> Any:
    """Return a JSON-ready stand-in for ``value``, logged under ``path``.

    Raises:
        ValueTypeError: the type cannot be logged; the message names the key.
    """
    module = type(value).__module__
    if module == "numpy":
        return _numpy(path, value)
    if module.startswith("torch"):
        return _torch(path, value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return _decode_bytes(path, bytes(value))
    if module == "datetime" and hasattr(value, "isoformat"):
        return value.isoformat()
    if module == "decimal":
        return float(value)
    if isinstance(value, complex):
        msg = (
            f"Value of {_describe(path)} is the complex number {value!r}; "
            "log its real and imaginary parts as separate keys."
        )
        raise ValueTypeError(msg)
    if hasattr(value, "tolist") and hasattr(value, "shape"):
        return value.tolist()  # array-likes such as jax arrays
    msg = (
        f"Value of {_describe(path)} has type {type(value).__module__}."
        f"{type(value).__qualname__}, which cannot be logged; log numbers, "
        "strings, booleans, None, lists or dicts of them, or numpy/torch values."
    )
    raise ValueTypeError(msg)


def _decode_bytes(path: Path, value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"Value of {_describe(path)} is bytes that are not UTF-8 text."
        raise ValueValueError(msg) from None


def _numpy(path: Path, value: Any) -> Any:
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if kind == "c":
        msg = (
            f"Value of {_describe(path)} is a complex numpy value; "
            "log its real and imaginary parts as separate keys."
        )
        raise ValueTypeError(msg)
    if type(value).__name__ == "ndarray":
        if value.ndim == 0:
            return _numpy_scalar(value[()])
        # TODO(#3): arrays of more than 32 elements become histograms.
        return value.tolist()
    return _numpy_scalar(value)


def _numpy_scalar(value: Any) -> Any:
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if kind == "b":
        return bool(value)
    if kind in "iu":
        return int(value)
    if kind == "f":
        # float() also covers longdouble, whose item() stays a numpy type.
        return float(value)
    if kind in "US":
        return str(value)
    if kind == "M" or kind == "m":
        return str(value)
    return value.item()


def _torch(path: Path, value: Any) -> Any:
    if hasattr(value, "detach"):
        value = value.detach()
    if getattr(value, "is_complex", lambda: False)():
        msg = f"Value of {_describe(path)} is a complex tensor."
        raise ValueTypeError(msg)
    if hasattr(value, "cpu"):
        value = value.cpu()
    if value.dim() == 0:
        return value.item()
    # TODO(#3): tensors of more than 32 elements become histograms.
    return value.tolist()


def is_normalized_number(value: Any) -> bool:
    """Whether a normalized value counts as a number for metric summaries."""
    return type(value) in (int, float)
