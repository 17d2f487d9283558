"""How long MLflow logging adds to one variant's train stage.

Replays, against a fresh SQLite store in a temporary folder, the messages the
train stage sends its logging process (``bnlab.tracking.train_log``), through
that process's own ``serve``: the runs opened, every block of epochs, the
history and scores, the models. It reads the outputs of the last `dvc repro`,
so run that first.

    python -m bench.tracking_overhead [variant] [repeats]
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bnlab.analysis import THRESHOLD
from bnlab.files import variant_file
from bnlab.files.history import History, read_history
from bnlab.params import load_variant_config
from bnlab.tracking.train_log import EPOCH_BLOCK, Epochs, Finished, Open, Trained, encode, serve


def messages(variant: str, history: History) -> str:
    """What the stage sends for this history: the runs, blocks of epochs, the end."""
    blocks = []
    for start in range(0, history.n_epochs, EPOCH_BLOCK):
        epochs = slice(start, start + EPOCH_BLOCK)
        curves = {m: values[:, epochs].T.tolist() for m, values in history.curves.items()}
        blocks.append(Epochs(start + 1, curves))
    *streamed, last = blocks
    sent = [
        Open(
            experiment="bench",
            name=variant,
            variant=variant,
            stage=f"train@{variant}",
            params=load_variant_config(variant_file("configs", variant, ".json")).model_dump(
                exclude={"variant"}
            ),
            seeds=list(history.seeds),
            datasets={"train": "data/prepared/train.csv", "test": "data/prepared/test.csv"},
            tags={},
            threshold=THRESHOLD,
        )
    ]
    sent += streamed
    sent.append(
        Trained(
            str(variant_file("results/history", variant)),
            str(variant_file("results/scores", variant)),
            last,
        )
    )
    sent.append(Finished(str(Path("models") / variant)))
    return "".join(encode(message) for message in sent)


def replay(root: Path, variant: str) -> float:
    sent = messages(variant, read_history(variant_file("results/history", variant)))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    started = time.perf_counter()
    serve(io.StringIO(sent))
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
