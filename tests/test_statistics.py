"""Protects the statistics: Welch, Mann-Whitney, intervals, never-reached seeds."""

from __future__ import annotations

import numpy as np
import pytest

from bnlab.analysis import VariantSummary, compare, mann_whitney, mean_interval, quartiles, welch


def test_identical_samples_differ_by_zero_with_p_one():
    sample = np.array([0.84, 0.85, 0.83, 0.86])
    difference, p = welch(sample, sample.copy())
    assert (difference.estimate, difference.low, difference.high, p) == (0.0, 0.0, 0.0, 1.0)
    assert mann_whitney(np.array([10.0, 12, 15]), np.array([15.0, 10, 12])) == 1.0


def test_clearly_separated_samples_give_small_p():
    rng = np.random.default_rng(0)
    low, high = rng.normal(0.80, 0.005, 10), rng.normal(0.85, 0.005, 10)
    difference, p = welch(high, low)
    assert p < 1e-6
    assert 0.04 < difference.low < difference.estimate < difference.high < 0.06
    assert mann_whitney(np.arange(10.0, 20), np.arange(30.0, 40)) < 0.001


def test_mean_interval_matches_the_t_formula():
    values = np.array([0.8, 0.9, 1.0])
    interval = mean_interval(values)
    half = 4.302652729911275 * 0.1 / np.sqrt(3)  # t(0.975, 2) * s / sqrt(n)
    assert interval.estimate == pytest.approx(0.9)
    assert (interval.low, interval.high) == pytest.approx((0.9 - half, 0.9 + half))
    single = mean_interval(np.array([0.7]))
    assert (single.low, single.high) == (0.7, 0.7)


def test_seeds_that_never_reach_the_threshold_rank_slowest():
    never = np.inf
    assert quartiles(np.array([10.0, 20, never])).estimate == 20
    assert np.isinf(quartiles(np.array([10.0, never, never])).estimate)
    slow = np.array([never, never, never, never, 50])
    fast = np.array([10.0, 11, 12, 13, 14])
    assert mann_whitney(fast, slow) < 0.05
    # a median of "never" has no shift in epochs; the rank test still speaks
    comparison = compare(_summary([0.8, 0.81], fast), _summary([0.8, 0.82], slow))
    assert np.isnan(comparison.epochs_shift)
    assert comparison.mann_whitney_p < 0.05
    assert compare(_summary([0.8], fast), _summary([0.8], fast + 5)).epochs_shift == -5


def _summary(test_accuracy: list[float], epochs: np.ndarray) -> VariantSummary:
    """A variant's summary with only what a comparison reads."""
    scores = {"test_accuracy": np.array(test_accuracy)}
    return VariantSummary("v", tuple(range(len(epochs))), scores, epochs, history=None)
