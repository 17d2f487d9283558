"""The tutorial's network, an MLP with BatchNormalization at a given placement, as data.

One layer plan per placement serves every variant (the placement is data, not
a copy of the model code). ``model.mlp`` builds it as the tutorial's
``keras.Sequential`` for one seed, which is what every seed is saved as;
``bnlab.seed_axis.model`` builds the same plan with a seed axis. The report
and publish read the plans (no Keras here).
"""

from __future__ import annotations

from bnlab.params import BNParams, Placement

N_FEATURES = 2
N_OUTPUTS = 1  # the probability of class 1


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
        "output": f"Dense({N_OUTPUTS}, sigmoid)",
    }
    return " -> ".join(words[layer] for layer in layer_plan(placement))


def check_bn(placement: Placement, bn: BNParams | None) -> None:
    if placement != "none" and bn is None:
        raise ValueError(f"placement {placement!r} needs BN settings")
