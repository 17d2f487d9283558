"""Stage evaluate: every variant's per-seed scores + history -> statistics and DVC metrics.

The train stage measured each seed's final train and test loss and accuracy
(the tutorial's ``model.evaluate``, in inference mode) and its per-epoch
curves. This stage aggregates them over seeds, per variant: mean, sample
s.d., range and the 95% confidence interval of the mean, and the epoch at
which test accuracy first reaches the threshold. It writes those statistics
as one JSON per variant (``publish`` adds them to the variant's MLflow run),
and the study's headline as the one DVC metrics file: per variant, one short
line (``headline``) that ``dvc exp show`` fits in a terminal.

It needs neither TensorFlow nor the models, so one process serves every
variant in a fraction of a second.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bnlab.dataset import write_json
from bnlab.history import History, epochs_to_threshold, read_history
from bnlab.params import load_params
from bnlab.scores import SCORES, read_scores
from bnlab.statistics import mean_interval

THRESHOLD = 0.80


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


def headline(metrics: dict) -> str:
    """Mean test accuracy, the half-width of its 95% interval, median epochs to 80%:
    ``0.845 ±0.005 ep 16.5`` (``ep never`` when the median seed never got there)."""
    accuracy = metrics["test_accuracy"]
    half_width = (accuracy["ci95_high"] - accuracy["ci95_low"]) / 2
    median = metrics["epochs_to_80"]["median"]
    epochs = "never" if median is None else f"{median:g}"
    return f"{accuracy['mean']:.3f} ±{half_width:.3f} ep {epochs}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab evaluate", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for variants")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--history-dir", required=True, help="folder of <variant>.csv histories")
    parser.add_argument("--stats-dir", required=True, help="folder for <variant>.json statistics")
    parser.add_argument("--headline", required=True, help="the DVC metrics file to write")
    args = parser.parse_args(argv)
    stats_dir = Path(args.stats_dir)
    stats_dir.mkdir(parents=True, exist_ok=True)
    for stale in stats_dir.glob("*.json"):
        stale.unlink()
    headlines = {}
    for variant in load_params(args.params).variants:
        scores = read_scores(Path(args.scores_dir) / f"{variant}.csv")
        history = read_history(Path(args.history_dir) / f"{variant}.csv")
        metrics = summarize(scores, history)
        write_json(stats_dir / f"{variant}.json", metrics)
        headlines[variant] = headline(metrics)
        print(f"evaluate {variant}: {headlines[variant]} over {len(scores)} seeds", flush=True)
    write_json(Path(args.headline), headlines)
