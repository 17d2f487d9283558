"""Protects the tutorial's claims' verdicts, on hand-built summaries."""

from __future__ import annotations

import numpy as np
import pytest

from bnlab.analysis import Comparison, Interval, VariantSummary
from bnlab.files.history import History
from bnlab.report.claims import CLAIMS, judge

SEEDS = 5
EPOCHS = 10


def summary(variant: str, epochs: float = 16, gap: float = -0.05) -> VariantSummary:
    """Every seed reaches 80% at ``epochs``; training-mode accuracy is ``gap``
    above the test accuracy in every epoch."""
    test = np.full((SEEDS, EPOCHS), 0.8)
    history = History(tuple(range(SEEDS)), {"val_accuracy": test, "accuracy": test + gap})
    scores = {"test_accuracy": np.full(SEEDS, 0.85)}
    return VariantSummary(variant, history.seeds, scores, np.full(SEEDS, epochs), history)


def against(difference: float = 0.0, welch_p: float = 0.5, mann_whitney_p: float = 0.5):
    return Comparison(
        Interval(difference, difference - 0.01, difference + 0.01), welch_p, 0.0, mann_whitney_p
    )


CASES = [  # claim, variants' summaries, comparisons with the baseline, verdict
    ("bn_after_within_20", [summary("bn_after", epochs=16)], {}, True),
    ("bn_after_within_20", [summary("bn_after", epochs=25)], {}, False),
    ("bn_after_within_20", [summary("baseline")], {}, None),
    ("baseline_30_to_40", [summary("baseline", epochs=35)], {}, True),
    ("baseline_30_to_40", [summary("baseline", epochs=24)], {}, False),
    ("baseline_30_to_40", [summary("bn_after")], {}, None),
    (
        "bn_after_faster",
        [summary("baseline", epochs=35), summary("bn_after", epochs=16)],
        {"bn_after": against(mann_whitney_p=0.001)},
        True,
    ),
    (
        "bn_after_faster",
        [summary("baseline", epochs=35), summary("bn_after", epochs=16)],
        {"bn_after": against(mann_whitney_p=0.2)},
        False,  # faster, but not significantly
    ),
    (
        "bn_after_faster",
        [summary("baseline", epochs=35), summary("bn_after", epochs=40)],
        {"bn_after": against(mann_whitney_p=0.001)},
        False,  # significantly slower
    ),
    ("bn_after_faster", [summary("bn_after")], {}, None),
    (
        "bn_before_worse",
        [summary("baseline"), summary("bn_before")],
        {"bn_before": against(difference=-0.02, welch_p=0.01)},
        True,
    ),
    (
        "bn_before_worse",
        [summary("baseline"), summary("bn_before")],
        {"bn_before": against(difference=-0.02, welch_p=0.2)},
        False,  # lower, but not significantly
    ),
    (
        "bn_before_worse",
        [summary("baseline"), summary("bn_before")],
        {"bn_before": against(difference=0.01, welch_p=0.01)},
        False,  # significantly better
    ),
    ("bn_before_worse", [summary("bn_before")], {}, None),
    (
        "bn_after_regularizes",
        [summary("baseline"), summary("bn_after")],
        {"bn_after": against(difference=0.01, welch_p=0.01)},
        True,
    ),
    (
        "bn_after_regularizes",
        [summary("baseline"), summary("bn_after")],
        {"bn_after": against(difference=-0.0014, welch_p=0.63)},
        False,  # the study's own figures: no increase
    ),
    ("bn_after_regularizes", [summary("bn_after")], {}, None),
    ("bn_train_below_test", [summary("bn_after", gap=-0.05)], {}, True),
    ("bn_train_below_test", [summary("bn_after", gap=0.01)], {}, False),
    ("bn_train_below_test", [summary("bn_before", gap=-0.05)], {}, None),
]


@pytest.mark.parametrize(("key", "summaries", "compared", "expected"), CASES)
def test_each_claim_is_judged_by_its_rule(key, summaries, compared, expected):
    verdicts = {v.claim.key: v for v in judge({s.variant: s for s in summaries}, compared)}
    assert verdicts[key].supported is expected
    if expected is None:
        assert verdicts[key].evidence.startswith("not judged: train the ")


def test_every_claim_has_a_case_of_each_verdict():
    covered = {(key, expected) for key, _, _, expected in CASES}
    assert covered == {(c.key, v) for c in CLAIMS for v in (True, False, None)}


def test_evidence_quotes_the_numbers_the_verdict_rests_on():
    base, after = summary("baseline", epochs=35), summary("bn_after", epochs=16)
    verdicts = judge(
        {"baseline": base, "bn_after": after}, {"bn_after": against(mann_whitney_p=0.001)}
    )
    faster = next(v for v in verdicts if v.claim.key == "bn_after_faster")
    assert faster.evidence == (
        "median epochs to 80%: 16 [16-16] vs baseline 35 [35-35], Mann-Whitney U p = 0.001"
    )
