"""Python's cycle collector in a stage's processes: seldom a full pass while
the stage runs, none at its exit.

Loading TensorFlow, Keras or MLflow creates hundreds of thousands of objects
that live as long as the process. With Python's default thresholds the
collector passes over all of them each time they have grown by a quarter,
several times per import, and finds nothing to free. A stage makes a full
pass only after a hundred times as many collections of the younger
generations, which still run as often as by default: short-lived cycles,
training's included, are freed as before. At exit the work is done and the
files are closed, so no pass is made at all (docs/performance.md has the
figures).
"""

from __future__ import annotations

import gc
import sys

# Python's default is 10: a full pass after that many middle-generation passes.
FULL_PASS_AFTER = 1000


def collect_seldom() -> None:
    youngest, middle, _ = gc.get_threshold()
    gc.set_threshold(youngest, middle, FULL_PASS_AFTER)


def exit_now(status: int) -> None:
    gc.freeze()
    sys.exit(status)
