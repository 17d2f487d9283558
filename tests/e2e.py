"""Helpers for end-to-end tests: a tiny bnlab in a temporary git repository,
driven by the real git, dvc and MLflow."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml
from mlflow import MlflowClient

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("baseline", "bn_after", "bn_before")
PROJECT_FILES = (
    "dvc.yaml",
    ".dvcignore",
    "MLproject",
    "python_env.yaml",
    "Makefile",
    "pyproject.toml",
    "requirements.lock",
)


def shrink(params: dict) -> dict:
    """The project's params with few epochs, two seeds and small data."""
    tiny = yaml.safe_load(yaml.safe_dump(params))
    tiny["data"]["n_samples"] = 200
    tiny["split"]["n_train"] = 100
    tiny["train"].update(epochs=3, seeds=2)
    return tiny


def env(**extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    # dvc.yaml runs `python -m bnlab`: the test's interpreter must be that python.
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    for role in ("AUTHOR", "COMMITTER"):
        environment.setdefault(f"GIT_{role}_NAME", "bnlab test")
        environment.setdefault(f"GIT_{role}_EMAIL", "test@bnlab.invalid")
    environment.update(extra)
    return environment


def run(cwd: Path, *args: str, **extra_env: str) -> str:
    if (cwd / "src").is_dir():  # the repository's own copy of bnlab, not the installed one
        extra_env.setdefault("PYTHONPATH", str(cwd / "src"))
    result = subprocess.run(
        args, cwd=cwd, env=env(**extra_env), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def dvc(cwd: Path, *args: str, **extra_env: str) -> str:
    return run(cwd, sys.executable, "-m", "dvc", *args, **extra_env)


def stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def make_repo(path: Path, params: dict | None = None, source: Path = ROOT) -> Path:
    """A git + DVC repository holding bnlab's pipeline, code, scripts, Makefile and
    params (default: tiny ones), committed; the files come from ``source`` (a
    checkout of another revision, say), the virtual environment from ROOT."""
    for name in (*PROJECT_FILES, ".gitignore"):
        shutil.copy(source / name, path)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("src", "scripts"):
        shutil.copytree(source / folder, path / folder, ignore=ignore)
    # The project's virtual environment, so `make` targets find it set up.
    (path / ".venv").symlink_to(ROOT / ".venv")
    if params is None:
        params = shrink(yaml.safe_load((ROOT / "params.yaml").read_text()))
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(path, "git", "init", "-q")
    dvc(path, "init", "-q")
    dvc(path, "config", "core.analytics", "false")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-q", "-m", "tiny bnlab")
    return path


def output_hashes(repo: Path) -> dict[str, str]:
    """Every output's hash in the repository's dvc.lock, metrics included."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {
        out["path"]: out["md5"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
    }


def mlflow_runs(tracking_uri: str) -> tuple[MlflowClient, list]:
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name("bn-circles")
    assert experiment is not None
    return client, client.search_runs([experiment.experiment_id], max_results=1000)


def training_runs(runs: list) -> list:
    """The runs train stages made (variant runs and their seed children), not the report's."""
    return [r for r in runs if r.data.tags.get("dvc.stage", "").startswith("train@")]


def variant_runs(runs: list) -> list:
    """Each variant's run: a training run of no one seed."""
    return [r for r in training_runs(runs) if "seed" not in r.data.tags]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(command: str, cwd: Path, port: int, log: Path) -> subprocess.Popen:
    """Run a shell command that serves MLflow on 127.0.0.1:port, in a process group of
    its own, and wait until /health answers."""
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{command} exited early: {log.read_text()[-2000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    raise AssertionError(f"{command} did not answer on port {port}: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    """End the process and everything in its process group."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
