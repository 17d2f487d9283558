"""Protects the fast trainer: each seed trains as the tutorial's fit would.

The fast trainer is the tutorial's procedure, seed by seed.

Given the same initial weights and the same batch order, training all seeds
at once as one seed-axis model ends with the same weights, optimizer state,
history and final scores as ``Sequential.fit`` on each seed alone, for every
BatchNormalization placement. Tolerance: 1e-5 absolute (float32; measured
differences are below 1e-6 after 100 epochs). And over 20 seeds, its mean
test accuracy agrees with ``fit``'s own shuffling within three standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from bnlab.model.mlp import build_model
from bnlab.params import parse_params, variant_config
from bnlab.seed_axis.trainer import batch_order, fit_variant, initial_weights
from bnlab.stages.generate import generate
from bnlab.stages.split import split
from tests.tutorial_fit import fit_in_order, fit_shuffled, initial_model, max_difference

TOLERANCE = 1e-5
NON_DEFAULT_BN = {"momentum": 0.5, "epsilon": 0.01, "center": False, "scale": False}
EVERY_PLACEMENT = [  # (variant, params overrides)
    ("baseline", {}),
    ("bn_after", {}),
    ("bn_before", {}),
    ("bn_input", {}),
    ("bn_after", {"bn": NON_DEFAULT_BN}),
]


def _setup(params_dict: dict, variant: str, epochs: int, seeds: int, **overrides):
    params_dict["train"].update(epochs=epochs, seeds=seeds)
    for section, values in overrides.items():
        params_dict[section].update(values)
    if variant not in params_dict["variants"]:
        params_dict["variants"].append(variant)
    params = parse_params(params_dict)
    train, test = split(generate(params.data), params.split.n_train)
    return variant_config(params, variant), train, test


@pytest.mark.parametrize(
    ("variant", "overrides"),
    [*EVERY_PLACEMENT, ("bn_before", {"train": {"batch_size": 25}})],  # no smaller last batch
)
def test_same_weights_and_history_as_fit_on_each_seed(default_params_dict, variant, overrides):
    config, train, test = _setup(default_params_dict, variant, epochs=12, seeds=2, **overrides)
    seeds = config.train.seed_list()
    fitted = fit_variant(config, train, test)
    for seed in seeds:
        model, history = fit_in_order(config, seed, train, test, batch_order)
        fast = fitted.load_seed(seed)
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
        test_loss, test_accuracy = model.evaluate(test.features, test.labels, verbose=0)
        train_loss, train_accuracy = model.evaluate(train.features, train.labels, verbose=0)
        expected = [train_accuracy, train_loss, test_accuracy, test_loss]
        scores = fitted.scores[seed]
        actual = [scores[k] for k in ("train_accuracy", "train_loss", "test_accuracy", "test_loss")]
        assert max_difference([expected], [actual]) < TOLERANCE


@pytest.mark.parametrize(("variant", "overrides"), EVERY_PLACEMENT)
def test_seeds_start_from_the_weights_their_own_model_is_built_with(
    default_params_dict, variant, overrides
):
    config, _, _ = _setup(default_params_dict, variant, epochs=1, seeds=1, **overrides)
    other = build_model(config.placement, config.model, config.bn)
    for seed in (0, 1, 7):
        expected = initial_model(config, seed).get_weights()
        actual = initial_weights(config, other, seed)
        assert [w.shape for w in actual] == [w.shape for w in expected]
        for a, b in zip(actual, expected, strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(initial_weights(config, other, 0)[-2], expected[-2])


def test_seeds_do_not_share_anything(default_params_dict):
    """Seed 1 trains the same alone as beside seed 0: no weight or statistic leaks."""
    config, train, test = _setup(default_params_dict, "bn_after", epochs=5, seeds=2)
    together = fit_variant(config, train, test, seeds=[0, 1])
    alone = fit_variant(config, train, test, seeds=[1])
    assert max_difference(together.load_seed(1).get_weights(), alone.load_seed(1).get_weights()) < (
        TOLERANCE
    )
    for metric, values in alone.histories[1].items():
        assert max_difference([values], [together.histories[1][metric]]) < TOLERANCE


def test_each_seed_gets_its_own_batch_order_every_epoch():
    first, second = batch_order(0, 1, 500), batch_order(0, 2, 500)
    assert sorted(first) == list(range(500))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, batch_order(1, 1, 500))
    np.testing.assert_array_equal(first, batch_order(0, 1, 500))


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["baseline", "bn_after", "bn_before"])
def test_mean_test_accuracy_agrees_with_fit_over_20_seeds(default_params_dict, variant):
    # 30 epochs: past the climb to 80% (16-25 epochs), a third of the time of 100.
    config, train, test = _setup(default_params_dict, variant, epochs=30, seeds=20)
    seeds = config.train.seed_list()
    fast = np.array(
        [s["test_accuracy"] for s in fit_variant(config, train, test, seeds=seeds).scores.values()]
    )
    reference = np.array([fit_shuffled(config, seed, train, test) for seed in seeds])
    standard_error = np.sqrt(fast.var(ddof=1) / len(fast) + reference.var(ddof=1) / len(reference))
    difference = abs(fast.mean() - reference.mean())
    assert difference < 3 * standard_error, (
        f"fast {fast.mean():.4f} vs fit {reference.mean():.4f}, s.e. {standard_error:.4f}"
    )
