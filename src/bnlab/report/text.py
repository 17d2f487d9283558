"""The report's text: the summary as markdown, from the summaries, the
comparisons and the claims' verdicts."""

from __future__ import annotations

import numpy as np

from bnlab.analysis import THRESHOLD, Comparison, VariantSummary
from bnlab.report import BOUNDARIES, EPOCHS, FIGURES_DIR
from bnlab.report.claims import ALPHA, Verdict, epochs_text, plain, signed

# The tutorial's single runs, as Brownlee (2019) reports them: train, test accuracy.
TUTORIAL = {"baseline": (0.838, 0.846), "bn_after": (0.846, 0.848), "bn_before": (0.826, 0.830)}


def _shift(epochs: float) -> str:
    return "n/a (a median is never)" if np.isnan(epochs) else f"{epochs:+g}"


def markdown(
    summaries: dict[str, VariantSummary], compared: dict[str, Comparison], verdicts: list[Verdict]
) -> str:
    """The report: per variant, against the baseline, the claims, the figures."""
    threshold = THRESHOLD
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
            f"| {name} | {plain(s.test_interval)} | {plain(s.train_interval)} "
            f"| {epochs_text(s.epochs_quartiles)} | {s.never_reached} of {len(s.seeds)} "
            f"| {s.scores['test_loss'].mean():.4f} "
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
                f"| {name} | {signed(c.difference)} | {c.welch_p:.3g} "
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
    for verdict in verdicts:
        said = verdict_text[verdict.supported]
        lines.append(f"| {verdict.claim.text} | {said} | {verdict.evidence} |")
    lines += ["", "## Figures", ""]
    for alt, name in (("decision boundaries", BOUNDARIES), (f"epochs to {threshold:.0%}", EPOCHS)):
        lines += [f"![{alt}]({FIGURES_DIR}/{name})", ""]
    return "\n".join(lines)
