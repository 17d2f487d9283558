"""Build the tutorial's MLP with BatchNormalization at a given placement.

One layer plan per placement serves every variant (the placement is data, not
a copy of the model code), and two builders read it:

- ``build_model``: the tutorial's ``keras.Sequential`` for one seed; this is
  what every seed is saved as.
- ``build_seed_axis_model``: the same plan with a seed axis, so that many
  seeds train as one Keras model. Input ``(batch, seed, 2)``, output
  ``(batch, seed, 1)``. Each Dense becomes an ``EinsumDense`` holding one
  kernel per seed; each BatchNormalization normalizes ``seed x unit``
  features over the batch axis only, so every seed keeps its own batch
  statistics, moving averages, gamma and beta. Seeds share no weight and no
  statistic; their losses are summed, so each seed's gradient is exactly the
  gradient of its own loss.

``stack_weights`` / ``unstack`` move weights and optimizer slots between the two;
``fresh_weights`` initialises a seed without building its model.
"""

from __future__ import annotations

import keras
import numpy as np
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


def _check(placement: Placement, bn: BNParams | None) -> None:
    if placement != "none" and bn is None:
        raise ValueError(f"placement {placement!r} needs BN settings")


def _batch_norm(bn: BNParams, name: str | None = None) -> layers.BatchNormalization:
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
    _check(placement, bn)
    stack: list[layers.Layer] = []
    for step in layer_plan(placement):
        if step == "bn":
            stack.append(_batch_norm(bn, name=step))
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


def fresh_weights(
    built: keras.Sequential, placement: Placement, model: ModelParams, bn: BNParams | None
) -> list[np.ndarray]:
    """The weights a new ``build_model`` would start with, without building one.

    Keras draws a layer's initializer seeds when the layer is constructed, and
    an initializer gives the same values every time it is called. So new,
    unbuilt layers of the plan, called variable by variable (``kernel`` ->
    ``kernel_initializer``, ...) on the shapes of ``built``, a model of the
    same plan, give exactly the weights building them would, in
    ``get_weights`` order, at a third of the cost of creating the variables.
    """
    values = []
    for layer, built_layer in zip(plan_layers(placement, model, bn), built.layers, strict=True):
        for variable in built_layer.weights:
            initializer = getattr(layer, f"{variable.name}_initializer")
            values.append(np.asarray(initializer(variable.shape, variable.dtype)))
    return values


def build_seed_axis_model(
    placement: Placement, model: ModelParams, bn: BNParams | None, n_seeds: int
) -> keras.Sequential:
    """``n_seeds`` independent copies of ``build_model``'s model as one Keras model.

    Its weights are meant to be set with ``stack_weights`` from per-seed
    weights initialised as ``build_model`` initialises them.
    """
    _check(placement, bn)

    def dense(units: int, activation: str | None) -> layers.EinsumDense:
        return layers.EinsumDense(
            "bsi,sij->bsj", output_shape=(n_seeds, units), bias_axes="sj", activation=activation
        )

    def batch_norm(width: int) -> list[layers.Layer]:
        # Keras' BatchNormalization takes one feature axis: flatten seed x unit
        # into it, so the moments are taken over the batch axis only.
        return [
            layers.Reshape((n_seeds * width,)),
            _batch_norm(bn),
            layers.Reshape((n_seeds, width)),
        ]

    stack: list[layers.Layer] = [keras.Input(shape=(n_seeds, N_FEATURES))]
    width = N_FEATURES
    for step in layer_plan(placement):
        if step == "bn":
            stack += batch_norm(width)
        elif step == "relu":
            stack.append(layers.Activation("relu"))
        elif step.startswith("hidden"):
            stack.append(dense(model.hidden_units, "relu" if step == "hidden_relu" else None))
            width = model.hidden_units
        else:
            stack.append(dense(1, "sigmoid"))
    return keras.Sequential(stack)


def stack_weights(seed_axis_model: keras.Model, per_seed: list[list[np.ndarray]]) -> None:
    """Set the seed-axis model's weights: seed s's copy is ``per_seed[s]``, in
    ``get_weights`` order."""
    targets = seed_axis_model.get_weights()
    seed_axis_model.set_weights(
        [
            np.stack([weights[i] for weights in per_seed]).reshape(target.shape)
            for i, target in enumerate(targets)
        ]
    )


def unstack(stacked: list, shapes: list[tuple[int, ...]], n_seeds: int) -> list[list[np.ndarray]]:
    """Per seed, its copy of each stacked seed-axis variable, in the one-seed model's shapes."""
    copies = [
        np.asarray(value).reshape(n_seeds, *shape)
        for value, shape in zip(stacked, shapes, strict=True)
    ]
    return [[copy[seed_index] for copy in copies] for seed_index in range(n_seeds)]


def set_state(
    model: keras.Model, weights: list[np.ndarray], momentums: list[np.ndarray], iterations: int
) -> None:
    """Give a compiled one-seed model its weights and its SGD state (the step count
    and the momentum slots), so that it is the model ``fit`` would have left."""
    model.set_weights(weights)
    model.optimizer.iterations.assign(iterations)
    for variable, value in zip(model.optimizer.momentums, momentums, strict=True):
        variable.assign(value)


def compile_model(model: keras.Model, train: TrainParams, steps_per_execution: int = 1) -> None:
    """The tutorial's loss, optimizer and metric."""
    model.compile(
        loss="binary_crossentropy",
        optimizer=optimizer(train),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )


def optimizer(train: TrainParams) -> keras.optimizers.SGD:
    """The tutorial's SGD with momentum."""
    return keras.optimizers.SGD(
        learning_rate=train.learning_rate, momentum=train.momentum, name="sgd"
    )
