"""The train stage's logging process, driven through its own ``serve`` with the
messages the stage sends, against a real SQLite store in a temporary folder."""

from __future__ import annotations

import io

import pytest
from mlflow import MlflowClient

from bnlab.files.history import write_history
from bnlab.files.scores import write_scores
from bnlab.tracking.store import SCORES_TAG, file_md5
from bnlab.tracking.train_log import (
    Epochs,
    Failed,
    Finished,
    Killed,
    Open,
    Trained,
    decode,
    encode,
    serve,
)

SEEDS = [0, 1]
OPEN = Open("bn-circles", "bn_after", "train@bn_after", {"bn": {"momentum": 0.9}}, SEEDS)


@pytest.mark.parametrize(
    "message",
    [
        OPEN,
        Epochs(21, {"val_accuracy": [[0.5, 0.6], [0.7, 0.8]]}),
        Trained("h.csv", "s.csv", Epochs(3, {"loss": [[0.4, 0.3]]})),
        Trained("h.csv", "s.csv"),
        Finished("models/bn_after"),
        Failed("ValueError: nan loss"),
        Killed(),
    ],
)
def test_every_message_comes_back_as_it_went(message):
    line = encode(message)
    assert line.endswith("\n") and line.count("\n") == 1
    assert decode(line) == message


def test_end_of_input_is_killed():
    assert decode("") == Killed()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")


def _runs(client: MlflowClient) -> dict:
    experiment = client.get_experiment_by_name("bn-circles").experiment_id
    return {run.info.run_name: run for run in client.search_runs([experiment])}


def _files(folder):
    history = {
        s: {m: [0.5 + s / 10, 0.9] for m in ("accuracy", "loss", "val_accuracy", "val_loss")}
        for s in SEEDS
    }
    write_history(folder / "h.csv", history)
    scores = {
        s: {"train_accuracy": 0.9, "train_loss": 0.3, "test_accuracy": 0.88, "test_loss": 0.31}
        for s in SEEDS
    }
    write_scores(folder / "s.csv", scores)
    (folder / "models").mkdir()
    (folder / "models" / "seed_000.keras").write_bytes(b"model")
    return str(folder / "h.csv"), str(folder / "s.csv")


def test_a_finished_training_logs_curves_scores_tag_and_models(store, tmp_path):
    history, scores = _files(tmp_path)
    sent = [
        OPEN,
        Epochs(1, {"val_accuracy": [[0.5, 0.6]]}),
        Trained(history, scores, Epochs(2, {"val_accuracy": [[0.9, 0.9]]})),
        Finished(str(tmp_path / "models")),
    ]
    serve(io.StringIO("".join(encode(m) for m in sent)))
    runs = _runs(store)
    assert {name: run.info.status for name, run in runs.items()} == {
        "bn_after": "FINISHED",
        "bn_after-seed-0": "FINISHED",
        "bn_after-seed-1": "FINISHED",
    }
    parent = runs["bn_after"]
    assert parent.data.tags[SCORES_TAG] == file_md5(scores)
    assert parent.data.params["bn.momentum"] == "0.9"
    steps = store.get_metric_history(runs["bn_after-seed-1"].info.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in steps] == [(1, 0.6), (2, 0.9)]
    assert runs["bn_after-seed-0"].data.metrics["epochs_to_80"] == 2
    assert runs["bn_after-seed-0"].data.metrics["test_accuracy"] == 0.88
    logged = {a.path for a in store.list_artifacts(parent.info.run_id)}
    assert logged == {"history", "evaluation", "models"}


@pytest.mark.parametrize(
    ("last", "status"),
    [(Failed("ValueError: nan loss"), "FAILED"), (Killed(), "KILLED"), (None, "KILLED")],
)
def test_a_training_that_did_not_finish_ends_every_run_so(store, last, status):
    sent = [OPEN, Epochs(1, {"val_accuracy": [[0.5, 0.6]]})]
    sent += [last] if last else []  # None: the stage died, its pipe closed
    serve(io.StringIO("".join(encode(m) for m in sent)))
    runs = _runs(store)
    assert {run.info.status for run in runs.values()} == {status}
    assert len(runs) == 3
    if status == "FAILED":
        assert {run.data.tags["error"] for run in runs.values()} == {"ValueError: nan loss"}
