"""The study's statistics over seeds, each computed here and only here.

Per variant, from every seed's final scores and per-epoch history: intervals
of the mean, the epoch at which test accuracy first reaches THRESHOLD and its
quartiles, the seed that stands for the variant; per BN variant against the
baseline, Welch's and Mann-Whitney's tests. Pure functions of arrays; the t
quantiles and the tests come from scipy, which loads with the first of them:
the train stages and their MLflow workers read this module but none of those.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from bnlab.files.history import History
from bnlab.files.scores import SCORES

THRESHOLD = 0.80  # the tutorial's "above 80%": test accuracy that counts as learned


def late_start(n_epochs: int) -> int:
    """First epoch of the late ones: the second half of training, past the initial climb."""
    return n_epochs // 2 + 1


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """A variant against the baseline."""

    difference: Interval  # mean test accuracy, variant minus baseline (Welch 95% CI)
    welch_p: float  # Welch's t-test, two-sided
    epochs_shift: float  # median epochs to THRESHOLD, variant minus baseline (nan: one is never)
    mann_whitney_p: float  # Mann-Whitney U on epochs to THRESHOLD, two-sided


def epochs_to_threshold(curve: np.ndarray, threshold: float = THRESHOLD) -> int | None:
    """First epoch (1-based) at which curve >= threshold, or None if never."""
    reached = np.flatnonzero(np.asarray(curve) >= threshold)
    return int(reached[0]) + 1 if reached.size else None


def representative_seed(scores: dict[int, dict[str, float]]) -> int:
    """The seed whose test accuracy is closest to the median over seeds (first on ties)."""
    seeds = list(scores)
    accuracy = np.array([scores[s]["test_accuracy"] for s in seeds])
    return seeds[int(np.argmin(np.abs(accuracy - np.median(accuracy))))]


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> Interval:
    """Mean with its t-based confidence interval (a point for a single value)."""
    from scipy import special

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if len(values) < 2 or float(values.std()) == 0.0:
        return Interval(mean, mean, mean)
    standard_error = values.std(ddof=1) / np.sqrt(len(values))
    half_width = special.stdtrit(len(values) - 1, 0.5 + confidence / 2) * standard_error
    return Interval(mean, float(mean - half_width), float(mean + half_width))


def _quantile(ordered: np.ndarray, q: float) -> float:
    """Linear interpolation between order statistics, as numpy's default; a
    quantile that touches inf (never reached) is inf."""
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    fraction = position - low
    if fraction == 0:
        return float(ordered[low])
    if np.isinf(ordered[high]):
        return math.inf
    a, b = ordered[low], ordered[high]
    # numpy's own arithmetic, so the numbers are numpy.percentile's to the bit
    return float(b - (b - a) * (1 - fraction) if fraction >= 0.5 else a + (b - a) * fraction)


def quartiles(values: np.ndarray) -> Interval:
    """Median with the 25th and 75th percentiles; inf (never reached) sorts last."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    return Interval(*(_quantile(ordered, q) for q in (0.5, 0.25, 0.75)))


