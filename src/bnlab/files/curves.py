"""The mean learning curves as ``dvc plots`` reads them: epoch, then one column per variant."""

from __future__ import annotations

from pathlib import Path

from bnlab.files import write_lines
from bnlab.files.history import History


def write_curves(path: Path, histories: dict[str, History], metric: str) -> None:
    """epoch, then one column per variant: the mean of metric over seeds."""
    variants = list(histories)
    n_epochs = min(h.n_epochs for h in histories.values())
    means = {v: histories[v].mean(metric) for v in variants}
    lines = [",".join(["epoch", *variants])]
    for epoch in range(n_epochs):
        lines.append(",".join([str(epoch + 1), *(repr(float(means[v][epoch])) for v in variants)]))
    write_lines(path, lines)
