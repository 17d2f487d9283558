"""The circles dataset (features and labels) and its CSV file: x1, x2, label."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bnlab.errors import DataError
from bnlab.files import write_lines

COLUMNS = ("x1", "x2", "label")


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray  # (n, 2) float64
    labels: np.ndarray  # (n,) int64, 0 = outer circle, 1 = inner circle

    def __len__(self) -> int:
        return len(self.labels)

    def rows(self, start: int, stop: int | None = None) -> Dataset:
        return Dataset(self.features[start:stop], self.labels[start:stop])


def write_csv(dataset: Dataset, path: str | Path) -> None:
    lines = [",".join(COLUMNS)]
    for (x1, x2), label in zip(dataset.features.tolist(), dataset.labels.tolist(), strict=True):
        lines.append(f"{x1!r},{x2!r},{label}")
    write_lines(path, lines)


def read_csv(path: str | Path) -> Dataset:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != ",".join(COLUMNS):
        raise DataError(f"{path}: header must be {','.join(COLUMNS)}")
    features, labels = [], []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        try:
            if len(fields) != len(COLUMNS):
                raise ValueError
            x1, x2, label = float(fields[0]), float(fields[1]), int(fields[2])
        except ValueError:
            raise DataError(f"{path}: line {number} is not x1,x2,label: {line[:60]!r}") from None
        if not (np.isfinite(x1) and np.isfinite(x2)) or label not in (0, 1):
            raise DataError(f"{path}: line {number} has a non-finite value or a label not 0/1")
        features.append((x1, x2))
        labels.append(label)
    if not labels:
        raise DataError(f"{path}: holds no rows")
    return Dataset(np.array(features, dtype=np.float64), np.array(labels, dtype=np.int64))
