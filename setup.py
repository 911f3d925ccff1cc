"""Build script: compiles the Cython twins of ``wandb_core/_fast``.

Without a compiler (or Cython) the install still succeeds as pure Python
and says so in a visible block, unless ``WANDB_CORE_REQUIRE_EXTENSIONS=1``
is set, which turns that into an error. ``WANDB_CORE_NO_EXTENSIONS=1``
builds no extension at all, which makes the pure wheel (py3-none-any); so
does an interpreter the compiled twins do not support (other than CPython,
or free-threaded CPython), where requiring the extensions is an error too.
"""

from __future__ import annotations

import glob
import os
import platform
import sys
import sysconfig

from setuptools import setup
from setuptools.command.build_ext import build_ext

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _unsupported_interpreter() -> str | None:
    """Why this interpreter gets no compiled twins, or None if it does."""
    implementation = platform.python_implementation()
    if implementation != "CPython":
        return f"{implementation} is not CPython"
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return "free-threaded CPython is not supported by the compiled twins yet"
    return None


REQUIRE = _flag("WANDB_CORE_REQUIRE_EXTENSIONS")
UNSUPPORTED = _unsupported_interpreter()
SKIP = _flag("WANDB_CORE_NO_EXTENSIONS") or UNSUPPORTED is not None
# Each hot path's compiled twin is wandb_core/_fast/<topic>_c.pyx.
FAST_MODULES = sorted(
    os.path.basename(path)[: -len("_c.pyx")]
    for path in glob.glob(os.path.join("wandb_core", "_fast", "*_c.pyx"))
)
if REQUIRE and not _flag("WANDB_CORE_NO_EXTENSIONS"):
    # A binary wheel must never be pure inside: refuse rather than fall back.
    if UNSUPPORTED is not None:
        raise RuntimeError(
            "WANDB_CORE_REQUIRE_EXTENSIONS is set, but wandb-core builds no "
            f"compiled twins here: {UNSUPPORTED}. Build the pure wheel instead "
            "(WANDB_CORE_NO_EXTENSIONS=1 python -m build --wheel)."
        )
    if not FAST_MODULES:
        raise RuntimeError(
            "WANDB_CORE_REQUIRE_EXTENSIONS is set, but no wandb_core/_fast/*_c.pyx "
            "source is here to compile (a source distribution without them?)."
        )


def _banner(text: str) -> None:
    line = "*" * 76
    sys.stderr.write(f"\n{line}\n{text}\n{line}\n\n")


class OptionalBuildExt(build_ext):
    """Builds the extensions, or falls back to pure Python when allowed."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # compiler missing, headers missing, ...
            self._fallback(error)

    def build_extension(self, ext):  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as error:
            self._fallback(error)

    def _fallback(self, error: Exception) -> None:
        if REQUIRE:
            raise RuntimeError(
                "WANDB_CORE_REQUIRE_EXTENSIONS is set but the Cython extensions "
                f"of wandb-core failed to build: {error}"
            ) from error
        _banner(
            "wandb-core: the compiled hot paths could not be built "
            f"({error}).\nInstalling the pure-Python version, which works the "
            "same but logs more slowly."
        )


def _extensions() -> list:
    if SKIP:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as error:
        if REQUIRE:
            raise
        _banner(f"wandb-core: Cython is not available ({error}); pure Python only.")
        return []
    from setuptools import Extension

    modules = [
        Extension(
            f"wandb_core._fast.{name}_c",
            [f"wandb_core/_fast/{name}_c.pyx"],
            extra_compile_args=[] if os.name == "nt" else ["-O3"],
        )
        for name in FAST_MODULES
    ]
    return cythonize(
        modules,
        compiler_directives={"language_level": "3", "embedsignature": True},
        quiet=True,
    )


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
