"""Stage plot: the dataset + every variant's history -> figures and curve tables.

Writes PNGs (the dataset scatter, train/test accuracy per variant as the mean
over seeds with a band of one standard deviation, and all variants' test
accuracy overlaid) and, for ``dvc plots``, CSVs of the mean curves with one
column per variant.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from bnlab.dataset import Dataset, read_csv
from bnlab.history import History, read_history
from bnlab.params import load_params

CLASS_NAMES = {0: "class 0 (outer circle)", 1: "class 1 (inner circle)"}


def dataset_figure(dataset: Dataset) -> Figure:
    figure = Figure(figsize=(6, 6))
    axes = figure.add_subplot()
    for label, name in CLASS_NAMES.items():
        points = dataset.features[dataset.labels == label]
        axes.scatter(points[:, 0], points[:, 1], s=8, label=name)
    axes.set(title="Circles dataset", xlabel="x1", ylabel="x2", aspect="equal")
    axes.legend()
    return figure


def _band(axes, epochs: np.ndarray, history: History, metric: str, label: str) -> None:
    mean, std = history.mean(metric), history.std(metric)
    (line,) = axes.plot(epochs, mean, label=label)
    axes.fill_between(epochs, mean - std, mean + std, color=line.get_color(), alpha=0.2)


def variant_figure(variant: str, history: History) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    epochs = np.arange(1, history.n_epochs + 1)
    _band(axes, epochs, history, "accuracy", "train (training mode, running mean)")
    _band(axes, epochs, history, "val_accuracy", "test")
    axes.set(
        title=f"{variant}: accuracy per epoch, mean ± 1 s.d. over {len(history.seeds)} seeds",
        xlabel="epoch",
        ylabel="accuracy",
    )
    axes.legend(loc="lower right")
    return figure


def overlay_figure(histories: dict[str, History]) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    for variant, history in histories.items():
        _band(axes, np.arange(1, history.n_epochs + 1), history, "val_accuracy", variant)
    axes.set(
        title="Test accuracy per epoch, mean ± 1 s.d. over seeds",
        xlabel="epoch",
        ylabel="test accuracy",
    )
    axes.legend(loc="lower right")
    return figure


def write_curves(path: Path, histories: dict[str, History], metric: str) -> None:
    """epoch, then one column per variant: the mean of metric over seeds."""
    variants = list(histories)
    n_epochs = min(h.n_epochs for h in histories.values())
    means = {v: histories[v].mean(metric) for v in variants}
    lines = [",".join(["epoch", *variants])]
    for epoch in range(n_epochs):
        lines.append(",".join([str(epoch + 1), *(repr(float(means[v][epoch])) for v in variants)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab plot", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--raw", required=True, help="raw dataset CSV")
    parser.add_argument("--history-dir", required=True, help="folder of <variant>.csv histories")
    parser.add_argument("--figures-dir", required=True)
    parser.add_argument("--curves-dir", required=True, help="folder for the dvc plots CSVs")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    histories = {v: read_history(Path(args.history_dir) / f"{v}.csv") for v in params.variants}
    figures, curves = Path(args.figures_dir), Path(args.curves_dir)
    figures.mkdir(parents=True, exist_ok=True)
    curves.mkdir(parents=True, exist_ok=True)
    dataset_figure(read_csv(args.raw)).savefig(figures / "dataset.png", dpi=100)
    for variant, history in histories.items():
        variant_figure(variant, history).savefig(figures / f"accuracy_{variant}.png", dpi=100)
    overlay_figure(histories).savefig(figures / "test_accuracy_by_variant.png", dpi=100)
    write_curves(curves / "test_accuracy.csv", histories, "val_accuracy")
    write_curves(curves / "train_accuracy.csv", histories, "accuracy")
    print(f"plot: {len(histories) + 2} figures -> {figures}/, curves -> {curves}/", flush=True)
