"""A team's set-up, as the README shows it: an MLflow tracking server backed by
PostgreSQL (scripts/tracking-server.sh, Debian's packages) on 127.0.0.1, which
the pipeline logs to through MLFLOW_TRACKING_URI, artifacts included."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests import readme
from tests.e2e import (
    VARIANTS,
    free_port,
    make_repo,
    mlflow_runs,
    run,
    training_runs,
    variant_runs,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("bnlab-server"))


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
        stop = readme.command(
            "scripts/tracking-server.sh stop", {"/srv/bnlab-tracking": str(folder)}
        )
        run(repo, "bash", "-c", stop)
        shutil.rmtree(folder, ignore_errors=True)


def test_pipeline_logs_to_the_server_and_postgres_holds_the_runs(repo, server):
    place, folder, port = server
    export = readme.command("export MLFLOW_TRACKING_URI", {"5000": place["5000"]})
    run(repo, "bash", "-c", f"{export} && dvc repro")
    assert not (repo / "mlflow.db").exists(), "nothing went to the embedded store"

    # Straight from PostgreSQL, not through the server.
    _, runs = mlflow_runs(f"postgresql+psycopg2://postgres@127.0.0.1:{port + 1}/mlflow")
    parents = variant_runs(runs)
    assert sorted(r.info.run_name for r in parents) == sorted(VARIANTS)
    assert len(training_runs(runs)) == len(VARIANTS) * 3  # each with two seed children
    trained = {r.info.run_id for r in training_runs(runs)}
    assert [r.info.run_name for r in runs if r.info.run_id not in trained] == ["report"]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert all("test_accuracy.mean" in r.data.metrics for r in parents), "publish found them"

    # Artifacts went through the server into its artifact folder.
    client, _ = mlflow_runs(f"http://127.0.0.1:{port}")
    bn_after = next(r for r in parents if r.info.run_name == "bn_after")
    models = [a.path for a in client.list_artifacts(bn_after.info.run_id, "models")]
    assert models == ["models/seed_000.keras", "models/seed_001.keras"]
    saved = list((folder / "artifacts").rglob("seed_000.keras"))
    assert len(saved) == len(VARIANTS)
    local = client.download_artifacts(bn_after.info.run_id, "history", str(repo / "dl"))
    assert (Path(local) / "bn_after.csv").read_bytes() == (
        repo / "results" / "history" / "bn_after.csv"
    ).read_bytes()
