"""Protects the default pipeline end to end, on the shared study and copies of it.

Default pipeline end to end: the shared study's real `dvc repro`
(stages, declared imports, outputs, MLflow runs, registry, serving) and, on
copies of it, `dvc exp run`, a forced repro and `mlflow run`.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from bnlab.files.dataset import read_csv
from bnlab.files.scores import read_scores
from bnlab.tracking.publishing import HEADLINE
from bnlab.tracking.store import DESCRIPTION_TAG, MODEL_TAG
from tests import readme
from tests.e2e import (
    EPOCHS,
    SEEDS,
    VARIANTS,
    check_declared_imports,
    dvc,
    free_port,
    import_log,
    locked,
    mlflow_runs,
    output_hashes,
    run,
    stages_run,
    start_server,
    stop,
    training_runs,
    variant_runs,
)

MODEL = "bn-circles"

pytestmark = pytest.mark.slow


def store(repo: Path) -> str:
    return f"sqlite:///{repo / 'mlflow.db'}"


@pytest.fixture
def repo(study, copy_of) -> Path:
    """A copy of the shared study, for a test that changes it."""
    return copy_of(study)


def test_repro_runs_every_stage(study):
    repo = study.repo
    expected = {"generate", "split", "configure", "evaluate", "plot", "report", "publish"}
    expected |= {f"train@{v}" for v in VARIANTS}
    assert stages_run(study.output) == expected, "no stage of the optional pipelines"
    assert (repo / "dvc.lock").exists()
    assert not (repo / "data" / "digits").exists() and not (repo / "networks" / "models").exists()


def test_every_stage_declares_every_project_file_its_processes_import(study):
    repo = study.repo
    stages = locked(repo, "dvc.yaml")
    imported = check_declared_imports(repo, stages, import_log(repo))
    assert "src/bnlab/tracking/train_log.py" in imported["train@bn_after"], "the worker is seen"


def test_outputs_are_those_of_every_seed_and_epoch(study):
    repo = study.repo
    headline = json.loads((repo / "metrics" / "headline.json").read_text())
    assert list(headline) == list(VARIANTS)
    for variant in VARIANTS:
        stats = json.loads((repo / "results" / "stats" / f"{variant}.json").read_text())
        assert stats["seeds"] == SEEDS
        assert headline[variant].startswith(f"{stats['test_accuracy']['mean']:.3f} ±")
        scores = read_scores(repo / "results" / "scores" / f"{variant}.csv")
        assert sorted(scores) == list(range(SEEDS))
        for name in ("train_accuracy", "test_accuracy"):
            per_seed = np.array([scores[seed][name] for seed in sorted(scores)])
            spread = stats[name]
            # The statistics (to 6 places) are those of the seeds' own scores, and
            # the seeds differ.
            found = [spread[key] for key in ("mean", "std", "min", "max")]
            expected = [per_seed.mean(), per_seed.std(ddof=1), per_seed.min(), per_seed.max()]
            assert found == pytest.approx(expected, abs=1e-6)
            assert spread["std"] > 0, "every seed trained the same model"
            assert spread["min"] >= 0.3
        assert sorted(p.name for p in (repo / "models" / variant).iterdir()) == [
            f"seed_{seed:03d}.keras" for seed in range(SEEDS)
        ]
        history = (repo / "results" / "history" / f"{variant}.csv").read_text().splitlines()
        assert len(history) == 1 + SEEDS * EPOCHS
        boundary = (repo / "results" / "boundary" / f"{variant}.csv").read_text().splitlines()
        seeds = {f"# seed {seed}" for seed in range(SEEDS)}
        assert boundary[0] in seeds and len(boundary) == 2 + 150 * 150
    for figure in ("dataset", "accuracy_baseline", "accuracy_bn_after", "test_accuracy_by_variant"):
        assert (repo / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (repo / "results" / "curves" / "test_accuracy.csv").read_text().splitlines()[0]
    assert header == "epoch,baseline,bn_after,bn_before"


def test_second_repro_runs_nothing(repo):
    output = dvc(repo, "repro")
    assert stages_run(output) == set()
    assert "Data and pipelines are up to date" in output


def test_mlflow_run_entry_points_drive_the_pipeline(repo):
    output = run(repo, "bash", "-c", readme.command("mlflow run . --env-manager"))
    assert "Data and pipelines are up to date" in output
    output = run(repo, "bash", "-c", readme.command("mlflow run . -e train"))
    assert "Stage 'train@bn_before' didn't change, skipping" in output
    _, runs = mlflow_runs(store(repo))
    projects = [r for r in runs if "mlflow.project.entryPoint" in r.data.tags]
    assert sorted(r.data.tags["mlflow.project.entryPoint"] for r in projects) == ["main", "train"]
    assert {r.info.status for r in projects} == {"FINISHED"}


def test_dvc_metrics_and_plots_work(repo):
    headline = json.loads((repo / "metrics" / "headline.json").read_text())
    shown = run(repo, "bash", "-c", readme.command("dvc metrics show"))
    assert shown.splitlines()[0].split() == ["Path", *VARIANTS]
    assert shown.splitlines()[1].split("  ")[0] == "metrics/headline.json"
    assert all(headline[v] in shown.splitlines()[1] for v in VARIANTS)
    assert "metrics/headline.json" in run(repo, "bash", "-c", readme.command("dvc metrics diff"))
    drawn = run(repo, "bash", "-c", readme.command("dvc plots show"))
    page = Path(drawn.strip().splitlines()[-1].removeprefix("file://")).read_text()
    assert "Test accuracy per epoch (mean over seeds)" in page
    assert "test_accuracy_by_variant.png" in page


def test_mlflow_has_one_finished_run_per_variant_with_seed_children(study):
    client, runs = mlflow_runs(study.store)
    parents = {r.info.run_name: r for r in variant_runs(runs)}
    assert set(parents) == set(VARIANTS)
    for variant, parent in parents.items():
        assert parent.info.status == "FINISHED"
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(int(c.data.tags["seed"]) for c in children) == list(range(SEEDS))
        assert {c.info.status for c in children} == {"FINISHED"}
        assert all(c.data.metrics["test_accuracy"] > 0 for c in children)
        assert all(c.data.params["seed"] == c.data.tags["seed"] for c in children)
        for child in children:
            steps = client.get_metric_history(child.info.run_id, "val_accuracy")
            assert sorted(m.step for m in steps) == list(range(1, EPOCHS + 1))
        tags = parent.data.tags
        assert (tags["variant"], tags["dvc.stage"]) == (variant, f"train@{variant}")
        assert len(tags["mlflow.source.git.commit"]) == 40
        params = parent.data.params
        assert params["train.epochs"] == str(EPOCHS) and params["data.n_samples"] == "200"
        assert ("bn.momentum" in params) == (variant != "baseline")
        for metric in ("accuracy", "val_accuracy", "loss", "val_loss"):
            history = client.get_metric_history(parent.info.run_id, metric)
            assert sorted(m.step for m in history) == list(range(1, EPOCHS + 1))
        final = parent.data.metrics
        assert final["test_accuracy.ci95_low"] <= final["test_accuracy.mean"] <= 1
        # The runs page's charts: the curves and the headline, nothing else.
        assert set(final) <= {"accuracy", "val_accuracy", "loss", "val_loss", *HEADLINE}
        artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
        assert artifacts == {"models", "history", "evaluation", "figures"}
        models = [a.path for a in client.list_artifacts(parent.info.run_id, "models")]
        assert models == [f"models/seed_{seed:03d}.keras" for seed in range(SEEDS)]
        figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
        assert f"figures/accuracy_{variant}.png" in figures
    report = next(r for r in runs if r.info.run_name == "report")
    assert report.data.metrics == {}, "the report's numbers are artifacts, not metrics"
    shared = {a.path for a in client.list_artifacts(report.info.run_id, "report")}
    assert {"report/summary.md", "report/summary.json"} <= shared


def lock_md5(repo: Path, path: str) -> str:
    """The md5 dvc.lock records for an output."""
    return output_hashes(repo)[path]


def mean_accuracy(repo: Path) -> dict[str, float]:
    stats = repo / "results" / "stats"
    return {
        v: json.loads((stats / f"{v}.json").read_text())["test_accuracy"]["mean"] for v in VARIANTS
    }


def test_each_variant_hands_on_a_logged_model_and_a_registered_version(study):
    repo = study.repo
    client, runs = mlflow_runs(study.store)
    digests = {n: lock_md5(repo, f"data/prepared/{n}.csv") for n in ("train", "test")}
    for parent in variant_runs(runs):
        variant = parent.data.tags["variant"]
        assert parent.data.tags[DESCRIPTION_TAG].startswith("Dense(")
        model = client.get_logged_model(parent.data.tags[MODEL_TAG])
        assert model.status == "READY"
        child = client.get_run(model.source_run_id)
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert model.model_id in {o.model_id for o in child.outputs.model_outputs}
        linked = {m.key: m.value for m in model.metrics}
        assert linked["test_accuracy"] == child.data.metrics["test_accuracy"]
        for logged in (parent, child):
            inputs = {i.dataset.name: i.dataset.digest for i in logged.inputs.dataset_inputs}
            assert inputs == digests
            assert logged.data.tags["mlflow.user"] and logged.data.tags["mlflow.source.name"]
        version = client.get_model_version_by_alias(MODEL, variant)
        assert version.source == f"models:/{model.model_id}"
        assert (version.tags["variant"], version.tags["seed"]) == (variant, child.data.tags["seed"])
    means = mean_accuracy(repo)
    best = client.get_model_version_by_alias(MODEL, "best")
    assert best.tags["variant"] == max(means, key=means.get)
    assert len(client.search_model_versions(f"name = '{MODEL}'")) == len(VARIANTS)
    # One line per version, the stage's own; MLflow's registration chatter stays off.
    assert study.output.count(f"registered {MODEL} version") == len(VARIANTS)
    assert "already exists" not in study.output and "Created version" not in study.output


def _keras_predictions(repo: Path, version, features: np.ndarray) -> np.ndarray:
    path = repo / "models" / version.tags["variant"] / f"seed_{int(version.tags['seed']):03d}.keras"
    return keras.models.load_model(path, safe_mode=True).predict(features, verbose=0)


def test_best_loads_as_pyfunc_and_predicts_as_its_keras_file(study, use_store):
    repo = study.repo
    use_store(store(repo))
    features = read_csv(repo / "data" / "prepared" / "test.csv").features.astype(np.float32)
    loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}@best")
    best = MlflowClient(store(repo)).get_model_version_by_alias(MODEL, "best")
    np.testing.assert_array_equal(
        loaded.predict(features), _keras_predictions(repo, best, features)
    )


def test_the_served_model_answers_as_its_keras_file(study):
    repo = study.repo
    port = str(free_port())
    serve = f"SERVE_PORT={port} {readme.command('make serve')}"
    server = start_server(serve, repo, int(port), repo.with_name("serve.log"))
    try:
        curl = readme.command("curl -s http://127.0.0.1:5002/invocations", {"5002": port})
        example = json.loads(run(repo, "bash", "-c", curl))["predictions"]
        assert len(example) == 2 and all(0 <= p[0] <= 1 for p in example)
        features = read_csv(repo / "data" / "prepared" / "test.csv").features.astype(np.float32)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps({"inputs": features.tolist()}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            served = np.array(json.loads(answer.read())["predictions"], dtype=np.float32)
    finally:
        stop(server)
    best = MlflowClient(store(repo)).get_model_version_by_alias(MODEL, "best")
    np.testing.assert_allclose(served, _keras_predictions(repo, best, features), rtol=0, atol=1e-6)


def test_forced_repro_gives_the_same_bytes_and_no_new_version(repo):
    before = output_hashes(repo)
    assert {"models/bn_after", "metrics/headline.json", "figures"} <= set(before)
    client = MlflowClient(store(repo))
    versions = len(client.search_model_versions(f"name = '{MODEL}'"))
    dvc(repo, "repro", "-f")
    assert output_hashes(repo) == before
    assert len(client.search_model_versions(f"name = '{MODEL}'")) == versions


def test_bn_momentum_experiment_reruns_only_bn_training(repo):
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "results")
    _, before = mlflow_runs(store(repo))
    output = run(repo, "bash", "-c", readme.command("dvc exp run -S bn.momentum=0.0"))
    ran = stages_run(output)
    assert {"train@bn_after", "train@bn_before", "evaluate", "plot", "publish"} <= ran
    assert ran.isdisjoint({"generate", "split", "train@baseline"})
    exp_name = re.search(r"Ran experiment\(s\): (\S+)", output).group(1)

    # The README's comparison: the changed param and every variant's headline,
    # for the commit, the workspace and the experiment, in 120 columns.
    table = run(repo, "bash", "-c", readme.command("dvc exp show --only-changed"), COLUMNS="120")
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 120, table
    assert "…" not in table, table
    header = next(line for line in lines if "Experiment" in line).split()
    assert header == ["Experiment", *VARIANTS, "bn.momentum"], table
    headline = json.loads((repo / "metrics" / "headline.json").read_text())
    for row in ("workspace", f"[{exp_name}]"):
        shown = next(line for line in lines if row in line)
        assert all(headline[v] in shown for v in VARIANTS), table
        assert shown.rstrip().endswith(" 0"), "bn.momentum = 0.0"

    # The same headline in dvc metrics diff: the commit against the workspace.
    diff = run(repo, "bash", "-c", readme.command("dvc metrics diff"))
    rows = {line.split()[1]: line for line in diff.splitlines()[1:]}
    assert sorted(rows) == sorted(VARIANTS), diff
    assert all(headline[v] in rows[v] for v in VARIANTS), diff
    drawn = run(repo, "bash", "-c", readme.command("dvc plots diff"))
    page = Path(drawn.strip().splitlines()[-1].removeprefix("file://")).read_text()
    assert page.count("Test accuracy per epoch (mean over seeds)") >= 1
    assert "workspace" in page and "HEAD" in page

    # MLflow: new BN runs tagged with the experiment, the baseline's runs untouched.
    _, after = mlflow_runs(store(repo))
    new = [r for r in training_runs(after) if r.info.run_id not in {b.info.run_id for b in before}]
    assert {r.data.tags["variant"] for r in new} == {"bn_after", "bn_before"}
    assert {r.data.tags["dvc.exp_name"] for r in new} == {exp_name}
    assert {r.data.params["bn.momentum"] for r in new} == {"0.0"}
    old_baseline = {r.info.run_id: r for r in before if r.data.tags.get("variant") == "baseline"}
    for run_id, old in old_baseline.items():
        now = next(r for r in after if r.info.run_id == run_id)
        assert now.data.metrics == old.data.metrics
        assert now.data.tags == old.data.tags
    for new_run in variant_runs(new):
        assert (
            new_run.data.tags["dvc.exp_baseline_rev"]
            == run(repo, "git", "rev-parse", "HEAD").strip()
        )

    # The registry: the experiment's BN versions carry its name; the aliases stay
    # with the workspace's study, and the baseline (cached) adds no version.
    client = MlflowClient(store(repo))
    versions = client.search_model_versions(f"name = '{MODEL}'")
    from_experiment = [v for v in versions if v.tags.get("dvc.exp_name") == exp_name]
    assert sorted(v.tags["variant"] for v in from_experiment) == ["bn_after", "bn_before"]
    assert len(versions) == len(VARIANTS) + 2
    aliased = client.get_registered_model(MODEL).aliases
    assert all(aliased[v] not in {x.version for x in from_experiment} for v in VARIANTS)


def test_mlflow_run_nests_the_pipelines_runs_under_its_own(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epochs"] = EPOCHS + 1  # something for the pipeline to do
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    _, before = mlflow_runs(store(repo))
    run(repo, "bash", "-c", readme.command("mlflow run . --env-manager local"))
    _, after = mlflow_runs(store(repo))
    new = [r for r in after if r.info.run_id not in {b.info.run_id for b in before}]
    project = [r for r in new if "mlflow.project.entryPoint" in r.data.tags]
    assert len(project) == 1 and project[0].info.status == "FINISHED"
    nested = [r for r in new if r.data.tags.get("mlflow.parentRunId") == project[0].info.run_id]
    assert sorted(r.info.run_name for r in nested) == sorted([*VARIANTS, "report"])
    assert {r.data.params["train.epochs"] for r in variant_runs(nested)} == {str(EPOCHS + 1)}
