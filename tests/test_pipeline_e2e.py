"""A real `dvc repro` / `dvc exp run` of a tiny configuration in a temporary git repository."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from tests.e2e import (
    VARIANTS,
    dvc,
    make_repo,
    mlflow_runs,
    run,
    stages_run,
    training_runs,
    variant_runs,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("bnlab-e2e"))


@pytest.fixture(scope="module")
def first_repro(repo) -> str:
    return dvc(repo, "repro")


def store(repo: Path) -> str:
    return f"sqlite:///{repo / 'mlflow.db'}"


def test_repro_runs_every_stage(repo, first_repro):
    expected = {"generate", "split", "configure", "evaluate", "plot", "report", "publish"}
    expected |= {f"train@{v}" for v in VARIANTS}
    assert stages_run(first_repro) == expected
    assert (repo / "dvc.lock").exists()


def test_outputs_are_sane(repo, first_repro):
    for variant in VARIANTS:
        metrics = json.loads((repo / "metrics" / "variants" / f"{variant}.json").read_text())
        assert metrics["seeds"] == 2
        for name in ("train_accuracy", "test_accuracy"):
            spread = metrics[name]
            assert 0.3 <= spread["min"] <= spread["mean"] <= spread["max"] <= 1
            assert spread["std"] >= 0
        assert sorted(p.name for p in (repo / "models" / variant).iterdir()) == [
            "seed_000.keras",
            "seed_001.keras",
        ]
        history = (repo / "results" / "history" / f"{variant}.csv").read_text().splitlines()
        assert len(history) == 1 + 2 * 3
        scores = (repo / "results" / "scores" / f"{variant}.csv").read_text().splitlines()
        assert len(scores) == 1 + 2
        boundary = (repo / "results" / "boundary" / f"{variant}.csv").read_text().splitlines()
        assert boundary[0] in ("# seed 0", "# seed 1") and len(boundary) == 2 + 150 * 150
    for figure in ("dataset", "accuracy_baseline", "accuracy_bn_after", "test_accuracy_by_variant"):
        assert (repo / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (repo / "results" / "curves" / "test_accuracy.csv").read_text().splitlines()[0]
    assert header == "epoch,baseline,bn_after,bn_before"


def test_second_repro_runs_nothing(repo, first_repro):
    output = dvc(repo, "repro")
    assert stages_run(output) == set()
    assert "Data and pipelines are up to date" in output


def test_mlflow_run_entry_points_drive_the_pipeline(repo, first_repro):
    mlflow = str(Path(sys.executable).parent / "mlflow")
    output = run(repo, mlflow, "run", ".", "--env-manager", "local")
    assert "Data and pipelines are up to date" in output
    output = run(
        repo, mlflow, "run", ".", "-e", "train", "-P", "variant=bn_before", "--env-manager", "local"
    )
    assert "Stage 'train@bn_before' didn't change, skipping" in output
    client = MlflowClient(tracking_uri=store(repo))
    default = client.get_experiment_by_name("Default").experiment_id
    projects = [
        r for r in client.search_runs([default]) if "mlflow.project.entryPoint" in r.data.tags
    ]
    assert sorted(r.data.tags["mlflow.project.entryPoint"] for r in projects) == ["main", "train"]
    assert {r.info.status for r in projects} == {"FINISHED"}


def test_dvc_metrics_and_plots_work(repo, first_repro):
    shown = json.loads(dvc(repo, "metrics", "show", "--json"))
    assert shown[""]["data"]["metrics/variants/bn_after.json"]["data"]["seeds"] == 2
    plots = json.loads(dvc(repo, "plots", "show", "--json"))
    assert "Test accuracy per epoch (mean over seeds)" in plots["data"]


def test_mlflow_has_one_finished_run_per_variant_with_seed_children(repo, first_repro):
    client, runs = mlflow_runs(store(repo))
    parents = {r.info.run_name: r for r in variant_runs(runs)}
    assert set(parents) == set(VARIANTS)
    for variant, parent in parents.items():
        assert parent.info.status == "FINISHED"
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(c.data.tags["seed"] for c in children) == ["0", "1"]
        assert {c.info.status for c in children} == {"FINISHED"}
        assert all(c.data.metrics["test_accuracy"] > 0 for c in children)
        assert all(c.data.params["seed"] == c.data.tags["seed"] for c in children)
        for child in children:
            steps = client.get_metric_history(child.info.run_id, "val_accuracy")
            assert sorted(m.step for m in steps) == [1, 2, 3]
        tags = parent.data.tags
        assert (tags["variant"], tags["dvc.stage"]) == (variant, f"train@{variant}")
        assert len(tags["mlflow.source.git.commit"]) == 40
        params = parent.data.params
        assert params["train.epochs"] == "3" and params["data.n_samples"] == "200"
        assert ("bn.momentum" in params) == (variant != "baseline")
        for metric in ("accuracy", "val_accuracy", "loss", "val_loss"):
            history = client.get_metric_history(parent.info.run_id, metric)
            assert sorted(m.step for m in history) == [1, 2, 3]
        final = parent.data.metrics
        assert final["test_accuracy.ci95_low"] <= final["test_accuracy.mean"] <= 1
        artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
        assert artifacts == {"models", "history", "evaluation", "figures"}
        models = [a.path for a in client.list_artifacts(parent.info.run_id, "models")]
        assert models == ["models/seed_000.keras", "models/seed_001.keras"]
        figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
        assert f"figures/accuracy_{variant}.png" in figures


def test_forced_repro_gives_the_same_bytes(repo, first_repro):
    def hashes() -> dict[str, str]:
        lock = yaml.safe_load((repo / "dvc.lock").read_text())
        found = {}
        for stage in lock["stages"].values():
            for out in stage.get("outs", []):
                # .keras files carry a save time; run ids are new for every run.
                varying = ("models", "figures", "results/runs", "results/mlflow")
                if not out["path"].startswith(varying):
                    found[out["path"]] = out["md5"]
        return found

    before = hashes()
    dvc(repo, "repro", "-f")
    assert hashes() == before
    assert len(before) >= 10


def test_bn_momentum_experiment_reruns_only_bn_training(repo, first_repro):
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "results")
    _, before = mlflow_runs(store(repo))
    output = dvc(repo, "exp", "run", "-S", "bn.momentum=0.0")
    ran = stages_run(output)
    assert {"train@bn_after", "train@bn_before", "evaluate", "plot", "publish"} <= ran
    assert ran.isdisjoint({"generate", "split", "train@baseline"})
    table = json.loads(dvc(repo, "exp", "show", "--json"))
    shown = json.dumps(table)
    assert "bn.momentum" in shown or '"momentum": 0.0' in shown
    assert "metrics/variants/bn_after.json" in shown

    # MLflow: new BN runs tagged with the experiment, the baseline's runs untouched.
    _, after = mlflow_runs(store(repo))
    new = [r for r in training_runs(after) if r.info.run_id not in {b.info.run_id for b in before}]
    assert {r.data.tags["variant"] for r in new} == {"bn_after", "bn_before"}
    exp_name = re.search(r"Ran experiment\(s\): (\S+)", output).group(1)
    assert {r.data.tags["dvc.exp_name"] for r in new} == {exp_name}
    assert {r.data.params["bn.momentum"] for r in new} == {"0.0"}
    old_baseline = {r.info.run_id: r for r in before if r.data.tags["variant"] == "baseline"}
    for run_id, old in old_baseline.items():
        now = next(r for r in after if r.info.run_id == run_id)
        assert now.data.metrics == old.data.metrics
        assert now.data.tags == old.data.tags


def test_queued_experiment_logs_into_the_repository_store(repo, first_repro):
    _, before = mlflow_runs(store(repo))
    queued = dvc(repo, "exp", "run", "--queue", "-S", "bn.momentum=0.5")
    name = re.search(r"Queued experiment '([^']+)'", queued).group(1)
    dvc(repo, "queue", "start")
    try:
        # `queue status` may say Success before the task has run; the log ends when it does.
        log = dvc(repo, "queue", "logs", "--follow", name)
    finally:
        dvc(repo, "queue", "stop")
    assert "Running stage 'train@bn_after'" in log
    assert re.search(rf"{name}\s+\S+ \S+\s+Success", dvc(repo, "queue", "status"))
    _, after = mlflow_runs(store(repo))
    new = [r for r in after if r.info.run_id not in {b.info.run_id for b in before}]
    parents = variant_runs(new)
    assert sorted(r.info.run_name for r in parents) == ["bn_after", "bn_before"]
    assert {r.data.params["bn.momentum"] for r in parents} == {"0.5"}
    assert {r.info.status for r in new} == {"FINISHED"}
    assert not list((repo / ".dvc" / "tmp").rglob("mlflow.db")), "no store inside the temp copy"
