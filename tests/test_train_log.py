"""Protects the train stage's logging worker against a real SQLite store."""

from __future__ import annotations

import io
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import keras
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from bnlab.analysis import THRESHOLD
from bnlab.files.dataset import Dataset, read_csv, write_csv
from bnlab.files.history import write_history
from bnlab.files.scores import write_scores
from bnlab.model.mlp import build_model
from bnlab.model.plan import N_OUTPUTS
from bnlab.model.saved import model_path, save_model
from bnlab.params import load_params, variant_config
from bnlab.stages.publish import describe
from bnlab.tracking import train_log
from bnlab.tracking.lineage import file_md5
from bnlab.tracking.publishing import log_model
from bnlab.tracking.store import DESCRIPTION_TAG, MODEL_TAG, SCORES_TAG, Tracker
from bnlab.tracking.train_log import (
    Epochs,
    Failed,
    Finished,
    Killed,
    Open,
    Trained,
    TrainLog,
    decode,
    encode,
    serve,
)

SEEDS = [0, 1]
CONFIG = variant_config(load_params(Path(__file__).parents[1] / "params.yaml"), "bn_after")
OPEN = Open(
    "bn-circles",
    "bn_after",
    "bn_after",
    "train@bn_after",
    CONFIG.model_dump(exclude={"variant"}),
    SEEDS,
    {"train": "train.csv", "test": "test.csv"},
    {},
    threshold=THRESHOLD,
)


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
    for seed in SEEDS:
        model = build_model(CONFIG.placement, CONFIG.model, CONFIG.bn)
        save_model(model, model_path(folder / "models", seed))
    return str(folder / "h.csv"), str(folder / "s.csv")


@pytest.fixture
def data(tmp_path, monkeypatch):
    """The train and test files OPEN names, in the working directory."""
    monkeypatch.chdir(tmp_path)
    rows = np.random.default_rng(0)
    for name in ("train", "test"):
        write_csv(Dataset(rows.normal(size=(8, 2)), rows.integers(0, 2, 8)), f"{name}.csv")


def test_a_finished_training_logs_curves_scores_tag_and_models(store, data, tmp_path):
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
    assert parent.data.params["bn.momentum"] == "0.99"
    steps = store.get_metric_history(runs["bn_after-seed-1"].info.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in steps] == [(1, 0.6), (2, 0.9)]
    assert runs["bn_after-seed-0"].data.metrics["epochs_to_80"] == 2
    assert runs["bn_after-seed-0"].data.metrics["test_accuracy"] == 0.88
    logged = {a.path for a in store.list_artifacts(parent.info.run_id)}
    assert logged == {"history", "evaluation", "models"}
    for run in runs.values():
        inputs = {i.dataset.name: i.dataset.digest for i in run.inputs.dataset_inputs}
        assert inputs == {"train": file_md5("train.csv"), "test": file_md5("test.csv")}
        assert run.data.tags["mlflow.source.name"] == "bnlab train@bn_after"


