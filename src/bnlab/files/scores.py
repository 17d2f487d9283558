"""Every seed's final train and test loss and accuracy, as one CSV per variant.

The numbers are the tutorial's ``model.evaluate`` on the train and the test
set after the last epoch (inference mode: BatchNormalization uses its moving
averages). Floats are written with ``repr`` so same numbers -> same bytes.
"""

from __future__ import annotations

from pathlib import Path

from bnlab.errors import DataError
from bnlab.files import write_lines

SCORES = ("train_accuracy", "train_loss", "test_accuracy", "test_loss")


def read_scores(path: str | Path) -> dict[int, dict[str, float]]:
    """The per-seed CSV that write_scores made: seed -> score name -> value."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines or lines[0] != ",".join(("seed", *SCORES)):
            raise ValueError
        rows = [line.split(",") for line in lines[1:]]
        return {int(r[0]): dict(zip(SCORES, map(float, r[1:]), strict=True)) for r in rows}
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError:
        raise DataError(f"{path}: not a per-seed scores table (seed,{','.join(SCORES)})") from None


def write_scores(path: str | Path, scores: dict[int, dict[str, float]]) -> None:
    lines = [",".join(("seed", *SCORES))]
    lines += [
        ",".join([str(seed), *(repr(float(s[n])) for n in SCORES)]) for seed, s in scores.items()
    ]
    write_lines(path, lines)
