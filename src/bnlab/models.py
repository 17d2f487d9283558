"""Build the tutorial's MLP with BatchNormalization at a given placement.

One builder serves every variant: the placement is data, not a copy of the
model code.
"""

from __future__ import annotations

import keras
from keras import layers

from bnlab.params import BNParams, ModelParams, Placement, TrainParams

N_FEATURES = 2


def build_model(placement: Placement, model: ModelParams, bn: BNParams | None) -> keras.Sequential:
    """The tutorial's 2-50-1 MLP; placement says where BatchNormalization goes.

    none:   Dense(relu) -> Dense(sigmoid)
    after:  Dense(relu) -> BN -> Dense(sigmoid)          (tutorial's first BN model)
    before: Dense(linear) -> BN -> ReLU -> Dense(sigmoid) (tutorial's second)
    input:  BN -> Dense(relu) -> Dense(sigmoid)          (tutorial's extension)
    """
    if placement != "none" and bn is None:
        raise ValueError(f"placement {placement!r} needs BN settings")

    def batch_norm() -> layers.BatchNormalization:
        return layers.BatchNormalization(
            momentum=bn.momentum, epsilon=bn.epsilon, center=bn.center, scale=bn.scale
        )

    hidden_activation = None if placement == "before" else "relu"
    stack: list[layers.Layer] = [keras.Input(shape=(N_FEATURES,))]
    if placement == "input":
        stack.append(batch_norm())
    stack.append(
        layers.Dense(
            model.hidden_units, activation=hidden_activation, kernel_initializer="he_uniform"
        )
    )
    if placement == "before":
        stack += [batch_norm(), layers.Activation("relu")]
    if placement == "after":
        stack.append(batch_norm())
    stack.append(layers.Dense(1, activation="sigmoid"))
    return keras.Sequential(stack)


def compile_model(model: keras.Model, train: TrainParams, steps_per_execution: int = 1) -> None:
    """The tutorial's loss, optimizer and metric."""
    model.compile(
        loss="binary_crossentropy",
        optimizer=keras.optimizers.SGD(learning_rate=train.learning_rate, momentum=train.momentum),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
