"""Images: ``wandb_core.Image`` and the files it writes, as the official client.

An image is turned into file bytes when it is made, as the official client
does, so changing the array afterwards does not change what is logged, and
bad input fails at the line that made it. Arrays and tensors are cast to
``uint8`` (no rescaling: the official client stopped normalizing), become a
Pillow image of the guessed or given mode and are encoded with Pillow's
default PNG settings, so the bytes, and with them the SHA-256 and the file
name, equal the official client's. An image made from a file keeps that
file's bytes and extension.

The image keeps its bytes in memory. Logging has the run's writer thread
write them to ``files/media/images/<key>_<step>_<sha256[:20]><ext>`` (so
``log()`` never waits for the disk), and from then on the image is named
after that file. A Table cell refers to the image by an artifact entry
path: ``media/images/<md5[:20]><ext>`` for an image never logged,
``media/images/<sha256[:20]>/<file name>`` for one backed by a file.

Pillow is an optional extra (``wandb-core-py[media]``) and is imported only
when an image is made.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import posixpath
from collections.abc import Sequence
from types import ModuleType
from typing import Any, ClassVar

from wandb_core import _term
from wandb_core._paths import Path
from wandb_core.backend import media_io
from wandb_core.errors import ValueTypeError, ValueValueError

MEDIA_SUBDIR = "media/images"
LOG_TYPE = "image-file"
SEQUENCE_TYPE = "images/separated"
FILE_TYPES = ("png", "jpg", "jpeg", "bmp")
MEDIA_EXTRA = "wandb-core-py[media]"
# Characters of the SHA-256 hex digest in a logged file's name, and of the
# MD5 hex digest in a Table entry's name, as the official client uses.
HASH_PREFIX = 20
# URLs the official client treats as references to remote storage.
REFERENCE_PREFIXES = ("gs://", "s3://", "http://", "https://")
# The official column type of an image cell in a Table: no boxes, masks or
# classes. ``box_score_keys`` is the one parameter the official sets.
_EMPTY_CONST = {"params": {"is_set": False, "val": {}}, "wb_type": "const"}
_SET_EMPTY_CONST = {"params": {"is_set": True, "val": []}, "wb_type": "const"}
TABLE_TYPE_PARAMS = (
    "box_class_maps",
    "box_layers",
    "box_score_keys",
    "class_map",
    "mask_class_maps",
    "mask_layers",
)

_jpeg_alpha_warned = False


def _pillow() -> Any:
    """``PIL.Image``, or an ImportError that says which extra to install."""
    try:
        module: ModuleType = importlib.import_module("PIL.Image")
    except ImportError as error:
        msg = (
            f"wandb_core.Image needs Pillow, which cannot be imported ({error}); "
            f"install it with: pip install '{MEDIA_EXTRA}'"
        )
        raise ImportError(msg) from error
    return module


class Image:
    """An image to log: a numpy array, a torch tensor, a PIL image or a file.

    Logged under a key it becomes a PNG file under ``files/media/images/``
    and an ``image-file`` object in history and summary; a list of images
    under one key becomes one ``images/separated`` object.

    Args:
        data_or_path: an H x W or H x W x C numpy array (C = 1, 3 or 4), a
            C x H x W torch tensor, a PIL image, another ``Image``, or the
            path of an image file. Array and tensor values are cast to
            ``uint8`` as they are: scale them to 0..255 first.
        mode: the PIL mode to convert array or tensor data to (``"L"``,
            ``"RGB"``, ``"RGBA"``...); guessed from the channels if omitted.
        caption: a caption shown with the image.
        file_type: ``"png"`` (default), ``"jpg"``, ``"jpeg"`` or ``"bmp"``,
            the format of the file made from array, tensor or PIL data.

    Raises:
        ImportError: Pillow is not installed.
        ValueValueError: the data has a shape or mode that is not an image,
            or the file is not one Pillow can read.
        ValueTypeError: the data is of a type that cannot be an image.
        FileNotFoundError: the file does not exist.
    """

    MAX_ITEMS: ClassVar[int] = 108

    format: str

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        file_type: str | None = None,
    ) -> None:
        pil = _pillow()
        self._caption = caption
        # The encoded bytes, and the file the image is named after (the
        # file it was read from, then the file it was logged as).
        self._payload = b""
        self._file: str | None = None
        # True while the bytes are ours alone (made from data, never logged).
        self._is_tmp = False
        self._extension = ""
        self._width = 0
        self._height = 0
        self._sha256 = ""
        self._size = 0
        # (files folder of the run, path under it) once logged as a value.
        self._logged: tuple[str, str] | None = None

        if isinstance(data_or_path, Image):
            self._copy(data_or_path)
        elif isinstance(data_or_path, (str, os.PathLike)):
            self._from_file(pil, os.fspath(data_or_path))
        else:
            self._from_data(pil, data_or_path, mode, file_type)

    def __repr__(self) -> str:
        source = self._file if self._file and not self._is_tmp else "data"
        return f"<Image {self._width}x{self._height} {self.format} from {source}>"

    # -- making ------------------------------------------------------------------------

    def _copy(self, other: Image) -> None:
        # As the official client, a copy keeps the original's caption even
        # when a new one is given.
        for name in (
            "_caption",
            "_payload",
            "_file",
            "_is_tmp",
            "_extension",
            "_width",
            "_height",
            "_sha256",
            "_size",
            "format",
        ):
            setattr(self, name, getattr(other, name))

    def _from_file(self, pil: Any, path: str) -> None:
        if path.startswith(REFERENCE_PREFIXES):
            msg = (
                f"Image {path!r} is a URL; an offline run can only log local "
                "files, so download it first."
            )
            raise ValueValueError(msg)
        try:
            with open(path, "rb") as stream:
                payload = stream.read()
        except FileNotFoundError:
            msg = f"Image file {path!r} does not exist."
            raise FileNotFoundError(msg) from None
        except IsADirectoryError:
            msg = f"Image file {path!r} is a directory, not an image file."
            raise ValueValueError(msg) from None

        try:
            with pil.open(io.BytesIO(payload)) as image:
                # Decoding it all, as the official client does, finds
                # truncated files here rather than in the browser.
                image.load()
                self._width, self._height = image.size
        except (OSError, ValueError, SyntaxError) as error:
            msg = f"Image file {path!r} is not an image Pillow can read: {error}."
            raise ValueValueError(msg) from None

        self._file = path
        self._extension = os.path.splitext(os.path.basename(path))[1]
        self.format = self._extension[1:]
        self._set_bytes(payload)

    def _from_data(
        self, pil: Any, data: Any, mode: str | None, file_type: str | None
    ) -> None:
        image_format = file_type or "png"
        if image_format not in FILE_TYPES:
            msg = (
                f"Image file_type {image_format!r} is not supported; use one of "
                f"{', '.join(FILE_TYPES)}."
            )
            raise ValueValueError(msg)

        if isinstance(data, pil.Image):
            image = data
        elif type(data).__module__.startswith("torch"):
            image = _tensor_image(pil, data, mode, image_format)
        else:
            image = _array_image(pil, _as_array(data), mode, image_format)
        if 0 in image.size:
            msg = f"Image of size {image.size[0]}x{image.size[1]} is empty."
            raise ValueValueError(msg)

        buffer = io.BytesIO()
        try:
            # Pillow's defaults, and no transparency chunk, as the official
            # client saves: equal bytes, equal hashes, equal file names.
            image.save(buffer, format=_pillow_format(image_format), transparency=None)
        except (OSError, ValueError, KeyError) as error:
            msg = (
                f"Image in Pillow mode {image.mode!r} cannot be written as "
                f"{image_format.upper()} ({error}); convert it first, e.g. "
                "image.convert('RGB')."
            )
            raise ValueValueError(msg) from None

        self._width, self._height = image.size
        self.format = image_format
        self._extension = "." + image_format
        self._is_tmp = True
        self._set_bytes(buffer.getvalue())

    def _set_bytes(self, payload: bytes) -> None:
        self._sha256 = hashlib.sha256(payload).hexdigest()
        self._size = len(payload)
        self._payload = payload

    # -- what users read ---------------------------------------------------------------

    @property
    def image(self) -> Any:
        """The image as a PIL image, decoded from its bytes."""
        pil = _pillow()
        image = pil.open(io.BytesIO(self._bytes()))
        image.load()
        return image

    def _bytes(self) -> bytes:
        return self._payload

    # -- logging -----------------------------------------------------------------------

    def _wandb_core_log_value(
        self, run: Any, path: Path, step: int | str
    ) -> dict[str, Any]:
        """Write the image under ``run.dir`` and return its reference object.

        An image already logged to this run refers to its first file again,
        as in the official client.
        """
        if self._logged is not None and self._logged[0] == run.dir:
            relative = self._logged[1]
        else:
            relative = self._write(run, _media_key(path, step), step)
        return self._reference(relative)

    @classmethod
    def _wandb_core_log_sequence(
        cls, images: Sequence[Image], run: Any, path: Path, step: int | str
    ) -> dict[str, Any]:
        """Write a list of images logged under one key; return the group object.

        At most ``MAX_ITEMS`` images are kept, as in the official client;
        every one is written again under this key and step.
        """
        if len(images) > cls.MAX_ITEMS:
            _term.warn(
                f"{len(images)} images were logged under {'.'.join(path)!r}; "
                f"only the first {cls.MAX_ITEMS} are kept."
            )
            images = images[: cls.MAX_ITEMS]
        key = _media_key(path, step)
        filenames = [image._write(run, key, step) for image in images]

        first = images[0]
        if any((i._width, i._height) != (first._width, first._height) for i in images):
            _term.warn(
                f"The images under {'.'.join(path)!r} differ in size; the UI "
                f"shows them all at {first._width}x{first._height}."
            )
        group: dict[str, Any] = {
            "_type": SEQUENCE_TYPE,
            "width": first._width,
            "height": first._height,
            "format": first.format,
            "count": len(images),
            "filenames": filenames,
        }
        # As the official client: captions only when the first image has one.
        if first._caption is not None:
            group["captions"] = [image._caption for image in images]
        return group

    def _write(self, run: Any, key: str, step: int | str) -> str:
        """Store the bytes as the run's file for ``key`` at ``step``."""
        name = f"{_upload_safe(key)}_{step}_{self._sha256[:HASH_PREFIX]}"
        relative = posixpath.join(MEDIA_SUBDIR, name + self._extension)
        target = os.path.join(run.dir, *relative.split("/"))
        media_io.write_soon(
            run, target, self._payload, what=f"the image logged as {key!r}"
        )

        # From now on the run's file names the image, as in the official
        # client (it names Table entries after it).
        self._file = target
        self._is_tmp = False
        self._logged = (run.dir, relative)
        run.add_media_file(relative)
        return relative

    def _reference(self, relative: str) -> dict[str, Any]:
        reference: dict[str, Any] = {}
        if self._caption is not None:
            reference["caption"] = self._caption
        reference["_type"] = LOG_TYPE
        reference["sha256"] = self._sha256
        reference["size"] = self._size
        reference["path"] = relative
        reference["format"] = self.format
        reference["width"] = self._width
        reference["height"] = self._height
        return reference

    # -- tables ------------------------------------------------------------------------

    def _wandb_core_table_cell(
        self, run: Any, table_key: str
    ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        """The cell object in a Table's JSON and the file its artifact holds.

        Returns the cell and one ``(artifact entry path, bytes)`` pair. An
        image never logged is named by the MD5 of its bytes.
        """
        if self._is_tmp:
            digest = hashlib.md5(self._payload, usedforsecurity=False).hexdigest()
            name = digest[:HASH_PREFIX] + self._extension
            entry = posixpath.join(MEDIA_SUBDIR, name)
        else:
            assert self._file is not None
            base = os.path.basename(self._file)
            entry = posixpath.join(MEDIA_SUBDIR, self._sha256[:HASH_PREFIX], base)

        cell: dict[str, Any] = {}
        if self._caption is not None:
            cell["caption"] = self._caption
        cell["path"] = entry
        cell["sha256"] = self._sha256
        cell["_type"] = LOG_TYPE
        cell["format"] = self.format
        cell["width"] = self._width
        cell["height"] = self._height
        return cell, [(entry, self._payload)]

    def _wandb_core_table_type(self) -> dict[str, Any]:
        """The official column type of this cell in a Table's ``column_types``."""
        params = {
            name: _SET_EMPTY_CONST if name == "box_score_keys" else _EMPTY_CONST
            for name in TABLE_TYPE_PARAMS
        }
        return {"params": params, "wb_type": LOG_TYPE}


# ---------------------------------------------------------------------------
# From arrays and tensors to PIL images, as the official client converts them
# ---------------------------------------------------------------------------


def _as_array(data: Any) -> Any:
    """A numpy array of ``data``, or a ValueTypeError that says what fits."""
    module = type(data).__module__
    if module == "numpy" and hasattr(data, "ndim"):
        return data
    if hasattr(data, "numpy"):  # TensorFlow eager tensors, as the official
        return data.numpy()
    if hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        import numpy

        return numpy.asarray(data)
    msg = (
        f"Image data of type {module}.{type(data).__qualname__} cannot be an "
        "image; pass a numpy array, a torch tensor, a PIL image or a file path."
    )
    raise ValueTypeError(msg)


def _tensor_image(pil: Any, tensor: Any, mode: str | None, image_format: str) -> Any:
    """A C x H x W (or H x W) tensor as a PIL image."""
    shape = tuple(tensor.shape)
    if len(shape) not in (2, 3):
        msg = (
            f"Image tensor of shape {shape} has {len(shape)} dimensions; a tensor "
            "image is C x H x W (log a batch as a list of images)."
        )
        raise ValueValueError(msg)
    if hasattr(tensor, "detach"):
        tensor = tensor.detach()
    if hasattr(tensor, "cpu"):
        tensor = tensor.cpu()
    if str(getattr(tensor, "dtype", "")) == "torch.bfloat16":
        # numpy has no bfloat16; float32 holds every bfloat16 value exactly.
        tensor = tensor.float()
    array = tensor.numpy()

    if mode is None:
        channels = shape[0]
        mode = _guess_mode(len(shape), channels, image_format, shape, "tensor")
    if array.ndim == 3:
        array = array.transpose(1, 2, 0)
    array = _to_uint8(array)
    if array.ndim > 2:
        # As the official client: size-1 dimensions go, whichever they are.
        array = array.squeeze()
    return _pil_from_array(pil, array, mode, shape)


def _array_image(pil: Any, array: Any, mode: str | None, image_format: str) -> Any:
    """An H x W or H x W x C array as a PIL image."""
    shape = tuple(array.shape)
    if not shape:
        msg = (
            "Image data is a single value (shape ()); an image is an H x W or "
            "H x W x C array."
        )
        raise ValueValueError(msg)
    if array.ndim > 2:
        # As the official client: size-1 dimensions go, whichever they are.
        array = array.squeeze()
    if array.ndim > 3:
        msg = (
            f"Image data of shape {shape} has {array.ndim} dimensions of more "
            "than one element; an image is H x W or H x W x C (log a batch as a "
            "list of images)."
        )
        raise ValueValueError(msg)

    if mode is None:
        channels = array.shape[-1] if array.ndim else 1
        mode = _guess_mode(array.ndim, channels, image_format, shape, "data")
    return _pil_from_array(pil, _to_uint8(array), mode, shape)


def _guess_mode(
    ndim: int, channels: int, image_format: str, shape: tuple[int, ...], what: str
) -> str:
    if ndim == 2 or channels == 1:
        return "L"
    if channels == 3:
        return "RGB"
    if channels == 4:
        if image_format in ("jpg", "jpeg"):
            _warn_jpeg_alpha()
            return "RGB"
        return "RGBA"
    layout = "C x H x W" if what == "tensor" else "H x W x C"
    msg = (
        f"Image {what} of shape {shape} has {channels} channels; an image is "
        f"H x W or {layout} with C = 1 (gray), 3 (RGB) or 4 (RGBA)."
    )
    raise ValueValueError(msg)


def _warn_jpeg_alpha() -> None:
    global _jpeg_alpha_warned

    if not _jpeg_alpha_warned:
        _jpeg_alpha_warned = True
        _term.warn("JPEG has no transparency; the alpha channel of images is dropped.")


def _to_uint8(array: Any) -> Any:
    # A plain cast, as the official client: values wrap and NaN becomes what
    # the platform's cast gives; nothing is rescaled.
    return array.astype("uint8")


def _pil_from_array(pil: Any, array: Any, mode: str, shape: tuple[int, ...]) -> Any:
    try:
        image = pil.fromarray(array)
    except (TypeError, ValueError) as error:
        msg = (
            f"Image data of shape {shape} is not an image ({error}); an image is "
            "H x W or H x W x C with C = 1 (gray), 3 (RGB) or 4 (RGBA)."
        )
        raise ValueValueError(msg) from None
    if image.mode == mode:
        return image
    try:
        return image.convert(mode)
    except ValueError as error:
        msg = (
            f"Image data of shape {shape} cannot be converted to mode {mode!r}: "
            f"{error}."
        )
        raise ValueValueError(msg) from None


def _pillow_format(image_format: str) -> str:
    return {"jpg": "JPEG", "jpeg": "JPEG"}.get(image_format, image_format.upper())


# ---------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------


def _media_key(path: Path, step: int | str) -> str:
    """The key in a media file's name, as the official client chooses it.

    History rows name files by the innermost key; summary values by the
    dotted path from the summary's root.
    """
    return ".".join(path) if step == "summary" else path[-1]


def _upload_safe(key: str) -> str:
    """``key`` as a relative path: no leading ``/``, no ``.`` or ``..`` parts.

    A ``/`` in a key makes folders, as in the official client.
    """
    parts = key.lstrip("/").split("/")
    return "/".join(
        part.replace(".", "_") if part in (".", "..") else part for part in parts
    )
