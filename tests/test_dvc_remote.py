"""A shared DVC remote (a local folder here): push, clone, pull -> nothing to rerun."""

from __future__ import annotations

import pytest

from tests.e2e import dvc, make_repo, run, stages_run

pytestmark = pytest.mark.slow


def test_second_clone_pulls_every_output_without_retraining(tmp_path):
    (tmp_path / "origin").mkdir()
    origin = make_repo(tmp_path / "origin")
    dvc(origin, "repro")
    dvc(origin, "remote", "add", "-d", "shared", str(tmp_path / "remote"))
    run(origin, "git", "add", "-A")
    run(origin, "git", "commit", "-q", "-m", "results")
    dvc(origin, "push")

    run(tmp_path, "git", "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    assert not list(clone.glob("models/*/*.keras")), "git carries no model"
    dvc(clone, "pull")
    assert "Data and pipelines are up to date" in dvc(clone, "status")
    assert stages_run(dvc(clone, "repro")) == set()
    for path in (
        "metrics/variants/bn_after.json",
        "results/history/bn_before.csv",
        "figures/dataset.png",
    ):
        assert (clone / path).read_bytes() == (origin / path).read_bytes()
    assert len(list((clone / "models").rglob("*.keras"))) == 6
