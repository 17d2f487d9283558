"""Protects docs/team.md against the real servers: MLflow with basic-auth over
PostgreSQL, SeaweedFS's S3 for artifacts and the DVC remote, and two clones
standing for two machines (a git remote, one S3 remote, one tracking server)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import keras
import mlflow
import numpy as np
import psycopg2
import pytest
import yaml
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from mlflow import MlflowClient

from bnlab.files.dataset import read_csv
from bnlab.tracking.store import SCORES_TAG
from tests import readme
from tests.e2e import (
    ROOT,
    SEEDS,
    VARIANTS,
    copy_repo,
    env,
    run,
    stages_run,
    training_runs,
    variant_runs,
)

pytestmark = pytest.mark.slow

HOST = "127.0.0.2"  # stands for the machine's address; the default is 127.0.0.1
SERVER_DIR, PORT, ADDRESS = "/srv/bnlab-tracking", "5000", "10.0.0.5"  # the page's placeholders
EXPERIMENT = "momentum-zero"


@dataclass(frozen=True)
class Stack:
    folder: Path
    port: int

    def place(self) -> dict[str, str]:
        return {SERVER_DIR: str(self.folder), PORT: str(self.port), ADDRESS: HOST}

    def credentials(self, user: str = "team") -> dict[str, str]:
        pairs = (line.split("=", 1) for line in (self.folder / f"{user}.env").read_text().split())
        return dict(pairs)

    @property
    def secrets(self) -> dict[str, str]:
        return self.credentials("secrets")

    @property
    def uri(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def s3(self) -> str:
        return f"http://{HOST}:{self.port + 3}"

    def database(self) -> str:
        """The runs' database, read straight as MLflow's role, not through the server."""
        password = self.secrets["DATABASE_PASSWORD"]
        return f"postgresql+psycopg2://bnlab:{password}@127.0.0.1:{self.port + 1}/mlflow"

    def bucket(self, key: str | None = None, secret: str | None = None, **config):
        return boto3.client(
            "s3",
            endpoint_url=self.s3,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            **config,
        )

    def server_keys(self):
        """The object store as MLflow's server reaches it."""
        return self.bucket(self.secrets["SERVER_ACCESS_KEY"], self.secrets["SERVER_SECRET_KEY"])

    def command(self, start: str) -> str:
        """The page's command ``start``, for this stack."""
        shown = readme.command(start)
        return readme.command(start, {k: v for k, v in self.place().items() if k in shown})


def free_block() -> int:
    """A base port whose servers' ports (base to base+7, each +10000 for
    SeaweedFS's gRPC) are free on both loopback addresses."""
    for _ in range(200):
        base = random.randrange(20000, 29000, 10)
        ports = [p for offset in range(8) for p in (base + offset, base + offset + 10000)]
        try:
            for port in ports:
                for host in ("127.0.0.1", HOST):
                    with socket.socket() as probe:
                        probe.bind((host, port))
        except OSError:
            continue
        return base
    raise AssertionError("no free block of ports")


@pytest.fixture(scope="module")
def stack(study):
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql")
    # Under /tmp itself, not pytest's 0700 folder, so the postgres user can enter it.
    found = Stack(Path(tempfile.mkdtemp(prefix="bnlab-team-")), free_block())
    try:
        run(study.repo, "bash", "-c", found.command("scripts/tracking-server.sh start"))
        yield found
    finally:
        subprocess.run(
            ["bash", "-c", found.command("scripts/tracking-server.sh stop")],
            cwd=study.repo,
            env=env(),
            check=False,
        )
        shutil.rmtree(found.folder, ignore_errors=True)


