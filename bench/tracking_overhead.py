"""How long MLflow logging adds to one variant's train stage.

Replays, against a fresh SQLite store in a temporary folder, exactly the
calls the train stage makes for a variant: the store and experiment, the
variant's run with one child run per seed, every seed's per-epoch curves, the
mean curves, the history and the models as artifacts. It reads the outputs of
the last `dvc repro`, so run that first.

    python bench/tracking_overhead.py [variant] [repeats]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bnlab.history import History, read_history
from bnlab.run_worker import log_epochs, log_results
from bnlab.tracking import Tracker, VariantRun
from bnlab.train import EPOCH_BLOCK


def blocks(history: History) -> list[dict]:
    """The history as the stage sends it: blocks of epochs, each seed's values per epoch."""
    found = []
    for start in range(0, history.n_epochs, EPOCH_BLOCK):
        epochs = slice(start, start + EPOCH_BLOCK)
        curves = {m: values[:, epochs].T.tolist() for m, values in history.curves.items()}
        found.append({"first_epoch": start + 1, "curves": curves})
    return found


def replay(root: Path, variant: str) -> float:
    history_path = Path("results/history") / f"{variant}.csv"
    scores_path = Path("results/scores") / f"{variant}.csv"
    history = read_history(history_path)
    models = Path("models") / variant
    started = time.perf_counter()
    tracker = Tracker("bench", root=root)
    run = VariantRun(tracker, variant, {"variant": variant}, {"train.epochs": history.n_epochs})
    *streamed, last = blocks(history)
    with run.active(), run.seeds(list(history.seeds)):
        for block in streamed:
            log_epochs(run, block)
        log_results(run, {"history": history_path, "scores": scores_path, **last})
        tracker.log_folder(run.ids.run_id, models, "models")
    return time.perf_counter() - started


def main() -> None:
    variant = sys.argv[1] if len(sys.argv) > 1 else "bn_after"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            times.append(replay(Path(folder), variant))
    print(f"MLflow logging of one {variant} train stage, new store each time, {repeats} runs:")
    median, low, high = statistics.median(times), min(times), max(times)
    print(f"  median {median:.2f} s  (min {low:.2f}, max {high:.2f})")


if __name__ == "__main__":
    main()
