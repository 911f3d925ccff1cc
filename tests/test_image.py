"""``Image``: conversion, files and reference objects against the official client.

One child process runs the official client over every input of
``image_cases`` and through a run that logs images (single ones, nested,
re-logged, from files, in lists, in the summary and in a Table); the tests
make the same images with ours and compare the PNG bytes, file names,
reference objects and Table cells. The rest checks values by hand: pixels
against numpy's own cast, and the errors for input that is not an image.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

import wandb_core as wandb
from tests.runutil import log_file, offline_env, only_run_dir, read, run_script
from wandb_core.backend import reader
from wandb_core.data_types.image import Image
from wandb_core.errors import ValueTypeError, ValueValueError

REPO_ROOT = Path(__file__).resolve().parents[1]
OFFICIAL_TIMEOUT_S = 120
TIME_KEYS = ("_runtime", "_timestamp")
# Keys the image run logs; the official run also logs the Table under "tab".
IMAGE_KEYS = ("rgb", "nest", "a/b", "file", "other", "lst", "lst2", "sm", "deep")


# ---------------------------------------------------------------------------
# The inputs, shared with the official client's child process
# ---------------------------------------------------------------------------


def reference_arrays() -> dict[str, Any]:
    """Small deterministic images."""
    rng = np.random.default_rng(7)
    return {
        "rgb": rng.integers(0, 256, (6, 7, 3)).astype(np.uint8),
        "gray": rng.integers(0, 256, (6, 7)).astype(np.uint8),
        "rgba": rng.integers(0, 256, (5, 4, 4)).astype(np.uint8),
        "small": rng.integers(0, 256, (3, 2, 3)).astype(np.uint8),
    }


def write_source_files(folder: str) -> None:
    """Image files of several formats, and files that are not images."""
    base = PILImage.fromarray(reference_arrays()["rgb"])
    base.save(os.path.join(folder, "photo.jpg"))
    base.save(os.path.join(folder, "UPPER.JPEG"), format="JPEG")
    base.save(os.path.join(folder, "anim.gif"))
    base.save(os.path.join(folder, "plain.png"))
    base.save(os.path.join(folder, "bitmap.bmp"))
    base.save(os.path.join(folder, "no_extension"), format="PNG")
    with open(os.path.join(folder, "not_an_image.png"), "w") as stream:
        stream.write("this is text")


def image_cases(
    folder: str, torch: Any | None
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Name -> (data_or_path, keyword arguments) for both clients."""
    arrays = reference_arrays()
    rgb, gray = arrays["rgb"], arrays["gray"]
    floats = np.random.default_rng(3).random((5, 4))
    cases: dict[str, tuple[Any, dict[str, Any]]] = {
        "u8_rgb": (rgb, {}),
        "u8_gray": (gray, {}),
        "u8_hw1": (rgb[:, :, :1], {}),
        "u8_rgba": (arrays["rgba"], {}),
        "float_0_1": (floats, {}),
        "float_0_255": (floats * 255, {}),
        "negative": (np.array([[-1.0, -0.5, -200.7, -255.0, -256.0, -300.0]]), {}),
        "above_255": (np.array([[255.9, 256.0, 257.5, 511.0, 1000.0, 1e10]]), {}),
        "non_finite": (np.array([[np.nan, np.inf, -np.inf, 1.0, 2.0, 3.0]]), {}),
        "int16": (np.array([[-1, 256, 257, 1000, -300, 65]], dtype=np.int16), {}),
        "int64": (np.array([[-1, 256, 1000, 2**40 + 5]], dtype=np.int64), {}),
        "uint16": (np.array([[1, 2, 65535]], dtype=np.uint16), {}),
        "bool": (np.array([[True, False, True], [False, True, True]]), {}),
        "float32": (np.array([[-1.0, -0.5, -200.7, 300.0]], dtype=np.float32), {}),
        "float16": (np.array([[-1.0, 0.5, 200.7, 300.0]], dtype=np.float16), {}),
        "float_rgb": (floats[:, :, None] * np.array([100.0, 200.0, 300.0]), {}),
        "batch_of_one": (rgb[None], {}),
        "one_row": (rgb[:1], {}),
        "mode_L": (rgb, {"mode": "L"}),
        "mode_RGB_of_gray": (gray, {"mode": "RGB"}),
        "mode_LA": (rgb[:, :, :2], {"mode": "LA"}),
        "caption": (rgb, {"caption": "a cat"}),
        "jpg": (rgb, {"file_type": "jpg"}),
        "jpg_of_rgba": (arrays["rgba"], {"file_type": "jpg"}),
        "bmp": (rgb, {"file_type": "bmp"}),
    }
    base = PILImage.fromarray(rgb)
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        cases[f"pil_{mode}"] = (base.convert(mode), {})
    palette = base.convert("P")
    palette.info["transparency"] = 0
    cases["pil_P_transparency"] = (palette, {})
    with_info = base.copy()
    with_info.info["icc_profile"] = b"profile bytes"
    cases["pil_icc_profile"] = (with_info, {})
    for name in ("photo.jpg", "UPPER.JPEG", "anim.gif", "plain.png", "bitmap.bmp"):
        cases[f"file_{name}"] = (os.path.join(folder, name), {})
    cases["file_no_extension"] = (os.path.join(folder, "no_extension"), {})
    if torch is not None:
        generator = torch.Generator().manual_seed(0)
        tensor = torch.rand(3, 4, 5, generator=generator)
        cases["torch_float_0_1"] = (tensor, {})
        cases["torch_float_0_255"] = (tensor * 255, {})
        cases["torch_uint8"] = ((tensor * 255).to(torch.uint8), {})
        cases["torch_one_channel"] = (tensor[:1] * 255, {})
        cases["torch_rgba"] = (torch.rand(4, 4, 5, generator=generator) * 255, {})
        cases["torch_grad"] = ((tensor * 255).requires_grad_(), {})
        cases["torch_negative"] = (torch.tensor([[[-1.0, -0.5, -200.7, 300.0]]]), {})
        cases["torch_int64"] = (torch.tensor([[[-1, 256, 257, 1000]]]), {})
        cases["torch_height_one"] = (tensor[:, :1] * 255, {})
        cases["torch_mode_L"] = (tensor * 255, {"mode": "L"})
    return cases


