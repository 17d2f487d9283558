"""Protects the README's `make networks` (the CNN and the LSTM) on the shared study.

It runs the networks' pipeline alone: each stage declares what it imports; the
outputs, networks.md and the MLflow runs are there; each network's models are
registered, load as pyfunc and are served on raw digits; a CNN param
retrains the CNN alone.
"""

from __future__ import annotations

import csv
import json
import urllib.request
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

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
    free_port,
    import_log,
    locked,
    mlflow_runs,
    run,
    stages_run,
    start_server,
    stop,
)

pytestmark = pytest.mark.slow

NAMES = [f"{n}_{v}" for n, variants in DIGITS_VARIANTS.items() for v in variants]
PIPELINE = "networks/dvc.yaml"
AROUND = {f"{PIPELINE}:{stage}" for stage in ("digits", "configure", "evaluate", "report")}
AROUND |= {f"{PIPELINE}:publish"}


@pytest.fixture(scope="module")
def repo(networks_study) -> Path:
    return networks_study.repo


@pytest.fixture(scope="module")
def made(networks_study) -> str:
    return networks_study.output


def test_it_runs_the_networks_pipeline_alone(made):
    assert stages_run(made) == {f"{NETWORK_STAGE}{n}" for n in NAMES} | AROUND


def test_every_stage_declares_what_it_imports(repo, made):
    log = import_log(repo, "networks")
    imported = check_declared_imports(repo, locked(repo, PIPELINE), log)
    assert "src/bnlab/seed_axis/copies.py" in imported[f"{NETWORK_STAGE}cnn_bn_after"]


def _per_seed(path: Path, column: str) -> np.ndarray:
    with path.open() as table:
        return np.array([float(row[column]) for row in csv.DictReader(table)])


def _raw(repo: Path, network: str):
    test = read_images(repo / "data" / "digits" / "test.csv")
    return test.pixels.reshape(-1, *INPUT_SHAPES[network]), test.labels  # pixel values 0-16


def test_each_variant_has_its_seeds_models_that_answer_raw_digits(repo, made):
    headline = json.loads((repo / "metrics" / "networks.json").read_text())
    assert list(headline) == NAMES
    for name in NAMES:
        network = name.split("_")[0]
        scores = repo / "networks" / "results" / "scores" / f"{name}.csv"
        accuracy = _per_seed(scores, "test_accuracy")
        # Chance is 0.1 (s.e. 0.012 on 597 images): two epochs lift every seed above it.
        assert len(accuracy) == SEEDS and (accuracy > 0.15).all(), f"{name} learned nothing"
        stats = json.loads((repo / "networks" / "results" / "stats" / f"{name}.json").read_text())
        assert stats["test_accuracy"]["mean"] == pytest.approx(accuracy.mean(), abs=1e-6)
        model = keras.saving.load_model(repo / "networks" / "models" / name / "seed_001.keras")
        raw, labels = _raw(repo, network)
        predicted = np.argmax(model.predict(raw, verbose=0), axis=1)
        assert (predicted == labels).mean() == pytest.approx(accuracy[1], abs=1e-6)


def test_the_report_has_a_section_a_figure_and_curves_per_network(repo, made):
    text = (repo / "reports" / "networks.md").read_text()
    numbers = json.loads((repo / "reports" / "networks.json").read_text())
    for network, title in (("cnn", "## The CNN on digits"), ("lstm", "## The LSTM on digits")):
        assert title in text
        assert (repo / "reports" / "networks" / f"{network}_test_accuracy.png").stat().st_size
        assert f"](networks/{network}_test_accuracy.png)" in text
        found = numbers[network]
        assert set(found["claims"]) == {
            "bn_after_reaches_threshold_sooner",
            "bn_after_raises_test_accuracy",
            "placement_changes_final_accuracy",
        }
        scores = repo / "networks" / "results" / "scores" / f"{network}_bn_after.csv"
        assert found["bn_after"]["test_accuracy"]["mean"] == pytest.approx(
            _per_seed(scores, "test_accuracy").mean(), abs=1e-6
        )
        curves = repo / "networks" / "results" / "curves" / f"{network}_test_accuracy.csv"
        header = curves.read_text().splitlines()[0]
        assert header == ",".join(["epoch", *DIGITS_VARIANTS[network]])
    assert "| bn_before |" in text.split("## The CNN")[1].split("## The LSTM")[0]
    assert "| bn_before |" not in text.split("## The LSTM")[1]
    # The study's report is the MLP's alone.
    assert "## The CNN" not in (repo / "reports" / "summary.md").read_text()


