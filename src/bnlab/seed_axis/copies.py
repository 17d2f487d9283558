"""Train every seed of a CNN or LSTM variant at once, each seed exactly as ``fit``.

The MLP's seeds share widened layers (``seed_axis.model``). Here each seed is
its own ``model.networks.build_network`` model, compiled with its own SGD:
the very model ``Sequential.fit`` would train, so its file is saved as is.
What is shared is the work around them: one compiled TensorFlow function runs
a whole epoch for every copy, where ``fit`` pays its per-step overhead once
per seed and per batch. Per batch, each copy sees its seed's rows
(``trainer.batch_order``, as the MLP), and the gradient of the summed losses
with respect to a copy's weights is that copy's own, so each takes the step
its ``fit`` would. The metrics are ``fit``'s four, as in ``seed_axis.trainer``.

``tests/test_seed_axis_networks.py`` checks every placement against
``Sequential.fit`` seed by seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from bnlab.files.digits import Images
from bnlab.model.networks import INPUT_SHAPES, build_network, compile_network
from bnlab.model.saved import model_path, save_all
from bnlab.params import NetworkConfig
from bnlab.seed_axis.trainer import per_seed, train_epochs


@dataclass(frozen=True)
class FittedCopies:
    """Every seed's trained model and what training measured (lists: in the order of seeds)."""

    seeds: list[int]
    models: list[keras.Sequential]  # compiled, with the SGD state fit would leave
    histories: dict[int, dict[str, list[float]]]  # seed -> metric -> per-epoch values
    scores: dict[int, dict[str, float]]  # seed -> final train/test loss and accuracy


def use_every_core_for_the_copies() -> None:
    """Run each TensorFlow op on one thread, and independent ops (the copies')
    side by side on every core this process may use (before it runs any op).

    An op on one thread computes the same bits on any machine, and no copy
    reads another's tensors, so the order in which the copies' ops run changes
    no number: the bytes do not depend on the core count
    (``tests/test_portable_bytes_e2e.py`` trains on one core and on all).
    """
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(len(os.sched_getaffinity(0)))


def initial_model(config: NetworkConfig, seed: int) -> keras.Sequential:
    """The seed's compiled model as the tutorial's script would start it."""
    keras.utils.set_random_seed(seed)
    model = build_network(config)
    compile_network(model, config.train)
    model.optimizer.build(model.trainable_variables)
    return model


class CopiesTrainer:
    """Keras' SGD on one model per seed, one compiled TensorFlow call per epoch."""

    def __init__(
        self, models: list[keras.Model], config: NetworkConfig, train: Images, test: Images
    ):
        self.models = models
        self.batch_size = config.train.batch_size
        shape = INPUT_SHAPES[config.network]
        self.train_x, self.train_y = _tensors(train, shape)
        self.test_x, self.test_y = _tensors(test, shape)

    def _measure(self, model: keras.Model, x, y, training: bool) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean sparse categorical cross-entropy and the number of right answers."""
        probability = model(x, training=training)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probability))
        predicted = tf.argmax(probability, axis=-1, output_type=tf.int32)
        return loss, tf.reduce_sum(tf.cast(tf.equal(predicted, y), tf.float32))

    def _step(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One batch for every copy: x is (seed, batch, ...), y (seed, batch)."""
        with tf.GradientTape() as tape:
            measured = [self._measure(m, x[i], y[i], True) for i, m in enumerate(self.models)]
            losses = [loss for loss, _ in measured]
            total = tf.add_n(losses)
        variables = [m.trainable_variables for m in self.models]
        gradients = tape.gradient(total, variables)
        for model, grads, weights in zip(self.models, gradients, variables, strict=True):
            model.optimizer.apply(grads, weights)
        return tf.stack(losses), tf.stack([correct for _, correct in measured])

    def _evaluate(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Per seed, loss and accuracy in inference mode, as ``model.evaluate``."""
        measured = [self._measure(m, x, y, False) for m in self.models]
        n = tf.cast(tf.shape(y)[0], tf.float32)
        return tf.stack([loss for loss, _ in measured]), tf.stack([c for _, c in measured]) / n

    # autograph=False: the loop is a tf.while_loop already (see seed_axis.trainer).
    @tf.function(autograph=False)
    def _epoch(self, orders: tf.Tensor) -> dict[str, tf.Tensor]:
        x = tf.gather(self.train_x, orders)  # (seed, row, ...) in each seed's order
        y = tf.gather(self.train_y, orders)
        n, size = self.train_x.shape[0], self.batch_size

        def next_batch(start, loss_sum, correct):
            stop = tf.minimum(start + size, n)  # fit's last batch is smaller
            batch_loss, batch_correct = self._step(x[:, start:stop], y[:, start:stop])
            rows = tf.cast(stop - start, tf.float32)
            return stop, loss_sum + batch_loss * rows, correct + batch_correct

        zeros = tf.zeros([len(self.models)])
        _, loss_sum, correct = tf.while_loop(
            lambda start, *_: start < n, next_batch, (tf.constant(0), zeros, zeros)
        )
        val_loss, val_accuracy = self._evaluate(self.test_x, self.test_y)
        return {
            "accuracy": correct / n,
            "loss": loss_sum / n,
            "val_accuracy": val_accuracy,
            "val_loss": val_loss,
        }

    def fit_epoch(self, orders: np.ndarray) -> dict[str, np.ndarray]:
        """One epoch; ``orders[s]`` is seed s's row order. Returns metric -> per-seed values."""
        return {name: value.numpy() for name, value in self._epoch(tf.constant(orders)).items()}

    def scores(self) -> dict[str, np.ndarray]:
        """Final train and test loss and accuracy per seed, in inference mode."""
        train_loss, train_accuracy = self._evaluate(self.train_x, self.train_y)
        test_loss, test_accuracy = self._evaluate(self.test_x, self.test_y)
        found = {
            "train_accuracy": train_accuracy,
            "train_loss": train_loss,
            "test_accuracy": test_accuracy,
            "test_loss": test_loss,
        }
        return {name: value.numpy() for name, value in found.items()}


def _tensors(images: Images, shape: tuple[int, ...]) -> tuple[tf.Tensor, tf.Tensor]:
    return (
        tf.constant(images.pixels.reshape(-1, *shape), tf.float32),
        tf.constant(images.labels, tf.int32),
    )


def fit_copies(
    config: NetworkConfig,
    train: Images,
    test: Images,
    on_epoch: Callable[[int, dict[str, np.ndarray]], None] | None = None,
    seeds: Sequence[int] | None = None,
) -> FittedCopies:
    """Train every seed of ``config``'s variant (or ``seeds``); stops between epochs
    on Ctrl-C/SIGTERM. ``on_epoch(epoch, metric -> per-seed values)`` hears of each."""
    tf.config.experimental.enable_op_determinism()  # same params -> same bytes
    seeds = list(config.train.seed_list() if seeds is None else seeds)
    models = [initial_model(config, seed) for seed in seeds]
    trainer = CopiesTrainer(models, config, train, test)
    histories = train_epochs(trainer.fit_epoch, seeds, config.train.epochs, len(train), on_epoch)
    return FittedCopies(seeds, models, histories, per_seed(trainer.scores(), seeds))


def save_copies(fitted: FittedCopies, models_dir: str | Path) -> None:
    """Every seed's model as ``seed_NNN.keras``; nothing else stays in the folder."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    for stale in models_dir.glob("seed_*.keras"):
        stale.unlink()
    save_all(
        (model, model_path(models_dir, seed))
        for seed, model in zip(fitted.seeds, fitted.models, strict=True)
    )
