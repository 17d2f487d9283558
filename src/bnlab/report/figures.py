"""Every figure of the study: the plot stage draws the dataset, the learning
curves, the decision boundaries and the epochs to THRESHOLD, the extensions'
compare stage the momentum sweeps and the networks' report their curves
(their file names are in ``bnlab.report``). Nothing here writes a file but
``save``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from bnlab.analysis import THRESHOLD, VariantSummary
from bnlab.files import writing
from bnlab.files.boundary import Boundary
from bnlab.files.dataset import Dataset
from bnlab.files.history import History

DPI = 100


def save(figure: Figure, path: Path) -> None:
    with writing(path):
        figure.savefig(path, dpi=DPI)


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


def overlay_figure(histories: dict[str, History], network: str = "") -> Figure:
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    for variant, history in histories.items():
        _band(axes, np.arange(1, history.n_epochs + 1), history, "val_accuracy", variant)
    axes.set(
        title=f"{network.upper() + ': ' if network else ''}"
        "Test accuracy per epoch, mean ± 1 s.d. over seeds",
        xlabel="epoch",
        ylabel="test accuracy",
    )
    axes.legend(loc="lower right")
    return figure


def boundaries_figure(boundaries: dict[str, Boundary], data: Dataset) -> Figure:
    """Each variant's P(class 1) over the plane, its 0.5 contour, and the data."""
    figure = Figure(figsize=(4.5 * len(boundaries), 4.5))
    for index, (name, b) in enumerate(boundaries.items(), start=1):
        axes = figure.add_subplot(1, len(boundaries), index)
        axes.contourf(b.xs, b.ys, b.probability, levels=20, cmap="RdBu_r", alpha=0.6)
        axes.contour(b.xs, b.ys, b.probability, levels=[0.5], colors="black", linewidths=1)
        for label, style in (
            (0, {"c": "white", "marker": "o"}),
            (1, {"c": "black", "marker": "^"}),
        ):
            points = data.features[data.labels == label]
            axes.scatter(
                points[:, 0],
                points[:, 1],
                s=6,
                edgecolors="black",
                linewidths=0.3,
                alpha=0.6,
                label=f"class {label}",
                **style,
            )
        axes.set(title=f"{name} (seed {b.seed}, median)", xlabel="x1", ylabel="x2", aspect="equal")
        axes.legend(loc="upper right", fontsize=7)
    figure.suptitle("Decision boundary (black: P = 0.5) over the dataset")
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    return figure


def epochs_figure(epochs: dict[str, np.ndarray], threshold: float = THRESHOLD) -> Figure:
    """One box per variant, each seed a dot; seeds that never reached it listed below."""
    figure = Figure(figsize=(7, 4.5))
    axes = figure.add_subplot()
    names = list(epochs)
    reached = [values[np.isfinite(values)] for values in epochs.values()]
    axes.boxplot(reached, tick_labels=names, showfliers=False)
    jitter = np.random.default_rng(0)  # fixed: the figure's bytes stay the same
    for position, values in enumerate(reached, start=1):
        axes.scatter(position + jitter.uniform(-0.12, 0.12, len(values)), values, s=12, alpha=0.7)
    never = ", ".join(f"{n}: {int(np.isinf(v).sum())}" for n, v in epochs.items())
    axes.set(
        title=f"Epochs until test accuracy first reaches {threshold:.0%}, per seed",
        ylabel="epoch",
        xlabel=f"variant (seeds that never reached it: {never})",
    )
    return figure


def sweep_figure(variant: str, points: dict[float, VariantSummary]) -> Figure:
    """A momentum sweep: the test curves, then epochs to THRESHOLD (median and
    IQR) and final test accuracy (mean and 95% interval) against momentum."""
    figure = Figure(figsize=(15, 4.5))
    curves, speed, final = (figure.add_subplot(1, 3, i) for i in (1, 2, 3))
    for momentum, s in points.items():
        epochs = np.arange(1, s.history.n_epochs + 1)
        curves.plot(epochs, s.history.mean("val_accuracy"), label=f"momentum {momentum:g}")
    curves.set(title="Test accuracy, mean over seeds", xlabel="epoch", ylabel="test accuracy")
    curves.legend(loc="lower right")
    # Evenly spaced: the interesting momenta (0.9, 0.99) sit close together.
    positions = np.arange(len(points))
    labels = [f"{m:g}" for m in points]
    quartiles = [s.epochs_quartiles for s in points.values()]
    medians = np.array([q.estimate for q in quartiles])
    shown = np.isfinite(medians)
    speed.errorbar(
        positions[shown],
        medians[shown],
        yerr=[
            [q.estimate - q.low for q, keep in zip(quartiles, shown, strict=True) if keep],
            [q.high - q.estimate for q, keep in zip(quartiles, shown, strict=True) if keep],
        ],
        fmt="o",
        capsize=4,
    )
    speed.set(
        title=f"Epochs to {THRESHOLD:.0%}: median and IQR",
        xlabel="bn.momentum",
        ylabel="epoch",
        xticks=positions,
        xticklabels=labels,
    )
    intervals = [s.test_interval for s in points.values()]
    final.errorbar(
        positions,
        [i.estimate for i in intervals],
        yerr=[[i.estimate - i.low for i in intervals], [i.high - i.estimate for i in intervals]],
        fmt="o",
        capsize=4,
    )
    final.set(
        title="Final test accuracy: mean and 95% interval",
        xlabel="bn.momentum",
        ylabel="test accuracy",
        xticks=positions,
        xticklabels=labels,
    )
    figure.suptitle(f"{variant}: BatchNormalization momentum sweep, {len(s.seeds)} seeds each")
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    return figure
