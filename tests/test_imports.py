"""``imports.skipping``: a module is unavailable inside the block only."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from bnlab.runtime.imports import skipping


def test_a_skipped_module_cannot_be_imported_inside_and_is_unmarked_after():
    name = "bnlab_never_imported_before"
    assert name not in sys.modules
    with skipping(name), pytest.raises(ImportError):
        importlib.import_module(name)
    assert name not in sys.modules


def test_a_module_already_loaded_is_left_alone():
    with skipping("json"):
        assert importlib.import_module("json") is sys.modules["json"]
    assert sys.modules["json"] is not None


def test_training_loads_without_keras_optional_extras():
    """What the train stage does: Keras still imports, and leaves the three out."""
    code = (
        "import sys\n"
        "from bnlab.runtime.imports import skipping\n"
        "with skipping('sklearn', 'matplotlib', 'pandas'):\n"
        "    import bnlab.seed_axis.fitted, bnlab.seed_axis.trainer\n"
        "assert not {'sklearn', 'matplotlib', 'pandas'} & set(sys.modules)\n"
        "import sklearn.datasets  # and later imports work again\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
