"""Protects the README's PostgreSQL-backed tracking server as the pipeline's store."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from bnlab.files.dataset import read_csv
from tests import readme
from tests.e2e import (
    SEEDS,
    VARIANTS,
    copy_repo,
    env,
    free_port,
    mlflow_runs,
    run,
    training_runs,
    variant_runs,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(study, tmp_path_factory) -> Path:
    return copy_repo(study.repo, tmp_path_factory.mktemp("bnlab-server") / "repo")


@pytest.fixture(scope="module")
def server(repo):
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql")
    # Under /tmp itself, not pytest's 0700 folder, so the postgres user can enter it.
    folder = Path(tempfile.mkdtemp(prefix="bnlab-tracking-"))
    port = free_port()
    # The README's folder and port, here a temporary folder and a free port.
    place = {"/srv/bnlab-tracking": str(folder), "5000": str(port)}
    try:
        run(repo, "bash", "-c", readme.command("scripts/tracking-server.sh start", place))
        yield place, folder, port
    finally:
        subprocess.run(["bash", "-c", stop_command(folder)], cwd=repo, env=env(), check=False)
        shutil.rmtree(folder, ignore_errors=True)


def stop_command(folder: Path) -> str:
    return readme.command("scripts/tracking-server.sh stop", {"/srv/bnlab-tracking": str(folder)})


def postgres(port: int) -> str:
    """The server's database, read straight, not through the server."""
    return f"postgresql+psycopg2://postgres@127.0.0.1:{port + 1}/mlflow"


@pytest.fixture(scope="module")
def logged(repo, server) -> None:
    """The study's pipeline run again (its results are cached), logging to the server."""
    place, _, _ = server
    (repo / "mlflow.db").rename(repo / "study-mlflow.db")
    export = readme.command("export MLFLOW_TRACKING_URI", {"5000": place["5000"]})
    run(repo, "bash", "-c", f"{export} && dvc repro -f")
    assert not (repo / "mlflow.db").exists(), "nothing went to the embedded store"


def test_pipeline_logs_to_the_server_and_postgres_holds_the_runs(repo, server, logged):
    _, folder, port = server

    # Straight from PostgreSQL, not through the server.
    _, runs = mlflow_runs(postgres(port))
    parents = variant_runs(runs)
    assert sorted(r.info.run_name for r in parents) == sorted(VARIANTS)
    assert len(training_runs(runs)) == len(VARIANTS) * (1 + SEEDS)  # each with its seeds
    trained = {r.info.run_id for r in training_runs(runs)}
    assert [r.info.run_name for r in runs if r.info.run_id not in trained] == ["report"]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert all("test_accuracy.mean" in r.data.metrics for r in parents), "publish found them"

    # Artifacts went through the server into its artifact folder.
    client, _ = mlflow_runs(f"http://127.0.0.1:{port}")
    bn_after = next(r for r in parents if r.info.run_name == "bn_after")
    models = [a.path for a in client.list_artifacts(bn_after.info.run_id, "models")]
    assert models == [f"models/seed_{seed:03d}.keras" for seed in range(SEEDS)]
    saved = list((folder / "artifacts" / bn_after.info.experiment_id).rglob("seed_000.keras"))
    assert len(saved) == len(VARIANTS)
    local = client.download_artifacts(bn_after.info.run_id, "history", str(repo / "dl"))
    assert (Path(local) / "bn_after.csv").read_bytes() == (
        repo / "results" / "history" / "bn_after.csv"
    ).read_bytes()


def test_logged_models_and_the_registry_live_on_the_server(repo, server, logged, use_store):
    _, folder, port = server
    uri = f"http://127.0.0.1:{port}"
    client, _ = mlflow_runs(uri)
    aliases = client.get_registered_model("bn-circles").aliases
    assert set(aliases) == {*VARIANTS, "best"}
    best = client.get_model_version_by_alias("bn-circles", "best")
    experiment = client.get_experiment_by_name("bn-circles").experiment_id
    assert len(list((folder / "artifacts" / experiment).rglob("MLmodel"))) == len(VARIANTS)
    use_store(uri)
    features = read_csv(repo / "data" / "prepared" / "test.csv").features.astype(np.float32)
    served = mlflow.pyfunc.load_model("models:/bn-circles@best").predict(features)
    seed = f"seed_{int(best.tags['seed']):03d}.keras"
    saved = keras.models.load_model(repo / "models" / best.tags["variant"] / seed)
    np.testing.assert_array_equal(served, saved.predict(features, verbose=0))


def test_a_server_that_dies_mid_training_ends_the_stage_and_a_rerun_completes(
    study, copy_of, server
):
    repo = copy_of(study)
    place, folder, port = server
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epochs"] = 20000  # long enough to stop the server while it trains
    params["mlflow"]["experiment"] = "bn-circles-server-dies"  # apart from the other tests' runs
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    uri = f"http://127.0.0.1:{port}"
    stage = subprocess.Popen(
        ["dvc", "repro", "-s", "configure", "train@bn_after"],
        cwd=repo,
        env=env(MLFLOW_TRACKING_URI=uri, PYTHONPATH=str(repo / "src")),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = []
    for line in stage.stdout:
        said.append(line)
        if "all at once" in line:  # training has begun
            break
    run(repo, "bash", "-c", stop_command(folder))
    said += stage.stdout.readlines()
    assert stage.wait(timeout=120) != 0
    errors = [line for line in said if line.startswith("bnlab train: error:")]
    assert errors == [
        f"bnlab train: error: MLflow logging failed: MLflow store {uri}: stopped answering "
        "([Errno 111] Connection refused); once it answers again, rerun the stage\n"
    ], "".join(said)
    assert not any("Traceback" in line for line in said)

    params["train"]["epochs"] = 4
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    run(repo, "bash", "-c", readme.command("scripts/tracking-server.sh start", place))
    run(repo, "dvc", "repro", "-s", "configure", "train@bn_after", MLFLOW_TRACKING_URI=uri)
    client = MlflowClient(tracking_uri=postgres(port))
    experiment = client.get_experiment_by_name("bn-circles-server-dies").experiment_id
    runs = client.search_runs([experiment])
    assert "RUNNING" not in {r.info.status for r in runs}
    orphans = [r for r in runs if r.data.tags.get("error") == "its process ended without ending it"]
    assert orphans, "the dead server's runs were ended by the rerun"


class Refusing(http.server.BaseHTTPRequestHandler):
    """A server that answers every request 403, as one behind a gateway might."""

    def do_GET(self) -> None:
        self.send_error(403, "Forbidden")

    def log_message(self, *args) -> None:
        pass


def test_a_refusing_server_is_reported_before_training(study, copy_of):
    repo = copy_of(study)
    refusing = http.server.HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=refusing.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{refusing.server_port}"
    try:
        result = subprocess.run(
            ["dvc", "repro", "-f", "-s", "train@baseline"],
            cwd=repo,
            env=env(MLFLOW_TRACKING_URI=uri, PYTHONPATH=str(repo / "src")),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        refusing.shutdown()
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("bnlab train")]
    lines += [line for line in result.stderr.splitlines() if line.startswith("bnlab train")]
    assert lines == [
        f"bnlab train: error: MLflow store {uri}: answered HTTP 403 Forbidden to an MLflow "
        "request; check the URI and the server's access rules"
    ]
