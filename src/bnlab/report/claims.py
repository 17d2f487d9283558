"""The tutorial's claims, as a table, judged on the seeds' summaries.

Each claim names the variants it needs and a rule that turns their summaries
and comparisons into a verdict with its evidence. A claim whose variants were
not trained is "not judged".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bnlab.analysis import THRESHOLD, Comparison, Interval, VariantSummary, late_start

ALPHA = 0.05  # significance level of every test a claim uses

Summaries = dict[str, VariantSummary]
Compared = dict[str, Comparison]


@dataclass(frozen=True)
class Claim:
    key: str
    text: str  # what the tutorial says
    needs: tuple[str, ...]  # the variants it is judged on
    rule: Callable[[Summaries, Compared], tuple[bool, str]]  # -> supported, evidence


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    supported: bool | None  # None: a variant it needs was not trained
    evidence: str


def epochs_text(i: Interval) -> str:
    def show(x: float) -> str:
        return "never" if np.isinf(x) else f"{x:g}"

    return f"{show(i.estimate)} [{show(i.low)}-{show(i.high)}]"


def signed(i: Interval) -> str:
    return f"{i.estimate:+.4f} [{i.low:+.4f}, {i.high:+.4f}]"


def plain(i: Interval) -> str:
    return f"{i.estimate:.4f} [{i.low:.4f}, {i.high:.4f}]"


def _after_within_20(s: Summaries, c: Compared) -> tuple[bool, str]:
    epochs = s["bn_after"].epochs_quartiles
    return epochs.estimate <= 20, f"bn_after median [IQR] {epochs_text(epochs)}"


def _baseline_30_to_40(s: Summaries, c: Compared) -> tuple[bool, str]:
    epochs = s["baseline"].epochs_quartiles
    return 30 <= epochs.estimate <= 40, f"baseline median [IQR] {epochs_text(epochs)}"


def _after_faster(s: Summaries, c: Compared) -> tuple[bool, str]:
    after, base = s["bn_after"].epochs_quartiles, s["baseline"].epochs_quartiles
    p = c["bn_after"].mann_whitney_p
    evidence = (
        f"median epochs to {THRESHOLD:.0%}: {epochs_text(after)} vs baseline "
        f"{epochs_text(base)}, Mann-Whitney U p = {p:.3g}"
    )
    return after.estimate < base.estimate and p < ALPHA, evidence


def _before_worse(s: Summaries, c: Compared) -> tuple[bool, str]:
    before = c["bn_before"]
    evidence = f"test accuracy {signed(before.difference)}, Welch p = {before.welch_p:.3g}"
    return before.difference.estimate < 0 and before.welch_p < ALPHA, evidence


def raises_test_accuracy(bn_after: Comparison) -> tuple[bool, str]:
    """The tutorial's "modest form of regularization": BN after the activation
    ends with a higher test accuracy than no BN, by a difference Welch's test
    tells from zero. Shared with the networks' sections."""
    evidence = (
        f"test accuracy {signed(bn_after.difference)} against the baseline, "
        f"Welch p = {bn_after.welch_p:.3g}"
    )
    return bool(bn_after.difference.estimate > 0 and bn_after.welch_p < ALPHA), evidence


def _after_regularizes(s: Summaries, c: Compared) -> tuple[bool, str]:
    return raises_test_accuracy(c["bn_after"])


def _train_below_test(s: Summaries, c: Compared) -> tuple[bool, str]:
    after = s["bn_after"]
    n_epochs = after.history.n_epochs
    first = late_start(n_epochs)
    gap = after.train_minus_test(from_epoch=first)
    evidence = (
        f"train - test accuracy over epochs {first}-{n_epochs}, "
        f"mean [95% CI] over seeds: {signed(gap)}"
    )
    return gap.high < 0, evidence


CLAIMS = (
    Claim(
        "bn_after_within_20",
        "BN after the activation reaches 80% test accuracy within the first 20 epochs",
        ("bn_after",),
        _after_within_20,
    ),
    Claim(
        "baseline_30_to_40",
        "Without BN, accuracy leaps above 80% only after 30-40 epochs",
        ("baseline",),
        _baseline_30_to_40,
    ),
    Claim(
        "bn_after_faster",
        "BN after the activation learns the problem faster than the baseline",
        ("baseline", "bn_after"),
        _after_faster,
    ),
    Claim(
        "bn_before_worse",
        "BN before the activation does worse on this problem than the baseline",
        ("baseline", "bn_before"),
        _before_worse,
    ),
    Claim(
        "bn_after_regularizes",
        "BN (after) regularizes modestly: a small increase in test accuracy",
        ("baseline", "bn_after"),
        _after_regularizes,
    ),
    Claim(
        "bn_train_below_test",
        "With BN (after) the training-mode accuracy curve sits below the test curve",
        ("bn_after",),
        _train_below_test,
    ),
)


def judge(summaries: Summaries, compared: Compared) -> list[Verdict]:
    verdicts = []
    for claim in CLAIMS:
        if not set(claim.needs) <= set(summaries):
            needs = " and ".join(claim.needs)
            verdicts.append(Verdict(claim, None, f"not judged: train the {needs} variant(s)"))
            continue
        supported, evidence = claim.rule(summaries, compared)
        verdicts.append(Verdict(claim, bool(supported), evidence))
    return verdicts
