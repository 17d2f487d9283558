"""Protects training: same seed same bytes, the tutorial's saved models, boundaries."""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest

from bnlab.analysis import representative_seed
from bnlab.model.saved import SAVED_AT, model_path, save_model
from bnlab.params import parse_params, variant_config
from bnlab.seed_axis.fitted import decision_boundary, save_models
from bnlab.seed_axis.trainer import fit_variant
from bnlab.stages.generate import generate
from bnlab.stages.split import split


def train_variant(config, train, test, models_dir):
    """What the train stage does with a variant: fit every seed, save every model."""
    fitted = fit_variant(config, train, test)
    save_models(fitted, models_dir)
    return fitted


def load_model(path):
    return keras.models.load_model(path, safe_mode=True)


@pytest.fixture
def tiny(tiny_params_dict):
    params = parse_params(tiny_params_dict)
    train, test = split(generate(params.data), params.split.n_train)
    return params, train, test


def test_same_seed_same_history_scores_and_weights(tiny, tmp_path):
    params, train, test = tiny
    config = variant_config(params, "bn_after")
    first = train_variant(config, train, test, tmp_path / "a")
    second = train_variant(config, train, test, tmp_path / "b")
    assert first.histories == second.histories
    assert first.scores == second.scores
    assert first.histories[0] != first.histories[1], "different seeds should train differently"
    for seed in (0, 1):
        saved = [model_path(tmp_path / folder, seed).read_bytes() for folder in ("a", "b")]
        assert saved[0] == saved[1], "a model file carries no save time"


def test_a_saved_model_is_an_ordinary_keras_file_with_its_optimizer_state(tiny, tmp_path):
    params, train, test = tiny
    fitted = train_variant(variant_config(params, "bn_after"), train, test, tmp_path)
    with zipfile.ZipFile(model_path(tmp_path, 1)) as archive:
        assert {info.date_time for info in archive.infolist()} == {SAVED_AT}
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata["keras_version"] == keras.__version__
    model = keras.models.load_model(model_path(tmp_path, 1), safe_mode=True)
    assert int(model.optimizer.iterations.numpy()) == fitted.iterations > 0
    for loaded, trained in zip(model.optimizer.momentums, fitted.momentums[1], strict=True):
        np.testing.assert_array_equal(np.asarray(loaded), trained)


def test_every_seed_is_saved_as_the_tutorials_model_with_its_own_weights(tiny, tmp_path):
    params, train, test = tiny
    fitted = train_variant(variant_config(params, "bn_before"), train, test, tmp_path)
    assert sorted(fitted.histories) == [0, 1]
    for history in fitted.histories.values():
        assert set(history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
        assert all(len(values) == params.train.epochs for values in history.values())
        assert all(0 <= a <= 1 for a in history["val_accuracy"])
    for seed in (0, 1):
        model = load_model(model_path(tmp_path, seed))
        assert [type(layer).__name__ for layer in model.layers] == [
            "Dense",
            "BatchNormalization",
            "Activation",
            "Dense",
        ]
        assert model.input_shape == (None, 2)
        for saved, trained in zip(
            model.get_weights(), fitted.load_seed(seed).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(saved, trained)
        # the file's model.evaluate gives the scores train recorded for that seed
        loss, accuracy = model.evaluate(test.features, test.labels, verbose=0)
        assert accuracy == pytest.approx(fitted.scores[seed]["test_accuracy"], abs=1e-6)
        assert loss == pytest.approx(fitted.scores[seed]["test_loss"], abs=1e-5)


@pytest.mark.parametrize("variant", ["baseline", "bn_before"])
def test_every_seeds_file_is_the_bytes_keras_own_save_gives(tiny, tmp_path, variant):
    """The seeds after the first are written into the first's archive: each is
    still what saving its model with Keras gives."""
    params, train, test = tiny
    fitted = train_variant(variant_config(params, variant), train, test, tmp_path / "all")
    for seed in fitted.seeds:
        alone = tmp_path / f"alone_{seed}.keras"
        save_model(fitted.load_seed(seed), alone)
        assert model_path(tmp_path / "all", seed).read_bytes() == alone.read_bytes(), seed
    assert model_path(tmp_path / "all", 0).read_bytes() != alone.read_bytes()


def test_decision_boundary_is_the_median_seeds_saved_model_on_a_grid(tiny, tmp_path):
    params, train, test = tiny
    fitted = train_variant(variant_config(params, "baseline"), train, test, tmp_path)
    boundary = decision_boundary(fitted, train, test)
    assert boundary.seed == representative_seed(fitted.scores)
    assert boundary.xs.shape == boundary.ys.shape == boundary.probability.shape == (150, 150)
    saved = load_model(model_path(tmp_path, boundary.seed))
    corners = ((0, 0), (0, -1), (-1, 0), (-1, -1))
    points = np.array([[boundary.xs[i, j], boundary.ys[i, j]] for i, j in corners], "float32")
    expected = saved.predict(points, verbose=0).ravel()
    actual = [boundary.probability[i, j] for i, j in corners]
    assert actual == pytest.approx(expected.tolist(), abs=1e-6)
    assert 0 <= boundary.probability.min() <= boundary.probability.max() <= 1
