"""Protects the model builder: BN where the tutorial puts it, with its settings."""

from __future__ import annotations

import pytest

from bnlab.errors import OutputError
from bnlab.model.mlp import build_model
from bnlab.model.saved import save_model
from bnlab.params import BNParams, ModelParams
from tests.e2e import small_disk

MODEL = ModelParams(hidden_units=50)
BN = BNParams(momentum=0.99, epsilon=0.001, center=True, scale=True)


def _describe(model) -> list[str]:
    names = []
    for layer in model.layers:
        kind = type(layer).__name__
        activation = getattr(layer, "activation", None)
        if activation is not None:
            kind += f"({activation.__name__})"
        names.append(kind)
    return names


@pytest.mark.parametrize(
    ("placement", "layers"),
    [
        ("none", ["Dense(relu)", "Dense(sigmoid)"]),
        ("after", ["Dense(relu)", "BatchNormalization", "Dense(sigmoid)"]),
        ("before", ["Dense(linear)", "BatchNormalization", "Activation(relu)", "Dense(sigmoid)"]),
        ("input", ["BatchNormalization", "Dense(relu)", "Dense(sigmoid)"]),
    ],
)
def test_batch_norm_goes_where_the_tutorial_puts_it(placement, layers):
    model = build_model(placement, MODEL, None if placement == "none" else BN)
    assert _describe(model) == layers
    hidden = next(layer for layer in model.layers if type(layer).__name__ == "Dense")
    assert hidden.units == 50
    assert type(hidden.kernel_initializer).__name__ == "HeUniform"


def test_bn_settings_reach_the_layer():
    bn = BNParams(momentum=0.0, epsilon=0.01, center=False, scale=False)
    model = build_model("after", MODEL, bn)
    layer = model.layers[1]
    assert (layer.momentum, layer.epsilon, layer.center, layer.scale) == (0.0, 0.01, False, False)
    # without center and scale there is no beta or gamma to learn
    assert [w.name for w in layer.trainable_weights] == []


def test_bn_placement_needs_bn_settings():
    with pytest.raises(ValueError, match="needs BN settings"):
        build_model("after", MODEL, None)


def test_a_model_that_does_not_fit_on_the_disk_fails_in_one_line_naming_it(tmp_path):
    model = build_model("after", ModelParams(hidden_units=50), BN)
    with small_disk(tmp_path / "full", "4k"):
        path = tmp_path / "full" / "seed_000.keras"
        with pytest.raises(OutputError) as caught:
            save_model(model, path)
    assert str(caught.value) == (
        f"{path}: cannot be written (No space left on device); free some space, then rerun"
    )
