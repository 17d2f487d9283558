"""The per-epoch training history of every seed of a variant, as one CSV.

Columns: seed, epoch (1-based), then the four numbers Keras' ``fit`` reports
per epoch. Floats are written with ``repr`` so same numbers -> same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bnlab.errors import DataError
from bnlab.files import write_lines

METRICS = ("accuracy", "loss", "val_accuracy", "val_loss")
HEADER = ("seed", "epoch", *METRICS)


@dataclass(frozen=True)
class History:
    seeds: tuple[int, ...]
    curves: dict[str, np.ndarray]  # metric -> (n_seeds, n_epochs)

    @property
    def n_epochs(self) -> int:
        return self.curves[METRICS[0]].shape[1]

    def mean(self, metric: str) -> np.ndarray:
        return self.curves[metric].mean(axis=0)

    def std(self, metric: str) -> np.ndarray:
        return self.curves[metric].std(axis=0)


def write_history(path: str | Path, per_seed: dict[int, dict[str, list[float]]]) -> None:
    """per_seed maps seed -> Keras ``History.history`` (metric -> per-epoch values)."""
    lines = [",".join(HEADER)]
    for seed, history in per_seed.items():
        for epoch, values in enumerate(zip(*(history[m] for m in METRICS), strict=True), start=1):
            lines.append(",".join([str(seed), str(epoch), *(repr(float(v)) for v in values)]))
    write_lines(path, lines)


def read_history(path: str | Path) -> History:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if not lines or lines[0] != ",".join(HEADER):
        raise DataError(f"{path}: header must be {','.join(HEADER)}")
    try:
        table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]], ndmin=2)
    except ValueError:
        raise DataError(f"{path}: holds a row that is not {len(HEADER)} numbers") from None
    if table.size == 0 or table.shape[1] != len(HEADER) or not np.isfinite(table).all():
        raise DataError(f"{path}: must hold {len(HEADER)} finite numbers a row")
    seeds = tuple(dict.fromkeys(int(s) for s in table[:, 0]))
    n_epochs = len(table) // len(seeds)
    if n_epochs * len(seeds) != len(table):
        raise DataError(f"{path}: seeds do not all have the same number of epochs")
    curves = {
        metric: table[:, 2 + i].reshape(len(seeds), n_epochs) for i, metric in enumerate(METRICS)
    }
    return History(seeds, curves)
