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
from bnlab.stages import configure_networks, digits
from tests.conftest import ROOT


def _with_variants(params: dict, variants: list[str]) -> dict:
    changed = copy.deepcopy(params)
    changed["networks"]["variants"] = variants
    return changed


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (["cnn_bn_after"], "networks.variants = ['cnn_bn_after']: cnn's variants are set"),
        (["cnn_baseline", "cnn_baseline"], "networks.variants = ['cnn_baseline', 'cnn_baseline']"),
        (["lstm_bn_before"], "networks.variants.0 = 'lstm_bn_before': Input should be"),
        ([], "networks.variants = []: Tuple should have at least 1 item"),
    ],
)
def test_bad_network_variants_get_one_line(default_params_dict, variants, expected):
    with pytest.raises(ParamsError) as caught:
        parse_params(_with_variants(default_params_dict, variants))
    assert str(caught.value).startswith(f"params.yaml: {expected}")
    assert "\n" not in str(caught.value)


def test_the_study_reads_no_networks_param_and_networks_pipeline_trains_what_it_lists():
    study = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    # configure tracks the whole file only to check every key before any work
    # (a changed networks param reruns it alone: its configs keep their bytes).
    assert study["configure"]["params"] == [{"params.yaml": None}]
    read = {p for stage in study.values() for p in stage.get("params", []) if isinstance(p, str)}
    assert not {p for p in read if p.startswith(("networks", "digits", "cnn", "lstm"))}
    deps = {d for stage in study.values() for d in stage.get("deps", [])}
    assert not {d for d in deps if "networks" in d or "digits" in d}, "no networks file"

    assert {n: {VARIANT_PLACEMENTS[v] for v in vs} for n, vs in DIGITS_VARIANTS.items()} == {
        n: set(plans) for n, plans in PLANS.items()
    }
    stages = yaml.safe_load((ROOT / "networks" / "dvc.yaml").read_text())["stages"]
    assert stages["train_network"]["foreach"] == "${networks.variants}"
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert params["networks"]["variants"] == [
        f"{n}_{v}" for n, vs in DIGITS_VARIANTS.items() for v in vs
    ]


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
    configure_networks.main(["--params", str(tmp_path / "params.yaml"), "--out-dir", str(out)])
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_configs_keep_the_training_of_what_a_change_does_not_touch(default_params_dict, tmp_path):
    before = _configs(default_params_dict, tmp_path / "a")
    assert sorted(before) == [f"{n}_{v}.json" for n, vs in DIGITS_VARIANTS.items() for v in vs]

    changed = copy.deepcopy(default_params_dict)
    changed["networks"]["cnn"]["units"] = 16
    changed["networks"]["cnn"]["threshold"] = 0.5  # evaluation only: no training reads it
    changed["networks"]["lstm"]["threshold"] = 0.5
    after = _configs(changed, tmp_path / "b")
    assert [n for n in before if before[n] != after[n]] == [
        "cnn_baseline.json",
        "cnn_bn_after.json",
        "cnn_bn_before.json",
    ]

    changed = copy.deepcopy(default_params_dict)
    changed["bn"]["momentum"] = 0.0
    after = _configs(changed, tmp_path / "c")
    assert [n for n in before if before[n] != after[n]] == [
        "cnn_bn_after.json",
        "cnn_bn_before.json",
        "lstm_bn_after.json",
    ]

    only_cnn = _configs(
        _with_variants(default_params_dict, ["cnn_baseline", "cnn_bn_after"]), tmp_path / "d"
    )
    assert only_cnn == {name: before[name] for name in ("cnn_baseline.json", "cnn_bn_after.json")}


def test_a_config_carries_its_networks_epochs_and_bn_only_with_bn(default_params_dict, tmp_path):
    params_dict = copy.deepcopy(default_params_dict)
    params_dict["networks"]["lstm"]["epochs"] = 7
    params = parse_params(params_dict)
    baseline = network_config(params, "lstm_baseline")
    assert (baseline.train.epochs, baseline.bn, baseline.units) == (7, None, 32)
    assert network_config(params, "lstm_bn_after").bn == params.bn
    write_config(baseline, tmp_path / "lstm_baseline.json")
    assert load_network_config(tmp_path / "lstm_baseline.json") == baseline


def test_a_broken_config_gets_one_line(tmp_path):
    path = tmp_path / "cnn_baseline.json"
    path.write_text("{not json")
    with pytest.raises(ParamsError, match=r"cnn_baseline.json: .*Invalid JSON"):
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


def test_digits_stage_splits_load_digits(default_params_dict, tmp_path):
    params = tmp_path / "params.yaml"
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    params.write_text(yaml.safe_dump(default_params_dict))
    digits.main(["--params", str(params), "--train", str(train), "--test", str(test)])
    first, rest = read_images(train), read_images(test)
    assert (len(first), len(rest)) == (1200, 597)
    assert first.pixels.max() == 16 and set(first.labels.tolist()) == set(range(10))
    every = digits.load_digits()
    np.testing.assert_array_equal(rest.pixels, every.pixels[1200:])


@pytest.mark.parametrize(("network", "variant"), [("cnn", "bn_before"), ("lstm", "bn_after")])
def test_a_model_takes_raw_images_and_scales_them_itself(default_params_dict, network, variant):
    from bnlab.model.networks import build_network

    params = parse_params(default_params_dict)
    model = build_network(network_config(params, f"{network}_{variant}"))
    assert model.layers[0].name == "scale"
    raw = np.full((2, 8, 8, 1) if network == "cnn" else (2, 8, 8), 16.0, np.float32)
    probability = np.asarray(model(raw, training=False))
    assert probability.shape == (2, 10)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("network", "key", "value", "expected"),
    [
        ("cnn", "epochs", 0, "networks.cnn.epochs = 0: Input should be greater than or equal to 1"),
        ("lstm", "threshold", 1.5, "networks.lstm.threshold = 1.5: Input should be less than"),
    ],
)
def test_a_bad_network_setting_gets_one_line(default_params_dict, network, key, value, expected):
    changed = copy.deepcopy(default_params_dict)
    changed["networks"][network][key] = value
    with pytest.raises(ParamsError) as caught:
        parse_params(changed)
    assert str(caught.value).startswith(f"params.yaml: {expected}")