def welch(variant: np.ndarray, baseline: np.ndarray) -> tuple[Interval, float]:
    """Difference of means with Welch's 95% interval, and Welch's two-sided p."""
    from scipy import stats

    variant = np.asarray(variant, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    difference = float(variant.mean() - baseline.mean())
    if np.array_equal(np.sort(variant), np.sort(baseline)):
        return Interval(difference, difference, difference), 1.0
    with warnings.catch_warnings():
        # scipy warns when one sample's values are all equal (two seeds, same
        # accuracy); Welch's test is still defined by the other's variance.
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        result = stats.ttest_ind(variant, baseline, equal_var=False)
    low, high = result.confidence_interval(0.95)
    return Interval(difference, float(low), float(high)), float(result.pvalue)


def mann_whitney(variant: np.ndarray, baseline: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p-value; inf (never reached) ranks as the slowest."""
    from scipy import stats

    variant = np.asarray(variant, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if np.array_equal(np.sort(variant), np.sort(baseline)):
        return 1.0
    # A finite stand-in above every real epoch keeps the ranks and scipy's arithmetic sane.
    both = np.r_[variant, baseline]
    ceiling = np.where(np.isinf(both), 0, both).max() + 1
    variant, baseline = (np.where(np.isinf(x), ceiling, x) for x in (variant, baseline))
    return float(stats.mannwhitneyu(variant, baseline, alternative="two-sided").pvalue)


@dataclass(frozen=True)
class VariantSummary:
    """A variant's seeds: their final scores, epochs to its threshold and curves."""

    variant: str
    seeds: tuple[int, ...]
    scores: dict[str, np.ndarray]  # score name (SCORES) -> per seed, in the order of seeds
    epochs: np.ndarray  # per seed, epochs to threshold; inf where never reached
    history: History
    threshold: float = THRESHOLD  # the MLP's; a digits network's is its param

    @property
    def test_accuracy(self) -> np.ndarray:
        return self.scores["test_accuracy"]

    @property
    def test_interval(self) -> Interval:
        return mean_interval(self.test_accuracy)

    @property
    def train_interval(self) -> Interval:
        return mean_interval(self.scores["train_accuracy"])

    @property
    def epochs_quartiles(self) -> Interval:
        return quartiles(self.epochs)

    @property
    def never_reached(self) -> int:
        return int(np.isinf(self.epochs).sum())

    @property
    def late_spread(self) -> np.ndarray:
        """Per seed, the s.d. of test accuracy over the late epochs (``late_start``):
        how much the curve still jumps once it has learned."""
        late = self.history.curves["val_accuracy"][:, late_start(self.history.n_epochs) - 1 :]
        return late.std(axis=1, ddof=1) if late.shape[1] > 1 else np.zeros(len(late))

    def train_minus_test(self, from_epoch: int) -> Interval:
        """Per seed, mean over epochs >= from_epoch of training-mode minus test accuracy."""
        gap = self.history.curves["accuracy"] - self.history.curves["val_accuracy"]
        return mean_interval(gap[:, from_epoch - 1 :].mean(axis=1))


def epochs_per_seed(history: History, threshold: float = THRESHOLD) -> np.ndarray:
    """Per seed, the epoch its test accuracy first reaches ``threshold``; inf where never."""
    reached = [epochs_to_threshold(curve, threshold) for curve in history.curves["val_accuracy"]]
    return np.array([math.inf if e is None else e for e in reached], dtype=np.float64)


def summarize(
    variant: str,
    scores: dict[int, dict[str, float]],
    history: History,
    threshold: float = THRESHOLD,
) -> VariantSummary:
    return VariantSummary(
        variant=variant,
        seeds=history.seeds,
        scores={name: np.array([scores[s][name] for s in history.seeds]) for name in SCORES},
        epochs=epochs_per_seed(history, threshold),
        history=history,
        threshold=threshold,
    )


def epochs_key(threshold: float) -> str:
    """The statistics' name for epochs to a threshold: ``epochs_to_80`` for 0.8."""
    return f"epochs_to_{round(threshold * 100)}"


def compare(variant: VariantSummary, baseline: VariantSummary) -> Comparison:
    difference, p = welch(variant.test_accuracy, baseline.test_accuracy)
    medians = variant.epochs_quartiles.estimate, baseline.epochs_quartiles.estimate
    # nan when either median is "never": the rank test still speaks for them.
    shift = medians[0] - medians[1] if np.isfinite(medians).all() else math.nan
    return Comparison(difference, p, shift, mann_whitney(variant.epochs, baseline.epochs))


def against_baseline(summaries: dict[str, VariantSummary]) -> dict[str, Comparison]:
    """Each other variant against the baseline (none when the baseline is not trained)."""
    base = summaries.get("baseline")
    if base is None:
        return {}
    return {name: compare(s, base) for name, s in summaries.items() if name != "baseline"}


def finite(x: float) -> float | None:
    """``x``, or None for inf (never reached) and nan: what JSON can hold."""
    return None if np.isinf(x) or np.isnan(x) else x


def interval_record(i: Interval) -> dict[str, float]:
    """An interval as the reports' JSON holds it: mean, ci95_low, ci95_high."""
    return {
        "mean": round(i.estimate, 6),
        "ci95_low": round(i.low, 6),
        "ci95_high": round(i.high, 6),
    }


def _spread(values: np.ndarray) -> dict[str, float]:
    """Mean, sample s.d., min, max and the 95% interval of the mean."""
    interval = mean_interval(values)
    return {
        name: round(value, 6)
        for name, value in (
            ("mean", interval.estimate),
            ("std", float(values.std(ddof=1)) if len(values) > 1 else 0.0),
            ("min", float(values.min())),
            ("max", float(values.max())),
            ("ci95_low", interval.low),
            ("ci95_high", interval.high),
        )
    }


def statistics(summary: VariantSummary) -> dict:
    """Every statistic of a variant over its seeds, as the evaluate stage writes it."""
    record: dict = {name: _spread(values) for name, values in summary.scores.items()}
    record[epochs_key(summary.threshold)] = {
        "median": finite(summary.epochs_quartiles.estimate),
        "seeds_reaching": len(summary.seeds) - summary.never_reached,
    }
    record["seeds"] = len(summary.seeds)
    return record


def headline(record: dict) -> str:
    """From a variant's ``statistics``: mean test accuracy, the half-width of its 95%
    interval, median epochs to THRESHOLD, as ``0.845 ±0.005 ep 16.5`` (``ep never``
    when the median seed never got there)."""
    accuracy = record["test_accuracy"]
    half_width = (accuracy["ci95_high"] - accuracy["ci95_low"]) / 2
    median = next(v["median"] for k, v in record.items() if k.startswith("epochs_to_"))
    epochs = "never" if median is None else f"{median:g}"
    return f"{accuracy['mean']:.3f} ±{half_width:.3f} ep {epochs}"


def report_numbers(summaries: dict[str, VariantSummary], compared: dict[str, Comparison]) -> dict:
    """The report's numbers per variant, and against the baseline, as summary.json holds them."""

    numbers: dict = {}
    for name, s in summaries.items():
        epochs = s.epochs_quartiles
        numbers[name] = {
            "test_accuracy": interval_record(s.test_interval),
            "train_accuracy": interval_record(s.train_interval),
            "test_loss": round(float(s.scores["test_loss"].mean()), 6),
            epochs_key(s.threshold): {
                "median": finite(epochs.estimate),
                "q1": finite(epochs.low),
                "q3": finite(epochs.high),
                "never": s.never_reached,
            },
        }
    for name, c in compared.items():
        numbers[name]["vs_baseline"] = {
            "test_accuracy_diff": interval_record(c.difference),
            "welch_p": round(c.welch_p, 6),
            f"{epochs_key(summaries[name].threshold)}_median_shift": finite(c.epochs_shift),
            "mann_whitney_p": round(c.mann_whitney_p, 6),
        }
    return numbers
