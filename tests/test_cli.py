"""Protects the command line dvc.yaml calls: one clear line and a non-zero exit on bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from mlflow import MlflowClient

from bnlab.cli import STAGES
from bnlab.runtime.collector import FULL_PASS_AFTER
from tests.e2e import ROOT


def _run(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "bnlab", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_bad_param_is_one_line_and_exit_1(tmp_path, tiny_params_dict):
    tiny_params_dict["bn"]["momentum"] = 1.5
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params_dict))
    result = _run(["configure", "--out-dir", "configs"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "bnlab configure: error: params.yaml: bn.momentum = 1.5: must be at least 0 and "
        "below 1 (at 1 the moving mean and variance never update, and inference uses their "
        "initial values)"
    ]
    assert not (tmp_path / "configs").exists(), "nothing is written before params are valid"


def test_corrupt_input_names_the_file(tmp_path, tiny_params_dict):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params_dict))
    (tmp_path / "raw.csv").write_text("x1,x2,label\n0.1,oops,1\n")
    result = _run(["split", "--raw", "raw.csv", "--train", "tr.csv", "--test", "te.csv"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "bnlab split: error: raw.csv: line 2 is not x1,x2,label: '0.1,oops,1'"
    )


TRAIN_BN_AFTER = [
    "train",
    "--config",
    "configs/bn_after.json",
    "--train",
    "tr.csv",
    "--test",
    "te.csv",
    "--models-dir",
    "models",
    "--history",
    "history.csv",
    "--scores",
    "scores.csv",
    "--boundary",
    "boundary.csv",
]


def _prepare(folder, params: dict) -> None:
    """params.yaml, then generate, split and configure, as dvc.yaml runs them."""
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    for args in (
        ["generate", "--out", "raw.csv"],
        ["split", "--raw", "raw.csv", "--train", "tr.csv", "--test", "te.csv"],
        ["configure", "--out-dir", "configs"],
    ):
        assert _run(args, folder).returncode == 0


def test_training_keeps_framework_noise_off_the_terminal(tmp_path, tiny_params_dict):
    _prepare(tmp_path, tiny_params_dict)
    result = _run(TRAIN_BN_AFTER, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[0] == "train bn_after: 2 seeds x 3 epochs, all at once"
    assert result.stdout.splitlines()[1].startswith("train bn_after: trained in")
    assert (tmp_path / "mlflow.db").exists(), "outside a DVC repo the store is in the working dir"


def test_unknown_stage_prints_usage():
    result = _run(["fly"], None)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m bnlab")


@pytest.mark.parametrize("entry", ["bnlab", "bnlab.tracking.train_log"])
def test_stage_processes_make_full_collector_passes_seldom(entry):
    """The stage's entry and its MLflow worker's: the younger generations keep
    Python's thresholds, full passes wait for FULL_PASS_AFTER of them."""
    code = (
        "import gc, runpy, sys\n"
        "default = gc.get_threshold()\n"
        "sys.argv = ['bnlab']\n"
        "try:\n"
        f"    runpy.run_module({entry!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    print(default[:2] == gc.get_threshold()[:2], gc.get_threshold()[2])\n"
    )
    said = subprocess.run(
        [sys.executable, "-c", code], input="", capture_output=True, text=True, timeout=60
    )
    assert said.stdout.split() == ["True", str(FULL_PASS_AFTER)], said.stderr


def test_help_lists_every_stage_of_every_pipeline_with_a_line_each():
    result = _run(["--help"], None)
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert listed == list(STAGES)
    commands = set()
    for pipeline in ("dvc.yaml", "extensions/dvc.yaml", "networks/dvc.yaml"):
        stages = yaml.safe_load((ROOT / pipeline).read_text())["stages"]
        for stage in stages.values():
            cmd = stage.get("cmd") or stage["do"]["cmd"]
            commands.add(cmd.split()[3])  # python -m bnlab STAGE
    assert commands == set(STAGES), "each stage a pipeline runs, and no other"
    assert all(len(line.split(maxsplit=1)) == 2 for line in result.stdout.splitlines()[3:-2])


