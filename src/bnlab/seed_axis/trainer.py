"""Train every seed of a variant at once, each seed exactly as the tutorial's fit.

The tutorial trains one model per script with ``Sequential.fit``; nearly all
of its time is framework overhead per step, not arithmetic. Here the seeds of
a variant are copies inside one seed-axis Keras model
(``models.build_seed_axis_model``), and one compiled TensorFlow function runs
a whole epoch for all of them:

- seed s starts from the weights ``build_model`` gives after
  ``keras.utils.set_random_seed(s)``, the tutorial's model and initializer;
- every epoch seed s sees the train set in its own order (``batch_order``),
  in batches of ``batch_size`` with a smaller last batch, as ``fit`` does;
- per batch: forward pass in training mode (BatchNormalization uses and
  updates that seed's batch statistics), Keras' binary cross-entropy
  averaged over the batch, summed over seeds, and one step of Keras' SGD
  with momentum on all weights. A sum's gradient with respect to seed s's
  weights is the gradient of seed s's loss alone, so each seed takes the
  step its own ``fit`` would;
- the epoch's ``loss`` and ``accuracy`` are averages over its samples of the
  training-mode values, ``val_loss`` and ``val_accuracy`` come from the test
  set in inference mode, the four numbers ``fit`` reports.

``tests/test_seed_axis.py`` checks this against ``Sequential.fit`` seed by
seed, for every placement. ``Fitted`` (``seed_axis.fitted``) holds the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from bnlab.files.dataset import Dataset
from bnlab.files.history import METRICS
from bnlab.model.mlp import build_model, compile_model, optimizer
from bnlab.params import VariantConfig
from bnlab.runtime import interrupt
from bnlab.seed_axis.fitted import Fitted
from bnlab.seed_axis.model import build_seed_axis_model, fresh_weights, stack_weights, unstack

DECISION_THRESHOLD = 0.5  # Keras' binary accuracy: P(class 1) > 0.5 means class 1


def batch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which seed ``seed`` sees the ``n`` train rows in epoch ``epoch`` (from 1)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def initial_weights(config: VariantConfig, built: keras.Sequential, seed: int) -> list[np.ndarray]:
    """The weights ``build_model`` gives after ``keras.utils.set_random_seed(seed)``,
    the tutorial's initialisation, without building a model; ``built`` is any
    model of the variant's plan."""
    keras.utils.set_random_seed(seed)
    return fresh_weights(built, config.placement, config.model, config.bn)


