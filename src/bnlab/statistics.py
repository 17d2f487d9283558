"""Statistics across seeds: intervals, the comparison tests, epochs to a threshold.

Everything here is a pure function of arrays; the t quantiles and the tests
come from scipy. ``evaluate`` needs only the intervals, so ``scipy.stats``
(0.5 s to import) loads when a test is first run, not with this module.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special


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
    epochs_shift: (
        float  # median epochs to threshold, variant minus baseline (nan: a median is never)
    )
    mann_whitney_p: float  # Mann-Whitney U on epochs to threshold, two-sided


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> Interval:
    """Mean with its t-based confidence interval (a point for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if len(values) < 2 or float(values.std()) == 0.0:
        return Interval(mean, mean, mean)
    standard_error = values.std(ddof=1) / np.sqrt(len(values))
    half_width = special.stdtrit(len(values) - 1, 0.5 + confidence / 2) * standard_error
    return Interval(mean, float(mean - half_width), float(mean + half_width))


def quartiles(values: np.ndarray) -> Interval:
    """Median with the 25th and 75th percentiles; inf (never reached) sorts last."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    ceiling = (finite.max() if finite.size else 0.0) + 1.0
    # inf breaks interpolation (inf - inf): rank it as ceiling, then map back.
    cut = np.percentile(np.where(np.isinf(values), ceiling, values), [25, 50, 75])
    low, median, high = (np.inf if q > ceiling - 1 else float(q) for q in cut)
    return Interval(median, low, high)


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


def compare(
    variant_acc: np.ndarray,
    baseline_acc: np.ndarray,
    variant_epochs: np.ndarray,
    baseline_epochs: np.ndarray,
) -> Comparison:
    difference, p = welch(variant_acc, baseline_acc)
    medians = float(np.median(variant_epochs)), float(np.median(baseline_epochs))
    # nan when either median is "never": the rank test still speaks for them.
    shift = medians[0] - medians[1] if np.isfinite(medians).all() else float("nan")
    return Comparison(difference, p, shift, mann_whitney(variant_epochs, baseline_epochs))
