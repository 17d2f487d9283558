"""Protects the Keras batch-order fact the extensions' report rests on.

A Keras fact the extensions' report rests on: after ``keras.utils.set_random_seed``,
``fit`` on numpy arrays with ``shuffle=True`` draws one batch order and reuses it
in every epoch; without it, each epoch gets a new order.

At ``bn.momentum=0.0`` that decides which batch's statistics BN uses in
inference (the epoch's last), hence how noisy the test curve is. bnlab draws a
new order per epoch itself, as the unseeded tutorial's ``fit`` does; this test
tells when a Keras upgrade changes what ``fit`` does. Each case runs in a
process of its own: the global seed is process-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

N_ROWS, BATCH = 500, 32  # the tutorial's train split and batch size: 16 batches


def repeated_batches(seeded: bool) -> tuple[int, int]:
    """(batches of epoch 2 identical to epoch 1's, batches per epoch)."""
    import keras
    import numpy as np

    class Spy(keras.Model):
        """Records which rows each training batch holds."""

        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)
            self.seen: list[tuple[int, ...]] = []

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, _ = data
            self.seen.append(tuple(np.asarray(x)[:, 0].astype(int)))
            return {"batches": keras.ops.convert_to_tensor(len(self.seen))}

    if seeded:
        keras.utils.set_random_seed(1)
    spy = Spy()
    spy.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    rows = np.arange(N_ROWS, dtype="float32")[:, None]  # each row holds its own index
    spy.fit(rows, np.zeros(N_ROWS), batch_size=BATCH, epochs=2, shuffle=True, verbose=0)
    per_epoch = len(spy.seen) // 2
    first, second = spy.seen[:per_epoch], spy.seen[per_epoch:]
    return sum(a == b for a, b in zip(first, second, strict=True)), per_epoch


def run(case: str) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, __file__, case], capture_output=True, text=True, timeout=300, check=True
    )
    return tuple(json.loads(done.stdout.splitlines()[-1]))


def test_seeded_fit_reuses_one_batch_order_in_every_epoch():
    assert run("seeded") == (16, 16)


def test_unseeded_fit_draws_a_new_order_every_epoch():
    same, batches = run("unseeded")
    assert batches == 16 and same == 0


if __name__ == "__main__":
    print(json.dumps(repeated_batches(sys.argv[1] == "seeded")))
