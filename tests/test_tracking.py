"""tracking.py against a real SQLite MLflow store in a temporary folder."""

from __future__ import annotations

import pytest

from bnlab.errors import Terminated
from bnlab.tracking import RunIds, Tracker, VariantRun, flatten, repo_root, tracking_uri


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
    run = VariantRun(tracker, "bn_after", {"variant": "bn_after"}, {"bn.momentum": 0.99})
    with pytest.raises(RuntimeError), run.active(), run.seed(0):
        raise RuntimeError("NaN loss at epoch 7")
    for run_id in (run.ids.run_id, run.ids.seed_runs[0]):
        assert _status(tracker, run_id) == "FAILED"
        assert (
            tracker.client.get_run(run_id).data.tags["error"] == "RuntimeError: NaN loss at epoch 7"
        )


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, Terminated])
def test_interrupt_ends_the_run_killed(tracker, interrupt):
    run = VariantRun(tracker, "baseline", {}, {})
    with pytest.raises(interrupt), run.active():
        with run.seed(0):
            pass
        with run.seed(1):
            raise interrupt()
    assert _status(tracker, run.ids.run_id) == "KILLED"
    assert _status(tracker, run.ids.seed_runs[0]) == "FINISHED"
    assert _status(tracker, run.ids.seed_runs[1]) == "KILLED"


def test_curves_are_logged_with_step_equal_to_epoch(tracker, tmp_path):
    run = VariantRun(tracker, "baseline", {}, {"train.epochs": 3})
    with run.active():
        tracker.log_curves(run.ids.run_id, {"val_accuracy": [0.5, 0.7, 0.9]})
    history = tracker.client.get_metric_history(run.ids.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.7), (3, 0.9)]
    run.ids.write(tmp_path / "runs.json")
    assert RunIds.read(tmp_path / "runs.json") == run.ids


def test_second_tracker_reuses_the_experiment(tracker, tmp_path):
    again = Tracker("bn-circles", root=tmp_path)
    assert again.experiment_id == tracker.experiment_id


def test_flatten_drops_none_and_joins_keys_with_dots():
    assert flatten({"bn": None, "train": {"epochs": 3, "sgd": {"momentum": 0.9}}}) == {
        "train.epochs": 3,
        "train.sgd.momentum": 0.9,
    }
