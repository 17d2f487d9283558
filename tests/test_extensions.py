"""Protects the extensions' verdicts, labels, sweeps, params and configs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnlab.analysis import Comparison, Interval, VariantSummary
from bnlab.errors import ParamsError
from bnlab.files.history import History
from bnlab.params import Extension, extension_config, parse_params, variant_config
from bnlab.report import extensions as report

SIGNIFICANT, NOT = 0.001, 0.4


def comparison(difference: Interval, welch_p: float, mann_whitney_p: float) -> Comparison:
    return Comparison(difference, welch_p, math.nan, mann_whitney_p)


LOWER = Interval(-0.062, -0.085, -0.039)
HIGHER = Interval(0.02, 0.01, 0.03)
COVERS_ZERO = Interval(0.002, -0.004, 0.008)

VERDICTS = [  # difference, Welch p, Mann-Whitney p, medians, what the sentence says
    (
        LOWER,
        SIGNIFICANT,
        SIGNIFICANT,
        (3, 16.5),
        "X reaches 80% sooner than Y (median 3 vs 16.5 epochs, Mann-Whitney p = 0.001) "
        "but ends 6.2 points lower (-0.0620 [-0.0850, -0.0390], Welch p = 0.001).",
    ),
    (
        HIGHER,
        SIGNIFICANT,
        SIGNIFICANT,
        (3, 16.5),
        "X reaches 80% sooner than Y (median 3 vs 16.5 epochs, Mann-Whitney p = 0.001) "
        "and ends 2.0 points higher (+0.0200 [+0.0100, +0.0300], Welch p = 0.001).",
    ),
    (
        HIGHER,
        SIGNIFICANT,
        SIGNIFICANT,
        (41.5, 25),
        "X reaches 80% later than Y (median 41.5 vs 25 epochs, Mann-Whitney p = 0.001) "
        "but ends 2.0 points higher (+0.0200 [+0.0100, +0.0300], Welch p = 0.001).",
    ),
    (
        LOWER,
        SIGNIFICANT,
        SIGNIFICANT,
        (math.inf, 25),
        "X reaches 80% later than Y (median never vs 25 epochs, Mann-Whitney p = 0.001) "
        "and ends 6.2 points lower (-0.0620 [-0.0850, -0.0390], Welch p = 0.001).",
    ),
    (
        COVERS_ZERO,
        NOT,
        NOT,
        (16, 16.5),
        "X reaches 80% neither sooner nor later than Y (median 16 vs 16.5 epochs, "
        "Mann-Whitney p = 0.4) and ends no higher or lower: the difference "
        "+0.0020 [-0.0040, +0.0080] covers zero (Welch p = 0.4).",
    ),
]


@pytest.mark.parametrize(("difference", "welch_p", "mw_p", "medians", "said"), VERDICTS)
def test_verdict_says_what_the_numbers_decide(difference, welch_p, mw_p, medians, said):
    assert report.verdict("X", "Y", comparison(difference, welch_p, mw_p), medians) == said


def test_an_interval_that_covers_zero_is_no_difference_whatever_its_estimate():
    wide = comparison(Interval(-0.05, -0.11, 0.01), 0.08, NOT)
    assert report.accuracy(wide) == 0
    assert report.accuracy(comparison(LOWER, SIGNIFICANT, NOT)) == -1
    assert report.accuracy(comparison(HIGHER, SIGNIFICANT, NOT)) == 1


def test_speed_needs_the_rank_test_and_a_side():
    assert report.speed(comparison(LOWER, NOT, NOT), (3, 16.5)) == 0, "not significant"
    assert report.speed(comparison(LOWER, NOT, SIGNIFICANT), (16, 16)) == 0, "equal medians"
    assert report.speed(comparison(LOWER, NOT, SIGNIFICANT), (3, 16.5)) == 1
    assert report.speed(comparison(LOWER, NOT, SIGNIFICANT), (math.inf, 3)) == -1


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"center": False, "scale": False}, "without beta and gamma"),
        ({"center": False}, "without beta"),
        ({"scale": False}, "without gamma"),
        ({"momentum": 0.0}, "without momentum"),
        ({"momentum": 0.5}, "with momentum 0.5"),
        ({"momentum": 0.9, "epsilon": 0.1}, "with momentum 0.9 and with epsilon 0.1"),
        ({}, ""),
    ],
)
def test_an_extension_is_described_in_the_tutorials_words(changes, said):
    assert report.describe(changes) == said


def test_an_extension_without_bn_changes_is_titled_by_its_variant():
    assert report.title(Extension(variant="bn_input", against="baseline")) == "bn_input"
    changed = Extension.model_validate({"variant": "bn_after", "bn": {"momentum": 0.0}})
    assert report.title(changed) == "bn_after without momentum"


def summary(name: str, accuracy: float) -> VariantSummary:
    curve = np.full((2, 4), accuracy)
    history = History((0, 1), {"accuracy": curve, "val_accuracy": curve})
    scores = {"test_accuracy": np.full(2, accuracy)}
    return VariantSummary(name, history.seeds, scores, np.full(2, 3.0), history)


def result(name: str, variant: str, changes: dict, accuracy: float) -> report.Result:
    extension = Extension.model_validate({"variant": variant, "bn": changes})
    return report.result(name, extension, summary(name, accuracy), summary(variant, 0.8))


def test_a_sweep_is_the_momentum_only_extensions_of_a_variant_and_the_study_run():
    results = [
        result("after_m0", "bn_after", {"momentum": 0.0}, 0.78),
        result("after_m5", "bn_after", {"momentum": 0.5}, 0.82),
        result("after_m0_no_beta", "bn_after", {"momentum": 0.0, "center": False}, 0.7),
        result("before_m0", "bn_before", {"momentum": 0.0}, 0.68),
    ]
    study = {"bn_after": summary("bn_after", 0.845), "bn_before": summary("bn_before", 0.83)}
    (sweep,) = report.sweeps(results, 0.99, study)  # bn_before has 2 points: not drawn
    assert sweep.variant == "bn_after"
    assert list(sweep.points) == [0.0, 0.5, 0.99]
    assert sweep.points[0.99] is study["bn_after"]


def test_the_late_spread_is_the_per_seed_sd_over_the_second_half():
    curves = np.array([[0.5, 0.6, 0.8, 0.9, 0.7, 0.9], [0.5, 0.5, 0.5, 0.8, 0.8, 0.8]])
    history = History((0, 1), {"accuracy": curves, "val_accuracy": curves})
    late = VariantSummary("x", (0, 1), {}, np.zeros(2), history).late_spread
    np.testing.assert_allclose(late, [np.std([0.9, 0.7, 0.9], ddof=1), 0.0], atol=1e-12)


@pytest.fixture
def params(default_params_dict):
    return default_params_dict


def test_an_extension_config_is_its_variants_with_its_bn_changes(params):
    parsed = parse_params(params)
    config = extension_config(parsed, "bn_after_no_momentum")
    study = variant_config(parsed, "bn_after")
    assert config.bn == study.bn.model_copy(update={"momentum": 0.0})
    assert (config.train, config.model, config.placement) == (
        study.train,
        study.model,
        study.placement,
    )
    assert (config.name, config.against) == ("bn_after_no_momentum", "bn_after")
    assert config.stage == "extensions/dvc.yaml:train@bn_after_no_momentum"
    assert study.name == "bn_after" and study.stage == "train@bn_after"


def test_an_extension_set_against_a_variant_the_study_does_not_train_is_refused(params):
    params["variants"] = ["baseline", "bn_before"]
    with pytest.raises(ParamsError) as refused:
        extension_config(parse_params(params), "bn_after_no_momentum")
    assert str(refused.value) == (
        "params.yaml: extensions.bn_after_no_momentum is set against bn_after, which "
        "variants = ['baseline', 'bn_before'] does not train: add it there, or change "
        "its 'against'"
    )


def test_bn_changes_to_the_baseline_are_refused(params):
    params["extensions"] = {"odd": {"variant": "baseline", "bn": {"momentum": 0.5}}}
    with pytest.raises(ParamsError, match=r"extensions.odd.bn = \{'momentum': 0.5\}: baseline"):
        extension_config(parse_params(params), "odd")


@pytest.mark.parametrize(
    ("extension", "said"),
    [
        (
            {"Bad-Name": {"variant": "bn_after"}},
            "extensions.Bad-Name = 'Bad-Name': must be lower-case letters",
        ),
        ({"x": {"variant": "bn_sideways"}}, "extensions.x.variant = 'bn_sideways'"),
        ({"x": {"variant": "bn_after", "bn": {"momentum": 2}}}, "extensions.x.bn.momentum = 2"),
        ({"x": {"variant": "bn_after", "bn": {"gamma": False}}}, "extensions.x.bn.gamma: unknown"),
    ],
)
def test_bad_extensions_get_one_line_naming_the_key(params, extension, said):
    params["extensions"] = extension
    with pytest.raises(ParamsError, match=said.replace(".", r"\.").replace("(", r"\(")):
        parse_params(params)
