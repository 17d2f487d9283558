"""The pipeline's files: the dataset, history, scores and decision-boundary CSVs.

Each format is a module with its writer and its reader. Floats are written
with ``repr``, so reading gives back the same bits and the same numbers
always give the same bytes.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bnlab.errors import OutputError

FULL = (errno.ENOSPC, errno.EDQUOT)  # a full disk, or the user's quota


def variant_file(folder: str | Path, variant: str, suffix: str = ".csv") -> Path:
    """A variant's file in a folder of one file per variant: ``<folder>/<variant><suffix>``."""
    return Path(folder) / f"{variant}{suffix}"


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failure to write ``path`` (a full disk, no permission) into one
    line naming it. What the stage made before is lost only to this run: DVC
    records no output of a failed stage, and the rerun makes it again."""
    try:
        yield
    except OSError as exc:
        cause = exc.strerror or str(exc)
        remedy = "free some space, then rerun" if exc.errno in FULL else "fix that, then rerun"
        raise OutputError(f"{path}: cannot be written ({cause}); {remedy}") from None


def write_text(path: str | Path, text: str) -> None:
    """A UTF-8 text file, its folder made if needed."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def write_lines(path: str | Path, lines: list[str]) -> None:
    """A text file of these lines (UTF-8, newline-terminated), its folder made if needed."""
    write_text(path, "\n".join(lines) + "\n")


def write_json(path: str | Path, data: object) -> None:
    """``data`` as indented JSON, newline-terminated, its folder made if needed."""
    write_lines(path, [json.dumps(data, indent=2)])


def read_json(path: str | Path) -> object:
    return json.loads(Path(path).read_text(encoding="utf-8"))
