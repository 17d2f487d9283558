"""The digits dataset (8x8 images, pixel values 0-16, labels 0-9) and its CSV
file: one row per image, ``p0`` ... ``p63`` (row by row) then ``label``.

A file with the header and no rows stands for a dataset no network needs
(``stages.digits`` writes one when ``networks`` holds only mlp).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bnlab.errors import DataError
from bnlab.files import write_lines

SIDE = 8  # pixels per row and per column
PIXELS = SIDE * SIDE
MAX_PIXEL = 16
CLASSES = 10
COLUMNS = (*(f"p{i}" for i in range(PIXELS)), "label")


@dataclass(frozen=True)
class Images:
    pixels: np.ndarray  # (n, 64) float32, 0-16, row by row
    labels: np.ndarray  # (n,) int64, the digit shown

    def __len__(self) -> int:
        return len(self.labels)

    def rows(self, start: int, stop: int | None = None) -> Images:
        return Images(self.pixels[start:stop], self.labels[start:stop])


def write_images(images: Images, path: str | Path) -> None:
    lines = [",".join(COLUMNS)]
    for pixels, label in zip(
        images.pixels.astype(int).tolist(), images.labels.tolist(), strict=True
    ):
        lines.append(",".join(map(str, [*pixels, label])))
    write_lines(path, lines)


def read_images(path: str | Path) -> Images:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if not lines or lines[0].strip() != ",".join(COLUMNS):
        raise DataError(f"{path}: header must be p0,...,p{PIXELS - 1},label")
    try:
        table = np.array([[int(v) for v in line.split(",")] for line in lines[1:]], dtype=np.int64)
    except ValueError:
        raise DataError(f"{path}: every value must be an integer") from None
    if len(table) == 0:
        raise DataError(f"{path}: holds no rows")
    if table.ndim != 2 or table.shape[1] != len(COLUMNS):
        raise DataError(f"{path}: every row must have {len(COLUMNS)} values")
    pixels, labels = table[:, :PIXELS], table[:, PIXELS]
    if pixels.min() < 0 or pixels.max() > MAX_PIXEL or labels.min() < 0 or labels.max() >= CLASSES:
        raise DataError(f"{path}: pixels must be 0-{MAX_PIXEL} and labels 0-{CLASSES - 1}")
    return Images(pixels.astype(np.float32), labels)
