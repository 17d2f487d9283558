"""The tutorial's network with a seed axis: many seeds as one Keras model.

``build_seed_axis_model`` reads the same layer plan as ``model.mlp.build_model``.
Input ``(batch, seed, 2)``, output ``(batch, seed, 1)``. Each Dense becomes an
``EinsumDense`` holding one kernel per seed; each BatchNormalization
normalizes ``seed x unit`` features over the batch axis only, so every seed
keeps its own batch statistics, moving averages, gamma and beta. Seeds share
no weight and no statistic.

``stack_weights`` / ``unstack`` move weights and optimizer slots between the
one-seed models and this one; ``fresh_weights`` initialises a seed without
building its model; ``set_state`` gives a one-seed model a seed's state.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from bnlab.model.mlp import batch_norm, plan_layers
from bnlab.model.plan import N_FEATURES, check_bn, layer_plan
from bnlab.params import BNParams, ModelParams, Placement


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
    check_bn(placement, bn)

    def dense(units: int, activation: str | None) -> layers.EinsumDense:
        return layers.EinsumDense(
            "bsi,sij->bsj", output_shape=(n_seeds, units), bias_axes="sj", activation=activation
        )

    def per_seed_batch_norm(width: int) -> list[layers.Layer]:
        # Keras' BatchNormalization takes one feature axis: flatten seed x unit
        # into it, so the moments are taken over the batch axis only.
        return [
            layers.Reshape((n_seeds * width,)),
            batch_norm(bn),
            layers.Reshape((n_seeds, width)),
        ]

    stack: list[layers.Layer] = [keras.Input(shape=(n_seeds, N_FEATURES))]
    width = N_FEATURES
    for step in layer_plan(placement):
        if step == "bn":
            stack += per_seed_batch_norm(width)
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
