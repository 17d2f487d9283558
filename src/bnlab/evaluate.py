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
from bnlab.statistics import mean_interval
from bnlab.tracking import RunIds, Tracker, flatten
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
    """Mean, sample s.d., min, max and the t-based 95% confidence interval of the mean."""
    array = np.asarray(values, dtype=np.float64)
    interval = mean_interval(array)
    return {
        name: round(value, 6)
        for name, value in (
            ("mean", interval.estimate),
            ("std", float(array.std(ddof=1)) if len(array) > 1 else 0.0),
            ("min", float(array.min())),
            ("max", float(array.max())),
            ("ci95_low", interval.low),
            ("ci95_high", interval.high),
        )
    }


def epochs_to_80(history: History) -> dict[int, int | None]:
    """Per seed, the first epoch whose test accuracy reached the threshold."""
    return {
        seed: epochs_to_threshold(curve, THRESHOLD)
        for seed, curve in zip(history.seeds, history.curves["val_accuracy"], strict=True)
    }


def summarize(scores: dict[int, dict], history: History) -> dict:
    """Aggregate per-seed scores over seeds into the metrics DVC shows."""
    reached = list(epochs_to_80(history).values())
    # A seed that never reaches the threshold counts as infinitely slow.
    median = float(np.median([np.inf if e is None else e for e in reached]))
    metrics = {name: spread([s[name] for s in scores.values()]) for name in SCORES}
    metrics["epochs_to_80"] = {
        "median": None if np.isinf(median) else median,
        "seeds_reaching": sum(e is not None for e in reached),
    }
    metrics["seeds"] = len(scores)
    return metrics


def read_scores(path: str | Path) -> dict[int, dict[str, float]]:
    """The per-seed CSV that write_scores made: seed -> score name -> value."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines or lines[0] != ",".join(("seed", *SCORES)):
            raise ValueError
        rows = [line.split(",") for line in lines[1:]]
        return {int(r[0]): dict(zip(SCORES, map(float, r[1:]), strict=True)) for r in rows}
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError:
        raise DataError(f"{path}: not a per-seed scores table (seed,{','.join(SCORES)})") from None


def write_scores(path: Path, scores: dict[int, dict]) -> None:
    lines = [",".join(("seed", *SCORES))]
    lines += [
        ",".join([str(seed), *(repr(float(s[n])) for n in SCORES)]) for seed, s in scores.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def log_to_mlflow(
    ids: RunIds, scores: dict[int, dict], history: History, metrics: dict, files: list[Path]
) -> None:
    """Final metrics into the runs the train stage created (their status stays)."""
    tracker = Tracker.for_runs(ids)
    if tracker is None:
        return
    tracker.log_metrics(ids.run_id, flatten(metrics))
    tracker.log_artifacts(ids.run_id, files, "evaluation")
    for seed, epochs in epochs_to_80(history).items():
        final = dict(scores[seed])
        if epochs is not None:
            final["epochs_to_80"] = epochs
        tracker.log_metrics(ids.seed_runs[seed], final)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab evaluate", description=__doc__)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--train", required=True, help="train CSV")
    parser.add_argument("--test", required=True, help="test CSV")
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--history", required=True, help="history CSV from train")
    parser.add_argument("--scores", required=True, help="per-seed CSV to write")
    parser.add_argument("--metrics", required=True, help="metrics JSON to write")
    parser.add_argument("--runs", required=True, help="MLflow run ids written by train")
    args = parser.parse_args(argv)
    train, test = read_csv(args.train), read_csv(args.test)
    history = read_history(args.history)
    scores = {}
    for seed in history.seeds:
        model = load_model(model_path(args.models_dir, seed))
        # Keras' default batch size, as the tutorial's evaluate calls.
        scores[seed] = score_model(model, train, test, batch_size=32)
    scores_path, metrics_path = Path(args.scores), Path(args.metrics)
    write_scores(scores_path, scores)
    metrics = summarize(scores, history)
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    log_to_mlflow(RunIds.read(args.runs), scores, history, metrics, [scores_path, metrics_path])
    acc = metrics["test_accuracy"]
    print(
        f"evaluate {args.variant}: test accuracy {acc['mean']:.3f} +/- {acc['std']:.3f} "
        f"over {len(scores)} seeds, epochs to {THRESHOLD:.0%}: median "
        f"{metrics['epochs_to_80']['median']}",
        flush=True,
    )
