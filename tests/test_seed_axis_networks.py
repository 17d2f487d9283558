"""Protects the CNN's and LSTM's fast trainer: each seed as its own fit.

The CNN's and the LSTM's seeds, trained together, are each the tutorial's ``fit``.

``seed_axis.copies`` trains one model per seed in one compiled function. Given
the same batch order, every seed ends with the weights, SGD state, history and
final scores of ``Sequential.fit`` on that seed alone, for every placement of
both networks (tolerance as for the MLP's seed axis, ``test_seed_axis``).
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pytest

from bnlab.files.digits import Images
from bnlab.model.network_plans import INPUT_SHAPES
from bnlab.model.saved import model_path, save_model
from bnlab.params import DIGITS_VARIANTS, network_config, parse_params
from bnlab.seed_axis.copies import fit_copies, initial_model, save_copies
from bnlab.seed_axis.trainer import batch_order
from bnlab.stages.digits import load_digits
from tests.tutorial_fit import max_difference

TOLERANCE = 1e-5
EVERY_PLACEMENT = [
    *(
        (network, variant, {})
        for network, variants in DIGITS_VARIANTS.items()
        for variant in variants
    ),
    (
        "cnn",
        "bn_after",
        {"bn": {"momentum": 0.5, "epsilon": 0.01, "center": False, "scale": False}},
    ),
    ("lstm", "bn_after", {"train": {"batch_size": 25}}),  # no smaller last batch
]


@cache
def _digits() -> tuple[Images, Images]:
    """A small share of the digits: the check is of the arithmetic, not of learning."""
    images = load_digits()
    return images.rows(0, 230), images.rows(230, 330)


def _config(params_dict: dict, network: str, variant: str, overrides: dict):
    changed = copy.deepcopy(params_dict)
    changed["networks"][network]["epochs"] = 3
    changed["train"]["seeds"] = 2
    for section, values in overrides.items():
        changed[section].update(values)
    return network_config(parse_params(changed), f"{network}_{variant}")


def _fit_in_order(config, seed: int, train: Images, test: Images):
    """The tutorial's script for one seed: ``fit`` an epoch at a time, rows in the
    seed's order, unshuffled, the test set as validation data."""
    shape = INPUT_SHAPES[config.network]
    model = initial_model(config, seed)
    history: dict[str, list[float]] = {}
    for epoch in range(1, config.train.epochs + 1):
        rows = batch_order(seed, epoch, len(train))
        fitted = model.fit(
            train.pixels[rows].reshape(-1, *shape),
            train.labels[rows],
            batch_size=config.train.batch_size,
            epochs=1,
            shuffle=False,
            validation_data=(test.pixels.reshape(-1, *shape), test.labels),
            verbose=0,
        )
        for name, values in fitted.history.items():
            history.setdefault(name, []).extend(values)
    return model, history


@pytest.mark.parametrize(("network", "variant", "overrides"), EVERY_PLACEMENT)
def test_each_seed_is_fit_on_that_seed_alone(default_params_dict, network, variant, overrides):
    config = _config(default_params_dict, network, variant, overrides)
    train, test = _digits()
    fitted = fit_copies(config, train, test)
    shape = INPUT_SHAPES[network]
    for index, seed in enumerate(config.train.seed_list()):
        model, history = _fit_in_order(config, seed, train, test)
        fast = fitted.models[index]
        assert max_difference(model.get_weights(), fast.get_weights()) < TOLERANCE
        assert (
            max_difference(
                [v.numpy() for v in model.optimizer.variables],
                [v.numpy() for v in fast.optimizer.variables],
            )
            < TOLERANCE
        )
        for metric, values in history.items():
            assert max_difference([values], [fitted.histories[seed][metric]]) < TOLERANCE, metric
        test_loss, test_accuracy = model.evaluate(
            test.pixels.reshape(-1, *shape), test.labels, verbose=0
        )
        train_loss, train_accuracy = model.evaluate(
            train.pixels.reshape(-1, *shape), train.labels, verbose=0
        )
        expected = [train_accuracy, train_loss, test_accuracy, test_loss]
        scores = fitted.scores[seed]
        actual = [scores[k] for k in ("train_accuracy", "train_loss", "test_accuracy", "test_loss")]
        assert max_difference([expected], [actual]) < TOLERANCE


def test_seeds_do_not_share_anything(default_params_dict):
    config = _config(default_params_dict, "cnn", "bn_after", {})
    train, test = _digits()
    together = fit_copies(config, train, test, seeds=[0, 1])
    alone = fit_copies(config, train, test, seeds=[1])
    assert max_difference(together.models[1].get_weights(), alone.models[0].get_weights()) < (
        TOLERANCE
    )
    assert not np.allclose(together.models[0].get_weights()[0], alone.models[0].get_weights()[0])


@pytest.mark.parametrize("network", ["cnn", "lstm"])
def test_every_seeds_file_is_the_bytes_keras_own_save_gives(default_params_dict, network, tmp_path):
    """The seeds after the first are written into the first's archive (an LSTM's
    cell is a layer inside a layer): each is still what Keras' save gives."""
    train, test = _digits()
    config = _config(default_params_dict, network, "bn_after", {"train": {"seeds": 3}})
    fitted = fit_copies(config, train, test)
    save_copies(fitted, tmp_path / "all")
    for seed, model in zip(fitted.seeds, fitted.models, strict=True):
        save_model(model, tmp_path / "alone.keras")
        saved = model_path(tmp_path / "all", seed).read_bytes()
        assert saved == (tmp_path / "alone.keras").read_bytes(), seed
