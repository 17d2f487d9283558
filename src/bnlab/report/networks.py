"""The report's section per digits network: the tutorial's general claims,
judged for the CNN and the LSTM as for the MLP.

The tutorial says BatchNormalization "can be used at most points in a model
and with most types of deep learning neural networks", and, of its MLP, that
BN after the activation learns faster and that the placement matters. Per
network this gives each variant's accuracy and epochs to the network's
threshold, each BN variant against the baseline, and two verdicts:

- BN after the activation reaches the threshold sooner than no BN (a
  two-sided Mann-Whitney test on epochs to it, and the medians' order);
- the placement changes the final test accuracy (Welch's test on any pair of
  the network's variants: each BN variant against the baseline, and BN
  before against BN after where the network has both).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from bnlab.analysis import Comparison, VariantSummary, compare, interval_record, report_numbers
from bnlab.report import network_figure
from bnlab.report.claims import ALPHA, epochs_text, plain, raises_test_accuracy, signed

TITLES = {"cnn": "The CNN", "lstm": "The LSTM"}


@dataclass(frozen=True)
class Section:
    network: str
    plans: dict[str, str]  # variant -> its layers in words
    summaries: dict[str, VariantSummary]  # variant -> its seeds
    compared: dict[str, Comparison]  # BN variant -> against the baseline

    @property
    def threshold(self) -> float:
        return next(iter(self.summaries.values())).threshold

    def pairs(self) -> dict[str, Comparison]:
        """Every pair of variants, later minus earlier in the plan's order."""
        return {
            f"{b} - {a}": compare(self.summaries[b], self.summaries[a])
            for a, b in combinations(self.summaries, 2)
        }

    def sooner(self) -> tuple[bool, str]:
        after, base = self.summaries["bn_after"], self.summaries["baseline"]
        medians = after.epochs_quartiles.estimate, base.epochs_quartiles.estimate
        p = self.compared["bn_after"].mann_whitney_p
        evidence = (
            f"median [IQR] {epochs_text(after.epochs_quartiles)} vs baseline "
            f"{epochs_text(base.epochs_quartiles)}, Mann-Whitney p = {p:.3g}"
        )
        return bool(p < ALPHA and medians[0] < medians[1]), evidence

    def placement_matters(self) -> tuple[bool, str]:
        pairs = self.pairs()
        evidence = "; ".join(
            f"{name}: {signed(c.difference)}, p = {c.welch_p:.3g}" for name, c in pairs.items()
        )
        return any(c.welch_p < ALPHA for c in pairs.values()), evidence

    def verdicts(self) -> dict[str, tuple[bool, str]]:
        """The claims these variants can judge: sooner needs bn_after, placement two variants."""
        found = {}
        if "bn_after" in self.summaries:
            found["bn_after_reaches_threshold_sooner"] = self.sooner()
            found["bn_after_raises_test_accuracy"] = raises_test_accuracy(self.compared["bn_after"])
        if len(self.summaries) > 1:
            found["placement_changes_final_accuracy"] = self.placement_matters()
        return found


def introduction(seeds: int) -> list[str]:
    """The head of networks.md."""
    return [
        "# bnlab: batch normalization in the tutorial's CNN and LSTM",
        "",
        "Written by `make networks` (networks/dvc.yaml) from its own outputs: the "
        "tutorial's CNN and LSTM fragments on scikit-learn's digits, each variant "
        f"trained over {seeds} seeds; 95% intervals are t-based over seeds.",
        "",
    ]


def markdown(section: Section, figures_dir: str) -> list[str]:
    threshold = f"{section.threshold:.0%}"
    any_summary = next(iter(section.summaries.values()))
    seeds, epochs = len(any_summary.seeds), any_summary.history.n_epochs
    lines = [
        f"## {TITLES[section.network]} on digits",
        "",
        f"{seeds} seeds per variant, {epochs} epochs each, on scikit-learn's digits; "
        f"learned = test accuracy {threshold} (`networks.{section.network}.threshold`).",
        "",
        f"| variant | layers | test accuracy [95% CI] | train accuracy [95% CI] "
        f"| epochs to {threshold}: median [IQR] | seeds never reaching it |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in section.summaries.items():
        lines.append(
            f"| {name} | {section.plans[name]} | {plain(s.test_interval)} "
            f"| {plain(s.train_interval)} | {epochs_text(s.epochs_quartiles)} "
            f"| {s.never_reached} of {len(s.seeds)} |"
        )
    lines += [
        "",
        "| against the baseline | test accuracy difference [95% CI] | Welch p "
        "| Mann-Whitney p (epochs) |",
        "|---|---|---|---|",
    ]
    for name, c in section.compared.items():
        lines.append(
            f"| {name} | {signed(c.difference)} | {c.welch_p:.3g} | {c.mann_whitney_p:.3g} |"
        )
    said = {True: "supported", False: "not supported"}
    claims = {
        "bn_after_reaches_threshold_sooner": f"BN after the activation reaches {threshold} sooner",
        "bn_after_raises_test_accuracy": "BN after regularizes modestly: higher test accuracy",
        "placement_changes_final_accuracy": "Where BN goes changes the final test accuracy",
    }
    lines += [
        "",
        f"| claim, for this network (level {ALPHA}) | verdict | evidence |",
        "|---|---|---|",
    ]
    for key, (supported, evidence) in section.verdicts().items():
        lines.append(f"| {claims[key]} | {said[supported]} | {evidence} |")
    figure = network_figure(section.network)
    lines += ["", f"![{section.network}: test accuracy per epoch]({figures_dir}/{figure})", ""]
    return lines


def numbers(section: Section) -> dict:
    found = report_numbers(section.summaries, section.compared)
    found["pairs"] = {
        name: {"test_accuracy_diff": interval_record(c.difference), "welch_p": round(c.welch_p, 6)}
        for name, c in section.pairs().items()
    }
    found["claims"] = {key: supported for key, (supported, _) in section.verdicts().items()}
    return found
