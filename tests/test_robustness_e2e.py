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
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests import readme
from tests.e2e import EPOCHS, SEEDS, dvc, env, mlflow_runs, output_hashes, run, stages_run

pytestmark = pytest.mark.slow


def store(repo: Path) -> str:
    return f"sqlite:///{repo / 'mlflow.db'}"


def set_param(repo: Path, section: str, key: str, value) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params[section][key] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def dvc_failing(repo: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "dvc", *args]
    return subprocess.run(command, cwd=repo, env=env(), capture_output=True, text=True, timeout=600)


@pytest.fixture
def repo(study, copy_of) -> Path:
    return copy_of(study)


def test_bad_param_stops_with_one_line_and_loses_nothing(repo):
    hashes, (_, runs_before) = output_hashes(repo), mlflow_runs(store(repo))
    set_param(repo, "bn", "momentum", 1.5)
    result = dvc_failing(repo, "repro")
    assert result.returncode != 0
    said = result.stdout + result.stderr
    line = "bnlab configure: error: params.yaml: bn.momentum = 1.5: "
    line += "Input should be less than or equal to 1"
    assert line in said.splitlines()
    assert "Traceback" not in said
    _, runs_after = mlflow_runs(store(repo))
    assert [r.info.run_id for r in runs_after] == [r.info.run_id for r in runs_before]

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
    process = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro", "train@bn_before"],
        cwd=repo,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith(f"train bn_before: {SEEDS} seeds x 3000 epochs"):
            break
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
    queued = run(repo, "bash", "-c", readme.command("dvc exp run --queue"))
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