class SeedAxisTrainer:
    """Keras' SGD on a seed-axis model, one compiled TensorFlow call per epoch."""

    def __init__(self, model: keras.Model, config: VariantConfig, train: Dataset, test: Dataset):
        self.model = model
        self.n_seeds = model.input_shape[1]
        self.batch_size = config.train.batch_size
        self.optimizer = optimizer(config.train)
        self.optimizer.build(model.trainable_variables)
        self.train_x, self.train_y = _tensors(train)
        self.test_x, self.test_y = _tensors(test)

    def _losses(self, x: tf.Tensor, y: tf.Tensor, training: bool) -> tuple[tf.Tensor, tf.Tensor]:
        """Per seed: mean binary cross-entropy and number of correct predictions."""
        probability = self.model(x, training=training)  # (batch, seed, 1)
        per_sample = keras.losses.binary_crossentropy(y, probability)  # (batch, seed)
        predicted = tf.cast(probability > DECISION_THRESHOLD, y.dtype)
        correct = tf.reduce_sum(tf.cast(tf.equal(y, predicted), tf.float32), axis=[0, 2])
        return tf.reduce_mean(per_sample, axis=0), correct

    def _step(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            loss, correct = self._losses(x, y, training=True)
            total = tf.reduce_sum(loss)
        variables = self.model.trainable_variables
        self.optimizer.apply(tape.gradient(total, variables), variables)
        return loss, correct

    def _evaluate(self, x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Per seed, loss and accuracy in inference mode, as ``model.evaluate``."""
        n = tf.shape(x)[0]
        every_seed = tf.broadcast_to(x[:, None, :], [n, self.n_seeds, x.shape[-1]])
        labels = tf.broadcast_to(y[:, None, :], [n, self.n_seeds, 1])
        loss, correct = self._losses(every_seed, labels, training=False)
        return loss, correct / tf.cast(n, tf.float32)

    # autograph=False: the loop below is written as a tf.while_loop already, and
    # converting Keras' own code to graph form would only cost tracing time.
    @tf.function(autograph=False)
    def _epoch(self, orders: tf.Tensor) -> dict[str, tf.Tensor]:
        # orders: (seed, row) -> this epoch's inputs as (row, seed, feature)
        x = tf.transpose(tf.gather(self.train_x, orders), [1, 0, 2])
        y = tf.transpose(tf.gather(self.train_y, orders), [1, 0, 2])
        n, size = self.train_x.shape[0], self.batch_size

        def next_batch(start, loss_sum, correct):
            stop = tf.minimum(start + size, n)  # fit's last batch is smaller
            batch_loss, batch_correct = self._step(x[start:stop], y[start:stop])
            rows = tf.cast(stop - start, tf.float32)
            return stop, loss_sum + batch_loss * rows, correct + batch_correct

        zeros = tf.zeros([self.n_seeds])
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

    def _scores(self) -> dict[str, tf.Tensor]:
        train_loss, train_accuracy = self._evaluate(self.train_x, self.train_y)
        test_loss, test_accuracy = self._evaluate(self.test_x, self.test_y)
        return {
            "train_accuracy": train_accuracy,
            "train_loss": train_loss,
            "test_accuracy": test_accuracy,
            "test_loss": test_loss,
        }

    def scores(self) -> dict[str, np.ndarray]:
        """Final train and test loss and accuracy per seed, in inference mode.

        Run eagerly: two forward passes cost less than compiling a graph for them.
        """
        return {name: value.numpy() for name, value in self._scores().items()}


def _tensors(data: Dataset) -> tuple[tf.Tensor, tf.Tensor]:
    return (
        tf.constant(data.features, tf.float32),
        tf.constant(data.labels.reshape(-1, 1), tf.float32),
    )


def use_one_thread() -> None:
    """Run TensorFlow's ops on one thread (before it runs any op): the model's ops
    are tiny, splitting them over two cores costs more than it saves, and it
    leaves the second core to the stage's MLflow worker."""
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def train_epochs(
    fit_epoch: Callable[[np.ndarray], dict[str, np.ndarray]],
    seeds: Sequence[int],
    epochs: int,
    n_rows: int,
    on_epoch: Callable[[int, dict[str, np.ndarray]], None] | None,
) -> dict[int, dict[str, list[float]]]:
    """``fit``'s epoch loop for every seed at once: each epoch, each seed's rows in
    its ``batch_order`` into ``fit_epoch`` (metric -> per-seed values), heard by
    ``on_epoch``; stops between epochs on Ctrl-C/SIGTERM. Returns each seed's
    history (metric -> per-epoch values)."""
    curves: dict[str, list[np.ndarray]] = {metric: [] for metric in METRICS}
    with interrupt.deferred():
        for epoch in range(1, epochs + 1):
            orders = np.stack([batch_order(seed, epoch, n_rows) for seed in seeds])
            measured = fit_epoch(orders.astype(np.int32))
            for name, values in measured.items():
                curves[name].append(values)
            if on_epoch:
                on_epoch(epoch, measured)
            interrupt.check()
    return {
        seed: {metric: [float(v[i]) for v in curves[metric]] for metric in METRICS}
        for i, seed in enumerate(seeds)
    }


def per_seed(values: dict[str, np.ndarray], seeds: Sequence[int]) -> dict[int, dict[str, float]]:
    """name -> per-seed values, as seed -> name -> value."""
    return {seed: {name: float(v[i]) for name, v in values.items()} for i, seed in enumerate(seeds)}


def fit_variant(
    config: VariantConfig,
    train: Dataset,
    test: Dataset,
    on_epoch: Callable[[int, dict[str, np.ndarray]], None] | None = None,
    seeds: Sequence[int] | None = None,
) -> Fitted:
    """Train every seed of ``config``'s variant (or ``seeds``); stops between epochs
    on Ctrl-C/SIGTERM.

    ``on_epoch(epoch, metric -> per-seed values)`` hears of every epoch as it ends.
    """
    tf.config.experimental.enable_op_determinism()  # same params -> same bytes
    seeds = list(config.train.seed_list() if seeds is None else seeds)
    shared = build_model(config.placement, config.model, config.bn)
    compile_model(shared, config.train)
    shared.optimizer.build(shared.trainable_variables)
    stacked = build_seed_axis_model(config.placement, config.model, config.bn, len(seeds))
    stack_weights(stacked, [initial_weights(config, shared, seed) for seed in seeds])
    trainer = SeedAxisTrainer(stacked, config, train, test)
    histories = train_epochs(trainer.fit_epoch, seeds, config.train.epochs, len(train), on_epoch)
    weights = unstack(stacked.get_weights(), [w.shape for w in shared.get_weights()], len(seeds))
    momentums = unstack(
        trainer.optimizer.momentums, [m.shape for m in shared.optimizer.momentums], len(seeds)
    )
    scores = per_seed(trainer.scores(), seeds)
    iterations = int(trainer.optimizer.iterations.numpy())
    return Fitted(seeds, weights, momentums, iterations, histories, scores, shared)
