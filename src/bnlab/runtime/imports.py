"""Import a library without the optional extras it would load for nothing.

Keras 3 imports scikit-learn (for ``keras.wrappers``), matplotlib (for
``keras.visualization``) and pandas (for DataFrame inputs) whenever they are
installed, and carries on without them when they are not
(``try: import sklearn / except ImportError``); so do TensorFlow's own legacy
Keras for SciPy (sparse inputs), and MLflow (its dataset tracking) and
scikit-learn (DataFrame inputs) for pandas. bnlab uses none of those
features, and loading them is a large share of a train stage's start-up, and
of generate's (docs/performance.md has the figures).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# What importing Keras (TensorFlow's backend) loads and no training of bnlab uses.
KERAS_EXTRAS = ("sklearn", "matplotlib", "pandas", "scipy")


@contextmanager
def skipping(*names: str) -> Iterator[None]:
    """Inside, importing any of ``names`` not loaded yet raises ImportError.

    A ``None`` in ``sys.modules`` is Python's documented way to say a module
    is unavailable. Leaving the block takes those entries out again, so later
    imports work as usual; a module that caught the ImportError inside keeps
    its fallback (Keras' wrappers and image gallery are off in that process).
    """
    skipped = [name for name in names if name not in sys.modules]
    for name in skipped:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in skipped:
            if sys.modules.get(name, "loaded") is None:
                del sys.modules[name]