# What the official client's child does; it prints the converted cases as
# JSON and leaves its run under the folder it is given.
OFFICIAL_SCRIPT = """
import hashlib
import json
import sys

import wandb

from tests.test_image import image_cases, reference_arrays, write_source_files

folder = sys.argv[1]
try:
    import torch
except ImportError:
    torch = None
write_source_files(folder)
converted = {}
for name, (data, kwargs) in image_cases(folder, torch).items():
    image = wandb.Image(data, **kwargs)
    with open(image._path, "rb") as stream:
        payload = stream.read()
    converted[name] = [
        hashlib.sha256(payload).hexdigest(),
        image.format,
        image._width,
        image._height,
    ]

arrays = reference_arrays()
run = wandb.init(project="images")
logged = wandb.Image(arrays["gray"])
run.log({
    "rgb": wandb.Image(arrays["rgb"], caption="hi"),
    "nest": {"g": logged},
    "a/b": wandb.Image(arrays["rgba"]),
    "file": wandb.Image(folder + "/photo.jpg"),
})
run.log({"nest": {"g": logged}, "other": wandb.Image(folder + "/anim.gif")})
run.log({
    "lst": [wandb.Image(arrays["rgb"], caption="x"), wandb.Image(arrays["gray"])],
    "lst2": [wandb.Image(arrays["rgb"]), wandb.Image(arrays["small"])],
})
run.summary["sm"] = wandb.Image(arrays["rgb"])
run.summary["deep"] = {"img": wandb.Image(arrays["small"])}
table = wandb.Table(columns=["img", "label"])
table.add_data(wandb.Image(arrays["rgb"], caption="cap"), 1)
table.add_data(wandb.Image(folder + "/photo.jpg"), 2)
table.add_data(logged, 3)
table.add_data(wandb.Image(arrays["rgb"]), 4)
run.log({"tab": table})
run.finish()
print(json.dumps(converted))
"""


