"""Protects the study's report, bn_input and BN without beta and gamma, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import pytest
import yaml

from tests import readme
from tests.e2e import copy_repo, mlflow_runs, run, stages_run

pytestmark = pytest.mark.slow

ALL = ["baseline", "bn_after", "bn_before", "bn_input"]


@pytest.fixture(scope="module")
def repo(study, tmp_path_factory) -> Path:
    repo = copy_repo(study.repo, tmp_path_factory.mktemp("bnlab-study") / "repo")
    # The README's BN-on-the-input extension, after the study.
    output = run(repo, "bash", "-c", readme.command("dvc exp run -S 'variants="))
    assert {"train@bn_input"} <= stages_run(output)
    assert not {"train@baseline", "train@bn_after", "train@bn_before"} & stages_run(output)
    assert yaml.safe_load((repo / "params.yaml").read_text())["variants"] == ALL
    return repo


def test_report_has_every_section_and_every_variant(repo):
    summary = (repo / "reports" / "summary.md").read_text()
    for heading in ("## Per variant", "## Against the baseline", "## The tutorial's claims"):
        assert heading in summary
    for variant in ALL:
        assert f"| {variant} |" in summary
    assert "0.846 / 0.848" in summary  # the tutorial's bn_after run, beside ours
    claims = summary.split("## The tutorial's claims")[1].split("## Figures")[0]
    verdicts = [row.split(" | ")[1] for row in claims.splitlines() if row.startswith("| ")][1:]
    assert len(verdicts) == 6, claims
    assert set(verdicts) <= {"supported", "not supported", "not judged"}, claims
    assert "not judged" not in verdicts, "every variant a claim needs was trained"
    metrics = json.loads((repo / "reports" / "summary.json").read_text())
    assert set(metrics["bn_input"]["vs_baseline"]) >= {"welch_p", "mann_whitney_p"}
    assert 0 <= metrics["bn_before"]["vs_baseline"]["welch_p"] <= 1
    for figure in ("decision_boundaries.png", "epochs_to_80.png"):
        assert (repo / "reports" / "figures" / figure).stat().st_size > 10_000
    _, runs = mlflow_runs(f"sqlite:///{repo / 'mlflow.db'}")
    report = [r for r in runs if r.info.run_name == "report"]
    assert len(report) == 2, "the study's report run, and the experiment's"
    assert {r.info.status for r in report} == {"FINISHED"}


def test_bn_input_puts_batch_norm_on_the_inputs(repo):
    model = keras.models.load_model(repo / "models" / "bn_input" / "seed_000.keras")
    assert type(model.layers[0]).__name__ == "BatchNormalization"


def test_without_beta_and_gamma_the_saved_models_have_neither(repo, tmp_path):
    repo = copy_repo(repo, tmp_path / "repo")
    output = run(repo, "bash", "-c", readme.command("dvc exp run -S bn.center=false"))
    assert "train@baseline" not in stages_run(output)
    for variant in ("bn_after", "bn_before", "bn_input"):
        model = keras.models.load_model(repo / "models" / variant / "seed_001.keras")
        bn = next(layer for layer in model.layers if type(layer).__name__ == "BatchNormalization")
        names = sorted(w.path.split("/")[-1] for w in bn.weights)
        assert names == ["moving_mean", "moving_variance"]