def request(url: str, user: str | None = None, password: str | None = None) -> int:
    asked = urllib.request.Request(url)
    if user:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        asked.add_header("Authorization", f"Basic {pair}")
    try:
        with urllib.request.urlopen(asked, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def machine_a(stack, networks_study, tmp_path_factory) -> Path:
    """Machine A: the study and the optional ones, the study logged again to the
    team's server; its git remote a bare repository, its DVC remote the team's
    bucket (the page's commands), which then holds every pipeline's outputs."""
    top = tmp_path_factory.mktemp("team")
    repo = copy_repo(networks_study.repo, top / "a")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "the study")
    run(top, "git", "init", "-q", "--bare", "bnlab.git")
    run(repo, "git", "remote", "add", "origin", str(top / "bnlab.git"))
    run(repo, "git", "push", "-q", "-u", "origin", "HEAD")
    (repo / "mlflow.db").rename(repo / "study-mlflow.db")
    team = stack.credentials()
    run(repo, "dvc", "repro", "-f", **team)
    assert not (repo / "mlflow.db").exists(), "nothing went to the embedded store"
    run(repo, "bash", "-c", readme.command("dvc remote add -d team"), **team)
    run(repo, "bash", "-c", readme.command("git add .dvc/config"), **team)
    run(repo, "bash", "-c", readme.command("git push"), **team)
    run(repo, "bash", "-c", readme.command("dvc push --run-cache"), **team)
    return repo


def test_a_wildcard_address_or_a_second_start_is_refused_in_one_line(stack, study):
    start = stack.command("scripts/tracking-server.sh start")
    for command, said in (
        (
            start.replace(f"--host {HOST}", "--host 0.0.0.0"),
            "tracking-server: --host '0.0.0.0': give the address teammates reach this machine "
            "at, not a wildcard\n",
        ),
        (
            start,
            "tracking-server: already running; stop it first: "
            f"scripts/tracking-server.sh stop {stack.folder}\n",
        ),
    ):
        result = subprocess.run(
            ["bash", "-c", command], cwd=study.repo, env=env(), capture_output=True, text=True
        )
        assert (result.returncode, result.stderr) == (1, said)


def test_the_servers_listen_where_told_and_ask_who_you_are(stack):
    for name in ("team.env", "secrets.env"):
        assert (stack.folder / name).stat().st_mode & 0o777 == 0o600
    team = stack.credentials()
    assert sorted(team) == sorted(
        [
            "MLFLOW_TRACKING_URI",
            "MLFLOW_TRACKING_USERNAME",
            "MLFLOW_TRACKING_PASSWORD",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL",
        ]
    )
    assert (team["MLFLOW_TRACKING_URI"], team["AWS_ENDPOINT_URL"]) == (stack.uri, stack.s3)

    search = f"{stack.uri}/api/2.0/mlflow/experiments/search?max_results=1"
    assert request(search) == 401
    assert request(search, "team", "not-the-password") == 401
    assert request(search, "team", team["MLFLOW_TRACKING_PASSWORD"]) == 200
    with pytest.raises(urllib.error.URLError):  # on the address given, not on every one
        urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/health", timeout=5)

    # PostgreSQL: a password, and a role that is not a superuser.
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(host="127.0.0.1", port=stack.port + 1, user="bnlab", dbname="mlflow")
    with psycopg2.connect(stack.database().replace("+psycopg2", "")) as db, db.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'bnlab'")
        assert cursor.fetchone() == (False, False)

    # S3: nothing anonymous, no wrong signature, the team's keys on the DVC bucket alone.
    anonymous = stack.bucket(config=Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError, match="AccessDenied"):
        anonymous.list_objects_v2(Bucket="dvc")
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        stack.bucket(team["AWS_ACCESS_KEY_ID"], "wrong").list_objects_v2(Bucket="dvc")
    teams = stack.bucket(team["AWS_ACCESS_KEY_ID"], team["AWS_SECRET_ACCESS_KEY"])
    teams.list_objects_v2(Bucket="dvc")
    with pytest.raises(ClientError, match="AccessDenied"):
        teams.list_objects_v2(Bucket="mlflow")


def test_a_repro_logs_runs_to_postgres_and_artifacts_to_the_object_store(stack, machine_a):
    client = MlflowClient(tracking_uri=stack.database())
    experiment = client.get_experiment_by_name("bn-circles")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    workspace = [r for r in runs if "dvc.exp_name" not in r.data.tags]
    parents = variant_runs(workspace)
    assert sorted(r.info.run_name for r in parents) == sorted(VARIANTS)
    assert len(training_runs(workspace)) == len(VARIANTS) * (1 + SEEDS)
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert all("test_accuracy.mean" in r.data.metrics for r in parents), "publish found them"

    # Each seed's model and the run's scores, in the bucket, as the server stored them.
    listed = stack.server_keys().list_objects_v2(Bucket="mlflow", MaxKeys=10000)
    keys = {o["Key"] for o in listed["Contents"]}
    bn_after = next(r for r in parents if r.info.run_name == "bn_after")
    prefix = f"{bn_after.info.experiment_id}/{bn_after.info.run_id}/artifacts"
    for seed in range(SEEDS):
        assert f"{prefix}/models/seed_{seed:03d}.keras" in keys
    assert any(key.endswith("/MLmodel") for key in keys), "the logged models too"
    stored = stack.server_keys().get_object(
        Bucket="mlflow", Key=f"{prefix}/evaluation/bn_after.csv"
    )
    assert hashlib.md5(stored["Body"].read()).hexdigest() == bn_after.data.tags[SCORES_TAG]


