"""Helpers for end-to-end tests: a tiny bnlab in a temporary git repository,
driven by the real git, dvc and MLflow."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("baseline", "bn_after", "bn_before")
NETWORK_STAGE = "networks/dvc.yaml:train_network@"
PROJECT_FILES = (
    "dvc.yaml",
    "extensions/dvc.yaml",
    "networks/dvc.yaml",
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
    for network in ("cnn", "lstm"):  # for make networks
        tiny["networks"][network]["epochs"] = 2
    return tiny


# The session's shared study (tests/conftest.py): enough seeds for Welch's test
# and epochs for a late half, on shrink's small data.
SEEDS, EPOCHS = 3, 6


def study_params() -> dict:
    params = shrink(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["train"].update(seeds=SEEDS, epochs=EPOCHS)
    return params


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
        if source != ROOT and not (source / name).exists():
            continue  # a revision from before the file existed
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, path / name)
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


def copy_repo(source: Path, destination: Path) -> Path:
    """A copy of a repository that has run, to change: its git history, DVC
    cache and MLflow store and artifacts, the store's paths moved to the copy
    (MLflow records absolute artifact paths; new runs would write into the
    source's folder)."""
    shutil.copytree(source, destination, symlinks=True)
    store = destination / "mlflow.db"
    if store.exists():
        db = sqlite3.connect(store)
        with db:
            tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            for (table,) in tables:
                for _, column, kind, *_ in db.execute(f'PRAGMA table_info("{table}")').fetchall():
                    if kind.upper().startswith(("VARCHAR", "TEXT")):
                        db.execute(
                            f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                            f'WHERE "{column}" LIKE ?',
                            (str(source), str(destination), f"%{source}%"),
                        )
        db.close()
    return destination


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
    """The runs train stages made (variant or extension runs and their seed
    children), not the reports'."""
    stage = "dvc.stage"
    return [r for r in runs if r.data.tags.get(stage, "").split(":")[-1].startswith("train@")]


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


# Every Python process started with PROBE first on PYTHONPATH (and
# BNLAB_IMPORT_LOG naming a file) records the bnlab files it imported.
PROBE = Path(__file__).parent / "import_probe"


def import_log(repo: Path, name: str = "imports") -> Path:
    return repo.with_name(f"{repo.name}-{name}.jsonl")  # beside the repository, not in it


def probed(repo: Path, log: Path) -> dict[str, str]:
    """The environment for a run whose processes the import probe records."""
    return {"BNLAB_IMPORT_LOG": str(log), "PYTHONPATH": f"{PROBE}:{repo / 'src'}"}


def locked(repo: Path, *pipelines: str) -> dict[str, dict]:
    """Every stage of these pipelines' lock files, by DVC's name for it
    (``networks/dvc.yaml:digits``; no prefix for dvc.yaml's)."""
    stages = {}
    for pipeline in pipelines:
        lock = repo / pipeline.replace(".yaml", ".lock")
        prefix = "" if pipeline == "dvc.yaml" else f"{pipeline}:"
        entries = yaml.safe_load(lock.read_text())["stages"]
        stages.update({f"{prefix}{name}": entry for name, entry in entries.items()})
    return stages


def imported_by_stage(repo: Path, stages: dict[str, dict], log: Path) -> dict[str, set[str]]:
    """Stage (as named in ``stages``, from ``locked``) -> the bnlab files
    (repo-relative) its process and that process's children imported, from the
    records in ``log``."""
    by_command = {tuple(shlex.split(entry["cmd"])[1:]): name for name, entry in stages.items()}
    records = [json.loads(line) for line in log.read_text().splitlines()]
    stage_of = {r["pid"]: by_command.get(tuple(r["argv"][1:])) for r in records}
    imported: dict[str, set[str]] = {}
    for record in records:
        stage = stage_of[record["pid"]] or stage_of.get(record["ppid"])
        assert stage, f"a process no stage started: {record['argv']}"
        files = {str(Path(f).relative_to(repo)) for f in record["files"]}
        imported.setdefault(stage, set()).update(files)
    return imported


def declared_code(repo: Path, deps: list[dict]) -> set[str]:
    """The source files a stage's deps name, a folder standing for its .py files."""
    code = set()
    for dep in deps:
        path = repo / dep["path"]
        if dep["path"].startswith("src/"):
            found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            code |= {str(f.relative_to(repo)) for f in found}
    return code


def check_declared_imports(
    repo: Path,
    stages: dict[str, dict],
    log: Path,
    ran: set[str] | None = None,
    partly: frozenset = frozenset(),
) -> dict[str, set[str]]:
    """Every stage of ``stages`` (from ``locked``; or those in ``ran``) ran, and
    imported exactly the project files it declares; what each imported. The
    stages in ``partly`` did only part of their work this time: they may
    import fewer files than they declare, never one they do not declare.

    On a difference, the message is the stage's source deps as they should
    read in its dvc.yaml, to paste there.
    """
    imported = imported_by_stage(repo, stages, log)
    assert set(imported) == (set(stages) if ran is None else ran), "each stage ran bnlab"
    for stage, files in imported.items():
        declared = declared_code(repo, stages[stage]["deps"])
        missing, unused = files - declared, declared - files
        if stage in partly:
            unused = set()
        assert not missing and not unused, (
            f"{stage}: imports {sorted(missing)} undeclared, declares {sorted(unused)} unused; "
            "its source deps should be:\n" + "\n".join(f"- {f}" for f in sorted(files))
        )
    return imported


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Callable[[str], None]]:
    """A filesystem of ``size`` mounted on ``folder`` (tmpfs: root only), which
    the block can grow, as a user frees space; unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"a small filesystem needs mount (root): {mounted.stderr.decode().strip()}")
    grow = lambda bigger: subprocess.run(  # noqa: E731
        ["mount", "-o", f"remount,size={bigger}", str(folder)], check=True
    )
    try:
        yield grow
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
