"""Whole processes: exit codes, forks, full disks and the twin selector."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.runutil import log_file, only_run_dir, read, run_dirs, run_script, user_rows
from wandb_core.backend.reader import read_records

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="needs fork and rlimits")


@pytest.mark.parametrize(
    ("ending", "code"),
    [
        ("pass", 0),
        ("import sys; sys.exit(3)", 3),
        ("import sys; sys.exit('bad arguments')", 1),
        ("raise ValueError('boom')", 1),
    ],
)
def test_a_forgotten_run_ends_with_the_scripts_exit_code(
    tmp_path: Path, ending: str, code: int
) -> None:
    result = run_script(
        tmp_path,
        f"""
        run = wandb.init()
        run.log({{"x": 1}})
        {ending}
        """,
    )

    assert result.returncode == code, result.stderr
    replay = read(tmp_path)
    assert replay.exit_code == code
    assert replay.state == ("finished" if code == 0 else "failed")
    assert user_rows(replay) == [{"x": 1, "_step": 0}]


def test_an_uncaught_exception_keeps_its_traceback(tmp_path: Path) -> None:
    result = run_script(tmp_path, "wandb.init()\nraise KeyError('lost')\n")

    assert result.returncode == 1
    assert "KeyError: 'lost'" in result.stderr


@POSIX_ONLY
def test_forked_children_log_into_the_parents_run(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
        import multiprocessing as mp

        def child(index):
            wandb.log({"child": index})

        if __name__ == "__main__":
            run = wandb.init()
            run.log({"parent": 0})
            workers = [
                mp.get_context("fork").Process(target=child, args=(i,))
                for i in range(4)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(30)
            print("codes", [worker.exitcode for worker in workers])
            run.log({"parent": 1})
            run.finish()
        """,
    )

    assert result.returncode == 0, result.stderr
    assert "codes [0, 0, 0, 0]" in result.stdout
    rows = user_rows(read(tmp_path))
    steps = [row["_step"] for row in rows]
    assert len(rows) == 6 and len(set(steps)) == 6
    assert sorted(row["child"] for row in rows if "child" in row) == [0, 1, 2, 3]
    parents = [row for row in rows if "parent" in row]
    assert parents[0] == {"parent": 0, "_step": 0} and parents[1]["parent"] == 1
    assert len(run_dirs(tmp_path)) == 1


