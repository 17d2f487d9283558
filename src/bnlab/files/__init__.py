"""The pipeline's files: the dataset, history, scores and decision-boundary CSVs.

Each format is a module with its writer and its reader. Floats are written
with ``repr``, so reading gives back the same bits and the same numbers
always give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path


def variant_file(folder: str | Path, variant: str, suffix: str = ".csv") -> Path:
    """A variant's file in a folder of one file per variant: ``<folder>/<variant><suffix>``."""
    return Path(folder) / f"{variant}{suffix}"


def write_lines(path: str | Path, lines: list[str]) -> None:
    """A text file of these lines (UTF-8, newline-terminated), its folder made if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_json(path: str | Path, data: object) -> None:
    """``data`` as indented JSON, newline-terminated, its folder made if needed."""
    write_lines(path, [json.dumps(data, indent=2)])


def read_json(path: str | Path) -> object:
    return json.loads(Path(path).read_text(encoding="utf-8"))
