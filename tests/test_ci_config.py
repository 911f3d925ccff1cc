"""The CircleCI configuration: it parses, what it runs exists, and lint passes.

CircleCI itself cannot run here, so these tests check what can be checked
locally: the workflow names only defined jobs and executors, every file and
pip extra a command names is in the repository, the cibuildwheel version is
the one the wheel matrix test uses, and the lint job's commands pass.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# Paths of the repository that commands mention: scripts, tests, sources.
_REPO_PATH = re.compile(r"(?<![\w./-])((?:benchmarks|tests|wandb_core|\.ci)/[\w./-]*)")
_EXTRA = re.compile(r"'\.\[(\w+)\]'")


def load_toml() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with open(REPO / "pyproject.toml", "rb") as stream:
        return tomllib.load(stream)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    with open(REPO / ".circleci" / "config.yml") as stream:
        loaded: dict[str, Any] = yaml.safe_load(stream)
    return loaded


def commands(config: dict[str, Any]) -> list[str]:
    found = []
    for job in config["jobs"].values():
        for step in job["steps"]:
            if isinstance(step, dict) and "run" in step:
                run = step["run"]
                found.append(run if isinstance(run, str) else run["command"])
    return found


def test_workflow_names_defined_jobs_and_executors(config: dict[str, Any]) -> None:
    assert config["version"] == 2.1
    executors = set(config["executors"])
    for name, job in config["jobs"].items():
        executor = job["executor"]
        if isinstance(executor, dict):
            executor = executor["name"]
        if "<<" not in executor:
            assert executor in executors, name
    for entry in config["workflows"]["main"]["jobs"]:
        name, options = (
            (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        )
        assert name in config["jobs"]
        if "platform" in (options or {}):
            assert options["platform"] in executors
        for required in (options or {}).get("requires", []):
            assert required in config["jobs"]


def test_every_file_a_command_names_exists(config: dict[str, Any]) -> None:
    named = {
        path for command in commands(config) for path in _REPO_PATH.findall(command)
    }
    assert "benchmarks/bench_suite.py" in named
    for path in named:
        assert (REPO / path.rstrip("/")).exists(), path


def test_every_pip_extra_exists(config: dict[str, Any]) -> None:
    extras = set(load_toml()["project"]["optional-dependencies"])
    used = {extra for command in commands(config) for extra in _EXTRA.findall(command)}
    assert used == {"lint", "test"}
    assert used <= extras


def test_cibuildwheel_version_matches_the_matrix_test(config: dict[str, Any]) -> None:
    pinned = {
        version
        for command in commands(config)
        for version in re.findall(r"cibuildwheel==([\d.]+)", command)
    }
    test_extra = load_toml()["project"]["optional-dependencies"]["test"]
    assert {f"cibuildwheel=={version}" for version in pinned} <= set(test_extra)
    assert len(pinned) == 1


def test_markers_the_jobs_select_are_declared(config: dict[str, Any]) -> None:
    declared = {
        line.split(":")[0]
        for line in load_toml()["tool"]["pytest"]["ini_options"]["markers"]
    }
    used = {
        marker
        for command in commands(config)
        for marker in re.findall(r"\b(reference|packaging)\b", command)
    }
    assert used == {"reference", "packaging"} and used <= declared


def test_benchmark_suite_has_the_options_the_job_uses() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_suite.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--out" in done.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["cython-lint", "wandb_core/_fast/"],
        ["mypy"],
    ],
    ids=["ruff", "ruff-format", "cython-lint", "mypy"],
)
def test_lint_commands_pass(command: list[str]) -> None:
    tool = shutil.which(command[0], path=str(Path(sys.executable).parent))
    assert tool is not None, f"{command[0]} is not installed ('.[test]' has it)"
    done = subprocess.run(
        [tool, *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
