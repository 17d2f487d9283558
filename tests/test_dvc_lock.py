"""Protects the committed lock files as the truth about the committed code and params.

The committed dvc.lock files (the study's, the extensions' and the networks') are the truth
about the committed code and params: every file, param and command they record
is what the repository holds, and they hold no stage their dvc.yaml does not
have.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.e2e import ROOT, locked

PIPELINES = ("dvc.yaml", "extensions/dvc.yaml", "networks/dvc.yaml")


def _lines(*command: str) -> list[str]:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def locked_stages() -> dict[str, dict]:
    """Every stage of every committed lock file, by DVC's name for it."""
    return locked(ROOT, *PIPELINES)


def test_lock_holds_exactly_the_stages_of_dvc_yaml():
    stages = _lines(sys.executable, "-m", "dvc", "stage", "list", "--all", "--name-only")
    assert sorted(locked_stages()) == sorted(stages)


def test_lock_records_the_repositorys_code_params_and_commands():
    """`dvc status` against the lock; outputs may be missing (a fresh clone has
    none), but no file git holds, no param and no command may differ."""
    tracked = set(_lines("git", "ls-files"))
    command = (sys.executable, "-m", "dvc", "status", "--json", *PIPELINES)
    status = json.loads("".join(_lines(*command)))
    stale = {}
    for stage, changes in status.items():
        for change in changes:
            if isinstance(change, str):  # "changed command", a stage not in the lock, ...
                stale.setdefault(stage, []).append(change)
                continue
            for path, how in change.get("changed deps", {}).items():
                if path in tracked:
                    stale.setdefault(stage, []).append(f"{path}: {how}")
    assert stale == {}, "run dvc repro and commit dvc.lock"


def test_lock_records_exactly_the_deps_dvc_yaml_declares():
    """A dep taken out of dvc.yaml stays in the lock, unnoticed by `dvc status`,
    until the stage reruns: the lock must list each stage's deps as declared."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    locked = locked_stages()
    with Repo(str(ROOT)) as repo:
        declared = {
            stage.addressing: {
                dep.def_path for dep in stage.deps if not isinstance(dep, ParamsDependency)
            }
            for stage in repo.index.stages
        }
    recorded = {
        name: {dep["path"] for dep in entry.get("deps", [])} for name, entry in locked.items()
    }
    assert recorded == declared, "run dvc repro -f on the stages that differ and commit dvc.lock"
