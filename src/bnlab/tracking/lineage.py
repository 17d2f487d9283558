"""Where a run came from: its context tags and the data it was trained on.

Context: the tags ``mlflow.start_run`` would resolve (user, source, git commit,
branch and repository URL, without the credentials a URL may carry), the
variant and DVC stage, the DVC experiment
(``DVC_EXP_NAME``, ``DVC_EXP_BASELINE_REV``), under ``mlflow run`` the run it
opened (``MLFLOW_RUN_ID``) as the parent, and the machine: its CPU, the kernel
settings in force and the numeric libraries' versions, so that two machines'
runs that differ can be told apart.

Data: each train and test file as an MLflow dataset input whose digest is
the file's DVC md5 (the hash ``dvc.lock`` records) and whose source is the
DVC path at a git commit, so ``dvc get . <path> --rev <commit>`` (or
``dvc.api.open``) fetches those exact bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.tracking.context.registry import resolve_tags

from bnlab.runtime.kernels import in_force
from bnlab.tracking.location import repo_root, without_credentials

# How a run's datasets say where they come from (MLflow's dataset source type).
SOURCE_TYPE = "dvc"
CONTEXT_TAG = "mlflow.data.context"  # MLflow's input tag: train, test, ...


def file_md5(path: str | Path) -> str:
    """The md5 of a file's bytes, as DVC records it for a file in dvc.lock."""
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=Path.cwd(), capture_output=True, text=True, timeout=10
        )
    except OSError:
        return None
    out = result.stdout.strip()
    return out if result.returncode == 0 and out else None


def git_commit() -> str | None:
    return _git("rev-parse", "HEAD")


def git_remote() -> str | None:
    """origin's URL, without the credentials it may carry."""
    url = _git("config", "--get", "remote.origin.url")
    return url and without_credentials(url)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(*distributions: str) -> str:
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def machine_tags() -> dict[str, str]:
    """Where a run ran: what can make two machines' bytes differ."""
    return {
        "host.cpu": cpu_model(),
        "host.kernels": " ".join(f"{name}={value}" for name, value in in_force().items()),
        "version.tensorflow": _version("tensorflow-cpu", "tensorflow"),
        "version.keras": _version("keras"),
        "version.numpy": _version("numpy"),
    }


def context_tags(stage: str, variant: str) -> dict[str, str]:
    """The tags that say where a run of ``stage`` came from."""
    tags = dict(resolve_tags())  # MLflow's own: user, source type, ...
    tags.update(machine_tags())
    tags.update(
        {
            "variant": variant,
            "dvc.stage": stage,
            "mlflow.source.type": "LOCAL",
            "mlflow.source.name": f"bnlab {stage}",
        }
    )
    found = {
        "mlflow.source.git.commit": git_commit(),
        "mlflow.source.git.branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "mlflow.source.git.repoURL": git_remote(),
        "dvc.exp_name": os.environ.get("DVC_EXP_NAME"),
        "dvc.exp_baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV"),
        "mlflow.parentRunId": os.environ.get("MLFLOW_RUN_ID"),
    }
    if found["mlflow.source.git.branch"] == "HEAD":  # detached: no branch
        found["mlflow.source.git.branch"] = None
    tags.update({key: value for key, value in found.items() if value})
    return tags


def dataset_inputs(files: Mapping[str, str]):
    """MLflow dataset inputs for ``{context: path}`` (train, test, ...); each path
    is the DVC path, relative to the working directory (the repository, or
    DVC's copy of it for a queued experiment)."""
    repo = git_remote() or str(repo_root())
    commit = git_commit()
    inputs = []
    for context, path in files.items():
        with open(path) as file:
            rows = sum(1 for _ in file) - 1  # after the header
        source = {"path": path, "rev": commit, "repo": repo}
        dataset = Dataset(
            name=Path(path).stem,
            digest=file_md5(path),
            source_type=SOURCE_TYPE,
            source=json.dumps(source),
            profile=json.dumps({"num_rows": rows}),
        )
        inputs.append(DatasetInput(dataset, tags=[InputTag(CONTEXT_TAG, context)]))
    return inputs
