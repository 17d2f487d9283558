"""Shared fixtures: the project's own params.yaml, and a tiny version of it."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
import yaml

from tests.e2e import shrink

ROOT = Path(__file__).resolve().parents[1]


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
