"""Training scripts that tests/test_reference.py runs with both SDKs.

Each script is the body of a user's program without its import line: the
test prepends ``import wandb`` for the official client or
``import wandb_core as wandb`` for ours, so both run the very same code.
The scripts print nothing the comparison relies on, except where a test
says so.
"""

from __future__ import annotations

IMPORT_LINES = {
    "wandb": "import wandb\n",
    "wandb_core": "import wandb_core as wandb\n",
}

# Plain values of every JSON kind, numpy values, commit=False, step jumps,
# config from a dict, a Namespace and later updates, and summary edits.
VALUES = """
import argparse

import numpy as np

args = argparse.Namespace(lr=0.01, layers=[64, 32], name="net", flag=True)
run = wandb.init(
    project="reference-values",
    config={
        "batch": 32,
        "optimizer": {"name": "adam", "betas": [0.9, 0.999], "eps": 1e-8},
        "weights": np.array([1.5, 2.5, -3.0]),
        "grid": np.arange(6).reshape(2, 3),
        "scale": np.float32(0.1),
        "count": np.int64(7),
        "nothing": None,
        "ünïcode ключ": "värde 🎉",
    },
)
run.config.update(args)
run.config.update({"batch": 64, "extra": {"a": [1, {"b": 2}]}}, allow_val_change=True)
run.config["late"] = "set by item"

run.log({"int": 1, "float": 1.0, "big": 1e16, "small": 1.5e-7, "negzero": -0.0})
run.log({"bigint": 2**64 + 1, "neg": -7, "maxint": 2**63 - 1, "ratio": 1 / 3})
run.log({"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")})
run.log({
    "str": "héllo wörld",
    "emoji": "🎉🚀",
    "ключ": "значение",
    "📈 loss": 0.5,
    "empty": "",
    "yes": True,
    "no": False,
    "none": None,
})
run.log({
    "list": [1, 2.5, "x", None, True, [1, [2]]],
    "nested": {"a": {"b": {"c": 1, "d": [1, 2]}, "e": "f"}, "g": 2.5},
    "deep": {"l1": {"l2": {"l3": {"l4": {"l5": "bottom"}}}}},
    "empty_dict": {},
})
run.log({
    "i8": np.int8(-5),
    "u8": np.uint8(200),
    "i32": np.int32(7),
    "i64": np.int64(2**40),
    "u64": np.uint64(2**63 + 5),
    "f16": np.float16(0.5),
    "f32": np.float32(0.1),
    "f64": np.float64(2.5),
    "np_nan": np.float64("nan"),
    "np_inf": np.float32("-inf"),
    "np_bool": np.bool_(True),
    "zero_d": np.array(3.25),
    "zero_d_int": np.array(9, dtype=np.int16),
    "arr_f": np.array([0.5, 1.5, 2.5]),
    "arr_i": np.arange(32).reshape(4, 8),
    "arr_u8": np.array([1, 2, 255], dtype=np.uint8),
    "arr_bool": np.array([True, False]),
    "np_nested": {"x": np.float32(0.25), "y": [np.int64(1), np.float64(2.0)]},
})
run.log({"partial_a": 1}, commit=False)
run.log({"partial_b": "two"}, commit=False)
run.log({"partial_a": 3, "partial_c": [3]})
run.log({"jump": 1}, step=20)
run.log({"jump": 2, "same_step": True}, step=20)
run.log({"jump": 3}, step=25)
run.log({"dropped": 1}, step=3)
run.log({"after_jump": 1})
run.log({"float": 2.0, "int": 2})

run.summary["manual"] = 42
run.summary["manual_nested"] = {"x": 1, "y": {"z": [2, 3]}}
run.summary["int"] = "overridden"
run.summary.update({"upd": "yes", "ratio": 0.5, "np_sum": np.float64(1.25)})
del run.summary["str"]
del run.summary["nested"]
del run.summary["deep"]["l1"]["l2"]
run.finish()
"""

# define_metric summaries, glob names with a step metric, and a config
# given as an argparse.Namespace.
METRICS = """
import argparse

args = argparse.Namespace(epochs=3, dropout=0.5, tag="metrics")
run = wandb.init(project="reference-metrics", config=args)
run.define_metric("m_min", summary="min")
run.define_metric("m_max", summary="max")
run.define_metric("m_mean", summary="mean")
run.define_metric("m_first", summary="first")
run.define_metric("m_last", summary="last")
run.define_metric("m_all", summary="min,max,mean")
run.define_metric("m_none", summary="none")
run.define_metric("epoch")
run.define_metric("val/*", step_metric="epoch", summary="max")
run.define_metric("train/*", step_metric="epoch")

values = [0.3, 0.1, 0.7, 0.2, 0.25]
for i, value in enumerate(values):
    run.log({
        "m_min": value,
        "m_max": value,
        "m_mean": value,
        "m_first": value,
        "m_last": value,
        "m_all": value,
        "m_none": value,
        "plain": value,
    })
    if i % 2 == 0:
        run.log({"epoch": i // 2, "val/loss": value, "val/acc": 1 - value})
    run.log({"train/loss": value * 2})
run.log({"val/late": 9.5})
run.finish()
"""

# The script ends with sys.exit(3) and never calls finish().
EXIT_3 = """
import sys

run = wandb.init(project="reference-exit", config={"kind": "exit3"})
run.log({"x": 1, "y": 2.5})
run.log({"x": 2})
sys.exit(3)
"""

# An uncaught exception ends the script.
UNCAUGHT = """
run = wandb.init(project="reference-exit", config={"kind": "uncaught"})
run.log({"x": 1})
raise RuntimeError("uncaught in the training loop")
"""

# An exception raised inside ``with wandb.init() as run:`` must finish the
# run as failed and still reach the code around the block.
WITH_BLOCK = """
try:
    with wandb.init(project="reference-exit", config={"kind": "with"}) as run:
        run.log({"x": 1})
        run.log({"x": 2})
        raise ValueError("raised inside the with block")
except ValueError as error:
    print("propagated:", error)
"""
