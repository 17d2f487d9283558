"""Shared fixtures: the project's own params.yaml, shrunk to a tiny configuration."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def default_params_dict() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


@pytest.fixture
def tiny_params_dict(default_params_dict) -> dict:
    """A few epochs, two seeds and small data: seconds, not minutes."""
    params = copy.deepcopy(default_params_dict)
    params["data"]["n_samples"] = 200
    params["split"]["n_train"] = 100
    params["train"]["epochs"] = 3
    params["train"]["seeds"] = 2
    return params
