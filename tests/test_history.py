"""Protects the histories: epochs to a threshold, round trips, never-reached seeds."""

from __future__ import annotations

import numpy as np

from bnlab.analysis import epochs_to_threshold, headline, quartiles, statistics, summarize
from bnlab.files.history import read_history, write_history


def test_epochs_to_threshold_is_first_epoch_reaching_it():
    assert epochs_to_threshold(np.array([0.5, 0.79, 0.8, 0.7, 0.9]), 0.8) == 3
    assert epochs_to_threshold(np.array([0.81]), 0.8) == 1
    assert epochs_to_threshold(np.array([0.5, 0.6]), 0.8) is None


def _keras_history(values: list[float]) -> dict[str, list[float]]:
    return {m: values for m in ("accuracy", "loss", "val_accuracy", "val_loss")}


def test_history_round_trip(tmp_path):
    per_seed = {3: _keras_history([0.1, 0.2, 0.30000000000000004]), 4: _keras_history([1, 2, 3])}
    write_history(tmp_path / "h.csv", per_seed)
    history = read_history(tmp_path / "h.csv")
    assert history.seeds == (3, 4)
    assert history.n_epochs == 3
    np.testing.assert_array_equal(
        history.curves["val_accuracy"][0], [0.1, 0.2, 0.30000000000000004]
    )
    np.testing.assert_array_equal(history.mean("loss"), [0.55, 1.1, 1.65])


def test_summary_counts_seeds_that_never_reach_80(tmp_path):
    per_seed = {
        0: _keras_history([0.5, 0.85]),
        1: _keras_history([0.81, 0.9]),
        2: _keras_history([0.5, 0.6]),
    }
    write_history(tmp_path / "h.csv", per_seed)
    scores = {
        s: dict(train_accuracy=0.8, train_loss=0.4, test_accuracy=acc, test_loss=0.4)
        for s, acc in zip(per_seed, (0.8, 0.9, 1.0), strict=True)
    }
    metrics = statistics(summarize("bn_after", scores, read_history(tmp_path / "h.csv")))
    assert metrics["epochs_to_80"] == {"median": 2.0, "seeds_reaching": 2}
    # t(0.975, 2) * 0.1 / sqrt(3) = 0.248414
    assert metrics["test_accuracy"] == {
        "mean": 0.9,
        "std": 0.1,
        "min": 0.8,
        "max": 1.0,
        "ci95_low": 0.651586,
        "ci95_high": 1.148414,
    }
    assert metrics["seeds"] == 3
    assert headline(metrics) == "0.900 ±0.248 ep 2"


def test_median_and_quartiles_are_never_where_they_touch_a_seed_that_never_got_there():
    assert quartiles(np.array([3.0, 5.0, 9.0, 11.0])) == quartiles(np.array([11, 9, 5, 3]))
    assert quartiles(np.array([3.0, 5.0, 9.0, 11.0])).estimate == 7.0
    np.testing.assert_allclose([quartiles(np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])).low], [3.25])
    inf = np.inf
    assert quartiles(np.array([10.0, inf])).estimate == inf  # numpy's median of these, too
    assert quartiles(np.array([10.0, 20.0, inf])).estimate == 20.0
    assert quartiles(np.array([10.0, 20.0, inf])).high == inf
    assert quartiles(np.array([inf, inf])).estimate == inf


def test_headline_says_never_when_the_median_seed_never_reached_80():
    accuracy = {"mean": 0.61234, "ci95_low": 0.6, "ci95_high": 0.62468}
    metrics = {"test_accuracy": accuracy, "epochs_to_80": {"median": None}}
    assert headline(metrics) == "0.612 ±0.012 ep never"
    metrics["epochs_to_80"]["median"] = 16.5
    assert headline(metrics) == "0.612 ±0.012 ep 16.5"
