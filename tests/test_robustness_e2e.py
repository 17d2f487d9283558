"""Protects against bad params, interrupts and parallel queued experiments.

What users do wrong, or what goes wrong around them, with the
real dvc and MLflow on copies of the shared study: bad params, interrupts,
parallel queued experiments on a store that does not exist yet.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus

from bnlab.tracking.lineage import file_md5
from bnlab.tracking.publishing import HEADLINE, REPORT_TAG
from bnlab.tracking.store import SCORES_TAG
from tests import readme
from tests.e2e import (
    EPOCHS,
    ROOT,
    SEEDS,
    VARIANTS,
    dvc,
    env,
    mlflow_runs,
    output_hashes,
    run,
    small_disk,
    stages_run,
)

pytestmark = pytest.mark.slow


def store(repo: Path) -> str:
    return f"sqlite:///{repo / 'mlflow.db'}"


def mlflow_client(repo: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=store(repo))


DVC = [sys.executable, "-m", "dvc"]
# dvc.yaml's publish command, run by hand to interrupt the process itself.
PUBLISH = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["publish"]["cmd"].split()


def set_param(repo: Path, section: str, key: str, value) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params[section][key] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def dvc_failing(repo: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*DVC, *args], cwd=repo, env=env(**extra_env), capture_output=True, text=True, timeout=600
    )


def started(repo: Path, command: list[str], **options) -> subprocess.Popen:
    """``command`` running in ``repo``, its output (stderr in stdout) to read as it comes."""
    return subprocess.Popen(
        command,
        cwd=repo,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **options,
    )


def read_until(process: subprocess.Popen, start: str) -> list[str]:
    """The lines ``process`` printed up to the first that begins with ``start``."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith(start):
            break
    return seen


@pytest.fixture
def repo(study, copy_of) -> Path:
    return copy_of(study)


BAD = [
    # (section, key, value, the refusal's start), each refused by configure,
    # the first stage to run, before any training: mlflow.* and an unknown key
    # are read by no stage that runs before train.
    ("bn", "momentum", 1.0, "bn.momentum = 1.0: must be at least 0 and below 1"),
    ("mlflow", "experiment", "a/b", "mlflow.experiment = 'a/b': must be 1-100 letters"),
    ("mlflow", "experiment", 'say "hi"', "mlflow.experiment = 'say \"hi\"': must be"),
    ("train", "seeds", 100_000, "train.seeds = 100000: must be 1 to 1000"),
    (None, "foo", 1, "foo: unknown key"),
]


def test_bad_params_stop_the_first_stage_with_one_line_and_lose_nothing(repo):
    hashes, (_, runs_before) = output_hashes(repo), mlflow_runs(store(repo))
    original = (repo / "params.yaml").read_text()
    for section, key, value, refusal in BAD:
        if section is None:
            (repo / "params.yaml").write_text(original + f"{key}: {value}\n")
        else:
            set_param(repo, section, key, value)
        result = dvc_failing(repo, "repro")
        assert result.returncode != 0
        said = result.stdout + result.stderr
        assert f"bnlab configure: error: params.yaml: {refusal}" in said, said
        assert "Traceback" not in said
        assert not [s for s in stages_run(said) if s.startswith("train")], said
        (repo / "params.yaml").write_text(original)
    _, runs_after = mlflow_runs(store(repo))
    assert [r.info.run_id for r in runs_after] == [r.info.run_id for r in runs_before]
    assert {e.name for e in mlflow_client(repo).search_experiments()} == {"Default", "bn-circles"}
    set_param(repo, "bn", "momentum", 1.5)

    # The README's debug switch shows the traceback the one line stands for.
    debug = readme.command("BNLAB_DEBUG=1 dvc repro")
    shown = subprocess.run(
        ["bash", "-c", debug], cwd=repo, env=env(), capture_output=True, text=True, timeout=600
    )
    assert shown.returncode != 0
    assert "Traceback" in shown.stderr and "ParamsError" in shown.stderr

    set_param(repo, "bn", "momentum", 0.99)
    again = dvc(repo, "repro")
    assert not {s for s in stages_run(again) if s.startswith(("train", "evaluate"))}
    assert output_hashes(repo) == hashes


