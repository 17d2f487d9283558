"""The tutorial's extensions against the study: each extension's seeds set
against those of the study variant it changes, a verdict the numbers decide,
and the momentum sweeps. The text and numbers of ``reports/extensions.md``
and ``.json``; the extensions' compare stage writes them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnlab.analysis import (
    THRESHOLD,
    Comparison,
    Interval,
    VariantSummary,
    compare,
    finite,
    interval_record,
    late_start,
    mann_whitney,
    mean_interval,
)
from bnlab.params import Extension
from bnlab.report.claims import ALPHA, epochs_text, plain, signed

# A sweep of two points (the study's momentum and one other) is the comparison
# the table already makes; from three on it is drawn.
MIN_SWEEP = 3


def describe(changes: dict[str, object]) -> str:
    """What an extension changes in BN, in the tutorial's words: 'without momentum'."""
    said = []
    if changes.get("center") is False and changes.get("scale") is False:
        said.append("without beta and gamma")
    else:
        for key, name in (("center", "beta"), ("scale", "gamma")):
            if key in changes:
                said.append(f"{'with' if changes[key] else 'without'} {name}")
    if "momentum" in changes:
        momentum = changes["momentum"]
        said.append("without momentum" if momentum == 0 else f"with momentum {momentum:g}")
    if "epsilon" in changes:
        said.append(f"with epsilon {changes['epsilon']:g}")
    return " and ".join(said)


def title(extension: Extension) -> str:
    """'bn_after without momentum'; an extension that changes no BN is its variant."""
    return " ".join(filter(None, (extension.variant, describe(extension.changes))))


@dataclass(frozen=True)
class Spread:
    """The late-epoch test-accuracy s.d. per seed, extension against reference."""

    extension: Interval  # mean over seeds, 95% interval
    reference: Interval
    mann_whitney_p: float

    @property
    def ratio(self) -> float:
        if self.reference.estimate == 0:
            return np.inf if self.extension.estimate > 0 else 1.0
        return self.extension.estimate / self.reference.estimate


@dataclass(frozen=True)
class Result:
    name: str
    extension: Extension
    summary: VariantSummary
    reference: VariantSummary
    comparison: Comparison
    spread: Spread


def result(
    name: str, extension: Extension, summary: VariantSummary, reference: VariantSummary
) -> Result:
    spreads = summary.late_spread, reference.late_spread
    spread = Spread(*(mean_interval(s) for s in spreads), mann_whitney(*spreads))
    return Result(name, extension, summary, reference, compare(summary, reference), spread)


def speed(comparison: Comparison, medians: tuple[float, float]) -> int:
    """+1: reaches THRESHOLD sooner than the reference, -1 later, 0 no shift.
    The rank test decides whether there is a shift, the medians its side."""
    ours, theirs = medians
    if comparison.mann_whitney_p >= ALPHA or ours == theirs:
        return 0
    return 1 if ours < theirs else -1


def accuracy(comparison: Comparison) -> int:
    """+1: ends higher than the reference, -1 lower, 0 when the 95% interval of the
    difference covers zero."""
    difference = comparison.difference
    if difference.low <= 0 <= difference.high:
        return 0
    return 1 if difference.estimate > 0 else -1


def verdict(
    subject: str, reference: str, comparison: Comparison, medians: tuple[float, float]
) -> str:
    """One sentence: does ``subject`` reach THRESHOLD sooner or later than
    ``reference``, and does it end higher or lower, with the evidence."""

    def show(x: float) -> str:
        return "never" if np.isinf(x) else f"{x:g}"

    fast, good = speed(comparison, medians), accuracy(comparison)
    when = {1: "sooner than", -1: "later than", 0: "neither sooner nor later than"}[fast]
    evidence = (
        f"median {show(medians[0])} vs {show(medians[1])} epochs, "
        f"Mann-Whitney p = {comparison.mann_whitney_p:.2g}"
    )
    difference = comparison.difference
    welch = f"Welch p = {comparison.welch_p:.2g}"
    if good:
        points, side = abs(difference.estimate) * 100, "higher" if good > 0 else "lower"
        ends = f"ends {points:.1f} points {side} ({signed(difference)}, {welch})"
    else:
        ends = f"ends no higher or lower: the difference {signed(difference)} covers zero ({welch})"
    joint = "but" if fast * good < 0 else "and"
    return f"{subject} reaches {THRESHOLD:.0%} {when} {reference} ({evidence}) {joint} {ends}."


def sentence(r: Result) -> str:
    medians = r.summary.epochs_quartiles.estimate, r.reference.epochs_quartiles.estimate
    return verdict(title(r.extension), r.extension.reference, r.comparison, medians)


@dataclass(frozen=True)
class Sweep:
    """A variant's configurations that differ only in bn.momentum, by momentum."""

    variant: str
    points: dict[float, VariantSummary]


def sweeps(
    results: list[Result], study_momentum: float, study: dict[str, VariantSummary]
) -> list[Sweep]:
    """Per variant, its momentum-only extensions with the study's own variant,
    when they make at least MIN_SWEEP points."""
    found = []
    for variant, summary in study.items():
        points = {
            float(r.extension.changes["momentum"]): r.summary
            for r in results
            if r.extension.variant == variant and set(r.extension.changes) == {"momentum"}
        }
        points.setdefault(study_momentum, summary)
        if len(points) >= MIN_SWEEP:
            found.append(Sweep(variant, dict(sorted(points.items()))))
    return found


def _times(ratio: float) -> str:
    return "n/a" if np.isinf(ratio) else f"x{ratio:.2g}"


