"""Train a variant: every seed's model, history, scores and decision boundary.

The core of the train stage (``train.py`` is its command line). Each seed is
trained exactly as the tutorial's ``Sequential.fit`` would train it (see
``seed_axis``), all seeds of the variant at once; seed s fixes the initial
weights (``keras.utils.set_random_seed(s)``) and the batch order. Every seed
is saved as the tutorial's ``Sequential`` model in Keras' native format.
"""

from __future__ import annotations

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


def model_path(models_dir: str | Path, seed: int) -> Path:
    return Path(models_dir) / f"seed_{seed:03d}.keras"


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
        fitted.model(index).save(model_path(models_dir, seed))


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
