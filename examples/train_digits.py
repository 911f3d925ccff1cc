"""Train a small numpy MLP on scikit-learn's digits and log it to Weights & Biases.

The script logs the way a typical training loop does: hyperparameters in the
run config, per-step training metrics, per-epoch validation metrics on their
own x-axis with a histogram of the hidden layer's weights, a few test digits
as images, a table of test predictions, final numbers in the summary, and the
trained weights as a model artifact.

Usage:
    python examples/train_digits.py                  # wandb_core (offline)
    WANDB_MODE=offline python examples/train_digits.py --sdk wandb

Both SDKs write the run directory under ``./wandb/``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

N_CLASSES = 10


@dataclass
class Split:
    """Features and labels of one part of the data set."""

    x: np.ndarray
    y: np.ndarray


@dataclass
class Data:
    """Train, validation and test parts of the digits data set."""

    train: Split
    val: Split
    test: Split


class MLP:
    """One-hidden-layer perceptron with ReLU, trained by SGD with momentum."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.params = {
            "w1": rng.normal(0.0, math.sqrt(2.0 / n_in), (n_in, n_hidden)),
            "b1": np.zeros(n_hidden),
            "w2": rng.normal(0.0, math.sqrt(1.0 / n_hidden), (n_hidden, n_out)),
            "b2": np.zeros(n_out),
        }
        self.velocity = {name: np.zeros_like(p) for name, p in self.params.items()}

    @property
    def n_params(self) -> int:
        """Number of trainable scalars."""
        return sum(p.size for p in self.params.values())

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Compute the hidden activations and the output logits.

        Args:
            x: Inputs of shape ``(batch, n_in)``.

        Returns:
            The hidden activations and the logits of shape ``(batch, n_out)``.
        """
        hidden = np.maximum(x @ self.params["w1"] + self.params["b1"], 0.0)
        return hidden, hidden @ self.params["w2"] + self.params["b2"]

    def train_step(
        self, x: np.ndarray, y: np.ndarray, lr: float, momentum: float
    ) -> tuple[float, float]:
        """Take one SGD-with-momentum step on a mini-batch.

        Args:
            x: Inputs of shape ``(batch, n_in)``.
            y: Integer labels of shape ``(batch,)``.
            lr: Learning rate of this step.
            momentum: Momentum coefficient.

        Returns:
            The mini-batch loss and accuracy before the update.
        """
        hidden, logits = self.forward(x)
        probs = softmax(logits)
        loss = cross_entropy(probs, y)
        acc = float(np.mean(probs.argmax(axis=1) == y))

        d_logits = probs.copy()
        d_logits[np.arange(len(y)), y] -= 1.0
        d_logits /= len(y)
        d_hidden = (d_logits @ self.params["w2"].T) * (hidden > 0.0)
        grads = {
            "w1": x.T @ d_hidden,
            "b1": d_hidden.sum(axis=0),
            "w2": hidden.T @ d_logits,
            "b2": d_logits.sum(axis=0),
        }
        for name, grad in grads.items():
            self.velocity[name] = momentum * self.velocity[name] - lr * grad
            self.params[name] += self.velocity[name]
        return loss, acc

    def evaluate(self, split: Split) -> tuple[float, float]:
        """Compute loss and accuracy on a whole split.

        Args:
            split: The data to evaluate on.

        Returns:
            The mean cross-entropy loss and the accuracy.
        """
        probs = softmax(self.forward(split.x)[1])
        acc = float(np.mean(probs.argmax(axis=1) == split.y))
        return cross_entropy(probs, split.y), acc


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum for numerical stability."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels."""
    true_probs = probs[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.clip(true_probs, 1e-12, None))))


def load_data(seed: int) -> Data:
    """Load digits, scale pixels to [0, 1] and split 64/16/20 train/val/test.

    Args:
        seed: Seed of the stratified splits.

    Returns:
        The three splits.
    """
    digits = load_digits()
    x = digits.data / 16.0
    y = digits.target
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.2, random_state=seed, stratify=y_rest
    )
    return Data(Split(x_train, y_train), Split(x_val, y_val), Split(x_test, y_test))


def cosine_lr(base_lr: float, step: int, total_steps: int) -> float:
    """Cosine-decay the learning rate from ``base_lr`` towards zero."""
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * step / total_steps))


