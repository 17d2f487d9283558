"""Protects the CNN and the LSTM as data: params, configs, plans, files, models."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from bnlab.errors import DataError, ParamsError
from bnlab.files.digits import COLUMNS, Images, read_images, write_images
from bnlab.model.network_plans import PLANS, describe_plan
from bnlab.params import (
    DIGITS_VARIANTS,
    VARIANT_PLACEMENTS,
    load_network_config,
    network_config,
    parse_params,
    write_config,
)
from bnlab.stages import configure, digits
from tests.conftest import ROOT


def _with_networks(params: dict, networks: list[str]) -> dict:
    changed = copy.deepcopy(params)
    changed["networks"] = networks
    return changed


@pytest.mark.parametrize(
    ("networks", "expected"),
    [
        (["cnn"], "networks = ['cnn']: must list mlp (dvc.yaml always trains it)"),
        (["mlp", "cnn", "cnn"], "networks = ['mlp', 'cnn', 'cnn']: must list mlp"),
        (["mlp", "rnn"], "networks.1 = 'rnn': Input should be 'mlp', 'cnn' or 'lstm'"),
        ([], "networks = []: Tuple should have at least 1 item"),
    ],
)
def test_bad_networks_get_one_line(default_params_dict, networks, expected):
    with pytest.raises(ParamsError) as caught:
        parse_params(_with_networks(default_params_dict, networks))
    assert str(caught.value).startswith(f"params.yaml: {expected}")
    assert "\n" not in str(caught.value)


def test_default_study_is_the_mlp_alone(default_params_dict):
    params = parse_params(default_params_dict)
    assert params.networks == ("mlp",)
    assert params.network_variants() == []


def test_every_variant_of_a_network_has_a_plan_and_a_stage():
    assert {n: {VARIANT_PLACEMENTS[v] for v in vs} for n, vs in DIGITS_VARIANTS.items()} == {
        n: set(plans) for n, plans in PLANS.items()
    }
    stages = yaml.safe_load((ROOT / "networks" / "dvc.yaml").read_text())["stages"]
    listed = stages["train_network"]["foreach"]
    assert listed == [f"{n}_{v}" for n, vs in DIGITS_VARIANTS.items() for v in vs]


def test_plans_are_the_tutorials_fragments():
    assert describe_plan("cnn", "after", 32) == (
        "Rescaling(1/16) -> Conv2D(32, 3x3, relu) -> Conv2D(32, 3x3, relu) -> "
        "BatchNormalization -> MaxPooling2D -> Flatten -> Dense(10, softmax)"
    )
    assert describe_plan("cnn", "before", 32).count("Conv2D(32, 3x3) -> BatchNormalization -> ReLU")
    assert describe_plan("lstm", "after", 32) == (
        "Rescaling(1/16) -> LSTM(32) -> BatchNormalization -> Dense(10, softmax)"
    )
    assert "before" not in PLANS["lstm"]


def _configs(params_dict: dict, tmp_path) -> dict[str, bytes]:
    tmp_path.mkdir()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict))
    out = tmp_path / "configs"
    configure.main(["--params", str(tmp_path / "params.yaml"), "--out-dir", str(out)])
    return {p.name: p.read_bytes() for p in sorted((out / "networks").iterdir())}


def test_configs_keep_the_training_of_what_a_change_does_not_touch(default_params_dict, tmp_path):
    everything = _with_networks(default_params_dict, ["mlp", "cnn", "lstm"])
    before = _configs(everything, tmp_path / "a")
    assert sorted(before) == [f"{n}_{v}.json" for n, vs in DIGITS_VARIANTS.items() for v in vs]

    changed = copy.deepcopy(everything)
    changed["cnn"]["units"] = 16
    changed["cnn"]["threshold"] = 0.5  # evaluation only: no training reads it
    changed["lstm"]["threshold"] = 0.5
    after = _configs(changed, tmp_path / "b")
    assert [n for n in before if before[n] != after[n]] == [
        "cnn_baseline.json",
        "cnn_bn_after.json",
        "cnn_bn_before.json",
    ]

    changed = copy.deepcopy(everything)
    changed["bn"]["momentum"] = 0.0
    after = _configs(changed, tmp_path / "c")
    assert [n for n in before if before[n] != after[n]] == [
        "cnn_bn_after.json",
        "cnn_bn_before.json",
        "lstm_bn_after.json",
    ]

    only_cnn = _configs(_with_networks(default_params_dict, ["mlp", "cnn"]), tmp_path / "d")
    assert [n for n in before if before[n] != only_cnn[n]] == [
        "lstm_baseline.json",
        "lstm_bn_after.json",
    ]


def test_a_config_carries_its_networks_epochs_and_bn_only_with_bn(default_params_dict, tmp_path):
    params_dict = _with_networks(default_params_dict, ["mlp", "lstm"])
    params_dict["lstm"]["epochs"] = 7
    params = parse_params(params_dict)
    baseline = network_config(params, "lstm", "baseline")
    assert (baseline.train.epochs, baseline.bn, baseline.units) == (7, None, 32)
    assert network_config(params, "lstm", "bn_after").bn == params.bn
    write_config(baseline, tmp_path / "lstm_baseline.json")
    assert load_network_config(tmp_path / "lstm_baseline.json") == baseline

    write_config(network_config(params, "cnn", "baseline"), tmp_path / "cnn_baseline.json")
    assert load_network_config(tmp_path / "cnn_baseline.json") is None


def test_a_broken_config_gets_one_line(tmp_path):
    path = tmp_path / "cnn_baseline.json"
    path.write_text("{not json")
    with pytest.raises(ParamsError, match=r"cnn_baseline.json: not valid JSON"):
        load_network_config(path)
    path.write_text('{"network": "cnn", "variant": "baseline"}')
    with pytest.raises(ParamsError, match=r"cnn_baseline.json: placement: missing"):
        load_network_config(path)


def test_digits_file_round_trip_and_bad_input(tmp_path):
    images = Images(np.arange(3 * 64, dtype=np.float32).reshape(3, 64) % 17, np.array([0, 9, 4]))
    write_images(images, tmp_path / "d.csv")
    read = read_images(tmp_path / "d.csv")
    np.testing.assert_array_equal(read.pixels, images.pixels)
    np.testing.assert_array_equal(read.labels, images.labels)

    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(COLUMNS) + "\n" + ",".join(["17"] * 64 + ["1"]) + "\n")
    with pytest.raises(DataError, match="pixels must be 0-16 and labels 0-9"):
        read_images(bad)
    bad.write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(DataError, match="holds no rows"):
        read_images(bad)


def test_digits_stage_splits_load_digits_or_writes_headers(default_params_dict, tmp_path):
    params = tmp_path / "params.yaml"
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    args = ["--params", str(params), "--train", str(train), "--test", str(test)]

    params.write_text(yaml.safe_dump(default_params_dict))
    digits.main(args)
    assert train.read_text() == test.read_text() == ",".join(COLUMNS) + "\n"

    params.write_text(yaml.safe_dump(_with_networks(default_params_dict, ["mlp", "cnn"])))
    digits.main(args)
    first, rest = read_images(train), read_images(test)
    assert (len(first), len(rest)) == (1200, 597)
    assert first.pixels.max() == 16 and set(first.labels.tolist()) == set(range(10))
    every = digits.load_digits()
    np.testing.assert_array_equal(rest.pixels, every.pixels[1200:])


@pytest.mark.parametrize(("network", "variant"), [("cnn", "bn_before"), ("lstm", "bn_after")])
def test_a_model_takes_raw_images_and_scales_them_itself(default_params_dict, network, variant):
    from bnlab.model.networks import build_network

    params = parse_params(_with_networks(default_params_dict, ["mlp", network]))
    model = build_network(network_config(params, network, variant))
    assert model.layers[0].name == "scale"
    raw = np.full((2, 8, 8, 1) if network == "cnn" else (2, 8, 8), 16.0, np.float32)
    probability = np.asarray(model(raw, training=False))
    assert probability.shape == (2, 10)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-5)


def test_a_variant_not_selected_trains_nothing_and_says_so(default_params_dict, tmp_path):
    from bnlab.stages import train_network

    configs = tmp_path / "configs"
    _configs(default_params_dict, configs)  # networks: [mlp]
    models, history, scores = tmp_path / "models", tmp_path / "h.csv", tmp_path / "s.csv"
    train_network.main(
        [
            *("--config", str(configs / "configs" / "networks" / "lstm_bn_after.json")),
            *("--train", "absent.csv", "--test", "absent.csv"),  # never read
            *("--models-dir", str(models), "--history", str(history), "--scores", str(scores)),
        ]
    )
    assert [p.name for p in models.iterdir()] == [train_network.NOT_SELECTED]
    assert (
        "lstm is not in params.yaml's networks" in (models / train_network.NOT_SELECTED).read_text()
    )
    assert (
        history.read_text().startswith("seed,epoch,") and len(history.read_text().splitlines()) == 1
    )
    assert scores.read_text().startswith("seed,") and len(scores.read_text().splitlines()) == 1