def test_the_registry_serves_the_best_model(stack, machine_a, use_store, monkeypatch):
    for key, value in stack.credentials().items():
        monkeypatch.setenv(key, value)
    use_store(stack.uri)
    client = MlflowClient()
    assert set(client.get_registered_model("bn-circles").aliases) == {*VARIANTS, "best"}
    best = client.get_model_version_by_alias("bn-circles", "best")
    features = read_csv(machine_a / "data" / "prepared" / "test.csv").features.astype(np.float32)
    served = mlflow.pyfunc.load_model("models:/bn-circles@best").predict(features)
    seed = f"seed_{int(best.tags['seed']):03d}.keras"
    saved = keras.models.load_model(machine_a / "models" / best.tags["variant"] / seed)
    np.testing.assert_array_equal(served, saved.predict(features, verbose=0))


def refused(repo: Path, credentials: dict[str, str]) -> str:
    """The one line a train stage says when the server refuses it, checked to
    come before any training and without a traceback."""
    result = subprocess.run(
        ["dvc", "repro", "-f", "-s", "train@baseline"],
        cwd=repo,
        env=env(PYTHONPATH=str(repo / "src"), **credentials),
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert "all at once" not in said, "it trained"
    assert "Traceback" not in said
    lines = [line for line in said.splitlines() if line.startswith("bnlab train")]
    assert len(lines) == 1, said
    return lines[0]


def test_refusals_are_found_before_training(stack, machine_a, copy_of, study):
    repo = copy_of(study)
    uri = stack.uri
    team = stack.credentials()
    anonymous = {"MLFLOW_TRACKING_URI": uri}
    assert refused(repo, anonymous) == (
        f"bnlab train: error: MLflow store {uri}: asks who you are (HTTP 401) and "
        "MLFLOW_TRACKING_USERNAME is not set; load the credentials the server's admin gave "
        "you: set -a; . team.env; set +a"
    )
    assert refused(repo, {**team, "MLFLOW_TRACKING_PASSWORD": "guessed"}) == (
        f"bnlab train: error: MLflow store {uri}: refused the password of user team "
        "(HTTP 401); check MLFLOW_TRACKING_PASSWORD against the credentials the server's "
        "admin gave you"
    )

    viewing = stack.command("scripts/tracking-server.sh add-user /srv/bnlab-tracking viewer")
    said = run(repo, "bash", "-c", viewing)
    assert "viewer" in said and "read only" in said
    viewer = stack.credentials("viewer")
    assert (stack.folder / "viewer.env").stat().st_mode & 0o777 == 0o600
    assert refused(repo, viewer) == (
        f"bnlab train: error: MLflow store {uri}: user viewer may read but not write "
        "experiment bn-circles (HTTP 403); ask the server's admin for write access "
        "(scripts/tracking-server.sh add-user)"
    )
    reader = stack.bucket(viewer["AWS_ACCESS_KEY_ID"], viewer["AWS_SECRET_ACCESS_KEY"])
    assert reader.list_objects_v2(Bucket="dvc")["KeyCount"] > 0
    with pytest.raises(ClientError, match="AccessDenied"):
        reader.put_object(Bucket="dvc", Key="bnlab/by-a-reader", Body=b"no")

    # The admin changes the object store's keys; MLflow's server still has the old ones.
    with keys_changed(stack):
        line = refused(repo, team)
    assert line.startswith(f"bnlab train: error: MLflow store {uri}: cannot store artifacts (")
    assert line.endswith(
        "); its object store refuses the server's keys or is down: tell the server's admin"
    )

    # No secret went to a log, or to MLflow.
    secrets = [*stack.secrets.values(), team["MLFLOW_TRACKING_PASSWORD"]]
    secrets += [team["AWS_SECRET_ACCESS_KEY"], viewer["MLFLOW_TRACKING_PASSWORD"]]
    for log in [*stack.folder.glob("*.log"), stack.folder / "pg" / "log"]:
        text = log.read_text(errors="replace")
        assert not [s for s in secrets if s in text], log


@contextmanager
def keys_changed(stack: Stack) -> Iterator[None]:
    """The server's S3 secret changed in the gateway's identities, then restored."""
    path = stack.folder / "s3.json"
    before = path.read_text()
    config = json.loads(before)
    server = next(i for i in config["identities"] if i["name"] == "mlflow-server")
    server["credentials"][0]["secretKey"] = "changed-by-the-admin"
    reload_identities(stack, json.dumps(config), accepted=False)
    try:
        yield
    finally:
        reload_identities(stack, before, accepted=True)


def reload_identities(stack: Stack, text: str, accepted: bool) -> None:
    """Give the gateway new identities (it reloads on SIGHUP), and wait until
    it accepts, or refuses, the server's keys."""
    (stack.folder / "s3.json").write_text(text)
    os.killpg(int((stack.folder / "s3.pid").read_text()), signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            stack.server_keys().list_objects_v2(Bucket="mlflow", MaxKeys=1)
            if accepted:
                return
        except ClientError:
            if not accepted:
                return
        time.sleep(0.2)
    raise AssertionError("the gateway did not reload its identities")


@pytest.fixture(scope="module")
def alice(stack, machine_a) -> str:
    """The shell command that loads alice's credentials (a writer the admin added)."""
    adding = stack.command("scripts/tracking-server.sh add-user /srv/bnlab-tracking alice")
    run(machine_a, "bash", "-c", adding)
    return readme.command("set -a", {"./alice.env": str(stack.folder / "alice.env")})


@pytest.fixture(scope="module")
def machine_b(machine_a, alice) -> Path:
    """Machine B: a clone of A's git remote, set up as a user types it, in one
    shell, as alice; its .venv is this project's, so `make venv` installs nothing."""
    bare = str(machine_a.parent / "bnlab.git")
    steps = [
        alice,
        readme.command("git clone https://", {"https://git.example.org/bnlab.git": bare}),
        f"ln -s {ROOT / '.venv'} .venv",
        readme.command("make venv"),
        readme.command("dvc pull --run-cache"),
    ]
    said = run(machine_a.parent, "bash", "-c", " && ".join(steps))
    assert "Data and pipelines are up to date" in said
    return machine_a.parent / "bnlab-2"


def on_b(machine_b: Path, alice: str, *commands: str) -> str:
    return run(machine_b, "bash", "-c", " && ".join([alice, *commands]))


def test_two_machines_share_outputs_run_cache_and_experiments(stack, machine_a, machine_b, alice):
    for path in ("metrics/headline.json", "models/bn_after/seed_001.keras"):
        assert (machine_b / path).read_bytes() == (machine_a / path).read_bytes()

    # A runs an experiment and shares it, with the run cache of its stages.
    team = stack.credentials()
    run(machine_a, "bash", "-c", readme.command("dvc exp run -n momentum-zero"), **team)
    run(machine_a, "bash", "-c", readme.command("dvc exp push origin"), **team)
    run(machine_a, "bash", "-c", readme.command("dvc push --run-cache"), **team)

    # The same experiment on B: the run cache has every stage of it.
    said = on_b(machine_b, alice, readme.command("dvc exp run --pull"))
    assert not stages_run(said), said
    assert "Stage 'train@bn_after' is cached - skipping run" in said

    said = on_b(
        machine_b,
        alice,
        readme.command("dvc exp pull origin"),
        readme.command("dvc exp show --drop '.*' --keep 'Experiment|bn_.+momentum'"),
    )
    assert EXPERIMENT in said and "workspace" in said, said
    said = on_b(machine_b, alice, readme.command("dvc exp apply"), readme.command("dvc repro"))
    assert stages_run(said) == set(), said
    assert yaml.safe_load((machine_b / "params.yaml").read_text())["bn"]["momentum"] == 0.0

    # The same runs and registry for both; B's user, alice, reads them.
    assert runs_of(stack, EXPERIMENT) == ["bn_after", "bn_before"]
    password = stack.credentials("alice")["MLFLOW_TRACKING_PASSWORD"]
    registered = f"{stack.uri}/api/2.0/mlflow/registered-models/get?name=bn-circles"
    assert request(registered, "alice", password) == 200


def runs_of(stack: Stack, experiment: str) -> list[str]:
    """The variant runs of a DVC experiment, FINISHED, read straight from PostgreSQL."""
    client = MlflowClient(tracking_uri=stack.database())
    experiment_id = client.get_experiment_by_name("bn-circles").experiment_id
    found = client.search_runs([experiment_id], f"tags.`dvc.exp_name` = '{experiment}'")
    assert {r.info.status for r in found} == {"FINISHED"}
    return sorted(r.info.run_name for r in variant_runs(found))


def test_a_sweep_split_across_two_machines(stack, machine_a, machine_b, alice):
    team = stack.credentials()

    def on_a(command: str) -> str:
        return run(machine_a, "bash", "-c", command, **team)

    queued = {
        "a": on_a(readme.command("dvc exp run --queue -S bn.momentum=0.5")),
        "b": on_b(machine_b, alice, readme.command("dvc exp run --queue -S bn.momentum=0.9")),
    }
    names = {m: re.findall(r"Queued experiment '([^']+)'", said) for m, said in queued.items()}
    assert [len(found) for found in names.values()] == [1, 1], queued
    (name_a,), (name_b,) = names.values()
    # Both machines at once, each with its own queue worker.
    on_a(readme.command("dvc queue start"))
    on_b(machine_b, alice, readme.command("dvc queue start"))
    try:
        run(machine_a, "dvc", "queue", "logs", "--follow", name_a)
        run(machine_b, "dvc", "queue", "logs", "--follow", name_b)
    finally:
        run(machine_a, "dvc", "queue", "stop")
        run(machine_b, "dvc", "queue", "stop")
    assert re.search(rf"{name_a}\s+\S+ \S+\s+Success", on_a(readme.command("dvc queue status")))

    on_a(readme.command("dvc exp push origin"))
    on_b(machine_b, alice, readme.command("dvc exp push origin"))
    shown = readme.command("dvc exp show --drop '.*' --keep 'Experiment|bn_.+momentum'")
    for said in (
        on_a(f"{readme.command('dvc exp pull origin')} && {shown}"),
        on_b(machine_b, alice, readme.command("dvc exp pull origin"), shown),
    ):
        assert all(name in said for name in (EXPERIMENT, name_a, name_b)), said
    assert runs_of(stack, name_a) == runs_of(stack, name_b) == ["bn_after", "bn_before"]


def test_a_server_that_dies_mid_training_ends_the_stage_and_a_rerun_completes(
    study, copy_of, stack
):
    repo = copy_of(study)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["epochs"] = 20000  # long enough to stop the server while it trains
    params["mlflow"]["experiment"] = "bn-circles-server-dies"  # apart from the other tests' runs
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    team = stack.credentials()
    stage = subprocess.Popen(
        ["dvc", "repro", "-s", "configure", "train@bn_after"],
        cwd=repo,
        env=env(PYTHONPATH=str(repo / "src"), **team),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = []
    for line in stage.stdout:
        said.append(line)
        if "all at once" in line:  # training has begun
            break
    run(repo, "bash", "-c", stack.command("scripts/tracking-server.sh stop"))
    said += stage.stdout.readlines()
    assert stage.wait(timeout=120) != 0
    errors = [line for line in said if line.startswith("bnlab train: error:")]
    assert errors == [
        f"bnlab train: error: MLflow logging failed: MLflow store {stack.uri}: stopped answering "
        "([Errno 111] Connection refused); once it answers again, rerun the stage\n"
    ], "".join(said)
    assert not any("Traceback" in line for line in said)

    params["train"]["epochs"] = 4
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    run(repo, "bash", "-c", stack.command("scripts/tracking-server.sh start"))
    assert stack.credentials() == team, "a restart keeps the credentials handed out"
    run(repo, "dvc", "repro", "-s", "configure", "train@bn_after", **team)
    client = MlflowClient(tracking_uri=stack.database())
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
        line = refused(repo, {"MLFLOW_TRACKING_URI": uri})
    finally:
        refusing.shutdown()
    assert line == (
        f"bnlab train: error: MLflow store {uri}: answered HTTP 403 Forbidden to an MLflow "
        "request; check the URI and the server's access rules"
    )
