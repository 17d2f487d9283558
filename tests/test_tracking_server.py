"""A team's set-up: an MLflow tracking server backed by PostgreSQL (Debian's
packages), started and stopped here on 127.0.0.1; the pipeline logs to it
through MLFLOW_TRACKING_URI, artifacts included."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.e2e import (
    VARIANTS,
    dvc,
    free_port,
    make_repo,
    mlflow_runs,
    start_mlflow,
    stop,
    training_runs,
    variant_runs,
)

pytestmark = pytest.mark.slow

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: CI and this machine's shells are root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_uri():
    if not PG_BINS:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql")
    bin_dir = PG_BINS[-1].parent
    # Under /tmp itself, not pytest's 0700 folder, so the postgres user can enter it.
    folder = Path(tempfile.mkdtemp(prefix="bnlab-pg-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    data = folder / "data"

    def pg(*command: str) -> None:
        subprocess.run(_as_postgres(list(command)), check=True, capture_output=True, timeout=120)

    pg(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
    pg(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(folder / "log"),
        "-w",
        "-o",
        options,
        "start",
    )
    try:
        pg(
            str(bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "mlflow",
        )
        # postgresql+psycopg2: plain postgresql:// would pick psycopg 3 under SQLAlchemy 2.
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/mlflow"
    finally:
        pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(postgres_uri, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    args = ["server", "--backend-store-uri", postgres_uri]
    args += ["--artifacts-destination", str(folder / "artifacts")]
    process = start_mlflow(args, port, folder / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", folder / "artifacts"
    finally:
        stop(process)


def test_pipeline_logs_to_the_server_and_postgres_holds_the_runs(
    server, postgres_uri, tmp_path_factory
):
    server_uri, artifacts = server
    repo = make_repo(tmp_path_factory.mktemp("bnlab-server"))
    dvc(repo, "repro", MLFLOW_TRACKING_URI=server_uri)
    assert not (repo / "mlflow.db").exists(), "nothing went to the embedded store"

    # Straight from PostgreSQL, not through the server.
    _, runs = mlflow_runs(postgres_uri)
    parents = variant_runs(runs)
    assert sorted(r.info.run_name for r in parents) == sorted(VARIANTS)
    assert len(training_runs(runs)) == len(VARIANTS) * 3  # each with two seed children
    trained = {r.info.run_id for r in training_runs(runs)}
    assert [r.info.run_name for r in runs if r.info.run_id not in trained] == ["report"]
    assert {r.info.status for r in runs} == {"FINISHED"}

    # Artifacts went through the server into its artifact folder.
    client, _ = mlflow_runs(server_uri)
    bn_after = next(r for r in parents if r.info.run_name == "bn_after")
    models = [a.path for a in client.list_artifacts(bn_after.info.run_id, "models")]
    assert models == ["models/seed_000.keras", "models/seed_001.keras"]
    saved = list(artifacts.rglob("seed_000.keras"))
    assert len(saved) == len(VARIANTS)
    local = client.download_artifacts(bn_after.info.run_id, "history", str(repo / "dl"))
    assert (Path(local) / "bn_after.csv").read_bytes() == (
        repo / "results" / "history" / "bn_after.csv"
    ).read_bytes()
