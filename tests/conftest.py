"""Shared fixtures: the project's own params.yaml, and a tiny version of it."""

from __future__ import annotations

from pathlib import Path

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