def _torch_or_none() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The official client's conversions and run directory (one child)."""
    root = tmp_path_factory.mktemp("official-images")
    folder = root / "sources"
    folder.mkdir()
    env = offline_env(
        root,
        WANDB_CACHE_DIR=str(root / "cache"),
        WANDB_CONFIG_DIR=str(root / "config"),
        WANDB_DATA_DIR=str(root / "data"),
        WANDB_ARTIFACT_DIR=str(root / "artifacts"),
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
        WANDB_BASE_URL="http://127.0.0.1:9",
        WANDB_API_KEY="x" * 40,
        PYTHONPATH=str(REPO_ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(OFFICIAL_SCRIPT), str(folder)],
        cwd=str(root),
        env=env,
        capture_output=True,
        text=True,
        timeout=OFFICIAL_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {
        "converted": json.loads(result.stdout.splitlines()[-1]),
        "run_dir": only_run_dir(root),
        "sources": str(folder),
    }


def _describe(image: Image) -> list[Any]:
    payload = image._bytes()
    return [
        hashlib.sha256(payload).hexdigest(),
        image.format,
        image._width,
        image._height,
    ]


def _pixels(image: Image) -> list[Any]:
    return np.asarray(image.image).tolist()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------
# Conversion: the same bytes as the official client for every input
# ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_every_input_gives_the_official_bytes_format_and_size(
    official: dict[str, Any],
) -> None:
    cases = image_cases(official["sources"], _torch_or_none())

    ours = {name: _describe(Image(data, **kw)) for name, (data, kw) in cases.items()}

    assert ours == official["converted"]


def test_arrays_are_cast_to_uint8_without_rescaling() -> None:
    values = np.array(
        [
            [-1.0, -0.5, 0.25, 0.9, 1.0, 127.6],
            [200.7, 255.0, 255.9, 256.0, 300.0, 511.0],
        ]
    )

    pixels = _pixels(Image(values))
    unit = _pixels(Image(np.array([[0.0, 0.5, 1.0]])))

    # Truncation toward zero, then modulo 256; [0, 1] floats stay dark.
    assert pixels == [[255, 0, 0, 0, 1, 127], [200, 255, 255, 0, 44, 255]]
    assert unit == [[0, 0, 1]]


def test_integer_and_boolean_arrays_wrap_as_numpy_casts_them() -> None:
    ints = np.array([[-1, 256, 257, 1000, -300, 65]], dtype=np.int16)
    flags = np.array([[True, False], [False, True]])

    assert _pixels(Image(ints)) == [[255, 0, 1, 232, 212, 65]]
    assert _pixels(Image(flags)) == [[1, 0], [0, 1]]
    assert _pixels(Image(ints)) == ints.astype(np.uint8).tolist()


def test_channels_choose_the_mode_and_size_one_dimensions_go() -> None:
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)

    assert Image(rgb).image.mode == "RGB"
    assert Image(rgb[:, :, :1]).image.mode == "L"
    assert Image(np.zeros((2, 4, 4), np.uint8)).image.mode == "RGBA"
    assert _pixels(Image(rgb[None])) == rgb.tolist()
    assert (Image(rgb)._width, Image(rgb)._height) == (4, 2)


def test_a_copy_keeps_the_bytes_and_the_original_caption() -> None:
    original = Image(np.zeros((2, 3), np.uint8), caption="first")

    copy = Image(original, caption="second")

    assert _describe(copy) == _describe(original)
    assert copy._caption == "first"  # as the official client


# ---------------------------------------------------------------------------
# Tensors: any object with the tensor interface, and torch itself
# ---------------------------------------------------------------------------


class FakeTensor:
    """The tensor interface Image uses: detach, cpu, float, numpy, shape, dtype."""

    __module__ = "torch.fake"

    def __init__(self, array: Any, dtype: str = "torch.float32") -> None:
        self.array = array
        self.shape = array.shape
        self.dtype = dtype
        self.calls: list[str] = []

    def detach(self) -> FakeTensor:
        self.calls.append("detach")
        return self

    def cpu(self) -> FakeTensor:
        self.calls.append("cpu")
        return self

    def float(self) -> FakeTensor:
        self.calls.append("float")
        return FakeTensor(self.array.astype(np.float32))

    def numpy(self) -> Any:
        if self.dtype == "torch.bfloat16":
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self.array


def test_a_tensor_is_channels_first() -> None:
    chw = np.random.default_rng(1).random((3, 4, 5)) * 255
    tensor = FakeTensor(chw)

    image = Image(tensor)

    assert tensor.calls == ["detach", "cpu"]
    assert _describe(image) == _describe(Image(chw.transpose(1, 2, 0)))
    assert (image._width, image._height, image.image.mode) == (5, 4, "RGB")


def test_a_one_channel_and_a_two_dimensional_tensor_are_gray() -> None:
    hw = np.arange(20, dtype=np.float64).reshape(4, 5)

    assert _pixels(Image(FakeTensor(hw[None]))) == hw.astype(np.uint8).tolist()
    # The official client fails on H x W tensors; ours takes them as gray.
    assert _pixels(Image(FakeTensor(hw))) == hw.astype(np.uint8).tolist()


