"""Stage plot: the dataset + every variant's history and boundary -> figures and curve tables.

Writes PNGs: the dataset scatter, train/test accuracy per variant as the mean
over seeds with a band of one standard deviation, and all variants' test
accuracy overlaid; and the two the report shows, in its folder of figures
(``<report-dir>/figures``, where summary.md's links point):
the decision boundary of each variant's median seed (from train) and the
distribution of epochs to 80%. For ``dvc plots``, CSVs of the mean curves
with one column per variant.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.analysis import epochs_per_seed
from bnlab.files import variant_file
from bnlab.files.boundary import read_boundary
from bnlab.files.curves import write_curves
from bnlab.files.dataset import read_csv
from bnlab.files.history import read_history
from bnlab.params import load_params
from bnlab.report import (
    BOUNDARIES,
    DATASET,
    EPOCHS,
    FIGURES_DIR,
    OVERLAY,
    figures,
    learning_curves,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab plot", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--raw", required=True, help="raw dataset CSV")
    parser.add_argument("--history-dir", required=True, help="folder of <variant>.csv histories")
    parser.add_argument(
        "--boundary-dir", required=True, help="folder of <variant>.csv decision boundaries"
    )
    parser.add_argument("--figures-dir", required=True)
    parser.add_argument("--report-dir", required=True, help="the report's folder (summary.md's)")
    parser.add_argument("--curves-dir", required=True, help="folder for the dvc plots CSVs")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    histories = {v: read_history(variant_file(args.history_dir, v)) for v in params.variants}
    dataset = read_csv(args.raw)
    folder, shown = Path(args.figures_dir), Path(args.report_dir) / FIGURES_DIR
    curves = Path(args.curves_dir)
    folder.mkdir(parents=True, exist_ok=True)
    shown.mkdir(parents=True, exist_ok=True)
    figures.save(figures.dataset_figure(dataset), folder / DATASET)
    for variant, history in histories.items():
        drawn = figures.variant_figure(variant, history)
        figures.save(drawn, folder / learning_curves(variant))
    figures.save(figures.overlay_figure(histories), folder / OVERLAY)
    boundaries = {v: read_boundary(variant_file(args.boundary_dir, v)) for v in histories}
    figures.save(figures.boundaries_figure(boundaries, dataset), shown / BOUNDARIES)
    epochs = {v: epochs_per_seed(history) for v, history in histories.items()}
    figures.save(figures.epochs_figure(epochs), shown / EPOCHS)
    write_curves(curves / "test_accuracy.csv", histories, "val_accuracy")
    write_curves(curves / "train_accuracy.csv", histories, "accuracy")
    print(
        f"plot: {len(histories) + 2} figures -> {folder}/, 2 -> {shown}/, curves -> {curves}/",
        flush=True,
    )
