"""The reference: one seed trained as the tutorial's script trains it.

``keras.Sequential`` from ``model.mlp.build_model``, compiled with the
tutorial's loss, SGD and metric, and fitted with ``Sequential.fit``, the
test set as validation data. Used only by the tests that check the fast
seed-axis trainer against it.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from bnlab.files.dataset import Dataset
from bnlab.model.mlp import build_model, compile_model, optimizer
from bnlab.params import VariantConfig


def initial_model(config: VariantConfig, seed: int) -> keras.Sequential:
    """The tutorial's model for ``seed``, initialised as its script would be."""
    keras.utils.set_random_seed(seed)
    return build_model(config.placement, config.model, config.bn)


def fit_in_order(config: VariantConfig, seed: int, train: Dataset, test: Dataset, orders):
    """``fit`` one epoch at a time on the rows in ``orders(seed, epoch, n)``, unshuffled.

    The same batches as the seed-axis trainer sees; returns (model, history).
    """
    model = initial_model(config, seed)
    compile_model(model, config.train)
    history: dict[str, list[float]] = {}
    for epoch in range(1, config.train.epochs + 1):
        rows = orders(seed, epoch, len(train))
        fitted = model.fit(
            train.features[rows],
            train.labels[rows],
            batch_size=config.train.batch_size,
            epochs=1,
            shuffle=False,
            validation_data=(test.features, test.labels),
            verbose=0,
        )
        for name, values in fitted.history.items():
            history.setdefault(name, []).extend(values)
    return model, history


def fit_shuffled(config: VariantConfig, seed: int, train: Dataset, test: Dataset) -> float:
    """``fit`` for all epochs with its own per-epoch reshuffle; returns the final test accuracy.

    The data goes in as a cached ``tf.data`` pipeline and one epoch runs per
    graph call (``steps_per_execution``), which changes how fast Keras runs
    the steps, not which steps it runs: about 2 s a seed instead of 7-10.
    """
    model = initial_model(config, seed)
    steps = -(-len(train) // config.train.batch_size)
    model.compile(
        loss="binary_crossentropy",
        optimizer=optimizer(config.train),
        metrics=["accuracy"],
        steps_per_execution=steps,
    )
    pipeline = (
        tf.data.Dataset.from_tensor_slices(
            (train.features.astype("float32"), train.labels.astype("float32"))
        )
        .cache()
        .shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
        .batch(config.train.batch_size)
    )
    # shuffle=False: the pipeline reshuffles every epoch (fit would only warn it cannot)
    model.fit(pipeline, epochs=config.train.epochs, shuffle=False, verbose=0)
    _, accuracy = model.evaluate(test.features, test.labels, verbose=0)
    return float(accuracy)


def max_difference(first: list[np.ndarray], second: list[np.ndarray]) -> float:
    pairs = zip(first, second, strict=True)
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in pairs)
