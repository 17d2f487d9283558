"""The tutorial's claims checked against the seeds, and the summary as markdown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bnlab.statistics import Comparison, Interval

if TYPE_CHECKING:
    from bnlab.report import VariantSummary

ALPHA = 0.05

# The tutorial's single runs (shared/seed/batchnorm-tutorial.txt): train, test accuracy.
TUTORIAL = {"baseline": (0.838, 0.846), "bn_after": (0.846, 0.848), "bn_before": (0.826, 0.830)}


@dataclass(frozen=True)
class Claim:
    key: str
    text: str  # what the tutorial says
    supported: bool | None  # None: a variant it needs was not trained
    evidence: str


def _epochs(i: Interval) -> str:
    def show(x: float) -> str:
        return "never" if np.isinf(x) else f"{x:g}"

    return f"{show(i.estimate)} [{show(i.low)}-{show(i.high)}]"


def _unjudged(key: str, text: str, needs: str) -> Claim:
    return Claim(key, text, None, f"not judged: train the {needs} variant(s)")


def claims(summaries: dict[str, VariantSummary], compared: dict[str, Comparison]) -> list[Claim]:
    after, base = summaries.get("bn_after"), summaries.get("baseline")
    found = []

    text = "BN after the activation reaches 80% test accuracy within the first 20 epochs"
    if after:
        within = after.epochs_quartiles.estimate <= 20
        evidence = f"bn_after median [IQR] {_epochs(after.epochs_quartiles)}"
        found.append(Claim("bn_after_within_20", text, bool(within), evidence))
    else:
        found.append(_unjudged("bn_after_within_20", text, "bn_after"))

    text = "Without BN, accuracy leaps above 80% only after 30-40 epochs"
    if base:
        between = 30 <= base.epochs_quartiles.estimate <= 40
        evidence = f"baseline median [IQR] {_epochs(base.epochs_quartiles)}"
        found.append(Claim("baseline_30_to_40", text, bool(between), evidence))
    else:
        found.append(_unjudged("baseline_30_to_40", text, "baseline"))

    text = "BN after the activation learns the problem faster than the baseline"
    if "bn_after" in compared:
        p = compared["bn_after"].mann_whitney_p
        faster = after.epochs_quartiles.estimate < base.epochs_quartiles.estimate
        evidence = (
            f"median epochs to 80%: {_epochs(after.epochs_quartiles)} vs baseline "
            f"{_epochs(base.epochs_quartiles)}, Mann-Whitney U p = {p:.3g}"
        )
        found.append(Claim("bn_after_faster", text, bool(faster and p < ALPHA), evidence))
    else:
        found.append(_unjudged("bn_after_faster", text, "baseline and bn_after"))

    text = "BN before the activation does worse on this problem than the baseline"
    if "bn_before" in compared:
        c = compared["bn_before"]
        worse = c.difference.estimate < 0 and c.welch_p < ALPHA
        evidence = f"test accuracy {_signed(c.difference)}, Welch p = {c.welch_p:.3g}"
        found.append(Claim("bn_before_worse", text, bool(worse), evidence))
    else:
        found.append(_unjudged("bn_before_worse", text, "baseline and bn_before"))

    text = "With BN (after) the training-mode accuracy curve sits below the test curve"
    if after:
        n_epochs = after.history.n_epochs
        first = n_epochs // 2 + 1  # the second half: past the initial climb
        gap = after.train_minus_test(from_epoch=first)
        evidence = (
            f"train - test accuracy over epochs {first}-{n_epochs}, "
            f"mean [95% CI] over seeds: {_signed(gap)}"
        )
        found.append(Claim("bn_train_below_test", text, bool(gap.high < 0), evidence))
    else:
        found.append(_unjudged("bn_train_below_test", text, "bn_after"))
    return found


def _signed(i: Interval) -> str:
    return f"{i.estimate:+.4f} [{i.low:+.4f}, {i.high:+.4f}]"


def _shift(epochs: float) -> str:
    return "n/a (a median is never)" if np.isnan(epochs) else f"{epochs:+g}"


def _plain(i: Interval) -> str:
    return f"{i.estimate:.4f} [{i.low:.4f}, {i.high:.4f}]"


def markdown(
    summaries: dict[str, VariantSummary],
    compared: dict[str, Comparison],
    verdicts: list[Claim],
    threshold: float,
) -> str:
    any_summary = next(iter(summaries.values()))
    seeds, epochs = len(any_summary.seeds), any_summary.history.n_epochs
    lines = [
        "# bnlab summary: batch normalization on the circles problem",
        "",
        f"{seeds} seeds per variant, {epochs} epochs each. Written by the pipeline's `report`",
        "stage from its own outputs; 95% intervals are t-based over seeds.",
        "",
        "## Per variant",
        "",
        "| variant | test accuracy [95% CI] | train accuracy [95% CI] "
        f"| epochs to {threshold:.0%}: median [IQR] | seeds never reaching it "
        "| final test loss | tutorial, one run: train / test |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        tutorial = TUTORIAL.get(name)
        lines.append(
            f"| {name} | {_plain(s.test_interval)} | {_plain(s.train_interval)} "
            f"| {_epochs(s.epochs_quartiles)} | {s.never_reached} of {len(s.seeds)} "
            f"| {s.test_loss.mean():.4f} "
            f"| {f'{tutorial[0]:.3f} / {tutorial[1]:.3f}' if tutorial else '-'} |"
        )
    lines += ["", "## Against the baseline", ""]
    if compared:
        lines += [
            "Difference in mean test accuracy with Welch's t-test (two-sided) and its 95%",
            f"interval; shift of the median epochs to {threshold:.0%} with a two-sided",
            "Mann-Whitney U test (a seed that never reaches it ranks as the slowest).",
            "",
            "| variant | test accuracy difference [95% CI] | Welch p "
            f"| median epochs to {threshold:.0%}, shift | Mann-Whitney p |",
            "|---|---|---|---|---|",
        ]
        for name, c in compared.items():
            lines.append(
                f"| {name} | {_signed(c.difference)} | {c.welch_p:.3g} "
                f"| {_shift(c.epochs_shift)} | {c.mann_whitney_p:.3g} |"
            )
    else:
        lines.append("The baseline was not trained: nothing to compare against.")
    lines += [
        "",
        f"## The tutorial's claims (significance level {ALPHA})",
        "",
        "| claim | verdict | evidence |",
        "|---|---|---|",
    ]
    verdict_text = {True: "supported", False: "not supported", None: "not judged"}
    for claim in verdicts:
        lines.append(f"| {claim.text} | {verdict_text[claim.supported]} | {claim.evidence} |")
    lines += [
        "",
        "## Figures",
        "",
        "![decision boundaries](figures/decision_boundaries.png)",
        "",
        "![epochs to 80%](figures/epochs_to_80.png)",
        "",
    ]
    return "\n".join(lines)
