"""Stage report: every variant's scores, history and boundary -> the study's answer.

Writes ``summary.md`` (per variant: test and train accuracy with 95%
confidence intervals, epochs to 80% test accuracy, final loss; each BN
variant against the baseline with Welch's t-test and a Mann-Whitney U test;
the tutorial's single-run figures beside ours; its claims marked supported or
not), ``summary.json`` (the same numbers, for MLflow and other programs) and figures:
decision boundaries of the median seed per variant (from train) and the
distribution of epochs to 80%. ``publish`` puts all of it in an MLflow run
named ``report``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bnlab.boundary import read_boundary
from bnlab.dataset import Dataset, read_csv, write_json
from bnlab.evaluate import THRESHOLD, epochs_to_80
from bnlab.history import History, read_history
from bnlab.params import load_params
from bnlab.report_figures import boundaries_figure, epochs_figure
from bnlab.report_text import claims, markdown
from bnlab.scores import read_scores
from bnlab.statistics import Comparison, Interval, compare, mean_interval, quartiles


@dataclass(frozen=True)
class VariantSummary:
    variant: str
    seeds: tuple[int, ...]
    test_accuracy: np.ndarray  # per seed, model.evaluate after the last epoch
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    train_loss: np.ndarray
    epochs: np.ndarray  # per seed, epochs to threshold; inf where never reached
    history: History

    @property
    def test_interval(self) -> Interval:
        return mean_interval(self.test_accuracy)

    @property
    def train_interval(self) -> Interval:
        return mean_interval(self.train_accuracy)

    @property
    def epochs_quartiles(self) -> Interval:
        return quartiles(self.epochs)

    @property
    def never_reached(self) -> int:
        return int(np.isinf(self.epochs).sum())

    def train_minus_test(self, from_epoch: int) -> Interval:
        """Per seed, mean over epochs >= from_epoch of training-mode minus test accuracy."""
        gap = self.history.curves["accuracy"] - self.history.curves["val_accuracy"]
        return mean_interval(gap[:, from_epoch - 1 :].mean(axis=1))


def summarize_variant(variant: str, scores: dict[int, dict], history: History) -> VariantSummary:
    reached = epochs_to_80(history)
    column = {
        name: np.array([scores[s][name] for s in history.seeds])
        for name in next(iter(scores.values()))
    }
    return VariantSummary(
        variant=variant,
        seeds=history.seeds,
        test_accuracy=column["test_accuracy"],
        train_accuracy=column["train_accuracy"],
        test_loss=column["test_loss"],
        train_loss=column["train_loss"],
        epochs=np.array([np.inf if reached[s] is None else reached[s] for s in history.seeds]),
        history=history,
    )


def comparisons(summaries: dict[str, VariantSummary]) -> dict[str, Comparison]:
    """Each BN variant against the baseline (none when the baseline is not trained)."""
    base = summaries.get("baseline")
    if base is None:
        return {}
    return {
        name: compare(s.test_accuracy, base.test_accuracy, s.epochs, base.epochs)
        for name, s in summaries.items()
        if name != "baseline"
    }


def summary_metrics(summaries: dict[str, VariantSummary], compared: dict[str, Comparison]) -> dict:
    def interval(i: Interval) -> dict:
        return {
            "mean": round(i.estimate, 6),
            "ci95_low": round(i.low, 6),
            "ci95_high": round(i.high, 6),
        }

    metrics: dict = {}
    for name, s in summaries.items():
        epochs = s.epochs_quartiles
        metrics[name] = {
            "test_accuracy": interval(s.test_interval),
            "train_accuracy": interval(s.train_interval),
            "test_loss": round(float(s.test_loss.mean()), 6),
            "epochs_to_80": {
                "median": None if np.isinf(epochs.estimate) else epochs.estimate,
                "q1": None if np.isinf(epochs.low) else epochs.low,
                "q3": None if np.isinf(epochs.high) else epochs.high,
                "never": s.never_reached,
            },
        }
    for name, c in compared.items():
        metrics[name]["vs_baseline"] = {
            "test_accuracy_diff": interval(c.difference),
            "welch_p": round(c.welch_p, 6),
            "epochs_to_80_median_shift": None if np.isnan(c.epochs_shift) else c.epochs_shift,
            "mann_whitney_p": round(c.mann_whitney_p, 6),
        }
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab report", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--raw", required=True, help="raw dataset CSV")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--history-dir", required=True, help="folder of <variant>.csv histories")
    parser.add_argument(
        "--boundary-dir", required=True, help="folder of <variant>.csv decision boundaries"
    )
    parser.add_argument(
        "--out-dir", required=True, help="folder for summary.md, summary.json and figures"
    )
    args = parser.parse_args(argv)
    params = load_params(args.params)
    summaries = {
        v: summarize_variant(
            v,
            read_scores(Path(args.scores_dir) / f"{v}.csv"),
            read_history(Path(args.history_dir) / f"{v}.csv"),
        )
        for v in params.variants
    }
    compared = comparisons(summaries)
    out_dir = Path(args.out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    figures = _draw(summaries, read_csv(args.raw), Path(args.boundary_dir), out_dir / "figures")
    verdicts = claims(summaries, compared)
    (out_dir / "summary.md").write_text(markdown(summaries, compared, verdicts, THRESHOLD))
    metrics = summary_metrics(summaries, compared)
    metrics["claims"] = {claim.key: claim.supported for claim in verdicts}
    write_json(out_dir / "summary.json", metrics)
    print(f"report: {out_dir / 'summary.md'}, {len(figures)} figures", flush=True)


def _draw(
    summaries: dict[str, VariantSummary], data: Dataset, boundary_dir: Path, folder: Path
) -> list[Path]:
    boundaries = {name: read_boundary(boundary_dir / f"{name}.csv") for name in summaries}
    paths = [folder / "decision_boundaries.png", folder / "epochs_to_80.png"]
    boundaries_figure(boundaries, data).savefig(paths[0], dpi=100)
    epochs_figure({n: s.epochs for n, s in summaries.items()}, THRESHOLD).savefig(paths[1], dpi=100)
    return paths
