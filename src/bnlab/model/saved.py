"""A seed's model as a ``.keras`` file (Keras' native format) whose bytes depend
only on the model."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from bnlab.files import writing

if TYPE_CHECKING:  # publish reads model_path without loading Keras
    import keras

# Keras writes into a .keras file the wall-clock time (metadata.json, and the
# date of the weights' zip entry) and Python object ids (config.json's
# shared_object_id), so saving the same model twice gives other bytes, and DVC
# would see a new output on every run. save_model pins both.
SAVED_AT = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry


def model_path(models_dir: str | Path, seed: int) -> Path:
    return Path(models_dir) / f"seed_{seed:03d}.keras"


def save_model(model: keras.Model, path: Path) -> None:
    """``model.save(path)``, byte for byte the same for the same model."""
    with writing(path):
        model.save(path)
        with zipfile.ZipFile(path) as archive:
            entries = [(info, archive.read(info)) for info in archive.infolist()]
        with zipfile.ZipFile(path, "w") as archive:
            for info, data in entries:
                if info.filename == "metadata.json":
                    data = _pinned_metadata(data)
                elif info.filename == "config.json":
                    data = _renumbered_shared_objects(data)
                info.date_time = SAVED_AT
                archive.writestr(info, data)


def _pinned_metadata(data: bytes) -> bytes:
    metadata = json.loads(data)
    metadata["date_saved"] = "{:04d}-{:02d}-{:02d}@{:02d}:{:02d}:{:02d}".format(*SAVED_AT)
    return json.dumps(metadata).encode()


def _renumbered_shared_objects(data: bytes) -> bytes:
    """Each shared_object_id (an object's id() at save time) becomes 1, 2, ... in
    order of first appearance: the same ids still mark the same shared object."""
    numbers: dict[int, int] = {}

    def renumber(node):
        if isinstance(node, dict):
            if "shared_object_id" in node:
                node["shared_object_id"] = numbers.setdefault(
                    node["shared_object_id"], len(numbers) + 1
                )
            for value in node.values():
                renumber(value)
        elif isinstance(node, list):
            for value in node:
                renumber(value)

    config = json.loads(data)
    renumber(config)
    return json.dumps(config).encode()
