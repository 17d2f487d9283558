"""A model's decision boundary: P(class 1) on a grid over the data, as a CSV.

The train stage writes it for one seed per variant (the representative one),
so the report can draw every variant's boundary without loading TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bnlab.errors import DataError
from bnlab.files import write_lines

STEPS = 150  # grid points per axis
MARGIN = 0.2  # around the data
HEADER = "x1,x2,probability"


@dataclass(frozen=True)
class Boundary:
    seed: int
    xs: np.ndarray  # (STEPS, STEPS), as numpy.meshgrid
    ys: np.ndarray
    probability: np.ndarray  # P(class 1) at (xs, ys)


def grid(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A STEPS x STEPS mesh over the features' bounding box plus MARGIN."""
    low, high = features.min(axis=0) - MARGIN, features.max(axis=0) + MARGIN
    return np.meshgrid(np.linspace(low[0], high[0], STEPS), np.linspace(low[1], high[1], STEPS))


def points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The mesh as rows of (x1, x2), float32 as the models take them."""
    return np.c_[xs.ravel(), ys.ravel()].astype("float32")


def write_boundary(path: str | Path, boundary: Boundary) -> None:
    lines = [f"# seed {boundary.seed}", HEADER]
    lines += [
        f"{x!r},{y!r},{p!r}"
        for x, y, p in zip(
            boundary.xs.ravel().tolist(),
            boundary.ys.ravel().tolist(),
            boundary.probability.ravel().tolist(),
            strict=True,
        )
    ]
    write_lines(path, lines)


def read_boundary(path: str | Path) -> Boundary:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) < 2 or not lines[0].startswith("# seed ") or lines[1] != HEADER:
            raise ValueError
        seed = int(lines[0].removeprefix("# seed "))
        table = np.array([line.split(",") for line in lines[2:]], dtype=np.float64)
        side = math.isqrt(len(table))
        xs, ys, probability = (table[:, i].reshape(side, side) for i in range(3))
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError:
        raise DataError(f"{path}: not a decision-boundary grid ({HEADER})") from None
    return Boundary(seed, xs, ys, probability)
