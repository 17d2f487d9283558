"""Protects a shared DVC remote as the README sets it up: push, clone, pull, no rerun."""

from __future__ import annotations

import pytest

from tests import readme
from tests.e2e import ROOT, SEEDS, VARIANTS, copy_repo, dvc, run, stages_run

pytestmark = pytest.mark.slow


def test_second_clone_pulls_every_output_without_retraining(study, tmp_path):
    origin = copy_repo(study.repo, tmp_path / "origin")
    run(origin, "git", "add", "-A")
    run(origin, "git", "commit", "-q", "-m", "results")

    remote = {"/mnt/team/bnlab-dvc": str(tmp_path / "remote")}
    run(origin, "bash", "-c", readme.command("dvc remote add", remote))
    run(origin, "bash", "-c", readme.command("git add .dvc/config"))
    run(origin, "bash", "-c", readme.command("dvc push"))
    # The second clone, in one shell as a user types it; its .venv is this
    # project's, so that `make venv` has nothing to install.
    steps = [
        readme.command("git clone", {"/srv/git/bnlab.git": str(origin)}),
        f"ln -s {ROOT / '.venv'} .venv",
        readme.command("make venv"),
        readme.command("dvc pull"),
    ]
    said = run(tmp_path, "bash", "-c", " && ".join(steps))
    assert "Data and pipelines are up to date" in said

    clone = tmp_path / "bnlab-2"
    assert stages_run(dvc(clone, "repro")) == set()
    for path in (
        "metrics/headline.json",
        "results/history/bn_before.csv",
        "figures/dataset.png",
        "models/bn_after/seed_001.keras",
    ):
        assert (clone / path).read_bytes() == (origin / path).read_bytes()
    assert len(list((clone / "models").rglob("*.keras"))) == len(VARIANTS) * SEEDS
