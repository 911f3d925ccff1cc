"""Packaging: the wheel matrix, the built wheels and the source distribution.

These tests build the package with ``python -m build`` (the source
distribution, then the compiled wheel from it), install each wheel into a
fresh virtualenv and run this test suite there, from a copy of ``tests/``
outside the source tree, so that nothing is imported from the checkout.
They take minutes and need PyPI (for the build and test dependencies);
they are marked ``packaging``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parent.parent
PYTHONS = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp315"]
# What pyproject.toml's [tool.cibuildwheel] must build, platform by platform,
# in cibuildwheel's order (Python versions inside architectures inside
# libc flavours on Linux, architectures inside Python versions on macOS).
EXPECTED_WHEELS = {
    "linux": [
        f"{python}-{libc}_{arch}"
        for libc in ("manylinux", "musllinux")
        for arch in ("x86_64", "aarch64")
        for python in PYTHONS
    ],
    "macos": [
        f"{python}-macosx_{arch}" for python in PYTHONS for arch in ("x86_64", "arm64")
    ],
    "windows": [f"{python}-win_amd64" for python in PYTHONS],
}
BUILD_TIMEOUT_S = 600
TEST_TIMEOUT_S = 900


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without our build switches, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("WANDB_CORE_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env.update(extra)
    return env


def run(
    args: list[str], timeout: float, check: bool = True, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


@pytest.mark.parametrize("platform", sorted(EXPECTED_WHEELS))
def test_cibuildwheel_builds_exactly_the_matrix(platform: str) -> None:
    done = run(
        [
            sys.executable,
            "-m",
            "cibuildwheel",
            "--platform",
            platform,
            "--print-build-identifiers",
            str(REPO),
        ],
        timeout=120,
        env=clean_env(),
    )
    assert done.stdout.split() == EXPECTED_WHEELS[platform]


def test_required_extensions_refuse_an_unsupported_interpreter(tmp_path: Path) -> None:
    # setup.py run as if by PyPy: with the switch it refuses, without it
    # it goes on as pure Python.
    fake_pypy = (
        "import platform, runpy, sys; "
        "platform.python_implementation = lambda: 'PyPy'; "
        "sys.argv = ['setup.py', '--version']; "
        "runpy.run_path('setup.py', run_name='__main__')"
    )
    refused = run(
        [sys.executable, "-c", fake_pypy],
        timeout=120,
        check=False,
        cwd=REPO,
        env=clean_env(WANDB_CORE_REQUIRE_EXTENSIONS="1"),
    )
    assert refused.returncode != 0
    assert "PyPy is not CPython" in refused.stderr
    assert "WANDB_CORE_NO_EXTENSIONS=1" in refused.stderr
    allowed = run(
        [sys.executable, "-c", fake_pypy], timeout=120, cwd=REPO, env=clean_env()
    )
    assert allowed.stdout.strip().splitlines()[-1] == wandb_core_version()


def wandb_core_version() -> str:
    namespace: dict[str, str] = {}
    exec((REPO / "wandb_core" / "__version__.py").read_text(), namespace)
    return namespace["__version__"]


# -- built distributions -----------------------------------------------------------


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, the compiled wheel built from it, and the pure wheel.

    Built once per test run: xdist workers share a folder of the run and
    take turns with a lock, so the first builds and the others wait.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "wandb-core-dist"
    with _locked(shared / "wandb-core-dist.lock"):
        if not (out / "done").exists():
            shutil.rmtree(out, ignore_errors=True)
            _build(out)
            (out / "done").write_text("")
    return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl  # packaging tests run on POSIX systems only

    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(out: Path) -> None:
    build = [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)]
    run(build, BUILD_TIMEOUT_S, env=clean_env(WANDB_CORE_REQUIRE_EXTENSIONS="1"))
    run(
        [*build[:3], "--wheel", *build[3:]],
        BUILD_TIMEOUT_S,
        env=clean_env(WANDB_CORE_NO_EXTENSIONS="1"),
    )


def only(pattern: str) -> str:
    (found,) = glob.glob(pattern)
    return found


def test_sdist_holds_the_twins_sources_and_the_tests(dist: Path) -> None:
    with tarfile.open(only(str(dist / "*.tar.gz"))) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for topic in ("records", "histogram", "table", "digest"):
        assert f"wandb_core/_fast/{topic}_c.pyx" in names
        assert f"wandb_core/_fast/{topic}_py.py" in names
        assert f"wandb_core/_fast/{topic}_c.c" not in names
    assert {"tests/conftest.py", "tests/twins.py", "setup.py"} <= names


def test_compiled_wheel_holds_every_compiled_twin(dist: Path) -> None:
    with zipfile.ZipFile(only(str(dist / "*-cp3*-cp3*-*.whl"))) as wheel:
        names = wheel.namelist()
    compiled = sorted(
        name.split("/")[-1].split(".")[0] for name in names if name.endswith(".so")
    )
    assert compiled == ["digest_c", "histogram_c", "records_c", "table_c"]
    assert not any(name.endswith((".pyx", ".c")) for name in names)


def test_pure_wheel_is_pure(dist: Path) -> None:
    with zipfile.ZipFile(only(str(dist / "*-py3-none-any.whl"))) as wheel:
        names = wheel.namelist()
    assert "wandb_core/_fast/records_py.py" in names
    assert not any(name.endswith((".so", ".pyd")) for name in names)


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A copy of the tests and their pytest settings, away from the checkout.

    The acceptance cases' log reader comes along where the checkout has it
    beside itself (``../shared/cases``), as the record tests use it.
    """
    shutil.copytree(REPO / "tests", tmp_path / "tests")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    cases = REPO.parent / "shared" / "cases"
    if cases.is_dir():
        shutil.copytree(cases, tmp_path / "shared" / "cases")
    yield tmp_path


