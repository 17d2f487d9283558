from __future__ import annotations

import keras
import numpy as np
import pytest

from bnlab.dataset import DataError
from bnlab.evaluate import load_model
from bnlab.generate import generate
from bnlab.params import parse_params, variant_config
from bnlab.split import split
from bnlab.train import model_path, train_variant


@pytest.fixture
def tiny(tiny_params_dict):
    params = parse_params(tiny_params_dict)
    train, test = split(generate(params.data), params.split.n_train)
    return params, train, test


def test_same_seed_same_history_and_weights(tiny, tmp_path):
    params, train, test = tiny
    config = variant_config(params, "bn_after")
    first = train_variant(config, train, test, tmp_path / "a")
    second = train_variant(config, train, test, tmp_path / "b")
    assert first == second
    assert first[0] != first[1], "different seeds should train differently"
    for a, b in zip(
        load_model(model_path(tmp_path / "a", 0)).get_weights(),
        load_model(model_path(tmp_path / "b", 0)).get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_history_has_one_value_per_epoch_and_saved_models_load(tiny, tmp_path):
    params, train, test = tiny
    histories = train_variant(variant_config(params, "bn_before"), train, test, tmp_path)
    assert sorted(histories) == [0, 1]
    for history in histories.values():
        assert set(history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
        assert all(len(values) == params.train.epochs for values in history.values())
        assert all(0 <= a <= 1 for a in history["val_accuracy"])
    model = keras.models.load_model(model_path(tmp_path, 1), safe_mode=True)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    path = tmp_path / "seed_000.keras"
    path.write_text("not a zip")
    with pytest.raises(DataError, match="not a loadable Keras model"):
        load_model(path)
