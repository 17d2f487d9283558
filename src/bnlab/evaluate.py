"""Stage evaluate: a variant's models + history -> per-seed scores and DVC metrics.

For every seed, the tutorial's ``model.evaluate`` on the train and the test
set (inference mode: BatchNormalization uses its moving averages). Writes a
per-seed CSV and a metrics JSON with the spread over seeds and the epoch at
which test accuracy first reaches the threshold (from the history).
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import keras
import numpy as np

from bnlab.dataset import DataError, Dataset, read_csv
from bnlab.history import History, epochs_to_threshold, read_history
from bnlab.train import model_path

THRESHOLD = 0.80
SCORES = ("train_accuracy", "train_loss", "test_accuracy", "test_loss")


def load_model(path: Path) -> keras.Model:
    """A saved seed model, in Keras' native format with safe mode on."""
    try:
        return keras.models.load_model(path, safe_mode=True)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a loadable Keras model ({type(exc).__name__})") from None


def score_model(model: keras.Model, train: Dataset, test: Dataset, batch_size: int) -> dict:
    train_loss, train_acc = model.evaluate(
        train.features, train.labels, batch_size=batch_size, verbose=0
    )
    test_loss, test_acc = model.evaluate(
        test.features, test.labels, batch_size=batch_size, verbose=0
    )
    return {
        "train_accuracy": train_acc,
        "train_loss": train_loss,
        "test_accuracy": test_acc,
        "test_loss": test_loss,
    }


def spread(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {
        "mean": round(float(array.mean()), 6),
        "std": round(float(array.std(ddof=1)) if len(array) > 1 else 0.0, 6),
        "min": round(float(array.min()), 6),
        "max": round(float(array.max()), 6),
    }


def summarize(scores: dict[int, dict], history: History) -> dict:
    """Aggregate per-seed scores over seeds into the metrics DVC shows."""
    reached = [epochs_to_threshold(curve, THRESHOLD) for curve in history.curves["val_accuracy"]]
    # A seed that never reaches the threshold counts as infinitely slow.
    median = float(np.median([np.inf if e is None else e for e in reached]))
    metrics = {name: spread([s[name] for s in scores.values()]) for name in SCORES}
    metrics["epochs_to_80"] = {
        "median": None if np.isinf(median) else median,
        "seeds_reaching": sum(e is not None for e in reached),
    }
    metrics["seeds"] = len(scores)
    return metrics


def write_scores(path: Path, scores: dict[int, dict]) -> None:
    lines = [",".join(("seed", *SCORES))]
    lines += [
        ",".join([str(seed), *(repr(float(s[n])) for n in SCORES)]) for seed, s in scores.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab evaluate", description=__doc__)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--train", required=True, help="train CSV")
    parser.add_argument("--test", required=True, help="test CSV")
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--history", required=True, help="history CSV from train")
    parser.add_argument("--scores", required=True, help="per-seed CSV to write")
    parser.add_argument("--metrics", required=True, help="metrics JSON to write")
    args = parser.parse_args(argv)
    train, test = read_csv(args.train), read_csv(args.test)
    history = read_history(args.history)
    scores = {}
    for seed in history.seeds:
        model = load_model(model_path(args.models_dir, seed))
        # Keras' default batch size, as the tutorial's evaluate calls.
        scores[seed] = score_model(model, train, test, batch_size=32)
    write_scores(Path(args.scores), scores)
    metrics = summarize(scores, history)
    Path(args.metrics).parent.mkdir(parents=True, exist_ok=True)
    Path(args.metrics).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    acc = metrics["test_accuracy"]
    print(
        f"evaluate {args.variant}: test accuracy {acc['mean']:.3f} +/- {acc['std']:.3f} "
        f"over {len(scores)} seeds, epochs to {THRESHOLD:.0%}: median "
        f"{metrics['epochs_to_80']['median']}",
        flush=True,
    )
