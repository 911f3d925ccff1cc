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

# Arrays and tensors with more elements than this are logged as histograms
# of HISTOGRAM_BINS bins, as the official client logs them.
HISTOGRAM_THRESHOLD = 32
HISTOGRAM_BINS = 32


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
        if value.size == 1:  # the official client logs [5.0] as 5.0
            return _numpy_scalar(value.reshape(-1)[0])
        if value.size > HISTOGRAM_THRESHOLD and kind in ("b", "i", "u", "f"):
            return _histogram(path, value)
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
    if value.numel() == 1:  # a one-element tensor logs as its number
        return value.item()
    if value.numel() > HISTOGRAM_THRESHOLD:
        return _histogram(path, value)
    return value.tolist()


def _histogram(path: Path, value: Any) -> Any:
    from wandb_core.data_types.histogram import histogram_json

    return histogram_json(path, value, HISTOGRAM_BINS)


def normalize_config(path: Path, value: Any) -> Any:
    """``normalize`` for config values: arrays of any size stay lists.

    Even one-element arrays stay lists (``[2.0]``), unlike in history: the
    official client stores them as the string ``"2.0"``, a known bug.
    """
    module = type(value).__module__
    if module == "numpy" and type(value).__name__ == "ndarray" and value.ndim:
        return value.tolist()
    if module.startswith("torch") and hasattr(value, "tolist"):
        if value.dim():
            return value.detach().cpu().tolist()
    return normalize(path, value)


def summary_statistics(value: Any) -> dict[str, Any] | None:
    """The statistics object the official client stores for a big array.

    A numpy array (or torch tensor) of more than 32 numbers set directly in
    the summary is summarized, not stored; None for anything else.
    """
    module = type(value).__module__
    if module.startswith("torch") and hasattr(value, "numel"):
        if value.numel() <= HISTOGRAM_THRESHOLD:
            return None
        kind = "torch.Tensor"
        try:
            value = value.detach().cpu().numpy()
        except Exception:  # Defensive: torch without numpy
            return None
    elif module == "numpy" and type(value).__name__ == "ndarray":
        if value.size <= HISTOGRAM_THRESHOLD or value.dtype.kind not in "biuf":
            return None
        kind = "numpy.ndarray"
    else:
        return None
    import numpy

    # Computed as the official client computes them: each percentile in the
    # array's own precision, min and max keeping the array's number type.
    return {
        "_type": kind,
        "var": numpy.var(value).item(),
        "mean": numpy.mean(value).item(),
        "min": numpy.amin(value).item(),
        "max": numpy.amax(value).item(),
        "10%": numpy.percentile(value, 10).item(),
        "25%": numpy.percentile(value, 25).item(),
        "75%": numpy.percentile(value, 75).item(),
        "90%": numpy.percentile(value, 90).item(),
        "size": int(value.size),
    }


def is_normalized_number(value: Any) -> bool:
    """Whether a normalized value counts as a number for metric summaries."""
    return type(value) in (int, float)
