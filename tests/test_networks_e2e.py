"""Protects the README's extended study (CNN, LSTM) on the shared study, end to end.

README's extended study, `dvc exp run -S 'networks=[mlp,cnn,lstm]'`,
run on the shared study: it trains the CNN and LSTM variants
only, each stage declares what it imports, the outputs, report sections and
MLflow runs are there, and changing a CNN param retrains the CNN alone.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from bnlab.files.digits import read_images
from bnlab.model.network_plans import INPUT_SHAPES
from bnlab.params import DIGITS_VARIANTS
from tests import readme
from tests.e2e import (
    NETWORK_STAGE,
    SEEDS,
    check_declared_imports,
    copy_repo,
    dvc,
    import_log,
    locked,
    mlflow_runs,
    run,
    stages_run,
)

pytestmark = pytest.mark.slow

NAMES = [f"{n}_{v}" for n, variants in DIGITS_VARIANTS.items() for v in variants]
AROUND = {"networks/dvc.yaml:digits", "configure", "evaluate", "report", "publish"}


@pytest.fixture(scope="module")
def repo(networks_study) -> Path:
    return networks_study.repo


@pytest.fixture(scope="module")
def extended(networks_study) -> str:
    return networks_study.output


def test_it_trains_every_cnn_and_lstm_variant_and_nothing_of_the_mlp(extended):
    assert stages_run(extended) == {f"{NETWORK_STAGE}{n}" for n in NAMES} | AROUND


def test_every_stage_that_ran_declares_what_it_imports(repo, extended):
    # publish loads Keras only to log a model, and the MLP's are logged already
    # (test_pipeline_e2e sees it do so).
    log, ran = import_log(repo, "networks"), stages_run(extended)
    stages = locked(repo, "dvc.yaml", "networks/dvc.yaml")
    imported = check_declared_imports(repo, stages, log, ran, frozenset({"publish"}))
    assert "src/bnlab/seed_axis/copies.py" in imported[f"{NETWORK_STAGE}cnn_bn_after"]


def _per_seed(path: Path, column: str) -> np.ndarray:
    with path.open() as table:
        return np.array([float(row[column]) for row in csv.DictReader(table)])


def test_each_variant_has_its_seeds_models_that_answer_raw_digits(repo, extended):
    test = read_images(repo / "data" / "digits" / "test.csv")
    assert len(test) == 597
    headline = json.loads((repo / "metrics" / "headline.json").read_text())
    assert set(NAMES) <= set(headline)
    for name in NAMES:
        network = name.split("_")[0]
        scores = repo / "results" / "networks" / "scores" / f"{name}.csv"
        accuracy = _per_seed(scores, "test_accuracy")
        # Chance is 0.1 (s.e. 0.012 on 597 images): two epochs lift every seed above it.
        assert len(accuracy) == SEEDS and (accuracy > 0.15).all(), f"{name} learned nothing"
        stats = json.loads((repo / "results" / "stats" / f"{name}.json").read_text())
        assert stats["test_accuracy"]["mean"] == pytest.approx(accuracy.mean(), abs=1e-6)
        model = keras.saving.load_model(repo / "models" / "networks" / name / "seed_001.keras")
        raw = test.pixels.reshape(-1, *INPUT_SHAPES[network])  # pixel values 0-16
        predicted = np.argmax(model.predict(raw, verbose=0), axis=1)
        assert (predicted == test.labels).mean() == pytest.approx(accuracy[1], abs=1e-6)


def test_the_report_has_a_section_and_a_figure_per_network(repo, extended):
    summary = (repo / "reports" / "summary.md").read_text()
    numbers = json.loads((repo / "reports" / "summary.json").read_text())
    for network, title in (("cnn", "## The CNN on digits"), ("lstm", "## The LSTM on digits")):
        assert title in summary
        assert (repo / "reports" / "figures" / f"{network}_test_accuracy.png").stat().st_size
        found = numbers["networks"][network]
        assert set(found["claims"]) == {
            "bn_after_reaches_threshold_sooner",
            "placement_changes_final_accuracy",
        }
        scores = repo / "results" / "networks" / "scores" / f"{network}_bn_after.csv"
        assert found["bn_after"]["test_accuracy"]["mean"] == pytest.approx(
            _per_seed(scores, "test_accuracy").mean(), abs=1e-6
        )
        assert "vs_baseline" in found["bn_after"]
    assert "| bn_before |" in summary.split("## The CNN")[1].split("## The LSTM")[0]
    assert "| bn_before |" not in summary.split("## The LSTM")[1]


def test_each_variant_is_a_tracked_run_with_its_seeds(repo, extended):
    _, runs = mlflow_runs(f"sqlite:///{repo / 'mlflow.db'}")
    by_name = {r.info.run_name: r for r in runs if r.data.tags.get("network") in DIGITS_VARIANTS}
    assert set(NAMES) <= set(by_name)
    for name in NAMES:
        parent = by_name[name]
        assert parent.data.tags["dvc.stage"] == f"{NETWORK_STAGE}{name}"
        assert parent.data.tags["network"] == name.split("_")[0]
        assert parent.info.status == "FINISHED"
        assert "test_accuracy.mean" in parent.data.metrics, "publish adds the statistics"
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert len(children) == SEEDS
    assert by_name["lstm_bn_after"].data.params["bn.momentum"] == "0.99"
    assert "bn.momentum" not in by_name["lstm_baseline"].data.params
    mlp = [r for r in runs if r.info.run_name == "bn_after"]
    assert mlp and all(r.data.tags["network"] == "mlp" for r in mlp)


def test_the_readmes_tables_show_the_networks_and_the_study_apart(repo, extended):
    headline = json.loads((repo / "metrics" / "headline.json").read_text())
    for network, command in (
        ("cnn", readme.command("dvc exp show --drop '.*' --keep 'Experiment|cnn_'")),
        ("lstm", readme.command("dvc exp show --drop '.*' --keep 'Experiment|lstm_'")),
    ):
        table = run(repo, "bash", "-c", command, COLUMNS="120")
        lines = table.splitlines()
        assert max(len(line) for line in lines) <= 120 and "…" not in table, table
        names = next(line for line in lines if "Experiment" in line).split()[1:]
        assert names == [n for n in NAMES if n.startswith(f"{network}_")], table
        row = next(line for line in lines if "workspace" in line)
        assert all(headline[name] in row for name in names), table
    study = run(repo, "bash", "-c", readme.command("dvc exp show --only-changed"), COLUMNS="120")
    header = next(line for line in study.splitlines() if "Experiment" in line).split()
    assert header == ["Experiment", "baseline", "bn_after", "bn_before"], study


def test_changing_a_cnn_param_leaves_the_mlp_and_the_lstm_cached(repo, tmp_path):
    again = dvc(copy_repo(repo, tmp_path / "repo"), "exp", "run", "-S", "cnn.units=8")
    ran = stages_run(again)
    assert {s for s in ran if "train" in s} == {f"{NETWORK_STAGE}{n}" for n in NAMES[:3]}
    assert ran == {f"{NETWORK_STAGE}{n}" for n in NAMES[:3]} | {
        "configure",
        "evaluate",
        "report",
        "publish",
    }