def new_venv(folder: Path, wheel: str) -> Path:
    """A fresh virtualenv with ``wheel`` and the test dependencies; its python."""
    venv.create(folder, with_pip=True)
    python = folder / ("Scripts" if os.name == "nt" else "bin") / "python"
    run(
        [str(python), "-m", "pip", "install", "--quiet", f"{wheel}[test]"],
        BUILD_TIMEOUT_S,
        env=clean_env(),
    )
    return python


def run_tests(python: Path, where: Path, markers: str, **env: str) -> None:
    # The CI-config tests read the checkout (.circleci/, the linters' view of
    # the sources), which is the one thing not installed: they stay home.
    done = run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-n",
            "2",
            "-m",
            markers,
            "--ignore=tests/test_ci_config.py",
            "tests",
        ],
        TEST_TIMEOUT_S,
        check=False,
        cwd=where,
        env=clean_env(**env),
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]


def implementation_and_warnings(python: Path, where: Path) -> tuple[str, str]:
    done = run(
        [
            str(python),
            "-W",
            "always",
            "-c",
            "import wandb_core, wandb_core._fast as f; "
            "print(f.implementation, wandb_core.__file__)",
        ],
        120,
        cwd=where,
        env=clean_env(),
    )
    implementation, location = done.stdout.split()
    assert str(REPO) not in location  # the installed copy, not the checkout
    return implementation, done.stderr


def test_compiled_wheel_passes_the_tests_outside_the_tree(
    dist: Path, outside: Path
) -> None:
    python = new_venv(outside / "venv", only(str(dist / "*-cp3*-cp3*-*.whl")))
    implementation, warnings = implementation_and_warnings(python, outside)
    assert (implementation, warnings) == ("cython", "")
    run_tests(python, outside, "not packaging", WANDB_CORE_REQUIRE_EXTENSIONS="1")


def test_pure_wheel_warns_once_and_passes_the_tests(dist: Path, outside: Path) -> None:
    python = new_venv(outside / "venv", only(str(dist / "*-py3-none-any.whl")))
    implementation, warnings = implementation_and_warnings(python, outside)
    assert implementation == "python"
    assert warnings.count("ExtensionFallbackWarning") == 1
    assert "WANDB_CORE_NO_EXTENSIONS=1" in warnings  # how to silence it
    run_tests(
        python,
        outside,
        "not packaging and not reference",
        WANDB_CORE_NO_EXTENSIONS="1",
    )


def test_sdist_without_a_compiler(dist: Path, tmp_path: Path) -> None:
    sdist = only(str(dist / "*.tar.gz"))
    no_compiler = {"CC": "/bin/false", "CXX": "/bin/false", "LDSHARED": "/bin/false"}
    wheel = [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", sdist]
    fallback = run(
        [*wheel, "-w", str(tmp_path / "pure")],
        BUILD_TIMEOUT_S,
        env=clean_env(**no_compiler),
    )
    assert "could not be built" in fallback.stdout + fallback.stderr
    with zipfile.ZipFile(only(str(tmp_path / "pure" / "*.whl"))) as built:
        assert not any(name.endswith(".so") for name in built.namelist())

    refused = run(
        [*wheel, "-w", str(tmp_path / "refused")],
        BUILD_TIMEOUT_S,
        check=False,
        env=clean_env(WANDB_CORE_REQUIRE_EXTENSIONS="1", **no_compiler),
    )
    assert refused.returncode != 0
    assert "WANDB_CORE_REQUIRE_EXTENSIONS is set" in refused.stdout + refused.stderr
    assert not (tmp_path / "refused").exists() or not os.listdir(tmp_path / "refused")
