"""The tutorial's network: an MLP with BatchNormalization at a given placement.

One layer plan per placement serves every variant (the placement is data, not
a copy of the model code). ``build_model`` turns it into the tutorial's
``keras.Sequential`` for one seed, which is what every seed is saved as;
``bnlab.seed_axis.model`` builds the same plan with a seed axis.
"""

from __future__ import annotations

import keras
from keras import layers

from bnlab.params import BNParams, ModelParams, Placement, TrainParams

N_FEATURES = 2


def layer_plan(placement: Placement) -> list[str]:
    """The tutorial's 2-50-1 MLP; placement says where BatchNormalization goes.

    none:   Dense(relu) -> Dense(sigmoid)
    after:  Dense(relu) -> BN -> Dense(sigmoid)          (tutorial's first BN model)
    before: Dense(linear) -> BN -> ReLU -> Dense(sigmoid) (tutorial's second)
    input:  BN -> Dense(relu) -> Dense(sigmoid)          (tutorial's extension)
    """
    hidden = "hidden_linear" if placement == "before" else "hidden_relu"
    plan = {
        "none": [hidden],
        "after": [hidden, "bn"],
        "before": [hidden, "bn", "relu"],
        "input": ["bn", hidden],
    }[placement]
    return [*plan, "output"]


def describe_plan(placement: Placement, units: int) -> str:
    """The layers in words: 'Dense(50, relu) -> BatchNormalization -> Dense(1, sigmoid)'."""
    words = {
        "hidden_relu": f"Dense({units}, relu)",
        "hidden_linear": f"Dense({units})",
        "bn": "BatchNormalization",
        "relu": "ReLU",
        "output": "Dense(1, sigmoid)",
    }
    return " -> ".join(words[layer] for layer in layer_plan(placement))


def check_bn(placement: Placement, bn: BNParams | None) -> None:
    if placement != "none" and bn is None:
        raise ValueError(f"placement {placement!r} needs BN settings")


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
            stack.append(layers.Dense(1, activation="sigmoid", name=step))
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
