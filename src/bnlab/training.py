"""Train a variant: every seed's model, history, scores and decision boundary.

The core of the train stage (``train.py`` is its command line). Each seed is
trained exactly as the tutorial's ``Sequential.fit`` would train it (see
``seed_axis``), all seeds of the variant at once; seed s fixes the initial
weights (``keras.utils.set_random_seed(s)``) and the batch order. Every seed
is saved as the tutorial's ``Sequential`` model in Keras' native format.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from bnlab.boundary import Boundary, grid, points
from bnlab.dataset import DataError, Dataset
from bnlab.params import VariantConfig
from bnlab.scores import representative_seed
from bnlab.seed_axis import Fitted, fit_seeds

# Keras writes into a .keras file the wall-clock time (metadata.json, and the
# date of the weights' zip entry) and Python object ids (config.json's
# shared_object_id), so saving the same model twice gives other bytes, and DVC
# would see a new output on every run. save_model pins both.
SAVED_AT = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry


def model_path(models_dir: str | Path, seed: int) -> Path:
    return Path(models_dir) / f"seed_{seed:03d}.keras"


def save_model(model: keras.Model, path: Path) -> None:
    """``model.save(path)``, byte for byte the same for the same model."""
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


def load_model(path: Path) -> keras.Model:
    """A saved seed model, in Keras' native format with safe mode on."""
    try:
        return keras.models.load_model(path, safe_mode=True)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a loadable Keras model ({type(exc).__name__})") from None


def use_one_thread() -> None:
    """Run TensorFlow's ops on one thread (before it runs any op).

    The model's ops are tiny: splitting each over two cores costs more than it
    saves (10 seeds: 1.5 s instead of 2.2 s), and it leaves the second core to
    the stage's MLflow worker.
    """
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def fit_variant(
    config: VariantConfig,
    train: Dataset,
    test: Dataset,
    on_epoch: Callable[[int, dict[str, np.ndarray]], None] | None = None,
) -> Fitted:
    """Train every seed of the variant; return the models and what training measured."""
    tf.config.experimental.enable_op_determinism()  # same params -> same bytes
    return fit_seeds(config, config.train.seed_list(), train, test, on_epoch)


def save_models(fitted: Fitted, models_dir: str | Path) -> None:
    """Every seed's model as ``seed_NNN.keras``; nothing else stays in the folder."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    for stale in models_dir.glob("seed_*.keras"):
        stale.unlink()
    for index, seed in enumerate(fitted.histories):
        save_model(fitted.model(index), model_path(models_dir, seed))


def train_variant(
    config: VariantConfig, train: Dataset, test: Dataset, models_dir: str | Path
) -> Fitted:
    """Train every seed and save each one's model; return what training measured."""
    fitted = fit_variant(config, train, test)
    save_models(fitted, models_dir)
    return fitted


def decision_boundary(fitted: Fitted, train: Dataset, test: Dataset) -> Boundary:
    """P(class 1) over the data's plane for the seed with the median test accuracy,
    in inference mode (one call: no ``predict`` loop to compile)."""
    seed = representative_seed(fitted.scores)
    xs, ys = grid(np.concatenate([train.features, test.features]))
    model = fitted.model(list(fitted.scores).index(seed))
    probability = np.asarray(model(points(xs, ys), training=False))
    return Boundary(seed, xs, ys, probability.reshape(xs.shape))