@pytest.mark.parametrize(
    ("signum", "status", "said"),
    [
        (signal.SIGTERM, 143, "terminated"),
        (signal.SIGINT, 130, "interrupted"),
    ],
)
def test_interrupted_training_ends_its_mlflow_runs_killed(
    tmp_path, tiny_params_dict, signum, status, said
):
    tiny_params_dict["train"].update(epochs=20000, seeds=4)  # a minute or more
    _prepare(tmp_path, tiny_params_dict)
    process = subprocess.Popen(
        [sys.executable, "-m", "bnlab", *TRAIN_BN_AFTER],
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline().startswith("train bn_after: 4 seeds x 20000 epochs")
    time.sleep(2)  # training
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == status
    assert stderr.strip() == f"bnlab train: {said}"
    for output in ("history.csv", "scores.csv", "boundary.csv"):
        assert not (tmp_path / output).exists(), "no partial result is written"
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("bn-circles").experiment_id])
    statuses = {r.info.run_name: r.info.status for r in runs}
    assert statuses == {
        name: "KILLED" for name in ["bn_after", *(f"bn_after-seed-{s}" for s in range(4))]
    }


def test_a_failed_training_ends_its_mlflow_runs_failed_with_the_error(tmp_path, tiny_params_dict):
    _prepare(tmp_path, tiny_params_dict)
    (tmp_path / "models").write_text("a file where the models folder should be")
    result = _run(TRAIN_BN_AFTER, tmp_path)
    assert result.returncode != 0
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("bn-circles").experiment_id])
    assert {r.info.status for r in runs} == {"FAILED"}
    assert len(runs) == 3
    assert all("FileExistsError: [Errno 17]" in r.data.tags["error"] for r in runs)


@pytest.mark.parametrize(
    ("store", "problem"),
    [
        ("sqlite:///{tmp}/params.yaml/m.db", "no folder {tmp}/params.yaml"),  # inside a file
        ("sqlite:///{tmp}/params.yaml", "not an SQLite database"),
        ("http://127.0.0.1:9", "cannot be reached ([Errno 111] Connection refused)"),
    ],
)
def test_an_unusable_mlflow_store_is_reported_in_one_line_before_training(
    tmp_path, tiny_params_dict, store, problem
):
    _prepare(tmp_path, tiny_params_dict)
    uri = store.format(tmp=tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bnlab", *TRAIN_BN_AFTER],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
    )
    assert result.returncode == 1
    assert result.stdout == ""  # not a line of training
    assert result.stderr.splitlines() == [
        f"bnlab train: error: MLflow store {uri}: {problem.format(tmp=tmp_path)}; "
        + result.stderr.split("; ", 1)[1].rstrip("\n")
    ]
    assert not (tmp_path / "history.csv").exists()


def test_seed_runs_get_every_epoch_in_blocks_as_history_has_it(tmp_path, tiny_params_dict):
    tiny_params_dict["train"].update(epochs=45, seeds=2)  # as blocks, or with the scores
    _prepare(tmp_path, tiny_params_dict)
    result = _run(TRAIN_BN_AFTER, tmp_path)
    assert result.returncode == 0, result.stderr
    history = {}
    for line in (tmp_path / "history.csv").read_text().splitlines()[1:]:
        seed, epoch, _, _, val_accuracy, _ = line.split(",")
        history[(int(seed), int(epoch))] = float(val_accuracy)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("bn-circles").experiment_id])
    children = {r.data.tags["seed"]: r for r in runs if "seed" in r.data.tags}
    assert sorted(children) == ["0", "1"]
    for seed, child in children.items():
        logged = client.get_metric_history(child.info.run_id, "val_accuracy")
        assert sorted((m.step, m.value) for m in logged) == [
            (epoch, history[(int(seed), epoch)]) for epoch in range(1, 46)
        ]
        # the final model.evaluate and the last epoch's validation: same accuracy
        final = child.data.metrics["test_accuracy"]
        assert final == pytest.approx(history[(int(seed), 45)], abs=1e-6)
