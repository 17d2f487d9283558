"""Protects imports.skipping and the train stages' Keras without its extras.

``imports.skipping``: a module is unavailable inside the block only,
and the train stages load Keras without its optional extras.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

from bnlab.runtime.imports import skipping


def test_a_skipped_module_cannot_be_imported_inside_and_imports_after():
    code = (
        "import importlib, sys\n"
        "from bnlab.runtime.imports import skipping\n"
        "assert 'colorsys' not in sys.modules\n"
        "with skipping('colorsys'):\n"
        "    try:\n"
        "        importlib.import_module('colorsys')\n"
        "    except ImportError:\n"
        "        print('refused')\n"
        "print(importlib.import_module('colorsys').__name__)\n"
    )
    # In a process of its own: a module this one has never loaded, which exists.
    said = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert said.stdout.split() == ["refused", "colorsys"]


def test_a_module_already_loaded_is_left_alone():
    with skipping("json"):
        assert importlib.import_module("json") is sys.modules["json"]
    assert sys.modules["json"] is not None


def test_training_loads_without_keras_optional_extras():
    """What the train stages do: Keras still imports, and leaves its extras out."""
    code = (
        "import sys\n"
        "from bnlab.runtime.imports import KERAS_EXTRAS, skipping\n"
        "with skipping(*KERAS_EXTRAS):\n"
        "    import bnlab.seed_axis.fitted, bnlab.seed_axis.trainer, bnlab.seed_axis.copies\n"
        "assert not set(KERAS_EXTRAS) & set(sys.modules)\n"
        "import sklearn.datasets  # and later imports work again\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
