"""The tutorial's CNN and LSTM as Keras models: ``model.network_plans`` says
which layers, this builds them.

The ReLU convolutions start from ``he_uniform``, the tutorial's initializer
for its ReLU layers; the LSTM and the output keep Keras' defaults, as the
tutorial's output does. Sparse categorical cross-entropy, for labels 0-9.
"""

from __future__ import annotations

import keras
from keras import layers

from bnlab.files.digits import CLASSES, MAX_PIXEL
from bnlab.model.mlp import batch_norm, optimizer
from bnlab.model.network_plans import INPUT_SHAPES, layer_plan
from bnlab.model.plan import check_bn
from bnlab.params import NetworkConfig, TrainParams


def _layer(step: str, config: NetworkConfig) -> layers.Layer:
    # Each layer is named after its step, not by Keras' per-process counter: a
    # saved model's bytes must not depend on what else the process built first.
    if step == "bn":
        return batch_norm(config.bn, name=step)
    if step.startswith("conv"):
        activation = None if step.endswith("linear") else "relu"
        return layers.Conv2D(
            config.units, (3, 3), activation=activation, kernel_initializer="he_uniform", name=step
        )
    factories = {
        "scale": lambda: layers.Rescaling(1 / MAX_PIXEL, name=step),
        "lstm": lambda: layers.LSTM(config.units, name=step),
        "relu": lambda: layers.Activation("relu", name=step),
        "pool": lambda: layers.MaxPooling2D(name=step),
        "flatten": lambda: layers.Flatten(name=step),
        "output": lambda: layers.Dense(CLASSES, activation="softmax", name=step),
    }
    return factories[step]()


def build_network(config: NetworkConfig) -> keras.Sequential:
    """One seed's model, as the tutorial would build it (after its seed is set)."""
    check_bn(config.placement, config.bn)
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPES[config.network], name="pixels"),
            *(_layer(step, config) for step in layer_plan(config.network, config.placement)),
        ],
        name=f"{config.network}_bn_{config.placement}",
    )


def compile_network(model: keras.Model, train: TrainParams) -> None:
    """The tutorial's SGD and metric, with the loss for integer class labels."""
    model.compile(
        loss="sparse_categorical_crossentropy", optimizer=optimizer(train), metrics=["accuracy"]
    )
