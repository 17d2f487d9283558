"""A seed's model as a ``.keras`` file (Keras' native format) whose bytes depend
only on the model; a variant's seeds, all saved as Keras would at a fraction of
its time."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bnlab.files import writing

if TYPE_CHECKING:  # publish reads model_path without loading Keras
    import keras

# Keras writes into a .keras file the wall-clock time (metadata.json, and the
# date of the weights' zip entry) and Python object ids (config.json's
# shared_object_id), so saving the same model twice gives other bytes, and DVC
# would see a new output on every run. save_model pins both.
SAVED_AT = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
WEIGHTS = "model.weights.h5"  # a .keras archive's entry with every value


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


def save_all(models: Iterable[tuple[keras.Model, Path]]) -> None:
    """``save_model`` for each (model, path), the models all of one architecture.

    Keras saves the first. The others' archives differ from it only in the
    values in its weights file, which HDF5 stores as plain arrays at fixed
    offsets: each is the first's archive with its own values written there,
    the same bytes as ``save_model`` gives (the tests compare them), without
    Keras' walk over the model's objects, most of a save's time
    (docs/performance.md has the figures).
    """
    first = None
    for model, path in models:
        archive = first.with_values_of(model) if first else None
        if archive is None:
            save_model(model, path)
            first = first or _Archive.read(path)
        else:
            with writing(path):
                path.write_bytes(archive)


@dataclass(frozen=True)
class _Archive:
    """A saved ``.keras`` file's entries, and where its weights file holds each value."""

    entries: list[tuple[zipfile.ZipInfo, bytes]]
    # Keras' weights file has a group per object with variables (a layer, the
    # optimizer), named after it, holding what its save_own_variables gives:
    # the object's name -> each value's offset, dtype and shape.
    values: dict[str, list[tuple[int | None, np.dtype, tuple[int, ...]]]]

    @classmethod
    def read(cls, path: Path) -> _Archive:
        import h5py  # here: publish imports this module for model_path alone

        with zipfile.ZipFile(path) as archive:
            entries = [(info, archive.read(info)) for info in archive.infolist()]
        values = {}

        def find(_: str, group: object) -> None:
            if isinstance(group, h5py.Group) and "name" in group.attrs and len(group):
                held = [group[str(index)] for index in range(len(group))]
                values[group.attrs["name"]] = [(v.id.get_offset(), v.dtype, v.shape) for v in held]

        saved = cls(entries, values)
        with h5py.File(io.BytesIO(saved.weights())) as h5:
            h5.visititems(find)  # fills saved.values
        return saved

    def weights(self) -> bytes:
        return next(data for info, data in self.entries if info.filename == WEIGHTS)

    def with_values_of(self, model: keras.Model) -> bytes | None:
        """This archive with ``model``'s values in place of its own; None if they do not fit."""
        # Every layer, nested ones too (an LSTM's cell); Keras has no public walk.
        owners = {owner.name: owner for owner in [*model._flatten_layers(), model.optimizer]}
        weights = bytearray(self.weights())
        for name, held in self.values.items():
            if name not in owners:
                return None
            store: dict[str, object] = {}
            owners[name].save_own_variables(store)
            for index, (offset, dtype, shape) in enumerate(held):
                value = np.asarray(store[str(index)], dtype=dtype)
                if offset is None or value.shape != shape:
                    return None
                weights[offset : offset + value.nbytes] = value.tobytes()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for info, data in self.entries:
                archive.writestr(info, bytes(weights) if info.filename == WEIGHTS else data)
        return out.getvalue()


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