def test_interrupted_training_ends_killed_and_next_repro_matches(repo):
    hashes = output_hashes(repo)
    # Several seconds of training (room to interrupt) that a signal must stop.
    set_param(repo, "train", "epochs", 3000)
    process = started(repo, [*DVC, "repro", "train@bn_before"], start_new_session=True)
    seen = read_until(process, f"train bn_before: {SEEDS} seeds x 3000 epochs")
    time.sleep(1.5)
    # Ctrl-C in a terminal signals the whole foreground process group.
    os.killpg(process.pid, signal.SIGINT)
    rest, _ = process.communicate(timeout=120)
    assert process.returncode != 0, "".join(seen) + rest

    _, runs = mlflow_runs(store(repo))
    assert "RUNNING" not in {r.info.status for r in runs}
    killed = [r for r in runs if r.info.status == "KILLED"]
    assert {r.data.tags["variant"] for r in killed} == {"bn_before"}

    set_param(repo, "train", "epochs", EPOCHS)
    dvc(repo, "repro")
    assert output_hashes(repo) == hashes


def processes_in(repo: Path, module: str) -> list[int]:
    """The live processes running ``python -m <module>`` in ``repo``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            here = os.readlink(entry / "cwd") == str(repo)
        except (OSError, ValueError):
            continue
        if here and module.encode() in command and (entry / "stat").read_text().split()[2] != "Z":
            found.append(int(entry.name))
    return found


def run_statuses(repo: Path) -> dict[str, int]:
    """How many runs of the store have each status (all of them, past any page size)."""
    with sqlite3.connect(repo / "mlflow.db") as db:
        return dict(db.execute("select status, count(*) from runs group by status").fetchall())


def test_a_stage_killed_while_its_worker_opens_1000_runs_leaves_none_running(repo):
    hashes = output_hashes(repo)
    set_param(repo, "train", "seeds", 1000)  # the most allowed: a thousand child runs to open
    process = started(repo, [*DVC, "repro", "train@bn_before"], start_new_session=True)
    read_until(process, "train bn_before: 1000 seeds")
    before = sum(run_statuses(repo).values())
    while sum(run_statuses(repo).values()) < before + 20:  # the worker is opening runs
        time.sleep(0.05)
    [stage] = processes_in(repo, "bnlab")
    os.kill(stage, signal.SIGKILL)  # as the kernel's OOM killer would: no handler runs
    killed = time.monotonic()
    while processes_in(repo, "bnlab.tracking.train_log") and time.monotonic() < killed + 5:
        time.sleep(0.2)
    assert processes_in(repo, "bnlab.tracking.train_log") == [], "the worker outlived its stage"
    process.communicate(timeout=120)
    statuses = run_statuses(repo)
    assert "RUNNING" not in statuses and statuses["KILLED"] >= 20, statuses
    assert statuses["KILLED"] < 1001, "the worker stopped opening runs when its stage died"

    set_param(repo, "train", "seeds", SEEDS)
    dvc(repo, "repro")
    assert output_hashes(repo) == hashes
    assert "RUNNING" not in run_statuses(repo)


def test_a_worker_stopped_by_a_signal_stops_its_stage_with_one_line(repo):
    set_param(repo, "train", "epochs", 3000)  # long enough to stop the worker mid-training
    process = started(repo, [*DVC, "repro", "train@bn_after"], start_new_session=True)
    seen = read_until(process, f"train bn_after: {SEEDS} seeds x 3000 epochs")
    while run_statuses(repo).get("RUNNING", 0) < SEEDS + 1:  # the worker has opened them
        time.sleep(0.05)
    [worker] = processes_in(repo, "bnlab.tracking.train_log")
    os.kill(worker, signal.SIGTERM)
    rest, _ = process.communicate(timeout=120)
    said = "".join(seen) + rest
    assert process.returncode != 0
    assert "bnlab train: error: MLflow logging failed: MLflow logging stopped by a signal" in said
    assert "Traceback" not in said
    statuses = run_statuses(repo)
    assert "RUNNING" not in statuses and statuses.get("KILLED", 0) == SEEDS + 1, statuses


def test_four_queued_experiments_in_parallel_on_a_new_store(repo):
    # What every experiment shares (the data, the baseline) is in DVC's cache and
    # the commit's lock, as after the README's `make repro`: queue workers
    # computing the same uncached stage at once can collide in DVC's cache
    # ("unable to remove ... without a confirmation", seen here one run in six).
    # The store is new: the workers create it at once.
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "the study")
    (repo / "mlflow.db").unlink()
    shutil.rmtree(repo / "mlartifacts")
    momenta = ("0.0", "0.5", "0.9", "0.99")
    queued = run(
        repo, "bash", "-c", readme.command("dvc exp run --queue -S bn.momentum=0.0,0.5,0.9,0.99")
    )
    names = re.findall(r"Queued experiment '([^']+)'", queued)
    assert len(names) == 4
    started = time.monotonic()
    run(repo, "bash", "-c", readme.command("dvc queue start"))
    try:
        logs = {name: dvc(repo, "queue", "logs", "--follow", name) for name in names}
    finally:
        dvc(repo, "queue", "stop")
    elapsed = time.monotonic() - started
    status = run(repo, "bash", "-c", readme.command("dvc queue status"))
    assert all(re.search(rf"{n}\s+\S+ \S+\s+Success", status) for n in names), status
    assert not any("database is locked" in log or "Traceback" in log for log in logs.values())

    _, runs = mlflow_runs(store(repo))
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert not list((repo / ".dvc" / "tmp").rglob("mlflow.db")), "no store in DVC's temp copies"
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    # 0.99 is the commit's momentum: its experiment finds every result cached.
    trained = momenta[:3]
    for variant in ("bn_after", "bn_before"):
        logged = sorted(r.data.params["bn.momentum"] for r in parents if r.info.run_name == variant)
        assert logged == sorted(trained)
    by_exp = {r.data.tags.get("dvc.exp_name") for r in parents if r.info.run_name != "baseline"}
    assert by_exp == set(names[:3])
    assert "Running stage 'train@" not in logs[names[3]], "nothing to train at the commit's"

    # The README's overlay of the sweep's curves: one page with every experiment
    # that trained (the commit's momentum made none of its own).
    drawn = run(repo, "bash", "-c", readme.command("dvc plots diff $("))
    page = Path(drawn.strip().splitlines()[-1].removeprefix("file://")).read_text()
    assert all(name in page for name in names[:3])
    print(f"4 experiments, -j 2: {len(runs)} runs logged in {elapsed:.0f} s")


def test_a_remote_url_with_a_token_leaves_no_secret_in_mlflow_or_the_outputs(repo):
    run(
        repo,
        "git",
        "remote",
        "add",
        "origin",
        "https://alice:s3cr3t-TOKEN@git.example/org/bnlab.git",
    )
    # train's worker writes the runs' tags and dataset sources; publish copies them.
    said = dvc(repo, "repro", "-f", "train@baseline")
    assert "train@baseline" in stages_run(said)
    _, runs = mlflow_runs(store(repo))
    trained = [r for r in runs if r.data.tags.get("dvc.stage") == "train@baseline"]
    newest = max(trained, key=lambda r: r.info.start_time)
    assert newest.data.tags["mlflow.source.git.repoURL"] == "https://git.example/org/bnlab.git"
    # Nowhere, in any table, artifact or output (the remote's user is no secret).
    for path in (repo / "mlflow.db", *repo.glob("mlartifacts/**/*"), *repo.glob("results/**/*")):
        if path.is_file():
            assert b"s3cr3t-TOKEN" not in path.read_bytes(), path


def test_a_publish_interrupted_anywhere_then_rerun_leaves_every_run_complete(repo):
    set_param(repo, "train", "base_seed", 1)  # trainings publish has not seen
    dvc(repo, "repro", "report")
    # Each attempt is stopped a little later after it reports its first variant,
    # so that the next variant's steps are cut at one point after another: by
    # SIGTERM, which waits for the step under way, or SIGKILL, which does not.
    for delay, kill in zip(
        (0.0, 0.2, 0.4), (signal.SIGKILL, signal.SIGTERM, signal.SIGKILL), strict=True
    ):
        process = started(repo, PUBLISH)
        said = [process.stdout.readline()]
        time.sleep(delay)
        process.send_signal(kill)
        said.append(process.communicate(timeout=60)[0])
        assert "Traceback" not in "".join(said), "".join(said)
    dvc(repo, "repro")

    client, runs = mlflow_runs(store(repo))
    experiment = client.get_experiment_by_name("bn-circles").experiment_id
    assert not [
        m.model_id
        for m in client.search_logged_models([experiment])
        if m.status != LoggedModelStatus.READY
    ], "no logged model left PENDING"
    for variant in VARIANTS:
        stage = f"train@{variant}"
        md5 = file_md5(repo / "results" / "scores" / f"{variant}.csv")
        [parent] = [
            r
            for r in runs
            if r.data.tags.get("dvc.stage") == stage and r.data.tags.get(SCORES_TAG) == md5
        ]
        assert set(HEADLINE) <= set(parent.data.metrics)
        artifacts = {
            a.path
            for folder in ("evaluation", "figures")
            for a in client.list_artifacts(parent.info.run_id, folder)
        }
        assert (
            f"evaluation/{variant}.json" in artifacts
            and f"figures/accuracy_{variant}.png" in artifacts
        )
        children = [
            r.info.run_id
            for r in runs
            if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
        ]
        models = [
            m for m in client.search_logged_models([experiment]) if m.source_run_id in children
        ]
        assert len(models) == 1, f"{variant}: one logged model, got {len(models)}"
        versions = client.search_model_versions(
            f"name = 'bn-circles' and tags.variant = '{variant}' and tags.`{SCORES_TAG}` = '{md5}'"
        )
        assert len(versions) == 1
    reports = [
        r for r in runs if r.data.tags.get("dvc.stage") == "report" and r.info.status == "FINISHED"
    ]
    assert len({r.data.tags.get(REPORT_TAG) for r in reports}) == len(reports), (
        "one report run per report"
    )


def test_a_store_a_full_disk_left_half_made_is_remade_once_space_is_freed(repo, tmp_path):
    folder = tmp_path / "store"
    uri = {"MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    with small_disk(folder, "600k") as grow:  # room for part of MLflow's tables
        result = dvc_failing(repo, "repro", "-f", "train@baseline", **uri)
        said = result.stdout + result.stderr
        assert result.returncode != 0
        store_line = f"MLflow store {uri['MLFLOW_TRACKING_URI']}: cannot be opened"
        assert f"{store_line} (database or disk is full)" in said, said
        assert "Traceback" not in said
        grow("50m")
        said = dvc(repo, "repro", "-f", "train@baseline", **uri)
        assert "left half-made by an earlier failure" in said, said
        runs = [r.info.status for r in mlflow_runs(uri["MLFLOW_TRACKING_URI"])[1]]
    assert set(runs) == {"FINISHED"} and len(runs) == SEEDS + 1


def test_an_output_on_a_full_disk_fails_in_one_line_and_a_rerun_completes(repo):
    hashes = output_hashes(repo)
    with small_disk(repo / "data" / "raw", "4k") as grow:  # circles.csv takes more
        result = dvc_failing(repo, "repro", "-f", "generate")
        said = result.stdout + result.stderr
        assert result.returncode != 0
        line = "bnlab generate: error: data/raw/circles.csv: cannot be written "
        assert line + "(No space left on device); free some space, then rerun" in said, said
        assert "Traceback" not in said
        grow("1m")
        dvc(repo, "repro")
        assert output_hashes(repo) == hashes


def test_a_store_locked_by_another_process_is_waited_for_and_the_training_kept(repo):
    # Another process takes the store's write lock (readers go on, writers wait)
    # and keeps it past the 20 s MLflow has SQLite wait, until the stage says
    # that it waits.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('begin immediate')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "db.execute('rollback')\n",
            str(repo / "mlflow.db"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "locked\n"
    process = started(repo, [*DVC, "repro", "-f", "train@baseline"])
    said = []
    try:
        for line in process.stdout:
            said.append(line)
            if "locked by another process; waiting up to 300 s" in line:
                holder.communicate("release\n", timeout=10)
        process.wait(timeout=60)
    finally:
        holder.kill()  # a holder never released must not outlive the test
        holder.wait()
    assert holder.returncode == 0, "the stage waited, and said so:\n" + "".join(said)
    assert process.returncode == 0, "".join(said)
    statuses = run_statuses(repo)
    assert set(statuses) == {"FINISHED"}, statuses
