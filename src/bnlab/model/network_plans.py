"""The tutorial's CNN and LSTM fragments, completed into digits classifiers, as data.

The tutorial shows where BatchNormalization goes in a CNN (after the second
``Conv2D(32, (3,3), relu)``, before ``MaxPooling2D``) and in an LSTM (after
``LSTM(32)``, before the output) but trains neither. Here each network has a
plan per placement, as ``model.plan.layer_plan`` is for the MLP, with what
the fragments leave out filled in for 10 digits: ``Flatten`` before the
output, and ``Dense(10, softmax)``. Every model starts by scaling raw pixels
(0-16) itself, so its file answers for raw images with nothing else.
``model.networks`` builds the layers; the report reads the plans (no Keras
here).
"""

from __future__ import annotations

from bnlab.files.digits import CLASSES, MAX_PIXEL, SIDE
from bnlab.params import Placement

# The LSTM has no "before": its activations (tanh, and the gates' sigmoids)
# are inside the cell, at every time step; BN before them would be recurrent
# batch normalization, a different cell, not a layer placed in this model.
PLANS: dict[str, dict[Placement, list[str]]] = {
    "cnn": {
        "none": ["conv_relu", "conv2_relu", "pool", "flatten"],
        "after": ["conv_relu", "conv2_relu", "bn", "pool", "flatten"],
        "before": ["conv_relu", "conv2_linear", "bn", "relu", "pool", "flatten"],
    },
    "lstm": {
        "none": ["lstm"],
        "after": ["lstm", "bn"],
    },
}
INPUT_SHAPES = {"cnn": (SIDE, SIDE, 1), "lstm": (SIDE, SIDE)}  # image; rows as time steps


def layer_plan(network: str, placement: Placement) -> list[str]:
    return ["scale", *PLANS[network][placement], "output"]


def describe_plan(network: str, placement: Placement, units: int) -> str:
    """The layers in words: 'Conv2D(32, 3x3, relu) -> ... -> Dense(10, softmax)'."""
    words = {
        "scale": f"Rescaling(1/{MAX_PIXEL})",
        "conv_relu": f"Conv2D({units}, 3x3, relu)",
        "conv2_relu": f"Conv2D({units}, 3x3, relu)",
        "conv2_linear": f"Conv2D({units}, 3x3)",
        "lstm": f"LSTM({units})",
        "bn": "BatchNormalization",
        "relu": "ReLU",
        "pool": "MaxPooling2D",
        "flatten": "Flatten",
        "output": f"Dense({CLASSES}, softmax)",
    }
    return " -> ".join(words[step] for step in layer_plan(network, placement))
