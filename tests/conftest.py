"""Shared fixtures: the project's params, a tiny version of them, and one small
study per test run that the end-to-end tests read or copy."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
import yaml

from tests import readme
from tests.e2e import copy_repo, dvc, import_log, make_repo, probed, run, shrink, study_params

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _environment() -> Iterator[None]:
    """Each test leaves the environment as it found it. MLflow's in-process
    calls (set_tracking_uri, set_experiment) export variables that every later
    subprocess would inherit: a later `dvc repro`, or the shared study if a
    later test builds it, would log into another test's store."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def default_params_dict() -> dict:
    """A fresh copy for each test: tests change it."""
    return yaml.safe_load((ROOT / "params.yaml").read_text())


@pytest.fixture
def tiny_params_dict(default_params_dict) -> dict:
    """A few epochs, two seeds and small data: seconds, not minutes."""
    return shrink(default_params_dict)


@pytest.fixture
def use_store(monkeypatch):
    """Point MLflow's global API (pyfunc.load_model, ...) at a store for one test.

    ``mlflow.set_tracking_uri`` also exports MLFLOW_TRACKING_URI, which every
    later subprocess would inherit (a later test's `dvc repro` logged into this
    store); monkeypatch takes the variable back when the test ends.
    """

    def use(uri: str) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)

    return use


@dataclass(frozen=True)
class Study:
    """A repository after a command, and what that command printed. Shared by
    the whole test run: read it, and copy it (``copy_of``) to change it."""

    repo: Path
    output: str

    @property
    def store(self) -> str:
        return f"sqlite:///{self.repo / 'mlflow.db'}"


@pytest.fixture(scope="session")
def study(tmp_path_factory) -> Study:
    """The small study: `dvc repro` of tests.e2e.study_params(), every process
    under the import probe (tests.e2e.import_log(repo) holds what each imported)."""
    repo = make_repo(tmp_path_factory.mktemp("study"), study_params())
    return Study(repo, dvc(repo, "repro", **probed(repo, import_log(repo))))


@pytest.fixture(scope="session")
def extensions_study(study, tmp_path_factory) -> Study:
    """The study, then the README's `make extensions` under the import probe
    (its log: import_log(repo, "extensions"))."""
    repo = copy_repo(study.repo, tmp_path_factory.mktemp("extensions") / "repo")
    made = readme.command("make extensions")
    probe = probed(repo, import_log(repo, "extensions"))
    return Study(repo, run(repo, "bash", "-c", made, **probe))


@pytest.fixture(scope="session")
def networks_study(extensions_study, tmp_path_factory) -> Study:
    """The study and its extensions, then the README's `make networks` under the
    import probe (its log: import_log(repo, "networks"))."""
    repo = copy_repo(extensions_study.repo, tmp_path_factory.mktemp("networks") / "repo")
    probe = probed(repo, import_log(repo, "networks"))
    return Study(repo, run(repo, "bash", "-c", readme.command("make networks"), **probe))


@pytest.fixture
def copy_of(tmp_path) -> Callable[[Study], Path]:
    """A copy of a shared study's repository, for one test to change."""
    return lambda shared: copy_repo(shared.repo, tmp_path / "repo")