def test_a_bfloat16_tensor_goes_through_float32() -> None:
    chw = np.full((3, 2, 2), 200.5)

    image = Image(FakeTensor(chw, dtype="torch.bfloat16"))

    assert _pixels(image) == [[[200, 200, 200]] * 2] * 2


def test_real_torch_tensors_match_the_numpy_path() -> None:
    torch = pytest.importorskip("torch")
    tensor = torch.rand(3, 4, 5, generator=torch.Generator().manual_seed(0)) * 255

    from_torch = Image(tensor.requires_grad_())
    from_numpy = Image(tensor.detach().numpy().transpose(1, 2, 0))
    from_bf16 = Image(tensor.detach().to(torch.bfloat16))

    assert _describe(from_torch) == _describe(from_numpy)
    expected = tensor.detach().to(torch.bfloat16).float().permute(1, 2, 0)
    assert _pixels(from_bf16) == expected.numpy().astype(np.uint8).tolist()


# ---------------------------------------------------------------------------
# Input that is not an image
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (np.zeros((3, 4, 2)), "(3, 4, 2) has 2 channels"),
        (np.zeros((3, 4, 5)), "(3, 4, 5) has 5 channels"),
        (np.zeros((2, 3, 4, 3)), "(2, 3, 4, 3) has 4 dimensions"),
        (np.zeros(()), "a single value"),
        (np.zeros((5,)), "(5,) has 5 channels"),
        (np.zeros((0, 4, 3)), "is empty"),
        (FakeTensor(np.zeros((2, 4, 5))), "tensor of shape (2, 4, 5) has 2 channels"),
        (FakeTensor(np.zeros((1, 3, 4, 5))), "(1, 3, 4, 5) has 4 dimensions"),
    ],
)
def test_wrong_shapes_are_refused_with_the_shape(data: Any, words: str) -> None:
    with pytest.raises(ValueValueError) as caught:
        Image(data)

    assert words in str(caught.value)


def test_a_mode_the_data_cannot_take_is_refused() -> None:
    with pytest.raises(ValueValueError, match="shape \\(2, 2, 5\\) is not an image"):
        Image(np.zeros((2, 2, 5)), mode="RGB")
    with pytest.raises(ValueValueError, match="to mode 'XYZ'"):
        Image(np.zeros((2, 2)), mode="XYZ")


def test_unsupported_types_and_formats_are_refused() -> None:
    with pytest.raises(ValueTypeError, match="builtins.list cannot be an image"):
        Image([[1, 2], [3, 4]])
    with pytest.raises(ValueValueError, match="file_type 'gif' is not supported"):
        Image(np.zeros((2, 2)), file_type="gif")
    with pytest.raises(ValueValueError, match="mode 'CMYK' cannot be written as PNG"):
        Image(PILImage.new("CMYK", (2, 2)))
    with pytest.raises(ValueValueError, match="mode 'F' cannot be written as PNG"):
        Image(PILImage.new("F", (2, 2)))


def test_bad_files_are_refused_with_their_name(tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    missing = tmp_path / "missing.png"

    with pytest.raises(FileNotFoundError, match="missing.png' does not exist"):
        Image(missing)
    with pytest.raises(ValueValueError, match="notes.png' is not an image Pillow"):
        Image(str(text))
    with pytest.raises(ValueValueError, match="is a directory"):
        Image(tmp_path)
    with pytest.raises(ValueValueError, match="is a URL"):
        Image("https://example.com/cat.png")


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    whole = tmp_path / "whole.png"
    PILImage.fromarray(np.zeros((64, 64, 3), np.uint8) + 9).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[:-40])

    with pytest.raises(ValueValueError, match="cut.png' is not an image Pillow"):
        Image(cut)


# ---------------------------------------------------------------------------
# Without Pillow
# ---------------------------------------------------------------------------

_BLOCK_PILLOW = """
import sys

class BlockPillow:
    def find_spec(self, name, path=None, target=None):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("simulated: no Pillow")
        return None

sys.meta_path.insert(0, BlockPillow())
"""