@POSIX_ONLY
def test_a_plain_fork_that_exits_normally_leaves_the_log_whole(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
        import os
        run = wandb.init()
        run.log({"a": 1})
        pid = os.fork()
        if pid == 0:
            run.log({"from_child": 1})
            raise SystemExit(0)
        os.waitpid(pid, 0)
        run.log({"a": 2})
        run.finish()
        """,
    )

    assert result.returncode == 0, result.stderr
    records, problems = read_records(log_file(only_run_dir(tmp_path)))
    assert problems == []
    assert [record.kind for record in records].count("exit") == 1
    rows = user_rows(read(tmp_path))
    data = sorted(str({k: v for k, v in row.items() if k != "_step"}) for row in rows)
    assert data == sorted(map(str, [{"a": 1}, {"from_child": 1}, {"a": 2}]))
    assert sorted(row["_step"] for row in rows) == [0, 1, 2]


def test_spawned_children_get_their_own_runs(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
        import multiprocessing as mp

        def child(index):
            run = wandb.init(config={"index": index})
            run.log({"value": index})
            run.finish()

        if __name__ == "__main__":
            workers = [
                mp.get_context("spawn").Process(target=child, args=(i,))
                for i in range(2)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(60)
        """,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    from wandb_core.backend.reader import read_run

    runs = [read_run(log_file(path)) for path in run_dirs(tmp_path)]
    assert sorted(run.config["index"] for run in runs) == [0, 1]
    assert all(run.exit_code == 0 for run in runs)


@POSIX_ONLY
def test_a_full_disk_never_stops_the_training_script(tmp_path: Path) -> None:
    # RLIMIT_FSIZE with SIGXFSZ ignored makes writes past 100 kB fail with
    # EFBIG, as a full disk fails them with ENOSPC.
    result = run_script(
        tmp_path,
        """
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        run = wandb.init()
        for i in range(5000):
            run.log({"i": i, "pad": "y" * 100})
        run.finish()
        print("TRAINING GOES ON", flush=True)
        """,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "TRAINING GOES ON" in result.stdout
    assert result.stderr.count("writing the run's files failed") == 1
    assert "records could not be written" in result.stderr
    assert "Traceback" not in result.stderr
    records, problems = read_records(log_file(only_run_dir(tmp_path)))
    rows = [record for record in records if record.kind == "history"]
    assert 0 < len(rows) < 5000
    assert all("cut off" in problem for problem in problems)


def test_what_was_logged_is_on_disk_within_about_a_second(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
        import os, time
        run = wandb.init()
        run.log({"early": 1})
        time.sleep(1.5)
        # Simulate a crash: no finish, no atexit.
        os._exit(0)
        """,
    )

    assert result.returncode == 0, result.stderr
    replay = read(tmp_path)
    assert user_rows(replay) == [{"early": 1, "_step": 0}]
    assert replay.summary["early"] == 1 and replay.exit_code is None


@pytest.mark.parametrize("variable", ["1", "true", "yes"])
def test_the_pure_twins_can_be_forced_without_a_warning(
    tmp_path: Path, variable: str
) -> None:
    result = run_script(
        tmp_path,
        """
        import warnings
        warnings.simplefilter("error")
        import wandb_core._fast as fast
        print(fast.implementation, fast.fallback_reason)
        """,
        WANDB_CORE_NO_EXTENSIONS=variable,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["python", "None"]


_BLOCK_COMPILED = """
import sys

class BlockCompiled:
    def find_spec(self, name, path=None, target=None):
        if name == "wandb_core._fast.records_c":
            raise ImportError("simulated: no compiled module")
        return None

sys.meta_path.insert(0, BlockCompiled())
"""


def test_a_missing_compiled_twin_warns_once_and_falls_back(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        _BLOCK_COMPILED
        + """
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import wandb_core._fast as fast
            import wandb_core._fast
        print(fast.implementation)
        print(len(caught), caught[0].category.__name__)
        print(caught[0].message)
        run = wandb.init()
        run.log({"a": 1})
        run.finish()
        """.replace("\n        ", "\n"),
        WANDB_CORE_NO_EXTENSIONS="0",
        WANDB_CORE_REQUIRE_EXTENSIONS="0",
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "python"
    assert lines[1] == "1 ExtensionFallbackWarning"
    assert "pure-Python twins" in lines[2] and "WANDB_CORE_NO_EXTENSIONS=1" in lines[2]
    assert user_rows(read(tmp_path)) == [{"a": 1, "_step": 0}]


def test_required_extensions_turn_the_fallback_into_an_error(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        _BLOCK_COMPILED + "import wandb_core._fast\n",
        WANDB_CORE_REQUIRE_EXTENSIONS="1",
        WANDB_CORE_NO_EXTENSIONS="0",
    )

    assert result.returncode == 1
    assert "WANDB_CORE_REQUIRE_EXTENSIONS is set" in result.stderr


@POSIX_ONLY
def test_a_forked_child_that_calls_init_gets_its_own_run(tmp_path: Path) -> None:
    result = run_script(
        tmp_path,
        """
        import multiprocessing as mp

        def child():
            run = wandb.init(config={"who": "child"})
            run.log({"child_value": 1})
            run.finish()

        if __name__ == "__main__":
            run = wandb.init(config={"who": "parent"})
            run.log({"parent_value": 1})
            worker = mp.get_context("fork").Process(target=child)
            worker.start()
            worker.join(30)
            run.log({"parent_value": 2})
            run.finish()
        """,
    )

    assert result.returncode == 0, result.stderr
    from wandb_core.backend.reader import read_run

    runs = {
        run.config["who"]: run
        for run in (read_run(log_file(d)) for d in run_dirs(tmp_path))
    }
    assert [r["parent_value"] for r in runs["parent"].history] == [1, 2]
    assert [r["child_value"] for r in runs["child"].history] == [1]
    assert runs["parent"].exit_code == runs["child"].exit_code == 0
