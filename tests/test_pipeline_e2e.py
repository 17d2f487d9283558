"""A real `dvc repro` / `dvc exp run` of a tiny configuration in a temporary git repository."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

VARIANTS = ("baseline", "bn_after", "bn_before")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # dvc.yaml runs `python -m bnlab`: the test's interpreter must be that python.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.setdefault("GIT_AUTHOR_NAME", "bnlab test")
    env.setdefault("GIT_AUTHOR_EMAIL", "test@bnlab.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "bnlab test")
    env.setdefault("GIT_COMMITTER_EMAIL", "test@bnlab.invalid")
    return env


def run(repo: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=repo, env=_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def dvc(repo: Path, *args: str) -> str:
    return run(repo, sys.executable, "-m", "dvc", *args)


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


@pytest.fixture(scope="module")
def repo(tmp_path_factory, default_params_dict) -> Path:
    repo = tmp_path_factory.mktemp("bnlab-e2e")
    shutil.copy(ROOT / "dvc.yaml", repo)
    shutil.copytree(
        ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    tiny = json.loads(json.dumps(default_params_dict))
    tiny["data"]["n_samples"] = 200
    tiny["split"]["n_train"] = 100
    tiny["train"].update(epochs=3, seeds=2)
    (repo / "params.yaml").write_text(yaml.safe_dump(tiny, sort_keys=False))
    run(repo, "git", "init", "-q")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "tiny bnlab")
    return repo


@pytest.fixture(scope="module")
def first_repro(repo) -> str:
    return dvc(repo, "repro")


def test_repro_runs_every_stage(repo, first_repro):
    expected = {"generate", "split", "configure", "plot"}
    expected |= {f"{stage}@{v}" for stage in ("train", "evaluate") for v in VARIANTS}
    assert stages_run(first_repro) == expected
    assert (repo / "dvc.lock").exists()


def test_outputs_are_sane(repo, first_repro):
    for variant in VARIANTS:
        metrics = json.loads((repo / "metrics" / f"{variant}.json").read_text())
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
    for figure in ("dataset", "accuracy_baseline", "accuracy_bn_after", "test_accuracy_by_variant"):
        assert (repo / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (repo / "results" / "curves" / "test_accuracy.csv").read_text().splitlines()[0]
    assert header == "epoch,baseline,bn_after,bn_before"


def test_second_repro_runs_nothing(repo, first_repro):
    output = dvc(repo, "repro")
    assert stages_run(output) == set()
    assert "Data and pipelines are up to date" in output


def test_dvc_metrics_and_plots_work(repo, first_repro):
    shown = json.loads(dvc(repo, "metrics", "show", "--json"))
    assert shown[""]["data"]["metrics/bn_after.json"]["data"]["seeds"] == 2
    plots = json.loads(dvc(repo, "plots", "show", "--json"))
    assert "Test accuracy per epoch (mean over seeds)" in plots["data"]


def test_forced_repro_gives_the_same_bytes(repo, first_repro):
    def hashes() -> dict[str, str]:
        lock = yaml.safe_load((repo / "dvc.lock").read_text())
        found = {}
        for stage in lock["stages"].values():
            for out in stage.get("outs", []):
                if not out["path"].startswith(("models", "figures")):
                    found[out["path"]] = out["md5"]
        return found

    before = hashes()
    dvc(repo, "repro", "-f")
    assert hashes() == before
    assert len(before) >= 10


def test_bn_momentum_experiment_reruns_only_bn_training(repo, first_repro):
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "results")
    output = dvc(repo, "exp", "run", "-S", "bn.momentum=0.0")
    ran = stages_run(output)
    assert {"train@bn_after", "train@bn_before", "evaluate@bn_after", "plot"} <= ran
    assert ran.isdisjoint({"generate", "split", "train@baseline", "evaluate@baseline"})
    table = json.loads(dvc(repo, "exp", "show", "--json"))
    shown = json.dumps(table)
    assert "bn.momentum" in shown or '"momentum": 0.0' in shown
    assert "metrics/bn_after.json" in shown