def test_without_pillow_making_an_image_names_the_extra(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        _BLOCK_PILLOW
        + """
import numpy as np
image_class = wandb.Image
print("PIL" in sys.modules)
try:
    image_class(np.zeros((2, 2)))
except ImportError as error:
    print(error)
""",
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "False"
    assert "needs Pillow" in lines[1]
    assert "pip install 'wandb-core-py[media]'" in lines[1]


def test_importing_and_logging_scalars_never_loads_pillow(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
import sys
assert wandb.Image.__module__ == "wandb_core.data_types.image"
run = wandb.init()
run.log({"a": 1})
run.finish()
print("PIL" in sys.modules)
""",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


# ---------------------------------------------------------------------------
# Logging: files, history and summary against the official client's run
# ---------------------------------------------------------------------------


def _media_files(files_dir: str) -> dict[str, bytes]:
    found = {}
    for path in glob.glob(
        os.path.join(files_dir, "media", "images", "**", "*"), recursive=True
    ):
        if os.path.isfile(path):
            with open(path, "rb") as stream:
                found[os.path.relpath(path, files_dir)] = stream.read()
    return found


def _log_like_the_official_script(root: Path, sources: str) -> tuple[Any, list[Image]]:
    arrays = reference_arrays()
    run = wandb.init(project="images")
    logged = Image(arrays["gray"])
    run.log(
        {
            "rgb": Image(arrays["rgb"], caption="hi"),
            "nest": {"g": logged},
            "a/b": Image(arrays["rgba"]),
            "file": Image(sources + "/photo.jpg"),
        }
    )
    run.log({"nest": {"g": logged}, "other": Image(sources + "/anim.gif")})
    run.log(
        {
            "lst": [Image(arrays["rgb"], caption="x"), Image(arrays["gray"])],
            "lst2": [Image(arrays["rgb"]), Image(arrays["small"])],
        }
    )
    run.summary["sm"] = Image(arrays["rgb"])
    run.summary["deep"] = {"img": Image(arrays["small"])}
    table_images = [
        Image(arrays["rgb"], caption="cap"),
        Image(sources + "/photo.jpg"),
        logged,
        Image(arrays["rgb"]),
    ]
    return run, table_images


def test_logged_images_equal_the_official_files_history_and_summary(
    root: Path, official: dict[str, Any]
) -> None:
    run, _ = _log_like_the_official_script(root, official["sources"])
    run.finish()

    ours_dir = only_run_dir(root)
    theirs = reader.read_run(log_file(official["run_dir"]))
    ours = read(root)
    assert _media_files(os.path.join(ours_dir, "files")) == _media_files(
        os.path.join(official["run_dir"], "files")
    )
    assert _image_rows(ours.history) == _image_rows(theirs.history)
    assert {k: ours.summary.get(k) for k in IMAGE_KEYS} == {
        k: theirs.summary.get(k) for k in IMAGE_KEYS
    }


def _image_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row.items() if k in IMAGE_KEYS or k == "_step"}
        for row in history
        if any(k in IMAGE_KEYS for k in row)
    ]


def test_a_logged_image_reference_is_the_official_object(root: Path) -> None:
    data = np.arange(12, dtype=np.uint8).reshape(3, 4)
    run = wandb.init()

    run.log({"x": {"pic": Image(data, caption="c")}})
    run.finish()

    payload = Image(data)._bytes()
    sha = hashlib.sha256(payload).hexdigest()
    path = f"media/images/pic_0_{sha[:20]}.png"
    expected = {
        "caption": "c",
        "_type": "image-file",
        "sha256": sha,
        "size": len(payload),
        "path": path,
        "format": "png",
        "width": 4,
        "height": 3,
    }
    row = read(root).history[0]
    assert row["x"]["pic"] == expected
    assert list(row["x"]["pic"]) == list(expected)  # the official key order
    with open(os.path.join(only_run_dir(root), "files", path), "rb") as stream:
        assert stream.read() == payload


def test_a_list_of_images_is_one_group_object(root: Path) -> None:
    images = [Image(np.zeros((2, 3), np.uint8) + i, caption=f"c{i}") for i in range(3)]
    run = wandb.init()

    group = Image._wandb_core_log_sequence(images, run, ("train", "batch"), 5)
    run.finish()

    names = [f"media/images/batch_5_{image._sha256[:20]}.png" for image in images]
    assert group == {
        "_type": "images/separated",
        "width": 3,
        "height": 2,
        "format": "png",
        "count": 3,
        "filenames": names,
        "captions": ["c0", "c1", "c2"],
    }
    for name in names:
        assert os.path.isfile(os.path.join(run.dir, name))


def test_a_list_keeps_at_most_108_images(root: Path) -> None:
    images = [Image(np.full((1, 1), i, np.uint8)) for i in range(110)]
    run = wandb.init()

    group = Image._wandb_core_log_sequence(images, run, ("many",), 0)
    run.finish()

    assert group["count"] == 108
    assert len(set(group["filenames"])) == 108
    assert "captions" not in group


def test_keys_that_climb_out_of_the_media_folder_are_made_safe(root: Path) -> None:
    run = wandb.init()
    image = Image(np.zeros((2, 2), np.uint8))

    first = image._wandb_core_log_value(run, ("/../up",), 0)
    second = Image(image)._wandb_core_log_value(run, ("./a/../b",), 1)
    run.finish()

    sha = image._sha256[:20]
    assert first["path"] == f"media/images/__/up_0_{sha}.png"
    assert second["path"] == f"media/images/_/a/__/b_1_{sha}.png"


# ---------------------------------------------------------------------------
# Table cells against the official run-table artifact
# ---------------------------------------------------------------------------


def _official_table(run_dir: str) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    from google.protobuf.json_format import MessageToDict
    from wandb.proto import wandb_internal_pb2

    records, _problems = reader.read_records(log_file(run_dir))
    (body,) = [r.body for r in records if r.kind == "artifact"]
    artifact = wandb_internal_pb2.ArtifactRecord()
    artifact.ParseFromString(body)
    manifest = MessageToDict(artifact.manifest)
    entries = {entry["path"]: entry for entry in manifest["contents"]}
    with open(entries["tab.table.json"]["localPath"]) as stream:
        table = json.load(stream)
    return [row[0] for row in table["data"]], entries


def _md5_b64(path: str) -> str:
    with open(path, "rb") as stream:
        return base64.b64encode(hashlib.md5(stream.read()).digest()).decode()


def test_table_cells_and_files_equal_the_official_artifact(
    root: Path, official: dict[str, Any]
) -> None:
    run, table_images = _log_like_the_official_script(root, official["sources"])

    cells = [image._wandb_core_table_cell(run, "tab") for image in table_images]
    run.finish()

    official_cells, entries = _official_table(official["run_dir"])
    assert [cell for cell, _files in cells] == official_cells
    for _cell, files in cells:
        ((entry, data),) = files
        assert (
            base64.b64encode(hashlib.md5(data).digest()).decode()
            == (entries[entry]["digest"])
        )
        assert len(data) == int(entries[entry]["size"])
        assert _md5_b64(entries[entry]["localPath"]) == entries[entry]["digest"]


def test_an_unlogged_image_cell_carries_its_bytes(root: Path) -> None:
    run = wandb.init()
    image = Image(np.zeros((2, 2), np.uint8), caption="c")

    cell, files = image._wandb_core_table_cell(run, "t")
    run.finish()

    ((entry, data),) = files
    md5 = hashlib.md5(image._bytes()).hexdigest()
    assert entry == f"media/images/{md5[:20]}.png" == cell["path"]
    assert data == image._bytes()
    assert cell["caption"] == "c" and cell["sha256"] == image._sha256
    assert not os.path.exists(os.path.join(run.dir, "media"))


def test_an_image_logged_again_refers_to_its_first_file_per_run(root: Path) -> None:
    image = Image(np.zeros((2, 2), np.uint8))
    first = wandb.init()
    at_0 = image._wandb_core_log_value(first, ("a",), 0)
    again = image._wandb_core_log_value(first, ("b",), 3)
    first.finish()

    second = wandb.init()
    other_run = image._wandb_core_log_value(second, ("c",), 1)
    second.finish()

    name = f"media/images/a_0_{image._sha256[:20]}.png"
    assert at_0["path"] == again["path"] == name
    assert other_run["path"] == f"media/images/c_1_{image._sha256[:20]}.png"
    with open(os.path.join(second.dir, other_run["path"]), "rb") as stream:
        assert stream.read() == image._bytes()


def test_the_table_column_type_is_the_official_image_type(
    official: dict[str, Any],
) -> None:
    _cells, entries = _official_table(official["run_dir"])
    with open(entries["tab.table.json"]["localPath"]) as stream:
        column = json.load(stream)["column_types"]["params"]["type_map"]["img"]

    image_type = Image(np.zeros((1, 1)))._wandb_core_table_type()

    assert column["params"]["allowed_types"][0] == image_type


def test_files_are_named_by_the_step_before_the_call(root: Path) -> None:
    # The official client names an image logged with step=10 on a fresh run
    # after step 0, the step the run was at when log() was called.
    run = wandb.init()

    run.log({"x": Image(np.zeros((2, 2), dtype=np.uint8))}, step=10)
    run.finish()

    names = os.listdir(os.path.join(run.dir, "media", "images"))
    assert len(names) == 1 and names[0].startswith("x_0_"), names
    assert read(root).history[0]["_step"] == 10
