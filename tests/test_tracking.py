"""Protects tracking.store against a real SQLite MLflow store."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bnlab.errors import Terminated
from bnlab.tracking.lineage import context_tags, file_md5
from bnlab.tracking.location import (
    StoreError,
    check_store,
    repo_root,
    tracking_uri,
    without_credentials,
)
from bnlab.tracking.store import OWNER_TAG, SCORES_TAG, Tracker, VariantRun, flatten


@pytest.fixture
def tracker(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return Tracker("bn-circles", root=tmp_path)


def _status(tracker: Tracker, run_id: str) -> str:
    return tracker.client.get_run(run_id).info.status


def test_store_is_the_repository_roots_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(tmp_path) == f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri(tmp_path) == "http://127.0.0.1:5000"


def test_dvc_root_wins_over_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("DVC_ROOT", str(tmp_path / "parent"))
    monkeypatch.chdir(tmp_path)
    assert repo_root() == tmp_path / "parent"


def test_exception_ends_the_run_failed_with_the_error(tracker):
    run = VariantRun(tracker, "bn_after", {"variant": "bn_after"}, {"bn.momentum": 0.99}, [0, 1])
    with pytest.raises(RuntimeError), run.ending():
        raise RuntimeError("NaN loss at epoch 7")
    for run_id in (run.run_id, *run.seed_runs.values()):
        assert _status(tracker, run_id) == "FAILED"
        assert (
            tracker.client.get_run(run_id).data.tags["error"] == "RuntimeError: NaN loss at epoch 7"
        )


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, Terminated])
def test_interrupt_ends_the_run_killed(tracker, interrupt):
    run = VariantRun(tracker, "baseline", {}, {}, [0, 1])
    with pytest.raises(interrupt), run.ending():
        raise interrupt()
    assert _status(tracker, run.run_id) == "KILLED"
    assert _status(tracker, run.seed_runs[0]) == "KILLED"
    assert _status(tracker, run.seed_runs[1]) == "KILLED"


def test_seed_runs_are_children_named_after_variant_and_seed(tracker):
    run = VariantRun(tracker, "bn_before", {"variant": "bn_before"}, {"bn.momentum": 0.9}, [3, 4])
    with run.ending():
        assert sorted(run.seed_runs) == [3, 4]
        assert _status(tracker, run.seed_runs[3]) == "RUNNING"
    for seed, child in run.seed_runs.items():
        info = tracker.client.get_run(child)
        assert info.info.run_name == f"bn_before-seed-{seed}"
        assert info.info.status == "FINISHED"
        assert info.data.tags["mlflow.parentRunId"] == run.run_id
        assert info.data.params == {"bn.momentum": "0.9", "seed": str(seed)}


def test_curves_are_logged_with_step_equal_to_epoch(tracker, tmp_path):
    run = VariantRun(tracker, "baseline", {}, {"train.epochs": 3}, [])
    with run.ending():
        tracker.log_run(run.run_id, {"val_accuracy": [0.5, 0.7, 0.9]}, {"test_loss": 0.3})
    history = tracker.client.get_metric_history(run.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.7), (3, 0.9)]
    final = tracker.client.get_metric_history(run.run_id, "test_loss")
    assert [(m.step, m.value) for m in final] == [(0, 0.3)]


def test_second_tracker_reuses_the_experiment(tracker, tmp_path):
    again = Tracker("bn-circles", root=tmp_path)
    assert again.experiment_id == tracker.experiment_id


def test_flatten_drops_none_and_joins_keys_with_dots():
    assert flatten({"bn": None, "train": {"epochs": 3, "sgd": {"momentum": 0.9}}}) == {
        "train.epochs": 3,
        "train.sgd.momentum": 0.9,
    }


def _variant_run(tracker: Tracker, variant: str, scores, exp_name: str | None = None) -> str:
    tags = {"variant": variant, "dvc.stage": f"train@{variant}"}
    if exp_name:
        tags["dvc.exp_name"] = exp_name
    run = VariantRun(tracker, variant, tags, {}, [])
    with run.ending():
        tracker.client.set_tag(run.run_id, SCORES_TAG, file_md5(scores))
    return run.run_id


def test_publish_finds_the_run_that_wrote_the_scores(tracker, tmp_path, monkeypatch):
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    scores, other = tmp_path / "scores.csv", tmp_path / "other.csv"
    scores.write_text("seed,test_accuracy\n0,0.8\n")
    other.write_text("seed,test_accuracy\n0,0.7\n")
    assert tracker.find_training_run("train@bn_after", scores) is None
    older = _variant_run(tracker, "bn_after", scores)
    _variant_run(tracker, "bn_after", other)
    _variant_run(tracker, "bn_before", scores)
    assert tracker.find_training_run("train@bn_after", scores) == older
    newer = _variant_run(tracker, "bn_after", scores)
    assert tracker.find_training_run("train@bn_after", scores) == newer, "the newest of equals"


def test_an_experiment_finds_its_own_run_first_then_the_workspaces(tracker, tmp_path, monkeypatch):
    scores = tmp_path / "scores.csv"
    scores.write_text("seed,test_accuracy\n0,0.8\n")
    workspace = _variant_run(tracker, "baseline", scores)
    ours = _variant_run(tracker, "baseline", scores, exp_name="ours")
    _variant_run(tracker, "baseline", scores, exp_name="theirs")
    monkeypatch.setenv("DVC_EXP_NAME", "ours")
    assert tracker.find_training_run("train@baseline", scores) == ours
    monkeypatch.setenv("DVC_EXP_NAME", "cached-from-the-workspace")
    assert tracker.find_training_run("train@baseline", scores) == workspace
    monkeypatch.delenv("DVC_EXP_NAME")
    assert tracker.find_training_run("train@baseline", scores) == workspace


def test_a_run_that_did_not_finish_is_not_found(tracker, tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("seed,test_accuracy\n0,0.8\n")
    run = VariantRun(tracker, "bn_after", {"dvc.stage": "train@bn_after"}, {}, [])
    with pytest.raises(KeyboardInterrupt), run.ending():
        tracker.client.set_tag(run.run_id, SCORES_TAG, file_md5(scores))
        raise KeyboardInterrupt
    assert tracker.find_training_run("train@bn_after", scores) is None


def test_a_file_that_is_not_sqlite_is_refused_naming_uri_and_remedy(tmp_path):
    (tmp_path / "mlflow.db").write_text("not a database\n")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(StoreError) as error:
        check_store(uri, "bn-circles")
    assert str(error.value) == (
        f"MLflow store {uri}: not an SQLite database; move {tmp_path / 'mlflow.db'} aside "
        "(a new store is made in its place) or restore it"
    )


def test_a_new_or_existing_sqlite_store_passes(tracker, tmp_path):
    check_store(tracker.uri, "bn-circles")  # the tracker made it
    check_store(f"sqlite:///{tmp_path / 'new.db'}", "bn-circles")


def test_a_server_nobody_listens_on_is_refused_at_once():
    with pytest.raises(StoreError, match=r"^MLflow store http://127.0.0.1:9: cannot be reached"):
        check_store("http://127.0.0.1:9", "bn-circles")


def test_every_run_whose_process_died_is_ended_killed_and_a_live_ones_is_not(tracker, monkeypatch):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    host = tracker.owner.split(":")[0]
    orphans = [
        tracker.client.create_run(
            tracker.experiment_id, tags={OWNER_TAG: f"{host}:{dead}"}
        ).info.run_id
        for _ in range(5)
    ]
    live = tracker.start_run("bn_after", {})
    # Pages of 2: every page is read, not only the first.
    monkeypatch.setattr("bnlab.tracking.store.SEARCH_PAGE", 2)
    assert sorted(tracker.end_orphans()) == sorted(orphans)
    assert {_status(tracker, orphan) for orphan in orphans} == {"KILLED"}
    assert _status(tracker, live) == "RUNNING"


def test_context_tags_name_the_stage_the_experiment_and_the_parent(monkeypatch):
    monkeypatch.setenv("DVC_EXP_NAME", "exp-1")
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "abc123")
    monkeypatch.setenv("MLFLOW_RUN_ID", "parent")
    tags = context_tags("train@bn_after", "bn_after")
    assert tags["mlflow.source.name"] == "bnlab train@bn_after"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["dvc.exp_name"] == "exp-1" and tags["dvc.exp_baseline_rev"] == "abc123"
    assert tags["mlflow.parentRunId"] == "parent"
    assert tags["mlflow.user"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://alice:TOKEN@host/org/bnlab.git", "https://host/org/bnlab.git"),
        ("https://TOKEN@github.com/org/bnlab", "https://github.com/org/bnlab"),
        ("http://user:pass@127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("git@github.com:org/bnlab.git", "git@github.com:org/bnlab.git"),
        ("sqlite:////tmp/mlflow.db", "sqlite:////tmp/mlflow.db"),
    ],
)
def test_urls_lose_their_credentials_before_mlflow_or_a_message_shows_them(url, shown):
    assert without_credentials(url) == shown
    assert "TOKEN" not in str(StoreError(url, "cannot be reached", "start it"))
