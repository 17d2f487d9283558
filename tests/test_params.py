"""Protects params.yaml's checks: the tutorial's defaults, one line per bad value."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bnlab.params import (
    BOUND_MEANING,
    MAX_SEEDS,
    MLFLOW_NAME,
    PATTERN_MEANING,
    ParamsError,
    load_params,
    parse_params,
    variant_config,
)
from tests.conftest import ROOT


def test_defaults_are_the_tutorials():
    params = load_params(ROOT / "params.yaml")
    assert (params.data.n_samples, params.data.noise, params.data.random_state) == (1000, 0.1, 1)
    assert params.split.n_train == 500
    assert params.model.hidden_units == 50
    t = params.train
    assert (t.epochs, t.batch_size, t.learning_rate, t.momentum) == (100, 32, 0.01, 0.9)
    assert t.seeds >= 10
    bn = params.bn
    assert (bn.momentum, bn.epsilon, bn.center, bn.scale) == (0.99, 0.001, True, True)
    assert params.variants == ("baseline", "bn_after", "bn_before")


NAME = PATTERN_MEANING[MLFLOW_NAME]


def _with(params: dict, section: str, key: str, value) -> dict:
    changed = copy.deepcopy(params)
    changed[section][key] = value
    return changed


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("bn", "momentum", 1.0, f"bn.momentum = 1.0: {BOUND_MEANING['bn', 'momentum']}"),
        ("bn", "momentum", 1.5, f"bn.momentum = 1.5: {BOUND_MEANING['bn', 'momentum']}"),
        ("train", "seeds", 100_000, f"train.seeds = 100000: {BOUND_MEANING['train', 'seeds']}"),
        ("mlflow", "experiment", "a/b", f"mlflow.experiment = 'a/b': must be {NAME}"),
        ("mlflow", "experiment", "it's", f'mlflow.experiment = "it\'s": must be {NAME}'),
        ("mlflow", "experiment", "", f"mlflow.experiment = '': must be {NAME}"),
        ("data", "n_samples", 10**10, "data.n_samples = 10000000000: Input should be less"),
        ("bn", "momentum", "high", "bn.momentum = 'high': Input should be a valid number"),
        ("bn", "epsilon", 0, "bn.epsilon = 0: Input should be greater than 0"),
        ("bn", "center", "yes", "bn.center = 'yes': Input should be a valid boolean"),
        ("train", "epochs", 0, "train.epochs = 0: Input should be greater than or equal to 1"),
        ("data", "noise", -0.1, "data.noise = -0.1: Input should be greater than or equal to 0"),
        ("bn", "momentun", 0.5, "bn.momentun: unknown key"),
        ("networks", "n_train", 1797, "networks.n_train = 1797: Input should be less than 1797"),
    ],
)
def test_bad_value_gives_one_line_naming_key_value_and_rule(
    default_params_dict, section, key, value, expected
):
    with pytest.raises(ParamsError) as caught:
        parse_params(_with(default_params_dict, section, key, value))
    assert str(caught.value).startswith(f"params.yaml: {expected}")
    assert "\n" not in str(caught.value)


def test_the_most_seeds_allowed_is_accepted(default_params_dict):
    assert parse_params(_with(default_params_dict, "train", "seeds", MAX_SEEDS)).train.seeds == 1000


def test_unknown_keys_are_refused_at_any_level(default_params_dict):
    for body, where in [
        (default_params_dict, "foo"),
        (default_params_dict["networks"]["cnn"], "networks.cnn.foo"),
        (
            default_params_dict["extensions"]["bn_after_no_momentum"]["bn"],
            "extensions.bn_after_no_momentum.bn.foo",
        ),
    ]:
        body["foo"] = 1
        with pytest.raises(ParamsError, match=f"^params.yaml: {where}: unknown key$"):
            parse_params(default_params_dict)
        del body["foo"]


def test_an_extension_with_momentum_1_is_refused_saying_why(default_params_dict):
    params = copy.deepcopy(default_params_dict)
    params["extensions"]["bn_after_no_momentum"]["bn"]["momentum"] = 1
    with pytest.raises(ParamsError, match=r"bn.momentum = 1: .*never update"):
        parse_params(params)


def test_split_must_leave_a_test_set(default_params_dict):
    with pytest.raises(ParamsError, match=r"split.n_train = 1000: must be between 0 and"):
        parse_params(_with(default_params_dict, "split", "n_train", 1000))


def test_unknown_variant_lists_the_allowed_ones(default_params_dict):
    params = copy.deepcopy(default_params_dict)
    params["variants"] = ["baseline", "bn_sideways"]
    with pytest.raises(ParamsError, match=r"variants.1 = 'bn_sideways': .*bn_after, bn_before"):
        parse_params(params)


def test_missing_section(default_params_dict):
    params = copy.deepcopy(default_params_dict)
    del params["bn"]
    with pytest.raises(ParamsError, match=r"^params.yaml: bn: missing \(required\)$"):
        parse_params(params)


def test_invalid_yaml_and_non_mapping(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("bn: {momentum: [0.5\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ParamsError, match="must be a mapping"):
        load_params(bad)


FLOAT_PARAMS = [
    "data.noise",
    "train.learning_rate",
    "train.momentum",
    "bn.momentum",
    "bn.epsilon",
    "networks.cnn.threshold",
    "networks.lstm.threshold",
]


def _floats(body: dict, prefix: str = "") -> list[str]:
    """The dotted keys of every float param (an extension's changes are the study's)."""
    found = []
    for key, value in body.items():
        if isinstance(value, dict) and key != "extensions":
            found += _floats(value, f"{prefix}{key}.")
        elif isinstance(value, float):
            found.append(f"{prefix}{key}")
    return found


def test_float_params_are_the_ones_listed(default_params_dict):
    assert sorted(_floats(default_params_dict)) == sorted(FLOAT_PARAMS)


@pytest.mark.parametrize("dotted", FLOAT_PARAMS)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_float_is_refused_naming_the_key(default_params_dict, tmp_path, dotted, value):
    *sections, key = dotted.split(".")
    changed = copy.deepcopy(default_params_dict)
    body = changed
    for section in sections:
        body = body[section]
    body[key] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(changed))
    assert f"{key}: {'-' if value < 0 else ''}.{'nan' if value != value else 'inf'}" in (
        path.read_text()
    ), "YAML's own spelling (.nan, .inf) is what load_params reads"
    with pytest.raises(ParamsError) as caught:
        load_params(path)
    assert str(caught.value) == f"{path}: {dotted} = {value}: Input should be a finite number"


def test_baseline_config_carries_no_bn(default_params_dict):
    params = parse_params(default_params_dict)
    assert variant_config(params, "baseline").bn is None
    assert variant_config(params, "bn_before").bn == params.bn
    assert variant_config(params, "bn_before").placement == "before"


# Property: whatever YAML gives us, validation either succeeds or raises one
# clean ParamsError line naming what is wrong; never another exception.
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _mutations(params: dict):
    keys = [
        (section, key) for section, body in params.items() if isinstance(body, dict) for key in body
    ]
    return st.lists(st.tuples(st.sampled_from(keys), yaml_values), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_mutated_params_validate_or_fail_cleanly(data):
    # Read here, not from the per-test fixture: one example must not see another's changes.
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for (section, key), value in data.draw(_mutations(params)):
        params[section][key] = value
    _validate_or_clean_error(params)


@settings(max_examples=200, deadline=None)
@given(raw=yaml_values)
def test_any_document_validates_or_fails_cleanly(raw):
    _validate_or_clean_error(raw)


def _validate_or_clean_error(raw) -> None:
    try:
        parse_params(raw)
    except ParamsError as error:
        message = str(error)
        assert message.startswith("params.yaml: ")
        assert "\n" not in message
        assert len(message) < 400