def markdown(results: list[Result], found: list[Sweep], figures: dict[str, str]) -> str:
    """The report; ``figures`` maps a sweep's variant to its figure's path."""
    any_summary = results[0].summary
    seeds, epochs = len(any_summary.seeds), any_summary.history.n_epochs
    first = late_start(epochs)
    threshold = f"{THRESHOLD:.0%}"
    lines = [
        '# bnlab extensions: the tutorial\'s "compare results", answered',
        "",
        f"{seeds} seeds per configuration (the study's seeds), {epochs} epochs each. Each",
        "extension changes a variant of the study and is set against the study's own run",
        "of that variant (or of the variant params.yaml names as its `against`). Written by",
        "the `compare` stage of `extensions/dvc.yaml` from the per-seed scores and",
        f"histories; 95% intervals are t-based over seeds, tests two-sided at {ALPHA}.",
        "",
        "## Verdicts",
        "",
        *(f"- {sentence(r)}" for r in results),
        "",
        "## Against the study",
        "",
        "Test accuracy: the difference in mean final test accuracy, Welch's t-test.",
        f"Epochs to {threshold}: the medians, a Mann-Whitney U test (a seed that never gets",
        "there ranks slowest). Late spread: per seed, the s.d. of test accuracy over epochs",
        f"{first}-{epochs}; its mean over seeds, the extension's against the reference's, and a",
        "Mann-Whitney U test.",
        "",
        "| extension | against | test accuracy difference [95% CI] | Welch p "
        f"| epochs to {threshold}: median [IQR], extension vs reference | Mann-Whitney p "
        "| late spread: extension vs reference | ratio | Mann-Whitney p |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c, s = r.comparison, r.spread
        lines.append(
            f"| {r.name} | {r.extension.reference} | {signed(c.difference)} | {c.welch_p:.3g} "
            f"| {epochs_text(r.summary.epochs_quartiles)} vs "
            f"{epochs_text(r.reference.epochs_quartiles)} | {c.mann_whitney_p:.3g} "
            f"| {s.extension.estimate:.4f} vs {s.reference.estimate:.4f} | {_times(s.ratio)} "
            f"| {s.mann_whitney_p:.3g} |"
        )
    for sweep in found:
        lines += [
            "",
            f"## Momentum sweep: {sweep.variant}",
            "",
            f"| bn.momentum | test accuracy [95% CI] | epochs to {threshold}: median [IQR] "
            f"| seeds never reaching it | late spread (epochs {first}-{epochs}) |",
            "|---|---|---|---|---|",
        ]
        for momentum, s in sweep.points.items():
            lines.append(
                f"| {momentum:g} | {plain(s.test_interval)} | {epochs_text(s.epochs_quartiles)} "
                f"| {s.never_reached} of {len(s.seeds)} | {s.late_spread.mean():.4f} |"
            )
        lines += ["", f"![momentum sweep, {sweep.variant}]({figures[sweep.variant]})"]
    lines += ["", *batch_order(results)]
    return "\n".join(lines) + "\n"


def batch_order(results: list[Result]) -> list[str]:
    """Why momentum 0.0 is noisy here, and which Keras behaviour bnlab reproduces."""
    lines = [
        "## Batch order: what bnlab reproduces",
        "",
        "Every seed draws a new batch order every epoch, as the tutorial's `fit` does: the",
        "tutorial sets no seed. With `keras.utils.set_random_seed`, Keras 3's `fit` on numpy",
        "arrays reuses one order in every epoch (`tests/test_keras_batch_order.py` pins this).",
        "Without momentum, the moving averages BN uses in inference are the statistics of",
        "the epoch's last batch. Under one fixed order that is always the same batch, and the",
        "test curve is smooth; under a new order every epoch it is a different batch each",
        "epoch, and the test curve jumps.",
    ]
    no_momentum = [r for r in results if r.extension.changes.get("momentum") == 0]
    if no_momentum:
        lines += [
            "",
            "Here, with a new order every epoch:",
            "",
            *(
                f"- {title(r.extension)}: late spread {r.spread.extension.estimate:.4f}, "
                f"against {r.spread.reference.estimate:.4f} for {r.extension.reference}."
                for r in no_momentum
            ),
        ]
    return lines


def numbers(results: list[Result], found: list[Sweep]) -> dict:
    """The report's numbers, as reports/extensions.json holds them."""

    def epochs(s: VariantSummary) -> float | None:
        return finite(s.epochs_quartiles.estimate)

    record: dict = {"extensions": {}, "sweeps": {}}
    for r in results:
        c, s = r.comparison, r.spread
        record["extensions"][r.name] = {
            "variant": r.extension.variant,
            "against": r.extension.reference,
            "changes": r.extension.changes,
            "test_accuracy": interval_record(r.summary.test_interval),
            "test_accuracy_diff": interval_record(c.difference),
            "welch_p": round(c.welch_p, 6),
            "epochs_to_80_median": epochs(r.summary),
            "reference_epochs_to_80_median": epochs(r.reference),
            "mann_whitney_p": round(c.mann_whitney_p, 6),
            "late_spread": round(s.extension.estimate, 6),
            "reference_late_spread": round(s.reference.estimate, 6),
            "late_spread_mann_whitney_p": round(s.mann_whitney_p, 6),
            "speed": speed(
                c, (r.summary.epochs_quartiles.estimate, r.reference.epochs_quartiles.estimate)
            ),
            "accuracy": accuracy(c),
            "verdict": sentence(r),
        }
    for sweep in found:
        record["sweeps"][sweep.variant] = [
            {
                "momentum": momentum,
                "test_accuracy": interval_record(s.test_interval),
                "epochs_to_80_median": epochs(s),
                "late_spread": round(float(s.late_spread.mean()), 6),
            }
            for momentum, s in sweep.points.items()
        ]
    return record