def test_publish_logs_the_median_seed_as_a_keras_model_with_its_metrics(store, data, tmp_path):
    history, scores = _files(tmp_path)
    sent = [OPEN, Trained(history, scores), Finished(str(tmp_path / "models"))]
    serve(io.StringIO("".join(encode(m) for m in sent)))
    tracker = Tracker("bn-circles")
    run_id = _runs(store)["bn_after"].info.run_id
    args = (
        tracker,
        "bn_after",
        run_id,
        Path(scores),
        tmp_path / "models",
        describe(CONFIG),
        read_csv("test.csv").features,
        N_OUTPUTS,
    )
    model_id = log_model(*args)
    assert log_model(*args) == model_id, "a run that has its model keeps it"
    runs = _runs(store)
    assert runs["bn_after"].data.tags[MODEL_TAG] == model_id
    assert (
        runs["bn_after"]
        .data.tags[DESCRIPTION_TAG]
        .startswith("Dense(50, relu) -> BatchNormalization")
    )
    model = store.get_logged_model(model_id)
    # Both seeds score 0.88: the first is the median's representative.
    assert model.source_run_id == runs["bn_after-seed-0"].info.run_id
    assert model.status == "READY" and model.tags["variant"] == "bn_after"
    assert model.tags["mlflow.source.name"] == "bnlab train@bn_after"
    assert {m.key: m.value for m in model.metrics}["test_accuracy"] == 0.88
    assert model.params["bn.momentum"] == "0.99"
    loaded = mlflow.pyfunc.load_model(f"models:/{model.model_id}")
    assert loaded.metadata.get_input_schema().inputs[0].shape == (-1, 2)
    assert loaded.metadata.get_output_schema().inputs[0].shape == (-1, 1)
    assert loaded.metadata.flavors["keras"]["keras_version"] == version("keras")
    # The seed's own file, byte for byte, answering as the seed's model does.
    logged = mlflow.artifacts.download_artifacts(
        f"{model.artifact_location}/data/model.keras", dst_path=str(tmp_path / "logged")
    )
    saved = model_path(tmp_path / "models", 0)
    assert Path(logged).read_bytes() == saved.read_bytes()
    rows = read_csv("test.csv").features[:4].astype(np.float32)
    expected = keras.models.load_model(saved).predict(rows, verbose=0)
    np.testing.assert_array_equal(loaded.predict(rows), expected)
    requirements = mlflow.artifacts.download_artifacts(
        f"{model.artifact_location}/requirements.txt", dst_path=str(tmp_path)
    )
    pinned = Path(requirements).read_text().split()
    assert f"keras=={version('keras')}" in pinned
    assert f"tensorflow-cpu=={version('tensorflow-cpu')}" in pinned


@pytest.mark.parametrize(
    ("seconds_per_epoch", "blocks"),
    [
        (0.01, []),  # a training over in a second sends its epochs with its scores
        (0.1, [(1, 20), (21, 20)]),
        (0.5, [(1, 20), (21, 20)]),  # never fewer than EPOCH_BLOCK epochs a message
    ],
)
def test_epochs_go_out_in_blocks_of_enough_epochs_and_seconds(
    store, data, tmp_path, monkeypatch, seconds_per_epoch, blocks
):
    history, scores = _files(tmp_path)
    now = [0.0]
    monkeypatch.setattr(train_log, "time", SimpleNamespace(monotonic=lambda: now[0]))
    sent = []
    with TrainLog(OPEN) as log:
        send = log._send
        log._send = lambda message: (sent.append(message), send(message))
        for epoch in range(1, 46):
            log.epoch(epoch, {"val_accuracy": np.array([epoch / 100, epoch / 200])})
            now[0] += seconds_per_epoch
        log.trained(Path(history), Path(scores))
        log.finish(tmp_path / "models")
    epochs = [(m.first_epoch, len(m.curves["val_accuracy"])) for m in sent if type(m) is Epochs]
    assert epochs == blocks
    rest = next(m for m in sent if type(m) is Trained).rest
    assert rest.first_epoch == 1 + sum(n for _, n in blocks) and len(
        rest.curves["val_accuracy"]
    ) == 45 - sum(n for _, n in blocks)
    logged = store.get_metric_history(_runs(store)["bn_after-seed-1"].info.run_id, "val_accuracy")
    assert sorted((m.step, m.value) for m in logged) == [(e, e / 200) for e in range(1, 46)]


@pytest.mark.parametrize(
    ("last", "status"),
    [
        (Failed("ValueError: nan loss"), "FAILED"),
        (Killed(), "KILLED"),
        (None, "KILLED"),
        ("cut", "KILLED"),
    ],
)
def test_a_training_that_did_not_finish_ends_every_run_so(store, data, last, status):
    sent = "".join(encode(m) for m in [OPEN, Epochs(1, {"val_accuracy": [[0.5, 0.6]]})])
    if last == "cut":  # the stage was killed while it wrote a message
        sent += encode(Epochs(2, {"val_accuracy": [[0.5, 0.6]]}))[:20]
    elif last is not None:  # None: the stage died, its pipe closed
        sent += encode(last)
    serve(io.StringIO(sent))
    runs = _runs(store)
    assert {run.info.status for run in runs.values()} == {status}
    assert len(runs) == 3
    if status == "FAILED":
        assert {run.data.tags["error"] for run in runs.values()} == {"ValueError: nan loss"}
