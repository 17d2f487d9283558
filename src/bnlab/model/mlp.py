"""The tutorial's MLP as a Keras model: ``model.plan`` says which layers, this builds them."""

from __future__ import annotations

import keras
from keras import layers

from bnlab.model.plan import N_FEATURES, N_OUTPUTS, check_bn, layer_plan
from bnlab.params import BNParams, ModelParams, Placement, TrainParams


def batch_norm(bn: BNParams, name: str | None = None) -> layers.BatchNormalization:
    return layers.BatchNormalization(
        momentum=bn.momentum, epsilon=bn.epsilon, center=bn.center, scale=bn.scale, name=name
    )


def plan_layers(
    placement: Placement, model: ModelParams, bn: BNParams | None
) -> list[layers.Layer]:
    """The layers of ``layer_plan``, new and not yet built, in the model's order.

    Each is named after its step, not by Keras' per-process counter, so a saved
    model's bytes do not depend on what else the process built before it.
    """
    check_bn(placement, bn)
    stack: list[layers.Layer] = []
    for step in layer_plan(placement):
        if step == "bn":
            stack.append(batch_norm(bn, name=step))
        elif step == "relu":
            stack.append(layers.Activation("relu", name=step))
        elif step.startswith("hidden"):
            activation = "relu" if step == "hidden_relu" else None
            stack.append(
                layers.Dense(
                    model.hidden_units,
                    activation=activation,
                    kernel_initializer="he_uniform",
                    name=step,
                )
            )
        else:
            stack.append(layers.Dense(N_OUTPUTS, activation="sigmoid", name=step))
    return stack


def build_model(placement: Placement, model: ModelParams, bn: BNParams | None) -> keras.Sequential:
    """The tutorial's model for one seed (``layer_plan`` says which layers)."""
    return keras.Sequential(
        [keras.Input(shape=(N_FEATURES,), name="features"), *plan_layers(placement, model, bn)],
        name=f"mlp_bn_{placement}",
    )


def compile_model(model: keras.Model, train: TrainParams) -> None:
    """The tutorial's loss, optimizer and metric."""
    model.compile(loss="binary_crossentropy", optimizer=optimizer(train), metrics=["accuracy"])


def optimizer(train: TrainParams) -> keras.optimizers.SGD:
    """The tutorial's SGD with momentum."""
    return keras.optimizers.SGD(
        learning_rate=train.learning_rate, momentum=train.momentum, name="sgd"
    )