def train(
    wandb: ModuleType, run: Any, model: MLP, data: Data, args: argparse.Namespace
) -> float:
    """Train the model, logging per-step and per-epoch metrics to ``run``.

    Args:
        wandb: The SDK module (for its Histogram type).
        run: The active run.
        model: The model to train in place.
        data: The data splits.
        args: The parsed command-line options.

    Returns:
        The best validation accuracy seen at the end of an epoch.
    """
    rng = np.random.default_rng(args.seed)
    n_train = len(data.train.y)
    steps_per_epoch = math.ceil(n_train / args.batch_size)
    total_steps = args.epochs * steps_per_epoch
    step = 0
    best_val_acc = 0.0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n_train)
        for first in range(0, n_train, args.batch_size):
            batch = order[first : first + args.batch_size]
            lr = cosine_lr(args.lr, step, total_steps)
            loss, acc = model.train_step(
                data.train.x[batch], data.train.y[batch], lr, args.momentum
            )
            run.log({"train/loss": loss, "train/acc": acc, "train/lr": lr})
            step += 1
        val_loss, val_acc = model.evaluate(data.val)
        best_val_acc = max(best_val_acc, val_acc)
        run.log(
            {
                "epoch": epoch,
                "val/loss": val_loss,
                "val/acc": val_acc,
                "epoch_time_s": time.perf_counter() - start,
                "weights/hidden": wandb.Histogram(model.params["w1"]),
            }
        )
    return best_val_acc


def digit_image(wandb: ModuleType, pixels: np.ndarray, caption: str) -> Any:
    """An 8 x 8 digit (features in [0, 1]) as a W&B image."""
    gray = np.round(pixels.reshape(8, 8) * 255).astype(np.uint8)
    return wandb.Image(gray, caption=caption)


def log_test_predictions(
    wandb: ModuleType, run: Any, model: MLP, test: Split, rows: int
) -> None:
    """Log a few test digits as images and a table of predictions.

    Args:
        wandb: The SDK module (for its Image and Table types).
        run: The active run.
        model: The trained model.
        test: The test split.
        rows: How many test digits to show.
    """
    probs = softmax(model.forward(test.x[:rows])[1])
    predictions = probs.argmax(axis=1)
    table = wandb.Table(columns=["image", "label", "prediction", "confidence"])
    for index in range(rows):
        label = int(test.y[index])
        table.add_data(
            digit_image(wandb, test.x[index], f"label {label}"),
            label,
            int(predictions[index]),
            float(probs[index, predictions[index]]),
        )
    examples = [
        digit_image(wandb, test.x[index], f"label {int(test.y[index])}")
        for index in range(min(rows, 8))
    ]
    run.log({"test/predictions": table, "test/examples": examples})


def log_checkpoint(wandb: ModuleType, run: Any, model: MLP, test_acc: float) -> None:
    """Save the trained weights and log them as a versioned model artifact."""
    checkpoint = wandb.Artifact(
        "digits-mlp",
        type="model",
        metadata={"test_acc": test_acc, "n_params": model.n_params},
    )
    with checkpoint.new_file("weights.npz", mode="wb") as stream:
        np.savez(stream, **model.params)
    run.log_artifact(checkpoint, aliases=["final"])


def parse_args() -> argparse.Namespace:
    """Parse the command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table-rows", type=int, default=32)
    parser.add_argument(
        "--sdk",
        default="wandb_core",
        help="module imported as `wandb`: wandb_core (default) or wandb",
    )
    return parser.parse_args()


def main() -> None:
    """Run one training job and record it as a W&B run."""
    args = parse_args()
    wandb: ModuleType = importlib.import_module(args.sdk)
    config = {
        "learning_rate": args.lr,
        "momentum": args.momentum,
        "hidden_units": args.hidden,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "seed": args.seed,
        "optimizer": "sgd_momentum",
        "lr_schedule": "cosine",
    }
    run = wandb.init(project="digits-demo", config=config)
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch")
    run.define_metric("val/loss", summary="min")
    run.define_metric("val/acc", summary="max")

    data = load_data(args.seed)
    model = MLP(data.train.x.shape[1], args.hidden, N_CLASSES, args.seed)
    run.config.update(
        {
            "n_params": model.n_params,
            "n_train": len(data.train.y),
            "n_val": len(data.val.y),
            "n_test": len(data.test.y),
        }
    )

    best_val_acc = train(wandb, run, model, data, args)
    test_loss, test_acc = model.evaluate(data.test)
    log_test_predictions(wandb, run, model, data.test, args.table_rows)
    run.summary["test/loss"] = test_loss
    run.summary["test/acc"] = test_acc
    run.summary["best_val_acc"] = best_val_acc
    log_checkpoint(wandb, run, model, test_acc)
    run_dir = run.dir
    run.finish()
    print(f"test accuracy {test_acc:.4f}  run dir {run_dir}")


if __name__ == "__main__":
    main()