def test_each_variant_is_a_tracked_run_with_its_seeds(repo, made):
    _, runs = mlflow_runs(f"sqlite:///{repo / 'mlflow.db'}")
    by_name = {
        r.info.run_name: r
        for r in runs
        if r.data.tags.get("network") in DIGITS_VARIANTS and "seed" not in r.data.tags
    }
    assert set(by_name) == set(NAMES)
    for name in NAMES:
        parent = by_name[name]
        assert parent.data.tags["dvc.stage"] == f"{NETWORK_STAGE}{name}"
        assert parent.info.status == "FINISHED"
        assert "test_accuracy.mean" in parent.data.metrics, "publish adds the statistics"
        # Its threshold's name (no seed may reach it in a tiny study's two epochs).
        named = "epochs_to_90" if name.startswith("cnn") else "epochs_to_80"
        stats = json.loads((repo / "networks" / "results" / "stats" / f"{name}.json").read_text())
        assert named in stats
        shown = {key.split(".")[0] for key in parent.data.metrics if key.startswith("epochs_to_")}
        assert shown <= {named}, "the metric names its network's threshold"
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert len(children) == SEEDS
    assert by_name["lstm_bn_after"].data.params["bn.momentum"] == "0.99"
    assert "bn.momentum" not in by_name["lstm_baseline"].data.params
    report = [r for r in runs if r.info.run_name == "networks"]
    assert len(report) == 1 and report[0].info.status == "FINISHED"


def test_each_networks_models_are_registered_and_load_on_raw_digits(repo, made, use_store):
    store = f"sqlite:///{repo / 'mlflow.db'}"
    client = MlflowClient(store)
    use_store(store)
    for network, variants in DIGITS_VARIANTS.items():
        name = f"bn-digits-{network}"
        assert set(client.get_registered_model(name).aliases) == {*variants, "best"}
        means = {
            v: json.loads(
                (repo / "networks" / "results" / "stats" / f"{network}_{v}.json").read_text()
            )["test_accuracy"]["mean"]
            for v in variants
        }
        best = client.get_model_version_by_alias(name, "best")
        assert best.tags["variant"] == max(means, key=means.get)
        model = client.get_logged_model(best.source.removeprefix("models:/"))
        assert {m.key for m in model.metrics} >= {"test_accuracy", "train_accuracy"}
        raw, _ = _raw(repo, network)
        loaded = mlflow.pyfunc.load_model(f"models:/{name}@best")
        assert loaded.metadata.get_input_schema().inputs[0].shape == (-1, *INPUT_SHAPES[network])
        seed = f"seed_{int(best.tags['seed']):03d}.keras"
        saved = keras.saving.load_model(
            repo / "networks" / "models" / f"{network}_{best.tags['variant']}" / seed
        )
        np.testing.assert_array_equal(loaded.predict(raw), saved.predict(raw, verbose=0))


def test_make_serve_answers_raw_digits_with_the_best_cnn(repo, made):
    port = str(free_port())
    serve = readme.command("make serve MODEL=bn-digits-cnn@best")
    server = start_server(f"SERVE_PORT={port} {serve}", repo, int(port), repo.with_name("cnn.log"))
    try:
        raw, labels = _raw(repo, "cnn")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps({"inputs": raw[:50].tolist()}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            served = np.array(json.loads(answer.read())["predictions"])
    finally:
        stop(server)
    assert served.shape == (50, 10)
    np.testing.assert_allclose(served.sum(axis=1), 1.0, rtol=1e-5)
    assert (np.argmax(served, axis=1) == labels[:50]).mean() > 0.15


def test_the_readmes_tables_show_each_network(repo, made):
    headline = json.loads((repo / "metrics" / "networks.json").read_text())
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


def test_their_curves_are_dvc_plots(repo, made, tmp_path):
    copy = copy_repo(repo, tmp_path / "repo")  # dvc plots writes its page into the repository
    drawn = run(copy, "bash", "-c", readme.command("dvc plots show -x epoch networks/"))
    assert "failed to load" not in drawn
    page = Path(drawn.strip().splitlines()[-1].removeprefix("file://")).read_text()
    for network, variants in DIGITS_VARIANTS.items():
        assert f"{network}_test_accuracy.csv" in page
        assert all(variant in page for variant in variants)
    assert "bn_before" in page


def test_changing_a_cnn_param_retrains_the_cnn_alone(repo, tmp_path):
    copy = copy_repo(repo, tmp_path / "repo")
    again = dvc(copy, "exp", "run", "-S", "networks.cnn.units=8", PIPELINE)
    ran = stages_run(again)
    cnn = {f"{NETWORK_STAGE}{n}" for n in NAMES[:3]}
    assert {s for s in ran if "train" in s} == cnn
    assert ran == cnn | {f"{PIPELINE}:{s}" for s in ("configure", "evaluate", "report", "publish")}
